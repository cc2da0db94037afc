//! What a campaign keeps in its results directory between invocations: the manifest (its
//! identity, the hosts it saw, every attempt in the order run), the locks that let one
//! campaign at a time use a directory or a server, and the noise guards that read each run's
//! environment against the first one seen.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use super::layout::MANIFEST;
use super::plan::{Plan, Reps};
use crate::error::UsageError;
use crate::result::campaign::{
    CAMPAIGN_SCHEMA_VERSION, HostState, KeptOptions, Manifest, PlannedRounds, RunRecord,
};

/// What makes a run what it is: groups, benchmarks as they will be launched, order and seed.
/// Repetitions, overhead pairs and the steal limit may change between invocations: they decide
/// how many runs there are and how they are read, not what a run measures.
pub fn identity(plan: &Plan, seed: u64) -> Value {
    let groups: Vec<Value> = plan
        .groups
        .iter()
        .map(|g| json!({ "name": g.name, "slots": g.slots, "ranks": g.ranks, "env": g.env }))
        .collect();
    let benchmarks: Vec<Value> = plan
        .benchmarks
        .iter()
        .map(|b| {
            json!({
                "name": b.name, "kind": b.family.name(), "args": b.args, "group_args": b.group_args,
                "groups": b.groups.iter().map(|&g| &plan.groups[g].name).collect::<Vec<_>>(),
                "ranks": b.ranks, "peers": b.peers, "reset": b.reset, "check": b.check, "stop": b.stop,
                "timeout_s": b.timeout.as_secs_f64(), "pvbench": b.pvbench, "launcher": b.launcher,
            })
        })
        .collect();
    json!({
        "name": plan.file.name, "workdir": plan.workdir, "groups": groups, "benchmarks": benchmarks,
        "order": plan.file.order, "seed": seed,
    })
}

/// The first place two identities differ, as `benchmarks[0].args: ["-b","1MiB"] → ["-b","2MiB"]`.
pub fn first_difference(old: &Value, new: &Value, at: &str) -> Option<String> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let here = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                first_difference(a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null), &here)
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &format!("{at}[{i}]")))
        }
        _ if old == new => None,
        _ => Some(format!("{at}: {old} → {new}")),
    }
}

/// The options a campaign goes on with: those of its first invocation (`kept`). A later one may
/// leave them out (they are kept, as a resumed batch job keeps its submission's options) but
/// not give others: a report that silently lost its reference is worse than a refusal. A
/// manifest begun before options were kept takes the ones given now.
pub fn kept_options(kept: Option<&KeptOptions>, given: &KeptOptions) -> Result<KeptOptions, UsageError> {
    let Some(kept) = kept else { return Ok(given.clone()) };
    let set = |names: &[String]| names.iter().cloned().collect::<std::collections::BTreeSet<String>>();
    let refuse = |what: String| {
        UsageError(format!(
            "{what}: this campaign was started with {} (kept for its report); resume with the same \
             options or without them, or give another --results",
            options_text(kept)
        ))
    };
    if !given.references.is_empty() && set(&given.references) != set(&kept.references) {
        return Err(refuse(reference_flags(&given.references)));
    }
    if given.include_noisy && !kept.include_noisy {
        return Err(refuse("--include-noisy".into()));
    }
    Ok(kept.clone())
}

/// `--reference study-2008 --include-noisy`, or `no --reference, no --include-noisy`.
pub fn options_text(options: &KeptOptions) -> String {
    let references = match options.references.as_slice() {
        [] => "no --reference".to_string(),
        names => reference_flags(names),
    };
    let noisy = if options.include_noisy { "--include-noisy" } else { "no --include-noisy" };
    format!("{references}, {noisy}")
}

fn reference_flags(names: &[String]) -> String {
    names.iter().map(|n| format!("--reference {n}")).collect::<Vec<_>>().join(" ")
}

/// The rounds planned at the start of an invocation: `reps`' least, or as many as the
/// campaign's runs with a result already reach (a resumed `until_ci` campaign), at most `max`.
pub fn planned_rounds(reps: &Reps, runs: &[RunRecord]) -> PlannedRounds {
    let reached = runs.iter().filter(|r| r.outcome == "ok").map(|r| r.rep).max().unwrap_or(0);
    PlannedRounds {
        planned: reached.clamp(reps.min(), reps.max()),
        min: reps.min(),
        max: reps.max(),
        until_ci: match reps {
            Reps::Fixed(_) => None,
            Reps::UntilCi { until_ci, .. } => Some(*until_ci),
        },
    }
}

/// The manifest of `results`, if there is one.
pub fn read_manifest(results: &Path) -> anyhow::Result<Option<Manifest>> {
    let path = results.join(MANIFEST);
    match crate::input::read(&path, crate::input::MANIFEST) {
        Ok(bytes) => {
            let manifest: Manifest = serde_json::from_slice(&bytes)
                .map_err(|e| UsageError(format!("{}: not a campaign manifest: {e}", path.display())))?;
            if manifest.schema_version > CAMPAIGN_SCHEMA_VERSION {
                return Err(UsageError(format!(
                    "{}: schema_version {} is newer than this pvbench writes ({CAMPAIGN_SCHEMA_VERSION})",
                    path.display(),
                    manifest.schema_version
                ))
                .into());
            }
            Ok(Some(manifest))
        }
        Err(e) if e.is_missing() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn write_manifest(results: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest)?;
    text.push('\n');
    crate::result::write_atomically(&results.join(MANIFEST), text.as_bytes())
}

/// An exclusive lock held while the value lives; `remove` deletes the lock file at the end
/// (a lock in /tmp that nobody holds need not stay).
pub struct Lock {
    _file: File,
    remove: Option<PathBuf>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(path) = &self.remove {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Takes the lock at `path` or says who holds it: `held` is the refusal's text.
pub fn lock(path: &Path, remove_at_end: bool, held: impl FnOnce() -> String) -> anyhow::Result<Lock> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening the lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file, remove: remove_at_end.then(|| path.to_path_buf()) }),
        Err(std::fs::TryLockError::WouldBlock) => Err(UsageError(held()).into()),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

/// The lock of the servers a reset command resets: two campaigns resetting the same storage
/// would wipe each other's runs.
pub fn server_lock_path(reset: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(reset.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir().join(format!("pvbench-campaign.{hex}.lock"))
}

/// Why a run is left out of the figures, if it is: CPU steal above the plan's limit on a host,
/// or a host that changed (rebooted, another kernel or MPI library) since the campaign first
/// saw it. Hosts seen for the first time are added to `hosts`.
pub fn noise(
    doc: &Value,
    run: &str,
    max_steal_percent: Option<f64>,
    hosts: &mut Vec<HostState>,
) -> Option<String> {
    let mut reasons: Vec<String> = Vec::new();
    let mpi = doc["mpi_library_version"].as_str().map(|v| v.lines().next().unwrap_or(v).to_string());
    for host in doc["environment"]["hosts"].as_array().into_iter().flatten() {
        let name = host["hostname"].as_str().unwrap_or("?").to_string();
        if let (Some(limit), Some(steal)) =
            (max_steal_percent, host["steal_during_run"]["share_percent"].as_f64())
            && steal > limit
        {
            reasons.push(format!("{name}: CPU steal {steal:.1} % > {limit} %"));
        }
        let now = HostState {
            hostname: name.clone(),
            kernel: host["kernel"].as_str().unwrap_or_default().to_string(),
            boot_id: host["boot_id"].as_str().map(str::to_string),
            mpi_library: mpi.clone(),
            seen_in: run.to_string(),
        };
        match hosts.iter().find(|h| h.hostname == name) {
            None => hosts.push(now),
            Some(first) => {
                let changed: Vec<&str> = [
                    ("kernel", first.kernel != now.kernel),
                    (
                        "boot id",
                        first.boot_id.is_some() && now.boot_id.is_some() && first.boot_id != now.boot_id,
                    ),
                    ("MPI library", first.mpi_library != now.mpi_library),
                ]
                .into_iter()
                .filter_map(|(what, differs)| differs.then_some(what))
                .collect();
                if !changed.is_empty() {
                    reasons.push(format!("{name}: {} changed since {}", changed.join(", "), first.seen_in));
                }
            }
        }
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(steal: f64, boot: &str) -> Value {
        json!({ "mpi_library_version": "MPICH 4.0.2\nmore", "environment": { "hosts": [
            { "hostname": "node7", "kernel": "Linux 6.1", "boot_id": boot,
              "steal_during_run": { "seconds": 1.0, "share_percent": steal } } ] } })
    }

    #[test]
    fn steal_above_the_limit_and_a_reboot_are_noise() {
        let mut hosts = Vec::new();
        assert_eq!(noise(&doc(1.0, "a"), "x/g/rep-01", Some(5.0), &mut hosts), None);
        assert_eq!(
            noise(&doc(5.0, "a"), "x/g/rep-01", Some(5.0), &mut hosts),
            None,
            "at the limit is not above it"
        );
        assert_eq!(hosts[0].mpi_library.as_deref(), Some("MPICH 4.0.2"));
        let steal = noise(&doc(7.5, "a"), "x/g/rep-02", Some(5.0), &mut hosts).unwrap();
        assert_eq!(steal, "node7: CPU steal 7.5 % > 5 %");
        assert_eq!(noise(&doc(7.5, "a"), "x/g/rep-02", None, &mut hosts), None, "no limit, no steal noise");
        let reboot = noise(&doc(1.0, "b"), "x/g/rep-03", Some(5.0), &mut hosts).unwrap();
        assert_eq!(reboot, "node7: boot id changed since x/g/rep-01");
    }

    #[test]
    fn the_first_difference_is_named_with_its_path() {
        let a = json!({ "benchmarks": [{ "args": ["-b", "1MiB"] }], "seed": 1 });
        let b = json!({ "benchmarks": [{ "args": ["-b", "2MiB"] }], "seed": 1 });
        assert_eq!(first_difference(&a, &b, "").unwrap(), "benchmarks[0].args[1]: \"1MiB\" → \"2MiB\"");
        assert_eq!(first_difference(&a, &a, ""), None);
        let longer = json!({ "benchmarks": [{ "args": ["-b", "1MiB", "-i"] }], "seed": 1 });
        assert_eq!(
            first_difference(&a, &longer, "").unwrap(),
            "benchmarks[0].args: [\"-b\",\"1MiB\"] → [\"-b\",\"1MiB\",\"-i\"]"
        );
    }

    #[test]
    fn a_manifest_is_read_when_there_is_one_and_refused_when_it_cannot_be() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_manifest(dir.path()).unwrap().is_none());
        let manifest = Manifest {
            schema_version: CAMPAIGN_SCHEMA_VERSION,
            kind: "campaign".into(),
            tool: crate::result::Tool::this(),
            identity: json!({ "seed": 3 }),
            started_at: "t".into(),
            updated_at: "t".into(),
            hosts: Vec::new(),
            runs: Vec::new(),
            status: String::new(),
            options: Some(KeptOptions { references: vec!["study-2008".into()], include_noisy: true }),
            rounds: None,
        };
        write_manifest(dir.path(), &manifest).unwrap();
        let read = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!((read.identity["seed"].as_u64(), read.options), (Some(3), manifest.options.clone()));
        let newer = Manifest { schema_version: CAMPAIGN_SCHEMA_VERSION + 1, ..manifest };
        write_manifest(dir.path(), &newer).unwrap();
        let error = read_manifest(dir.path()).unwrap_err().to_string();
        assert!(error.contains("is newer than this pvbench writes"), "{error}");
        let unreadable = tempfile::tempdir().unwrap();
        std::fs::create_dir(unreadable.path().join(MANIFEST)).unwrap();
        assert!(
            read_manifest(unreadable.path()).is_err(),
            "a manifest that cannot be read is not no manifest"
        );
    }

    fn options(references: &[&str], include_noisy: bool) -> KeptOptions {
        KeptOptions { references: references.iter().map(|r| r.to_string()).collect(), include_noisy }
    }

    #[test]
    fn the_first_runs_options_are_kept_and_others_refused() {
        let first = options(&["study-2008"], true);
        assert_eq!(kept_options(None, &first).unwrap(), first, "the first run's are recorded");
        assert_eq!(kept_options(Some(&first), &options(&[], false)).unwrap(), first, "left out: kept");
        assert_eq!(kept_options(Some(&first), &first).unwrap(), first);
        let other = kept_options(Some(&first), &options(&["study-2009"], false)).unwrap_err().0;
        assert_eq!(
            other,
            "--reference study-2009: this campaign was started with --reference study-2008, --include-noisy \
             (kept for its report); resume with the same options or without them, or give another --results"
        );
        let plain = options(&[], false);
        let noisy = kept_options(Some(&plain), &options(&[], true)).unwrap_err().0;
        assert!(
            noisy.starts_with(
                "--include-noisy: this campaign was started with no --reference, no --include-noisy"
            ),
            "{noisy}"
        );
        assert!(kept_options(Some(&plain), &first).is_err(), "a reference a campaign was started without");
    }

    #[test]
    fn the_rounds_planned_reach_what_the_runs_reached() {
        let until = Reps::UntilCi { min: 3, max: 8, until_ci: 0.05 };
        let run = |rep: u32, outcome: &str| RunRecord {
            id: format!("x/a/rep-{rep:02}"),
            benchmark: "x".into(),
            group: "a".into(),
            rep,
            attempt: 1,
            started_at: "t".into(),
            seconds: 1.0,
            outcome: outcome.into(),
            reason: None,
        };
        let fresh = planned_rounds(&until, &[]);
        assert_eq!((fresh.planned, fresh.min, fresh.max, fresh.until_ci), (3, 3, 8, Some(0.05)));
        assert_eq!(planned_rounds(&until, &[run(5, "ok"), run(6, "failed")]).planned, 5);
        assert_eq!(planned_rounds(&until, &[run(12, "ok")]).planned, 8, "never past max");
        let fixed = planned_rounds(&Reps::Fixed(4), &[run(2, "ok")]);
        assert_eq!((fixed.planned, fixed.until_ci), (4, None));
    }

    /// A manifest begun before options and rounds were kept still reads (and resumes).
    #[test]
    fn a_manifest_without_options_or_rounds_reads() {
        let dir = tempfile::tempdir().unwrap();
        let old = json!({ "schema_version": 1, "kind": "campaign", "tool": { "name": "pvbench", "version": "0.1.0" },
            "identity": { "seed": 3 }, "started_at": "t", "updated_at": "t", "runs": [], "status": "" });
        std::fs::write(dir.path().join(MANIFEST), old.to_string()).unwrap();
        let manifest = read_manifest(dir.path()).unwrap().unwrap();
        assert_eq!((manifest.options, manifest.rounds), (None, None));
    }

    #[test]
    fn a_lock_is_held_once_and_its_file_removed_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock(&path, true, || "held".into()).unwrap();
        let again = lock(&path, true, || "held by another".into()).err().unwrap();
        assert_eq!(again.to_string(), "held by another");
        drop(held);
        assert!(!path.exists(), "removed at the end");
        let kept = dir.path().join("kept.lock");
        drop(lock(&kept, false, String::new).unwrap());
        assert!(kept.exists());
        let (a, b) = (server_lock_path("reset a"), server_lock_path("reset b"));
        assert_ne!(a, b);
        assert!(a.starts_with(std::env::temp_dir()) && a.to_string_lossy().ends_with(".lock"), "{a:?}");
    }
}
