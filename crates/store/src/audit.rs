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
use sqlx::Row;

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

impl Store {
    /// Appends an entry at time `at` and returns its sequence number.
    pub async fn audit(&self, entry: &NewAuditEntry<'_>, at: &str) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        if self.backend == Backend::Postgres {
            // One appender at a time, or two would chain to the same head.
            sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, prev_hash) = match head {
            Some(row) => (row.get::<i64, _>("seq") + 1, row.get::<String, _>("hash")),
            None => (1, GENESIS_HASH.to_string()),
        };
        let detail = entry.detail.to_string();
        let hash = entry_hash(
            &prev_hash,
            &canonical(
                seq,
                at,
                entry.actor,
                entry.action,
                entry.subject,
                entry.outcome,
                &detail,
            ),
        );
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, subject, outcome, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(at)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.subject)
        .bind(entry.outcome)
        .bind(&detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
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
