//! Pages of the public portal: its home, the lists and their members, the
//! open-data page and files (a CSV streamed a page at a time, so a city's
//! penalties never sit in memory whole), and the public API's guide.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use minijinja::{Value, context};

use crate::Shared;
use crate::access::Principal;
use crate::http::render::page;
use crate::http::{Failure, PageResult, paging};

use super::service::{self as views, MemberQuery};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/public" => get(home_page),
    "/public/lists" => get(lists_page),
    "/public/lists/{id}" => get(list_page),
    "/public/api" => get(api_page),
    "/open-data" => get(open_data_page),
    "/open-data/{file}" => get(open_data_file),
}

/// Records read from the store for each part of a file.
const FILE_PAGE: i64 = 5000;

async fn home_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let lists = views::lists(&state).await?;
    page(
        "public_portal.html",
        &headers,
        &who,
        context! { lists => Value::from_serialize(&lists) },
    )
}

async fn lists_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let lists = views::lists(&state).await?;
    page(
        "public_lists.html",
        &headers,
        &who,
        context! { lists => Value::from_serialize(&lists) },
    )
}

async fn list_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<String>,
    Query(query): Query<MemberQuery>,
    uri: axum::http::Uri,
) -> PageResult {
    let listing = views::list_page(&state, &id, &query).await?;
    let districts: Vec<Value> = domain::division::districts()
        .map(|d| context! { code => d.code, zh => d.name_zh, en => d.name_en })
        .collect();
    page(
        "public_list.html",
        &headers,
        &who,
        context! {
            listing => Value::from_serialize(&listing),
            districts,
            filter => context! {
                division => query.division.clone().unwrap_or_default(),
                q => query.q.clone().unwrap_or_default(),
            },
            paging => paging(
                &format!("/public/lists/{id}"),
                uri.query().unwrap_or(""),
                listing.offset as i64,
                listing.total as i64,
                views::PAGE_ROWS as i64,
            ),
        },
    )
}

async fn api_page(headers: HeaderMap, who: Principal) -> PageResult {
    page(
        "public_api.html",
        &headers,
        &who,
        context! {
            per_minute => crate::http::throttle::MAX_PUBLIC_API_PER_MINUTE,
            page_size => views::OPEN_DATA_PAGE,
            licence_url => views::LICENCE_URL,
        },
    )
}

async fn open_data_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    page(
        "open_data.html",
        &headers,
        &who,
        context! {
            datasets => Value::from_serialize(views::datasets(&state)),
            licence_zh => views::LICENCE_ZH,
            licence_en => views::LICENCE_EN,
            licence_url => views::LICENCE_URL,
        },
    )
}

/// `/open-data/{item}.csv`: every record of an open item published today,
/// with a BOM, read and written a page at a time.
async fn open_data_file(
    State(state): State<Shared>,
    who: Principal,
    Path(file): Path<String>,
) -> PageResult {
    let Some(id) = file.strip_suffix(".csv") else {
        return Err(Failure::NotFound(format!("no file '{file}'")).into());
    };
    views::rate_limit(&state, &who)?;
    let item = views::open_dataset(&state, id)?.clone();
    let header_row = views::open_data_header(&item);
    let now = chrono::Utc::now();
    let name = format!("{id}-{}.csv", crate::beijing_date(now).format("%Y%m%d"));
    // The cursor: the last event id read, and whether the header is out.
    let parts = futures_util::stream::unfold(Some((0_i64, true)), move |cursor| {
        let (state, item, header_row) = (state.clone(), item.clone(), header_row.clone());
        async move {
            let (after, first) = cursor?;
            let start: &[u8] = if first { "\u{feff}".as_bytes() } else { b"" };
            let mut writer = csv::Writer::from_writer(start.to_vec());
            let written = async {
                if first {
                    writer
                        .write_record(&header_row)
                        .map_err(|e| e.to_string())?;
                }
                let (rows, next) = views::open_data_page(&state, &item, after, FILE_PAGE, now)
                    .await
                    .map_err(|e| e.message())?;
                for row in rows {
                    writer
                        .write_record(
                            row.iter()
                                .map(|c| domain::text::spreadsheet_safe(c).into_owned()),
                        )
                        .map_err(|e| e.to_string())?;
                }
                Ok::<Option<i64>, String>(next)
            }
            .await;
            match (written, writer.into_inner()) {
                (Ok(next), Ok(bytes)) => Some((Ok(bytes), next.map(|n| (n, false)))),
                (Err(e), _) => Some((Err(std::io::Error::other(e)), None)),
                (_, Err(e)) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::LINK,
                format!("<{}>; rel=\"license\"", views::LICENCE_URL),
            ),
        ],
        Body::from_stream(parts),
    )
        .into_response())
}
