//! Every chart kind in every shape (one group or many; a grid of one cell, one row, one column,
//! many; a forest of one figure or several benchmarks), read back as SVG: the data is drawn
//! inside the plot area the chart names, and every text is readable at the size report.html
//! shows the chart.

use serde_json::Map;

use super::*;
use crate::result::campaign::{FamilyFigure, Figure, Overhead};
use crate::result::comparison::{AxisKey, GridCell, Group, NoInterval, Ratio, Summary};

/// A chart read back: its size, plot area and elements.
struct Chart<'a> {
    name: String,
    doc: roxmltree::Document<'a>,
    plot: [f64; 4],
}

impl<'a> Chart<'a> {
    fn parse(name: &str, svg: &'a str) -> Chart<'a> {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
        let plot: Vec<f64> = doc
            .root_element()
            .attribute("data-plot-area")
            .unwrap_or_else(|| panic!("{name} names no plot area"))
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        Chart { name: name.into(), doc, plot: [plot[0], plot[1], plot[2], plot[3]] }
    }

    fn size(&self) -> (f64, f64) {
        let root = self.doc.root_element();
        (number(root, "width"), number(root, "height"))
    }

    fn elements(&self, tag: &str) -> impl Iterator<Item = roxmltree::Node<'_, 'a>> {
        self.doc.descendants().filter(move |n| n.has_tag_name(tag))
    }

    /// Filled rectangles of some size that lie in the plot area (a pixel of rounding allowed).
    fn cells(&self) -> Vec<[f64; 4]> {
        let [x, y, w, h] = self.plot;
        self.elements("rect")
            .filter(|r| r.attribute("fill").is_some_and(|f| f != "none"))
            .map(|r| [number(r, "x"), number(r, "y"), number(r, "width"), number(r, "height")])
            .filter(|&[rx, ry, rw, rh]| {
                rw >= 1.0
                    && rh >= 1.0
                    && rx >= x - 1.0
                    && ry >= y - 1.0
                    && rx + rw <= x + w + 1.0
                    && ry + rh <= y + h + 1.0
            })
            .collect()
    }

    /// Dots of `colors` whose centres lie in the plot area (its edges included).
    fn dots(&self, colors: &[&str]) -> usize {
        let [x, y, w, h] = self.plot;
        self.elements("circle")
            .filter(|c| c.attribute("fill").is_some_and(|f| colors.contains(&f)))
            .filter(|c| {
                let (cx, cy) = (number(*c, "cx"), number(*c, "cy"));
                (x - 1.0..=x + w + 1.0).contains(&cx) && (y - 1.0..=y + h + 1.0).contains(&cy)
            })
            .count()
    }

    /// Every text: its content, x, y and size in px.
    fn texts(&self) -> Vec<(String, f64, f64, f64)> {
        self.elements("text")
            .map(|t| {
                let text = t.text().unwrap_or_default().trim().to_string();
                (text, number(t, "x"), number(t, "y"), number(t, "font-size"))
            })
            .collect()
    }

    /// Every text is at least 11 px, and the chart at most the page's width, so that the text
    /// is at least 11 px as report.html shows it (at its own size); and every text starts in
    /// the picture.
    fn assert_readable(&self) {
        let (width, height) = self.size();
        assert!(width <= f64::from(MAX_WIDTH), "{}: {width} px wide", self.name);
        for (text, x, y, px) in self.texts() {
            assert!(px >= 11.0, "{}: {text:?} at {px} px", self.name);
            assert!(
                (0.0..=width).contains(&x) && (0.0..=height).contains(&y),
                "{}: {text:?} at {x},{y}",
                self.name
            );
        }
    }
}

fn number(node: roxmltree::Node, attribute: &str) -> f64 {
    node.attribute(attribute).unwrap_or_else(|| panic!("no {attribute} on {node:?}")).parse().unwrap()
}

const BAR_FILL: &str = "#4678B4";
const BASELINE_FILL: &str = "#C86E28";

fn summary(values: &[f64]) -> Summary {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let half = (n > 1).then_some(mean * 0.1);
    Summary {
        n,
        mean,
        median: mean,
        min,
        max,
        sd: half,
        cv_percent: half.map(|_| 5.0),
        ci95_low: half.map(|h| mean - h),
        ci95_high: half.map(|h| mean + h),
    }
}

/// `groups` groups (the first the baseline), each with `runs` runs of each metric; with
/// `grid` (rows, columns) the metrics are an fs grid's cells, else one metric.
fn comparison(groups: usize, runs: usize, grid: Option<(u64, u64)>) -> Comparison {
    let cells: Vec<Option<GridCell>> = match grid {
        None => vec![None],
        Some((rows, columns)) => (0..rows)
            .flat_map(|r| (0..columns).map(move |c| (r, c)))
            .map(|(r, c)| {
                Some(GridCell {
                    table: "write".into(),
                    rows: "file KiB",
                    columns: "record KiB",
                    row: AxisKey::Number(64 << r),
                    column: AxisKey::Number(4 << c),
                })
            })
            .collect(),
    };
    let names: Vec<String> =
        (0..groups).map(|g| ["host", "guest", "dom0-nobridge", "g3", "g4"][g].into()).collect();
    let mut rows = Vec::new();
    for (k, cell) in cells.iter().enumerate() {
        for (g, name) in names.iter().enumerate() {
            // The guests keep half the host's figure, the cells differ.
            let base = 100.0 * (k + 1) as f64 / (g + 1) as f64;
            let values: Vec<f64> = (0..runs).map(|j| base + j as f64).collect();
            let summary = summary(&values);
            let ratio = (g > 0).then(|| Ratio {
                value: 1.0 / (g + 1) as f64,
                low: Some(0.9 / (g + 1) as f64),
                high: Some(1.1 / (g + 1) as f64),
                verdict: "lower".into(),
                no_interval: None,
            });
            rows.push(Row {
                metric: format!("write_{k}_mib_per_s"),
                title: "write".into(),
                unit: "MiB/s",
                lower_is_better: false,
                cell: cell.clone(),
                group: name.clone(),
                summary,
                baseline: g == 0,
                ratio,
                values,
            });
        }
    }
    Comparison {
        schema_version: 2,
        kind: "comparison",
        grouped_by: vec!["label".into()],
        baseline: Some("host".into()),
        ratio_method: "",
        documents: groups * runs,
        skipped_bad: 0,
        without_metrics: 0,
        left_out: Vec::new(),
        groups: names
            .iter()
            .map(|n| Group { name: n.clone(), kind: "fs", runs, parameters: Map::new(), files: Vec::new() })
            .collect(),
        rows,
    }
}

/// The bar chart has a bar per group, the dot plot a dot per run, in the plot area; each map
/// a cell per grid cell, filling its plot area.
#[test]
fn every_chart_kind_draws_its_data_in_its_plot_area_in_every_shape() {
    for groups in [1, 2, 5] {
        for runs in [1, 3] {
            for grid in [None, Some((1, 1)), Some((1, 3)), Some((3, 1)), Some((3, 3))] {
                let cells = grid.map_or(1, |(r, c)| r * c) as usize;
                let shape = format!("{groups} groups, {runs} runs, grid {grid:?}");
                let charts = draw_all(&comparison(groups, runs, grid)).unwrap();
                let maps = if grid.is_some() { 2 * groups - 1 } else { 0 };
                let per_cell = if cells * groups <= MAX_CELL_CHARTS { 2 * cells } else { 0 };
                assert_eq!(charts.len(), per_cell + maps, "{shape}");
                for (name, svg) in &charts {
                    let chart = Chart::parse(name, svg);
                    chart.assert_readable();
                    let [_, _, w, h] = chart.plot;
                    assert!(w >= 200.0 && h >= 100.0, "{shape}: {name}'s plot is {w}×{h}");
                    if name.starts_with("bar-") {
                        let bars = chart.cells();
                        assert_eq!(bars.len(), groups, "{shape}: {name}: {bars:?}\n{svg}");
                        let n = chart.texts().iter().filter(|(t, ..)| *t == format!("n = {runs}")).count();
                        assert_eq!(n, groups, "{shape}: {name}: n on every bar");
                    } else if name.starts_with("runs-") {
                        assert_eq!(chart.dots(&[BAR_FILL]), groups * runs, "{shape}: {name}\n{svg}");
                    } else {
                        let map = chart.cells();
                        assert_eq!(map.len(), cells, "{shape}: {name}: {map:?}\n{svg}");
                        let covered: f64 = map.iter().map(|[_, _, w, h]| w * h).sum();
                        assert!(covered >= 0.95 * w * h, "{shape}: {name}: cells cover {covered} of {w}×{h}");
                    }
                }
            }
        }
    }
}

/// A sweep's full grid (14 file sizes × 13 record sizes) and a net matrix of 40 hosts stay
/// within the page and readable: cells too small for their figures show colour alone.
#[test]
fn large_grids_stay_readable() {
    for (rows, columns) in [(14, 13), (40, 40)] {
        // Means up to 5 digits.
        for (name, svg) in draw_all(&comparison(2, 2, Some((rows, columns)))).unwrap() {
            let chart = Chart::parse(&name, &svg);
            chart.assert_readable();
            assert_eq!(chart.cells().len() as u64, rows * columns, "{name}");
            let figures = chart
                .texts()
                .iter()
                .filter(|(t, ..)| t.trim_end_matches(" *").parse::<f64>().is_ok())
                .count() as u64;
            if rows == 14 {
                assert!(figures >= rows * columns, "{name}: every cell's figure");
            }
        }
    }
}

fn ratio(value: f64, interval: Option<(f64, f64)>) -> Ratio {
    let no_interval = interval.is_none().then_some(NoInterval::OneRun);
    Ratio {
        value,
        low: interval.map(|i| i.0),
        high: interval.map(|i| i.1),
        verdict: "lower".into(),
        no_interval,
    }
}

fn figure(benchmark: &str, metric: &str, ratio: Ratio) -> Figure {
    Figure {
        benchmark: benchmark.into(),
        title: benchmark.into(),
        metric: metric.into(),
        unit: "MiB/s",
        guest_mean: ratio.value * 100.0,
        guest_runs: 3,
        host_mean: 100.0,
        host_runs: 3,
        lower_is_better: false,
        ratio,
    }
}

fn overhead(figures: Vec<Figure>) -> Overhead {
    let mut benchmarks: Vec<&str> = figures.iter().map(|f| f.benchmark.as_str()).collect();
    benchmarks.dedup();
    let families: Vec<FamilyFigure> = benchmarks
        .iter()
        .map(|b| FamilyFigure {
            benchmark: b.to_string(),
            title: b.to_string(),
            ratio: ratio(0.5, Some((0.4, 0.6))),
        })
        .collect();
    Overhead {
        guest: "domU".into(),
        host: "dom0".into(),
        source: "this campaign".into(),
        index: Some(ratio(0.5, Some((0.4, 0.6)))),
        benchmarks: families.len(),
        figures,
        families,
        not_in_index: Vec::new(),
    }
}

/// The forest plot: a dot per row in the plot area whatever its ratio (0, none of an
/// interval, an interval past the axis either way), the 100 % line, no text over the plot
/// (the figures in a column right of it), and a key of every mark it uses.
#[test]
fn the_forest_plot_draws_every_row_with_its_key_and_no_text_over_the_whiskers() {
    let one = vec![figure("mpiio", "write", ratio(0.36, Some((0.3, 0.42))))];
    let zero = vec![
        figure("mpiio", "write", ratio(0.0, Some((0.0, 0.01)))),
        figure("mpiio", "read", ratio(0.5, None)),
    ];
    let wide = vec![
        figure("mpiio", "write", ratio(0.36, Some((-1.524, 3.292)))),
        figure("mpiio", "read", ratio(0.8, Some((0.7, 0.9)))),
        figure("partdiff", "rate", ratio(0.97, Some((0.77, 1.18)))),
        figure("net", "throughput", ratio(0.0, None)),
    ];
    let cases = [
        ("one figure", one, 0, "36 % [30, 42]"),
        ("a ratio of 0", zero, 0, "0 % [0, 1.0]"),
        ("three benchmarks", wide, 4, "36 % [-152, 329]"),
    ];
    for (shape, figures, summaries, numbers) in cases {
        let rows = figures.len();
        let svg = overhead_chart(&overhead(figures)).unwrap().expect("a figure");
        let chart = Chart::parse(shape, &svg);
        chart.assert_readable();
        assert_eq!(chart.dots(&[BAR_FILL]), rows, "{shape}: a blue dot per figure\n{svg}");
        assert_eq!(chart.dots(&["#000000"]), summaries, "{shape}: a black dot per geometric mean\n{svg}");
        let [x, y, w, h] = chart.plot;
        for (text, tx, ty, _) in chart.texts() {
            let inside = (x + 1.0..x + w - 1.0).contains(&tx) && (y + 1.0..y + h - 1.0).contains(&ty);
            assert!(!inside, "{shape}: {text:?} at {tx},{ty} over the plot {:?}", chart.plot);
        }
        let texts: Vec<String> = chart.texts().into_iter().map(|t| t.0).collect();
        let key = |needle: &str| texts.iter().any(|t| t.contains(needle));
        assert!(
            key("a benchmark's figure") && key("100 %: the guest as fast as the host"),
            "{shape}: {texts:?}"
        );
        assert_eq!(key("geometric mean: of a benchmark's figures"), summaries > 0, "{shape}: {texts:?}");
        assert!(key(numbers), "{shape}: {texts:?}");
        // The host's 100 %: an orange line across the plot.
        let orange =
            chart.elements("polyline").filter(|l| l.attribute("stroke") == Some(BASELINE_FILL)).count();
        assert!(orange >= 1, "{shape}: the 100 % line\n{svg}");
    }
}

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
fn long_titles_wrap_at_spaces_within_the_width() {
    let text = "write, 256 KiB file, 64 KiB records, MiB/s";
    assert_eq!(wrap(text, 12.0, 1000.0), [text]);
    let lines = wrap(text, 15.0, 150.0);
    assert!(lines.len() > 2 && lines.iter().all(|l| text_width(l, 15.0) <= 150.0), "{lines:?}");
    assert_eq!(lines.join(" "), text);
    assert_eq!(wrap("averyveryverylongword", 15.0, 10.0), ["averyveryverylongword"], "a word alone");
    assert!(text_width("0123456789", 12.0) >= 10.0 * 0.636 * 12.0, "DejaVu Sans' digits");
}
