//! Grids drawn as maps: a group's means (a light-to-dark scale from 0), or its ratios to the
//! baseline (a diverging scale centred on 1.0, red for worse, blue for better: for less and
//! more, but the other way round for a time; symmetric on a log scale so that 0.5 and 2 are
//! equally strong), each with a legend in numbers.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::{Matrix, number};
use super::{Area, BAR, Header, MAX_WIDTH, MIN_WIDTH, PlotArea, Slots, TEXT_PX, font, slot_name, widest};

const LEGEND_WIDTH: u32 = 120;
const WORSE: RGBColor = RGBColor(190, 40, 40);
const BETTER: RGBColor = RGBColor(40, 90, 180);
const EMPTY: RGBColor = RGBColor(220, 220, 220);
/// The legend's labelled values.
const TICKS: i32 = 5;

/// How cell values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// 0 (lightest) to the largest mean (darkest).
    Means { top: f64 },
    /// Ratios: 1.0 white; 2^-span full red, 2^span full blue (clamped beyond); the other way
    /// round when lower is better.
    Ratios { span: f64, lower_is_better: bool },
}

impl Scale {
    pub fn means(m: &Matrix) -> Scale {
        let top = values(m).flatten().fold(0.0, f64::max);
        Scale::Means { top: if top > 0.0 { top } else { 1.0 } }
    }

    /// The span reaches the farthest ratio, and at least 2× either way: a map of ratios near 1
    /// stays pale instead of stretching noise to full colour.
    pub fn ratios(m: &Matrix) -> Scale {
        let farthest = values(m).flatten().filter(|v| *v > 0.0).map(|v| v.log2().abs()).fold(1.0, f64::max);
        Scale::Ratios { span: farthest, lower_is_better: m.lower_is_better }
    }

    /// Where `value` sits, -1..1 for ratios (0 at 1.0), 0..1 for means.
    fn position(&self, value: f64) -> f64 {
        match *self {
            Scale::Means { top } => (value / top).clamp(0.0, 1.0),
            Scale::Ratios { span, .. } if value > 0.0 => (value.log2() / span).clamp(-1.0, 1.0),
            Scale::Ratios { .. } => -1.0,
        }
    }

    pub fn color(&self, value: f64) -> RGBColor {
        let t = self.position(value);
        match self {
            Scale::Means { .. } => blend(RGBColor(240, 245, 250), BAR, 0.1 + 0.9 * t),
            Scale::Ratios { lower_is_better, .. } => {
                let better = if *lower_is_better { -t } else { t };
                if better < 0.0 { blend(WHITE, WORSE, -better) } else { blend(WHITE, BETTER, better) }
            }
        }
    }

    /// The legend's labelled values, top to bottom.
    fn ticks(&self) -> Vec<f64> {
        match *self {
            Scale::Means { top } => vec![top, top * 0.75, top * 0.5, top * 0.25, 0.0],
            Scale::Ratios { span, .. } => {
                [1.0, 0.5, 0.0, -0.5, -1.0].iter().map(|k| (k * span).exp2()).collect()
            }
        }
    }

    /// The value at a legend position (top = 1, bottom = 0).
    fn at(&self, fraction: f64) -> f64 {
        match *self {
            Scale::Means { top } => fraction * top,
            Scale::Ratios { span, .. } => ((2.0 * fraction - 1.0) * span).exp2(),
        }
    }
}

fn blend(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// The grid's numbers, row by row (its first column is the row's label).
fn values(m: &Matrix) -> impl Iterator<Item = Option<f64>> + '_ {
    m.grid.rows.iter().flat_map(|row| row[1..].iter().map(|c| c.parse::<f64>().ok()))
}

/// A group's grid drawn as a map: its layout, worked out before drawing so that the picture is
/// as large as its cells need (at most [`MAX_WIDTH`]).
pub struct Map<'m> {
    m: &'m Matrix,
    scale: Scale,
    header: Header,
    /// The row labels' area, a cell's width and height, and the picture's width.
    row_labels: f64,
    cell: (f64, f64),
    width: u32,
    /// Whether the cells are large enough for their figures (else colour only: the tables
    /// hold the numbers); every how many columns and rows a label fits.
    figures: bool,
    label_every: (usize, usize),
}

const MARGIN: f64 = 15.0;
const COLUMN_LABELS: u32 = 50;
const CELL_HEIGHT: f64 = 30.0;
/// The map's height: from a few rows (a one-row map is a band, not a line) to a screenful.
const MAP_HEIGHT: std::ops::RangeInclusive<f64> = 140.0..=620.0;

impl<'m> Map<'m> {
    /// The map of `m`'s means, or with `ratios` of its ratios to `baseline`.
    pub fn new(m: &'m Matrix, ratios: bool, baseline: Option<&str>) -> Map<'m> {
        let scale = if ratios { Scale::ratios(m) } else { Scale::means(m) };
        let header = match (scale, baseline) {
            (Scale::Ratios { .. }, Some(base)) => Header::new(
                format!(
                    "{}: {}, ratio to {base}{}",
                    m.group,
                    m.table,
                    if m.lower_is_better { " (lower is better)" } else { "" }
                ),
                "* and a frame: its 95% interval excludes 1",
            ),
            _ => Header::new(format!("{}: {}, {}", m.group, m.table, m.unit), ""),
        };
        let grid = &m.grid;
        let (rows, columns) = (grid.rows.len().max(1) as f64, (grid.header.len() - 1).max(1) as f64);
        let cells = (0..grid.rows.len()).flat_map(|i| (1..grid.header.len()).map(move |x| (i, x - 1)));
        let figure = widest(cells.map(|(i, x)| label(m, i, x))) + 10.0;
        let column_label = widest(&grid.header[1..]) + 8.0;
        let row_labels = widest(grid.rows.iter().map(|r| &r[0])) + 40.0;
        let fixed = row_labels + f64::from(LEGEND_WIDTH) + 2.0 * MARGIN;
        let wanted = figure.max(column_label).max(40.0);
        let cell_width = wanted.min((f64::from(MAX_WIDTH) - fixed) / columns);
        let width = (fixed + cell_width * columns).ceil() as u32;
        let map_height = (rows * CELL_HEIGHT).clamp(*MAP_HEIGHT.start(), *MAP_HEIGHT.end());
        let cell = (cell_width, map_height / rows);
        let every = |needed: f64, room: f64| (needed / room).ceil().max(1.0) as usize;
        Map {
            m,
            scale,
            header,
            row_labels,
            cell,
            width: width.max(MIN_WIDTH),
            figures: cell.0 >= figure && cell.1 >= TEXT_PX * 1.5,
            label_every: (every(column_label, cell.0), every(TEXT_PX * 1.3, cell.1)),
        }
    }

    pub fn size(&self) -> (u32, u32) {
        let map = self.cell.1 * self.m.grid.rows.len().max(1) as f64;
        let height =
            f64::from(self.header.height(self.width)) + 5.0 + map + f64::from(COLUMN_LABELS) + MARGIN;
        (self.width, height.ceil() as u32)
    }

    /// Coloured cells with their values, the first row at the top, and the legend on the
    /// right. A ratio whose interval excludes 1 is framed and starred.
    pub fn draw(&self, area: &Area) -> anyhow::Result<PlotArea> {
        let area = self.header.draw(area)?;
        let (map_area, legend_area) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
        let grid = &self.m.grid;
        let (rows, columns) = (grid.rows.len(), grid.header.len() - 1);
        let (row_name, column_name) = grid.header[0].split_once(" \\ ").unwrap_or(("", ""));
        let mut chart = ChartBuilder::on(&map_area)
            .margin(MARGIN as u32)
            .margin_top(5)
            .x_label_area_size(COLUMN_LABELS)
            .y_label_area_size(self.row_labels as u32)
            .build_cartesian_2d(Slots(columns), Slots(rows))?;
        // Slot k from the bottom is row rows - 1 - k.
        let row_names: Vec<String> =
            (0..rows).rev().map(|i| labelled(&grid.rows[i][0], rows - 1 - i, self.label_every.1)).collect();
        let column_names: Vec<String> = grid.header[1..]
            .iter()
            .enumerate()
            .map(|(k, name)| labelled(name, k, self.label_every.0))
            .collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(column_name)
            .y_desc(row_name)
            .label_style(font(TEXT_PX))
            .axis_desc_style(font(TEXT_PX))
            .x_label_formatter(&|x| slot_name(*x, &column_names))
            .y_label_formatter(&|y| slot_name(*y, &row_names))
            .draw()?;
        let centred = font(TEXT_PX).pos(Pos::new(HPos::Center, VPos::Center));
        for (i, row) in grid.rows.iter().enumerate() {
            let y = (rows - 1 - i) as f64;
            for (x, text) in row[1..].iter().enumerate() {
                let x = x as f64;
                let corners = [(x, y), (x + 1.0, y + 1.0)];
                let color = text.parse::<f64>().map_or(EMPTY, |v| self.scale.color(v));
                chart.draw_series(std::iter::once(Rectangle::new(corners, color.filled())))?;
                if marked(self.m, i, x as usize) {
                    chart.draw_series(std::iter::once(Rectangle::new(corners, BLACK.stroke_width(3))))?;
                }
                if self.figures {
                    chart.draw_series(std::iter::once(Text::new(
                        label(self.m, i, x as usize),
                        (x + 0.5, y + 0.5),
                        centred.color(&legible_on(color)),
                    )))?;
                }
            }
        }
        let plot = chart.plotting_area().get_pixel_range();
        let top = area.get_base_pixel().1;
        legend(&legend_area, self.scale, (plot.1.start - top)..(plot.1.end - top))?;
        Ok(plot)
    }
}

/// Black on a light cell, white on a dark one.
fn legible_on(cell: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(cell.0) + 0.587 * f64::from(cell.1) + 0.114 * f64::from(cell.2);
    if luma < 128.0 { WHITE } else { BLACK }
}

/// `name`, or nothing where only every `every`th label fits.
fn labelled(name: &str, k: usize, every: usize) -> String {
    if k.is_multiple_of(every) { name.to_string() } else { String::new() }
}

fn marked(m: &Matrix, row: usize, column: usize) -> bool {
    m.excludes_one.get(row).and_then(|r| r.get(column)).copied().unwrap_or(false)
}

/// A cell's figure as the map writes it: `-` for none, starred when its interval excludes 1.
fn label(m: &Matrix, row: usize, column: usize) -> String {
    let text = m.grid.rows[row].get(column + 1).map_or("", String::as_str);
    let mut label = text.parse::<f64>().map_or_else(|_| "-".to_string(), number);
    if marked(m, row, column) {
        label.push_str(" *");
    }
    label
}

/// A vertical colour bar with its values, beside the map's rows (`rows`: their pixel range in
/// `area`).
fn legend(area: &Area, scale: Scale, rows: std::ops::Range<i32>) -> anyhow::Result<()> {
    const STRIPS: i32 = 60;
    let (left, width) = (10, 24);
    let (top, height) = (rows.start, (rows.end - rows.start).max(TICKS * TEXT_PX as i32 * 2));
    for k in 0..STRIPS {
        let fraction = 1.0 - (f64::from(k) + 0.5) / f64::from(STRIPS);
        let y = top + k * height / STRIPS;
        let next = top + (k + 1) * height / STRIPS;
        area.draw(&Rectangle::new(
            [(left, y), (left + width, next)],
            scale.color(scale.at(fraction)).filled(),
        ))?;
    }
    area.draw(&Rectangle::new([(left, top), (left + width, top + height)], BLACK.stroke_width(1)))?;
    let beside = font(TEXT_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, value) in scale.ticks().iter().enumerate() {
        let y = top + (k as i32) * height / (TICKS - 1);
        area.draw(&PathElement::new([(left + width, y), (left + width + 5, y)], BLACK.stroke_width(1)))?;
        area.draw(&Text::new(number(*value), (left + width + 8, y), beside.clone()))?;
    }
    let title = match scale {
        Scale::Means { .. } => "mean",
        Scale::Ratios { .. } => "ratio",
    };
    let over = font(TEXT_PX).pos(Pos::new(HPos::Left, VPos::Bottom));
    area.draw(&Text::new(title, (left, top - 6), over))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The map draws every cell's figure (a marked one starred) and the legend in the strip
    /// right of it.
    #[test]
    fn the_map_has_its_figures_and_its_legend_on_the_right() {
        let m = matrix(&["0.5", "2"]);
        let map = Map::new(&m, true, Some("host"));
        let svg = super::super::draw("map", map.size(), |area| map.draw(area)).unwrap();
        assert!(svg.contains("0.500 *") && svg.contains("\n2.000\n"), "{svg}");
        assert!(svg.contains("ratio to host"));
        let title = svg.find("\nratio\n").expect("the legend's title");
        let x_at = svg[..title].rfind("x=\"").unwrap() + 3;
        let x: f64 = svg[x_at..].split('"').next().unwrap().parse().unwrap();
        assert_eq!((legible_on(BAR), legible_on(WORSE), legible_on(EMPTY)), (WHITE, WHITE, BLACK));
        let width = f64::from(map.size().0);
        assert!((width - f64::from(LEGEND_WIDTH)..width).contains(&x), "legend at x = {x} of {width}");
    }

    #[test]
    fn ratios_diverge_from_white_at_one_symmetric_on_a_log_scale() {
        let scale = Scale::Ratios { span: 2.0, lower_is_better: false };
        assert_eq!(scale.color(1.0), WHITE);
        assert_eq!(scale.color(0.25), WORSE);
        assert_eq!(scale.color(4.0), BETTER);
        assert_eq!(scale.color(0.01), WORSE, "clamped");
        assert_eq!(scale.color(0.0), WORSE, "nothing is the least");
        assert_eq!(scale.color(-0.5), WORSE, "below nothing too");
        let times = Scale::Ratios { span: 2.0, lower_is_better: true };
        assert_eq!((times.color(0.25), times.color(4.0)), (BETTER, WORSE), "a quicker time is better");
        assert_eq!(scale.position(2.0), 0.5);
        assert_eq!(scale.position(1.0 / 16.0), -1.0);
        assert_eq!(scale.position(0.5), -scale.position(2.0));
        let (below, above) = (scale.color(0.5), scale.color(2.0));
        assert!(below.0 > below.2 && above.2 > above.0, "red below 1, blue above: {below:?} {above:?}");
        // A uniform 0.3 map and a uniform 2.0 map no longer look alike.
        assert_ne!(scale.color(0.3), scale.color(2.0));
        assert_eq!(scale.ticks(), [4.0, 2.0, 1.0, 0.5, 0.25]);
        assert_eq!(scale.at(0.5), 1.0);
        assert_eq!(scale.at(1.0), 4.0);
    }

    fn matrix(cells: &[&str]) -> Matrix {
        Matrix {
            group: "g".into(),
            table: "t".into(),
            unit: "ratio to the baseline",
            grid: super::super::super::Grid {
                header: vec!["a \\ b".into(), "x".into(), "y".into()],
                rows: vec![std::iter::once("r").chain(cells.iter().copied()).map(String::from).collect()],
                numeric: vec![true; 3],
            },
            excludes_one: vec![vec![true, false]],
            lower_is_better: false,
        }
    }

    #[test]
    fn the_span_reaches_the_farthest_ratio_and_at_least_two() {
        assert_eq!(
            Scale::ratios(&matrix(&["1.1", "0.9"])),
            Scale::Ratios { span: 1.0, lower_is_better: false }
        );
        assert_eq!(
            Scale::ratios(&matrix(&["0.125", ""])),
            Scale::Ratios { span: 3.0, lower_is_better: false }
        );
        assert_eq!(Scale::means(&matrix(&["3", "12"])), Scale::Means { top: 12.0 });
        assert_eq!(Scale::means(&matrix(&["0", ""])), Scale::Means { top: 1.0 });
        let means = Scale::Means { top: 10.0 };
        assert_ne!(means.color(0.0), means.color(10.0));
        assert_eq!(means.color(10.0), BAR);
        assert_eq!(means.ticks(), [10.0, 7.5, 5.0, 2.5, 0.0]);
        assert_eq!(means.position(2.5), 0.25);
        assert_eq!(means.at(0.5), 5.0);
        assert_eq!(means.color(5.0), blend(RGBColor(240, 245, 250), BAR, 0.55));
        // A ratio of 0 (a group that moved nothing) does not stretch the scale to infinity.
        assert_eq!(
            Scale::ratios(&matrix(&["0", "1.5"])),
            Scale::Ratios { span: 1.0, lower_is_better: false }
        );
    }
}
