//! The JSON API under `/api/v1`, with the pages' permissions. Machine
//! clients send `Authorization: Bearer <token>`; a browser session works too,
//! and then a state-changing request must carry the session's CSRF token
//! (`X-CSRF-Token` header or a `csrf` form field). The OpenAPI document at
//! `/api/v1/openapi.json` is generated from the handlers below.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ingest::batch::BatchResult;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::Shared;
use crate::access::{Action, Principal, Role};
use crate::auth::check_csrf;
use crate::views::{self, Failure, require};

/// A failure as the API reports it: `{"error": "...", "code": 403}`.
#[derive(Debug)]
pub struct ApiFailure(pub Failure);

impl From<Failure> for ApiFailure {
    fn from(f: Failure) -> ApiFailure {
        ApiFailure(f)
    }
}

impl From<store::StoreError> for ApiFailure {
    fn from(e: store::StoreError) -> ApiFailure {
        ApiFailure(e.into())
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    pub code: u16,
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        if let Failure::Internal(detail) = &self.0 {
            tracing::error!("{detail}");
        }
        let status = self.0.status();
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.0.message(),
                code: status.as_u16(),
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

type ApiResult<T> = Result<Json<T>, ApiFailure>;

#[derive(OpenApi)]
#[openapi(
    info(title = "Xinyong API", description = "Public credit information platform: entities, batches, quality, catalog, audit, risk, inspections, financing."),
    paths(search, entity, public_entity, catalog, batches, batch, upload, quality, audit, risk_overview, risk_entities, risk_entity, risk_model, risk_screening_status, risk_screening_start,
        crate::inspection_api::list_plans, crate::inspection_api::create_plan, crate::inspection_api::public_plan, crate::inspection_api::plan_detail, crate::inspection_api::verify_plan, crate::inspection_api::commit_plan, crate::inspection_api::draw_plan, crate::inspection_api::publish_plan, crate::inspection_api::my_tasks, crate::inspection_api::record_result,
        crate::finance_api::register, crate::finance_api::confirm, crate::finance_api::list_claims, crate::finance_api::decide_claim, crate::finance_api::products, crate::finance_api::create_product, crate::finance_api::product_step, crate::finance_api::consents, crate::finance_api::grant, crate::finance_api::revoke, crate::finance_api::report, crate::finance_api::demands, crate::finance_api::post_demand, crate::finance_api::demand, crate::finance_api::matching_demands, crate::finance_api::applications, crate::finance_api::apply, crate::finance_api::application, crate::finance_api::move_application, crate::finance_api::statistics, crate::finance_api::pool, crate::finance_api::set_pool_rule, crate::finance_api::key_enterprises, crate::finance_api::push_key, crate::finance_api::respond_push, crate::finance_api::visits, crate::finance_api::record_visit, crate::finance_api::set_first_loan, crate::finance_api::filings, crate::finance_api::file_account, crate::finance_api::open_account),
    components(schemas(crate::claims::Registration, crate::claims::Confirmation, crate::claims::ClaimOutcome, crate::claims::Claims, crate::finance_views::ProductView, crate::finance_views::ProductInput, crate::finance_views::Consents, crate::finance_views::GrantView, crate::finance_views::AccessView, crate::finance_views::GrantInput, crate::finance_views::CreditReport, crate::finance_views::CreditProfile, crate::finance_views::PaymentSection, crate::finance_views::DemandInput, crate::finance_views::DemandDetail, crate::finance_views::MatchView, crate::finance_views::DemandForBank, crate::finance_views::ApplicationInput, crate::finance_views::ApplicationDetail, crate::finance_views::Transition, crate::finance_views::Statistics, crate::finance_outreach::PoolView, crate::finance_outreach::PoolMember, crate::finance_outreach::KeyEnterprises, crate::finance_outreach::PushView, crate::finance_outreach::KeyInput, crate::finance_outreach::PushResponse, crate::finance_outreach::VisitView, crate::finance_outreach::VisitInput, crate::finance_outreach::FilingView, crate::finance_outreach::FilingInput, crate::finance_outreach::OutreachStatistics, crate::finance_api::Created, crate::inspection_views::PlanSummary, crate::inspection_views::PublicPlan, crate::inspection_views::PublicPick, crate::inspection_views::TaskView, crate::inspection_views::PlanDetail, crate::inspection_views::Committed, crate::inspection_views::Drawn, crate::inspection_api::ResultBody, crate::inspection_api::FindingBody, crate::inspection_api::Recorded, crate::inspection_api::Published, views::SearchHit, views::Profile, views::PublicProfile, views::ItemSeries, views::TimelineEvent, ErrorBody, CatalogItem, UploadResult)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .merge(crate::inspection_api::routes())
        .merge(crate::finance_api::routes())
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/entities", get(search))
        .route("/api/v1/entities/{uscc}", get(entity))
        .route("/api/v1/public/entities/{uscc}", get(public_entity))
        .route("/api/v1/catalog", get(catalog))
        .route("/api/v1/batches", get(batches))
        .route("/api/v1/batches/{id}", get(batch))
        .route("/api/v1/quality", get(quality))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/risk", get(risk_overview))
        .route("/api/v1/risk/entities", get(risk_entities))
        .route("/api/v1/risk/entities/{uscc}", get(risk_entity))
        .route("/api/v1/risk/model", get(risk_model))
        .route(
            "/api/v1/risk/screenings/current",
            get(risk_screening_status).post(risk_screening_start),
        )
}

/// Checks the `X-CSRF-Token` header of a cookie session's change (tokens
/// need none).
pub(crate) async fn csrf_header(
    state: &Shared,
    who: &crate::access::Principal,
    headers: &axum::http::HeaderMap,
) -> Result<(), Failure> {
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    crate::auth::check_csrf(state, who, token).await
}

pub fn upload_routes() -> Router<Shared> {
    Router::new().route("/api/v1/batches", axum::routing::post(upload))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

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
    require(&state, &who, Action::ViewEntity { uscc: &uscc }, &uscc).await?;
    Ok(Json(views::profile(&state, &who, &uscc).await?))
}

/// What may be published of an entity; no sign-in needed.
#[utoipa::path(get, path = "/api/v1/public/entities/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, body = views::PublicProfile), (status = 404, body = ErrorBody)), security(()))]
async fn public_entity(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> ApiResult<views::PublicProfile> {
    let uscc = views::parse_uscc(&code)?;
    Ok(Json(views::public_profile(&state, &uscc).await?))
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
    require(&state, &who, Action::ListBatches, "").await?;
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
    let form = crate::pages::read_upload(multipart).await?;
    let header_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&state, &who, form.csrf.as_deref().or(header_csrf)).await?;
    let own = who.subjects(Role::Department);
    let department = match (&form.department, own.as_slice()) {
        (Some(d), _) => d.clone(),
        (None, [only]) => only.to_string(),
        _ => return Err(Failure::BadRequest("give the department the file is from".into()).into()),
    };
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
    Ok(Json(
        views::quality(&state, &who, department.as_deref()).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
struct AuditParams {
    actor: Option<String>,
    subject: Option<String>,
    /// RFC 3339 time or date.
    since: Option<String>,
    limit: Option<i64>,
}

/// Audit log entries, newest first (admin).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
async fn audit(
    State(state): State<Shared>,
    who: Principal,
    Query(params): Query<AuditParams>,
) -> ApiResult<Vec<store::AuditEntry>> {
    require(&state, &who, Action::ViewAudit, "audit").await?;
    let filter = store::AuditFilter {
        actor: params.actor,
        subject: params.subject,
        since: params.since,
        limit: params.limit.unwrap_or(1000).clamp(1, 10_000),
    };
    let entries = state.store.audit_entries(&filter).await?;
    state
        .audit(
            &who.actor,
            "view_audit",
            "audit",
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(Json(entries))
}

/// The latest screening: classes, cut-offs, by district and industry, score
/// distribution, migration, observed problem rates (regulators, inspectors).
#[utoipa::path(get, path = "/api/v1/risk",
    responses((status = 200, description = "risk overview"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_overview(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk_views::Overview> {
    require(&state, &who, Action::ViewRisk, "").await?;
    Ok(Json(crate::risk_views::overview(&state).await?))
}

#[derive(Deserialize, IntoParams)]
struct RiskListParams {
    /// A, B, C or D.
    class: Option<String>,
    /// Prefix of the division code.
    division: Option<String>,
    /// Prefix of the industry code.
    industry: Option<String>,
    /// At most 1000; default 100.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The latest screening's entities, riskiest first, with reasons.
#[utoipa::path(get, path = "/api/v1/risk/entities", params(RiskListParams),
    responses((status = 200, description = "ranked entities"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_entities(
    State(state): State<Shared>,
    who: Principal,
    Query(p): Query<RiskListParams>,
) -> ApiResult<Vec<crate::risk_views::RankedView>> {
    require(&state, &who, Action::ViewRisk, "").await?;
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let filter = crate::risk_views::list_filter(p.class, p.division, p.industry, limit, p.offset);
    let (_, rows) = crate::risk_views::ranked(&state, &who, &filter).await?;
    Ok(Json(rows))
}

/// An entity's risk in every screening, newest first, with reasons.
#[utoipa::path(get, path = "/api/v1/risk/entities/{uscc}", params(("uscc" = String, Path)),
    responses((status = 200, description = "the entity's risk history"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn risk_entity(
    State(state): State<Shared>,
    who: Principal,
    Path(code): Path<String>,
) -> ApiResult<Vec<crate::risk_views::EntityRiskView>> {
    let uscc = views::parse_uscc(&code)?;
    require(&state, &who, Action::ViewRisk, &uscc).await?;
    let (_, history) = crate::risk_views::entity(&state, &who, &uscc).await?;
    Ok(Json(history))
}

/// The model in use with its training and hold-out report.
#[utoipa::path(get, path = "/api/v1/risk/model",
    responses((status = 200, description = "model and report"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn risk_model(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk_views::ModelView> {
    require(&state, &who, Action::ViewRisk, "").await?;
    let model = crate::risk_views::model(&state)
        .await?
        .ok_or_else(|| Failure::NotFound("risk model".into()))?;
    Ok(Json(model))
}

/// The re-screening in progress or last finished.
#[utoipa::path(get, path = "/api/v1/risk/screenings/current",
    responses((status = 200, description = "screening job"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_screening_status(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<crate::risk_views::ScreeningJob> {
    require(&state, &who, Action::ViewRisk, "").await?;
    Ok(Json(crate::risk_views::job(&state)))
}

/// Starts re-screening the city (regulators); poll the same address.
#[utoipa::path(post, path = "/api/v1/risk/screenings/current",
    responses((status = 202, description = "started"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn risk_screening_start(
    State(state): State<Shared>,
    who: Principal,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<crate::risk_views::ScreeningJob>), ApiFailure> {
    require(&state, &who, Action::Rescreen, "").await?;
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    check_csrf(&state, &who, csrf).await?;
    let job = crate::risk_views::start_screening(&state, &who).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}
