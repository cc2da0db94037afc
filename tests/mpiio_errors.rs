//! Bad input to `pvbench mpiio` under `mpiexec -n 2`: one clear error line, the right exit
//! code, and no hang (every job runs under a timeout).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn unparsable_and_zero_sizes_are_usage_errors() {
    for size in ["0", "abc", "12x", "0MiB"] {
        let out = mpiexec(2, &["mpiio", "-b", size]);
        assert_fails_with(&out, 2, "--block-size");
    }
    let out = mpiexec(2, &["mpiio", "--transfer-size", "0"]);
    assert_fails_with(&out, 2, "--transfer-size");
    let out = mpiexec(2, &["mpiio", "-i", "0"]);
    assert_fails_with(&out, 2, "--iterations");
}

/// Offsets are `MPI_Offset`s: a file that would end beyond 2^63 - 1 is a usage error, never a
/// wrapped offset.
#[test]
fn a_file_beyond_the_largest_offset_is_a_usage_error() {
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-i", "1", "--offset", "9223372036854775000"]);
    assert_fails_with(&out, 2, "beyond the largest MPI-IO offset (9223372036854775807)");
    let out =
        mpiexec(1, &["mpiio", "-b", "1GiB", "-s", "1000", "-i", "3", "--offset", "9223372036000000000"]);
    assert_fails_with(&out, 2, "3 iterations x 1000 segments x 1 ranks x block 1073741824 bytes + offset");
    // A block of 2^62 bytes cannot be moved in few enough transfers of at most 2^31 - 1 bytes.
    let out = mpiexec(2, &["mpiio", "-b", "4611686018427387904", "--transfer-size", "1MiB", "-i", "1"]);
    assert_fails_with(&out, 2, "transfers per rank and phase: more than 100000000");
}

#[test]
fn block_not_a_multiple_of_transfer_is_a_usage_error() {
    let out = mpiexec(2, &["mpiio", "-b", "3MiB", "--transfer-size", "2MiB"]);
    assert_fails_with(&out, 2, "not a multiple of transfer size");
}

#[test]
fn unknown_phase_is_a_usage_error() {
    let out = mpiexec(2, &["mpiio", "--phases", "write,append"]);
    assert_fails_with(&out, 2, "unknown phase");
}

#[test]
fn missing_directory() {
    let out = mpiexec(2, &["mpiio", "-f", "/nonexistent-pvbench/dir/testfile"]);
    assert_fails_with(&out, 1, "directory /nonexistent-pvbench/dir does not exist");
}

#[test]
fn path_that_is_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = mpiexec(2, &["mpiio", "-f", arg(dir.path())]);
    assert_fails_with(&out, 1, "is a directory");
}

#[test]
fn read_only_run_of_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = mpiexec(2, &["mpiio", "-f", arg(&dir.path().join("nothing")), "--phases", "read"]);
    assert_fails_with(&out, 1, "does not exist");
}

/// A pvfs2tab whose one mount `/pvfs2` is served at 127.0.0.1:`port`.
fn pvfs2tab(dir: &Path, port: u16) -> std::path::PathBuf {
    let tab = dir.join("pvfs2tab");
    std::fs::write(&tab, format!("tcp://127.0.0.1:{port}/pvfs2-fs /pvfs2 pvfs2 defaults,noauto 0 0\n"))
        .unwrap();
    tab
}

/// Debian's ROMIO has no pvfs2 driver: with a server that answers, the error names the prefix
/// and both ways out, and nothing else is measured instead.
#[test]
fn unsupported_romio_prefix_names_the_ways_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tab = pvfs2tab(dir.path(), server.local_addr().unwrap().port());
    let json = dir.path().join("r.json");
    let out = mpiexec(
        2,
        &[
            "mpiio",
            "-b",
            "1MiB",
            "-i",
            "5",
            "-f",
            "pvfs2:/pvfs2/testfile",
            "--pvfs2tab",
            arg(&tab),
            "--json",
            arg(&json),
        ],
    );
    assert_fails_with(&out, 1, "does not support the `pvfs2:` file system");
    let err = stderr(&out);
    assert!(err.contains("MPI built with ROMIO's pvfs2 driver"), "{err}");
    assert!(err.contains("mount path as a plain path"), "{err}");
    assert!(!json.exists(), "no result for a run that measured nothing");
}

/// libpvfs2 crashes every rank when the server is down: pvbench refuses first, naming the
/// server and the tab, before any MPI-IO call.
#[test]
fn pvfs2_server_down_is_refused_naming_server_and_tab() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tab = pvfs2tab(dir.path(), port);
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-f", "pvfs2:/pvfs2/testfile", "--pvfs2tab", arg(&tab)]);
    assert_fails_with(
        &out,
        1,
        &format!("the PVFS2 server of pvfs2:/pvfs2/testfile does not answer (127.0.0.1:{port}"),
    );
    assert!(stderr(&out).contains(&format!("in the pvfs2tab {}", tab.display())), "{}", stderr(&out));
    assert!(!stderr(&out).contains("does not support"), "refused before ROMIO saw the path");
}

#[test]
fn pvfs2_path_under_no_mount_of_the_tab_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tab = pvfs2tab(dir.path(), server.local_addr().unwrap().port());
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-f", "pvfs2:/pvfs2x/testfile", "--pvfs2tab", arg(&tab)]);
    assert_fails_with(
        &out,
        1,
        &format!("pvfs2:/pvfs2x/testfile is under no mount of the pvfs2tab {}", tab.display()),
    );
}

#[test]
fn json_into_a_missing_directory_fails_before_the_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out = mpiexec(
        2,
        &["mpiio", "-b", "1MiB", "-f", arg(&file), "--keep", "--json", "/nonexistent-pvbench/r.json"],
    );
    assert_fails_with(&out, 2, "directory /nonexistent-pvbench does not exist");
    assert!(!file.exists(), "the check runs before any I/O");
}

/// The document must not land on the test file (`-f F --keep --json F` lost the data), nor
/// replace an earlier document without --force.
#[test]
fn json_on_the_test_file_or_an_existing_document_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let out =
        mpiexec(1, &["mpiio", "-b", "1MiB", "-f", arg(&file), "--keep", "--json", arg(&file), "--force"]);
    assert_fails_with(&out, 2, "--json ");
    assert!(stderr(&out).contains(": the same file"), "{}", stderr(&out));
    assert!(!file.exists(), "refused before any I/O");
    let json = dir.path().join("r.json");
    std::fs::write(&json, "earlier").unwrap();
    let out = mpiexec(1, &["mpiio", "-b", "1MiB", "-f", arg(&file), "--json", arg(&json)]);
    assert_fails_with(&out, 2, "r.json: exists; give --force to replace it");
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "earlier");
    assert_exit(&mpiexec(1, &["mpiio", "-b", "1MiB", "-f", arg(&file), "--json", arg(&json), "--force"]), 0);
    assert!(read_json(&json)["results"].is_object());
}

/// A 3 MiB tmpfs for the tests of full file systems; unmounted on drop.
struct SmallTmpfs(tempfile::TempDir);

impl SmallTmpfs {
    fn new() -> Self {
        let mount = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs", arg(mount.path())])
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs needs root");
        SmallTmpfs(mount)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

/// A write phase that cannot fit (8 MiB into 3 MiB) is refused before a byte is written.
#[test]
fn a_write_that_cannot_fit_is_refused_up_front() {
    let fs = SmallTmpfs::new();
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-i", "4", "-f", arg(&fs.path().join("f"))]);
    assert_fails_with(&out, 1, "the write phase needs 8.0 MiB but the file system has 3.0 MiB free");
    assert_eq!(std::fs::read_dir(fs.path()).unwrap().count(), 0, "nothing was written");
}

/// A file system that fills up mid-write: the old file's space counts as free, but another
/// process still holds it open, so deleting it frees nothing and the write runs out.
#[test]
fn full_file_system_mid_write() {
    let fs = SmallTmpfs::new();
    let file = fs.path().join("f");
    std::fs::write(&file, vec![1u8; 2 << 20]).unwrap();
    let _held_open = std::fs::File::open(&file).unwrap();
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-i", "1", "-f", arg(&file)]);
    let listing = std::fs::read_dir(fs.path()).unwrap().count();
    // ROMIO's UFS driver reports ENOSPC as MPI_ERR_IO, so the class cannot say it: its words do.
    assert_fails_with(&out, 1, "No space left on device");
    assert_eq!(listing, 0, "the partial file is removed");
}

/// Transfer buffers that cannot fit in the host's memory are refused before any allocation.
#[test]
fn buffers_larger_than_memory_are_refused() {
    let out = assert_cmd::Command::new("mpiexec")
        .args(["-n", "16", pvbench(), "mpiio", "-b", "2047MiB", "-i", "1"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_fails_with(&out, 1, "the transfer buffers and latency samples: 32.0 GiB needed on host");
}

/// Runs `pvbench ARGS` under `mpiexec -n 2` as `nobody`, from a copy of the binary that
/// nobody can reach.
fn as_nobody(args: &[&str]) -> std::process::Output {
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_dir.path().join("pvbench");
    std::fs::copy(pvbench(), &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_cmd::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "mpiexec", "-n", "2"])
        .arg(&bin)
        .args(args)
        .env("HOME", "/tmp")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

/// An old file nobody may delete (its directory is root's) but may write: the run must not
/// measure on top of it as if it were fresh.
#[test]
fn an_old_file_that_cannot_be_deleted_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"old").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = as_nobody(&["mpiio", "-b", "64k", "-i", "1", "-f", arg(&file)]);
    assert_fails_with(&out, 1, "cannot delete it");
}

/// No permission: the job runs as `nobody` against a directory only root may write.
#[test]
fn no_permission() {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = as_nobody(&["mpiio", "-b", "64k", "-i", "1", "-f", arg(&dir.path().join("f"))]);
    assert_fails_with(&out, 1, "permission denied");
}

/// A panic on one rank takes the whole job down (MPI_Abort) instead of leaving the other
/// rank waiting in a collective forever.
#[test]
fn a_panic_on_one_rank_ends_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::new("mpiexec")
        .args(["-n", "2", "-env", "PVBENCH_TEST_PANIC_RANK", "1", pvbench()])
        .args(["mpiio", "-b", "64k", "-f", arg(&dir.path().join("f"))])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c != 0), "the job must end with an error: {:?}", out.status);
    assert!(stderr(&out).contains("deliberate panic on rank 1"), "{}", stderr(&out));
}

#[test]
fn missing_pvfs2tab() {
    let out = mpiexec(2, &["mpiio", "-b", "64k", "--pvfs2tab", "/nonexistent-pvbench/pvfs2tab"]);
    assert_fails_with(&out, 1, "--pvfs2tab: /nonexistent-pvbench/pvfs2tab: No such file or directory");
    let out = mpiexec(2, &["mpiio", "-b", "64k", "--pvfs2tab", "/dev/zero"]);
    assert_fails_with(&out, 2, "--pvfs2tab: /dev/zero: is a character device, not a regular file");
}

/// SIGINT and SIGTERM stop the run on every rank at the next agreement, remove the test file
/// unless --keep, and end each rank with 128 + signal and one line. Sent to the ranks (as a
/// batch system does) mpiexec passes 130/143 on; sent to mpiexec (Ctrl-C), hydra forwards it
/// to every rank but then exits 0 or 130 itself, a race of its own.
#[test]
fn an_interrupted_run_removes_its_file() {
    let cases = [
        ("INT", SignalTo::Ranks, false, &[130][..], "SIGINT"),
        ("TERM", SignalTo::Ranks, true, &[143], "SIGTERM"),
        ("INT", SignalTo::Mpiexec, false, &[0, 130], "SIGINT"),
    ];
    for (signal, to, keep, codes, name) in cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        // 8 GiB in all: long enough to be interrupted, and room for it on a small disk.
        let mut args =
            vec!["mpiio", "-b", "256MiB", "-i", "16", "--transfer-size", "32MiB", "-f", arg(&file)];
        if keep {
            args.push("--keep");
        }
        // Interrupted once the write phase is under way (the file has data).
        let out = interrupt_job(2, &args, signal, to, || std::fs::metadata(&file).is_ok_and(|m| m.len() > 0));
        let code = out.status.code().expect("mpiexec exits");
        assert!(codes.contains(&code), "exit {code} for {name}: {}", stderr(&out));
        // One line of pvbench's; hydra's own notes ("[mpiexec@host] Sending Ctrl-C …") aside.
        let err = stderr(&out);
        let ours: Vec<&str> = err.lines().filter(|l| !l.starts_with("[mpiexec@")).collect();
        assert_eq!(ours, [format!("pvbench: interrupted by {name}")], "{err}");
        assert_eq!(file.exists(), keep, "--keep {keep}");
    }
}

/// --timeout ends the whole job when the limit passes, wherever the ranks are: exit 124, one
/// line of pvbench's naming the phase, iteration and file, and the local test file removed.
#[test]
fn a_run_past_its_timeout_ends_every_rank_and_names_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    let started = std::time::Instant::now();
    // 8 GiB to write: far longer than the 1.5 s limit; in chunks of 32 MiB, so that even an
    // unoptimised build has made the file (filling the first chunk) when the limit passes.
    let out = mpiexec(
        2,
        &[
            "mpiio",
            "-b",
            "256MiB",
            "-i",
            "16",
            "--transfer-size",
            "32MiB",
            "--timeout",
            "1.5",
            "-f",
            arg(&file),
        ],
    );
    assert_exit(&out, 124);
    // ~2.5 s idle; a tenth of the bound, which a limit that does not fire exceeds (the write
    // alone takes longer).
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
    let err = stderr(&out);
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("pvbench")).collect();
    assert_eq!(ours.len(), 1, "{err}");
    let stage = ours[0]
        .strip_prefix("pvbench: error: the time limit (--timeout 1.5) passed: rank 0 was in the ")
        .unwrap_or_else(|| panic!("{err}"));
    // The write phase here; the setup on a machine so busy that starting took 1.5 s.
    assert!(stage.starts_with("write phase, iteration ") || stage.starts_with("setup on "), "{err}");
    assert!(ours[0].ends_with(&format!("on {}; the job is ended (exit 124)", file.display())), "{err}");
    assert!(!file.exists(), "the test file outlived the job");

    // A run within its limit is not touched by it.
    let out = mpiexec(2, &["mpiio", "-b", "1MiB", "-i", "2", "--timeout", "1m", "-f", arg(&file)]);
    assert_exit(&out, 0);
}
