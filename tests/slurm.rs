//! A real Slurm in the testbed (`scripts/testbed up --slurm`): its nodes idle in sinfo, ranks
//! started by srun (MPICH's PMI-1 served by Slurm's pmi2) with the job in every result (net's
//! throughput, round trips and MPI latency; meta's phases; IOR-hard's small transfers), a
//! campaign as a batch job cut by its time limit and finished by the next job with every run
//! once, and down leaving no daemon, spool file or port.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::testbed::{Up, testbed};
use common::*;
use serde_json::Value;

const SLURM_DIR: &str = "/var/tmp/pvbench-testbed-slurm";

/// A Slurm client command against the testbed's cluster, at most `limit`.
fn slurm(program: &str, args: &[&str], limit: Duration) -> Output {
    assert_cmd::Command::new(program)
        .env("SLURM_CONF", format!("{SLURM_DIR}/slurm.conf"))
        .args(args)
        .timeout(limit)
        .output()
        .unwrap()
}

/// The pids of Slurm's and munge's daemons on the machine.
fn daemons() -> BTreeSet<String> {
    let out = Command::new("pgrep").args(["-x", "slurmctld|slurmd|slurmstepd|munged"]).output().unwrap();
    stdout(&out).lines().map(String::from).collect()
}

/// Sockets listening in this network namespace on Slurm's ports.
fn slurm_ports() -> String {
    let out = Command::new("ss")
        .args(["-Hltn", "sport = :6817 or sport = :6818 or sport = :6819"])
        .output()
        .unwrap();
    stdout(&out)
}

/// `sbatch --parsable` of `command` on node6 (the batch host), node7 and vm3: the job id.
fn submit(command: &str, minutes: u32, output: &Path, after: Option<&str>) -> String {
    let time = minutes.to_string();
    let output = output.to_str().unwrap();
    let mut args = vec!["--parsable", "--exclusive", "-N", "3", "-w", "node6,node7,vm3", "-t", &time];
    args.extend(["-o", output, "--open-mode=append"]);
    let dependency = after.map(|job| format!("afterany:{job}"));
    if let Some(dependency) = &dependency {
        args.extend(["-d", dependency]);
    }
    args.extend(["--wrap", command]);
    let out = slurm("sbatch", &args, Duration::from_secs(30));
    assert_exit(&out, 0);
    stdout(&out).trim().to_string()
}

/// Until no job is queued or running, at most `limit`.
fn wait_for_queue(limit: Duration) {
    let started = Instant::now();
    loop {
        let out = slurm("squeue", &["-h", "-o", "%i %T %M"], Duration::from_secs(30));
        if stdout(&out).trim().is_empty() {
            return;
        }
        assert!(started.elapsed() < limit, "jobs still queued after {limit:?}:\n{}", stdout(&out));
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[test]
fn campaigns_as_slurm_jobs() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || open_mpi() || Command::new("slurmd").arg("-V").output().is_err() {
        eprintln!(
            "skipped: needs root, MPICH's mpiexec and Slurm (apt-get install slurmctld slurmd slurm-client munge)"
        );
        return;
    }
    let before = daemons();
    let started = Instant::now();
    let out = testbed(&["up", "--slurm"]);
    assert_exit(&out, 0);
    let _up = Up;
    println!("up --slurm: {:?}\n{}", started.elapsed(), stdout(&out));
    assert_eq!(stdout(&testbed(&["slurm", "env"])).trim(), format!("SLURM_CONF={SLURM_DIR}/slurm.conf"));

    // Every node of the topology a Slurm node, idle; the guest marked as one.
    let sinfo = stdout(&slurm("sinfo", &["-h", "-N", "-o", "%N %t %f"], Duration::from_secs(30)));
    let nodes: BTreeMap<&str, (&str, &str)> = sinfo
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0], (f[1], f[2]))
        })
        .collect();
    assert_eq!(
        nodes.keys().copied().collect::<Vec<_>>(),
        ["node6", "node7", "node7-direct", "vm3"],
        "{sinfo}"
    );
    assert!(nodes.values().all(|(state, _)| *state == "idle"), "{sinfo}");
    assert_eq!(nodes["vm3"].1, "guest", "{sinfo}");

    // srun's ranks across node6 and node7: one MPI job, the job and step in the result.
    let net = slurm(
        "srun",
        &[
            "-N",
            "2",
            "-w",
            "node6,node7",
            pvbench(),
            "net",
            "--test",
            "stream,rr,latency",
            "--duration",
            "500ms",
            "--warmup",
            "200ms",
            "--iterations",
            "100",
            "--json",
            "-",
        ],
        Duration::from_secs(120),
    );
    assert_exit(&net, 0);
    let doc: Value = serde_json::from_slice(&net.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&net)));
    let launcher = &doc["environment"]["launcher"];
    assert_eq!(launcher["name"], "slurm", "{launcher}");
    assert_eq!(launcher["slurm"]["step_nodelist"], "node[6-7]", "{launcher}");
    assert_eq!(launcher["slurm"]["cluster"], "pvbench-testbed", "{launcher}");
    assert_eq!(launcher["slurm"]["mpi_plugin"], "pmi2", "{launcher}");
    assert!(launcher["slurm"]["job_id"].as_str().is_some_and(|j| j.parse::<u32>().is_ok()), "{launcher}");
    assert_eq!(hostnames(&doc), ["node6", "node7"]);
    for pair in doc["results"]["pairs"].as_array().unwrap() {
        assert!(pair["median_mbit_per_s"].as_f64().unwrap() > 500.0, "{pair}");
        // TCP_RR's round trips and osu_latency's sizes, 0 B to 64 KiB, per pair.
        assert!(pair["rr"]["round_trip"]["p50_us"].as_f64().unwrap() > 0.0, "{pair}");
        let sizes = pair["latency"].as_array().unwrap();
        assert_eq!(sizes.len(), 18, "{pair}");
        assert!(sizes.iter().all(|s| s["latency_us"].as_f64().unwrap() > 0.0), "{pair}");
    }
    // Without a PMI between them every task is an MPI job of its own: refused, not measured.
    let singletons = slurm(
        "srun",
        &["--mpi=none", "-N", "2", "-w", "node6,node7", pvbench(), "env"],
        Duration::from_secs(60),
    );
    assert!(!singletons.status.success());
    assert!(stderr(&singletons).contains("use srun --mpi=pmi2"), "{}", stderr(&singletons));

    small_operations_through_srun();
    campaign_cut_by_the_time_limit();

    let out = testbed(&["down"]);
    assert_exit(&out, 0);
    assert_eq!(daemons(), before, "Slurm's or munge's daemons left");
    assert!(!Path::new(SLURM_DIR).exists(), "{SLURM_DIR} left");
    assert_eq!(slurm_ports(), "", "a Slurm port still listening");
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(!cgroups.contains("pvbench-testbed"), "slurmd's named cgroup hierarchy left:\n{cgroups}");
}

/// The hosts a result document's environment names, in rank order.
fn hostnames(doc: &Value) -> Vec<&str> {
    doc["environment"]["hosts"].as_array().unwrap().iter().map(|h| h["hostname"].as_str().unwrap()).collect()
}

/// meta's phases and IOR-hard's small transfers from a host and the guest at once through
/// srun, each rank on its own node: every item and transfer counted, the job in the document.
fn small_operations_through_srun() {
    let dir = tempfile::tempdir().unwrap();
    let srun = |args: &[&str]| {
        let mut all = vec!["-N", "2", "-w", "node7,vm3", pvbench()];
        all.extend(args);
        let out = slurm("srun", &all, Duration::from_secs(120));
        assert_exit(&out, 0);
        let doc: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
        assert_eq!(doc["environment"]["launcher"]["name"], "slurm", "{}", doc["environment"]["launcher"]);
        assert_eq!(hostnames(&doc), ["node7", "vm3"]);
        doc
    };

    let meta_dir = dir.path().join("meta");
    let meta = srun(&[
        "meta",
        "-d",
        meta_dir.to_str().unwrap(),
        "-n",
        "20",
        "-u",
        "-w",
        "100",
        "-e",
        "100",
        "--json",
        "-",
    ]);
    let phases = meta["results"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 7, "{phases:?}");
    for phase in phases {
        assert_eq!(
            (phase["items"].as_u64(), phase["latency"]["samples"].as_u64()),
            (Some(40), Some(40)),
            "{phase}"
        );
        assert!(phase["mean_ops_per_s"].as_f64().unwrap() > 0.0, "{phase}");
    }
    assert!(!meta_dir.exists(), "meta removes the directory it made");

    let file = dir.path().join("ior-hard");
    let file = file.to_str().unwrap();
    let small = srun(&[
        "mpiio",
        "-t",
        "47008",
        "-b",
        "47008",
        "-s",
        "10",
        "-i",
        "1",
        "--independent",
        "-f",
        file,
        "--json",
        "-",
    ]);
    for phase in small["results"]["phases"].as_array().unwrap() {
        let ops = &phase["operations"];
        assert_eq!(
            (ops["count"].as_u64(), ops["transfer_size_bytes"].as_u64()),
            (Some(20), Some(47008)),
            "{ops}"
        );
        assert!(ops["mean_iops"].as_f64().unwrap() > 0.0, "{ops}");
    }
    assert!(!Path::new(file).exists(), "mpiio removes its file");
}

/// Two groups × two repetitions of mpiio through srun, the reset (30 s, as a PVFS2 restart may
/// take) inside the job: the first job ends at its 1-minute limit (Slurm checks limits every
/// 30 s: cut 60 to 90 s in, after 2 or 3 runs), the next, queued behind it, does the rest.
fn campaign_cut_by_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    let results = dir.path().join("results");
    std::fs::write(
        &plan,
        format!(
            "name = \"slurm\"\nreps = 2\npvbench = {pvbench:?}\n\
             launcher = \"srun --nodes={{nodes}} --nodelist={{hosts}} --ntasks={{ranks}}\"\n\
             [[group]]\nname = \"dom0\"\nhosts = [\"node7\"]\n\
             [[group]]\nname = \"domU\"\nhosts = [\"vm3\"]\n\
             [[benchmark]]\nname = \"mpiio\"\nkind = \"mpiio\"\n\
             args = [\"-b\", \"4MiB\", \"-i\", \"2\", \"-f\", {file:?}]\n\
             reset = \"echo reset in job $SLURM_JOB_ID on $(hostname); sleep 30\"\ntimeout = \"2m\"\n\
             [[overhead]]\nguest = \"domU\"\nhost = \"dom0\"\n",
            pvbench = pvbench(),
            file = dir.path().join("testfile").to_str().unwrap(),
        ),
    )
    .unwrap();
    let command =
        format!("exec {} campaign run {} --results {}", pvbench(), plan.display(), results.display());
    let output = dir.path().join("job.out");
    let first = submit(&command, 1, &output, None);
    let second = submit(&command, 5, &output, Some(&first));
    wait_for_queue(Duration::from_secs(420));
    let log = std::fs::read_to_string(&output).unwrap();
    println!("the jobs' output:\n{log}");
    assert!(log.contains(&format!("JOB {first} ON node6 CANCELLED")) && log.contains("TIME LIMIT"), "{log}");
    assert!(log.contains("the same command resumes it"), "{log}");

    // Every run once: one ok attempt per run, its result from one job or the other.
    let manifest = read_json(&results.join("campaign.json"));
    let mut ok: BTreeMap<String, u32> = BTreeMap::new();
    for run in manifest["runs"].as_array().unwrap() {
        if run["outcome"] == "ok" {
            *ok.entry(run["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let ids = ["mpiio/dom0/rep-01", "mpiio/dom0/rep-02", "mpiio/domU/rep-01", "mpiio/domU/rep-02"];
    assert_eq!(ok, ids.iter().map(|id| (id.to_string(), 1)).collect(), "{manifest}");
    let mut jobs = BTreeSet::new();
    for id in ids {
        let doc = read_json(&results.join(format!("{id}.json")));
        let launcher = &doc["environment"]["launcher"];
        assert_eq!(launcher["name"], "slurm", "{id}: {launcher}");
        jobs.insert(launcher["slurm"]["job_id"].as_str().unwrap().to_string());
        let group = if id.contains("dom0") { "node7" } else { "vm3" };
        assert_eq!(doc["environment"]["hosts"][0]["hostname"], group, "{id}");
    }
    assert_eq!(jobs, BTreeSet::from([first.clone(), second.clone()]), "results of both jobs");
    let reset = std::fs::read_to_string(results.join("mpiio/dom0/rep-01.log")).unwrap();
    assert!(reset.contains(&format!("reset in job {first} on node6")), "{reset}");
    assert!(results.join("report.html").exists());
}
