//! The warnings API: `/api/v1/warnings` (the queue, drafting, edits and
//! moves) for regulators and recipients, and `/api/v1/alerts`, the issued
//! consumer alerts, for everyone.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Shared;
use crate::access::{Action, Principal};
use crate::http::cookies::CheckedHeader;
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ErrorBody, Failure};

use super::service::{
    self as views, DraftInput, EditInput, Edited, Listing, MoveInput, PublicAlert, QueueFilter,
    SignalQuery, SignalView, WarningDetail, WarningView,
};

type ApiResult<T> = Result<Json<T>, ApiFailure>;

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/warnings" => get(list_warnings).post(draft_warning),
    "/api/v1/warnings/signals" => get(list_signals),
    "/api/v1/warnings/{id}" => get(get_warning),
    "/api/v1/warnings/{id}/edit" => post(edit_warning),
    "/api/v1/warnings/{id}/moves" => post(move_warning),
    "/api/v1/warnings/{id}/correct" => post(correct_warning),
    "/api/v1/alerts" => get(list_alerts),
    "/api/v1/alerts/{id}" => get(get_alert),
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Offset {
    /// Rows to skip (pages of 50).
    offset: Option<i64>,
}

/// The id of the warning a request drafted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Drafted {
    pub id: i64,
}

/// The version a saved edit made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub version: i64,
}

/// Warnings: every one for regulators and the credit centre; those issued
/// to it for an enterprise (notices) or a department (risk reports).
#[utoipa::path(get, path = "/api/v1/warnings", params(Offset,
        ("kind" = Option<String>, Query), ("state" = Option<String>, Query),
        ("overdue" = Option<bool>, Query), ("signal" = Option<i64>, Query)),
    responses((status = 200, body = Listing<WarningView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_warnings(
    State(state): State<Shared>,
    who: Principal,
    Query(filter): Query<QueueFilter>,
    Query(offset): Query<Offset>,
) -> ApiResult<Listing<WarningView>> {
    Ok(Json(
        views::queue(
            &state,
            &who,
            &filter,
            offset.offset.unwrap_or(0),
            chrono::Utc::now(),
        )
        .await?,
    ))
}

/// Drafts a warning from a signal (regulators).
#[utoipa::path(post, path = "/api/v1/warnings", request_body = DraftInput,
    responses((status = 201, body = Drafted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn draft_warning(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<(StatusCode, Json<Drafted>), ApiFailure> {
    let id = views::draft(&state, &who, &input, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(Drafted { id })))
}

/// The detectors' signals, newest first (regulators and the credit centre).
#[utoipa::path(get, path = "/api/v1/warnings/signals", params(Offset,
        ("detector" = Option<String>, Query), ("category" = Option<String>, Query),
        ("level" = Option<String>, Query), ("from" = Option<String>, Query),
        ("to" = Option<String>, Query), ("undrafted" = Option<bool>, Query)),
    responses((status = 200, body = Listing<SignalView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_signals(
    State(state): State<Shared>,
    who: Principal,
    Query(query): Query<SignalQuery>,
    Query(offset): Query<Offset>,
) -> ApiResult<Listing<SignalView>> {
    Ok(Json(
        views::signals(&state, &who, &query, offset.offset.unwrap_or(0)).await?,
    ))
}

/// One warning with its evidence, history and the moves its reader may
/// make; a recipient sees the counts but no complaint.
#[utoipa::path(get, path = "/api/v1/warnings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = WarningDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_warning(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<WarningDetail> {
    Ok(Json(
        views::detail(&state, &who, id, chrono::Utc::now()).await?,
    ))
}

/// Edits a draft (regulators), naming the version it was made on; `409`
/// when another edit or a move came first, `422` with every field's
/// problem.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/edit", params(("id" = i64, Path)), request_body = EditInput,
    responses((status = 200, body = Saved), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_warning(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<EditInput>,
) -> ApiResult<Saved> {
    match views::edit(&state, &who, id, &input, chrono::Utc::now()).await? {
        Edited::Saved(version) => Ok(Json(Saved { version })),
        Edited::Invalid(errors) => {
            let messages = crate::i18n::messages(crate::i18n::Lang::En);
            let said: Vec<String> = errors
                .0
                .iter()
                .map(|(field, key)| {
                    format!("{field}: {}", messages.get(key).map_or(key.as_str(), |m| m))
                })
                .collect();
            Err(Failure::Unprocessable(said.join("; ")).into())
        }
    }
}

/// Moves a warning: approve, issue, acknowledge (its recipient), resolve,
/// withdraw, discard, or back to draft; each by the party it belongs to,
/// four eyes on approval.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/moves", params(("id" = i64, Path)), request_body = MoveInput,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn move_warning(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<StatusCode, ApiFailure> {
    views::move_warning(&state, &who, id, &input, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Drafts a correction of an issued warning (regulators); issuing it
/// supersedes the warning.
#[utoipa::path(post, path = "/api/v1/warnings/{id}/correct", params(("id" = i64, Path)),
    responses((status = 201, body = Drafted), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn correct_warning(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Drafted>), ApiFailure> {
    let id = views::correct(&state, &who, id, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(Drafted { id })))
}

/// Consumer alerts in force, newest first: public.
#[utoipa::path(get, path = "/api/v1/alerts", params(Offset),
    responses((status = 200, body = Listing<PublicAlert>)))]
pub async fn list_alerts(
    State(state): State<Shared>,
    who: Principal,
    Query(offset): Query<Offset>,
) -> ApiResult<Listing<PublicAlert>> {
    crate::service::require(&state, &who, Action::ViewConsumerAlerts, "alerts").await?;
    Ok(Json(
        views::public_alerts(&state, offset.offset.unwrap_or(0)).await?,
    ))
}

/// One issued consumer alert, also once superseded or withdrawn: public.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = PublicAlert), (status = 404, body = ErrorBody)))]
pub async fn get_alert(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<PublicAlert> {
    crate::service::require(&state, &who, Action::ViewConsumerAlerts, "alerts").await?;
    Ok(Json(views::public_alert(&state, id).await?))
}
