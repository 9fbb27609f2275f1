//! Claims to speak for an enterprise, and the outbox of messages to people.
//!
//! A claim moves `awaiting_code → approved` when its one-time code is
//! confirmed and the enterprise has no account yet, or `awaiting_code →
//! awaiting_approval → approved | refused` when it has one. Too many wrong
//! codes, or a code past its time, leave it `failed`. Every move is made
//! only from the state it was read in, so two confirmations or two
//! approvals racing each other cannot both succeed. What a claim may do is
//! the server's business; the store keeps the states and the messages.

use serde::Serialize;
use sqlx::Row;

use crate::accounts::{RoleGrant, insert_user};
use crate::{Store, StoreError};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClaimRow {
    pub id: i64,
    pub uscc: String,
    pub applicant_name: String,
    pub capacity: String,
    #[serde(skip)]
    pub code_sha256: String,
    pub code_expires_at: String,
    pub attempts: i64,
    pub state: String,
    pub username: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub decided_by: Option<String>,
    pub user_id: Option<i64>,
}

/// A claim as it is made.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    pub uscc: &'a str,
    pub applicant_name: &'a str,
    pub capacity: &'a str,
    pub code_sha256: &'a str,
    pub code_expires_at: &'a str,
}

/// A message for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// `sms`, `email` or `account`.
    pub channel: String,
    /// A phone number, an e-mail address, or `user:NAME`.
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub error: Option<String>,
}

/// One move of a claim: from the state it was read in to the next, with
/// the account chosen (user name and password hash) when its code is
/// confirmed, or who decided.
#[derive(Debug, Clone, Copy)]
pub struct ClaimMove<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub chosen: Option<(&'a str, &'a str)>,
    pub decided_by: Option<&'a str>,
}

/// The account an approved claim creates.
#[derive(Debug, Clone)]
pub struct ClaimAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [RoleGrant],
}

const CLAIM_COLUMNS: &str = "id, uscc, applicant_name, capacity, code_sha256, code_expires_at,
    attempts, state, username, password_hash, created_at, updated_at, decided_by, user_id";

fn claim_row(r: &sqlx::any::AnyRow) -> ClaimRow {
    ClaimRow {
        id: r.get("id"),
        uscc: r.get("uscc"),
        applicant_name: r.get("applicant_name"),
        capacity: r.get("capacity"),
        code_sha256: r.get("code_sha256"),
        code_expires_at: r.get("code_expires_at"),
        attempts: r.get("attempts"),
        state: r.get("state"),
        username: r.get("username"),
        password_hash: r.get("password_hash"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        decided_by: r.get("decided_by"),
        user_id: r.get("user_id"),
    }
}

const OUTBOX_COLUMNS: &str = "id, channel, recipient, subject, body, created_at, sent_at, error";

fn outbox_row(r: &sqlx::any::AnyRow) -> OutboxRow {
    OutboxRow {
        id: r.get("id"),
        channel: r.get("channel"),
        recipient: r.get("recipient"),
        subject: r.get("subject"),
        body: r.get("body"),
        created_at: r.get("created_at"),
        sent_at: r.get("sent_at"),
        error: r.get("error"),
    }
}

async fn queue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    messages: &[NewMessage],
    now: &str,
) -> Result<(), StoreError> {
    for m in messages {
        sqlx::query(
            "INSERT INTO outbox (channel, recipient, subject, body, created_at, sent_at, error)
             VALUES ($1, $2, $3, $4, $5, NULL, NULL)",
        )
        .bind(&m.channel)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Stores a claim and queues its messages (the code to the registered
    /// contact, notices to the enterprise's accounts) in one transaction;
    /// returns the claim's id, given by the database.
    pub async fn create_claim(
        &self,
        claim: &NewClaim<'_>,
        messages: &[NewMessage],
        now: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO enterprise_claims (uscc, applicant_name, capacity, code_sha256,
               code_expires_at, attempts, state, username, password_hash, created_at, updated_at,
               decided_by, user_id)
             VALUES ($1, $2, $3, $4, $5, 0, 'awaiting_code', NULL, NULL, $6, $6, NULL, NULL)
             RETURNING id",
        )
        .bind(claim.uscc)
        .bind(claim.applicant_name)
        .bind(claim.capacity)
        .bind(claim.code_sha256)
        .bind(claim.code_expires_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get("id");
        queue(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn claim(&self, id: i64) -> Result<Option<ClaimRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CLAIM_COLUMNS} FROM enterprise_claims WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(claim_row))
    }

    /// An enterprise's claims, newest first.
    pub async fn claims_of(&self, uscc: &str) -> Result<Vec<ClaimRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CLAIM_COLUMNS} FROM enterprise_claims WHERE uscc = $1 ORDER BY id DESC"
        ))
        .bind(uscc)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(claim_row).collect())
    }

    /// Counts one confirmation of a claim's code before the code is
    /// compared, in one statement: at most `max_attempts` confirmations of a
    /// claim are ever compared, however many arrive at once. `None` when the
    /// claim is not awaiting its code, its code has expired at `now`, or its
    /// attempts are used up.
    pub async fn begin_claim_confirmation(
        &self,
        id: i64,
        now: &str,
        max_attempts: i64,
    ) -> Result<Option<ClaimRow>, StoreError> {
        let mut tx = self.write().await?;
        let row = sqlx::query(&format!(
            "UPDATE enterprise_claims SET attempts = attempts + 1
             WHERE id = $1 AND state = 'awaiting_code' AND code_expires_at > $2 AND attempts < $3
             RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(id)
        .bind(now)
        .bind(max_attempts)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.as_ref().map(claim_row))
    }

    /// Moves a claim as `change` says and queues messages, in one
    /// transaction; a conflict when the claim is no longer in `change.from`.
    pub async fn move_claim(
        &self,
        id: i64,
        change: &ClaimMove<'_>,
        messages: &[NewMessage],
        now: &str,
    ) -> Result<(), StoreError> {
        let ClaimMove {
            from,
            to,
            chosen,
            decided_by,
        } = *change;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE enterprise_claims SET state = $1, updated_at = $2,
               username = COALESCE($3, username), password_hash = COALESCE($4, password_hash),
               decided_by = COALESCE($5, decided_by)
             WHERE id = $6 AND state = $7",
        )
        .bind(to)
        .bind(now)
        .bind(chosen.map(|c| c.0))
        .bind(chosen.map(|c| c.1))
        .bind(decided_by)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "claim {id} is no longer {from}"
            )));
        }
        queue(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Approves a claim that is in `from`: creates its account, records the
    /// registration, moves the claim and queues messages, all in one
    /// transaction. Returns the new account's id; a conflict when the claim
    /// moved meanwhile or the user name is taken.
    pub async fn approve_claim(
        &self,
        id: i64,
        from: &str,
        account: &ClaimAccount<'_>,
        decided_by: &str,
        messages: &[NewMessage],
        now: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let Some(claim) = sqlx::query(&format!(
            "SELECT {CLAIM_COLUMNS} FROM enterprise_claims WHERE id = $1 AND state = $2"
        ))
        .bind(id)
        .bind(from)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(claim_row) else {
            return Err(StoreError::Conflict(format!(
                "claim {id} is no longer {from}"
            )));
        };
        // A claim confirmed by its code alone opens only the enterprise's
        // first account. Two such approvals at once take turns: the
        // enterprise's claims are locked (PostgreSQL; SQLite's one writer
        // already serialises), and the later one finds the account.
        if from == "awaiting_code" {
            if self.backend() == crate::Backend::Postgres {
                sqlx::query("SELECT id FROM enterprise_claims WHERE uscc = $1 FOR UPDATE")
                    .bind(&claim.uscc)
                    .fetch_all(&mut *tx)
                    .await?;
            }
            let existing = sqlx::query(
                "SELECT 1 FROM users u JOIN user_roles r ON r.user_id = u.id
                 WHERE r.role = 'enterprise' AND r.subject = $1 AND u.disabled = 0",
            )
            .bind(&claim.uscc)
            .fetch_optional(&mut *tx)
            .await?;
            if existing.is_some() {
                return Err(StoreError::Conflict(format!(
                    "{} has an account now: its administrator approves further ones",
                    claim.uscc
                )));
            }
        }
        let user_id = insert_user(
            &mut tx,
            account.username,
            account.display_name,
            account.password_hash,
            account.roles,
            now,
        )
        .await?;
        let done = sqlx::query(
            "UPDATE enterprise_claims SET state = 'approved', updated_at = $1, username = $2,
               password_hash = NULL, decided_by = $3, user_id = $4
             WHERE id = $5 AND state = $6",
        )
        .bind(now)
        .bind(account.username)
        .bind(decided_by)
        .bind(user_id)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "claim {id} is no longer {from}"
            )));
        }
        sqlx::query(
            "INSERT INTO enterprise_registrations (uscc, user_id, applicant_name, capacity, registered_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&claim.uscc)
        .bind(user_id)
        .bind(&claim.applicant_name)
        .bind(&claim.capacity)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        queue(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(user_id)
    }

    /// Queues messages outside any other change.
    pub async fn queue_messages(
        &self,
        messages: &[NewMessage],
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The outbox, newest first: all of it, or one recipient's.
    pub async fn outbox(
        &self,
        recipient: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = match recipient {
            Some(recipient) => sqlx::query(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE recipient = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(recipient)
            .bind(limit)
            .fetch_all(&self.reads)
            .await?,
            None => {
                sqlx::query(&format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.reads)
                .await?
            }
        };
        Ok(rows.iter().map(outbox_row).collect())
    }

    /// Messages not yet sent, oldest first.
    pub async fn unsent_messages(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(outbox_row).collect())
    }

    /// Records a delivery: sent at `at`, or the error of a failed try.
    pub async fn mark_message(
        &self,
        id: i64,
        sent_at: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE outbox SET sent_at = $1, error = $2 WHERE id = $3")
            .bind(sent_at)
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
