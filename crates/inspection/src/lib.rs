//! Double random, one public (双随机、一公开): inspection plans whose objects
//! and inspectors are drawn at random, verifiably, and whose results are
//! published.
//!
//! The crate is pure: it takes rosters, a plan and a seed and returns plain
//! data. The store keeps plans and tasks, the CLI and the server orchestrate.
//!
//! - [`roster`]: the object and inspector rosters and their canonical CSV form;
//! - [`plan`]: what a plan says (items, scope, sampling rule, exclusions, window);
//! - [`draw`]: selection of objects, then inspectors with recusal, from a seed;
//! - [`bundle`]: the published material (snapshots, commitment, seed, result)
//!   and [`bundle::verify`], which anyone can run on it;
//! - [`joint`]: several departments' tasks on one entity merged into one visit;
//! - [`calendar`]: working days, for the 20-working-day publication rule;
//! - [`simulate`]: random against risk-weighted sampling, judged by a truth.

pub mod bundle;
pub mod calendar;
pub mod draw;
pub mod items;
pub mod joint;
pub mod plan;
pub mod roster;
pub mod simulate;

pub use bundle::{Bundle, Commitment, VerifyReport};
pub use draw::{Draw, Seed};
pub use plan::Plan;
pub use roster::Rosters;

/// What can go wrong reading or checking inspection material.
#[derive(Debug, thiserror::Error)]
pub enum InspectionError {
    /// A file row that breaks a rule; names the file, row, field and rule.
    #[error("{file}: row {row}, field '{field}': {rule}")]
    Row {
        file: String,
        row: u64,
        field: String,
        rule: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("plan {plan}: {message}")]
    Plan { plan: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl InspectionError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> InspectionError {
        InspectionError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Lowercase hex SHA-256 of some bytes: every hash the crate publishes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
