//! Dotted paths into a result document: `environment.hosts[0].virtualization.role`.

use serde_json::Value;

use crate::error::UsageError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A parsed `--by` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    text: String,
    steps: Vec<Step>,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<Self, UsageError> {
        let bad = |why: &str| UsageError(format!("--by {text:?}: {why} (e.g. parameters.block_size_bytes)"));
        let mut steps = Vec::new();
        for part in text.split('.') {
            let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
            if key.is_empty() {
                return Err(bad("an empty field name"));
            }
            steps.push(Step::Key(key.to_string()));
            while !rest.is_empty() {
                let close = rest.find(']').ok_or_else(|| bad("a '[' without ']'"))?;
                let index = rest[1..close].parse().map_err(|_| bad("an index that is not a number"))?;
                steps.push(Step::Index(index));
                rest = &rest[close + 1..];
                if !rest.is_empty() && !rest.starts_with('[') {
                    return Err(bad("text after ']'"));
                }
            }
        }
        Ok(FieldPath { text: text.to_string(), steps })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path, if the document has it.
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(doc, |value, step| match step {
            Step::Key(key) => value.get(key),
            Step::Index(index) => value.get(index),
        })
    }
}

/// Every path to a value in `doc`, in `--by`'s spelling (arrays by their first element only:
/// a document's hosts and phases share their fields).
pub fn paths(doc: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let next = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                    walk(child, next, out);
                }
            }
            Value::Array(items) => match items.first() {
                Some(first) => walk(first, format!("{at}[0]"), out),
                None => out.push(at),
            },
            _ => out.push(at),
        }
    }
    let mut out = Vec::new();
    walk(doc, String::new(), &mut out);
    out
}

/// The path of `doc` nearest to `wanted` by edit distance.
pub fn closest(wanted: &str, doc: &Value) -> Option<String> {
    paths(doc).into_iter().min_by_key(|p| strsim::levenshtein(wanted, p))
}

/// A value as a group name shows it: strings bare, `(missing)` for no value.
pub fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "(missing)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_walk_objects_and_arrays() {
        let doc = serde_json::json!({"environment": {"hosts": [{"virtualization": {"role": "kvm"}}]}, "ranks": {"count": 2}});
        let role = FieldPath::parse("environment.hosts[0].virtualization.role").unwrap();
        assert_eq!(display(role.get(&doc)), "kvm");
        assert_eq!(display(FieldPath::parse("ranks.count").unwrap().get(&doc)), "2");
        assert_eq!(display(FieldPath::parse("environment.hosts[1].x").unwrap().get(&doc)), "(missing)");
        assert_eq!(role.as_str(), "environment.hosts[0].virtualization.role");
    }

    #[test]
    fn the_closest_path_of_a_document() {
        let doc = serde_json::json!({"environment": {"hosts": [{"virtualization": {"role": "kvm"}}, {}]},
                                     "parameters": {"block_size_bytes": 1}, "list": []});
        assert_eq!(
            paths(&doc),
            ["environment.hosts[0].virtualization.role", "list", "parameters.block_size_bytes"]
        );
        assert_eq!(closest("parameters.blocksize", &doc).as_deref(), Some("parameters.block_size_bytes"));
        assert_eq!(
            closest("environment.host[0].virtualisation.role", &doc).as_deref(),
            Some("environment.hosts[0].virtualization.role")
        );
    }

    #[test]
    fn bad_paths_are_usage_errors() {
        for bad in ["", "a..b", "a[", "a[x]", "a[0]b", ".a"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FieldPath::parse("a[0][1].b").is_ok());
    }
}
