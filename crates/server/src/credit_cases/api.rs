//! Objections and repairs in the API: the same service as the pages. An
//! enterprise opens a case with a multipart form (its documents are
//! files); moves are JSON on the version read.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::Shared;
use crate::access::Principal;
use crate::http::cookies::CheckedHeader;
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ErrorBody};

use super::service::{
    self as views, CaseDetail, CaseInput, CaseList, Invalid, Kind, ListQuery, MoveInput, Moved,
    Opened, RepairStatistics,
};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/credit/cases" => get(list),
    "/api/v1/credit/cases/{id}" => get(detail),
    "/api/v1/credit/cases/{id}/move" => post(move_case),
    "/api/v1/credit/repairs/statistics" => get(statistics),
    "/api/v1/credit/repairs/export" => get(export),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/api/v1/credit/objections" => post(objection),
    "/api/v1/credit/repairs" => post(repair),
}

/// The case opened.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OpenedCase {
    pub id: i64,
}

fn invalid(invalid: Invalid) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Json(invalid)).into_response()
}

async fn open(
    state: Shared,
    who: Principal,
    kind: Kind,
    multipart: Multipart,
) -> Result<Response, ApiFailure> {
    let input: CaseInput = super::pages::read_case_form(&state, &who, multipart, false).await?;
    let code = views::contesting(&state, &who).await?;
    Ok(
        match views::open(&state, &who, &code, kind, &input, chrono::Utc::now()).await? {
            Opened::Case(id) => (StatusCode::CREATED, Json(OpenedCase { id })).into_response(),
            Opened::Invalid(refused) => invalid(refused),
        },
    )
}

/// Contests one of the enterprise's records (multipart: `record` as `item:batch:row`, `ground`, `statement`, and up to
/// five `documents` of PDF, OFD, JPG or PNG). 422 names each field's
/// problem.
#[utoipa::path(post, path = "/api/v1/credit/objections",
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = OpenedCase), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = Invalid)))]
pub async fn objection(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    multipart: Multipart,
) -> Result<Response, ApiFailure> {
    open(state, who, Kind::Objection, multipart).await
}

/// Asks for one of the enterprise's records to be repaired (multipart:
/// `record`, `statement` — the proof of correction —, `commitment`, and at
/// least one of `documents`). Refused before the minimum publicity period,
/// after the maximum, and for records that are not repaired.
#[utoipa::path(post, path = "/api/v1/credit/repairs",
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = OpenedCase), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = Invalid)))]
pub async fn repair(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    multipart: Multipart,
) -> Result<Response, ApiFailure> {
    open(state, who, Kind::Repair, multipart).await
}

/// The cases the caller may see, 50 a page: the credit centre every one,
/// a department the objections to its records, an enterprise its own.
#[utoipa::path(get, path = "/api/v1/credit/cases", params(ListQuery),
    responses((status = 200, body = CaseList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    who: Principal,
    Query(query): Query<ListQuery>,
) -> Result<Json<CaseList>, ApiFailure> {
    Ok(Json(
        views::list(&state, &who, &query, chrono::Utc::now()).await?,
    ))
}

/// One case with its history, documents, record and the moves open to the
/// caller.
#[utoipa::path(get, path = "/api/v1/credit/cases/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> Result<Json<CaseDetail>, ApiFailure> {
    Ok(Json(
        views::detail(&state, &who, id, chrono::Utc::now()).await?,
    ))
}

/// Moves a case on the version read: the department accepts, rejects,
/// confirms or corrects an objection (a correction gives the corrected
/// `values`), the credit centre approves or rejects a repair, the
/// enterprise withdraws. 409 when another got there first.
#[utoipa::path(post, path = "/api/v1/credit/cases/{id}/move", params(("id" = i64, Path)), request_body = MoveInput,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = Invalid)))]
pub async fn move_case(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<Response, ApiFailure> {
    Ok(
        match views::move_case(&state, &who, id, &input, chrono::Utc::now()).await? {
            Moved::Done => StatusCode::NO_CONTENT.into_response(),
            Moved::Invalid(refused) => invalid(refused),
        },
    )
}

/// Repair applications and objections by state, and the working days to
/// a repair decision (the credit centre).
#[utoipa::path(get, path = "/api/v1/credit/repairs/statistics",
    responses((status = 200, body = RepairStatistics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn statistics(
    State(state): State<Shared>,
    who: Principal,
) -> Result<Json<RepairStatistics>, ApiFailure> {
    Ok(Json(views::statistics(&state, &who).await?))
}

/// Every repaired record, for the national platform: CSV with a BOM
/// (the credit centre).
#[utoipa::path(get, path = "/api/v1/credit/repairs/export",
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn export(State(state): State<Shared>, who: Principal) -> Result<Response, ApiFailure> {
    let rows = views::export(&state, &who).await?;
    let header = views::EXPORT_HEADER.map(str::to_string);
    Ok(crate::http::csv_file(
        "repaired-records.csv",
        &header,
        &rows,
        true,
    )?)
}
