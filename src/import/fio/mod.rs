//! fio's `--output-format=json` (also `json+`, and `normal,json`, whose text around the JSON
//! is skipped but for its job lines): every job that reads and/or writes one file
//! (`rw=read|write|randread|randwrite|rw|randrw`) gives a cell of the `fs` kind per direction
//! (pass; file size = what one pass covers, `io_size` or else `size`; record size = `bs`), with
//! fio's bandwidth, runtime and the bytes it reports it moved (more than the file with
//! `time_based` or `loops`). Jobs of the same name (`numjobs`) ran side by side: each is a
//! rank's sweep, as under `pvbench fs` on several ranks. An entry that is several jobs
//! (`group_reporting`) is marked as such, its cells the mean job's (see `group`). Latencies
//! (and `json+`'s histograms) are not kept: the `fs` kind holds rates.

mod group;

use serde_json::Value;

use super::text::{ParseError, json_error};
use super::{Imported, Stated};
use crate::cli::parse_size;
use crate::result::Ranks;
use crate::result::fs::{Cell, FsResults, JobGroup, RankSweep};
use crate::result::imported::{FioJobParameters, FioParameters};

pub fn recognise(text: &str) -> Option<&'static str> {
    text.contains("\"fio version\"").then_some("its \"fio version\" key")
}

/// fio's `rw`, as the passes it makes and the side of the job's figures that holds each.
fn passes_of(rw: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match rw {
        "read" => &[("read", "read")],
        "write" => &[("write", "write")],
        "randread" => &[("random read", "read")],
        "randwrite" => &[("random write", "write")],
        "rw" | "readwrite" => &[("mixed read", "read"), ("mixed write", "write")],
        "randrw" => &[("mixed random read", "read"), ("mixed random write", "write")],
        _ => return None,
    })
}

/// What one job gives: its cells (one per direction it moved data in), what it was asked to
/// do, and the file (or directory) it used.
struct Job {
    cells: Vec<Cell>,
    parameters: FioJobParameters,
    file: String,
}

/// fio's `"error"`: 0 for a job that ran; any other value, of any type, is not a measurement.
fn refuse_an_error(job: &Value, what: &str) -> Result<(), ParseError> {
    match &job["error"] {
        Value::Null => Ok(()),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(()),
        Value::Number(n) => {
            Err(ParseError::whole(format!("{what} ended with error {n}: its figures are not a measurement")))
        }
        other => Err(ParseError::whole(format!(
            "{what}: \"error\" is {other}, not fio's error number: its figures are not a measurement"
        ))),
    }
}

/// A rate or a time fio printed: absent (or null) is `None`; anything but a finite number at
/// or above zero is refused.
fn figure(value: &Value, path: &str) -> Result<Option<f64>, ParseError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(Some)
            .ok_or_else(|| ParseError::whole(format!("{path} is {n}: not a measurement"))),
        other => Err(ParseError::whole(format!("{path} is {other}, not a number"))),
    }
}

/// The cell of one direction of a job that reports `jobs` jobs.
fn cell(
    job: &Value,
    what: &str,
    (pass, side): (&str, &str),
    jobs: u32,
    sizes: (u64, u64),
) -> Result<Cell, ParseError> {
    let figures = &job[side];
    let at = |key: &str| format!("{what}: {side}.{key}");
    let bytes_per_s = match figure(&figures["bw_bytes"], &at("bw_bytes"))? {
        Some(bytes) => bytes,
        None => figure(&figures["bw"], &at("bw"))?
            .map(|kib| kib * 1024.0)
            .ok_or_else(|| ParseError::whole(format!("{what}: no {side} bandwidth")))?,
    };
    let runtime_ms = figure(&figures["runtime"], &at("runtime"))?.unwrap_or(0.0);
    if runtime_ms <= 0.0 {
        return Err(ParseError::whole(format!("{what}: no {side} runtime: the job did not run")));
    }
    let bytes_moved = match &figures["io_bytes"] {
        Value::Null => None,
        value => Some(value.as_u64().ok_or_else(|| {
            ParseError::whole(format!("{} is {value}, not a count of bytes", at("io_bytes")))
        })?),
    };
    if bytes_moved == Some(0) {
        return Err(ParseError::whole(format!("{what}: moved no {side} bytes: nothing measured")));
    }
    let (kib_per_s, mib_per_s) = (bytes_per_s / 1024.0, bytes_per_s / 1024.0 / 1024.0);
    let group = (jobs > 1).then_some(JobGroup { jobs, kib_per_s, mib_per_s, bytes_moved });
    let per_job = f64::from(jobs);
    Ok(Cell {
        file_size_bytes: sizes.0,
        record_size_bytes: sizes.1,
        pass: pass.into(),
        seconds: Some(runtime_ms / 1000.0),
        kib_per_s: kib_per_s / per_job,
        mib_per_s: mib_per_s / per_job,
        bytes_moved: if group.is_some() { None } else { bytes_moved },
        group,
    })
}

fn job_cells(job: &Value, global: &Value, jobs: u32) -> Result<Job, ParseError> {
    let name = job["jobname"].as_str().unwrap_or("?").to_string();
    let what = format!("job {name:?}");
    refuse_an_error(job, &what)?;
    let option = |keys: &[&str]| {
        keys.iter().find_map(|k| job["job options"][*k].as_str().or_else(|| global[*k].as_str()))
    };
    let rw = option(&["rw", "readwrite"]).unwrap_or("read");
    let passes = passes_of(rw).ok_or_else(|| {
        ParseError::whole(format!(
            "{what}: rw={rw} is not one of read, write, randread, randwrite, rw, randrw (passes over one file)"
        ))
    })?;
    let size_of = |keys: &[&str], what_size: &str| -> Result<Option<u64>, ParseError> {
        let Some(text) = option(keys) else { return Ok(None) };
        if text.contains(',') || text.contains(':') {
            return Err(ParseError::whole(format!("{what}: {}={text}: one size only", keys[0])));
        }
        parse_size(text)
            .map(Some)
            .map_err(|e| ParseError::whole(format!("{what}: {} ({what_size}): {e}", keys[0])))
    };
    if let Some(files) = option(&["nrfiles"]).filter(|n| *n != "1") {
        return Err(ParseError::whole(format!("{what}: nrfiles={files}: an fs pass is one file")));
    }
    let unknown = |key: &str, what_size: &str| {
        ParseError::whole(format!("{what}: no {key} option: the {what_size} is unknown"))
    };
    let block = size_of(&["bs", "blocksize"], "record size")?.ok_or_else(|| unknown("bs", "record size"))?;
    let size = size_of(&["size", "filesize"], "file size")?.ok_or_else(|| unknown("size", "file size"))?;
    let io_size = size_of(&["io_size", "io_limit"], "bytes per pass")?;
    let sides: Vec<&str> = passes.iter().map(|(_, side)| *side).collect();
    let loops: u64 = option(&["loops"]).and_then(|l| l.parse().ok()).unwrap_or(1);
    let most_per_job = option(&["runtime"]).is_none().then(|| io_size.unwrap_or(size).saturating_mul(loops));
    group::refuse_mixed_sections(job, rw, &sides, jobs, most_per_job)?;
    let cells = passes
        .iter()
        .map(|pass| cell(job, &what, *pass, jobs, (io_size.unwrap_or(size), block)))
        .collect::<Result<Vec<Cell>, ParseError>>()?;
    let parameters = FioJobParameters {
        name,
        rw: rw.into(),
        block_size_bytes: block,
        file_size_bytes: size,
        io_size_bytes: io_size,
        runtime_limit_s: option(&["runtime"]).and_then(|t| t.trim_end_matches('s').parse().ok()),
        iodepth: option(&["iodepth"]).and_then(|d| d.parse().ok()),
        ioengine: option(&["ioengine"]).map(str::to_string),
        direct: option(&["direct"]).is_some_and(|d| d == "1"),
    };
    let file = option(&["filename"]).or(option(&["directory"])).unwrap_or_default().to_string();
    Ok(Job { cells, parameters, file })
}

pub fn parse(text: &str, stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    // fio's notes (`note: …`, `fio: pid=…, err=…`), or with `normal,json` its human output, may
    // surround the JSON: the first JSON value is the output, the text is read for job counts.
    let start = if text.starts_with('{') { 0 } else { text.find("\n{").map_or(text.len(), |i| i + 1) };
    let skipped_lines = text[..start].lines().count();
    let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    let doc = match values.next() {
        Some(Ok(doc)) => doc,
        Some(Err(e)) => {
            let e = json_error(e);
            return Err(ParseError { line: e.line.map(|l| l + skipped_lines), ..e });
        }
        None => return Err(ParseError::whole("no JSON object: not fio's JSON output")),
    };
    let around = format!("{}{}", &text[..start], &text[start + values.byte_offset()..]);
    let jobs =
        doc["jobs"].as_array().ok_or_else(|| ParseError::whole("no \"jobs\" array: not fio's JSON"))?;
    if jobs.is_empty() {
        return Err(ParseError::whole("no job in \"jobs\""));
    }
    let global = &doc["global options"];
    let jobs_per_entry = group::jobs_per_entry(&around, jobs, global)?;
    let mut job_parameters = Vec::new();
    let mut sweeps: Vec<RankSweep> = Vec::new();
    // Per name, the jobs its entries stand for: the ranks that ran side by side.
    let mut jobs_of_name: Vec<(String, u32)> = Vec::new();
    for (job, &count) in jobs.iter().zip(&jobs_per_entry) {
        let Job { cells, parameters, file } = job_cells(job, global, count)?;
        // The n-th job of a name is the n-th rank.
        let rank = job_parameters.iter().filter(|p: &&FioJobParameters| p.name == parameters.name).count();
        if sweeps.len() <= rank {
            sweeps.push(RankSweep {
                rank: rank as u32,
                host: stated.host_or("unstated"),
                file,
                cells: Vec::new(),
            });
        }
        sweeps[rank].cells.extend(cells);
        match jobs_of_name.iter_mut().find(|(name, _)| *name == parameters.name) {
            Some((_, jobs)) => *jobs += count,
            None => jobs_of_name.push((parameters.name.clone(), count)),
        }
        job_parameters.push(parameters);
    }
    let started_at = jobs.iter().filter_map(|j| j["job_start"].as_u64()).min().map(|ms| {
        humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
            .to_string()
    });
    let all_jobs: u32 = jobs_per_entry.iter().sum();
    let summary = format!(
        "fs, {all_jobs} jobs: {}",
        sweeps
            .iter()
            .flat_map(|s| &s.cells)
            .map(|c| match &c.group {
                Some(g) => format!(
                    "{} {:.1} MiB/s ({} jobs reported as one: {:.1} MiB/s each)",
                    c.pass, g.mib_per_s, g.jobs, c.mib_per_s
                ),
                None => format!("{} {:.1} MiB/s", c.pass, c.mib_per_s),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let ranks = jobs_of_name.iter().map(|(_, jobs)| *jobs).max().unwrap_or(1);
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

    pub const TWO_JOBS: &str = include_str!("../../../tests/data/import/fio.json");

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
        assert_eq!(passes_of("read"), Some(&[("read", "read")][..]));
        assert_eq!(passes_of("write"), Some(&[("write", "write")][..]));
        assert_eq!(passes_of("randread"), Some(&[("random read", "read")][..]));
        assert_eq!(passes_of("randwrite"), Some(&[("random write", "write")][..]));
        assert_eq!(passes_of("rw"), Some(&[("mixed read", "read"), ("mixed write", "write")][..]));
        assert_eq!(passes_of("readwrite"), passes_of("rw"));
        assert_eq!(passes_of("trim"), None);
        // fio before 3.x prints bw (KiB/s) without bw_bytes; direct=1 is recorded.
        let mut doc: Value = serde_json::from_str(TWO_JOBS).unwrap();
        doc["jobs"][0]["write"].as_object_mut().unwrap().remove("bw_bytes");
        doc["jobs"][0]["job options"]["direct"] = "1".into();
        let run = &parse(&doc.to_string(), &stated()).unwrap()[0];
        assert_eq!(run.results["ranks"][0]["cells"][0]["mib_per_s"], 512.0);
        assert_eq!(run.parameters["jobs"][0]["direct"], true);
        assert_eq!(run.parameters["jobs"][1]["direct"], false);
    }

    /// fio 3.33's own `--output-format=normal,json` of `rw=randrw --size=4m --bs=64k`: the
    /// human text around the JSON is skipped, and the job is a read and a write cell.
    #[test]
    fn randrw_in_normal_and_json_output_is_two_cells() {
        let text = include_str!("../../../tests/data/import/fio-3.33-randrw-normal-json.txt");
        let run = &parse(text, &stated()).unwrap()[0];
        let cells = run.results["ranks"][0]["cells"].as_array().unwrap();
        let passes: Vec<&str> = cells.iter().map(|c| c["pass"].as_str().unwrap()).collect();
        assert_eq!(passes, ["mixed random read", "mixed random write"]);
        assert_eq!(
            (cells[0]["bytes_moved"].as_u64(), cells[1]["bytes_moved"].as_u64()),
            (Some(1900544), Some(2293760))
        );
        assert_eq!(cells[0]["file_size_bytes"], 4 << 20);
        assert_eq!(cells[1]["kib_per_s"], 382293333.0 / 1024.0);
    }

    /// `time_based` moves more than the file, `io_size` less: the cell is what one pass covers,
    /// with the bytes fio moved beside it; iodepth and runtime are kept.
    #[test]
    fn time_based_and_io_size_keep_the_bytes_fio_moved() {
        let mut doc: Value = serde_json::from_str(TWO_JOBS).unwrap();
        doc["jobs"][0]["job options"]["runtime"] = "1".into();
        doc["jobs"][0]["job options"]["iodepth"] = "16".into();
        doc["jobs"][0]["write"]["io_bytes"] = 3_751_018_496u64.into();
        doc["jobs"][1]["job options"]["io_size"] = "2m".into();
        doc["jobs"][1]["read"]["io_bytes"] = (2u64 << 20).into();
        let run = &parse(&doc.to_string(), &stated()).unwrap()[0];
        let cells = &run.results["ranks"][0]["cells"];
        assert_eq!(
            (cells[0]["file_size_bytes"].as_u64(), cells[0]["bytes_moved"].as_u64()),
            (Some(1 << 30), Some(3_751_018_496))
        );
        assert_eq!(cells[1]["file_size_bytes"], 2 << 20, "io_size, not size");
        let jobs = &run.parameters["jobs"];
        assert_eq!((jobs[0]["iodepth"].as_u64(), jobs[0]["runtime_limit_s"].as_f64()), (Some(16), Some(1.0)));
        assert_eq!(jobs[1]["io_size_bytes"], 2 << 20);
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
        let trim = TWO_JOBS.replace("\"rw\" : \"randread\"", "\"rw\" : \"randtrim\"");
        assert!(parse(&trim, &stated()).unwrap_err().message.contains("rw=randtrim"));
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
        assert!(parse("hello\n", &stated()).unwrap_err().message.starts_with("no JSON object"));
        let failed = TWO_JOBS.replacen("\"error\" : 0", "\"error\" : 5", 1);
        assert!(parse(&failed, &stated()).unwrap_err().message.contains("error 5"));
    }

    /// Values fio never writes: each is one error naming the job and the value, never a panic
    /// or a figure.
    #[test]
    fn hostile_values_are_one_clear_error() {
        let doc: Value = serde_json::from_str(TWO_JOBS).unwrap();
        let refused = |edit: &dyn Fn(&mut Value)| {
            let mut doc = doc.clone();
            edit(&mut doc);
            parse(&doc.to_string(), &stated()).unwrap_err().message
        };
        for (error, said) in [
            (serde_json::json!(84), "job \"seq-write\" ended with error 84"),
            (serde_json::json!(-5), "ended with error -5"),
            (serde_json::json!("0"), "\"error\" is \"0\", not fio's error number"),
            (serde_json::json!({"errno": 5}), "\"error\" is {\"errno\":5}, not fio's error number"),
            (serde_json::json!([5]), "\"error\" is [5], not fio's error number"),
            (serde_json::json!(true), "\"error\" is true"),
        ] {
            let message = refused(&|d| d["jobs"][0]["error"] = error.clone());
            assert!(message.contains(said), "{said:?} in {message:?}");
        }
        for (key, value, said) in [
            ("bw_bytes", serde_json::json!(-1), "write.bw_bytes is -1: not a measurement"),
            ("bw_bytes", serde_json::json!("NaN"), "write.bw_bytes is \"NaN\", not a number"),
            ("runtime", serde_json::json!(0), "no write runtime: the job did not run"),
            ("runtime", serde_json::json!(-2000), "write.runtime is -2000: not a measurement"),
            ("io_bytes", serde_json::json!(0), "moved no write bytes: nothing measured"),
            ("io_bytes", serde_json::json!(-4096), "write.io_bytes is -4096, not a count of bytes"),
        ] {
            let message = refused(&|d| d["jobs"][0]["write"][key] = value.clone());
            assert!(message.contains(said), "{said:?} in {message:?}");
        }
        let huge = TWO_JOBS.replacen("\"runtime\" : 2000", "\"runtime\" : 1e400", 1);
        assert!(parse(&huge, &stated()).unwrap_err().message.starts_with("not JSON: number out of range"));
    }

    /// fio 3.33's own `--numjobs=4 --group_reporting`: one entry of four jobs, its cell the mean
    /// job's, fio's figure for the four beside it.
    #[test]
    fn a_group_of_four_jobs_is_marked_and_its_cell_is_the_mean_jobs() {
        let text = include_str!("../../../tests/data/import/fio-3.33-numjobs4-group.json");
        let raw: Value = serde_json::from_str(text).unwrap();
        let run = &parse(text, &stated()).unwrap()[0];
        assert_eq!(run.ranks.count, 4);
        let cell = &run.results["ranks"][0]["cells"][0];
        let fios = raw["jobs"][0]["write"]["bw_bytes"].as_f64().unwrap() / 1048576.0;
        assert_eq!(cell["group"]["jobs"], 4);
        assert_eq!(cell["group"]["mib_per_s"].as_f64(), Some(fios));
        assert_eq!(cell["mib_per_s"].as_f64(), Some(fios / 4.0));
        assert_eq!(cell["group"]["bytes_moved"], raw["jobs"][0]["write"]["io_bytes"]);
        assert!(cell.get("bytes_moved").is_none(), "fio printed the group's bytes only");
    }
}
