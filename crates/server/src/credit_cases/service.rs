//! Objections and credit repairs over the store: an enterprise contests
//! one of its records, or asks for it to be repaired; the department that
//! owns the record decides an objection, the credit centre reviews a
//! repair. Which move is allowed and by whom is `credit::objection` and
//! `credit::repair`; deadlines are working days of the inspection
//! calendar, counted in Beijing days. Every read is audited, every move is
//! written with its audit entry in one transaction, and a correction is
//! a one-row batch of the owning department carrying the corrected
//! version, written with the decision and the original's withdrawal
//! (`ingest::batch::Replaces`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use credit::{objection, repair};
use domain::Uscc;
use domain::catalog::{Item, Publicity, RecordKind};
use domain::publicity::{PenaltyFacts, PublicityPeriod, PublicityPolicy, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{CaseDocument, CaseFilter, CaseMove, CaseRow, EventRow, NewAuditEntry, NewCase};

use crate::access::{Action, Principal, Role, allows};
use crate::http::Failure;
use crate::registry::service::{FieldValue, TimelineEvent, timeline_event};
use crate::service::{audit_read, require};
use crate::{AppState, secrets};

/// Cases on a page.
pub const PAGE_ROWS: i64 = 50;
/// Documents one case may carry, and the size of each.
pub const MAX_DOCUMENTS: usize = 5;
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The longest statement, reasons or commitment, in characters.
pub const MAX_TEXT: usize = 4000;

/// The two kinds of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Objection,
    Repair,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Objection => "objection",
            Kind::Repair => "repair",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "objection" => Some(Kind::Objection),
            "repair" => Some(Kind::Repair),
            _ => None,
        }
    }

    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Kind::Objection => ("异议申诉", "objection"),
            Kind::Repair => ("信用修复", "credit repair"),
        }
    }
}

/// A record by its lineage, as forms and links name it: `item:batch:row`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub item: String,
    pub batch: i64,
    pub row: i64,
}

impl RecordRef {
    pub fn parse(text: &str) -> Option<RecordRef> {
        let mut parts = text.trim().split(':');
        let item = parts.next()?.to_string();
        let batch = parts.next()?.parse().ok()?;
        let row = parts.next()?.parse().ok()?;
        if parts.next().is_some() || item.is_empty() {
            return None;
        }
        Some(RecordRef { item, batch, row })
    }

    pub fn of(event: &EventRow) -> String {
        format!("{}:{}:{}", event.item, event.batch_id, event.source_row)
    }
}

/// A document as sent.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What an enterprise sends to open a case.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CaseInput {
    /// `item:batch:row`.
    pub record: String,
    /// An objection's ground (`credit::objection::Ground`).
    #[serde(default)]
    pub ground: String,
    /// The objection's reasons, or the repair's proof of correction.
    pub statement: String,
    /// A repair's public credit commitment.
    #[serde(default)]
    pub commitment: String,
    /// Sent as files of a multipart form, not in JSON.
    #[serde(skip)]
    #[schema(ignore)]
    pub documents: Vec<Upload>,
}

/// A form refused for its fields: each field's problem, to show beside it
/// with what was typed.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Invalid {
    pub errors: BTreeMap<String, String>,
}

impl Invalid {
    fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_insert(message.into());
    }

    fn into_result(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

/// A case opened or refused for its fields.
pub enum Opened {
    Case(i64),
    Invalid(Invalid),
}

/// A move asked for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    pub to: String,
    pub version: i64,
    #[serde(default)]
    pub reasons: String,
    /// A correction's corrected values by field name (the record's own
    /// for fields not given).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// One case, named for people.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub uscc: String,
    pub entity_name: String,
    /// `item:batch:row`.
    pub record: String,
    pub item: String,
    pub item_zh: String,
    pub item_en: String,
    pub department: String,
    pub department_zh: String,
    pub department_en: String,
    pub record_title: String,
    pub record_date: String,
    pub ground: String,
    pub ground_zh: String,
    pub ground_en: String,
    pub statement: String,
    pub commitment: String,
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    pub open: bool,
    pub version: i64,
    pub submitted_at: String,
    pub submitted_by: String,
    /// The Beijing day the current step is due.
    pub due_on: Option<String>,
    /// Open past its due day.
    pub overdue: bool,
    pub decided_at: Option<String>,
    /// The batch that carries the corrected version.
    pub correction_batch: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseEventView {
    pub at: String,
    pub actor: String,
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    pub reasons: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub seq: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
}

/// A move the asker may make now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MoveOption {
    pub to: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A case with its history, documents, record and the moves open to the
/// asker.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: CaseView,
    pub events: Vec<CaseEventView>,
    pub documents: Vec<DocumentView>,
    /// The record as stored (the original, for a corrected objection).
    pub record: Option<TimelineEvent>,
    /// The corrected version, once there is one.
    pub corrected: Option<TimelineEvent>,
    pub moves: Vec<MoveOption>,
    /// The record's fields, for a correction's form.
    pub fields: Vec<FieldValue>,
}

/// A page of cases.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
    pub total: i64,
    pub offset: i64,
}

/// Which cases to list (query parameters).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub uscc: Option<String>,
    pub department: Option<String>,
    /// `1`: only open cases past their due day.
    pub overdue: Option<String>,
    pub offset: Option<i64>,
}

/// Repairs in numbers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RepairStatistics {
    /// Applications by state, with names.
    pub by_state: Vec<StateCount>,
    pub applications: i64,
    pub approved: i64,
    pub rejected: i64,
    /// Working days from application to decision, over decided ones.
    pub mean_working_days: Option<f64>,
    pub max_working_days: Option<u32>,
    /// Objections by state, with names.
    pub objections: Vec<StateCount>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StateCount {
    pub state: String,
    pub name_zh: String,
    pub name_en: String,
    pub count: i64,
}

fn state_names(kind: Kind, state: &str) -> (String, String) {
    let names = match kind {
        Kind::Objection => objection::State::parse(state).map(|s| (s.name_zh(), s.name_en())),
        Kind::Repair => repair::State::parse(state).map(|s| (s.name_zh(), s.name_en())),
    };
    let (zh, en) = names.unwrap_or((state, state));
    (zh.to_string(), en.to_string())
}

fn kind_of(row: &CaseRow) -> Result<Kind, Failure> {
    Kind::parse(&row.kind)
        .ok_or_else(|| Failure::Internal(format!("case {}: unknown kind", row.id)))
}

fn view(state: &AppState, row: CaseRow, name: &str, today: NaiveDate) -> CaseView {
    let kind = Kind::parse(&row.kind).unwrap_or(Kind::Objection);
    let (kind_zh, kind_en) = kind.names();
    let (state_zh, state_en) = state_names(kind, &row.state);
    let item = state.catalog.item(&row.item);
    let department = state.catalog.department(&row.department);
    let ground = objection::Ground::parse(&row.ground);
    let overdue = row.open
        && row
            .due_on
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .is_some_and(|due| due < today);
    CaseView {
        id: row.id,
        kind: row.kind.clone(),
        kind_zh: kind_zh.into(),
        kind_en: kind_en.into(),
        entity_name: name.to_string(),
        record: format!("{}:{}:{}", row.item, row.batch_id, row.source_row),
        item_zh: item.map_or(row.item.clone(), |i| i.name_zh.clone()),
        item_en: item.map_or(row.item.clone(), |i| i.name_en.clone()),
        department_zh: department.map_or(row.department.clone(), |d| d.name_zh.clone()),
        department_en: department.map_or(row.department.clone(), |d| d.name_en.clone()),
        ground_zh: ground.map_or(String::new(), |g| g.name_zh().into()),
        ground_en: ground.map_or(String::new(), |g| g.name_en().into()),
        state_zh,
        state_en,
        overdue,
        uscc: row.uscc,
        item: row.item,
        department: row.department,
        record_title: row.record_title,
        record_date: row.record_date,
        ground: row.ground,
        statement: row.statement,
        commitment: row.commitment,
        state: row.state,
        open: row.open,
        version: row.version,
        submitted_at: row.submitted_at,
        submitted_by: row.submitted_by,
        due_on: row.due_on,
        decided_at: row.decided_at,
        correction_batch: row.correction_batch,
    }
}

async fn entity_name(state: &AppState, uscc: &str) -> Result<String, Failure> {
    Ok(state
        .store
        .entity(uscc)
        .await?
        .map_or_else(String::new, |e| e.name))
}

/// Whether an enterprise may contest records of this item: event records
/// it can see, other than its registration (corrected by registration).
pub fn contestable(item: &Item) -> bool {
    item.record == RecordKind::Event
        && !item.registers_entities
        && !matches!(item.publicity, Publicity::Internal)
}

/// The publicity period of a record, as ingest computed its end.
fn period_of(item: &Item, event: &EventRow) -> PublicityPeriod {
    let Publicity::PenaltyPeriod {
        date_field,
        severity_field,
    } = &item.publicity
    else {
        return PublicityPeriod::NotPublished;
    };
    let value = |name: &str| {
        event
            .detail
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    };
    let (Ok(decided), Ok(severity)) = (
        value(date_field).parse::<NaiveDate>(),
        value(severity_field).parse::<Severity>(),
    ) else {
        return PublicityPeriod::NotPublished;
    };
    PublicityPolicy::default().penalty_period(&PenaltyFacts {
        severity,
        simple_procedure: value("simple_procedure") == "true",
        warning_only: value("penalty_category") == "warning",
        decision_date: decided,
    })
}

/// Whether a record may be repaired today, as far as its own dates go.
pub fn repairable(item: &Item, event: &EventRow, today: NaiveDate) -> Result<(), repair::Refusal> {
    if event.withdrawn.as_deref() == Some("repaired") {
        return Err(repair::Refusal::Repaired);
    }
    repair::eligible(&item.publicity, period_of(item, event), today)
}

async fn calendar(state: &AppState) -> Result<inspection::calendar::WorkCalendar, Failure> {
    supervision::calendar(&state.store)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))
}

/// The record `reference` of `uscc`, as stored.
async fn find_record(
    state: &AppState,
    uscc: &str,
    reference: &RecordRef,
) -> Result<Option<EventRow>, Failure> {
    Ok(state.store.events(uscc).await?.into_iter().find(|e| {
        e.item == reference.item && e.batch_id == reference.batch && e.source_row == reference.row
    }))
}

/// Keeps a document under the data directory by its SHA-256.
fn keep_document(state: &AppState, upload: &Upload, seq: i64) -> Result<CaseDocument, Failure> {
    let sha256 = hex::encode(Sha256::digest(&upload.bytes));
    let dir = state.config.data_dir.join("documents");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(&sha256);
    if !path.exists() {
        let random = secrets::random_hex(8).map_err(|e| Failure::Internal(e.to_string()))?;
        let temporary = dir.join(format!(".{sha256}.{random}"));
        std::fs::write(&temporary, &upload.bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|e| Failure::Internal(format!("cannot keep a document: {e}")))?;
    }
    Ok(CaseDocument {
        seq,
        file_name: crate::http::forms::clean_file_name(&upload.file_name),
        content_type: content_type(&upload.file_name)
            .unwrap_or("application/octet-stream")
            .into(),
        bytes: upload.bytes.len() as i64,
        sha256,
    })
}

/// The kinds of document accepted, by extension.
fn content_type(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit('.').next()?.to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => Some("application/pdf"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "ofd" => Some("application/ofd"),
        _ => None,
    }
}

fn check_text(invalid: &mut Invalid, field: &str, text: &str, needed: bool) {
    if needed && text.trim().is_empty() {
        invalid.add(field, "必填 / required");
    } else if text.chars().count() > MAX_TEXT {
        invalid.add(
            field,
            format!("最多 {MAX_TEXT} 字 / at most {MAX_TEXT} characters"),
        );
    }
}

fn check_documents(invalid: &mut Invalid, sent: &[Upload], needed: bool) {
    if sent.len() > MAX_DOCUMENTS {
        invalid.add(
            "documents",
            format!("最多 {MAX_DOCUMENTS} 个文件 / at most {MAX_DOCUMENTS} files"),
        );
    }
    for document in sent {
        if content_type(&document.file_name).is_none() {
            invalid.add(
                "documents",
                format!(
                    "{}: 只接受 PDF、OFD、JPG、PNG / only PDF, OFD, JPG or PNG",
                    crate::http::forms::clean_file_name(&document.file_name)
                ),
            );
        } else if document.bytes.len() > MAX_DOCUMENT_BYTES {
            invalid.add(
                "documents",
                format!(
                    "{}: 每个文件最大 10 MiB / each file at most 10 MiB",
                    crate::http::forms::clean_file_name(&document.file_name)
                ),
            );
        } else if document.bytes.is_empty() {
            invalid.add("documents", "文件为空 / the file is empty");
        }
    }
    if needed && sent.is_empty() {
        invalid.add(
            "documents",
            "须附已纠正失信行为、履行法定义务的证明材料 / the proof of correction is needed",
        );
    }
}

/// The enterprise the asker contests records for, or the refusal.
pub async fn contesting(state: &AppState, who: &Principal) -> Result<Uscc, Failure> {
    let uscc = crate::access::enterprise_of(who).unwrap_or("");
    require(state, who, Action::ContestRecord { uscc }, uscc).await?;
    // Grants are checked when they are made: a bad one is damage.
    uscc.parse()
        .map_err(|e| Failure::Internal(format!("grant enterprise:{uscc}: {e}")))
}

/// Opens an objection or a repair application for one of the asker's
/// records.
pub async fn open(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    kind: Kind,
    input: &CaseInput,
    now: DateTime<Utc>,
) -> Result<Opened, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ContestRecord { uscc }, uscc).await?;
    let today = crate::beijing_date(now);
    let mut invalid = Invalid::default();
    let record = RecordRef::parse(&input.record);
    let event = match &record {
        Some(reference) => find_record(state, uscc, reference).await?,
        None => None,
    };
    let item = event.as_ref().and_then(|e| state.catalog.item(&e.item));
    let (event, item) = match (event, item) {
        (Some(event), Some(item))
            if contestable(item) && event.withdrawn.as_deref() != Some("corrected") =>
        {
            (event, item)
        }
        _ => {
            invalid.add("record", "没有这条可申请的记录 / no such record to contest");
            return Ok(Opened::Invalid(invalid));
        }
    };
    let ground = match kind {
        Kind::Objection => match objection::Ground::parse(&input.ground) {
            Some(ground) => ground.as_str(),
            None => {
                invalid.add("ground", "请选择异议理由 / choose a ground");
                ""
            }
        },
        Kind::Repair => "",
    };
    check_text(&mut invalid, "statement", &input.statement, true);
    check_text(
        &mut invalid,
        "commitment",
        &input.commitment,
        kind == Kind::Repair,
    );
    check_documents(&mut invalid, &input.documents, kind == Kind::Repair);
    if kind == Kind::Repair
        && let Err(refusal) = repairable(item, &event, today)
    {
        invalid.add("record", format!("{} / {refusal}", refusal.message_zh()));
    }
    if let Err(invalid) = invalid.into_result() {
        return Ok(Opened::Invalid(invalid));
    }
    let calendar = calendar(state).await?;
    let days = match kind {
        Kind::Objection => state.config.objection_deadlines.accept_days,
        Kind::Repair => state.config.repair_deadlines.review_days,
    };
    let due_on = calendar.add_working_days(today, days).to_string();
    let mut documents = Vec::with_capacity(input.documents.len());
    for (seq, upload) in input.documents.iter().enumerate() {
        documents.push(keep_document(state, upload, seq as i64 + 1)?);
    }
    let at = crate::stamp(now);
    let action = match kind {
        Kind::Objection => "submit_objection",
        Kind::Repair => "submit_repair",
    };
    let reference = RecordRef::of(&event);
    let opened = state
        .store
        .create_case(
            &NewCase {
                kind: kind.as_str(),
                uscc,
                item: &event.item,
                department: &item.department,
                batch_id: event.batch_id,
                source_row: event.source_row,
                record_title: &event.title,
                record_date: &event.event_date,
                ground,
                statement: input.statement.trim(),
                commitment: input.commitment.trim(),
                actor: &who.actor,
                at: &at,
                due_on: &due_on,
            },
            &documents,
            &NewAuditEntry {
                actor: &who.actor,
                action,
                subject: uscc,
                outcome: "ok",
                detail: serde_json::json!({"record": reference, "documents": documents.len()}),
            },
        )
        .await;
    match opened {
        Ok(id) => Ok(Opened::Case(id)),
        Err(store::StoreError::Duplicate(_)) => {
            let mut invalid = Invalid::default();
            invalid.add(
                "record",
                match kind {
                    Kind::Objection => "这条记录已有处理中的异议 / an objection to this record is open already",
                    Kind::Repair => "该记录已有审核中的修复申请 / an application for this record is under review already",
                },
            );
            Ok(Opened::Invalid(invalid))
        }
        Err(e) => Err(e.into()),
    }
}

/// Who the asker is to a case, for the one table of moves.
enum Standing {
    Enterprise,
    Decider,
    Onlooker,
}

fn standing(who: &Principal, kind: Kind, row: &CaseRow) -> Standing {
    if allows(who, Action::ContestRecord { uscc: &row.uscc }) {
        return Standing::Enterprise;
    }
    let decides = match kind {
        Kind::Objection => allows(
            who,
            Action::DecideObjection {
                department: &row.department,
            },
        ),
        Kind::Repair => allows(who, Action::ReviewRepair),
    };
    if decides {
        Standing::Decider
    } else {
        Standing::Onlooker
    }
}

fn moves_for(kind: Kind, row: &CaseRow, standing: &Standing) -> Vec<MoveOption> {
    match kind {
        Kind::Objection => {
            let party = match standing {
                Standing::Enterprise => objection::Party::Enterprise,
                Standing::Decider => objection::Party::Department,
                Standing::Onlooker => return Vec::new(),
            };
            let Some(from) = objection::State::parse(&row.state) else {
                return Vec::new();
            };
            objection::next_states(from, party)
                .into_iter()
                .map(|s| MoveOption {
                    to: s.as_str().into(),
                    name_zh: s.name_zh().into(),
                    name_en: s.name_en().into(),
                })
                .collect()
        }
        Kind::Repair => {
            let party = match standing {
                Standing::Enterprise => repair::Party::Enterprise,
                Standing::Decider => repair::Party::CreditCentre,
                Standing::Onlooker => return Vec::new(),
            };
            let Some(from) = repair::State::parse(&row.state) else {
                return Vec::new();
            };
            repair::next_states(from, party)
                .into_iter()
                .map(|s| MoveOption {
                    to: s.as_str().into(),
                    name_zh: s.name_zh().into(),
                    name_en: s.name_en().into(),
                })
                .collect()
        }
    }
}

/// A case `who` may see, or the refusal (decided before existence is
/// told, so ids cannot be probed).
async fn visible_case(state: &AppState, who: &Principal, id: i64) -> Result<CaseRow, Failure> {
    let row = state.store.case(id).await?;
    let (uscc, department) = row
        .as_ref()
        .map_or(("", ""), |r| (r.uscc.as_str(), r.department.as_str()));
    require(
        state,
        who,
        Action::ViewCase { uscc, department },
        &format!("case:{id}"),
    )
    .await?;
    row.ok_or_else(|| Failure::NotFound(format!("case {id}")))
}

/// A case with its history, documents and record; audited.
pub async fn detail(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<CaseDetail, Failure> {
    let row = visible_case(state, who, id).await?;
    audit_read(state, who, "view_case", &format!("case:{id}")).await?;
    let kind = kind_of(&row)?;
    let today = crate::beijing_date(now);
    let events = state
        .store
        .case_events(id)
        .await?
        .into_iter()
        .map(|e| {
            let (state_zh, state_en) = state_names(kind, &e.state);
            CaseEventView {
                at: e.at,
                actor: e.actor,
                state: e.state,
                state_zh,
                state_en,
                reasons: e.reasons,
            }
        })
        .collect();
    let documents = state
        .store
        .case_documents(id)
        .await?
        .into_iter()
        .map(|d| DocumentView {
            seq: d.seq,
            file_name: d.file_name,
            content_type: d.content_type,
            bytes: d.bytes,
            sha256: d.sha256,
        })
        .collect();
    let stored = state.store.events(&row.uscc).await?;
    let item = state.catalog.item(&row.item);
    let record = stored
        .iter()
        .find(|e| {
            e.item == row.item && e.batch_id == row.batch_id && e.source_row == row.source_row
        })
        .cloned()
        .map(|e| timeline_event(item, e));
    let corrected = row.correction_batch.and_then(|batch| {
        stored
            .iter()
            .find(|e| e.item == row.item && e.batch_id == batch)
            .cloned()
            .map(|e| timeline_event(item, e))
    });
    let standing = standing(who, kind, &row);
    let moves = moves_for(kind, &row, &standing);
    let fields = match (&record, item) {
        (Some(record), Some(item)) if moves.iter().any(|m| m.to == "corrected") => item
            .fields
            .iter()
            .filter(|f| f.name != item.subject_field)
            .map(|f| FieldValue {
                field: f.name.clone(),
                name_zh: f.name_zh.clone(),
                value: record
                    .record
                    .detail
                    .get(&f.name)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
        _ => Vec::new(),
    };
    let name = entity_name(state, &row.uscc).await?;
    Ok(CaseDetail {
        case: view(state, row, &name, today),
        events,
        documents,
        record,
        corrected,
        moves,
        fields,
    })
}

/// A document of a case, with its name and type; audited.
pub async fn document(
    state: &AppState,
    who: &Principal,
    id: i64,
    seq: i64,
) -> Result<(DocumentView, Vec<u8>), Failure> {
    let _ = visible_case(state, who, id).await?;
    let Some(document) = state
        .store
        .case_documents(id)
        .await?
        .into_iter()
        .find(|d| d.seq == seq)
    else {
        return Err(Failure::NotFound(format!("document {seq} of case {id}")));
    };
    audit_read(state, who, "view_case_document", &format!("case:{id}")).await?;
    let path: PathBuf = state
        .config
        .data_dir
        .join("documents")
        .join(&document.sha256);
    let bytes = std::fs::read(&path)
        .map_err(|e| Failure::Internal(format!("document {seq} of case {id}: {e}")))?;
    Ok((
        DocumentView {
            seq: document.seq,
            file_name: document.file_name,
            content_type: document.content_type,
            bytes: document.bytes,
            sha256: document.sha256,
        },
        bytes,
    ))
}

/// The cases `who` may list: the credit centre every one, a department
/// the objections to its records, an enterprise its own.
pub async fn list(
    state: &AppState,
    who: &Principal,
    query: &ListQuery,
    now: DateTime<Utc>,
) -> Result<CaseList, Failure> {
    let mut filter = CaseFilter {
        kind: query.kind.clone().filter(|k| Kind::parse(k).is_some()),
        state: query.state.clone().filter(|s| !s.is_empty()),
        ..CaseFilter::default()
    };
    if who.has(Role::CreditCentre) {
        filter.uscc = query.uscc.clone().filter(|u| !u.is_empty());
        filter.department = query.department.clone().filter(|d| !d.is_empty());
    } else if let Some(department) = who.subjects(Role::Department).first() {
        filter.department = Some(department.to_string());
        filter.kind = Some("objection".into());
    } else if let Some(uscc) = crate::access::enterprise_of(who) {
        filter.uscc = Some(uscc.to_string());
    } else {
        require(state, who, Action::ListCases, "").await?;
    }
    let today = crate::beijing_date(now);
    if query.overdue.as_deref() == Some("1") {
        filter.overdue_on = Some(today.to_string());
    }
    audit_read(state, who, "view_cases", "").await?;
    let offset = query.offset.unwrap_or(0).max(0);
    let page = state.store.cases(&filter, offset, PAGE_ROWS).await?;
    let mut cases = Vec::with_capacity(page.rows.len());
    for row in page.rows {
        let name = entity_name(state, &row.uscc).await?;
        cases.push(view(state, row, &name, today));
    }
    Ok(CaseList {
        cases,
        total: page.total,
        offset,
    })
}

/// A move refused for its fields, or made.
pub enum Moved {
    Done,
    Invalid(Invalid),
}

/// Moves a case as `who`: checked against the one table of moves, on the
/// version the asker saw.
pub async fn move_case(
    state: &AppState,
    who: &Principal,
    id: i64,
    input: &MoveInput,
    now: DateTime<Utc>,
) -> Result<Moved, Failure> {
    let row = visible_case(state, who, id).await?;
    let kind = kind_of(&row)?;
    let standing = standing(who, kind, &row);
    let mut invalid = Invalid::default();
    check_text(&mut invalid, "reasons", &input.reasons, false);
    // The one table of moves decides; its refusals, sorted by who must hear
    // what: a wrong party is refused, a missing reason is the form's, an
    // illegal move is a conflict with where the case is now.
    enum Refused {
        Illegal(String),
        WrongParty,
        Reasons(String),
    }
    let checked = match (kind, &standing) {
        (_, Standing::Onlooker) => Err(Refused::WrongParty),
        (Kind::Objection, standing) => {
            let party = match standing {
                Standing::Enterprise => objection::Party::Enterprise,
                _ => objection::Party::Department,
            };
            let from = objection::State::parse(&row.state)
                .ok_or_else(|| Failure::Internal(format!("case {id}: unknown state")))?;
            let to = objection::State::parse(&input.to)
                .ok_or_else(|| Failure::Unprocessable(format!("no state '{}'", input.to)))?;
            objection::check(from, to, party, &input.reasons).map_err(|e| match e {
                objection::MoveError::Illegal { .. } => Refused::Illegal(e.to_string()),
                objection::MoveError::WrongParty { .. } => Refused::WrongParty,
                objection::MoveError::ReasonNeeded => Refused::Reasons(e.to_string()),
            })
        }
        (Kind::Repair, standing) => {
            let party = match standing {
                Standing::Enterprise => repair::Party::Enterprise,
                _ => repair::Party::CreditCentre,
            };
            let from = repair::State::parse(&row.state)
                .ok_or_else(|| Failure::Internal(format!("case {id}: unknown state")))?;
            let to = repair::State::parse(&input.to)
                .ok_or_else(|| Failure::Unprocessable(format!("no state '{}'", input.to)))?;
            repair::check(from, to, party, &input.reasons).map_err(|e| match e {
                repair::MoveError::Illegal { .. } => Refused::Illegal(e.to_string()),
                repair::MoveError::WrongParty { .. } => Refused::WrongParty,
                repair::MoveError::ReasonNeeded => Refused::Reasons(e.to_string()),
            })
        }
    };
    match checked {
        Ok(()) => {}
        Err(Refused::WrongParty) => {
            state
                .audit(
                    &who.actor,
                    "move_case",
                    &format!("case:{id}"),
                    "denied",
                    serde_json::json!({"to": input.to}),
                )
                .await?;
            return Err(Failure::Forbidden);
        }
        Err(Refused::Illegal(message)) => return Err(Failure::Conflict(message)),
        Err(Refused::Reasons(message)) => {
            invalid.add("reasons", format!("请写明理由 / {message}"));
        }
    }
    if input.version != row.version {
        return Err(Failure::Conflict(format!(
            "case {id} has changed since it was read (version {} now)",
            row.version
        )));
    }
    if input.to == "corrected" {
        return correct(state, who, &row, input, invalid).await;
    }
    if let Err(invalid) = invalid.into_result() {
        return Ok(Moved::Invalid(invalid));
    }
    let today = crate::beijing_date(now);
    let open = matches!(input.to.as_str(), "accepted");
    let due_on = if open {
        let calendar = calendar(state).await?;
        Some(
            calendar
                .add_working_days(today, state.config.objection_deadlines.decide_days)
                .to_string(),
        )
    } else {
        None
    };
    if kind == Kind::Repair && input.to == "approved" {
        // The record may have reached its maximum period meanwhile.
        let event = find_record(
            state,
            &row.uscc,
            &RecordRef {
                item: row.item.clone(),
                batch: row.batch_id,
                row: row.source_row,
            },
        )
        .await?;
        let item = state.catalog.item(&row.item);
        if let (Some(event), Some(item)) = (event, item)
            && let Err(refusal) = repairable(item, &event, today)
        {
            return Err(Failure::Conflict(format!(
                "{} / {refusal}",
                refusal.message_zh()
            )));
        }
    }
    let at = crate::stamp(now);
    let subject = format!("case:{id}");
    state
        .store
        .move_case(
            &CaseMove {
                id,
                from: &row.state,
                version: row.version,
                to: &input.to,
                open,
                due_on: due_on.as_deref(),
                actor: &who.actor,
                at: &at,
                reasons: input.reasons.trim(),
                withdraw: (kind == Kind::Repair && input.to == "approved").then_some("repaired"),
            },
            &NewAuditEntry {
                actor: &who.actor,
                action: &format!("{}_{}", kind.as_str(), input.to),
                subject: &subject,
                outcome: "ok",
                detail: serde_json::json!({"uscc": row.uscc, "from": row.state}),
            },
        )
        .await
        .map_err(conflict)?;
    Ok(Moved::Done)
}

fn conflict(e: store::StoreError) -> Failure {
    match e {
        store::StoreError::Conflict(message) => Failure::Conflict(message),
        other => other.into(),
    }
}

/// Writes the corrected version as a one-row batch of the owning
/// department, with the decision and the original's withdrawal.
async fn correct(
    state: &AppState,
    who: &Principal,
    row: &CaseRow,
    input: &MoveInput,
    mut invalid: Invalid,
) -> Result<Moved, Failure> {
    let Some(item) = state.catalog.item(&row.item) else {
        return Err(Failure::Internal(format!("case {}: unknown item", row.id)));
    };
    let Some(original) = find_record(
        state,
        &row.uscc,
        &RecordRef {
            item: row.item.clone(),
            batch: row.batch_id,
            row: row.source_row,
        },
    )
    .await?
    else {
        return Err(Failure::Internal(format!("case {}: record gone", row.id)));
    };
    let stored = |name: &str| {
        original
            .detail
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut before = Vec::with_capacity(item.fields.len());
    let mut after = Vec::with_capacity(item.fields.len());
    for field in &item.fields {
        let old = if field.name == item.subject_field {
            row.uscc.clone()
        } else {
            stored(&field.name)
        };
        let new = if field.name == item.subject_field {
            row.uscc.clone()
        } else {
            input
                .values
                .get(&field.name)
                .map_or_else(|| old.clone(), |v| v.trim().to_string())
        };
        if let Err(e) = field.check(&new) {
            invalid.add(&field.name, format!("{}: {e}", field.name_zh));
        }
        before.push(old);
        after.push(new);
    }
    if before == after {
        invalid.add(
            "values",
            "更正须修改至少一个字段 / a correction changes at least one field",
        );
    }
    if let Err(invalid) = invalid.into_result() {
        return Ok(Moved::Invalid(invalid));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
    let written = writer
        .write_record(&header)
        .and_then(|()| writer.write_record(&after))
        .map_err(|e| Failure::Internal(e.to_string()))
        .and_then(|()| {
            writer
                .into_inner()
                .map_err(|e| Failure::Internal(e.to_string()))
        })?;
    let uploads = state.config.data_dir.join("uploads");
    std::fs::create_dir_all(&uploads)
        .map_err(|e| Failure::Internal(format!("cannot create {}: {e}", uploads.display())))?;
    let random = secrets::random_hex(16).map_err(|e| Failure::Internal(e.to_string()))?;
    let path = uploads.join(format!("{random}.csv"));
    std::fs::write(&path, &written)
        .map_err(|e| Failure::Internal(format!("cannot write {}: {e}", path.display())))?;
    let subject: Uscc = row
        .uscc
        .parse()
        .map_err(|e: domain::UsccError| Failure::Internal(e.to_string()))?;
    let request = ingest::batch::BatchRequest {
        path: path.clone(),
        department: row.department.clone(),
        item: row.item.clone(),
        format: ingest::FileFormat::Csv,
        encoding: None,
        file_name: Some(format!("correction-case-{}.csv", row.id)),
        replaces: Some(ingest::batch::Replaces {
            subject,
            original: before,
            case_id: row.id,
            version: row.version,
            actor: who.actor.clone(),
            reasons: input.reasons.trim().to_string(),
            audit_action: "objection_corrected".into(),
            audit_detail: serde_json::json!({"uscc": row.uscc, "from": row.state}),
        }),
    };
    let result = crate::registry::service::ingest_locked(state, request).await;
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(ingest::batch::BatchResult::Committed(_)) => Ok(Moved::Done),
        Ok(ingest::batch::BatchResult::AlreadyIngested(_)) => Err(Failure::Conflict(
            "the same correction was written before".into(),
        )),
        Err(message) if message.contains("no longer") => Err(Failure::Conflict(message)),
        Err(message) => {
            let mut invalid = Invalid::default();
            invalid.add(
                "values",
                message.replace(&path.display().to_string(), "correction"),
            );
            Ok(Moved::Invalid(invalid))
        }
    }
}

/// Repairs and objections in numbers (the credit centre).
pub async fn statistics(state: &AppState, who: &Principal) -> Result<RepairStatistics, Failure> {
    require(state, who, Action::ViewRepairStatistics, "").await?;
    audit_read(state, who, "view_repair_statistics", "").await?;
    let counts = |kind: Kind, rows: Vec<(String, i64)>| -> Vec<StateCount> {
        rows.into_iter()
            .map(|(state, count)| {
                let (name_zh, name_en) = state_names(kind, &state);
                StateCount {
                    state,
                    name_zh,
                    name_en,
                    count,
                }
            })
            .collect()
    };
    let repairs = counts(Kind::Repair, state.store.case_counts("repair").await?);
    let objections = counts(Kind::Objection, state.store.case_counts("objection").await?);
    let count_of = |name: &str| {
        repairs
            .iter()
            .find(|c| c.state == name)
            .map_or(0, |c| c.count)
    };
    let calendar = calendar(state).await?;
    let day = |stamp: &str| {
        DateTime::parse_from_rfc3339(stamp)
            .ok()
            .map(|t| crate::beijing_date(t.with_timezone(&Utc)))
    };
    let days: Vec<u32> = state
        .store
        .decided_cases("repair")
        .await?
        .into_iter()
        .filter(|(_, _, state)| state == "approved" || state == "rejected")
        .filter_map(|(submitted, decided, _)| {
            Some(calendar.working_days_between(day(&submitted)?, day(&decided)?))
        })
        .collect();
    Ok(RepairStatistics {
        applications: repairs.iter().map(|c| c.count).sum(),
        approved: count_of("approved"),
        rejected: count_of("rejected"),
        // One decimal: it is shown as it is.
        mean_working_days: (!days.is_empty()).then(|| {
            let mean = days.iter().map(|&d| f64::from(d)).sum::<f64>() / days.len() as f64;
            (mean * 10.0).round() / 10.0
        }),
        max_working_days: days.iter().copied().max(),
        by_state: repairs,
        objections,
    })
}

/// The header of the repaired-records file for the national platform.
pub const EXPORT_HEADER: [&str; 12] = [
    "统一社会信用代码",
    "主体名称",
    "信息类别",
    "认定部门",
    "决定日期",
    "记录",
    "行政处罚决定书文号",
    "修复申请编号",
    "申请日期",
    "修复决定日期",
    "修复决定理由",
    "信用承诺",
];

/// Every approved repair, one row each, for the national platform
/// (the credit centre); audited.
pub async fn export(state: &AppState, who: &Principal) -> Result<Vec<Vec<String>>, Failure> {
    require(state, who, Action::ViewRepairStatistics, "").await?;
    audit_read(state, who, "export_repairs", "").await?;
    let filter = CaseFilter {
        kind: Some("repair".into()),
        state: Some("approved".into()),
        ..CaseFilter::default()
    };
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let page = state.store.cases(&filter, offset, 1000).await?;
        if page.rows.is_empty() {
            break;
        }
        offset += page.rows.len() as i64;
        for case in page.rows {
            let name = entity_name(state, &case.uscc).await?;
            let events = state.store.case_events(case.id).await?;
            let decision = events.iter().rev().find(|e| e.state == "approved");
            let record = find_record(
                state,
                &case.uscc,
                &RecordRef {
                    item: case.item.clone(),
                    batch: case.batch_id,
                    row: case.source_row,
                },
            )
            .await?;
            let decision_number = record
                .as_ref()
                .and_then(|r| r.detail.get("decision_number"))
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let item = state.catalog.item(&case.item);
            let department = state.catalog.department(&case.department);
            rows.push(vec![
                case.uscc.clone(),
                name,
                item.map_or(case.item.clone(), |i| i.name_zh.clone()),
                department.map_or(case.department.clone(), |d| d.name_zh.clone()),
                case.record_date.clone(),
                case.record_title.clone(),
                decision_number,
                case.id.to_string(),
                case.submitted_at.clone(),
                decision.map_or(String::new(), |d| d.at.clone()),
                decision.map_or(String::new(), |d| d.reasons.clone()),
                case.commitment.clone(),
            ]);
        }
    }
    Ok(rows)
}
