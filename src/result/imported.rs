//! What a document made by `pvbench import` adds to the result model: where it came from, the
//! environment as the user stated it (nothing is detected), and the parameters each tool's
//! output prints.

use serde::{Deserialize, Serialize};

use super::mpiio::MpiioParameters;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportedFrom {
    /// `iozone`, `netperf`, `mpi-io-test`, `ior`, `fio`, or `study-2008` (a transcribed table).
    pub format: String,
    /// The file as named on the command line (for the study: the publication).
    pub file: String,
    /// Of the whole file, hex.
    pub sha256: String,
    /// As the output prints it (iozone's revision, IOR's and fio's version); null where the
    /// output does not say.
    pub tool_version: Option<String>,
    /// The tool's own command line, where the output prints it.
    pub tool_command_line: Option<String>,
    /// The lines of the file this document was read from, 1-based and inclusive.
    pub lines: Option<[usize; 2]>,
    /// Which part of the file: `run 2 of 5` (several netperf runs in one file), `Tabelle 3.3`.
    pub part: Option<String>,
}

/// An imported document's environment: only what the user said (`--host`, `--role`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatedEnvironment {
    /// `stated at import` (`--host`, `--role`), or what the study states of its machines: no
    /// field here was detected.
    pub source: String,
    pub hosts: Vec<StatedHost>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatedHost {
    pub hostname: String,
    /// At the path a detected host has it (`environment.hosts[0].virtualization.role`), so that
    /// `compare --by` groups imported and measured documents alike.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualization: Option<StatedRole>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatedRole {
    /// `pvbench env`'s names: `xen-dom0`, `xen-domU`, `bare-metal`, `kvm`, …
    pub role: String,
    /// False for bare metal and Xen's dom0 (the study's host), true for a guest.
    pub guest: bool,
}

/// What netperf's TCP_STREAM output prints of its setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetperfParameters {
    /// `TCP_STREAM`.
    pub test: String,
    /// Bytes per send call (netperf's message size).
    pub send_size_bytes: u64,
    /// The sender's send socket buffer and the receiver's receive socket buffer.
    pub send_buffer_bytes: u64,
    pub receive_buffer_bytes: u64,
    /// `-c`/`-C`: CPU utilisation and service demand measured.
    pub cpu_measured: bool,
    /// The unit netperf printed the throughput in (`-f`), e.g. `MBytes` (2^20 bytes).
    pub printed_unit: String,
}

/// What netperf's TCP_RR output prints of its setup; null where it does not (`-v 0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetperfRrParameters {
    /// `TCP_RR`.
    pub test: String,
    pub request_size_bytes: Option<u64>,
    pub response_size_bytes: Option<u64>,
    /// The client's (local) and the server's (remote) socket buffers.
    pub local_send_buffer_bytes: Option<u64>,
    pub local_receive_buffer_bytes: Option<u64>,
    pub remote_send_buffer_bytes: Option<u64>,
    pub remote_receive_buffer_bytes: Option<u64>,
    /// `-c`/`-C`: CPU utilisation and service demand measured.
    pub cpu_measured: bool,
    /// `Trans` (transactions per second), or the unit of a throughput (`-f`), e.g. `10^6bits`.
    pub printed_unit: String,
}

/// What iozone's auto mode output says of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IozoneParameters {
    pub min_file_bytes: u64,
    pub max_file_bytes: u64,
    pub min_record_bytes: u64,
    pub max_record_bytes: u64,
    /// The passes present, in iozone's column order.
    pub passes: Vec<String>,
    /// `-e`, `-c`, `-I`, as iozone's preamble announces them.
    pub include_flush: bool,
    pub include_close: bool,
    pub direct: bool,
}

/// What PVFS2's mpi-io-test prints of its setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MpiIoTestParameters {
    pub block_size_bytes: u64,
    pub iterations: u32,
    /// `coll = 0|1`; null for versions that do not print it.
    pub collective: Option<bool>,
    /// A `Correctness test` line was printed (`-c`).
    pub verify: bool,
}

/// IOR's parameters in pvbench mpiio's terms, and what mpiio has no word for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IorParameters {
    #[serde(flatten)]
    pub mpiio: MpiioParameters,
    /// Blocks per rank per repetition (mpiio writes one).
    pub segment_count: u64,
    /// IOR's backend: `MPIIO`, `POSIX`, …
    pub api: String,
}

/// One fio job that maps onto an fs pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FioJobParameters {
    pub name: String,
    /// fio's `rw`: `read`, `write`, `randread`, `randwrite`, `rw` or `randrw`.
    pub rw: String,
    pub block_size_bytes: u64,
    pub file_size_bytes: u64,
    /// `io_size`: bytes one pass moves, where less (or more) than the file.
    pub io_size_bytes: Option<u64>,
    /// `runtime`: with `time_based` the job went over the file again until it passed.
    pub runtime_limit_s: Option<f64>,
    pub iodepth: Option<u64>,
    pub ioengine: Option<String>,
    pub direct: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FioParameters {
    pub jobs: Vec<FioJobParameters>,
}

/// What an iperf3 (`-J`) test was asked to do, from its `start` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iperf3Parameters {
    /// `TCP` or `UDP`.
    pub protocol: String,
    /// `-P`: parallel streams, summed in the figures.
    pub streams: u64,
    /// `-l`: bytes per write.
    pub send_size_bytes: u64,
    /// `-t`, or null where `-n`/`-k` limited the test by bytes or blocks.
    pub duration_s: Option<f64>,
    pub bytes: Option<u64>,
    /// `-O`: seconds left out at the start.
    pub omit_s: f64,
    /// `-k`: blocks to send instead of a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<u64>,
    /// `-R`: the server sent, the client received.
    pub reverse: bool,
    /// `--bidir`: both sent at once, one pair each way.
    #[serde(default)]
    pub bidirectional: bool,
    /// `-b`: the rate each stream was held to (UDP's offered load); null where unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_bits_per_s: Option<u64>,
    /// The client's socket buffers as the kernel set them.
    pub send_buffer_bytes: Option<u64>,
    pub receive_buffer_bytes: Option<u64>,
    pub congestion_control: Option<String>,
}
