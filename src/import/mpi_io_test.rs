//! PVFS2's `mpi-io-test` (test/client/mpi-io/mpi-io-test.c): its summary lines, printed by
//! rank 0 at the end of a run. Bandwidth is MB/s with MB = 10^6 bytes: all bytes over the
//! largest per-rank sum of transfer times, exactly mpiio's `mpi_io_test` convention. Several
//! runs appended to one file are one document each.

use std::collections::BTreeMap;

use super::text::{ParseError, complete_lines, field, number};
use super::{Imported, Stated};
use crate::result::Ranks;
use crate::result::imported::MpiIoTestParameters;
use crate::result::mpiio::{MpiIoTestSummary, MpiioResults, Phase, PhaseResult, Verification};

pub fn recognise(text: &str) -> Option<&'static str> {
    let head: String = text.lines().take(200).collect::<Vec<_>>().join("\n");
    (head.contains("nr_procs = ") && head.contains(" bandwidth = ") && head.contains("Mbytes/sec"))
        .then_some("its nr_procs and bandwidth lines")
}

#[derive(Default)]
struct Run {
    first_line: usize,
    last_line: usize,
    setup: Option<(u32, u32, u64, Option<bool>)>,
    total_size: Option<(usize, u64)>,
    /// Per phase: the line of the times and min, max, mean, var.
    times: [Option<(usize, [f64; 4])>; 2],
    bandwidth: [Option<(usize, f64)>; 2],
    correctness: Option<bool>,
    hosts: BTreeMap<u32, String>,
    /// The `of P` of the first `Process r of P` line, and its line.
    process_count: Option<(usize, u32)>,
}

impl Run {
    fn started(&self) -> bool {
        self.setup.is_some()
    }

    fn finished(&self) -> bool {
        self.bandwidth.iter().any(Option::is_some)
    }
}

pub fn parse(text: &str, _stated: &Stated) -> Result<Vec<Imported>, ParseError> {
    let lines = complete_lines(text)?;
    let mut runs: Vec<Run> = Vec::new();
    let mut run = Run::default();
    for &(n, line) in &lines {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        // A new run begins with its first line after a finished one.
        let begins = trimmed == "# Using mpi-io calls."
            || trimmed.starts_with("nr_procs = ")
            || (trimmed.starts_with("Process ") && trimmed.contains(" is on "));
        if begins && (run.finished() || (trimmed.starts_with("nr_procs = ") && run.started())) {
            runs.push(std::mem::take(&mut run));
        }
        if run.first_line == 0 {
            run.first_line = n;
        }
        run.last_line = n;
        if trimmed == "# Using mpi-io calls." {
        } else if let Some(rest) = trimmed.strip_prefix("Process ") {
            // -v: "Process 0 of 2 is on node6"
            let (rank, host) = rest
                .split_once(" of ")
                .and_then(|(rank, rest)| Some((rank, rest.split_once(" is on ")?.1)))
                .ok_or_else(|| ParseError::at(n, format!("not mpi-io-test output: {trimmed:?}")))?;
            let of =
                rest.split_once(" of ").and_then(|(_, r)| r.split_once(" is on ")).map_or("", |(p, _)| p);
            run.process_count.get_or_insert((n, number(n, of, "process count")?));
            run.hosts.insert(number(n, rank, "rank")?, host.trim().to_string());
        } else if trimmed.starts_with("nr_procs = ") {
            let get = |key: &str| {
                field(trimmed, key).ok_or_else(|| ParseError::at(n, format!("no {key} in {trimmed:?}")))
            };
            let coll = field(trimmed, "coll").map(|c| number::<u8>(n, c, "coll")).transpose()?;
            run.setup = Some((
                number(n, get("nr_procs")?, "nr_procs")?,
                number(n, get("nr_iter")?, "nr_iter")?,
                number(n, get("blk_sz")?, "blk_sz")?,
                coll.map(|c| c != 0),
            ));
        } else if let Some(total) = trimmed.strip_prefix("# total_size = ") {
            run.total_size = Some((n, number(n, total, "total_size")?));
        } else if let Some((phase, rest)) = phase_prefix(trimmed, "# Write:", "# Read:") {
            let mut values = [0.0; 4];
            for (value, key) in values.iter_mut().zip(["min_t", "max_t", "mean_t", "var_t"]) {
                let text =
                    field(rest, key).ok_or_else(|| ParseError::at(n, format!("no {key} in {trimmed:?}")))?;
                *value = number(n, text, key)?;
                if *value < 0.0 {
                    return Err(ParseError::at(
                        n,
                        format!("{key} = {}: a negative time is not a measurement", text.trim()),
                    ));
                }
            }
            run.times[phase] = Some((n, values));
        } else if let Some((phase, rest)) = phase_prefix(trimmed, "Write bandwidth = ", "Read bandwidth = ") {
            let value = rest
                .strip_suffix("Mbytes/sec")
                .ok_or_else(|| ParseError::at(n, format!("no Mbytes/sec in {trimmed:?}")))?;
            let bandwidth: f64 = number(n, value, "bandwidth")?;
            // inf: a phase the run skipped (no time); nan or negative is no measurement.
            if bandwidth.is_nan() || bandwidth < 0.0 {
                return Err(ParseError::at(n, format!("bandwidth {}: not a measurement", value.trim())));
            }
            run.bandwidth[phase] = Some((n, bandwidth));
        } else if let Some(outcome) = trimmed.strip_prefix("Correctness test ") {
            run.correctness = Some(outcome == "passed.");
        } else {
            return Err(ParseError::at(n, format!("not mpi-io-test output: {trimmed:?}")));
        }
    }
    runs.push(run);
    let last_line = lines.len();
    runs.into_iter().map(|run| document(run, last_line)).collect()
}

/// mpi-io-test prints `total_size / max_t / 10^6` with six decimals, from a max_t it prints
/// with six: a figure outside what those roundings allow was not computed from this run.
fn check_bandwidth(n: usize, printed: f64, total: u64, max_t: f64) -> Result<(), ParseError> {
    const HALF_DIGIT: f64 = 5e-7;
    if printed.is_infinite() && max_t > HALF_DIGIT {
        // Only a phase the run skipped (-r, -w: no time) prints inf.
        return Err(ParseError::at(n, format!("bandwidth inf after max_t = {max_t}: not a measurement")));
    }
    if printed.is_infinite() || max_t <= HALF_DIGIT {
        return Ok(()); // a skipped phase, or a time too short to check against
    }
    let rate = |t: f64| total as f64 / t / 1e6;
    let (low, high) = (rate(max_t + HALF_DIGIT), rate(max_t - HALF_DIGIT));
    // The printed bandwidth is itself rounded to half a digit either way.
    if printed < low - HALF_DIGIT || printed > high + HALF_DIGIT {
        return Err(ParseError::at(
            n,
            format!(
                "bandwidth {printed} Mbytes/sec contradicts total_size / max_t = {:.6}: not this run's figure",
                rate(max_t)
            ),
        ));
    }
    Ok(())
}

/// Which phase a line is about (0 write, 1 read), and the rest of it.
fn phase_prefix<'a>(line: &'a str, write: &str, read: &str) -> Option<(usize, &'a str)> {
    line.strip_prefix(write).map(|rest| (0, rest)).or_else(|| line.strip_prefix(read).map(|rest| (1, rest)))
}

fn document(run: Run, last_line: usize) -> Result<Imported, ParseError> {
    let Some((procs, iterations, block, collective)) = run.setup else {
        return Err(ParseError::at(run.first_line.max(1), "no nr_procs line: not a whole mpi-io-test run"));
    };
    let total = u64::from(procs) * u64::from(iterations) * block;
    if let Some((n, printed)) = run.total_size
        && printed != total
    {
        return Err(ParseError::at(
            n,
            format!("total_size {printed} is not nr_procs × nr_iter × blk_sz = {total}"),
        ));
    }
    if let Some((n, count)) = run.process_count
        && count != procs
    {
        return Err(ParseError::at(n, format!("Process … of {count}, but nr_procs = {procs}: not one run")));
    }
    if run.correctness == Some(false) {
        return Err(ParseError::at(
            run.last_line,
            "the run's correctness test failed: its figures are not a measurement",
        ));
    }
    let mut phases = Vec::new();
    for (index, phase) in [Phase::Write, Phase::Read].into_iter().enumerate() {
        let (times, bandwidth) = match (run.times[index], run.bandwidth[index]) {
            (Some((_, times)), Some((n, bandwidth))) => {
                check_bandwidth(n, bandwidth, total, times[1])?;
                (times, bandwidth)
            }
            (None, None) => continue,
            (Some((n, _)), None) | (None, Some((n, _))) => {
                let line = if run.last_line == last_line { last_line } else { n };
                return Err(ParseError::at(
                    line,
                    format!("truncated: the {} phase has its times or its bandwidth, not both", phase.name()),
                ));
            }
        };
        // A phase the run skipped (-r, -w) took no time: its bandwidth is infinite.
        if !bandwidth.is_finite() {
            continue;
        }
        phases.push(PhaseResult {
            phase,
            bytes: total,
            ior: None,
            mpi_io_test: Some(MpiIoTestSummary {
                bandwidth_mb_per_s: bandwidth,
                min_time_s: Some(times[0]),
                max_time_s: Some(times[1]),
                mean_time_s: Some(times[2]),
                var_time_s2: Some(times[3]),
            }),
            iterations: Vec::new(),
            operations: None,
        });
    }
    if phases.is_empty() {
        return Err(ParseError::at(run.last_line, "truncated: no bandwidth line (the run did not finish)"));
    }
    let summary = format!(
        "mpiio, {procs} ranks × {iterations} iterations × {block} bytes: {}",
        phases
            .iter()
            .map(|p| format!(
                "{} {:.2} MB/s",
                p.phase.name(),
                p.mpi_io_test.as_ref().map_or(0.0, |m| m.bandwidth_mb_per_s)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let hosts =
        if run.hosts.len() == procs as usize { run.hosts.into_values().collect() } else { Vec::new() };
    let results = MpiioResults {
        hints_in_effect: BTreeMap::new(),
        phases,
        free_space_bytes: None,
        verification: Verification {
            performed: run.correctness.is_some(),
            bytes_checked: if run.correctness.is_some() { total } else { 0 },
        },
    };
    let parameters = MpiIoTestParameters {
        block_size_bytes: block,
        iterations,
        collective,
        verify: run.correctness.is_some(),
    };
    Ok(Imported {
        kind: "mpiio",
        parameters: serde_json::to_value(parameters).expect("parameters serialise"),
        results: serde_json::to_value(results).expect("results serialise"),
        ranks: Ranks { count: procs, hosts },
        started_at: None,
        tool_version: None,
        tool_command_line: None,
        lines: [run.first_line, run.last_line],
        summary,
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// As mpi-io-test.c prints it for two ranks, -v and -c.
    pub const TWO_RANKS: &str = "\
Process 1 of 2 is on node7
Process 0 of 2 is on node6
# Using mpi-io calls.
nr_procs = 2, nr_iter = 5, blk_sz = 104857600, coll = 0
# total_size = 1048576000
# Write: min_t = 14.123456, max_t = 16.912516, mean_t = 15.517900, var_t = 3.890123
# Read:  min_t = 10.100000, max_t = 10.922667, mean_t = 10.511165, var_t = 0.338113
Write bandwidth = 62.000000 Mbytes/sec
Read bandwidth = 96.000000 Mbytes/sec
Correctness test passed.
";

    fn stated() -> Stated {
        Stated::host(None)
    }

    /// A phase that took time but prints inf, and a negative time, are no measurement: refused
    /// (the phase vanished without a word before; a phase skipped with -r or -w, max_t 0, still
    /// leaves no phase).
    #[test]
    fn an_infinite_bandwidth_after_a_time_and_a_negative_time_are_refused() {
        let inf = TWO_RANKS.replace("Write bandwidth = 62.000000", "Write bandwidth = inf");
        let error = parse(&inf, &stated()).unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (Some(8), "bandwidth inf after max_t = 16.912516: not a measurement")
        );
        let negative = TWO_RANKS.replace("max_t = 16.912516", "max_t = -5");
        let error = parse(&negative, &stated()).unwrap_err();
        assert_eq!(
            (error.line, error.message.as_str()),
            (Some(6), "max_t = -5: a negative time is not a measurement")
        );
        let skipped = TWO_RANKS
            .replace(
                "min_t = 14.123456, max_t = 16.912516, mean_t = 15.517900, var_t = 3.890123",
                "min_t = 0.000000, max_t = 0.000000, mean_t = 0.000000, var_t = 0.000000",
            )
            .replace("Write bandwidth = 62.000000", "Write bandwidth = inf");
        let runs = parse(&skipped, &stated()).unwrap();
        assert_eq!(
            runs[0].results["phases"].as_array().unwrap().len(),
            1,
            "the skipped write phase is no phase"
        );
    }

    #[test]
    fn every_summary_line_lands_in_the_mpiio_kind() {
        let runs = parse(TWO_RANKS, &stated()).unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(run.kind, "mpiio");
        assert_eq!(
            (run.ranks.count, run.ranks.hosts.clone()),
            (2, vec!["node6".to_string(), "node7".to_string()])
        );
        assert_eq!(run.lines, [1, 10]);
        let write = &run.results["phases"][0];
        assert_eq!(write["phase"], "write");
        assert_eq!(write["bytes"], 1048576000u64);
        assert_eq!(write["mpi_io_test"]["bandwidth_mb_per_s"], 62.0);
        assert_eq!(write["mpi_io_test"]["max_time_s"], 16.912516);
        assert_eq!(write["mpi_io_test"]["var_time_s2"], 3.890123);
        assert!(write["ior"].is_null());
        assert_eq!(run.results["phases"][1]["mpi_io_test"]["mean_time_s"], 10.511165);
        assert_eq!(run.parameters["collective"], false);
        assert_eq!(run.parameters["verify"], true);
        assert_eq!(run.results["verification"]["bytes_checked"], 1048576000u64);
    }

    #[test]
    fn appended_runs_are_one_document_each() {
        let two = format!(
            "{TWO_RANKS}{}",
            TWO_RANKS.replace("62.000000", "67.000000").replace("16.912516", "15.650388")
        );
        let runs = parse(&two, &stated()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].lines, [11, 20]);
        assert_eq!(runs[1].results["phases"][0]["mpi_io_test"]["bandwidth_mb_per_s"], 67.0);
        // Without -v and # lines too: nr_procs starts the next run.
        let bare = "nr_procs = 1, nr_iter = 1, blk_sz = 10\nWrite bandwidth = 0.000010 Mbytes/sec\n\
                    # Write: min_t = 1, max_t = 1, mean_t = 1, var_t = 0\n";
        let runs = parse(&format!("{bare}{bare}"), &stated()).unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs[0].ranks.hosts.is_empty());
        assert!(runs[0].parameters["collective"].is_null());
    }

    #[test]
    fn cut_short_or_foreign_files_are_refused_with_their_line() {
        let cut: String = TWO_RANKS.lines().take(8).map(|l| format!("{l}\n")).collect();
        let err = parse(&cut, &stated()).unwrap_err();
        assert_eq!(err.line, Some(8));
        assert!(err.message.contains("truncated"), "{err:?}");
        let cut: String = TWO_RANKS.lines().take(6).map(|l| format!("{l}\n")).collect();
        assert!(parse(&cut, &stated()).unwrap_err().message.contains("truncated"));
        let foreign = TWO_RANKS.replace("# total_size", "total size");
        assert_eq!(parse(&foreign, &stated()).unwrap_err().line, Some(5));
        let wrong_total = TWO_RANKS.replace("1048576000", "1048576001");
        assert!(parse(&wrong_total, &stated()).unwrap_err().message.contains("nr_procs × nr_iter × blk_sz"));
        let failed = TWO_RANKS.replace("passed.", "failed.");
        assert!(parse(&failed, &stated()).unwrap_err().message.contains("correctness test failed"));
        let bad_number = TWO_RANKS.replace("max_t = 16.912516", "max_t = x");
        assert_eq!(
            parse(&bad_number, &stated()).unwrap_err(),
            ParseError::at(6, "max_t: \"x\" is not a number")
        );
    }

    /// Figures that are not a measurement of this run are refused at their line: nan, a
    /// bandwidth that total_size / max_t contradicts, a process count that is not nr_procs.
    #[test]
    fn figures_that_contradict_the_run_are_refused() {
        let nan = TWO_RANKS.replace("Write bandwidth = 62.000000", "Write bandwidth = nan");
        assert_eq!(
            parse(&nan, &stated()).unwrap_err(),
            ParseError::at(8, "bandwidth nan: not a measurement")
        );
        let negative = TWO_RANKS.replace("Read bandwidth = 96.000000", "Read bandwidth = -96.000000");
        assert_eq!(
            parse(&negative, &stated()).unwrap_err(),
            ParseError::at(9, "bandwidth -96.000000: not a measurement")
        );
        let edited = TWO_RANKS.replace("62.000000", "500.000000");
        let err = parse(&edited, &stated()).unwrap_err();
        assert_eq!(err.line, Some(8));
        assert!(err.message.contains("contradicts total_size / max_t = 62.000"), "{err:?}");
        // The last printed digit of either figure is rounding, not a contradiction: max_t
        // 16.912516 ± 0.0000005 gives 61.9999986 to 62.0000023, each printed ± 0.0000005.
        for edge in ["62.000002", "61.999999"] {
            assert!(parse(&TWO_RANKS.replace("62.000000", edge), &stated()).is_ok(), "{edge}");
        }
        for beyond in ["62.000004", "61.999997"] {
            assert!(parse(&TWO_RANKS.replace("62.000000", beyond), &stated()).is_err(), "{beyond}");
        }
        // A max_t printed as 0 cannot be checked against.
        let instant = TWO_RANKS.replace("max_t = 16.912516", "max_t = 0.000000");
        assert!(parse(&instant, &stated()).is_ok());
        let three = TWO_RANKS.replace("Process 1 of 2", "Process 1 of 3");
        assert_eq!(
            parse(&three, &stated()).unwrap_err(),
            ParseError::at(1, "Process … of 3, but nr_procs = 2: not one run")
        );
    }

    /// PVFS2's mpi-io-test itself (built from OrangeFS's source with MPICH 4.0.2), three runs
    /// appended: `mpiexec -n 2 mpi-io-test -b 1048576 -i 3 -c -v -f /tmp/mit-file >> out`.
    const REAL_THREE_RUNS: &str = include_str!("../../tests/data/import/mpi-io-test-real.txt");

    #[test]
    fn the_real_programs_appended_runs() {
        let runs = parse(REAL_THREE_RUNS, &stated()).unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(runs.iter().map(|r| r.lines).collect::<Vec<_>>(), [[1, 10], [11, 20], [21, 30]]);
        assert_eq!(runs[0].ranks.hosts, ["vm", "vm"]);
        assert_eq!(runs[0].results["phases"][0]["mpi_io_test"]["bandwidth_mb_per_s"], 1317.193733);
        assert_eq!(runs[2].results["phases"][1]["bytes"], 6291456);
        assert_eq!(runs[1].parameters["collective"], false);
    }

    #[test]
    fn only_its_lines_are_recognised_and_an_unfinished_run_is_not_whole() {
        assert!(recognise(TWO_RANKS).is_some());
        assert!(recognise("nr_procs = 1, nr_iter = 1, blk_sz = 1\n").is_none());
        assert!(recognise("Write bandwidth = 1 Mbytes/sec\n").is_none());
        assert!(recognise("nr_procs = 1\nWrite bandwidth = 1 MiB/s\n").is_none());
        // A run that printed its setup and no figures, then the next run.
        let cut = "nr_procs = 1, nr_iter = 1, blk_sz = 10\nnr_procs = 2, nr_iter = 1, blk_sz = 10\n\
                   # Write: min_t = 1, max_t = 1, mean_t = 1, var_t = 0\nWrite bandwidth = 0.00002 Mbytes/sec\n";
        let err = parse(cut, &stated()).unwrap_err();
        assert!(err.message.contains("truncated"), "{err:?}");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn a_skipped_phase_is_left_out() {
        let write_only = "nr_procs = 1, nr_iter = 1, blk_sz = 10, coll = 1\n\
                          # Write: min_t = 1, max_t = 1, mean_t = 1, var_t = 0\n\
                          # Read:  min_t = 0, max_t = 0, mean_t = 0, var_t = 0\n\
                          Write bandwidth = 0.00001 Mbytes/sec\nRead bandwidth = inf Mbytes/sec\n";
        let runs = parse(write_only, &stated()).unwrap();
        assert_eq!(runs[0].results["phases"].as_array().unwrap().len(), 1);
        assert_eq!(runs[0].parameters["collective"], true);
    }
}
