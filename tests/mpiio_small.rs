//! `pvbench mpiio`'s small and unaligned I/O under real mpiexec on temporary local files:
//! IOR's segments (IOR-hard's strided 47008-byte transfers), the seeded random order, an
//! offset off the block boundaries, and the operations (IOPS, latency percentiles) reported.

mod common;

use std::path::Path;

use common::*;

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The key of `writer`'s blocks in `iteration`, as docs/mpiio.md states it (splitmix64's
/// finaliser of writer << 32 | iteration), restated here so the test does not trust the code.
fn block_key(writer: u64, iteration: u64) -> u64 {
    let mut z = ((writer << 32) | iteration).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// IOR-hard on 1 and 2 ranks, collective and independent, sequential and random, from byte 0
/// and from byte 1: the kept file holds, at every byte, the pattern of the rank and iteration
/// that own it: transfer i of rank r in iteration j at offset + ((j*S + i)*P + r)*47008.
#[test]
fn ior_hard_puts_every_transfer_of_every_rank_at_its_strided_offset() {
    const T: u64 = 47008;
    const S: u64 = 12;
    const ITERATIONS: u64 = 2;
    let variants: [(u64, &[&str]); 4] = [
        (1, &["--independent", "--offset", "1"]),
        (2, &[]),
        (2, &["--independent", "--order", "random", "--seed", "3"]),
        (2, &["--order", "random", "--offset", "5", "--reorder-read"]),
    ];
    for (ranks, extra) in variants {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        let json = dir.path().join("r.json");
        let mut args = vec!["mpiio", "-t", "47008", "-b", "47008", "-s", "12", "-i", "2"];
        args.extend(["-f", arg(&file), "--keep", "--json", arg(&json)]);
        args.extend_from_slice(extra);
        let out = mpiexec(ranks as u32, &args);
        assert_exit(&out, 0);
        assert!(stdout(&out).contains("verification: passed"), "{extra:?}: {}", stdout(&out));
        let offset: u64 =
            extra.iter().position(|a| *a == "--offset").map_or(0, |i| extra[i + 1].parse().unwrap());
        let data = std::fs::read(&file).unwrap();
        assert_eq!(data.len() as u64, offset + ITERATIONS * S * ranks * T, "{extra:?}");
        assert!(data[..offset as usize].iter().all(|&b| b == 0), "{extra:?}: nothing before the offset");
        for (i, &byte) in data.iter().enumerate().skip(offset as usize) {
            let o = i as u64;
            let slot = (o - offset) / T;
            let (writer, iteration) = (slot % ranks, slot / ranks / S);
            let word = (o / 8) ^ block_key(writer, iteration);
            assert_eq!(byte, word.to_le_bytes()[(o % 8) as usize], "{extra:?}: byte {o}");
        }
        let doc = read_json(&json);
        let p = &doc["parameters"];
        assert_eq!((p["segments"].as_u64(), p["transfer_size_bytes"].as_u64()), (Some(S), Some(T)));
        assert_eq!(doc["results"]["verification"]["bytes_checked"], ITERATIONS * S * ranks * T, "{extra:?}");
        for phase in doc["results"]["phases"].as_array().unwrap() {
            assert_eq!(phase["bytes"], ITERATIONS * S * ranks * T, "{extra:?}");
        }
    }
}

/// Operations on 1 and 2 ranks: one latency per transfer of every rank and iteration, p50 <=
/// p99 <= max, the mean IOPS between the least and the most; the table shows them beside the
/// bandwidth.
#[test]
fn operations_count_every_transfer_and_order_their_percentiles() {
    for ranks in [1u64, 2] {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("r.json");
        let file = dir.path().join("f");
        let out = mpiexec(
            ranks as u32,
            &["mpiio", "-t", "4k", "-b", "8k", "-s", "25", "-i", "3", "-f", arg(&file), "--json", arg(&json)],
        );
        assert_exit(&out, 0);
        let text = stdout(&out);
        assert!(text.contains("max_IOPS") && text.contains("p99_us") && text.contains("max_MiB/s"), "{text}");
        assert!(
            text.contains("  block       8.0 KiB per rank per segment, 25 segments, transfer 4.0 KiB"),
            "{text}"
        );
        let doc = read_json(&json);
        for phase in doc["results"]["phases"].as_array().unwrap() {
            let ops = &phase["operations"];
            assert_eq!(ops["count"], 2 * 25 * ranks * 3, "{ranks} ranks: {ops}");
            assert_eq!(ops["transfer_size_bytes"], 4096);
            let f = |key: &str| ops[key].as_f64().unwrap_or_else(|| panic!("{key} in {ops}"));
            assert!(0.0 < f("latency_p50_us"), "{ops}");
            assert!(
                f("latency_p50_us") <= f("latency_p99_us") && f("latency_p99_us") <= f("latency_max_us"),
                "{ops}"
            );
            assert!(
                f("min_iops") > 0.0 && f("min_iops") <= f("mean_iops") && f("mean_iops") <= f("max_iops"),
                "{ops}"
            );
            // A transfer call is part of its iteration: no latency is longer than the longest one.
            let longest =
                phase["iterations"].as_array().unwrap().iter().map(|i| i["elapsed_s"].as_f64().unwrap());
            assert!(f("latency_max_us") <= longest.fold(0.0, f64::max) * 1e6 + 1.0, "{ops}");
        }
    }
}

/// Without the new options the output is as it was: no operations in the table; in the JSON
/// only where a rank moves more than one transfer per iteration.
#[test]
fn runs_without_the_small_io_options_print_as_before() {
    for (extra, measured) in [(&[][..], false), (&["--transfer-size", "16k"][..], true)] {
        let dir = tempfile::tempdir().unwrap();
        let (file, json) = (dir.path().join("f"), dir.path().join("r.json"));
        let mut args = vec!["mpiio", "-b", "64k", "-i", "2", "-f", arg(&file)];
        args.extend(["--json", arg(&json)]);
        args.extend_from_slice(extra);
        let out = mpiexec(2, &args);
        assert_exit(&out, 0);
        assert!(!stdout(&out).contains("IOPS") && !stdout(&out).contains("segment"), "{}", stdout(&out));
        let doc = read_json(&json);
        let parameters = doc["parameters"].as_object().unwrap();
        for new in ["segments", "order", "seed", "offset_bytes"] {
            assert!(!parameters.contains_key(new), "{new} in {parameters:?}");
        }
        for phase in doc["results"]["phases"].as_array().unwrap() {
            assert_eq!(phase["operations"].is_object(), measured, "{extra:?}: {}", phase["operations"]);
        }
    }
}

/// The offsets of every 4 KiB pwrite64 and pread64 of one independent rank, in the order
/// made, as strace sees them.
fn traced_offsets(extra: &[&str]) -> (Vec<u64>, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let out = assert_cmd::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=pread64,pwrite64", "-e", "raw=pread64,pwrite64", "-o", arg(&trace)])
        .args(launcher())
        .args(["-n", "1", pvbench(), "mpiio", "-t", "4k", "-b", "4k", "-s", "64", "-i", "1", "--independent"])
        .args(["-f", arg(&dir.path().join("f"))])
        .args(extra)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string(&trace).unwrap().lines() {
        let (list, args) = match (line.split_once("pwrite64("), line.split_once("pread64(")) {
            (Some((_, args)), _) => (&mut writes, args),
            (_, Some((_, args))) => (&mut reads, args),
            _ => continue,
        };
        let fields: Vec<&str> = args.split(", ").collect();
        let offset = fields[3].split(')').next().unwrap();
        if fields[2] == "0x1000" {
            list.push(u64::from_str_radix(offset.trim_start_matches("0x"), 16).unwrap());
        }
    }
    (writes, reads)
}

/// --order random visits the same 64 offsets as sequential, in an order its seed alone decides
/// (the same seed twice: the same order; another seed: another), reads in another order than
/// writes.
#[test]
fn random_order_is_a_seeded_reproducible_shuffle_of_the_same_offsets() {
    let (sequential, _) = traced_offsets(&[]);
    assert_eq!(sequential, (0..64).map(|i| i * 4096).collect::<Vec<_>>());
    let (writes, reads) = traced_offsets(&["--order", "random", "--seed", "5"]);
    assert_eq!(traced_offsets(&["--order", "random", "--seed", "5"]), (writes.clone(), reads.clone()));
    let (other, _) = traced_offsets(&["--order", "random", "--seed", "6"]);
    assert_ne!(writes, sequential);
    assert_ne!(writes, other);
    assert_ne!(writes, reads);
    for mut order in [writes, reads, other] {
        order.sort_unstable();
        assert_eq!(order, sequential);
    }
}

/// A flipped byte in an IOR-hard file is found whatever the read order: exit 3, naming the
/// rank, the segment and the byte of its block.
#[test]
fn a_flipped_byte_in_a_strided_file_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let shape = ["-t", "47008", "-b", "47008", "-s", "8", "-i", "1", "-f", arg(&file), "--keep"];
    let mut write = vec!["mpiio", "--phases", "write"];
    write.extend_from_slice(&shape);
    assert_exit(&mpiexec(2, &write), 0);
    // Segment 5 of rank 1 starts at (5*2 + 1) * 47008; flip byte 777 of it.
    let offset = 11 * 47008 + 777;
    let mut data = std::fs::read(&file).unwrap();
    data[offset] ^= 0x10;
    std::fs::write(&file, &data).unwrap();
    let mut read = vec!["mpiio", "--phases", "read", "--order", "random"];
    read.extend_from_slice(&shape);
    let out = mpiexec(2, &read);
    assert_fails_with(&out, 3, "verification failed");
    for part in [
        "rank 1:",
        "block of rank 1",
        &format!("file offset {offset}"),
        "(byte 777 of the block in segment 5)",
        "1 of 376064 bytes differ",
    ] {
        assert!(stderr(&out).contains(part), "{part:?} missing in {}", stderr(&out));
    }
}
