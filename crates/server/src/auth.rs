//! Who is asking: cookie sessions for people, bearer tokens for machines.
//!
//! A session cookie (`xy_session`) holds 32 random bytes; the store keeps
//! their SHA-256, the user, the session's CSRF token and its expiry. Every
//! form a signed-in person posts carries that CSRF token; the sign-in form,
//! which comes before any session, carries the value of a `xy_csrf` cookie
//! (double submit). Cookies are `HttpOnly` and `SameSite=Strict`.
//!
//! Sign-in is throttled twice: an account locks for [`LOCKOUT_MINUTES`]
//! after [`MAX_FAILED_LOGINS`] failures in a row, and a client address may
//! fail at most [`MAX_FAILURES_PER_MINUTE`] times a minute whatever names
//! it tries. Both are audited.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::access::{Grant, Principal, Via};
use crate::secrets;
use crate::views::Failure;
use crate::{AppState, Shared, now};

pub const SESSION_COOKIE: &str = "xy_session";
pub const SIGN_IN_CSRF_COOKIE: &str = "xy_csrf";
pub const SESSION_HOURS: i64 = 8;
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_MINUTE: u32 = 10;

/// Failed sign-ins per client address, per minute.
#[derive(Default)]
pub struct Throttle {
    failures: HashMap<IpAddr, (Instant, u32)>,
}

impl Throttle {
    fn blocked(&mut self, ip: IpAddr) -> bool {
        let now = Instant::now();
        self.failures
            .retain(|_, (start, _)| now.duration_since(*start).as_secs() < 60);
        self.failures
            .get(&ip)
            .is_some_and(|(_, n)| *n >= MAX_FAILURES_PER_MINUTE)
    }

    fn failed(&mut self, ip: IpAddr) {
        let entry = self.failures.entry(ip).or_insert((Instant::now(), 0));
        entry.1 += 1;
    }
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
}

fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

/// The client's address, for the audit log and the throttle.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<Shared> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

impl FromRequestParts<Shared> for Principal {
    type Rejection = crate::api::ApiFailure;

    /// A bearer token that is unknown, expired or revoked fails the request
    /// (and is audited); a session cookie that is not valid is ignored, so
    /// the request goes on as the public's.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let text = value.to_str().unwrap_or_default();
            let Some(secret) = text.strip_prefix("Bearer ") else {
                return Err(Failure::SignInNeeded.into());
            };
            return token_principal(state, secret.trim(), client_ip(parts))
                .await
                .map_err(Into::into);
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
            && let Some(who) = session_principal(state, secret).await?
        {
            return Ok(who);
        }
        Ok(Principal::anonymous())
    }
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
        let subject = stored
            .as_ref()
            .map_or(String::new(), |t| format!("token:{}", t.id));
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
    })
}

async fn session_principal(state: &AppState, secret: &str) -> Result<Option<Principal>, Failure> {
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
    }))
}

/// A new session's cookie secret, for a user who proved who they are.
pub struct NewSession {
    pub cookie_secret: String,
}

/// Checks a user name and password; on success opens a session.
pub async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
) -> Result<NewSession, Failure> {
    let blocked = state
        .throttle
        .lock()
        .map(|mut t| t.blocked(ip))
        .unwrap_or(true);
    if blocked {
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
        if let Ok(mut t) = state.throttle.lock() {
            t.failed(ip);
        }
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
        secrets::verify_nothing(password);
        return failed("unknown user").await;
    };
    let now = now();
    if user
        .locked_until
        .as_deref()
        .is_some_and(|until| until > now.as_str())
    {
        secrets::verify_nothing(password);
        return failed("locked").await;
    }
    if !secrets::verify_password(password, &user.password_hash) {
        let lock = (user.failed_logins + 1 >= MAX_FAILED_LOGINS).then(|| {
            (chrono::Utc::now() + chrono::Duration::minutes(LOCKOUT_MINUTES))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        });
        state
            .store
            .record_failed_login(user.id, lock.as_deref())
            .await?;
        return failed(if lock.is_some() {
            "wrong password; locked"
        } else {
            "wrong password"
        })
        .await;
    }
    if user.disabled {
        return failed("disabled").await;
    }
    if user.failed_logins > 0 {
        state.store.reset_failed_logins(user.id).await?;
    }
    let internal = |e: secrets::SecretError| Failure::Internal(e.to_string());
    let cookie_secret = secrets::random_hex(32).map_err(internal)?;
    let csrf = secrets::random_hex(32).map_err(internal)?;
    let expires = (chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    state
        .store
        .create_session(
            &secrets::sha256_hex(&cookie_secret),
            user.id,
            &csrf,
            &now,
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

/// Fails unless `given` is the CSRF token of `who`'s session. Requests made
/// with a bearer token carry no cookies a browser would send on its own, so
/// they need none.
pub async fn check_csrf(
    state: &AppState,
    who: &Principal,
    given: Option<&str>,
) -> Result<(), Failure> {
    let expected = match &who.via {
        Via::Session { csrf_token, .. } => csrf_token,
        Via::Token { .. } => return Ok(()),
        Via::Anonymous => return Err(Failure::SignInNeeded),
    };
    if given.is_some_and(|g| secrets::same_secret(g, expected)) {
        return Ok(());
    }
    state
        .audit(
            &who.actor,
            "csrf_check",
            "",
            "denied",
            serde_json::json!({}),
        )
        .await?;
    Err(Failure::Forbidden)
}

/// The CSRF token forms of `who` carry (empty without a session).
pub fn csrf_token(who: &Principal) -> &str {
    match &who.via {
        Via::Session { csrf_token, .. } => csrf_token,
        _ => "",
    }
}
