//! One run of a campaign, as processes: the benchmark's reset and check commands, then the
//! launcher with pvbench, each in its own process group with the output appended to the run's
//! log, ended (SIGTERM, then SIGKILL for the whole group) when its time is up or the campaign
//! is interrupted.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::process::{Pid, Signal, kill_process_group};

use super::layout;
use super::plan::{Benchmark, Family, Plan};
use super::schedule::Slot;

/// What pvbench's own `--timeout` is given less than the campaign's limit: pvbench ends the
/// job first, with a line naming where it was; the campaign's kill is for a launcher that
/// does not end.
const OWN_TIMEOUT_LEAD: Duration = Duration::from_secs(10);
/// From SIGTERM to SIGKILL: hydra forwards SIGTERM to every rank and srun cancels its step
/// (a single SIGINT only makes srun print the step's state); a rank stuck in a collective
/// needs the KILL.
const KILL_AFTER: Duration = Duration::from_secs(5);

/// How a command ended.
#[derive(Debug, PartialEq)]
pub enum Ended {
    Exited(i32),
    TimedOut,
    Interrupted,
}

/// The files of one run, below the results directory.
pub struct RunFiles {
    pub result: PathBuf,
    pub log: PathBuf,
    pub failed: PathBuf,
}

impl RunFiles {
    pub fn of(results: &Path, plan: &Plan, slot: &Slot) -> RunFiles {
        let base = results.join(slot.id(plan));
        RunFiles {
            result: base.with_extension("json"),
            log: base.with_extension("log"),
            failed: base.with_extension("failed"),
        }
    }
}

/// The hosts a run starts ranks on (one line per host with its slots) and the rank count:
/// a `net` run measures the peers against the group's hosts, one rank each, peers first.
pub fn hosts_and_ranks(plan: &Plan, slot: &Slot) -> (Vec<(String, u32)>, u32) {
    let bench = &plan.benchmarks[slot.benchmark];
    let group = &plan.groups[slot.group];
    let mut lines: Vec<(String, u32)> = Vec::new();
    if bench.family == Family::Net && !bench.peers.is_empty() {
        for host in bench.peers.iter().chain(&group.hosts()) {
            if !lines.iter().any(|(h, _)| h == host) {
                lines.push((host.clone(), 1));
            }
        }
        let ranks = lines.len() as u32;
        return (lines, ranks);
    }
    for host in &group.slots {
        match lines.last_mut() {
            Some((h, n)) if h == host => *n += 1,
            _ => lines.push((host.clone(), 1)),
        }
    }
    (lines, bench.ranks.unwrap_or(group.ranks))
}

/// The launch command of a run, as words: the launcher filled in, pvbench, its arguments.
pub fn launch_words(plan: &Plan, slot: &Slot, hostfile: &Path, result: &Path) -> Vec<String> {
    let bench = &plan.benchmarks[slot.benchmark];
    let group = &plan.groups[slot.group];
    let (hosts, ranks) = hosts_and_ranks(plan, slot);
    let host_list: Vec<&str> = hosts.iter().map(|(h, _)| h.as_str()).collect();
    let nodes = host_list.iter().collect::<std::collections::BTreeSet<_>>().len();
    let mut words: Vec<String> = bench
        .launcher
        .split_whitespace()
        .map(|w| {
            w.replace("{hostfile}", &hostfile.to_string_lossy())
                .replace("{hosts}", &host_list.join(","))
                .replace("{nodes}", &nodes.to_string())
                .replace("{ranks}", &ranks.to_string())
        })
        .collect();
    words.push(bench.pvbench.to_string_lossy().into_owned());
    words.push(bench.family.name().into());
    words.extend(bench.args.iter().cloned());
    words.extend(bench.group_args.get(&group.name).into_iter().flatten().cloned());
    if has_own_timeout(bench) && !words.iter().any(|w| w == "--timeout") {
        let own = bench.timeout.saturating_sub(OWN_TIMEOUT_LEAD).max(Duration::from_secs(1));
        words.extend(["--timeout".into(), format!("{}s", own.as_secs())]);
    }
    words.extend([
        "--label".into(),
        group.name.clone(),
        "--json".into(),
        result.to_string_lossy().into_owned(),
    ]);
    words
}

/// Whether the benchmark's pvbench ends a whole job at its own `--timeout`.
fn has_own_timeout(bench: &Benchmark) -> bool {
    matches!(bench.family, Family::Mpiio | Family::Net | Family::Meta)
}

/// Appends a line to the log.
pub fn note(log: &mut File, line: &str) -> anyhow::Result<()> {
    writeln!(log, "{line}").context("writing the run's log")
}

/// Runs `command` with its output appended to `log`, for at most `limit`.
pub fn run_logged(mut command: Command, log: &File, limit: Duration) -> anyhow::Result<Ended> {
    use std::os::unix::process::CommandExt;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log.try_clone()?)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt;
            return Ok(Ended::Exited(status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))));
        }
        let ended = if crate::interrupt::check().is_err() {
            Ended::Interrupted
        } else if Instant::now() >= deadline {
            Ended::TimedOut
        } else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        stop_group(&mut child);
        return Ok(ended);
    }
}

/// SIGTERM to the child's process group, SIGKILL after [`KILL_AFTER`], and the child reaped.
fn stop_group(child: &mut std::process::Child) {
    let Some(group) = Pid::from_raw(child.id() as i32) else { return };
    let _ = kill_process_group(group, Signal::TERM);
    let until = Instant::now() + KILL_AFTER;
    while Instant::now() < until {
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Ranks of the group may outlive the launcher: the KILL goes to the group either way.
    let _ = kill_process_group(group, Signal::KILL);
    let _ = child.wait();
}

/// A shell command of the plan (reset, check), from the plan's working directory.
pub fn shell(plan: &Plan, text: &str) -> Command {
    let mut command = Command::new("bash");
    command.args(["-c", text]).current_dir(&plan.workdir);
    command
}

/// The hostfile of a run's (benchmark, group), below `RESULTS/hostfiles/`.
pub fn hostfile(results: &Path, plan: &Plan, slot: &Slot) -> PathBuf {
    layout::hostfile(results, &plan.benchmarks[slot.benchmark].name, &plan.groups[slot.group].name)
}

/// Writes the hostfile of every (benchmark, group) below `results`, MPICH's `host:slots` lines.
pub fn write_hostfiles(plan: &Plan, results: &Path) -> anyhow::Result<()> {
    let dir = results.join(layout::HOSTFILES);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (benchmark, group) in super::schedule::cells(plan) {
        let slot = Slot { benchmark, group, rep: 1 };
        let (hosts, _) = hosts_and_ranks(plan, &slot);
        let text: String = hosts.iter().map(|(h, n)| format!("{h}:{n}\n")).collect();
        crate::result::write_atomically(&hostfile(results, plan, &slot), text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"t\"\nlauncher = \"mpiexec -f {hostfile} -hosts {hosts} -N {nodes} -n {ranks}\"\n\
             [[group]]\nname = \"dom0\"\nhosts = [\"node7:2\"]\n\
             [[group]]\nname = \"mixed\"\nhosts = [\"a\", \"b\", \"a\"]\n\
             [[benchmark]]\nkind = \"mpiio\"\nargs = [\"-b\", \"1MiB\"]\ngroup_args = { mixed = [\"-i\", \"2\"] }\ntimeout = \"60s\"\n\
             [[benchmark]]\nkind = \"net\"\npeers = [\"node6\"]\n\
             [[benchmark]]\nkind = \"partdiff\"\nranks = 1\n\
             [[benchmark]]\nname = \"own\"\nkind = \"mpiio\"\nargs = [\"--timeout\", \"5s\"]\n\
             [[benchmark]]\nname = \"all-pairs\"\nkind = \"net\"\n",
        )
        .unwrap();
        crate::campaign::plan::load(&path, &[], None, Path::new("/bin/pvbench")).unwrap()
    }

    fn slot(benchmark: usize, group: usize) -> Slot {
        Slot { benchmark, group, rep: 1 }
    }

    fn lines(hosts: &[(&str, u32)]) -> Vec<(String, u32)> {
        hosts.iter().map(|(h, n)| (h.to_string(), *n)).collect()
    }

    #[test]
    fn the_hosts_of_a_run() {
        let p = plan();
        assert_eq!(hosts_and_ranks(&p, &slot(0, 0)), (lines(&[("node7", 2)]), 2));
        // Slots in hostfile order: a host again after another is a line again.
        assert_eq!(hosts_and_ranks(&p, &slot(0, 1)), (lines(&[("a", 1), ("b", 1), ("a", 1)]), 3));
        // net: the peers first, then each host of the group once, one rank each.
        assert_eq!(hosts_and_ranks(&p, &slot(1, 0)), (lines(&[("node6", 1), ("node7", 1)]), 2));
        assert_eq!(hosts_and_ranks(&p, &slot(1, 1)), (lines(&[("node6", 1), ("a", 1), ("b", 1)]), 3));
        assert_eq!(hosts_and_ranks(&p, &slot(2, 0)).1, 1, "the benchmark's ranks");
        // net without peers: the group's slots as they are.
        assert_eq!(hosts_and_ranks(&p, &slot(4, 0)), (lines(&[("node7", 2)]), 2));
    }

    #[test]
    fn the_launch_command_of_a_run() {
        let p = plan();
        let (hostfile, result) = (Path::new("/r/hostfiles/x"), Path::new("/r/mpiio/mixed/rep-01.json"));
        assert_eq!(
            launch_words(&p, &slot(0, 1), hostfile, result).join(" "),
            "mpiexec -f /r/hostfiles/x -hosts a,b,a -N 2 -n 3 /bin/pvbench mpiio -b 1MiB -i 2 --timeout 50s \
             --label mixed --json /r/mpiio/mixed/rep-01.json"
        );
        let partdiff = launch_words(&p, &slot(2, 0), hostfile, result);
        assert!(!partdiff.contains(&"--timeout".to_string()), "partdiff has no --timeout: {partdiff:?}");
        let net = launch_words(&p, &slot(1, 0), hostfile, result).join(" ");
        assert!(net.contains(" net --timeout 1790s --label dom0 "), "{net}");
        let own = launch_words(&p, &slot(3, 0), hostfile, result);
        assert_eq!(own.iter().filter(|w| *w == "--timeout").count(), 1, "the plan's own: {own:?}");
    }

    fn log() -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("log")).unwrap();
        (dir, file)
    }

    #[test]
    fn a_command_ends_by_itself_or_at_its_limit() {
        let (_dir, log) = log();
        let sh = |script: &str| {
            let mut c = Command::new("sh");
            c.args(["-c", script]);
            c
        };
        assert_eq!(run_logged(sh("sleep 0.3"), &log, Duration::from_secs(10)).unwrap(), Ended::Exited(0));
        assert_eq!(
            run_logged(sh("kill -TERM $$"), &log, Duration::from_secs(10)).unwrap(),
            Ended::Exited(143)
        );
        let started = Instant::now();
        assert_eq!(run_logged(sh("sleep 30"), &log, Duration::from_millis(200)).unwrap(), Ended::TimedOut);
        // ~0.25 s; the KILL would come after KILL_AFTER (5 s).
        assert!(started.elapsed() < Duration::from_millis(4500), "SIGTERM ends a sleep at once");
    }

    /// SIGTERM first, and the time to act on it: a launcher that cleans up is not killed mid-way.
    #[test]
    fn a_stopped_command_gets_time_to_clean_up() {
        let (dir, log) = log();
        let done = dir.path().join("cleaned");
        let mut command = Command::new("bash");
        command
            .args(["-c", &format!("trap 'sleep 1; touch {}; exit 3' TERM; sleep 30 & wait", done.display())]);
        let started = Instant::now();
        assert_eq!(run_logged(command, &log, Duration::from_millis(200)).unwrap(), Ended::TimedOut);
        assert!(done.exists(), "the TERM handler ran to its end");
        // ~1.2 s; not waiting for the handler's `sleep 30` child, however busy the machine.
        assert!(started.elapsed() < KILL_AFTER + Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
