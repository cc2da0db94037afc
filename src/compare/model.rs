//! The comparison model: groups of runs and, per metric and group, the statistics and the
//! ratio to the baseline. Every export renders this one value.

use super::load::Run;

use super::stats;
use crate::error::UsageError;
use crate::result::comparison::{COMPARISON_SCHEMA_VERSION, Comparison, Group, LeftOut, Row, Summary};

/// How to build the model from runs.
pub struct Plan<'a> {
    pub grouped_by: Vec<String>,
    pub baseline: Option<&'a str>,
    pub split_on_params: bool,
}

pub fn build(
    runs: Vec<Run>,
    plan: &Plan,
    skipped_bad: usize,
    without_metrics: usize,
    left_out: Vec<LeftOut>,
) -> anyhow::Result<Comparison> {
    let documents = runs.len();
    let mut groups = split_by_parameters(group(runs), plan.split_on_params)?;
    // One name per group; a name shared by two kinds says the kind. The baseline may be given
    // by either name: it is then the baseline of each kind.
    let names: Vec<String> = groups.iter().map(|(name, _)| name.clone()).collect();
    let mut baselines: Vec<String> = Vec::new();
    for (name, runs) in &mut groups {
        let base = name.clone();
        if names.iter().filter(|n| **n == base).count() > 1 {
            *name = format!("{name} ({})", runs[0].kind.name);
        }
        if plan.baseline.is_some_and(|b| b == base || b == *name) {
            baselines.push(name.clone());
        }
    }
    if let Some(baseline) = plan.baseline
        && baselines.is_empty()
    {
        let known: Vec<&str> = groups.iter().map(|(n, _)| n.as_str()).collect();
        return Err(UsageError(format!(
            "--baseline {baseline:?}: no such group (groups: {})",
            known.join(", ")
        ))
        .into());
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut metric_order: Vec<String> = Vec::new();
    for (_, runs) in &groups {
        for m in runs.iter().flat_map(|r| &r.metrics) {
            if !metric_order.contains(&m.id) {
                metric_order.push(m.id.clone());
            }
        }
    }
    for metric in &metric_order {
        let mut metric_rows: Vec<Row> = groups
            .iter()
            .filter_map(|(name, runs)| {
                let found: Vec<_> =
                    runs.iter().filter_map(|r| r.metrics.iter().find(|m| &m.id == metric)).collect();
                let first = found.first()?;
                let values: Vec<f64> = found.iter().map(|m| m.value).collect();
                Some(Row {
                    metric: metric.clone(),
                    title: first.title.clone(),
                    unit: first.unit,
                    lower_is_better: first.lower_is_better,
                    cell: first.cell.clone(),
                    group: name.clone(),
                    summary: Summary::of(&values)?,
                    baseline: false,
                    ratio: None,
                    values,
                })
            })
            .collect();
        if let Some(row) = metric_rows.iter().find(|r| !r.summary.is_finite()) {
            anyhow::bail!(
                "{}, group {:?}: its statistics are not finite numbers (mean {}, sd {:?}, interval {:?}..{:?}): values too close to f64's limit",
                row.metric,
                row.group,
                row.summary.mean,
                row.summary.sd,
                row.summary.ci95_low,
                row.summary.ci95_high
            );
        }
        for row in &mut metric_rows {
            row.baseline = baselines.contains(&row.group);
        }
        if let Some(base) = metric_rows.iter().find(|r| r.baseline) {
            let base = base.summary.clone();
            for row in metric_rows.iter_mut().filter(|r| !r.baseline) {
                row.ratio = Some(stats::ratio(&row.summary, &base));
            }
        }
        rows.extend(metric_rows);
    }
    Ok(Comparison {
        schema_version: COMPARISON_SCHEMA_VERSION,
        kind: "comparison",
        grouped_by: plan.grouped_by.clone(),
        baseline: plan.baseline.map(str::to_string),
        ratio_method: stats::RATIO_METHOD,
        documents,
        skipped_bad,
        without_metrics,
        left_out,
        groups: groups
            .into_iter()
            .map(|(name, runs)| Group {
                name,
                kind: runs[0].kind.name,
                runs: runs.len(),
                parameters: runs[0].parameters.clone(),
                files: runs.iter().map(|r| r.path.display().to_string()).collect(),
            })
            .collect(),
        rows,
    })
}

/// Runs grouped by kind and key, groups in the order they first appear, runs by start time.
fn group(runs: Vec<Run>) -> Vec<(String, Vec<Run>)> {
    let mut groups: Vec<(String, Vec<Run>)> = Vec::new();
    for run in runs {
        let name = run.key.join(", ");
        match groups.iter_mut().find(|(n, g)| *n == name && g[0].kind.name == run.kind.name) {
            Some((_, members)) => members.push(run),
            None => groups.push((name, vec![run])),
        }
    }
    for (_, members) in &mut groups {
        members.sort_by(|a, b| a.started_at.cmp(&b.started_at).then_with(|| a.path.cmp(&b.path)));
    }
    groups
}

/// The parameters on which a group's runs differ.
fn differing(runs: &[Run]) -> Vec<String> {
    let mut keys: Vec<&String> = runs.iter().flat_map(|r| r.parameters.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| runs.iter().any(|r| r.parameters.get(*k) != runs[0].parameters.get(*k)))
        .cloned()
        .collect()
}

/// Refuses groups whose runs are different experiments, or splits them (`--split-on-params`).
fn split_by_parameters(
    groups: Vec<(String, Vec<Run>)>,
    split: bool,
) -> Result<Vec<(String, Vec<Run>)>, UsageError> {
    let mut out = Vec::new();
    for (name, runs) in groups {
        let keys = differing(&runs);
        let Some(first_key) = keys.first() else {
            out.push((name, runs));
            continue;
        };
        if !split {
            let shown = |r: &Run| super::path::display(r.parameters.get(first_key));
            let other = runs
                .iter()
                .find(|r| r.parameters.get(first_key) != runs[0].parameters.get(first_key))
                .unwrap();
            let field = if first_key.starts_with("ranks.") {
                first_key.clone()
            } else {
                format!("parameters.{first_key}")
            };
            return Err(UsageError(format!(
                "group {name:?} mixes parameters: {first_key} = {} ({}) but {} ({}); give --split-on-params, or --by {field}",
                shown(&runs[0]),
                runs[0].path.display(),
                shown(other),
                other.path.display()
            )));
        }
        let mut parts: Vec<(String, Vec<Run>)> = Vec::new();
        for run in runs {
            let suffix: Vec<String> =
                keys.iter().map(|k| format!("{k}={}", super::path::display(run.parameters.get(k)))).collect();
            let part_name = format!("{name} [{}]", suffix.join(", "));
            match parts.iter_mut().find(|(n, _)| *n == part_name) {
                Some((_, members)) => members.push(run),
                None => parts.push((part_name, vec![run])),
            }
        }
        out.extend(parts);
    }
    Ok(out)
}
