//! Parameters and results of `pvbench fs`: one cell per file size, record size and pass.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FsParameters {
    /// The directory or file given.
    pub target: String,
    pub min_file_bytes: u64,
    pub max_file_bytes: u64,
    pub min_record_bytes: u64,
    pub max_record_bytes: u64,
    /// iozone's test numbers, in the order run.
    pub tests: Vec<u8>,
    /// Records below 64 KiB left out on files above 16 MiB (iozone -a without -z).
    pub skip_small_records: bool,
    pub direct: bool,
    pub include_flush: bool,
    pub include_close: bool,
    /// `none`, `fadvise` or `system`.
    pub drop_cache: String,
    pub between_tests: Option<String>,
    pub seed: u64,
}

/// Every pass iozone measures, in its column order, with the title of its `-R` report.
pub const IOZONE_REPORTS: [(&str, &str); 21] = [
    ("write", "Writer report"),
    ("rewrite", "Re-writer report"),
    ("read", "Reader report"),
    ("reread", "Re-Reader report"),
    ("random read", "Random read report"),
    ("random write", "Random write report"),
    ("backward read", "Backward read report"),
    ("record rewrite", "Record rewrite report"),
    ("stride read", "Stride read report"),
    ("fwrite", "Fwrite report"),
    ("re-fwrite", "Re-Fwrite report"),
    ("fread", "Fread report"),
    ("re-fread", "Re-Fread report"),
    ("pwrite", "Pwrite report"),
    ("re-pwrite", "Re-Pwrite report"),
    ("pread", "Pread report"),
    ("re-pread", "Re-Pread report"),
    ("pwritev", "Pwritev report"),
    ("re-pwritev", "Re-Pwritev report"),
    ("preadv", "Preadv report"),
    ("re-preadv", "Re-Preadv report"),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub file_size_bytes: u64,
    pub record_size_bytes: u64,
    /// iozone's name (see `IOZONE_REPORTS`): `pvbench fs` runs `write`, `rewrite`, `read`,
    /// `reread`, `random read`, `random write`, `pwrite`, `re-pwrite`, `pread`, `re-pread`;
    /// imported iozone outputs may hold the others.
    pub pass: String,
    /// Null for an imported output that prints only the rate (iozone, fio).
    pub seconds: Option<f64>,
    pub kib_per_s: f64,
    pub mib_per_s: f64,
    /// What an imported tool reports it moved in the pass (fio's `io_bytes`), where it says:
    /// more than the file with fio's `time_based`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_moved: Option<u64>,
    /// Where the tool reported several jobs as one (fio's `group_reporting`): the group's own
    /// figures. The cell's rates are then the mean job's (the group's over its jobs), as a
    /// rank's are, and `bytes_moved` is null (fio printed only the group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<JobGroup>,
}

/// Jobs that ran side by side and were reported as one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobGroup {
    pub jobs: u32,
    /// All jobs together, as the tool printed them.
    pub kib_per_s: f64,
    pub mib_per_s: f64,
    pub bytes_moved: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankSweep {
    pub rank: u32,
    pub host: String,
    pub file: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FsResults {
    pub ranks: Vec<RankSweep>,
}
