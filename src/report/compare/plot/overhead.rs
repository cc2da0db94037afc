//! The overhead figure: what a guest keeps of its host, one row per figure, per benchmark and
//! for the index, each a dot at the ratio with its 95 % interval, and the host's 100 % marked.

use plotters::prelude::*;

use super::{BAR, BASELINE, draw_sized, segment_name};
use crate::report::campaign::percent;
use crate::result::campaign::Overhead;
use crate::result::comparison::Ratio;

/// A row of the figure: its name, its ratio, and whether it is a summary (geometric mean).
fn rows(o: &Overhead) -> Vec<(String, &Ratio, bool)> {
    let mut rows: Vec<(String, &Ratio, bool)> =
        o.figures.iter().map(|f| (format!("{} {}", f.title, f.metric), &f.ratio, false)).collect();
    if o.families.len() > 1 {
        rows.extend(o.families.iter().map(|f| (format!("{} (geometric mean)", f.title), &f.ratio, true)));
    }
    if let Some(index) = o.index.as_ref().filter(|_| o.families.len() > 1) {
        rows.push(("index over the benchmarks".into(), index, true));
    }
    rows
}

/// The figure as SVG; `None` for a pair without a figure.
pub fn overhead_chart(o: &Overhead) -> anyhow::Result<Option<String>> {
    let rows = rows(o);
    if rows.is_empty() {
        return Ok(None);
    }
    let right = rows
        .iter()
        .map(|(_, r, _)| r.high.unwrap_or(r.value).max(r.value))
        .filter(|v| v.is_finite())
        .fold(1.1f64, f64::max)
        * 105.0;
    // The first figure at the top: plotters counts segments upwards.
    let names: Vec<String> = rows.iter().rev().map(|(n, _, _)| n.clone()).collect();
    let at = |i: usize| SegmentValue::CenterOf(rows.len() - 1 - i);
    let height = 110 + 30 * rows.len() as u32;
    let source = if o.source == "this campaign" { String::new() } else { format!(" ({})", o.source) };
    let title = format!("what {} keeps of {}{source}, % of the host's mean", o.guest, o.host);
    draw_sized("the overhead figure", (800, height), |area| {
        let mut chart = ChartBuilder::on(area)
            .caption(&title, ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(330)
            .build_cartesian_2d(0.0..right, (0..rows.len() - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("guest mean / host mean, % (dot: the ratio; whiskers: its 95% interval)")
            .y_labels(rows.len())
            .y_label_formatter(&|y| segment_name(y, &names))
            .y_label_style(("sans-serif", 13))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            [(100.0, SegmentValue::Exact(0)), (100.0, SegmentValue::Last)],
            BASELINE.stroke_width(2),
        )))?;
        for (i, (_, ratio, summary)) in rows.iter().enumerate() {
            let color = if *summary { BLACK } else { BAR };
            let y = at(i);
            if let (Some(low), Some(high)) = (ratio.low, ratio.high) {
                chart.draw_series(std::iter::once(ErrorBar::new_horizontal(
                    y.clone(),
                    low.max(0.0) * 100.0,
                    ratio.value * 100.0,
                    high.min(right / 100.0) * 100.0,
                    color.stroke_width(2),
                    10,
                )))?;
            }
            chart.draw_series(std::iter::once(Circle::new(
                (ratio.value * 100.0, y.clone()),
                5,
                color.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{} %", percent(ratio.value)),
                ((ratio.value * 100.0 + right * 0.015).min(right * 0.9), y),
                ("sans-serif", 13),
            )))?;
        }
        Ok(())
    })
    .map(Some)
}
