//! `pvbench import`: other tools' outputs as result documents of the kinds compare reads. One
//! parser per format (a table, like IOR's backends); this module reads the files, recognises
//! formats, wraps what a parser found in the common envelope and writes the documents. Runs
//! without MPI; every file is parsed before anything is written, and an interrupt (SIGINT,
//! SIGTERM) leaves no document of the run behind.

mod fio;
mod ior;
mod iozone;
mod iperf3;
mod mdtest;
mod mpi_io_test;
mod netperf;
mod text;
mod two_hosts;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{ImportArgs, ImportFormat};
use crate::console::note;
use crate::error::UsageError;
use crate::result::imported::{ImportedFrom, StatedEnvironment, StatedHost, StatedRole};
use crate::result::{self, Document, JsonTarget, Ranks};
use crate::{interrupt, report};
use text::ParseError;

/// One run found in a file, in the terms of a pvbench kind.
#[derive(Debug)]
pub struct Imported {
    /// `fs`, `net` or `mpiio`.
    pub kind: &'static str,
    pub parameters: Value,
    pub results: Value,
    pub ranks: Ranks,
    /// As the tool printed it, where it did.
    pub started_at: Option<String>,
    pub tool_version: Option<String>,
    pub tool_command_line: Option<String>,
    pub lines: [usize; 2],
    /// One line for the person importing: what was read.
    pub summary: String,
}

/// What the user said about the run that parsers need in the results themselves.
pub struct Stated {
    /// The host the tool ran on; `None` where the user did not say.
    pub host: Option<String>,
    /// netperf's receiving host, instead of its banner's.
    pub peer: Option<String>,
}

impl Stated {
    /// What the parsers' tests and the fuzz target state: the host, and no peer.
    pub fn host(host: Option<&str>) -> Self {
        Stated { host: host.map(str::to_string), peer: None }
    }

    /// The host's name in a result field that must hold one.
    pub fn host_or(&self, unstated: &str) -> String {
        self.host.clone().unwrap_or_else(|| unstated.to_string())
    }
}

type Parse = fn(&str, &Stated) -> Result<Vec<Imported>, ParseError>;
/// Why a text is this format, or `None`.
type Recognise = fn(&str) -> Option<&'static str>;

struct Format {
    format: ImportFormat,
    name: &'static str,
    parse: Parse,
    recognise: Recognise,
}

/// In the order `auto` tries them: the JSON formats first (their keys are unambiguous).
const FORMATS: &[Format] = &[
    Format { format: ImportFormat::Fio, name: "fio", parse: fio::parse, recognise: fio::recognise },
    Format { format: ImportFormat::Ior, name: "ior", parse: ior::parse, recognise: ior::recognise },
    Format {
        format: ImportFormat::Iperf3,
        name: "iperf3",
        parse: iperf3::parse,
        recognise: iperf3::recognise,
    },
    Format {
        format: ImportFormat::Iozone,
        name: "iozone",
        parse: iozone::parse,
        recognise: iozone::recognise,
    },
    Format {
        format: ImportFormat::Netperf,
        name: "netperf",
        parse: netperf::parse,
        recognise: netperf::recognise,
    },
    Format {
        format: ImportFormat::Mdtest,
        name: "mdtest",
        parse: mdtest::parse,
        recognise: mdtest::recognise,
    },
    Format {
        format: ImportFormat::MpiIoTest,
        name: "mpi-io-test",
        parse: mpi_io_test::parse,
        recognise: mpi_io_test::recognise,
    },
];

enum Target {
    Dir(PathBuf),
    Json(JsonTarget),
}

pub struct Options {
    format: ImportFormat,
    files: Vec<PathBuf>,
    target: Target,
    label: Option<String>,
    role: Option<StatedRole>,
    stated: Stated,
    /// Replace documents that exist (`--force`).
    force: bool,
}

impl Options {
    pub fn from_args(args: ImportArgs) -> Result<Self, UsageError> {
        let target = match (args.out, args.json) {
            (Some(dir), _) if dir.exists() && !dir.is_dir() => {
                return Err(UsageError(format!("--out {}: not a directory", dir.display())));
            }
            (Some(dir), _) => {
                result::outputs::check_dir(&result::outputs::Output::new("--out", &dir))?;
                Target::Dir(dir)
            }
            (None, Some(json)) => {
                let target = JsonTarget::parse(&json);
                target.check_writable(args.force)?;
                Target::Json(target)
            }
            (None, None) => {
                return Err(UsageError("say where the documents go: --out DIR or --json FILE".into()));
            }
        };
        for file in &args.files {
            if file.is_dir() {
                return Err(UsageError(format!("{}: a directory, not a tool's output", file.display())));
            }
            if !file.is_file() {
                return Err(UsageError(format!("{}: no such file", file.display())));
            }
        }
        Ok(Options {
            format: args.format,
            files: args.files,
            target,
            label: args.label,
            role: args.role.as_deref().map(stated_role).transpose()?,
            stated: Stated { host: args.host, peer: args.peer },
            force: args.force,
        })
    }
}

/// `--role` in `pvbench env`'s names: the study's words (dom0, domU, bare) or env's own.
fn stated_role(text: &str) -> Result<StatedRole, UsageError> {
    let (role, guest) = match text.to_ascii_lowercase().as_str() {
        "dom0" | "xen-dom0" => ("xen-dom0", false),
        "domu" | "xen-domu" => ("xen-domU", true),
        "bare" | "bare-metal" => ("bare-metal", false),
        "kvm" => ("kvm", true),
        "qemu" => ("qemu", true),
        "vmware" => ("vmware", true),
        "hyper-v" | "hyperv" => ("hyper-v", true),
        _ => {
            return Err(UsageError(format!(
                "--role {text:?}: not a role (dom0, domU, bare, kvm, qemu, vmware, hyper-v, or env's xen-dom0, xen-domU, bare-metal)"
            )));
        }
    };
    Ok(StatedRole { role: role.into(), guest })
}

/// A document ready to write, and where.
struct Output {
    name: Option<PathBuf>,
    summary: String,
    document: Document<Value, Value, StatedEnvironment>,
}

pub fn run(options: Options) -> anyhow::Result<()> {
    let command_line: Vec<String> = std::env::args().collect();
    let environment = stated_environment(&options);
    let mut outputs: Vec<Output> = Vec::new();
    for file in &options.files {
        check_memory(file)?;
        let bytes = crate::input::read(file, crate::input::IMPORT)?;
        // Every tool imported prints text: a NUL is refused at once, before a lossy copy of a
        // large binary file (three bytes for each invalid one) is made and searched.
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            anyhow::bail!(
                "{}: a NUL byte at offset {at}: binary, not the text output of a tool",
                file.display()
            );
        }
        let text = String::from_utf8_lossy(&bytes);
        let format = choose(options.format, file, &text)?;
        let runs = (format.parse)(&text, &options.stated).map_err(|e| located(file, e))?;
        interrupt::check()?;
        let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let count = runs.len();
        for (index, run) in runs.into_iter().enumerate() {
            let name = match &options.target {
                Target::Dir(dir) => Some(dir.join(output_name(file, index, count))),
                Target::Json(_) => None,
            };
            let imported_from = ImportedFrom {
                format: format.name.into(),
                file: file.display().to_string(),
                sha256: sha256.clone(),
                tool_version: run.tool_version,
                tool_command_line: run.tool_command_line,
                lines: Some(run.lines),
                part: (count > 1).then(|| format!("run {} of {count}", index + 1)),
            };
            let summary = format!(
                "{}:{}-{}: {}, {}",
                file.display(),
                run.lines[0],
                run.lines[1],
                format.name,
                run.summary
            );
            let document = Document {
                label: options.label.clone(),
                started_at: run.started_at,
                command_line: command_line.clone(),
                imported_from: Some(imported_from),
                ..Document::new(run.kind, run.ranks, run.parameters, environment.clone(), run.results)
            };
            check_figures(file, &run.lines, &document)?;
            outputs.push(Output { name, summary, document });
        }
    }
    write(&options.target, &outputs, options.force)
}

/// The rule of every document that enters (compare's load, a campaign's runs), applied before
/// an imported one is written: a figure that is no measurement, or none at all, refuses the
/// import naming the field, instead of a document that compare would leave out.
fn check_figures(
    file: &Path,
    lines: &[usize; 2],
    document: &Document<Value, Value, StatedEnvironment>,
) -> anyhow::Result<()> {
    use crate::compare::load::{self, Grouping, Reduced};
    let bytes = serde_json::to_vec(document)?;
    let why = match load::reduce(file, &bytes, &Grouping::Label)? {
        Reduced::Run(_) => return Ok(()),
        Reduced::NotAMeasurement(why) | Reduced::NoMetrics(why) => why,
        Reduced::OwnComparison => "not a run".into(),
    };
    anyhow::bail!("{}:{}-{}: {why}", file.display(), lines[0], lines[1])
}

/// Parsing holds the text, and for JSON its tree, several times the file's size: refused up
/// front when that would not fit, instead of failing halfway through a machine's memory.
fn check_memory(file: &Path) -> anyhow::Result<()> {
    const HELD_PER_BYTE: u64 = 8;
    let size = std::fs::metadata(file).with_context(|| format!("reading {}", file.display()))?.len();
    if let Some(available) = crate::env::memory_available_bytes()
        && size.saturating_mul(HELD_PER_BYTE) > available
    {
        anyhow::bail!(
            "{}: {} bytes need about {} bytes of memory to read, {} are available",
            file.display(),
            size,
            size.saturating_mul(HELD_PER_BYTE),
            available
        );
    }
    Ok(())
}

/// The format to read `file` as: the one given, or the one its content shows.
/// A file's text recognised and parsed as the `format`-th format of `auto`'s order (modulo
/// their count), short of writing anything: how many runs it holds, or the parse error. What
/// the fuzz target runs; a panic here is a bug.
pub fn parse_text(format: usize, text: &str) -> Result<usize, String> {
    let format = &FORMATS[format % FORMATS.len()];
    let _ = (format.recognise)(text);
    let runs = (format.parse)(text, &Stated::host(Some("fuzz"))).map_err(|e| e.message)?;
    for run in &runs {
        serde_json::to_vec(&run.results).map_err(|e| e.to_string())?;
    }
    Ok(runs.len())
}

fn choose(format: ImportFormat, file: &Path, text: &str) -> anyhow::Result<&'static Format> {
    if format != ImportFormat::Auto {
        return Ok(FORMATS.iter().find(|f| f.format == format).expect("every format has a parser"));
    }
    for candidate in FORMATS {
        if let Some(why) = (candidate.recognise)(text) {
            note!("pvbench: {}: read as {} ({why})", file.display(), candidate.name);
            return Ok(candidate);
        }
    }
    let names: Vec<&str> = FORMATS.iter().map(|f| f.name).collect();
    anyhow::bail!("{}: not an output pvbench can import (tried {})", file.display(), names.join(", "))
}

fn located(file: &Path, error: ParseError) -> anyhow::Error {
    match error.line {
        Some(line) => anyhow::anyhow!("{}:{line}: {}", file.display(), error.message),
        None => anyhow::anyhow!("{}: {}", file.display(), error.message),
    }
}

/// `run.txt` -> `run.json`; one of several runs -> `run-01.json`.
fn output_name(file: &Path, index: usize, count: usize) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    if count == 1 {
        format!("{stem}.json")
    } else {
        let width = count.to_string().len().max(2);
        format!("{stem}-{:0width$}.json", index + 1)
    }
}

fn stated_environment(options: &Options) -> StatedEnvironment {
    StatedEnvironment {
        source: "stated at import".into(),
        hosts: options
            .stated
            .host
            .iter()
            .map(|hostname| StatedHost { hostname: hostname.clone(), virtualization: options.role.clone() })
            .collect(),
    }
}

fn write(target: &Target, outputs: &[Output], force: bool) -> anyhow::Result<()> {
    match target {
        Target::Json(json) => {
            let [output] = outputs else {
                return Err(UsageError(format!(
                    "--json takes one document, these files hold {}: use --out DIR",
                    outputs.len()
                ))
                .into());
            };
            interrupt::check()?;
            json.write(&output.document)?;
            report::print_human(&format!("{}\n", output.summary), json.is_stdout())?;
        }
        Target::Dir(dir) => {
            let mut names: Vec<&PathBuf> = outputs.iter().filter_map(|o| o.name.as_ref()).collect();
            names.sort();
            if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(UsageError(format!(
                    "two inputs would both write {}: give files different names",
                    pair[0].display()
                ))
                .into());
            }
            let paths: Vec<PathBuf> = names.iter().map(|p| p.to_path_buf()).collect();
            result::outputs::check_new_files("--out", &paths, force)?;
            let created = !dir.exists();
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut lines = String::new();
            let mut written: Vec<&PathBuf> = Vec::new();
            for output in outputs {
                let name = output.name.as_ref().expect("a directory target names every output");
                let outcome = interrupt::check().map_err(anyhow::Error::from).and_then(|()| {
                    let mut text = serde_json::to_string_pretty(&output.document)?;
                    text.push('\n');
                    result::write_atomically(name, text.as_bytes())
                });
                if let Err(error) = outcome {
                    // A set cut short is not the files' import: the documents of this run go.
                    for path in written {
                        let _ = std::fs::remove_file(path);
                    }
                    if created {
                        let _ = std::fs::remove_dir(dir);
                    }
                    return Err(error);
                }
                written.push(name);
                lines.push_str(&format!("{} -> {}\n", output.summary, name.display()));
            }
            report::print_human(&lines, false)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pvbench --help` and `pvbench import --help` name every format there is a parser for.
    #[test]
    fn the_help_names_every_format() {
        use clap::CommandFactory;
        let mut cli = crate::cli::Cli::command();
        let top = cli.render_help().to_string().to_lowercase();
        let import = cli.find_subcommand_mut("import").unwrap().render_long_help().to_string().to_lowercase();
        let after_help =
            cli.find_subcommand("import").unwrap().get_after_help().unwrap().to_string().to_lowercase();
        for format in FORMATS {
            assert!(top.contains(format.name), "pvbench --help leaves {} out", format.name);
            assert!(import.contains(format.name), "pvbench import --help leaves {} out", format.name);
            assert!(after_help.contains(format.name), "import's kinds leave {} out", format.name);
        }
    }

    /// scripts/fuzz seeds the import target under first bytes 0..formats_seeded: every parser
    /// must have one of them (the target takes the byte modulo the number of parsers).
    #[test]
    fn the_fuzz_corpus_is_seeded_under_every_format() {
        let script = include_str!("../../scripts/fuzz");
        let seeded: usize = script
            .lines()
            .find_map(|l| l.strip_prefix("formats_seeded="))
            .and_then(|n| n.trim().parse().ok())
            .expect("scripts/fuzz sets formats_seeded=N");
        assert!(seeded >= FORMATS.len(), "scripts/fuzz seeds {seeded} formats of {}", FORMATS.len());
    }

    #[test]
    fn roles_in_the_studys_words_and_envs() {
        assert_eq!(stated_role("dom0").unwrap().role, "xen-dom0");
        assert!(!stated_role("dom0").unwrap().guest);
        let domu = stated_role("domU").unwrap();
        assert_eq!((domu.role.as_str(), domu.guest), ("xen-domU", true));
        for (given, role) in [
            ("bare", "bare-metal"),
            ("Xen-Dom0", "xen-dom0"),
            ("kvm", "kvm"),
            ("qemu", "qemu"),
            ("vmware", "vmware"),
            ("hyperv", "hyper-v"),
            ("hyper-v", "hyper-v"),
        ] {
            let stated = stated_role(given).unwrap();
            assert_eq!(stated.role, role);
            assert_eq!(stated.guest, role != "bare-metal" && role != "xen-dom0", "{given}");
        }
        assert!(stated_role("toaster").is_err());
    }

    #[test]
    fn output_names_number_several_runs() {
        assert_eq!(output_name(Path::new("a/run.txt"), 0, 1), "run.json");
        assert_eq!(output_name(Path::new("run.txt"), 1, 3), "run-02.json");
        assert_eq!(output_name(Path::new("run"), 99, 120), "run-100.json");
    }

    #[test]
    fn auto_recognises_every_format_by_its_own_sample() {
        for (sample, name) in [
            (netperf::tests::STUDY_RUN, "netperf"),
            (mpi_io_test::tests::TWO_RANKS, "mpi-io-test"),
            (iozone::tests::TABLE_AND_REPORT, "iozone"),
            (ior::tests::TWO_REPETITIONS, "ior"),
            (fio::tests::TWO_JOBS, "fio"),
        ] {
            let found: Vec<&str> =
                FORMATS.iter().filter(|f| (f.recognise)(sample).is_some()).map(|f| f.name).collect();
            assert_eq!(found, [name], "exactly one format recognises the {name} sample");
        }
    }
}
