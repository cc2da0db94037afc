//! iozone's auto-mode table: one row per file size × record size, figures in columns found by
//! position under their titles.

use super::{Cells, ParseError, number};
use crate::result::fs::IOZONE_REPORTS;

/// How far a figure's last character may sit from its column title's (iozone prints the
/// titles and the figures with slightly different widths, and blanks for skipped tests with
/// others again).
const COLUMN_SLACK: usize = 4;

/// More digits than one figure has (10^10 KiB/s is 10 TiB/s): iozone's fixed-width columns
/// overflowed and two figures ran together (`1597288512902017` on a fast page cache).
const RUN_TOGETHER_DIGITS: usize = 11;

/// iozone's table: its readable cells, every row's file and record size, and the first
/// figures that ran together.
pub struct Table {
    pub cells: Cells,
    pub rows: Vec<(u64, u64)>,
    pub run_together: Option<(usize, String)>,
}

pub fn is_table_header(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!(words.next(), Some("KB" | "kB")) && words.next() == Some("reclen")
}

/// The table from its title line `KB  reclen  write …` to the first blank line after rows.
pub fn read_table(lines: &[(usize, &str)], header: usize) -> Result<(Table, usize), ParseError> {
    let (_, title) = lines[header];
    // Each column title's last character, and the pass it is (the first two are sizes).
    let edges: Vec<usize> = title
        .char_indices()
        .filter(|&(i, c)| c != ' ' && title[i + c.len_utf8()..].chars().next().is_none_or(|d| d == ' '))
        .map(|(i, _)| i)
        .collect();
    if edges.len() - 2 > IOZONE_REPORTS.len() {
        return Err(ParseError::at(lines[header].0, "more columns than iozone has tests"));
    }
    let mut table = Table { cells: Cells::new(), rows: Vec::new(), run_together: None };
    let mut i = header + 1;
    while i < lines.len() {
        let (n, line) = lines[i];
        if line.trim().is_empty() {
            break;
        }
        let mut next_column = 0;
        let mut row: Vec<(usize, Option<u64>)> = Vec::new();
        for (end, word) in figures(line) {
            let column = (next_column..edges.len())
                .find(|&c| edges[c].abs_diff(end) <= COLUMN_SLACK)
                .ok_or_else(|| ParseError::at(n, format!("{word:?} is under no column of the title")))?;
            // Figures run together hold no figure: their cells come from the report.
            let value = if word.len() >= RUN_TOGETHER_DIGITS {
                table.run_together.get_or_insert((n, word.to_string()));
                None
            } else {
                Some(number(n, word, "figure")?)
            };
            row.push((column, value));
            next_column = column + 1;
        }
        match row.as_slice() {
            [(0, Some(file)), (1, Some(record)), rest @ ..] if !rest.is_empty() => {
                table.rows.push((*file, *record));
                for &(column, value) in rest {
                    if let Some(value) = value {
                        table.cells.insert((column - 2, *file, *record), (value, n));
                    }
                }
            }
            _ => return Err(ParseError::at(n, format!("not a row of iozone's table: {:?}", line.trim()))),
        }
        i += 1;
    }
    if table.rows.is_empty() {
        return Err(ParseError::at(lines[header].0, "truncated: the table has no rows"));
    }
    Ok((table, i))
}

/// The words of a line with the index of each one's last character.
fn figures(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_whitespace().map(move |word| {
        let start = word.as_ptr() as usize - line.as_ptr() as usize;
        (start + word.len() - 1, word)
    })
}
