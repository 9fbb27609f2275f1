//! The platform online: `xinyong serve`.
//!
//! One axum router serves the HTML pages (server-rendered with minijinja,
//! zh-CN first, English second) and the JSON API under `/api/v1`.
//!
//! A feature is a folder: [`registry`], [`accounts`], [`risk`],
//! [`inspection`], [`finance`], each with a `service` module that alone
//! calls the store, checks the principal ([`service::require`], deciding by
//! [`access::allows`]) and writes the audit entry, and thin `pages` and
//! `api` modules of routes. Shared plumbing is in [`http`] (failures and
//! how they answer, rendering, cookies and CSRF, throttles, forms and
//! uploads); [`openapi`] gathers every API route's documentation. Features
//! depend on `http`, `access` and `service`, on `accounts` and `registry`
//! for what they share (the enterprise one acts for, profiles' records), and
//! never in a circle. Beside them: [`charts`] (SVG drawn on the server),
//! [`i18n`] (the message catalog), [`search`] (the name index), [`secrets`]
//! (passwords and random secrets).

pub mod access;
pub mod accounts;
pub mod charts;
pub mod credit_cases;
pub mod explorer;
pub mod finance;
pub mod http;
pub mod i18n;
pub mod inspection;
pub mod notify;
pub mod openapi;
pub mod public_credit;
pub mod public_portal;
pub mod registry;
pub mod risk;
pub mod search;
pub mod secrets;
pub mod service;
pub mod warnings;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use domain::Catalog;
use ingest::batch::Known;
use lake::Lake;
use store::{NewAuditEntry, Store};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Mark cookies `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Where the outbox's e-mail goes, if anywhere.
    pub smtp: Option<notify::Smtp>,
    /// Days to acknowledge and to resolve an issued warning.
    pub warning_deadlines: complaints::warning::Deadlines,
    /// How often to look for new complaints to run detection over; never
    /// when `None`.
    pub detect_every: Option<Duration>,
    /// Lists, their measures and the scenarios credit checks are made for.
    pub measures: credit::lists::Measures,
    /// Working days a department has to accept an objection and to decide it.
    pub objection_deadlines: credit::objection::Deadlines,
    /// Working days the credit centre has to review a repair application.
    pub repair_deadlines: credit::repair::Deadlines,
}

/// What every request can reach.
pub struct AppState {
    pub store: Store,
    pub lake: Lake,
    pub catalog: Catalog,
    pub config: Config,
    /// Attempts per client address: sign-ins, registrations, the public's
    /// refused requests.
    pub throttle: Mutex<http::throttle::Throttle>,
    /// The public's refused requests, counted (not chained).
    pub refused: Mutex<http::throttle::RefusedCounts>,
    /// Argon2 runs here, bounded, off the async workers.
    pub hashing: secrets::Hashing,
    /// One upload ingests at a time; the registry snapshot is kept between
    /// uploads and reloaded when another process has ingested meanwhile.
    pub ingest: tokio::sync::Mutex<Option<(i64, Known)>>,
    /// The name index search reads, once built; see [`search`].
    pub names: std::sync::RwLock<Option<Arc<search::NameIndex>>>,
    /// When the index was last compared with the store, and whether a
    /// rebuild is under way.
    names_checked: Mutex<Option<std::time::Instant>>,
    names_building: std::sync::atomic::AtomicBool,
    /// The re-screening in progress or last finished.
    pub screening: Mutex<risk::service::ScreeningJob>,
    /// Inspection verifications by plan, with the bundle stamp they hold for.
    pub verifications:
        Mutex<std::collections::HashMap<String, (String, ::inspection::VerifyReport)>>,
    /// The red and black lists' members as of the latest evaluation run,
    /// built on the first request after a run.
    pub list_members: tokio::sync::Mutex<Option<Arc<public_portal::service::Membership>>>,
}

pub type Shared = Arc<AppState>;

/// Now, as stored: RFC 3339 UTC to the second.
pub fn now() -> String {
    stamp(chrono::Utc::now())
}

/// An instant as stored: RFC 3339 UTC to the second. Services are handed
/// the request's instant and write it with this.
pub fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Beijing time (UTC+8, no daylight saving), in which days are counted
/// and times are shown.
pub fn beijing() -> chrono::FixedOffset {
    use chrono::Offset;
    // 8 hours is within ±24: the offset always exists.
    chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Utc.fix())
}

/// The day an instant falls on in Beijing.
pub fn beijing_date(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

impl AppState {
    pub fn new(store: Store, catalog: Catalog, config: Config) -> AppState {
        AppState {
            lake: Lake::new(&config.data_dir),
            store,
            catalog,
            config,
            throttle: Mutex::new(http::throttle::Throttle::default()),
            hashing: secrets::Hashing::default(),
            refused: Mutex::new(http::throttle::RefusedCounts::default()),
            ingest: tokio::sync::Mutex::new(None),
            names: std::sync::RwLock::new(None),
            names_checked: Mutex::new(None),
            names_building: std::sync::atomic::AtomicBool::new(false),
            screening: Mutex::new(risk::service::ScreeningJob::default()),
            verifications: Mutex::new(std::collections::HashMap::new()),
            list_members: tokio::sync::Mutex::new(None),
        }
    }

    /// The name index, if one has been built. At most every few seconds
    /// this also checks whether registry batches were stored since, and if
    /// so starts a rebuild in the background; searches meanwhile use the old
    /// index.
    pub async fn name_index(self: &Arc<Self>) -> Option<Arc<search::NameIndex>> {
        let current = self.names.read().ok().and_then(|n| n.clone());
        let due = self.names_checked.lock().map(|mut checked| {
            let due = checked.is_none_or(|t| t.elapsed() >= NAME_INDEX_CHECK);
            if due {
                *checked = Some(std::time::Instant::now());
            }
            due
        });
        if due.unwrap_or(false) {
            // Only a registry batch changes names: a department's feed of
            // payments must not rebuild an index of a million names. A store
            // that cannot answer now (busy, restarting) is asked again at
            // the next check, not taken to mean "rebuild".
            if let Ok(latest) = self.store.registry_batch_mark().await
                && current.as_ref().is_none_or(|n| n.built_at_batch != latest)
            {
                self.rebuild_name_index(latest);
            }
        }
        current
    }

    fn rebuild_name_index(self: &Arc<Self>, latest: i64) {
        use std::sync::atomic::Ordering;
        if self.names_building.swap(true, Ordering::SeqCst) {
            return;
        }
        let state = Arc::clone(self);
        tokio::spawn(async move {
            state.build_name_index(latest).await;
            state.names_building.store(false, Ordering::SeqCst);
        });
    }

    /// Reads every name and builds the index (on a blocking thread).
    async fn build_name_index(&self, latest: i64) {
        let rows = match self.store.entity_names().await {
            Ok(rows) => rows,
            Err(e) => return tracing::error!("name index: {e}"),
        };
        match tokio::task::spawn_blocking(move || search::NameIndex::build(rows, latest)).await {
            Ok(index) => {
                tracing::info!("name index: {} entities", index.len());
                if let Ok(mut names) = self.names.write() {
                    *names = Some(Arc::new(index));
                }
            }
            Err(e) => tracing::error!("name index: {e}"),
        }
    }

    /// Appends to the audit log. A request whose audit entry cannot be
    /// written fails: nothing is shown or changed without its record.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        outcome: &str,
        detail: serde_json::Value,
    ) -> Result<(), http::Failure> {
        let entry = NewAuditEntry {
            actor,
            action,
            subject,
            outcome,
            detail,
        };
        self.store
            .audit(&entry, &now())
            .await
            .map(|_| ())
            .map_err(|e| http::Failure::Internal(format!("audit log: {e}")))
    }
}

/// How often search checks whether the name index is behind the store.
const NAME_INDEX_CHECK: Duration = Duration::from_secs(5);
/// Requests other than uploads must finish within this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// An upload is ingested before its response; large files take a while.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Forms and JSON bodies other than uploads.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: Shared) -> Router {
    let uploads = Router::new()
        .merge(registry::pages::upload_routes())
        .merge(registry::api::upload_routes())
        .merge(inspection::pages::upload_routes())
        .merge(public_credit::pages::upload_routes())
        .merge(public_credit::api::upload_routes())
        .merge(credit_cases::pages::upload_routes())
        .merge(credit_cases::api::upload_routes());
    let rest = Router::new()
        .merge(http::render::routes())
        .merge(accounts::pages::routes())
        .merge(accounts::api::routes())
        .merge(registry::pages::routes())
        .merge(registry::api::routes())
        .merge(risk::pages::routes())
        .merge(risk::api::routes())
        .merge(inspection::pages::routes())
        .merge(inspection::api::routes())
        .merge(finance::pages::routes())
        .merge(finance::api::routes())
        .merge(warnings::pages::routes())
        .merge(explorer::pages::routes())
        .merge(explorer::api::routes())
        .merge(warnings::api::routes())
        .merge(public_credit::pages::routes())
        .merge(public_credit::api::routes())
        .merge(credit_cases::pages::routes())
        .merge(credit_cases::api::routes())
        .merge(public_portal::pages::routes())
        .merge(public_portal::api::routes())
        .merge(openapi::routes())
        .route("/health", axum::routing::get(health));
    Router::new()
        .merge(bounded(
            uploads,
            state.config.max_upload_bytes,
            UPLOAD_TIMEOUT,
        ))
        .merge(bounded(rest, MAX_BODY_BYTES, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(typed_address))
        .layer(axum::middleware::map_response(security_headers))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A body limit, and a timeout within which the handler runs to completion.
fn bounded(routes: Router<Shared>, max_body: usize, timeout: Duration) -> Router<Shared> {
    routes
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
}

/// Runs the handler in a task of its own, inside the timeout: a request
/// that times out, or whose client goes away, gets no answer, but its
/// handler is not stopped between two writes (a store write cut off half-way
/// left SQLite's one writer inside a transaction no one owned: the soak,
/// docs/SERVER.md).
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("handler: {e}");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Refuses an address whose path or query holds what no one types
/// (`http::forms::check_text`) before any route reads it: a search for a
/// NUL, a user named with an escape sequence.
async fn typed_address(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = request.uri();
    let checked = http::forms::check_path(uri.path()).and_then(|()| {
        http::forms::check_urlencoded("query", uri.query().unwrap_or_default().as_bytes())
    });
    match checked {
        Ok(()) => next.run(request).await,
        Err(refusal) if uri.path().starts_with("/api/") => {
            http::ApiFailure(refusal).into_response()
        }
        Err(refusal) => http::PageFailure(refusal).into_response(),
    }
}

/// What every response carries: no scripts, frames or foreign origins
/// (the pages need none), no type sniffing, no referrer beyond the origin;
/// and, unless the handler said otherwise (the style sheet, the icon), no
/// caching: profiles and credit reports must not stay in a shared cache or
/// the browser's history.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn health(
    axum::extract::State(state): axum::extract::State<Shared>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // One indexed read: counting rows of the big tables would take seconds
    // on a city's store, and health is polled.
    match state.store.batch_mark().await {
        Ok(_) => axum::Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            // The store's error names hosts and tables: the log has it, the
            // public does not.
            tracing::error!("health: {e}");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({"status": "unavailable"})),
            )
                .into_response()
        }
    }
}

/// Every path the pages serve, as the router has them (`{name}` for a
/// parameter): the authorisation matrix test checks it covers them all.
pub fn page_paths() -> Vec<&'static str> {
    [
        http::render::PATHS,
        accounts::pages::PATHS,
        registry::pages::PATHS,
        registry::pages::UPLOAD_PATHS,
        risk::pages::PATHS,
        inspection::pages::PATHS,
        inspection::pages::UPLOAD_PATHS,
        finance::pages::PATHS,
        warnings::pages::PATHS,
        explorer::pages::PATHS,
        public_credit::pages::PATHS,
        public_credit::pages::UPLOAD_PATHS,
        credit_cases::pages::PATHS,
        credit_cases::pages::UPLOAD_PATHS,
        public_portal::pages::PATHS,
    ]
    .concat()
}

/// Every path of the JSON API, as the router has them: the OpenAPI
/// document must describe each (a test compares them).
pub fn api_paths() -> Vec<&'static str> {
    [
        accounts::api::PATHS,
        registry::api::PATHS,
        registry::api::UPLOAD_PATHS,
        risk::api::PATHS,
        inspection::api::PATHS,
        finance::api::PATHS,
        warnings::api::PATHS,
        explorer::api::PATHS,
        public_credit::api::PATHS,
        public_credit::api::UPLOAD_PATHS,
        credit_cases::api::PATHS,
        credit_cases::api::UPLOAD_PATHS,
        public_portal::api::PATHS,
        openapi::PATHS,
    ]
    .concat()
}

/// What must be in place before the first request: the lake's staging
/// recovered (a server killed mid-upload left it; done now unless another
/// process is ingesting, in which case that one recovers it), the
/// inspection results a killed server recorded but did not send into the
/// lake sent, the audit entries it staged chained (migration 0012), and the
/// name index. Until the index exists a search falls back to SQL over every
/// name, and a city's searches arriving at once would hold every read
/// connection (the soak, docs/SERVER.md). A city's index takes seconds; if
/// the store cannot say which registry batch is the latest, search uses SQL
/// until the next check.
pub async fn prepare(state: &Shared) {
    match ingest::batch::lock(&state.store, &state.lake, false).await {
        Ok(Some(lock)) => {
            if let Err(e) = inspection::service::send_unsent_results(state, &lock).await {
                tracing::warn!("inspection results not sent into the lake: {e}");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("the lake's staging was not recovered: {e}"),
    }
    if let Err(e) = state.store.flush_audit().await {
        tracing::warn!("staged audit entries not chained: {e}");
    }
    if let Ok(latest) = state.store.registry_batch_mark().await {
        state.build_name_index(latest).await;
    }
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
    prepare(&state).await;
    serve_on(listener, state, shutdown).await
}

/// [`serve`] on a listener already bound (tests bind port 0), after
/// [`prepare`].
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(smtp) = state.config.smtp.clone() {
        notify::spawn(state.store.clone(), smtp);
    }
    if let Some(every) = state.config.detect_every {
        warnings::job::spawn(state.clone(), every);
    }
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tower::ServiceExt;

    use super::*;

    /// A request that times out gets 408, and its handler still finishes
    /// (here: sets the flag after the timeout has answered). Without
    /// `run_to_completion` the timeout would drop the handler half-way.
    #[tokio::test]
    async fn a_timed_out_handler_runs_to_completion() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let finished = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&finished);
        let app = Router::new()
            .route(
                "/slow",
                axum::routing::get(move || async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    flag.store(true, Ordering::SeqCst);
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn(run_to_completion))
            .layer(TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(20),
            ));
        let request = axum::http::Request::get("/slow")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::REQUEST_TIMEOUT);
        assert!(!finished.load(Ordering::SeqCst), "answered before the end");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(finished.load(Ordering::SeqCst), "the handler finished");
    }

    /// A store that cannot answer: `/health` says so without the store's
    /// error (which names the database), with every security header.
    #[tokio::test]
    async fn health_hides_the_store_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            secure_cookies: false,
            max_upload_bytes: 1024,
            warning_deadlines: Default::default(),
            detect_every: None,
            smtp: None,
            measures: credit::lists::Measures::built_in().unwrap(),
            objection_deadlines: Default::default(),
            repair_deadlines: Default::default(),
        };
        let state = Arc::new(AppState::new(
            store.clone(),
            Catalog::default_catalog(),
            config,
        ));
        store.close().await;
        let request = axum::http::Request::get("/health")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router(state).oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, serde_json::json!({"status": "unavailable"}));
    }
}
