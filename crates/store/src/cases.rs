//! Objections and credit repairs: an enterprise's case about one of its
//! records, the moves decided on it, the documents sent with it, and the
//! records withdrawn from publicity and sharing when a case ends so.
//!
//! `credit::objection` and `credit::repair` say which move is allowed and
//! by whom, and the server checks it before calling here. What the store
//! guarantees: one open case of a kind per record (a second is a
//! [`StoreError::Duplicate`]), and a move named by the state and version
//! it was decided on (a [`StoreError::Conflict`] if another got there
//! first), written with its event, its withdrawal and its audit entry in
//! one transaction.

use serde::Serialize;
use sqlx::Row;

use crate::warnings::{Conditions, Page};
use crate::{BatchWriter, EventRow, NewAuditEntry, Store, StoreError, duplicate_or, take_ids};

/// A case as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseRow {
    pub id: i64,
    /// `objection` or `repair`.
    pub kind: String,
    pub uscc: String,
    pub item: String,
    /// The department that owns the record.
    pub department: String,
    pub batch_id: i64,
    pub source_row: i64,
    pub record_title: String,
    pub record_date: String,
    pub ground: String,
    pub statement: String,
    pub commitment: String,
    pub state: String,
    pub open: bool,
    pub version: i64,
    pub submitted_at: String,
    pub submitted_by: String,
    /// The Beijing day the current step is due (none once closed).
    pub due_on: Option<String>,
    pub decided_at: Option<String>,
    pub updated_at: String,
    pub correction_batch: Option<i64>,
}

/// A case to open, in state `submitted`.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub kind: &'a str,
    pub uscc: &'a str,
    pub item: &'a str,
    pub department: &'a str,
    pub batch_id: i64,
    pub source_row: i64,
    pub record_title: &'a str,
    pub record_date: &'a str,
    pub ground: &'a str,
    pub statement: &'a str,
    pub commitment: &'a str,
    pub actor: &'a str,
    pub at: &'a str,
    pub due_on: &'a str,
}

/// A document sent with a case; its bytes are the caller's to keep.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseDocument {
    pub seq: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
}

/// One move of a case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CaseEventRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub state: String,
    pub reasons: String,
}

/// A move decided on a case in `from` at `version`.
#[derive(Debug, Clone)]
pub struct CaseMove<'a> {
    pub id: i64,
    pub from: &'a str,
    pub version: i64,
    pub to: &'a str,
    /// Whether the case is still open after the move.
    pub open: bool,
    /// The next step's due day, when the case stays open.
    pub due_on: Option<&'a str>,
    pub actor: &'a str,
    pub at: &'a str,
    pub reasons: &'a str,
    /// Withdraw the case's record from publicity and sharing, for this
    /// reason (`repaired`).
    pub withdraw: Option<&'a str>,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub kind: Option<String>,
    pub uscc: Option<String>,
    pub department: Option<String>,
    pub state: Option<String>,
    pub open: Option<bool>,
    /// Only open cases due before this day.
    pub overdue_on: Option<String>,
}

/// A corrected version of a case's record, written by the batch that
/// carries it: the objection becomes `corrected` and the original is
/// withdrawn, in the batch's transaction.
#[derive(Debug, Clone)]
pub struct Correction<'a> {
    pub case_id: i64,
    pub version: i64,
    pub actor: &'a str,
    pub at: &'a str,
    pub reasons: &'a str,
    pub audit: NewAuditEntry<'a>,
}

const CASE_COLUMNS: &str = "SELECT id, kind, uscc, item, department, batch_id, source_row,
    record_title, record_date, ground, statement, commitment, state, open, version,
    submitted_at, submitted_by, due_on, decided_at, updated_at, correction_batch
    FROM credit_cases";

fn case_row(r: &sqlx::any::AnyRow) -> CaseRow {
    let open: i64 = r.get("open");
    CaseRow {
        id: r.get("id"),
        kind: r.get("kind"),
        uscc: r.get("uscc"),
        item: r.get("item"),
        department: r.get("department"),
        batch_id: r.get("batch_id"),
        source_row: r.get("source_row"),
        record_title: r.get("record_title"),
        record_date: r.get("record_date"),
        ground: r.get("ground"),
        statement: r.get("statement"),
        commitment: r.get("commitment"),
        state: r.get("state"),
        open: open == 1,
        version: r.get("version"),
        submitted_at: r.get("submitted_at"),
        submitted_by: r.get("submitted_by"),
        due_on: r.get("due_on"),
        decided_at: r.get("decided_at"),
        updated_at: r.get("updated_at"),
        correction_batch: r.get("correction_batch"),
    }
}

impl Store {
    /// Opens a case with its first event, its documents and its audit
    /// entry, in one transaction; its id comes from the database. A second
    /// open case of the same kind for the same record is a
    /// [`StoreError::Duplicate`].
    pub async fn create_case(
        &self,
        case: &NewCase<'_>,
        documents: &[CaseDocument],
        audit: &NewAuditEntry<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = take_ids(&mut tx, "credit_cases", 1).await?;
        sqlx::query(
            "INSERT INTO credit_cases (id, kind, uscc, item, department, batch_id, source_row,
               record_title, record_date, ground, statement, commitment, state, open, version,
               submitted_at, submitted_by, due_on, decided_at, updated_at, correction_batch,
               last_event_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'submitted', 1, 1,
               $13, $14, $15, NULL, $13, NULL, 1)",
        )
        .bind(id)
        .bind(case.kind)
        .bind(case.uscc)
        .bind(case.item)
        .bind(case.department)
        .bind(case.batch_id)
        .bind(case.source_row)
        .bind(case.record_title)
        .bind(case.record_date)
        .bind(case.ground)
        .bind(case.statement)
        .bind(case.commitment)
        .bind(case.at)
        .bind(case.actor)
        .bind(case.due_on)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_or)?;
        insert_event(&mut tx, id, 1, case.at, case.actor, "submitted", "").await?;
        for document in documents {
            sqlx::query(
                "INSERT INTO credit_case_documents (case_id, seq, file_name, content_type, bytes, sha256)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(document.seq)
            .bind(&document.file_name)
            .bind(&document.content_type)
            .bind(document.bytes)
            .bind(&document.sha256)
            .execute(&mut *tx)
            .await?;
        }
        crate::audit::stage(&mut tx, audit, case.at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(id)
    }

    pub async fn case(&self, id: i64) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(&format!("{CASE_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(case_row))
    }

    /// A page of cases, newest first, with the number that match.
    pub async fn cases(
        &self,
        filter: &CaseFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<CaseRow>, StoreError> {
        let mut conditions = Conditions::default();
        conditions.equals("kind", filter.kind.as_deref());
        conditions.equals("uscc", filter.uscc.as_deref());
        conditions.equals("department", filter.department.as_deref());
        conditions.equals("state", filter.state.as_deref());
        match filter.open {
            Some(true) => conditions.with("open = 1", &[]),
            Some(false) => conditions.with("open = 0", &[]),
            None => {}
        }
        if let Some(day) = &filter.overdue_on {
            conditions.with("open = 1 AND due_on < {}", &[day]);
        }
        let clause = conditions.sql();
        let total: i64 = conditions
            .bind(sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM credit_cases{clause}"
            )))
            .fetch_one(&self.reads)
            .await?
            .get("n");
        let rows = conditions
            .bind(sqlx::query(&format!(
                "{CASE_COLUMNS}{clause} ORDER BY submitted_at DESC, id DESC LIMIT {} OFFSET {}",
                limit.max(0),
                offset.max(0)
            )))
            .fetch_all(&self.reads)
            .await?;
        Ok(Page {
            rows: rows.iter().map(case_row).collect(),
            total,
        })
    }

    pub async fn case_events(&self, id: i64) -> Result<Vec<CaseEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, state, reasons FROM credit_case_events
             WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| CaseEventRow {
                seq: r.get("seq"),
                at: r.get("at"),
                actor: r.get("actor"),
                state: r.get("state"),
                reasons: r.get("reasons"),
            })
            .collect())
    }

    pub async fn case_documents(&self, id: i64) -> Result<Vec<CaseDocument>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, file_name, content_type, bytes, sha256 FROM credit_case_documents
             WHERE case_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| CaseDocument {
                seq: r.get("seq"),
                file_name: r.get("file_name"),
                content_type: r.get("content_type"),
                bytes: r.get("bytes"),
                sha256: r.get("sha256"),
            })
            .collect())
    }

    /// Moves a case, with its event, the withdrawal of its record when the
    /// move asks for it, and the audit entry, in one transaction; a
    /// [`StoreError::Conflict`] when the case is no longer in `from` at
    /// `version`.
    pub async fn move_case(
        &self,
        change: &CaseMove<'_>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        move_in(&mut tx, change, None).await?;
        if let Some(reason) = change.withdraw {
            withdraw(&mut tx, change.id, reason, change.at).await?;
        }
        crate::audit::stage(&mut tx, audit, change.at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(())
    }

    /// Every withdrawn record: (item, batch, row).
    pub async fn withdrawals(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT item, batch_id, source_row FROM record_withdrawals ORDER BY item, batch_id, source_row",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("item"), r.get("batch_id"), r.get("source_row")))
            .collect())
    }

    /// Cases of a kind by state: (state, count).
    pub async fn case_counts(&self, kind: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM credit_cases WHERE kind = $1 GROUP BY state ORDER BY state",
        )
        .bind(kind)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(|r| (r.get("state"), r.get("n"))).collect())
    }

    /// Closed cases of a kind: (submitted_at, decided_at, state).
    pub async fn decided_cases(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT submitted_at, decided_at, state FROM credit_cases
             WHERE kind = $1 AND decided_at IS NOT NULL ORDER BY decided_at",
        )
        .bind(kind)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("submitted_at"), r.get("decided_at"), r.get("state")))
            .collect())
    }
}

impl Store {
    /// Event records of `item` after `after_id` in id order, at most
    /// `limit`, leaving out the withdrawn: (id, code, record). The open-data
    /// files page through them by id; whether each is within its publicity
    /// period is the caller's (`publicity_until`).
    pub async fn item_events_after(
        &self,
        item: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, EventRow)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.id, e.uscc, e.item, e.event_date, e.title, e.detail, e.department,
               e.batch_id, e.source_row, e.publicity_until, CAST(NULL AS TEXT) AS withdrawn, c.id AS objection
             FROM events e
             LEFT JOIN credit_cases c ON c.kind = 'objection' AND c.open = 1 AND c.item = e.item
               AND c.batch_id = e.batch_id AND c.source_row = e.source_row
             WHERE e.item = $1 AND e.id > $2 AND NOT EXISTS (SELECT 1 FROM record_withdrawals w
               WHERE w.item = e.item AND w.batch_id = e.batch_id AND w.source_row = e.source_row)
             ORDER BY e.id LIMIT {}",
            limit.clamp(0, 10_000)
        ))
        .bind(item)
        .bind(after_id)
        .fetch_all(&self.reads)
        .await?;
        rows.iter()
            .map(|r| Ok((r.get("id"), r.get("uscc"), crate::event_row(r)?)))
            .collect()
    }
}

impl BatchWriter {
    /// Makes this batch the corrected version of an objection's record: the
    /// objection becomes `corrected` (if it is still `accepted` at the
    /// version named) and the original is withdrawn, in the batch's
    /// transaction, so that the batch and the decision stand or fall
    /// together. The audit entry is staged; the caller flushes it after
    /// the commit.
    pub async fn correct(&mut self, correction: &Correction<'_>) -> Result<(), StoreError> {
        let change = CaseMove {
            id: correction.case_id,
            from: "accepted",
            version: correction.version,
            to: "corrected",
            open: false,
            due_on: None,
            actor: correction.actor,
            at: correction.at,
            reasons: correction.reasons,
            withdraw: None,
        };
        let batch = self.batch_id;
        move_in(&mut self.tx, &change, Some(batch)).await?;
        withdraw(&mut self.tx, correction.case_id, "corrected", correction.at).await?;
        crate::audit::stage(&mut self.tx, &correction.audit, correction.at).await
    }
}

/// The move itself and its event.
async fn move_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    change: &CaseMove<'_>,
    correction_batch: Option<i64>,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "UPDATE credit_cases SET state = $1, open = $2, due_on = $3, updated_at = $4,
           decided_at = CASE WHEN $2 = 0 THEN $4 ELSE decided_at END,
           correction_batch = COALESCE(CAST($5 AS BIGINT), correction_batch),
           version = version + 1, last_event_seq = last_event_seq + 1
         WHERE id = $6 AND state = $7 AND version = $8 RETURNING last_event_seq",
    )
    .bind(change.to)
    .bind(i64::from(change.open))
    .bind(change.due_on)
    .bind(change.at)
    .bind(correction_batch)
    .bind(change.id)
    .bind(change.from)
    .bind(change.version)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::Conflict(format!(
            "case {} is no longer {} at version {}",
            change.id, change.from, change.version
        )));
    };
    let seq: i64 = row.get("last_event_seq");
    insert_event(
        tx,
        change.id,
        seq,
        change.at,
        change.actor,
        change.to,
        change.reasons,
    )
    .await
}

/// Withdraws a case's record.
async fn withdraw(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    case_id: i64,
    reason: &str,
    at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO record_withdrawals (item, batch_id, source_row, uscc, reason, case_id, at)
         SELECT item, batch_id, source_row, uscc, $1, id, $2 FROM credit_cases WHERE id = $3",
    )
    .bind(reason)
    .bind(at)
    .bind(case_id)
    .execute(&mut **tx)
    .await
    .map_err(duplicate_or)?;
    Ok(())
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    seq: i64,
    at: &str,
    actor: &str,
    state: &str,
    reasons: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO credit_case_events (case_id, seq, at, actor, state, reasons)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(state)
    .bind(reasons)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
