//! Pages of accounts: sign-in and sign-out, one's password, the admin's users,
//! tokens and audit log, and registering an enterprise by a claim.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::Principal;
use crate::http::cookies::CheckedForm;
use crate::http::cookies::{ClientIp, CsrfForm, SESSION_COOKIE, set_cookie};
use crate::http::forms::{PublicForm, field, number};
use crate::http::render::{page, render};
use crate::http::{Failure, PageResult};

use super::claims::{self, Confirmation, Registration};
use super::service;
use crate::http::cookies;
use crate::i18n::{Lang, messages};

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
    let token = cookies::anonymous_csrf(headers)?;
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
            cookies::anonymous_csrf_cookie(state, &token),
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
    PublicForm(form): PublicForm<SignInForm>,
) -> PageResult {
    cookies::check_anonymous_csrf(&state, &headers, ip, &form.csrf, "sign_in")?;
    match service::sign_in(
        &state,
        ip,
        form.username.trim(),
        &form.password,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(session) => Ok((
            [(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    SESSION_COOKIE,
                    &session.cookie_secret,
                    service::SESSION_HOURS * 3600,
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

async fn sign_out(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    service::sign_out(&state, &who, chrono::Utc::now()).await?;
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
    service::may_change_password(&state, &who).await?;
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
}

async fn password_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    CheckedForm(form): CheckedForm<PasswordForm>,
) -> PageResult {
    let changed = service::change_password(
        &state,
        &who,
        &form.current_password,
        &form.new_password,
        chrono::Utc::now(),
    )
    .await?;
    if let Err(service::PasswordProblem(error)) = changed {
        let html = render("password.html", &headers, &who, context! { error })?;
        return Ok((StatusCode::BAD_REQUEST, html).into_response());
    }
    // Every session of the user has ended, this one too.
    Ok((
        [(
            header::SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, "", 0),
        )],
        Redirect::to("/sign-in?changed=1"),
    )
        .into_response())
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
    let users: Vec<Value> = service::users(state, who)
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
}

async fn add_user(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    CheckedForm(form): CheckedForm<AddUserForm>,
) -> PageResult {
    let roles: Vec<&str> = form.roles.lines().collect();
    let added = service::add_user_by(
        &state,
        &who,
        form.username.trim(),
        &form.display_name,
        &form.password,
        &roles,
        chrono::Utc::now(),
    )
    .await;
    match added {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
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
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    let disabled = match change.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(Failure::NotFound(change).into()),
    };
    service::set_disabled(&state, &who, &username, disabled, chrono::Utc::now()).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
struct RolesForm {
    roles: String,
}

async fn set_roles(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(username): Path<String>,
    CheckedForm(form): CheckedForm<RolesForm>,
) -> PageResult {
    let roles: Vec<&str> = form.roles.split([',', '\n']).collect();
    match service::set_roles_by(&state, &who, &username, &roles).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
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
    let tokens = service::tokens(state, who).await?;
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
}

async fn issue_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    CheckedForm(form): CheckedForm<TokenForm>,
) -> PageResult {
    match service::issue_token_by(
        &state,
        &who,
        &form.name,
        &form.role,
        form.days,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(token) => {
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
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> PageResult {
    service::revoke_token_by(&state, &who, id, chrono::Utc::now()).await?;
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
    let filter = store::AuditFilter {
        actor: q.actor.clone().filter(|a| !a.is_empty()),
        subject: q.subject.clone().filter(|s| !s.is_empty()),
        since: None,
        limit: 500,
    };
    let (entries, check) = service::audit_log(&state, &who, &filter, true).await?;
    page(
        "audit.html",
        &headers,
        &who,
        context! { entries => Value::from_serialize(&entries), check => Value::from_serialize(&check), actor => q.actor.unwrap_or_default(), subject => q.subject.unwrap_or_default(), refused => Value::from_serialize(state.refused.lock().map(|r| r.counts()).unwrap_or_default()) },
    )
}

/// What the registration form shows when nothing was typed yet.
fn empty_form() -> Value {
    context! { uscc => "", legal_representative => "", capacity => "", applicant_name => "", username => "" }
}

/// The registration page in one of its steps, with the public form's
/// double-submit cookie set.
fn register_form(
    state: &crate::AppState,
    headers: &HeaderMap,
    who: &Principal,
    extra: Value,
    status: axum::http::StatusCode,
) -> PageResult {
    let token = cookies::anonymous_csrf(headers)?;
    let html = crate::http::render::render(
        "finance_register.html",
        headers,
        who,
        context! { form_csrf => token, ..extra },
    )?;
    Ok((
        status,
        [(
            axum::http::header::SET_COOKIE,
            cookies::anonymous_csrf_cookie(state, &token),
        )],
        html,
    )
        .into_response())
}

async fn register_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    register_form(
        &state,
        &headers,
        &who,
        context! { error => Value::from(()), outcome => Value::from(()), form => empty_form() },
        axum::http::StatusCode::OK,
    )
}

async fn register_submit(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    who: Principal,
    PublicForm(fields): PublicForm<Vec<(String, String)>>,
) -> PageResult {
    cookies::check_anonymous_csrf(&state, &headers, ip, field(&fields, "csrf"), "register")?;
    let form = Registration {
        uscc: field(&fields, "uscc").to_string(),
        legal_representative: field(&fields, "legal_representative").to_string(),
        capacity: field(&fields, "capacity").to_string(),
        applicant_name: field(&fields, "applicant_name").to_string(),
    };
    // The form keeps what was typed when it comes back with an error.
    let typed = context! {
        uscc => form.uscc, legal_representative => form.legal_representative,
        capacity => form.capacity, applicant_name => form.applicant_name, username => "",
    };
    match claims::register(&state, ip, &form, chrono::Utc::now()).await {
        Ok(outcome) => register_form(
            &state,
            &headers,
            &who,
            context! { error => Value::from(()), outcome => Value::from_serialize(&outcome), form => empty_form() },
            axum::http::StatusCode::OK,
        ),
        Err(Failure::BadRequest(error)) => register_form(
            &state,
            &headers,
            &who,
            context! { error, outcome => Value::from(()), form => typed },
            axum::http::StatusCode::BAD_REQUEST,
        ),
        Err(other) => Err(other.into()),
    }
}

async fn confirm_submit(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    who: Principal,
    PublicForm(fields): PublicForm<Vec<(String, String)>>,
) -> PageResult {
    cookies::check_anonymous_csrf(&state, &headers, ip, field(&fields, "csrf"), "register")?;
    let claim: i64 = number(field(&fields, "claim"), "claim")?;
    let form = Confirmation {
        claim,
        code: field(&fields, "code").to_string(),
        username: field(&fields, "username").to_string(),
        password: field(&fields, "password").to_string(),
    };
    match claims::confirm(&state, ip, &form, chrono::Utc::now()).await {
        Ok(outcome) => register_form(
            &state,
            &headers,
            &who,
            context! { error => Value::from(()), outcome => Value::from_serialize(&outcome), form => empty_form() },
            axum::http::StatusCode::OK,
        ),
        Err(Failure::BadRequest(error)) => {
            // Back to the code step, the claim and the name kept.
            let outcome = claims::ClaimOutcome {
                claim,
                state: "awaiting_code".into(),
                message_zh: "请输入发往登记联络方式的验证码。".into(),
                message_en: "Enter the code sent to the registered contact.".into(),
            };
            register_form(
                &state,
                &headers,
                &who,
                context! { error, outcome => Value::from_serialize(&outcome), form => context! { username => form.username, ..empty_form() } },
                axum::http::StatusCode::BAD_REQUEST,
            )
        }
        Err(other) => Err(other.into()),
    }
}

async fn claims_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let claims = claims::claims(&state, &who).await?;
    page(
        "finance_claims.html",
        &headers,
        &who,
        context! { p => Value::from_serialize(&claims) },
    )
}

async fn claim_decision(
    State(state): State<Shared>,
    who: Principal,
    Path((id, decision)): Path<(i64, String)>,
    CheckedForm(_): CheckedForm<CsrfForm>,
) -> PageResult {
    let approve = match decision.as_str() {
        "approve" => true,
        "refuse" => false,
        other => return Err(Failure::NotFound(format!("decision '{other}'")).into()),
    };
    claims::decide(&state, &who, id, approve, chrono::Utc::now()).await?;
    Ok(Redirect::to("/finance/claims").into_response())
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/sign-in" => get(sign_in_page).post(sign_in_submit),
    "/sign-out" => post(sign_out),
    "/account/password" => get(password_page).post(password_submit),
    "/admin/users" => get(users_page).post(add_user),
    "/admin/users/{username}/roles" => post(set_roles),
    "/admin/users/{username}/{change}" => post(change_user),
    "/admin/tokens" => get(tokens_page).post(issue_token),
    "/admin/tokens/{id}/revoke" => post(revoke_token),
    "/admin/audit" => get(audit_page),
    "/finance/register" => get(register_page).post(register_submit),
    "/finance/register/confirm" => post(confirm_submit),
    "/finance/claims" => get(claims_page),
    "/finance/claims/{id}/{decision}" => post(claim_decision),
}
