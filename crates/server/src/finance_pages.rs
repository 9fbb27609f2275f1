//! Pages of the financing platform: the product showcase for everyone,
//! registration, authorisations and "who looked" for enterprises, demands
//! with matching, applications, credit reports for banks (with a printable
//! form), and product approval for the credit centre.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::{Action, Principal, allows};
use crate::auth::check_csrf;
use crate::finance_views::{
    self as views, ApplicationInput, DemandInput, GrantInput, ProductInput, Registration,
    ReportRequest, Transition, bank_of, enterprise_of,
};
use crate::pages::{CsrfForm, PageResult, page};
use crate::views::{Failure, require};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/finance", get(home_page))
        .route(
            "/finance/register",
            get(register_page).post(register_submit),
        )
        .route("/finance/products", post(product_submit))
        .route("/finance/products/{id}/{step}", post(product_step))
        .route("/finance/consents", get(consents_page).post(grant_submit))
        .route("/finance/consents/{id}/revoke", post(revoke_submit))
        .route("/finance/demands", get(demands_page).post(demand_submit))
        .route("/finance/demands/{id}", get(demand_page))
        .route("/finance/demands/{id}/apply", post(apply_submit))
        .route("/finance/applications", get(applications_page))
        .route(
            "/finance/applications/{id}",
            get(application_page).post(move_submit),
        )
        .route("/finance/reports", get(report_form_page))
        .route("/finance/reports/{uscc}", get(report_page))
}

/// The form's value of `name`, trimmed; empty when absent.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a number")))
}

fn optional_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<Option<T>, Failure> {
    match text.trim() {
        "" => Ok(None),
        text => number(text, what).map(Some),
    }
}

async fn form_csrf(
    state: &Shared,
    who: &Principal,
    fields: &[(String, String)],
) -> Result<(), Failure> {
    check_csrf(state, who, Some(field(fields, "csrf"))).await
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
            sections => domain::industry::sections().iter().map(|s| s.code.to_string()).collect::<Vec<_>>(),
        },
    )
}

async fn register_page(headers: HeaderMap, who: Principal) -> PageResult {
    page(
        "finance_register.html",
        &headers,
        &who,
        context! { error => Value::from(()), done => false },
    )
}

async fn register_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let form = Registration {
        uscc: field(&fields, "uscc").to_string(),
        legal_representative: field(&fields, "legal_representative").to_string(),
        capacity: field(&fields, "capacity").to_string(),
        applicant_name: field(&fields, "applicant_name").to_string(),
        username: field(&fields, "username").to_string(),
        password: field(&fields, "password").to_string(),
    };
    match views::register(&state, &form).await {
        Ok(_) => page(
            "finance_register.html",
            &headers,
            &who,
            context! { error => Value::from(()), done => true },
        ),
        Err(Failure::BadRequest(error)) => page(
            "finance_register.html",
            &headers,
            &who,
            context! { error, done => false },
        ),
        Err(other) => Err(other.into()),
    }
}

async fn product_submit(
    State(state): State<Shared>,
    who: Principal,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    form_csrf(&state, &who, &fields).await?;
    let list = |name: &str| -> Vec<String> {
        field(&fields, name)
            .split([',', ' ', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let min_grade = match field(&fields, "min_grade") {
        "" => None,
        "A" => Some(finance::matching::Grade::A),
        "B" => Some(finance::matching::Grade::B),
        "C" => Some(finance::matching::Grade::C),
        "D" => Some(finance::matching::Grade::D),
        other => return Err(Failure::BadRequest(format!("no grade '{other}'")).into()),
    };
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
    views::create_product(&state, &who, &input).await?;
    Ok(Redirect::to("/finance").into_response())
}

async fn product_step(
    State(state): State<Shared>,
    who: Principal,
    Path((id, step)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    views::product_step(&state, &who, id, &step).await?;
    Ok(Redirect::to("/finance").into_response())
}

/// The enterprise the asker acts for; a denial (audited) when none.
async fn own_enterprise(state: &Shared, who: &Principal) -> Result<String, Failure> {
    let uscc = enterprise_of(who).unwrap_or("").to_string();
    require(
        state,
        who,
        Action::ManageOwnFinance { uscc: &uscc },
        "finance",
    )
    .await?;
    Ok(uscc)
}

async fn consents_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let uscc = own_enterprise(&state, &who).await?;
    let consents = views::consents(&state, &who, &uscc).await?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let uscc = own_enterprise(&state, &who).await?;
    form_csrf(&state, &who, &fields).await?;
    let input = GrantInput {
        bank: field(&fields, "bank").to_string(),
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
    views::grant(&state, &who, &uscc, &input).await?;
    Ok(Redirect::to("/finance/consents").into_response())
}

async fn revoke_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let uscc = own_enterprise(&state, &who).await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    views::revoke(&state, &who, &uscc, id).await?;
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
        let fitting = views::demands_for_bank(&state, &who).await?;
        return page(
            "finance_demands.html",
            &headers,
            &who,
            context! { fitting => Value::from_serialize(&fitting), own => Value::from(()) },
        );
    }
    let uscc = own_enterprise(&state, &who).await?;
    let own = state.store.demands_of(&uscc).await?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let uscc = own_enterprise(&state, &who).await?;
    form_csrf(&state, &who, &fields).await?;
    let input = DemandInput {
        amount: number(field(&fields, "amount"), "the amount")?,
        term_months: number(field(&fields, "term_months"), "the term")?,
        purpose: field(&fields, "purpose").to_string(),
        urgency: match field(&fields, "urgency") {
            "" => "normal".to_string(),
            other => other.to_string(),
        },
    };
    let id = views::post_demand(&state, &who, &uscc, &input).await?;
    Ok(Redirect::to(&format!("/finance/demands/{id}")).into_response())
}

async fn demand_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::demand_detail(&state, &who, id).await?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let uscc = own_enterprise(&state, &who).await?;
    form_csrf(&state, &who, &fields).await?;
    let input = ApplicationInput {
        product: number(field(&fields, "product"), "the product")?,
        demand: Some(demand),
        amount: number(field(&fields, "amount"), "the amount")?,
        term_months: number(field(&fields, "term_months"), "the term")?,
        authorise: !field(&fields, "authorise").is_empty(),
        scope: Vec::new(),
    };
    let id = views::apply(&state, &who, &uscc, &input).await?;
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
        context! { applications => Value::from_serialize(&applications) },
    )
}

async fn application_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let detail = views::application_detail(&state, &who, id).await?;
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
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    form_csrf(&state, &who, &fields).await?;
    let transition = Transition {
        to: field(&fields, "to").to_string(),
        reason: field(&fields, "reason").to_string(),
        loan_amount: optional_number(field(&fields, "loan_amount"), "the loan amount")?,
        loan_rate: optional_number(field(&fields, "loan_rate"), "the loan rate")?,
        loan_term_months: optional_number(field(&fields, "loan_term_months"), "the loan term")?,
        disbursed_on: Some(field(&fields, "disbursed_on").to_string()).filter(|d| !d.is_empty()),
    };
    views::move_application(&state, &who, id, &transition).await?;
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
    let bank = bank_of(&who).unwrap_or("");
    require(&state, &who, Action::ActAsBank { bank }, "reports").await?;
    if let Some(uscc) = asked.uscc.as_deref().filter(|u| !u.trim().is_empty()) {
        let uscc = crate::views::parse_uscc(uscc)?;
        let application = asked.application.as_deref().map(str::trim).unwrap_or("");
        let target = match optional_number::<i64>(application, "the application")? {
            Some(id) => format!("/finance/reports/{uscc}?application={id}"),
            None => format!("/finance/reports/{uscc}"),
        };
        return Ok(Redirect::to(&target).into_response());
    }
    let accesses = state.store.accesses_by_bank(bank, 100).await?;
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
    let uscc = crate::views::parse_uscc(&uscc)?;
    let request = ReportRequest {
        application: optional_number(
            query.application.as_deref().unwrap_or(""),
            "the application",
        )?,
        scope: query.scope,
    };
    let report = views::credit_report(&state, &who, &uscc, &request).await?;
    page(
        "finance_report.html",
        &headers,
        &who,
        context! { r => Value::from_serialize(&report), print => query.print.is_some() },
    )
}
