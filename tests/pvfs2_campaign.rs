//! scripts/run-campaign with the stand-in server (tests/pvfs2-standin) reset before every run:
//! scenarios x repetitions, resumption, locks, failures and timeouts.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::stack::repo;
use common::standin::*;
use common::{assert_exit, stderr, stdout};

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
