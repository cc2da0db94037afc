//! The plan file (TOML): client groups, benchmarks, repetitions, order, and the guest/host
//! pairs whose overhead is the campaign's answer. Read once, checked, and turned into a
//! [`Plan`] in which every name resolves and every `{var}` is filled in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::layout;
use crate::error::UsageError;

mod file;
mod group;
mod vars;

use file::BenchmarkFile;
pub use file::{Family, Order, OverheadPair, PlanFile, Reps};
use vars::{LAUNCH_FIELDS, Vars, fill};

/// The plan, checked: names resolve, hosts are read, variables are filled in.
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: PlanFile,
    pub source: PathBuf,
    /// The plan file's text, as read.
    pub text: String,
    pub workdir: PathBuf,
    pub vars: Vars,
    pub groups: Vec<Group>,
    pub benchmarks: Vec<Benchmark>,
    /// Benchmarks whose `only_if` failed: name and command.
    pub left_out: Vec<(String, String)>,
}

impl Plan {
    /// `--launcher`: one launcher for every benchmark (the plan's {vars} filled in).
    pub fn launch_every_benchmark_with(&mut self, template: &str) -> Result<(), UsageError> {
        let launcher =
            fill(template, &self.vars, LAUNCH_FIELDS).map_err(|e| UsageError(format!("--launcher {e}")))?;
        for bench in &mut self.benchmarks {
            bench.launcher = launcher.clone();
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// One entry per rank slot, in hostfile order.
    pub slots: Vec<String>,
    pub ranks: u32,
    pub env: BTreeMap<String, String>,
}

impl Group {
    /// The distinct hosts, in order.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for h in &self.slots {
            if !hosts.contains(h) {
                hosts.push(h.clone());
            }
        }
        hosts
    }
}

#[derive(Debug, Clone)]
pub struct Benchmark {
    pub name: String,
    pub family: Family,
    pub title: String,
    pub args: Vec<String>,
    pub group_args: BTreeMap<String, Vec<String>>,
    /// Indices into [`Plan::groups`].
    pub groups: Vec<usize>,
    pub ranks: Option<u32>,
    pub peers: Vec<String>,
    pub reset: Option<String>,
    pub check: Option<String>,
    pub stop: Option<String>,
    pub timeout: Duration,
    pub pvbench: PathBuf,
    pub launcher: String,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// The longest name: a directory's, and part of a file's name with another.
const MAX_NAME: usize = 100;

/// What reading the parts of a plan needs: where it is and its variables.
struct Reader<'a> {
    source: &'a Path,
    workdir: PathBuf,
    vars: Vars,
}

impl Reader<'_> {
    /// An error about the plan, named by its path.
    fn usage(&self, what: impl std::fmt::Display) -> UsageError {
        UsageError(format!("{}: {what}", self.source.display()))
    }

    /// `text` with the plan's variables filled in, `keep` names left as they are.
    fn fill(&self, text: &str, keep: &[&str]) -> Result<String, UsageError> {
        fill(text, &self.vars, keep).map_err(|e| self.usage(e))
    }

    fn fill_all(&self, items: &[String]) -> Result<Vec<String>, UsageError> {
        items.iter().map(|a| self.fill(a, &[])).collect()
    }
}

/// A name used in paths: letters, digits, `.`, `_`, `-`, not too long.
fn check_name(reader: &Reader, what: &str, name: &str) -> Result<(), UsageError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        return Err(reader.usage(format!("{what} {name:?}: use letters, digits, . _ - only")));
    }
    if name.len() > MAX_NAME {
        return Err(reader.usage(format!("{what} {name:?}: longer than {MAX_NAME} characters")));
    }
    Ok(())
}

/// A name not given before, also not in another case: the results directory may be on a file
/// system that ignores case, where `PVFS2/` and `pvfs2/` are one directory.
fn check_new_name<'a>(
    reader: &Reader,
    what: &str,
    name: &str,
    before: impl IntoIterator<Item = &'a str>,
) -> Result<(), UsageError> {
    match before.into_iter().find(|o| o.eq_ignore_ascii_case(name)) {
        Some(o) if o == name => {
            Err(reader.usage(format!("{what} {name:?} is named twice (give each a name)")))
        }
        Some(o) => Err(reader.usage(format!(
            "{what}s {o:?} and {name:?} differ only in case (one directory where case is ignored)"
        ))),
        None => Ok(()),
    }
}

/// Reads and checks the plan at `path`; `sets` are `name=value` overrides of its `[vars]`.
pub fn load(
    path: &Path,
    sets: &[String],
    reps: Option<u32>,
    default_pvbench: &Path,
) -> Result<Plan, UsageError> {
    let text = crate::input::read_text(path, crate::input::PLAN).map_err(|e| UsageError(e.to_string()))?;
    resolve(&text, path, sets, reps, default_pvbench, &holds)
}

/// A shell command's success, as `only_if` asks it.
pub type Condition<'a> = &'a dyn Fn(&Path, &str) -> bool;

/// Checks the plan `text` (read from `path`) and resolves it; `holds` decides each `only_if`
/// (the fuzz target gives one that runs nothing).
pub fn resolve(
    text: &str,
    path: &Path,
    sets: &[String],
    reps: Option<u32>,
    default_pvbench: &Path,
    holds: Condition,
) -> Result<Plan, UsageError> {
    let usage = |what: String| UsageError(format!("{}: {what}", path.display()));
    let mut file = file::parse(text).map_err(usage)?;
    let vars = vars::with_sets(&file.vars, sets)?;
    vars::check_all(&vars).map_err(usage)?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let workdir = match &file.workdir {
        Some(dir) => base.join(fill(&dir.to_string_lossy(), &vars, &[]).map_err(usage)?),
        None => base.to_path_buf(),
    };
    let workdir =
        std::fs::canonicalize(&workdir).map_err(|e| usage(format!("workdir {}: {e}", workdir.display())))?;
    let reader = Reader { source: path, workdir, vars };
    file.name = reader.fill(&file.name, &[])?;
    if let Some(reps) = reps {
        file.reps = Reps::Fixed(reps);
    }
    check_reps(&reader, &file)?;
    let mut groups: Vec<Group> = Vec::new();
    for g in &file.groups {
        let group = group::read(&reader, g)?;
        check_new_name(&reader, "group", &group.name, groups.iter().map(|o| o.name.as_str()))?;
        groups.push(group);
    }
    if groups.is_empty() {
        return Err(reader.usage("no [[group]]"));
    }
    let mut benchmarks: Vec<Benchmark> = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    for b in &file.benchmarks {
        let name = b.name.clone().unwrap_or_else(|| b.kind.name().to_string());
        check_name(&reader, "benchmark", &name)?;
        if let Some(taken) = layout::reserved(&name) {
            return Err(reader.usage(format!(
                "benchmark {name:?}: the campaign writes its own {taken} in the results directory: give another name"
            )));
        }
        let before =
            benchmarks.iter().map(|o| o.name.as_str()).chain(left_out.iter().map(|(o, _)| o.as_str()));
        check_new_name(&reader, "benchmark", &name, before)?;
        if let Some(condition) = &b.only_if {
            let condition = reader.fill(condition, &[])?;
            if !holds(&reader.workdir, &condition) {
                left_out.push((name, condition));
                continue;
            }
        }
        benchmarks.push(benchmark(&reader, &file, &groups, b, name, default_pvbench)?);
    }
    if benchmarks.is_empty() {
        let why = if left_out.is_empty() { String::new() } else { " (every one's only_if failed)".into() };
        return Err(reader.usage(format!("no [[benchmark]]{why}")));
    }
    for pair in &file.overheads {
        group_index(&reader, &groups, &pair.guest, "overhead guest")?;
        group_index(&reader, &groups, &pair.host, "overhead host")?;
        if pair.guest == pair.host {
            return Err(reader.usage(format!("overhead: {:?} against itself", pair.guest)));
        }
    }
    if let Some(limit) = file.max_steal_percent
        && !(0.0..=100.0).contains(&limit)
    {
        return Err(reader.usage(format!("max_steal_percent {limit}: give a share from 0 to 100")));
    }
    let Reader { workdir, vars, .. } = reader;
    Ok(Plan {
        file,
        source: path.to_path_buf(),
        text: text.to_string(),
        workdir,
        vars,
        groups,
        benchmarks,
        left_out,
    })
}

/// The index of the group `name`, or an error naming the groups there are.
fn group_index(reader: &Reader, groups: &[Group], name: &str, what: &str) -> Result<usize, UsageError> {
    groups.iter().position(|g| g.name == name).ok_or_else(|| {
        let known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        reader.usage(format!("{what}: no group {name:?} (groups: {})", known.join(", ")))
    })
}

/// One `[[benchmark]]`, every string filled in.
fn benchmark(
    reader: &Reader,
    file: &PlanFile,
    groups: &[Group],
    b: &BenchmarkFile,
    name: String,
    default_pvbench: &Path,
) -> Result<Benchmark, UsageError> {
    let what = format!("benchmark {name}");
    let members = match &b.groups {
        Some(names) => {
            names.iter().map(|n| group_index(reader, groups, n, &what)).collect::<Result<Vec<_>, _>>()?
        }
        None => (0..groups.len()).collect(),
    };
    if members.is_empty() {
        return Err(reader.usage(format!("{what}: runs from no group")));
    }
    for group in b.group_args.keys() {
        group_index(reader, groups, group, &format!("{what}: group_args"))?;
    }
    if !b.peers.is_empty() && b.kind != Family::Net {
        return Err(reader.usage(format!("{what}: peers are for kind = \"net\"")));
    }
    for reserved in ["--json", "--label", "-l"] {
        if b.args.iter().chain(b.group_args.values().flatten()).any(|a| a == reserved) {
            return Err(reader.usage(format!("{what}: args may not hold {reserved} (the campaign gives it)")));
        }
    }
    match b.ranks {
        Some(0) => return Err(reader.usage(format!("{what}: ranks = 0: give at least 1"))),
        Some(ranks) => {
            crate::bounds::count(&format!("{what}: ranks"), ranks, crate::bounds::MAX_RANKS)
                .map_err(|e| reader.usage(e))?;
        }
        None => {}
    }
    let timeout = match &b.timeout {
        Some(t) => timeout(reader, &what, &reader.fill(t, &[])?)?,
        None => DEFAULT_TIMEOUT,
    };
    let pvbench = match b.pvbench.as_ref().or(file.pvbench.as_ref()) {
        Some(p) => reader.workdir.join(reader.fill(p, &[])?),
        None => default_pvbench.to_path_buf(),
    };
    let fill_command = |c: &Option<String>| c.as_deref().map(|c| reader.fill(c, &[])).transpose();
    Ok(Benchmark {
        title: reader.fill(b.title.as_deref().unwrap_or(&name), &[])?,
        family: b.kind,
        args: reader.fill_all(&b.args)?,
        group_args: b
            .group_args
            .iter()
            .map(|(g, a)| Ok((g.clone(), reader.fill_all(a)?)))
            .collect::<Result<_, UsageError>>()?,
        groups: members,
        ranks: b.ranks,
        peers: reader.fill_all(&b.peers)?,
        reset: fill_command(&b.reset)?,
        check: fill_command(&b.check)?,
        stop: fill_command(&b.stop)?,
        timeout,
        pvbench,
        launcher: reader.fill(b.launcher.as_ref().unwrap_or(&file.launcher), LAUNCH_FIELDS)?,
        name,
    })
}

/// A run's time limit: a duration above zero, within the bound of every duration.
fn timeout(reader: &Reader, what: &str, text: &str) -> Result<Duration, UsageError> {
    let limit = humantime::parse_duration(text).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
        reader.usage(format!("{what}: timeout {text:?} is not a duration (\"90s\", \"10m\")"))
    })?;
    crate::bounds::duration(&format!("{what}: timeout {text:?}"), limit).map_err(|e| reader.usage(e))
}

/// Whether a shell command succeeds, run from `workdir` with its output dropped.
fn holds(workdir: &Path, command: &str) -> bool {
    use std::process::Stdio;
    std::process::Command::new("bash")
        .args(["-c", command])
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn check_reps(reader: &Reader, file: &PlanFile) -> Result<(), UsageError> {
    crate::bounds::count("reps", file.reps.max(), crate::bounds::MAX_REPS).map_err(|e| reader.usage(e))?;
    match file.reps {
        Reps::Fixed(0) => Err(reader.usage("reps = 0: give at least 1")),
        Reps::UntilCi { min, max, until_ci } => {
            if min < 2 || max < min {
                Err(reader.usage(format!(
                    "reps: min {min}, max {max}: give 2 <= min <= max (an interval needs 2 runs)"
                )))
            } else if !(until_ci > 0.0 && until_ci < 1.0) {
                Err(reader.usage(format!(
                    "reps: until_ci {until_ci}: give a share of the mean, e.g. 0.05 for ±5 %"
                )))
            } else if file.order == Order::Blocked {
                Err(reader.usage("order = \"blocked\" needs a fixed reps (until_ci decides per round)"))
            } else {
                Ok(())
            }
        }
        Reps::Fixed(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Result<Plan, UsageError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        std::fs::write(&path, text).unwrap();
        load(&path, &[], None, Path::new("/usr/bin/pvbench"))
    }

    const SMALL: &str = r#"
        name = "t"
        [vars]
        size = "1MiB"
        [[group]]
        name = "host"
        hosts = ["node7:2"]
        [[group]]
        name = "guest"
        hosts = ["vm3"]
        [[benchmark]]
        kind = "mpiio"
        args = ["-b", "{size}"]
        [[overhead]]
        guest = "guest"
        host = "host"
    "#;

    #[test]
    fn a_small_plan_resolves() {
        let p = plan(SMALL).unwrap();
        assert_eq!(p.groups[0].slots, ["node7", "node7"]);
        assert_eq!(p.groups[0].ranks, 2);
        assert_eq!(p.groups[1].ranks, 1);
        assert_eq!(p.benchmarks[0].name, "mpiio");
        assert_eq!(p.benchmarks[0].args, ["-b", "1MiB"]);
        assert_eq!(p.benchmarks[0].groups, [0, 1]);
        assert_eq!(p.benchmarks[0].launcher, "mpiexec -f {hostfile} -n {ranks}");
        assert_eq!(p.file.reps, Reps::Fixed(5));
    }

    #[test]
    fn mistakes_are_named() {
        for (change, needle) in [
            (("kind = \"mpiio\"", "kind = \"mpio\""), "unknown variant `mpio`"),
            (("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nrank = 2"), "unknown field `rank`"),
            (("guest = \"guest\"", "guest = \"gust\""), "no group \"gust\""),
            (("{size}", "{sise}"), "no variable {sise}"),
            (("name = \"guest\"", "name = \"host\""), "named twice"),
            (("hosts = [\"vm3\"]", "hosts = [\"vm3:0\"]"), "slots after ':'"),
            (("hosts = [\"vm3\"]", "hosts = [\"vm3:4294967295\"]"), "4294967295 slots: more than 1000000"),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3:999999\", \"vm4:2\"]"),
                "1000001 slots: more than 1000000",
            ),
            (("hosts = [\"vm3\"]", "hosts = [\"vm 3\"]"), "\"vm 3\" is not a host name"),
            (("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nranks = 1000001"), "ranks 1000001: more than 1000000"),
            (("kind = \"mpiio\"", "kind = \"mpiio\"\nranks = 0"), "ranks = 0: give at least 1"),
            (("kind = \"mpiio\"", "kind = \"mpiio\"\nranks = 1000001"), "ranks 1000001: more than 1000000"),
            (("name = \"t\"", "name = \"t\"\nreps = 10001"), "reps 10001: more than 10000"),
            (("args = [", "timeout = \"31days\"\nargs = ["), "more than the 30 days"),
            (("name = \"t\"", "name = \"t\"\nreps = { min = 1, max = 3, until_ci = 0.05 }"), "2 <= min"),
            (("args = [", "timeout = \"soon\"\nargs = ["), "not a duration"),
            (("args = [", "args = [\"--json\", "), "may not hold --json"),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nranks = 0"),
                "group guest: ranks = 0: give at least 1",
            ),
            // Class 7: a plan that check accepts runs.
            (
                ("name = \"t\"", "name = \"t\"\nreps = { min = 2, max = 5, until_ci = 0.05, typo = 1 }"),
                "line 3: unknown field `typo`, expected one of `min`, `max`, `until_ci`",
            ),
            (("name = \"t\"", "name = \"t\"\nreps = \"5\""), "expected a count (reps = 5) or { min = 3"),
            (("name = \"t\"", "name = \"t\"\nreps = -1"), "invalid value: integer `-1`, expected a count"),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nenv = { A = \"x\\u0000y\" }"),
                "group[1].env.A: holds a NUL character",
            ),
            (("args = [", "args = [\"-x\", \"a\\u0000\", "), "benchmark[0].args[1]: holds a NUL character"),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nenv = { \"A\\u0000\" = \"1\" }"),
                "group[1].env.A\\0: holds a NUL",
            ),
            (("name = \"t\"", "name = \"t\"\nworkdir = \".\\u0000\""), "workdir: holds a NUL character"),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nenv = { \"A=B\" = \"1\" }"),
                "env name \"A=B\": give a variable name",
            ),
            (
                ("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nenv = { \"\" = \"1\" }"),
                "env name \"\": give a variable name",
            ),
            (
                ("size = \"1MiB\"", "size = \"{other}\"\nother = \"{size}\""),
                "[vars] other: the variables {other} → {size} → {other} form a cycle",
            ),
            (("size = \"1MiB\"", "size = \"{base}/x\""), "[vars] size: no variable {base} (in {size})"),
            // Class 6: names that become paths cannot collide or shadow.
            (
                ("kind = \"mpiio\"", "kind = \"mpiio\"\nname = \"overhead.json\""),
                "benchmark \"overhead.json\": the campaign writes its own overhead.json in the results directory",
            ),
            (("kind = \"mpiio\"", "kind = \"mpiio\"\nname = \"Summary\""), "writes its own summary in"),
            (("kind = \"mpiio\"", "kind = \"mpiio\"\nname = \"hostfiles\""), "writes its own hostfiles in"),
            (("name = \"guest\"", "name = \"Host\""), "groups \"host\" and \"Host\" differ only in case"),
            (("name = \"guest\"", "name = \"a+b\""), "group \"a+b\": use letters, digits"),
            (("name = \"guest\"", &format!("name = \"{}\"", "g".repeat(101))), "longer than 100 characters"),
        ] {
            let text = SMALL.replacen(change.0, change.1, 1);
            let error = plan(&text).unwrap_err().0;
            assert!(error.contains(needle), "{change:?}: {error}");
        }
    }

    #[test]
    fn reps_is_a_count_or_a_table() {
        let fixed = plan(&SMALL.replacen("name = \"t\"", "name = \"t\"\nreps = 3", 1)).unwrap();
        assert_eq!(fixed.file.reps, Reps::Fixed(3));
        let table = "name = \"t\"\nreps = { min = 2, max = 5, until_ci = 0.05 }";
        let until = plan(&SMALL.replacen("name = \"t\"", table, 1)).unwrap();
        assert_eq!(until.file.reps, Reps::UntilCi { min: 2, max: 5, until_ci: 0.05 });
    }

    /// Every string that can hold `{var}` has it filled in, variables within variables too.
    #[test]
    fn variables_fill_every_string() {
        let text = SMALL
            .replacen("name = \"t\"", "name = \"t {size}\"\nworkdir = \"{dir}\"", 1)
            .replacen(
                "size = \"1MiB\"",
                "size = \"1MiB\"\ndir = \".\"\nbase = \"/s\"\nscratch = \"{base}/x\"\nlimit = \"90s\"",
                1,
            )
            .replacen("args = [", "timeout = \"{limit}\"\nargs = [\"-f\", \"{scratch}/testfile\", ", 1)
            .replacen("hosts = [\"vm3\"]", "hosts = [\"vm3\"]\nenv = { DIR = \"{scratch}\" }", 1);
        let p = plan(&text).unwrap();
        assert_eq!(p.file.name, "t 1MiB");
        assert_eq!(p.benchmarks[0].args, ["-f", "/s/x/testfile", "-b", "1MiB"]);
        assert_eq!(p.benchmarks[0].timeout, Duration::from_secs(90));
        assert_eq!(p.groups[1].env["DIR"], "/s/x");
        let sets = ["base=/t".to_string()];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        std::fs::write(&path, &text).unwrap();
        let set = load(&path, &sets, None, Path::new("/usr/bin/pvbench")).unwrap();
        assert_eq!(set.benchmarks[0].args[1], "/t/x/testfile", "--set reaches variables that use it");
    }

    #[test]
    fn only_if_keeps_a_benchmark_when_its_command_succeeds() {
        let text =
            SMALL.replacen("kind = \"mpiio\"", "kind = \"mpiio\"\nonly_if = \"test {size} = 1MiB\"", 1);
        assert_eq!(plan(&text).unwrap().benchmarks.len(), 1);
        let two = format!("{}\n[[benchmark]]\nkind = \"partdiff\"\nonly_if = \"false\"\n", text);
        let p = plan(&two).unwrap();
        assert_eq!(p.benchmarks.len(), 1);
        assert_eq!(p.left_out, [("partdiff".to_string(), "false".to_string())]);
        let none = text.replacen("test {size} = 1MiB", "test {size} = 2MiB", 1);
        assert!(plan(&none).unwrap_err().0.contains("every one's only_if failed"));
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let error = plan(&SMALL.replacen("[[benchmark]]", "[[benchmark]", 1)).unwrap_err().0;
        assert!(error.contains("line 11: unclosed array table"), "{error}");
    }

    #[test]
    fn one_launcher_for_every_benchmark() {
        let mut p = plan(
            "name = \"t\"\nlauncher = \"mpiexec -n {ranks}\"\n[vars]\nmpi = \"pmi2\"\n\
                             [[group]]\nname = \"g\"\nhosts = [\"a\"]\n\
                             [[benchmark]]\nkind = \"net\"\n\
                             [[benchmark]]\nkind = \"fs\"\nlauncher = \"/opt/mpiexec -n {ranks}\"\n",
        )
        .unwrap();
        p.launch_every_benchmark_with("srun --mpi={mpi} -N {nodes} -w {hosts} -n {ranks}").unwrap();
        for bench in &p.benchmarks {
            assert_eq!(bench.launcher, "srun --mpi=pmi2 -N {nodes} -w {hosts} -n {ranks}");
        }
        let unknown = p.launch_every_benchmark_with("srun {nodez}").unwrap_err().0;
        assert!(unknown.starts_with("--launcher ") && unknown.contains("no variable {nodez}"), "{unknown}");
    }
}
