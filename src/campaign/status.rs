//! `campaign status`: where a campaign stands, from its manifest alone (no plan needed): every
//! (benchmark, group) of its identity with the runs done of those planned, the options its
//! report keeps, the last attempt and why it stopped.

use std::fmt::Write as _;
use std::path::Path;

use super::{layout, state};
use crate::error::UsageError;
use crate::result::campaign::{Manifest, PlannedRounds};

pub fn status(results: &Path) -> anyhow::Result<()> {
    let manifest = state::read_manifest(results)?.ok_or_else(|| {
        UsageError(format!("{}: no campaign here (no {})", results.display(), layout::MANIFEST))
    })?;
    crate::console::print(&text(&manifest, results)?)
}

fn text(manifest: &Manifest, results: &Path) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "campaign {} in {}", manifest.identity["name"].as_str().unwrap_or("?"), results.display())?;
    writeln!(out, "started {}, last run {}", manifest.started_at, manifest.updated_at)?;
    match &manifest.options {
        Some(options) => {
            writeln!(out, "options (kept from its first run): {}", state::options_text(options))?
        }
        None => writeln!(
            out,
            "options: not recorded (begun by an older pvbench; its next run keeps those given)"
        )?,
    }
    let planned = manifest.rounds.as_ref().map(|r| r.planned);
    if let Some(rounds) = &manifest.rounds {
        writeln!(out, "rounds: {}", rounds_text(rounds))?;
    }
    writeln!(out, "runs with a result, of those planned, per benchmark and group:")?;
    let cells = cells(manifest);
    let width = cells.iter().map(|(b, g)| b.len() + g.len() + 1).max().unwrap_or(0);
    let (mut done_all, mut planned_all) = (0, 0);
    for (benchmark, group) in &cells {
        let attempts: Vec<_> =
            manifest.runs.iter().filter(|r| &r.benchmark == benchmark && &r.group == group).collect();
        let mut done: Vec<u32> = attempts
            .iter()
            .filter(|r| r.outcome == "ok" && planned.is_none_or(|p| r.rep <= p))
            .map(|r| r.rep)
            .collect();
        done.sort_unstable();
        done.dedup();
        done_all += done.len();
        planned_all += planned.unwrap_or(0) as usize;
        let of = planned.map(|p| format!(" of {p}")).unwrap_or_default();
        let count = |outcome: &str| attempts.iter().filter(|r| r.outcome == outcome).count();
        let tried = match attempts.len() {
            0 => "no attempt yet".to_string(),
            n => format!(
                "{n} attempt{}: {} ok, {} failed, {} interrupted",
                if n == 1 { "" } else { "s" },
                count("ok"),
                count("failed"),
                count("interrupted")
            ),
        };
        let cell = format!("{benchmark} {group}");
        writeln!(out, "  {cell:<width$}  {}{of} ({tried})", done.len())?;
    }
    if planned.is_some() {
        writeln!(out, "  {:<width$}  {done_all} of {planned_all}", "all")?;
    }
    if let Some(last) = manifest.runs.last() {
        let why = last.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        writeln!(out, "last attempt: {} {}{why}", last.id, last.outcome)?;
    }
    let status = if !manifest.status.is_empty() {
        manifest.status.clone()
    } else {
        let done = match planned {
            Some(_) => format!("{done_all} of {planned_all} planned runs have a result"),
            None => format!("{done_all} runs have a result"),
        };
        format!(
            "not finished ({done}; running, or stopped: the same `pvbench campaign run PLAN --results {}` resumes it)",
            results.display()
        )
    };
    writeln!(out, "status: {status}")?;
    Ok(out)
}

/// `3 of 3–8 planned (until every figure's 95 % interval is within ±5 % of its mean)`, or `4`.
fn rounds_text(rounds: &PlannedRounds) -> String {
    match rounds.until_ci {
        Some(share) => format!(
            "{} of {}–{} planned (more until every figure's 95 % interval is within ±{} % of its mean)",
            rounds.planned,
            rounds.min,
            rounds.max,
            share * 100.0
        ),
        None => rounds.planned.to_string(),
    }
}

/// Every (benchmark, group) of the campaign's identity, in plan order.
fn cells(manifest: &Manifest) -> Vec<(String, String)> {
    let name = |v: &serde_json::Value| v.as_str().unwrap_or("?").to_string();
    let benchmarks = manifest.identity["benchmarks"].as_array().into_iter().flatten();
    benchmarks
        .flat_map(|b| {
            let groups = b["groups"].as_array().into_iter().flatten();
            groups.map(move |g| (name(&b["name"]), name(g)))
        })
        .collect()
}
