//! Cookies, CSRF and the client's address.
//!
//! A session cookie (`xy_session`) holds 32 random bytes; the store keeps
//! their SHA-256, the user, the session's CSRF token and its expiry. Every
//! form a signed-in person posts carries that CSRF token; the forms the
//! public posts (sign-in, registration), which come before any session,
//! carry the value of a `xy_csrf` cookie (double submit). Cookies are
//! `HttpOnly` and `SameSite=Strict`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use super::Failure;
use super::throttle::refused_anonymously;
use crate::access::{Principal, Via};
use crate::{AppState, Shared, secrets};

pub const SESSION_COOKIE: &str = "xy_session";

pub const SIGN_IN_CSRF_COOKIE: &str = "xy_csrf";

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

pub fn client_ip(parts: &Parts) -> IpAddr {
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

/// A form with nothing but its CSRF token (a button that changes
/// something): `CheckedForm<CsrfForm>`.
#[derive(Deserialize)]
pub(crate) struct CsrfForm {}

/// A form whose `csrf` field is the asker's session token (a bearer
/// token's request needs none): the check every page that changes
/// something makes, done before the handler runs. A missing or wrong token
/// is refused and audited; the form's other fields are `T`'s, read by
/// [`super::forms::parse_form`].
pub struct CheckedForm<T>(pub T);

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<Shared> for CheckedForm<T> {
    type Rejection = super::PageFailure;

    async fn from_request(
        request: axum::extract::Request,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let who = Principal::from_request_parts(&mut parts, state)
            .await
            .map_err(|e| super::PageFailure(e.0))?;
        let request = axum::extract::Request::from_parts(parts, body);
        let bytes = super::forms::body_bytes(request, state).await?;
        let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
            .map(|f| f.csrf)
            .unwrap_or_default();
        check_csrf(state, &who, Some(&token)).await?;
        Ok(CheckedForm(super::forms::parse_form(&bytes)?))
    }
}

/// An API change by a cookie session carries its token in `X-CSRF-Token`
/// (a bearer token's needs none); checked before the handler runs.
pub struct CheckedHeader;

impl FromRequestParts<Shared> for CheckedHeader {
    type Rejection = super::ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let who = Principal::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        check_csrf(state, &who, token).await?;
        Ok(CheckedHeader)
    }
}
