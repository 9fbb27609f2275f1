//! The inspection API under `/api/v1/inspections`: published plans and their
//! verification for anyone; plan management for regulators; tasks and
//! result entry for inspectors.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use chrono::NaiveDate;
use inspection::plan::Plan;
use serde::{Deserialize, Serialize};
use supervision::results::FindingInput;
use utoipa::ToSchema;

use crate::Shared;
use crate::access::{Action, Principal, allows};
use crate::http::Failure;
use crate::http::cookies::CheckedHeader;
use crate::http::forms::ApiJson;
use crate::http::{ApiFailure, ErrorBody};
use crate::inspection::service::{
    self as views, Committed, Drawn, PlanDetail, PlanSummary, PublicPlan, TaskView,
};

type ApiResult<T> = Result<Json<T>, ApiFailure>;

crate::http::routes! {
    pub fn routes, const PATHS;
    "/api/v1/inspections/plans" => get(list_plans).post(create_plan),
    "/api/v1/inspections/plans/{id}" => get(public_plan),
    "/api/v1/inspections/plans/{id}/detail" => get(plan_detail),
    "/api/v1/inspections/plans/{id}/verify" => get(verify_plan),
    "/api/v1/inspections/plans/{id}/commit" => post(commit_plan),
    "/api/v1/inspections/plans/{id}/draw" => post(draw_plan),
    "/api/v1/inspections/plans/{id}/publish" => post(publish_plan),
    "/api/v1/inspections/tasks/mine" => get(my_tasks),
    "/api/v1/inspections/tasks/{id}/result" => post(record_result),
}

/// Plans: committed and drawn ones for everyone, drafts too for regulators.
#[utoipa::path(get, path = "/api/v1/inspections/plans",
    responses((status = 200, body = Vec<PlanSummary>)))]
pub async fn list_plans(
    State(state): State<Shared>,
    who: Principal,
) -> ApiResult<Vec<PlanSummary>> {
    let public = !allows(&who, Action::ManageInspections);
    Ok(Json(views::plans(&state, public).await?))
}

/// Creates a draft plan (regulators); the body is a plan as `xinyong inspection plan show --json` prints its definition.
#[utoipa::path(post, path = "/api/v1/inspections/plans", request_body(content = Object),
    responses((status = 201, body = PlanSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_plan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    ApiJson(plan): ApiJson<Plan>,
) -> Result<(StatusCode, Json<PlanSummary>), ApiFailure> {
    views::create(&state, &who, &plan, chrono::Utc::now()).await?;
    let created = views::plans(&state, false)
        .await?
        .into_iter()
        .find(|p| p.id == plan.id)
        .ok_or_else(|| Failure::Internal("the created plan is missing".into()))?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A committed or drawn plan as published: hashes, the seed once drawn, the
/// drawn entities with their keys and published results.
#[utoipa::path(get, path = "/api/v1/inspections/plans/{id}", params(("id" = String, Path)),
    responses((status = 200, body = PublicPlan), (status = 404, body = ErrorBody)))]
pub async fn public_plan(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<PublicPlan> {
    Ok(Json(views::public_plan(&state, &id).await?))
}

/// Everything about a plan (regulators): classes, teams, progress, deadlines.
#[utoipa::path(get, path = "/api/v1/inspections/plans/{id}/detail", params(("id" = String, Path)),
    responses((status = 200, body = PlanDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn plan_detail(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<PlanDetail> {
    Ok(Json(
        views::plan_detail(&state, &who, &id, chrono::Utc::now()).await?,
    ))
}

/// Recomputes the draw from the published bundle and reports every check.
#[utoipa::path(get, path = "/api/v1/inspections/plans/{id}/verify", params(("id" = String, Path)),
    responses((status = 200, description = "verification report"), (status = 404, body = ErrorBody)))]
pub async fn verify_plan(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<inspection::bundle::VerifyReport> {
    let report = views::verify(&state, &id).await?;
    if allows(&who, Action::ManageInspections) {
        return Ok(Json(report));
    }
    Ok(Json(views::public_report(report)))
}

/// Freezes a draft plan and publishes its hashes (regulators).
#[utoipa::path(post, path = "/api/v1/inspections/plans/{id}/commit", params(("id" = String, Path)),
    responses((status = 200, body = Committed), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn commit_plan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Committed> {
    Ok(Json(
        views::commit(&state, &who, &id, chrono::Utc::now()).await?,
    ))
}

/// Reveals the seed and draws (regulators).
#[utoipa::path(post, path = "/api/v1/inspections/plans/{id}/draw", params(("id" = String, Path)),
    responses((status = 200, body = Drawn), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn draw_plan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Drawn> {
    Ok(Json(
        views::draw(&state, &who, &id, chrono::Utc::now()).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Published {
    pub published: u64,
}

/// Publishes a plan's recorded results (regulators).
#[utoipa::path(post, path = "/api/v1/inspections/plans/{id}/publish", params(("id" = String, Path)),
    responses((status = 200, body = Published), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn publish_plan(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Published> {
    Ok(Json(Published {
        published: views::publish(&state, &who, &id, chrono::Utc::now()).await?,
    }))
}

/// The signed-in inspector's tasks, open ones first.
#[utoipa::path(get, path = "/api/v1/inspections/tasks/mine",
    responses((status = 200, body = Vec<TaskView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn my_tasks(State(state): State<Shared>, who: Principal) -> ApiResult<Vec<TaskView>> {
    Ok(Json(
        views::my_tasks(&state, &who, chrono::Utc::now()).await?.1,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct FindingBody {
    pub item: String,
    /// no_problem, problem_found, not_found or closed.
    pub outcome: String,
    #[serde(default)]
    pub problem_type: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ResultBody {
    /// YYYY-MM-DD
    pub inspected_on: String,
    pub findings: Vec<FindingBody>,
}

#[derive(Serialize, ToSchema)]
pub struct Recorded {
    pub task: i64,
}

/// Records a task's result (an inspector on its team, or a regulator).
#[utoipa::path(post, path = "/api/v1/inspections/tasks/{id}/result", params(("id" = i64, Path)), request_body = ResultBody,
    responses((status = 200, body = Recorded), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn record_result(
    State(state): State<Shared>,
    who: Principal,
    _: CheckedHeader,
    _headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ResultBody>,
) -> ApiResult<Recorded> {
    if who.is_anonymous() {
        return Err(Failure::SignInNeeded.into());
    }
    let inspected_on =
        NaiveDate::parse_from_str(body.inspected_on.trim(), "%Y-%m-%d").map_err(|_| {
            Failure::BadRequest(format!(
                "inspected_on '{}' is not a date (YYYY-MM-DD)",
                body.inspected_on
            ))
        })?;
    let findings = body
        .findings
        .into_iter()
        .map(|f| FindingInput {
            item: f.item,
            outcome: f.outcome,
            problem_type: f.problem_type,
            description: f.description,
        })
        .collect();
    views::record_result(&state, &who, id, inspected_on, findings, chrono::Utc::now()).await?;
    Ok(Json(Recorded { task: id }))
}
