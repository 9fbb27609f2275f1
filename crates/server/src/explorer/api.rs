//! The complaint explorer's API: `/api/v1/complaints` and a business's
//! history, for the government side.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::Shared;
use crate::access::Principal;
use crate::http::{ApiFailure, ErrorBody};

use super::service::{self as views, Exploration, ExploreQuery, History};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/complaints" => get(explore),
    "/api/v1/complaints/business/{uscc}" => get(history),
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Offset {
    /// Complaints to skip (pages of 50).
    offset: Option<i64>,
}

/// Complaints with their counts by category, channel, type, state,
/// district, industry, month and town, and a page of them, masked
/// (credit centre, regulators, inspectors).
#[utoipa::path(get, path = "/api/v1/complaints", params(Offset,
        ("from" = Option<String>, Query), ("to" = Option<String>, Query),
        ("category" = Option<String>, Query), ("channel" = Option<String>, Query),
        ("request_type" = Option<String>, Query), ("status" = Option<String>, Query),
        ("district" = Option<String>, Query), ("town" = Option<String>, Query),
        ("industry" = Option<String>, Query), ("uscc" = Option<String>, Query),
        ("q" = Option<String>, Query, description = "words in the masked text")),
    responses((status = 200, body = Exploration), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn explore(
    State(state): State<Shared>,
    who: Principal,
    Query(query): Query<ExploreQuery>,
    Query(offset): Query<Offset>,
) -> Result<Json<Exploration>, ApiFailure> {
    Ok(Json(
        views::explore(&state, &who, &query, offset.offset.unwrap_or(0)).await?,
    ))
}

/// One business's complaints, their counts and the warnings to it.
#[utoipa::path(get, path = "/api/v1/complaints/business/{uscc}", params(("uscc" = String, Path), Offset),
    responses((status = 200, body = History), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<Shared>,
    who: Principal,
    Path(uscc): Path<String>,
    Query(query): Query<ExploreQuery>,
    Query(offset): Query<Offset>,
) -> Result<Json<History>, ApiFailure> {
    Ok(Json(
        views::history(&state, &who, &uscc, &query, offset.offset.unwrap_or(0)).await?,
    ))
}
