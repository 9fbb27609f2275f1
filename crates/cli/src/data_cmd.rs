//! Commands on a data directory: `init`, `ingest`, `batch`, `entity`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use domain::Catalog;
use domain::text::spreadsheet_safe;
use indicatif::{ProgressBar, ProgressStyle};
use ingest::batch::{BatchRequest, BatchResult};
use ingest::{Encoding, FileFormat};
use lake::sql::ValueKind;
use serde::Deserialize;
use store::{BatchRow, Store};

use crate::Outcome;
use crate::output::{outln, print_json, print_table, table};

/// Where the platform keeps its data.
#[derive(Args, Clone)]
pub struct DataOptions {
    /// Data directory (the SQLite database and, later, the record lake).
    #[arg(
        long,
        global = true,
        env = "XINYONG_DATA_DIR",
        default_value = "xinyong-data"
    )]
    pub data_dir: PathBuf,
    /// Use this database instead of the data directory's SQLite file (sqlite://… or postgres://…).
    #[arg(long, global = true, env = "XINYONG_DATABASE_URL")]
    pub database_url: Option<String>,
    /// At most this many connections to a PostgreSQL server (SQLite: one writer and four readers).
    #[arg(long, global = true, env = "XINYONG_POSTGRES_CONNECTIONS", default_value_t = store::POSTGRES_CONNECTIONS)]
    pub postgres_connections: u32,
}

impl DataOptions {
    pub(crate) fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| Store::sqlite_url(&self.data_dir))
    }

    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data directory {}", self.data_dir.display()))?;
        Store::open_with(&self.url(), self.postgres_connections)
            .await
            .with_context(|| format!("cannot open the store at {}", self.url()))
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The catalog in use: the store's, else the one given, else the shipped one.
pub(crate) async fn catalog_in_use(store: &Store, given: Option<&Path>) -> anyhow::Result<Catalog> {
    let text = match (store.catalog_source().await?, given) {
        (Some(text), _) => text,
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read catalog {}", file.display()))?,
        (None, None) => domain::catalog::DEFAULT_CATALOG_TOML.to_string(),
    };
    let catalog = Catalog::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("the catalog in use is invalid:\n{e}"))?;
    if store.catalog_source().await?.is_none() {
        store.save_catalog(&catalog, &text, &now()).await?;
    }
    Ok(catalog)
}

pub fn init(data: &DataOptions, catalog_file: Option<&Path>) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let text = match catalog_file {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read catalog {}", file.display()))?,
            None => match store.catalog_source().await? {
                Some(text) => text,
                None => domain::catalog::DEFAULT_CATALOG_TOML.to_string(),
            },
        };
        let catalog =
            Catalog::from_toml(&text).map_err(|e| anyhow::anyhow!("catalog is invalid:\n{e}"))?;
        store.save_catalog(&catalog, &text, &now()).await?;
        outln!(
            "initialised {} with catalog {} ({} items from {} departments)",
            data.url(),
            catalog.version,
            catalog.items.len(),
            catalog.departments.len()
        );
        store.close().await;
        Ok(Outcome::Ok)
    })
}

#[derive(Args)]
pub struct IngestArgs {
    /// Catalog item the files hold.
    #[arg(long, requires = "source", conflicts_with = "manifest")]
    item: Option<String>,
    /// Department sending the files.
    #[arg(long, requires = "item")]
    source: Option<String>,
    /// Text encoding of CSV files (detected when not given).
    #[arg(long, value_parser = ["utf-8", "gbk"])]
    encoding: Option<String>,
    /// Ingest every batch a synthetic city's manifest lists, registration first.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Print the batch reports as JSON.
    #[arg(long)]
    json: bool,
    /// Files to ingest (CSV, JSON lines or XLSX), each one batch.
    files: Vec<PathBuf>,
}

#[derive(Deserialize)]
struct ManifestBatch {
    department: String,
    item: String,
    file: String,
    format: String,
    encoding: String,
}

#[derive(Deserialize)]
struct Manifest {
    batches: Vec<ManifestBatch>,
}

/// The batches a synthetic city's manifest lists, registration first.
pub(crate) fn manifest_requests(
    manifest_path: &Path,
    catalog: &Catalog,
) -> anyhow::Result<Vec<BatchRequest>> {
    let encoding = |name: &str| match name {
        "gbk" => Some(Encoding::Gbk),
        "utf-8" => Some(Encoding::Utf8),
        _ => None,
    };
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("cannot read manifest {}", manifest_path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a manifest", manifest_path.display()))?;
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for batch in manifest.batches {
        let format = match batch.format.as_str() {
            "csv" => FileFormat::Csv,
            "jsonl" => FileFormat::Jsonl,
            "xlsx" => FileFormat::Xlsx,
            other => bail!(
                "{}: unknown format '{other}' for {}",
                manifest_path.display(),
                batch.file
            ),
        };
        out.push(BatchRequest {
            path: base.join(&batch.file),
            department: batch.department,
            item: batch.item,
            format,
            encoding: encoding(&batch.encoding),
            file_name: None,
            replaces: None,
        });
    }
    // Entities first, then changes to them, then everything about them;
    // within each, in time order as the files are named.
    let rank = |r: &BatchRequest| match catalog.item(&r.item) {
        Some(item) if item.registers_entities => 0,
        Some(item) if item.record == domain::catalog::RecordKind::Registry => 1,
        _ => 2,
    };
    out.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.path.cmp(&b.path)));
    Ok(out)
}

fn requests(args: &IngestArgs, catalog: &Catalog) -> anyhow::Result<Vec<BatchRequest>> {
    let encoding = |name: &str| match name {
        "gbk" => Some(Encoding::Gbk),
        "utf-8" => Some(Encoding::Utf8),
        _ => None,
    };
    if let Some(manifest_path) = &args.manifest {
        return manifest_requests(manifest_path, catalog);
    }
    let (Some(item), Some(source)) = (&args.item, &args.source) else {
        bail!("give --item and --source with files, or --manifest");
    };
    if args.files.is_empty() {
        bail!("no files given");
    }
    args.files
        .iter()
        .map(|path| {
            let format = FileFormat::from_path(path).with_context(|| {
                format!(
                    "{}: cannot tell the format from the name (use .csv, .jsonl or .xlsx)",
                    path.display()
                )
            })?;
            Ok(BatchRequest {
                path: path.clone(),
                department: source.clone(),
                item: item.clone(),
                format,
                encoding: args.encoding.as_deref().and_then(encoding),
                file_name: None,
                replaces: None,
            })
        })
        .collect()
}

pub fn ingest(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    args: IngestArgs,
) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let catalog = catalog_in_use(&store, catalog_file).await?;
        let requests = requests(&args, &catalog)?;
        let print = if args.json { Print::Json } else { Print::Lines };
        let failed = ingest_all(&store, &data.data_dir, &catalog, requests, print).await?;
        store.close().await;
        Ok(if failed > 0 {
            Outcome::CheckFailed
        } else {
            Outcome::Ok
        })
    })
}

/// What `ingest_all` prints besides its progress bar and errors.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Print {
    /// A line per batch.
    Lines,
    /// Every report as JSON at the end.
    Json,
    Nothing,
}

/// Ingests the requests in order with a progress bar; returns how many failed.
pub(crate) async fn ingest_all(
    store: &Store,
    data_dir: &Path,
    catalog: &Catalog,
    requests: Vec<BatchRequest>,
    print: Print,
) -> anyhow::Result<usize> {
    let lake = lake::Lake::new(data_dir);
    let lock = lake_lock(store, &lake).await?;
    let mut known = ingest::batch::Known::load(store).await?;
    let bar = ProgressBar::new(requests.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} ingesting batch {pos}/{len} [{bar:30}] {eta} left {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    let mut reports = Vec::new();
    for request in requests {
        bar.set_message(request.item.clone());
        let path = request.path.display().to_string();
        match ingest::batch::ingest(store, &lake, &lock, catalog, &mut known, request).await {
            Ok(BatchResult::Committed(batch)) => {
                if print == Print::Lines {
                    bar.suspend(|| outln!("{}", summary_line(&batch, "")));
                }
                reports.push(serde_json::json!({"status": "committed", "batch": batch}));
            }
            Ok(BatchResult::AlreadyIngested(batch)) => {
                if print == Print::Lines {
                    bar.suspend(|| {
                        outln!(
                            "{}",
                            summary_line(&batch, " (already ingested: nothing added)")
                        )
                    });
                }
                reports.push(serde_json::json!({"status": "already_ingested", "batch": batch}));
            }
            Err(error) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {error}"));
                reports.push(serde_json::json!({"status": "failed", "file": path, "error": error.to_string()}));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if print == Print::Json {
        print_json(&reports)?;
    }
    Ok(failed)
}

/// The lake's write lock, waiting (and saying so) while another process
/// ingests into the same data directory.
pub(crate) async fn lake_lock(store: &Store, lake: &lake::Lake) -> anyhow::Result<lake::WriteLock> {
    if let Some(lock) = ingest::batch::lock(store, lake, false).await? {
        return Ok(lock);
    }
    eprintln!(
        "waiting: {}",
        domain::text::escape_controls(&ingest::batch::busy_message(lake))
    );
    ingest::batch::lock(store, lake, true)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the lake's write lock was not given"))
}

fn summary_line(batch: &BatchRow, note: &str) -> String {
    format!(
        "batch {} {}/{}: {} rows, {} accepted, {} quarantined{note}",
        batch.id, batch.department, batch.item, batch.rows_in, batch.accepted, batch.quarantined
    )
}

#[derive(Subcommand)]
pub enum BatchCommand {
    /// List the batches ingested.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a batch's report: rows in, accepted, quarantined by reason, repairs, time taken.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

pub fn batch(data: &DataOptions, command: BatchCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        match command {
            BatchCommand::List { json } => {
                let batches = store.batches().await?;
                if json {
                    print_json(&batches)?;
                } else {
                    let mut out = table(&[
                        "id",
                        "department",
                        "item",
                        "rows",
                        "accepted",
                        "quarantined",
                        "finished",
                        "file",
                    ]);
                    for b in &batches {
                        out.add_row(vec![
                            b.id.to_string(),
                            b.department.clone(),
                            b.item.clone(),
                            b.rows_in.to_string(),
                            b.accepted.to_string(),
                            b.quarantined.to_string(),
                            b.finished_at.clone(),
                            b.file_name.clone(),
                        ]);
                    }
                    print_table(&out);
                }
            }
            BatchCommand::Show { id, json } => {
                let Some(batch) = store.batch(id).await? else {
                    bail!("no batch {id} (see `xinyong batch list`)");
                };
                if json {
                    print_json(&batch)?;
                } else {
                    print_batch(&batch);
                }
            }
        }
        store.close().await;
        Ok(Outcome::Ok)
    })
}

fn print_batch(batch: &BatchRow) {
    outln!("batch        {}", batch.id);
    outln!("source       {} / {}", batch.department, batch.item);
    outln!("file         {}", batch.file_name);
    outln!("sha-256      {}", batch.content_sha256);
    outln!("ingested     {} – {}", batch.started_at, batch.finished_at);
    if let Some(seconds) = batch.report["seconds"].as_f64() {
        outln!("time         {seconds:.2} s");
    }
    outln!("rows in      {}", batch.rows_in);
    outln!("accepted     {}", batch.accepted);
    outln!("quarantined  {}", batch.quarantined);
    let section = |title: &str, key: &str| {
        if let Some(map) = batch.report[key].as_object().filter(|m| !m.is_empty()) {
            outln!("{title}");
            for (name, count) in map {
                outln!("  {name:<32} {count}");
            }
        }
    };
    section("quarantined by reason", "by_reason");
    section("quarantined by field and reason", "by_field");
    section("repairs", "repairs");
    if let Some(mapped) = batch.report["legacy_mapped"].as_u64().filter(|&m| m > 0) {
        outln!("legacy identifiers mapped to the USCC: {mapped}");
    }
}

pub fn entity(data: &DataOptions, code: &str, json: bool) -> anyhow::Result<Outcome> {
    let parsed = domain::Uscc::parse_input(code)
        .map_err(|e| anyhow::anyhow!("'{code}' is not a valid code: {e}"))?;
    let uscc = parsed.value.to_string();
    runtime()?.block_on(async {
        let store = data.open().await?;
        let Some(entity) = store.entity(&uscc).await? else {
            bail!("no entity {uscc} in the registry");
        };
        let summaries = store.summaries(&uscc).await?;
        let events = store.events(&uscc).await?;
        store.close().await;
        if json {
            print_json(
                &serde_json::json!({"entity": entity, "summaries": summaries, "events": events}),
            )?;
            return Ok(Outcome::Ok);
        }
        outln!("{}  {}", entity.uscc, entity.name);
        outln!("type          {}", entity.entity_type);
        outln!("representative {}", entity.legal_representative);
        outln!("established   {}", entity.established_on);
        outln!("status        {}", entity.status);
        outln!(
            "industry      {} {}",
            entity.industry,
            domain::industry::division(&entity.industry).map_or("", |d| d.name_zh)
        );
        outln!(
            "division      {} {}",
            entity.division,
            domain::division::lookup(&entity.division).map_or("", |d| d.name_zh)
        );
        outln!("address       {}", entity.address);
        if let Some(capital) = entity.registered_capital {
            outln!("capital       {capital} 万元");
        }
        if let Some(number) = &entity.registration_number {
            outln!("registration  {number}");
        }
        outln!();
        let mut out = table(&["item", "year", "records", "amount", "flagged", "latest"]);
        for s in &summaries {
            out.add_row(vec![
                s.item.clone(),
                s.year.to_string(),
                s.records.to_string(),
                format!("{:.2}", s.amount),
                s.flagged.to_string(),
                s.latest.clone(),
            ]);
        }
        print_table(&out);
        if !events.is_empty() {
            outln!();
            let mut out = table(&[
                "date",
                "item",
                "title",
                "department",
                "batch",
                "row",
                "published until",
            ]);
            for e in &events {
                out.add_row(vec![
                    e.event_date.clone(),
                    e.item.clone(),
                    e.title.clone(),
                    e.department.clone(),
                    e.batch_id.to_string(),
                    e.source_row.to_string(),
                    e.publicity_until.clone().unwrap_or_default(),
                ]);
            }
            print_table(&out);
        }
        Ok(Outcome::Ok)
    })
}

pub fn quality(data: &DataOptions, source: Option<&str>, json: bool) -> anyhow::Result<Outcome> {
    let batches = runtime()?.block_on(async {
        let store = data.open().await?;
        let batches = store.batches().await?;
        store.close().await;
        anyhow::Ok(batches)
    })?;
    let report = ingest::quality::quality(&batches, source);
    if json {
        print_json(&report)?;
        return Ok(Outcome::Ok);
    }
    if report.is_empty() {
        outln!(
            "no batches{}",
            source.map(|s| format!(" from {s}")).unwrap_or_default()
        );
        return Ok(Outcome::Ok);
    }
    let percent = |r: f64| format!("{:.2}%", r * 100.0);
    let mut out = table(&[
        "department",
        "item",
        "batches",
        "rows",
        "errors",
        "duplicates",
        "unknown entity",
        "delay (median/max days)",
        "top rule broken",
    ]);
    for q in &report {
        let (top, delay) = (q.top_rule(), q.delay_text());
        out.add_row(vec![
            q.department.clone(),
            q.item.clone(),
            q.batches.to_string(),
            q.rows.to_string(),
            percent(q.error_rate),
            percent(q.duplicate_rate),
            percent(q.unknown_entity_rate),
            delay,
            top,
        ]);
    }
    print_table(&out);
    Ok(Outcome::Ok)
}

/// The rows of `sql --format json`: an array of objects whose keys keep the
/// query's column order. Numbers are written as the engine formats them, so
/// that a decimal keeps every digit (through `f64` it would not); booleans
/// as booleans; the rest as strings. A number JSON cannot write (NaN,
/// infinity) stays a string. Written by hand because `serde_json::Value`
/// holds numbers as `f64`.
fn json_rows(
    names: &[String],
    kinds: &[ValueKind],
    rows: &[Vec<Option<String>>],
) -> Result<String, serde_json::Error> {
    let mut out = String::from("[");
    for (r, row) in rows.iter().enumerate() {
        out.push_str(if r == 0 { "\n  {" } else { ",\n  {" });
        for (c, ((name, kind), value)) in names.iter().zip(kinds).zip(row).enumerate() {
            out.push_str(if c == 0 { "\n    " } else { ",\n    " });
            out.push_str(&serde_json::to_string(name)?);
            out.push_str(": ");
            let Some(text) = value else {
                out.push_str("null");
                continue;
            };
            let literal = match kind {
                ValueKind::Number => serde_json::from_str::<serde_json::Number>(text).is_ok(),
                ValueKind::Boolean => text == "true" || text == "false",
                ValueKind::Text => false,
            };
            if literal {
                out.push_str(text);
            } else {
                out.push_str(&serde_json::to_string(text)?);
            }
        }
        out.push_str("\n  }");
    }
    out.push_str(if rows.is_empty() { "]" } else { "\n]" });
    Ok(out)
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SqlFormat {
    Table,
    Csv,
    Json,
}

/// `xinyong sql`: SQL over the lake (every catalog item a table, and
/// `quarantine`) and the registry (`entities`).
pub fn sql(
    data: &DataOptions,
    catalog_file: Option<&Path>,
    query: &str,
    format: SqlFormat,
) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let catalog = catalog_in_use(&store, catalog_file).await?;
        let entities = store.entities_table().await?;
        store.close().await;
        let sql = lake::sql::Sql::over(&lake::Lake::new(&data.data_dir), &catalog).await?;
        let columns: Vec<&str> = store::ENTITY_COLUMNS.to_vec();
        sql.register("entities", lake::sql::text_table(&columns, &entities)?)?;
        let lake::sql::Rows {
            columns: names,
            kinds,
            rows,
        } = sql.query(query).await?;
        match format {
            SqlFormat::Json => {
                outln!("{}", json_rows(&names, &kinds, &rows)?);
            }
            SqlFormat::Csv => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_record(&names)?;
                for row in &rows {
                    writer.write_record(row.iter().map(|v| {
                        spreadsheet_safe(v.as_deref().unwrap_or_default()).into_owned()
                    }))?;
                }
                let bytes = writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
                let text = String::from_utf8(bytes)?;
                for line in text.lines() {
                    outln!("{line}");
                }
            }
            SqlFormat::Table => {
                let header: Vec<&str> = names.iter().map(String::as_str).collect();
                let mut out = table(&header);
                for row in &rows {
                    out.add_row(
                        row.iter()
                            .map(|v| v.clone().unwrap_or_else(|| "NULL".to_string()))
                            .collect::<Vec<_>>(),
                    );
                }
                print_table(&out);
                outln!("({} rows)", rows.len());
            }
        }
        Ok(Outcome::Ok)
    })
}
