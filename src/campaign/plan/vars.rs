//! `{name}` in a plan's strings: its `[vars]`, with `--set` overrides, filled in where they are
//! used. A variable's value may use other variables (`scratch = "{base}/x"`), as Make's and
//! Ansible's do; a cycle, a nesting deeper than [`MAX_DEPTH`] or a text grown past
//! [`MAX_FILLED`] is refused.

use std::collections::BTreeMap;

use crate::error::UsageError;

pub type Vars = BTreeMap<String, String>;

/// What a launcher template is filled in with per run.
pub const LAUNCH_FIELDS: &[&str] = &["hostfile", "hosts", "nodes", "ranks"];

/// Variables within variables, at most this deep.
const MAX_DEPTH: usize = 16;
/// A filled-in text at most this long (as long as the largest plan): nesting that doubles a
/// text at each level would otherwise grow without bound.
const MAX_FILLED: usize = 1 << 20;

/// The plan's `[vars]` with `--set NAME=VALUE` overrides: every variable, each one's value
/// checked (its variables exist, no cycle).
pub fn with_sets(vars: &Vars, sets: &[String]) -> Result<Vars, UsageError> {
    let mut vars = vars.clone();
    for set in sets {
        let (name, value) =
            set.split_once('=').ok_or_else(|| UsageError(format!("--set {set:?}: give NAME=VALUE")))?;
        if !vars.contains_key(name) {
            let known: Vec<&str> = vars.keys().map(String::as_str).collect();
            return Err(UsageError(format!(
                "--set {name}: the plan has no such variable (its [vars]: {})",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        }
        vars.insert(name.to_string(), value.to_string());
    }
    Ok(vars)
}

/// Every variable filled in once (a launcher's fields kept): a variable that names one that is
/// not there, or a cycle, is an error even where no string uses it.
pub fn check_all(vars: &Vars) -> Result<(), String> {
    for (name, value) in vars {
        fill_into(&mut String::new(), value, vars, LAUNCH_FIELDS, &mut vec![name.as_str()])
            .map_err(|e| format!("[vars] {name}: {e}"))?;
    }
    Ok(())
}

/// `{name}` in `text` replaced by the variable's value, itself filled in; `keep` names are left
/// for later.
pub fn fill(text: &str, vars: &Vars, keep: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    fill_into(&mut out, text, vars, keep, &mut Vec::new()).map_err(|e| format!("{text:?}: {e}"))?;
    Ok(out)
}

/// `within`: the variables being filled in, outermost first.
fn fill_into<'v>(
    out: &mut String,
    text: &str,
    vars: &'v Vars,
    keep: &[&str],
    within: &mut Vec<&'v str>,
) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("a '{{' without '}}'{}", inside(within)));
        };
        let name = &after[..close];
        if keep.contains(&name) {
            out.push_str(&rest[open..open + close + 2]);
        } else {
            let Some((name, value)) = vars.get_key_value(name) else {
                return Err(format!(
                    "no variable {{{name}}}{} (give it in [vars] or --set {name}=...)",
                    inside(within)
                ));
            };
            if within.contains(&name.as_str()) {
                within.push(name);
                return Err(format!("the variables {} form a cycle", chain(within)));
            }
            if within.len() == MAX_DEPTH {
                return Err(format!("variables within variables deeper than {MAX_DEPTH}{}", inside(within)));
            }
            within.push(name);
            fill_into(out, value, vars, keep, within)?;
            within.pop();
        }
        if out.len() > MAX_FILLED {
            return Err(format!("filled in, longer than {MAX_FILLED} bytes{}", inside(within)));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// ` (in {a} → {b})`: where in the variables a problem is, if it is in one.
fn inside(within: &[&str]) -> String {
    if within.is_empty() { String::new() } else { format!(" (in {})", chain(within)) }
}

/// `{a} → {b} → {c}`.
fn chain(names: &[&str]) -> String {
    names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(" → ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn fill_keeps_launch_fields_and_refuses_unknown_names() {
        let vars = vars(&[("a", "x")]);
        assert_eq!(fill("{a} -f {hostfile}", &vars, LAUNCH_FIELDS).unwrap(), "x -f {hostfile}");
        assert!(fill("{b}", &vars, &[]).unwrap_err().contains("no variable {b}"));
        assert!(fill("{a", &vars, &[]).is_err());
    }

    #[test]
    fn variables_in_variables_are_filled_in() {
        let vars = vars(&[("base", "/scratch"), ("scratch", "{base}/x"), ("mpi", "mpiexec -f {hostfile}")]);
        assert_eq!(fill("{scratch}/testfile", &vars, &[]).unwrap(), "/scratch/x/testfile");
        assert_eq!(
            fill("{mpi} -n {ranks}", &vars, LAUNCH_FIELDS).unwrap(),
            "mpiexec -f {hostfile} -n {ranks}"
        );
        // A launcher's field is filled per run, and so only in the launcher.
        let error = fill("{mpi}", &vars, &[]).unwrap_err();
        assert_eq!(
            error,
            "\"{mpi}\": no variable {hostfile} (in {mpi}) (give it in [vars] or --set hostfile=...)"
        );
        assert!(check_all(&vars).is_ok());
        let missing = vars.clone().into_iter().chain([("x".into(), "{y}".into())]).collect();
        assert_eq!(
            check_all(&missing).unwrap_err(),
            "[vars] x: no variable {y} (in {x}) (give it in [vars] or --set y=...)"
        );
    }

    #[test]
    fn a_cycle_a_deep_nesting_and_a_runaway_text_are_refused() {
        let cycle = vars(&[("a", "{b}"), ("b", "x{a}")]);
        assert_eq!(check_all(&cycle).unwrap_err(), "[vars] a: the variables {a} → {b} → {a} form a cycle");
        assert!(fill("{b}", &cycle, &[]).unwrap_err().contains("{b} → {a} → {b} form a cycle"));
        let itself = vars(&[("a", "{a}")]);
        assert!(check_all(&itself).unwrap_err().contains("{a} → {a} form a cycle"));
        let deep: Vars = (0..20)
            .map(|i| (format!("v{i}"), format!("{{v{}}}", i + 1)))
            .chain([("v20".into(), "end".into())])
            .collect();
        assert!(fill("{v0}", &deep, &[]).unwrap_err().contains("deeper than 16"));
        let doubling: Vars = (0..15)
            .map(|i| (format!("d{i}"), format!("{{d{}}}{{d{}}}", i + 1, i + 1)))
            .chain([("d15".into(), "x".repeat(100))])
            .collect();
        assert!(fill("{d0}", &doubling, &[]).unwrap_err().contains("longer than 1048576 bytes"));
    }
}
