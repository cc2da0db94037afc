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
    fn bad_paths_are_usage_errors() {
        for bad in ["", "a..b", "a[", "a[x]", "a[0]b", ".a"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FieldPath::parse("a[0][1].b").is_ok());
    }
}
