//! Renderings of a comparison: one exporter per format over the same two tables (the summary,
//! and every run), plus SVG charts (`plot`).

mod csv;
mod json;
mod markdown;
pub mod plot;
mod text;

use crate::result::comparison::{AxisKey, GridCell};
use crate::result::comparison::{Comparison, LeftOut, NoInterval, Row};

/// The formats a comparison renders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for the terminal.
    Table,
    Markdown,
    Csv,
    /// The comparison document.
    Json,
}

/// A table as cells: what every tabular format writes.
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns to right-align (numbers).
    pub numeric: Vec<bool>,
}

/// How numbers are written: rounded for people, whole for machines.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Human,
    Machine,
}

pub trait Exporter {
    /// The file extension: `txt`, `md`, `csv`, `json`.
    fn extension(&self) -> &'static str;
    fn summary(&self, c: &Comparison) -> anyhow::Result<String>;
    /// The table of every run; `None` where the summary already holds every value (JSON).
    fn runs(&self, c: &Comparison) -> anyhow::Result<Option<String>>;
}

fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Table => Box::new(text::Text),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Csv => Box::new(csv::Csv),
        Format::Json => Box::new(json::Json),
    }
}

/// The summary (and with `runs` the run table) in one format.
pub fn render(c: &Comparison, format: Format, runs: bool) -> anyhow::Result<String> {
    let exporter = exporter(format);
    let mut out = exporter.summary(c)?;
    if runs && let Some(table) = exporter.runs(c)? {
        out.push('\n');
        out.push_str(&table);
    }
    Ok(out)
}

/// Every format under fixed names, as (file name, content): `summary.EXT`, `runs.EXT`,
/// `comparison.json`.
pub fn files(c: &Comparison, runs: bool) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for format in [Format::Table, Format::Markdown, Format::Csv, Format::Json] {
        let exporter = exporter(format);
        let stem = if format == Format::Json { "comparison" } else { "summary" };
        files.push((format!("{stem}.{}", exporter.extension()), exporter.summary(c)?));
        if runs && let Some(table) = exporter.runs(c)? {
            files.push((format!("runs.{}", exporter.extension()), table));
        }
    }
    Ok(files)
}

/// A number for people: four significant digits, no exponent for the sizes benchmarks give.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 10.0 {
        format!("{value:.2}")
    } else if magnitude >= 0.001 {
        format!("{value:.3}")
    } else {
        format!("{value:.3e}")
    }
}

fn cell(value: Option<f64>, style: Style) -> String {
    match (value, style) {
        (None, _) => String::new(),
        (Some(v), Style::Human) => number(v),
        (Some(v), Style::Machine) => v.to_string(),
    }
}

/// Groups × metrics: the statistics, the ratio to the baseline and its verdict.
pub fn summary_grid(c: &Comparison, style: Style) -> Grid {
    let mut header: Vec<&str> = vec!["metric", "unit", "group", "n", "mean"];
    match style {
        Style::Human => header.extend(["±95% CI"]),
        Style::Machine => header.extend(["ci95_low", "ci95_high"]),
    }
    header.extend(["median", "min", "max", "sd", "cv_%"]);
    if c.baseline.is_some() {
        match style {
            Style::Human => header.extend(["ratio", "ratio 95% CI", "verdict"]),
            Style::Machine => header.extend(["ratio", "ratio_low", "ratio_high", "verdict"]),
        }
    }
    let rows = c.rows.iter().map(|row| summary_row(c, row, style)).collect();
    let numeric = header.iter().map(|h| !matches!(*h, "metric" | "unit" | "group" | "verdict")).collect();
    Grid { header: header.into_iter().map(String::from).collect(), rows, numeric }
}

fn summary_row(c: &Comparison, row: &Row, style: Style) -> Vec<String> {
    let s = &row.summary;
    let mut cells = vec![
        row.metric.clone(),
        row.unit.to_string(),
        row.group.clone(),
        s.n.to_string(),
        cell(Some(s.mean), style),
    ];
    match style {
        Style::Human => cells.push(cell(s.ci95_high.map(|h| h - s.mean), style)),
        Style::Machine => cells.extend([cell(s.ci95_low, style), cell(s.ci95_high, style)]),
    }
    cells.extend([s.median, s.min, s.max].map(|v| cell(Some(v), style)));
    cells.extend([cell(s.sd, style), cell(s.cv_percent, style)]);
    if c.baseline.is_some() {
        let ratio = row.ratio.as_ref();
        cells.push(match ratio {
            Some(r) => cell(Some(r.value), style),
            None if style == Style::Human && row.baseline => "baseline".into(),
            None => String::new(),
        });
        match style {
            Style::Human => cells.push(match ratio.and_then(|r| Some((r.low?, r.high?))) {
                Some((low, high)) => format!("[{}, {}]", number(low), number(high)),
                None => match ratio.and_then(|r| r.no_interval) {
                    Some(NoInterval::OneRun) => "n = 1".into(),
                    Some(_) => "unbounded".into(),
                    None => String::new(),
                },
            }),
            Style::Machine => cells
                .extend([cell(ratio.and_then(|r| r.low), style), cell(ratio.and_then(|r| r.high), style)]),
        }
        cells.push(match (ratio, style) {
            (Some(r), Style::Human) => verdict_words(&r.verdict, row.lower_is_better),
            (Some(r), Style::Machine) => r.verdict.clone(),
            (None, _) => String::new(),
        });
    }
    cells
}

/// A verdict for people: which way and whether for the better (`higher (worse)` for a latency);
/// `same` and `n too small` as they are.
pub fn verdict_words(verdict: &str, lower_is_better: bool) -> String {
    match (verdict, lower_is_better) {
        ("lower", false) | ("higher", true) => format!("{verdict} (worse)"),
        ("lower", true) | ("higher", false) => format!("{verdict} (better)"),
        _ => verdict.to_string(),
    }
}

/// Rows: repetition 1, 2, ...; columns: group and metric, as the study's Table 3.3.
pub fn runs_grid(c: &Comparison, style: Style) -> Grid {
    let mut header = vec!["run".to_string()];
    header.extend(c.rows.iter().map(|r| format!("{}: {} ({})", r.group, r.metric, r.unit)));
    let longest = c.rows.iter().map(|r| r.values.len()).max().unwrap_or(0);
    let rows = (0..longest)
        .map(|i| {
            let mut cells = vec![(i + 1).to_string()];
            cells.extend(c.rows.iter().map(|r| cell(r.values.get(i).copied(), style)));
            cells
        })
        .collect();
    let numeric = vec![true; header.len()];
    Grid { header, rows, numeric }
}

/// A group's grid: net's sender × receiver matrix (the study's Tables 3.1 and 3.2), or one pass
/// of an fs sweep (file size × record size, iozone's layout).
pub struct Matrix {
    pub group: String,
    pub table: String,
    pub unit: &'static str,
    pub grid: Grid,
    /// Per cell (rows of the grid less its label column): a ratio whose interval excludes 1.0
    /// (verdict `lower` or `higher`); all false for means.
    pub excludes_one: Vec<Vec<bool>>,
    /// The table's cells are times: a ratio below 1 is the better one.
    pub lower_is_better: bool,
}

/// Every group's grids, each cell the mean over the group's runs; with `ratios`, each cell the
/// ratio of that mean to the baseline's instead (empty for the baseline itself).
pub fn matrices(c: &Comparison, style: Style, ratios: bool) -> Vec<Matrix> {
    let mut out = Vec::new();
    for group in &c.groups {
        let cells: Vec<&Row> = c.rows.iter().filter(|r| r.group == group.name && r.cell.is_some()).collect();
        let mut tables: Vec<&str> = Vec::new();
        for row in &cells {
            let table = row.cell.as_ref().map(|g| g.table.as_str()).unwrap_or_default();
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        for table in tables {
            let here: Vec<(&Row, &GridCell)> = cells
                .iter()
                .filter_map(|r| Some((*r, r.cell.as_ref()?)))
                .filter(|(_, g)| g.table == table)
                .collect();
            if ratios && here.iter().all(|(r, _)| r.ratio.is_none()) {
                continue;
            }
            let mut row_keys: Vec<&AxisKey> = here.iter().map(|(_, g)| &g.row).collect();
            let mut column_keys: Vec<&AxisKey> = here.iter().map(|(_, g)| &g.column).collect();
            row_keys.sort();
            row_keys.dedup();
            column_keys.sort();
            column_keys.dedup();
            let (first, axes) = here[0];
            let mut header = vec![format!("{} \\ {}", axes.rows, axes.columns)];
            header.extend(column_keys.iter().map(ToString::to_string));
            let find = |rk: &AxisKey, ck: &AxisKey| {
                here.iter().find(|(_, g)| &g.row == rk && &g.column == ck).map(|(r, _)| *r)
            };
            let excludes_one = row_keys
                .iter()
                .map(|rk| {
                    column_keys
                        .iter()
                        .map(|ck| {
                            let ratio = find(rk, ck).and_then(|r| r.ratio.as_ref()).filter(|_| ratios);
                            ratio.is_some_and(|q| q.verdict == "lower" || q.verdict == "higher")
                        })
                        .collect()
                })
                .collect();
            let rows = row_keys
                .iter()
                .map(|rk| {
                    let mut line = vec![rk.to_string()];
                    line.extend(column_keys.iter().map(|ck| {
                        let found = find(rk, ck);
                        let value = if ratios {
                            found.and_then(|r| r.ratio.as_ref()).map(|q| q.value)
                        } else {
                            found.map(|r| r.summary.mean)
                        };
                        cell(value, style)
                    }));
                    line
                })
                .collect();
            out.push(Matrix {
                group: group.name.clone(),
                table: table.to_string(),
                unit: if ratios { "ratio to the baseline" } else { first.unit },
                grid: Grid { header, rows, numeric: vec![true; column_keys.len() + 1] },
                excludes_one,
                lower_is_better: first.lower_is_better,
            });
        }
    }
    out
}

/// A word for a ratio interval whose lower bound is below 0, which a reader would otherwise take
/// for an error: Fieller's set holds 0 exactly when the group's mean is not told from 0.
pub fn below_zero_note(c: &Comparison) -> Option<&'static str> {
    c.rows.iter().any(|r| r.ratio.as_ref().and_then(|r| r.low).is_some_and(|low| low < 0.0)).then_some(
        "a ratio interval reaching below 0 is shown as computed: that group's runs spread so widely \
         that its mean is not told from 0",
    )
}

/// What was compared, in one line.
pub fn caption(c: &Comparison) -> String {
    let mut text = format!(
        "{} documents in {} groups, grouped by {}",
        c.documents,
        c.groups.len(),
        c.grouped_by.join(" + ")
    );
    if let Some(baseline) = &c.baseline {
        text.push_str(&format!("; ratios to {baseline:?}: {}", c.ratio_method));
    }
    if let Some(note) = below_zero_note(c) {
        text.push('\n');
        text.push_str(note);
    }
    if !c.left_out.is_empty() {
        text.push_str(&format!("\nleft out: {}", left_out(&c.left_out)));
    }
    text
}

/// What was left out, files of one reason together: `a.json (why); 3 files (why): b, c, d and 2 more`.
fn left_out(items: &[LeftOut]) -> String {
    const NAMED: usize = 3;
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for item in items {
        match reasons.iter_mut().find(|(r, _)| *r == item.reason) {
            Some((_, files)) => files.push(&item.file),
            None => reasons.push((&item.reason, vec![&item.file])),
        }
    }
    let parts: Vec<String> = reasons
        .into_iter()
        .map(|(reason, files)| match files.as_slice() {
            [file] => format!("{file} ({reason})"),
            _ => {
                let mut named = files[..files.len().min(NAMED)].join(", ");
                if files.len() > NAMED {
                    named.push_str(&format!(" and {} more", files.len() - NAMED));
                }
                format!("{} files ({reason}): {named}", files.len())
            }
        })
        .collect();
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::comparison::{Group, Ratio, Summary};

    fn row(group: &str, sender: &str, receiver: &str, mean: f64, verdict: Option<&str>) -> Row {
        Row {
            metric: format!("{sender}_to_{receiver}_mib_per_s"),
            title: String::new(),
            unit: "MiB/s",
            lower_is_better: false,
            cell: Some(GridCell {
                table: "throughput".into(),
                rows: "sender",
                columns: "receiver",
                row: AxisKey::Name(sender.into()),
                column: AxisKey::Name(receiver.into()),
            }),
            group: group.into(),
            summary: Summary::of(&[mean]).unwrap(),
            baseline: verdict.is_none(),
            ratio: verdict.map(|v| Ratio {
                value: mean / 100.0,
                low: None,
                high: None,
                verdict: v.into(),
                no_interval: Some(NoInterval::OneRun),
            }),
            values: vec![mean],
        }
    }

    fn comparison(rows: Vec<Row>) -> Comparison {
        let group = |name: &str| Group {
            name: name.into(),
            kind: "net",
            runs: 1,
            parameters: Default::default(),
            files: Vec::new(),
        };
        Comparison {
            schema_version: 2,
            kind: "comparison",
            grouped_by: vec!["label".into()],
            baseline: Some("host".into()),
            ratio_method: "",
            documents: 2,
            skipped_bad: 0,
            without_metrics: 0,
            left_out: Vec::new(),
            groups: vec![group("host"), group("guest")],
            rows,
        }
    }

    /// Each cell holds its own row's figure, and a ratio map marks exactly the cells whose
    /// interval excludes 1 (`lower`, `higher`), not `same` or `n too small`.
    #[test]
    fn grids_put_each_value_in_its_cell_and_mark_verdicts() {
        let c = comparison(vec![
            row("host", "a", "a", 100.0, None),
            row("host", "a", "b", 100.0, None),
            row("host", "b", "a", 100.0, None),
            row("host", "b", "b", 100.0, None),
            row("guest", "a", "a", 10.0, Some("lower")),
            row("guest", "a", "b", 20.0, Some("same")),
            row("guest", "b", "a", 30.0, Some("higher")),
            row("guest", "b", "b", 40.0, Some("n too small")),
        ]);
        let means = matrices(&c, Style::Machine, false);
        let guest = means.iter().find(|m| m.group == "guest").unwrap();
        assert_eq!(guest.grid.rows, [["a", "10", "20"], ["b", "30", "40"]]);
        assert_eq!(guest.excludes_one, [[false, false], [false, false]], "means mark nothing");
        let ratios = matrices(&c, Style::Machine, true);
        assert_eq!(ratios.len(), 1, "the baseline has no ratio map");
        assert_eq!(ratios[0].grid.rows, [["a", "0.1", "0.2"], ["b", "0.3", "0.4"]]);
        assert_eq!(ratios[0].excludes_one, [[true, false], [true, false]]);
    }

    #[test]
    fn verdicts_say_whether_for_the_better() {
        assert_eq!(verdict_words("higher", false), "higher (better)");
        assert_eq!(verdict_words("lower", false), "lower (worse)");
        assert_eq!(verdict_words("higher", true), "higher (worse)");
        assert_eq!(verdict_words("lower", true), "lower (better)");
        assert_eq!(verdict_words("same", true), "same");
        assert_eq!(verdict_words("n too small", false), "n too small");
    }

    #[test]
    fn left_out_files_of_one_reason_are_named_up_to_three() {
        let item = |file: &str, reason: &str| LeftOut { file: file.into(), reason: reason.into() };
        let items: Vec<LeftOut> = ["a", "b", "c", "d", "e"].iter().map(|f| item(f, "env")).collect();
        assert_eq!(left_out(&items), "5 files (env): a, b, c and 2 more");
        assert_eq!(left_out(&items[..3]), "3 files (env): a, b, c");
        assert_eq!(left_out(&items[..4]), "4 files (env): a, b, c and 1 more");
        assert_eq!(left_out(&[item("x", "why"), item("a", "env")]), "x (why); a (env)");
    }
}
