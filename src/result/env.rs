//! Parameters and results of `pvbench env`: the document's `environment` block is the answer.

use serde::{Deserialize, Serialize};

/// `pvbench env` takes no parameters beyond the common ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvParameters {}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvResults {
    /// Wall time of gathering the environment of every host, ROMIO probe included.
    pub detection_s: f64,
}
