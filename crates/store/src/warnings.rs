//! Early warning from complaints: the detectors' signals and the warnings
//! drafted from them, with their moves.
//!
//! The store keeps plain rows; `complaints::warning` says which move is
//! allowed and by whom, and the server checks it before calling here. What
//! the store guarantees is the order: a move names the state and version it
//! was decided on, and is a conflict if another got there first.

use serde::Serialize;
use sqlx::Row;

use crate::{NewAuditEntry, Store, StoreError, bind_number, take_ids};

/// A detector's alarm with its evidence (JSON), as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignalRow {
    pub id: i64,
    pub detector: String,
    /// Empty for repeat complaints, which count every category.
    pub category: String,
    /// business, town, district, industry or towns.
    pub place_level: String,
    /// The code (a USCC, a division, an industry), or the cluster's towns
    /// joined by `,`, its centre first.
    pub place: String,
    pub first_day: String,
    pub last_day: String,
    pub observed: i64,
    pub expected: f64,
    pub statistic: f64,
    pub p_value: Option<f64>,
    pub evidence: String,
    pub detected_at: String,
}

/// What [`Store::save_signals`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SavedSignals {
    pub added: usize,
    pub updated: usize,
}

/// Which signals to list.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    pub detector: Option<String>,
    pub category: Option<String>,
    pub place_level: Option<String>,
    /// First days on or after.
    pub from: Option<String>,
    /// First days on or before.
    pub to: Option<String>,
    /// Only those no warning has been drafted from yet.
    pub undrafted: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub signal_id: Option<i64>,
    /// The warning this one corrects.
    pub supersedes: Option<i64>,
    /// business (a USCC), department (its id), association (its name) or
    /// public.
    pub recipient_kind: String,
    pub recipient: String,
    pub title: String,
    pub body: String,
    pub evidence: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub last_editor: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
}

/// A state a warning entered, or an edit (state unchanged, version up).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningEventRow {
    pub warning_id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub state: String,
    pub version: i64,
    pub reason: String,
}

/// A warning to draft.
#[derive(Debug, Clone)]
pub struct NewWarning<'a> {
    pub kind: &'a str,
    pub signal_id: Option<i64>,
    pub supersedes: Option<i64>,
    pub recipient_kind: &'a str,
    pub recipient: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub evidence: &'a str,
    pub actor: &'a str,
    pub at: &'a str,
}

/// An edit of a draft, made on `version`.
#[derive(Debug, Clone)]
pub struct WarningEdit<'a> {
    pub id: i64,
    pub version: i64,
    pub recipient_kind: &'a str,
    pub recipient: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub actor: &'a str,
    pub at: &'a str,
}

/// A move, decided on the warning as it was in `from` at `version`.
#[derive(Debug, Clone)]
pub struct WarningMove<'a> {
    pub id: i64,
    pub from: &'a str,
    pub version: i64,
    pub to: &'a str,
    pub actor: &'a str,
    pub at: &'a str,
    pub reason: &'a str,
    /// When the move sends a correction: the warning it supersedes, the
    /// states that one may be in, and the reason its own event records.
    pub supersede: Option<(i64, &'a [&'a str], &'a str)>,
}

/// Which warnings to list.
#[derive(Debug, Clone, Default)]
pub struct WarningFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    /// Only those to this recipient (kind, id).
    pub recipient: Option<(String, String)>,
    /// Only those issued (sent, and whatever followed).
    pub issued: bool,
    /// Only those overdue: acknowledgement not given by the first instant,
    /// or resolution by the second (sent before them, RFC 3339, UTC).
    pub overdue_before: Option<(String, String)>,
    pub signal_id: Option<i64>,
}

/// A page of rows and how many match in all.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

const SIGNAL_COLUMNS: &str =
    "SELECT id, detector, category, place_level, place, first_day, last_day,
    observed, expected, statistic, p_value, evidence, detected_at FROM complaint_signals";

const WARNING_COLUMNS: &str = "SELECT id, kind, state, signal_id, supersedes, recipient_kind,
    recipient, title, body, evidence, version, created_at, created_by, last_editor, updated_at,
    sent_at FROM warnings";

const ISSUED: &str = "('sent', 'acknowledged', 'resolved', 'superseded', 'withdrawn')";

/// A WHERE clause built from optional conditions, each with its one
/// text parameter.
#[derive(Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    values: Vec<String>,
}

impl Conditions {
    /// Adds `column = $n`.
    pub(crate) fn equals(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.values.push(value.to_string());
            self.clauses
                .push(format!("{column} = ${}", self.values.len()));
        }
    }

    /// Adds a clause with `{}` for each of its parameters, in order.
    pub(crate) fn with(&mut self, clause: &str, values: &[&str]) {
        let mut text = clause.to_string();
        for value in values {
            self.values.push((*value).to_string());
            text = text.replacen("{}", &format!("${}", self.values.len()), 1);
        }
        self.clauses.push(text);
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub(crate) fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = query.bind(value.as_str());
        }
        query
    }
}

impl Store {
    /// Stores the signals of a detection run in one transaction: a signal
    /// already stored (same detector, category, place and first day) is
    /// updated with what the later run saw; any other is added with an id
    /// from the database.
    pub async fn save_signals(&self, signals: &[SignalRow]) -> Result<SavedSignals, StoreError> {
        let mut saved = SavedSignals::default();
        let mut tx = self.write().await?;
        let mut added = Vec::new();
        for signal in signals {
            let query = sqlx::query(
                "UPDATE complaint_signals SET last_day = $1, observed = $2, expected = $3,
                   statistic = $4, p_value = $5, evidence = $6, detected_at = $7
                 WHERE detector = $8 AND category = $9 AND place_level = $10 AND place = $11
                   AND first_day = $12",
            )
            .bind(&signal.last_day)
            .bind(signal.observed)
            .bind(signal.expected)
            .bind(signal.statistic);
            let updated = bind_number(query, signal.p_value)
                .bind(&signal.evidence)
                .bind(&signal.detected_at)
                .bind(&signal.detector)
                .bind(&signal.category)
                .bind(&signal.place_level)
                .bind(&signal.place)
                .bind(&signal.first_day)
                .execute(&mut *tx)
                .await?;
            if updated.rows_affected() > 0 {
                saved.updated += 1;
            } else {
                added.push(signal);
            }
        }
        if !added.is_empty() {
            let first = take_ids(&mut tx, "complaint_signals", added.len()).await?;
            for (id, signal) in (first..).zip(added) {
                let query = sqlx::query(
                    "INSERT INTO complaint_signals (id, detector, category, place_level, place,
                       first_day, last_day, observed, expected, statistic, p_value, evidence,
                       detected_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(id)
                .bind(&signal.detector)
                .bind(&signal.category)
                .bind(&signal.place_level)
                .bind(&signal.place)
                .bind(&signal.first_day)
                .bind(&signal.last_day)
                .bind(signal.observed)
                .bind(signal.expected)
                .bind(signal.statistic);
                bind_number(query, signal.p_value)
                    .bind(&signal.evidence)
                    .bind(&signal.detected_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::duplicate_or)?;
                saved.added += 1;
            }
        }
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn signal(&self, id: i64) -> Result<Option<SignalRow>, StoreError> {
        let row = sqlx::query(&format!("{SIGNAL_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(signal_row))
    }

    /// Signals as the filter says, newest first day first.
    pub async fn signals(
        &self,
        filter: &SignalFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<SignalRow>, StoreError> {
        let mut conditions = Conditions::default();
        conditions.equals("detector", filter.detector.as_deref());
        conditions.equals("category", filter.category.as_deref());
        conditions.equals("place_level", filter.place_level.as_deref());
        if let Some(from) = &filter.from {
            conditions.with("first_day >= {}", &[from]);
        }
        if let Some(to) = &filter.to {
            conditions.with("first_day <= {}", &[to]);
        }
        if filter.undrafted {
            conditions.with(
                "NOT EXISTS (SELECT 1 FROM warnings w WHERE w.signal_id = complaint_signals.id)",
                &[],
            );
        }
        let clause = conditions.sql();
        let total: i64 = conditions
            .bind(sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM complaint_signals{clause}"
            )))
            .fetch_one(&self.reads)
            .await?
            .get("n");
        let rows = conditions
            .bind(sqlx::query(&format!(
                "{SIGNAL_COLUMNS}{clause} ORDER BY first_day DESC, id DESC LIMIT {} OFFSET {}",
                limit.max(0),
                offset.max(0)
            )))
            .fetch_all(&self.reads)
            .await?;
        Ok(Page {
            rows: rows.iter().map(signal_row).collect(),
            total,
        })
    }

    /// Drafts a warning with its first event and audit entry, in one
    /// transaction; its id comes from the database.
    pub async fn create_warning(
        &self,
        warning: &NewWarning<'_>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = take_ids(&mut tx, "warnings", 1).await?;
        sqlx::query(
            "INSERT INTO warnings (id, kind, state, signal_id, supersedes, recipient_kind,
               recipient, title, body, evidence, version, created_at, created_by, last_editor,
               updated_at, sent_at, last_event_seq)
             VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $11, $10, NULL, 1)",
        )
        .bind(id)
        .bind(warning.kind)
        .bind(warning.signal_id)
        .bind(warning.supersedes)
        .bind(warning.recipient_kind)
        .bind(warning.recipient)
        .bind(warning.title)
        .bind(warning.body)
        .bind(warning.evidence)
        .bind(warning.at)
        .bind(warning.actor)
        .execute(&mut *tx)
        .await?;
        insert_event(&mut tx, id, 1, warning.at, warning.actor, "draft", 1, "").await?;
        crate::audit::stage(&mut tx, audit, warning.at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(id)
    }

    pub async fn warning(&self, id: i64) -> Result<Option<WarningRow>, StoreError> {
        let row = sqlx::query(&format!("{WARNING_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(warning_row))
    }

    /// Warnings as the filter says, newest first.
    pub async fn warnings(
        &self,
        filter: &WarningFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<WarningRow>, StoreError> {
        let mut conditions = Conditions::default();
        conditions.equals("kind", filter.kind.as_deref());
        conditions.equals("state", filter.state.as_deref());
        if let Some((kind, recipient)) = &filter.recipient {
            conditions.with("recipient_kind = {} AND recipient = {}", &[kind, recipient]);
        }
        if filter.issued {
            conditions.with(&format!("state IN {ISSUED}"), &[]);
        }
        if let Some((acknowledge, resolve)) = &filter.overdue_before {
            conditions.with(
                "kind <> 'consumer_alert' AND ((state = 'sent' AND sent_at < {})
                   OR (state IN ('sent', 'acknowledged') AND sent_at < {}))",
                &[acknowledge, resolve],
            );
        }
        if let Some(signal) = filter.signal_id {
            // A number, so written into the statement: no text comparison.
            conditions.clauses.push(format!("signal_id = {signal}"));
        }
        let clause = conditions.sql();
        let total: i64 = conditions
            .bind(sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM warnings{clause}"
            )))
            .fetch_one(&self.reads)
            .await?
            .get("n");
        let rows = conditions
            .bind(sqlx::query(&format!(
                "{WARNING_COLUMNS}{clause} ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}",
                limit.max(0),
                offset.max(0)
            )))
            .fetch_all(&self.reads)
            .await?;
        Ok(Page {
            rows: rows.iter().map(warning_row).collect(),
            total,
        })
    }

    /// Stores the links of complaints without a code, (ticket, USCC,
    /// confidence, evidence), in one transaction, 500 to a statement; a
    /// ticket linked before is linked again as now.
    pub async fn save_links(
        &self,
        links: &[(String, String, f64, String)],
        at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for chunk in links.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO complaint_links (ticket, uscc, confidence, evidence, linked_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let n = i * 5;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                ));
            }
            sql.push_str(
                " ON CONFLICT (ticket) DO UPDATE SET uscc = excluded.uscc,
                   confidence = excluded.confidence, evidence = excluded.evidence,
                   linked_at = excluded.linked_at",
            );
            let mut query = sqlx::query(&sql);
            for (ticket, uscc, confidence, evidence) in chunk {
                query = query
                    .bind(ticket.as_str())
                    .bind(uscc.as_str())
                    .bind(*confidence)
                    .bind(evidence.as_str())
                    .bind(at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The tickets linked to an entity by name.
    pub async fn linked_tickets(&self, uscc: &str) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT ticket FROM complaint_links WHERE uscc = $1 ORDER BY ticket")
                .bind(uscc)
                .fetch_all(&self.reads)
                .await?;
        Ok(rows.iter().map(|r| r.get("ticket")).collect())
    }

    /// The marker a background job last ran up to (0 if it never ran).
    pub async fn job_marker(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT marker FROM job_runs WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.map_or(0, |r| r.get("marker")))
    }

    /// Records that a background job ran up to `marker`, finishing at `at`.
    pub async fn set_job_marker(
        &self,
        name: &str,
        marker: i64,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO job_runs (name, marker, finished_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET marker = $2, finished_at = $3",
        )
        .bind(name)
        .bind(marker)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The issued warning that superseded `id`, if any.
    pub async fn warning_successor(&self, id: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT id FROM warnings WHERE supersedes = $1 AND state IN {ISSUED} ORDER BY id LIMIT 1"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| r.get("id")))
    }

    /// How many warnings were drafted from each of these signals (those
    /// with none are left out), in one query.
    pub async fn warnings_per_signal(
        &self,
        signals: &[i64],
    ) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
        if signals.is_empty() {
            return Ok(Default::default());
        }
        // Numbers, so written into the statement.
        let list: Vec<String> = signals.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT signal_id, COUNT(*) AS n FROM warnings WHERE signal_id IN ({})
             GROUP BY signal_id",
            list.join(", ")
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("signal_id"), r.get("n")))
            .collect())
    }

    /// Counts of warnings by kind and state.
    pub async fn warning_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM warnings GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("kind"), r.get("state"), r.get("n")))
            .collect())
    }

    pub async fn warning_events(&self, id: i64) -> Result<Vec<WarningEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT warning_id, seq, at, actor, state, version, reason FROM warning_events
             WHERE warning_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| WarningEventRow {
                warning_id: r.get("warning_id"),
                seq: r.get("seq"),
                at: r.get("at"),
                actor: r.get("actor"),
                state: r.get("state"),
                version: r.get("version"),
                reason: r.get("reason"),
            })
            .collect())
    }

    /// Edits a draft made on `edit.version`; returns the new version. A
    /// conflict when it is no longer a draft at that version (another edit
    /// or a move came first).
    pub async fn edit_warning(
        &self,
        edit: &WarningEdit<'_>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE warnings SET recipient_kind = $1, recipient = $2, title = $3, body = $4,
               version = version + 1, last_editor = $5, updated_at = $6,
               last_event_seq = last_event_seq + 1
             WHERE id = $7 AND state = 'draft' AND version = $8
             RETURNING version, last_event_seq",
        )
        .bind(edit.recipient_kind)
        .bind(edit.recipient)
        .bind(edit.title)
        .bind(edit.body)
        .bind(edit.actor)
        .bind(edit.at)
        .bind(edit.id)
        .bind(edit.version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "warning {} is no longer a draft at version {}",
                edit.id, edit.version
            )));
        };
        let version: i64 = row.get("version");
        let seq: i64 = row.get("last_event_seq");
        insert_event(
            &mut tx, edit.id, seq, edit.at, edit.actor, "draft", version, "",
        )
        .await?;
        crate::audit::stage(&mut tx, audit, edit.at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(version)
    }

    /// Moves a warning from `from` to `to`, recording the event and the
    /// audit entry in one transaction; sending records when. A conflict when
    /// it is no longer in `from` at `version`, or when the warning it
    /// supersedes is no longer in a state that may be superseded: then
    /// nothing is written.
    pub async fn move_warning(
        &self,
        change: &WarningMove<'_>,
        audit: &NewAuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE warnings SET state = $1, updated_at = $2,
               sent_at = CASE WHEN $1 = 'sent' THEN $2 ELSE sent_at END,
               last_event_seq = last_event_seq + 1
             WHERE id = $3 AND state = $4 AND version = $5 RETURNING last_event_seq",
        )
        .bind(change.to)
        .bind(change.at)
        .bind(change.id)
        .bind(change.from)
        .bind(change.version)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "warning {} is no longer {} at version {}",
                change.id, change.from, change.version
            )));
        };
        let seq: i64 = row.get("last_event_seq");
        insert_event(
            &mut tx,
            change.id,
            seq,
            change.at,
            change.actor,
            change.to,
            change.version,
            change.reason,
        )
        .await?;
        if let Some((old, states, reason)) = change.supersede {
            let allowed = states
                .iter()
                .map(|s| format!("'{}'", s.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(", ");
            let row = sqlx::query(&format!(
                "UPDATE warnings SET state = 'superseded', updated_at = $1,
                   last_event_seq = last_event_seq + 1
                 WHERE id = $2 AND state IN ({allowed}) RETURNING last_event_seq, version"
            ))
            .bind(change.at)
            .bind(old)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Err(StoreError::Conflict(format!(
                    "warning {old} can no longer be superseded"
                )));
            };
            let seq: i64 = row.get("last_event_seq");
            let version: i64 = row.get("version");
            insert_event(
                &mut tx,
                old,
                seq,
                change.at,
                change.actor,
                "superseded",
                version,
                reason,
            )
            .await?;
        }
        crate::audit::stage(&mut tx, audit, change.at).await?;
        tx.commit().await?;
        self.flush_after_change().await;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    seq: i64,
    at: &str,
    actor: &str,
    state: &str,
    version: i64,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO warning_events (warning_id, seq, at, actor, state, version, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(state)
    .bind(version)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn signal_row(r: &sqlx::any::AnyRow) -> SignalRow {
    SignalRow {
        id: r.get("id"),
        detector: r.get("detector"),
        category: r.get("category"),
        place_level: r.get("place_level"),
        place: r.get("place"),
        first_day: r.get("first_day"),
        last_day: r.get("last_day"),
        observed: r.get("observed"),
        expected: r.get("expected"),
        statistic: r.get("statistic"),
        p_value: r.get("p_value"),
        evidence: r.get("evidence"),
        detected_at: r.get("detected_at"),
    }
}

fn warning_row(r: &sqlx::any::AnyRow) -> WarningRow {
    WarningRow {
        id: r.get("id"),
        kind: r.get("kind"),
        state: r.get("state"),
        signal_id: r.get("signal_id"),
        supersedes: r.get("supersedes"),
        recipient_kind: r.get("recipient_kind"),
        recipient: r.get("recipient"),
        title: r.get("title"),
        body: r.get("body"),
        evidence: r.get("evidence"),
        version: r.get("version"),
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        last_editor: r.get("last_editor"),
        updated_at: r.get("updated_at"),
        sent_at: r.get("sent_at"),
    }
}
