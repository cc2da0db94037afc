//! The overhead figure, a forest plot: what a guest keeps of its host, one row per figure, per
//! benchmark and for the index, each a dot at the ratio with its 95 % interval, the figures in
//! a column on the right (clear of every whisker), the host's 100 % marked, and a key.
//!
//! The x axis is linear from 0 %: a guest that kept nothing (a ratio of 0) is a dot on the axis,
//! which a log scale could not show. It reaches the largest ratio and 100 %; an interval
//! reaching past twice that, or below 0, is cut at the edge with an arrowhead (its numbers are
//! in the column), so that one wide interval does not squeeze every other row.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    Area, BAR, BASELINE, Header, Key, MAX_WIDTH, MIN_WIDTH, Mark, PlotArea, Slots, TEXT_PX, draw, font,
    slot_name, widest,
};
use crate::report::campaign::ratio as ratio_text;
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

const ROW_HEIGHT: f64 = 32.0;
const AXIS_LABELS: u32 = 50;
const MARGIN: u32 = 15;

/// The figure as SVG; `None` for a pair without a figure.
pub fn overhead_chart(o: &Overhead) -> anyhow::Result<Option<String>> {
    let rows = rows(o);
    if rows.is_empty() {
        return Ok(None);
    }
    let numbers: Vec<String> = rows.iter().map(|(_, r, _)| ratio_text(r)).collect();
    let names_width = (widest(rows.iter().map(|(n, _, _)| n)) + 20.0) as u32;
    let numbers_width = (widest(&numbers) + 24.0) as u32;
    let width = (names_width + numbers_width + 2 * MARGIN + 460).clamp(MIN_WIDTH, MAX_WIDTH);
    let source = if o.source == "this campaign" { String::new() } else { format!(" ({})", o.source) };
    let title = format!("what {} keeps of {}{source}, % of the host's mean", o.guest, o.host);
    let header = Header::new(title, "").with_keys(keys(rows.iter().any(|(_, _, summary)| *summary)));
    let plot_height = (ROW_HEIGHT * rows.len() as f64).max(2.0 * ROW_HEIGHT) as u32;
    let height = header.height(width) + 5 + plot_height + AXIS_LABELS + MARGIN;
    let right = axis_end(&rows);
    let draw_rows = |area: &Area| -> anyhow::Result<PlotArea> {
        let below = header.draw(area)?;
        // The first figure at the top: slots count upwards.
        let names: Vec<String> = rows.iter().rev().map(|(n, _, _)| n.clone()).collect();
        let y = |i: usize| (rows.len() - 1 - i) as f64 + 0.5;
        let mut chart = ChartBuilder::on(&below)
            .margin(MARGIN)
            .margin_top(5)
            .x_label_area_size(AXIS_LABELS)
            .y_label_area_size(names_width)
            // The figures' column.
            .margin_right(MARGIN + numbers_width)
            .build_cartesian_2d(0.0..right, Slots(rows.len()))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("guest mean / host mean, %")
            .label_style(font(TEXT_PX))
            .axis_desc_style(font(TEXT_PX))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| slot_name(*y, &names))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            [(100.0, 0.0), (100.0, rows.len() as f64)],
            BASELINE.stroke_width(2),
        )))?;
        let beside = font(TEXT_PX).pos(Pos::new(HPos::Left, VPos::Center));
        let plot = chart.plotting_area().get_pixel_range();
        for (i, (_, ratio, summary)) in rows.iter().enumerate() {
            let color = if *summary { BLACK } else { BAR };
            if let (Some(low), Some(high)) = (ratio.low, ratio.high) {
                whisker(&mut chart, (low * 100.0, high * 100.0), y(i), color)?;
            }
            if ratio.value.is_finite() {
                chart.draw_series(std::iter::once(Circle::new(
                    (ratio.value * 100.0, y(i)),
                    5,
                    color.filled(),
                )))?;
            }
            let (_, row) = chart.backend_coord(&(0.0, y(i)));
            area.draw(&Text::new(numbers[i].clone(), (plot.0.end + 12, row), beside.clone()))?;
        }
        Ok(plot)
    };
    draw("the overhead figure", (width, height), draw_rows).map(Some)
}

/// What the marks mean; the black dot only where there are summaries.
fn keys(summaries: bool) -> Vec<Key> {
    let mut keys = vec![Key {
        mark: Mark::Dot(BAR),
        text: "a benchmark's figure: guest mean / host mean; whiskers: its 95 % interval".into(),
    }];
    if summaries {
        keys.push(Key {
            mark: Mark::Dot(BLACK),
            text: "geometric mean: of a benchmark's figures, and the index over the benchmarks".into(),
        });
    }
    keys.push(Key { mark: Mark::Line(BASELINE), text: "100 %: the guest as fast as the host".into() });
    keys
}

/// The axis' end in %: past the largest ratio and 100 %, and the intervals up to twice that.
fn axis_end(rows: &[(String, &Ratio, bool)]) -> f64 {
    let largest = rows.iter().map(|(_, r, _)| r.value).filter(|v| v.is_finite()).fold(1.0, f64::max);
    let reach = rows.iter().filter_map(|(_, r, _)| r.high).filter(|v| v.is_finite()).fold(largest, f64::max);
    reach.min(2.0 * largest) * 100.0 * 1.05
}

type Forest<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Slots>>;

/// An interval (`low`, `high` in %) on row `y`: a line with a cap at each end, or an arrowhead
/// where the axis cuts it.
fn whisker(chart: &mut Forest, (low, high): (f64, f64), y: f64, color: RGBColor) -> anyhow::Result<()> {
    let right = chart.x_range().end;
    let style = color.stroke_width(2);
    let (from, to) = (low.clamp(0.0, right), high.clamp(0.0, right));
    chart.draw_series(std::iter::once(PathElement::new([(from, y), (to, y)], style)))?;
    for (end, cut, outwards) in [(from, low < 0.0, -1), (to, high > right, 1)] {
        let at = EmptyElement::at((end, y));
        if cut {
            let head = Polygon::new(vec![(0, -5), (0, 5), (8 * outwards, 0)], color.filled());
            chart.draw_series(std::iter::once(at + head))?;
        } else {
            chart.draw_series(std::iter::once(at + PathElement::new([(0, -6), (0, 6)], style)))?;
        }
    }
    Ok(())
}
