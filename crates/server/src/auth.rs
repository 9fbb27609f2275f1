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
use std::time::{Duration, Instant};

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
pub const MAX_REGISTRATIONS_PER_HOUR: u32 = 10;
pub const MAX_CONFIRMATIONS_PER_HOUR: u32 = 30;
pub const MAX_ANONYMOUS_DENIALS_PER_MINUTE: u32 = 120;

/// What the per-address throttle counts, each with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    /// Sign-in attempts that did not succeed.
    SignIn,
    /// Claims to speak for an enterprise.
    Register,
    /// Confirmations of a claim's code.
    Confirm,
    /// Requests by the public that were refused.
    AnonymousDenial,
}

impl Attempt {
    /// At most this many in one window of [`Attempt::window`].
    fn limit(self) -> u32 {
        match self {
            Attempt::SignIn => MAX_FAILURES_PER_MINUTE,
            Attempt::Register => MAX_REGISTRATIONS_PER_HOUR,
            Attempt::Confirm => MAX_CONFIRMATIONS_PER_HOUR,
            Attempt::AnonymousDenial => MAX_ANONYMOUS_DENIALS_PER_MINUTE,
        }
    }

    fn window(self) -> Duration {
        match self {
            Attempt::SignIn | Attempt::AnonymousDenial => Duration::from_secs(60),
            Attempt::Register | Attempt::Confirm => Duration::from_secs(3600),
        }
    }
}

/// Attempts per client address and kind, in fixed windows. An attempt is
/// counted *before* the work it asks for (a password hash, a claim), under
/// the lock, so concurrent requests cannot all pass a check made before
/// any of them is recorded.
#[derive(Default)]
pub struct Throttle {
    attempts: HashMap<(Attempt, IpAddr), (Instant, u32)>,
}

impl Throttle {
    /// Counts one attempt; false when the address has used up its window.
    pub fn admit(&mut self, kind: Attempt, ip: IpAddr) -> bool {
        let now = Instant::now();
        self.attempts
            .retain(|(k, _), (start, _)| now.duration_since(*start) < k.window());
        let entry = self.attempts.entry((kind, ip)).or_insert((now, 0));
        if entry.1 >= kind.limit() {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Takes back an attempt that turned out not to count (a sign-in that
    /// succeeded).
    pub fn forgive(&mut self, kind: Attempt, ip: IpAddr) {
        if let Some(entry) = self.attempts.get_mut(&(kind, ip)) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// Requests by the public that were refused, by action, since the server
/// started: the request log's counts, shown to the admin beside the audit
/// log. They are not chained: anyone can make them, and a chained entry
/// each would let anyone fill the chain and hold its lock.
#[derive(Default)]
pub struct RefusedCounts {
    by_action: std::collections::BTreeMap<&'static str, u64>,
}

impl RefusedCounts {
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        self.by_action.iter().map(|(a, n)| (*a, *n)).collect()
    }
}

/// Records a refusal of the public's request in the request log and counts
/// it against the address; past [`MAX_ANONYMOUS_DENIALS_PER_MINUTE`] the
/// address gets "too many attempts" instead of a sign-in prompt.
pub fn refused_anonymously(
    state: &AppState,
    ip: IpAddr,
    action: &'static str,
    subject: &str,
) -> Result<(), Failure> {
    tracing::info!(%ip, action, subject, "refused: not signed in");
    if let Ok(mut counts) = state.refused.lock() {
        *counts.by_action.entry(action).or_default() += 1;
    }
    if admit(state, Attempt::AnonymousDenial, ip) {
        Ok(())
    } else {
        Err(Failure::TooManyAttempts)
    }
}

/// Counts an attempt of `kind` from `ip`; a poisoned lock admits nothing.
pub fn admit(state: &AppState, kind: Attempt, ip: IpAddr) -> bool {
    state
        .throttle
        .lock()
        .map(|mut t| t.admit(kind, ip))
        .unwrap_or(false)
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
/// attempt in [`Throttle`], the account's in the store
/// ([`store::Store::begin_login_attempt`]), so forty attempts sent at once
/// get no more checks than forty sent one by one. The hash runs on the
/// bounded blocking pool ([`secrets::Hashing`]), never on the async workers.
pub async fn sign_in(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
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
    let now = now();
    let lock_until = (chrono::Utc::now() + chrono::Duration::minutes(LOCKOUT_MINUTES))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let counted = state
        .store
        .begin_login_attempt(user.id, &now, MAX_FAILED_LOGINS, &lock_until)
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

/// The double-submit token of a form the public posts (sign-in,
/// registration): the one the browser's `xy_csrf` cookie holds, or a new
/// one. The page sets the cookie with [`anonymous_csrf_cookie`].
pub fn anonymous_csrf(headers: &HeaderMap) -> Result<String, Failure> {
    match cookie(headers, SIGN_IN_CSRF_COOKIE) {
        Some(t) if t.len() == 64 => Ok(t.to_string()),
        _ => secrets::random_hex(32).map_err(|e| Failure::Internal(e.to_string())),
    }
}

/// The `Set-Cookie` value that pairs with [`anonymous_csrf`]'s token.
pub fn anonymous_csrf_cookie(state: &AppState, token: &str) -> String {
    set_cookie(state, SIGN_IN_CSRF_COOKIE, token, 3600)
}

/// Checks a public form's token against its cookie; a mismatch is counted
/// in the request log like any refusal of the public.
pub fn check_anonymous_csrf(
    state: &AppState,
    headers: &HeaderMap,
    ip: IpAddr,
    given: &str,
    form: &str,
) -> Result<(), Failure> {
    let expected = cookie(headers, SIGN_IN_CSRF_COOKIE).unwrap_or_default();
    if !expected.is_empty() && secrets::same_secret(given, expected) {
        return Ok(());
    }
    refused_anonymously(state, ip, "csrf_check", form)?;
    Err(Failure::Forbidden)
}

/// The CSRF token forms of `who` carry (empty without a session).
pub fn csrf_token(who: &Principal) -> &str {
    match &who.via {
        Via::Session { csrf_token, .. } => csrf_token,
        _ => "",
    }
}
