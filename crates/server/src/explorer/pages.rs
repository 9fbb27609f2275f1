//! Pages of the complaint explorer: the filters, each facet's counts as
//! links that narrow to it, the monthly trend and the town map as charts,
//! and the masked complaints a page at a time; a business's history.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::charts;
use crate::http::PageResult;
use crate::http::render::page;
use crate::i18n::{Lang, messages};

use super::service::{self as views, Exploration, ExploreQuery, PAGE_ROWS};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/complaints" => get(explorer_page),
    "/complaints/business/{uscc}" => get(history_page),
}

#[derive(Deserialize, Default)]
struct Paged {
    offset: Option<i64>,
}

/// The query as URL parameters, with `field` set to `value` (or left out
/// when empty), offset dropped.
fn link(base: &str, query: &ExploreQuery, field: &str, value: &str) -> String {
    let mut asked = serde_json::to_value(query)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    asked.insert(field.to_string(), value.into());
    let pairs: Vec<(String, String)> = asked
        .into_iter()
        .filter_map(|(k, v)| {
            let v = v.as_str()?.trim().to_string();
            (!v.is_empty()).then_some((k, v))
        })
        .collect();
    let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if encoded.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{encoded}")
    }
}

fn context_of(
    headers: &HeaderMap,
    base: &str,
    query: &ExploreQuery,
    found: &Exploration,
    catalog: &domain::Catalog,
) -> Value {
    let lang = Lang::of(headers);
    let m = messages(lang);
    let text = |key: &str| m.get(key).cloned().unwrap_or_else(|| key.to_string());
    let zh = lang == Lang::Zh;
    let facet = |field: &str, rows: &[views::Facet]| -> Vec<Value> {
        rows.iter()
            .map(|f| {
                let name = if zh { &f.name_zh } else { &f.name_en };
                context! {
                    code => f.code,
                    name => if name.is_empty() { f.code.clone() } else { name.clone() },
                    count => f.count,
                    href => link(base, query, field, &f.code),
                }
            })
            .collect()
    };
    let months: Vec<(String, f64)> = found
        .by_month
        .iter()
        .map(|f| (f.code.clone(), f.count as f64))
        .collect();
    let trend = charts::counts(
        &months,
        &text("cx_trend"),
        &text("cx_unit_month"),
        &text("cx_complaints"),
    );
    let districts: Vec<&domain::division::Division> = domain::division::districts().collect();
    let district_names: Vec<&str> = districts
        .iter()
        .map(|d| if zh { d.name_zh } else { d.name_en })
        .collect();
    let towns: Vec<charts::MapTown<'_>> = found
        .by_town
        .iter()
        .map(|t| charts::MapTown {
            name: if zh { &t.name_zh } else { &t.name_en },
            district: districts
                .iter()
                .position(|d| d.code == t.district)
                .unwrap_or(0),
            latitude: t.latitude,
            longitude: t.longitude,
            count: t.count as f64,
        })
        .collect();
    let map = charts::town_map(&towns, &district_names, &text("cx_map"), &text("cx_unit"));
    let values = |field: &str| -> Vec<String> {
        catalog
            .item("complaint")
            .and_then(|i| i.fields.iter().find(|f| f.name == field))
            .map(|f| f.values.clone())
            .unwrap_or_default()
    };
    let offset = found.offset;
    let here = link(base, query, "offset", "");
    let at = |n: i64| {
        format!(
            "{here}{}offset={n}",
            if here.contains('?') { '&' } else { '?' }
        )
    };
    context! {
        q => Value::from_serialize(query),
        found => Value::from_serialize(found),
        base,
        categories => values("category"),
        channels => values("channel"),
        request_types => values("request_type"),
        statuses => values("status"),
        districts => districts.iter().map(|d| context! { code => d.code, name => if zh { d.name_zh } else { d.name_en } }).collect::<Vec<_>>(),
        towns => domain::division::foshan().iter().filter(|d| d.level == domain::division::Level::Town).map(|d| context! { code => d.code, name => if zh { d.name_zh } else { d.name_en } }).collect::<Vec<_>>(),
        by_category => facet("category", &found.by_category),
        by_channel => facet("channel", &found.by_channel),
        by_request_type => facet("request_type", &found.by_request_type),
        by_status => facet("status", &found.by_status),
        by_district => facet("district", &found.by_district),
        by_industry => facet("industry", &found.by_industry),
        trend, map,
        previous => (offset > 0).then(|| at((offset - PAGE_ROWS).max(0))),
        next => (offset + PAGE_ROWS < found.total).then(|| at(offset + PAGE_ROWS)),
        shown_from => if found.total == 0 { 0 } else { offset + 1 },
        shown_to => (offset + PAGE_ROWS).min(found.total),
    }
}

async fn explorer_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: crate::access::Principal,
    Query(query): Query<ExploreQuery>,
    Query(paged): Query<Paged>,
) -> PageResult {
    let found = views::explore(&state, &who, &query, paged.offset.unwrap_or(0)).await?;
    let extra = context_of(&headers, "/complaints", &query, &found, &state.catalog);
    page(
        "complaints.html",
        &headers,
        &who,
        context! { history => Value::from(()), ..extra },
    )
}

async fn history_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: crate::access::Principal,
    Path(uscc): Path<String>,
    Query(query): Query<ExploreQuery>,
    Query(paged): Query<Paged>,
) -> PageResult {
    let history = views::history(&state, &who, &uscc, &query, paged.offset.unwrap_or(0)).await?;
    let base = format!("/complaints/business/{}", history.uscc);
    let query = ExploreQuery {
        uscc: None,
        ..query
    };
    let extra = context_of(&headers, &base, &query, &history.complaints, &state.catalog);
    page(
        "complaints.html",
        &headers,
        &who,
        context! {
            history => context! { uscc => history.uscc, name => history.name, warnings => Value::from_serialize(&history.warnings) },
            ..extra
        },
    )
}
