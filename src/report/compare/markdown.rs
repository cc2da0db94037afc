//! Markdown tables, for papers and issues.

use super::{Exporter, Grid, Style, caption, matrices, runs_grid, summary_grid};
use crate::result::comparison::Comparison;

pub struct Markdown;

impl Exporter for Markdown {
    fn extension(&self) -> &'static str {
        "md"
    }

    fn summary(&self, c: &Comparison) -> anyhow::Result<String> {
        let mut out = format!("{}.\n\n{}", caption(c), table(&summary_grid(c, Style::Human)));
        for m in matrices(c, Style::Human, false) {
            out.push_str(&format!("\n{}: {}, {}, mean of the runs.\n\n", m.group, m.table, m.unit));
            out.push_str(&table(&m.grid));
        }
        Ok(out)
    }

    fn runs(&self, c: &Comparison) -> anyhow::Result<Option<String>> {
        Ok(Some(format!("Every run, in start order.\n\n{}", table(&runs_grid(c, Style::Human)))))
    }
}

fn table(grid: &Grid) -> String {
    // A label may hold '|' or a line break; either would end the row.
    let escape = |cell: &String| cell.replace('|', "\\|").replace(['\r', '\n'], " ");
    let row =
        |cells: &[String]| format!("| {} |\n", cells.iter().map(escape).collect::<Vec<_>>().join(" | "));
    let mut out = row(&grid.header);
    let rule: Vec<String> =
        grid.numeric.iter().map(|&n| if n { "---:".into() } else { "---".into() }).collect();
    out.push_str(&row(&rule));
    for cells in &grid.rows {
        out.push_str(&row(cells));
    }
    out
}
