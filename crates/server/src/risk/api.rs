//! The risk API.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::Shared;
use crate::access::Principal;
use crate::http::{ApiFailure, ApiResult, ErrorBody, Failure};

use crate::http::cookies::CheckedHeader;
use crate::registry::service as views;

/// The latest screening: classes, cut-offs, by district and industry, score
/// distribution, migration, observed problem rates (regulators, inspectors).
#[utoipa::path(get, path = "/api/v1/risk",
    responses((status = 200, description = "risk overview"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_overview(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk::service::Overview> {
    Ok(Json(crate::risk::service::overview(&state, &who).await?))
}

#[derive(Deserialize, IntoParams)]
struct RiskListParams {
    /// A, B, C or D.
    class: Option<String>,
    /// Prefix of the division code.
    division: Option<String>,
    /// Prefix of the industry code.
    industry: Option<String>,
    /// At most 1000; default 100.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The latest screening's entities, riskiest first, with reasons.
#[utoipa::path(get, path = "/api/v1/risk/entities", params(RiskListParams),
    responses((status = 200, description = "ranked entities"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_entities(
    State(state): State<Shared>,
    who: Principal,
    Query(p): Query<RiskListParams>,
) -> ApiResult<Vec<crate::risk::service::RankedView>> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let filter =
        crate::risk::service::list_filter(p.class, p.division, p.industry, limit, p.offset);
    let (_, rows) = crate::risk::service::ranked(&state, &who, &filter).await?;
    Ok(Json(rows))
}

/// An entity's risk in every screening, newest first, with reasons.
#[utoipa::path(get, path = "/api/v1/risk/entities/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, description = "the entity's risk history"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn risk_entity(
    State(state): State<Shared>,
    who: Principal,
    Path(code): Path<String>,
) -> ApiResult<Vec<crate::risk::service::EntityRiskView>> {
    let uscc = views::parse_uscc(&code)?;
    let (_, history) = crate::risk::service::entity(&state, &who, &uscc).await?;
    Ok(Json(history))
}

/// The model in use with its training and hold-out report.
#[utoipa::path(get, path = "/api/v1/risk/model",
    responses((status = 200, description = "model and report"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn risk_model(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk::service::ModelView> {
    let model = crate::risk::service::model(&state, &who)
        .await?
        .ok_or_else(|| Failure::NotFound("risk model".into()))?;
    Ok(Json(model))
}

/// The re-screening in progress or last finished.
#[utoipa::path(get, path = "/api/v1/risk/screenings/current",
    responses((status = 200, description = "screening job"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_screening_status(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk::service::ScreeningJob> {
    Ok(Json(crate::risk::service::job(&state, &who).await?))
}

/// Starts re-screening the city (regulators); poll the same address.
#[utoipa::path(post, path = "/api/v1/risk/screenings/current",
    responses((status = 202, description = "started"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_screening_start(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
) -> Result<(StatusCode, Json<crate::risk::service::ScreeningJob>), ApiFailure> {
    let job = crate::risk::service::start_screening(&state, &who, chrono::Utc::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/risk" => get(risk_overview),
    "/api/v1/risk/entities" => get(risk_entities),
    "/api/v1/risk/entities/{uscc}" => get(risk_entity),
    "/api/v1/risk/model" => get(risk_model),
    "/api/v1/risk/screenings/current" => get(risk_screening_status).post(risk_screening_start),
}
