//! scripts/pvfs2-reset and scripts/render-pvfs2-config against the stand-in server in
//! tests/pvfs2-standin, which behaves like OrangeFS 2.10's command line. Every server listens on
//! a free loopback port and is stopped when its test ends.

mod common;

use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::stack::repo;
use common::standin::*;
use common::{assert_exit, stderr, stdout};

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
