//! `pvbench campaign` with the stand-in server (tests/pvfs2-standin) reset before every run:
//! groups x repetitions interleaved, resumption after an interrupt, locks, failures and
//! timeouts, the refusal of another campaign, the report.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::standin::*;
use common::{assert_exit, read_json, stderr, stdout};

/// A campaign of the stand-in server: groups dom0 (2 ranks) and domU (1), one mpiio benchmark.
struct Campaign {
    server: Server,
    results: PathBuf,
    plan: PathBuf,
}

impl Campaign {
    fn new() -> Self {
        let server = Server::new();
        let results = server.path().join("results");
        let plan = server.path().join("plan.toml");
        let campaign = Campaign { server, results, plan };
        campaign.write_plan(&campaign.reset(), "");
        campaign
    }

    fn reset(&self) -> String {
        self.server.reset_command().join(" ")
    }

    /// The plan with `reset` before every run (`--check` after it) and `extra` lines in the
    /// benchmark's table.
    fn write_plan(&self, reset: &str, extra: &str) {
        let testfile = self.server.path().join("testfile");
        let text = format!(
            "name = \"standin\"\nreps = 2\npvbench = {pvbench:?}\n\
             [vars]\nblock = \"256k\"\n\
             [[group]]\nname = \"dom0\"\nhosts = [\"localhost:2\"]\n\
             [[group]]\nname = \"domU\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nname = \"pvfs2\"\nkind = \"mpiio\"\ntitle = \"PVFS2 stand-in\"\n\
             args = [\"-b\", \"{{block}}\", \"-i\", \"2\", \"-f\", {testfile:?}]\n\
             reset = {reset:?}\ncheck = {check:?}\nstop = {stop:?}\ntimeout = \"60s\"\n{extra}\n\
             [[overhead]]\nguest = \"domU\"\nhost = \"dom0\"\n",
            pvbench = common::pvbench(),
            testfile = testfile.to_str().unwrap(),
            check = format!("{} --check", self.reset()),
            stop = format!("{} --stop", self.reset()),
        );
        std::fs::write(&self.plan, text).unwrap();
    }

    fn command(&self, action: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(common::pvbench());
        cmd.args(["campaign", action]).arg(&self.plan);
        if action == "run" {
            cmd.arg("--results").arg(&self.results);
        }
        cmd.args(extra);
        cmd
    }

    /// `campaign run` in the background, its stderr kept.
    fn spawn(&self) -> std::process::Child {
        self.command("run", &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run(&self, extra: &[&str]) -> Output {
        assert_cmd::Command::from_std(self.command("run", extra))
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap()
    }

    fn results(&self) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = ["dom0", "domU"]
            .iter()
            .flat_map(|g| std::fs::read_dir(self.results.join("pvfs2").join(g)).into_iter().flatten())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        found.sort();
        found
    }

    /// The manifest's attempts: (id, outcome).
    fn attempts(&self) -> Vec<(String, String)> {
        let manifest = read_json(&self.results.join("campaign.json"));
        manifest["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
            .collect()
    }
}

/// Until `done` holds, at most a minute.
fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn ok(ids: &[&str]) -> Vec<(String, String)> {
    ids.iter().map(|id| (id.to_string(), "ok".to_string())).collect()
}

#[test]
fn campaign_of_two_groups_and_two_repetitions_interleaved() {
    let campaign = Campaign::new();
    let out = campaign.run(&[]);
    assert_exit(&out, 0);
    let results = campaign.results();
    assert_eq!(results.len(), 4, "{results:?}");
    for path in &results {
        let doc = read_json(path);
        let group = path.parent().unwrap().file_name().unwrap().to_str().unwrap();
        assert_eq!(doc["label"], group);
        assert_eq!(doc["ranks"]["count"], if group == "dom0" { 2 } else { 1 });
    }
    // Interleaved: every group's first repetition before any second one.
    assert_eq!(
        campaign.attempts(),
        ok(&["pvfs2/dom0/rep-01", "pvfs2/domU/rep-01", "pvfs2/dom0/rep-02", "pvfs2/domU/rep-02"])
    );
    let log = std::fs::read_to_string(campaign.results.join("pvfs2/dom0/rep-01.log")).unwrap();
    assert!(log.contains("ready   ok") && log.contains("--check"), "reset and check before the run:\n{log}");
    assert!(stderr(&out).contains("at the end:") && campaign.server.pid().is_none(), "stopped at the end");
    assert!(!answers(campaign.server.port));
    let text = stdout(&out);
    assert!(text.starts_with("domU keeps "), "the overhead sentence first: {text}");
    assert!(text.contains("of dom0's PVFS2 stand-in write") && text.contains("ratios to \"dom0\""), "{text}");
    for file in
        ["summary.csv", "summary.md", "comparison.json", "runs.csv", "bar-write_mpi_io_test_mb_per_s.svg"]
    {
        assert!(campaign.results.join("summary/pvfs2").join(file).is_file(), "summary/pvfs2/{file}");
    }
    let overhead = read_json(&campaign.results.join("overhead.json"));
    assert_eq!(overhead["pairs"][0]["figures"][0]["metric"], "write");
    assert_eq!(overhead["pairs"][0]["figures"][0]["guest_runs"], 2);
    let html = std::fs::read_to_string(campaign.results.join("report.html")).unwrap();
    assert!(
        html.contains("<svg") && html.contains("domU keeps") && html.contains("name = &quot;standin&quot;")
    );
    assert!(
        stderr(&out).contains("[4/4] round 2 of 2: pvfs2/domU/rep-02"),
        "progress lines: {}",
        stderr(&out)
    );
}

#[test]
fn check_prints_the_schedule_and_runs_nothing() {
    let campaign = Campaign::new();
    let out = assert_cmd::Command::from_std(campaign.command("check", &[]))
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.matches("mpiexec -f RESULTS/hostfiles/pvfs2+").count(), 2, "{text}");
    assert!(text.contains("2 repetitions, order interleaved") && text.contains("reset  "), "{text}");
    assert!(!campaign.results.exists());
    assert!(campaign.server.pid().is_none(), "no server was started");
}

/// Ctrl-C mid-way: the running job is ended (its process group), the attempt recorded as
/// interrupted, and the same command runs exactly what is missing, in the same order.
#[test]
fn an_interrupted_campaign_resumes_exactly() {
    let campaign = Campaign::new();
    // Each run starts a second late, so that the interrupt meets a run under way.
    let slow = campaign.server.path().join("slow-pvbench");
    common::executable(&slow, &format!("#!/usr/bin/env bash\nsleep 1\nexec {} \"$@\"\n", common::pvbench()));
    let plan = std::fs::read_to_string(&campaign.plan).unwrap();
    let plan =
        plan.replacen(&format!("{:?}", common::pvbench()), &format!("{:?}", slow.to_str().unwrap()), 1);
    std::fs::write(&campaign.plan, plan).unwrap();
    let child = campaign.spawn();
    let first = campaign.results.join("pvfs2/dom0/rep-01.json");
    wait_until(|| first.exists());
    assert!(first.exists(), "the first run finished");
    let second = campaign.results.join("pvfs2/domU/rep-01.log");
    wait_until(|| std::fs::read_to_string(&second).is_ok_and(|log| log.contains("slow-pvbench")));
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let status = child.wait_with_output().unwrap().status;
    let before = std::fs::metadata(&first).unwrap().modified().unwrap();
    let attempts = campaign.attempts();
    assert_eq!(status.code(), Some(130), "{attempts:?}");
    assert_eq!(attempts[0], ("pvfs2/dom0/rep-01".to_string(), "ok".to_string()));
    assert_eq!(attempts[1], ("pvfs2/domU/rep-01".to_string(), "interrupted".to_string()));
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let left = std::process::Command::new("pgrep")
        .args(["-f", campaign.results.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "no process of the run is left: {}",
        String::from_utf8_lossy(&left.stdout)
    );

    let out = campaign.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(campaign.results().len(), 4);
    assert_eq!(
        std::fs::metadata(&first).unwrap().modified().unwrap(),
        before,
        "a finished run is not run again"
    );
    let after = campaign.attempts();
    let done_before = attempts.iter().filter(|a| a.1 == "ok").count();
    let runs: Vec<&str> = after.iter().filter(|a| a.1 == "ok").map(|a| a.0.as_str()).collect();
    assert_eq!(runs, ["pvfs2/dom0/rep-01", "pvfs2/domU/rep-01", "pvfs2/dom0/rep-02", "pvfs2/domU/rep-02"]);
    assert!(stderr(&out).contains(&format!("{done_before} already done")), "{}", stderr(&out));
}

/// SIGUSR1 (a batch job's end is near: `sbatch --signal=B:USR1@SECONDS`) during a run: that
/// run finishes, no other starts, exit 138; the same command does the rest.
#[test]
fn sigusr1_stops_before_the_next_run() {
    let campaign = Campaign::new();
    campaign.write_plan(&format!("sleep 1; {}", campaign.reset()), "");
    let child = campaign.spawn();
    let log = campaign.results.join("pvfs2/domU/rep-01.log");
    wait_until(|| log.exists());
    let _ = std::process::Command::new("kill").args(["-USR1", &child.id().to_string()]).status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(138), "{}", stderr(&out));
    assert_eq!(campaign.attempts(), ok(&["pvfs2/dom0/rep-01", "pvfs2/domU/rep-01"]));
    assert!(
        stderr(&out).contains("SIGUSR1: stopping before pvfs2/dom0/rep-02; the same command resumes it"),
        "{}",
        stderr(&out)
    );
    assert_exit(&campaign.run(&[]), 0);
    assert_eq!(campaign.results().len(), 4);
}

/// A step that fails just before the campaign's SIGTERM (a Slurm job past its time limit refuses
/// the step, the signal follows) was interrupted, not failed.
#[test]
fn a_failure_that_a_signal_follows_is_an_interruption() {
    let campaign = Campaign::new();
    let reset = campaign.server.path().join("refused-then-ended");
    let text = format!(
        "#!/usr/bin/env bash\n(sleep 0.1; pkill -TERM -f -- 'campaign run {}') &\nexit 1\n",
        campaign.plan.display()
    );
    common::executable(&reset, &text);
    campaign.write_plan(reset.to_str().unwrap(), "");
    let out = campaign.run(&[]);
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert_eq!(campaign.attempts(), [("pvfs2/dom0/rep-01".to_string(), "interrupted".to_string())]);
    assert!(!campaign.results.join("pvfs2/dom0/rep-01.failed").exists());
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
    campaign.write_plan(&reset, "");
    let out = campaign.run(&[]);
    assert_exit(&out, 1);
    assert_eq!(campaign.results().len(), 3, "the other runs went on");
    let marker = std::fs::read_to_string(campaign.results.join("pvfs2/dom0/rep-01.failed")).unwrap();
    assert!(marker.contains("reset failed (exit 5)"), "{marker}");
    let log = std::fs::read_to_string(campaign.results.join("pvfs2/dom0/rep-01.log")).unwrap();
    assert!(log.contains("storage busy"), "{log}");
    assert!(stderr(&out).contains("pvfs2/dom0/rep-01 FAILED"), "{}", stderr(&out));

    let out = campaign.run(&[]);
    assert_exit(&out, 0);
    assert_eq!(campaign.results().len(), 4);
    let marker = std::fs::read_to_string(campaign.results.join("pvfs2/dom0/rep-01.failed")).unwrap();
    assert!(marker.starts_with("attempt 1: reset failed (exit 5)"), "{marker}");
    let log = std::fs::read_to_string(campaign.results.join("pvfs2/dom0/rep-01.log")).unwrap();
    assert!(
        log.contains("# attempt 1,") && log.contains("storage busy") && log.contains("# attempt 2,"),
        "{log}"
    );
    assert_eq!(campaign.attempts()[0], ("pvfs2/dom0/rep-01".to_string(), "failed".to_string()));
    // The table's columns: metric, unit, group, n, ...: both of dom0's runs count.
    assert!(
        stdout(&out).lines().any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.get(2) == Some(&"dom0") && cells.get(3) == Some(&"2")
        }),
        "a run that succeeded on retry counts: {}",
        stdout(&out)
    );
}

/// A campaign is its identity: another one into the same directory is refused, naming what
/// differs; the same one resumes.
#[test]
fn a_different_campaign_into_the_same_directory_is_refused() {
    let campaign = Campaign::new();
    assert_exit(&campaign.run(&[]), 0);
    let out = campaign.run(&["--set", "block=512k"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("holds another campaign (benchmarks[0].args[1]: \"256k\" → \"512k\")"),
        "{}",
        stderr(&out)
    );
    let out = campaign.run(&[]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("0 new, 4 already done"), "{}", stderr(&out));
    // A directory with other files and no campaign is not taken over.
    let other = campaign.server.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "run"])
        .arg(&campaign.plan)
        .arg("--results")
        .arg(&other)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("holds notes.txt but no campaign"), "{}", stderr(&out));
}

#[test]
fn one_campaign_per_results_directory() {
    let campaign = Campaign::new();
    std::fs::create_dir_all(&campaign.results).unwrap();
    let held = campaign.server.path().join("held");
    let mut holder = std::process::Command::new("flock")
        .arg(campaign.results.join(".campaign.lock"))
        .args(["sh", "-c", r#"touch "$0"; exec sleep 30"#])
        .arg(&held)
        .spawn()
        .unwrap();
    wait_until(|| held.exists());
    let out = campaign.run(&[]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("another campaign is running on"), "{}", stderr(&out));
}

/// A hung run (here a pvbench that ignores its own --timeout, under the real mpiexec) is
/// ended with its whole process group at the plan's limit, recorded, and the campaign goes on.
#[test]
fn a_hung_run_is_ended_by_the_timeout() {
    let campaign = Campaign::new();
    let hanging = campaign.server.path().join("hanging-pvbench");
    common::executable(&hanging, "#!/usr/bin/env bash\nexec sleep 60\n");
    let plan = format!(
        "name = \"stuck\"\nreps = 2\npvbench = {:?}\nlauncher = \"mpiexec -n {{ranks}}\"\n\
         [[group]]\nname = \"stuck\"\nhosts = [\"localhost\"]\n\
         [[benchmark]]\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\ntimeout = \"1s\"\n",
        hanging.to_str().unwrap()
    );
    std::fs::write(&campaign.plan, plan).unwrap();
    let started = Instant::now();
    let out = campaign.run(&[]);
    assert_exit(&out, 1);
    assert!(started.elapsed() < Duration::from_secs(30), "both runs were cut at 1 s (+5 s to the KILL)");
    for rep in ["rep-01", "rep-02"] {
        let marker =
            std::fs::read_to_string(campaign.results.join(format!("partdiff/stuck/{rep}.failed"))).unwrap();
        assert!(marker.contains("benchmark: timeout after 1 s"), "{marker}");
    }
    let left = std::process::Command::new("pgrep").args(["-f", hanging.to_str().unwrap()]).output().unwrap();
    assert!(left.stdout.is_empty(), "the hung ranks were ended");
}

/// Plans that cannot work are refused before anything runs, in one line naming the problem.
#[test]
fn mistakes_in_a_plan_are_one_line_each() {
    let campaign = Campaign::new();
    let good = std::fs::read_to_string(&campaign.plan).unwrap();
    for (from, to, needle) in [
        ("kind = \"mpiio\"", "kind = \"mpiio\"\nrepeat = 2", "unknown field `repeat`"),
        (
            "\"-i\", \"2\"",
            "\"-i\", \"2\", \"--transfer-size\", \"100k\"",
            "block size 262144 is not a multiple of transfer size 102400",
        ),
        ("\"-i\", \"2\"", "\"--blok\", \"2\"", "unexpected argument '--blok'"),
        ("name = \"domU\"", "name = \"dom U\"", "group \"dom U\": use letters"),
        (
            "reps = 2",
            "reps = 2\nlauncher = \"no-such-launcher -n {ranks}\"",
            "launcher \"no-such-launcher\" not found",
        ),
    ] {
        std::fs::write(&campaign.plan, good.replacen(from, to, 1)).unwrap();
        let out = campaign.run(&[]);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(needle), "{to}: {err}");
        assert!(!err.contains("panicked") && !campaign.results.exists(), "{err}");
    }
}
