//! The audit log: append-only and hash-chained (DESIGN.md invariant 3).
//!
//! Entry `n` stores `hash_n = sha256(hash_{n-1} ‖ canonical(entry_n))`, with
//! the genesis hash as `hash_0`. Changing, inserting or deleting a stored
//! entry breaks the chain at that entry; [`Store::verify_audit`] names the
//! first entry whose hash no longer follows. Cutting entries off the end is
//! not visible from inside the log, which is why `verify` reports the head
//! hash and count: an operator who records them elsewhere can check those too.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use crate::{Backend, Store, StoreError};

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, by whom, to what.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    /// `user:NAME`, `token:ID`, `anonymous` or `cli:OS-USER`.
    pub actor: &'a str,
    /// What was done: `sign_in`, `view_entity`, `upload`, `user_add`, …
    pub action: &'a str,
    /// What it was done to: a USCC, a batch id, a username; empty if nothing.
    pub subject: &'a str,
    /// `ok`, `denied` or `failed`.
    pub outcome: &'a str,
    /// Anything else worth keeping (the route, the reason, the address).
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Which entries `audit_entries` returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub subject: Option<String>,
    /// Entries at or after this time (RFC 3339, or a date `YYYY-MM-DD`).
    pub since: Option<String>,
    pub limit: i64,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditCheck {
    pub entries: i64,
    pub head_hash: String,
    /// The first entry that does not follow from the one before, and why.
    pub first_broken: Option<BrokenEntry>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BrokenEntry {
    pub seq: i64,
    pub reason: String,
}

/// The bytes an entry's hash covers: its fields as a JSON array, so that no
/// field's text can pass for a boundary between fields.
fn canonical(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: &str,
) -> String {
    serde_json::json!([seq, at, actor, action, subject, outcome, detail]).to_string()
}

pub fn entry_hash(prev_hash: &str, canonical_entry: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical_entry.as_bytes());
    hex::encode(hasher.finalize())
}

const AUDIT_COLUMNS: &str =
    "SELECT seq, at, actor, action, subject, outcome, detail, prev_hash, hash FROM audit_log";

fn audit_row(r: &sqlx::any::AnyRow) -> AuditEntry {
    AuditEntry {
        seq: r.get("seq"),
        at: r.get("at"),
        actor: r.get("actor"),
        action: r.get("action"),
        subject: r.get("subject"),
        outcome: r.get("outcome"),
        detail: r.get("detail"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    }
}

/// Entries waiting for the appender at most: a burst beyond this waits to
/// be queued rather than growing memory.
const APPENDER_QUEUE: usize = 4096;
/// Entries written in one transaction at most (9 parameters each, within
/// both backends' limits on one statement).
const APPENDER_BATCH: usize = 256;

/// An entry's fields as they are hashed and stored.
struct Text {
    at: String,
    actor: String,
    action: String,
    subject: String,
    outcome: String,
    detail: String,
}

impl Text {
    fn of(entry: &NewAuditEntry<'_>, at: &str) -> Text {
        Text {
            at: at.to_string(),
            actor: entry.actor.to_string(),
            action: entry.action.to_string(),
            subject: entry.subject.to_string(),
            outcome: entry.outcome.to_string(),
            detail: entry.detail.to_string(),
        }
    }
}

/// An entry on its way to the log (none: only chain what changes left in
/// `audit_pending`), and where its sequence number goes.
struct Pending {
    entry: Option<Text>,
    reply: oneshot::Sender<Result<i64, String>>,
}

/// Entries left in `audit_pending` chained by one append at most; the rest
/// by the next.
const PENDING_BATCH: i64 = 256;

/// Adds `entry` to `audit_pending` inside a change's own transaction: the
/// change and its entry commit together, and the appender chains the entry
/// after ([`Store::flush_audit`], migration 0012).
pub(crate) async fn stage(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    entry: &NewAuditEntry<'_>,
    at: &str,
) -> Result<(), StoreError> {
    let text = Text::of(entry, at);
    sqlx::query(
        "INSERT INTO audit_pending (at, actor, action, subject, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&text.at)
    .bind(&text.actor)
    .bind(&text.action)
    .bind(&text.subject)
    .bind(&text.outcome)
    .bind(&text.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The one task of a store that appends to the audit log.
///
/// Every view writes an entry, and each entry chains to the one before, so
/// appends are serial by nature. Written one transaction each, they were
/// the server's bottleneck (docs/SERVER.md, the soak): on PostgreSQL each
/// held the table lock for four round trips while the other requests
/// waited holding pool connections, and on SQLite they queued at the one
/// writer. The appender takes whatever entries are waiting (group commit)
/// and writes them in one transaction, one lock and one statement, then
/// answers each caller. A caller still waits for its own entry to be
/// committed, so a read whose entry cannot be written still fails. And a
/// request that is cancelled (a timeout, a client gone) cannot cut a write
/// in half: the write belongs to this task, not to the request.
#[derive(Clone)]
pub(crate) struct Appender {
    queue: mpsc::Sender<Pending>,
}

impl Appender {
    /// Starts the task on the current runtime; it ends when the last store
    /// holding it is dropped.
    pub(crate) fn start(pool: AnyPool, backend: Backend) -> Appender {
        let (queue, mut waiting) = mpsc::channel::<Pending>(APPENDER_QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(APPENDER_BATCH);
            while waiting.recv_many(&mut batch, APPENDER_BATCH).await > 0 {
                append_all(&pool, backend, std::mem::take(&mut batch)).await;
            }
        });
        Appender { queue }
    }
}

/// Writes a batch and answers its callers. If the batch as a whole fails,
/// each entry is tried alone, so that one entry's failure is its own.
async fn append_all(pool: &AnyPool, backend: Backend, batch: Vec<Pending>) {
    // Entries changes staged go first; if the log refuses one of them, the
    // callers' own entries are written without them (the staged ones wait
    // for a later append) rather than all failing behind it.
    let written = match append(pool, backend, &batch, true).await {
        Err(_) => append(pool, backend, &batch, false).await,
        written => written,
    };
    match written {
        Ok(first) => {
            let mut seq = first;
            for pending in batch {
                // A caller that stopped waiting (a timeout) needs no answer:
                // its entry is written all the same. A flush has no entry
                // and no number of its own.
                let _ = pending.reply.send(Ok(seq));
                if pending.entry.is_some() {
                    seq += 1;
                }
            }
        }
        Err(e) if batch.len() == 1 => {
            for pending in batch {
                let _ = pending.reply.send(Err(e.to_string()));
            }
        }
        Err(_) => {
            for pending in batch {
                let alone = append(pool, backend, std::slice::from_ref(&pending), false).await;
                let _ = pending.reply.send(alone.map_err(|e| e.to_string()));
            }
        }
    }
}

/// Appends the entries changes left in `audit_pending` (if `with_staged`),
/// then `batch`'s, in order in one transaction; returns the sequence number
/// of `batch`'s first.
async fn append(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Pending],
    with_staged: bool,
) -> Result<i64, StoreError> {
    let mut tx = crate::begin_write(pool, backend).await?;
    // The counter's row, taken first, orders appenders (two server
    // processes on one database each have their own appender): a second
    // waits here until the first commits, then chains to its last entry.
    crate::take_ids(&mut tx, "audit_log", 0).await?;
    let limit = if with_staged { PENDING_BATCH } else { 0 };
    let staged = sqlx::query(&format!(
        "SELECT id, at, actor, action, subject, outcome, detail FROM audit_pending
         ORDER BY id LIMIT {limit}"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let staged_ids: Vec<i64> = staged.iter().map(|r| r.get("id")).collect();
    let staged: Vec<Text> = staged
        .iter()
        .map(|r| Text {
            at: r.get("at"),
            actor: r.get("actor"),
            action: r.get("action"),
            subject: r.get("subject"),
            outcome: r.get("outcome"),
            detail: r.get("detail"),
        })
        .collect();
    let entries: Vec<&Text> = staged
        .iter()
        .chain(batch.iter().filter_map(|p| p.entry.as_ref()))
        .collect();
    if entries.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let first = crate::take_ids(&mut tx, "audit_log", entries.len()).await?;
    let mut prev_hash = match first {
        1 => GENESIS_HASH.to_string(),
        _ => sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(first - 1)
            .fetch_one(&mut *tx)
            .await?
            .get::<String, _>("hash"),
    };
    let mut rows = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let seq = first + i as i64;
        let hash = entry_hash(
            &prev_hash,
            &canonical(
                seq,
                &entry.at,
                &entry.actor,
                &entry.action,
                &entry.subject,
                &entry.outcome,
                &entry.detail,
            ),
        );
        rows.push((seq, std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    // `$n` placeholders, which both dialects read (sqlx's query builder
    // writes `?` for the Any driver, which PostgreSQL does not).
    let values: Vec<String> = (0..entries.len())
        .map(|i| {
            let row: Vec<String> = (1..=9).map(|k| format!("${}", i * 9 + k)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO audit_log (seq, at, actor, action, subject, outcome, detail, prev_hash, hash) VALUES {}",
        values.join(", ")
    );
    let mut insert = sqlx::query(&sql);
    for (entry, (seq, prev, hash)) in entries.iter().zip(&rows) {
        insert = insert
            .bind(*seq)
            .bind(entry.at.as_str())
            .bind(entry.actor.as_str())
            .bind(entry.action.as_str())
            .bind(entry.subject.as_str())
            .bind(entry.outcome.as_str())
            .bind(entry.detail.as_str())
            .bind(prev.as_str())
            .bind(hash.as_str());
    }
    insert.execute(&mut *tx).await?;
    for id in staged_ids {
        sqlx::query("DELETE FROM audit_pending WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(first + staged.len() as i64)
}

impl Store {
    /// Appends an entry at time `at` and returns its sequence number, once
    /// it is committed (through the store's [`Appender`]).
    pub async fn audit(&self, entry: &NewAuditEntry<'_>, at: &str) -> Result<i64, StoreError> {
        self.send_to_appender(Some(Text::of(entry, at))).await
    }

    /// Chains what changes left in `audit_pending` (migration 0012): called
    /// by each write that staged an entry, once it has committed, and by
    /// the server when it starts, for entries a killed process left.
    pub async fn flush_audit(&self) -> Result<(), StoreError> {
        self.send_to_appender(None).await.map(|_| ())
    }

    /// Entries staged and not yet chained.
    pub async fn audit_pending(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_pending")
            .fetch_one(&self.reads)
            .await?;
        Ok(row.get("n"))
    }

    async fn send_to_appender(&self, entry: Option<Text>) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { entry, reply };
        let stopped = || StoreError::AuditNotWritten("the audit appender has stopped".into());
        self.appender
            .queue
            .send(pending)
            .await
            .map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(StoreError::AuditNotWritten)
    }

    /// Entries matching the filter, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = format!("{AUDIT_COLUMNS} WHERE 1 = 1");
        let mut binds: Vec<&str> = Vec::new();
        if let Some(actor) = &filter.actor {
            binds.push(actor);
            sql.push_str(&format!(" AND actor = ${}", binds.len()));
        }
        if let Some(subject) = &filter.subject {
            binds.push(subject);
            sql.push_str(&format!(" AND subject = ${}", binds.len()));
        }
        if let Some(since) = &filter.since {
            binds.push(since);
            sql.push_str(&format!(" AND at >= ${}", binds.len()));
        }
        let limit = if filter.limit > 0 { filter.limit } else { 1000 };
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query.fetch_all(&self.reads).await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    /// Recomputes the chain from the first entry and names the first entry
    /// that does not follow: a changed field, a changed or reordered link, a
    /// removed entry (a gap in the sequence).
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut expected_prev = GENESIS_HASH.to_string();
        let mut expected_seq = 1;
        let mut entries = 0;
        // In pages, so a long log does not have to fit in memory.
        loop {
            let rows = sqlx::query(&format!(
                "{AUDIT_COLUMNS} WHERE seq >= $1 ORDER BY seq LIMIT 10000"
            ))
            .bind(expected_seq)
            .fetch_all(&self.reads)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let e = audit_row(row);
                let broken = |reason: String| {
                    Ok(AuditCheck {
                        entries,
                        head_hash: expected_prev.clone(),
                        first_broken: Some(BrokenEntry { seq: e.seq, reason }),
                    })
                };
                if e.seq != expected_seq {
                    return broken(format!(
                        "entry {expected_seq} is missing (the next stored entry is {})",
                        e.seq
                    ));
                }
                if e.prev_hash != expected_prev {
                    return broken("its link does not match the hash of the entry before".into());
                }
                let recomputed = entry_hash(
                    &e.prev_hash,
                    &canonical(
                        e.seq, &e.at, &e.actor, &e.action, &e.subject, &e.outcome, &e.detail,
                    ),
                );
                if recomputed != e.hash {
                    return broken(
                        "its content does not match its hash (changed after it was written)".into(),
                    );
                }
                expected_prev = e.hash;
                expected_seq += 1;
                entries += 1;
            }
        }
        Ok(AuditCheck {
            entries,
            head_hash: expected_prev,
            first_broken: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cannot_pass_for_each_other() {
        let a = canonical(1, "t", "user:a", "b", "", "ok", "{}");
        let b = canonical(1, "t", "user:a\",\"b", "", "", "ok", "{}");
        assert_ne!(a, b);
        assert_ne!(entry_hash(GENESIS_HASH, &a), entry_hash(GENESIS_HASH, &b));
    }
}
