//! `campaign check`: what in a plan cannot work (a missing pvbench or command, arguments its
//! benchmark refuses) is an error before anything runs; a host that does not resolve here is
//! a warning (a plan may be checked away from its cluster). Then the schedule.

use std::fmt::Write as _;
use std::path::Path;

use super::ArgsCheck;
use super::plan::{Benchmark, Plan, Reps};
use super::runner;
use super::schedule;
use crate::console::note;
use crate::error::UsageError;

/// Whether a program can be started: a path (relative to the plan's workdir) that is an
/// executable file, or a name found on PATH.
fn program_found(workdir: &Path, program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable =
        |p: &Path| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.contains('/') {
        return executable(&workdir.join(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| executable(&dir.join(program))))
}

/// Whether the first word of a shell command is something bash can run there.
fn shell_command_found(workdir: &Path, command: &str) -> bool {
    let Some(first) = command.split_whitespace().next() else { return false };
    std::process::Command::new("bash")
        .args(["-c", "command -v -- \"$1\" > /dev/null", "_", first])
        .current_dir(workdir)
        .status()
        .is_ok_and(|s| s.success())
}

/// Every problem of the plan, as one usage error listing them; warnings on stderr.
pub fn problems(plan: &Plan, args_check: ArgsCheck) -> Result<(), UsageError> {
    let mut problems: Vec<String> = Vec::new();
    for bench in &plan.benchmarks {
        let what = format!("benchmark {}", bench.name);
        if !program_found(&plan.workdir, &bench.pvbench.to_string_lossy()) {
            problems.push(format!("{what}: no pvbench at {}", bench.pvbench.display()));
        }
        let launcher = bench.launcher.split_whitespace().next().unwrap_or_default();
        if !program_found(&plan.workdir, launcher) {
            problems.push(format!("{what}: launcher {launcher:?} not found"));
        }
        for (name, command) in [("reset", &bench.reset), ("check", &bench.check), ("stop", &bench.stop)] {
            if let Some(command) = command
                && !shell_command_found(&plan.workdir, command)
            {
                problems.push(format!(
                    "{what}: {name} command {command:?} not found (from {})",
                    plan.workdir.display()
                ));
            }
        }
        for &g in &bench.groups {
            let group = &plan.groups[g].name;
            let mut args = bench.args.clone();
            args.extend(bench.group_args.get(group).into_iter().flatten().cloned());
            if let Err(e) = args_check(bench.family.name(), &args) {
                problems.push(format!("{what} from {group}: {e}"));
            }
        }
    }
    for warning in plan.benchmarks.iter().filter_map(|bench| hostless_launcher(plan, bench)) {
        note!("pvbench: warning: {warning}");
    }
    for warning in unresolved_hosts(plan, |host| {
        use std::net::ToSocketAddrs;
        (host, 0).to_socket_addrs().is_ok()
    }) {
        note!("pvbench: warning: {warning}");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(UsageError(format!("{}: {}", plan.source.display(), problems.join("; "))))
    }
}

/// A launcher without `{hostfile}` or `{hosts}` starts ranks where it likes (`mpiexec -n
/// {ranks}` on one machine is a plan that works): said, not refused.
fn hostless_launcher(plan: &Plan, bench: &Benchmark) -> Option<String> {
    if bench.launcher.contains("{hostfile}") || bench.launcher.contains("{hosts}") {
        return None;
    }
    let groups: Vec<&str> = bench.groups.iter().map(|&g| plan.groups[g].name.as_str()).collect();
    Some(format!(
        "benchmark {}: launcher {:?} has neither {{hostfile}} nor {{hosts}}: the hosts of {} will not reach it",
        bench.name,
        bench.launcher,
        groups.join(", ")
    ))
}

/// The groups' hosts and the benchmarks' peers that `resolves` does not resolve, one line each:
/// warned about, not refused (a plan may be checked away from its cluster).
fn unresolved_hosts(plan: &Plan, resolves: impl Fn(&str) -> bool) -> Vec<String> {
    let groups = plan
        .groups
        .iter()
        .flat_map(|g| g.hosts().into_iter().map(move |h| (format!("group {}", g.name), "host", h)));
    let peers = plan
        .benchmarks
        .iter()
        .flat_map(|b| b.peers.iter().map(move |p| (format!("benchmark {}", b.name), "peer", p.clone())));
    groups
        .chain(peers)
        .filter(|(_, _, host)| !resolves(host))
        .map(|(owner, what, host)| format!("{owner}: {what} {host:?} does not resolve here"))
        .collect()
}

fn reps_text(reps: &Reps) -> String {
    match reps {
        Reps::Fixed(n) => format!("{n} repetitions"),
        Reps::UntilCi { min, max, until_ci } => {
            format!(
                "{min} to {max} repetitions, until every 95 % interval is within ±{} % of its mean",
                until_ci * 100.0
            )
        }
    }
}

pub fn check(plan: &Plan, args_check: ArgsCheck) -> anyhow::Result<()> {
    problems(plan, args_check)?;
    let cells = schedule::cells(plan);
    let mut out = String::new();
    writeln!(
        out,
        "campaign {:?} ({}): {} groups, {} benchmarks, {} runs per round, {}, order {}",
        plan.file.name,
        plan.source.display(),
        plan.groups.len(),
        plan.benchmarks.len(),
        cells.len(),
        reps_text(&plan.file.reps),
        format!("{:?}", plan.file.order).to_lowercase()
    )?;
    writeln!(out, "working directory {}", plan.workdir.display())?;
    if !plan.vars.is_empty() {
        let vars: Vec<String> = plan.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "vars {}", vars.join(" "))?;
    }
    for group in &plan.groups {
        let ranks = if group.ranks == 1 { "1 rank".to_string() } else { format!("{} ranks", group.ranks) };
        writeln!(out, "group {:<16} {} ({ranks})", group.name, group.slots.join(" "))?;
    }
    for bench in &plan.benchmarks {
        let groups: Vec<&str> = bench.groups.iter().map(|&g| plan.groups[g].name.as_str()).collect();
        writeln!(
            out,
            "benchmark {} ({}, {}) from {}",
            bench.name,
            bench.family.name(),
            bench.title,
            groups.join(", ")
        )?;
        for (name, command) in [("reset", &bench.reset), ("check", &bench.check), ("at end", &bench.stop)] {
            if let Some(command) = command {
                writeln!(out, "  {name:<6} {command}")?;
            }
        }
        writeln!(out, "  limit  {} per run", humantime::format_duration(bench.timeout))?;
    }
    for pair in &plan.file.overheads {
        writeln!(out, "overhead {} against {}", pair.guest, pair.host)?;
    }
    let first = match plan.file.order {
        super::plan::Order::Blocked => schedule::blocked(plan, plan.file.reps.min()),
        _ => schedule::round(plan, 1, plan.file.seed.unwrap_or(0)),
    };
    let seed_note = if plan.file.order == super::plan::Order::Random && plan.file.seed.is_none() {
        " (with seed 0 here: a run draws its seed and keeps it in the manifest)"
    } else {
        ""
    };
    writeln!(out, "first runs{seed_note}:")?;
    let results = Path::new("RESULTS");
    for slot in first.iter().take(cells.len()) {
        let files = runner::RunFiles::of(results, plan, slot);
        let hostfile = runner::hostfile(results, plan, slot);
        writeln!(
            out,
            "  {}: {}",
            slot.id(plan),
            runner::launch_words(plan, slot, &hostfile, &files.result).join(" ")
        )?;
    }
    crate::console::print(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_peers_that_do_not_resolve_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"t\"\n[[group]]\nname = \"a\"\nhosts = [\"known\", \"lost\"]\n\
             [[benchmark]]\nkind = \"net\"\npeers = [\"node6\", \"known\"]\n",
        )
        .unwrap();
        let plan = super::super::plan::load(&path, &[], None, Path::new("/bin/pvbench")).unwrap();
        assert_eq!(
            unresolved_hosts(&plan, |host| host == "known"),
            [
                "group a: host \"lost\" does not resolve here",
                "benchmark net: peer \"node6\" does not resolve here"
            ]
        );
    }

    #[test]
    fn a_launcher_that_leaves_the_hosts_out_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"t\"\nlauncher = \"mpiexec -n {ranks}\"\n\
             [[group]]\nname = \"a\"\nhosts = [\"x\"]\n[[group]]\nname = \"b\"\nhosts = [\"y\"]\n\
             [[benchmark]]\nkind = \"partdiff\"\n\
             [[benchmark]]\nkind = \"net\"\nlauncher = \"srun -w {hosts}\"\n\
             [[benchmark]]\nkind = \"fs\"\nlauncher = \"mpiexec -f {hostfile}\"\n",
        )
        .unwrap();
        let plan = super::super::plan::load(&path, &[], None, Path::new("/bin/pvbench")).unwrap();
        let warnings: Vec<String> =
            plan.benchmarks.iter().filter_map(|b| hostless_launcher(&plan, b)).collect();
        assert_eq!(
            warnings,
            ["benchmark partdiff: launcher \"mpiexec -n {ranks}\" has neither {hostfile} nor {hosts}: \
              the hosts of a, b will not reach it"]
        );
    }
}
