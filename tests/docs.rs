//! The commands the README and docs/*.md show, run, so that the docs cannot drift from pvbench.
//!
//! The convention: in a ```sh block, every command (a line, with `\` continuing it) whose
//! program is `pvbench`, or `mpiexec -n N … pvbench` on this machine, is run by bash in a new
//! directory that holds the repository's inputs (tests/, testbed/, examples/, hostfiles/, …)
//! and the documents the commands name (results/, vm3.json, node7-*.txt, run.log),
//! each file's commands in order in one directory. It must exit 0, or N where its comment says
//! `exit N` (and `exit N: TEXT` puts TEXT on standard error). A command that needs what a test
//! machine has not got (a cluster's hosts, root, a real PVFS2 server, a disk at /partition) is
//! in [`NOT_RUN`], word for word, with the reason: a command changed or added in the docs is
//! run unless it is listed again. Other programs (scripts/, sudo, srun, sbatch, apt-get, cargo)
//! are not run: they need root, Slurm or a build. Every `--flag` of a shown pvbench command,
//! run or not, and of a plan's arguments in a ```toml block must be one that pvbench has.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::{pvbench, stderr, stdout};

/// Commands the docs show that do not run here: (file, command as shown, why).
const NOT_RUN: &[(&str, &str, &str)] = &[
    ("README.md", "mpiexec -n 2 pvbench mpiio -b 100MiB -i 5 -f pvfs2:/pvfs2/testfile", PVFS2),
    ("README.md", "mpiexec -hosts node6,node7,vm3 -n 3 pvbench net --duration 10", CLUSTER),
    ("README.md", "mpiexec -hosts node6,node7,vm3 -n 3 pvbench net --test rr,latency", CLUSTER),
    ("README.md", "pvbench fs --dir /partition --max-file 5g -i 0 -i 1 -i 2", PARTITION),
    ("README.md", "mpiexec -f hostfiles/domU pvbench env", CLUSTER),
    ("README.md", "pvbench campaign run examples/cluster.toml --results results/cluster", CLUSTER),
    ("README.md", "pvbench campaign run testbed/study.toml --results r --reps 5", TESTBED),
    (
        "README.md",
        "pvbench campaign run testbed/study.toml --results r --reps 3 --set meta_items=50",
        TESTBED,
    ),
    (
        "docs/campaign.md",
        "pvbench campaign run testbed/study.toml --results results/study --reference study-2008",
        TESTBED,
    ),
    (
        "docs/campaign.md",
        "pvbench campaign status results/study",
        "the campaign of the line before (the testbed)",
    ),
    ("docs/env.md", "mpiexec -f hostfiles/domU pvbench env --json env.json", CLUSTER),
    (
        "docs/fs.md",
        "pvbench fs --dir /partition --min-file 10m --max-file 5g --min-record 16k --max-record 10m -i 0 -i 1 -i 2,9,10",
        PARTITION,
    ),
    (
        "docs/fs.md",
        "mpiexec -f hostfiles/all -n 3 pvbench fs --dir /scratch --json fs.json --csv fs.csv",
        CLUSTER,
    ),
    ("docs/meta.md", "mpiexec -n 2 pvbench meta -d pvfs2:/pvfs2/meta -F -n 1000 --timeout 5m", PVFS2),
    ("docs/mpiio.md", "mpiexec -n 2 pvbench mpiio -b 100MiB -i 5 -f pvfs2:/pvfs2/testfile", PVFS2),
    (
        "docs/net.md",
        "mpiexec -f hostfiles/all -n 5 pvbench net --duration 10 --repeat 3 --json net.json",
        CLUSTER,
    ),
    (
        "docs/pvfs2.md",
        "pvbench campaign run examples/cluster.toml --results results/cluster --reference study-2008",
        CLUSTER,
    ),
    (
        "docs/pvfs2.md",
        "mpiexec -n 2 pvbench mpiio -b 100MiB -i 5 -f pvfs2:$HOME/pvfs2-stack/mnt/pvfs2/testfile",
        PVFS2,
    ),
    (
        "docs/pvfs2.md",
        "pvbench campaign run examples/cluster.toml --results results/local --set prefix=$HOME/pvfs2-stack",
        PVFS2,
    ),
];

const CLUSTER: &str = "a cluster's hosts";
const PVFS2: &str = "a real PVFS2 server";
const PARTITION: &str = "a disk at /partition, files up to 5 GiB";
const TESTBED: &str = "the testbed (root, namespaces, OrangeFS)";

/// A hang is a failure; every command gets this long (the slowest takes seconds).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and docs/*.md, as paths relative to the repository.
fn doc_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    files.sort();
    files.insert(0, "README.md".into());
    files
}

/// A command of a fenced block: its text (without the comment) and its comment.
struct Shown {
    command: String,
    comment: String,
}

/// The commands of the blocks whose info string is `info` in `text`, `\` continuations
/// joined.
fn blocks(text: &str, info: &[&str]) -> Vec<Shown> {
    let mut shown = Vec::new();
    let mut inside: Option<bool> = None;
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(fence) = line.strip_prefix("```") {
            inside = match inside {
                None => Some(info.contains(&fence.trim())),
                Some(_) => None,
            };
            continue;
        }
        if inside != Some(true) {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued);
            continue;
        }
        let whole = std::mem::take(&mut pending) + line;
        let (command, comment) = split_comment(&whole);
        if !command.is_empty() {
            shown.push(Shown { command: command.to_string(), comment: comment.to_string() });
        }
    }
    shown
}

/// A shell line's command and its `# comment` (a `#` after a blank, outside quotes).
fn split_comment(line: &str) -> (&str, &str) {
    let (mut single, mut double, mut after_blank) = (false, false, true);
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && after_blank => return (line[..i].trim(), line[i + 1..].trim()),
            _ => {}
        }
        after_blank = c.is_whitespace();
    }
    (line.trim(), "")
}

/// The command's words once blanks are collapsed: how [`NOT_RUN`] names it.
fn words(command: &str) -> String {
    command.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_pvbench(command: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    words.first() == Some(&"pvbench") || (words.first() == Some(&"mpiexec") && words.contains(&"pvbench"))
}

/// The exit code the comment promises (`exit 2`, `exit 2: TEXT`) and the text, else 0.
fn promised(comment: &str) -> (i32, Option<&str>) {
    let Some((_, rest)) = comment.split_once("exit ") else { return (0, None) };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let code = digits.parse().expect("`exit N` names a number");
    let text = rest[digits.len()..].strip_prefix(':').map(str::trim).filter(|t| !t.is_empty());
    (code, text)
}

/// The commands' inputs: the repository's (linked) and the documents they name (made by
/// pvbench itself).
fn make_inputs(dir: &Path) {
    for entry in ["tests", "testbed", "examples", "hostfiles", "scripts", "reference", "pvfs2-config"] {
        std::os::unix::fs::symlink(repository().join(entry), dir.join(entry)).unwrap();
    }
    for group in ["dom0-bridge", "domU"] {
        std::fs::create_dir_all(dir.join("results").join(group)).unwrap();
        for rep in 1..=3 {
            let json = format!("results/{group}/rep-{rep:02}.json");
            run_pvbench(dir, &["partdiff", "1", "2", "0", "2", "2", "50", "--label", group, "--json", &json]);
        }
    }
    // fs.md makes node7.json here and vm3.json on vm3, as its comment says.
    run_pvbench(dir, &["fs", "--dir", ".", "--max-file", "1m", "--label", "vm3", "--json", "vm3.json"]);
    let import = repository().join("tests/data/import");
    std::fs::copy(import.join("netperf-two-runs.txt"), dir.join("node7-to-node6.txt")).unwrap();
    std::fs::copy(import.join("iperf3-3.12-tcp.json"), dir.join("run.log")).unwrap();
}

fn run_pvbench(dir: &Path, args: &[&str]) {
    let out = assert_cmd::Command::new(pvbench())
        .args(args)
        .current_dir(dir)
        .timeout(COMMAND_TIMEOUT)
        .output()
        .unwrap();
    assert!(out.status.success(), "pvbench {args:?}: {}", stderr(&out));
}

/// `command` through bash in `dir`, this build's pvbench first on PATH.
fn run_shown(dir: &Path, command: &str) -> Output {
    let bin = Path::new(pvbench()).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let out = assert_cmd::Command::new("bash")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .timeout(COMMAND_TIMEOUT)
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{command}: did not end on its own: {}", stderr(&out));
    out
}

#[test]
fn every_shown_command_that_can_run_here_runs_as_the_docs_say() {
    let inputs = tempfile::tempdir().unwrap();
    make_inputs(inputs.path());
    let mut listed: BTreeSet<(String, String)> =
        NOT_RUN.iter().map(|(f, c, _)| (f.to_string(), words(c))).collect();
    let mut ran: BTreeSet<String> = BTreeSet::new();
    let mut failures = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(repository().join(&file)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", inputs.path().display()))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(copied.success());
        for Shown { command, comment } in blocks(&text, &["sh", "bash"]) {
            if !is_pvbench(&command) || listed.remove(&(file.clone(), words(&command))) {
                continue;
            }
            // The same command in two files (the study's partdiff) runs once.
            if !ran.insert(words(&command)) {
                continue;
            }
            let (code, text) = promised(&comment);
            eprintln!("{file}: {command}");
            let out = run_shown(dir.path(), &command);
            let said = text.is_none_or(|t| stderr(&out).contains(t));
            if out.status.code() != Some(code) || !said {
                failures.push(format!(
                    "{file}: `{command}` exited {:?}, the docs say {code}{}\nstdout: {}\nstderr: {}",
                    out.status.code(),
                    text.map(|t| format!(" with {t:?}")).unwrap_or_default(),
                    stdout(&out).lines().take(5).collect::<Vec<_>>().join("\n"),
                    stderr(&out)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(listed.is_empty(), "NOT_RUN names commands the docs no longer show: {listed:?}");
}

/// The long flags of `pvbench WORDS --help`.
fn flags_of(words: &[&str]) -> BTreeSet<String> {
    let out = assert_cmd::Command::new(pvbench()).args(words).arg("--help").output().unwrap();
    assert!(out.status.success(), "pvbench {words:?} --help");
    long_flags(&stdout(&out))
}

fn long_flags(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect()
}

/// The subcommand words of a pvbench command line (`campaign run`, `mpiio`).
fn subcommand(command: &str) -> Vec<&str> {
    let mut words = command.split_whitespace().skip_while(|w| *w != "pvbench").skip(1);
    let first = words.next().expect("a subcommand");
    let mut path = vec![first];
    if first == "campaign" {
        path.extend(words.next());
    }
    path
}

#[test]
fn every_flag_the_docs_show_exists() {
    let mut unknown = Vec::new();
    let mut every_flag = BTreeSet::new();
    for sub in ["mpiio", "partdiff", "env", "net", "fs"] {
        every_flag.extend(flags_of(&[sub]));
    }
    for file in doc_files() {
        let text = std::fs::read_to_string(repository().join(&file)).unwrap();
        for Shown { command, .. } in
            blocks(&text, &["sh", "bash"]).into_iter().filter(|s| is_pvbench(&s.command))
        {
            let path = subcommand(&command);
            let known = flags_of(&path);
            let after =
                command.split_once(&format!("pvbench {}", path.join(" "))).map_or("", |(_, rest)| rest);
            for flag in long_flags(after).into_iter().filter(|f| !known.contains(f)) {
                unknown.push(format!("{file}: {flag} in `{command}`"));
            }
        }
        // A plan's arguments (`args`, `group_args`) are flags of some benchmark.
        let plan_args = |s: &Shown| s.command.starts_with("args") || s.command.starts_with("group_args");
        for Shown { command, .. } in blocks(&text, &["toml"]).into_iter().filter(plan_args) {
            for flag in long_flags(&command).into_iter().filter(|f| !every_flag.contains(f)) {
                unknown.push(format!("{file}: {flag} in the plan line `{command}`"));
            }
        }
    }
    assert!(unknown.is_empty(), "flags pvbench does not have:\n{}", unknown.join("\n"));
}

#[test]
fn the_convention_reads_the_docs_as_a_shell_would() {
    let text = "```sh\npvbench a 'b # c' # d\nmpiexec -n 2 \\\n  pvbench e   # exit 2: f g\nscripts/x\n```\n\
                ```\npvbench not-a-shell-block\n```\n";
    let shown = blocks(text, &["sh"]);
    let commands: Vec<&str> = shown.iter().map(|s| s.command.as_str()).collect();
    assert_eq!(commands, ["pvbench a 'b # c'", "mpiexec -n 2   pvbench e", "scripts/x"]);
    assert_eq!(promised(&shown[0].comment), (0, None));
    assert_eq!(promised(&shown[1].comment), (2, Some("f g")));
    assert!(is_pvbench(commands[1]) && !is_pvbench(commands[2]));
    assert_eq!(subcommand("pvbench campaign run p.toml"), ["campaign", "run"]);
}

/// ROMIO strips the prefix `pvfs2:` and hands PVFS2 the rest (`pvfs2:/pvfs2/testfile`, as the
/// testbed's runs write it): the help and the docs write it that one way.
#[test]
fn the_pvfs2_prefix_is_written_one_way() {
    let help = assert_cmd::Command::new(pvbench()).args(["mpiio", "--help"]).output().unwrap();
    let mut texts = vec![("pvbench mpiio --help".to_string(), stdout(&help))];
    for file in doc_files() {
        texts.push((file.clone(), std::fs::read_to_string(repository().join(&file)).unwrap()));
    }
    for (name, text) in texts {
        assert!(text.contains("pvfs2:/") || !name.contains("mpiio"), "{name} shows no pvfs2: path");
        assert!(!text.contains("pvfs2://"), "{name} writes pvfs2://");
    }
}
