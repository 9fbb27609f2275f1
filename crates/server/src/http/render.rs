//! Server-rendered pages: the templates (minijinja, compiled in, strict
//! undefined), what every page shows (messages, language, who is signed
//! in, their navigation, the CSRF token), and the few routes no feature
//! owns: home, the language switch, the style sheet and the icon.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::cookies::csrf_token;
use super::{Failure, PageResult};
use crate::access::{Action, Principal, Role, Via, allows};
use crate::i18n::{Lang, messages};

/// Every template, by name.
pub const TEMPLATES: [(&str, &str); 67] = [
    (
        "public_portal.html",
        include_str!("../../templates/public_portal.html"),
    ),
    (
        "public_lists.html",
        include_str!("../../templates/public_lists.html"),
    ),
    (
        "public_list.html",
        include_str!("../../templates/public_list.html"),
    ),
    (
        "open_data.html",
        include_str!("../../templates/open_data.html"),
    ),
    (
        "public_api.html",
        include_str!("../../templates/public_api.html"),
    ),
    (
        "credit_case.html",
        include_str!("../../templates/credit_case.html"),
    ),
    (
        "credit_case_new.html",
        include_str!("../../templates/credit_case_new.html"),
    ),
    (
        "credit_cases.html",
        include_str!("../../templates/credit_cases.html"),
    ),
    (
        "credit_repairs.html",
        include_str!("../../templates/credit_repairs.html"),
    ),
    (
        "finance_claims.html",
        include_str!("../../templates/finance_claims.html"),
    ),
    (
        "finance_pool.html",
        include_str!("../../templates/finance_pool.html"),
    ),
    (
        "finance_key.html",
        include_str!("../../templates/finance_key.html"),
    ),
    (
        "finance_visits.html",
        include_str!("../../templates/finance_visits.html"),
    ),
    (
        "finance_accounts.html",
        include_str!("../../templates/finance_accounts.html"),
    ),
    (
        "finance_statistics.html",
        include_str!("../../templates/finance_statistics.html"),
    ),
    ("print.html", include_str!("../../templates/print.html")),
    (
        "warnings.html",
        include_str!("../../templates/warnings.html"),
    ),
    (
        "warning_signals.html",
        include_str!("../../templates/warning_signals.html"),
    ),
    ("warning.html", include_str!("../../templates/warning.html")),
    ("alerts.html", include_str!("../../templates/alerts.html")),
    ("alert.html", include_str!("../../templates/alert.html")),
    (
        "complaints.html",
        include_str!("../../templates/complaints.html"),
    ),
    ("finance.html", include_str!("../../templates/finance.html")),
    (
        "finance_register.html",
        include_str!("../../templates/finance_register.html"),
    ),
    (
        "finance_consents.html",
        include_str!("../../templates/finance_consents.html"),
    ),
    (
        "finance_demands.html",
        include_str!("../../templates/finance_demands.html"),
    ),
    (
        "finance_demand.html",
        include_str!("../../templates/finance_demand.html"),
    ),
    (
        "finance_applications.html",
        include_str!("../../templates/finance_applications.html"),
    ),
    (
        "finance_application.html",
        include_str!("../../templates/finance_application.html"),
    ),
    (
        "finance_reports.html",
        include_str!("../../templates/finance_reports.html"),
    ),
    (
        "finance_report.html",
        include_str!("../../templates/finance_report.html"),
    ),
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("sign_in.html", include_str!("../../templates/sign_in.html")),
    (
        "password.html",
        include_str!("../../templates/password.html"),
    ),
    ("search.html", include_str!("../../templates/search.html")),
    (
        "registry.html",
        include_str!("../../templates/registry.html"),
    ),
    (
        "timeline.html",
        include_str!("../../templates/timeline.html"),
    ),
    ("entity.html", include_str!("../../templates/entity.html")),
    (
        "public_entity.html",
        include_str!("../../templates/public_entity.html"),
    ),
    ("catalog.html", include_str!("../../templates/catalog.html")),
    ("batches.html", include_str!("../../templates/batches.html")),
    ("batch.html", include_str!("../../templates/batch.html")),
    ("quality.html", include_str!("../../templates/quality.html")),
    ("upload.html", include_str!("../../templates/upload.html")),
    ("users.html", include_str!("../../templates/users.html")),
    ("tokens.html", include_str!("../../templates/tokens.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("risk.html", include_str!("../../templates/risk.html")),
    (
        "risk_list.html",
        include_str!("../../templates/risk_list.html"),
    ),
    (
        "risk_entity.html",
        include_str!("../../templates/risk_entity.html"),
    ),
    (
        "risk_model.html",
        include_str!("../../templates/risk_model.html"),
    ),
    (
        "risk_screen.html",
        include_str!("../../templates/risk_screen.html"),
    ),
    (
        "inspections.html",
        include_str!("../../templates/inspections.html"),
    ),
    (
        "inspection_plan.html",
        include_str!("../../templates/inspection_plan.html"),
    ),
    (
        "inspection_rosters.html",
        include_str!("../../templates/inspection_rosters.html"),
    ),
    (
        "inspection_tasks.html",
        include_str!("../../templates/inspection_tasks.html"),
    ),
    (
        "inspection_task.html",
        include_str!("../../templates/inspection_task.html"),
    ),
    (
        "inspection_simulation.html",
        include_str!("../../templates/inspection_simulation.html"),
    ),
    (
        "public_inspections.html",
        include_str!("../../templates/public_inspections.html"),
    ),
    (
        "public_inspection.html",
        include_str!("../../templates/public_inspection.html"),
    ),
    (
        "credit_evaluation.html",
        include_str!("../../templates/credit_evaluation.html"),
    ),
    (
        "credit_evaluations.html",
        include_str!("../../templates/credit_evaluations.html"),
    ),
    (
        "credit_check.html",
        include_str!("../../templates/credit_check.html"),
    ),
    (
        "credit_checks.html",
        include_str!("../../templates/credit_checks.html"),
    ),
    (
        "credit_measures.html",
        include_str!("../../templates/credit_measures.html"),
    ),
];

const STYLE_CSS: &str = include_str!("../../assets/style.css");

const FAVICON_SVG: &str = include_str!("../../assets/favicon.svg");

pub(crate) fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // A key missing from the catalog or a misspelt field fails the page
        // (and the tests) instead of showing nothing.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("beijing", beijing_time);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!("template {name}: {e}");
            }
        }
        env
    })
}

/// A stored instant (RFC 3339) as Beijing time to the minute, marked so;
/// anything else as it is.
fn beijing_time(value: String) -> String {
    match chrono::DateTime::parse_from_rfc3339(&value) {
        Ok(at) => format!(
            "{} (UTC+8)",
            at.with_timezone(&crate::beijing()).format("%Y-%m-%d %H:%M")
        ),
        Err(_) => value,
    }
}

#[derive(Serialize)]
struct NavLink {
    href: &'static str,
    key: &'static str,
}

/// The pages a principal's roles open, in the header and on the home page.
fn nav(who: &Principal) -> Vec<NavLink> {
    let mut links = Vec::new();
    if allows(who, Action::ListBatches) {
        links.push(NavLink {
            href: "/batches",
            key: "batches",
        });
        links.push(NavLink {
            href: "/quality",
            key: "quality",
        });
    }
    if who.has(Role::Department) || who.has(Role::CreditCentre) {
        links.push(NavLink {
            href: "/upload",
            key: "upload",
        });
    }
    if allows(who, Action::ViewRisk) {
        links.push(NavLink {
            href: "/risk",
            key: "risk",
        });
    }
    if allows(who, Action::ManageInspections) {
        links.push(NavLink {
            href: "/inspections",
            key: "inspections",
        });
    }
    if allows(who, Action::ViewOwnTasks) {
        links.push(NavLink {
            href: "/inspections/tasks",
            key: "my_tasks",
        });
    }
    if allows(who, Action::ViewInternalRecords) {
        links.push(NavLink {
            href: "/complaints",
            key: "cx_explorer",
        });
    }
    if allows(who, Action::ViewWarnings) || who.has(Role::Enterprise) || who.has(Role::Department) {
        links.push(NavLink {
            href: "/warnings",
            key: "warn_queue",
        });
    }
    if allows(who, Action::ManageEvaluations) {
        links.push(NavLink {
            href: "/credit/evaluations",
            key: "ev_overview",
        });
    }
    if allows(who, Action::CheckCredit) {
        links.push(NavLink {
            href: "/credit/check",
            key: "ck_title",
        });
    }
    if allows(who, Action::ViewCheckStatistics) {
        links.push(NavLink {
            href: "/credit/checks",
            key: "ck_statistics",
        });
    }
    if allows(who, Action::ListCases) {
        links.push(NavLink {
            href: "/credit/cases",
            key: "cs_title",
        });
    }
    if allows(who, Action::ViewRepairStatistics) {
        links.push(NavLink {
            href: "/credit/repairs/statistics",
            key: "cs_statistics",
        });
    }
    if who.has(Role::Enterprise) {
        links.push(NavLink {
            href: "/finance/claims",
            key: "fin_claims",
        });
    }
    if allows(who, Action::ManageAccounts) {
        links.push(NavLink {
            href: "/admin/users",
            key: "admin_users",
        });
        links.push(NavLink {
            href: "/admin/tokens",
            key: "admin_tokens",
        });
        links.push(NavLink {
            href: "/admin/audit",
            key: "audit_log",
        });
    }
    links
}

/// Renders a page with what every page needs: messages, language, who is
/// signed in, their navigation and CSRF token.
pub(crate) fn render(
    name: &str,
    headers: &HeaderMap,
    who: &Principal,
    extra: Value,
) -> Result<Html<String>, Failure> {
    let lang = Lang::of(headers);
    let roles: Vec<Value> = who
        .grants
        .iter()
        .map(|g| context! { role => g.role.as_str(), subject => g.subject })
        .collect();
    let base = context! {
        m => messages(lang),
        lang => lang.code(),
        other_lang => if lang == Lang::Zh { "en" } else { "zh" },
        who => context! {
            signed_in => !who.is_anonymous(),
            session => matches!(who.via, Via::Session { .. }),
            name => who.display_name,
            roles,
        },
        nav => nav(who),
        csrf => csrf_token(who),
    };
    let template = environment()
        .get_template(name)
        .map_err(|e| Failure::Internal(format!("template {name}: {e}")))?;
    template
        .render(context! { ..base, ..extra })
        .map(Html)
        .map_err(|e| Failure::Internal(format!("template {name}: {e:#}")))
}

pub(crate) fn page(name: &str, headers: &HeaderMap, who: &Principal, extra: Value) -> PageResult {
    Ok(render(name, headers, who, extra)?.into_response())
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE_CSS,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
}

async fn home(headers: HeaderMap, who: Principal) -> PageResult {
    let own_profile = who
        .subjects(Role::Enterprise)
        .first()
        .map(|s| s.to_string());
    page("home.html", &headers, &who, context! { own_profile })
}

async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    // Back where the switch was pressed, if that was this site.
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_string());
    (
        [(
            header::SET_COOKIE,
            format!("lang={lang}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/" => get(home),
    "/lang/{code}" => get(set_lang),
    "/static/style.css" => get(style),
    "/static/favicon.svg" => get(favicon),
    "/favicon.ico" => get(favicon),
}
