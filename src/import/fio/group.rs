//! How many jobs each entry of fio's `jobs` reports. Without `group_reporting` one: a job of
//! `numjobs=4` is four entries of its name. With it, fio sums a group's jobs into one entry
//! (bytes added up, the longest runtime, the bandwidth of all together). Its normal output says
//! how many (`seqwrite: (groupid=0, jobs=4)`); its JSON does not, so there an entry that stands
//! alone where `numjobs` promised several is that many jobs. fio also sums different sections
//! of one group into one entry, named after the first and with the last one's options: where
//! that shows, the entry is refused, since no pass and no job count describe it.

use serde_json::Value;

use super::super::text::ParseError;

/// Jobs per entry, in the order of `jobs`.
pub fn jobs_per_entry(text: &str, jobs: &[Value], global: &Value) -> Result<Vec<u32>, ParseError> {
    let printed = printed_job_counts(text);
    if !printed.is_empty() {
        let names: Vec<&str> = jobs.iter().map(|j| j["jobname"].as_str().unwrap_or("?")).collect();
        let printed_names: Vec<&str> = printed.iter().map(|(name, _)| name.as_str()).collect();
        if names != printed_names {
            return Err(ParseError::whole(format!(
                "the normal output's jobs ({}) are not the JSON's ({}): not one run's output",
                printed_names.join(", "),
                names.join(", ")
            )));
        }
        return Ok(printed.into_iter().map(|(_, count)| count).collect());
    }
    jobs.iter()
        .map(|job| {
            let name = job["jobname"].as_str().unwrap_or("?");
            let numjobs = numjobs(job, global)?;
            let entries = jobs.iter().filter(|j| j["jobname"] == job["jobname"] && j["groupid"] == job["groupid"]).count() as u32;
            if entries == 1 {
                Ok(numjobs)
            } else if entries < numjobs {
                Err(ParseError::whole(format!(
                    "job {name:?}: {entries} entries but numjobs={numjobs}: fio reports its jobs one by one, or (group_reporting) as one"
                )))
            } else {
                Ok(1)
            }
        })
        .collect()
}

/// `numjobs` of a job (its own option, else the global one), 1 where not given.
fn numjobs(job: &Value, global: &Value) -> Result<u32, ParseError> {
    let given = job["job options"]["numjobs"].as_str().or_else(|| global["numjobs"].as_str());
    let Some(text) = given else { return Ok(1) };
    text.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
        ParseError::whole(format!(
            "job {:?}: numjobs={text:?} is not a count of jobs",
            job["jobname"].as_str().unwrap_or("?")
        ))
    })
}

/// The `name: (groupid=G, jobs=N): err=…` lines of fio's normal output, in order.
fn printed_job_counts(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(": (groupid=")?;
            let (_, rest) = rest.split_once(", jobs=")?;
            let (count, _) = rest.split_once("): err=")?;
            Some((name.to_string(), count.parse().ok()?))
        })
        .collect()
}

/// Refuses an entry that shows it is several sections summed: options of another job, a
/// direction its `rw` does not move, or more bytes than its jobs can move (`most_per_job`: a
/// pass times `loops`, where no time limit lets a job go on past its file).
pub fn refuse_mixed_sections(
    job: &Value,
    rw: &str,
    moves: &[&str],
    jobs: u32,
    most_per_job: Option<u64>,
) -> Result<(), ParseError> {
    let name = job["jobname"].as_str().unwrap_or("?");
    let options = &job["job options"];
    let mixed = |why: String| {
        ParseError::whole(format!(
            "job {name:?}: {why}: fio reported several sections as one (group_reporting); give each section new_group, or import without group_reporting"
        ))
    };
    if let Some(other) = options["name"].as_str().filter(|other| *other != name) {
        return Err(mixed(format!("its options are job {other:?}'s")));
    }
    for side in ["read", "write", "trim"] {
        if !moves.contains(&side) && job[side]["io_bytes"].as_u64().is_some_and(|b| b > 0) {
            return Err(ParseError::whole(format!(
                "job {name:?} moved {side} bytes, which rw={rw} does not: several sections reported as one (group_reporting), or a verify pass; not one pass to import"
            )));
        }
    }
    let moved: u64 = moves.iter().filter_map(|side| job[*side]["io_bytes"].as_u64()).sum();
    if let Some(most) = most_per_job.map(|most| most.saturating_mul(u64::from(jobs)))
        && moved > most
    {
        return Err(mixed(format!("{moved} bytes moved, more than its {jobs} jobs' passes hold ({most})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(name: &str, numjobs: Option<&str>) -> Value {
        let mut options = json!({"rw": "write"});
        if let Some(n) = numjobs {
            options["numjobs"] = n.into();
        }
        json!({"jobname": name, "groupid": 0, "job options": options})
    }

    #[test]
    fn an_entry_alone_where_numjobs_promised_several_is_that_many_jobs() {
        let four = vec![job("w", Some("4")); 4];
        assert_eq!(jobs_per_entry("", &four, &Value::Null).unwrap(), [1, 1, 1, 1]);
        assert_eq!(jobs_per_entry("", &[job("w", Some("4"))], &Value::Null).unwrap(), [4]);
        let global = json!({"numjobs": "3"});
        assert_eq!(jobs_per_entry("", &[job("w", None)], &global).unwrap(), [3]);
        let err = jobs_per_entry("", &vec![job("w", Some("4")); 2], &Value::Null).unwrap_err();
        assert!(err.message.contains("2 entries but numjobs=4"), "{err:?}");
        for hostile in ["0", "-1", "four", "1e3"] {
            let err = jobs_per_entry("", &[job("w", Some(hostile))], &Value::Null).unwrap_err();
            assert!(err.message.contains("not a count of jobs"), "{hostile}: {err:?}");
        }
    }

    #[test]
    fn the_normal_outputs_count_is_fios_own() {
        let text = "w: (groupid=0, jobs=3): err= 0: pid=1: Mon Dec  7 02:40:56 2026\n";
        assert_eq!(jobs_per_entry(text, &[job("w", None)], &Value::Null).unwrap(), [3]);
        let err = jobs_per_entry(text, &[job("v", None)], &Value::Null).unwrap_err();
        assert!(err.message.contains("not the JSON's"), "{err:?}");
    }

    #[test]
    fn sections_summed_into_one_entry_are_refused() {
        let mut named = job("a", None);
        named["job options"]["name"] = "b".into();
        let err = refuse_mixed_sections(&named, "write", &["write"], 1, Some(4096)).unwrap_err();
        assert!(err.message.contains("its options are job \"b\"'s"), "{err:?}");
        let mut both = job("a", None);
        both["read"]["io_bytes"] = 4096.into();
        let err = refuse_mixed_sections(&both, "write", &["write"], 1, Some(4096)).unwrap_err();
        assert!(err.message.contains("moved read bytes, which rw=write does not"), "{err:?}");
        let mut twice = job("a", None);
        twice["write"]["io_bytes"] = 8192.into();
        assert!(refuse_mixed_sections(&twice, "write", &["write"], 2, Some(4096)).is_ok());
        let err = refuse_mixed_sections(&twice, "write", &["write"], 1, Some(4096)).unwrap_err();
        assert!(
            err.message.contains("8192 bytes moved, more than its 1 jobs' passes hold (4096)"),
            "{err:?}"
        );
        assert!(refuse_mixed_sections(&twice, "write", &["write"], 1, None).is_ok(), "time_based moves more");
    }
}
