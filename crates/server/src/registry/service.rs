//! What the registry's pages and API show, assembled once for both:
//! profiles (full and public), search results, batches, quality, uploads.
//! Each function checks who may see it and says what it audits.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use domain::Uscc;
use domain::catalog::{Item, Publicity};
use ingest::FileFormat;
use ingest::batch::{BatchRequest, BatchResult, Known};
use serde::Serialize;
use store::{BatchRow, EntityRow, EventRow, SummaryRow};

use crate::access::{Action, Principal, allows};
use crate::http::Failure;
use crate::http::forms::clean_file_name;
use crate::service::{audit_read, require};
use crate::{AppState, secrets};

/// The code in the canonical form, or a clear refusal.
pub fn parse_uscc(text: &str) -> Result<Uscc, Failure> {
    Uscc::parse_input(text)
        .map(|p| p.value)
        .map_err(|e| Failure::NotFound(format!("'{text}' is not a valid code: {e}")))
}

/// A department the catalog knows (`tax`, `samr`), parsed at the edge: a
/// service is never handed one that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentId(String);

impl DepartmentId {
    pub fn parse(catalog: &domain::Catalog, text: &str) -> Result<DepartmentId, Failure> {
        let text = text.trim();
        catalog
            .department(text)
            .map(|d| DepartmentId(d.id.clone()))
            .ok_or_else(|| Failure::NotFound(format!("no department '{text}'")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub uscc: String,
    pub name: String,
    pub status: String,
    pub division: String,
    pub industry: String,
}

/// The most hits a search returns.
pub const SEARCH_LIMIT: i64 = 50;

/// Entities by a code or its first characters, or by any part of the name.
pub async fn search(state: &Arc<AppState>, text: &str) -> Result<Vec<SearchHit>, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if text.chars().count() > 100 {
        return Err(Failure::BadRequest(
            "a search is at most 100 characters".into(),
        ));
    }
    let code = text.to_ascii_uppercase();
    let looks_like_code = code.len() >= 2
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
    let mut rows = if looks_like_code {
        state
            .store
            .entities_with_code_prefix(&code, SEARCH_LIMIT)
            .await?
    } else {
        Vec::new()
    };
    if rows.is_empty() {
        let index = state.name_index().await;
        let hits = index
            .as_ref()
            .and_then(|i| i.search(text, SEARCH_LIMIT as usize));
        rows = match hits {
            Some(codes) => state.store.entities_with_codes(&codes).await?,
            // No index yet, or a single character: ask the database.
            None => {
                state
                    .store
                    .entities_with_name_containing(text, SEARCH_LIMIT)
                    .await?
            }
        };
    }
    Ok(rows
        .into_iter()
        .map(|e| {
            let (division, industry) = names(&e);
            SearchHit {
                status: e.status,
                division,
                industry,
                uscc: e.uscc,
                name: e.name,
            }
        })
        .collect())
}

/// An item's yearly summaries, for one chart and table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemSeries {
    pub item: String,
    pub name_zh: String,
    pub name_en: String,
    pub department: String,
    /// What the yearly amount adds up (the summarised field's name).
    pub measure: String,
    #[schema(value_type = Vec<Object>)]
    pub years: Vec<SummaryRow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    pub item: String,
    pub name_zh: String,
    pub name_en: String,
    pub category: String,
    #[schema(value_type = Object)]
    pub record: EventRow,
    /// The record's fields in the catalog's order, with their names (for a
    /// penalty: decision number, facts, legal basis, amount, authority…).
    pub fields: Vec<FieldValue>,
    /// An objection to it is open: shown "under objection" wherever it
    /// appears.
    pub under_objection: bool,
    /// `item:batch:row`, how objections and repairs name it.
    pub reference: String,
}

/// One field of a record, named.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldValue {
    pub field: String,
    pub name_zh: String,
    pub value: String,
}

/// Everything known of an entity, for those allowed to see it all.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    #[schema(value_type = Object)]
    pub entity: EntityRow,
    pub division_name: String,
    pub industry_name: String,
    pub series: Vec<ItemSeries>,
    pub events: Vec<TimelineEvent>,
    /// For those who may not read internal records (the entity itself):
    /// how many complaints and reports name it, by month and category,
    /// without texts, ticket numbers, channels or who made them.
    pub complaint_counts: Vec<ComplaintCount>,
    /// For the entity itself: the records it may contest, and those it may
    /// ask to have repaired today (`item:batch:row`).
    pub contestable: Vec<String>,
    pub repairable: Vec<String>,
}

/// Complaints and reports naming an entity in one month and category.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct ComplaintCount {
    /// `YYYY-MM`.
    pub month: String,
    pub category: String,
    pub count: u32,
}

/// What may be published of an entity: registry basics and the records of
/// items the catalog publishes, within their publicity periods.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicProfile {
    pub uscc: String,
    pub name: String,
    pub entity_type: String,
    pub legal_representative: String,
    pub registered_capital: Option<f64>,
    pub established_on: String,
    pub status: String,
    pub address: String,
    pub division_name: String,
    pub industry_name: String,
    pub events: Vec<TimelineEvent>,
}

pub(crate) fn timeline_event(item: Option<&Item>, record: EventRow) -> TimelineEvent {
    // The subject is the page's own entity: not repeated per record.
    let fields = item.map_or(Vec::new(), |item| {
        item.fields
            .iter()
            .filter(|f| f.name != "subject")
            .filter_map(|f| {
                let value = record.detail.get(&f.name)?.as_str()?;
                Some(FieldValue {
                    field: f.name.clone(),
                    name_zh: f.name_zh.clone(),
                    value: value.to_string(),
                })
            })
            .collect()
    });
    TimelineEvent {
        fields,
        under_objection: record.objection.is_some(),
        reference: format!("{}:{}:{}", record.item, record.batch_id, record.source_row),
        item: record.item.clone(),
        name_zh: item.map_or(record.item.clone(), |i| i.name_zh.clone()),
        name_en: item.map_or(record.item.clone(), |i| i.name_en.clone()),
        category: item.map_or(String::new(), |i| {
            format!("{:?}", i.category).to_lowercase()
        }),
        record,
    }
}

/// Whether a stored event may be shown to the public on `today`: an item
/// the catalog publishes, within its period, and not withdrawn (repaired,
/// or replaced by its correction).
pub fn published(item: &Item, event: &EventRow, today: &str) -> bool {
    event.withdrawn.is_none() && published_until(item, event.publicity_until.as_deref(), today)
}

/// Whether a record of `item` whose publicity ends `until` is published on
/// `today`.
pub fn published_until(item: &Item, until: Option<&str>, today: &str) -> bool {
    match &item.publicity {
        Publicity::Public => true,
        // `until` is the first day it is no longer published
        // (`PublicityPeriod::Published`); no end date: the decision was not
        // to be published at all.
        Publicity::PenaltyPeriod { .. } => until.is_some_and(|until| until > today),
        // No end date: still listed.
        Publicity::WhileListed { .. } => until.is_none_or(|until| until >= today),
        Publicity::Consent | Publicity::Internal => false,
    }
}

/// The Chinese names of an entity's division and industry (the codes when
/// unknown).
fn names(entity: &EntityRow) -> (String, String) {
    (
        domain::division::lookup(&entity.division)
            .map_or(entity.division.clone(), |d| d.name_zh.to_string()),
        domain::industry::division(&entity.industry)
            .map_or(entity.industry.clone(), |d| d.name_zh.to_string()),
    )
}

/// The full profile; audited as a view of non-public data.
pub async fn profile(state: &AppState, who: &Principal, uscc: &Uscc) -> Result<Profile, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ViewEntity { uscc }, uscc).await?;
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    state
        .audit(&who.actor, "view_entity", uscc, "ok", serde_json::json!({}))
        .await?;
    let summaries = state.store.summaries(uscc).await?;
    let mut series: Vec<ItemSeries> = Vec::new();
    for row in summaries {
        if series.last().is_none_or(|s| s.item != row.item) {
            let item = state.catalog.item(&row.item);
            series.push(ItemSeries {
                item: row.item.clone(),
                name_zh: item.map_or(row.item.clone(), |i| i.name_zh.clone()),
                name_en: item.map_or(row.item.clone(), |i| i.name_en.clone()),
                department: item.map_or(String::new(), |i| i.department.clone()),
                measure: item
                    .and_then(ingest::batch::summary_field)
                    .map_or(String::new(), |f| f.name_zh.clone()),
                years: Vec::new(),
            });
        }
        if let Some(last) = series.last_mut() {
            last.years.push(row);
        }
    }
    let sees_internal = allows(who, Action::ViewInternalRecords);
    let internal = |item: &str| {
        state
            .catalog
            .item(item)
            .is_none_or(|i| matches!(i.publicity, Publicity::Internal))
    };
    if !sees_internal {
        series.retain(|s| !internal(&s.item));
    }
    let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut events: Vec<TimelineEvent> = Vec::new();
    for event in state.store.events(uscc).await? {
        if sees_internal || !internal(&event.item) {
            events.push(timeline_event(state.catalog.item(&event.item), event));
            continue;
        }
        if state
            .catalog
            .item(&event.item)
            .is_some_and(|i| i.category == domain::catalog::Category::Complaint)
        {
            let month = event.event_date.get(..7).unwrap_or_default().to_string();
            let category = event.detail["category"].as_str().unwrap_or_default();
            *counts.entry((month, category.to_string())).or_default() += 1;
        }
    }
    events.reverse();
    let complaint_counts = counts
        .into_iter()
        .rev()
        .map(|((month, category), count)| ComplaintCount {
            month,
            category,
            count,
        })
        .collect();
    let (mut contestable, mut repairable) = (Vec::new(), Vec::new());
    if allows(who, Action::ContestRecord { uscc }) {
        let today = crate::beijing_date(chrono::Utc::now());
        for event in &events {
            let Some(item) = state.catalog.item(&event.item) else {
                continue;
            };
            if event.record.withdrawn.is_some() || !crate::credit_cases::service::contestable(item)
            {
                continue;
            }
            contestable.push(event.reference.clone());
            if crate::credit_cases::service::repairable(item, &event.record, today).is_ok() {
                repairable.push(event.reference.clone());
            }
        }
    }
    let (division_name, industry_name) = names(&entity);
    Ok(Profile {
        entity,
        division_name,
        industry_name,
        series,
        events,
        complaint_counts,
        contestable,
        repairable,
    })
}

pub async fn public_profile(
    state: &AppState,
    uscc: &Uscc,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PublicProfile, Failure> {
    let uscc = uscc.as_str();
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    let today = now.date_naive().to_string();
    let mut events: Vec<TimelineEvent> = state
        .store
        .events(uscc)
        .await?
        .into_iter()
        .filter_map(|mut e| {
            let item = state.catalog.item(&e.item)?;
            // That an objection is open is public; its case is not.
            let under_objection = e.objection.take().is_some();
            published(item, &e, &today).then(|| TimelineEvent {
                under_objection,
                ..timeline_event(Some(item), e)
            })
        })
        .collect();
    events.reverse();
    let (division_name, industry_name) = names(&entity);
    Ok(PublicProfile {
        uscc: entity.uscc,
        name: entity.name,
        entity_type: entity.entity_type,
        legal_representative: entity.legal_representative,
        registered_capital: entity.registered_capital,
        established_on: entity.established_on,
        status: entity.status,
        address: entity.address,
        division_name,
        industry_name,
        events,
    })
}

/// The batches `who` may see, newest first.
pub async fn visible_batches(state: &AppState, who: &Principal) -> Result<Vec<BatchRow>, Failure> {
    require(state, who, Action::ListBatches, "").await?;
    audit_read(state, who, "view_batches", "").await?;
    let mut batches = state.store.batches().await?;
    batches.retain(|b| {
        allows(
            who,
            Action::ViewBatch {
                department: &b.department,
            },
        )
    });
    batches.reverse();
    Ok(batches)
}

/// A batch `who` may see, audited. Permission is decided before existence
/// is told: a department asking for a batch that does not exist is denied
/// just as for another department's, so it cannot probe for ids.
pub async fn batch(state: &AppState, who: &Principal, id: i64) -> Result<BatchRow, Failure> {
    let batch = state.store.batch(id).await?;
    let department = batch.as_ref().map_or("", |b| b.department.as_str());
    require(
        state,
        who,
        Action::ViewBatch { department },
        &format!("batch:{id}"),
    )
    .await?;
    let Some(batch) = batch else {
        return Err(Failure::NotFound(format!("batch {id}")));
    };
    state
        .audit(
            &who.actor,
            "view_batch",
            &format!("batch:{id}"),
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(batch)
}

/// Refused rows on a page of a batch's report.
pub const REFUSED_PAGE: usize = 50;

/// One row a batch refused, named for the department that sent it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusedRow {
    /// The row's number in the file sent.
    pub row: i64,
    pub reason: String,
    pub reason_zh: String,
    pub reason_en: String,
    pub field: Option<String>,
    pub field_zh: Option<String>,
    pub message: String,
    /// The row as sent, in the item's field order.
    pub original: Vec<String>,
}

/// A page of a batch's refused rows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefusedRows {
    pub batch: i64,
    pub item: String,
    /// The item's fields, the columns of `original`.
    pub fields: Vec<String>,
    pub rows: Vec<RefusedRow>,
    pub total: i64,
    pub offset: usize,
}

/// The refused rows of a batch `who` may see (checked and audited by
/// [`batch`]), from `offset`, at most `limit` (all when `None`).
pub async fn refused_rows(
    state: &Arc<AppState>,
    batch: &BatchRow,
    offset: usize,
    limit: Option<usize>,
) -> Result<RefusedRows, Failure> {
    let item = state.catalog.item(&batch.item);
    let name_of = move |field: &str| item.and_then(|i| i.field(field)).map(|f| f.name_zh.clone());
    let end = limit.map_or(usize::MAX, |l| offset.saturating_add(l));
    let reader = Arc::clone(state);
    let (item_id, id) = (batch.item.clone(), batch.id);
    let read = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        let mut at = 0;
        reader
            .lake
            .for_each_quarantined(&item_id, id, &mut |row| {
                if at >= offset {
                    rows.push(row);
                }
                at += 1;
                at < end
            })
            .map(|()| rows)
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let rows = read
        .into_iter()
        .map(|row| {
            let (reason_zh, reason_en) = ingest::Reason::parse(&row.reason)
                .map_or((row.reason.as_str(), row.reason.as_str()), |r| r.names());
            RefusedRow {
                reason_zh: reason_zh.to_string(),
                reason_en: reason_en.to_string(),
                field_zh: row.field.as_deref().and_then(name_of),
                row: row.row,
                reason: row.reason,
                field: row.field,
                message: row.message,
                original: row.original,
            }
        })
        .collect();
    Ok(RefusedRows {
        batch: batch.id,
        item: batch.item.clone(),
        fields: item.map_or(Vec::new(), |i| {
            i.fields.iter().map(|f| f.name.clone()).collect()
        }),
        rows,
        total: batch.quarantined,
        offset,
    })
}

/// Quality per item, of one department or (for the credit centre) all.
pub async fn quality(
    state: &AppState,
    who: &Principal,
    department: Option<&DepartmentId>,
) -> Result<Vec<ingest::quality::Quality>, Failure> {
    let department = department.map(DepartmentId::as_str);
    require(
        state,
        who,
        Action::ViewQuality { department },
        department.unwrap_or("all"),
    )
    .await?;
    let batches = state.store.batches().await?;
    state
        .audit(
            &who.actor,
            "view_quality",
            department.unwrap_or("all"),
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(ingest::quality::quality(&batches, department))
}

/// Ingests an uploaded file as one batch of `department`'s `item`.
/// The file is written under the data directory with a random name (the
/// sender's name is only recorded), ingested, and removed.
pub async fn upload(
    state: &AppState,
    who: &Principal,
    department: &DepartmentId,
    item: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<BatchResult, Failure> {
    let department = department.as_str();
    require(state, who, Action::Upload { department }, department).await?;
    let file_name = clean_file_name(file_name);
    let Some(catalog_item) = state.catalog.item(item) else {
        return Err(Failure::BadRequest(format!("no catalog item '{item}'")));
    };
    if catalog_item.department != department {
        return Err(Failure::BadRequest(format!(
            "item '{item}' is not one of department {department}'s items"
        )));
    }
    let Some(format) = FileFormat::from_path(Path::new(&file_name)) else {
        return Err(Failure::BadRequest(format!(
            "{file_name}: cannot tell the format from the name (use .csv, .jsonl or .xlsx)"
        )));
    };
    if bytes.is_empty() {
        return Err(Failure::BadRequest(format!(
            "{file_name}: the file is empty"
        )));
    }
    let uploads = state.config.data_dir.join("uploads");
    std::fs::create_dir_all(&uploads)
        .map_err(|e| Failure::Internal(format!("cannot create {}: {e}", uploads.display())))?;
    let extension = Path::new(&file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv")
        .to_ascii_lowercase();
    let random = secrets::random_hex(16).map_err(|e| Failure::Internal(e.to_string()))?;
    let path = uploads.join(format!("{random}.{extension}"));
    std::fs::write(&path, bytes)
        .map_err(|e| Failure::Internal(format!("cannot write {}: {e}", path.display())))?;
    let request = BatchRequest {
        path: path.clone(),
        department: department.to_string(),
        item: item.to_string(),
        format,
        encoding: None,
        file_name: Some(file_name.clone()),
        replaces: None,
    };
    let result = ingest_locked(state, request).await;
    let _ = std::fs::remove_file(&path);
    let (outcome, detail, subject) = match &result {
        Ok(BatchResult::Committed(b)) => (
            "ok",
            serde_json::json!({"file": file_name, "rows": b.rows_in}),
            format!("batch:{}", b.id),
        ),
        Ok(BatchResult::AlreadyIngested(b)) => (
            "ok",
            serde_json::json!({"file": file_name, "already_ingested": true}),
            format!("batch:{}", b.id),
        ),
        Err(e) => (
            "failed",
            serde_json::json!({"file": file_name, "error": e}),
            department.to_string(),
        ),
    };
    state
        .audit(&who.actor, "upload", &subject, outcome, detail)
        .await?;
    // A refused file is the sender's to fix: say why, naming their file.
    result.map_err(|message| {
        Failure::BadRequest(message.replace(&path.display().to_string(), &file_name))
    })
}

/// How long an upload waits for another process's ingest (a `xinyong
/// ingest` on the same data directory) before it is refused.
const LAKE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The lake's write lock for one upload or result, taken once the caller
/// holds `state.ingest`'s lock: waits up to [`LAKE_LOCK_WAIT`] for another
/// process, then refuses, naming it.
pub(crate) async fn lake_lock(state: &AppState) -> Result<lake::WriteLock, String> {
    let until = std::time::Instant::now() + LAKE_LOCK_WAIT;
    loop {
        if let Some(lock) = ingest::batch::lock(&state.store, &state.lake, false)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(lock);
        }
        if std::time::Instant::now() >= until {
            return Err(format!(
                "{}; try again when it has finished",
                ingest::batch::busy_message(&state.lake)
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The shared registry snapshot, taken anew when someone else has ingested
/// since it was taken. The caller holds `state.ingest`'s lock and the lake's.
pub(crate) async fn fresh_known<'a>(
    state: &AppState,
    guard: &'a mut Option<(i64, Known)>,
) -> Result<&'a mut (i64, Known), String> {
    let latest = state.store.batch_mark().await.map_err(|e| e.to_string())?;
    if guard.as_ref().is_none_or(|(seen, _)| *seen != latest) {
        let known = Known::load(&state.store).await.map_err(|e| e.to_string())?;
        *guard = Some((latest, known));
    }
    guard
        .as_mut()
        .ok_or_else(|| "no registry snapshot".to_string())
}

/// After this process committed `committed` batches through the shared
/// snapshot, which holds them: it stays, marked fresh, if the change mark
/// moved by exactly those (no one else ingested meanwhile); otherwise it is
/// reloaded next time.
pub(crate) async fn keep_if_fresh(
    state: &AppState,
    guard: &mut Option<(i64, Known)>,
    committed: usize,
) {
    let Some(seen) = guard.as_ref().map(|(seen, _)| *seen) else {
        return;
    };
    match state.store.batch_mark().await {
        Ok(mark) if mark == seen + committed as i64 => {
            if let Some(held) = guard.as_mut() {
                held.0 = mark;
            }
        }
        _ => *guard = None,
    }
}

pub(crate) async fn ingest_locked(
    state: &AppState,
    request: BatchRequest,
) -> Result<BatchResult, String> {
    let mut guard = state.ingest.lock().await;
    let lock = lake_lock(state).await?;
    let (_, known) = fresh_known(state, &mut guard).await?;
    let result = ingest::batch::ingest(
        &state.store,
        &state.lake,
        &lock,
        &state.catalog,
        known,
        request,
    )
    .await;
    match &result {
        Ok(BatchResult::Committed(_)) => keep_if_fresh(state, &mut guard, 1).await,
        // The snapshot may be ahead of or behind the store now: reload next time.
        Err(_) => *guard = None,
        Ok(BatchResult::AlreadyIngested(_)) => {}
    }
    result.map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use domain::publicity::{PenaltyFacts, PublicityPolicy, PublicityStatus, Severity};

    /// The public pages agree with `domain::publicity` day by day: a
    /// penalty is shown from its decision to the day before its period
    /// ends, as the stored end (the first day it is no longer published)
    /// says.
    #[test]
    fn a_penalty_is_public_exactly_within_its_period() {
        let catalog = domain::Catalog::default_catalog();
        let item = catalog.item("admin_penalty").unwrap();
        let policy = PublicityPolicy::default();
        let decided: chrono::NaiveDate = "2025-01-31".parse().unwrap();
        for severity in [Severity::General, Severity::Serious] {
            let period = policy.penalty_period(&PenaltyFacts {
                severity,
                simple_procedure: false,
                warning_only: false,
                decision_date: decided,
            });
            let domain::publicity::PublicityPeriod::Published { until, .. } = period else {
                panic!("a {severity:?} penalty is published");
            };
            let stored = until.to_string();
            for offset in 0..1200 {
                let day = decided + chrono::Days::new(offset);
                let shown = published_until(item, Some(&stored), &day.to_string());
                let public = period.status_on(day, None) == PublicityStatus::Published;
                assert_eq!(shown, public, "{severity:?} on {day}");
            }
        }
        assert!(!published_until(item, None, "2025-02-01"));
    }
}
