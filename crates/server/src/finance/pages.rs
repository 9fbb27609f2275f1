//! Pages of the financing platform: the product showcase for everyone,
//! authorisations and "who looked" for enterprises (registering is
//! `accounts`'), demands
//! with matching, applications, credit reports for banks (with a printable
//! form), and product approval for the credit centre.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use super::outreach;
use crate::Shared;
use crate::access::{Action, Principal, allows};
use crate::access::{bank_of, enterprise_of};
use crate::finance::service::{
    self as views, ApplicationInput, DemandInput, GrantInput, ProductInput, ReportRequest,
    Transition,
};
use crate::http::Failure;
use crate::http::PageResult;
use crate::http::cookies::CheckedForm;
use crate::http::cookies::CsrfForm;
use crate::http::forms::{field, number};
use crate::http::render::page;

crate::http::routes! {
    pub fn routes, const PATHS;
    "/finance" => get(home_page),
    "/finance/products" => post(product_submit),
    "/finance/products/{id}/{step}" => post(product_step),
    "/finance/consents" => get(consents_page).post(grant_submit),
    "/finance/consents/{id}/revoke" => post(revoke_submit),
    "/finance/demands" => get(demands_page).post(demand_submit),
    "/finance/demands/{id}" => get(demand_page),
    "/finance/demands/{id}/apply" => post(apply_submit),
    "/finance/applications" => get(applications_page),
    "/finance/applications/{id}" => get(application_page).post(move_submit),
    "/finance/applications/{id}/loan-report" => post(loan_report_submit),
    "/finance/loan-reports" => post(loan_file_submit),
    "/finance/statistics" => get(statistics_page),
    "/finance/statistics/export/{file}" => get(statistics_export),
    "/finance/pool" => get(pool_page).post(pool_submit),
    "/finance/key-enterprises" => get(key_page).post(key_submit),
    "/finance/key-enterprises/{uscc}/response" => post(key_response),
    "/finance/visits" => get(visits_page).post(visit_submit),
    "/finance/visits/{id}/first-loan" => post(first_loan_submit),
    "/finance/accounts" => get(accounts_page).post(account_submit),
    "/finance/accounts/{id}/opened" => post(account_opened),
    "/finance/reports" => get(report_form_page),
    "/finance/reports/{uscc}" => get(report_page),
    "/finance/my-credit" => get(own_credit_page),
}

fn optional_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<Option<T>, Failure> {
    match text.trim() {
        "" => Ok(None),
        text => number(text, what).map(Some),
    }
}

/// Items of a list field, split at commas or spaces.
fn list_field(text: &str) -> Vec<String> {
    text.split([',', ' ', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A grade from a select field; empty means none.
fn grade_field(text: &str) -> Result<Option<finance::matching::Grade>, Failure> {
    match text {
        "" => Ok(None),
        other => crate::finance::service::grade_of(other)
            .map(Some)
            .ok_or_else(|| Failure::BadRequest(format!("no grade '{other}'"))),
    }
}

/// The product showcase, and what the asker's role does here.
async fn home_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let products = views::products(&state, &who).await?;
    page(
        "finance.html",
        &headers,
        &who,
        context! {
            products => Value::from_serialize(&products),
            enterprise => enterprise_of(&who),
            bank => bank_of(&who),
            reviewer => allows(&who, Action::ReviewProducts),
            statistics => allows(&who, Action::ViewFinanceStatistics),
            sections => domain::industry::sections().iter().map(|s| s.code.to_string()).collect::<Vec<_>>(),
        },
    )
}

async fn product_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let list = |name: &str| list_field(field(&fields, name));
    let min_grade = grade_field(field(&fields, "min_grade"))?;
    let programme = Some(field(&fields, "programme").to_string()).filter(|p| !p.is_empty());
    let input = ProductInput {
        name: field(&fields, "name").to_string(),
        amount_min: number(field(&fields, "amount_min"), "the least amount")?,
        amount_max: number(field(&fields, "amount_max"), "the largest amount")?,
        term_months_max: number(field(&fields, "term_months_max"), "the longest term")?,
        rate_min: number(field(&fields, "rate_min"), "the lowest rate")?,
        rate_max: number(field(&fields, "rate_max"), "the highest rate")?,
        collateral: field(&fields, "collateral").to_string(),
        guarantee: field(&fields, "guarantee").to_string(),
        eligibility: finance::matching::Eligibility {
            sections: list("sections"),
            min_age_years: optional_number(field(&fields, "min_age_years"), "the least age")?
                .unwrap_or(0),
            districts: list("districts"),
            min_tax_paid: optional_number(field(&fields, "min_tax_paid"), "the least tax paid")?
                .unwrap_or(0.0),
            min_headcount: optional_number(field(&fields, "min_headcount"), "the least headcount")?
                .unwrap_or(0),
            min_grade,
            pool_only: !field(&fields, "pool_only").is_empty(),
            programme,
        },
    };
    views::create_product(&state, &who, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance").into_response())
}

async fn product_step(
    State(state): State<Shared>,
    who: Principal,
    Path((id, step)): Path<(i64, String)>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    views::product_step(&state, &who, id, &step, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance").into_response())
}

async fn consents_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    let consents = views::consents(&state, &who, &uscc, chrono::Utc::now()).await?;
    page(
        "finance_consents.html",
        &headers,
        &who,
        context! { c => Value::from_serialize(&consents) },
    )
}

async fn grant_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    let input = GrantInput {
        bank: views::BankId::parse(field(&fields, "bank"))?,
        scope: fields
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .collect(),
        purpose: field(&fields, "purpose").to_string(),
        days: Some(number(field(&fields, "days"), "days")?),
        expires_at: None,
        application: None,
    };
    views::grant(&state, &who, &uscc, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/consents").into_response())
}

async fn revoke_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    views::revoke(&state, &who, &uscc, id, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/consents").into_response())
}

/// An enterprise's demands with the form; for a bank, the open demands its
/// products fit.
async fn demands_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    if bank_of(&who).is_some() {
        let fitting = views::demands_for_bank(&state, &who, chrono::Utc::now()).await?;
        return page(
            "finance_demands.html",
            &headers,
            &who,
            context! { fitting => Value::from_serialize(&fitting), own => Value::from(()) },
        );
    }
    let own = views::my_demands(&state, &who).await?;
    page(
        "finance_demands.html",
        &headers,
        &who,
        context! { own => Value::from_serialize(&own), fitting => Value::from(()) },
    )
}

async fn demand_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    let input = DemandInput {
        amount: number(field(&fields, "amount"), "the amount")?,
        term_months: number(field(&fields, "term_months"), "the term")?,
        purpose: field(&fields, "purpose").to_string(),
        urgency: match field(&fields, "urgency") {
            "" => "normal".to_string(),
            other => other.to_string(),
        },
    };
    let id = views::post_demand(&state, &who, &uscc, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/finance/demands/{id}")).into_response())
}

async fn demand_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::demand_detail(&state, &who, id, chrono::Utc::now()).await?;
    let owner = enterprise_of(&who) == Some(detail.demand.enterprise.as_str());
    page(
        "finance_demand.html",
        &headers,
        &who,
        context! { d => Value::from_serialize(&detail), owner },
    )
}

async fn apply_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(demand): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    let input = ApplicationInput {
        product: number(field(&fields, "product"), "the product")?,
        demand: Some(demand),
        amount: number(field(&fields, "amount"), "the amount")?,
        term_months: number(field(&fields, "term_months"), "the term")?,
        authorise: !field(&fields, "authorise").is_empty(),
        scope: Vec::new(),
    };
    let id = views::apply(&state, &who, &uscc, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/finance/applications/{id}")).into_response())
}

async fn applications_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let applications = views::my_applications(&state, &who).await?;
    page(
        "finance_applications.html",
        &headers,
        &who,
        context! {
            applications => Value::from_serialize(&applications),
            bank => bank_of(&who),
            file_outcome => (),
            file_problems => Vec::<String>::new(),
        },
    )
}

/// A bank's file of loan reports, sent from the applications page: the
/// page again, with what was stored or every problem beside the file field.
async fn loan_file_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded.into());
    }
    let multipart = multipart.map_err(|e| Failure::BadRequest(e.body_text()))?;
    let form = crate::http::forms::read_upload(multipart).await?;
    crate::http::cookies::check_csrf(&state, &who, form.csrf.as_deref()).await?;
    let file_name = form.file_name.unwrap_or_default();
    let done =
        views::report_loan_file(&state, &who, &file_name, &form.bytes, chrono::Utc::now()).await?;
    let applications = views::my_applications(&state, &who).await?;
    let (status, outcome, problems) = match done {
        Ok(outcome) => (axum::http::StatusCode::OK, Some(outcome), Vec::new()),
        Err(problems) => (axum::http::StatusCode::BAD_REQUEST, None, problems),
    };
    let html = crate::http::render::render(
        "finance_applications.html",
        &headers,
        &who,
        context! {
            applications => Value::from_serialize(&applications),
            bank => bank_of(&who),
            file_outcome => Value::from_serialize(&outcome),
            file_problems => problems,
        },
    )?;
    Ok((status, html).into_response())
}

async fn application_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::application_detail(&state, &who, id, chrono::Utc::now()).await?;
    page(
        "finance_application.html",
        &headers,
        &who,
        context! { d => Value::from_serialize(&detail), bank => bank_of(&who) },
    )
}

async fn move_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let transition = Transition {
        to: field(&fields, "to").to_string(),
        reason: field(&fields, "reason").to_string(),
        loan_amount: optional_number(field(&fields, "loan_amount"), "the loan amount")?,
        loan_rate: optional_number(field(&fields, "loan_rate"), "the loan rate")?,
        loan_term_months: optional_number(field(&fields, "loan_term_months"), "the loan term")?,
        disbursed_on: Some(field(&fields, "disbursed_on").to_string()).filter(|d| !d.is_empty()),
    };
    views::move_application(&state, &who, id, &transition, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/finance/applications/{id}")).into_response())
}

async fn loan_report_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = views::LoanReportInput {
        reported_on: field(&fields, "reported_on").to_string(),
        state: field(&fields, "state").to_string(),
        days_past_due: optional_number(field(&fields, "days_past_due"), "the days past due")?
            .unwrap_or(0),
    };
    views::report_loan(&state, &who, id, &input, "page", chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/finance/applications/{id}")).into_response())
}

#[derive(Deserialize)]
struct ReportAsked {
    uscc: Option<String>,
    application: Option<String>,
}

/// The bank's reads, and the form that asks for a report (sent here, and
/// passed on to the report's own address).
async fn report_form_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(asked): Query<ReportAsked>,
) -> PageResult {
    let _bank = bank_of(&who).unwrap_or("");
    if let Some(uscc) = asked.uscc.as_deref().filter(|u| !u.trim().is_empty()) {
        let uscc = crate::registry::service::parse_uscc(uscc)?;
        let application = asked.application.as_deref().map(str::trim).unwrap_or("");
        let target = match optional_number::<i64>(application, "the application")? {
            Some(id) => format!("/finance/reports/{uscc}?application={id}"),
            None => format!("/finance/reports/{uscc}"),
        };
        return Ok(Redirect::to(&target).into_response());
    }
    let accesses = views::bank_accesses(&state, &who, 100).await?;
    page(
        "finance_reports.html",
        &headers,
        &who,
        context! { accesses => Value::from_serialize(&accesses) },
    )
}

#[derive(Deserialize)]
struct ReportQuery {
    application: Option<String>,
    scope: Option<String>,
    print: Option<String>,
}

async fn report_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(uscc): Path<String>,
    Query(query): Query<ReportQuery>,
) -> PageResult {
    let uscc = crate::registry::service::parse_uscc(&uscc)?;
    let request = ReportRequest {
        application: optional_number(
            query.application.as_deref().unwrap_or(""),
            "the application",
        )?,
        scope: query.scope,
    };
    let report = views::credit_report(&state, &who, &uscc, &request, chrono::Utc::now()).await?;
    page(
        "finance_report.html",
        &headers,
        &who,
        context! {
            r => Value::from_serialize(&report),
            print => query.print.is_some(),
            own => false,
            outlook => (),
        },
    )
}

/// The enterprise's own credit report and financing grade, with what would
/// raise it; `?print=1` for the printable form.
async fn own_credit_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(query): Query<ReportQuery>,
) -> PageResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    let own = views::own_credit(&state, &who, &uscc, chrono::Utc::now()).await?;
    page(
        "finance_report.html",
        &headers,
        &who,
        context! {
            r => Value::from_serialize(&own.report),
            print => query.print.is_some(),
            own => true,
            outlook => Value::from_serialize(&own.outlook),
        },
    )
}

async fn statistics_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let s = views::statistics(&state, &who).await?;
    let chart = |title: &str, value: &dyn Fn(&finance::statistics::YearRow) -> f64| {
        let points: Vec<(String, f64)> = s
            .by_year
            .iter()
            .map(|y| (y.figures.key.clone(), value(y)))
            .collect();
        crate::charts::bars(&points, title)
    };
    let charts = vec![
        chart("loans", &|y| y.figures.loans as f64),
        chart("amount", &|y| y.figures.amount),
        chart("landing rate", &|y| {
            y.figures.landing_rate.unwrap_or(0.0) * 100.0
        }),
        chart("demands", &|y| y.demands as f64),
    ];
    page(
        "finance_statistics.html",
        &headers,
        &who,
        context! { s => Value::from_serialize(&s), charts },
    )
}

/// One table as CSV (`by_bank.csv`, …) or every table as sheets of one
/// workbook (`statistics.xlsx`).
async fn statistics_export(
    State(state): State<Shared>,
    who: Principal,
    Path(file): Path<String>,
) -> PageResult {
    use axum::http::header;
    let s = views::statistics(&state, &who).await?;
    let tables = views::statistics_tables(&s);
    if file == "statistics.xlsx" {
        let bytes = workbook(&tables).map_err(|e| Failure::Internal(format!("xlsx: {e}")))?;
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"statistics.xlsx\"",
                ),
            ],
            bytes,
        )
            .into_response());
    }
    let Some(table) = file
        .strip_suffix(".csv")
        .and_then(|name| tables.iter().find(|t| t.name == name))
    else {
        return Err(Failure::NotFound(format!("no table '{file}'")).into());
    };
    Ok(crate::http::csv_file(
        &format!("{}.csv", table.name),
        &table.header,
        &table.rows,
        false,
    )?)
}

/// Tables as the sheets of one workbook; numbers stay numbers, and text
/// that looks like a formula is marked as text (Excel's quote prefix).
fn workbook(tables: &[views::TextTable]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let text = rust_xlsxwriter::Format::new().set_quote_prefix();
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(table.name)?;
        for (column, title) in table.header.iter().enumerate() {
            sheet.write_string(0, column as u16, title)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            for (column, cell) in row.iter().enumerate() {
                let (r, column) = (r as u32 + 1, column as u16);
                match cell.parse::<f64>() {
                    // Keys (bank ids, district codes) stay text; years and
                    // every figure are numbers.
                    Ok(number)
                        if column > 0 || table.name == "by_year" || table.name == "totals" =>
                    {
                        sheet.write_number(r, column, number)?;
                    }
                    _ if domain::text::looks_like_formula(cell) => {
                        sheet.write_string_with_format(r, column, cell, &text)?;
                    }
                    _ => {
                        sheet.write_string(r, column, cell)?;
                    }
                }
            }
        }
    }
    book.save_to_buffer()
}

async fn pool_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let pool = outreach::pool(&state, &who, chrono::Utc::now()).await?;
    page(
        "finance_pool.html",
        &headers,
        &who,
        context! { p => Value::from_serialize(&pool), manager => allows(&who, Action::ManagePool) },
    )
}

async fn pool_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let rule = finance::pool::PoolRule {
        min_grade: grade_field(field(&fields, "min_grade"))?
            .ok_or_else(|| Failure::BadRequest("choose the worst grade admitted".into()))?,
        min_age_years: optional_number(field(&fields, "min_age_years"), "the least age")?
            .unwrap_or(0),
        min_tax_paid: optional_number(field(&fields, "min_tax_paid"), "the least tax paid")?
            .unwrap_or(0.0),
        min_headcount: optional_number(field(&fields, "min_headcount"), "the least headcount")?
            .unwrap_or(0),
        sections: list_field(field(&fields, "sections")),
        clean_record: !field(&fields, "clean_record").is_empty(),
    };
    outreach::set_pool_rule(&state, &who, &rule, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/pool").into_response())
}

async fn key_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let key = outreach::key_enterprises(&state, &who).await?;
    page(
        "finance_key.html",
        &headers,
        &who,
        context! {
            k => Value::from_serialize(&key),
            manager => allows(&who, Action::ManageKeyEnterprises),
            bank => bank_of(&who),
        },
    )
}

async fn key_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = outreach::KeyInput {
        uscc: field(&fields, "uscc").to_string(),
        note: field(&fields, "note").to_string(),
        banks: list_field(field(&fields, "banks"))
            .iter()
            .map(|b| views::BankId::parse(b))
            .collect::<Result<_, _>>()?,
    };
    outreach::push_key(&state, &who, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/key-enterprises").into_response())
}

async fn key_response(
    State(state): State<Shared>,
    who: Principal,
    Path(uscc): Path<String>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let answer = outreach::PushResponse {
        response: field(&fields, "response").to_string(),
        amount: optional_number(field(&fields, "amount"), "the amount")?,
    };
    outreach::respond_push(&state, &who, &uscc, &answer, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/key-enterprises").into_response())
}

async fn visits_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let visits = outreach::visits(&state, &who).await?;
    page(
        "finance_visits.html",
        &headers,
        &who,
        context! { visits => Value::from_serialize(&visits), recorder => allows(&who, Action::RecordVisits) },
    )
}

async fn visit_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = outreach::VisitInput {
        uscc: field(&fields, "uscc").to_string(),
        visitor: field(&fields, "visitor").to_string(),
        visited_on: field(&fields, "visited_on").to_string(),
        needs: field(&fields, "needs").to_string(),
        follow_up: field(&fields, "follow_up").to_string(),
    };
    outreach::record_visit(&state, &who, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/visits").into_response())
}

async fn first_loan_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    outreach::set_first_loan(&state, &who, id, field(&fields, "first_loan")).await?;
    Ok(Redirect::to("/finance/visits").into_response())
}

async fn accounts_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let filings = outreach::filings(&state, &who).await?;
    page(
        "finance_accounts.html",
        &headers,
        &who,
        context! { filings => Value::from_serialize(&filings), bank => bank_of(&who) },
    )
}

async fn account_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let input = outreach::FilingInput {
        uscc: field(&fields, "uscc").to_string(),
        applied_on: field(&fields, "applied_on").to_string(),
    };
    outreach::file_account(&state, &who, &input, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/accounts").into_response())
}

async fn account_opened(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    outreach::open_account(
        &state,
        &who,
        id,
        field(&fields, "opened_on"),
        chrono::Utc::now(),
    )
    .await?;
    Ok(Redirect::to("/finance/accounts").into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use finance::report::{PaymentBehaviour, YearFigures};
    use store::EventRow;

    use super::*;
    use crate::finance::service::{
        CreditProfile, CreditReport, Named, PaymentSection, RegistryNames,
    };
    use crate::registry::service::TimelineEvent;
    use crate::risk::service::ReasonView;

    fn bank() -> Principal {
        crate::registry::pages::tests::signed_in("zhao", "赵经理", "bank:1")
    }

    fn named(zh: &str, en: &str) -> Named {
        Named {
            zh: zh.into(),
            en: en.into(),
        }
    }

    fn report() -> CreditReport {
        let year = |year, amount, flagged| YearFigures {
            year,
            records: 12,
            amount,
            flagged,
        };
        let mut records = BTreeMap::new();
        records.insert(
            "court".to_string(),
            vec![TimelineEvent {
                item: "court_judgment".into(),
                name_zh: "裁判文书".into(),
                name_en: "Court judgments".into(),
                category: "court".into(),
                record: EventRow {
                    item: "court_judgment".into(),
                    event_date: "2025-05-12".into(),
                    title: "买卖合同纠纷".into(),
                    detail: serde_json::json!({}),
                    department: "court".into(),
                    batch_id: 9,
                    source_row: 31,
                    publicity_until: None,
                    withdrawn: None,
                    objection: Some(4),
                },
                fields: Vec::new(),
                under_objection: true,
                reference: "court_judgment:9:31".into(),
            }],
        );
        CreditReport {
            number: "XYR-20261128-1-0A1B2C3D".into(),
            generated_at: "2026-11-28T09:30:00Z".into(),
            bank: "1".into(),
            bank_name: "中国工商银行佛山分行".into(),
            authorisation: Some(7),
            application: Some(42),
            scope: vec![
                "registration".into(),
                "tax".into(),
                "court".into(),
                "credit_profile".into(),
            ],
            uscc: "91440606722473344C".into(),
            name: "佛山市顺德区美的<电器>有限公司".into(),
            registry: Some(crate::registry::pages::tests::profile().entity),
            division_name: "顺德区".into(),
            industry_name: "电气机械和器材制造业".into(),
            names: RegistryNames {
                entity_type: named("股份有限公司", "joint-stock company"),
                status: named("存续", "operating"),
                division: named("顺德区", "Shunde District"),
                industry: named(
                    "电气机械和器材制造业",
                    "Manufacture of electrical machinery and equipment",
                ),
            },
            years: vec![2023, 2024, 2025, 2026],
            payments: vec![PaymentSection {
                name_zh: "纳税信息".into(),
                name_en: "Tax payments".into(),
                group: "tax".into(),
                behaviour: finance::report::payment_behaviour(
                    "tax_payment",
                    &[year(2024, 1_250_000.0, 0), year(2025, 1_410_500.5, 2)],
                    2026,
                ),
            }],
            records,
            profile: Some(CreditProfile {
                score: 612,
                grade: "B".into(),
                probability: 0.034,
                model_version: "fin-20261128T052754".into(),
                as_of: "2026-01-01".into(),
                reasons: vec![ReasonView {
                    feature: "tax_paid_1y".into(),
                    rule: None,
                    label_zh: "近一年纳税额（元）".into(),
                    label_en: "tax paid in the last year (yuan)".into(),
                    text_zh: "近一年纳税额：100 元至不足 3 万元".into(),
                    text_en: "tax paid in the last year: 100 yuan to under 30,000 yuan".into(),
                    bin: "100 to under 30000".into(),
                    points: 14,
                }],
            }),
        }
    }

    /// The credit report as a bank sees it, and its printable form: the
    /// number, the scope, payment behaviour, records and the profile.
    #[test]
    fn credit_report_page() {
        let report = report();
        let behaviour: &PaymentBehaviour = &report.payments[0].behaviour;
        assert_eq!(behaviour.flagged, 2);
        let render = |print: bool| {
            crate::http::render::render(
                "finance_report.html",
                &HeaderMap::new(),
                &bank(),
                context! { r => Value::from_serialize(&report), print, own => false, outlook => () },
            )
            .unwrap()
            .0
        };
        let page = render(false);
        assert!(page.contains("XYR-20261128-1-0A1B2C3D"));
        assert!(page.contains("美的&lt;电器&gt;"));
        insta::assert_snapshot!("credit_report", page);
        let printable = render(true);
        assert!(!printable.contains("<nav>"));
        insta::assert_snapshot!("credit_report_print", printable);
    }

    fn enterprise() -> Principal {
        crate::registry::pages::tests::signed_in("li", "李会计", "enterprise:91440606722473344C")
    }

    /// The enterprise's own copy: the same groups without a number, bank or
    /// authorisation, its grade with what would raise it, and no
    /// supervision class.
    #[test]
    fn own_credit_page() {
        let mut report = report();
        report.number = String::new();
        report.bank = String::new();
        report.bank_name = String::new();
        report.authorisation = None;
        report.application = None;
        let outlook = risk::improve::Outlook {
            steps: vec![risk::improve::Step {
                feature: "tax_short_months_1y".into(),
                action_zh: risk::improve::ACTIONS[0].zh.into(),
                action_en: risk::improve::ACTIONS[0].en.into(),
                now_zh: "近一年欠缴税款月数：2 个月至不足 4 个月".into(),
                now_en: "months with tax underpaid in the last year: 2 to under 4 months".into(),
                then_zh: "近一年欠缴税款月数：不足 1 个月".into(),
                then_en: "months with tax underpaid in the last year: under 1 month".into(),
                points: 23,
                score_after: 635,
                grade_after: "A".into(),
            }],
            score_after: 635,
            grade_after: "A".into(),
        };
        let render = |headers: &HeaderMap| {
            crate::http::render::render(
                "finance_report.html",
                headers,
                &enterprise(),
                context! {
                    r => Value::from_serialize(&report),
                    print => false,
                    own => true,
                    outlook => Value::from_serialize(Some(&outlook)),
                },
            )
            .unwrap()
            .0
        };
        let page = render(&HeaderMap::new());
        assert!(page.contains("id=\"own-copy\""));
        assert!(!page.contains("report-number"));
        assert!(page.contains("按期足额缴纳税款"));
        assert!(page.contains("id=\"outlook-all\""));
        assert!(!page.contains("监管分类：") && !page.contains("risk class"));
        insta::assert_snapshot!("own_credit", page);
        // In English, every code and reason by its English name.
        let mut english = HeaderMap::new();
        english.insert(axum::http::header::COOKIE, "lang=en".parse().unwrap());
        let page = render(&english);
        for text in [
            "joint-stock company",
            "<td>operating</td>",
            "Shunde District",
            "Tax payments",
            "Court judgments",
            "tax paid in the last year: 100 yuan",
            "pay taxes in full and on time",
        ] {
            assert!(page.contains(text), "{text}: {page}");
        }
    }
}
