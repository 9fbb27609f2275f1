//! The batch pipeline: read a department's file, cleanse and validate every
//! row against the catalog, resolve subjects against the registry, detect
//! duplicates, and account for every row.
//!
//! - [`read`]: CSV (UTF-8, GBK), JSON lines and XLSX, streamed row by row;
//! - [`cleanse`]: the repairs, each reported by kind;
//! - [`pipeline`]: a row's way to [`pipeline::Outcome`], accepted or
//!   quarantined with a [`pipeline::Reason`], and the batch's [`pipeline::Tally`].
//!
//! - [`batch`]: a whole file into the operational store in one transaction,
//!   idempotent on the file's content.
//!
//! The pipeline itself takes no storage: outcomes go to a callback, and
//! [`batch`] is the one place that writes them.

pub mod batch;
pub mod cleanse;
pub mod pipeline;
pub mod quality;
pub mod read;

use std::path::Path;

use domain::catalog::Item;
use lake::KeySet;

pub use pipeline::{Accepted, Outcome, Pipeline, Quarantined, Reason, Registry, Tally};
pub use read::{Encoding, FileDigest, FileFormat, RawRow, ReadError};

/// Runs every row of one file through the pipeline, handing each outcome to
/// `on_outcome`; returns the tally. `keys` are the item's stored keys; the
/// batch's keys are added to them. A read error stops the batch: the caller
/// must then discard what it received (batches are atomic). Returns the
/// tally and the digest of the bytes the rows were read from.
pub fn run_file<E: From<ReadError>>(
    path: &Path,
    format: FileFormat,
    encoding: Option<Encoding>,
    item: &Item,
    registry: &dyn Registry,
    keys: &mut KeySet,
    on_outcome: &mut dyn FnMut(Outcome) -> Result<(), E>,
) -> Result<(Tally, FileDigest), E> {
    let mut pipeline = Pipeline::new(item, registry, keys);
    let digest = read::read_rows(path, format, encoding, item, &mut |row| {
        on_outcome(pipeline.process(row))
    })?;
    Ok((pipeline.tally, digest))
}
