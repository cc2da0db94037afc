//! The PVFS2 harness scripts (pvfs2-reset, run-campaign, render-pvfs2-config) against the
//! stand-in server in tests/pvfs2-standin, which behaves like OrangeFS 2.10's command line.
//! Every server listens on a free loopback port and is stopped when its test ends.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{assert_exit, stderr, stdout};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn standin() -> PathBuf {
    repo().join("tests/pvfs2-standin")
}

/// The file system ID of the test configs; the collection directory is its 8 hex digits.
const FS_ID: u32 = 1684431396;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn answers(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).is_ok()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2) != Some("Z"))
}

/// A test server: config, pid file and storage in a temporary directory; stopped on drop.
struct Server {
    dir: tempfile::TempDir,
    port: u16,
}

impl Server {
    fn new() -> Self {
        let server = Server { dir: tempfile::tempdir().unwrap(), port: free_port() };
        server.write_config(&format!("{}/storage", server.path().display()));
        server
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn conf(&self) -> PathBuf {
        self.path().join("fs.conf")
    }

    fn pidfile(&self) -> PathBuf {
        self.path().join("server.pid")
    }

    fn write_config(&self, storage: &str) {
        let text = format!(
            "<Defaults>\n\tLogFile {dir}/server.log\n\tDataStorageSpace {storage}\n\tMetadataStorageSpace {storage}\n</Defaults>\n\
             <Aliases>\n\tAlias node6 tcp://127.0.0.1:{port}\n</Aliases>\n<Filesystem>\n\tName pvfs2-fs\n\tID {FS_ID}\n</Filesystem>\n",
            dir = self.path().display(),
            port = self.port
        );
        std::fs::write(self.conf(), text).unwrap();
    }

    fn reset_command(&self) -> Vec<String> {
        [
            repo().join("scripts/pvfs2-reset").display().to_string(),
            "-c".into(),
            self.conf().display().to_string(),
            "-a".into(),
            "node6".into(),
            "--bin".into(),
            standin().display().to_string(),
            "--pidfile".into(),
            self.pidfile().display().to_string(),
            "--timeout".into(),
            "10".into(),
        ]
        .to_vec()
    }

    fn reset(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = assert_cmd::Command::new("bash");
        cmd.args(self.reset_command()).args(extra).timeout(Duration::from_secs(60));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.pidfile()).ok()?.trim().parse().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

#[track_caller]
fn assert_steps(out: &Output, steps: &[&str]) {
    let text = stdout(out);
    for step in steps {
        assert!(text.contains(&format!("{step:<7} ok")), "no '{step} ok' in:\n{text}\n{}", stderr(out));
    }
}

#[test]
fn full_reset_cycle_wipes_storage_and_restarts() {
    let server = Server::new();
    // From nothing: no server, no storage.
    let out = server.reset(&[], &[]);
    assert_exit(&out, 0);
    assert_steps(&out, &["stop", "wipe", "create", "start", "ready"]);
    assert!(stdout(&out).contains("no pid file, nothing to stop"));
    let first = server.pid().expect("pid file written");
    assert!(answers(server.port));

    // Data the file system stored must be gone after the next reset.
    let leftover =
        server.path().join(format!("storage/{:08x}/bstreams/00000007/0000000000abcdef.bstream", FS_ID));
    std::fs::write(&leftover, b"old data").unwrap();
    let out = server.reset(&[], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(&format!("pid {first}, SIGTERM")), "{}", stdout(&out));
    assert!(!alive(first), "the old server is gone");
    assert!(!leftover.exists(), "storage was wiped");
    assert!(server.path().join("storage/storage_attributes.db").exists(), "storage was recreated");
    let second = server.pid().unwrap();
    assert_ne!(first, second);
    assert!(answers(server.port));
}

#[test]
fn a_stale_pid_file_never_kills_the_process_behind_it() {
    let server = Server::new();
    let mut bystander = std::process::Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(server.pidfile(), format!("{}\n", bystander.id())).unwrap();
    let out = server.reset(&[], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("stale pid file"), "{}", stdout(&out));
    assert!(alive(bystander.id()), "the process behind the stale pid survives");
    assert!(answers(server.port));
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

#[test]
fn a_server_that_ignores_sigterm_gets_sigkill() {
    let server = Server::new();
    assert_exit(&server.reset(&[], &[("PVFS2_STANDIN_IGNORE_TERM", "1")]), 0);
    let stubborn = server.pid().unwrap();
    let out = server.reset(&["--stop-timeout", "1"], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("SIGKILL after 1 s of SIGTERM"), "{}", stdout(&out));
    assert!(!alive(stubborn));
}

#[test]
fn dangerous_storage_paths_are_refused_without_any_change() {
    let server = Server::new();
    assert_exit(&server.reset(&[], &[]), 0);
    let running = server.pid().unwrap();
    let link = server.path().join("link-to-root");
    std::os::unix::fs::symlink("/", &link).unwrap();
    for storage in ["", "relative/storage", "/", "/usr", "/etc/", "/var/../etc", link.to_str().unwrap()] {
        server.write_config(storage);
        let out = server.reset(&[], &[]);
        assert_exit(&out, 3);
        assert!(stderr(&out).contains("refusing"), "{storage:?}: {}", stderr(&out));
        assert!(alive(running), "{storage:?}: the running server was not touched");
    }
}

/// The server answers only after 60 s: exit 8 proves the reset gave up after its 1 s (the
/// command's own timeout only guards against a hang).
#[test]
fn start_timeout_reports_and_fails() {
    let server = Server::new();
    let out = server.reset(&["--timeout", "1"], &[("PVFS2_STANDIN_START_DELAY", "60")]);
    assert_exit(&out, 8);
    let err = stderr(&out);
    assert!(err.contains("no answer on 127.0.0.1:") && err.contains(" within 1 s"), "{err}");
}

#[test]
fn a_port_held_by_a_server_without_pid_file_is_not_measured() {
    let server = Server::new();
    let _squatter = TcpListener::bind(("127.0.0.1", server.port)).unwrap();
    let out = server.reset(&[], &[]);
    assert_exit(&out, 4);
    assert!(stderr(&out).contains("still answers"), "{}", stderr(&out));
}

#[test]
fn check_mode_pings_through_a_pvfs2tab() {
    let server = Server::new();
    let tab = server.path().join("pvfs2tab");
    std::fs::write(
        &tab,
        format!("tcp://127.0.0.1:{}/pvfs2-fs /pvfs2 pvfs2 defaults,noauto 0 0\n", server.port),
    )
    .unwrap();
    let tab = tab.to_str().unwrap();
    let out = server.reset(&["--check", "--timeout", "1", "--pvfs2tab", tab], &[]);
    assert_exit(&out, 8);
    assert_exit(&server.reset(&["--pvfs2tab", tab], &[]), 0);
    let out = server.reset(&["--check", "--pvfs2tab", tab], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("pvfs2-ping with"), "{}", stdout(&out));
}

fn write_tab(server: &Server) -> String {
    let tab = server.path().join("pvfs2tab");
    std::fs::write(
        &tab,
        format!("tcp://127.0.0.1:{}/pvfs2-fs /pvfs2 pvfs2 defaults,noauto 0 0\n", server.port),
    )
    .unwrap();
    tab.display().to_string()
}

/// OrangeFS's layout: pvfs2-server in PREFIX/sbin, pvfs2-ping in PREFIX/bin; --bin takes any.
#[test]
fn bin_takes_the_prefix_or_either_directory() {
    let server = Server::new();
    let tab = write_tab(&server);
    for bin in [standin(), standin().join("sbin"), standin().join("bin")] {
        let out = server.reset(&["--bin", bin.to_str().unwrap(), "--pvfs2tab", &tab], &[]);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains(&format!("pvfs2-ping with {tab}")), "{bin:?}: {}", stdout(&out));
    }
}

/// A tab says "check with pvfs2-ping": without one that runs, refuse before touching anything.
#[test]
fn a_pvfs2tab_without_pvfs2_ping_is_an_error_naming_where_it_looked() {
    let server = Server::new();
    assert_exit(&server.reset(&[], &[]), 0);
    let running = server.pid().unwrap();
    let prefix = server.path().join("prefix");
    std::fs::create_dir_all(prefix.join("sbin")).unwrap();
    std::os::unix::fs::symlink(standin().join("sbin/pvfs2-server"), prefix.join("sbin/pvfs2-server"))
        .unwrap();
    let tab = write_tab(&server);
    let out = server.reset(&["--bin", prefix.to_str().unwrap(), "--pvfs2tab", &tab], &[]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("there is no pvfs2-ping (looked in:"), "{err}");
    assert!(err.contains(&format!("{}/bin/pvfs2-ping", prefix.display())), "{err}");
    assert!(alive(running), "the server was not touched");
    let out = server.reset(&["--bin", server.path().to_str().unwrap()], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no pvfs2-server (looked in:"), "{}", stderr(&out));
}

#[test]
fn stop_mode_stops_the_server_and_nothing_else() {
    let server = Server::new();
    assert_exit(&server.reset(&[], &[]), 0);
    let running = server.pid().unwrap();
    let out = server.reset(&["--stop"], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains(&format!("pid {running}, SIGTERM")), "{}", stdout(&out));
    assert!(!alive(running) && !answers(server.port) && !server.pidfile().exists());
    assert!(server.path().join("storage/storage_attributes.db").exists(), "storage is kept");
    let out = server.reset(&["--stop"], &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("no pid file, nothing to stop"), "{}", stdout(&out));
    assert_exit(&server.reset(&["--stop", "--check"], &[]), 2);
}

/// PVFS2 2.6/2.7's two-file form: refused by an OrangeFS server, used with an old one.
#[test]
fn the_form_follows_the_installed_version() {
    let server = Server::new();
    let rendered = server.path().join("old");
    let out = assert_cmd::Command::new(repo().join("scripts/render-pvfs2-config"))
        .args(["--servers", "node6", "--format", "pvfs2", "--out", rendered.to_str().unwrap()])
        .args(["--port", &server.port.to_string(), "--address", "node6=127.0.0.1"])
        .args(["--storage", server.path().join("storage").to_str().unwrap()])
        .args(["--log", server.path().join("server.log").to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let fs_conf = rendered.join("fs.conf");
    let server_conf = rendered.join("server.conf-node6");
    let run = |version: &str| {
        assert_cmd::Command::new(repo().join("scripts/pvfs2-reset"))
            .args(["-c", fs_conf.to_str().unwrap(), "--server-conf", server_conf.to_str().unwrap()])
            .args(["--bin", standin().to_str().unwrap(), "--pidfile", server.pidfile().to_str().unwrap()])
            .env("PVFS2_STANDIN_VERSION", version)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = run("2.10.0");
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("rejects the two-file"), "{}", stderr(&out));
    let out = run("2.7.1");
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("server.conf-node6"), "{}", stdout(&out));
    assert!(answers(server.port));
}

/// `--all` resets every server of a config on its host (ssh replaced by a local stand-in).
#[test]
fn all_servers_of_a_config_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (free_port(), free_port());
    let conf = dir.path().join("fs.conf");
    // 127.0.0.2 and .3 are loopback, but no interface of this machine names them: "remote".
    std::fs::write(
        &conf,
        format!(
            "<Defaults>\n\tLogFile {d}/server.log\n\tDataStorageSpace {d}/storage-default\n</Defaults>\n\
             <ServerOptions>\n\tServer node6\n\tDataStorageSpace {d}/storage-node6\n\tMetadataStorageSpace {d}/storage-node6\n</ServerOptions>\n\
             <ServerOptions>\n\tServer node7\n\tDataStorageSpace {d}/storage-node7\n\tMetadataStorageSpace {d}/storage-node7\n</ServerOptions>\n\
             <Aliases>\n\tAlias node6 tcp://127.0.0.2:{a}\n\tAlias node7 tcp://127.0.0.3:{b}\n</Aliases>\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    // Like ssh: the remote shell gets one string. Every call is logged.
    let fake_ssh = dir.path().join("ssh");
    let ssh_log = dir.path().join("ssh.log");
    std::fs::write(
        &fake_ssh,
        format!("#!/usr/bin/env bash\nshift\necho \"$*\" >> {}\nexec bash -c \"$*\"\n", ssh_log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pidfile = dir.path().join("server.{alias}.pid");
    let out = assert_cmd::Command::new(repo().join("scripts/pvfs2-reset"))
        .args(["-c", conf.to_str().unwrap(), "--all", "--parallel", "--ssh", fake_ssh.to_str().unwrap()])
        .args(["--pidfile", pidfile.to_str().unwrap()])
        .env("PVFS2_BIN", standin())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let pids: Vec<u32> = ["node6", "node7"]
        .iter()
        .filter_map(|alias| {
            std::fs::read_to_string(dir.path().join(format!("server.{alias}.pid"))).ok()?.trim().parse().ok()
        })
        .collect();
    let both = TcpStream::connect(("127.0.0.2", a)).is_ok() && TcpStream::connect(("127.0.0.3", b)).is_ok();
    for pid in &pids {
        let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    }
    assert_exit(&out, 0);
    assert_eq!(pids.len(), 2, "private pid files: {}", stdout(&out));
    assert!(both, "both servers answered");
    assert!(stdout(&out).contains("[node7] pvfs2-reset[node7]: ready"), "{}", stdout(&out));
    assert!(dir.path().join("storage-node6/collections.db").exists(), "ServerOptions override Defaults");
    assert!(!dir.path().join("storage-default").exists());
    let calls = std::fs::read_to_string(&ssh_log).unwrap();
    assert_eq!(calls.lines().count(), 2, "{calls}");
    assert!(calls.contains(&format!("--bin {}", standin().display())), "PVFS2_BIN travels as --bin: {calls}");
}

/// A server on this machine is reset directly, without ssh.
#[test]
fn all_resets_a_local_server_without_ssh() {
    let server = Server::new();
    let out = assert_cmd::Command::new(repo().join("scripts/pvfs2-reset"))
        .args(["-c", server.conf().to_str().unwrap(), "--all", "--ssh", "false"])
        .args(["--pidfile", server.pidfile().to_str().unwrap(), "--bin", standin().to_str().unwrap()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(answers(server.port), "{}", stdout(&out));
}

/// Storage that holds anything a server does not create there is someone's data.
#[test]
fn storage_with_foreign_entries_is_refused_naming_the_first() {
    let server = Server::new();
    assert_exit(&server.reset(&[], &[]), 0);
    let running = server.pid().unwrap();
    let collection_file = format!("{FS_ID:08x}/notes");
    for (foreign, named) in
        [("important.txt", "important.txt"), (&collection_file, &collection_file), ("bin/tool", "bin")]
    {
        let path = server.path().join("storage").join(foreign);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"keep me").unwrap();
        let out = server.reset(&[], &[]);
        assert_exit(&out, 3);
        assert!(stderr(&out).contains(&format!("holds '{named}'")), "{}", stderr(&out));
        assert!(path.exists() && alive(running), "nothing changed");
        std::fs::remove_dir_all(server.path().join("storage").join(named))
            .or_else(|_| std::fs::remove_file(&path))
            .unwrap();
    }
    let out = server.reset(&[], &[]);
    assert_exit(&out, 0);
}

/// A pid file naming another pvfs2-server (another config) never stops that server.
#[test]
fn a_pid_file_naming_another_configs_server_leaves_it_alone() {
    let (ours, other) = (Server::new(), Server::new());
    assert_exit(&other.reset(&[], &[]), 0);
    let foreign = other.pid().unwrap();
    std::fs::write(ours.pidfile(), format!("{foreign}\n")).unwrap();
    let out = ours.reset(&[], &[]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(&format!("not started with {}", ours.conf().display())),
        "{}",
        stdout(&out)
    );
    assert!(alive(foreign) && answers(other.port) && answers(ours.port));
}

/// Two resets of one server at once run one after the other (without the lock, the second
/// `pvfs2-server -f` meets the first one's storage and fails).
#[test]
fn two_resets_at_once_take_turns() {
    let server = Server::new();
    let spawn = || {
        std::process::Command::new("bash")
            .args(server.reset_command())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(answers(server.port));
}

/// Host and port come from a config and end up in commands: only plain ones are taken.
#[test]
fn an_address_that_is_not_plain_is_refused() {
    let server = Server::new();
    let marker = server.path().join("injected");
    let text = std::fs::read_to_string(server.conf()).unwrap();
    let bad = text.replace(
        &format!("tcp://127.0.0.1:{}", server.port),
        &format!("tcp://127.0.0.1;touch$IFS{}:{}", marker.display(), server.port),
    );
    std::fs::write(server.conf(), bad).unwrap();
    let out = server.reset(&[], &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("is not tcp://HOST:PORT"), "{}", stderr(&out));
    assert!(!marker.exists());
}

/// The committed configurations are what the render script writes.
#[test]
fn committed_configs_are_rendered() {
    let cases: [(&str, &[&str]); 4] = [
        ("orangefs-1server", &["--servers", "node6"]),
        ("orangefs-2servers", &["--servers", "node6,node7"]),
        ("pvfs2-2.6-1server", &["--servers", "node6", "--format", "pvfs2"]),
        ("pvfs2-2.6-2servers", &["--servers", "node6,node7", "--format", "pvfs2"]),
    ];
    for (name, args) in cases {
        let out_dir = tempfile::tempdir().unwrap();
        let out = assert_cmd::Command::new(repo().join("scripts/render-pvfs2-config"))
            .args(args)
            .args(["--out", out_dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let committed = repo().join("pvfs2-config").join(name);
        let mut files: Vec<_> =
            std::fs::read_dir(&committed).unwrap().map(|e| e.unwrap().file_name()).collect();
        files.sort();
        assert!(files.iter().any(|f| f == "fs.conf") && files.iter().any(|f| f == "pvfs2tab"));
        for file in files {
            assert_eq!(
                std::fs::read_to_string(out_dir.path().join(&file)).unwrap(),
                std::fs::read_to_string(committed.join(&file)).unwrap(),
                "{name}/{file:?}"
            );
        }
    }
}

/// A campaign: scenarios x repetitions with the stand-in server reset before every run.
struct Campaign {
    server: Server,
    results: PathBuf,
    testfile: PathBuf,
}

impl Campaign {
    fn new() -> Self {
        let server = Server::new();
        let results = server.path().join("results");
        let testfile = server.path().join("testfile");
        Campaign { server, results, testfile }
    }

    fn run(&self, reset: &str, extra: &[&str]) -> Output {
        assert_cmd::Command::from_std(self.command(reset, extra))
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap()
    }

    fn command(&self, reset: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(repo().join("scripts/run-campaign"));
        let hostfile = repo().join("hostfiles/localhost");
        cmd.current_dir(repo())
            .args(["--scenario", &format!("dom0:{}:2", hostfile.display())])
            .args(["--scenario", &format!("domU:{}:1", hostfile.display())])
            .args(["--reps", "2", "--results", self.results.to_str().unwrap(), "--reset", reset])
            .args(["--pvbench", common::pvbench(), "--timeout", "60"])
            .args(extra)
            .args(["--", "-b", "256k", "-i", "2", "-f", self.testfile.to_str().unwrap()]);
        cmd
    }

    fn reset(&self) -> String {
        self.server.reset_command().join(" ")
    }

    fn results(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = ["dom0", "domU"]
            .iter()
            .flat_map(|s| std::fs::read_dir(self.results.join(s)).into_iter().flatten())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        found.sort();
        found
    }
}

#[test]
fn campaign_of_two_scenarios_and_two_repetitions() {
    let campaign = Campaign::new();
    let out = campaign.run(&campaign.reset(), &["--stop-at-end"]);
    assert_exit(&out, 0);
    let results = campaign.results();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(stderr(&out).contains("stopping the server"), "{}", stderr(&out));
    assert!(campaign.server.pid().is_none() && !answers(campaign.server.port), "stopped at the end");
    for path in &results {
        let doc = common::read_json(path);
        let scenario = path.parent().unwrap().file_name().unwrap().to_str().unwrap();
        assert_eq!(doc["label"], scenario);
        assert_eq!(doc["ranks"]["count"], if scenario == "dom0" { 2 } else { 1 });
    }
    let log = std::fs::read_to_string(campaign.results.join("dom0/rep-01.log")).unwrap();
    assert!(log.contains("ready   ok") && log.contains("--check"), "reset and check before the run:\n{log}");
    let summary = stdout(&out);
    assert!(
        summary.contains("ratios to \"dom0\"") && summary.contains("write_mpi_io_test_mb_per_s"),
        "{summary}"
    );
    assert!(summary.contains("every run, in start order"), "{summary}");
    for file in
        ["summary.csv", "summary.md", "comparison.json", "runs.csv", "bar-write_mpi_io_test_mb_per_s.svg"]
    {
        assert!(campaign.results.join("summary").join(file).is_file(), "summary/{file}");
    }
    assert!(stderr(&out).contains("[4/4] domU rep-02"), "progress lines: {}", stderr(&out));
}

#[test]
fn dry_run_prints_every_command_and_runs_nothing() {
    let campaign = Campaign::new();
    let out = campaign.run(&campaign.reset(), &["--dry-run"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.matches("mpiexec -f").count(), 4, "{text}");
    assert_eq!(text.matches("pvfs2-reset").count(), 8, "a reset and a check per run: {text}");
    assert!(!campaign.results.exists());
    assert!(campaign.server.pid().is_none(), "no server was started");
}

/// A campaign killed mid-way resumes: runs with a result are not run again.
#[test]
fn a_killed_campaign_resumes_where_it_stopped() {
    let campaign = Campaign::new();
    let mut cmd = campaign.command(&campaign.reset(), &[]);
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = campaign.results.join("dom0/rep-01.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !first.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
    child.wait().unwrap();
    assert!(first.exists(), "the first run finished before the kill");
    let before = std::fs::metadata(&first).unwrap().modified().unwrap();
    let done_before = campaign.results().len();
    assert!(done_before < 4, "killed before the end");

    let out = campaign.run(&campaign.reset(), &[]);
    assert_exit(&out, 0);
    assert_eq!(campaign.results().len(), 4);
    assert_eq!(
        std::fs::metadata(&first).unwrap().modified().unwrap(),
        before,
        "a finished run is not run again"
    );
    assert!(stderr(&out).contains(&format!("{done_before} already done")), "{}", stderr(&out));
}

/// A failed run (here its reset fails once) is recorded with its log, the campaign goes on,
/// and the next invocation runs it again.
#[test]
fn a_failed_run_is_recorded_and_the_campaign_goes_on() {
    let campaign = Campaign::new();
    let flag = campaign.server.path().join("reset-failed-once");
    let reset = format!(
        "if [ -e {f} ]; then {reset}; else touch {f}; echo 'storage busy' >&2; exit 5; fi",
        f = flag.display(),
        reset = campaign.reset()
    );
    let check = format!("{} --check", campaign.reset());
    let out = campaign.run(&reset, &["--check", &check]);
    assert_exit(&out, 1);
    assert_eq!(campaign.results().len(), 3, "the other runs went on");
    let marker = std::fs::read_to_string(campaign.results.join("dom0/rep-01.failed")).unwrap();
    assert!(marker.contains("reset failed (exit 5)"), "{marker}");
    let log = std::fs::read_to_string(campaign.results.join("dom0/rep-01.log")).unwrap();
    assert!(log.contains("storage busy"), "{log}");
    assert!(stderr(&out).contains("dom0 rep-01 FAILED"), "{}", stderr(&out));

    let out = campaign.run(&reset, &["--check", &check]);
    assert_exit(&out, 0);
    assert_eq!(campaign.results().len(), 4);
    // Every attempt is kept: the failed one's log and marker, then the retry's log.
    let marker = std::fs::read_to_string(campaign.results.join("dom0/rep-01.failed")).unwrap();
    assert!(marker.starts_with("attempt 1: reset failed (exit 5)"), "{marker}");
    let log = std::fs::read_to_string(campaign.results.join("dom0/rep-01.log")).unwrap();
    assert!(
        log.contains("# attempt 1,") && log.contains("storage busy") && log.contains("# attempt 2,"),
        "{log}"
    );
    // The summary's columns: metric, unit, group, n, ...: both of dom0's runs count.
    assert!(
        stdout(&out).lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.get(2) == Some(&"dom0") && cells.get(3) == Some(&"2")
        }),
        "a run that succeeded on retry counts: {}",
        stdout(&out)
    );
}

/// A campaign is its manifest: another one into the same directory is refused; the same one resumes.
#[test]
fn a_different_campaign_into_the_same_directory_is_refused() {
    let campaign = Campaign::new();
    assert_exit(&campaign.run(&campaign.reset(), &[]), 0);
    let manifest = std::fs::read_to_string(campaign.results.join("campaign.manifest")).unwrap();
    assert!(
        manifest.contains("bench_args: -b 256k -i 2") && manifest.contains("scenario: dom0 ranks=2"),
        "{manifest}"
    );
    let out = assert_cmd::Command::from_std(campaign.command(&campaign.reset(), &[]))
        .args(["-b", "512k"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("holds another campaign"), "{}", stderr(&out));
    let out = campaign.run(&campaign.reset(), &[]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("0 new, 4 already done"), "{}", stderr(&out));
}

#[test]
fn one_campaign_per_results_directory() {
    let campaign = Campaign::new();
    std::fs::create_dir_all(&campaign.results).unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg(campaign.results.join(".campaign.lock"))
        .args(["sleep", "30"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = campaign.run(&campaign.reset(), &[]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("another campaign is running on"), "{}", stderr(&out));
}

/// A value option without its value is an error, never a loop; an empty --results too.
#[test]
fn campaign_options_without_values_are_refused() {
    let hostfile = format!("a:{}:1", repo().join("hostfiles/localhost").display());
    for (args, needle) in [
        (vec!["--scenario", hostfile.as_str(), "--reps"], "--reps needs a value"),
        (vec!["--scenario", hostfile.as_str(), "--results", ""], "--results needs a value"),
        (vec!["--scenario"], "--scenario needs a value"),
    ] {
        let out = assert_cmd::Command::new(repo().join("scripts/run-campaign"))
            .args(&args)
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

/// A hung run (here a pvbench that ignores its own --timeout) is ended by the per-run
/// timeout 10 s later, recorded, and the campaign goes on.
#[test]
fn a_hung_run_is_ended_by_the_timeout() {
    let campaign = Campaign::new();
    let hanging = campaign.server.path().join("hanging-pvbench");
    std::fs::write(&hanging, "#!/usr/bin/env bash\nexec sleep 60\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hanging, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = Instant::now();
    let out = assert_cmd::Command::new(repo().join("scripts/run-campaign"))
        .args(["--scenario", &format!("stuck:{}:1", repo().join("hostfiles/localhost").display())])
        .args(["--reps", "2", "--results", campaign.results.to_str().unwrap(), "--no-reset"])
        .args(["--pvbench", hanging.to_str().unwrap(), "--timeout", "1"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(started.elapsed() < Duration::from_secs(50), "both runs were cut at 1 + 10 s");
    for rep in ["rep-01", "rep-02"] {
        let marker = std::fs::read_to_string(campaign.results.join(format!("stuck/{rep}.failed"))).unwrap();
        assert!(marker.contains("timeout after 1 s"), "{marker}");
    }
}

/// The stand-in fails the way OrangeFS 2.10 does, so the scripts meet the real failure modes.
#[test]
fn the_standin_fails_like_the_real_server() {
    let server = Server::new();
    let bin = standin().join("sbin/pvfs2-server");
    let conf = server.conf();
    let log = server.path().join("server.log");
    let run = |args: &[&str]| {
        assert_cmd::Command::new(&bin)
            .args(args)
            .arg(&conf)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap()
    };
    let pid = server.pidfile();
    let pid = pid.to_str().unwrap();
    let wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&log).unwrap_or_default().contains(what) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(&log).unwrap_or_default().contains(what)
    };

    // Started without storage: the parent exits 0, the daemon logs why and is gone.
    assert_exit(&run(&["-a", "node6", "-p", pid]), 0);
    assert!(wait_for("re-run this program with a -f option"));
    assert!(!answers(server.port));
    // Without -a: the alias is the host name, which the config does not know.
    let out = run(&["-f"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("No host ID specified for alias"), "{}", stderr(&out));
    // -f creates, a second -f refuses, -r removes.
    assert_exit(&run(&["-f", "-a", "node6"]), 0);
    let out = run(&["-f", "-a", "node6"]);
    assert_exit(&out, 1);
    assert!(stderr(&out).contains("already exists; aborting!"), "{}", stderr(&out));
    // Twice on one port: the second logs the bind error and exits, the first stays.
    assert_exit(&run(&["-a", "node6", "-p", pid]), 0);
    assert!(wait_for("PVFS2 Server ready."));
    let first = server.pid().unwrap();
    let second_pid = server.path().join("second.pid");
    assert_exit(&run(&["-a", "node6", "-p", second_pid.to_str().unwrap()]), 0);
    assert!(wait_for("Address already in use"));
    assert!(alive(first) && answers(server.port));
    // A relative pid file is refused; -r removes the storage.
    assert_exit(&run(&["-a", "node6", "-p", "relative.pid"]), 1);
    assert_exit(&run(&["-r", "-a", "node6"]), 0);
    assert!(!server.path().join("storage/collections.db").exists());
}

/// A hostfile whose host does not resolve (the name a user must add for dom0-nobridge) is
/// named in a dry run; one that resolves is not.
#[test]
fn dry_run_warns_about_hosts_that_do_not_resolve() {
    let out = assert_cmd::Command::new(repo().join("scripts/run-campaign"))
        .current_dir(repo())
        .args(["--dry-run", "--no-reset", "--reps", "1"])
        .args([
            "--scenario",
            "nobridge:hostfiles/dom0-nobridge:2",
            "--scenario",
            "local:hostfiles/localhost:2",
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(
        err.contains("scenario nobridge: host 'node7-eth0' of hostfiles/dom0-nobridge does not resolve"),
        "{err}"
    );
    assert!(!err.contains("scenario local:"), "{err}");
}
