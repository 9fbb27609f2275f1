//! The accounts API: the audit log, and claims to speak for an enterprise.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::Shared;
use crate::access::Principal;
use crate::http::cookies::CheckedHeader;
use crate::http::cookies::ClientIp;
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ApiResult, ErrorBody, Failure};

use super::claims::{self, ClaimOutcome, Claims, Confirmation, Registration};

#[derive(Deserialize, IntoParams)]
struct AuditParams {
    actor: Option<String>,
    subject: Option<String>,
    /// RFC 3339 time or date.
    since: Option<String>,
    limit: Option<i64>,
}

/// Audit log entries, newest first (admin).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn audit(
    State(state): State<Shared>,
    who: Principal,
    Query(params): Query<AuditParams>,
) -> ApiResult<Vec<store::AuditEntry>> {
    let filter = store::AuditFilter {
        actor: params.actor,
        subject: params.subject,
        since: params.since,
        limit: params.limit.unwrap_or(1000).clamp(1, 10_000),
    };
    let (entries, _) = super::service::audit_log(&state, &who, &filter, false).await?;
    Ok(Json(entries))
}

/// Claims to speak for an enterprise: checked against the registry, then a one-time code goes to the contact it registered with the market regulator (never to the asker).
#[utoipa::path(post, path = "/api/v1/finance/register", request_body = Registration,
    responses((status = 202, body = ClaimOutcome), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<Registration>,
) -> Result<(StatusCode, Json<ClaimOutcome>), ApiFailure> {
    Ok((
        StatusCode::ACCEPTED,
        Json(claims::register(&state, ip, &form, chrono::Utc::now()).await?),
    ))
}

/// Confirms a claim with its code and chooses the account: open at once for an enterprise's first account, else awaiting its administrator's approval.
#[utoipa::path(post, path = "/api/v1/finance/register/confirm", request_body = Confirmation,
    responses((status = 201, body = ClaimOutcome), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<Confirmation>,
) -> Result<(StatusCode, Json<ClaimOutcome>), ApiFailure> {
    Ok((
        StatusCode::CREATED,
        Json(claims::confirm(&state, ip, &form, chrono::Utc::now()).await?),
    ))
}

/// The claims to speak for one's own enterprise (its accounts); whether the asker is its administrator.
#[utoipa::path(get, path = "/api/v1/finance/claims",
    responses((status = 200, body = Claims), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_claims(State(state): State<Shared>, who: Principal) -> ApiResult<Claims> {
    Ok(Json(claims::claims(&state, &who).await?))
}

/// The enterprise's administrator approves or refuses a claim awaiting approval (`approve` or `refuse`).
#[utoipa::path(post, path = "/api/v1/finance/claims/{id}/{decision}", params(("id" = i64, Path), ("decision" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn decide_claim(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path((id, decision)): Path<(i64, String)>,
) -> Result<StatusCode, ApiFailure> {
    let approve = match decision.as_str() {
        "approve" => true,
        "refuse" => false,
        other => return Err(Failure::NotFound(format!("decision '{other}'")).into()),
    };
    claims::decide(&state, &who, id, approve, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/audit" => get(audit),
    "/api/v1/finance/register" => post(register),
    "/api/v1/finance/register/confirm" => post(confirm),
    "/api/v1/finance/claims" => get(list_claims),
    "/api/v1/finance/claims/{id}/{decision}" => post(decide_claim),
}
