//! A plan's `[[group]]`: its hosts (listed, or read from an MPICH hostfile), ranks and the
//! launcher's environment.

use super::file::GroupFile;
use super::{Group, Reader, check_name};
use crate::error::UsageError;

pub fn read(reader: &Reader, g: &GroupFile) -> Result<Group, UsageError> {
    check_name(reader, "group", &g.name)?;
    let what = format!("group {}", g.name);
    let slots = slots(reader, g, &what)?;
    let ranks = g.ranks.unwrap_or(slots.len() as u32);
    crate::bounds::count(&format!("{what}: ranks"), ranks, crate::bounds::MAX_RANKS)
        .map_err(|e| reader.usage(e))?;
    if ranks == 0 {
        return Err(reader.usage(format!("{what}: ranks = 0: give at least 1")));
    }
    let mut env = std::collections::BTreeMap::new();
    for (name, value) in &g.env {
        // What execve takes as a name; {vars} are not filled in names.
        if name.is_empty() || name.contains(['=', '{', '}']) {
            return Err(reader.usage(format!(
                "{what}: env name {name:?}: give a variable name (not empty, no '=', '{{' or '}}')"
            )));
        }
        env.insert(name.clone(), reader.fill(value, &[])?);
    }
    Ok(Group { name: g.name.clone(), slots, ranks, env })
}

/// One entry per rank slot, in hostfile order.
fn slots(reader: &Reader, g: &GroupFile, what: &str) -> Result<Vec<String>, UsageError> {
    let entries: Vec<String> = match (&g.hostfile, g.hosts.is_empty()) {
        (Some(_), false) => return Err(reader.usage(format!("{what}: give hosts or hostfile, not both"))),
        (None, true) => return Err(reader.usage(format!("{what}: give hosts or hostfile"))),
        (None, false) => g.hosts.iter().map(|h| reader.fill(h, &[])).collect::<Result<_, _>>()?,
        (Some(file), true) => {
            let file = reader.workdir.join(reader.fill(&file.to_string_lossy(), &[])?);
            let text = crate::input::read_text(&file, crate::input::HOSTFILE)
                .map_err(|e| reader.usage(format!("{what}: hostfile {e}")))?;
            text.lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim())
                .filter(|l| !l.is_empty())
                .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
                .collect()
        }
    };
    let mut slots = Vec::new();
    for entry in &entries {
        let (host, count) = match entry.split_once(':') {
            Some((host, n)) => {
                let n: u32 = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    reader.usage(format!("{what}: {entry:?}: slots after ':' must be a positive number"))
                })?;
                (host, n)
            }
            None => (entry.as_str(), 1),
        };
        if host.is_empty() {
            return Err(reader.usage(format!("{what}: an empty host name")));
        }
        // What a launcher and the resolver take as one host: no quotes, spaces or brackets.
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
            return Err(
                reader.usage(format!("{what}: {host:?} is not a host name (letters, digits, '.', '_', '-')"))
            );
        }
        let total = slots.len() as u64 + u64::from(count);
        if total > u64::from(crate::bounds::MAX_RANKS) {
            return Err(reader.usage(format!(
                "{what}: {total} slots: more than {}, the most it may be",
                crate::bounds::MAX_RANKS
            )));
        }
        slots.extend(std::iter::repeat_n(host.to_string(), count as usize));
    }
    if slots.is_empty() {
        return Err(reader.usage(format!("{what}: its hostfile names no host")));
    }
    Ok(slots)
}
