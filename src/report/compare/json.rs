//! The comparison model as one JSON document.

use super::Exporter;
use crate::result::comparison::Comparison;

pub struct Json;

impl Exporter for Json {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn summary(&self, c: &Comparison) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(c)? + "\n")
    }

    fn runs(&self, _: &Comparison) -> anyhow::Result<Option<String>> {
        Ok(None) // every row already carries its values
    }
}
