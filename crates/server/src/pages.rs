//! The HTML pages. Templates are compiled into the binary and rendered with
//! minijinja (HTML auto-escaping on); every text comes from the message
//! catalog as `m.key`.

use std::sync::OnceLock;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ingest::batch::BatchResult;
use minijinja::{Environment, Value, context};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Principal, Role, Via, allows};
use crate::auth::{ClientIp, SESSION_COOKIE, check_csrf, csrf_token, set_cookie};
use crate::i18n::{Lang, messages};
use crate::views::{self, Failure, require};
use crate::{Shared, admin, auth, charts, risk_views, secrets};

/// Every template, by name.
pub const TEMPLATES: [(&str, &str); 47] = [
    (
        "finance_claims.html",
        include_str!("../templates/finance_claims.html"),
    ),
    (
        "finance_pool.html",
        include_str!("../templates/finance_pool.html"),
    ),
    (
        "finance_key.html",
        include_str!("../templates/finance_key.html"),
    ),
    (
        "finance_visits.html",
        include_str!("../templates/finance_visits.html"),
    ),
    (
        "finance_accounts.html",
        include_str!("../templates/finance_accounts.html"),
    ),
    (
        "finance_statistics.html",
        include_str!("../templates/finance_statistics.html"),
    ),
    ("print.html", include_str!("../templates/print.html")),
    ("finance.html", include_str!("../templates/finance.html")),
    (
        "finance_register.html",
        include_str!("../templates/finance_register.html"),
    ),
    (
        "finance_consents.html",
        include_str!("../templates/finance_consents.html"),
    ),
    (
        "finance_demands.html",
        include_str!("../templates/finance_demands.html"),
    ),
    (
        "finance_demand.html",
        include_str!("../templates/finance_demand.html"),
    ),
    (
        "finance_applications.html",
        include_str!("../templates/finance_applications.html"),
    ),
    (
        "finance_application.html",
        include_str!("../templates/finance_application.html"),
    ),
    (
        "finance_reports.html",
        include_str!("../templates/finance_reports.html"),
    ),
    (
        "finance_report.html",
        include_str!("../templates/finance_report.html"),
    ),
    ("base.html", include_str!("../templates/base.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("password.html", include_str!("../templates/password.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("registry.html", include_str!("../templates/registry.html")),
    ("timeline.html", include_str!("../templates/timeline.html")),
    ("entity.html", include_str!("../templates/entity.html")),
    (
        "public_entity.html",
        include_str!("../templates/public_entity.html"),
    ),
    ("catalog.html", include_str!("../templates/catalog.html")),
    ("batches.html", include_str!("../templates/batches.html")),
    ("batch.html", include_str!("../templates/batch.html")),
    ("quality.html", include_str!("../templates/quality.html")),
    ("upload.html", include_str!("../templates/upload.html")),
    ("users.html", include_str!("../templates/users.html")),
    ("tokens.html", include_str!("../templates/tokens.html")),
    ("audit.html", include_str!("../templates/audit.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("risk.html", include_str!("../templates/risk.html")),
    (
        "risk_list.html",
        include_str!("../templates/risk_list.html"),
    ),
    (
        "risk_entity.html",
        include_str!("../templates/risk_entity.html"),
    ),
    (
        "risk_model.html",
        include_str!("../templates/risk_model.html"),
    ),
    (
        "risk_screen.html",
        include_str!("../templates/risk_screen.html"),
    ),
    (
        "inspections.html",
        include_str!("../templates/inspections.html"),
    ),
    (
        "inspection_plan.html",
        include_str!("../templates/inspection_plan.html"),
    ),
    (
        "inspection_rosters.html",
        include_str!("../templates/inspection_rosters.html"),
    ),
    (
        "inspection_tasks.html",
        include_str!("../templates/inspection_tasks.html"),
    ),
    (
        "inspection_task.html",
        include_str!("../templates/inspection_task.html"),
    ),
    (
        "inspection_simulation.html",
        include_str!("../templates/inspection_simulation.html"),
    ),
    (
        "public_inspections.html",
        include_str!("../templates/public_inspections.html"),
    ),
    (
        "public_inspection.html",
        include_str!("../templates/public_inspection.html"),
    ),
];

const STYLE_CSS: &str = include_str!("../assets/style.css");
const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // A key missing from the catalog or a misspelt field fails the page
        // (and the tests) instead of showing nothing.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!("template {name}: {e}");
            }
        }
        env
    })
}

/// A failed page: a redirect to sign in, or the error page.
pub struct PageFailure(pub Failure);

impl From<Failure> for PageFailure {
    fn from(f: Failure) -> PageFailure {
        PageFailure(f)
    }
}

impl From<store::StoreError> for PageFailure {
    fn from(e: store::StoreError) -> PageFailure {
        PageFailure(e.into())
    }
}

impl IntoResponse for PageFailure {
    fn into_response(self) -> Response {
        if let Failure::SignInNeeded = self.0 {
            return Redirect::to("/sign-in").into_response();
        }
        if let Failure::Internal(detail) = &self.0 {
            tracing::error!("{detail}");
        }
        let status = self.0.status();
        // Bilingual: the failure is rendered where the request's language
        // is no longer at hand.
        let message = format!("{} / {}", zh_message(&self.0), self.0.message());
        let body = environment()
            .get_template("error.html")
            .and_then(|t| {
                t.render(context! {
                    m => messages(Lang::Zh), lang => "zh-CN", other_lang => "en",
                    who => context!{ signed_in => false }, nav => Vec::<Value>::new(), csrf => "",
                    status => status.as_u16(), message,
                })
            })
            .unwrap_or_else(|_| format!("error {status}"));
        (status, Html(body)).into_response()
    }
}

fn zh_message(f: &Failure) -> &'static str {
    match f {
        Failure::SignInNeeded => "请先登录",
        Failure::Forbidden => "无权访问",
        Failure::Refused(_) => "未获授权",
        Failure::NotFound(_) => "未找到",
        Failure::BadRequest(_) => "请求有误",
        Failure::TooManyAttempts => "尝试次数过多，请稍后再试",
        Failure::TooLarge => "请求过大",
        Failure::Internal(_) => "内部错误",
    }
}

pub(crate) type PageResult = Result<Response, PageFailure>;

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

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_page).post(sign_in_submit))
        .route("/sign-out", post(sign_out))
        .route(
            "/account/password",
            get(password_page).post(password_submit),
        )
        .route("/lang/{code}", get(set_lang))
        .route("/search", get(search_page))
        .route("/entity/{uscc}", get(entity_page))
        .route("/public/entity/{uscc}", get(public_entity_page))
        .route("/catalog", get(catalog_page))
        .route("/batches", get(batches_page))
        .route("/batches/{id}", get(batch_page))
        .route("/quality", get(quality_page))
        .route("/admin/users", get(users_page).post(add_user))
        .route("/admin/users/{username}/roles", post(set_roles))
        .route("/admin/users/{username}/{change}", post(change_user))
        .route("/admin/tokens", get(tokens_page).post(issue_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit_page))
        .route("/risk", get(risk_page))
        .route("/risk/list", get(risk_list_page))
        .route("/risk/entity/{uscc}", get(risk_entity_page))
        .route("/risk/model", get(risk_model_page))
        .route(
            "/risk/screen",
            get(risk_screen_page).post(risk_screen_submit),
        )
        .merge(crate::inspection_pages::routes())
        .merge(crate::finance_pages::routes())
        .route("/static/style.css", get(style))
        .route("/static/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

pub fn upload_routes() -> Router<Shared> {
    Router::new()
        .route("/upload", get(upload_page).post(upload_submit))
        .route(
            "/inspections/rosters/import",
            post(crate::inspection_pages::roster_import),
        )
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

#[derive(Deserialize)]
struct SignInQuery {
    changed: Option<String>,
}

async fn sign_in_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(q): Query<SignInQuery>,
) -> PageResult {
    sign_in_form(
        &state,
        &headers,
        &who,
        None,
        q.changed.is_some(),
        StatusCode::OK,
    )
}

fn sign_in_form(
    state: &crate::AppState,
    headers: &HeaderMap,
    who: &Principal,
    error: Option<String>,
    changed: bool,
    status: StatusCode,
) -> PageResult {
    let token = auth::anonymous_csrf(headers)?;
    let notice = changed.then(|| messages(Lang::of(headers)).get("password_changed").cloned());
    let html = render(
        "sign_in.html",
        headers,
        who,
        context! { sign_in_csrf => token, error, notice },
    )?;
    Ok((
        status,
        [(
            header::SET_COOKIE,
            auth::anonymous_csrf_cookie(state, &token),
        )],
        html,
    )
        .into_response())
}

#[derive(Deserialize)]
struct SignInForm {
    username: String,
    password: String,
    csrf: String,
}

async fn sign_in_submit(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    who: Principal,
    Form(form): Form<SignInForm>,
) -> PageResult {
    auth::check_anonymous_csrf(&state, &headers, ip, &form.csrf, "sign_in")?;
    match auth::sign_in(&state, ip, form.username.trim(), &form.password).await {
        Ok(session) => Ok((
            [(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    SESSION_COOKIE,
                    &session.cookie_secret,
                    auth::SESSION_HOURS * 3600,
                ),
            )],
            Redirect::to("/"),
        )
            .into_response()),
        Err(Failure::BadRequest(message)) => sign_in_form(
            &state,
            &headers,
            &who,
            Some(message),
            false,
            StatusCode::BAD_REQUEST,
        ),
        Err(Failure::TooManyAttempts) => sign_in_form(
            &state,
            &headers,
            &who,
            Some(Failure::TooManyAttempts.message()),
            false,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub(crate) csrf: String,
}

async fn sign_out(
    State(state): State<Shared>,
    who: Principal,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    if let Via::Session { session_sha256, .. } = &who.via {
        state
            .store
            .revoke_session(session_sha256, &crate::now())
            .await?;
        state
            .audit(&who.actor, "sign_out", "", "ok", serde_json::json!({}))
            .await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, "", 0),
        )],
        Redirect::to("/"),
    )
        .into_response())
}

async fn password_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    require(&state, &who, Action::ChangeOwnPassword, "").await?;
    page(
        "password.html",
        &headers,
        &who,
        context! { error => None::<String> },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    csrf: String,
}

async fn password_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    require(&state, &who, Action::ChangeOwnPassword, "").await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    let Via::Session { user_id, .. } = who.via else {
        return Err(Failure::SignInNeeded.into());
    };
    let Some(user) = state.store.user_by_id(user_id).await? else {
        return Err(Failure::SignInNeeded.into());
    };
    let problem = if !state
        .hashing
        .verify(&form.current_password, &user.password_hash)
        .await
    {
        Some("the current password is wrong".to_string())
    } else {
        secrets::password_problem(&form.new_password)
    };
    if let Some(error) = problem {
        state
            .audit(
                &who.actor,
                "change_password",
                &user.username,
                "failed",
                serde_json::json!({"reason": error}),
            )
            .await?;
        let html = render("password.html", &headers, &who, context! { error })?;
        return Ok((StatusCode::BAD_REQUEST, html).into_response());
    }
    let hash = state
        .hashing
        .hash(&form.new_password)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    // Ends every session of the user, this one too.
    state
        .store
        .set_password(user_id, &hash, &crate::now())
        .await?;
    state
        .audit(
            &who.actor,
            "change_password",
            &user.username,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, "", 0),
        )],
        Redirect::to("/sign-in?changed=1"),
    )
        .into_response())
}

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
    require(&state, &who, Action::ViewEntity { uscc: &uscc }, &uscc).await?;
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
    render(
        "entity.html",
        headers,
        who,
        context! { p => Value::from_serialize(profile), series, batch_links },
    )
}

async fn public_entity_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(code): Path<String>,
) -> PageResult {
    let uscc = views::parse_uscc(&code)?;
    let profile = views::public_profile(&state, &uscc).await?;
    let full_profile = allows(&who, Action::ViewEntity { uscc: &uscc });
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
    require(&state, &who, Action::ListBatches, "").await?;
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
    page(
        "batch.html",
        &headers,
        &who,
        context! { b => Value::from_serialize(&batch), sections, uploaded => q.uploaded.is_some(), already => q.already.is_some() },
    )
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
    let report = views::quality(&state, &who, department.as_deref()).await?;
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
        context! { rows, department, departments },
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

/// The fields of an upload form, read in full before anything is checked.
#[derive(Default)]
pub struct UploadForm {
    pub csrf: Option<String>,
    pub item: Option<String>,
    pub department: Option<String>,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Reads a multipart upload; a malformed body is a clear refusal.
pub async fn read_upload(mut multipart: Multipart) -> Result<UploadForm, Failure> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::BadRequest(format!("malformed upload: {}", e.body_text()))
        }
    };
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                form.file_name = field.file_name().map(str::to_string);
                form.bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            "csrf" | "item" | "department" => {
                let text = field.text().await.map_err(bad)?;
                match name.as_str() {
                    "csrf" => form.csrf = Some(text),
                    "item" => form.item = Some(text),
                    _ => form.department = Some(text),
                }
            }
            other => {
                return Err(Failure::BadRequest(format!(
                    "unexpected field '{other}' in the upload"
                )));
            }
        }
    }
    Ok(form)
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
    let file_name = form.file_name.unwrap_or_default();
    match views::upload(&state, &who, department, item, &file_name, &form.bytes).await {
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

async fn users_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    users_view(&state, &headers, &who, None, StatusCode::OK).await
}

async fn users_view(
    state: &crate::AppState,
    headers: &HeaderMap,
    who: &Principal,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    require(state, who, Action::ManageAccounts, "users").await?;
    let users: Vec<Value> = state
        .store
        .users()
        .await?
        .iter()
        .map(|u| {
            let roles: Vec<String> = u.roles.iter().map(store::RoleGrant::label).collect();
            context! { username => u.username, display_name => u.display_name, disabled => u.disabled, roles }
        })
        .collect();
    let html = render("users.html", headers, who, context! { users, error })?;
    Ok((status, html).into_response())
}

#[derive(Deserialize)]
struct AddUserForm {
    username: String,
    display_name: String,
    password: String,
    roles: String,
    csrf: String,
}

async fn add_user(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Form(form): Form<AddUserForm>,
) -> PageResult {
    require(&state, &who, Action::ManageAccounts, "users").await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    let roles: Vec<&str> = form.roles.lines().collect();
    match admin::add_user(
        &state.store,
        &state.catalog,
        form.username.trim(),
        &form.display_name,
        &form.password,
        &roles,
    )
    .await
    {
        Ok(_) => {
            state
                .audit(
                    &who.actor,
                    "user_add",
                    form.username.trim(),
                    "ok",
                    serde_json::json!({"roles": roles}),
                )
                .await?;
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(Failure::BadRequest(error)) => {
            users_view(&state, &headers, &who, Some(error), StatusCode::BAD_REQUEST).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn change_user(
    State(state): State<Shared>,
    who: Principal,
    Path((username, change)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    require(&state, &who, Action::ManageAccounts, &username).await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    let disabled = match change.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(Failure::NotFound(change).into()),
    };
    if !state
        .store
        .set_user_disabled(&username, disabled, &crate::now())
        .await?
    {
        return Err(Failure::NotFound(format!("user {username}")).into());
    }
    state
        .audit(
            &who.actor,
            if disabled {
                "user_disable"
            } else {
                "user_enable"
            },
            &username,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
struct RolesForm {
    roles: String,
    csrf: String,
}

async fn set_roles(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(username): Path<String>,
    Form(form): Form<RolesForm>,
) -> PageResult {
    require(&state, &who, Action::ManageAccounts, &username).await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    let roles: Vec<&str> = form.roles.split([',', '\n']).collect();
    match admin::set_roles(&state.store, &state.catalog, &username, &roles).await {
        Ok(grants) => {
            let labels: Vec<String> = grants.iter().map(|g| g.label()).collect();
            state
                .audit(
                    &who.actor,
                    "user_roles",
                    &username,
                    "ok",
                    serde_json::json!({"roles": labels}),
                )
                .await?;
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(Failure::BadRequest(error)) => {
            users_view(&state, &headers, &who, Some(error), StatusCode::BAD_REQUEST).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn tokens_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    tokens_view(&state, &headers, &who, None, None, StatusCode::OK).await
}

async fn tokens_view(
    state: &crate::AppState,
    headers: &HeaderMap,
    who: &Principal,
    secret: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    require(state, who, Action::ManageAccounts, "tokens").await?;
    let tokens = state.store.tokens().await?;
    let html = render(
        "tokens.html",
        headers,
        who,
        context! { tokens => Value::from_serialize(&tokens), secret, error },
    )?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], html).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    role: String,
    days: i64,
    csrf: String,
}

async fn issue_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Form(form): Form<TokenForm>,
) -> PageResult {
    require(&state, &who, Action::ManageAccounts, "tokens").await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    match admin::issue_token(
        &state.store,
        &state.catalog,
        &form.name,
        &form.role,
        form.days,
        &who.actor,
    )
    .await
    {
        Ok(token) => {
            state
                .audit(
                    &who.actor,
                    "token_issue",
                    &format!("token:{}", token.id),
                    "ok",
                    serde_json::json!({"role": form.role, "expires_at": token.expires_at}),
                )
                .await?;
            tokens_view(
                &state,
                &headers,
                &who,
                Some(token.secret),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(Failure::BadRequest(error)) => {
            tokens_view(
                &state,
                &headers,
                &who,
                None,
                Some(error),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

async fn revoke_token(
    State(state): State<Shared>,
    who: Principal,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    require(&state, &who, Action::ManageAccounts, &format!("token:{id}")).await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    if !state.store.revoke_token(id, &crate::now()).await? {
        return Err(Failure::NotFound(format!("token {id}")).into());
    }
    state
        .audit(
            &who.actor,
            "token_revoke",
            &format!("token:{id}"),
            "ok",
            serde_json::json!({}),
        )
        .await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    subject: Option<String>,
}

async fn audit_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    require(&state, &who, Action::ViewAudit, "audit").await?;
    let filter = store::AuditFilter {
        actor: q.actor.clone().filter(|a| !a.is_empty()),
        subject: q.subject.clone().filter(|s| !s.is_empty()),
        since: None,
        limit: 500,
    };
    let entries = state.store.audit_entries(&filter).await?;
    let check = state.store.verify_audit().await?;
    state
        .audit(
            &who.actor,
            "view_audit",
            "audit",
            "ok",
            serde_json::json!({}),
        )
        .await?;
    page(
        "audit.html",
        &headers,
        &who,
        context! { entries => Value::from_serialize(&entries), check => Value::from_serialize(&check), actor => q.actor.unwrap_or_default(), subject => q.subject.unwrap_or_default(), refused => Value::from_serialize(state.refused.lock().map(|r| r.counts()).unwrap_or_default()) },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::access::Grant;
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
            events: vec![views::TimelineEvent {
                item: "admin_penalty".into(),
                name_zh: "行政处罚".into(),
                name_en: "Administrative penalty".into(),
                category: "penalty".into(),
                record: EventRow {
                    item: "admin_penalty".into(),
                    event_date: "2025-03-02".into(),
                    title: "虚假宣传".into(),
                    detail: serde_json::json!({}),
                    department: "samr".into(),
                    batch_id: 17,
                    source_row: 4,
                    publicity_until: Some("2025-06-02".into()),
                },
            }],
            complaint_counts: Vec::new(),
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

fn percent(value: f64) -> String {
    format!("{:.1}%", 100.0 * value)
}

async fn risk_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    require(&state, &who, Action::ViewRisk, "").await?;
    let overview = risk_views::overview(&state).await?;
    let lang = Lang::of(&headers);
    let Some(s) = &overview.screening else {
        return page(
            "risk.html",
            &headers,
            &who,
            context! { s => Value::from(()), can_rescreen => allows(&who, Action::Rescreen) },
        );
    };
    let total = s.entities.max(1) as f64;
    let cut = s.summary.cutoffs;
    let classes: Vec<Value> = domain::RiskClass::ALL
        .iter()
        .zip(s.summary.class_counts)
        .map(|(class, count)| {
            let cutoff = match class {
                domain::RiskClass::A => format!("≥ {}", cut.a),
                domain::RiskClass::B => format!("{} – {}", cut.b, cut.a - 1),
                domain::RiskClass::C => format!("{} – {}", cut.c, cut.b - 1),
                domain::RiskClass::D => format!("< {}", cut.c),
            };
            context! {
                letter => class.letter().to_string(),
                name => if lang == Lang::Zh { class.name_zh() } else { class.name_en() },
                count, share => percent(count as f64 / total), cutoff,
            }
        })
        .collect();
    let bars: Vec<(String, f64)> = overview
        .histogram
        .iter()
        .map(|(bucket, counts)| (bucket.to_string(), counts.iter().sum::<i64>() as f64))
        .collect();
    let observed: Vec<Value> = overview
        .observed
        .iter()
        .map(|o| context! { class => o.class, inspected => o.inspected, problems => o.problems, rate => percent(o.rate) })
        .collect();
    page(
        "risk.html",
        &headers,
        &who,
        context! {
            s => Value::from_serialize(s),
            classes,
            psi => format!("{:.4} ({})", s.summary.score_psi, scoring::metrics::psi_reading(s.summary.score_psi)),
            psi_against_population => s.summary.psi_reference == "training population",
            feature_psi => s.summary.feature_psi.iter().map(|(name, psi)| {
                let label = risk::V1.feature(name).map_or(name.clone(), |d| {
                    if lang == Lang::Zh { d.label_zh.to_string() } else { d.label_en.to_string() }
                });
                context! { label, psi => format!("{psi:.4}"), reading => scoring::metrics::psi_reading(*psi) }
            }).collect::<Vec<_>>(),
            histogram => charts::bars(&bars, "score"),
            by_district => Value::from_serialize(&overview.by_district),
            by_industry => Value::from_serialize(&overview.by_industry),
            previous => overview.previous,
            migration => Value::from_serialize(&overview.migration),
            observed_screening => Value::from_serialize(&overview.observed_screening),
            observed,
            can_rescreen => allows(&who, Action::Rescreen),
        },
    )
}

#[derive(Deserialize, Default)]
struct RiskListQuery {
    class: Option<String>,
    division: Option<String>,
    industry: Option<String>,
    offset: Option<i64>,
}

const RISK_PAGE_ROWS: i64 = 50;

async fn risk_list_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(q): Query<RiskListQuery>,
) -> PageResult {
    require(&state, &who, Action::ViewRisk, "").await?;
    let filter = risk_views::list_filter(
        q.class,
        q.division,
        q.industry,
        RISK_PAGE_ROWS + 1,
        q.offset,
    );
    let (screening, mut rows) = risk_views::ranked(&state, &who, &filter).await?;
    let more = rows.len() as i64 > RISK_PAGE_ROWS;
    rows.truncate(RISK_PAGE_ROWS as usize);
    let lang = Lang::of(&headers);
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let reasons: Vec<String> = r
                .reasons
                .iter()
                .map(|x| {
                    let label = if lang == Lang::Zh {
                        &x.label_zh
                    } else {
                        &x.label_en
                    };
                    format!("{label}: {} (−{})", x.bin, x.points)
                })
                .collect();
            context! {
                rank => filter.offset + i as i64 + 1, name => r.row.name, uscc => r.row.uscc,
                class => r.row.class, score => r.row.score,
                probability => percent(r.row.probability), reasons => reasons.join("; "),
            }
        })
        .collect();
    let link = |offset: i64| {
        format!(
            "/risk/list?class={}&division={}&industry={}&offset={offset}",
            filter.class.clone().unwrap_or_default(),
            filter.division.clone().unwrap_or_default(),
            filter.industry.clone().unwrap_or_default()
        )
    };
    page(
        "risk_list.html",
        &headers,
        &who,
        context! {
            screening, rows, more,
            class => filter.class.clone().unwrap_or_default(),
            division => filter.division.clone().unwrap_or_default(),
            industry => filter.industry.clone().unwrap_or_default(),
            offset => filter.offset,
            previous_page => link((filter.offset - RISK_PAGE_ROWS).max(0)),
            next_page => link(filter.offset + RISK_PAGE_ROWS),
        },
    )
}

async fn risk_entity_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(code): Path<String>,
) -> PageResult {
    let uscc = views::parse_uscc(&code)?;
    require(&state, &who, Action::ViewRisk, &uscc).await?;
    let (entity, history) = risk_views::entity(&state, &who, &uscc).await?;
    let lang = Lang::of(&headers);
    let latest = history.first();
    let class_name = latest
        .and_then(|l| l.class.parse::<domain::RiskClass>().ok())
        .map(|c| {
            if lang == Lang::Zh {
                c.name_zh()
            } else {
                c.name_en()
            }
        })
        .unwrap_or_default();
    let reasons: Vec<Value> = latest
        .map(|l| {
            l.reasons
                .iter()
                .map(|r| {
                    let label = if lang == Lang::Zh {
                        &r.label_zh
                    } else {
                        &r.label_en
                    };
                    context! { label, bin => r.bin, points => r.points }
                })
                .collect()
        })
        .unwrap_or_default();
    page(
        "risk_entity.html",
        &headers,
        &who,
        context! {
            name => entity.name, uscc,
            latest => Value::from_serialize(latest),
            class_name, reasons,
            probability => latest.map(|l| percent(l.probability)).unwrap_or_default(),
            history => Value::from_serialize(&history),
        },
    )
}

async fn risk_model_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    require(&state, &who, Action::ViewRisk, "").await?;
    let Some(view) = risk_views::model(&state).await? else {
        return page(
            "risk_model.html",
            &headers,
            &who,
            context! { model => Value::from(()) },
        );
    };
    let lang = Lang::of(&headers);
    let report = &view.report;
    let metric_row = |name: &str,
                      facts: &risk::sample::SampleFacts,
                      m: Option<&scoring::metrics::Summary>| {
        context! {
            name, as_of => facts.as_of.to_string(), labelled => facts.labelled, bad => facts.bad,
            auc => m.map(|m| format!("{:.3}", m.auc)).unwrap_or_default(),
            ks => m.map(|m| format!("{:.3}", m.ks)).unwrap_or_default(),
            gini => m.map(|m| format!("{:.3}", m.gini)).unwrap_or_default(),
        }
    };
    let metrics = vec![
        metric_row("training", &report.training, Some(&report.training_metrics)),
        metric_row(
            "hold-out",
            &report.validation,
            report.validation_metrics.as_ref(),
        ),
    ];
    let t = &report.training;
    let selection = format!(
        "{} / {} · {:.1} / {:.1}",
        t.with_complaints_labelled,
        t.labelled - t.with_complaints_labelled,
        t.weight_with_complaints,
        t.weight_without_complaints
    );
    let features: Vec<Value> = report
        .validation_report
        .features
        .iter()
        .map(|f| {
            let label = risk::V1.feature(&f.name).map_or(f.label.clone(), |d| {
                if lang == Lang::Zh {
                    d.label_zh.to_string()
                } else {
                    d.label_en.to_string()
                }
            });
            let bins: Vec<Value> = f
                .bins
                .iter()
                .map(|b| {
                    context! {
                        label => b.label, points => b.points, woe => format!("{:.3}", b.woe),
                        training_share => percent(b.training_share), share => percent(b.share),
                        event_rate => b.event_rate.map(percent).unwrap_or_default(),
                    }
                })
                .collect();
            context! {
                label, iv => format!("{:.3}", f.training_iv), psi => format!("{:.3}", f.psi),
                coefficient => format!("{:.3}", f.coefficient), bins,
            }
        })
        .collect();
    page(
        "risk_model.html",
        &headers,
        &who,
        context! {
            model => context! { version => view.version, created_at => view.created_at, as_of => view.as_of },
            metrics, selection, features,
            dropped => Value::from_serialize(&view.model.dropped),
        },
    )
}

async fn risk_screen_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    require(&state, &who, Action::ViewRisk, "").await?;
    let job = risk_views::job(&state);
    let lang = Lang::of(&headers);
    let phase = job
        .phase
        .map(|p| {
            let key = match p {
                risk::screen::Phase::Features => "risk_phase_features",
                risk::screen::Phase::Scoring => "risk_phase_scoring",
                risk::screen::Phase::Storing => "risk_phase_storing",
            };
            messages(lang).get(key).cloned().unwrap_or_default()
        })
        .unwrap_or_default();
    page(
        "risk_screen.html",
        &headers,
        &who,
        context! { job => Value::from_serialize(&job), phase, can_rescreen => allows(&who, Action::Rescreen) },
    )
}

async fn risk_screen_submit(
    State(state): State<Shared>,
    who: Principal,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    require(&state, &who, Action::Rescreen, "").await?;
    check_csrf(&state, &who, Some(&form.csrf)).await?;
    risk_views::start_screening(&state, &who).await?;
    Ok(Redirect::to("/risk/screen").into_response())
}
