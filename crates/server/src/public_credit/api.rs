//! The public side of credit in the API: an entity's evaluation, the
//! runs' distributions, credit checks and their statistics, the lists and
//! measures.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::Shared;
use crate::access::Principal;
use crate::http::cookies::CheckedHeader;
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ErrorBody};
use crate::registry::service::parse_uscc;

use super::service::{
    self as views, CheckInput, CheckReport, CheckStatistic, EvaluationView, Overview,
};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/credit/evaluations" => get(evaluations),
    "/api/v1/credit/evaluations/{uscc}" => get(entity_evaluation),
    "/api/v1/credit/checks/statistics" => get(check_statistics),
    "/api/v1/credit/measures" => get(measures),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/api/v1/credit/checks" => post(check),
}

/// An entity's composite evaluation: grade, score, the indicators that
/// cost points, the rules that capped it with their basis, what changed
/// since the run before, and its history (government and the entity
/// itself).
#[utoipa::path(get, path = "/api/v1/credit/evaluations/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, body = EvaluationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn entity_evaluation(
    State(state): State<Shared>,
    who: Principal,
    Path(uscc): Path<String>,
) -> Result<Json<EvaluationView>, ApiFailure> {
    let uscc = parse_uscc(&uscc)?;
    Ok(Json(views::entity_evaluation(&state, &who, &uscc).await?))
}

/// Every evaluation run and the latest one's grades by district, industry
/// and scheme (the credit centre and regulators).
#[utoipa::path(get, path = "/api/v1/credit/evaluations",
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn evaluations(
    State(state): State<Shared>,
    who: Principal,
) -> Result<Json<Overview>, ApiFailure> {
    Ok(Json(views::overview(&state, &who).await?))
}

/// A credit check for an application scenario: per entity, the lists it
/// is on, the measures that apply with their basis, and its grade
/// (departments, the credit centre, regulators). Up to 200 000 codes.
#[utoipa::path(post, path = "/api/v1/credit/checks", request_body = CheckInput,
    responses((status = 201, body = CheckReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    ApiJson(input): ApiJson<CheckInput>,
) -> Result<(StatusCode, Json<CheckReport>), ApiFailure> {
    let report = views::check(&state, &who, &input, chrono::Utc::now(), false).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// Checks by scenario and department (the credit centre).
#[utoipa::path(get, path = "/api/v1/credit/checks/statistics",
    responses((status = 200, body = Vec<CheckStatistic>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn check_statistics(
    State(state): State<Shared>,
    who: Principal,
) -> Result<Json<Vec<CheckStatistic>>, ApiFailure> {
    Ok(Json(views::check_statistics(&state, &who).await?))
}

/// The lists, their measures and the application scenarios: public.
#[utoipa::path(get, path = "/api/v1/credit/measures",
    responses((status = 200, body = Object)))]
pub async fn measures(State(state): State<Shared>) -> Json<credit::lists::Measures> {
    Json(state.config.measures.clone())
}
