//! SVG charts of a comparison (plotters, SVG backend): per metric the groups' means with 95%
//! intervals and the baseline marked, and every run as a dot, so an outlier is seen rather than
//! averaged away. SVG only: plotters' bitmap backend needs a font rasteriser (system fonts via
//! fontconfig, or a bundled font); SVG leaves the text to the viewer.
//!
//! Each chart is drawn at the size report.html shows it (its own width, at most [`MAX_WIDTH`],
//! which the page's column holds), so the text sizes here are the sizes a reader sees. The root
//! `<svg>` names its plot area (`data-plot-area="x y width height"`) for whoever checks that
//! the data is drawn in it.

use std::ops::Range;

use anyhow::Context;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

mod groups;
mod map;
mod overhead;
#[cfg(test)]
mod tests;

pub use overhead::overhead_chart;

use crate::result::comparison::{Comparison, Row};

/// The widest chart: report.html's column is 70em (1120 px at the browser's 16 px), so a chart
/// up to this width is shown at its own size, never scaled down.
pub const MAX_WIDTH: u32 = 1100;
/// The narrowest chart: two side by side fill the column.
const MIN_WIDTH: u32 = 540;
/// Text in px as the SVG says them: every label, tick and figure; titles are larger.
const TEXT_PX: f64 = 12.0;
const TITLE_PX: f64 = 15.0;
/// Up to this many grid cells (rows of the comparison) also get a bar and a dot chart each.
const MAX_CELL_CHARTS: usize = 32;
const BAR: RGBColor = RGBColor(70, 120, 180);
const BASELINE: RGBColor = RGBColor(200, 110, 40);

/// Where the data is drawn, in the picture's pixels: x and y ranges.
type PlotArea = (Range<i32>, Range<i32>);
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

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
        let bar_header = header(c, &rows).with_keys(groups::keys(&rows));
        let size = groups::size(&rows, &bar_header);
        let bars = names.file(&["bar", metric]);
        charts.push((bars.clone(), draw(&bars, size, |area| groups::bar_chart(area, &bar_header, &rows))?));
        let dots = names.file(&["runs", metric]);
        let dot_header = header(c, &rows);
        charts.push((dots.clone(), draw(&dots, size, |area| groups::dot_plot(area, &dot_header, &rows))?));
    }
    // Grids: each group's means, and with a baseline each group's ratios to it.
    let baseline = c.rows.iter().find(|r| r.baseline).map(|r| r.group.as_str());
    for (kind, ratios) in [("heatmap", false), ("ratio", true)] {
        for m in super::matrices(c, super::Style::Machine, ratios) {
            let name = names.file(&[kind, &m.group, &m.table]);
            let map = map::Map::new(&m, ratios, baseline);
            charts.push((name.clone(), draw(&name, map.size(), |area| map.draw(area))?));
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

/// One chart of `size` as SVG text, its plot area named on the root element; `name` names it
/// in an error.
fn draw(
    name: &str,
    size: (u32, u32),
    chart: impl FnOnce(&Area) -> anyhow::Result<PlotArea>,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    let (x, y) = {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        area.fill(&WHITE)?;
        let plot = chart(&area).with_context(|| format!("drawing {name}"))?;
        area.present()?;
        plot
    };
    let named =
        format!("<svg data-plot-area=\"{} {} {} {}\" ", x.start, y.start, x.end - x.start, y.end - y.start);
    Ok(svg.replacen("<svg ", &named, 1))
}

/// The metric and its unit, and the parameters its groups share as the detail, e.g.
/// `write bandwidth (IOR convention), MiB/s` and `block_size_bytes=1048576, iterations=5`.
fn header(c: &Comparison, rows: &[&Row]) -> Header {
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
    let mut params = String::new();
    for item in shared {
        if params.len() + item.len() > 140 {
            break;
        }
        params.push_str(if params.is_empty() { "" } else { ", " });
        params.push_str(&item);
    }
    Header::new(format!("{}, {}", rows[0].title, rows[0].unit), params)
}

/// A font of `px` pixels as the SVG will say it: plotters' SVG backend writes a requested size
/// divided by 1.24 (its points-to-pixels guess), so the request is 1.24 times the size meant.
fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", px * 1.24).into_font())
}

/// The width `text` takes at `px`, a little generous: DejaVu Sans' advances (the widest of
/// the usual sans-serif fonts), rounded up by class of character.
fn text_width(text: &str, px: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.3,
            ' ' | 'f' | 'r' | 't' | '(' | ')' | '[' | ']' | '-' | '/' => 0.42,
            'm' | 'w' | 'M' | 'W' | '%' | '=' | '—' | '×' => 0.9,
            c if c.is_ascii_uppercase() => 0.72,
            _ => 0.64,
        })
        .sum();
    em * px
}

/// The widest of `texts` at the charts' text size.
fn widest(texts: impl IntoIterator<Item = impl AsRef<str>>) -> f64 {
    texts.into_iter().map(|t| text_width(t.as_ref(), TEXT_PX)).fold(0.0, f64::max)
}

/// `text` broken at spaces into lines of at most `width` pixels at `px` (a longer word alone).
fn wrap(text: &str, px: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), px) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// A legend entry: its mark and what it means.
struct Key {
    mark: Mark,
    text: String,
}

enum Mark {
    Line(RGBColor),
    Dot(RGBColor),
}

/// What a chart says above its plot: a title, a detail in smaller type, and a key, each line
/// wrapped to the chart's width.
struct Header {
    title: String,
    detail: String,
    keys: Vec<Key>,
}

/// A line's height, as a multiple of its text's size.
const LINE_HEIGHT: f64 = 1.4;
const DETAIL: RGBColor = RGBColor(80, 80, 80);

impl Header {
    fn new(title: impl Into<String>, detail: impl Into<String>) -> Header {
        Header { title: title.into(), detail: detail.into(), keys: Vec::new() }
    }

    fn with_keys(self, keys: Vec<Key>) -> Header {
        Header { keys, ..self }
    }

    /// The centred lines (text, size) at a chart's `width`.
    fn lines(&self, width: u32) -> Vec<(String, f64)> {
        let room = f64::from(width) - 30.0;
        let title = wrap(&self.title, TITLE_PX, room).into_iter().map(|l| (l, TITLE_PX));
        title.chain(wrap(&self.detail, TEXT_PX, room).into_iter().map(|l| (l, TEXT_PX))).collect()
    }

    fn height(&self, width: u32) -> u32 {
        let lines: f64 = self.lines(width).iter().map(|(_, px)| px * LINE_HEIGHT).sum();
        (10.0 + lines + self.keys.len() as f64 * TEXT_PX * 1.6 + 6.0).ceil() as u32
    }

    /// Draws the lines at the top of `area`, the keys left-aligned under them, and returns the
    /// area below.
    fn draw<'a>(&self, area: &Area<'a>) -> anyhow::Result<Area<'a>> {
        let width = area.dim_in_pixel().0;
        let centre = (width / 2) as i32;
        let mut y = 10.0;
        for (line, px) in self.lines(width) {
            let color = if px == TITLE_PX { BLACK } else { DETAIL };
            let style = font(px).color(&color).pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(line, (centre, y as i32), style))?;
            y += px * LINE_HEIGHT;
        }
        for key in &self.keys {
            let (left, middle) = (20, (y + TEXT_PX * 0.8) as i32);
            match key.mark {
                Mark::Line(color) => area
                    .draw(&PathElement::new([(left, middle), (left + 22, middle)], color.stroke_width(2)))?,
                Mark::Dot(color) => area.draw(&Circle::new((left + 11, middle), 5, color.filled()))?,
            }
            let style = font(TEXT_PX).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(key.text.clone(), (left + 30, middle), style))?;
            y += TEXT_PX * 1.6;
        }
        let (_, below) = area.split_vertically(self.height(width));
        Ok(below)
    }
}

/// `n` slots side by side on an axis, slot `i` spanning `i..i + 1` with its tick at its centre.
/// (plotters' segmented coordinates put everything of a one-slot axis on one pixel: a bar of
/// one group, a heatmap of one row had no width.)
#[derive(Clone, Copy)]
struct Slots(usize);

impl Ranged for Slots {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.range().end;
        limit.0 + (f64::from(limit.1 - limit.0) * share).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _: Hint) -> Vec<f64> {
        (0..self.0).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.0.max(1) as f64
    }
}

/// What plotters' mesh needs; every chart names its slots with its own label formatter.
impl ValueFormatter<f64> for Slots {
    fn format(value: &f64) -> String {
        format!("{value}")
    }
}

/// The name of the slot at `x`.
fn slot_name(x: f64, names: &[String]) -> String {
    if x < 0.0 { String::new() } else { names.get(x as usize).cloned().unwrap_or_default() }
}
