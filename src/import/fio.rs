//! fio's `--output-format=json`: every job that reads or writes one file sequentially or at
//! random (`rw=read|write|randread|randwrite`) is a cell of the `fs` kind (pass, file size =
//! `size`, record size = `bs`), with fio's bandwidth and runtime. Jobs of the same name
//! (`numjobs`) ran side by side: each is a rank's sweep, as under `pvbench fs` on several ranks.

use super::text::{ParseError, json};
use super::{Imported, Stated};
use crate::cli::parse_size;
use crate::result::Ranks;
use crate::result::fs::{Cell, FsResults, RankSweep};
use crate::result::imported::{FioJobParameters, FioParameters};

pub fn recognise(text: &str) -> Option<&'static str> {
    text.contains("\"fio version\"").then_some("its \"fio version\" key")
}

/// fio's `rw`, as the pass it is and the side of the job's figures that holds it.
fn pass_of(rw: &str) -> Option<(&'static str, &'static str)> {
    Some(match rw {
        "read" => ("read", "read"),
        "write" => ("write", "write"),
        "randread" => ("random read", "read"),
        "randwrite" => ("random write", "write"),
        _ => return None,
    })
}

pub fn parse(text: &str, stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    // fio's notes (`note: …`) may precede the JSON when stderr went to the same file.
    let start = text.find("\n{").map(|i| i + 1).filter(|_| !text.starts_with('{')).unwrap_or(0);
    if let Some((n, line)) = text[..start]
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.starts_with("note:") && !l.starts_with("fio:"))
    {
        return Err(ParseError::at(n + 1, format!("not fio's JSON output: {:?}", line.trim())));
    }
    let skipped_lines = text[..start].lines().count();
    let doc =
        json(&text[start..]).map_err(|e| ParseError { line: e.line.map(|l| l + skipped_lines), ..e })?;
    let jobs =
        doc["jobs"].as_array().ok_or_else(|| ParseError::whole("no \"jobs\" array: not fio's JSON"))?;
    if jobs.is_empty() {
        return Err(ParseError::whole("no job in \"jobs\""));
    }
    let global = &doc["global options"];
    let mut job_parameters = Vec::new();
    let mut sweeps: Vec<RankSweep> = Vec::new();
    for job in jobs {
        let name = job["jobname"].as_str().unwrap_or("?").to_string();
        let what = format!("job {name:?}");
        if job["error"].as_i64().unwrap_or(0) != 0 {
            return Err(ParseError::whole(format!(
                "{what} ended with error {}: its figures are not a measurement",
                job["error"]
            )));
        }
        let option = |keys: &[&str]| {
            keys.iter().find_map(|k| job["job options"][*k].as_str().or_else(|| global[*k].as_str()))
        };
        let rw = option(&["rw", "readwrite"]).unwrap_or("read");
        let (pass, side) = pass_of(rw).ok_or_else(|| {
            ParseError::whole(format!(
                "{what}: rw={rw} is not one of read, write, randread, randwrite (a single-file pass)"
            ))
        })?;
        let size_of = |keys: &[&str], what_size: &str| -> Result<u64, ParseError> {
            let text = option(keys).ok_or_else(|| {
                ParseError::whole(format!("{what}: no {} option: the {what_size} is unknown", keys[0]))
            })?;
            if text.contains(',') || text.contains(':') {
                return Err(ParseError::whole(format!("{what}: {}={text}: one size only", keys[0])));
            }
            parse_size(text).map_err(|e| ParseError::whole(format!("{what}: {}: {e}", keys[0])))
        };
        if let Some(files) = option(&["nrfiles"]).filter(|n| *n != "1") {
            return Err(ParseError::whole(format!("{what}: nrfiles={files}: an fs pass is one file")));
        }
        let block = size_of(&["bs", "blocksize"], "record size")?;
        let size = size_of(&["size", "filesize"], "file size")?;
        let figures = &job[side];
        let bytes_per_s = figures["bw_bytes"]
            .as_f64()
            .or_else(|| figures["bw"].as_f64().map(|kib| kib * 1024.0))
            .ok_or_else(|| ParseError::whole(format!("{what}: no {side} bandwidth")))?;
        let runtime_ms = figures["runtime"].as_f64().unwrap_or(0.0);
        if runtime_ms <= 0.0 {
            return Err(ParseError::whole(format!("{what}: no {side} runtime: the job did not run")));
        }
        let cell = Cell {
            file_size_bytes: size,
            record_size_bytes: block,
            pass: pass.into(),
            seconds: Some(runtime_ms / 1000.0),
            kib_per_s: bytes_per_s / 1024.0,
            mib_per_s: bytes_per_s / 1024.0 / 1024.0,
        };
        // The n-th job of a name is the n-th rank.
        let rank = job_parameters.iter().filter(|p: &&FioJobParameters| p.name == name).count();
        if sweeps.len() <= rank {
            sweeps.push(RankSweep {
                rank: rank as u32,
                host: stated.host_or("unstated"),
                file: option(&["filename"]).or(option(&["directory"])).unwrap_or_default().to_string(),
                cells: Vec::new(),
            });
        }
        sweeps[rank].cells.push(cell);
        job_parameters.push(FioJobParameters {
            name,
            rw: rw.into(),
            block_size_bytes: block,
            file_size_bytes: size,
            ioengine: option(&["ioengine"]).map(str::to_string),
            direct: option(&["direct"]).is_some_and(|d| d == "1"),
        });
    }
    let started_at = jobs.iter().filter_map(|j| j["job_start"].as_u64()).min().map(|ms| {
        humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
            .to_string()
    });
    let summary = format!(
        "fs, {} jobs: {}",
        job_parameters.len(),
        sweeps
            .iter()
            .flat_map(|s| &s.cells)
            .map(|c| format!("{} {:.1} MiB/s", c.pass, c.mib_per_s))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ranks = sweeps.len() as u32;
    Ok(vec![Imported {
        kind: "fs",
        parameters: serde_json::to_value(FioParameters { jobs: job_parameters })
            .expect("parameters serialise"),
        results: serde_json::to_value(FsResults { ranks: sweeps }).expect("results serialise"),
        ranks: Ranks { count: ranks, hosts: Vec::new() },
        started_at,
        tool_version: doc["fio version"].as_str().map(str::to_string),
        tool_command_line: None,
        lines: [1, text.lines().count()],
        summary,
    }])
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use serde_json::Value;

    pub const TWO_JOBS: &str = include_str!("../../tests/data/import/fio.json");

    fn stated() -> Stated {
        Stated::host(Some("vm3"))
    }

    #[test]
    fn sequential_and_random_jobs_become_fs_cells() {
        let run = &parse(TWO_JOBS, &stated()).unwrap()[0];
        assert_eq!(run.kind, "fs");
        assert_eq!(run.tool_version.as_deref(), Some("fio-3.33"));
        assert_eq!(run.started_at.as_deref(), Some("2026-11-26T10:00:00Z"));
        let cells = run.results["ranks"][0]["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[0]["pass"], "write");
        assert_eq!(
            (cells[0]["file_size_bytes"].as_u64(), cells[0]["record_size_bytes"].as_u64()),
            (Some(1 << 30), Some(1 << 20))
        );
        assert_eq!(cells[0]["mib_per_s"], 512.0);
        assert_eq!(cells[0]["kib_per_s"], 524288.0);
        assert_eq!(cells[0]["seconds"], 2.0);
        assert_eq!(cells[1]["pass"], "random read");
        assert_eq!(cells[1]["record_size_bytes"], 65536);
        assert_eq!(run.results["ranks"][0]["host"], "vm3");
        assert_eq!(run.parameters["jobs"][0]["ioengine"], "psync");
    }

    #[test]
    fn every_single_file_pass_and_what_older_fios_print() {
        assert_eq!(pass_of("read"), Some(("read", "read")));
        assert_eq!(pass_of("write"), Some(("write", "write")));
        assert_eq!(pass_of("randread"), Some(("random read", "read")));
        assert_eq!(pass_of("randwrite"), Some(("random write", "write")));
        assert_eq!(pass_of("rw"), None);
        // fio before 3.x prints bw (KiB/s) without bw_bytes; direct=1 is recorded.
        let mut doc: Value = serde_json::from_str(TWO_JOBS).unwrap();
        doc["jobs"][0]["write"].as_object_mut().unwrap().remove("bw_bytes");
        doc["jobs"][0]["job options"]["direct"] = "1".into();
        let run = &parse(&doc.to_string(), &stated()).unwrap()[0];
        assert_eq!(run.results["ranks"][0]["cells"][0]["mib_per_s"], 512.0);
        assert_eq!(run.parameters["jobs"][0]["direct"], true);
        assert_eq!(run.parameters["jobs"][1]["direct"], false);
    }

    #[test]
    fn jobs_of_one_name_are_ranks() {
        let mut doc: Value = serde_json::from_str(TWO_JOBS).unwrap();
        let jobs = doc["jobs"].as_array_mut().unwrap();
        let twin = jobs[0].clone();
        jobs.push(twin);
        let run = &parse(&doc.to_string(), &stated()).unwrap()[0];
        assert_eq!(run.ranks.count, 2);
        assert_eq!(run.results["ranks"][1]["cells"][0]["pass"], "write");
    }

    #[test]
    fn mixed_jobs_and_broken_files_are_refused() {
        let mixed = TWO_JOBS.replace("\"rw\" : \"randread\"", "\"rw\" : \"randrw\"");
        assert!(parse(&mixed, &stated()).unwrap_err().message.contains("rw=randrw"));
        let several = TWO_JOBS.replace("\"bs\" : \"64k\",", "\"bs\" : \"64k\", \"nrfiles\" : \"4\",");
        assert!(parse(&several, &stated()).unwrap_err().message.contains("nrfiles=4"));
        let no_size = TWO_JOBS.replace("\"size\" : \"1G\",", "");
        assert!(parse(&no_size, &stated()).unwrap_err().message.contains("no size option"));
        let cut = &TWO_JOBS[..TWO_JOBS.len() - 40];
        assert!(parse(cut, &stated()).unwrap_err().message.starts_with("truncated"));
        let noted = format!("note: both iodepth >= 1 and synchronous I/O engine are selected\n{TWO_JOBS}");
        assert_eq!(
            parse(&noted, &stated()).unwrap()[0].results,
            parse(TWO_JOBS, &stated()).unwrap()[0].results
        );
        let split = TWO_JOBS.replace("\"bs\" : \"64k\"", "\"bs\" : \"64k,1m\"");
        assert!(parse(&split, &stated()).unwrap_err().message.contains("one size only"));
        // Lines are the file's, notes included.
        let broken =
            format!("note: one\nnote: two\n{}", TWO_JOBS.replacen("\"groupid\" : 0,", "\"groupid\" : ,", 1));
        let err = parse(&broken, &stated()).unwrap_err();
        assert_eq!(err.line, Some(2 + 14), "{err:?}");
        assert_eq!(err.message, "not JSON: expected value (column 19)");
        let garbage = format!("hello\n{TWO_JOBS}");
        assert_eq!(parse(&garbage, &stated()).unwrap_err().line, Some(1));
        let failed = TWO_JOBS.replacen("\"error\" : 0", "\"error\" : 5", 1);
        assert!(parse(&failed, &stated()).unwrap_err().message.contains("error 5"));
    }
}
