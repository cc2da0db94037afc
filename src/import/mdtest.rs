//! mdtest's text output (IOR's `src/mdtest.c`): the banner (`mdtest-V was launched with N total
//! task(s)`, `Command line used:`), each `N tasks, M files/directories` block and its `SUMMARY
//! rate (in ops/sec)` table: per operation max, min, mean and standard deviation over the
//! iterations of the aggregate rate, which is all ranks' items over the longest rank's time
//! (`summarize_results`), as `pvbench meta` computes it. One document per block.

use super::text::{ParseError, complete_lines, number};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::meta::{MetaParameters, MetaResults, Phase, PhaseResult};

pub fn recognise(text: &str) -> Option<&'static str> {
    let head: String = text.lines().take(400).collect::<Vec<_>>().join("\n");
    (head.contains("mdtest-") && head.contains("SUMMARY")).then_some("its mdtest banner and SUMMARY table")
}

/// One `N tasks, M files/directories` block.
#[derive(Default)]
struct Block {
    lines: [usize; 2],
    tasks: u32,
    items: u64,
    iterations: Option<u32>,
    /// Inside the rate table (after its header) and whether the table is rates.
    in_table: bool,
    phases: Vec<PhaseResult>,
}

/// What the banner says, for every block.
#[derive(Default)]
struct Banner {
    version: Option<String>,
    command_line: Option<String>,
    path: Option<String>,
}

pub fn parse(text: &str, _stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let lines = complete_lines(text)?;
    let mut banner = Banner::default();
    let mut blocks: Vec<Block> = Vec::new();
    for &(n, line) in &lines {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("mdtest-") {
            banner.version = rest.split_whitespace().next().map(str::to_string);
        } else if let Some(command) = trimmed.strip_prefix("Command line used:") {
            banner.command_line = Some(command.trim().to_string());
        } else if let Some(path) =
            trimmed.strip_prefix("Path:").or_else(|| trimmed.strip_prefix("Path                :"))
        {
            banner.path.get_or_insert_with(|| path.trim().to_string());
        } else if let Some((tasks, rest)) = trimmed.split_once(" tasks, ")
            && let Some(items) = rest.strip_suffix(" files/directories")
            && tasks.bytes().all(|b| b.is_ascii_digit())
        {
            let tasks: u32 = number(n, tasks, "tasks")?;
            let items: u64 = number(n, items, "files/directories")?;
            if tasks == 0 || !items.is_multiple_of(u64::from(tasks)) {
                return Err(ParseError::at(
                    n,
                    format!("{items} items over {tasks} tasks: not mdtest's count"),
                ));
            }
            blocks.push(Block { lines: [n, n], tasks, items, ..Block::default() });
        } else if trimmed.starts_with("SUMMARY") {
            let block =
                blocks.last_mut().ok_or_else(|| ParseError::at(n, "a SUMMARY before its N tasks line"))?;
            if trimmed.starts_with("SUMMARY time") {
                return Err(ParseError::at(n, "a SUMMARY time table (mdtest -Z): pvbench imports the rates"));
            }
            let of = trimmed.split_once("(of ").and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("");
            block.iterations = Some(number(n, of, "iterations")?);
            block.in_table = true;
        } else if let Some(block) = blocks.last_mut().filter(|b| b.in_table) {
            block.lines[1] = n;
            if trimmed.starts_with("Operation") || trimmed.starts_with("---") {
                continue;
            }
            match row(n, trimmed, block.items)? {
                Some(Row::Phase(phase)) => block.phases.push(phase),
                Some(Row::Other) => {}
                None => block.in_table = false,
            }
        }
    }
    if blocks.is_empty() {
        return Err(ParseError::whole("no `N tasks, M files/directories` line: not mdtest's output"));
    }
    blocks.into_iter().map(|block| document(block, &banner)).collect()
}

enum Row {
    Phase(PhaseResult),
    /// An operation pvbench does not run (tree creation, directory rename).
    Other,
}

/// A row of the rate table, or `None` for the first line past it.
fn row(n: usize, line: &str, items: u64) -> Result<Option<Row>, ParseError> {
    let first_number = line.find(|c: char| c.is_ascii_digit() || c == '-').unwrap_or(line.len());
    let name = line[..first_number].trim().trim_end_matches(':').trim();
    let values: Vec<&str> = line[first_number..].split_whitespace().collect();
    if name.is_empty() || values.is_empty() {
        return Ok(None);
    }
    // With -R (per-rank statistics) seven columns; the iteration statistics are the last four.
    if values.len() != 4 && values.len() != 7 {
        return Err(ParseError::at(n, format!("{name}: {} values, not mdtest's 4 (or 7)", values.len())));
    }
    let mut figures = [0.0f64; 4];
    for (figure, text) in figures.iter_mut().zip(&values[values.len() - 4..]) {
        *figure = number(n, text, name)?;
        if !figure.is_finite() || *figure < 0.0 {
            return Err(ParseError::at(n, format!("{name}: {text} is not a measurement")));
        }
    }
    let Some(phase) = Phase::from_mdtest_name(name) else {
        return match name {
            "Tree creation" | "Tree removal" | "Directory rename" | "Directory read" => Ok(Some(Row::Other)),
            _ => Err(ParseError::at(n, format!("{name:?}: no operation of mdtest's"))),
        };
    };
    let [max, min, mean, sd] = figures;
    if max == 0.0 {
        return Ok(Some(Row::Other)); // a phase the run left out (-D, -F, -C…) prints zeros
    }
    if min > mean || mean > max {
        return Err(ParseError::at(n, format!("{name}: min {min}, mean {mean}, max {max} are out of order")));
    }
    Ok(Some(Row::Phase(PhaseResult {
        phase,
        items,
        iterations: Vec::new(),
        max_ops_per_s: max,
        min_ops_per_s: min,
        mean_ops_per_s: mean,
        sd_ops_per_s: sd,
        latency: None,
    })))
}

/// The value after `flag` in mdtest's echoed command line (`'-n' '100'` or `-n 100`).
fn flag<'a>(command: &'a str, flag: &str) -> Option<&'a str> {
    let words: Vec<&str> = command.split_whitespace().map(|w| w.trim_matches('\'')).collect();
    words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1).copied())
}

fn document(block: Block, banner: &Banner) -> Result<Imported, ParseError> {
    let Some(iterations) = block.iterations else {
        return Err(ParseError::at(block.lines[1], "truncated: no SUMMARY rate table for this block"));
    };
    if block.phases.is_empty() {
        return Err(ParseError::at(block.lines[1], "truncated: the SUMMARY table has no operation"));
    }
    let command = banner.command_line.as_deref().unwrap_or("");
    let has = |f: &str| command.split_whitespace().any(|w| w.trim_matches('\'') == f);
    let bytes = |f: &str| flag(command, f).and_then(|v| v.parse().ok()).unwrap_or(0);
    let parameters = MetaParameters {
        dir: banner.path.clone().or_else(|| flag(command, "-d").map(str::to_string)).unwrap_or_default(),
        items_per_rank: block.items / u64::from(block.tasks),
        iterations,
        unique_dir: has("-u"),
        write_bytes: bytes("-w"),
        read_bytes: bytes("-e"),
        phases: block.phases.iter().map(|p| p.phase).collect(),
        interface: flag(command, "-a").unwrap_or("posix").to_lowercase(),
    };
    let summary = format!(
        "meta, {} tasks × {} items: {}",
        block.tasks,
        parameters.items_per_rank,
        block
            .phases
            .iter()
            .map(|p| format!("{} {:.0} ops/s", p.phase.id(), p.mean_ops_per_s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Imported {
        kind: "meta",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(MetaResults { phases: block.phases }).expect("results serialise"),
        ranks: Ranks { count: block.tasks, hosts: Vec::new() },
        started_at: None,
        tool_version: banner.version.clone(),
        tool_command_line: banner.command_line.clone(),
        lines: block.lines,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/data/import/mdtest-two-iterations.txt");

    #[test]
    fn a_summary_becomes_a_meta_document() {
        assert!(recognise(SAMPLE).is_some());
        let docs = parse(SAMPLE, &Stated::host(Some("h"))).unwrap();
        assert_eq!(docs.len(), 1);
        let doc = &docs[0];
        assert_eq!((doc.kind, doc.ranks.count), ("meta", 2));
        assert_eq!(doc.parameters["items_per_rank"], 100);
        assert_eq!(doc.parameters["iterations"], 2);
        assert_eq!(doc.parameters["unique_dir"], true);
        assert_eq!(doc.parameters["dir"], "/tmp/mdtest-dir");
        let phases = doc.results["phases"].as_array().unwrap();
        let ids: Vec<&str> = phases.iter().map(|p| p["phase"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["dir_create", "dir_stat", "dir_remove", "file_create", "file_stat", "file_read", "file_remove"]
        );
        assert_eq!(phases[3]["mean_ops_per_s"], 2338.5);
        assert_eq!(phases[3]["items"], 200);
        assert!(phases[3]["latency"].is_null());
        assert_eq!(doc.tool_version.as_deref(), Some("4.1.0+dev"));
    }

    /// A real mdtest 4.1 run (2 tasks, -n 500): its warning is passed over, its directory
    /// rename (which pvbench does not run) left out.
    #[test]
    fn a_real_output_imports() {
        let real = include_str!("../../tests/data/import/mdtest-4.1-real.txt");
        assert_eq!(recognise(real), Some("its mdtest banner and SUMMARY table"));
        let doc = &parse(real, &Stated::host(None)).unwrap()[0];
        assert_eq!(doc.parameters["items_per_rank"], 500);
        assert_eq!(doc.parameters["unique_dir"], false);
        assert_eq!(doc.results["phases"].as_array().unwrap().len(), 7);
        assert_eq!(doc.results["phases"][2]["phase"], "dir_remove");
        assert_eq!(doc.lines, [9, 24]);
    }

    #[test]
    fn a_broken_table_names_its_line() {
        let bad = SAMPLE.replace("2338.500", "-2338.500");
        assert!(parse(&bad, &Stated::host(None)).unwrap_err().message.contains("not a measurement"));
        let bad = SAMPLE.replace("File stat  ", "File frob  ");
        assert!(parse(&bad, &Stated::host(None)).unwrap_err().message.contains("no operation of mdtest's"));
        let cut: String =
            SAMPLE.lines().take_while(|l| !l.contains("SUMMARY")).map(|l| format!("{l}\n")).collect();
        assert!(parse(&cut, &Stated::host(None)).unwrap_err().message.contains("truncated"));
        let time = SAMPLE.replace("SUMMARY rate (in ops/sec)", "SUMMARY time (in ms/op)");
        assert!(parse(&time, &Stated::host(None)).unwrap_err().message.contains("mdtest -Z"));
    }
}
