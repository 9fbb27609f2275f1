//! A batch's quarantined rows read back, for the department that sent
//! them to fix and resend: the row number, the rule broken, and the row
//! as it was sent.

use std::fs::File;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Lake, LakeError, io};

/// One row a batch refused.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuarantinedRow {
    /// The row's number in the file sent (the header is row 0).
    pub row: i64,
    /// `ingest::Reason` as text.
    pub reason: String,
    /// The field that broke a rule, when one did.
    pub field: Option<String>,
    pub message: String,
    /// The row as sent, in the item's field order.
    pub original: Vec<String>,
}

impl Lake {
    /// Hands every quarantined row of a batch to `each`, in the order of
    /// the file sent, until it returns false. A batch that refused nothing
    /// has no file: nothing is handed. Reads a part of the file at a time.
    pub fn for_each_quarantined(
        &self,
        item: &str,
        batch: i64,
        each: &mut dyn FnMut(QuarantinedRow) -> bool,
    ) -> Result<(), LakeError> {
        let path = self
            .root()
            .join("_quarantine")
            .join(format!("item={item}"))
            .join(format!("batch-{batch}.parquet"));
        if !path.exists() {
            return Ok(());
        }
        let damaged = |message: String| LakeError::Parquet {
            path: path.clone(),
            message,
        };
        let file = File::open(&path).map_err(io(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(1024).build())
            .map_err(|e| damaged(e.to_string()))?;
        for part in reader {
            let part = part.map_err(|e| damaged(e.to_string()))?;
            let column = |name: &str| {
                part.column_by_name(name)
                    .ok_or_else(|| damaged(format!("no column '{name}'")))
            };
            let rows = column("_row")?
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| damaged("_row is not a number".into()))?;
            let text = |name: &str| {
                column(name)?
                    .as_string_opt::<i32>()
                    .cloned()
                    .ok_or_else(|| damaged(format!("{name} is not text")))
            };
            let (reasons, fields, messages, originals) = (
                text("reason")?,
                text("field")?,
                text("message")?,
                text("original")?,
            );
            for at in 0..part.num_rows() {
                let original: Vec<String> = serde_json::from_str(originals.value(at))
                    .map_err(|e| damaged(format!("row {}: original: {e}", rows.value(at))))?;
                let row = QuarantinedRow {
                    row: rows.value(at),
                    reason: reasons.value(at).to_string(),
                    field: (!fields.is_null(at)).then(|| fields.value(at).to_string()),
                    message: messages.value(at).to_string(),
                    original,
                };
                if !each(row) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
