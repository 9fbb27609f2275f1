//! The registry API: search, profiles, the catalog, batches, uploads, quality.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Shared;
use crate::access::{Principal, Role};
use crate::http::{ApiFailure, ApiResult, ErrorBody, Failure};

use super::service::{self as views};
use crate::http::cookies::check_csrf;
use axum::response::{IntoResponse, Response};
use ingest::batch::BatchResult;

#[derive(Deserialize, IntoParams)]
struct SearchParams {
    /// A USCC, or any part of a name.
    q: String,
}

/// Entities by USCC or any part of the name (at most 50).
#[utoipa::path(get, path = "/api/v1/entities", params(SearchParams),
    responses((status = 200, body = Vec<views::SearchHit>), (status = 400, body = ErrorBody)))]
async fn search(
    State(state): State<Shared>,
    Query(params): Query<SearchParams>,
) -> ApiResult<Vec<views::SearchHit>> {
    Ok(Json(views::search(&state, &params.q).await?))
}

/// The full profile of an entity (credit centre, regulator, inspector, the enterprise itself).
#[utoipa::path(get, path = "/api/v1/entities/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, body = views::Profile), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn entity(
    State(state): State<Shared>,
    who: Principal,
    Path(code): Path<String>,
) -> ApiResult<views::Profile> {
    let uscc = views::parse_uscc(&code)?;
    Ok(Json(views::profile(&state, &who, &uscc).await?))
}

/// What may be published of an entity; no sign-in needed; the public is
/// rate-limited like the rest of the public API.
#[utoipa::path(get, path = "/api/v1/public/entities/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, body = views::PublicProfile), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)), security(()))]
async fn public_entity(
    State(state): State<Shared>,
    who: Principal,
    Path(code): Path<String>,
) -> ApiResult<views::PublicProfile> {
    crate::public_portal::service::rate_limit(&state, &who)?;
    let uscc = views::parse_uscc(&code)?;
    Ok(Json(
        views::public_profile(&state, &uscc, chrono::Utc::now()).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct RefusedQuery {
    /// Where the page starts (50 rows a page).
    pub offset: Option<usize>,
}

/// A batch's refused rows, 50 a page: each row's number, the rule broken
/// with its names, the field, and the row as sent (the department that
/// sent it, and the credit centre).
#[utoipa::path(get, path = "/api/v1/batches/{id}/refused", params(("id" = i64, Path), RefusedQuery),
    responses((status = 200, body = views::RefusedRows), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn refused(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    Query(query): Query<RefusedQuery>,
) -> ApiResult<views::RefusedRows> {
    let batch = views::batch(&state, &who, id).await?;
    Ok(Json(
        views::refused_rows(
            &state,
            &batch,
            query.offset.unwrap_or(0),
            Some(views::REFUSED_PAGE),
        )
        .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogItem {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub department: String,
    pub category: String,
    pub record: String,
    pub publicity: String,
    pub fields: Vec<String>,
}

/// The information catalog's items.
#[utoipa::path(get, path = "/api/v1/catalog", responses((status = 200, body = Vec<CatalogItem>)), security(()))]
async fn catalog(State(state): State<Shared>) -> Json<Vec<CatalogItem>> {
    Json(
        state
            .catalog
            .items
            .iter()
            .map(|i| CatalogItem {
                id: i.id.clone(),
                name_zh: i.name_zh.clone(),
                name_en: i.name_en.clone(),
                department: i.department.clone(),
                category: format!("{:?}", i.category).to_lowercase(),
                record: format!("{:?}", i.record).to_lowercase(),
                publicity: i.publicity.name().to_string(),
                fields: i.fields.iter().map(|f| f.name.clone()).collect(),
            })
            .collect(),
    )
}

/// Batches the caller may see (a department its own), newest first.
#[utoipa::path(get, path = "/api/v1/batches",
    responses((status = 200, body = Vec<Object>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn batches(State(state): State<Shared>, who: Principal) -> ApiResult<Vec<store::BatchRow>> {
    Ok(Json(views::visible_batches(&state, &who).await?))
}

/// One batch and its report.
#[utoipa::path(get, path = "/api/v1/batches/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn batch(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<store::BatchRow> {
    Ok(Json(views::batch(&state, &who, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct UploadResult {
    /// `committed`, or `already_ingested` when the same content came before.
    pub status: String,
    #[schema(value_type = Object)]
    pub batch: store::BatchRow,
}

/// Uploads a file as one batch: multipart fields `item`, `file`, and
/// `department` when the caller may send for more than one.
#[utoipa::path(post, path = "/api/v1/batches", request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = UploadResult), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Multipart,
) -> Result<Response, ApiFailure> {
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded.into());
    }
    let form = crate::http::forms::read_upload(multipart).await?;
    let header_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&state, &who, form.csrf.as_deref().or(header_csrf)).await?;
    let own = who.subjects(Role::Department);
    let department = match (&form.department, own.as_slice()) {
        (Some(d), _) => d.clone(),
        (None, [only]) => only.to_string(),
        _ => return Err(Failure::BadRequest("give the department the file is from".into()).into()),
    };
    let department = views::DepartmentId::parse(&state.catalog, &department)?;
    let Some(item) = form.item.filter(|i| !i.is_empty()) else {
        return Err(Failure::BadRequest("give the catalog item the file holds".into()).into());
    };
    let file_name = form.file_name.unwrap_or_default();
    let (status, code, batch) =
        match views::upload(&state, &who, &department, &item, &file_name, &form.bytes).await? {
            BatchResult::Committed(b) => ("committed", StatusCode::CREATED, b),
            BatchResult::AlreadyIngested(b) => ("already_ingested", StatusCode::OK, b),
        };
    Ok((
        code,
        Json(UploadResult {
            status: status.into(),
            batch,
        }),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
struct QualityParams {
    /// One department; without it, all (credit centre) or the caller's own.
    department: Option<String>,
}

/// Data quality per department and item over time.
#[utoipa::path(get, path = "/api/v1/quality", params(QualityParams),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn quality(
    State(state): State<Shared>,
    who: Principal,
    Query(params): Query<QualityParams>,
) -> ApiResult<Vec<ingest::quality::Quality>> {
    let own = who.subjects(Role::Department);
    let department = match params.department {
        Some(d) => Some(d),
        None if !who.has(Role::CreditCentre) => own.first().map(|d| d.to_string()),
        None => None,
    };
    let department = department
        .map(|d| views::DepartmentId::parse(&state.catalog, &d))
        .transpose()?;
    Ok(Json(
        views::quality(&state, &who, department.as_ref()).await?,
    ))
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/entities" => get(search),
    "/api/v1/entities/{uscc}" => get(entity),
    "/api/v1/public/entities/{uscc}" => get(public_entity),
    "/api/v1/catalog" => get(catalog),
    "/api/v1/batches" => get(batches),
    "/api/v1/batches/{id}" => get(batch),
    "/api/v1/batches/{id}/refused" => get(refused),
    "/api/v1/quality" => get(quality),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/api/v1/batches" => post(upload),
}
