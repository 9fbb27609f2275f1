//! Pages of warnings: the queue, the signals to draft from, one warning
//! with its evidence chart, edits and moves, its printable form, and the
//! public's consumer alerts.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::{Action, Principal, allows};
use crate::charts;
use crate::http::cookies::{CheckedForm, CsrfForm};
use crate::http::forms::field;
use crate::http::render::page;
use crate::http::{PageResult, paging};
use crate::i18n::{Lang, messages};

use super::service::{
    self as views, DraftInput, EditInput, Edited, MoveInput, PAGE_ROWS, QueueFilter, SignalQuery,
};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/warnings" => get(queue_page),
    "/warnings/signals" => get(signals_page),
    "/warnings/signals/{id}/draft" => post(draft_submit),
    "/warnings/{id}" => get(warning_page).post(edit_submit),
    "/warnings/{id}/move" => post(move_submit),
    "/warnings/{id}/correct" => post(correct_submit),
    "/warnings/{id}/print" => get(print_page),
    "/alerts" => get(alerts_page),
    "/alerts/{id}" => get(alert_page),
}

/// The kinds of warning, for a filter or a draft's choice.
fn kinds() -> Vec<Value> {
    complaints::warning::Kind::ALL
        .iter()
        .map(|k| context! { key => k.as_str(), zh => k.name_zh(), en => k.name_en() })
        .collect()
}

#[derive(Deserialize, Default)]
struct Paged {
    offset: Option<i64>,
}

async fn queue_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(filter): Query<QueueFilter>,
    Query(paged): Query<Paged>,
    uri: axum::http::Uri,
) -> PageResult {
    let offset = paged.offset.unwrap_or(0);
    let listing = views::queue(&state, &who, &filter, offset, chrono::Utc::now()).await?;
    let counts = if allows(&who, Action::ViewWarnings) {
        state.store.warning_counts().await?
    } else {
        Vec::new()
    };
    page(
        "warnings.html",
        &headers,
        &who,
        context! {
            rows => Value::from_serialize(&listing.rows),
            paging => paging("/warnings", uri.query().unwrap_or(""), listing.offset, listing.total, PAGE_ROWS),
            filter => context! { kind => filter.kind, state => filter.state, overdue => filter.overdue },
            kinds => kinds(),
            states => complaints::warning::State::ALL.iter().map(|s| context! { key => s.as_str(), zh => s.name_zh() }).collect::<Vec<_>>(),
            counts => Value::from_serialize(&counts),
            government => allows(&who, Action::ViewWarnings),
            manages => allows(&who, Action::ManageWarnings),
        },
    )
}

async fn signals_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<SignalQuery>,
    Query(paged): Query<Paged>,
    uri: axum::http::Uri,
) -> PageResult {
    let offset = paged.offset.unwrap_or(0);
    let listing = views::signals(&state, &who, &query, offset).await?;
    page(
        "warning_signals.html",
        &headers,
        &who,
        context! {
            rows => Value::from_serialize(&listing.rows),
            paging => paging("/warnings/signals", uri.query().unwrap_or(""), listing.offset, listing.total, PAGE_ROWS),
            q => context! {
                detector => query.detector, category => query.category, level => query.level,
                from => query.from, to => query.to, undrafted => query.undrafted,
            },
            detectors => complaints::detect::Detector::ALL.iter().map(|d| context! { key => d.key(), zh => d.name_zh(), en => d.name_en() }).collect::<Vec<_>>(),
            kinds => kinds(),
            manages => allows(&who, Action::ManageWarnings),
        },
    )
}

async fn draft_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(signal): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = DraftInput {
        signal,
        kind: field(&fields, "kind").to_string(),
    };
    let id = views::draft(&state, &who, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/warnings/{id}")).into_response())
}

/// The evidence chart: daily counts, the alarm days from `first` to
/// `last` apart, the baseline's expectation, in the page's language.
fn evidence_chart(
    headers: &HeaderMap,
    series: &[warnings::evidence::DayCount],
    first: &str,
    last: &str,
    expected: f64,
) -> String {
    let m = messages(Lang::of(headers));
    let text = |key: &str| m.get(key).cloned().unwrap_or_else(|| key.to_string());
    let points: Vec<(String, f64)> = series
        .iter()
        .map(|d| (d.day.clone(), f64::from(d.count)))
        .collect();
    let from = series.iter().position(|d| d.day == first).unwrap_or(0);
    let to = series
        .iter()
        .rposition(|d| d.day.as_str() <= last)
        .unwrap_or(from);
    let labels = charts::DailyLabels {
        title: &text("warn_chart_title"),
        unit: &text("warn_chart_unit"),
        counts: &text("warn_chart_counts"),
        alarm: &text("warn_chart_alarm"),
        expected: &text("warn_chart_expected"),
    };
    charts::daily_counts(&points, (from, to), expected, &labels)
}

/// The detail page's context: the warning, its chart and what the reader
/// may do; `edit` the form as typed and its errors, after a refused edit.
fn detail_context(
    headers: &HeaderMap,
    detail: &views::WarningDetail,
    edit: Option<(&EditInput, &views::FieldErrors)>,
) -> Value {
    let lang = Lang::of(headers);
    let m = messages(lang);
    let text = |key: &str| m.get(key).cloned().unwrap_or_else(|| key.to_string());
    let evidence = &detail.evidence;
    let chart = evidence_chart(
        headers,
        &evidence.series,
        &evidence.first_day,
        &evidence.last_day,
        evidence.expected,
    );
    let (form, errors) = match edit {
        Some((input, errors)) => (
            Value::from_serialize(input),
            errors
                .0
                .iter()
                .map(|(field, key)| (field.to_string(), text(key)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
        None => (
            Value::from_serialize(EditInput {
                version: detail.warning.version,
                title: detail.warning.title.clone(),
                body: detail.warning.body.clone(),
                recipient_kind: detail.warning.recipient_kind.clone(),
                recipient: detail.warning.recipient.clone(),
            }),
            Default::default(),
        ),
    };
    let detector = complaints::detect::Detector::ALL
        .into_iter()
        .find(|d| d.key() == evidence.detector);
    context! {
        d => Value::from_serialize(detail),
        chart,
        detector_name => detector.map(|d| if lang == Lang::Zh { d.name_zh() } else { d.name_en() }),
        p_value => evidence.p_value.map(|p| format!("{p:.4}")),
        expected => format!("{:.2}", evidence.expected),
        statistic => format!("{:.2}", evidence.statistic),
        form, errors,
        recipient_kinds => match detail.warning.kind.as_str() {
            "administrative_notice" => vec!["business"],
            "consumer_alert" => vec!["public"],
            _ => vec!["department", "association"],
        },
    }
}

async fn warning_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::detail(&state, &who, id, chrono::Utc::now()).await?;
    let mut extra = detail_context(&headers, &detail, None);
    extra = context! { print => false, ..extra };
    page("warning.html", &headers, &who, extra)
}

async fn print_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::detail(&state, &who, id, chrono::Utc::now()).await?;
    let extra = detail_context(&headers, &detail, None);
    page(
        "warning.html",
        &headers,
        &who,
        context! { print => true, ..extra },
    )
}

async fn edit_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = EditInput {
        version: field(&fields, "version").trim().parse().unwrap_or(0),
        title: field(&fields, "title").to_string(),
        body: field(&fields, "body").to_string(),
        recipient_kind: field(&fields, "recipient_kind").to_string(),
        recipient: field(&fields, "recipient").to_string(),
    };
    let now = chrono::Utc::now();
    match views::edit(&state, &who, id, &input, now).await? {
        Edited::Saved(_) => Ok(Redirect::to(&format!("/warnings/{id}")).into_response()),
        Edited::Invalid(errors) => {
            // The form again, as typed, each error beside its field.
            let detail = views::detail(&state, &who, id, now).await?;
            let extra = detail_context(&headers, &detail, Some((&input, &errors)));
            let mut response = page(
                "warning.html",
                &headers,
                &who,
                context! { print => false, ..extra },
            )?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

async fn move_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = MoveInput {
        to: field(&fields, "to").to_string(),
        version: field(&fields, "version").trim().parse().unwrap_or(0),
        reason: field(&fields, "reason").to_string(),
    };
    views::move_warning(&state, &who, id, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/warnings/{id}")).into_response())
}

async fn correct_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    let new = views::correct(&state, &who, id, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/warnings/{new}")).into_response())
}

async fn alerts_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(paged): Query<Paged>,
) -> PageResult {
    crate::service::require(&state, &who, Action::ViewConsumerAlerts, "alerts").await?;
    let listing = views::public_alerts(&state, paged.offset.unwrap_or(0)).await?;
    page(
        "alerts.html",
        &headers,
        &who,
        context! {
            rows => Value::from_serialize(&listing.rows),
            paging => paging("/alerts", "", listing.offset, listing.total, PAGE_ROWS),
        },
    )
}

async fn alert_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    crate::service::require(&state, &who, Action::ViewConsumerAlerts, "alerts").await?;
    let alert = views::public_alert(&state, id).await?;
    let chart = evidence_chart(
        &headers,
        &alert.series,
        &alert.first_day,
        &alert.last_day,
        alert.expected,
    );
    page(
        "alert.html",
        &headers,
        &who,
        context! { a => Value::from_serialize(&alert), chart },
    )
}
