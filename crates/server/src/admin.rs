//! Administrative actions shared by the admin pages and the command line:
//! adding users, issuing tokens. Each checks its input against the catalog
//! and the code rules; auditing is the caller's, who knows the actor.

use domain::Catalog;
use store::{RoleGrant, Store};

use crate::access::{Grant, Role};
use crate::secrets;
use crate::views::Failure;

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
        .create_user(username, display_name, &hash, &stored, &crate::now())
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
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = store
        .create_token(
            name.trim(),
            &secrets::sha256_hex(&secret),
            grant.role.as_str(),
            &grant.subject,
            created_by,
            &crate::now(),
            &expires_at,
        )
        .await?;
    Ok(IssuedToken {
        id,
        secret,
        expires_at,
    })
}
