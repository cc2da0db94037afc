//! The plan file (TOML): client groups, benchmarks, repetitions, order, and the guest/host
//! pairs whose overhead is the campaign's answer. Read once, checked, and turned into a
//! [`Plan`] in which every name resolves and every `{var}` is filled in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::UsageError;

mod file;

use file::GroupFile;
pub use file::{Family, Order, OverheadPair, PlanFile, Reps};

/// The plan, checked: names resolve, hosts are read, variables are filled in.
#[derive(Debug, Clone)]
pub struct Plan {
    pub file: PlanFile,
    pub source: PathBuf,
    /// The plan file's text, as read.
    pub text: String,
    pub workdir: PathBuf,
    pub vars: BTreeMap<String, String>,
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

fn usage(source: &Path, what: impl std::fmt::Display) -> UsageError {
    UsageError(format!("{}: {what}", source.display()))
}

/// A name used in paths: letters, digits, `.`, `_`, `-`.
fn check_name(source: &Path, what: &str, name: &str) -> Result<(), UsageError> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok { Ok(()) } else { Err(usage(source, format!("{what} {name:?}: use letters, digits, . _ - only"))) }
}

/// `{name}` in `text` replaced by the variable's value; `keep` names are left for later.
pub fn fill(text: &str, vars: &BTreeMap<String, String>, keep: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{text:?}: a '{{' without '}}'"));
        };
        let name = &after[..close];
        if keep.contains(&name) {
            out.push_str(&rest[open..open + close + 2]);
        } else {
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    return Err(format!(
                        "{text:?}: no variable {{{name}}} (give it in [vars] or --set {name}=...)"
                    ));
                }
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// What a launcher template is filled in with per run.
pub const LAUNCH_FIELDS: &[&str] = &["hostfile", "hosts", "nodes", "ranks"];

/// Reads and checks the plan at `path`; `sets` are `name=value` overrides of its `[vars]`.
pub fn load(
    path: &Path,
    sets: &[String],
    reps: Option<u32>,
    default_pvbench: &Path,
) -> Result<Plan, UsageError> {
    let text = crate::input::read_text(path, crate::input::PLAN).map_err(|e| UsageError(e.to_string()))?;
    let mut file: PlanFile = toml::from_str(&text).map_err(|e| {
        let message = e.message().trim_end().to_string();
        let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
        match line {
            Some(line) => usage(path, format!("line {line}: {message}")),
            None => usage(path, message),
        }
    })?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let workdir = base.join(file.workdir.clone().unwrap_or_default());
    let workdir = std::fs::canonicalize(&workdir)
        .map_err(|e| usage(path, format!("workdir {}: {e}", workdir.display())))?;
    let mut vars = file.vars.clone();
    for set in sets {
        let (name, value) =
            set.split_once('=').ok_or_else(|| UsageError(format!("--set {set:?}: give NAME=VALUE")))?;
        if !vars.contains_key(name) {
            let known: Vec<&str> = vars.keys().map(String::as_str).collect();
            return Err(UsageError(format!(
                "--set {name}: the plan has no such variable (its [vars]: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
        vars.insert(name.to_string(), value.to_string());
    }
    let fill_here = |text: &str, keep: &[&str]| fill(text, &vars, keep).map_err(|e| usage(path, e));
    if let Some(reps) = reps {
        file.reps = Reps::Fixed(reps);
    }
    check_reps(path, &file)?;
    let groups =
        file.groups.iter().map(|g| group(path, &workdir, g, &fill_here)).collect::<Result<Vec<_>, _>>()?;
    if groups.is_empty() {
        return Err(usage(path, "no [[group]]"));
    }
    for (i, g) in groups.iter().enumerate() {
        if groups[..i].iter().any(|o| o.name == g.name) {
            return Err(usage(path, format!("group {:?} is named twice", g.name)));
        }
    }
    let index_of = |name: &str, what: &str| {
        groups.iter().position(|g| g.name == name).ok_or_else(|| {
            let known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            usage(path, format!("{what}: no group {name:?} (groups: {})", known.join(", ")))
        })
    };
    let mut benchmarks: Vec<Benchmark> = Vec::new();
    let mut left_out: Vec<(String, String)> = Vec::new();
    for b in &file.benchmarks {
        let name = b.name.clone().unwrap_or_else(|| b.kind.name().to_string());
        check_name(path, "benchmark", &name)?;
        if benchmarks.iter().any(|o| o.name == name) || left_out.iter().any(|(o, _)| *o == name) {
            return Err(usage(path, format!("benchmark {name:?} is named twice (give each a name)")));
        }
        if let Some(condition) = &b.only_if {
            let condition = fill_here(condition, &[])?;
            if !holds(&workdir, &condition) {
                left_out.push((name, condition));
                continue;
            }
        }
        let what = format!("benchmark {name}");
        let members = match &b.groups {
            Some(names) => names.iter().map(|n| index_of(n, &what)).collect::<Result<Vec<_>, _>>()?,
            None => (0..groups.len()).collect(),
        };
        if members.is_empty() {
            return Err(usage(path, format!("{what}: runs from no group")));
        }
        for group in b.group_args.keys() {
            index_of(group, &format!("{what}: group_args"))?;
        }
        if !b.peers.is_empty() && b.kind != Family::Net {
            return Err(usage(path, format!("{what}: peers are for kind = \"net\"")));
        }
        for reserved in ["--json", "--label", "-l"] {
            if b.args.iter().chain(b.group_args.values().flatten()).any(|a| a == reserved) {
                return Err(usage(
                    path,
                    format!("{what}: args may not hold {reserved} (the campaign gives it)"),
                ));
            }
        }
        match b.ranks {
            Some(0) => return Err(usage(path, format!("{what}: ranks = 0: give at least 1"))),
            Some(ranks) => {
                crate::bounds::count(&format!("{what}: ranks"), ranks, crate::bounds::MAX_RANKS)
                    .map_err(|e| usage(path, e))?;
            }
            None => {}
        }
        let timeout = match &b.timeout {
            Some(t) => humantime::parse_duration(t)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    usage(path, format!("{what}: timeout {t:?} is not a duration (\"90s\", \"10m\")"))
                })
                .and_then(|d| {
                    crate::bounds::duration(&format!("{what}: timeout {t:?}"), d).map_err(|e| usage(path, e))
                })?,
            None => DEFAULT_TIMEOUT,
        };
        let pvbench = match b.pvbench.as_ref().or(file.pvbench.as_ref()) {
            Some(p) => workdir.join(fill_here(p, &[])?),
            None => default_pvbench.to_path_buf(),
        };
        let fill_all =
            |items: &[String]| items.iter().map(|a| fill_here(a, &[])).collect::<Result<Vec<_>, _>>();
        benchmarks.push(Benchmark {
            title: fill_here(b.title.as_deref().unwrap_or(&name), &[])?,
            family: b.kind,
            args: fill_all(&b.args)?,
            group_args: b
                .group_args
                .iter()
                .map(|(g, a)| Ok((g.clone(), fill_all(a)?)))
                .collect::<Result<_, UsageError>>()?,
            groups: members,
            ranks: b.ranks,
            peers: fill_all(&b.peers)?,
            reset: b.reset.as_deref().map(|c| fill_here(c, &[])).transpose()?,
            check: b.check.as_deref().map(|c| fill_here(c, &[])).transpose()?,
            stop: b.stop.as_deref().map(|c| fill_here(c, &[])).transpose()?,
            timeout,
            pvbench,
            launcher: fill_here(b.launcher.as_ref().unwrap_or(&file.launcher), LAUNCH_FIELDS)?,
            name,
        });
    }
    if benchmarks.is_empty() {
        let why = if left_out.is_empty() { String::new() } else { " (every one's only_if failed)".into() };
        return Err(usage(path, format!("no [[benchmark]]{why}")));
    }
    for pair in &file.overheads {
        index_of(&pair.guest, "overhead guest")?;
        index_of(&pair.host, "overhead host")?;
        if pair.guest == pair.host {
            return Err(usage(path, format!("overhead: {:?} against itself", pair.guest)));
        }
    }
    if let Some(limit) = file.max_steal_percent
        && !(0.0..=100.0).contains(&limit)
    {
        return Err(usage(path, format!("max_steal_percent {limit}: give a share from 0 to 100")));
    }
    Ok(Plan { file, source: path.to_path_buf(), text, workdir, vars, groups, benchmarks, left_out })
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

fn check_reps(path: &Path, file: &PlanFile) -> Result<(), UsageError> {
    crate::bounds::count("reps", file.reps.max(), crate::bounds::MAX_REPS).map_err(|e| usage(path, e))?;
    match file.reps {
        Reps::Fixed(0) => Err(usage(path, "reps = 0: give at least 1")),
        Reps::UntilCi { min, max, until_ci } => {
            if min < 2 || max < min {
                Err(usage(
                    path,
                    format!("reps: min {min}, max {max}: give 2 <= min <= max (an interval needs 2 runs)"),
                ))
            } else if !(until_ci > 0.0 && until_ci < 1.0) {
                Err(usage(
                    path,
                    format!("reps: until_ci {until_ci}: give a share of the mean, e.g. 0.05 for ±5 %"),
                ))
            } else if file.order == Order::Blocked {
                Err(usage(path, "order = \"blocked\" needs a fixed reps (until_ci decides per round)"))
            } else {
                Ok(())
            }
        }
        Reps::Fixed(_) => Ok(()),
    }
}

fn group(
    path: &Path,
    workdir: &Path,
    g: &GroupFile,
    fill_here: &impl Fn(&str, &[&str]) -> Result<String, UsageError>,
) -> Result<Group, UsageError> {
    check_name(path, "group", &g.name)?;
    let what = format!("group {}", g.name);
    let entries: Vec<String> = match (&g.hostfile, g.hosts.is_empty()) {
        (Some(_), false) => return Err(usage(path, format!("{what}: give hosts or hostfile, not both"))),
        (None, true) => return Err(usage(path, format!("{what}: give hosts or hostfile"))),
        (None, false) => g.hosts.iter().map(|h| fill_here(h, &[])).collect::<Result<_, _>>()?,
        (Some(file), true) => {
            let file = workdir.join(fill_here(&file.to_string_lossy(), &[])?);
            let text = crate::input::read_text(&file, crate::input::HOSTFILE)
                .map_err(|e| usage(path, format!("{what}: hostfile {e}")))?;
            text.lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
                .collect()
        }
    };
    let mut slots = Vec::new();
    for entry in &entries {
        let (host, count) = match entry.split_once(':') {
            Some((host, n)) => {
                let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    usage(path, format!("{what}: {entry:?}: slots after ':' must be a positive number"))
                })?;
                (host, n)
            }
            None => (entry.as_str(), 1),
        };
        if host.is_empty() {
            return Err(usage(path, format!("{what}: an empty host name")));
        }
        // What a launcher and the resolver take as one host: no quotes, spaces or brackets.
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(usage(
                path,
                format!("{what}: {host:?} is not a host name (letters, digits, '.', '_', '-')"),
            ));
        }
        let total = slots.len() as u64 + u64::from(count);
        if total > u64::from(crate::bounds::MAX_RANKS) {
            return Err(usage(
                path,
                format!("{what}: {total} slots: more than {}, the most it may be", crate::bounds::MAX_RANKS),
            ));
        }
        slots.extend(std::iter::repeat_n(host.to_string(), count as usize));
    }
    if slots.is_empty() {
        return Err(usage(path, format!("{what}: its hostfile names no host")));
    }
    let ranks = g.ranks.unwrap_or(slots.len() as u32);
    crate::bounds::count(&format!("{what}: ranks"), ranks, crate::bounds::MAX_RANKS)
        .map_err(|e| usage(path, e))?;
    if ranks == 0 {
        return Err(usage(path, format!("{what}: ranks = 0")));
    }
    let env =
        g.env.iter().map(|(k, v)| Ok((k.clone(), fill_here(v, &[])?))).collect::<Result<_, UsageError>>()?;
    Ok(Group { name: g.name.clone(), slots, ranks, env })
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
        ] {
            let text = SMALL.replacen(change.0, change.1, 1);
            let error = plan(&text).unwrap_err().0;
            assert!(error.contains(needle), "{change:?}: {error}");
        }
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

    #[test]
    fn fill_keeps_launch_fields_and_refuses_unknown_names() {
        let vars = BTreeMap::from([("a".to_string(), "x".to_string())]);
        assert_eq!(fill("{a} -f {hostfile}", &vars, LAUNCH_FIELDS).unwrap(), "x -f {hostfile}");
        assert!(fill("{b}", &vars, &[]).unwrap_err().contains("no variable {b}"));
        assert!(fill("{a", &vars, &[]).is_err());
    }
}
