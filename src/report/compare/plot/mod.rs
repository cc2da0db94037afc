//! SVG charts of a comparison (plotters, SVG backend): per metric the groups' means with 95%
//! intervals and the baseline marked, and every run as a dot, so an outlier is seen rather than
//! averaged away. SVG only: plotters' bitmap backend needs a font rasteriser (system fonts via
//! fontconfig, or a bundled font); SVG leaves the text to the viewer.

use anyhow::Context;
use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

mod map;
mod overhead;

pub use overhead::overhead_chart;

use super::number;
use crate::result::comparison::{Comparison, Row};

const SIZE: (u32, u32) = (800, 500);
/// Up to this many grid cells (rows of the comparison) also get a bar and a dot chart each.
const MAX_CELL_CHARTS: usize = 32;
const BAR: RGBColor = RGBColor(70, 120, 180);
const BASELINE: RGBColor = RGBColor(200, 110, 40);

/// Every chart, as (file name, SVG).
pub fn draw_all(c: &Comparison) -> anyhow::Result<Vec<(String, String)>> {
    let mut charts = Vec::new();
    let mut names = Names::default();
    // Cells of a large grid (an fs sweep) are drawn as the grid, not one chart each.
    let grid_cells = c.rows.iter().filter(|r| r.cell.is_some()).count();
    let mut metrics: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.cell.is_none() || grid_cells <= MAX_CELL_CHARTS)
        .map(|r| r.metric.as_str())
        .collect();
    metrics.dedup();
    for metric in metrics {
        let rows: Vec<&Row> = c.rows.iter().filter(|r| r.metric == metric).collect();
        let title = title(c, &rows);
        let bars = names.file(&["bar", metric]);
        charts.push((bars.clone(), draw(&bars, |area| bar_chart(area, &title, &rows))?));
        let dots = names.file(&["runs", metric]);
        charts.push((dots.clone(), draw(&dots, |area| dot_plot(area, &title, &rows))?));
    }
    // Grids: each group's means, and with a baseline each group's ratios to it.
    let baseline = c.rows.iter().find(|r| r.baseline).map(|r| r.group.as_str());
    for (kind, ratios) in [("heatmap", false), ("ratio", true)] {
        for m in super::matrices(c, super::Style::Machine, ratios) {
            let name = names.file(&[kind, &m.group, &m.table]);
            let scale_of = if ratios { map::Scale::ratios } else { map::Scale::means };
            charts.push((name.clone(), draw(&name, |area| map::heatmap(area, &m, scale_of(&m), baseline))?));
        }
    }
    Ok(charts)
}

/// File names from what a chart shows (`bar-write_ior_mib_per_s.svg`,
/// `ratio-domU-throughput.svg`): only letters, digits, `.`, `_` and `-`, so a host named `a/b`
/// or `node7:1` cannot reach outside the directory or trouble a shell; a name taken twice
/// gets `-2`, `-3`.
#[derive(Default)]
struct Names {
    taken: std::collections::HashSet<String>,
}

impl Names {
    fn file(&mut self, parts: &[&str]) -> String {
        let stem: Vec<String> = parts.iter().map(|p| sanitised(p)).collect();
        let stem = stem.join("-");
        let mut name = format!("{stem}.svg");
        let mut n = 1;
        while !self.taken.insert(name.clone()) {
            n += 1;
            name = format!("{stem}-{n}.svg");
        }
        name
    }
}

fn sanitised(part: &str) -> String {
    let mut text = String::new();
    for c in part.chars() {
        let c = if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' };
        if !(c == '_' && text.ends_with('_')) {
            text.push(c);
        }
    }
    let text = text.trim_matches('_');
    // No hidden file, no `..`.
    match text.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None if text.is_empty() => "_".into(),
        None => text.to_string(),
    }
}

/// One chart as SVG text; `name` names it in an error.
fn draw(
    name: &str,
    chart: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    draw_sized(name, SIZE, chart)
}

fn draw_sized(
    name: &str,
    size: (u32, u32),
    chart: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        area.fill(&WHITE)?;
        chart(&area).with_context(|| format!("drawing {name}"))?;
        area.present()?;
    }
    Ok(svg)
}

/// The metric, its unit, and the parameters its groups share, e.g.
/// `write bandwidth (IOR convention), MiB/s — block_size_bytes=1048576, iterations=5`.
fn title(c: &Comparison, rows: &[&Row]) -> String {
    let groups: Vec<_> = c.groups.iter().filter(|g| rows.iter().any(|r| r.group == g.name)).collect();
    let mut shared: Vec<String> = Vec::new();
    if let Some(first) = groups.first() {
        for (key, value) in &first.parameters {
            let scalar = value.is_number() || value.is_string();
            if scalar && groups.iter().all(|g| g.parameters.get(key) == Some(value)) {
                shared.push(format!(
                    "{key}={}",
                    value.as_str().map_or_else(|| value.to_string(), str::to_string)
                ));
            }
        }
    }
    let mut text = format!("{}, {}", rows[0].title, rows[0].unit);
    let mut params = String::new();
    for item in shared {
        if params.len() + item.len() > 70 {
            break;
        }
        params.push_str(if params.is_empty() { "" } else { ", " });
        params.push_str(&item);
    }
    if !params.is_empty() {
        text.push_str(" — ");
        text.push_str(&params);
    }
    text
}

/// 18 px, smaller for a title that would not fit the chart's 800 px at that size.
fn caption_size(title: &str) -> u32 {
    const FITS_AT_18PX: usize = 80;
    let chars = title.chars().count();
    if chars <= FITS_AT_18PX { 18 } else { (18 * FITS_AT_18PX / chars).max(11) as u32 }
}

/// The top of the y axis, in units of `scale`.
fn upper_bound(rows: &[&Row], scale: f64) -> f64 {
    let top = rows
        .iter()
        .map(|r| r.summary.ci95_high.unwrap_or(r.summary.max).max(r.summary.max) / scale)
        .fold(0.0, f64::max);
    if top > 0.0 { top * 1.2 } else { 1.0 }
}

type GroupsChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordusize>, RangedCoordf64>>;

/// The frame both per-metric charts share: one segment per group on x, the metric on y.
fn groups_chart<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    rows: &[&Row],
    x_desc: &str,
) -> anyhow::Result<GroupsChart<'a, 'b>> {
    let names: Vec<String> = rows.iter().map(|r| r.group.clone()).collect();
    let scale = axis_scale(rows);
    let top = upper_bound(rows, scale);
    let unit = if scale == 1.0 { rows[0].unit.to_string() } else { format!("{} × {scale:e}", rows[0].unit) };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", caption_size(title)))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(groups_axis(rows), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_desc)
        .y_desc(unit)
        .x_labels(rows.len())
        .x_label_formatter(&|x| segment_name(x, &names))
        .y_label_formatter(&|y| axis_number(*y, top))
        .draw()?;
    Ok(chart)
}

fn bar_chart(area: &DrawingArea<SVGBackend, Shift>, title: &str, rows: &[&Row]) -> anyhow::Result<()> {
    let mut chart =
        groups_chart(area, title, rows, "group (bars: mean; whiskers: 95% confidence interval of the mean)")?;
    let y = |v: f64| v / axis_scale(rows);
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let color = if r.baseline { BASELINE } else { BAR };
        let mut bar = Rectangle::new(
            [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), y(r.summary.mean))],
            color.mix(0.8).filled(),
        );
        bar.set_margin(0, 0, 25, 25);
        bar
    }))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
        let (low, high) = (r.summary.ci95_low?, r.summary.ci95_high?);
        Some(ErrorBar::new_vertical(
            SegmentValue::CenterOf(i),
            y(low),
            y(r.summary.mean),
            y(high),
            BLACK.stroke_width(2),
            16,
        ))
    }))?;
    if let Some(base) = rows.iter().find(|r| r.baseline) {
        let mean = base.summary.mean;
        chart
            .draw_series(LineSeries::new(
                [(SegmentValue::Exact(0), y(mean)), (SegmentValue::Exact(rows.len()), y(mean))],
                BASELINE.stroke_width(2),
            ))?
            .label(format!("baseline {}: {} {}", base.group, number(mean), base.unit))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BASELINE.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

fn dot_plot(area: &DrawingArea<SVGBackend, Shift>, title: &str, rows: &[&Row]) -> anyhow::Result<()> {
    let mut chart =
        groups_chart(area, title, rows, "group (dots: every run, left to right in start order; line: mean)")?;
    let y = |v: f64| v / axis_scale(rows);
    for (i, r) in rows.iter().enumerate() {
        let n = r.values.len();
        // Spread a group's runs over 120 px around its centre, in run order.
        let offset = |j: usize| if n > 1 { (j as f64 / (n - 1) as f64 * 120.0 - 60.0) as i32 } else { 0 };
        chart.draw_series(r.values.iter().enumerate().map(|(j, &v)| {
            EmptyElement::at((SegmentValue::CenterOf(i), y(v))) + Circle::new((offset(j), 0), 4, BAR.filled())
        }))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((SegmentValue::CenterOf(i), y(r.summary.mean)))
                + PathElement::new([(-75, 0), (75, 0)], BLACK.stroke_width(2)),
        ))?;
    }
    Ok(())
}

/// One segment per group (an integer range is inclusive in plotters).
fn groups_axis(rows: &[&Row]) -> SegmentedCoord<RangedCoordusize> {
    (0..rows.len().saturating_sub(1)).into_segmented()
}

/// Axis ticks without decimals that mean nothing at their scale.
fn axis_number(value: f64, top: f64) -> String {
    if top > 20.0 { format!("{value:.0}") } else { number(value) }
}

/// The power of ten the y axis is divided by: 1 for ordinary figures; for values beyond a
/// million (or below a thousandth) the axis shows `unit × 1eN`, since plotters' tick search
/// does not end on a range like 0..1e200.
fn axis_scale(rows: &[&Row]) -> f64 {
    let top = upper_bound(rows, 1.0);
    if (1e-3..=1e6).contains(&top) {
        1.0
    } else {
        // Parsed, not powi: 10^200 exactly as the label says it.
        format!("1e{}", top.log10().floor()).parse().unwrap_or(1.0)
    }
}

pub(super) fn segment_name(x: &SegmentValue<usize>, names: &[String]) -> String {
    match x {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => names.get(*i).cloned().unwrap_or_default(),
        SegmentValue::Last => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_in_the_directory_and_are_unique() {
        let mut names = Names::default();
        assert_eq!(names.file(&["bar", "write_ior_mib_per_s"]), "bar-write_ior_mib_per_s.svg");
        assert_eq!(names.file(&["bar", "node7:1_to_a/b_mib_per_s"]), "bar-node7_1_to_a_b_mib_per_s.svg");
        assert_eq!(names.file(&["bar", "node7_1_to_a_b_mib_per_s"]), "bar-node7_1_to_a_b_mib_per_s-2.svg");
        assert_eq!(names.file(&["ratio", "dom U", "random read"]), "ratio-dom_U-random_read.svg");
        assert_eq!(names.file(&["heatmap", "host (fs)", "write"]), "heatmap-host_fs-write.svg");
        assert_eq!(names.file(&["..", ""]), "_.-_.svg");
        assert_eq!(sanitised("../etc/passwd"), "_._etc_passwd");
        assert_eq!(sanitised("é"), "_");
    }

    #[test]
    fn long_titles_get_a_smaller_caption() {
        assert_eq!(caption_size(&"x".repeat(80)), 18);
        assert_eq!(caption_size(&"x".repeat(120)), 12);
        assert_eq!(caption_size(&"é".repeat(120)), 12, "characters, not bytes");
        assert_eq!(caption_size(&"x".repeat(400)), 11);
    }
}
