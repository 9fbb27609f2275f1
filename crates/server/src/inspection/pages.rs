//! Pages of double random, one public: plans for regulators, tasks and
//! result entry for inspectors, and the published side for everyone.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use inspection::items::{STANDARD_ITEMS, standard_item};
use inspection::plan::{Exclusions, Plan, Sampling, Scope, Window};
use minijinja::{Value, context};
use supervision::results::{FindingInput, OUTCOMES};

use super::service::{self as views, day};
use crate::Shared;
use crate::access::{Action, Principal};
use crate::http::Failure;
use crate::http::PageResult;
use crate::http::cookies::CheckedForm;
use crate::http::cookies::CsrfForm;
use crate::http::cookies::check_csrf;
use crate::http::render::page;
use crate::service::require;

crate::http::routes! {
    /// Routes that take files, under the upload limits.
    pub fn upload_routes, const UPLOAD_PATHS;
    "/inspections/rosters/import" => post(roster_import),
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/inspections" => get(plans_page).post(create_plan),
    "/inspections/plans/{id}" => get(plan_page),
    "/inspections/plans/{id}/{step}" => post(plan_step),
    "/inspections/rosters" => get(rosters_page).post(roster_change),
    "/inspections/simulation" => get(simulation_page),
    "/inspections/tasks" => get(tasks_page),
    "/inspections/tasks/{id}" => get(task_page).post(task_submit),
    "/public/inspections" => get(public_plans_page),
    "/public/inspections/{id}" => get(public_plan_page),
}

async fn plans_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let plans = views::managed_plans(&state, &who).await?;
    let items: Vec<Value> = STANDARD_ITEMS
        .iter()
        .map(|(code, name, department, _)| context! { code, name, department })
        .collect();
    page(
        "inspections.html",
        &headers,
        &who,
        context! { plans => Value::from_serialize(&plans), items, error => Value::from(()) },
    )
}

/// The plan form's fields; `item` repeats, one per chosen standard item.
struct PlanForm {
    id: String,
    name: String,
    item: Vec<String>,
    start: String,
    end: String,
    district: String,
    industry: String,
    ratios: [String; 4],
    exclude_months: String,
    exclude_open_cases: bool,
    inspectors_per_object: String,
    recusal_months: String,
}

impl PlanForm {
    fn of(fields: &[(String, String)]) -> PlanForm {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        PlanForm {
            id: get("id"),
            name: get("name"),
            item: fields
                .iter()
                .filter(|(k, _)| k == "item")
                .map(|(_, v)| v.clone())
                .collect(),
            start: get("start"),
            end: get("end"),
            district: get("district"),
            industry: get("industry"),
            ratios: [
                get("ratio_a"),
                get("ratio_b"),
                get("ratio_c"),
                get("ratio_d"),
            ],
            exclude_months: get("exclude_months"),
            exclude_open_cases: !get("exclude_open_cases").is_empty(),
            inspectors_per_object: get("inspectors_per_object"),
            recusal_months: get("recusal_months"),
        }
    }
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a number")))
}

fn list(text: &str) -> Vec<String> {
    text.split([',', ' ', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn plan_of_form(form: &PlanForm) -> Result<Plan, Failure> {
    let mut items = Vec::new();
    for code in &form.item {
        items.push(
            standard_item(code)
                .ok_or_else(|| Failure::BadRequest(format!("unknown item '{code}'")))?,
        );
    }
    let departments = inspection::plan::departments_of(&items);
    let percent = |k: usize, class: &str| -> Result<f64, Failure> {
        Ok(number::<f64>(&form.ratios[k], &format!("the ratio of class {class}"))? / 100.0)
    };
    let ratios = domain::risk::SamplingRatios {
        a: percent(0, "A")?,
        b: percent(1, "B")?,
        c: percent(2, "C")?,
        d: percent(3, "D")?,
    };
    let exclude_months = match form.exclude_months.as_str() {
        "" => None,
        text => Some(number(text, "months")?),
    };
    let plan = Plan {
        id: form.id.trim().to_string(),
        name: form.name.trim().to_string(),
        items,
        departments,
        scope: Scope {
            districts: list(&form.district),
            industries: list(&form.industry),
            ..Scope::default()
        },
        sampling: Sampling::Ratios {
            unclassed: ratios.b,
            ratios,
        },
        exclusions: Exclusions {
            inspected_within_months: exclude_months,
            open_case: form.exclude_open_cases,
        },
        window: Window {
            start: day(&form.start, "window start")?,
            end: day(&form.end, "window end")?,
        },
        inspectors_per_object: number(&form.inspectors_per_object, "inspectors per object")?,
        recusal_months: number(&form.recusal_months, "recusal months")?,
    };
    plan.validate()
        .map_err(|e| Failure::BadRequest(e.to_string()))?;
    Ok(plan)
}

async fn create_plan(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(fields): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let plan = plan_of_form(&PlanForm::of(&fields))?;
    views::create(&state, &who, &plan, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/inspections/plans/{}", plan.id)).into_response())
}

async fn plan_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let detail = views::plan_detail(&state, &who, &id, chrono::Utc::now()).await?;
    let unstaffed: Vec<&views::TaskView> = detail
        .tasks
        .iter()
        .filter(|t| t.task.unstaffed.is_some())
        .collect();
    page(
        "inspection_plan.html",
        &headers,
        &who,
        context! {
            d => Value::from_serialize(&detail),
            unstaffed => Value::from_serialize(&unstaffed),
        },
    )
}

async fn plan_step(
    State(state): State<Shared>,
    who: Principal,
    Path((id, step)): Path<(String, String)>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    match step.as_str() {
        "commit" => {
            views::commit(&state, &who, &id, chrono::Utc::now()).await?;
        }
        "draw" => {
            views::draw(&state, &who, &id, chrono::Utc::now()).await?;
        }
        "publish" => {
            views::publish(&state, &who, &id, chrono::Utc::now()).await?;
        }
        other => return Err(Failure::NotFound(format!("no step '{other}'")).into()),
    }
    Ok(Redirect::to(&format!("/inspections/plans/{id}")).into_response())
}

async fn rosters_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let rosters = views::rosters(&state, &who).await?;
    page(
        "inspection_rosters.html",
        &headers,
        &who,
        context! {
            inspectors => Value::from_serialize(&rosters.inspectors),
            relationships => Value::from_serialize(&rosters.relationships),
            cases => Value::from_serialize(&rosters.cases),
            holidays => Value::from_serialize(&rosters.holidays),
        },
    )
}

async fn roster_change(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(form): CheckedForm<views::RosterChange>,
) -> PageResult {
    views::change_roster(&state, &who, &form, chrono::Utc::now()).await?;
    Ok(Redirect::to("/inspections/rosters").into_response())
}

async fn simulation_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let report = views::simulation(&state, &who).await?;
    let rows = report.as_ref().map(simulation_rows).unwrap_or_default();
    page(
        "inspection_simulation.html",
        &headers,
        &who,
        context! { report => Value::from_serialize(&report), rows },
    )
}

/// The side-by-side table: (measure, random, risk-weighted, seed city).
fn simulation_rows(report: &serde_json::Value) -> Vec<Value> {
    let c = &report["comparison"];
    let share = |tally: &serde_json::Value, a: &str, b: &str| {
        let (x, y) = (
            tally[a].as_f64().unwrap_or(0.0),
            tally[b].as_f64().unwrap_or(0.0),
        );
        if y > 0.0 {
            format!("{:.1}%", 100.0 * x / y)
        } else {
            "-".to_string()
        }
    };
    let (random, weighted) = (&c["random"], &c["risk_weighted"]);
    let law_random = random["law_abiding"].as_f64().unwrap_or(0.0);
    let law_weighted = weighted["law_abiding"].as_f64().unwrap_or(0.0);
    let fall = if law_random > 0.0 {
        format!("{:.1}%", 100.0 * (1.0 - law_weighted / law_random))
    } else {
        "-".into()
    };
    vec![
        context! { key => "sim_discovery", random => share(random, "problems", "inspections"), weighted => share(weighted, "problems", "inspections"), seed => "17.6% → 86%" },
        context! { key => "sim_law_abiding", random => share(random, "law_abiding", "inspections"), weighted => share(weighted, "law_abiding", "inspections"), seed => "" },
        context! { key => "sim_law_abiding_fall", random => "", weighted => fall, seed => "83%" },
        context! { key => "sim_violators_found", random => share(random, "violators_found", "violators_total"), weighted => share(weighted, "violators_found", "violators_total"), seed => "" },
    ]
}

async fn tasks_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let (inspector, tasks) = views::my_tasks(&state, &who, chrono::Utc::now()).await?;
    page(
        "inspection_tasks.html",
        &headers,
        &who,
        context! { inspector => Value::from_serialize(&inspector), tasks => Value::from_serialize(&tasks) },
    )
}

async fn task_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<i64>,
) -> PageResult {
    let (task, plan, findings) = views::task_detail(&state, &who, id).await?;
    page(
        "inspection_task.html",
        &headers,
        &who,
        context! {
            task => Value::from_serialize(&task),
            items => Value::from_serialize(&plan.items),
            findings => Value::from_serialize(&findings),
            outcomes => Value::from_serialize(OUTCOMES),
        },
    )
}

/// Result entry: per item `outcome_<code>`, `type_<code>`, `description_<code>`.
async fn task_submit(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    CheckedForm(form): CheckedForm<Vec<(String, String)>>,
) -> PageResult {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let (_, plan) = views::task_for(&state, &who, id).await?;
    let inspected_on = day(
        &field("inspected_on").unwrap_or_default(),
        "inspection date",
    )?;
    let findings = plan
        .items
        .iter()
        .map(|item| FindingInput {
            item: item.code.clone(),
            outcome: field(&format!("outcome_{}", item.code)).unwrap_or_default(),
            problem_type: field(&format!("type_{}", item.code)).unwrap_or_default(),
            description: field(&format!("description_{}", item.code)).unwrap_or_default(),
        })
        .collect();
    views::record_result(&state, &who, id, inspected_on, findings, chrono::Utc::now()).await?;
    Ok(Redirect::to(&format!("/inspections/tasks/{id}")).into_response())
}

async fn public_plans_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let plans = views::plans(&state, true).await?;
    page(
        "public_inspections.html",
        &headers,
        &who,
        context! { plans => Value::from_serialize(&plans) },
    )
}

async fn public_plan_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(id): Path<String>,
) -> PageResult {
    let public = views::public_plan(&state, &id).await?;
    let report = if public.plan.state == "drawn" {
        Some(views::public_report(views::verify(&state, &id).await?))
    } else {
        None
    };
    page(
        "public_inspection.html",
        &headers,
        &who,
        context! {
            p => Value::from_serialize(&public),
            report => Value::from_serialize(&report),
            verified => report.as_ref().is_some_and(|r| r.ok()),
        },
    )
}

/// Imports a roster file uploaded from the rosters page: `item` says which
/// (inspectors, relationships or history). A file with a bad row stores
/// nothing and the page names the row.
async fn roster_import(
    State(state): State<Shared>,
    who: Principal,
    multipart: axum::extract::Multipart,
) -> PageResult {
    // Checked before the body is read too, so that no one else makes the
    // server read a file; the service checks again.
    require(&state, &who, Action::ManageInspections, "").await?;
    let form = crate::http::forms::read_upload(multipart).await?;
    check_csrf(&state, &who, form.csrf.as_deref()).await?;
    let file = form
        .file_name
        .clone()
        .unwrap_or_else(|| "upload.csv".into());
    let kind = form.item.clone().unwrap_or_default();
    views::import_roster(&state, &who, &kind, &file, &form.bytes, chrono::Utc::now()).await?;
    Ok(Redirect::to("/inspections/rosters").into_response())
}
