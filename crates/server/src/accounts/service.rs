//! Who is asking, and the accounts themselves: the `Principal` extractor
//! (bearer token, else session cookie, else the public), sign-in with its
//! two limits, users and tokens (shared by the admin pages and the command
//! line; auditing is the caller's, who knows the actor).
//!
//! Sign-in is throttled twice: an account locks for [`LOCKOUT_MINUTES`]
//! after [`MAX_FAILED_LOGINS`] failures in a row, and a client address may
//! fail at most [`MAX_FAILURES_PER_MINUTE`](crate::http::throttle::MAX_FAILURES_PER_MINUTE) times a minute whatever names
//! it tries. Both are counted before the hash and audited.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use domain::{Catalog, Uscc};
use store::{RoleGrant, Store};

use crate::access::{Action, Grant, Principal, Role, Via, enterprise_of};
use crate::http::Failure;
use crate::http::cookies::{SESSION_COOKIE, client_ip, cookie};
use crate::http::throttle::{Attempt, admit, refused_anonymously};
use crate::service::require;
use crate::{AppState, Shared, now, secrets};

pub const SESSION_HOURS: i64 = 8;

pub const MAX_FAILED_LOGINS: i64 = 5;

pub const LOCKOUT_MINUTES: i64 = 15;

impl FromRequestParts<Shared> for Principal {
    type Rejection = crate::http::ApiFailure;

    /// A bearer token that is unknown, expired or revoked fails the request
    /// (and is audited); a session cookie that is not valid is ignored, so
    /// the request goes on as the public's.
    /// The principal is worked out once per request and kept in its
    /// extensions, so a later extractor (a CSRF-checked form) reads it again
    /// without going back to the store.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        if let Some(known) = parts.extensions.get::<Principal>() {
            return Ok(known.clone());
        }
        let who = principal_of(parts, state).await?;
        parts.extensions.insert(who.clone());
        Ok(who)
    }
}

async fn principal_of(parts: &Parts, state: &Shared) -> Result<Principal, Failure> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default();
        let Some(secret) = text.strip_prefix("Bearer ") else {
            return Err(Failure::SignInNeeded);
        };
        return token_principal(state, secret.trim(), client_ip(parts)).await;
    }
    let ip = client_ip(parts);
    if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
        && let Some(who) = session_principal(state, secret, ip).await?
    {
        return Ok(who);
    }
    Ok(Principal {
        ip,
        ..Principal::anonymous()
    })
}

async fn token_principal(state: &AppState, secret: &str, ip: IpAddr) -> Result<Principal, Failure> {
    let stored = state
        .store
        .token_by_secret(&secrets::sha256_hex(secret))
        .await?;
    let problem = match &stored {
        None => Some("unknown token"),
        Some(t) if t.revoked_at.is_some() => Some("revoked token"),
        Some(t) if t.expires_at <= now() => Some("expired token"),
        Some(_) => None,
    };
    if let Some(problem) = problem {
        let Some(known) = &stored else {
            // A secret that names no token is noise anyone can send: it goes
            // to the request log, counted per address, not to the chain.
            refused_anonymously(state, ip, "token_rejected", "")?;
            return Err(Failure::SignInNeeded);
        };
        let subject = format!("token:{}", known.id);
        state
            .audit(
                "anonymous",
                "token_rejected",
                &subject,
                "denied",
                serde_json::json!({"reason": problem, "ip": ip.to_string()}),
            )
            .await?;
        return Err(Failure::SignInNeeded);
    }
    let Some(token) = stored else {
        return Err(Failure::SignInNeeded);
    };
    let Some(grant) = Grant::from_stored(&token.role, &token.subject) else {
        return Err(Failure::Internal(format!(
            "token {} has an unknown role",
            token.id
        )));
    };
    Ok(Principal {
        actor: format!("token:{}", token.id),
        display_name: token.name,
        grants: vec![grant],
        via: Via::Token { id: token.id },
        ip,
    })
}

async fn session_principal(
    state: &AppState,
    secret: &str,
    ip: IpAddr,
) -> Result<Option<Principal>, Failure> {
    let id_sha256 = secrets::sha256_hex(secret);
    let Some(session) = state.store.session(&id_sha256).await? else {
        return Ok(None);
    };
    if session.revoked_at.is_some() || session.expires_at <= now() {
        return Ok(None);
    }
    let Some(user) = state.store.user_by_id(session.user_id).await? else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    Ok(Some(Principal {
        actor: format!("user:{}", user.username),
        display_name: user.display_name,
        grants: user
            .roles
            .iter()
            .filter_map(|g| Grant::from_stored(&g.role, &g.subject))
            .collect(),
        via: Via::Session {
            user_id: user.id,
            session_sha256: id_sha256,
            csrf_token: session.csrf_token,
        },
        ip,
    }))
}

/// A new session's cookie secret, for a user who proved who they are.
pub struct NewSession {
    pub cookie_secret: String,
}

/// Checks a user name and password; on success opens a session.
///
/// Both limits are counted before the password is hashed: the address's
/// attempt in [`Throttle`](crate::http::throttle::Throttle), the account's in the store
/// ([`store::Store::begin_login_attempt`]), so forty attempts sent at once
/// get no more checks than forty sent one by one. The hash runs on the
/// bounded blocking pool ([`secrets::Hashing`]), never on the async workers.
pub async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<NewSession, Failure> {
    if !admit(state, Attempt::SignIn, ip) {
        state
            .audit(
                "anonymous",
                "sign_in",
                username,
                "denied",
                serde_json::json!({"reason": "throttled", "ip": ip.to_string()}),
            )
            .await?;
        return Err(Failure::TooManyAttempts);
    }
    let user = state.store.user_by_name(username).await?;
    let failed = |reason: &'static str| async move {
        state
            .audit(
                "anonymous",
                "sign_in",
                username,
                "failed",
                serde_json::json!({"reason": reason, "ip": ip.to_string()}),
            )
            .await?;
        Err::<NewSession, Failure>(Failure::BadRequest("wrong user name or password".into()))
    };
    let Some(user) = user else {
        state.hashing.verify_nothing(password).await;
        return failed("unknown user").await;
    };
    let lock_until = crate::stamp(now + chrono::Duration::minutes(LOCKOUT_MINUTES));
    let at = crate::stamp(now);
    let counted = state
        .store
        .begin_login_attempt(user.id, &at, MAX_FAILED_LOGINS, &lock_until)
        .await?;
    let Some(counted) = counted else {
        state.hashing.verify_nothing(password).await;
        return failed("locked").await;
    };
    if !state.hashing.verify(password, &user.password_hash).await {
        return failed(if counted >= MAX_FAILED_LOGINS {
            "wrong password; locked"
        } else {
            "wrong password"
        })
        .await;
    }
    if user.disabled {
        return failed("disabled").await;
    }
    state.store.reset_failed_logins(user.id).await?;
    if let Ok(mut t) = state.throttle.lock() {
        t.forgive(Attempt::SignIn, ip);
    }
    let internal = |e: secrets::SecretError| Failure::Internal(e.to_string());
    let cookie_secret = secrets::random_hex(32).map_err(internal)?;
    let csrf = secrets::random_hex(32).map_err(internal)?;
    let expires = crate::stamp(now + chrono::Duration::hours(SESSION_HOURS));
    state
        .store
        .create_session(
            &secrets::sha256_hex(&cookie_secret),
            user.id,
            &csrf,
            &at,
            &expires,
        )
        .await?;
    state
        .audit(
            &format!("user:{}", user.username),
            "sign_in",
            &user.username,
            "ok",
            serde_json::json!({"ip": ip.to_string()}),
        )
        .await?;
    Ok(NewSession { cookie_secret })
}

/// The enterprise the asker acts for; a denial (audited) when none.
pub async fn own_enterprise(state: &AppState, who: &Principal) -> Result<Uscc, Failure> {
    let uscc = enterprise_of(who).unwrap_or("");
    require(state, who, Action::ManageOwnFinance { uscc }, "finance").await?;
    // Grants are checked when they are made: a bad one is damage.
    uscc.parse()
        .map_err(|e| Failure::Internal(format!("grant enterprise:{uscc}: {e}")))
}

/// Parses grants (`admin`, `department:tax`, …) and checks their subjects:
/// a department in the catalog, a valid USCC for an enterprise.
pub fn parse_grants(catalog: &Catalog, texts: &[&str]) -> Result<Vec<Grant>, Failure> {
    let mut grants = Vec::new();
    for text in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let mut grant = Grant::parse(text).map_err(Failure::BadRequest)?;
        match grant.role {
            Role::Department if catalog.department(&grant.subject).is_none() => {
                return Err(Failure::BadRequest(format!(
                    "no department '{}' in the catalog",
                    grant.subject
                )));
            }
            Role::Enterprise => {
                grant.subject = domain::Uscc::parse_input(&grant.subject)
                    .map_err(|e| {
                        Failure::BadRequest(format!("'{}' is not a valid USCC: {e}", grant.subject))
                    })?
                    .value
                    .to_string();
            }
            _ => {}
        }
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.is_empty() {
        return Err(Failure::BadRequest("give at least one role".into()));
    }
    Ok(grants)
}

fn valid_username(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

/// Checks a new account's user name and password (not whether the name is
/// free: the store says that).
pub fn check_new_account(username: &str, password: &str) -> Result<(), Failure> {
    if !valid_username(username) {
        return Err(Failure::BadRequest(
            "a user name is 2 to 64 letters, digits, '_', '-', '.' or '@'".into(),
        ));
    }
    if let Some(problem) = secrets::password_problem(password) {
        return Err(Failure::BadRequest(problem));
    }
    Ok(())
}

/// Adds a user; returns the user's id.
pub async fn add_user(
    store: &Store,
    catalog: &Catalog,
    username: &str,
    display_name: &str,
    password: &str,
    roles: &[&str],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    check_new_account(username, password)?;
    let grants = parse_grants(catalog, roles)?;
    // Off the async workers: Argon2 takes tens of milliseconds.
    let owned = password.to_string();
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&owned))
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let stored = stored_grants(&grants);
    let display_name = if display_name.trim().is_empty() {
        username
    } else {
        display_name.trim()
    };
    store
        .create_user(username, display_name, &hash, &stored, &crate::stamp(now))
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(message) => Failure::BadRequest(message),
            other => other.into(),
        })
}

fn stored_grants(grants: &[Grant]) -> Vec<RoleGrant> {
    grants
        .iter()
        .map(|g| RoleGrant {
            role: g.role.as_str().to_string(),
            subject: g.subject.clone(),
        })
        .collect()
}

/// Replaces a user's roles with `roles` (checked as for a new user).
pub async fn set_roles(
    store: &Store,
    catalog: &Catalog,
    username: &str,
    roles: &[&str],
) -> Result<Vec<Grant>, Failure> {
    let grants = parse_grants(catalog, roles)?;
    if !store
        .set_user_roles(username, &stored_grants(&grants))
        .await?
    {
        return Err(Failure::NotFound(format!("user {username}")));
    }
    Ok(grants)
}

/// A token as issued: the secret is shown once and never stored.
pub struct IssuedToken {
    pub id: i64,
    pub secret: String,
    pub expires_at: String,
}

/// The longest a token may be valid.
pub const MAX_TOKEN_DAYS: i64 = 730;

pub async fn issue_token(
    store: &Store,
    catalog: &Catalog,
    name: &str,
    role: &str,
    days: i64,
    created_by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<IssuedToken, Failure> {
    if name.trim().is_empty() {
        return Err(Failure::BadRequest("give the token a name".into()));
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(Failure::BadRequest(format!(
            "a token is valid for 1 to {MAX_TOKEN_DAYS} days"
        )));
    }
    let grants = parse_grants(catalog, &[role])?;
    let Some(grant) = grants.first().filter(|_| grants.len() == 1) else {
        return Err(Failure::BadRequest("a token has exactly one role".into()));
    };
    let secret = format!(
        "xy_{}",
        secrets::random_hex(32).map_err(|e| Failure::Internal(e.to_string()))?
    );
    let expires_at =
        (now + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = store
        .create_token(
            name.trim(),
            &secrets::sha256_hex(&secret),
            grant.role.as_str(),
            &grant.subject,
            created_by,
            &crate::stamp(now),
            &expires_at,
        )
        .await?;
    Ok(IssuedToken {
        id,
        secret,
        expires_at,
    })
}

/// Why a password was not changed, to show beside the form.
pub struct PasswordProblem(pub String);

/// Changes the asker's own password after checking the current one; ends
/// every session of the user, this one too. Audited, failures too.
pub async fn change_password(
    state: &AppState,
    who: &Principal,
    current: &str,
    new: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<(), PasswordProblem>, Failure> {
    require(state, who, Action::ChangeOwnPassword, "").await?;
    let Via::Session { user_id, .. } = who.via else {
        return Err(Failure::SignInNeeded);
    };
    let Some(user) = state.store.user_by_id(user_id).await? else {
        return Err(Failure::SignInNeeded);
    };
    let problem = if !state.hashing.verify(current, &user.password_hash).await {
        Some("the current password is wrong".to_string())
    } else {
        secrets::password_problem(new)
    };
    if let Some(error) = problem {
        state
            .audit(
                &who.actor,
                "change_password",
                &user.username,
                "failed",
                serde_json::json!({"reason": error}),
            )
            .await?;
        return Ok(Err(PasswordProblem(error)));
    }
    let hash = state
        .hashing
        .hash(new)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    state
        .store
        .set_password(user_id, &hash, &crate::stamp(now))
        .await?;
    state
        .audit(
            &who.actor,
            "change_password",
            &user.username,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(Ok(()))
}

/// Every user with their roles, for the admin.
pub async fn users(state: &AppState, who: &Principal) -> Result<Vec<store::UserRow>, Failure> {
    require(state, who, Action::ManageAccounts, "users").await?;
    crate::service::audit_read(state, who, "view_users", "").await?;
    Ok(state.store.users().await?)
}

/// Every API token (never their secrets), for the admin.
pub async fn tokens(state: &AppState, who: &Principal) -> Result<Vec<store::TokenRow>, Failure> {
    require(state, who, Action::ManageAccounts, "tokens").await?;
    crate::service::audit_read(state, who, "view_tokens", "").await?;
    Ok(state.store.tokens().await?)
}

/// Revokes a token from now; audited.
pub async fn revoke_token_by(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    require(state, who, Action::ManageAccounts, &format!("token:{id}")).await?;
    if !state.store.revoke_token(id, &crate::stamp(now)).await? {
        return Err(Failure::NotFound(format!("token {id}")));
    }
    state
        .audit(
            &who.actor,
            "token_revoke",
            &format!("token:{id}"),
            "ok",
            serde_json::json!({}),
        )
        .await
}

/// Audit log entries, newest first, and the chain's check when asked for;
/// the look is audited too.
pub async fn audit_log(
    state: &AppState,
    who: &Principal,
    filter: &store::AuditFilter,
    check: bool,
) -> Result<(Vec<store::AuditEntry>, Option<store::AuditCheck>), Failure> {
    require(state, who, Action::ViewAudit, "audit").await?;
    let entries = state.store.audit_entries(filter).await?;
    let check = if check {
        Some(state.store.verify_audit().await?)
    } else {
        None
    };
    state
        .audit(
            &who.actor,
            "view_audit",
            "audit",
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok((entries, check))
}

/// Ends the asker's session, if it is one; audited.
pub async fn sign_out(
    state: &AppState,
    who: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let Via::Session { session_sha256, .. } = &who.via else {
        return Ok(());
    };
    state
        .store
        .revoke_session(session_sha256, &crate::stamp(now))
        .await?;
    state
        .audit(&who.actor, "sign_out", "", "ok", serde_json::json!({}))
        .await
}

/// Disables a user (their sessions end at once) or enables them again;
/// audited.
pub async fn set_disabled(
    state: &AppState,
    who: &Principal,
    username: &str,
    disabled: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    require(state, who, Action::ManageAccounts, username).await?;
    if !state
        .store
        .set_user_disabled(username, disabled, &crate::stamp(now))
        .await?
    {
        return Err(Failure::NotFound(format!("user {username}")));
    }
    let action = if disabled {
        "user_disable"
    } else {
        "user_enable"
    };
    state
        .audit(&who.actor, action, username, "ok", serde_json::json!({}))
        .await
}

/// Adds a user for the admin (as [`add_user`]); audited.
pub async fn add_user_by(
    state: &AppState,
    who: &Principal,
    username: &str,
    display_name: &str,
    password: &str,
    roles: &[&str],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    require(state, who, Action::ManageAccounts, "users").await?;
    let id = add_user(
        &state.store,
        &state.catalog,
        username,
        display_name,
        password,
        roles,
        now,
    )
    .await?;
    state
        .audit(
            &who.actor,
            "user_add",
            username,
            "ok",
            serde_json::json!({"roles": roles}),
        )
        .await?;
    Ok(id)
}

/// Replaces a user's roles for the admin (as [`set_roles`]); audited.
pub async fn set_roles_by(
    state: &AppState,
    who: &Principal,
    username: &str,
    roles: &[&str],
) -> Result<(), Failure> {
    require(state, who, Action::ManageAccounts, username).await?;
    let grants = set_roles(&state.store, &state.catalog, username, roles).await?;
    let labels: Vec<String> = grants.iter().map(|g| g.label()).collect();
    state
        .audit(
            &who.actor,
            "user_roles",
            username,
            "ok",
            serde_json::json!({"roles": labels}),
        )
        .await
}

/// Issues a token for the admin (as [`issue_token`]); audited.
pub async fn issue_token_by(
    state: &AppState,
    who: &Principal,
    name: &str,
    role: &str,
    days: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<IssuedToken, Failure> {
    require(state, who, Action::ManageAccounts, "tokens").await?;
    let token = issue_token(
        &state.store,
        &state.catalog,
        name,
        role,
        days,
        &who.actor,
        now,
    )
    .await?;
    state
        .audit(
            &who.actor,
            "token_issue",
            &format!("token:{}", token.id),
            "ok",
            serde_json::json!({"role": role, "expires_at": token.expires_at}),
        )
        .await?;
    Ok(token)
}

/// Whether the asker may change their own password (signed in by session).
pub async fn may_change_password(state: &AppState, who: &Principal) -> Result<(), Failure> {
    require(state, who, Action::ChangeOwnPassword, "").await
}
