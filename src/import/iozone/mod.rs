//! iozone's auto mode (`-a`, iozone.c's `auto_test`): the table of one row per file size ×
//! record size, KB/s (KiB) in columns by position (blank where a test did not run; pwrite and
//! pread only with `-E`), and the `-R` report printed after `iozone test complete.` (one grid
//! per pass: record sizes across, file sizes down). Either or both; when both, they must agree.

use std::collections::BTreeMap;

mod report;
mod table;

use super::text::{ParseError, complete_lines, number};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::fs::{Cell, FsResults, IOZONE_REPORTS, RankSweep};
use crate::result::imported::IozoneParameters;

use report::{Report, agree, read_reports};
use table::{Table, is_table_header, read_table};

pub fn recognise(text: &str) -> Option<&'static str> {
    if text.contains("Iozone: Performance Test of File I/O") {
        Some("its Iozone banner")
    } else if text.contains("\"Writer report\"") || text.contains("\"Reader report\"") {
        Some("its -R report titles")
    } else if text.lines().any(|l| is_table_header(l.trim())) {
        Some("its KB/reclen table")
    } else {
        None
    }
}

/// (pass index in IOZONE_REPORTS, file KiB, record KiB) -> KiB/s, and the line it came from;
/// in the order the document lists them.
type Cells = BTreeMap<(usize, u64, u64), (u64, usize)>;

#[derive(Default)]
struct Preamble {
    version: Option<String>,
    command_line: Option<String>,
    include_flush: bool,
    include_close: bool,
    direct: bool,
    file: Option<String>,
}

/// The banner each run of iozone starts with: runs appended to one file split there.
const BANNER: &str = "Iozone: Performance Test of File I/O";

pub fn parse(text: &str, stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let lines = complete_lines(text)?;
    let mut starts: Vec<usize> =
        lines.iter().enumerate().filter(|(_, (_, l))| l.trim() == BANNER).map(|(i, _)| i).collect();
    // Text before the first banner (a shell prompt, a note) belongs to the first run.
    match starts.first_mut() {
        Some(first) => *first = 0,
        None => starts.push(0),
    }
    let ends = starts.iter().skip(1).copied().chain([lines.len()]);
    starts.iter().zip(ends).map(|(&start, end)| parse_run(&lines[start..end], stated)).collect()
}

/// One run: its lines, numbered as in the file.
fn parse_run(lines: &[(usize, &str)], stated: &Stated) -> Result<Imported, ParseError> {
    let last_line = lines.last().map_or(0, |(n, _)| *n);
    let mut preamble = Preamble::default();
    let mut table: Option<Table> = None;
    let mut report: Option<Report> = None;
    let mut complete = false;
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = lines[i];
        let trimmed = line.trim();
        if is_table_header(trimmed) {
            if table.is_some() {
                return Err(ParseError::at(
                    n,
                    format!("a second table in one run, without iozone's banner (\"{BANNER}\") between"),
                ));
            }
            let (read, next) = read_table(lines, i)?;
            table = Some(read);
            i = next;
            continue;
        }
        if trimmed.starts_with('"') && trimmed.ends_with(" report\"") {
            let (read, next) = read_reports(lines, i)?;
            report = Some(read);
            i = next;
            continue;
        }
        if trimmed == "iozone test complete." {
            complete = true;
        } else if let Some(version) = trimmed.strip_prefix("Version $Revision: ") {
            preamble.version = Some(version.trim_end_matches('$').trim().to_string());
        } else if let Some(command) = trimmed.strip_prefix("Command line used:") {
            let command = command.trim().to_string();
            let words: Vec<&str> = command.split_whitespace().collect();
            preamble.file = words.windows(2).find(|w| w[0] == "-f").map(|w| w[1].to_string());
            preamble.command_line = Some(command);
        } else if trimmed.starts_with("Include fsync in write timing") {
            preamble.include_flush = true;
        } else if trimmed.starts_with("Include close in write timing") {
            preamble.include_close = true;
        } else if trimmed.starts_with("O_DIRECT feature enabled") {
            preamble.direct = true;
        } else if trimmed.starts_with("Output is in")
            && !trimmed.eq_ignore_ascii_case("Output is in kBytes/sec")
        {
            // 3.414 prints `Kbytes/sec`, 3.471 and later `kBytes/sec`: the same KiB/s.
            return Err(ParseError::at(n, format!("{trimmed:?}: only outputs in kBytes/sec import")));
        } else if trimmed.starts_with("Throughput test") || trimmed.starts_with("Children see throughput") {
            return Err(ParseError::at(n, "a throughput (-t) run: only auto mode (-a) tables import"));
        }
        // Anything else is iozone's preamble (options, time resolution, cache sizes).
        i += 1;
    }
    let cells = match (table, report) {
        (None, None) => {
            return Err(ParseError::whole("no iozone auto-mode table and no -R report in the file"));
        }
        (Some(_), _) if !complete => {
            return Err(ParseError::at(last_line, "truncated: no \"iozone test complete.\" after the table"));
        }
        (Some(table), Some(report)) => agree(&table, report)?,
        (Some(Table { run_together: Some((n, word)), .. }), None) => {
            return Err(ParseError::at(
                n,
                format!(
                    "figures ran together in iozone's fixed-width columns ({word}): the table cannot be read; \
                     run iozone with -R, whose report keeps every figure apart"
                ),
            ));
        }
        (Some(Table { cells, .. }), None) | (None, Some(Report { cells, .. })) => cells,
    };
    Ok(document(cells, preamble, stated, [lines[0].0, last_line]))
}

fn document(cells: Cells, preamble: Preamble, stated: &Stated, lines: [usize; 2]) -> Imported {
    let mut passes: Vec<usize> = cells.keys().map(|k| k.0).collect();
    passes.dedup();
    let (files, records): (Vec<u64>, Vec<u64>) = cells.keys().map(|k| (k.1, k.2)).unzip();
    let kib = |v: Option<&u64>| v.copied().unwrap_or(0) * 1024;
    let parameters = IozoneParameters {
        min_file_bytes: kib(files.iter().min()),
        max_file_bytes: kib(files.iter().max()),
        min_record_bytes: kib(records.iter().min()),
        max_record_bytes: kib(records.iter().max()),
        passes: passes.iter().map(|&p| IOZONE_REPORTS[p].0.to_string()).collect(),
        include_flush: preamble.include_flush,
        include_close: preamble.include_close,
        direct: preamble.direct,
    };
    let count = cells.len();
    let cells: Vec<Cell> = cells
        .into_iter()
        .map(|((pass, file, record), (value, _))| Cell {
            file_size_bytes: file * 1024,
            record_size_bytes: record * 1024,
            pass: IOZONE_REPORTS[pass].0.to_string(),
            seconds: None,
            kib_per_s: value as f64,
            mib_per_s: value as f64 / 1024.0,
            bytes_moved: None,
            group: None,
        })
        .collect();
    let host = stated.host_or("unstated");
    let results = FsResults {
        ranks: vec![RankSweep {
            rank: 0,
            host: host.clone(),
            file: preamble.file.unwrap_or_default(),
            cells,
        }],
    };
    let summary = format!(
        "fs, {count} cells: files {}..{} KiB, records {}..{} KiB, {}",
        parameters.min_file_bytes / 1024,
        parameters.max_file_bytes / 1024,
        parameters.min_record_bytes / 1024,
        parameters.max_record_bytes / 1024,
        parameters.passes.join(", ")
    );
    Imported {
        kind: "fs",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: 1, hosts: stated.host.iter().cloned().collect() },
        started_at: None,
        tool_version: preamble.version,
        tool_command_line: preamble.command_line,
        lines,
        summary,
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// iozone -a … -i 0 -i 1 -i 2 -e -R as iozone 3.414's printf formats lay it out.
    pub const TABLE_AND_REPORT: &str = include_str!("../../../tests/data/import/iozone-table-and-report.txt");
    /// A real run of iozone 3.471 (built from its source): `Output is in kBytes/sec`, `kB` in
    /// the table's title.
    const IOZONE_3_471: &str = include_str!("../../../tests/data/import/iozone-3.471-auto.txt");

    #[test]
    fn iozone_3_471_with_its_kbytes_spelling_imports() {
        let runs = parse(IOZONE_3_471, &stated()).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].tool_version.as_deref(), Some("3.471"));
        let cells = runs[0].results["ranks"][0]["cells"].as_array().unwrap();
        assert_eq!(
            cells.len(),
            9 * 6,
            "3 files × 3 records × write, rewrite, read, reread, random read/write"
        );
        let first = cells.iter().find(|c| c["pass"] == "write" && c["file_size_bytes"] == 65536).unwrap();
        assert_eq!(
            (first["record_size_bytes"].as_u64(), first["kib_per_s"].as_f64()),
            (Some(16384), Some(942521.0))
        );
    }

    /// Two runs appended to one file (`iozone ... >> log` twice): two documents, each with its
    /// own figures and lines; a second table with no banner between is refused, not merged.
    #[test]
    fn runs_appended_to_one_file_are_one_document_each() {
        let second = IOZONE_3_471.replace(" 942521 ", " 999999 ").replace("   942521  ", "   999999  ");
        let both = format!("{IOZONE_3_471}{second}");
        let runs = parse(&both, &stated()).unwrap();
        assert_eq!(runs.len(), 2);
        let first_write = |run: &Imported| {
            let cells = run.results["ranks"][0]["cells"].as_array().unwrap().clone();
            cells.iter().find(|c| c["pass"] == "write").unwrap()["kib_per_s"].as_f64()
        };
        assert_eq!((first_write(&runs[0]), first_write(&runs[1])), (Some(942521.0), Some(999999.0)));
        let n = IOZONE_3_471.lines().count();
        assert_eq!((runs[0].lines, runs[1].lines), ([1, n], [n + 1, 2 * n]));
        let no_banner = both.replacen("Iozone: Performance Test of File I/O", "", 2);
        let err = parse(&no_banner, &stated()).unwrap_err();
        assert!(err.message.starts_with("a second table in one run"), "{err:?}");
    }

    /// -E: every column, and a row with only write and pwrite (blanks for the tests between).
    const ALL_COLUMNS: &str = include_str!("../../../tests/data/import/iozone-all-columns.txt");

    fn stated() -> Stated {
        Stated::host(Some("node7"))
    }

    fn cell<'a>(
        run: &'a Imported,
        pass: &str,
        file_kib: u64,
        record_kib: u64,
    ) -> Option<&'a serde_json::Value> {
        run.results["ranks"][0]["cells"].as_array().unwrap().iter().find(|c| {
            c["pass"] == pass
                && c["file_size_bytes"] == file_kib * 1024
                && c["record_size_bytes"] == record_kib * 1024
        })
    }

    #[test]
    fn table_and_report_agree_and_become_the_fs_kind() {
        let runs = parse(TABLE_AND_REPORT, &stated()).unwrap();
        let run = &runs[0];
        assert_eq!(run.kind, "fs");
        assert_eq!(run.tool_version.as_deref(), Some("3.414"));
        assert!(run.tool_command_line.as_deref().unwrap().starts_with("iozone -a -n 64k"));
        assert_eq!(run.results["ranks"][0]["file"], "/partition/testfile");
        assert_eq!(run.results["ranks"][0]["host"], "node7");
        assert_eq!(run.results["ranks"][0]["cells"].as_array().unwrap().len(), 7 * 6);
        let reread = cell(run, "reread", 128, 32).unwrap();
        assert_eq!(reread["kib_per_s"], 1745678.0);
        assert_eq!(reread["mib_per_s"], 1745678.0 / 1024.0);
        assert!(reread["seconds"].is_null());
        assert_eq!(cell(run, "random write", 64, 16).unwrap()["kib_per_s"], 534567.0);
        assert!(cell(run, "write", 64, 128).is_none(), "records larger than the file were not run");
        let p = &run.parameters;
        assert_eq!(
            (p["min_file_bytes"].as_u64(), p["max_record_bytes"].as_u64()),
            (Some(65536), Some(131072))
        );
        assert_eq!(
            p["passes"],
            serde_json::json!(["write", "rewrite", "read", "reread", "random read", "random write"])
        );
        assert_eq!((p["include_flush"].as_bool(), p["include_close"].as_bool()), (Some(true), Some(false)));
    }

    #[test]
    fn the_report_alone_and_the_table_alone() {
        let report = &TABLE_AND_REPORT[TABLE_AND_REPORT.find("Excel output").unwrap()..];
        let cells = |text: &str| parse(text, &stated()).unwrap()[0].results["ranks"][0]["cells"].clone();
        assert_eq!(cells(report), cells(TABLE_AND_REPORT));
        let table = &TABLE_AND_REPORT[..TABLE_AND_REPORT.find("Excel output").unwrap()];
        assert_eq!(cells(table), cells(TABLE_AND_REPORT));
    }

    #[test]
    fn columns_by_position_with_blanks_for_tests_not_run() {
        let run = &parse(ALL_COLUMNS, &stated()).unwrap()[0];
        let names: Vec<&str> = IOZONE_REPORTS.iter().map(|(p, _)| *p).take(17).collect();
        for (value, pass) in names.iter().enumerate() {
            assert_eq!(cell(run, pass, 1024, 4).unwrap()["kib_per_s"], value as f64 + 1.0, "{pass}");
        }
        assert_eq!(cell(run, "write", 2048, 4).unwrap()["kib_per_s"], 21.0);
        assert_eq!(cell(run, "pwrite", 2048, 4).unwrap()["kib_per_s"], 24.0);
        assert_eq!(cell(run, "re-pwrite", 2048, 4).unwrap()["kib_per_s"], 25.0);
        assert!(cell(run, "read", 2048, 4).is_none());
    }

    /// Real iozone 3.414 outputs (built from its source, run here): a page cache so fast that
    /// figures run together in the table, and -a's crossover above 16 MiB.
    const REAL_RUN_TOGETHER: &str = include_str!("../../../tests/data/import/iozone-3.414-run-together.txt");
    const REAL_CROSSOVER: &str = include_str!("../../../tests/data/import/iozone-3.414-crossover.txt");

    #[test]
    fn figures_run_together_come_from_the_report_or_are_refused() {
        let run = &parse(REAL_RUN_TOGETHER, &stated()).unwrap()[0];
        assert_eq!(run.results["ranks"][0]["cells"].as_array().unwrap().len(), 17 * 6);
        // Table line 37 prints "258040352580403512842051": reread, random read, random write.
        assert_eq!(cell(run, "reread", 128, 128).unwrap()["kib_per_s"], 25804035.0);
        assert_eq!(cell(run, "random read", 128, 128).unwrap()["kib_per_s"], 25804035.0);
        assert_eq!(cell(run, "random write", 128, 128).unwrap()["kib_per_s"], 12842051.0);
        assert_eq!(cell(run, "write", 128, 128).unwrap()["kib_per_s"], 3468030.0);
        let table_only = &REAL_RUN_TOGETHER[..REAL_RUN_TOGETHER.find("Excel output").unwrap()];
        let err = parse(table_only, &stated()).unwrap_err();
        assert_eq!(err.line, Some(31));
        assert!(err.message.contains("ran together") && err.message.contains("-R"), "{err:?}");
        // A readable figure the report contradicts is still caught.
        let changed = REAL_RUN_TOGETHER.replacen(" 1330167 ", " 1330168 ", 1);
        assert!(parse(&changed, &stated()).unwrap_err().message.contains("disagree"));
    }

    /// iozone 3.414 -a -E -R -i 0 -i 9 -i 10: its report prints zeros as the pwrite grid and
    /// pwrite's figures as pread's; its table runs figures together. Neither can be trusted
    /// whole: refused, naming the disagreement.
    const REAL_SHIFTED_REPORT: &str =
        include_str!("../../../tests/data/import/iozone-3.414-pwrite-report-shifted.txt");

    #[test]
    fn iozones_shifted_pwrite_report_is_refused() {
        let err = parse(REAL_SHIFTED_REPORT, &stated()).unwrap_err();
        assert!(err.message.contains("disagree"), "{err:?}");
        assert!(err.message.contains("pwrite") || err.message.contains("Pwrite"), "{err:?}");
    }

    #[test]
    fn iozones_zeros_for_records_it_did_not_run_are_no_cells() {
        let run = &parse(REAL_CROSSOVER, &stated()).unwrap()[0];
        // 13 records on the 16 MiB file, 9 (64 KiB and up) on the 32 MiB one; 4 passes.
        assert_eq!(run.results["ranks"][0]["cells"].as_array().unwrap().len(), (13 + 9) * 4);
        assert!(cell(run, "write", 32768, 32).is_none());
        assert_eq!(cell(run, "write", 32768, 64).unwrap()["kib_per_s"], 531379.0);
    }

    #[test]
    fn what_is_iozone_and_what_is_not_imported() {
        let reader_only = "\"Reader report\"\n        \"4\"\n\"64\"   7 \n";
        assert!(recognise(reader_only).is_some());
        assert_eq!(
            cell(&parse(reader_only, &stated()).unwrap()[0], "read", 64, 4).unwrap()["kib_per_s"],
            7.0
        );
        assert!(recognise("\"Writer\" \"Reader\"\n").is_none());
        // Quoted preamble lines are not reports.
        let quoted = TABLE_AND_REPORT.replace("\tAuto Mode\n", "\t\"Auto Mode\"\n");
        assert!(parse(&quoted, &stated()).is_ok());
        for throughput in
            ["Throughput test with 2 processes", "Children see throughput for  2 initial writers"]
        {
            let text = TABLE_AND_REPORT.replace("\tAuto Mode\n", &format!("\t{throughput}\n"));
            assert!(parse(&text, &stated()).unwrap_err().message.contains("-t"), "{throughput}");
        }
    }

    #[test]
    fn the_tables_shape_is_iozones() {
        assert!(is_table_header("KB  reclen   write"));
        assert!(is_table_header("kB  reclen    write"));
        assert!(!is_table_header("KB  written"));
        assert!(!is_table_header("Record reclen"));
        let header = "              KB  reclen   write\n";
        let table = |rows: &str| format!("{header}{rows}\niozone test complete.\n");
        assert!(parse(&table("              64       4       1\n"), &stated()).is_ok());
        // Two figures under one column title, a row of sizes only, no rows at all.
        let two = parse(&table("              64       4     1 2\n"), &stated()).unwrap_err();
        assert_eq!((two.line, two.message.as_str()), (Some(2), "\"2\" is under no column of the title"));
        let sizes_only = parse(&table("              64       4\n"), &stated()).unwrap_err();
        assert!(sizes_only.message.contains("not a row"), "{sizes_only:?}");
        assert!(parse(&table(""), &stated()).unwrap_err().message.contains("no rows"));
        let wide = format!("{}{}\n", header.trim_end(), "   write".repeat(IOZONE_REPORTS.len()));
        assert!(
            parse(&format!("{wide}\niozone test complete.\n"), &stated())
                .unwrap_err()
                .message
                .contains("more columns")
        );
        let exactly = format!("{}{}\n", header.trim_end(), "   write".repeat(IOZONE_REPORTS.len() - 1));
        let err = parse(&format!("{exactly}\niozone test complete.\n"), &stated()).unwrap_err();
        assert!(err.message.contains("no rows"), "all of iozone's columns are allowed: {err:?}");
    }

    #[test]
    fn a_report_alone_must_be_whole_and_fit_its_record_sizes() {
        let report = &TABLE_AND_REPORT[TABLE_AND_REPORT.find("Excel output").unwrap()..];
        let lines: Vec<&str> = report.lines().collect();
        let cut: String = lines[..lines.len() - 1].iter().map(|l| format!("{l}\n")).collect();
        let err = parse(&cut, &stated()).unwrap_err();
        assert!(err.message.contains("this report has 1 rows, the first 2"), "{err:?}");
        let title = "\"Writer report\"\n        \"4\"  \"8\"\n";
        let too_many = parse(&format!("{title}\"8\"   1  2  3 \n"), &stated()).unwrap_err();
        assert!(too_many.message.contains("3 figures for a 8 KB file and 2 record sizes"), "{too_many:?}");
        let none = parse(&format!("{title}\"8\" \n"), &stated()).unwrap_err();
        assert!(none.message.contains("0 figures"), "{none:?}");
    }

    #[test]
    fn a_large_files_report_row_holds_the_largest_records() {
        // iozone's crossover: files above 16 MiB skip records below 64 KiB.
        let report = "\"Writer report\"\n        \"16\"  \"32\"  \"64\"  \"128\"\n\"16384\"   1  2  3  4 \n\"32768\"   5  6 \n";
        let run = &parse(report, &stated()).unwrap()[0];
        assert_eq!(cell(run, "write", 32768, 64).unwrap()["kib_per_s"], 5.0);
        assert_eq!(cell(run, "write", 32768, 128).unwrap()["kib_per_s"], 6.0);
        assert!(cell(run, "write", 32768, 16).is_none());
    }

    #[test]
    fn cut_or_inconsistent_outputs_are_refused_with_their_line() {
        let lines: Vec<&str> = TABLE_AND_REPORT.lines().collect();
        let upto = |n: usize| lines[..n].iter().map(|l| format!("{l}\n")).collect::<String>();
        // Cut in the table: no "iozone test complete."
        let err = parse(&upto(30), &stated()).unwrap_err();
        assert!(err.message.contains("truncated"), "{err:?}");
        // Cut in the last report: fewer rows than the first, or fewer figures than the table.
        let err = parse(&upto(lines.len() - 1), &stated()).unwrap_err();
        assert!(err.message.contains("truncated"), "{err:?}");
        // A figure the report and the table disagree on.
        let changed = TABLE_AND_REPORT.replacen(" 412345 ", " 412346 ", 1);
        let err = parse(&changed, &stated()).unwrap_err();
        assert_eq!(err.line, Some(39));
        assert!(err.message.contains("line 26"), "{err:?}");
        // A figure under no column.
        let shifted = TABLE_AND_REPORT.replace("  412345  523456", "412345    523456");
        assert_eq!(parse(&shifted, &stated()).unwrap_err().line, Some(26));
        let ops = TABLE_AND_REPORT.replace("Output is in Kbytes/sec", "Output is in operations per second");
        assert!(parse(&ops, &stated()).unwrap_err().message.contains("only outputs in kBytes/sec import"));
        assert!(parse("hello\n", &stated()).unwrap_err().message.contains("no iozone"));
        let unknown = TABLE_AND_REPORT.replace("\"Random write report\"", "\"Sideways report\"");
        assert!(parse(&unknown, &stated()).unwrap_err().message.contains("not a report iozone prints"));
    }
}
