//! Raw command-line flags (clap). Each subcommand turns its flags into validated options in
//! its own module; nothing downstream re-parses strings.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::result::mpiio::{Order, Phase};

#[derive(Debug, Parser)]
#[command(
    name = "pvbench",
    version,
    about = "How much do I lose when I run this inside a VM, and where? MPI-IO, solver, network and file system benchmarks for hosts and guests.",
    after_help = "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 verification failed, 124 a --timeout passed (mpiio, meta: the run; net over MPI: a wait for progress), 128+N stopped by signal N."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collective, striped MPI-IO write/read bandwidth through ROMIO (successor of mpi-io-test),
    /// and small, unaligned or random transfers as IOR-hard makes them: IOPS and latencies.
    Mpiio(MpiioArgs),
    /// The partdiff PDE solver (Jacobi / Gauss-Seidel), MPI-parallel, with partdiff's output.
    Partdiff(PartdiffArgs),
    /// Where the numbers come from: host or guest (with the evidence), clock, CPU steal, the
    /// network path to the other ranks' hosts, the MPI launcher and ROMIO drivers.
    Env(EnvArgs),
    /// The sender × receiver bandwidth matrix of every pair of ranks (netperf TCP_STREAM's
    /// successor, with CPU utilisation and service demand), over TCP or MPI; with --test rr and
    /// latency, TCP_RR's round trips and osu_latency's MPI latency per pair.
    Net(NetArgs),
    /// The iozone-style file system sweep: every file size × record size, write/rewrite,
    /// read/reread, random read/write, pwrite, pread, on every rank's own file at once.
    Fs(FsArgs),
    /// mdtest's metadata rates: directory create/stat/remove and file create/stat/read/remove,
    /// N items per rank, every rank at once between barriers; ops/s and each operation's latency.
    Meta(MetaArgs),
    /// Groups of result documents side by side (guest next to host): statistics, ratios to a
    /// baseline with their uncertainty, tables, CSV, Markdown, JSON and SVG plots.
    Compare(CompareArgs),
    /// Another tool's output (iozone, netperf, iperf3, mpi-io-test, IOR, fio, mdtest) as pvbench result
    /// documents, so that compare sets it beside today's runs.
    Import(ImportArgs),
    /// The whole study as one plan (TOML): client groups, benchmarks, resets, repetitions until
    /// the figures are sure, run interleaved; ends with what each guest keeps of its host and
    /// an HTML report. Resumes where it stopped.
    #[command(subcommand)]
    Campaign(CampaignCommand),
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Check a plan (groups, hostfiles, commands, each benchmark's arguments) and print its
    /// schedule; runs nothing but each benchmark's only_if (which decides what the plan holds).
    Check(CampaignPlanArgs),
    /// Run a plan into a results directory: the same command resumes it (runs with a result
    /// are not run again; failed ones are retried). Exit 1 when a run failed.
    #[command(after_help = "\
Writes RESULTS/BENCHMARK/GROUP/rep-NN.{json,log,failed}, RESULTS/campaign.json (the manifest:
identity, hosts, every attempt in the order run), and remakes on every invocation
RESULTS/overhead.json, RESULTS/summary/BENCHMARK/ (tables, charts) and RESULTS/report.html.
A different campaign into the same directory is refused (exit 2), as is a second one at once.
Before each run a line says where it stands ([RUN/PLANNED] round N of MIN–MAX, the likely end
and the latest); on a terminal it is one live line.")]
    Run(CampaignRunArgs),
    /// Where the campaign in a results directory stands: per benchmark and group the runs with
    /// a result of those planned, the options its report keeps, the last attempt.
    Status(CampaignStatusArgs),
}

#[derive(Debug, Args)]
pub struct CampaignPlanArgs {
    /// The plan file (TOML; see testbed/study.toml and docs/campaign.md).
    #[arg(value_name = "PLAN")]
    pub plan: std::path::PathBuf,
    /// Override a variable of the plan's [vars] (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Run N repetitions, whatever the plan's reps say (a quick try of a plan).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=crate::bounds::MAX_REPS as i64))]
    pub reps: Option<u32>,
    /// Every benchmark's launcher, whatever the plan says, with {hostfile}, {hosts}, {nodes},
    /// {ranks} and the plan's {vars} (in a Slurm job: "srun --mpi=pmi2 --nodes={nodes}
    /// --nodelist={hosts} --ntasks={ranks}").
    #[arg(long, value_name = "TEMPLATE")]
    pub launcher: Option<String>,
}

#[derive(Debug, Args)]
pub struct CampaignRunArgs {
    #[command(flatten)]
    pub plan: CampaignPlanArgs,
    /// Where the runs, the manifest and the report go.
    #[arg(long, value_name = "DIR")]
    pub results: std::path::PathBuf,
    /// Count runs marked noisy (CPU steal above the plan's limit, a host changed) in the figures.
    /// Kept by the campaign, as --reference: a resume without it keeps it.
    #[arg(long)]
    pub include_noisy: bool,
    /// Also the overhead a reference shipped with pvbench gives for the plan's groups
    /// (`study-2008`: the 2008 study's figures). Given at the first run, kept by the campaign:
    /// a resume without it keeps it, one with another is refused.
    #[arg(long, value_name = "NAME")]
    pub reference: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CampaignStatusArgs {
    /// A campaign's results directory.
    #[arg(value_name = "DIR")]
    pub results: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DropCache {
    /// Leave the page cache alone (iozone's default).
    None,
    /// posix_fadvise(DONTNEED) on the test file before each read pass.
    Fadvise,
    /// sync and write 3 to /proc/sys/vm/drop_caches before each read pass (root only).
    System,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The study: pvbench fs --dir /partition --min-file 10m --max-file 5g --min-record 16k --max-record 10m -i 0 -i 1 -i 2
File and record sizes double from the minimum to the maximum; records larger than the file are
left out, and, as iozone -a does when no record or file range is given, records below 64 KiB on
files above 16 MiB (--all-records keeps them, as iozone -z). Under mpiexec every rank sweeps its
own file at the same time. Throughput: KiB/s in the tables (iozone's), MiB/s in the JSON.")]
pub struct FsArgs {
    /// Directory for the test file (each rank its own file in it).
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    pub dir: Option<std::path::PathBuf>,
    /// The test file itself (with several ranks, PATH.RANK); must not exist.
    #[arg(long, value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
    /// Smallest file size (iozone -n).
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = parse_size)]
    pub min_file: u64,
    /// Largest file size (iozone -g).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = parse_size)]
    pub max_file: u64,
    /// Smallest record size (iozone -y; default 4KiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub min_record: Option<u64>,
    /// Largest record size (iozone -q; default 16MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_record: Option<u64>,
    /// Every record size on every file size (iozone -z).
    #[arg(long)]
    pub all_records: bool,
    /// Tests by iozone's number or name: 0 write, 1 read, 2 random, 9 pwrite, 10 pread; a list,
    /// or repeated as iozone takes them (-i 0 -i 1 -i 2).
    #[arg(short = 'i', long, value_name = "LIST", value_delimiter = ',', default_value = "0,1,2,9,10")]
    pub tests: Vec<String>,
    /// Include fsync in the timing of writing passes (iozone -e).
    #[arg(long)]
    pub include_flush: bool,
    /// Include close in the timing (iozone -c).
    #[arg(long)]
    pub include_close: bool,
    /// Open with O_DIRECT (records must be multiples of 4 KiB; buffers are page-aligned).
    #[arg(long)]
    pub direct: bool,
    /// Drop the test file from the page cache before each read pass.
    #[arg(long, value_enum, default_value = "none")]
    pub drop_cache: DropCache,
    /// Run this shell command before each test (e.g. a remount: the safe form of iozone -U),
    /// with at most --hook-timeout to finish.
    #[arg(long, value_name = "CMD")]
    pub between_tests: Option<String>,
    /// Longest a --between-tests command may run before it is killed (the run then fails).
    #[arg(long, value_name = "TIME", default_value = "10m")]
    pub hook_timeout: String,
    /// Seed of the random record order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the grids as CSV in the layout of iozone's -R report (one block per pass).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum NetTest {
    /// Throughput of a stream over --transport (netperf's TCP_STREAM, osu_bw).
    Stream,
    /// TCP request/response, 1 byte each way (netperf's TCP_RR).
    Rr,
    /// MPI ping-pong latency per message size (osu_latency).
    Latency,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Phases in mdtest's order, each fenced by barriers: directory create, stat, remove; file create
(written with --write-bytes), stat, read (--read-bytes), remove. Rate (ops/s) of an iteration: every
rank's items over the longest rank's time between the barriers (mdtest's); latency percentiles over
every operation of every rank. DIR must be empty or new (it is made, and removed at the end); items
are removed at the end, also after a failure, an interrupt or a --timeout.
pvfs2:DIR (ROMIO, no kernel module) runs the file phases only (-F): MPI-IO makes no directories.")]
pub struct MetaArgs {
    /// The test directory: empty or new; `pvfs2:/…` through ROMIO (with -F).
    #[arg(short = 'd', long, value_name = "DIR")]
    pub dir: Option<String>,
    /// Items (directories, files) per rank and phase (mdtest -n).
    #[arg(short = 'n', long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=crate::bounds::MAX_META_ITEMS))]
    pub items: u64,
    /// Run all phases this many times (mdtest -i).
    #[arg(short = 'i', long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=crate::bounds::MAX_ITERATIONS as i64))]
    pub iterations: u32,
    /// Each rank works in its own directory (mdtest -u); default: all ranks in DIR.
    #[arg(short = 'u', long)]
    pub unique_dir: bool,
    /// Directory phases only (mdtest -D).
    #[arg(short = 'D', long, conflicts_with = "files_only")]
    pub dirs_only: bool,
    /// File phases only (mdtest -F).
    #[arg(short = 'F', long)]
    pub files_only: bool,
    /// Bytes written into each file at its creation (mdtest -w).
    #[arg(short = 'w', long, value_name = "SIZE", default_value = "0", value_parser = parse_size_or_zero)]
    pub write_bytes: u64,
    /// Bytes read from each file in the read phase (mdtest -e); at most --write-bytes.
    #[arg(short = 'e', long, value_name = "SIZE", default_value = "0", value_parser = parse_size_or_zero)]
    pub read_bytes: u64,
    /// End the whole job if the run takes longer than this (20s, 10m): one line names the
    /// phase, iteration and item; what was made is removed (local paths); exit code 124.
    #[arg(long, value_name = "TIME")]
    pub timeout: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// A plain TCP stream between the two ranks' hosts (the virtual NIC and bridge included).
    Tcp,
    /// MPI_Isend/Irecv windows (osu_bw's pattern), through whatever path MPI picks.
    Mpi,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Every ordered pair of ranks runs, one at a time, the diagonal (rank to itself: loopback) included,
sender by sender; --concurrent runs each round of pairs (every rank one sender and one receiver) at
once. Run one rank per host or guest: mpiexec -f hostfiles/all -n 5 pvbench net --duration 10
Throughput: MiB/s (2^20 bytes/s, netperf's -f M) and Mbit/s (10^6 bits/s), measured on the
receiver. CPU: busy share of all CPUs of each host over the repetition (/proc/stat), as netperf -c -C;
service demand: µs of CPU per KiB moved (netperf: util% × 10000 × CPUs / KiB/s). CPU seen inside a
guest misses the work its hypervisor does for it.")]
pub struct NetArgs {
    /// What to measure per pair, one or several (stream,rr,latency): stream = throughput over
    /// --transport (netperf TCP_STREAM, osu_bw); rr = 1-byte request/response transactions over
    /// TCP for --duration (netperf TCP_RR): rate and round-trip percentiles; latency = MPI
    /// ping-pong, 0 B to 64 KiB (osu_latency).
    #[arg(long = "test", value_name = "TEST", value_enum, value_delimiter = ',', default_value = "stream")]
    pub tests: Vec<NetTest>,
    /// latency: timed round trips per message size up to 8 KiB, a tenth of them above
    /// (osu_latency's -i; after 100 untimed ones, 10 above 8 KiB).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub iterations: Option<u32>,
    /// What carries the stream between two ranks.
    #[arg(long, value_enum, default_value = "tcp")]
    pub transport: Transport,
    /// How long each repetition streams: seconds, or with a unit (500ms, 2m).
    #[arg(long, value_name = "TIME", conflicts_with = "bytes")]
    pub duration: Option<String>,
    /// Stream this many bytes per repetition instead of for a time.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub bytes: Option<u64>,
    /// Uncounted warm-up before the repetitions of each pair (default: a tenth of the
    /// duration, at most 1 s).
    #[arg(long, value_name = "TIME")]
    pub warmup: Option<String>,
    /// Repetitions per pair (min, median and max are reported).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Only these pairs, in this order: SENDER:RECEIVER,...
    #[arg(long, value_name = "LIST")]
    pub pairs: Option<String>,
    /// Run the pairs of each round at once (contention), instead of one at a time.
    #[arg(long)]
    pub concurrent: bool,
    /// Bytes per send call (TCP; netperf's -m, default 16KiB) or per message (MPI, default 1MiB).
    #[arg(short = 'm', long, value_name = "SIZE", value_parser = parse_size)]
    pub send_size: Option<u64>,
    /// MPI: messages in flight per window (osu_bw's default 64).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub window: u32,
    /// TCP: the sender's socket buffer (SO_SNDBUF; netperf's -s).
    #[arg(short = 's', long, value_name = "SIZE", value_parser = parse_size)]
    pub send_buffer: Option<u64>,
    /// TCP: the receiver's socket buffer (SO_RCVBUF; netperf's -S).
    #[arg(short = 'S', long, value_name = "SIZE", value_parser = parse_size)]
    pub receive_buffer: Option<u64>,
    /// TCP: disable Nagle's algorithm (TCP_NODELAY).
    #[arg(long)]
    pub nodelay: bool,
    /// TCP: listen on the address of this interface, or the one in this network (CIDR);
    /// default: the peer's address in a subnet both share, as `pvbench env` picks it.
    #[arg(long, value_name = "IFACE|CIDR")]
    pub address_from: Option<String>,
    /// Longest wait for a connection and for any send or receive to make progress.
    #[arg(long, value_name = "TIME", default_value = "30s")]
    pub timeout: String,
    /// Record a pair that fails and go on with the others.
    #[arg(long)]
    pub keep_going: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// Aligned text for the terminal.
    Table,
    Markdown,
    Csv,
    /// The comparison document (groups, rows, every run's value).
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Groups: by label, or by --by fields of the documents (several combine). Runs of one group must
share their parameters (rank count included); --split-on-params splits a group that does not.
Statistics per group and metric: n, mean, median, min, max, sample sd, CV and the 95% interval of
the mean (Student t). With --baseline: each group's mean over the baseline's with Fieller's 95%
interval, and a verdict: same (the interval holds 1), lower, higher, or n too small (< 3 runs).

Example (the study's Table 3.3): pvbench compare results/ --baseline dom0-bridge --runs --plot plots
Beside the study's own figures: pvbench compare --reference study-2008 results/ --baseline \"2008 dom0-bridge\"")]
pub struct CompareArgs {
    /// Result documents: files, directories (searched recursively for *.json), glob patterns.
    #[arg(required_unless_present = "reference", value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Also the documents of a reference shipped with pvbench: `study-2008`, the 2008 study's
    /// tables (groups "2008 dom0-bridge", "2008 dom0-nobridge", "2008 net after tuning", ...).
    #[arg(long, value_name = "NAME")]
    pub reference: Vec<String>,
    /// Group by this field (a dotted path: environment.hosts[0].virtualization.role,
    /// parameters.block_size_bytes, ranks.count); repeat to combine. Default: the label.
    #[arg(long = "by", value_name = "FIELD")]
    pub by: Vec<String>,
    /// Split a group whose runs differ in parameters instead of refusing it.
    #[arg(long)]
    pub split_on_params: bool,
    /// Warn about documents that cannot be read (not pvbench, truncated, too new) and go on.
    #[arg(long)]
    pub skip_bad: bool,
    /// The group every other group is divided by.
    #[arg(long, value_name = "GROUP")]
    pub baseline: Option<String>,
    /// Formats printed on standard output, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "table")]
    pub format: Vec<CompareFormat>,
    /// Also write every format to DIR: summary.txt, summary.md, summary.csv, comparison.json
    /// (and runs.* with --runs).
    #[arg(long, value_name = "DIR")]
    pub output: Option<std::path::PathBuf>,
    /// Also the table of every run (rows: repetition; columns: group and metric), as the
    /// study's Table 3.3.
    #[arg(long)]
    pub runs: bool,
    /// Draw SVG charts into DIR: per metric the groups' means with 95% intervals, and every run.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<std::path::PathBuf>,
    /// Also one self-contained HTML page: the tables and every chart inline.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Replace files in the --output and --plot directories that exist (otherwise refused,
    /// exit 2).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Recognise each file's format from its content (and say which).
    Auto,
    /// iozone -a: the table, the -R (Excel) report, or both.
    Iozone,
    /// netperf TCP_STREAM, with or without -c/-C, any -f unit; several runs per file.
    Netperf,
    /// PVFS2's mpi-io-test summary lines (pvbench mpiio --format mpi-io-test prints them too).
    #[value(name = "mpi-io-test")]
    MpiIoTest,
    /// IOR's JSON (-O summaryFormat=JSON).
    Ior,
    /// fio --output-format=json (or json+, or normal,json).
    Fio,
    /// iperf3 -J, TCP or UDP (several tests appended to one file are one document each).
    Iperf3,
    /// mdtest's text output: its SUMMARY rate table (one document per `N tasks` block).
    Mdtest,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Each file becomes one document (one per run of a netperf or mpi-io-test file with several, one
per test of an IOR file), of the kind compare reads: iozone and fio -> fs, netperf and iperf3 -> net,
mpi-io-test and IOR -> mpiio, mdtest -> meta.
Each says where it came from (imported_from: format, file, SHA-256, the tool's version and
command line where printed); its environment is only what --host and --role state.
Example: pvbench import netperf node7-to-node6.txt --host node7 --role dom0 --label 2008 --out imported/")]
pub struct ImportArgs {
    /// The tool that wrote the files, or auto to recognise each file's.
    #[arg(value_enum)]
    pub format: ImportFormat,
    /// The tools' outputs, as saved (each read whole before any document is written).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    /// Write the documents into DIR (created if missing): `run.txt` -> `run.json`, a file with
    /// several runs -> `run-01.json`, `run-02.json`, ...
    #[arg(long, value_name = "DIR", conflicts_with = "json")]
    pub out: Option<std::path::PathBuf>,
    /// Write the one document to FILE, atomically; `-` is standard output.
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// A label stored in every document (what compare groups by).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// The host the tool ran on (netperf: the sending side; iperf3: the client).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// What that host was: dom0, domU, bare, kvm, or a role name of pvbench env (xen-dom0, ...).
    #[arg(long, value_name = "ROLE", requires = "host")]
    pub role: Option<String>,
    /// The other host's name: netperf's receiver (instead of the name its banner prints),
    /// iperf3's server (instead of the host it connected to).
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// Replace documents that exist (otherwise refused, exit 2).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Under mpiexec every rank's host is described (one entry per host, with its ranks), including the
route to every other host; without mpiexec, this machine. Example: mpiexec -f hostfiles/domU pvbench env")]
pub struct EnvArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Flags every subcommand shares: where the result document goes and what it is called.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write the result document (JSON) to FILE, atomically; `-` is standard output (the
    /// human output then goes to standard error).
    #[arg(long, value_name = "FILE")]
    pub json: Option<String>,
    /// A label stored in the result, e.g. the scenario (`dom0-bridge`, `domU`).
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,
    /// Replace output files that exist (otherwise refused, exit 2).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    /// pvbench's table: per iteration, both bandwidth conventions.
    Table,
    /// The lines PVFS2's mpi-io-test prints.
    #[value(name = "mpi-io-test")]
    MpiIoTest,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Sizes take units: 104857600, 100MiB, 100MB (10^6), 1g or 1G (2^30, as IOR and fio read them).
Layout: in iteration j, rank r of P owns bytes [(j*P + r)*b, (j*P + r + 1)*b) of one shared file.
Bandwidth: IOR's (bytes / (last close end - first open start), MiB/s, per iteration; stddev is
the population one) and mpi-io-test's (all bytes / largest per-rank sum of transfer+sync times,
MB/s = 10^6 bytes/s; open and close outside the timer).
With -s S (IOR's segments) iteration j holds S stripe sets: segment s of rank r at
((j*S + s)*P + r)*b, plus --offset. IOR-hard: -t 47008 -b 47008 -s 10000 (every 47008-byte
transfer strided between the ranks'); random 4 KiB: -t 4k -b 4k -s 10000 --order random.
Timed: open, transfers, sync, close, and nothing else. Filling and checking the pattern happen
before the open and after the close, or, between batches of transfers (up to 16 MiB of them),
in a step fenced by barriers whose length (excluded_s) is subtracted; so is agreeing on the
open's outcome. With more than one transfer per rank and iteration the phase is also reported as
operations: IOPS (IOR's convention) and the p50, p99 and max latency of one transfer call over
every transfer of every rank.

Example (the 2008 study): mpiexec -n 2 pvbench mpiio -b 100MiB -i 5 -f pvfs2:/pvfs2/testfile")]
pub struct MpiioArgs {
    /// Bytes each rank writes per iteration (per segment with -s).
    #[arg(short = 'b', long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    pub block_size: u64,
    /// Segments per iteration (IOR -s): each holds one block of every rank, in rank order.
    #[arg(short = 's', long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=crate::bounds::MAX_SEGMENTS as i64))]
    pub segments: u32,
    /// Number of iterations (stripe sets).
    #[arg(short = 'i', long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=crate::bounds::MAX_ITERATIONS as i64))]
    pub iterations: u32,
    /// File to test: a ROMIO path (`pvfs2:/...`, `ufs:/...`, `nfs:/...`, `lustre:/...`) or a
    /// plain local path. Default: a new file in $TMPDIR (or /tmp), removed at the end; on
    /// several nodes give a path on a file system they share.
    #[arg(short = 'f', long, value_name = "PATH")]
    pub file: Option<String>,
    /// Write each block in transfers of this size (IOR -t; default: the whole block in one call).
    #[arg(short = 't', long, value_name = "SIZE", value_parser = parse_size)]
    pub transfer_size: Option<u64>,
    /// Order of each rank's transfers in an iteration: `sequential`, or `random` (shuffled, as
    /// IOR -z: the same bytes at the same offsets, visited in a seeded order).
    #[arg(long, value_name = "ORDER", default_value = "sequential", value_parser = parse_order)]
    pub order: Order,
    /// Seed of --order random (default 1); the same seed gives the same order.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Bytes before the first block (fio's offset): `--offset 1` puts every transfer off the
    /// file system's block boundaries. 0 by default.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_or_zero)]
    pub offset: Option<u64>,
    /// Collective I/O, MPI_File_write_at_all / read_at_all (the default).
    #[arg(long, overrides_with = "independent")]
    pub collective: bool,
    /// Independent I/O, MPI_File_write_at / read_at.
    #[arg(long, overrides_with = "collective")]
    pub independent: bool,
    /// A ROMIO hint, e.g. romio_cb_write=enable, cb_buffer_size=16777216, striping_factor=4.
    #[arg(long = "hint", value_name = "KEY=VALUE", value_parser = parse_hint)]
    pub hints: Vec<(String, String)>,
    /// MPI_File_sync after each write (inside the timed region, as mpi-io-test -y does).
    #[arg(long)]
    pub sync: bool,
    /// Check every byte read back against the written pattern (the default).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not check the data read back.
    #[arg(long, overrides_with = "verify")]
    pub no_verify: bool,
    /// Keep the file at the end (default: delete it).
    #[arg(long)]
    pub keep: bool,
    /// Phases to run, in order: `write,read`, `write` or `read` (a read-only run checks a file
    /// that an earlier `--phases write --keep` run wrote with the same -b, -i and rank count).
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "write,read", value_parser = parse_phase)]
    pub phases: Vec<Phase>,
    /// One file per rank (`FILE.00000003` for rank 3) instead of one shared file.
    #[arg(long)]
    pub file_per_process: bool,
    /// Each rank reads the block its neighbour (rank + 1) wrote, so no client cache can serve it.
    #[arg(long)]
    pub reorder_read: bool,
    /// pvfs2tab file for ROMIO's pvfs2 driver (sets PVFS2TAB_FILE, as mpi-io-test -p does).
    #[arg(long, value_name = "FILE")]
    pub pvfs2tab: Option<std::path::PathBuf>,
    /// End the whole job, every rank, if the run takes longer than this (20s, 10m): one line
    /// names the phase, iteration, call and server it was in; exit code 124. A PVFS2 client
    /// otherwise waits 300 s per try for a server that is stopped, and tries again.
    #[arg(long, value_name = "TIME")]
    pub timeout: Option<String>,
    /// Human output format on rank 0.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TextFormat,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Arguments as partdiff takes them; the 2008 study: pvbench partdiff 0 2 100 1 2 8000
On any number of ranks the result equals partdiff's bit for bit (Gauss-Seidel runs as a
pipelined wavefront; with TERM 1 ranks that ran ahead of the stop roll back).")]
pub struct PartdiffArgs {
    /// Threads per rank, 0..1024 (0 means 1); ranks are pvbench's parallelism.
    #[arg(value_name = "NUM", value_parser = clap::value_parser!(u32).range(0..=1024))]
    pub threads: u32,
    /// 1: Gauss-Seidel, 2: Jacobi.
    #[arg(value_name = "METHOD", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub method: u8,
    /// 0..100000; the grid has INTERLINES*8 + 9 points per side.
    #[arg(value_name = "INTERLINES", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub interlines: u32,
    /// 1: f(x,y) = 0, 2: f(x,y) = 2 * pi^2 * sin(pi * x) * sin(pi * y).
    #[arg(value_name = "FUNC", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub function: u8,
    /// 1: stop at the required accuracy, 2: after a number of iterations.
    #[arg(value_name = "TERM", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub termination: u8,
    /// TERM 1: the accuracy, 1e-20..1e-4; TERM 2: the iterations, 1..200000.
    #[arg(value_name = "ACC_OR_ITER", allow_negative_numbers = true)]
    pub accuracy_or_iterations: String,
    /// After the solve, measure the bandwidth of the memory level the matrices fit in and print
    /// how far the run is from the limit it sets (scripts/bench-partdiff).
    #[arg(long, hide = true)]
    pub roofline: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `10` (seconds), `500ms`, `2m`.
pub fn parse_time(flag: &str, text: &str) -> Result<std::time::Duration, crate::error::UsageError> {
    let bad = || crate::error::UsageError(format!("{flag} {text:?}: not a time (10, 500ms, 2m)"));
    let duration = match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            std::time::Duration::try_from_secs_f64(seconds).unwrap_or(std::time::Duration::MAX)
        }
        Ok(_) => return Err(bad()),
        Err(_) => humantime::parse_duration(text.trim()).map_err(|_| bad())?,
    };
    crate::bounds::duration(&format!("{flag} {text:?}"), duration).map_err(crate::error::UsageError)
}

/// A size as [`parse_size`] takes it, or 0 (an offset, bytes written into each file).
pub fn parse_size_or_zero(text: &str) -> Result<u64, String> {
    if text.trim() == "0" { Ok(0) } else { parse_size(text) }
}

/// Parses a byte size: plain bytes, units as bytesize reads them (`100MiB`, `1.5GB`), or a
/// single-letter suffix `k`/`m`/`g`/`t` meaning powers of 1024 (IOR's and fio's reading).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let binary_suffix = trimmed.char_indices().last().and_then(|(i, c)| {
        let shift = match c.to_ascii_lowercase() {
            'k' => 10,
            'm' => 20,
            'g' => 30,
            't' => 40,
            _ => return None,
        };
        Some((&trimmed[..i], shift))
    });
    let bytes = match binary_suffix {
        Some((number, shift)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(1u64 << shift))
            .ok_or_else(|| format!("size {text:?} is too large"))?,
        _ => trimmed
            .parse::<bytesize::ByteSize>()
            .map_err(|_| format!("{text:?} is not a size (examples: 104857600, 100MiB, 1g)"))?
            .as_u64(),
    };
    if bytes == 0 {
        return Err(format!("size {text:?} must be greater than zero"));
    }
    Ok(bytes)
}

fn parse_order(text: &str) -> Result<Order, String> {
    match text.trim() {
        "sequential" => Ok(Order::Sequential),
        "random" => Ok(Order::Random),
        other => Err(format!("unknown order {other:?} (orders: sequential, random)")),
    }
}

fn parse_hint(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("hint {text:?} is not KEY=VALUE")),
    }
}

fn parse_phase(text: &str) -> Result<Phase, String> {
    match text.trim() {
        "write" => Ok(Phase::Write),
        "read" => Ok(Phase::Read),
        other => Err(format!("unknown phase {other:?} (phases: write, read)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_seconds_or_units() {
        use std::time::Duration;
        assert_eq!(parse_time("--duration", "10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_time("--duration", "0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_time("--duration", "500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_time("--duration", "2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "-1", "ten", "inf"] {
            assert!(parse_time("--duration", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_in_every_spelling_the_study_and_ior_use() {
        assert_eq!(parse_size("104857600"), Ok(104_857_600));
        assert_eq!(parse_size("100MiB"), Ok(100 << 20));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in ["0", "0MiB", "", "abc", "-5", "12x", "99999999999999999999t"] {
            assert!(parse_size(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn offsets_take_zero_and_orders_their_names() {
        assert_eq!(parse_size_or_zero("0"), Ok(0));
        assert_eq!(parse_size_or_zero(" 1 "), Ok(1));
        assert_eq!(parse_size_or_zero("4k"), Ok(4096));
        assert!(parse_size_or_zero("-1").is_err() && parse_size_or_zero("").is_err());
        assert_eq!(parse_order("random"), Ok(Order::Random));
        assert_eq!(parse_order("sequential"), Ok(Order::Sequential));
        assert_eq!(
            parse_order("shuffled").unwrap_err(),
            "unknown order \"shuffled\" (orders: sequential, random)"
        );
    }

    #[test]
    fn hints_and_phases() {
        assert_eq!(parse_hint("romio_cb_write=enable"), Ok(("romio_cb_write".into(), "enable".into())));
        assert!(parse_hint("novalue").is_err());
        assert!(parse_hint("=x").is_err());
        assert_eq!(parse_phase("read"), Ok(Phase::Read));
        assert!(parse_phase("append").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// `--help` shows a description beside every argument and flag of every subcommand.
    #[test]
    fn every_argument_is_described() {
        use clap::CommandFactory;
        fn undescribed(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    found.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                undescribed(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut command = Cli::command();
        command.build();
        let mut found = Vec::new();
        undescribed(&command, "pvbench", &mut found);
        assert!(found.is_empty(), "without a description: {found:?}");
    }
}
