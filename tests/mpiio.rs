//! `pvbench mpiio` under real mpiexec on temporary local files.

mod common;

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use common::*;

const MIB: u64 = 1 << 20;

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A run on 1 and on 2 ranks: valid JSON with the parameters, hosts, both conventions and
/// per-rank timings; the file is removed afterwards.
#[test]
fn results_are_complete_json_on_one_and_two_ranks() {
    for ranks in [1u32, 2] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("testfile");
        let json = dir.path().join("result.json");
        let out = mpiexec(
            ranks,
            &["mpiio", "-b", "1MiB", "-i", "3", "-f", arg(&file), "--json", arg(&json), "--label", "local"],
        );
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("verification: passed"), "{}", stdout(&out));
        assert!(!file.exists(), "the test file is removed without --keep");

        let doc = read_json(&json);
        assert_environment(&doc, ranks);
        assert_eq!(doc["kind"], "mpiio");
        assert_eq!(doc["label"], "local");
        assert_eq!(doc["tool"]["name"], "pvbench");
        assert_eq!(doc["ranks"]["count"], ranks);
        assert_eq!(doc["ranks"]["hosts"].as_array().unwrap().len(), ranks as usize);
        let library = if open_mpi() { "Open MPI" } else { "MPICH" };
        assert!(doc["mpi_library_version"].as_str().unwrap().contains(library));
        assert!(doc["mpi_library_path"].as_str().unwrap().contains("libmpi"), "{}", doc["mpi_library_path"]);
        assert!(stdout(&out).contains("  library     /"), "{}", stdout(&out));
        assert!(
            stdout(&out)
                .contains(&format!("  host        {} (ranks ", doc["ranks"]["hosts"][0].as_str().unwrap()))
        );
        assert_eq!(doc["parameters"]["block_size_bytes"], MIB);
        assert_eq!(doc["parameters"]["iterations"], 3);
        assert_eq!(doc["parameters"]["collective"], true);
        // ROMIO reports its hints in effect; Open MPI's OMPIO reports none.
        if !open_mpi() {
            assert!(doc["results"]["hints_in_effect"]["cb_buffer_size"].is_string());
        }
        let phases = doc["results"]["phases"].as_array().unwrap();
        assert_eq!(phases.len(), 2);
        for (phase, name) in phases.iter().zip(["write", "read"]) {
            assert_eq!(phase["phase"], name);
            assert_eq!(phase["bytes"], 3 * MIB * u64::from(ranks));
            assert!(phase["ior"]["mean_mib_per_s"].as_f64().unwrap() > 0.0);
            let mb_per_s = phase["mpi_io_test"]["bandwidth_mb_per_s"].as_f64().unwrap();
            // Real seconds: faster than 1 TB/s through a page cache would be a broken clock.
            assert!(mb_per_s > 0.0 && mb_per_s < 1e6, "{mb_per_s} MB/s");
            let iterations = phase["iterations"].as_array().unwrap();
            assert_eq!(iterations.len(), 3);
            for it in iterations {
                let timings = it["ranks"].as_array().unwrap();
                assert_eq!(timings.len(), ranks as usize);
                for t in timings {
                    let open_start = t["open_start_s"].as_f64().unwrap();
                    assert!(t["close_end_s"].as_f64().unwrap() >= open_start);
                    assert!(t["transfer_s"].as_f64().unwrap() > 0.0);
                    // Clock marks are seconds since the run's common epoch, not since 1970.
                    assert!((0.0..600.0).contains(&open_start), "{open_start}");
                    // Open, transfer, sync and close are parts of the rank's window.
                    let window = t["close_end_s"].as_f64().unwrap() - open_start;
                    let parts: Vec<f64> = ["open_s", "transfer_s", "sync_s", "close_s"]
                        .iter()
                        .map(|k| t[*k].as_f64().unwrap())
                        .collect();
                    assert!(parts.iter().all(|&p| p >= 0.0), "{t}");
                    assert!(parts.iter().sum::<f64>() <= window + 1e-6, "{t}");
                }
            }
        }
        assert_eq!(doc["results"]["verification"]["bytes_checked"], 3 * MIB * u64::from(ranks));
    }
}

#[test]
fn json_to_stdout_moves_the_table_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out = mpiexec(2, &["mpiio", "-b", "64k", "-i", "1", "-f", arg(&file), "--json", "-"]);
    assert_exit(&out, 0);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["kind"], "mpiio");
    assert!(stderr(&out).contains("max_MiB/s"));
}

#[test]
fn mpi_io_test_format_prints_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out =
        mpiexec(2, &["mpiio", "-b", "104857600", "-i", "1", "-f", arg(&file), "--format", "mpi-io-test"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("nr_procs = 2, nr_iter = 1, blk_sz = 104857600, coll = 1\n"), "{text}");
    assert!(text.contains("# total_size = 209715200\n"), "{text}");
    for prefix in ["# Write: min_t = ", "# Read:  min_t = ", "Write bandwidth = ", "Read bandwidth = "] {
        assert!(text.lines().any(|l| l.starts_with(prefix)), "no {prefix:?} line in {text}");
    }
    assert!(text.lines().any(|l| l.starts_with("Write bandwidth = ") && l.ends_with(" Mbytes/sec")));
}

/// Every access variant writes what it reads back, and does what it says: independent, several
/// transfers per block, sync, one file per rank, reading the neighbour's blocks, hints.
#[test]
fn access_variants_pass_verification_and_take_effect() {
    let variants: [&[&str]; 4] = [
        &["--independent", "--transfer-size", "256k"],
        &["--collective", "--transfer-size", "128k", "--sync"],
        &["--file-per-process", "--reorder-read"],
        &["--independent", "--reorder-read", "--hint", "romio_cb_write=enable"],
    ];
    for extra in variants {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let json = dir.path().join("r.json");
        let mut args = vec!["mpiio", "-b", "1MiB", "-i", "2", "-f", arg(&file), "--json", arg(&json)];
        args.extend_from_slice(extra);
        let out = mpiexec(2, &args);
        assert_exit(&out, 0);
        let doc = read_json(&json);
        assert_eq!(doc["results"]["verification"]["bytes_checked"], 4 * MIB, "{extra:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the JSON is left: {extra:?}");
        let chunked = extra.contains(&"--transfer-size");
        for phase in doc["results"]["phases"].as_array().unwrap() {
            // Bytes are ranks x block x iterations, whatever the transfer size.
            assert_eq!(phase["bytes"], 4 * MIB, "{extra:?}");
            let reordered = phase["phase"] == "read" && extra.contains(&"--reorder-read");
            for it in phase["iterations"].as_array().unwrap() {
                assert_eq!(it["bytes"], 2 * MIB, "{extra:?}");
                for t in it["ranks"].as_array().unwrap() {
                    let rank = t["rank"].as_u64().unwrap();
                    let owner = if reordered { (rank + 1) % 2 } else { rank };
                    assert_eq!(t["block_of_rank"], owner, "{extra:?} {}", phase["phase"]);
                    // Pattern work between chunks is fenced and subtracted, never I/O time.
                    let excluded = t["excluded_s"].as_f64().unwrap();
                    assert!(excluded > 0.0, "{extra:?}: agreeing on the open is excluded");
                    if chunked {
                        assert!(
                            excluded
                                < t["close_end_s"].as_f64().unwrap() - t["open_start_s"].as_f64().unwrap()
                        );
                    }
                }
            }
        }
        if extra.contains(&"--hint") && !open_mpi() {
            assert_eq!(doc["results"]["hints_in_effect"]["romio_cb_write"], "enable", "{extra:?}");
        }
    }
}

/// With --sync every rank calls fsync once per write iteration (seen by strace), without it never.
#[test]
fn sync_really_syncs() {
    for (flag, expected) in [(Some("--sync"), 2 * 3), (None, 0)] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let trace = dir.path().join("trace");
        let mut cmd = assert_cmd::Command::new("strace");
        cmd.args(["-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", arg(&trace)])
            .args(launcher())
            .args(["-n", "2", pvbench(), "mpiio", "-b", "256k", "-i", "3", "-f", arg(&file)])
            .args(flag)
            .timeout(std::time::Duration::from_secs(120));
        let out = cmd.output().unwrap();
        assert_exit(&out, 0);
        let calls = std::fs::read_to_string(&trace)
            .unwrap()
            .lines()
            .filter(|l| l.contains("fsync(") || l.contains("fdatasync("))
            .count();
        assert_eq!(calls, expected, "{flag:?}");
    }
}

#[test]
fn file_per_process_writes_one_file_per_rank() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out =
        mpiexec(2, &["mpiio", "-b", "100k", "-i", "3", "-f", arg(&file), "--file-per-process", "--keep"]);
    assert_exit(&out, 0);
    assert!(!file.exists(), "no shared file");
    for rank in 0..2 {
        let own = dir.path().join(format!("f.{rank:08}"));
        assert_eq!(std::fs::metadata(&own).unwrap().len(), 3 * 100 * 1024, "{own:?}");
    }
}

#[test]
fn keep_leaves_the_striped_file_with_the_full_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out = mpiexec(2, &["mpiio", "-b", "100k", "-i", "3", "-f", arg(&file), "--keep"]);
    assert_exit(&out, 0);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 2 * 3 * 100 * 1024);
}

/// Writes a kept file with 2 ranks, 2 iterations of 64 KiB, for the corruption tests.
fn write_kept(file: &Path) {
    let out = mpiexec(2, &["mpiio", "-b", "64k", "-i", "2", "-f", arg(file), "--phases", "write", "--keep"]);
    assert_exit(&out, 0);
}

fn read_back(file: &Path) -> std::process::Output {
    mpiexec(2, &["mpiio", "-b", "64k", "-i", "2", "-f", arg(file), "--phases", "read", "--keep"])
}

#[test]
fn separate_write_and_read_runs_verify() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write_kept(&file);
    let out = read_back(&file);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("verification: passed, 256.0 KiB checked"), "{}", stdout(&out));
}

/// One flipped byte in rank 1's block of iteration 1 fails the run on every rank with exit 3,
/// naming rank, iteration, offset and count.
#[test]
fn a_flipped_byte_is_caught_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write_kept(&file);
    // Iteration 1, rank 1 starts at (1*2 + 1) * 64 KiB; flip byte 1000 of it.
    let offset = 3 * 65536 + 1000;
    let mut f = OpenOptions::new().read(true).write(true).open(&file).unwrap();
    let mut byte = [0u8];
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.read_exact(&mut byte).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&[byte[0] ^ 0x40]).unwrap();
    drop(f);
    let out = read_back(&file);
    assert_fails_with(&out, 3, "verification failed");
    let err = stderr(&out);
    for part in [
        "rank 1:",
        "iteration 1",
        "block of rank 1",
        &format!("file offset {offset}"),
        "byte 1000 of the block",
        "1 of 65536 bytes differ",
    ] {
        assert!(err.contains(part), "{part:?} missing in {err}");
    }
}

/// Blocks in the wrong place (two ranks' blocks swapped) are caught, not only zeros.
#[test]
fn swapped_blocks_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write_kept(&file);
    let mut data = std::fs::read(&file).unwrap();
    let (a, b) = data.split_at_mut(65536);
    a.swap_with_slice(&mut b[..65536]);
    std::fs::write(&file, &data).unwrap();
    let out = read_back(&file);
    assert_fails_with(&out, 3, "verification failed");
    assert!(stderr(&out).contains("(2 of 2 ranks failed)"), "{}", stderr(&out));
}

#[test]
fn a_truncated_file_is_a_verification_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write_kept(&file);
    OpenOptions::new().write(true).open(&file).unwrap().set_len(3 * 65536 + 10).unwrap();
    let out = read_back(&file);
    assert_fails_with(&out, 3, "file ends early");
    // Collective with several chunks per block: rank 1 fails in its first chunk of iteration 1
    // and keeps joining the collective calls with empty transfers; the job ends, it does not hang.
    let out = mpiexec(
        2,
        &[
            "mpiio",
            "-b",
            "64k",
            "-i",
            "2",
            "-f",
            arg(&file),
            "--phases",
            "read",
            "--keep",
            "--transfer-size",
            "16k",
        ],
    );
    assert_fails_with(
        &out,
        3,
        "file ends early: read 10 of 16384 bytes at offset 196608 (iteration 1, block of rank 1)",
    );
}

#[test]
fn no_verify_skips_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    write_kept(&file);
    std::fs::write(&file, vec![0u8; 4 * 65536]).unwrap();
    let out =
        mpiexec(2, &["mpiio", "-b", "64k", "-i", "2", "-f", arg(&file), "--phases", "read", "--no-verify"]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("verification: not performed"));
}

/// The kernel copies from the page cache into a buffer 16 bytes past a page at a quarter of the
/// speed (AMD EPYC): every read and write of the data goes from a page-aligned buffer (strace
/// shows each pread64/pwrite64 of a transfer and its buffer's address).
#[test]
fn transfers_use_page_aligned_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let out = assert_cmd::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=pread64,pwrite64", "-e", "raw=pread64,pwrite64", "-o", arg(&trace)])
        .args(launcher())
        .args(["-n", "2", pvbench(), "mpiio", "-b", "1MiB", "-i", "2", "--independent"])
        .args(["--transfer-size", "256k", "-f", arg(&dir.path().join("f"))])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&trace).unwrap();
    let transfers: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            let args = l.split_once("pwrite64(").or_else(|| l.split_once("pread64("))?.1;
            let mut fields = args.split(", ");
            let (_fd, buf, len) = (fields.next()?, fields.next()?, fields.next()?);
            (len.trim_end_matches(',') == "0x40000").then(|| u64::from_str_radix(&buf[2..], 16).unwrap())
        })
        .collect();
    assert_eq!(transfers.len(), 2 * 2 * 4 * 2, "2 ranks x 2 iterations x 4 chunks, written and read");
    for address in transfers {
        assert_eq!(address % 4096, 0, "buffer at {address:#x}");
    }
}

/// Every chunk of a block is written with its own part of the pattern, checked or not: a
/// write run without verification is read back and checked by a second run.
#[test]
fn chunks_written_without_verification_hold_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let chunked = ["-b", "1MiB", "-i", "2", "--transfer-size", "256k", "-f", arg(&file), "--keep"];
    let mut write = vec!["mpiio", "--phases", "write", "--no-verify"];
    write.extend_from_slice(&chunked);
    assert_exit(&mpiexec(2, &write), 0);
    let mut read = vec!["mpiio", "--phases", "read"];
    read.extend_from_slice(&chunked);
    let out = mpiexec(2, &read);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("verification: passed, 4.0 MiB checked"), "{}", stdout(&out));
}
