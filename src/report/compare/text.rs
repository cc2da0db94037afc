//! Aligned text for the terminal.

use super::{Exporter, Grid, Style, caption, matrices, runs_grid, summary_grid};
use crate::result::comparison::Comparison;

pub struct Text;

impl Exporter for Text {
    fn extension(&self) -> &'static str {
        "txt"
    }

    fn summary(&self, c: &Comparison) -> anyhow::Result<String> {
        let mut out = format!("{}\n{}", caption(c), aligned(&summary_grid(c, Style::Human)));
        for m in matrices(c, Style::Human, false) {
            out.push_str(&format!("\n{}: {}, {}, mean of the runs\n", m.group, m.table, m.unit));
            out.push_str(&aligned(&m.grid));
        }
        Ok(out)
    }

    fn runs(&self, c: &Comparison) -> anyhow::Result<Option<String>> {
        Ok(Some(format!("every run, in start order\n{}", aligned(&runs_grid(c, Style::Human)))))
    }
}

fn aligned(grid: &Grid) -> String {
    let widths: Vec<usize> = (0..grid.header.len())
        .map(|i| {
            grid.rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([grid.header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if grid.numeric[i] {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&grid.header);
    for row in &grid.rows {
        out.push_str(&line(row));
    }
    out
}
