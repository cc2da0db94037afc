//! iozone's `-R` report (one grid per pass: record sizes across, file sizes down), and its
//! agreement with the table when a file holds both.

use super::table::Table;
use super::{Cells, ParseError, number};
use crate::result::fs::IOZONE_REPORTS;

/// iozone's `-R` report: its cells (the records it ran), and the passes it has a grid for.
pub struct Report {
    pub cells: Cells,
    pub passes: Vec<usize>,
}

/// The `-R` reports: for each, a title line, a line of quoted record sizes, and rows of a quoted
/// file size and figures. A row with fewer figures than record sizes ran only some records:
/// those no larger than the file, and on large files (iozone's crossover) the largest; iozone
/// 3.4 instead prints 0 for a record it did not run.
pub fn read_reports(lines: &[(usize, &str)], first: usize) -> Result<(Report, usize), ParseError> {
    let mut cells = Cells::new();
    let mut rows_per_report: Vec<(usize, usize, usize)> = Vec::new();
    let mut i = first;
    while i < lines.len() {
        let (n, line) = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            i += 1;
            continue;
        }
        let Some(title) = trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            break;
        };
        let pass = IOZONE_REPORTS
            .iter()
            .position(|(_, t)| t.eq_ignore_ascii_case(title))
            .ok_or_else(|| ParseError::at(n, format!("{title:?} is not a report iozone prints")))?;
        let (header_line, header) = *lines
            .get(i + 1)
            .ok_or_else(|| ParseError::at(n, "truncated: a report title and nothing after it"))?;
        let records: Vec<u64> = header
            .split_whitespace()
            .map(|w| number(header_line, w.trim_matches('"'), "record size"))
            .collect::<Result<_, _>>()?;
        if records.is_empty() {
            return Err(ParseError::at(header_line, "truncated: no record sizes under the report title"));
        }
        i += 2;
        let mut rows = 0;
        while let Some(&(n, row)) = lines.get(i) {
            let mut words = row.split_whitespace();
            let Some(file) = words.next().and_then(|w| w.strip_prefix('"')?.strip_suffix('"')) else {
                break;
            };
            let file: u64 = number(n, file, "file size")?;
            let values: Vec<u64> = words.map(|w| number(n, w, "figure")).collect::<Result<_, _>>()?;
            let fitting: Vec<u64> = records.iter().copied().filter(|&r| r <= file).collect();
            if values.is_empty() || values.len() > fitting.len() {
                return Err(ParseError::at(
                    n,
                    format!(
                        "{} figures for a {file} KB file and {} record sizes up to it",
                        values.len(),
                        fitting.len()
                    ),
                ));
            }
            let ran = fitting[fitting.len() - values.len()..].iter().zip(values).filter(|(_, v)| *v > 0);
            for (record, value) in ran {
                cells.insert((pass, file, *record), (value, n));
            }
            rows += 1;
            i += 1;
        }
        rows_per_report.push((n, pass, rows));
    }
    // Every report has the rows of the first: fewer in a later one means the file was cut.
    if let Some(&(_, _, expected)) = rows_per_report.first()
        && let Some(&(n, _, rows)) = rows_per_report.iter().find(|r| r.2 != expected)
    {
        return Err(ParseError::at(
            n,
            format!("truncated: this report has {rows} rows, the first {expected}"),
        ));
    }
    let passes = rows_per_report.iter().map(|r| r.1).collect();
    Ok((Report { cells, passes }, i))
}

/// The report's cells, once it has a grid for every pass of the table, every row of the table in
/// each grid, and every readable figure of the table unchanged (the table is the reference for
/// what ran; the report, for figures the table ran together). iozone 3.414's report with -E and
/// -i shows pwrite's figures under pread: such a file is refused, not half believed.
pub fn agree(table: &Table, report: Report) -> Result<Cells, ParseError> {
    let last = report.cells.values().map(|(_, n)| *n).max().unwrap_or(1);
    let disagree = |line: usize, what: String| {
        ParseError::at(
            line,
            format!("{what}: the table and the report disagree; keep only the one to import in the file"),
        )
    };
    let mut passes: Vec<usize> =
        table.cells.keys().map(|k| k.0).chain(report.passes.iter().copied()).collect();
    passes.sort();
    passes.dedup();
    for pass in passes {
        let (name, title) = IOZONE_REPORTS[pass];
        if !report.passes.contains(&pass) {
            return Err(ParseError::at(last, format!("truncated: the report has no \"{title}\"")));
        }
        for &(file, record) in &table.rows {
            let key = (pass, file, record);
            match (table.cells.get(&key), report.cells.get(&key)) {
                (Some((value, _)), Some((same, _))) if same == value => {}
                (Some((value, table_line)), Some((other, n))) => {
                    return Err(disagree(
                        *n,
                        format!(
                            "{name} {file} KB × {record} KB is {other}, the table's (line {table_line}) {value}"
                        ),
                    ));
                }
                (table_cell, None) => {
                    let held = table_cell
                        .map_or(String::new(), |(v, l)| format!(" where the table (line {l}) has {v}"));
                    return Err(disagree(
                        last,
                        format!("\"{title}\" has no figure for {file} KB × {record} KB{held}"),
                    ));
                }
                (None, Some(_)) => {} // ran together in the table
            }
        }
    }
    if let Some((key, (_, n))) = report.cells.iter().find(|(k, _)| !table.rows.contains(&(k.1, k.2))) {
        return Err(ParseError::at(
            *n,
            format!("the report has {} KB × {} KB, a row the table does not", key.1, key.2),
        ));
    }
    Ok(report.cells)
}
