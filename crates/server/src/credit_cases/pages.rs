//! Pages of objections and repairs: the enterprise's forms (multipart,
//! with documents), the list of cases each role may see, one case with its
//! history, documents, record and the moves open to the reader, a
//! document's download, and the credit centre's statistics and export.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::Principal;
use crate::http::cookies::{CheckedForm, check_csrf};
use crate::http::forms::{field, read_upload};
use crate::http::render::page;
use crate::http::{Failure, PageResult, paging};

use super::service::{
    self as views, CaseInput, Invalid, Kind, ListQuery, MoveInput, Moved, Opened, PAGE_ROWS, Upload,
};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/credit/cases" => get(list_page),
    "/credit/cases/{id}" => get(case_page).post(move_submit),
    "/credit/cases/{id}/documents/{seq}" => get(document_download),
    "/credit/repairs/statistics" => get(statistics_page),
    "/credit/repairs/export.csv" => get(export_download),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/credit/objections/new" => get(objection_form).post(objection_submit),
    "/credit/repairs/new" => get(repair_form).post(repair_submit),
}

fn grounds() -> Vec<Value> {
    credit::objection::Ground::ALL
        .iter()
        .map(|g| context! { key => g.as_str(), zh => g.name_zh(), en => g.name_en() })
        .collect()
}

#[derive(Deserialize, Default)]
struct RecordQuery {
    record: Option<String>,
}

/// The form for a kind of case, as typed, with each error beside its field.
fn form_page(
    headers: &HeaderMap,
    who: &Principal,
    kind: Kind,
    input: &CaseInput,
    invalid: Option<&Invalid>,
) -> PageResult {
    let mut response = page(
        "credit_case_new.html",
        headers,
        who,
        context! {
            kind => kind.as_str(),
            grounds => grounds(),
            form => context! {
                record => input.record,
                ground => input.ground,
                statement => input.statement,
                commitment => input.commitment,
            },
            errors => invalid.map(|i| Value::from_serialize(&i.errors)),
        },
    )?;
    if invalid.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn new_form(
    state: &Shared,
    headers: &HeaderMap,
    who: &Principal,
    kind: Kind,
    record: Option<String>,
) -> PageResult {
    views::contesting(state, who).await?;
    let input = CaseInput {
        record: record.unwrap_or_default(),
        ..CaseInput::default()
    };
    form_page(headers, who, kind, &input, None)
}

async fn objection_form(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<RecordQuery>,
) -> PageResult {
    new_form(&state, &headers, &who, Kind::Objection, query.record).await
}

async fn repair_form(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<RecordQuery>,
) -> PageResult {
    new_form(&state, &headers, &who, Kind::Repair, query.record).await
}

/// Reads a case's multipart form: fields and documents. A page's form
/// carries its CSRF token as a field; the API's is checked from the header
/// before the body is read.
pub(crate) async fn read_case_form(
    state: &Shared,
    who: &Principal,
    multipart: Multipart,
    csrf_in_form: bool,
) -> Result<CaseInput, Failure> {
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded);
    }
    let form = read_upload(multipart).await?;
    if csrf_in_form {
        check_csrf(state, who, form.csrf.as_deref()).await?;
    }
    Ok(CaseInput {
        record: form.record.unwrap_or_default(),
        ground: form.ground.unwrap_or_default(),
        statement: form.statement.unwrap_or_default(),
        commitment: form.commitment.unwrap_or_default(),
        documents: form
            .documents
            .into_iter()
            .map(|(file_name, bytes)| Upload { file_name, bytes })
            .collect(),
    })
}

async fn submit(
    state: Shared,
    headers: HeaderMap,
    who: Principal,
    kind: Kind,
    multipart: Multipart,
) -> PageResult {
    let input = read_case_form(&state, &who, multipart, true).await?;
    let code = views::contesting(&state, &who).await?;
    match views::open(&state, &who, &code, kind, &input, chrono::Utc::now()).await? {
        Opened::Case(id) => Ok(Redirect::to(&format!("/credit/cases/{id}")).into_response()),
        Opened::Invalid(invalid) => form_page(&headers, &who, kind, &input, Some(&invalid)),
    }
}

async fn objection_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Multipart,
) -> PageResult {
    submit(state, headers, who, Kind::Objection, multipart).await
}

async fn repair_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Multipart,
) -> PageResult {
    submit(state, headers, who, Kind::Repair, multipart).await
}

async fn list_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<ListQuery>,
    uri: axum::http::Uri,
) -> PageResult {
    let listing = views::list(&state, &who, &query, chrono::Utc::now()).await?;
    let states: Vec<Value> = credit::objection::State::ALL
        .iter()
        .map(|s| context! { key => s.as_str(), zh => s.name_zh(), en => s.name_en() })
        .chain(
            credit::repair::State::ALL
                .iter()
                .filter(|s| credit::objection::State::parse(s.as_str()).is_none())
                .map(|s| context! { key => s.as_str(), zh => s.name_zh(), en => s.name_en() }),
        )
        .collect();
    page(
        "credit_cases.html",
        &headers,
        &who,
        context! {
            cases => Value::from_serialize(&listing.cases),
            total => listing.total,
            states,
            filter => context! {
                kind => query.kind.unwrap_or_default(),
                state => query.state.unwrap_or_default(),
                overdue => query.overdue.as_deref() == Some("1"),
            },
            paging => paging("/credit/cases", uri.query().unwrap_or(""), listing.offset, listing.total, PAGE_ROWS),
        },
    )
}

fn case_context(detail: &views::CaseDetail, typed: Option<(&MoveInput, &Invalid)>) -> Value {
    context! {
        detail => Value::from_serialize(detail),
        typed => typed.map(|(input, _)| context! {
            to => input.to,
            reasons => input.reasons,
            values => Value::from_serialize(&input.values),
        }),
        errors => typed.map(|(_, invalid)| Value::from_serialize(&invalid.errors)),
    }
}

async fn case_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::detail(&state, &who, id, chrono::Utc::now()).await?;
    page(
        "credit_case.html",
        &headers,
        &who,
        case_context(&detail, None),
    )
}

async fn move_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = MoveInput {
        to: field(&fields, "to").to_string(),
        version: field(&fields, "version").trim().parse().unwrap_or(0),
        reasons: field(&fields, "reasons").to_string(),
        values: fields
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("value.")?.to_string(), v.clone())))
            .collect(),
    };
    let now = chrono::Utc::now();
    match views::move_case(&state, &who, id, &input, now).await? {
        Moved::Done => Ok(Redirect::to(&format!("/credit/cases/{id}")).into_response()),
        Moved::Invalid(invalid) => {
            let detail = views::detail(&state, &who, id, now).await?;
            let mut response = page(
                "credit_case.html",
                &headers,
                &who,
                case_context(&detail, Some((&input, &invalid))),
            )?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

async fn document_download(
    State(state): State<Shared>,
    who: Principal,
    Path((id, seq)): Path<(i64, i64)>,
) -> PageResult {
    let (document, bytes) = views::document(&state, &who, id, seq).await?;
    let disposition = format!(
        "attachment; filename=\"document-{id}-{seq}\"; filename*=UTF-8''{}",
        percent_encoding::utf8_percent_encode(
            &document.file_name,
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    Ok((
        [
            (header::CONTENT_TYPE, document.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn statistics_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let statistics = views::statistics(&state, &who).await?;
    page(
        "credit_repairs.html",
        &headers,
        &who,
        context! { statistics => Value::from_serialize(&statistics) },
    )
}

async fn export_download(State(state): State<Shared>, who: Principal) -> PageResult {
    let rows = views::export(&state, &who).await?;
    let header = views::EXPORT_HEADER.map(str::to_string);
    Ok(crate::http::csv_file(
        "repaired-records.csv",
        &header,
        &rows,
        true,
    )?)
}
