//! `pvbench campaign`'s decisions on known data: a stand-in pvbench writes copies of a real
//! partdiff document with the rate (and CPU steal) each run is given, so that quiet and noisy
//! data, and a noisy host, are what the test says they are.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{assert_exit, read_json, stderr, stdout};

struct Standin {
    dir: tempfile::TempDir,
}

impl Standin {
    /// `values[group]`: per run of the group, "RATE" or "RATE STEAL%", or "hang" for a run that
    /// touches `hanging` and never ends.
    fn new(values: &[(&str, Vec<&str>)]) -> Standin {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("template.json");
        let out = std::process::Command::new(common::pvbench())
            .args(["partdiff", "1", "2", "10", "2", "2", "10", "--json"])
            .arg(&template)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for (group, lines) in values {
            std::fs::write(dir.path().join(format!("values-{group}")), lines.join("\n") + "\n").unwrap();
        }
        let script = dir.path().join("pvbench");
        std::fs::write(
            &script,
            format!(
                r#"#!/usr/bin/env bash
# pvbench partdiff ... --label L --json F: a copy of a real document, this run's figures in it.
dir={dir}
while [ $# -gt 0 ]; do
  case $1 in --json) json=$2; shift ;; --label) label=$2; shift ;; esac
  shift
done
n=$(( $(cat "$dir/count-$label" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/count-$label"
read -r rate steal < <(sed -n "${{n}}p" "$dir/values-$label")
if [ "$rate" = hang ]; then touch "$dir/hanging"; exec sleep 600; fi
sed -e "s/\"mlup_per_s\": [0-9.e+-]*/\"mlup_per_s\": $rate/" \
    -e "s/\"share_percent\": [0-9.e+-]*/\"share_percent\": ${{steal:-0}}/" \
    -e "s/\"label\": [^,]*,/\"label\": \"$label\",/" \
    -e "s/\"started_at\": \"[^\"]*\"/\"started_at\": \"$label run $n\"/" "$dir/template.json" > "$json"
"#,
                dir = dir.path().display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Standin { dir }
    }

    /// A plan of groups `a` (the host) and `b` (the guest) with `top` lines at its head.
    fn plan(&self, top: &str) -> PathBuf {
        let path = self.dir.path().join("plan.toml");
        let text = format!(
            "name = \"known data\"\npvbench = {:?}\nlauncher = \"env\"\n{top}\n\
             [[group]]\nname = \"a\"\nhosts = [\"localhost\"]\n[[group]]\nname = \"b\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n\
             [[overhead]]\nguest = \"b\"\nhost = \"a\"\n",
            self.dir.path().join("pvbench").to_str().unwrap()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn results(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn run(plan: &Path, results: &Path, extra: &[&str]) -> Output {
    assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "run"])
        .arg(plan)
        .arg("--results")
        .arg(results)
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

const UNTIL: &str = "reps = { min = 3, max = 8, until_ci = 0.05 }";

#[test]
fn until_ci_stops_at_min_on_quiet_data() {
    let quiet = vec!["100", "101", "99", "100", "100", "100", "100", "100"];
    let standin = Standin::new(&[
        ("a", quiet.clone()),
        ("b", vec!["50", "50.5", "49.5", "50", "50", "50", "50", "50"]),
    ]);
    let results = standin.results("quiet");
    let out = run(&standin.plan(UNTIL), &results, &[]);
    assert_exit(&out, 0);
    assert_eq!(
        common::campaign_order(&results).len(),
        6,
        "3 rounds of 2: {:?}",
        common::campaign_order(&results)
    );
    assert!(
        stderr(&out).contains("every figure's 95 % interval within ±5 % of its mean after 3 rounds"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("b keeps 50 % [49, 51] of a's partdiff rate"), "{}", stdout(&out));
}

#[test]
fn until_ci_runs_to_max_on_noisy_data() {
    let noisy = vec!["100", "50", "150", "60", "140", "70", "130", "80"];
    let standin = Standin::new(&[("a", vec!["100"; 8]), ("b", noisy)]);
    let results = standin.results("noisy");
    let out = run(&standin.plan(UNTIL), &results, &[]);
    assert_exit(&out, 0);
    let runs = common::campaign_order(&results);
    assert_eq!(runs.len(), 16, "8 rounds of 2: {runs:?}");
    // Interleaved to the end: a, b, a, b, ...
    for (i, id) in runs.iter().enumerate() {
        let group = if i % 2 == 0 { "a" } else { "b" };
        assert_eq!(id, &format!("partdiff/{group}/rep-{:02}", i / 2 + 1));
    }
    let err = stderr(&out);
    assert!(err.contains("after round 3, not yet within ±5 %: partdiff b rate ±"), "{err}");
    assert!(err.contains("max 8 rounds reached, not yet within ±5 %: partdiff b rate ±"), "{err}");
    let manifest = read_json(&results.join("campaign.json"));
    assert!(manifest["status"].as_str().unwrap().starts_with("max 8 rounds reached"), "{manifest}");
}

/// A run with CPU steal above the plan's limit is left out of the figures and said so, unless
/// --include-noisy.
#[test]
fn a_run_with_steal_above_the_limit_is_left_out() {
    let standin = Standin::new(&[("a", vec!["100", "100", "100"]), ("b", vec!["50", "10 40", "50"])]);
    let plan = standin.plan("reps = 3\nmax_steal_percent = 10");
    let results = standin.results("steal");
    let out = run(&plan, &results, &[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("partdiff/b/rep-02 left out of the figures:")
            && stderr(&out).contains(": CPU steal 40.0 % > 10 %"),
        "{}",
        stderr(&out)
    );
    let overhead = read_json(&results.join("overhead.json"));
    let figure = &overhead["pairs"][0]["figures"][0];
    assert_eq!(
        (figure["guest_runs"].as_u64(), figure["guest_mean"].as_f64()),
        (Some(2), Some(50.0)),
        "{overhead}"
    );
    assert!(
        overhead["left_out"][0]["reason"].as_str().unwrap().contains("CPU steal 40.0 % > 10 %"),
        "{overhead}"
    );
    assert!(stdout(&out).starts_with("b keeps 50 % [50, 50] of a's partdiff rate"), "{}", stdout(&out));

    let counted = standin.results("steal-counted");
    for group in ["a", "b"] {
        std::fs::remove_file(standin.dir.path().join(format!("count-{group}"))).unwrap();
    }
    let out = run(&plan, &counted, &["--include-noisy"]);
    assert_exit(&out, 0);
    let figure = &read_json(&counted.join("overhead.json"))["pairs"][0]["figures"][0];
    assert_eq!(figure["guest_runs"], 3, "{figure}");
}

/// A random order is a permutation per round, fixed by the seed the manifest keeps: a resumed
/// campaign runs what the first invocation would have.
#[test]
fn a_random_order_is_recorded_and_kept() {
    // 20 rounds: the same group first in every round by chance has odds of 2 in a million.
    let standin = Standin::new(&[("a", vec!["100"; 20]), ("b", vec!["50"; 20])]);
    let plan = standin.plan("reps = 20\norder = \"random\"");
    let results = standin.results("random");
    assert_exit(&run(&plan, &results, &[]), 0);
    let runs = common::campaign_order(&results);
    assert_eq!(runs.len(), 40);
    for round in runs.chunks(2) {
        let mut groups: Vec<&str> = round.iter().map(|id| id.split('/').nth(1).unwrap()).collect();
        groups.sort();
        assert_eq!(groups, ["a", "b"], "each round runs every group once: {runs:?}");
    }
    let firsts: Vec<&str> = runs.chunks(2).map(|r| r[0].split('/').nth(1).unwrap()).collect();
    assert!(firsts.contains(&"a") && firsts.contains(&"b"), "not always the same first: {firsts:?}");
    let seed = read_json(&results.join("campaign.json"))["identity"]["seed"].as_u64().unwrap();
    // Another seed is another campaign.
    let other = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(
        &plan,
        other.replacen("order = \"random\"", &format!("order = \"random\"\nseed = {}", seed + 1), 1),
    )
    .unwrap();
    let out = run(&plan, &results, &[]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(&format!("seed: {seed} → {}", seed + 1)), "{}", stderr(&out));
}

#[test]
fn status_says_where_a_campaign_stands() {
    let standin = Standin::new(&[("a", vec!["100"; 2]), ("b", vec!["50"; 2])]);
    let results = standin.results("status");
    assert_exit(&run(&standin.plan("reps = 2"), &results, &[]), 0);
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "status"])
        .arg(&results)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("  partdiff a  2 of 2 (2 attempts: 2 ok, 0 failed, 0 interrupted)\n"), "{text}");
    assert!(text.contains("  all         4 of 4\n"), "{text}");
    assert!(text.contains("\nstatus: 2 repetitions, interleaved order\n"), "{text}");
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "status"])
        .arg(standin.dir.path())
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no campaign here"), "{}", stderr(&out));
}

fn status(results: &Path) -> String {
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "status"])
        .arg(results)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    stdout(&out)
}

/// The progress lines (stderr not a terminal: one plain line per run) say the round and, for
/// `until_ci`, the rounds it may add up to, the likely end and the latest: not only the runs
/// planned so far (`[6/6] … remaining ~0:00:00`, then `[7/8]`).
#[test]
fn progress_says_the_rounds_their_bound_and_the_likely_end() {
    let noisy = vec!["100", "50", "150", "60", "140", "70", "130", "80"];
    let standin = Standin::new(&[("a", vec!["100"; 8]), ("b", noisy)]);
    let results = standin.results("progress");
    let out = run(&standin.plan(UNTIL), &results, &[]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(!err.contains('\r') && !err.contains('\x1b'), "plain lines off a terminal: {err:?}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("campaign: [")).collect();
    assert_eq!(lines.len(), 16, "a line per run: {err}");
    let first = lines[0];
    assert!(first.starts_with("campaign: [1/6] round 1 of 3–8: partdiff/a/rep-01, elapsed "), "{first}");
    assert!(first.ends_with(", likely 3 rounds (no spread yet); at most 8"), "nothing known yet: {first}");
    // b's spread after two runs (100, 50) needs every round; a's none.
    let round_4 = lines[6];
    assert!(round_4.starts_with("campaign: [7/8] round 4 of 3–8: partdiff/a/rep-04, elapsed "), "{round_4}");
    assert!(round_4.contains(", likely 8 rounds: ~") && round_4.contains(" left; at most 8: ~"), "{round_4}");
    assert!(lines[15].starts_with("campaign: [16/16] round 8 of 3–8: partdiff/b/rep-08"), "{}", lines[15]);
    for line in &lines[1..] {
        assert!(line.ends_with(" left"), "an ETA from the second run on: {line}");
    }
}

/// On a terminal the progress is one live line (drawn and cleared in place), the notes above it.
#[test]
fn progress_on_a_terminal_is_one_live_line() {
    let standin = Standin::new(&[("a", vec!["100"; 2]), ("b", vec!["50"; 2])]);
    let results = standin.results("terminal");
    // A terminal of 200 columns: the live line is cut at the terminal's width.
    let command = format!(
        "stty cols 200; {} campaign run {} --results {}",
        common::pvbench(),
        standin.plan("reps = 2").display(),
        results.display()
    );
    let out = assert_cmd::Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("TERM", "xterm")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let screen = stdout(&out);
    assert!(screen.contains("campaign: [1/4] round 1 of 2: partdiff/a/rep-01"), "{screen:?}");
    assert!(screen.contains("\x1b[2K"), "the live line is cleared in place: {screen:?}");
    assert!(!screen.contains("[1/4] round 1 of 2: partdiff/a/rep-01, elapsed 0:00:00\r\n"), "{screen:?}");
    assert!(
        screen.contains("\x1b[2Kcampaign: 2 repetitions, interleaved order; 4 runs"),
        "the line gone before the end's note: {screen:?}"
    );
}

/// `campaign status` after an interrupt: every benchmark and group of the campaign with its runs
/// done of those planned, those not begun too, and the last attempt without a bare `(-)`.
#[test]
fn status_after_an_interrupt_counts_the_runs_of_every_benchmark_and_group() {
    let standin = Standin::new(&[("a", vec!["100", "hang", "100", "100"]), ("b", vec!["50"; 4])]);
    let plan = standin.plan("reps = { min = 2, max = 4, until_ci = 0.05 }");
    let text = std::fs::read_to_string(&plan).unwrap();
    let second = "[[benchmark]]\nname = \"second\"\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n";
    std::fs::write(&plan, text.replacen("[[overhead]]", &format!("{second}[[overhead]]"), 1)).unwrap();
    let results = standin.results("interrupted");
    let child = std::process::Command::new(common::pvbench())
        .args(["campaign", "run"])
        .arg(&plan)
        .arg("--results")
        .arg(&results)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let hanging = standin.dir.path().join("hanging");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !hanging.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(hanging.exists(), "the third run started");
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let text = status(&results);
    for line in [
        "rounds: 2 of 2–4 planned (more until every figure's 95 % interval is within ±5 % of its mean)\n",
        "  partdiff a  1 of 2 (1 attempt: 1 ok, 0 failed, 0 interrupted)\n",
        "  partdiff b  1 of 2 (1 attempt: 1 ok, 0 failed, 0 interrupted)\n",
        "  second a    0 of 2 (1 attempt: 0 ok, 0 failed, 1 interrupted)\n",
        "  second b    0 of 2 (no attempt yet)\n",
        "  all         2 of 8\n",
        "last attempt: second/a/rep-01 interrupted: benchmark: interrupted\n",
        "status: not finished (2 of 8 planned runs have a result; running, or stopped: the same `pvbench campaign run",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(!text.contains("(-)"), "{text}");
}

/// `--reference` and `--include-noisy` belong to the campaign: a resume without them keeps
/// them (report.html still has the study), a resume with others is refused in one line, and
/// status and the report say which the campaign has.
#[test]
fn the_first_runs_report_options_are_kept_on_resume() {
    // Two campaigns of 3 runs per group.
    let standin = Standin::new(&[("a", ["100", "101", "99"].repeat(2)), ("b", ["50", "52", "48"].repeat(2))]);
    let plan = standin.plan("reps = 3");
    let results = standin.results("kept");
    assert_exit(&run(&plan, &results, &["--reference", "study-2008", "--include-noisy"]), 0);
    let resumed = run(&plan, &results, &[]);
    assert_exit(&resumed, 0);
    let overhead = read_json(&results.join("overhead.json"));
    assert_eq!(overhead["reference"][0]["source"], "study-2008", "{overhead}");
    let report = std::fs::read_to_string(results.join("report.html")).unwrap();
    assert!(report.contains("study-2008") && report.contains("--reference study-2008, --include-noisy"));
    assert!(
        status(&results)
            .contains("options (kept from its first run): --reference study-2008, --include-noisy\n")
    );
    assert!(
        stderr(&resumed)
            .contains("campaign: options kept from its first run: --reference study-2008, --include-noisy\n"),
        "{}",
        stderr(&resumed)
    );

    let plain = standin.results("plain");
    assert_exit(&run(&plan, &plain, &[]), 0);
    let refused = run(&plan, &plain, &["--reference", "study-2008"]);
    assert_exit(&refused, 2);
    let err = stderr(&refused);
    assert_eq!(err.lines().filter(|l| !l.starts_with("pvbench: warning:")).count(), 1, "{err}");
    assert!(
        err.contains(
            "--reference study-2008: this campaign was started with no --reference, no --include-noisy \
             (kept for its report); resume with the same options or without them, or give another --results"
        ),
        "{err}"
    );
}

/// report.html and compare --html in headless Chromium: no console message, and a
/// screenshot with the page on it. The check itself is shown to see a console error.
#[test]
fn the_reports_load_in_a_real_browser() {
    let standin = Standin::new(&[("a", vec!["100", "101", "99"]), ("b", vec!["50", "52", "48"])]);
    let results = standin.results("browser");
    assert_exit(&run(&standin.plan("reps = 3"), &results, &["--reference", "study-2008"]), 0);
    let report = common::browser::load(&results.join("report.html"));
    assert!(report.console.is_empty(), "console: {:?}", report.console);
    assert!(report.inked > 0.02, "the screenshot shows the page: {:.4} of its pixels inked", report.inked);

    let compared = standin.dir.path().join("compare.html");
    let out = assert_cmd::Command::new(common::pvbench())
        .arg("compare")
        .arg(results.join("partdiff"))
        .args(["--baseline", "a", "--html"])
        .arg(&compared)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let page = common::browser::load(&compared);
    assert!(page.console.is_empty() && page.inked > 0.02, "{:?} {}", page.console, page.inked);
    let html = std::fs::read_to_string(&compared).unwrap();
    assert!(html.contains("<svg") && html.contains("mlup_per_s"), "charts and table inline");

    let broken = standin.dir.path().join("broken.html");
    std::fs::write(&broken, "<p>x</p><script>console.error('broken page')</script>").unwrap();
    let broken = common::browser::load(&broken);
    assert!(broken.console.iter().any(|l| l.contains("broken page")), "{:?}", broken.console);
}

/// The plans shipped with pvbench stay valid: the study on the testbed and the cluster example
/// (its stack's pvbench and mpiexec stood in for by links).
#[test]
fn the_shipped_plans_check() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let stack = tempfile::tempdir().unwrap();
    for dir in ["bin", "mpich/bin"] {
        std::fs::create_dir_all(stack.path().join(dir)).unwrap();
    }
    std::os::unix::fs::symlink(common::pvbench(), stack.path().join("bin/pvbench")).unwrap();
    let mpiexec = which("mpiexec");
    std::os::unix::fs::symlink(mpiexec, stack.path().join("mpich/bin/mpiexec")).unwrap();
    let prefix = format!("prefix={}", stack.path().display());
    for (plan, sets, runs) in [
        ("testbed/study.toml", vec![], "15 runs per round"),
        ("examples/cluster.toml", vec!["--set", &prefix], "15 runs per round"),
    ] {
        let out = assert_cmd::Command::new(common::pvbench())
            .current_dir(repo)
            .args(["campaign", "check", plan])
            .args(&sets)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_exit(&out, 0);
        assert!(stdout(&out).contains(runs), "{plan}: {}", stdout(&out));
    }
}

fn which(program: &str) -> PathBuf {
    let paths = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.exists()).unwrap()
}

/// pvbench's own --timeout (its exit 124) is named as such; a reset's 124 is the reset's.
#[test]
fn exit_124_of_the_benchmark_is_its_own_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("pvbench");
    common::executable(
        &script,
        "#!/usr/bin/env bash
exit 124
",
    );
    let plan = dir.path().join("plan.toml");
    let text = |reset: &str| {
        format!(
            "name = \"t\"\nreps = 1\npvbench = {:?}\nlauncher = \"env\"\n\
             [[group]]\nname = \"a\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\nreset = {reset:?}\n",
            script.to_str().unwrap()
        )
    };
    std::fs::write(&plan, text("true")).unwrap();
    let results = dir.path().join("own");
    assert_exit(&run(&plan, &results, &[]), 1);
    let marker = std::fs::read_to_string(results.join("partdiff/a/rep-01.failed")).unwrap();
    assert!(marker.contains("timeout: pvbench's own --timeout ended the job (limit 1800 s)"), "{marker}");
    std::fs::write(&plan, text("exit 124")).unwrap();
    let results = dir.path().join("reset");
    assert_exit(&run(&plan, &results, &[]), 1);
    let marker = std::fs::read_to_string(results.join("partdiff/a/rep-01.failed")).unwrap();
    assert!(marker.contains("reset failed (exit 124)"), "{marker}");
}

/// A benchmark that wrote its document and then failed (a verification error, exit 3) is a
/// failed run: its document kept beside, never counted.
#[test]
fn a_document_of_a_failed_run_is_kept_beside_and_not_counted() {
    let standin = Standin::new(&[("a", vec!["100", "100"]), ("b", vec!["50", "50"])]);
    let failing = standin.dir.path().join("failing-pvbench");
    std::fs::write(
        &failing,
        format!("#!/usr/bin/env bash\n{}/pvbench \"$@\"\nexit 3\n", standin.dir.path().display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plan = standin.plan("reps = 1");
    let text = std::fs::read_to_string(&plan).unwrap();
    let own = format!("{:?}", standin.dir.path().join("pvbench").to_str().unwrap());
    std::fs::write(&plan, text.replacen(&own, &format!("{:?}", failing.to_str().unwrap()), 1)).unwrap();
    let results = standin.results("failing");
    let out = run(&plan, &results, &[]);
    assert_exit(&out, 1);
    let run_dir = results.join("partdiff/a");
    assert!(!run_dir.join("rep-01.json").exists() && run_dir.join("rep-01.json.failed-1").is_file());
    let marker = std::fs::read_to_string(run_dir.join("rep-01.failed")).unwrap();
    assert!(marker.contains("benchmark failed (exit 3)"), "{marker}");
}

/// Names that become paths cannot collide or shadow: a benchmark named like a file the campaign
/// writes is refused by check (exit 2, one line); groups `b-c` and `c` with benchmarks `a` and
/// `a-b`, whose hostfiles were once one file (`a-b-c`), each run on their own group's hosts.
#[test]
fn names_that_become_paths_stay_apart() {
    let standin = Standin::new(&[("b-c", vec!["100"]), ("c", vec!["50"])]);
    let launcher = standin.dir.path().join("launcher");
    common::executable(
        &launcher,
        "#!/usr/bin/env bash
# launcher HOSTFILE COMMAND...: the hostfile's lines into the run's log, then the command.
echo \"hostfile: $(tr '\\n' ' ' < \"$1\")\"
shift
exec \"$@\"
",
    );
    let plan = standin.dir.path().join("plan.toml");
    let write_plan = |second: &str| {
        let bench = |name: &str, group: &str| {
            format!(
                "[[benchmark]]\nname = {name:?}\nkind = \"partdiff\"\ngroups = [{group:?}]\n\
                 args = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n"
            )
        };
        let text = format!(
            "name = \"paths\"\nreps = 1\npvbench = {:?}\nlauncher = \"{} {{hostfile}}\"\n\
             [[group]]\nname = \"b-c\"\nhosts = [\"localhost\"]\n\
             [[group]]\nname = \"c\"\nhosts = [\"localhost:2\"]\n{}{}",
            standin.dir.path().join("pvbench").to_str().unwrap(),
            launcher.display(),
            bench("a", "b-c"),
            bench(second, "c"),
        );
        std::fs::write(&plan, text).unwrap();
    };

    write_plan("overhead.json");
    let out = assert_cmd::Command::new(common::pvbench())
        .args(["campaign", "check"])
        .arg(&plan)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert_eq!(err.lines().filter(|l| !l.starts_with("pvbench: warning:")).count(), 1, "{err}");
    assert!(err.contains("benchmark \"overhead.json\": the campaign writes its own overhead.json"), "{err}");

    write_plan("a-b");
    let results = standin.results("paths");
    assert_exit(&run(&plan, &results, &[]), 0);
    for (run, hosts) in [("a/b-c/rep-01", "localhost:1 "), ("a-b/c/rep-01", "localhost:2 ")] {
        let log = std::fs::read_to_string(results.join(format!("{run}.log"))).unwrap();
        assert!(log.contains(&format!("hostfile: {hosts}\n")), "{run} on its own group's hosts: {log}");
    }
    for hostfile in ["a+b-c", "a-b+c"] {
        assert!(results.join("hostfiles").join(hostfile).is_file(), "hostfiles/{hostfile}");
    }
}

/// An index over fewer benchmarks than the plan has says so, and names the one left out and
/// why; the page links every section and marks the runs it did not count.
#[test]
fn a_benchmark_without_a_figure_is_named_not_dropped() {
    // Blocked: b's runs are p1's three, then p2's three, each 0 (not a measurement).
    let standin = Standin::new(&[("a", vec!["100"; 6]), ("b", vec!["50", "50", "50", "0", "0", "0"])]);
    let plan = standin.dir.path().join("two.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"two\"\npvbench = {:?}\nlauncher = \"env\"\nreps = 3\norder = \"blocked\"\n\
             [[group]]\nname = \"a\"\nhosts = [\"localhost\"]\n[[group]]\nname = \"b\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nname = \"p1\"\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n\
             [[benchmark]]\nname = \"p2\"\nkind = \"partdiff\"\nargs = [\"1\", \"2\", \"10\", \"2\", \"2\", \"10\"]\n\
             [[overhead]]\nguest = \"b\"\nhost = \"a\"\n",
            standin.dir.path().join("pvbench").to_str().unwrap()
        ),
    )
    .unwrap();
    let results = standin.results("two");
    let out = run(&plan, &results, &[]);
    assert_exit(&out, 0);
    let sentence = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(sentence.starts_with("b keeps 50 % [50, 50] of a's p1 rate"), "{sentence}");
    assert!(
        sentence.contains("; index 50 % [50, 50] over 1 of 2 benchmarks; left out: p2 — no run of b counted (3 runs left out: not a measurement: results.mlup_per_s is 0.0)"),
        "{sentence}"
    );
    let overhead = read_json(&results.join("overhead.json"));
    let pair = &overhead["pairs"][0];
    assert_eq!(pair["benchmarks"], 2, "{pair}");
    assert_eq!(pair["not_in_index"][0]["benchmark"], "p2", "{pair}");
    assert!(pair["not_in_index"][0]["reason"].as_str().unwrap().starts_with("no run of b counted"), "{pair}");

    let html = std::fs::read_to_string(results.join("report.html")).unwrap();
    assert!(
        html.contains("index (over 1 of 2 benchmarks)") && html.contains("class=\"not-in-index\""),
        "{html}"
    );
    let links: Vec<&str> = html.split("href=\"#").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    assert!(links.len() >= 6, "a table of contents: {links:?}");
    for id in &links {
        assert_eq!(html.matches(&format!("id=\"{id}\"")).count(), 1, "#{id} is one section's anchor");
    }
    for section in ["What the guest keeps", "p1 — p1", "p2 — p2", "Provenance", "Every run"] {
        assert!(html.contains(&format!("\">{section}")), "the contents name {section}");
    }
    assert!(!html.contains("<th></th>"), "every column has a header");
    let row = html.lines().find(|l| l.contains("<td>p2/b/rep-01</td>")).expect("the run's row");
    assert!(
        row.contains("<td>ok, left out</td><td>not a measurement: results.mlup_per_s is 0.0</td>"),
        "{row}"
    );
}

/// The metadata family and net's round trip in a real campaign: meta's phases are figures of
/// the overhead, and a round trip is a time, which the sentence says as times the host's.
#[test]
fn meta_and_round_trips_are_figures_of_the_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let scratch = dir.path().join("meta-dir");
    std::fs::write(
        &plan,
        format!(
            "name = \"families\"\npvbench = {:?}\nlauncher = \"env\"\nreps = 2\n\
             [[group]]\nname = \"a\"\nhosts = [\"localhost\"]\n[[group]]\nname = \"b\"\nhosts = [\"localhost\"]\n\
             [[benchmark]]\nkind = \"meta\"\nargs = [\"-d\", {:?}, \"-n\", \"20\"]\n\
             [[benchmark]]\nkind = \"net\"\nargs = [\"--test\", \"rr\", \"--duration\", \"0.2s\"]\n\
             [[overhead]]\nguest = \"b\"\nhost = \"a\"\n",
            common::pvbench(),
            scratch.to_str().unwrap()
        ),
    )
    .unwrap();
    let results = dir.path().join("results");
    let out = run(&plan, &results, &[]);
    assert_exit(&out, 0);
    let sentence = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(sentence.starts_with("b keeps ") && sentence.contains(" of a's meta dir create"), "{sentence}");
    assert!(sentence.contains(" file create"), "{sentence}");
    let overhead = read_json(&results.join("overhead.json"));
    let figures = overhead["pairs"][0]["figures"].as_array().unwrap().clone();
    let metrics: Vec<(&str, &str, bool)> = figures
        .iter()
        .map(|f| {
            (f["benchmark"].as_str().unwrap(), f["metric"].as_str().unwrap(), f["lower_is_better"] == true)
        })
        .collect();
    assert!(metrics.contains(&("meta", "file create", false)), "{metrics:?}");
    // One host: net's figures are the pairs with it (its one rank has none; the note names it).
    let net_named =
        overhead["pairs"][0]["not_in_index"].as_array().unwrap().iter().any(|n| n["benchmark"] == "net");
    let round_trip = metrics.contains(&("net", "round trip", true));
    assert!(net_named || round_trip, "{overhead}");
    assert!(!scratch.exists() || std::fs::read_dir(&scratch).unwrap().next().is_none(), "meta cleaned up");
}
