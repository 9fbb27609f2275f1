//! The operational store: the only crate that speaks SQL to the database.
//!
//! SQLite is the embedded default (one file in the data directory, WAL, one
//! writer connection with writes in `BEGIN IMMEDIATE` transactions, and
//! read-only connections beside it); PostgreSQL serves a
//! server deployment. Both run the same queries through sqlx's `Any` driver
//! (`$1` placeholders work in both) and the same schema, written once per
//! dialect under `migrations/`.

mod accounts;
mod audit;
pub mod backup;
mod cases;
mod claims;
mod evaluation;
mod finance;
mod inspection;
mod outreach;
mod risk;
mod warnings;

pub use accounts::{RoleGrant, SessionRow, TokenRow, UserRow, label as role_label};
pub use audit::{AuditCheck, AuditEntry, AuditFilter, BrokenEntry, GENESIS_HASH, NewAuditEntry};
pub use cases::{CaseDocument, CaseEventRow, CaseFilter, CaseMove, CaseRow, Correction, NewCase};
pub use claims::{ClaimAccount, ClaimMove, ClaimRow, NewClaim, NewMessage, OutboxRow};
pub use evaluation::{CreditCheckRow, EntityEvaluationRow, EvaluationRunRow};
pub use finance::{
    AccessRow, ApplicationEventRow, ApplicationParty, ApplicationRow, AuthorisationRow, BankRow,
    DemandRow, FinancingModelRow, FinancingScoreRow, GrantChange, LoanOutcome, LoanReportRow, Move,
    ProductRow,
};
pub use inspection::{
    FindingRow, InspectorRow, InspectorVisitRow, NewTask, ObjectRosterRow, PlanRow,
    RelationshipRow, TaskResult, TaskRow,
};
pub use outreach::{
    AccountFilingRow, KeyEnterpriseRow, KeyPushRow, PoolCandidate, PoolMemberRow, PoolRuleRow,
    VisitRow,
};
pub use risk::{
    EntityRiskRow, RankedRow, RiskListFilter, RiskModelRow, RiskScoreRow, ScreeningRow,
};
pub use warnings::{
    NewWarning, Page, SavedSignals, SignalFilter, SignalRow, WarningEdit, WarningEventRow,
    WarningFilter, WarningMove, WarningRow,
};

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::str::FromStr;

use domain::{Catalog, Uscc};
use serde::Serialize;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url '{0}': use sqlite://… or postgres://…")]
    Url(String),
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Conflict(String),
    #[error("audit entry not written: {0}")]
    AuditNotWritten(String),
    /// A row another writer committed first (a unique key).
    #[error("already stored: {0}")]
    Duplicate(String),
}

/// A unique-key violation as [`StoreError::Duplicate`], any other error as
/// it is.
fn duplicate_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Duplicate(db.message().to_string())
        }
        _ => StoreError::Database(e),
    }
}

/// What a batch did with its rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchCounts {
    pub rows_in: i64,
    pub accepted: i64,
    pub quarantined: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection to the operational store.
#[derive(Clone)]
pub struct Store {
    /// Writes: one connection on SQLite (its one writer), `BEGIN IMMEDIATE`.
    pool: AnyPool,
    /// Reads: on SQLite their own connections, `query_only`, so that with
    /// WAL a read never waits behind a write; on PostgreSQL the same pool.
    reads: AnyPool,
    backend: Backend,
    /// Appends to the audit log, many entries a transaction.
    appender: audit::Appender,
}

/// A batch as stored, with its report.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    pub id: i64,
    pub department: String,
    pub item: String,
    pub file_name: String,
    pub content_sha256: String,
    pub rows_in: i64,
    pub accepted: i64,
    pub quarantined: i64,
    pub report: serde_json::Value,
    pub started_at: String,
    pub finished_at: String,
}

/// The columns of the registry as `entities_table` returns them.
pub const ENTITY_COLUMNS: [&str; 11] = [
    "uscc",
    "name",
    "entity_type",
    "legal_representative",
    "registered_capital",
    "established_on",
    "industry",
    "division",
    "address",
    "status",
    "registration_number",
];

/// An entity of the registry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntityRow {
    pub uscc: String,
    pub name: String,
    pub entity_type: String,
    pub legal_representative: String,
    pub registered_capital: Option<f64>,
    pub established_on: String,
    pub industry: String,
    pub division: String,
    pub address: String,
    pub status: String,
    pub registration_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SummaryRow {
    pub item: String,
    pub year: i64,
    pub records: i64,
    pub amount: f64,
    pub flagged: i64,
    pub latest: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventRow {
    pub item: String,
    pub event_date: String,
    pub title: String,
    pub detail: serde_json::Value,
    pub department: String,
    pub batch_id: i64,
    pub source_row: i64,
    pub publicity_until: Option<String>,
    /// Why the record is no longer published or shared, if it is not:
    /// `repaired` or `corrected` (a corrected version replaced it).
    pub withdrawn: Option<String>,
    /// The open objection against it, if one is open: the record is shown
    /// "under objection" wherever it appears.
    pub objection: Option<i64>,
}

/// What the registry holds, in memory, for resolving subjects during ingest.
#[derive(Debug, Default, Clone)]
pub struct RegistrySnapshot {
    // foldhash: every row of a batch looks its subject up here, and SipHash
    // cost more than the rest of resolving it. Its seed is random per process.
    pub codes: foldhash::HashSet<Uscc>,
    pub legacy: foldhash::HashMap<String, Uscc>,
}

/// Connections to a PostgreSQL server unless the deployment says otherwise
/// (`--postgres-connections`): enough for a server's concurrent requests on
/// two cores, far below PostgreSQL's default limit of 100.
pub const POSTGRES_CONNECTIONS: u32 = 16;

/// Read connections to a SQLite store (WAL: readers do not block the writer
/// nor each other).
const SQLITE_READERS: u32 = 4;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// The SQLite database of a data directory.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("xinyong.db").display()
        )
    }

    /// Connects with the default pool size and brings the schema up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, POSTGRES_CONNECTIONS).await
    }

    /// Connects, with at most `postgres_connections` connections to a
    /// PostgreSQL server (SQLite has its one writer and its readers
    /// whatever this says), and brings the schema up to date.
    pub async fn open_with(url: &str, postgres_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            // One connection: SQLite has one writer, and WAL lets readers of
            // other processes go on meanwhile.
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA journal_mode = WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            // 64 MiB of pages: a batch's upserts find the
                            // index in memory instead of reading it back.
                            sqlx::query("PRAGMA cache_size = -65536")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    // The one writer must come back outside any transaction:
                    // under load (docs/SERVER.md, the soak) it came back
                    // inside one no one owned, and every later write failed
                    // with "begin_with at non-zero transaction depth". A
                    // connection that cannot begin afresh is closed instead,
                    // and the pool opens a new one.
                    .after_release(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Connection;
                            let Ok(probe) = conn.begin_with("BEGIN").await else {
                                return Ok(false);
                            };
                            Ok(probe.rollback().await.is_ok())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(postgres_connections.max(1))
                    .connect_with(options)
                    .await?
            }
        };
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let reads = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(SQLITE_READERS)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA cache_size = -16384")
                                .execute(&mut *conn)
                                .await?;
                            // A read connection must never write: a write
                            // here would bypass the writer's lock.
                            sqlx::query("PRAGMA query_only = ON")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(url)?)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Store {
            appender: audit::Appender::start(pool.clone(), backend),
            pool,
            reads,
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Records the catalog in use and its departments and items.
    pub async fn save_catalog(
        &self,
        catalog: &Catalog,
        source: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for d in &catalog.departments {
            sqlx::query(
                "INSERT INTO departments (id, name_zh, name_en) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en",
            )
            .bind(&d.id)
            .bind(&d.name_zh)
            .bind(&d.name_en)
            .execute(&mut *tx)
            .await?;
        }
        for item in &catalog.items {
            sqlx::query(
                "INSERT INTO catalog_items (id, department, name_zh, name_en, category, record, publicity)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET department = excluded.department, name_zh = excluded.name_zh,
                   name_en = excluded.name_en, category = excluded.category, record = excluded.record,
                   publicity = excluded.publicity",
            )
            .bind(&item.id)
            .bind(&item.department)
            .bind(&item.name_zh)
            .bind(&item.name_en)
            .bind(item.category.as_str())
            .bind(format!("{:?}", item.record).to_lowercase())
            .bind(item.publicity.name())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO catalog (id, version, source, loaded_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, source = excluded.source, loaded_at = excluded.loaded_at",
        )
        .bind(&catalog.version)
        .bind(source)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The catalog text in use, if one was saved.
    pub async fn catalog_source(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT source FROM catalog WHERE id = 1")
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.map(|r| r.get::<String, _>("source")))
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite, so a writer never
    /// fails half-way on a lock.
    pub async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        begin_write(&self.pool, self.backend).await
    }

    /// The batch already stored with this content from this source, if any.
    pub async fn batch_with_content(
        &self,
        department: &str,
        item: &str,
        sha256: &str,
    ) -> Result<Option<BatchRow>, StoreError> {
        let row = sqlx::query(&format!(
            "{BATCH_COLUMNS} WHERE department = $1 AND item = $2 AND content_sha256 = $3"
        ))
        .bind(department)
        .bind(item)
        .bind(sha256)
        .fetch_optional(&self.reads)
        .await?;
        row.map(|r| batch_row(&r)).transpose()
    }

    /// The committed batch with this content hash, from any source.
    /// Whether a batch of this department and item had content of this
    /// length: only then can a file be one ingested before.
    pub async fn batch_of_length(
        &self,
        department: &str,
        item: &str,
        bytes: u64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 AS found FROM batches WHERE department = $1 AND item = $2 AND content_bytes = $3 LIMIT 1",
        )
        .bind(department)
        .bind(item)
        .bind(bytes as i64)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.is_some())
    }

    pub async fn batch_with_sha256(&self, sha256: &str) -> Result<Option<BatchRow>, StoreError> {
        let row = sqlx::query(&format!("{BATCH_COLUMNS} WHERE content_sha256 = $1"))
            .bind(sha256)
            .fetch_optional(&self.reads)
            .await?;
        row.map(|r| batch_row(&r)).transpose()
    }

    pub async fn batches(&self) -> Result<Vec<BatchRow>, StoreError> {
        let rows = sqlx::query(&format!("{BATCH_COLUMNS} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(batch_row).collect()
    }

    pub async fn batch(&self, id: i64) -> Result<Option<BatchRow>, StoreError> {
        let row = sqlx::query(&format!("{BATCH_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        row.map(|r| batch_row(&r)).transpose()
    }

    /// The registry in memory: every USCC and every legacy identifier.
    pub async fn registry_snapshot(&self) -> Result<RegistrySnapshot, StoreError> {
        let mut snapshot = RegistrySnapshot::default();
        for row in sqlx::query("SELECT uscc FROM entities")
            .fetch_all(&self.reads)
            .await?
        {
            let code: String = row.get("uscc");
            let code = code
                .parse()
                .map_err(|e| StoreError::Damaged(format!("entity {code}: {e}")))?;
            snapshot.codes.insert(code);
        }
        for row in sqlx::query("SELECT legacy_id, uscc FROM legacy_ids")
            .fetch_all(&self.reads)
            .await?
        {
            let (legacy, code): (String, String) = (row.get("legacy_id"), row.get("uscc"));
            let code = code
                .parse()
                .map_err(|e| StoreError::Damaged(format!("legacy id {legacy}: {e}")))?;
            snapshot.legacy.insert(legacy, code);
        }
        Ok(snapshot)
    }

    pub async fn entity(&self, uscc: &str) -> Result<Option<EntityRow>, StoreError> {
        let row = sqlx::query(&format!("{ENTITY_SELECT} WHERE uscc = $1"))
            .bind(uscc)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(entity_row))
    }

    /// The whole registry as text rows in [`ENTITY_COLUMNS`] order, for SQL.
    pub async fn entities_table(&self) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        let rows = sqlx::query(
            "SELECT uscc, name, entity_type, legal_representative, CAST(registered_capital AS TEXT), established_on,
                    industry, division, address, status, registration_number
             FROM entities ORDER BY uscc",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (0..ENTITY_COLUMNS.len())
                    .map(|i| r.get::<Option<String>, _>(i))
                    .collect()
            })
            .collect())
    }

    pub async fn summaries(&self, uscc: &str) -> Result<Vec<SummaryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT item, year, records, amount, flagged, latest FROM summaries WHERE uscc = $1 ORDER BY item, year",
        )
        .bind(uscc)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| SummaryRow {
                item: r.get("item"),
                year: r.get("year"),
                records: r.get("records"),
                amount: r.get("amount"),
                flagged: r.get("flagged"),
                latest: r.get("latest"),
            })
            .collect())
    }

    pub async fn events(&self, uscc: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.item, e.event_date, e.title, e.detail, e.department, e.batch_id,
               e.source_row, e.publicity_until, w.reason AS withdrawn, c.id AS objection
             FROM events e
             LEFT JOIN record_withdrawals w ON w.item = e.item AND w.batch_id = e.batch_id
               AND w.source_row = e.source_row
             LEFT JOIN credit_cases c ON c.kind = 'objection' AND c.open = 1 AND c.item = e.item
               AND c.batch_id = e.batch_id AND c.source_row = e.source_row
             WHERE e.uscc = $1 ORDER BY e.event_date, e.id",
        )
        .bind(uscc)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(event_row).collect()
    }

    /// Entities whose name contains `text`, in name order. `%` and `_` in
    /// `text` match themselves. Reads the whole registry when few names
    /// match: the server answers from its name index and asks this only for
    /// one-character queries.
    pub async fn entities_with_name_containing(
        &self,
        text: &str,
        limit: i64,
    ) -> Result<Vec<EntityRow>, StoreError> {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let rows = sqlx::query(&format!(
            "{ENTITY_SELECT} WHERE name LIKE $1 ESCAPE '\\' ORDER BY name LIMIT {limit}"
        ))
        .bind(format!("%{escaped}%"))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(entity_row).collect())
    }

    /// Entities whose USCC starts with `prefix` (upper case), in code order,
    /// through the primary key.
    pub async fn entities_with_code_prefix(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<EntityRow>, StoreError> {
        // A range on the key, not `LIKE 'x%'`, which PostgreSQL cannot
        // serve from a btree under a non-C collation.
        let rows = match code_prefix_end(prefix) {
            Some(end) => {
                sqlx::query(&format!(
                    "{ENTITY_SELECT} WHERE uscc >= $1 AND uscc < $2 ORDER BY uscc LIMIT {limit}"
                ))
                .bind(prefix)
                .bind(end)
                .fetch_all(&self.reads)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "{ENTITY_SELECT} WHERE uscc >= $1 ORDER BY uscc LIMIT {limit}"
                ))
                .bind(prefix)
                .fetch_all(&self.reads)
                .await?
            }
        };
        Ok(rows.iter().map(entity_row).collect())
    }

    /// The entities with these codes, in the order given; unknown codes are
    /// left out.
    pub async fn entities_with_codes(&self, codes: &[&str]) -> Result<Vec<EntityRow>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=codes.len())
            .map(|n| parameter(self.backend, n))
            .collect();
        let query_text = format!(
            "{ENTITY_SELECT} WHERE uscc IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&query_text);
        for code in codes {
            query = query.bind(*code);
        }
        let rows = query.fetch_all(&self.reads).await?;
        let mut found: HashMap<String, EntityRow> = rows
            .iter()
            .map(entity_row)
            .map(|e| (e.uscc.clone(), e))
            .collect();
        Ok(codes.iter().filter_map(|c| found.remove(*c)).collect())
    }

    /// Every entity's code and name, for the server's name index.
    pub async fn entity_names(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT uscc, name FROM entities")
            .fetch_all(&self.reads)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("uscc"), r.get("name")))
            .collect())
    }

    /// The batches' change marker (0 before the first batch): it grows
    /// with every batch committed, in commit order (migration 0019).
    pub async fn batch_mark(&self) -> Result<i64, StoreError> {
        self.mark("all").await
    }

    /// The marker of registry items' batches only: only those change the
    /// names search looks up.
    pub async fn registry_batch_mark(&self) -> Result<i64, StoreError> {
        self.mark("registry").await
    }

    /// The marker of one item's batches: what a background job compares
    /// with the marker it last ran up to.
    pub async fn batch_mark_of(&self, item: &str) -> Result<i64, StoreError> {
        self.mark(&format!("item:{item}")).await
    }

    async fn mark(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT seq FROM batch_marks WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.map_or(0, |r| r.get("seq")))
    }

    /// The entity with the most event records, if any (the demo shows it).
    pub async fn entity_with_most_events(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT uscc FROM events GROUP BY uscc ORDER BY COUNT(*) DESC, uscc LIMIT 1",
        )
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|r| r.get("uscc")))
    }

    /// Counts of rows per table, for checks and status pages.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in ["batches", "entities", "legacy_ids", "summaries", "events"] {
            let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(&self.reads)
                .await?;
            out.push((table.to_string(), row.get::<i64, _>("n")));
        }
        Ok(out)
    }

    pub async fn close(self) {
        self.reads.close().await;
        self.pool.close().await;
    }
}

/// A write transaction: on SQLite `BEGIN IMMEDIATE`, which takes the write
/// lock at once rather than failing on upgrade; on PostgreSQL a plain one.
impl Store {
    /// Takes `count` consecutive ids of `table` from its database counter
    /// in a transaction of their own, and returns the first: for rows whose
    /// id other rows and audit entries of the same transaction name. An id
    /// reserved and then not used is a gap, as in any sequence.
    pub async fn reserve_ids(&self, table: &str, count: usize) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let first = take_ids(&mut tx, table, count).await?;
        tx.commit().await?;
        Ok(first)
    }

    /// After a change that staged its audit entry has committed: has the
    /// appender chain it. The entry is safe in `audit_pending` whatever
    /// happens here; if the appender cannot write now, its next append (or
    /// the server's start) chains it, so the change is not reported failed.
    pub(crate) async fn flush_after_change(&self) {
        let _ = self.flush_audit().await;
    }
}

pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Takes `count` consecutive ids of `table` from its database counter
/// (migration 0008) within the inserting transaction and returns the first.
/// One `UPDATE … RETURNING`: concurrent transactions each get their own ids
/// (PostgreSQL holds the counter's row until commit; SQLite has one writer).
pub(crate) async fn take_ids(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
    count: usize,
) -> Result<i64, StoreError> {
    let count = i64::try_from(count).map_err(|_| StoreError::Conflict("too many rows".into()))?;
    let row = sqlx::query(
        "UPDATE id_counters SET next_id = next_id + $1 WHERE name = $2 RETURNING next_id - $1 AS first",
    )
    .bind(count)
    .bind(table)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| r.get("first"))
        .ok_or_else(|| StoreError::Conflict(format!("no id counter for {table}")))
}

/// The first code after every code that starts with `prefix` (digits and
/// upper-case letters), or `None` if no code comes after them.
fn code_prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '0'..='8' | 'A'..='Y' => char::from_u32(u32::from(last) + 1),
            '9' => Some('A'),
            _ => None,
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

const ENTITY_SELECT: &str =
    "SELECT uscc, name, entity_type, legal_representative, registered_capital,
    established_on, industry, division, address, status, registration_number FROM entities";

fn entity_row(r: &sqlx::any::AnyRow) -> EntityRow {
    EntityRow {
        uscc: r.get("uscc"),
        name: r.get("name"),
        entity_type: r.get("entity_type"),
        legal_representative: r.get("legal_representative"),
        registered_capital: r.get("registered_capital"),
        established_on: r.get("established_on"),
        industry: r.get("industry"),
        division: r.get("division"),
        address: r.get("address"),
        status: r.get("status"),
        registration_number: r.get("registration_number"),
    }
}

const BATCH_COLUMNS: &str = "SELECT id, department, item, file_name, content_sha256, rows_in, accepted, quarantined, report,
    started_at, finished_at FROM batches";

fn batch_row(r: &sqlx::any::AnyRow) -> Result<BatchRow, StoreError> {
    let report: String = r.get("report");
    Ok(BatchRow {
        id: r.get("id"),
        department: r.get("department"),
        item: r.get("item"),
        file_name: r.get("file_name"),
        content_sha256: r.get("content_sha256"),
        rows_in: r.get("rows_in"),
        accepted: r.get("accepted"),
        quarantined: r.get("quarantined"),
        report: serde_json::from_str(&report)
            .map_err(|e| StoreError::Damaged(format!("batch report: {e}")))?,
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
    })
}

/// An event as read with its withdrawal (`withdrawn`, or NULL) and its
/// open objection (`objection`, or NULL).
fn event_row(r: &sqlx::any::AnyRow) -> Result<EventRow, StoreError> {
    let detail: String = r.get("detail");
    Ok(EventRow {
        item: r.get("item"),
        event_date: r.get("event_date"),
        title: r.get("title"),
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Damaged(format!("event detail: {e}")))?,
        department: r.get("department"),
        batch_id: r.get("batch_id"),
        source_row: r.get("source_row"),
        publicity_until: r.get("publicity_until"),
        withdrawn: r.get("withdrawn"),
        objection: r.get("objection"),
    })
}

/// The `n`th (1-based) parameter of a statement built at run time. SQLite's
/// driver looks `$n` up by name for every bind, which is quadratic in a
/// statement of thousands of parameters; its positional `?` is not. Every
/// parameter of such a statement must come from here: sqlx numbers bare
/// `?`s on their own, so a `$1` before them on SQLite binds the first `?`
/// to the first argument again.
fn parameter(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `(…), (…)` for `rows` rows of `width` parameters each.
fn rows_of_parameters(backend: Backend, rows: usize, width: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=width)
                .map(|k| parameter(backend, r * width + k))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect();
    rows.join(", ")
}

/// Writes of one batch, inside one transaction: all of it lands or none.
/// Registry entries, field changes, legacy identifiers and events are held
/// back and sent [`ROWS_PER_STATEMENT`] to a statement: one statement per
/// row cost more than the rest of ingest for registration and event items.
/// Readers see none of them before the commit anyway.
pub struct BatchWriter {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    pub batch_id: i64,
    item: String,
    pending: Pending,
}

/// Rows per multi-row statement: 13 × 500 parameters stays under both
/// SQLite's (32 766) and PostgreSQL's (65 535) limits.
const ROWS_PER_STATEMENT: usize = 500;

/// Writes a [`BatchWriter`] holds back, keyed where a later write of the
/// same row replaces an earlier one (one statement may not touch a row
/// twice in PostgreSQL).
#[derive(Default)]
struct Pending {
    entities: HashMap<String, Vec<Cell>>,
    field_changes: HashMap<(&'static str, String), (Cell, String)>,
    legacy_ids: HashMap<String, (String, String)>,
    events: Vec<Vec<Cell>>,
}

/// A parameter of a held-back row.
enum Cell {
    Text(Option<String>),
    Number(Option<f64>),
    Integer(i64),
    /// An integer that may be missing: a typed NULL, which PostgreSQL
    /// needs for an integer column.
    OptionalInteger(Option<i64>),
}

/// Binds a number that may be missing so that PostgreSQL sees a float8
/// either way. sqlx 0.8.6's Any driver sends a missing `f64` as a float4
/// NULL (its `AnyArguments` conversion swaps Real and Double), and a
/// statement prepared with that NULL then refuses a later 8-byte float8
/// ("incorrect binary data format in bind parameter"); a missing `f32` goes
/// as a float8 NULL. SQLite stores NULL either way.
pub(crate) fn bind_number<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    number: Option<f64>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match number {
        Some(n) => query.bind(n),
        None => query.bind(None::<f32>),
    }
}

/// Runs a statement whose parameters are `rows`, row after row.
async fn execute_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &str,
    rows: Vec<Vec<Cell>>,
) -> Result<(), StoreError> {
    let mut query = sqlx::query(sql);
    for cell in rows.into_iter().flatten() {
        query = match cell {
            Cell::Text(text) => query.bind(text),
            Cell::Number(number) => bind_number(query, number),
            Cell::Integer(integer) => query.bind(integer),
            Cell::OptionalInteger(integer) => query.bind(integer),
        };
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Inserts `rows` into `table` a statement of [`ROWS_PER_STATEMENT`] rows
/// at a time.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<(), StoreError> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            rows_of_parameters(backend, chunk.len(), columns.len())
        );
        execute_rows(tx, &sql, chunk).await?;
    }
    Ok(())
}

/// A new or changed registry entry.
pub struct EntityUpdate<'a> {
    pub uscc: &'a str,
    pub name: &'a str,
    pub entity_type: &'a str,
    pub legal_representative: &'a str,
    pub registered_capital: Option<f64>,
    pub established_on: &'a str,
    pub industry: &'a str,
    pub division: &'a str,
    pub address: &'a str,
    pub status: &'a str,
    pub registration_number: Option<&'a str>,
}

/// Records to add to a yearly summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryIncrement {
    pub records: i64,
    pub amount: f64,
    pub flagged: i64,
    pub latest: String,
}

impl SummaryIncrement {
    pub fn add(&mut self, amount: f64, flagged: bool, date: &str) {
        self.records += 1;
        self.amount += amount;
        self.flagged += i64::from(flagged);
        if date > self.latest.as_str() {
            self.latest = date.to_string();
        }
    }
}

/// One event for a profile's timeline.
pub struct NewEvent<'a> {
    pub uscc: &'a str,
    pub item: &'a str,
    pub event_date: &'a str,
    pub title: &'a str,
    pub detail: &'a serde_json::Value,
    pub department: &'a str,
    pub source_row: i64,
    pub publicity_until: Option<&'a str>,
}

impl BatchWriter {
    /// Opens the transaction and reserves the batch's id. The content's
    /// hash is not known until the file has been read: the row holds a
    /// placeholder unique to this writer until [`BatchWriter::commit`].
    pub async fn begin(
        store: &Store,
        department: &str,
        item: &str,
        file_name: &str,
        started_at: &str,
    ) -> Result<BatchWriter, StoreError> {
        static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let sha256 = format!(
            "reading:{}:{}:{}",
            std::process::id(),
            started_at,
            WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut tx = store.write().await?;
        let row = sqlx::query(
            "INSERT INTO batches (department, item, file_name, content_sha256, rows_in, accepted, quarantined, report, started_at, finished_at)
             VALUES ($1, $2, $3, $4, 0, 0, 0, '{}', $5, $5) RETURNING id",
        )
        .bind(department)
        .bind(item)
        .bind(file_name)
        .bind(&sha256)
        .bind(started_at)
        .fetch_one(&mut *tx)
        .await?;
        Ok(BatchWriter {
            tx,
            backend: store.backend,
            batch_id: row.get("id"),
            item: item.to_string(),
            pending: Pending::default(),
        })
    }

    /// Adds or replaces a registry entry. Entries are written many to a
    /// statement: a later call for the same code replaces an earlier one.
    pub async fn upsert_entity(
        &mut self,
        e: &EntityUpdate<'_>,
        now: &str,
    ) -> Result<(), StoreError> {
        let row = vec![
            Cell::Text(Some(e.uscc.to_string())),
            Cell::Text(Some(e.name.to_string())),
            Cell::Text(Some(e.entity_type.to_string())),
            Cell::Text(Some(e.legal_representative.to_string())),
            Cell::Number(e.registered_capital),
            Cell::Text(Some(e.established_on.to_string())),
            Cell::Text(Some(e.industry.to_string())),
            Cell::Text(Some(e.division.to_string())),
            Cell::Text(Some(e.address.to_string())),
            Cell::Text(Some(e.status.to_string())),
            Cell::Text(e.registration_number.map(str::to_string)),
            Cell::Integer(self.batch_id),
            Cell::Text(Some(now.to_string())),
        ];
        self.pending.entities.insert(e.uscc.to_string(), row);
        if self.pending.entities.len() >= ROWS_PER_STATEMENT {
            self.flush_entities().await?;
        }
        Ok(())
    }

    async fn flush_entities(&mut self) -> Result<(), StoreError> {
        let rows: Vec<Vec<Cell>> = std::mem::take(&mut self.pending.entities)
            .into_values()
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO entities (uscc, name, entity_type, legal_representative, registered_capital, established_on, industry,
                                   division, address, status, registration_number, batch_id, updated_at)
             VALUES {}
             ON CONFLICT (uscc) DO UPDATE SET name = excluded.name, entity_type = excluded.entity_type,
               legal_representative = excluded.legal_representative, registered_capital = excluded.registered_capital,
               established_on = excluded.established_on, industry = excluded.industry, division = excluded.division,
               address = excluded.address, status = excluded.status, registration_number = excluded.registration_number,
               batch_id = excluded.batch_id, updated_at = excluded.updated_at",
            rows_of_parameters(self.backend, rows.len(), 13)
        );
        execute_rows(&mut self.tx, &sql, rows).await
    }

    /// Changes one registry field after a change or status record. Only
    /// known columns may be named. Changes are written many to a statement;
    /// of several changes to one field of one entity the last holds.
    pub async fn update_entity_field(
        &mut self,
        uscc: &str,
        column: &str,
        value: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        const TEXT_COLUMNS: [&str; 6] = [
            "name",
            "address",
            "legal_representative",
            "status",
            "industry",
            "entity_type",
        ];
        let (column, value) = match TEXT_COLUMNS.iter().find(|c| **c == column) {
            Some(column) => (*column, Cell::Text(Some(value.to_string()))),
            None if column == "registered_capital" => {
                ("registered_capital", Cell::Number(value.parse().ok()))
            }
            None => return Ok(()),
        };
        // A change follows the entry it changes.
        if !self.pending.entities.is_empty() {
            self.flush_entities().await?;
        }
        self.pending
            .field_changes
            .insert((column, uscc.to_string()), (value, now.to_string()));
        if self.pending.field_changes.len() >= ROWS_PER_STATEMENT {
            self.flush_field_changes().await?;
        }
        Ok(())
    }

    async fn flush_field_changes(&mut self) -> Result<(), StoreError> {
        let changes = std::mem::take(&mut self.pending.field_changes);
        let mut by_column: BTreeMap<&'static str, Vec<Vec<Cell>>> = BTreeMap::new();
        for ((column, uscc), (value, now)) in changes {
            by_column.entry(column).or_default().push(vec![
                Cell::Text(Some(uscc)),
                value,
                Cell::Text(Some(now)),
            ]);
        }
        for (column, rows) in by_column {
            // VALUES names its columns column1, column2, … in both dialects.
            let sql = format!(
                "UPDATE entities SET {column} = v.column2, updated_at = v.column3
                 FROM (VALUES {}) AS v WHERE entities.uscc = v.column1",
                rows_of_parameters(self.backend, rows.len(), 3)
            );
            execute_rows(&mut self.tx, &sql, rows).await?;
        }
        Ok(())
    }

    /// Maps a legacy identifier to a USCC; written many to a statement, the
    /// last mapping of an identifier holds.
    pub async fn add_legacy_id(
        &mut self,
        legacy: &str,
        uscc: &str,
        kind: &str,
    ) -> Result<(), StoreError> {
        self.pending
            .legacy_ids
            .insert(legacy.to_string(), (uscc.to_string(), kind.to_string()));
        if self.pending.legacy_ids.len() >= ROWS_PER_STATEMENT {
            self.flush_legacy_ids().await?;
        }
        Ok(())
    }

    async fn flush_legacy_ids(&mut self) -> Result<(), StoreError> {
        let rows: Vec<Vec<Cell>> = std::mem::take(&mut self.pending.legacy_ids)
            .into_iter()
            .map(|(legacy, (uscc, kind))| {
                vec![
                    Cell::Text(Some(legacy)),
                    Cell::Text(Some(uscc)),
                    Cell::Text(Some(kind)),
                ]
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO legacy_ids (legacy_id, uscc, kind) VALUES {}
             ON CONFLICT (legacy_id) DO UPDATE SET uscc = excluded.uscc, kind = excluded.kind",
            rows_of_parameters(self.backend, rows.len(), 3)
        );
        execute_rows(&mut self.tx, &sql, rows).await
    }

    /// Adds records to an entity's yearly summary of an item: their count,
    /// the sum of their amounts, how many were flagged, the latest date.
    pub async fn add_to_summary(
        &mut self,
        uscc: &str,
        item: &str,
        year: i64,
        add: &SummaryIncrement,
    ) -> Result<(), StoreError> {
        self.add_to_summaries(item, &[(uscc.to_string(), year, add.clone())])
            .await
    }

    /// [`BatchWriter::add_to_summary`] for many entity-years of one item, a
    /// few statements in all. Each (entity, year) may appear once.
    pub async fn add_to_summaries(
        &mut self,
        item: &str,
        adds: &[(String, i64, SummaryIncrement)],
    ) -> Result<(), StoreError> {
        const CHUNK: usize = 1000;
        for chunk in adds.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO summaries (uscc, item, year, records, amount, flagged, latest) VALUES {}
                 ON CONFLICT (uscc, item, year) DO UPDATE SET records = summaries.records + excluded.records,
                   amount = summaries.amount + excluded.amount, flagged = summaries.flagged + excluded.flagged,
                   latest = CASE WHEN excluded.latest > summaries.latest THEN excluded.latest ELSE summaries.latest END",
                rows_of_parameters(self.backend, chunk.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for (uscc, year, add) in chunk {
                query = query
                    .bind(uscc)
                    .bind(item)
                    .bind(*year)
                    .bind(add.records)
                    .bind(add.amount)
                    .bind(add.flagged)
                    .bind(&add.latest);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Adds an event record; written many to a statement.
    pub async fn add_event(&mut self, e: &NewEvent<'_>) -> Result<(), StoreError> {
        self.pending.events.push(vec![
            Cell::Text(Some(e.uscc.to_string())),
            Cell::Text(Some(e.item.to_string())),
            Cell::Text(Some(e.event_date.to_string())),
            Cell::Text(Some(e.title.to_string())),
            Cell::Text(Some(e.detail.to_string())),
            Cell::Text(Some(e.department.to_string())),
            Cell::Integer(self.batch_id),
            Cell::Integer(e.source_row),
            Cell::Text(e.publicity_until.map(str::to_string)),
        ]);
        if self.pending.events.len() >= ROWS_PER_STATEMENT {
            self.flush_events().await?;
        }
        Ok(())
    }

    async fn flush_events(&mut self) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.pending.events);
        if rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO events (uscc, item, event_date, title, detail, department, batch_id, source_row, publicity_until)
             VALUES {}",
            rows_of_parameters(self.backend, rows.len(), 9)
        );
        execute_rows(&mut self.tx, &sql, rows).await
    }

    /// Sends every write held back.
    async fn flush(&mut self) -> Result<(), StoreError> {
        self.flush_entities().await?;
        self.flush_field_changes().await?;
        self.flush_legacy_ids().await?;
        self.flush_events().await
    }

    /// Writes the report and commits everything the batch wrote.
    /// Commits the batch with its counts, report and content (its SHA-256
    /// and length). Content committed meanwhile by another writer fails
    /// here with [`StoreError::Duplicate`].
    pub async fn commit(
        mut self,
        counts: BatchCounts,
        content: (&str, u64),
        report: &serde_json::Value,
        finished_at: &str,
    ) -> Result<i64, StoreError> {
        self.flush().await?;
        sqlx::query("UPDATE batches SET rows_in = $1, accepted = $2, quarantined = $3, report = $4, finished_at = $5, content_sha256 = $6, content_bytes = $7 WHERE id = $8")
            .bind(counts.rows_in)
            .bind(counts.accepted)
            .bind(counts.quarantined)
            .bind(report.to_string())
            .bind(finished_at)
            .bind(content.0)
            .bind(content.1 as i64)
            .bind(self.batch_id)
            .execute(&mut *self.tx)
            .await
            .map_err(duplicate_or)?;
        // The change markers, last: their row locks are held only for the
        // commit, and order the batches as they commit.
        let item_mark = format!("item:{}", self.item);
        sqlx::query(
            "INSERT INTO batch_marks (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&item_mark)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(
            "UPDATE batch_marks SET seq = seq + 1 WHERE name = 'all' OR name = $1
             OR (name = 'registry' AND EXISTS
                 (SELECT 1 FROM catalog_items WHERE id = $2 AND record = 'registry'))",
        )
        .bind(&item_mark)
        .bind(&self.item)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(self.batch_id)
    }

    /// Discards everything the batch wrote.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::code_prefix_end;

    #[test]
    fn code_prefixes_end_where_the_next_begins() {
        assert_eq!(code_prefix_end("9144").as_deref(), Some("9145"));
        assert_eq!(code_prefix_end("91449").as_deref(), Some("9144A"));
        assert_eq!(code_prefix_end("9Z").as_deref(), Some("A"));
        assert_eq!(code_prefix_end("ZZ"), None);
        assert_eq!(code_prefix_end(""), None);
    }
}
