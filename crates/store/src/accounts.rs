//! Users and their roles, cookie sessions and API tokens, as stored.
//!
//! The store keeps only hashes of secrets: Argon2id PHC strings for
//! passwords (computed by the caller), SHA-256 of session and token secrets.
//! What a role may do is the server's business, not the store's.

use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// A role, bound to a subject where the role needs one (a department id, a
/// bank id, a USCC); `subject` is empty otherwise.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleGrant {
    pub role: String,
    pub subject: String,
}

impl RoleGrant {
    /// `role`, or `role:subject` for a bound role.
    pub fn label(&self) -> String {
        label(&self.role, &self.subject)
    }
}

/// How a role and its subject are written: `role` or `role:subject`.
pub fn label(role: &str, subject: &str) -> String {
    if subject.is_empty() {
        role.to_string()
    } else {
        format!("{role}:{subject}")
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub password_changed_at: String,
    pub created_at: String,
    pub roles: Vec<RoleGrant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub subject: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

const USER_COLUMNS: &str =
    "SELECT id, username, display_name, password_hash, disabled, failed_logins,
    locked_until, password_changed_at, created_at FROM users";
const TOKEN_COLUMNS: &str = "SELECT id, name, role, subject, created_by, created_at, expires_at, revoked_at FROM api_tokens";

fn token_row(r: &sqlx::any::AnyRow) -> TokenRow {
    TokenRow {
        id: r.get("id"),
        name: r.get("name"),
        role: r.get("role"),
        subject: r.get("subject"),
        created_by: r.get("created_by"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        revoked_at: r.get("revoked_at"),
    }
}

impl Store {
    async fn user_from_row(&self, r: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
        let id: i64 = r.get("id");
        let roles = sqlx::query(
            "SELECT role, subject FROM user_roles WHERE user_id = $1 ORDER BY role, subject",
        )
        .bind(id)
        .fetch_all(&self.reads)
        .await?
        .iter()
        .map(|r| RoleGrant {
            role: r.get("role"),
            subject: r.get("subject"),
        })
        .collect();
        Ok(UserRow {
            id,
            username: r.get("username"),
            display_name: r.get("display_name"),
            password_hash: r.get("password_hash"),
            disabled: r.get::<i64, _>("disabled") != 0,
            failed_logins: r.get("failed_logins"),
            locked_until: r.get("locked_until"),
            password_changed_at: r.get("password_changed_at"),
            created_at: r.get("created_at"),
            roles,
        })
    }

    /// Creates a user with its roles; fails if the name is taken.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        roles: &[RoleGrant],
        now: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = insert_user(&mut tx, username, display_name, password_hash, roles, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The enabled accounts that hold `role:subject`, oldest first.
    pub async fn users_with_role(
        &self,
        role: &str,
        subject: &str,
    ) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{USER_COLUMNS} WHERE disabled = 0 AND id IN
               (SELECT user_id FROM user_roles WHERE role = $1 AND subject = $2)
             ORDER BY created_at, id"
        ))
        .bind(role)
        .bind(subject)
        .fetch_all(&self.reads)
        .await?;
        self.users_from_rows(&rows).await
    }

    async fn users_from_rows(
        &self,
        rows: &[sqlx::any::AnyRow],
    ) -> Result<Vec<UserRow>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.user_from_row(r).await?);
        }
        Ok(out)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!("{USER_COLUMNS} WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.reads)
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        let row = sqlx::query(&format!("{USER_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows = sqlx::query(&format!("{USER_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        self.users_from_rows(&rows).await
    }

    /// Disables or enables a user; disabling also ends the user's sessions.
    /// False if there is no such user.
    pub async fn set_user_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
            .bind(i64::from(disabled))
            .bind(username)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if disabled {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $1
                 WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = $2)",
            )
            .bind(now)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Replaces a user's roles; false if there is no such user.
    pub async fn set_user_roles(
        &self,
        username: &str,
        roles: &[RoleGrant],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let Some(row) = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let id: i64 = row.get("id");
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for grant in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role, subject) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(&grant.role)
                .bind(&grant.subject)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Sets a new password hash and ends every session of the user.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0,
                locked_until = NULL WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed sign-in; `locked_until` locks the account if given.
    /// Counts a sign-in attempt against `user_id` before its password is
    /// checked, so that concurrent attempts cannot all slip under the limit:
    /// the attempt that reaches `max_failures` sets `locked_until`, and any
    /// attempt while the account is locked is not counted and returns
    /// `None`. Returns the attempts counted so far; a successful sign-in
    /// then calls [`Store::reset_failed_logins`].
    pub async fn begin_login_attempt(
        &self,
        user_id: i64,
        now: &str,
        max_failures: i64,
        lock_until: &str,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write().await?;
        // One statement: the check and the count cannot be split by
        // another attempt (row lock on PostgreSQL, the writer on SQLite).
        let row = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
             WHERE id = $3 AND (locked_until IS NULL OR locked_until <= $4)
             RETURNING failed_logins",
        )
        .bind(max_failures)
        .bind(lock_until)
        .bind(user_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| r.get("failed_logins")))
    }

    pub async fn reset_failed_logins(&self, user_id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_session(
        &self,
        id_sha256: &str,
        user_id: i64,
        csrf_token: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_sha256, user_id, csrf_token, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(id_sha256)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, id_sha256: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token, created_at, expires_at, revoked_at FROM sessions
             WHERE id_sha256 = $1",
        )
        .bind(id_sha256)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| SessionRow {
            user_id: r.get("user_id"),
            csrf_token: r.get("csrf_token"),
            created_at: r.get("created_at"),
            expires_at: r.get("expires_at"),
            revoked_at: r.get("revoked_at"),
        }))
    }

    pub async fn revoke_session(&self, id_sha256: &str, now: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id_sha256 = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id_sha256)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a token and returns its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        name: &str,
        secret_sha256: &str,
        role: &str,
        subject: &str,
        created_by: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "api_tokens", 1).await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, name, secret_sha256, role, subject, created_by, created_at,
                expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(id)
        .bind(name)
        .bind(secret_sha256)
        .bind(role)
        .bind(subject)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn token_by_secret(
        &self,
        secret_sha256: &str,
    ) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(&format!("{TOKEN_COLUMNS} WHERE secret_sha256 = $1"))
            .bind(secret_sha256)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(token_row))
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(&format!("{TOKEN_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        Ok(rows.iter().map(token_row).collect())
    }

    /// Revokes a token; false if there is no such token or it was revoked.
    pub async fn revoke_token(&self, id: i64, now: &str) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(done)
    }
}

/// Inserts a user and its roles within `tx`; a conflict if the name is taken.
pub(crate) async fn insert_user(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    username: &str,
    display_name: &str,
    password_hash: &str,
    roles: &[RoleGrant],
    now: &str,
) -> Result<i64, StoreError> {
    let taken = sqlx::query("SELECT 1 FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!("user '{username}' exists")));
    }
    let id = crate::take_ids(tx, "users", 1).await?;
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, disabled, failed_logins,
            locked_until, password_changed_at, created_at)
         VALUES ($1, $2, $3, $4, 0, 0, NULL, $5, $5)",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(password_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for grant in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role, subject) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&grant.role)
            .bind(&grant.subject)
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}
