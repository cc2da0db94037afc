//! `pvbench fs` as iozone shows it: per rank and pass, a grid of file size rows × record size
//! columns in KiB/s; and the same grids as CSV in the layout of iozone's `-R` report.

use std::fmt::Write;

use crate::result::Document;
use crate::result::fs::{FsParameters, FsResults, IOZONE_REPORTS, RankSweep};

/// The file sizes (rows) and record sizes (columns) of a sweep, in KiB, and a cell's KiB/s.
struct Grid<'a> {
    sweep: &'a RankSweep,
    files: Vec<u64>,
    records: Vec<u64>,
}

impl<'a> Grid<'a> {
    fn of(sweep: &'a RankSweep) -> Self {
        let mut files: Vec<u64> = sweep.cells.iter().map(|c| c.file_size_bytes).collect();
        let mut records: Vec<u64> = sweep.cells.iter().map(|c| c.record_size_bytes).collect();
        files.sort();
        files.dedup();
        records.sort();
        records.dedup();
        Grid { sweep, files, records }
    }

    fn kib_per_s(&self, pass: &str, file: u64, record: u64) -> Option<f64> {
        let cell = self
            .sweep
            .cells
            .iter()
            .find(|c| c.pass == pass && c.file_size_bytes == file && c.record_size_bytes == record)?;
        Some(cell.kib_per_s)
    }

    fn passes(&self) -> impl Iterator<Item = &(&'static str, &'static str)> {
        IOZONE_REPORTS.iter().filter(|(pass, _)| self.sweep.cells.iter().any(|c| c.pass == *pass))
    }
}

pub fn text(doc: &Document<FsParameters, FsResults>) -> String {
    let p = &doc.parameters;
    let mut out = String::new();
    let tests: Vec<String> = p.tests.iter().map(u8::to_string).collect();
    let _ = writeln!(
        out,
        "pvbench fs: {}, files {}..{}, records {}..{}, tests -i {}{}{}{}{}",
        p.target,
        super::size(p.min_file_bytes),
        super::size(p.max_file_bytes),
        super::size(p.min_record_bytes),
        super::size(p.max_record_bytes),
        tests.join(" -i "),
        if p.skip_small_records { ", small records left out on large files (iozone -a)" } else { "" },
        if p.direct { ", O_DIRECT" } else { "" },
        if p.include_flush { ", fsync timed" } else { "" },
        if p.include_close { ", close timed" } else { "" },
    );
    for line in super::host_lines(&doc.environment) {
        let _ = writeln!(out, "  host {line}");
    }
    for sweep in &doc.results.ranks {
        let grid = Grid::of(sweep);
        let _ = writeln!(out, "\nrank {} on {}: {}", sweep.rank, sweep.host, sweep.file);
        for (pass, _) in grid.passes() {
            let _ = writeln!(out, "{pass}: KiB/s; rows: file size (KiB), columns: record size (KiB)");
            let _ = write!(out, "{:>10}", "");
            for r in &grid.records {
                let _ = write!(out, " {:>9}", r / 1024);
            }
            out.push('\n');
            for &f in &grid.files {
                let _ = write!(out, "{:>10}", f / 1024);
                for &r in &grid.records {
                    let value = grid.kib_per_s(pass, f, r).map_or(String::new(), |v| format!("{v:.0}"));
                    let _ = write!(out, " {value:>9}");
                }
                out.push('\n');
            }
        }
    }
    out
}

/// iozone's `-R` layout: per pass a title line, a header of record sizes (KiB), and a row per
/// file size (KiB) of KiB/s; per rank when several ranks swept.
pub fn csv(doc: &Document<FsParameters, FsResults>) -> String {
    let mut out = String::new();
    let several = doc.results.ranks.len() > 1;
    for sweep in &doc.results.ranks {
        let grid = Grid::of(sweep);
        for (pass, title) in grid.passes() {
            let rank =
                if several { format!(" (rank {} on {})", sweep.rank, sweep.host) } else { String::new() };
            let _ = writeln!(out, "\"{title}{rank}\"");
            let header: Vec<String> = grid.records.iter().map(|r| (r / 1024).to_string()).collect();
            let _ = writeln!(out, "\"\",{}", header.join(","));
            for &f in &grid.files {
                let values: Vec<String> = grid
                    .records
                    .iter()
                    .map(|&r| grid.kib_per_s(pass, f, r).map_or(String::new(), |v| format!("{v:.0}")))
                    .collect();
                let _ = writeln!(out, "{},{}", f / 1024, values.join(","));
            }
            out.push('\n');
        }
    }
    out
}
