//! Pages of the registry: search, profiles, the public page, the catalog,
//! batches, quality and uploads.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::{Action, Principal, Role, allows};
use crate::http::cookies::check_csrf;
use crate::http::render::{page, render};
use crate::http::{Failure, PageResult};
use crate::service::require;

use super::service::{self as views};
use crate::charts;
use crate::http::forms::read_upload;
use ingest::batch::BatchResult;

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<SearchQuery>,
) -> PageResult {
    let hits = views::search(&state, &query.q).await?;
    let hits: Vec<Value> = hits
        .into_iter()
        .map(|h| {
            let href = if allows(&who, Action::ViewEntity { uscc: &h.uscc }) {
                format!("/entity/{}", h.uscc)
            } else {
                format!("/public/entity/{}", h.uscc)
            };
            context! { href, ..Value::from_serialize(&h) }
        })
        .collect();
    page(
        "search.html",
        &headers,
        &who,
        context! { q => query.q.trim(), hits },
    )
}

async fn entity_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(code): Path<String>,
) -> PageResult {
    let uscc = views::parse_uscc(&code)?;
    let profile = views::profile(&state, &who, &uscc).await?;
    Ok(profile_html(&headers, &who, &profile)?.into_response())
}

/// The full profile page: registry, yearly summaries with their charts, and
/// the timeline.
fn profile_html(
    headers: &HeaderMap,
    who: &Principal,
    profile: &views::Profile,
) -> Result<Html<String>, Failure> {
    let series: Vec<Value> = profile
        .series
        .iter()
        .map(|s| {
            let points: Vec<(String, f64)> = s.years.iter().map(|y| (y.year.to_string(), y.amount)).collect();
            let years: Vec<Value> = s
                .years
                .iter()
                .map(|y| context! { amount_text => charts::compact(y.amount), ..Value::from_serialize(y) })
                .collect();
            context! { chart => charts::bars(&points, &s.name_zh), years, ..Value::from_serialize(s) }
        })
        .collect();
    let batch_links = allows(who, Action::ListBatches);
    let evaluation_link = allows(
        who,
        Action::ViewEvaluation {
            uscc: &profile.entity.uscc,
        },
    );
    render(
        "entity.html",
        headers,
        who,
        context! {
            p => Value::from_serialize(profile),
            series,
            batch_links,
            evaluation_link,
            contest => !profile.contestable.is_empty(),
            contestable => Value::from_serialize(&profile.contestable),
            repairable => Value::from_serialize(&profile.repairable),
        },
    )
}

async fn public_entity_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(code): Path<String>,
) -> PageResult {
    let uscc = views::parse_uscc(&code)?;
    let profile = views::public_profile(&state, &uscc, chrono::Utc::now()).await?;
    let full_profile = allows(
        &who,
        Action::ViewEntity {
            uscc: uscc.as_str(),
        },
    );
    page(
        "public_entity.html",
        &headers,
        &who,
        context! { p => Value::from_serialize(&profile), full_profile, batch_links => false },
    )
}

async fn catalog_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let items: Vec<Value> = state
        .catalog
        .items
        .iter()
        .map(|i| {
            let fields: Vec<&str> = i.fields.iter().map(|f| f.name.as_str()).collect();
            context! {
                id => i.id, name_zh => i.name_zh, name_en => i.name_en, department => i.department,
                category => format!("{:?}", i.category).to_lowercase(),
                record => format!("{:?}", i.record).to_lowercase(),
                publicity => i.publicity.name(),
                fields => fields.join(", "),
            }
        })
        .collect();
    page("catalog.html", &headers, &who, context! { items })
}

async fn batches_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let batches = views::visible_batches(&state, &who).await?;
    page(
        "batches.html",
        &headers,
        &who,
        context! { batches => Value::from_serialize(&batches) },
    )
}

#[derive(Deserialize)]
struct BatchQuery {
    uploaded: Option<String>,
    already: Option<String>,
    /// Where the page of refused rows starts.
    offset: Option<usize>,
}

async fn batch_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
    Query(q): Query<BatchQuery>,
) -> PageResult {
    let batch = views::batch(&state, &who, id).await?;
    let sections: Vec<Value> = [
        ("by_reason", "by_reason"),
        ("by_field", "by_field"),
        ("repairs", "repairs"),
    ]
    .iter()
    .filter_map(|(key, field)| {
        let map = batch.report[field].as_object().filter(|m| !m.is_empty())?;
        let rows: Vec<(String, String)> = map
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        Some(context! { key, rows })
    })
    .collect();
    let refused = views::refused_rows(
        &state,
        &batch,
        q.offset.unwrap_or(0),
        Some(views::REFUSED_PAGE),
    )
    .await?;
    let paging = crate::http::paging(
        &format!("/batches/{id}"),
        "",
        refused.offset as i64,
        refused.total,
        views::REFUSED_PAGE as i64,
    );
    page(
        "batch.html",
        &headers,
        &who,
        context! {
            b => Value::from_serialize(&batch),
            sections,
            uploaded => q.uploaded.is_some(),
            already => q.already.is_some(),
            refused => Value::from_serialize(&refused),
            paging,
        },
    )
}

/// A batch's refused rows as sent, to fix and resend: the item's columns
/// only (so the file goes back as it is), with a BOM for Excel.
async fn refused_csv(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let batch = views::batch(&state, &who, id).await?;
    let refused = views::refused_rows(&state, &batch, 0, None).await?;
    let rows: Vec<Vec<String>> = refused.rows.into_iter().map(|r| r.original).collect();
    Ok(crate::http::csv_file(
        &format!("batch-{id}-refused.csv"),
        &refused.fields,
        &rows,
        true,
    )?)
}

/// The same as a workbook: every value as text, each refused cell marked
/// in red with the reason in its note, so the sheet can be fixed where it
/// is marked and sent back as it is.
async fn refused_xlsx(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    use axum::http::header;
    let batch = views::batch(&state, &who, id).await?;
    let refused = views::refused_rows(&state, &batch, 0, None).await?;
    let bytes = refused_workbook(&refused).map_err(|e| Failure::Internal(format!("xlsx: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"batch-{id}-refused.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn refused_workbook(refused: &views::RefusedRows) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Color, Format, Note, Workbook};
    let mut book = Workbook::new();
    let text = Format::new().set_quote_prefix();
    let marked = Format::new()
        .set_quote_prefix()
        .set_background_color(Color::RGB(0xFFC7CE));
    let sheet = book.add_worksheet();
    sheet.set_name("refused")?;
    for (column, name) in refused.fields.iter().enumerate() {
        sheet.write_string(0, column as u16, name)?;
    }
    for (r, row) in refused.rows.iter().enumerate() {
        let r = r as u32 + 1;
        // The field that broke a rule, or the first (a duplicate, an
        // unknown entity) when the whole row is at fault.
        let at = row
            .field
            .as_deref()
            .and_then(|f| refused.fields.iter().position(|name| name == f))
            .unwrap_or(0);
        for (column, value) in row.original.iter().enumerate() {
            let format = if column == at { &marked } else { &text };
            sheet.write_string_with_format(r, column as u16, value, format)?;
        }
        let note = format!(
            "第 {} 行：{}（{}）\n{}",
            row.row, row.reason_zh, row.reason_en, row.message
        );
        sheet.insert_note(r, at as u16, &Note::new(note).set_author("信用平台"))?;
    }
    book.save_to_buffer()
}

#[derive(Deserialize)]
struct QualityQuery {
    department: Option<String>,
}

async fn quality_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(q): Query<QualityQuery>,
) -> PageResult {
    // A department sees its own; the credit centre all, or one it picks.
    let own = who.subjects(Role::Department);
    let department = match q.department.filter(|d| !d.is_empty()) {
        Some(d) => Some(d),
        None if !who.has(Role::CreditCentre) => own.first().map(|d| d.to_string()),
        None => None,
    };
    let department = department
        .map(|d| views::DepartmentId::parse(&state.catalog, &d))
        .transpose()?;
    let report = views::quality(&state, &who, department.as_ref()).await?;
    let percent = |r: f64| format!("{:.2}%", r * 100.0);
    let rows: Vec<Value> = report
        .iter()
        .map(|q| {
            let points: Vec<(String, f64)> = q
                .over_time
                .iter()
                .map(|p| (p.period.clone(), p.error_rate * 100.0))
                .collect();
            let (top_rule, delay) = (q.top_rule(), q.delay_text());
            context! {
                department => q.department, item => q.item, batches => q.batches, rows => q.rows,
                error_rate => percent(q.error_rate), duplicate_rate => percent(q.duplicate_rate),
                unknown_rate => percent(q.unknown_entity_rate), delay, top_rule,
                chart => charts::line(&points, &q.item),
            }
        })
        .collect();
    let departments: Vec<&str> = if who.has(Role::CreditCentre) {
        state
            .catalog
            .departments
            .iter()
            .map(|d| d.id.as_str())
            .collect()
    } else {
        Vec::new()
    };
    page(
        "quality.html",
        &headers,
        &who,
        context! { rows, department => department.as_ref().map(views::DepartmentId::as_str), departments },
    )
}

fn upload_items(state: &crate::AppState, who: &Principal) -> Vec<Value> {
    state
        .catalog
        .items
        .iter()
        .filter(|i| allows(who, Action::Upload { department: &i.department }))
        .map(|i| context! { id => i.id, department => i.department, name_zh => i.name_zh, name_en => i.name_en })
        .collect()
}

async fn upload_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let own = who.subjects(Role::Department);
    let department = own.first().copied().unwrap_or_default();
    // Checked here too: the form is for those who may upload.
    if !who.has(Role::CreditCentre) {
        require(&state, &who, Action::Upload { department }, department).await?;
    }
    let items = upload_items(&state, &who);
    page(
        "upload.html",
        &headers,
        &who,
        context! { items, error => None::<String> },
    )
}

async fn upload_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Multipart,
) -> PageResult {
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded.into());
    }
    let form = read_upload(multipart).await?;
    check_csrf(&state, &who, form.csrf.as_deref()).await?;
    // The form's choice is `department/item`.
    let choice = form.item.unwrap_or_default();
    let Some((department, item)) = choice.split_once('/') else {
        return Err(Failure::BadRequest("choose an item".into()).into());
    };
    let department = views::DepartmentId::parse(&state.catalog, department)?;
    let file_name = form.file_name.unwrap_or_default();
    match views::upload(&state, &who, &department, item, &file_name, &form.bytes).await {
        Ok(BatchResult::Committed(b)) => {
            Ok(Redirect::to(&format!("/batches/{}?uploaded=1", b.id)).into_response())
        }
        Ok(BatchResult::AlreadyIngested(b)) => {
            Ok(Redirect::to(&format!("/batches/{}?uploaded=1&already=1", b.id)).into_response())
        }
        Err(Failure::BadRequest(error)) => {
            let items = upload_items(&state, &who);
            let html = render("upload.html", &headers, &who, context! { items, error })?;
            Ok((StatusCode::BAD_REQUEST, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/search" => get(search_page),
    "/entity/{uscc}" => get(entity_page),
    "/public/entity/{uscc}" => get(public_entity_page),
    "/catalog" => get(catalog_page),
    "/batches" => get(batches_page),
    "/batches/{id}" => get(batch_page),
    "/batches/{id}/refused.csv" => get(refused_csv),
    "/batches/{id}/refused.xlsx" => get(refused_xlsx),
    "/quality" => get(quality_page),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/upload" => get(upload_page).post(upload_submit),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::access::{Grant, Via};
    use axum::http::header;
    use store::{EntityRow, EventRow, SummaryRow};

    /// Someone signed in by session with one role, for rendering pages.
    pub(crate) fn signed_in(user: &str, name: &str, role: &str) -> Principal {
        Principal {
            actor: format!("user:{user}"),
            display_name: name.into(),
            grants: vec![Grant::parse(role).unwrap()],
            via: Via::Session {
                user_id: 1,
                session_sha256: "s".into(),
                csrf_token: "csrf-token".into(),
            },
            ip: std::net::IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn regulator() -> Principal {
        signed_in("li", "李监管", "regulator")
    }

    /// A full profile with markup in its name, for rendering pages.
    pub(crate) fn profile() -> views::Profile {
        let year = |year, amount| SummaryRow {
            item: "tax_payment".into(),
            year,
            records: 12,
            amount,
            flagged: 1,
            latest: format!("{year}-12"),
        };
        views::Profile {
            entity: EntityRow {
                uscc: "91440606722473344C".into(),
                name: "佛山市顺德区美的<电器>有限公司".into(),
                entity_type: "enterprise".into(),
                legal_representative: "方洪波".into(),
                registered_capital: Some(120_000.0),
                established_on: "2000-04-07".into(),
                industry: "38".into(),
                division: "440606".into(),
                address: "佛山市顺德区北滘镇美的大道6号".into(),
                status: "operating".into(),
                registration_number: None,
            },
            division_name: "顺德区".into(),
            industry_name: "电气机械和器材制造业".into(),
            series: vec![views::ItemSeries {
                item: "tax_payment".into(),
                name_zh: "纳税信息".into(),
                name_en: "Tax payments".into(),
                department: "tax".into(),
                measure: "实缴税额（元）".into(),
                years: vec![year(2024, 1_250_000.0), year(2025, 1_410_500.5)],
            }],
            // Built as the service builds it: the record's fields named
            // by the catalog, the subject left out.
            events: vec![views::timeline_event(
                domain::Catalog::default_catalog().item("admin_penalty"),
                EventRow {
                    item: "admin_penalty".into(),
                    event_date: "2025-03-02".into(),
                    title: "虚假宣传".into(),
                    detail: serde_json::json!({
                        "subject": "91440606722473344C",
                        "decision_number": "佛市监罚〔2025〕12号",
                        "violation_type": "虚假宣传",
                        "facts": "在网店宣称产品“节能90%”，无依据",
                        "legal_basis": "《中华人民共和国广告法》第五十五条",
                        "fine_amount": "2.5",
                        "authority": "佛山市市场监督管理局",
                    }),
                    department: "samr".into(),
                    batch_id: 17,
                    source_row: 4,
                    publicity_until: Some("2025-06-02".into()),
                    withdrawn: None,
                    objection: Some(3),
                },
            )],
            complaint_counts: Vec::new(),
            contestable: Vec::new(),
            repairable: Vec::new(),
        }
    }

    /// The profile page as a regulator sees it, in both languages; names
    /// with markup come out escaped.
    #[test]
    fn profile_page() {
        let who = regulator();
        let zh = profile_html(&HeaderMap::new(), &who, &profile()).unwrap().0;
        assert!(zh.contains("美的&lt;电器&gt;"));
        insta::assert_snapshot!("profile_zh", zh);
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "lang=en".parse().unwrap());
        let en = profile_html(&headers, &who, &profile()).unwrap().0;
        insta::assert_snapshot!("profile_en", en);
    }
}
