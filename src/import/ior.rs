//! IOR's JSON output (`-O summaryFormat=JSON`, src/ior-output.c): per test its Parameters, the
//! Results of every repetition (bandwidth in MiB/s and total time per access), and the summary
//! (max, min, mean, standard deviation, mean time). IOR's bandwidth is mpiio's IOR convention;
//! it prints no per-rank transfer times, so mpi-io-test's convention stays null. One document
//! per test.

use serde_json::Value;

use super::text::{ParseError, json};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::IorParameters;
use crate::result::mpiio::{
    IorSummary, IterationResult, MpiioParameters, MpiioResults, Order, Phase, PhaseResult, Verification,
};

pub fn recognise(text: &str) -> Option<&'static str> {
    (text.trim_start().starts_with('{') && text.contains("\"tests\"") && text.contains("\"Command line\""))
        .then_some("its JSON keys \"Command line\" and \"tests\"")
}

/// A whole number IOR printed under `key`.
fn integer(object: &Value, key: &str, what: &str) -> Result<u64, ParseError> {
    object[key].as_u64().ok_or_else(|| ParseError::whole(format!("{what}: no whole number {key:?}")))
}

fn real(object: &Value, key: &str, what: &str) -> Result<f64, ParseError> {
    let value =
        object[key].as_f64().ok_or_else(|| ParseError::whole(format!("{what}: no number {key:?}")))?;
    if value < 0.0 {
        return Err(ParseError::whole(format!("{what}: {key} {value}: not a measurement")));
    }
    Ok(value)
}

/// How far IOR's printed summary may stand from the mean of its printed repetitions.
const IOR_ROUNDING: f64 = 0.005;

/// IOR's summary is computed from the repetitions it lists: a maximum, minimum or mean that
/// they do not give (beyond IOR's rounding) was not written by IOR for this test.
fn check_summary(summary: &IorSummary, bandwidths: &[f64], what: &str) -> Result<(), ParseError> {
    let max = bandwidths.iter().copied().fold(f64::MIN, f64::max);
    let min = bandwidths.iter().copied().fold(f64::MAX, f64::min);
    let mean = bandwidths.iter().sum::<f64>() / bandwidths.len() as f64;
    for (key, printed, computed) in [
        ("bwMaxMIB", summary.max_mib_per_s, max),
        ("bwMinMIB", summary.min_mib_per_s, min),
        ("bwMeanMIB", summary.mean_mib_per_s, mean),
    ] {
        if (printed - computed).abs() > IOR_ROUNDING {
            return Err(ParseError::whole(format!(
                "{what}: the summary's {key} {printed} is not what the repetitions give ({computed:.2}): not this test's figure"
            )));
        }
    }
    Ok(())
}

pub fn parse(text: &str, _stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let doc = json(text)?;
    let tests =
        doc["tests"].as_array().ok_or_else(|| ParseError::whole("no \"tests\" array: not IOR's JSON"))?;
    let summary = doc["summary"].as_array().ok_or_else(|| {
        ParseError::whole("truncated: no \"summary\" (IOR prints it when every test has ended)")
    })?;
    if tests.is_empty() {
        return Err(ParseError::whole("no test in \"tests\""));
    }
    let lines = [1, text.lines().count()];
    tests.iter().map(|test| test_document(&doc, test, summary, lines)).collect()
}

/// One test of the output (`doc`, whose header names IOR's version and command line).
fn test_document(
    doc: &Value,
    test: &Value,
    summary: &[Value],
    lines: [usize; 2],
) -> Result<Imported, ParseError> {
    let id = integer(test, "TestID", "a test")?;
    let what = &format!("test {id}");
    let p = &test["Parameters"];
    let flag = |key: &str| -> Result<bool, ParseError> { Ok(integer(p, key, what)? != 0) };
    let block = integer(p, "blockSize", what)?;
    let segments = integer(p, "segmentCount", what)?;
    let repetitions = integer(p, "repetitions", what)?;
    let summaries: Vec<&Value> = summary.iter().filter(|s| s["TestID"].as_u64() == Some(id)).collect();
    let tasks = match summaries.first() {
        Some(s) => integer(s, "numTasks", what)?,
        None => integer(&test["Options"], "tasks", what)?,
    };
    let mut phases_run = Vec::new();
    if flag("writeFile")? {
        phases_run.push(Phase::Write);
    }
    if flag("readFile")? {
        phases_run.push(Phase::Read);
    }
    let parameters = IorParameters {
        mpiio: MpiioParameters {
            file: p["testFileName"].as_str().unwrap_or_default().to_string(),
            block_size_bytes: block,
            transfer_size_bytes: integer(p, "transferSize", what)?,
            // IOR's segments and order are in `segment_count` and its own command line.
            segments: 1,
            order: Order::Sequential,
            seed: None,
            offset_bytes: 0,
            iterations: repetitions as u32,
            collective: flag("collective")?,
            hints: Vec::new(),
            sync: flag("fsync")?,
            verify: flag("checkWrite")? || flag("checkRead")?,
            keep: flag("keepFile")?,
            phases: phases_run.clone(),
            file_per_process: flag("filePerProc")?,
            reorder_read: flag("reorderTasks")?,
            pvfs2tab: None,
        },
        segment_count: segments,
        api: p["api"].as_str().unwrap_or_default().to_string(),
    };
    let per_repetition = block * segments * tasks;
    let results = test["Results"]
        .as_array()
        .ok_or_else(|| ParseError::whole(format!("{what}: truncated: no \"Results\"")))?;
    if results.len() as u64 != repetitions {
        return Err(ParseError::whole(format!(
            "{what}: truncated: {} of {repetitions} repetitions in \"Results\"",
            results.len()
        )));
    }
    let mut phases = Vec::new();
    for phase in phases_run {
        let mut iterations = Vec::new();
        for (index, repetition) in results.iter().enumerate() {
            let access = repetition
                .as_array()
                .and_then(|accesses| accesses.iter().find(|a| a["access"] == phase.name()))
                .ok_or_else(|| {
                    ParseError::whole(format!("{what}: repetition {index} has no {} result", phase.name()))
                })?;
            iterations.push(IterationResult {
                iteration: index as u32,
                bytes: per_repetition,
                elapsed_s: real(access, "totalTime", what)?,
                bandwidth_mib_per_s: real(access, "bwMiB", what)?,
                ranks: Vec::new(),
            });
        }
        let s = summaries.iter().find(|s| s["operation"] == phase.name()).ok_or_else(|| {
            ParseError::whole(format!("{what}: truncated: the summary has no {} line", phase.name()))
        })?;
        let summary = IorSummary {
            max_mib_per_s: real(s, "bwMaxMIB", what)?,
            min_mib_per_s: real(s, "bwMinMIB", what)?,
            mean_mib_per_s: real(s, "bwMeanMIB", what)?,
            stddev_mib_per_s: real(s, "bwStdMIB", what)?,
            mean_elapsed_s: real(s, "MeanTime", what)?,
        };
        let bandwidths: Vec<f64> = iterations.iter().map(|i| i.bandwidth_mib_per_s).collect();
        check_summary(&summary, &bandwidths, &format!("{what}, {}", phase.name()))?;
        phases.push(PhaseResult {
            phase,
            bytes: per_repetition * repetitions,
            ior: Some(summary),
            mpi_io_test: None,
            iterations,
            operations: None,
        });
    }
    let summary = format!(
        "mpiio, IOR {what}: {} ranks × {repetitions} × {block} bytes{}: {}",
        tasks,
        if segments > 1 { format!(" × {segments} segments") } else { String::new() },
        phases
            .iter()
            .map(|p| format!(
                "{} {:.2} MiB/s",
                p.phase.name(),
                p.ior.as_ref().map_or(0.0, |s| s.mean_mib_per_s)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let results = MpiioResults {
        hints_in_effect: Default::default(),
        phases,
        free_space_bytes: None,
        verification: Verification { performed: parameters.mpiio.verify, bytes_checked: 0 },
    };
    Ok(Imported {
        kind: "mpiio",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: tasks as u32, hosts: Vec::new() },
        started_at: None,
        tool_version: doc["Version"].as_str().map(str::to_string),
        tool_command_line: doc["Command line"].as_str().map(str::to_string),
        lines,
        summary,
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub const TWO_REPETITIONS: &str = include_str!("../../tests/data/import/ior.json");

    fn stated() -> Stated {
        Stated::host(None)
    }

    /// A summary that its repetitions contradict (an edited mean), or a negative figure, is
    /// refused.
    #[test]
    fn a_summary_its_repetitions_contradict_is_refused() {
        let edited = TWO_REPETITIONS.replacen("\"bwMeanMIB\": 70.0", "\"bwMeanMIB\": 500.0", 1);
        assert_ne!(edited, TWO_REPETITIONS, "the sample holds the mean");
        let err = parse(&edited, &stated()).unwrap_err();
        assert!(err.message.contains("bwMeanMIB 500 is not what the repetitions give (70.00)"), "{err:?}");
        let edited = TWO_REPETITIONS.replacen("\"bwMaxMIB\": 70.5", "\"bwMaxMIB\": 71.5", 1);
        assert_ne!(edited, TWO_REPETITIONS);
        assert!(parse(&edited, &stated()).unwrap_err().message.contains("bwMaxMIB 71.5"));
        let negative = TWO_REPETITIONS.replacen("\"bwMiB\": 70.5", "\"bwMiB\": -70.5", 1);
        assert_ne!(negative, TWO_REPETITIONS);
        assert!(parse(&negative, &stated()).unwrap_err().message.contains("bwMiB -70.5: not a measurement"));
        // Rounding is no contradiction; more is.
        let rounded = TWO_REPETITIONS.replacen("\"bwMeanMIB\": 70.0", "\"bwMeanMIB\": 70.004", 1);
        assert!(parse(&rounded, &stated()).is_ok());
        let off = TWO_REPETITIONS.replacen("\"bwMeanMIB\": 70.0", "\"bwMeanMIB\": 70.006", 1);
        assert!(parse(&off, &stated()).is_err());
        // No spread is a figure, not a fault.
        let steady = TWO_REPETITIONS.replacen("\"bwStdMIB\": 0.5", "\"bwStdMIB\": 0.0", 1);
        assert_ne!(steady, TWO_REPETITIONS);
        assert!(parse(&steady, &stated()).is_ok());
    }

    #[test]
    fn ior_json_becomes_the_mpiio_kind_in_iors_convention() {
        let runs = parse(TWO_REPETITIONS, &stated()).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.kind, "mpiio");
        assert_eq!(run.ranks.count, 2);
        assert_eq!(run.tool_version.as_deref(), Some("4.0.0"));
        assert!(run.tool_command_line.as_deref().unwrap().starts_with("ior -a MPIIO"));
        let p = &run.parameters;
        assert_eq!(
            (p["block_size_bytes"].as_u64(), p["transfer_size_bytes"].as_u64()),
            (Some(104857600), Some(1048576))
        );
        assert_eq!((p["iterations"].as_u64(), p["collective"].as_bool()), (Some(2), Some(true)));
        assert_eq!((p["segment_count"].as_u64(), p["api"].as_str()), (Some(1), Some("MPIIO")));
        assert_eq!(p["phases"], serde_json::json!(["write", "read"]));
        let write = &run.results["phases"][0];
        assert_eq!(write["ior"]["mean_mib_per_s"], 70.0);
        assert_eq!(write["ior"]["stddev_mib_per_s"], 0.5);
        assert_eq!(write["iterations"][1]["bandwidth_mib_per_s"], 69.5);
        assert_eq!(write["iterations"][1]["elapsed_s"], 2.8777);
        assert_eq!(write["iterations"][0]["bytes"], 2 * 104857600u64);
        assert_eq!(write["bytes"], 4 * 104857600u64);
        assert!(write["mpi_io_test"].is_null());
        assert_eq!(run.results["phases"][1]["ior"]["max_mib_per_s"], 98.25);
        assert_eq!(run.lines, [1, TWO_REPETITIONS.lines().count()]);
        assert_eq!(p["verify"], false);
    }

    #[test]
    fn segments_and_read_checks_are_kept() {
        let mut doc: Value = serde_json::from_str(TWO_REPETITIONS).unwrap();
        doc["tests"][0]["Parameters"]["segmentCount"] = 4.into();
        doc["tests"][0]["Parameters"]["checkRead"] = 1.into();
        let run = &parse(&doc.to_string(), &stated()).unwrap()[0];
        assert_eq!(run.parameters["segment_count"], 4);
        assert_eq!(run.parameters["verify"], true);
        // 100 MiB × 4 segments × 2 ranks per repetition, 2 repetitions.
        assert_eq!(run.results["phases"][0]["iterations"][0]["bytes"], 8 * 104857600u64);
        assert_eq!(run.results["phases"][0]["bytes"], 16 * 104857600u64);
    }

    #[test]
    fn only_iors_json_is_recognised() {
        assert!(recognise(TWO_REPETITIONS).is_some());
        assert!(recognise("{\"Command line\": \"ior\"}").is_none());
        assert!(recognise("{\"tests\": []}").is_none());
        assert!(recognise("IOR-4.0.0: \"tests\" \"Command line\"").is_none());
    }

    #[test]
    fn cut_or_incomplete_json_is_refused() {
        let cut = &TWO_REPETITIONS[..TWO_REPETITIONS.len() / 2];
        let err = parse(cut, &stated()).unwrap_err();
        assert!(err.message.starts_with("truncated"), "{err:?}");
        assert!(err.line.is_some());
        let no_summary = TWO_REPETITIONS.replace("\"summary\"", "\"summery\"");
        assert!(parse(&no_summary, &stated()).unwrap_err().message.contains("no \"summary\""));
        let mut doc: Value = serde_json::from_str(TWO_REPETITIONS).unwrap();
        doc["tests"][0]["Results"].as_array_mut().unwrap().pop();
        let err = parse(&doc.to_string(), &stated()).unwrap_err();
        assert!(err.message.contains("1 of 2 repetitions"), "{err:?}");
        let mut doc: Value = serde_json::from_str(TWO_REPETITIONS).unwrap();
        doc["tests"][0]["Parameters"]["blockSize"] = "big".into();
        assert!(parse(&doc.to_string(), &stated()).unwrap_err().message.contains("blockSize"));
    }
}
