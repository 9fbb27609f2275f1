//! A whole batch: a file from one department for one item, taken through the
//! pipeline and into the operational store in one transaction.
//!
//! Reading, cleansing and validation run on a blocking thread and hand
//! outcomes over a bounded channel to the writer, so memory stays bounded and
//! both cores work. Either everything the batch changes is committed with its
//! report, or nothing is: a read error, a database error or a killed process
//! leaves the store as it was. The same content from the same source is
//! recognised by its SHA-256 and not ingested twice.
//!
//! Batches are written under the lake's write lock ([`lock`]): one process
//! writes a data directory at a time, and what a killed one left in staging
//! is recovered only by the next holder of the lock.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use domain::catalog::{FieldType, Item, Publicity, RecordKind};
use domain::publicity::{PenaltyFacts, PublicityPeriod, PublicityPolicy, Severity};
use domain::{Catalog, SubjectId, Uscc};
use lake::{KeySet, Lake, LakeError, Lineage, StagedBatch, WriteLock};
use serde::Serialize;
use store::{
    BatchCounts, BatchRow, BatchWriter, EntityUpdate, NewEvent, RegistrySnapshot, Store,
    StoreError, SummaryIncrement,
};

use crate::pipeline::{Accepted, Outcome, Pipeline, Registry, Tally};
use crate::read::{Encoding, FileDigest, FileFormat, ReadError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{file}: {message}")]
    Refused { file: PathBuf, message: String },
    #[error("ingest worker failed: {0}")]
    Worker(String),
}

/// What to ingest.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub path: PathBuf,
    pub department: String,
    pub item: String,
    pub format: FileFormat,
    pub encoding: Option<Encoding>,
    /// The name the batch is recorded under, when not the path: an upload's
    /// file name as its sender gave it.
    pub file_name: Option<String>,
    /// A one-row batch that carries the corrected version of a stored
    /// record (an objection decided `corrected`).
    pub replaces: Option<Replaces>,
}

/// The record a correction replaces and the decision that replaces it:
/// the batch, the objection's move and the original's withdrawal are one
/// transaction.
#[derive(Debug, Clone)]
pub struct Replaces {
    pub subject: Uscc,
    /// The original's values in the item's field order.
    pub original: Vec<String>,
    pub case_id: i64,
    /// The objection's version the decision was made on.
    pub version: i64,
    pub actor: String,
    pub reasons: String,
    /// The audit entry's action and detail.
    pub audit_action: String,
    pub audit_detail: serde_json::Value,
}

/// How a batch ended.
#[derive(Debug, Clone)]
pub enum BatchResult {
    Committed(BatchRow),
    /// The same content from the same source was ingested before.
    AlreadyIngested(BatchRow),
}

/// The report stored with a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub file: String,
    pub department: String,
    pub item: String,
    pub format: FileFormat,
    #[serde(flatten)]
    pub tally: Tally,
    pub entities_registered: u64,
    /// Earliest and latest date of the accepted records: the period the
    /// batch covers, for timeliness.
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub seconds: f64,
}

impl Registry for RegistrySnapshot {
    fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
        match id {
            SubjectId::Uscc(code) => self.codes.contains(code).then_some(*code),
            other => self.legacy.get(&other.to_string()).copied(),
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Takes the lake's write lock — waiting for another writer to finish when
/// `wait`, else `None` while one writes — and finishes or discards what an
/// interrupted run left in staging: a batch the store committed is
/// published, any other discarded.
pub async fn lock(
    store: &Store,
    lake: &Lake,
    wait: bool,
) -> Result<Option<WriteLock>, IngestError> {
    let taking = lake.clone();
    let lock = tokio::task::spawn_blocking(move || taking.lock_writes(wait))
        .await
        .map_err(|e| IngestError::Worker(e.to_string()))??;
    let Some(lock) = lock else {
        return Ok(None);
    };
    for staged in lake.staged(&lock)? {
        let committed = match &staged {
            StagedBatch::Batch(id) => store.batch(*id).await?.is_some(),
            StagedBatch::Content(sha256) => store.batch_with_sha256(sha256).await?.is_some(),
        };
        lake.recover(&lock, &staged, committed)?;
    }
    Ok(Some(lock))
}

/// Why another process's ingest is in the way, for a message.
pub fn busy_message(lake: &Lake) -> String {
    let holder = lake
        .lock_holder()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("another ingest is writing this data directory{holder}")
}

/// What checking a batch needs to know of the batches before it: the entity
/// registry, and the natural keys stored for the item. The caller keeps it
/// from one batch to the next; a committed batch updates it.
pub struct Known {
    registry: Arc<RegistrySnapshot>,
    /// The keys of the item ingested last: consecutive batches of one item
    /// (a manifest's order) load them once.
    keys: Option<KeySet>,
}

impl Known {
    pub async fn load(store: &Store) -> Result<Known, IngestError> {
        Ok(Known {
            registry: Arc::new(store.registry_snapshot().await?),
            keys: None,
        })
    }

    fn take_keys(&mut self, lake: &Lake, item: &str) -> Result<KeySet, LakeError> {
        match self.keys.take() {
            Some(keys) if keys.item() == item => Ok(keys),
            _ => lake.load_keys(item),
        }
    }
}

/// Ingests one file, checked against and adding to what is `known`, under
/// the lake's write lock.
pub async fn ingest(
    store: &Store,
    lake: &Lake,
    lock: &WriteLock,
    catalog: &Catalog,
    known: &mut Known,
    request: BatchRequest,
) -> Result<BatchResult, IngestError> {
    let refuse = |message: String| IngestError::Refused {
        file: request.path.clone(),
        message,
    };
    let item = catalog
        .item(&request.item)
        .ok_or_else(|| refuse(format!("no catalog item '{}'", request.item)))?;
    if catalog.department(&request.department).is_none() {
        return Err(refuse(format!(
            "no department '{}' in the catalog",
            request.department
        )));
    }
    if !catalog
        .items_of(&request.department)
        .any(|i| i.id == item.id)
    {
        return Err(refuse(format!(
            "department '{}' may not send item '{}'",
            request.department, item.id
        )));
    }
    let started = Instant::now();
    // Content stored before can only be a file of a length seen before: only
    // such a file is hashed ahead of its one read, to skip it cheaply.
    let length = crate::read::open(&request.path)?
        .metadata()
        .map_err(|e| ReadError::new(&request.path, None, format!("cannot read: {e}")))?
        .len();
    if store
        .batch_of_length(&request.department, &item.id, length)
        .await?
    {
        let digest = crate::read::hash_file(&request.path)?;
        if let Some(earlier) = store
            .batch_with_content(&request.department, &item.id, &digest.sha256)
            .await?
        {
            return Ok(BatchResult::AlreadyIngested(earlier));
        }
    }
    let file_name = request
        .file_name
        .clone()
        .unwrap_or_else(|| request.path.display().to_string());
    let mut writer =
        BatchWriter::begin(store, &request.department, &item.id, &file_name, &now()).await?;
    let staged_as = StagedBatch::Batch(writer.batch_id);

    // Read and check on a blocking thread; write here.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Outcome>>(16);
    let mut keys = match known.take_keys(lake, &item.id) {
        Ok(keys) => keys,
        Err(e) => {
            let _ = writer.rollback().await;
            return Err(e.into());
        }
    };
    let reader = {
        let item = item.clone();
        let registry = Arc::clone(&known.registry);
        let request = request.clone();
        tokio::task::spawn_blocking(
            move || -> (Result<(Tally, FileDigest), ReadError>, KeySet) {
                // Outcomes travel in chunks: one hand-over per row would cost
                // more in thread wake-ups than the row's checks.
                let mut chunk = Vec::with_capacity(CHUNK);
                // `run_file`, with a correction's original named to the
                // pipeline.
                let mut pipeline = Pipeline::new(&item, registry.as_ref(), &mut keys);
                if let Some(replaces) = &request.replaces {
                    pipeline.replacing(&replaces.original);
                }
                let read = crate::read::read_rows(
                    &request.path,
                    request.format,
                    request.encoding,
                    &item,
                    &mut |row| {
                        chunk.push(pipeline.process(row));
                        if chunk.len() == CHUNK {
                            // A closed channel means the writer failed; it
                            // reports why.
                            let _ = sender.blocking_send(std::mem::replace(
                                &mut chunk,
                                Vec::with_capacity(CHUNK),
                            ));
                        }
                        Ok::<(), ReadError>(())
                    },
                )
                .map(|digest| (std::mem::take(&mut pipeline.tally), digest));
                drop(pipeline);
                if read.is_ok() {
                    let _ = sender.blocking_send(chunk);
                }
                (read, keys)
            },
        )
    };

    let lineage = Lineage {
        department: request.department.clone(),
        batch_id: writer.batch_id,
        ingested_at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let mut files = match lake::BatchWriter::begin(lake, lock, item, lineage) {
        Ok(files) => files,
        Err(e) => {
            drop(receiver);
            let _ = reader.await;
            let _ = writer.rollback().await;
            return Err(e.into());
        }
    };
    let mut effects = Effects::new(item, &request.department);
    let mut written: Result<(), IngestError> = Ok(());
    while let Some(chunk) = receiver.recv().await {
        if written.is_err() {
            continue;
        }
        written = write_chunk(&mut effects, &mut writer, &mut files, chunk).await;
    }
    if let Some(replaces) = &request.replaces {
        effects.withdraw(replaces.subject, &replaces.original);
    }
    if written.is_ok() {
        written = effects
            .flush_summaries(&mut writer)
            .await
            .map_err(IngestError::from);
    }
    let (read, mut keys) = match reader.await {
        Ok(done) => done,
        Err(e) => {
            drop(files);
            let _ = writer.rollback().await;
            lake.discard(&staged_as)?;
            return Err(IngestError::Worker(e.to_string()));
        }
    };
    let staged = match (read, written) {
        (Ok((tally, digest)), Ok(())) => files
            .finish(&keys)
            .map(|staged| (tally, digest, staged))
            .map_err(IngestError::from),
        // The encoder is joined before staging is discarded: a run it
        // writes meanwhile would be left behind.
        (Err(e), _) => {
            drop(files);
            Err(IngestError::from(e))
        }
        (_, Err(e)) => {
            drop(files);
            Err(e)
        }
    };
    // Content ingested before, found only now that it has been read (its
    // length was new, or it changed since it was hashed), adds nothing.
    let earlier = match &staged {
        Ok((_, digest, _)) => {
            store
                .batch_with_content(&request.department, &item.id, &digest.sha256)
                .await?
        }
        Err(_) => None,
    };
    let done = match (staged, earlier) {
        (Ok(done), None) => Ok(done),
        (Ok(_), Some(earlier)) => Err(Ok(BatchResult::AlreadyIngested(earlier))),
        (Err(e), _) => Err(Err(e)),
    };
    // A correction stands only as one accepted row, and only with its
    // decision: both in the batch's transaction.
    let done = match (done, &request.replaces) {
        (Ok((tally, ..)), Some(_)) if tally.accepted != 1 || tally.rows_in != 1 => {
            let reasons: Vec<String> = tally.by_reason.keys().map(|r| r.to_string()).collect();
            Err(Err(refuse(format!(
                "a correction is one row, accepted ({} rows, {} accepted; {})",
                tally.rows_in,
                tally.accepted,
                reasons.join(", ")
            ))))
        }
        (Ok(done), Some(replaces)) => {
            let subject = format!("case:{}", replaces.case_id);
            let correction = store::Correction {
                case_id: replaces.case_id,
                version: replaces.version,
                actor: &replaces.actor,
                at: &now(),
                reasons: &replaces.reasons,
                audit: store::NewAuditEntry {
                    actor: &replaces.actor,
                    action: &replaces.audit_action,
                    subject: &subject,
                    outcome: "ok",
                    detail: replaces.audit_detail.clone(),
                },
            };
            match writer.correct(&correction).await {
                Ok(()) => Ok(done),
                Err(e) => Err(Err(e.into())),
            }
        }
        (done, _) => done,
    };
    let (tally, digest, staged) = match done {
        Ok(done) => done,
        Err(result) => {
            let _ = writer.rollback().await;
            keys.batch_abandoned();
            known.keys = Some(keys);
            lake.discard(&staged_as)?;
            return result;
        }
    };
    let report = BatchReport {
        file: file_name,
        department: request.department.clone(),
        item: item.id.clone(),
        format: request.format,
        entities_registered: effects.registered.len() as u64,
        period_from: effects.period.as_ref().map(|p| p.0.clone()),
        period_to: effects.period.as_ref().map(|p| p.1.clone()),
        tally,
        seconds: started.elapsed().as_secs_f64(),
    };
    let value = serde_json::to_value(&report).map_err(|e| IngestError::Worker(e.to_string()))?;
    let counts = BatchCounts {
        rows_in: report.tally.rows_in as i64,
        accepted: report.tally.accepted as i64,
        quarantined: report.tally.quarantined as i64,
    };
    let committed = writer
        .commit(counts, (&digest.sha256, digest.bytes), &value, &now())
        .await;
    let id = match committed {
        Ok(id) => id,
        Err(e) => {
            keys.batch_abandoned();
            known.keys = Some(keys);
            lake.discard(&staged_as)?;
            // The same content committed meanwhile by a writer that did not
            // take the lake's lock (another data directory on this
            // database): it is there, once.
            if let StoreError::Duplicate(_) = e
                && let Some(earlier) = store
                    .batch_with_content(&request.department, &item.id, &digest.sha256)
                    .await?
            {
                return Ok(BatchResult::AlreadyIngested(earlier));
            }
            return Err(e.into());
        }
    };
    keys.batch_committed();
    known.keys = Some(keys);
    if request.replaces.is_some() {
        // The decision's audit entry was staged in the batch's transaction.
        store.flush_audit().await?;
    }
    // The store has the batch: its files go into place. A crash here is
    // finished by `lock` on the next run.
    lake.publish(&staged_as, &staged)?;
    if !effects.registered.is_empty() || !effects.legacy.is_empty() {
        let snapshot = Arc::make_mut(&mut known.registry);
        snapshot.codes.extend(effects.registered);
        snapshot.legacy.extend(effects.legacy);
    }
    let row = store
        .batch(id)
        .await?
        .ok_or_else(|| IngestError::Worker(format!("batch {id} vanished after commit")))?;
    Ok(BatchResult::Committed(row))
}

/// Outcomes handed from the reader to the writer at a time.
const CHUNK: usize = 2048;

/// Stores a chunk of outcomes in the store and the lake.
async fn write_chunk(
    effects: &mut Effects<'_>,
    writer: &mut BatchWriter,
    files: &mut lake::BatchWriter,
    chunk: Vec<Outcome>,
) -> Result<(), IngestError> {
    for outcome in chunk {
        match outcome {
            Outcome::Accepted(row) => {
                effects.apply(writer, &row).await?;
                files.accept(row.subject, row.subject_sent, row.number, &row.values)?;
            }
            Outcome::Quarantined(q) => {
                files.quarantine(
                    q.number,
                    q.reason.as_str(),
                    q.field.as_deref(),
                    &q.message,
                    &q.original,
                )?;
            }
        }
    }
    Ok(())
}

/// What accepted rows do to the store: registry, keys, summaries, events.
struct Effects<'a> {
    item: &'a Item,
    department: &'a str,
    position: BTreeMap<&'a str, usize>,
    /// Where the fields [`Effects::flagged`] reads are, found once: it runs
    /// for every record.
    flag_fields: [Option<usize>; 8],
    date_field: Option<usize>,
    amount_field: Option<usize>,
    policy: PublicityPolicy,
    /// Earliest and latest record date seen.
    period: Option<(String, String)>,
    /// Summaries added up in memory and written once per entity and year.
    summaries: foldhash::HashMap<(Uscc, i64), SummaryIncrement>,
    registered: Vec<Uscc>,
    legacy: Vec<(String, Uscc)>,
    /// When the registry entries this batch changes were updated.
    updated_at: String,
}

/// Entity-years held in memory before their summaries are written (about
/// 100 bytes each). Rows come in no particular order, so a buffer smaller
/// than the entity-years a batch touches writes each many times over.
const SUMMARY_BUFFER: usize = 1_000_000;

/// Amount fields that summaries add up, in order of preference.
const AMOUNT_FIELDS: [&str; 10] = [
    "amount_paid",
    "amount",
    "fine_amount",
    "consumption_kwh",
    "volume_m3",
    "tonnes",
    "insured_headcount",
    "contributors",
    "revenue",
    "subscribed_capital",
];

/// The field an item's yearly summaries add up, if it has one.
pub fn summary_field(item: &Item) -> Option<&domain::catalog::Field> {
    AMOUNT_FIELDS
        .iter()
        .find_map(|name| item.fields.iter().find(|f| f.name == *name))
}

/// Fields [`Effects::flagged`] reads, in the order it reads them.
const FLAG_FIELDS: [&str; 8] = [
    "amount_paid",
    "amount_due",
    "amount_billed",
    "overdue_days",
    "months_in_arrears",
    "late",
    "qualified",
    "result",
];

/// Fields whose title names an event.
const TITLE_FIELDS: [&str; 12] = [
    "violation_type",
    "certificate_name",
    "cause",
    "reason",
    "title",
    "mark",
    "inspection_item",
    "category",
    "product",
    "rating",
    "business_type",
    "commitment_type",
];

impl<'a> Effects<'a> {
    fn new(item: &'a Item, department: &'a str) -> Effects<'a> {
        let position: BTreeMap<&str, usize> = item
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect();
        let date_field = item
            .partition
            .field
            .as_deref()
            .and_then(|f| position.get(f).copied())
            .or_else(|| {
                item.fields
                    .iter()
                    .position(|f| matches!(f.field_type, FieldType::Date | FieldType::Month))
            });
        let amount_field = AMOUNT_FIELDS.iter().find_map(|f| position.get(f).copied());
        let flag_fields = FLAG_FIELDS.map(|f| position.get(f).copied());
        Effects {
            item,
            department,
            position,
            flag_fields,
            date_field,
            amount_field,
            policy: PublicityPolicy::default(),
            summaries: foldhash::HashMap::default(),
            period: None,
            registered: Vec::new(),
            legacy: Vec::new(),
            updated_at: now(),
        }
    }

    fn value<'r>(&self, row: &'r Accepted, field: &str) -> &'r str {
        self.position
            .get(field)
            .map_or("", |&i| row.values[i].as_str())
    }

    /// Applies an accepted row that is new to the store.
    async fn apply(&mut self, writer: &mut BatchWriter, row: &Accepted) -> Result<(), StoreError> {
        let Some(subject) = row.subject else {
            return Ok(());
        };
        let uscc = subject.as_str();
        match self.item.id.as_str() {
            _ if self.item.registers_entities => {
                let registration_number =
                    Some(self.value(row, "registration_number")).filter(|v| !v.is_empty());
                writer
                    .upsert_entity(
                        &EntityUpdate {
                            uscc,
                            name: self.value(row, "name"),
                            entity_type: self.value(row, "entity_type"),
                            legal_representative: self.value(row, "legal_representative"),
                            registered_capital: self.value(row, "registered_capital").parse().ok(),
                            established_on: self.value(row, "established_on"),
                            industry: self.value(row, "industry"),
                            division: self.value(row, "division"),
                            address: self.value(row, "address"),
                            status: self.value(row, "status"),
                            registration_number,
                        },
                        &self.updated_at,
                    )
                    .await?;
                let organisation = subject.organisation_code().to_string();
                writer
                    .add_legacy_id(&organisation, uscc, "organisation_code")
                    .await?;
                self.legacy.push((organisation, subject));
                if let Some(number) = registration_number {
                    writer
                        .add_legacy_id(number, uscc, "registration_number")
                        .await?;
                    self.legacy.push((number.to_string(), subject));
                }
                self.registered.push(subject);
            }
            "registration_change" => {
                let column = self.value(row, "change_item").to_string();
                let after = self.value(row, "after").to_string();
                writer
                    .update_entity_field(uscc, &column, &after, &self.updated_at)
                    .await?;
            }
            "status_change" => {
                let status = self.value(row, "status");
                let status = if status == "reinstated" {
                    "operating"
                } else {
                    status
                };
                writer
                    .update_entity_field(uscc, "status", status, &self.updated_at)
                    .await?;
            }
            _ => {}
        }
        let date = self.date_field.map_or("", |i| row.values[i].as_str());
        let year: i64 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let amount: f64 = self
            .amount_field
            .and_then(|i| row.values[i].parse().ok())
            .unwrap_or(0.0);
        if !date.is_empty() {
            let period = self
                .period
                .get_or_insert_with(|| (date.to_string(), date.to_string()));
            if date < period.0.as_str() {
                period.0 = date.to_string();
            }
            if date > period.1.as_str() {
                period.1 = date.to_string();
            }
        }
        let flagged = self.flagged(&row.values);
        self.summaries
            .entry((subject, year))
            .or_default()
            .add(amount, flagged, date);
        if self.summaries.len() >= SUMMARY_BUFFER {
            self.flush_summaries(writer).await?;
        }
        if self.item.record == RecordKind::Event {
            let title = TITLE_FIELDS
                .iter()
                .map(|f| self.value(row, f))
                .find(|v| !v.is_empty())
                .unwrap_or(&self.item.name_zh)
                .to_string();
            let detail: serde_json::Map<String, serde_json::Value> = self
                .item
                .fields
                .iter()
                .zip(&row.values)
                .filter(|(_, v)| !v.is_empty())
                .map(|(f, v)| (f.name.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let publicity_until = self.publicity_until(row);
            writer
                .add_event(&NewEvent {
                    uscc,
                    item: &self.item.id,
                    event_date: date,
                    title: &title,
                    detail: &serde_json::Value::Object(detail),
                    department: self.department,
                    source_row: row.number as i64,
                    publicity_until: publicity_until.as_deref(),
                })
                .await?;
        }
        Ok(())
    }

    /// Takes a replaced record's share out of its entity's yearly summary:
    /// its corrected version, applied as any new row, puts its own in.
    fn withdraw(&mut self, subject: Uscc, values: &[String]) {
        let value = |at: Option<usize>| at.and_then(|i| values.get(i)).map_or("", String::as_str);
        let date = value(self.date_field);
        let year: i64 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let amount: f64 = value(self.amount_field).parse().unwrap_or(0.0);
        let flagged = self.flagged(values);
        let entry = self.summaries.entry((subject, year)).or_default();
        entry.records -= 1;
        entry.amount -= amount;
        entry.flagged -= i64::from(flagged);
    }

    async fn flush_summaries(&mut self, writer: &mut BatchWriter) -> Result<(), StoreError> {
        let adds: Vec<(String, i64, SummaryIncrement)> = self
            .summaries
            .drain()
            .map(|((uscc, year), add)| (uscc.to_string(), year, add))
            .collect();
        writer.add_to_summaries(&self.item.id, &adds).await
    }

    /// Whether a record shows trouble: unpaid amounts, overdue bills, late
    /// reports, failed checks, problems found.
    fn flagged(&self, values: &[String]) -> bool {
        let [paid, due, billed, overdue, arrears, late, qualified, result] = self
            .flag_fields
            .map(|at| at.and_then(|i| values.get(i)).map_or("", String::as_str));
        let number = |text: &str| text.parse::<f64>().ok();
        let unpaid = match (number(paid), number(due).or(number(billed))) {
            (Some(paid), Some(due)) => paid + 0.005 < due,
            _ => false,
        };
        unpaid
            || number(overdue).is_some_and(|d| d > 0.0)
            || number(arrears).is_some_and(|m| m > 0.0)
            || late == "true"
            || qualified == "false"
            || result.starts_with("problem")
    }

    /// The last day a record is published, where its item is published for
    /// a period.
    fn publicity_until(&self, row: &Accepted) -> Option<String> {
        match &self.item.publicity {
            Publicity::PenaltyPeriod {
                date_field,
                severity_field,
            } => {
                let decided = self.value(row, date_field).parse().ok()?;
                let severity: Severity = self.value(row, severity_field).parse().ok()?;
                let facts = PenaltyFacts {
                    severity,
                    simple_procedure: self.value(row, "simple_procedure") == "true",
                    warning_only: self.value(row, "penalty_category") == "warning",
                    decision_date: decided,
                };
                match self.policy.penalty_period(&facts) {
                    PublicityPeriod::Published { until, .. } => Some(until.to_string()),
                    PublicityPeriod::NotPublished => None,
                }
            }
            Publicity::WhileListed { until_field, .. } => {
                Some(self.value(row, until_field).to_string()).filter(|v| !v.is_empty())
            }
            _ => None,
        }
    }
}
