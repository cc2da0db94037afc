//! Reference documents shipped inside pvbench, so that `--reference study-2008` works wherever
//! the binary goes: the 2008 study's tables, transcribed once into result documents
//! (`reference/study-2008/`, each field traced to its table in the README there).

use crate::error::UsageError;

/// The study's documents: file name and content.
const STUDY_2008: &[(&str, &str)] = &[
    ("net-after-tuning.json", include_str!("../../reference/study-2008/net-after-tuning.json")),
    ("net-before-tuning.json", include_str!("../../reference/study-2008/net-before-tuning.json")),
    ("partdiff-1-copy.json", include_str!("../../reference/study-2008/partdiff-1-copy.json")),
    ("partdiff-2-copies.json", include_str!("../../reference/study-2008/partdiff-2-copies.json")),
    ("partdiff-4-copies.json", include_str!("../../reference/study-2008/partdiff-4-copies.json")),
    ("pvfs2-dom0-bridge-1.json", include_str!("../../reference/study-2008/pvfs2-dom0-bridge-1.json")),
    ("pvfs2-dom0-bridge-2.json", include_str!("../../reference/study-2008/pvfs2-dom0-bridge-2.json")),
    ("pvfs2-dom0-bridge-3.json", include_str!("../../reference/study-2008/pvfs2-dom0-bridge-3.json")),
    ("pvfs2-dom0-bridge-4.json", include_str!("../../reference/study-2008/pvfs2-dom0-bridge-4.json")),
    ("pvfs2-dom0-bridge-5.json", include_str!("../../reference/study-2008/pvfs2-dom0-bridge-5.json")),
    ("pvfs2-dom0-nobridge-1.json", include_str!("../../reference/study-2008/pvfs2-dom0-nobridge-1.json")),
    ("pvfs2-dom0-nobridge-2.json", include_str!("../../reference/study-2008/pvfs2-dom0-nobridge-2.json")),
    ("pvfs2-dom0-nobridge-3.json", include_str!("../../reference/study-2008/pvfs2-dom0-nobridge-3.json")),
    ("pvfs2-dom0-nobridge-4.json", include_str!("../../reference/study-2008/pvfs2-dom0-nobridge-4.json")),
    ("pvfs2-dom0-nobridge-5.json", include_str!("../../reference/study-2008/pvfs2-dom0-nobridge-5.json")),
    ("pvfs2-domU-approx.json", include_str!("../../reference/study-2008/pvfs2-domU-approx.json")),
];

/// The documents of the reference called `name`.
pub fn documents(name: &str) -> Result<&'static [(&'static str, &'static str)], UsageError> {
    match name {
        "study-2008" => Ok(STUDY_2008),
        _ => Err(UsageError(format!("--reference {name:?}: no such reference (known: study-2008)"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::result::Document;
    use crate::result::imported::{MpiIoTestParameters, NetperfParameters, StatedEnvironment};
    use crate::result::mpiio::MpiioResults;
    use crate::result::net::NetResults;
    use crate::result::partdiff::{PartdiffParameters, PartdiffResults};

    fn typed<P: serde::de::DeserializeOwned, R: serde::de::DeserializeOwned>(name: &str, text: &str) {
        if let Err(e) = serde_json::from_str::<Document<P, R, StatedEnvironment>>(text) {
            panic!("{name} is not a {} document: {e}", std::any::type_name::<R>());
        }
    }

    #[test]
    fn every_reference_document_is_the_result_model() {
        for (name, text) in STUDY_2008 {
            let doc: Value = serde_json::from_str(text).unwrap();
            assert_eq!(doc["schema_version"], crate::result::SCHEMA_VERSION, "{name}");
            assert_eq!(doc["imported_from"]["format"], "study-2008", "{name}");
            assert!(doc["imported_from"]["part"].is_string(), "{name}: no table named");
            match doc["kind"].as_str() {
                Some("net") => typed::<NetperfParameters, NetResults>(name, text),
                Some("mpiio") => typed::<MpiIoTestParameters, MpiioResults>(name, text),
                Some("partdiff") => typed::<PartdiffParameters, PartdiffResults>(name, text),
                other => panic!("{name}: kind {other:?}"),
            }
        }
        assert!(documents("study-2008").is_ok());
        assert!(documents("nothing").is_err());
    }

    #[test]
    fn every_file_of_the_directory_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/study-2008");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".json"))
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = STUDY_2008.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, built_in);
    }

    /// Table 3.2 as printed (rows: receiver, columns: sender, order node6 vm2 node7 vm3 vm4):
    /// Table A.2 in whole MB/s, except the one cell the README names.
    #[test]
    fn table_3_2_is_table_a_2_rounded_but_for_one_cell() {
        const HOSTS: [&str; 5] = ["node6", "vm2", "node7", "vm3", "vm4"];
        const TABLE_3_2: [[u32; 5]; 5] = [
            [323, 161, 78, 112, 112],
            [35, 337, 35, 29, 29],
            [112, 89, 322, 28, 293],
            [37, 30, 32, 338, 3],
            [38, 30, 32, 2, 294],
        ];
        let (_, text) = STUDY_2008.iter().find(|(n, _)| *n == "net-after-tuning.json").unwrap();
        let doc: Value = serde_json::from_str(text).unwrap();
        let mut disagreeing = Vec::new();
        for pair in doc["results"]["pairs"].as_array().unwrap() {
            let index = |key: &str| HOSTS.iter().position(|h| pair[key] == *h).unwrap();
            let printed = f64::from(TABLE_3_2[index("receiver_host")][index("sender_host")]);
            let exact = pair["median_mib_per_s"].as_f64().unwrap();
            if printed != exact.round() && printed != exact.floor() {
                disagreeing
                    .push(format!("{}→{}", pair["sender_host"], pair["receiver_host"]).replace('"', ""));
            }
        }
        assert_eq!(doc["results"]["pairs"].as_array().unwrap().len(), 25);
        assert_eq!(disagreeing, ["vm2→vm4"]);
    }
}
