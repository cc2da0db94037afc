//! `pvbench compare`: result documents grouped and set side by side. Runs without MPI; reads
//! documents, builds one comparison model, and hands it to `report::compare` for every format.

pub mod load;
pub mod metrics;
pub mod model;
mod path;
mod reference;
pub mod stats;

use std::path::PathBuf;

use anyhow::Context;

use crate::cli::{CompareArgs, CompareFormat};
use crate::console::note;
use crate::error::UsageError;
use crate::report;
use crate::report::compare::Format;
use crate::result::comparison::{Comparison, LeftOut};
use crate::result::outputs;
use load::{Grouping, Reduced};
use path::FieldPath;

/// Above this many files, loading shows a progress bar (on a terminal).
const PROGRESS_ABOVE_FILES: usize = 300;

pub struct Options {
    inputs: Vec<String>,
    /// Shipped documents: (reference name, file name, content).
    references: Vec<(String, &'static [(&'static str, &'static str)])>,
    grouping: Grouping,
    split_on_params: bool,
    skip_bad: bool,
    baseline: Option<String>,
    formats: Vec<Format>,
    output: Option<PathBuf>,
    runs: bool,
    plot: Option<PathBuf>,
    html: Option<PathBuf>,
    force: bool,
}

/// The rendering's format for the flag's value.
fn format(flag: CompareFormat) -> Format {
    match flag {
        CompareFormat::Table => Format::Table,
        CompareFormat::Markdown => Format::Markdown,
        CompareFormat::Csv => Format::Csv,
        CompareFormat::Json => Format::Json,
    }
}

impl Options {
    pub fn from_args(args: CompareArgs) -> Result<Self, UsageError> {
        let grouping = if args.by.is_empty() {
            Grouping::Label
        } else {
            Grouping::Fields(args.by.iter().map(|f| FieldPath::parse(f)).collect::<Result<_, _>>()?)
        };
        for (flag, dir) in [("--output", &args.output), ("--plot", &args.plot)] {
            if let Some(dir) = dir.as_ref() {
                if dir.exists() && !dir.is_dir() {
                    return Err(UsageError(format!("{flag} {}: not a directory", dir.display())));
                }
                outputs::check_dir(&outputs::Output::new(flag, dir))?;
            }
        }
        let mut formats: Vec<Format> = Vec::new();
        for format in args.format.into_iter().map(format) {
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        if let Some(html) = &args.html {
            outputs::check_file(&outputs::Output::new("--html", html), args.force)?;
        }
        let references = args
            .reference
            .iter()
            .map(|name| Ok((name.clone(), reference::documents(name)?)))
            .collect::<Result<_, UsageError>>()?;
        Ok(Options {
            inputs: args.inputs,
            references,
            grouping,
            split_on_params: args.split_on_params,
            skip_bad: args.skip_bad,
            baseline: args.baseline,
            formats,
            output: args.output,
            runs: args.runs,
            plot: args.plot,
            html: args.html,
            force: args.force,
        })
    }
}

/// A `--by` field that no document has (a typo) would put every run into `(missing)`: a usage
/// error naming the nearest path the first document does have.
fn check_fields_exist(fields: &[FieldPath], runs: &[load::Run], options: &Options) -> Result<(), UsageError> {
    for (i, field) in fields.iter().enumerate() {
        if runs.iter().any(|r| r.key[i] != path::display(None)) {
            continue;
        }
        let first = &runs[0];
        let text = crate::input::read_text(&first.path, crate::input::DOCUMENT).ok().or_else(|| {
            options.references.iter().find_map(|(name, documents)| {
                documents
                    .iter()
                    .find(|(file, _)| PathBuf::from(name).join(file) == first.path)
                    .map(|(_, text)| text.to_string())
            })
        });
        let nearest = text
            .and_then(|t| serde_json::from_str(&t).ok())
            .and_then(|doc| path::closest(field.as_str(), &doc))
            .map(|p| format!("; the nearest field of {} is {p}", first.path.display()))
            .unwrap_or_default();
        return Err(UsageError(format!("--by {}: no document has this field{nearest}", field.as_str())));
    }
    Ok(())
}

/// The runs the inputs and references hold, each once, and what was left out and why.
#[derive(Default)]
struct Loaded {
    runs: Vec<load::Run>,
    /// Each run's identity, and the index of the run that has it: a lookup, not a scan of
    /// every run so far, for ten thousand documents.
    seen: std::collections::HashMap<[u8; 32], usize>,
    left_out: Vec<LeftOut>,
    skipped_bad: usize,
    without_metrics: usize,
}

impl Loaded {
    fn add(&mut self, path: &std::path::Path, reduced: Reduced) {
        let file = path.display().to_string();
        match reduced {
            Reduced::Run(run) => {
                for note in &run.notes {
                    self.left_out.push(LeftOut { file: file.clone(), reason: format!("a value: {note}") });
                }
                if let Some(first) = self.runs.iter().find(|r| r.identity == run.identity) {
                    let reason = format!(
                        "the same run as {}: kind, start, hosts and results agree",
                        first.path.display()
                    );
                    note!("pvbench: warning: {file} is {reason}: counted once");
                    self.left_out.push(LeftOut { file, reason });
                } else {
                    self.seen.insert(run.identity, self.runs.len());
                    self.runs.push(run);
                }
            }
            Reduced::NoMetrics(reason) => {
                self.without_metrics += 1;
                self.left_out.push(LeftOut { file, reason });
            }
            Reduced::NotAMeasurement(reason) => {
                note!("pvbench: warning: left out {file}: {reason}");
                self.left_out.push(LeftOut { file, reason });
            }
            Reduced::OwnComparison => {
                note!("pvbench: left out {file}: a comparison output of pvbench compare");
                self.left_out.push(LeftOut { file, reason: "a comparison output of pvbench compare".into() });
            }
        }
    }
}

fn load_all(options: &Options) -> anyhow::Result<Loaded> {
    let expanded = load::expand(&options.inputs)?;
    let files = expanded.files;
    let progress = if files.len() > PROGRESS_ABOVE_FILES {
        indicatif::ProgressBar::new(files.len() as u64) // draws only when stderr is a terminal
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut loaded = Loaded::default();
    for link in &expanded.dangling {
        note!("pvbench: warning: left out {}: a symbolic link to nothing", link.display());
        loaded
            .left_out
            .push(LeftOut { file: link.display().to_string(), reason: "a symbolic link to nothing".into() });
    }
    for file in &files {
        match load::read(file, &options.grouping) {
            Ok(reduced) => progress.suspend(|| loaded.add(file, reduced)),
            Err(bad) if options.skip_bad => {
                progress.suspend(|| note!("pvbench: warning: {bad}"));
                loaded
                    .left_out
                    .push(LeftOut { file: file.display().to_string(), reason: format!("bad: {bad}") });
                loaded.skipped_bad += 1;
            }
            Err(load::BadDocument::Unreadable(refused)) => return Err(refused.into()),
            Err(bad) => return Err(bad.into()),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    for (name, documents) in &options.references {
        for (file, text) in *documents {
            let path = PathBuf::from(name).join(file);
            let reduced = load::reduce(&path, text.as_bytes(), &options.grouping)?;
            loaded.add(&path, reduced);
        }
    }
    if loaded.skipped_bad > 0 {
        note!("pvbench: {} of {} documents skipped (--skip-bad)", loaded.skipped_bad, files.len());
    }
    // (A reference always holds runs: only the files can leave nothing.)
    if loaded.runs.is_empty() {
        return Err(UsageError(format!(
            "nothing to compare: {} documents, none with metrics ({} without, {} bad)",
            files.len(),
            loaded.without_metrics,
            loaded.skipped_bad
        ))
        .into());
    }
    Ok(loaded)
}

/// The comparison of `files` grouped by label, for a caller that has its documents (a
/// campaign's runs).
pub fn of_files(files: &[PathBuf], baseline: Option<&str>) -> anyhow::Result<Comparison> {
    let mut loaded = Loaded::default();
    for file in files {
        loaded.add(file, load::read(file, &Grouping::Label)?);
    }
    let plan = model::Plan { grouped_by: Grouping::Label.names(), baseline, split_on_params: false };
    model::build(loaded.runs, &plan, 0, loaded.without_metrics, loaded.left_out)
}

/// The documents of a reference shipped with pvbench (`study-2008`): file name and text.
pub fn reference_documents(name: &str) -> Result<&'static [(&'static str, &'static str)], UsageError> {
    reference::documents(name)
}

pub fn run(options: Options) -> anyhow::Result<()> {
    let Loaded { runs, left_out, skipped_bad, without_metrics, .. } = load_all(&options)?;
    if let Grouping::Fields(fields) = &options.grouping {
        check_fields_exist(fields, &runs, &options)?;
    }
    let plan = model::Plan {
        grouped_by: options.grouping.names(),
        baseline: options.baseline.as_deref(),
        split_on_params: options.split_on_params,
    };
    let comparison = model::build(runs, &plan, skipped_bad, without_metrics, left_out)?;

    publish(&options, &comparison)
}

/// Prints the formats and writes `--output` and `--plot`. Everything is rendered, and the files
/// it makes checked, before anything is printed or written: a refusal leaves no part behind.
fn publish(options: &Options, comparison: &Comparison) -> anyhow::Result<()> {
    let mut out = String::new();
    for format in &options.formats {
        out.push_str(&report::compare::render(comparison, *format, options.runs)?);
    }
    let mut files: Vec<(&'static str, PathBuf, String)> = Vec::new();
    if let Some(dir) = &options.output {
        for (name, text) in report::compare::files(comparison, options.runs)? {
            files.push(("--output", dir.join(name), text));
        }
    }
    if let Some(dir) = &options.plot {
        for (name, svg) in report::compare::plot::draw_all(comparison)? {
            files.push(("--plot", dir.join(name), svg));
        }
    }
    if let Some(path) = &options.html {
        let charts = report::compare::plot::draw_all(comparison)?;
        files.push((
            "--html",
            path.clone(),
            report::html::comparison_page(comparison, charts, &options.inputs),
        ));
    }
    for flag in ["--output", "--plot", "--html"] {
        let paths: Vec<PathBuf> = files.iter().filter(|f| f.0 == flag).map(|f| f.1.clone()).collect();
        outputs::check_new_files(flag, &paths, options.force)?;
    }
    for dir in options.output.iter().chain(&options.plot) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    for (_, path, text) in &files {
        crate::result::write_atomically(path, text.as_bytes())?;
    }
    if let Some(dir) = &options.plot {
        let charts = files.iter().filter(|f| f.0 == "--plot").count();
        note!("pvbench: {charts} charts in {}", dir.display());
    }
    // After the files: a reader of the table that goes away (`| head`) loses none of them.
    crate::console::print(&out)
}
