//! Grids drawn as maps: a group's means (a light-to-dark scale from 0), or its ratios to the
//! baseline (a diverging scale centred on 1.0, red for less, blue for more, symmetric on a
//! log scale so that 0.5 and 2 are equally strong), each with a legend in numbers.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::super::{Matrix, number};
use super::{BAR, caption_size};

const LEGEND_WIDTH: u32 = 120;
const LESS: RGBColor = RGBColor(190, 40, 40);
const MORE: RGBColor = RGBColor(40, 90, 180);
const EMPTY: RGBColor = RGBColor(220, 220, 220);

/// How cell values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// 0 (lightest) to the largest mean (darkest).
    Means { top: f64 },
    /// Ratios: 1.0 white; 2^-span full red, 2^span full blue (clamped beyond).
    Ratios { span: f64 },
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
        Scale::Ratios { span: farthest }
    }

    /// Where `value` sits, -1..1 for ratios (0 at 1.0), 0..1 for means.
    fn position(&self, value: f64) -> f64 {
        match *self {
            Scale::Means { top } => (value / top).clamp(0.0, 1.0),
            Scale::Ratios { span } if value > 0.0 => (value.log2() / span).clamp(-1.0, 1.0),
            Scale::Ratios { .. } => -1.0,
        }
    }

    pub fn color(&self, value: f64) -> RGBColor {
        let t = self.position(value);
        match self {
            Scale::Means { .. } => blend(RGBColor(240, 245, 250), BAR, 0.1 + 0.9 * t),
            Scale::Ratios { .. } if t < 0.0 => blend(WHITE, LESS, -t),
            Scale::Ratios { .. } => blend(WHITE, MORE, t),
        }
    }

    /// The legend's labelled values, top to bottom.
    fn ticks(&self) -> Vec<f64> {
        match *self {
            Scale::Means { top } => vec![top, top * 0.75, top * 0.5, top * 0.25, 0.0],
            Scale::Ratios { span } => [1.0, 0.5, 0.0, -0.5, -1.0].iter().map(|k| (k * span).exp2()).collect(),
        }
    }

    /// The value at a legend position (top = 1, bottom = 0).
    fn at(&self, fraction: f64) -> f64 {
        match *self {
            Scale::Means { top } => fraction * top,
            Scale::Ratios { span } => ((2.0 * fraction - 1.0) * span).exp2(),
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

/// A group's grid as coloured cells with their values, the first row at the top, and the
/// legend on the right. A ratio whose interval excludes 1 is framed and starred.
pub fn heatmap(
    area: &DrawingArea<SVGBackend, Shift>,
    m: &Matrix,
    scale: Scale,
    baseline: Option<&str>,
) -> anyhow::Result<()> {
    let (map_area, legend_area) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND_WIDTH);
    let grid = &m.grid;
    let (rows, columns) = (grid.rows.len(), grid.header.len() - 1);
    let (row_name, column_name) = grid.header[0].split_once(" \\ ").unwrap_or(("", ""));
    let caption = match (scale, baseline) {
        (Scale::Ratios { .. }, Some(base)) => {
            format!("{}: {}, ratio to {base} (* its 95% interval excludes 1)", m.group, m.table)
        }
        _ => format!("{}: {}, {}", m.group, m.table, m.unit),
    };
    let mut chart = ChartBuilder::on(&map_area)
        .caption(&caption, ("sans-serif", caption_size(&caption)))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0..columns.saturating_sub(1)).into_segmented(),
            (0..rows.saturating_sub(1)).into_segmented(),
        )?;
    // Segment k from the bottom is row rows - 1 - k.
    let row_label = |k: &SegmentValue<usize>| match k {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) if *k < rows => grid.rows[rows - 1 - k][0].clone(),
        _ => String::new(),
    };
    let column_label = |k: &SegmentValue<usize>| match k {
        SegmentValue::CenterOf(k) | SegmentValue::Exact(k) if *k < columns => grid.header[k + 1].clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(column_name)
        .y_desc(row_name)
        .x_labels(columns)
        .y_labels(rows)
        .x_label_formatter(&column_label)
        .y_label_formatter(&row_label)
        .draw()?;
    let font = if columns > 6 { 11 } else { 16 };
    for (i, row) in grid.rows.iter().enumerate() {
        let y = rows - 1 - i;
        for (x, text) in row[1..].iter().enumerate() {
            let value = text.parse::<f64>().ok();
            let marked = m.excludes_one.get(i).and_then(|r| r.get(x)).copied().unwrap_or(false);
            let corners = [
                (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
            ];
            let color = value.map_or(EMPTY, |v| scale.color(v));
            chart.draw_series(std::iter::once(Rectangle::new(corners.clone(), color.filled())))?;
            if marked {
                chart.draw_series(std::iter::once(Rectangle::new(corners, BLACK.stroke_width(3))))?;
            }
            let mut label = value.map_or_else(|| "-".to_string(), number);
            if marked {
                label.push_str(" *");
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)))
                    + Text::new(label, (-font, -6), ("sans-serif", font).into_font()),
            ))?;
        }
    }
    legend(&legend_area, scale)
}

/// A vertical colour bar with its values.
fn legend(area: &DrawingArea<SVGBackend, Shift>, scale: Scale) -> anyhow::Result<()> {
    const STRIPS: i32 = 60;
    let (top, height, left, width) = (70, 330, 10, 24);
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
    let ticks = scale.ticks();
    for (k, value) in ticks.iter().enumerate() {
        let y = top + (k as i32) * height / (ticks.len() as i32 - 1);
        area.draw(&PathElement::new([(left + width, y), (left + width + 5, y)], BLACK.stroke_width(1)))?;
        area.draw(&Text::new(number(*value), (left + width + 8, y - 7), ("sans-serif", 14).into_font()))?;
    }
    let title = match scale {
        Scale::Means { .. } => "mean",
        Scale::Ratios { .. } => "ratio",
    };
    area.draw(&Text::new(title, (left, top - 24), ("sans-serif", 14).into_font()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The map draws every cell's figure (a marked one starred) and the legend in the strip
    /// right of it, inside the 800 px picture.
    #[test]
    fn the_map_has_its_figures_and_its_legend_on_the_right() {
        let m = matrix(&["0.5", "2"]);
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
            heatmap(&area, &m, Scale::ratios(&m), Some("host")).unwrap();
            area.present().unwrap();
        }
        assert!(svg.contains("0.500 *") && svg.contains("\n2.000\n"), "{svg}");
        assert!(svg.contains("ratio to host"));
        let title = svg.find("\nratio\n").expect("the legend's title");
        let x_at = svg[..title].rfind("x=\"").unwrap() + 3;
        let x: f64 = svg[x_at..].split('"').next().unwrap().parse().unwrap();
        assert!((680.0..800.0).contains(&x), "legend at x = {x}");
    }

    #[test]
    fn ratios_diverge_from_white_at_one_symmetric_on_a_log_scale() {
        let scale = Scale::Ratios { span: 2.0 };
        assert_eq!(scale.color(1.0), WHITE);
        assert_eq!(scale.color(0.25), LESS);
        assert_eq!(scale.color(4.0), MORE);
        assert_eq!(scale.color(0.01), LESS, "clamped");
        assert_eq!(scale.color(0.0), LESS, "nothing is the least");
        assert_eq!(scale.color(-0.5), LESS, "below nothing too");
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
        }
    }

    #[test]
    fn the_span_reaches_the_farthest_ratio_and_at_least_two() {
        assert_eq!(Scale::ratios(&matrix(&["1.1", "0.9"])), Scale::Ratios { span: 1.0 });
        assert_eq!(Scale::ratios(&matrix(&["0.125", ""])), Scale::Ratios { span: 3.0 });
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
        assert_eq!(Scale::ratios(&matrix(&["0", "1.5"])), Scale::Ratios { span: 1.0 });
    }
}
