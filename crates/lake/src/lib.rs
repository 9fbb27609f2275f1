//! The record lake: every accepted record, append-only, as Parquet under
//! `<data-dir>/lake/<item>/<partition>/`, every quarantined row under
//! `<data-dir>/lake/_quarantine/item=<item>/`, and the natural keys of the
//! records under `<data-dir>/lake/_keys/item=<item>/` ([`keys`]). The only
//! crate that writes it.
//!
//! - Hive-style partitions (`year=2024/month=03`) from the item's partition
//!   field, so Spark, Trino, DuckDB and DataFusion read the files unchanged;
//! - typed columns from the catalog (dates as `Date32`, decimals as
//!   `Decimal128(38, 6)`, integers as `Int64`), plus lineage: the subject as
//!   sent, source department, batch id, source row, ingest time;
//! - rows sorted by subject within each file, so one entity's records are
//!   found by row-group statistics; zstd compression.
//!
//! A batch writes into `_staging/batch-<id>/` and is published — its files
//! renamed into place — only after the operational store has committed it.
//! [`Lake::recover`] finishes or discards what a crash left in staging, so
//! the lake never shows a batch the store does not have.
//!
//! One process writes a lake at a time: it holds [`WriteLock`], an advisory
//! lock on `lake/.lock` that the kernel releases when the process ends, and
//! recovers staging only while holding it — a second ingest never clears the
//! files a running one is writing.
//!
//! Memory is bounded whatever the rows: accepted rows are written out every
//! [`ROWS_PER_FILE`] rows or [`BYTES_PER_FLUSH`] bytes, quarantined rows
//! every [`QUARANTINE_ROWS_PER_WRITE`] rows or [`BYTES_PER_FLUSH`] bytes.

pub mod keys;
pub mod quarantine;
pub mod sql;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
};
use arrow_array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use arrow_select::take::take;
use domain::Uscc;
use domain::catalog::{FieldType, Item, PartitionBy};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

pub use keys::{KeySet, RecordKey, Seen};

/// Rows sorted and written together; a batch larger than this becomes
/// several sorted files per partition, so memory stays bounded.
pub const ROWS_PER_FILE: usize = 262_144;
/// Bytes of values held before they are written, accepted and quarantined
/// alike: rows of a megabyte each would otherwise fill memory long before
/// [`ROWS_PER_FILE`], and a string column must stay under Arrow's 2 GiB.
pub const BYTES_PER_FLUSH: usize = 128 << 20;
/// Quarantined rows written to their file at a time.
pub const QUARANTINE_ROWS_PER_WRITE: usize = 8_192;
const DECIMAL_SCALE: i8 = 6;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("lake {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("lake {path}: {message}")]
    Parquet { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LakeError + '_ {
    move |source| LakeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The lake of a data directory.
#[derive(Debug, Clone)]
pub struct Lake {
    root: PathBuf,
}

/// What a batch staged: each file and where it goes on publication.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct StagedFiles {
    pub moves: Vec<(PathBuf, PathBuf)>,
}

impl Lake {
    pub fn new(data_dir: &Path) -> Lake {
        Lake {
            root: data_dir.join("lake"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn staging(&self, batch: &StagedBatch) -> PathBuf {
        let name = match batch {
            StagedBatch::Batch(id) => format!("batch-{id}"),
            StagedBatch::Content(sha256) => sha256.clone(),
        };
        self.root.join("_staging").join(name)
    }

    /// Takes the lake's write lock: waits for it when `wait`, else returns
    /// `None` if another process holds it. The holder's process id and start
    /// time are written into the lock file for [`Lake::lock_holder`].
    pub fn lock_writes(&self, wait: bool) -> Result<Option<WriteLock>, LakeError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let path = self.root.join(".lock");
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        if wait {
            file.lock().map_err(io(&path))?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(None),
                Err(fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
            }
        }
        let holder = format!(
            "process {} since {}",
            std::process::id(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        use std::io::Write;
        file.set_len(0)
            .and_then(|()| file.write_all(holder.as_bytes()))
            .map_err(io(&path))?;
        Ok(Some(WriteLock { _file: file }))
    }

    /// Who holds the write lock, as its holder wrote it (it may have ended).
    pub fn lock_holder(&self) -> Option<String> {
        fs::read_to_string(self.root.join(".lock"))
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// The batches left in staging by a run that ended before publishing.
    pub fn staged(&self, _lock: &WriteLock) -> Result<Vec<StagedBatch>, LakeError> {
        let dir = self.root.join("_staging");
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name().to_string_lossy().to_string();
            out.push(match name.strip_prefix("batch-").map(str::parse) {
                Some(Ok(id)) => StagedBatch::Batch(id),
                _ => StagedBatch::Content(name),
            });
        }
        out.sort();
        Ok(out)
    }

    /// Publishes a staged batch that the store committed, or discards one it
    /// did not.
    pub fn recover(
        &self,
        _lock: &WriteLock,
        batch: &StagedBatch,
        committed: bool,
    ) -> Result<(), LakeError> {
        let staging = self.staging(batch);
        let plan = staging.join("files.json");
        if committed && plan.exists() {
            let text = fs::read_to_string(&plan).map_err(io(&plan))?;
            let staged: StagedFiles =
                serde_json::from_str(&text).map_err(|e| LakeError::Parquet {
                    path: plan.clone(),
                    message: e.to_string(),
                })?;
            return self.publish(batch, &staged);
        }
        self.discard(batch)
    }

    /// Moves a batch's files into place and removes its staging directory.
    pub fn publish(&self, batch: &StagedBatch, staged: &StagedFiles) -> Result<(), LakeError> {
        for (from, to) in &staged.moves {
            if !from.exists() {
                // Moved already by an earlier, interrupted publication.
                continue;
            }
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::rename(from, to).map_err(io(from))?;
        }
        self.discard(batch)
    }

    pub fn discard(&self, batch: &StagedBatch) -> Result<(), LakeError> {
        let staging = self.staging(batch);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        Ok(())
    }
}

/// The write lock of a lake, held until dropped ([`Lake::lock_writes`]).
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

/// A batch's directory in staging: by the batch id the store gave it, or
/// (left by earlier versions) by its content's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StagedBatch {
    Batch(i64),
    Content(String),
}

/// Lineage of the rows of one batch.
#[derive(Debug, Clone)]
pub struct Lineage {
    pub department: String,
    pub batch_id: i64,
    pub ingested_at_ms: i64,
}

impl Lineage {
    /// The lineage columns for rows with these source row numbers.
    fn columns(&self, source_rows: impl Iterator<Item = u64>) -> [ArrayRef; 4] {
        let rows: Vec<i64> = source_rows.map(|r| r as i64).collect();
        let n = rows.len();
        [
            Arc::new(StringArray::from(vec![self.department.as_str(); n])),
            Arc::new(Int64Array::from(vec![self.batch_id; n])),
            Arc::new(Int64Array::from(rows)),
            Arc::new(
                TimestampMillisecondArray::from(vec![self.ingested_at_ms; n]).with_timezone("UTC"),
            ),
        ]
    }
}

/// Where a row goes in its file: [`Uscc::sort_key`], then the source row.
type RowOrder = ((u128, u16), u64);

/// One column being filled, typed as the item's field.
enum ColumnBuilder {
    Integer(Int64Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
    Boolean(BooleanBuilder),
    Text(StringBuilder),
}

impl ColumnBuilder {
    fn new(field_type: FieldType) -> ColumnBuilder {
        match field_type {
            FieldType::Integer => ColumnBuilder::Integer(Int64Builder::new()),
            FieldType::Decimal => ColumnBuilder::Decimal(Decimal128Builder::new()),
            FieldType::Date => ColumnBuilder::Date(Date32Builder::new()),
            FieldType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::new()),
            _ => ColumnBuilder::Text(StringBuilder::new()),
        }
    }

    /// Appends a validated value; empty is NULL.
    fn append(&mut self, value: &str) {
        let cell = Some(value).filter(|v| !v.is_empty());
        match self {
            ColumnBuilder::Integer(b) => b.append_option(cell.and_then(|v| v.parse().ok())),
            ColumnBuilder::Decimal(b) => {
                b.append_option(cell.and_then(|v| scaled_decimal(v, DECIMAL_SCALE as u32)))
            }
            ColumnBuilder::Date(b) => b.append_option(cell.and_then(days_since_epoch)),
            ColumnBuilder::Boolean(b) => b.append_option(cell.map(|v| v == "true")),
            ColumnBuilder::Text(b) => b.append_option(cell),
        }
    }

    fn finish(&mut self) -> Result<ArrayRef, arrow_schema::ArrowError> {
        Ok(match self {
            ColumnBuilder::Integer(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b) => {
                Arc::new(b.finish().with_precision_and_scale(38, DECIMAL_SCALE)?)
            }
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
        })
    }
}

/// The accepted rows of one partition not yet written, column by column:
/// appended in arrival order and sorted only when written, so that building
/// the arrays reads memory in order.
struct PartitionBuffer {
    columns: Vec<ColumnBuilder>,
    /// The subject as sent where it differs from the resolved code.
    subject_sent: StringBuilder,
    /// Per row: the subject's sort key (`None` first: rows of items whose
    /// subject is optional) and the source row.
    order: Vec<RowOrder>,
}

impl PartitionBuffer {
    fn new(item: &Item) -> PartitionBuffer {
        PartitionBuffer {
            columns: item
                .fields
                .iter()
                .map(|f| ColumnBuilder::new(f.field_type))
                .collect(),
            subject_sent: StringBuilder::new(),
            order: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }
}

struct QuarantineRow {
    source_row: u64,
    reason: String,
    field: String,
    message: String,
    original: String,
}

/// The files of one batch of one item, being written into staging.
pub struct BatchWriter {
    lake: Lake,
    item: Item,
    batch: StagedBatch,
    lineage: Lineage,
    partition_at: Option<usize>,
    partitions: BTreeMap<String, PartitionBuffer>,
    /// Quarantined rows not yet written, and their bytes.
    quarantine: Vec<QuarantineRow>,
    quarantine_bytes: usize,
    /// The batch's quarantine file, open once a row is quarantined.
    quarantine_file: Option<(PathBuf, ArrowWriter<File>)>,
    staged: StagedFiles,
    files_written: usize,
    /// Rows held in `partitions`, and the bytes of their values.
    buffered: usize,
    buffered_bytes: usize,
    /// The partition of the record being accepted, reused from record to
    /// record.
    partition: String,
    /// `None` once joined.
    encoder: Option<Encoder>,
}

/// The Arrow schema of an item's records, lineage columns last.
pub fn item_schema(item: &Item) -> SchemaRef {
    let mut fields: Vec<ArrowField> = item
        .fields
        .iter()
        .map(|f| {
            let data_type = match f.field_type {
                FieldType::Integer => DataType::Int64,
                FieldType::Decimal => DataType::Decimal128(38, DECIMAL_SCALE),
                FieldType::Date => DataType::Date32,
                FieldType::Boolean => DataType::Boolean,
                _ => DataType::Utf8,
            };
            ArrowField::new(&f.name, data_type, true)
        })
        .collect();
    fields.push(ArrowField::new("_subject_sent", DataType::Utf8, true));
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

/// Where a row came from: the columns every lake dataset ends or starts with.
fn lineage_fields() -> [ArrowField; 4] {
    [
        ArrowField::new("_department", DataType::Utf8, false),
        ArrowField::new("_batch", DataType::Int64, false),
        ArrowField::new("_row", DataType::Int64, false),
        ArrowField::new(
            "_ingested_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ]
}

/// The schema of the quarantine dataset.
pub fn quarantine_schema() -> SchemaRef {
    let mut fields = lineage_fields().to_vec();
    fields.extend([
        ArrowField::new("reason", DataType::Utf8, false),
        ArrowField::new("field", DataType::Utf8, true),
        ArrowField::new("message", DataType::Utf8, false),
        ArrowField::new("original", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// A plain decimal as an integer of `scale` decimal places, exactly.
fn scaled_decimal(text: &str, scale: u32) -> Option<i128> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if fraction.len() > scale as usize || whole.is_empty() {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let fraction_value: i128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let value = whole.checked_mul(10i128.pow(scale))?
        + fraction_value * 10i128.pow(scale - fraction.len() as u32);
    Some(if negative { -value } else { value })
}

fn days_since_epoch(text: &str) -> Option<i32> {
    let date = domain::catalog::iso_date(text)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

/// `year=2024/month=03` for a date or month value.
#[cfg(test)]
fn partition_path(by: PartitionBy, value: &str) -> String {
    let mut path = String::new();
    write_partition_path(by, value, &mut path);
    path
}

/// Writes the partition of a record whose partition field is `value` into
/// `path` (reused from record to record).
fn write_partition_path(by: PartitionBy, value: &str, path: &mut String) {
    const UNKNOWN: &str = "__HIVE_DEFAULT_PARTITION__";
    let year = value
        .get(..4)
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()));
    let month = value
        .get(5..7)
        .filter(|m| m.bytes().all(|b| b.is_ascii_digit()));
    path.clear();
    match (by, year, month) {
        (PartitionBy::None, _, _) => {}
        (PartitionBy::Year, Some(y), _) => path.extend(["year=", y]),
        (PartitionBy::Month, Some(y), Some(m)) => path.extend(["year=", y, "/month=", m]),
        (PartitionBy::Year, None, _) => path.extend(["year=", UNKNOWN]),
        (PartitionBy::Month, _, _) => path.extend(["year=", UNKNOWN, "/month=", UNKNOWN]),
    }
}

fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
        .set_max_row_group_row_count(Some(65_536))
        .build()
}

impl BatchWriter {
    /// Starts writing batch `lineage.batch_id` into staging, under the
    /// lake's write lock.
    pub fn begin(
        lake: &Lake,
        _lock: &WriteLock,
        item: &Item,
        lineage: Lineage,
    ) -> Result<BatchWriter, LakeError> {
        let batch = StagedBatch::Batch(lineage.batch_id);
        let staging = lake.staging(&batch);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        fs::create_dir_all(&staging).map_err(io(&staging))?;
        let partition_at = item
            .partition
            .field
            .as_deref()
            .and_then(|name| item.fields.iter().position(|f| f.name == name));
        let encoder = Encoder::start(item_schema(item), lineage.clone())?;
        Ok(BatchWriter {
            lake: lake.clone(),
            item: item.clone(),
            batch,
            lineage,
            partition_at,
            partitions: BTreeMap::new(),
            partition: String::new(),
            quarantine: Vec::new(),
            quarantine_bytes: 0,
            quarantine_file: None,
            staged: StagedFiles::default(),
            files_written: 0,
            buffered: 0,
            buffered_bytes: 0,
            encoder: Some(encoder),
        })
    }

    /// Adds an accepted record (values in the item's field order, the
    /// subject already resolved to its USCC) and its key.
    pub fn accept(
        &mut self,
        subject: Option<Uscc>,
        subject_sent: Option<String>,
        source_row: u64,
        values: &[String],
    ) -> Result<(), LakeError> {
        let partition_value = self.partition_at.map_or("", |i| values[i].as_str());
        write_partition_path(self.item.partition.by, partition_value, &mut self.partition);
        if !self.partitions.contains_key(self.partition.as_str()) {
            let buffer = PartitionBuffer::new(&self.item);
            self.partitions.insert(self.partition.clone(), buffer);
        }
        let Some(buffer) = self.partitions.get_mut(self.partition.as_str()) else {
            return Ok(());
        };
        for (column, value) in buffer.columns.iter_mut().zip(values) {
            column.append(value);
            self.buffered_bytes += value.len();
        }
        buffer.subject_sent.append_option(subject_sent);
        let sort_key = subject.map_or((0, 0), |code| code.sort_key());
        buffer.order.push((sort_key, source_row));
        self.buffered += 1;
        if buffer.len() >= ROWS_PER_FILE
            && let Some(buffer) = self.partitions.remove(self.partition.as_str())
        {
            self.buffered -= buffer.len();
            let partition = self.partition.clone();
            self.write_run(&partition, buffer)?;
        }
        // Many partitions each holding less than a file would add up to the
        // whole batch: bound what all of them hold together, in rows and in
        // bytes.
        if self.buffered >= 2 * ROWS_PER_FILE || self.buffered_bytes >= BYTES_PER_FLUSH {
            let partitions = std::mem::take(&mut self.partitions);
            for (partition, buffer) in partitions {
                self.write_run(&partition, buffer)?;
            }
            self.buffered = 0;
            self.buffered_bytes = 0;
        }
        Ok(())
    }

    /// Adds a quarantined row with its reason and the original text. Rows
    /// go to the batch's quarantine file in groups, not kept to the end: a
    /// file of duplicates is as long as the file.
    pub fn quarantine(
        &mut self,
        source_row: u64,
        reason: &str,
        field: Option<&str>,
        message: &str,
        original: &[String],
    ) -> Result<(), LakeError> {
        let row = QuarantineRow {
            source_row,
            reason: reason.to_string(),
            field: field.unwrap_or_default().to_string(),
            message: message.to_string(),
            original: serde_json::to_string(original).unwrap_or_default(),
        };
        self.quarantine_bytes += row.message.len() + row.original.len();
        self.quarantine.push(row);
        if self.quarantine.len() >= QUARANTINE_ROWS_PER_WRITE
            || self.quarantine_bytes >= BYTES_PER_FLUSH
        {
            self.write_quarantine()?;
        }
        Ok(())
    }

    /// Writes the quarantined rows held to the batch's quarantine file.
    fn write_quarantine(&mut self) -> Result<(), LakeError> {
        let rows = std::mem::take(&mut self.quarantine);
        self.quarantine_bytes = 0;
        if rows.is_empty() {
            return Ok(());
        }
        if self.quarantine_file.is_none() {
            let staged = self.staged_path();
            let file = File::create(&staged).map_err(io(&staged))?;
            let writer = ArrowWriter::try_new(file, quarantine_schema(), Some(writer_properties()))
                .map_err(|e| LakeError::Parquet {
                    path: staged.clone(),
                    message: e.to_string(),
                })?;
            self.quarantine_file = Some((staged, writer));
        }
        let Some((staged, writer)) = self.quarantine_file.as_mut() else {
            return Ok(());
        };
        let mut columns: Vec<ArrayRef> = self
            .lineage
            .columns(rows.iter().map(|r| r.source_row))
            .to_vec();
        columns.extend::<[ArrayRef; 4]>([
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.reason.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                rows.iter()
                    .map(|r| Some(r.field.as_str()).filter(|f| !f.is_empty())),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.message.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.original.as_str()),
            )),
        ]);
        let error = |message: String| LakeError::Parquet {
            path: staged.clone(),
            message,
        };
        let batch =
            RecordBatch::try_new(quarantine_schema(), columns).map_err(|e| error(e.to_string()))?;
        writer.write(&batch).map_err(|e| error(e.to_string()))
    }

    fn staged_path(&mut self) -> PathBuf {
        self.files_written += 1;
        self.lake
            .staging(&self.batch)
            .join(format!("{}.parquet", self.files_written))
    }

    /// Hands a partition's rows to the encoder thread as the next file.
    fn write_run(&mut self, partition: &str, buffer: PartitionBuffer) -> Result<(), LakeError> {
        if buffer.len() == 0 {
            return Ok(());
        }
        let target = self
            .lake
            .root
            .join(&self.item.id)
            .join(partition)
            .join(format!(
                "batch-{}-{}.parquet",
                self.lineage.batch_id,
                self.files_written + 1
            ));
        let staged = self.staged_path();
        self.staged.moves.push((staged.clone(), target));
        let run = Run { buffer, staged };
        let sent = self
            .encoder
            .as_ref()
            .is_some_and(|encoder| encoder.sender.send(run).is_ok());
        if sent {
            return Ok(());
        }
        // The encoder stopped: it failed, and says why.
        self.join_encoder()?;
        Err(LakeError::Parquet {
            path: self.lake.staging(&self.batch),
            message: "the parquet encoder stopped".to_string(),
        })
    }

    /// Waits for the encoder to write every file handed to it.
    fn join_encoder(&mut self) -> Result<(), LakeError> {
        let Some(encoder) = self.encoder.take() else {
            return Ok(());
        };
        drop(encoder.sender);
        encoder.handle.join().map_err(|_| LakeError::Parquet {
            path: self.lake.staging(&self.batch),
            message: "the parquet encoder panicked".to_string(),
        })?
    }

    /// Writes what is buffered, the key file of the batch's records (those
    /// `keys` took in during the batch) and the plan of moves; returns the
    /// plan. The files stay in staging until [`Lake::publish`].
    pub fn finish(mut self, keys: &KeySet) -> Result<StagedFiles, LakeError> {
        let partitions = std::mem::take(&mut self.partitions);
        for (partition, buffer) in partitions {
            self.write_run(&partition, buffer)?;
        }
        self.join_encoder()?;
        self.write_quarantine()?;
        if let Some((staged, writer)) = self.quarantine_file.take() {
            let file = writer.into_inner().map_err(|e| LakeError::Parquet {
                path: staged.clone(),
                message: e.to_string(),
            })?;
            // The file must be on disk before the store commits the batch.
            file.sync_all().map_err(io(&staged))?;
            let target = self
                .lake
                .root
                .join("_quarantine")
                .join(format!("item={}", self.item.id))
                .join(format!("batch-{}.parquet", self.lineage.batch_id));
            self.staged.moves.push((staged, target));
        }
        if keys.batch_keys().next().is_some() {
            let staged = self.lake.staging(&self.batch).join("batch.keys");
            keys::write_key_file(&staged, keys.batch_keys())?;
            let target = self.lake.key_file(&self.item.id, self.lineage.batch_id);
            self.staged.moves.push((staged, target));
        }
        let plan = self.lake.staging(&self.batch).join("files.json");
        let text = serde_json::to_string(&self.staged).map_err(|e| LakeError::Parquet {
            path: plan.clone(),
            message: e.to_string(),
        })?;
        fs::write(&plan, text).map_err(io(&plan))?;
        Ok(std::mem::take(&mut self.staged))
    }
}

impl Drop for BatchWriter {
    /// An abandoned batch still waits for its encoder, so that no file is
    /// written into staging after the caller discarded it.
    fn drop(&mut self) {
        let _ = self.join_encoder();
    }
}

/// A partition's rows on their way to one Parquet file.
struct Run {
    buffer: PartitionBuffer,
    staged: PathBuf,
}

/// The thread that sorts and encodes runs, so that compression works on
/// the other core while rows are checked and buffered.
struct Encoder {
    sender: std::sync::mpsc::SyncSender<Run>,
    handle: std::thread::JoinHandle<Result<(), LakeError>>,
}

impl Encoder {
    fn start(schema: SchemaRef, lineage: Lineage) -> Result<Encoder, LakeError> {
        // One run waiting besides the one being encoded bounds memory.
        let (sender, runs) = std::sync::mpsc::sync_channel::<Run>(1);
        let handle = std::thread::Builder::new()
            .name("lake-encoder".to_string())
            .spawn(move || {
                for run in runs {
                    encode_run(&schema, &lineage, run)?;
                }
                Ok(())
            })
            .map_err(|e| LakeError::Parquet {
                path: PathBuf::new(),
                message: format!("cannot start the parquet encoder: {e}"),
            })?;
        Ok(Encoder { sender, handle })
    }
}

/// Sorts a run by subject, then source row, and writes it as one file.
fn encode_run(schema: &SchemaRef, lineage: &Lineage, run: Run) -> Result<(), LakeError> {
    let Run { mut buffer, staged } = run;
    let error = |e: arrow_schema::ArrowError| LakeError::Parquet {
        path: staged.clone(),
        message: e.to_string(),
    };
    // Integer keys compare fast; the arrays are built in arrival order and
    // then taken in sorted order.
    let mut order: Vec<(RowOrder, u32)> = buffer.order.iter().copied().zip(0u32..).collect();
    order.sort_unstable();
    let indices = UInt32Array::from_iter_values(order.iter().map(|&(_, i)| i));
    let mut unsorted: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for column in &mut buffer.columns {
        unsorted.push(column.finish().map_err(error)?);
    }
    unsorted.push(Arc::new(buffer.subject_sent.finish()));
    let mut columns: Vec<ArrayRef> = unsorted
        .iter()
        .map(|column| take(column.as_ref(), &indices, None))
        .collect::<Result<_, _>>()
        .map_err(error)?;
    columns.extend(lineage.columns(order.iter().map(|&((_, source_row), _)| source_row)));
    write_parquet(&staged, schema.clone(), columns)
}

fn write_parquet(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<(), LakeError> {
    let error = |message: String| LakeError::Parquet {
        path: path.to_path_buf(),
        message,
    };
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| error(e.to_string()))?;
    let file = File::create(path).map_err(io(path))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties()))
        .map_err(|e| error(e.to_string()))?;
    writer.write(&batch).map_err(|e| error(e.to_string()))?;
    let file = writer.into_inner().map_err(|e| error(e.to_string()))?;
    // The file must be on disk before the store commits the batch.
    file.sync_all().map_err(io(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_scaled_exactly() {
        assert_eq!(scaled_decimal("1234.5", 6), Some(1_234_500_000));
        assert_eq!(scaled_decimal("-0.000001", 6), Some(-1));
        assert_eq!(scaled_decimal("12", 2), Some(1200));
        assert_eq!(scaled_decimal("1.2345678", 6), None);
    }

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(days_since_epoch("1970-01-01"), Some(0));
        assert_eq!(days_since_epoch("2024-03-01"), Some(19_783));
        assert_eq!(days_since_epoch("1969-12-31"), Some(-1));
        assert_eq!(days_since_epoch("2023-02-29"), None);
        assert_eq!(days_since_epoch("2024-3-1"), None);
        assert_eq!(days_since_epoch("2024/03/01"), None);
    }

    #[test]
    fn partitions_are_hive_style() {
        assert_eq!(
            partition_path(PartitionBy::Month, "2024-03"),
            "year=2024/month=03"
        );
        assert_eq!(
            partition_path(PartitionBy::Month, "2024-03-05"),
            "year=2024/month=03"
        );
        assert_eq!(partition_path(PartitionBy::Year, "2024-03-05"), "year=2024");
        assert_eq!(partition_path(PartitionBy::None, "2024"), "");
        assert_eq!(
            partition_path(PartitionBy::Year, ""),
            "year=__HIVE_DEFAULT_PARTITION__"
        );
    }
}
