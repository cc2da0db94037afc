//! CSV with whole numbers, for spreadsheets and scripts.

use super::{Exporter, Grid, Style, runs_grid, summary_grid};
use crate::result::comparison::Comparison;

pub struct Csv;

impl Exporter for Csv {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn summary(&self, c: &Comparison) -> anyhow::Result<String> {
        write(&summary_grid(c, Style::Machine))
    }

    fn runs(&self, c: &Comparison) -> anyhow::Result<Option<String>> {
        write(&runs_grid(c, Style::Machine)).map(Some)
    }
}

fn write(grid: &Grid) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&grid.header)?;
    for row in &grid.rows {
        writer.write_record(row)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
