//! `xinyong serve`, `xinyong demo`, and the account and audit commands:
//! `user add|list|roles|disable|enable`, `token issue|list|revoke`, `audit verify|list`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use server::http::Failure;
use store::Store;

use crate::Outcome;
use crate::data_cmd::{
    DataOptions, Print, catalog_in_use, ingest_all, manifest_requests, now, runtime,
};
use crate::output::{outln, print_json, print_table, table};

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Mark cookies Secure (when served behind HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// The largest upload accepted, in MiB.
    #[arg(long, default_value_t = 64)]
    max_upload_mib: usize,
    /// Deliver the outbox's e-mail through this SMTP relay (smtp://host:port); without it, messages wait in the outbox (`xinyong outbox`).
    #[arg(long)]
    smtp_url: Option<String>,
    /// The sender of that e-mail.
    #[arg(long, default_value = "信用平台 <noreply@credit.example>")]
    mail_from: String,
    /// Days a recipient has to acknowledge an issued warning.
    #[arg(long, default_value_t = 5)]
    warning_acknowledge_days: i64,
    /// Days from issue within which a warning is to be resolved.
    #[arg(long, default_value_t = 30)]
    warning_resolve_days: i64,
    /// Seconds between checks for new complaint batches to run every detector over (0: never).
    #[arg(long, default_value_t = 600)]
    detect_every: u64,
    /// Lists, their measures and the scenarios of credit checks (TOML; default: the built-in file).
    #[arg(long)]
    measures: Option<std::path::PathBuf>,
    /// Working days a department has to accept or reject an objection.
    #[arg(long, default_value_t = 2)]
    objection_accept_days: u32,
    /// Working days from acceptance to confirm or correct the record.
    #[arg(long, default_value_t = 10)]
    objection_decide_days: u32,
    /// Working days the credit centre has to review a repair application.
    #[arg(long, default_value_t = 5)]
    repair_review_days: u32,
}

/// Who the audit log names for commands run on this machine.
pub(crate) fn cli_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

fn failure(f: Failure) -> anyhow::Error {
    match f {
        Failure::Internal(detail) => anyhow::anyhow!(detail),
        other => anyhow::anyhow!(other.message()),
    }
}

async fn serve_until_stopped(
    data: &DataOptions,
    store: Store,
    catalog: domain::Catalog,
    args: &ServeArgs,
) -> anyhow::Result<()> {
    let config = server::Config {
        data_dir: data.data_dir.clone(),
        listen: args.listen,
        secure_cookies: args.secure_cookies,
        max_upload_bytes: args.max_upload_mib.saturating_mul(1024 * 1024),
        smtp: args.smtp_url.clone().map(|url| server::notify::Smtp {
            url,
            from: args.mail_from.clone(),
        }),
        warning_deadlines: complaints::warning::Deadlines {
            acknowledge_days: args.warning_acknowledge_days,
            resolve_days: args.warning_resolve_days,
        },
        detect_every: (args.detect_every > 0)
            .then(|| std::time::Duration::from_secs(args.detect_every)),
        measures: crate::check_cmd::read_measures(args.measures.as_deref())?,
        objection_deadlines: credit::objection::Deadlines {
            accept_days: args.objection_accept_days,
            decide_days: args.objection_decide_days,
        },
        repair_deadlines: credit::repair::Deadlines {
            review_days: args.repair_review_days,
        },
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    let state = Arc::new(server::AppState::new(store, catalog, config));
    server::prepare(&state).await;
    // Tests and bench/soak.sh read this line to find the port when given port 0.
    outln!("listening on http://{address}");
    server::serve_on(listener, state, shutdown_signal()).await?;
    outln!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop taking connections, finish the requests under way.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("XINYONG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn serve(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    args: ServeArgs,
) -> anyhow::Result<Outcome> {
    init_logging();
    runtime()?.block_on(async {
        let store = data.open().await?;
        let catalog = catalog_in_use(&store, catalog_file).await?;
        serve_until_stopped(data, store, catalog, &args).await?;
        Ok(Outcome::Ok)
    })
}

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Where the synthetic city's files go (default: <data-dir>/demo-city).
    #[arg(long)]
    city: Option<PathBuf>,
    /// Entities in the demo city (the demo preset has 20 000).
    #[arg(long)]
    entities: Option<u32>,
    /// Build everything, print the accounts, and stop instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// The demo's accounts: one per role. Their passwords are printed, so they
/// are for a demonstration only.
fn demo_accounts(bank: &str, enterprise: &str) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("admin", "系统管理员", "admin".to_string()),
        ("centre", "信用中心", "credit_centre".to_string()),
        ("tax", "税务局数据员", "department:tax".to_string()),
        ("regulator", "市场监管局", "regulator".to_string()),
        // A second regulator: approving a warning takes another pair of eyes.
        ("reviewer", "市场监管局审核员", "regulator".to_string()),
        ("inspector", "执法检查员", "inspector".to_string()),
        ("bank", "银行客户经理", format!("bank:{bank}")),
        ("enterprise", "企业用户", format!("enterprise:{enterprise}")),
    ]
}

/// The server's state over the demo's store and data directory, for the
/// demo steps that act through the server's services as people would.
pub fn demo_state(
    store: &Store,
    catalog: &domain::Catalog,
    data_dir: &Path,
) -> anyhow::Result<server::AppState> {
    Ok(server::AppState::new(
        store.clone(),
        catalog.clone(),
        server::Config {
            data_dir: data_dir.to_path_buf(),
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            secure_cookies: false,
            max_upload_bytes: 0,
            smtp: None,
            warning_deadlines: Default::default(),
            detect_every: None,
            measures: credit::lists::Measures::built_in()?,
            objection_deadlines: Default::default(),
            repair_deadlines: Default::default(),
        },
    ))
}

fn demo_password(username: &str) -> String {
    format!("{username}-demo-2026")
}

pub fn demo(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    args: DemoArgs,
) -> anyhow::Result<Outcome> {
    init_logging();
    let city = args
        .city
        .clone()
        .unwrap_or_else(|| data.data_dir.join("demo-city"));
    let manifest = city.join("manifest.json");
    outln!("[1/10] synthetic city in {}", city.display());
    if manifest.exists() {
        outln!("      already generated; reusing it");
    } else {
        if city.exists()
            && std::fs::read_dir(&city)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)
        {
            bail!(
                "{} holds files but no manifest.json (an interrupted generation?); remove it and run again",
                city.display()
            );
        }
        let mut config = sim::SimConfig::preset(sim::Preset::Demo, 1);
        if let Some(entities) = args.entities {
            config.entities = entities;
        }
        config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        let bar = ProgressBar::new(config.entities as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "      {spinner} generating {pos}/{len} entities [{bar:30}] {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let written = sim::write_city(&config, &city, |done| {
            if done % 256 == 0 {
                bar.set_position(done as u64);
            }
        })?;
        bar.finish_and_clear();
        outln!(
            "      {} entities, {} records in {} batches",
            written.entities,
            written.records,
            written.batches.len()
        );
    }
    runtime()?.block_on(async {
        let store = data.open().await?;
        let catalog = catalog_in_use(&store, catalog_file).await?;
        outln!("[2/10] store {}", data.url());
        let requests = manifest_requests(&manifest, &catalog)?;
        let stored = store.batches().await?.len();
        outln!("[3/10] ingest {} batches", requests.len());
        if stored >= requests.len() {
            outln!("      already ingested ({stored} batches); reusing them");
        } else {
            let failed =
                ingest_all(&store, &data.data_dir, &catalog, requests, Print::Nothing).await?;
            if failed > 0 {
                bail!("{failed} batches failed to ingest");
            }
            let batches = store.batches().await?;
            let rows: i64 = batches.iter().map(|b| b.rows_in).sum();
            let quarantined: i64 = batches.iter().map(|b| b.quarantined).sum();
            outln!(
                "      {} batches, {rows} rows, {quarantined} quarantined",
                batches.len()
            );
        }
        outln!("[4/10] risk model");
        if store.latest_screening().await?.is_some() {
            outln!("      already screened; reusing it");
        } else {
            let sql = crate::risk_cmd::open_lake(&store, data, catalog_file).await?;
            // A city too small to have both inspection outcomes still makes
            // a demo, without risk classes.
            match crate::risk_cmd::train(&store, &sql, None).await {
                Ok(_) => {
                    // First as of the hold-out year's start, whose classes
                    // the year's inspections can then be compared with, and
                    // then as of today; the pages show the migration between.
                    let holdout = risk::default_training_as_of(&sql).await?;
                    let rule = risk::ClassRule::default();
                    let policy = risk::Policy::national(&risk::V4)?;
                    crate::risk_cmd::screen(&store, &sql, Some(holdout), None, rule, &policy)
                        .await?;
                    crate::risk_cmd::screen(&store, &sql, None, None, rule, &policy).await?;
                }
                Err(error) => outln!("      skipped: {error:#}"),
            }
        }
        // The entity with the most records makes the fullest profile.
        let enterprise = store
            .entity_with_most_events()
            .await?
            .context("the demo city has no event records")?;
        outln!("[5/10] objections and credit repairs");
        crate::cases_cmd::demo_cases(&store, &catalog, &data.data_dir, &enterprise).await?;
        outln!("[6/10] composite public credit evaluation");
        if store.latest_evaluation_run().await?.is_none() {
            let sql = crate::risk_cmd::open_lake(&store, data, catalog_file).await?;
            let summary = crate::evaluate_cmd::evaluate_city(&store, &sql, &catalog).await?;
            outln!(
                "      {} entities graded as of {}",
                summary.entities,
                summary.as_of
            );
        } else {
            outln!("      already evaluated; reusing it");
        }
        outln!("[7/10] double random inspections");
        crate::inspection_cmd::demo_inspections(&store, &data.data_dir, &city).await?;
        let bank = first_bank(&city).unwrap_or_else(|| "bank-01".into());
        outln!("[8/10] financing: banks, products, demands, applications");
        let sql = crate::risk_cmd::open_lake(&store, data, catalog_file).await?;
        crate::finance_cmd::demo_finance(&store, &sql, &catalog, &city, &bank, &enterprise).await?;
        outln!("[9/10] early warning from complaints: detection, warnings");
        crate::complaints_cmd::demo_warnings(&store, &sql, &catalog, &data.data_dir, &enterprise)
            .await?;
        outln!("[10/10] demo accounts (one per role; for demonstration only)");
        let mut listing = table(&["user", "password", "role"]);
        for (username, display, role) in demo_accounts(&bank, &enterprise) {
            let password = demo_password(username);
            if store.user_by_name(username).await?.is_none() {
                server::accounts::service::add_user(
                    &store,
                    &catalog,
                    username,
                    display,
                    &password,
                    &[role.as_str()],
                    chrono::Utc::now(),
                )
                .await
                .map_err(failure)?;
                audit(
                    &store,
                    &cli_actor(),
                    "user_add",
                    username,
                    serde_json::json!({"roles": [role], "demo": true}),
                )
                .await?;
            }
            listing.add_row(vec![username.to_string(), password, role]);
        }
        print_table(&listing);
        if args.no_serve {
            store.close().await;
            return Ok(Outcome::Ok);
        }
        serve_until_stopped(data, store, catalog, &args.serve).await?;
        Ok(Outcome::Ok)
    })
}

/// The first bank of the synthetic city's finance files.
fn first_bank(city: &Path) -> Option<String> {
    let mut reader = csv::Reader::from_path(city.join("finance/banks.csv")).ok()?;
    let record = reader.records().next()?.ok()?;
    record.get(0).map(str::to_string)
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user with one or more roles (admin, credit_centre, department:ID, regulator, inspector, bank:ID, enterprise:USCC).
    Add {
        username: String,
        /// Roles, comma-separated.
        #[arg(long, required = true, value_delimiter = ',')]
        role: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        /// The password; read from XINYONG_PASSWORD when not given (keeps it out of the shell history).
        #[arg(long, env = "XINYONG_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List users and their roles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Replace a user's roles.
    Roles {
        username: String,
        /// Roles, comma-separated.
        #[arg(long, required = true, value_delimiter = ',')]
        role: Vec<String>,
    },
    /// Disable a user; their sessions end at once.
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
}

pub fn user(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    command: UserCommand,
) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let actor = cli_actor();
        match command {
            UserCommand::Add {
                username,
                role,
                name,
                password,
            } => {
                let catalog = catalog_in_use(&store, catalog_file).await?;
                let roles: Vec<&str> = role.iter().map(String::as_str).collect();
                server::accounts::service::add_user(
                    &store,
                    &catalog,
                    &username,
                    &name,
                    &password,
                    &roles,
                    chrono::Utc::now(),
                )
                .await
                .map_err(failure)?;
                audit(
                    &store,
                    &actor,
                    "user_add",
                    &username,
                    serde_json::json!({"roles": role}),
                )
                .await?;
                outln!("added user {username} ({})", role.join(", "));
            }
            UserCommand::List { json } => {
                let users = store.users().await?;
                if json {
                    print_json(&users)?;
                } else {
                    let mut out = table(&[
                        "user",
                        "name",
                        "roles",
                        "status",
                        "failed sign-ins",
                        "created",
                    ]);
                    for u in &users {
                        let roles: Vec<String> =
                            u.roles.iter().map(store::RoleGrant::label).collect();
                        out.add_row(vec![
                            u.username.clone(),
                            u.display_name.clone(),
                            roles.join(", "),
                            if u.disabled {
                                "disabled".into()
                            } else {
                                "active".into()
                            },
                            u.failed_logins.to_string(),
                            u.created_at.clone(),
                        ]);
                    }
                    print_table(&out);
                }
            }
            UserCommand::Roles { username, role } => {
                let catalog = catalog_in_use(&store, catalog_file).await?;
                let roles: Vec<&str> = role.iter().map(String::as_str).collect();
                server::accounts::service::set_roles(&store, &catalog, &username, &roles)
                    .await
                    .map_err(failure)?;
                audit(
                    &store,
                    &actor,
                    "user_roles",
                    &username,
                    serde_json::json!({"roles": role}),
                )
                .await?;
                outln!("{username} now has {}", role.join(", "));
            }
            UserCommand::Disable { username } => {
                set_disabled(&store, &actor, &username, true).await?
            }
            UserCommand::Enable { username } => {
                set_disabled(&store, &actor, &username, false).await?
            }
        }
        store.close().await;
        Ok(Outcome::Ok)
    })
}

async fn set_disabled(
    store: &Store,
    actor: &str,
    username: &str,
    disabled: bool,
) -> anyhow::Result<()> {
    if !store.set_user_disabled(username, disabled, &now()).await? {
        bail!("no user '{username}' (see `xinyong user list`)");
    }
    let action = if disabled {
        "user_disable"
    } else {
        "user_enable"
    };
    audit(store, actor, action, username, serde_json::json!({})).await?;
    outln!(
        "{} user {username}",
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}

async fn audit(
    store: &Store,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let entry = store::NewAuditEntry {
        actor,
        action,
        subject,
        outcome: "ok",
        detail,
    };
    store.audit(&entry, &now()).await?;
    Ok(())
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Issue an API token for a machine client; the secret is printed once.
    Issue {
        /// What the token is for (shown in lists and the audit log).
        #[arg(long)]
        name: String,
        /// The token's one role, e.g. department:tax.
        #[arg(long)]
        role: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[arg(long)]
        json: bool,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token at once.
    Revoke { id: i64 },
}

pub fn token(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    command: TokenCommand,
) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let actor = cli_actor();
        match command {
            TokenCommand::Issue { name, role, days, json } => {
                let catalog = catalog_in_use(&store, catalog_file).await?;
                let token = server::accounts::service::issue_token(&store, &catalog, &name, &role, days, &actor, chrono::Utc::now())
                    .await
                    .map_err(failure)?;
                audit(&store, &actor, "token_issue", &format!("token:{}", token.id), serde_json::json!({"role": role, "expires_at": token.expires_at})).await?;
                if json {
                    print_json(&serde_json::json!({"id": token.id, "secret": token.secret, "expires_at": token.expires_at}))?;
                } else {
                    outln!("token {} for {role}, expires {}", token.id, token.expires_at);
                    outln!("{}", token.secret);
                    outln!("(shown once: only its hash is stored)");
                }
            }
            TokenCommand::List { json } => {
                let tokens = store.tokens().await?;
                if json {
                    print_json(&tokens)?;
                } else {
                    let mut out = table(&["id", "name", "role", "created by", "expires", "revoked"]);
                    for t in &tokens {
                        out.add_row(vec![
                            t.id.to_string(),
                            t.name.clone(),
                            store::role_label(&t.role, &t.subject),
                            t.created_by.clone(),
                            t.expires_at.clone(),
                            t.revoked_at.clone().unwrap_or_default(),
                        ]);
                    }
                    print_table(&out);
                }
            }
            TokenCommand::Revoke { id } => {
                if !store.revoke_token(id, &now()).await? {
                    bail!("no live token {id} (see `xinyong token list`)");
                }
                audit(&store, &actor, "token_revoke", &format!("token:{id}"), serde_json::json!({})).await?;
                outln!("revoked token {id}");
            }
        }
        store.close().await;
        Ok(Outcome::Ok)
    })
}

#[derive(clap::Args)]
pub struct OutboxArgs {
    /// Only messages to this recipient (a phone number, an e-mail address, or user:NAME).
    #[arg(long)]
    to: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: i64,
    #[arg(long)]
    json: bool,
}

/// The outbox as the operator sees it. Codes are in the messages: this is
/// for whoever runs the platform (and the demo), never a page.
pub fn outbox(data: &DataOptions, args: OutboxArgs) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let messages = store.outbox(args.to.as_deref(), args.limit).await?;
        if args.json {
            print_json(&messages)?;
        } else {
            let mut out = table(&["#", "time", "channel", "to", "subject", "sent", "body"]);
            for m in &messages {
                out.add_row(vec![
                    m.id.to_string(),
                    m.created_at.clone(),
                    m.channel.clone(),
                    m.recipient.clone(),
                    m.subject.clone(),
                    m.sent_at.clone().unwrap_or_default(),
                    m.body.clone(),
                ]);
            }
            print_table(&out);
        }
        store.close().await;
        Ok(Outcome::Ok)
    })
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain from the first entry; exit 1 and name the first broken entry if it is broken.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// List entries, newest first.
    List {
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        /// Entries at or after this time (RFC 3339) or date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn audit_command(data: &DataOptions, command: AuditCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let outcome = match command {
            AuditCommand::Verify { json } => {
                let check = store.verify_audit().await?;
                if json {
                    print_json(&check)?;
                } else if let Some(broken) = &check.first_broken {
                    outln!("broken at entry {}: {}", broken.seq, broken.reason);
                    outln!(
                        "{} entries before it verify; the last good hash is {}",
                        check.entries,
                        check.head_hash
                    );
                } else {
                    outln!(
                        "ok: {} entries, head hash {}",
                        check.entries,
                        check.head_hash
                    );
                }
                if check.first_broken.is_some() {
                    Outcome::CheckFailed
                } else {
                    Outcome::Ok
                }
            }
            AuditCommand::List {
                actor,
                subject,
                since,
                limit,
                json,
            } => {
                let filter = store::AuditFilter {
                    actor,
                    subject,
                    since,
                    limit,
                };
                let entries = store.audit_entries(&filter).await?;
                if json {
                    print_json(&entries)?;
                } else {
                    let mut out = table(&[
                        "#", "time", "actor", "action", "subject", "outcome", "detail",
                    ]);
                    for e in &entries {
                        out.add_row(vec![
                            e.seq.to_string(),
                            e.at.clone(),
                            e.actor.clone(),
                            e.action.clone(),
                            e.subject.clone(),
                            e.outcome.clone(),
                            e.detail.clone(),
                        ]);
                    }
                    print_table(&out);
                }
                Outcome::Ok
            }
        };
        store.close().await;
        Ok(outcome)
    })
}
