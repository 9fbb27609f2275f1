//! `xinyong`: the command line of the Xinyong public credit platform.
//!
//! Exit codes: 0 ok, 1 a check failed (an invalid code, an invalid catalog),
//! 2 a usage error (bad arguments, a file that cannot be read, an unknown item).

mod backup_cmd;
mod cases_cmd;
mod catalog_cmd;
mod check_cmd;
mod codes_cmd;
mod complaints_cmd;
mod csv_table;
mod data_cmd;
mod evaluate_cmd;
mod finance_cmd;
mod inspection_cmd;
mod model_cmd;
mod output;
mod risk_cmd;
mod server_cmd;
mod sim_cmd;
mod text_cmd;
mod uscc_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Ingest hands millions of small strings from the reading thread to the
// writing one; glibc's allocator serialised those threads on its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Xinyong (信用): a public credit information platform for a city.
#[derive(Parser)]
#[command(name = "xinyong", version, propagate_version = true)]
struct Cli {
    /// Use this information catalog (TOML) instead of the one shipped with Xinyong.
    #[arg(long, global = true, env = "XINYONG_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,

    #[command(flatten)]
    data: data_cmd::DataOptions,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, decode and generate unified social credit codes (GB 32100-2015).
    #[command(subcommand)]
    Uscc(uscc_cmd::UsccCommand),
    /// Print the code tables: industries (GB/T 4754-2017), divisions (GB/T 2260), risk classes.
    #[command(subcommand)]
    Codes(codes_cmd::CodesCommand),
    /// Browse and check the information catalog.
    #[command(subcommand)]
    Catalog(catalog_cmd::CatalogCommand),
    /// Generate the synthetic city (feeds, rosters, finance data and the truth).
    #[command(subcommand)]
    Sim(sim_cmd::SimCommand),
    /// Create (or upgrade) the data directory's store and record the catalog in use.
    Init,
    /// Ingest department files: validate, cleanse, deduplicate, store, report.
    Ingest(data_cmd::IngestArgs),
    /// List batches and show their reports.
    #[command(subcommand)]
    Batch(data_cmd::BatchCommand),
    /// Data quality per department and item: volume, error rates by rule, duplicates, unknown entities, delay.
    Quality {
        /// Only this department.
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run SQL over the lake (every catalog item is a table; also `quarantine`) and the registry (`entities`).
    Sql {
        query: String,
        #[arg(long, value_enum, default_value_t = data_cmd::SqlFormat::Table)]
        format: data_cmd::SqlFormat,
    },
    /// Show an entity: registry entry, summaries per item, event records.
    #[command(subcommand)]
    Entity(EntityCommand),
    /// Serve the pages and the HTTP API.
    Serve(server_cmd::ServeArgs),
    /// Build a demo city (generate, ingest, one account per role) and serve it; a second run reuses what exists.
    Demo(server_cmd::DemoArgs),
    /// Manage users and their roles.
    #[command(subcommand)]
    User(server_cmd::UserCommand),
    /// Issue, list and revoke API tokens.
    #[command(subcommand)]
    Token(server_cmd::TokenCommand),
    /// Copy the data directory, store and lake, consistently, while it is in use.
    Backup {
        /// An empty or new directory for the copy.
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into an empty data directory (and, for a PostgreSQL backup, an empty database).
    Restore {
        /// The backup's directory.
        from: PathBuf,
    },
    /// Verify and list the hash-chained audit log.
    #[command(subcommand)]
    Audit(server_cmd::AuditCommand),
    /// Messages waiting in or sent from the outbox (one-time codes, notices to accounts), newest first.
    Outbox(server_cmd::OutboxArgs),
    /// The scorecard engine on any CSV table.
    #[command(subcommand)]
    Model(model_cmd::ModelCommand),
    /// A category classifier for labelled Chinese text (complaints): fit, apply, report.
    #[command(subcommand)]
    Text(text_cmd::TextCommand),
    /// Citizens' complaints: link those without a code to the registry, run every detector over a period.
    #[command(subcommand)]
    Complaints(complaints_cmd::ComplaintsCommand),
    /// The city's risk model: train, screen, show.
    #[command(subcommand)]
    Risk(risk_cmd::RiskCommand),
    /// A credit check (信用核查) for an application scenario: the lists each entity is on, the measures that apply, its grade.
    Check(check_cmd::CheckArgs),
    /// The composite public credit evaluation (公共信用综合评价): grade the city by industry scheme, check schemes, show a grade.
    Evaluate(evaluate_cmd::EvaluateArgs),
    /// Double random, one public: rosters, plans, verifiable draws, results, strategy simulation.
    #[command(subcommand)]
    Inspection(inspection_cmd::InspectionCommand),
    /// Financing small firms: load a city's banks, products and loans; grade enterprises for lenders.
    #[command(subcommand)]
    Finance(finance_cmd::FinanceCommand),
}

#[derive(Subcommand)]
enum EntityCommand {
    /// Show one entity by its unified social credit code.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

/// What a command concluded, when it ran to the end.
pub enum Outcome {
    Ok,
    CheckFailed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Uscc(command) => uscc_cmd::run(command),
        Command::Codes(command) => codes_cmd::run(command),
        Command::Catalog(command) => catalog_cmd::run(command, cli.catalog.as_deref()),
        Command::Sim(command) => sim_cmd::run(command),
        Command::Init => data_cmd::init(&cli.data, cli.catalog.as_deref()),
        Command::Ingest(args) => data_cmd::ingest(&cli.data, cli.catalog.as_deref(), args),
        Command::Batch(command) => data_cmd::batch(&cli.data, command),
        Command::Quality { source, json } => data_cmd::quality(&cli.data, source.as_deref(), json),
        Command::Sql { query, format } => {
            data_cmd::sql(&cli.data, cli.catalog.as_deref(), &query, format)
        }
        Command::Entity(EntityCommand::Show { code, json }) => {
            data_cmd::entity(&cli.data, &code, json)
        }
        Command::Serve(args) => server_cmd::serve(&cli.data, cli.catalog.as_deref(), args),
        Command::Demo(args) => server_cmd::demo(&cli.data, cli.catalog.as_deref(), args),
        Command::User(command) => server_cmd::user(&cli.data, cli.catalog.as_deref(), command),
        Command::Token(command) => server_cmd::token(&cli.data, cli.catalog.as_deref(), command),
        Command::Audit(command) => server_cmd::audit_command(&cli.data, command),
        Command::Backup { out } => backup_cmd::backup(&cli.data, &out),
        Command::Restore { from } => backup_cmd::restore(&cli.data, &from),
        Command::Outbox(args) => server_cmd::outbox(&cli.data, args),
        Command::Model(command) => model_cmd::run(command),
        Command::Text(command) => text_cmd::run(command),
        Command::Risk(command) => risk_cmd::run(&cli.data, cli.catalog.as_deref(), command),
        Command::Complaints(command) => {
            complaints_cmd::run(&cli.data, cli.catalog.as_deref(), command)
        }
        Command::Check(args) => check_cmd::run(&cli.data, args),
        Command::Evaluate(args) => evaluate_cmd::run(&cli.data, cli.catalog.as_deref(), args),
        Command::Finance(command) => finance_cmd::run(&cli.data, cli.catalog.as_deref(), command),
        Command::Inspection(command) => {
            inspection_cmd::run(&cli.data, cli.catalog.as_deref(), command)
        }
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
