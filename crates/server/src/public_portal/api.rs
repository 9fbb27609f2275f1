//! The public API of the portal: lists and their members, and open data a
//! page at a time with its licence. Anyone may call it; the public is
//! limited to `MAX_PUBLIC_API_PER_MINUTE` calls a minute per address
//! (429 past it).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use crate::Shared;
use crate::access::Principal;
use crate::http::{ApiResult, ErrorBody};

use super::service::{
    self as views, Dataset, ListPage, Lists, MemberQuery, OPEN_DATA_PAGE, OpenDataPage,
};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/public/lists" => get(lists),
    "/api/v1/public/lists/{id}" => get(list),
    "/api/v1/open-data" => get(datasets),
    "/api/v1/open-data/{item}" => get(open_data),
}

/// The red and black lists with their basis and how many are on each, as
/// of the latest evaluation run. Public; rate-limited.
#[utoipa::path(get, path = "/api/v1/public/lists",
    responses((status = 200, body = Lists), (status = 429, body = ErrorBody)))]
pub async fn lists(State(state): State<Shared>, who: Principal) -> ApiResult<Lists> {
    views::rate_limit(&state, &who)?;
    Ok(Json(views::lists(&state).await?))
}

/// One list's members, 50 a page, by district or town code and by any
/// part of the name or code. Public; rate-limited.
#[utoipa::path(get, path = "/api/v1/public/lists/{id}", params(("id" = String, Path), MemberQuery),
    responses((status = 200, body = ListPage), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
    Query(query): Query<MemberQuery>,
) -> ApiResult<ListPage> {
    views::rate_limit(&state, &who)?;
    Ok(Json(views::list_page(&state, &id, &query).await?))
}

/// The open datasets: every public event item with its fields and how long
/// its records are published. Public; rate-limited.
#[utoipa::path(get, path = "/api/v1/open-data",
    responses((status = 200, body = Vec<Dataset>), (status = 429, body = ErrorBody)))]
pub async fn datasets(State(state): State<Shared>, who: Principal) -> ApiResult<Vec<Dataset>> {
    views::rate_limit(&state, &who)?;
    Ok(Json(views::datasets(&state)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct After {
    /// `next` of the page before; none for the first page.
    pub after: Option<i64>,
}

/// A page of an open dataset's records published today (up to 1 000),
/// with the licence; `next` continues. Public; rate-limited.
#[utoipa::path(get, path = "/api/v1/open-data/{item}", params(("item" = String, Path), After),
    responses((status = 200, body = OpenDataPage), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn open_data(
    State(state): State<Shared>,
    who: Principal,
    Path(item): Path<String>,
    Query(after): Query<After>,
) -> ApiResult<OpenDataPage> {
    views::rate_limit(&state, &who)?;
    let item = views::open_dataset(&state, &item)?;
    let now = chrono::Utc::now();
    let (rows, next) =
        views::open_data_page(&state, item, after.after.unwrap_or(0), OPEN_DATA_PAGE, now).await?;
    let header = views::open_data_header(item);
    let records = rows
        .into_iter()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row)
                .map(|(name, value)| {
                    let value = match name.as_str() {
                        "under_objection" => serde_json::Value::Bool(value == "true"),
                        _ => serde_json::Value::String(value),
                    };
                    (name, value)
                })
                .collect()
        })
        .collect();
    Ok(Json(OpenDataPage {
        item: item.id.clone(),
        licence_zh: views::LICENCE_ZH.into(),
        licence_en: views::LICENCE_EN.into(),
        licence_url: views::LICENCE_URL.into(),
        generated_at: crate::stamp(now),
        records,
        next,
    }))
}
