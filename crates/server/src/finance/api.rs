//! The financing API under `/api/v1/finance`: products for everyone;
//! authorisations, demands and applications
//! for the enterprise; products, matching demands, applications and credit
//! reports (under consent) for banks; approval for the credit centre.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;

use super::outreach;
use crate::Shared;
use crate::access::Principal;
use crate::finance::service::{
    self as views, ApplicationDetail, ApplicationInput, Consents, CreditReport, DemandDetail,
    DemandForBank, DemandInput, GrantInput, OwnCredit, ProductInput, ProductView, ReportRequest,
    Transition,
};
use crate::http::Failure;
use crate::http::cookies::{CheckedHeader, check_csrf};
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ErrorBody};

type ApiResult<T> = Result<Json<T>, ApiFailure>;
type CreatedResult = Result<(StatusCode, Json<Created>), ApiFailure>;

/// The id of what was created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

fn created(id: i64) -> CreatedResult {
    Ok((StatusCode::CREATED, Json(Created { id })))
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/finance/products" => get(products).post(create_product),
    "/api/v1/finance/products/{id}/{step}" => post(product_step),
    "/api/v1/finance/consents" => get(consents).post(grant),
    "/api/v1/finance/consents/{id}/revoke" => post(revoke),
    "/api/v1/finance/reports/{uscc}" => get(report),
    "/api/v1/finance/my-credit" => get(own_credit),
    "/api/v1/finance/demands" => get(demands).post(post_demand),
    "/api/v1/finance/demands/matching" => get(matching_demands),
    "/api/v1/finance/demands/{id}" => get(demand),
    "/api/v1/finance/applications" => get(applications).post(apply),
    "/api/v1/finance/applications/{id}" => get(application),
    "/api/v1/finance/statistics" => get(statistics),
    "/api/v1/finance/pool" => get(pool).post(set_pool_rule),
    "/api/v1/finance/key-enterprises" => get(key_enterprises).post(push_key),
    "/api/v1/finance/key-enterprises/{uscc}/response" => post(respond_push),
    "/api/v1/finance/visits" => get(visits).post(record_visit),
    "/api/v1/finance/visits/{id}/first-loan" => post(set_first_loan),
    "/api/v1/finance/accounts" => get(filings).post(file_account),
    "/api/v1/finance/accounts/{id}/opened" => post(open_account),
    "/api/v1/finance/applications/{id}/transitions" => post(move_application),
    "/api/v1/finance/applications/{id}/loan-reports" => post(report_loan),
    "/api/v1/finance/loan-reports" => post(report_loan_file),
}

/// Products: published ones for everyone; a bank's own in every state; all for the credit centre.
#[utoipa::path(get, path = "/api/v1/finance/products",
    responses((status = 200, body = Vec<ProductView>)))]
pub async fn products(State(state): State<Shared>, who: Principal) -> ApiResult<Vec<ProductView>> {
    Ok(Json(views::products(&state, &who).await?))
}

/// Submits a product of the asker's bank for approval.
#[utoipa::path(post, path = "/api/v1/finance/products", request_body = ProductInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_product(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<ProductInput>,
) -> CreatedResult {
    created(views::create_product(&state, &who, &input, chrono::Utc::now()).await?)
}

/// `approve`, `reject` (credit centre), `pause`, `resume` (credit centre or the product's bank).
#[utoipa::path(post, path = "/api/v1/finance/products/{id}/{step}",
    params(("id" = i64, Path), ("step" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn product_step(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path((id, step)): Path<(i64, String)>,
) -> Result<StatusCode, ApiFailure> {
    views::product_step(&state, &who, id, &step, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The enterprise's authorisations and every read of its data ("who looked").
#[utoipa::path(get, path = "/api/v1/finance/consents",
    responses((status = 200, body = Consents), (status = 403, body = ErrorBody)))]
pub async fn consents(State(state): State<Shared>, who: Principal) -> ApiResult<Consents> {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    Ok(Json(
        views::consents(&state, &who, &uscc, chrono::Utc::now()).await?,
    ))
}

/// Grants a bank access to groups of the enterprise's data until an expiry.
#[utoipa::path(post, path = "/api/v1/finance/consents", request_body = GrantInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn grant(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<GrantInput>,
) -> CreatedResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    created(views::grant(&state, &who, &uscc, &input, chrono::Utc::now()).await?)
}

/// Revokes a grant; the very next read is refused.
#[utoipa::path(post, path = "/api/v1/finance/consents/{id}/revoke", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiFailure> {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    views::revoke(&state, &who, &uscc, id, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A credit report for the asker's bank, under a live authorisation covering every group read; each request is logged, and a refusal says why.
#[utoipa::path(get, path = "/api/v1/finance/reports/{uscc}", params(("uscc" = String, Path), ReportRequest),
    responses((status = 200, body = CreditReport), (status = 403, body = ErrorBody)))]
pub async fn report(
    State(state): State<Shared>,
    who: Principal,
    Path(uscc): Path<String>,
    Query(request): Query<ReportRequest>,
) -> ApiResult<CreditReport> {
    let uscc = crate::registry::service::parse_uscc(&uscc)?;
    Ok(Json(
        views::credit_report(&state, &who, &uscc, &request, chrono::Utc::now()).await?,
    ))
}

/// The enterprise's own credit report (every group, as a bank authorised for all would see it) and financing grade with what would raise it; never the supervision class.
#[utoipa::path(get, path = "/api/v1/finance/my-credit",
    responses((status = 200, body = OwnCredit), (status = 403, body = ErrorBody)))]
pub async fn own_credit(State(state): State<Shared>, who: Principal) -> ApiResult<OwnCredit> {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    Ok(Json(
        views::own_credit(&state, &who, &uscc, chrono::Utc::now()).await?,
    ))
}

/// The enterprise's own demands.
#[utoipa::path(get, path = "/api/v1/finance/demands",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn demands(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<store::DemandRow>> {
    Ok(Json(views::my_demands(&state, &who).await?))
}

/// Posts a financing demand.
#[utoipa::path(post, path = "/api/v1/finance/demands", request_body = DemandInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody)))]
pub async fn post_demand(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<DemandInput>,
) -> CreatedResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    created(views::post_demand(&state, &who, &uscc, &input, chrono::Utc::now()).await?)
}

/// A demand with every published product ranked against it, each rule checked and worded.
#[utoipa::path(get, path = "/api/v1/finance/demands/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = DemandDetail), (status = 403, body = ErrorBody)))]
pub async fn demand(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<DemandDetail> {
    Ok(Json(
        views::demand_detail(&state, &who, id, chrono::Utc::now()).await?,
    ))
}

/// Open demands that fit at least one of the asker's bank's products.
#[utoipa::path(get, path = "/api/v1/finance/demands/matching",
    responses((status = 200, body = Vec<DemandForBank>), (status = 403, body = ErrorBody)))]
pub async fn matching_demands(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<DemandForBank>> {
    Ok(Json(
        views::demands_for_bank(&state, &who, chrono::Utc::now()).await?,
    ))
}

/// The applications the asker is a party to (or all, for those who see the statistics).
#[utoipa::path(get, path = "/api/v1/finance/applications",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn applications(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<store::ApplicationRow>> {
    Ok(Json(views::my_applications(&state, &who).await?))
}

/// Applies to a product; with `authorise`, grants the product's bank access for this application.
#[utoipa::path(post, path = "/api/v1/finance/applications", request_body = ApplicationInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn apply(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<ApplicationInput>,
) -> CreatedResult {
    let uscc = crate::accounts::service::own_enterprise(&state, &who).await?;
    created(views::apply(&state, &who, &uscc, &input, chrono::Utc::now()).await?)
}

/// An application with its history and time in each state.
#[utoipa::path(get, path = "/api/v1/finance/applications/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationDetail), (status = 403, body = ErrorBody)))]
pub async fn application(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<ApplicationDetail> {
    Ok(Json(
        views::application_detail(&state, &who, id, chrono::Utc::now()).await?,
    ))
}

/// Moves an application: the bank accepts, reviews, approves, rejects (with a reason) and reports the disbursed loan; the enterprise withdraws.
#[utoipa::path(post, path = "/api/v1/finance/applications/{id}/transitions", params(("id" = i64, Path)),
    request_body = Transition,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn move_application(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(transition): ApiJson<Transition>,
) -> Result<StatusCode, ApiFailure> {
    views::move_application(&state, &who, id, &transition, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bank reports what became of a loan it paid out: current, overdue (with days past due), defaulted, written off or repaid; checked against the loan's last report. The application's detail lists the reports.
#[utoipa::path(post, path = "/api/v1/finance/applications/{id}/loan-reports", params(("id" = i64, Path)),
    request_body = views::LoanReportInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn report_loan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<views::LoanReportInput>,
) -> CreatedResult {
    created(views::report_loan(&state, &who, id, &input, "api", chrono::Utc::now()).await?)
}

/// Totals; demands, applications, loans, amounts and landing rates by year, bank, district and industry; time in each state (credit centre, regulators).
#[utoipa::path(get, path = "/api/v1/finance/statistics",
    responses((status = 200, body = views::Statistics), (status = 403, body = ErrorBody)))]
pub async fn statistics(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<views::Statistics> {
    Ok(Json(views::statistics(&state, &who).await?))
}

/// The cultivation pool: its rule and members with the checks that admitted them (credit centre, regulators, banks with a product for the pool).
#[utoipa::path(get, path = "/api/v1/finance/pool",
    responses((status = 200, body = outreach::PoolView), (status = 403, body = ErrorBody)))]
pub async fn pool(State(state): State<Shared>, who: Principal) -> ApiResult<outreach::PoolView> {
    Ok(Json(
        outreach::pool(&state, &who, chrono::Utc::now()).await?,
    ))
}

/// Sets the pool's rule (finance::pool::PoolRule) and selects its members anew (credit centre).
#[utoipa::path(post, path = "/api/v1/finance/pool", request_body(content = Object),
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_pool_rule(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(rule): ApiJson<finance::pool::PoolRule>,
) -> CreatedResult {
    let (version, _) = outreach::set_pool_rule(&state, &who, &rule, chrono::Utc::now()).await?;
    created(version)
}

/// Key enterprises and their pushes (regulators, the credit centre); a bank's own pushes.
#[utoipa::path(get, path = "/api/v1/finance/key-enterprises",
    responses((status = 200, body = outreach::KeyEnterprises), (status = 403, body = ErrorBody)))]
pub async fn key_enterprises(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<outreach::KeyEnterprises> {
    Ok(Json(outreach::key_enterprises(&state, &who).await?))
}

/// Lists a key enterprise and pushes it to banks (regulators); `id` in the answer is the number of banks pushed to.
#[utoipa::path(post, path = "/api/v1/finance/key-enterprises", request_body = outreach::KeyInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn push_key(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<outreach::KeyInput>,
) -> CreatedResult {
    created(outreach::push_key(&state, &who, &input, chrono::Utc::now()).await? as i64)
}

/// A bank's answer to a push: contacted, credit_granted (with the amount) or declined.
#[utoipa::path(post, path = "/api/v1/finance/key-enterprises/{uscc}/response", params(("uscc" = String, Path)),
    request_body = outreach::PushResponse,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn respond_push(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(uscc): Path<String>,
    ApiJson(answer): ApiJson<outreach::PushResponse>,
) -> Result<StatusCode, ApiFailure> {
    outreach::respond_push(&state, &who, &uscc, &answer, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Visits: the asker's organisation's; every one for regulators and the credit centre.
#[utoipa::path(get, path = "/api/v1/finance/visits",
    responses((status = 200, body = Vec<outreach::VisitView>), (status = 403, body = ErrorBody)))]
pub async fn visits(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<outreach::VisitView>> {
    Ok(Json(outreach::visits(&state, &who).await?))
}

/// Records a visit (banks, the credit centre).
#[utoipa::path(post, path = "/api/v1/finance/visits", request_body = outreach::VisitInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn record_visit(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<outreach::VisitInput>,
) -> CreatedResult {
    created(outreach::record_visit(&state, &who, &input, chrono::Utc::now()).await?)
}

/// Whether the visited enterprise got its first loan: `{"first_loan": "yes"}` or `"no"`.
#[utoipa::path(post, path = "/api/v1/finance/visits/{id}/first-loan", params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_first_loan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<StatusCode, ApiFailure> {
    let value = body["first_loan"].as_str().unwrap_or("");
    outreach::set_first_loan(&state, &who, id, value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Settlement-account filings with days from application to opening: a bank's own; all for the credit centre and regulators.
#[utoipa::path(get, path = "/api/v1/finance/accounts",
    responses((status = 200, body = Vec<outreach::FilingView>), (status = 403, body = ErrorBody)))]
pub async fn filings(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<outreach::FilingView>> {
    Ok(Json(outreach::filings(&state, &who).await?))
}

/// Files an enterprise's new settlement account (banks).
#[utoipa::path(post, path = "/api/v1/finance/accounts", request_body = outreach::FilingInput,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn file_account(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(input): ApiJson<outreach::FilingInput>,
) -> CreatedResult {
    created(outreach::file_account(&state, &who, &input, chrono::Utc::now()).await?)
}

/// Records the account's opening: `{"opened_on": "YYYY-MM-DD"}`.
#[utoipa::path(post, path = "/api/v1/finance/accounts/{id}/opened", params(("id" = i64, Path)),
    request_body(content = Object),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn open_account(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<StatusCode, ApiFailure> {
    let opened_on = body["opened_on"].as_str().unwrap_or("");
    outreach::open_account(&state, &who, id, opened_on, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A refused file of loan reports: every problem, each naming the file,
/// row and field; nothing of the file was stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileProblems {
    pub error: String,
    pub code: u16,
    pub problems: Vec<String>,
}

/// Reports on many loans at once: a CSV file (multipart field `file`) with
/// the columns application, reported_on, state, days_past_due. Only the
/// lending bank, on its own disbursed loans; all rows are stored or none.
#[utoipa::path(post, path = "/api/v1/finance/loan-reports", request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = views::LoanFileOutcome), (status = 400, body = FileProblems), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn report_loan_file(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiFailure> {
    // The public is told to sign in whatever it sent.
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded.into());
    }
    let multipart = multipart.map_err(|e| Failure::BadRequest(e.body_text()))?;
    let form = crate::http::forms::read_upload(multipart).await?;
    let header_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&state, &who, form.csrf.as_deref().or(header_csrf)).await?;
    let file_name = form.file_name.unwrap_or_default();
    let done =
        views::report_loan_file(&state, &who, &file_name, &form.bytes, chrono::Utc::now()).await?;
    Ok(match done {
        Ok(outcome) => (StatusCode::CREATED, Json(outcome)).into_response(),
        Err(problems) => {
            let code = StatusCode::BAD_REQUEST;
            let error = format!(
                "the file was refused, nothing of it stored: {}",
                problems.first().map_or("", String::as_str)
            );
            let body = FileProblems {
                error,
                code: code.as_u16(),
                problems,
            };
            (code, Json(body)).into_response()
        }
    })
}
