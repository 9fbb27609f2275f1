//! Shared plumbing of the server, used by every feature and depending on
//! none: the `Failure` every service returns and how pages and the API
//! answer it ([`PageFailure`], [`ApiFailure`]), rendering
//! ([`render`]: templates, navigation, the static files), cookies and CSRF
//! ([`cookies`]: sessions' tokens, the public forms' double submit, the
//! client's address), per-address throttles and the public's refusals
//! ([`throttle`]), form fields and uploads ([`forms`]).

pub mod cookies;
pub mod forms;
pub mod render;
pub mod throttle;

/// Routes from one table: the router and the list of the paths it serves,
/// so that the authorisation matrix test can tell when a route is missing
/// from it (`xinyong_server::page_paths`, `api_paths`).
macro_rules! routes {
    ($(#[$meta:meta])* $vis:vis fn $name:ident, const $paths:ident; $($path:literal => $method:expr),* $(,)?) => {
        /// The paths the router of the same table serves.
        $vis const $paths: &[&str] = &[$($path),*];
        $(#[$meta])*
        $vis fn $name() -> axum::Router<crate::Shared> {
            axum::Router::new()$(.route($path, $method))*
        }
    };
}
pub(crate) use routes;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};

use render::environment;
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{Lang, messages};

/// Why a request did not get what it asked for.
#[derive(Debug)]
pub enum Failure {
    /// No one is signed in, and the request needs someone.
    SignInNeeded,
    Forbidden,
    /// Not allowed, with the reason the asker may know (a consent check's).
    Refused(String),
    NotFound(String),
    BadRequest(String),
    /// Someone else changed it first (an edit or a move on a version that
    /// is no longer current).
    Conflict(String),
    /// Well formed, but its fields break the rules (each named).
    Unprocessable(String),
    TooManyAttempts,
    /// A body over the size limit.
    TooLarge,
    Internal(String),
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Failure {
        Failure::Internal(e.to_string())
    }
}

impl Failure {
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Failure::SignInNeeded => StatusCode::UNAUTHORIZED,
            Failure::Forbidden | Failure::Refused(_) => StatusCode::FORBIDDEN,
            Failure::NotFound(_) => StatusCode::NOT_FOUND,
            Failure::BadRequest(_) => StatusCode::BAD_REQUEST,
            Failure::Conflict(_) => StatusCode::CONFLICT,
            Failure::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Failure::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Said to the client: internal details stay in the server's log.
    pub fn message(&self) -> String {
        match self {
            Failure::SignInNeeded => "sign in first".into(),
            Failure::Forbidden => "not allowed".into(),
            Failure::Refused(why) => format!("not allowed: {why}"),
            Failure::NotFound(what) => format!("not found: {what}"),
            Failure::BadRequest(why) | Failure::Conflict(why) | Failure::Unprocessable(why) => {
                why.clone()
            }
            Failure::TooManyAttempts => "too many attempts; wait a minute".into(),
            Failure::TooLarge => "the request is larger than the server accepts".into(),
            Failure::Internal(_) => "internal error".into(),
        }
    }
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
        Failure::Conflict(_) => "已被他人先行修改，请刷新后重试",
        Failure::Unprocessable(_) => "填写有误",
        Failure::TooManyAttempts => "尝试次数过多，请稍后再试",
        Failure::TooLarge => "请求过大",
        Failure::Internal(_) => "内部错误",
    }
}

pub(crate) type PageResult = Result<Response, PageFailure>;

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

pub type ApiResult<T> = Result<Json<T>, ApiFailure>;

/// The links to the pages before and after a page of `rows` rows at
/// `offset` of `total`, keeping the query's filters, and the rows shown.
pub fn paging(path: &str, query: &str, offset: i64, total: i64, rows: i64) -> minijinja::Value {
    let link = |at: i64| {
        let mut parts: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("offset="))
            .map(str::to_string)
            .collect();
        parts.push(format!("offset={at}"));
        format!("{path}?{}", parts.join("&"))
    };
    minijinja::context! {
        previous => (offset > 0).then(|| link((offset - rows).max(0))),
        next => (offset + rows < total).then(|| link(offset + rows)),
        from => if total == 0 { 0 } else { offset + 1 },
        to => (offset + rows).min(total),
        total,
    }
}

/// A CSV file to download: the header, then the rows, every cell
/// spreadsheet-safe; with a byte-order mark when `bom` (Excel then reads
/// it as UTF-8).
pub fn csv_file(
    file_name: &str,
    header: &[String],
    rows: &[Vec<String>],
    bom: bool,
) -> Result<Response, Failure> {
    use axum::http::header;
    let start: &[u8] = if bom { "\u{feff}".as_bytes() } else { b"" };
    let mut writer = csv::Writer::from_writer(start.to_vec());
    let mut write = || -> Result<(), csv::Error> {
        writer.write_record(header)?;
        for row in rows {
            writer.write_record(
                row.iter()
                    .map(|cell| domain::text::spreadsheet_safe(cell).into_owned()),
            )?;
        }
        writer.flush()?;
        Ok(())
    };
    write().map_err(|e| Failure::Internal(format!("csv: {e}")))?;
    let bytes = writer
        .into_inner()
        .map_err(|e| Failure::Internal(format!("csv: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
