//! What a campaign says at the end: the overhead sentence first, then each benchmark's table,
//! and in the results directory `overhead.json`, `summary/BENCHMARK/` (tables, charts), the
//! overhead charts and `report.html` (named in `layout`). Remade on every invocation from the
//! results there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use super::figures::{self, Measured, THIS_CAMPAIGN};
use super::layout;
use super::plan::{Family, Plan};
use super::schedule::Slot;
use crate::compare::load::{self, Grouping, Reduced};
use crate::console::note;
use crate::report;
use crate::result::campaign::{CAMPAIGN_SCHEMA_VERSION, HostState, Manifest, Overhead, OverheadDocument};
use crate::result::comparison::LeftOut;

/// The runs read so far: their figures, their files per benchmark, and the ones left out.
#[derive(Default)]
pub struct Collected {
    pub measured: Measured,
    files: BTreeMap<usize, Vec<PathBuf>>,
    left_out: Vec<LeftOut>,
    /// Every host's environment, as the first usable run of it recorded it.
    hosts: Vec<(String, Value)>,
    /// Run id → why its result was not counted.
    left_out_runs: BTreeMap<String, String>,
}

impl Collected {
    /// Reads a run's document: noisy runs are left out (unless `include_noisy`), the others'
    /// figures counted.
    pub fn absorb(
        &mut self,
        plan: &Plan,
        slot: &Slot,
        path: &Path,
        hosts: &mut Vec<HostState>,
        include_noisy: bool,
    ) -> anyhow::Result<()> {
        let bytes = crate::input::read(path, crate::input::DOCUMENT)?;
        let doc: Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{}: not JSON", path.display()))?;
        let id = slot.id(plan);
        if let Some(reason) = super::state::noise(&doc, &id, plan.file.max_steal_percent, hosts) {
            let file = path.display().to_string();
            if include_noisy {
                note!("campaign: warning: {id} is noisy ({reason}): counted (--include-noisy)");
            } else {
                note!("campaign: warning: {id} left out of the figures: {reason}");
                self.leave_out(slot, id, file, format!("noisy: {reason}"));
                return Ok(());
            }
        }
        for host in doc["environment"]["hosts"].as_array().into_iter().flatten() {
            let name = host["hostname"].as_str().unwrap_or("?");
            if !self.hosts.iter().any(|(h, _)| h == name) {
                self.hosts.push((name.to_string(), host.clone()));
            }
        }
        let run = match load::reduce(path, &bytes, &Grouping::Label)? {
            Reduced::Run(run) => run,
            Reduced::NotAMeasurement(reason) => {
                note!("campaign: warning: {id} left out of the figures: {reason}");
                self.leave_out(slot, id, path.display().to_string(), reason);
                return Ok(());
            }
            Reduced::NoMetrics(_) | Reduced::OwnComparison => {
                self.leave_out(slot, id, path.display().to_string(), "no figure in it".into());
                return Ok(());
            }
        };
        let bench = &plan.benchmarks[slot.benchmark];
        let values = figures::primaries(bench.family, &plan.groups[slot.group].hosts(), &bench.peers, &run);
        self.measured.add(slot.benchmark, slot.group, values);
        self.files.entry(slot.benchmark).or_default().push(path.to_path_buf());
        Ok(())
    }

    /// A run read and not counted: named in the figures (why a group has none), in the left-out
    /// list, and in the table of every run.
    fn leave_out(&mut self, slot: &Slot, id: String, file: String, reason: String) {
        self.measured.leave_out(slot.benchmark, slot.group, reason.clone());
        self.left_out_runs.insert(id, reason.clone());
        self.left_out.push(LeftOut { file, reason });
    }
}

/// A reference's figures, assigned to the plan's groups: a document labelled `2008 GROUP` (or
/// `2008 GROUP (…)`) is that group's; a net document (the study's matrix) is every group's,
/// read for the pairs between the group's hosts and the peers, the study's final setup only
/// (not its `before tuning` figures).
fn reference_measured(plan: &Plan, name: &str) -> anyhow::Result<Measured> {
    let mut measured = Measured::default();
    for (file, text) in crate::compare::reference_documents(name)? {
        let path = PathBuf::from(name).join(file);
        let Reduced::Run(run) = load::reduce(&path, text.as_bytes(), &Grouping::Label)? else { continue };
        let doc: Value = serde_json::from_str(text)?;
        let label = doc["label"].as_str().unwrap_or_default();
        for (b, bench) in plan.benchmarks.iter().enumerate() {
            if bench.family.name() != run.kind.name {
                continue;
            }
            for &g in &bench.groups {
                let group = &plan.groups[g];
                let own = if bench.family == Family::Net {
                    !label.contains("before")
                } else {
                    label
                        .strip_prefix("2008 ")
                        .and_then(|rest| rest.strip_prefix(group.name.as_str()))
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
                };
                let values = figures::primaries(bench.family, &group.hosts(), &bench.peers, &run);
                if own && !values.is_empty() {
                    measured.add(b, g, values);
                }
            }
        }
    }
    Ok(measured)
}

pub fn publish(
    plan: &Plan,
    results: &Path,
    manifest: &Manifest,
    collected: &Collected,
    references: &[String],
) -> anyhow::Result<()> {
    let overheads: Vec<Overhead> = plan
        .file
        .overheads
        .iter()
        .map(|pair| collected.measured.overhead(plan, pair, THIS_CAMPAIGN, true, &manifest.runs))
        .collect();
    let mut reference: Vec<Overhead> = Vec::new();
    for name in references {
        let measured = reference_measured(plan, name)?;
        reference
            .extend(plan.file.overheads.iter().map(|pair| measured.overhead(plan, pair, name, false, &[])));
    }
    let mut figures: Vec<(String, String)> = Vec::new();
    for o in overheads.iter().chain(&reference) {
        if let Some(svg) = report::compare::plot::overhead_chart(o)? {
            let reference = (o.source != THIS_CAMPAIGN).then_some(o.source.as_str());
            let name = layout::overhead_chart(&o.guest, &o.host, reference);
            crate::result::write_atomically(&results.join(&name), svg.as_bytes())?;
            figures.push((name, svg));
        }
    }
    let mut out = String::new();
    for o in overheads.iter().chain(&reference) {
        out.push_str(&report::campaign::sentence(o));
        out.push('\n');
    }
    let mut sections = Vec::new();
    let summary_dir = results.join(layout::SUMMARY);
    for (b, bench) in plan.benchmarks.iter().enumerate() {
        let Some(files) = collected.files.get(&b) else { continue };
        let baseline = plan
            .file
            .overheads
            .iter()
            .map(|p| p.host.as_str())
            .find(|host| bench.groups.iter().any(|&g| plan.groups[g].name == *host))
            .unwrap_or(&plan.groups[bench.groups[0]].name);
        let comparison = crate::compare::of_files(files, Some(baseline))?;
        out.push_str(&format!("\n== {} ({})\n", bench.name, bench.title));
        out.push_str(&report::compare::render(&comparison, report::compare::Format::Table, false)?);
        let dir = summary_dir.join(&bench.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, text) in report::compare::files(&comparison, true)? {
            crate::result::write_atomically(&dir.join(name), text.as_bytes())?;
        }
        let charts = report::compare::plot::draw_all(&comparison)?;
        for (name, svg) in &charts {
            crate::result::write_atomically(&dir.join(name), svg.as_bytes())?;
        }
        sections.push(report::html::Section {
            title: format!("{} — {}", bench.name, bench.title),
            comparison,
            charts,
        });
    }
    let document = OverheadDocument {
        schema_version: CAMPAIGN_SCHEMA_VERSION,
        kind: "campaign-overhead",
        campaign: plan.file.name.clone(),
        method: figures::INDEX_METHOD,
        pairs: overheads.clone(),
        reference: reference.clone(),
        left_out: collected.left_out.clone(),
    };
    let mut json = serde_json::to_string_pretty(&document)?;
    json.push('\n');
    crate::result::write_atomically(&results.join(layout::OVERHEAD), json.as_bytes())?;
    let hosts = collected
        .hosts
        .iter()
        .map(|(name, host)| {
            let text = serde_json::from_value::<crate::env::Host>(host.clone())
                .map(|h| report::env::host_text(&h))
                .unwrap_or_else(|e| format!("(not readable: {e})"));
            (name.clone(), text)
        })
        .collect();
    let page = report::html::Page {
        title: format!("pvbench campaign {}", plan.file.name),
        lead: overheads.iter().chain(&reference).map(report::campaign::sentence).collect(),
        overheads: overheads.iter().chain(&reference).cloned().collect(),
        figures,
        method: figures::INDEX_METHOD.into(),
        sections,
        left_out: collected.left_out.clone(),
        hosts,
        plan: Some((plan.source.display().to_string(), plan.text.clone())),
        provenance: vec![
            ("pvbench".into(), format!("{} {}", manifest.tool.name, manifest.tool.version)),
            ("results".into(), results.display().to_string()),
            ("started".into(), manifest.started_at.clone()),
            ("last run".into(), manifest.updated_at.clone()),
            ("status".into(), manifest.status.clone()),
            ("seed".into(), manifest.identity["seed"].to_string()),
            ("options".into(), manifest.options.as_ref().map(super::state::options_text).unwrap_or_default()),
        ],
        runs: manifest
            .runs
            .iter()
            .map(|r| {
                // A run that ended well but was not counted says so, and why.
                let left_out = collected.left_out_runs.get(&r.id).filter(|_| r.outcome == "ok");
                let (outcome, reason) = match left_out {
                    Some(why) => ("ok, left out".to_string(), why.clone()),
                    None => (r.outcome.clone(), r.reason.clone().unwrap_or_default()),
                };
                [
                    r.id.clone(),
                    r.attempt.to_string(),
                    r.started_at.clone(),
                    format!("{:.1}", r.seconds),
                    outcome,
                    reason,
                ]
            })
            .collect(),
    };
    crate::result::write_atomically(&results.join(layout::REPORT), report::html::page(&page).as_bytes())?;
    crate::console::print(&out)?;
    note!(
        "campaign: {} and {} written",
        results.join(layout::REPORT).display(),
        results.join(layout::OVERHEAD).display()
    );
    Ok(())
}
