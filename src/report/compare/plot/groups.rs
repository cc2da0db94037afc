//! One metric, the groups side by side: bars of their means with the 95% intervals and the
//! number of runs behind each, and every run as a dot.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::number;
use super::{
    Area, BAR, BASELINE, Header, Key, MAX_WIDTH, MIN_WIDTH, Mark, PlotArea, Slots, TEXT_PX, font, slot_name,
    widest,
};
use crate::result::comparison::Row;

/// The plot's height, without header and labels.
const PLOT_HEIGHT: u32 = 260;
const X_LABELS: u32 = 50;
const Y_LABELS: f64 = 80.0;
const MARGIN: u32 = 15;

/// Wide enough for every group's name under its slot, within the page; as high as `header`
/// (the taller of the two charts') needs above the plot.
pub fn size(rows: &[&Row], header: &Header) -> (u32, u32) {
    let slot = (widest(rows.iter().map(|r| &r.group)) + 16.0).max(80.0);
    let width = ((Y_LABELS + 30.0 + slot * rows.len() as f64).ceil() as u32).clamp(MIN_WIDTH, MAX_WIDTH);
    (width, header.height(width) + 5 + PLOT_HEIGHT + X_LABELS + MARGIN)
}

/// The top of the y axis, in units of `scale`.
fn upper_bound(rows: &[&Row], scale: f64) -> f64 {
    let top = rows
        .iter()
        .map(|r| r.summary.ci95_high.unwrap_or(r.summary.max).max(r.summary.max) / scale)
        .fold(0.0, f64::max);
    if top > 0.0 { top * 1.2 } else { 1.0 }
}

type GroupsChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Slots, RangedCoordf64>>;

/// The frame both charts share: one slot per group on x, the metric on y.
fn groups_chart<'a, 'b>(
    area: &'a Area<'b>,
    rows: &[&Row],
    x_desc: &str,
) -> anyhow::Result<GroupsChart<'a, 'b>> {
    let names: Vec<String> = rows.iter().map(|r| r.group.clone()).collect();
    let scale = axis_scale(rows);
    let top = upper_bound(rows, scale);
    let unit = if scale == 1.0 { rows[0].unit.to_string() } else { format!("{} × {scale:e}", rows[0].unit) };
    let mut chart = ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(5)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS as u32)
        .build_cartesian_2d(Slots(rows.len()), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_desc)
        .y_desc(unit)
        .label_style(font(TEXT_PX))
        .axis_desc_style(font(TEXT_PX))
        .x_label_formatter(&|x| slot_name(*x, &names))
        .y_label_formatter(&|y| axis_number(*y, top))
        .draw()?;
    Ok(chart)
}

/// The key a bar chart adds to its header: the baseline's line.
pub fn keys(rows: &[&Row]) -> Vec<Key> {
    let base = rows.iter().find(|r| r.baseline);
    let key = |b: &&Row| Key {
        mark: Mark::Line(BASELINE),
        text: format!("baseline {}: {} {}", b.group, number(b.summary.mean), b.unit),
    };
    base.map(key).into_iter().collect()
}

pub fn bar_chart(area: &Area, header: &Header, rows: &[&Row]) -> anyhow::Result<PlotArea> {
    let base = rows.iter().find(|r| r.baseline);
    let area = header.draw(area)?;
    let mut chart =
        groups_chart(&area, rows, "group (bar: mean of its n runs; whiskers: 95% interval of the mean)")?;
    let y = |v: f64| v / axis_scale(rows);
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let color = if r.baseline { BASELINE } else { BAR };
        let x = i as f64;
        Rectangle::new([(x + 0.2, 0.0), (x + 0.8, y(r.summary.mean))], color.mix(0.8).filled())
    }))?;
    chart.draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
        let (low, high) = (r.summary.ci95_low?, r.summary.ci95_high?);
        Some(ErrorBar::new_vertical(
            i as f64 + 0.5,
            y(low),
            y(r.summary.mean),
            y(high),
            BLACK.stroke_width(2),
            16,
        ))
    }))?;
    // n above the bar and its whiskers.
    let above = font(TEXT_PX).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let top = r.summary.ci95_high.unwrap_or(r.summary.mean).max(r.summary.mean);
        EmptyElement::at((i as f64 + 0.5, y(top)))
            + Text::new(format!("n = {}", r.summary.n), (0, -6), above.clone())
    }))?;
    if let Some(base) = base {
        let mean = y(base.summary.mean);
        chart.draw_series(LineSeries::new(
            [(0.0, mean), (rows.len() as f64, mean)],
            BASELINE.stroke_width(2),
        ))?;
    }
    Ok(chart.plotting_area().get_pixel_range())
}

pub fn dot_plot(area: &Area, header: &Header, rows: &[&Row]) -> anyhow::Result<PlotArea> {
    let area = header.draw(area)?;
    let mut chart =
        groups_chart(&area, rows, "group (dots: every run, left to right in start order; line: mean)")?;
    let y = |v: f64| v / axis_scale(rows);
    for (i, r) in rows.iter().enumerate() {
        let n = r.values.len();
        // A group's runs spread over the middle 60 % of its slot, in run order.
        let x = |j: usize| i as f64 + 0.5 + if n > 1 { (j as f64 / (n - 1) as f64 - 0.5) * 0.6 } else { 0.0 };
        chart.draw_series(
            r.values.iter().enumerate().map(|(j, &v)| Circle::new((x(j), y(v)), 4, BAR.filled())),
        )?;
        let mean = y(r.summary.mean);
        chart.draw_series(std::iter::once(PathElement::new(
            [(i as f64 + 0.1, mean), (i as f64 + 0.9, mean)],
            BLACK.stroke_width(2),
        )))?;
    }
    Ok(chart.plotting_area().get_pixel_range())
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
