//! Pages of the public side of credit: an entity's evaluation, the runs'
//! distributions, the credit check form and its answers (a file's answers
//! as a CSV file), the checks' statistics, and the lists with their
//! measures (public).

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use minijinja::{Value, context};

use crate::Shared;
use crate::access::{Action, Principal};
use crate::charts;
use crate::http::cookies::check_csrf;
use crate::http::forms::read_upload;
use crate::http::render::{page, render};
use crate::http::{Failure, PageResult};
use crate::i18n::{Lang, messages};
use crate::registry::service::parse_uscc;
use crate::service::require;

use super::service::{self as views, CheckInput};

crate::http::routes! {
    pub fn routes, const PATHS;
    "/credit/evaluations" => get(overview_page),
    "/credit/evaluations/{uscc}" => get(evaluation_page),
    "/credit/checks" => get(statistics_page),
    "/credit/measures" => get(measures_page),
}

crate::http::routes! {
    pub fn upload_routes, const UPLOAD_PATHS;
    "/credit/check" => get(check_page).post(check_submit),
}

async fn evaluation_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(uscc): Path<String>,
) -> PageResult {
    let uscc = parse_uscc(&uscc)?;
    let view = views::entity_evaluation(&state, &who, &uscc).await?;
    let lang = Lang::of(&headers);
    let m = messages(lang);
    let text = |key: &str| m.get(key).cloned().unwrap_or_else(|| key.to_string());
    let zh = lang == Lang::Zh;
    let points: Vec<(String, f64)> = view
        .dimensions
        .iter()
        .map(|d| {
            (
                if zh {
                    d.name_zh.clone()
                } else {
                    d.name_en.clone()
                },
                d.earned,
            )
        })
        .collect();
    let chart = charts::counts(
        &points,
        &text("ev_by_dimension"),
        &text("ev_unit_points"),
        &text("ev_earned"),
    );
    page(
        "credit_evaluation.html",
        &headers,
        &who,
        context! { v => Value::from_serialize(&view), chart },
    )
}

async fn overview_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let view = views::overview(&state, &who).await?;
    let lang = Lang::of(&headers);
    let m = messages(lang);
    let text = |key: &str| m.get(key).cloned().unwrap_or_else(|| key.to_string());
    let zh = lang == Lang::Zh;
    let city: Vec<(String, f64)> = view
        .grades
        .iter()
        .enumerate()
        .map(|(at, g)| {
            let total: i64 = view
                .by_scheme
                .iter()
                .map(|a| a.counts.get(at).copied().unwrap_or(0))
                .sum();
            (
                if zh {
                    g.name_zh.clone()
                } else {
                    g.name_en.clone()
                },
                total as f64,
            )
        })
        .collect();
    let chart = charts::counts(
        &city,
        &text("ev_city_grades"),
        &text("ev_unit_entities"),
        &text("entities"),
    );
    page(
        "credit_evaluations.html",
        &headers,
        &who,
        context! { v => Value::from_serialize(&view), chart },
    )
}

fn scenarios(state: &crate::AppState) -> Vec<Value> {
    state
        .config
        .measures
        .scenarios
        .iter()
        .map(|s| context! { id => s.id, name_zh => s.name_zh, name_en => s.name_en })
        .collect()
}

async fn check_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    require(&state, &who, Action::CheckCredit, "").await?;
    page(
        "credit_check.html",
        &headers,
        &who,
        context! { scenarios => scenarios(&state), form => context! { scenario => "", codes => "" }, error => None::<String>, report => None::<String> },
    )
}

async fn check_submit(
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
    let scenario = form.scenario.unwrap_or_default();
    let typed = form.codes.unwrap_or_default();
    let from_file = !form.bytes.is_empty();
    let mut usccs: Vec<String> = typed
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，' || c == ';')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    if from_file {
        let text = String::from_utf8(form.bytes)
            .map_err(|_| Failure::BadRequest("the file is not UTF-8 text".into()))?;
        usccs.extend(evaluation::check::codes_in(&text));
    }
    let input = CheckInput {
        scenario: scenario.clone(),
        usccs,
    };
    match views::check(&state, &who, &input, chrono::Utc::now(), from_file).await {
        Ok(report) if from_file => {
            let header = evaluation::check::CSV_HEADER.map(str::to_string);
            let name = format!("credit-check-{}.csv", report.check);
            Ok(crate::http::csv_file(&name, &header, &report.csv, true)?)
        }
        Ok(report) => page(
            "credit_check.html",
            &headers,
            &who,
            context! { scenarios => scenarios(&state), form => context! { scenario, codes => typed }, error => None::<String>, report => Value::from_serialize(&report) },
        ),
        Err(Failure::Unprocessable(error) | Failure::BadRequest(error)) => {
            let html = render(
                "credit_check.html",
                &headers,
                &who,
                context! { scenarios => scenarios(&state), form => context! { scenario, codes => typed }, error, report => None::<String> },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn statistics_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let rows = views::check_statistics(&state, &who).await?;
    let departments: Vec<Value> = rows
        .iter()
        .map(|r| {
            let d = state
                .catalog
                .departments
                .iter()
                .find(|d| d.id == r.department);
            context! {
                name_zh => d.map_or(r.department.clone(), |d| d.name_zh.clone()),
                name_en => d.map_or(r.department.clone(), |d| d.name_en.clone()),
            }
        })
        .collect();
    page(
        "credit_checks.html",
        &headers,
        &who,
        context! { rows => Value::from_serialize(&rows), departments },
    )
}

async fn measures_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let measures = &state.config.measures;
    let department = |id: &String| {
        measures.department(id).map_or(
            context! { name_zh => id, name_en => id },
            |d| context! { name_zh => d.name_zh, name_en => d.name_en },
        )
    };
    let scenario = |id: &String| {
        measures.scenario(id).map_or(
            context! { name_zh => id, name_en => id },
            |s| context! { name_zh => s.name_zh, name_en => s.name_en },
        )
    };
    let lists: Vec<Value> = measures
        .lists
        .iter()
        .map(|l| {
            context! {
                id => l.id, kind => l.kind.as_str(), kind_zh => l.kind.name_zh(), kind_en => l.kind.name_en(),
                name_zh => l.name_zh, name_en => l.name_en, basis_zh => l.basis_zh, basis_en => l.basis_en,
                departments => l.departments.iter().map(department).collect::<Vec<_>>(),
            }
        })
        .collect();
    let list_name = |id: &String| {
        measures.list(id).map_or(
            context! { name_zh => id, name_en => id },
            |l| context! { name_zh => l.name_zh, name_en => l.name_en },
        )
    };
    let rows: Vec<Value> = measures
        .measures
        .iter()
        .map(|m| {
            context! {
                id => m.id, kind => m.kind.as_str(), kind_zh => m.kind.name_zh(), kind_en => m.kind.name_en(),
                name_zh => m.name_zh, name_en => m.name_en, basis_zh => m.basis_zh, basis_en => m.basis_en,
                lists => m.lists.iter().map(list_name).collect::<Vec<_>>(),
                scenarios => m.scenarios.iter().map(scenario).collect::<Vec<_>>(),
                departments => m.departments.iter().map(department).collect::<Vec<_>>(),
            }
        })
        .collect();
    page(
        "credit_measures.html",
        &headers,
        &who,
        context! { lists, measures => rows, scenarios => scenarios(&state) },
    )
}
