//! Early warning from citizens' complaints, over the store and the lake.
//!
//! The pure work — linking names, the detectors, their score — is in the
//! `complaints` crate; this crate feeds it the city's data: [`load`] reads
//! the complaints received up to a day from the lake, [`linker`] indexes
//! the registry's rows (the caller reads them from the store once) with
//! closure days from the lake, [`link`] links every complaint that carries no code (on
//! every core), and [`detect`] runs every detector over them. The CLI
//! (`xinyong complaints`), the demo and the server call these;
//! [`detect_and_save`] runs it all and stores the signals with their
//! [`evidence::Evidence`], from which regulators draft warnings.

pub mod evidence;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use complaints::detect::{self, Config, Row, Signal};
use complaints::link::{self, Link, Linker};
use lake::sql::{Sql, SqlError};

#[derive(Debug, thiserror::Error)]
pub enum WarningError {
    #[error("lake: {0}")]
    Sql(#[from] SqlError),
    #[error("store: {0}")]
    Store(#[from] store::StoreError),
    #[error("complaint {ticket}: received_on {value:?} is not a date")]
    Date { ticket: String, value: String },
}

/// One complaint as read from the lake.
#[derive(Debug, Clone)]
pub struct Complaint {
    pub ticket: String,
    pub business_name: String,
    /// The USCC the complaint carried, resolved at ingest.
    pub subject: Option<String>,
    pub category: String,
    pub industry: String,
    /// The town (9 digits) or district (6 digits) where it happened.
    pub division: String,
    pub received_on: NaiveDate,
    pub content: String,
    /// For a complaint without a code: how its name was linked.
    pub link: Option<Link>,
}

impl Complaint {
    /// The entity it is about: its code, or the one it was linked to.
    pub fn entity(&self) -> Option<&str> {
        self.subject
            .as_deref()
            .or_else(|| self.link.as_ref().and_then(|l| l.uscc.as_deref()))
    }
}

/// Complaints received on or before `to` (all of them without it), oldest
/// first.
pub async fn load(sql: &Sql, to: Option<NaiveDate>) -> Result<Vec<Complaint>, WarningError> {
    let until = to.map_or(String::new(), |d| {
        format!("WHERE received_on <= DATE '{d}'")
    });
    let found = sql
        .query(&format!(
            "SELECT ticket_number, business_name, subject, category, industry, division,
                    CAST(received_on AS VARCHAR) AS received, content
             FROM complaint {until}
             ORDER BY received_on, ticket_number"
        ))
        .await?;
    let mut out = Vec::with_capacity(found.rows.len());
    for row in found.rows {
        let mut values = row.into_iter();
        let mut next = || values.next().flatten().unwrap_or_default();
        let ticket = next();
        let business_name = next();
        let subject = Some(next()).filter(|s| !s.is_empty());
        let category = next();
        let industry = next();
        let division = next();
        let received = next();
        let content = next();
        let Ok(received_on) = NaiveDate::parse_from_str(&received, "%Y-%m-%d") else {
            return Err(WarningError::Date {
                ticket,
                value: received,
            });
        };
        out.push(Complaint {
            ticket,
            business_name,
            subject,
            category,
            industry,
            division,
            received_on,
            content,
            link: None,
        });
    }
    Ok(out)
}

/// The registry (`registry`: `Store::entities_table`'s rows) indexed for
/// linking, each entity with the day it closed when its latest status
/// change closed it (from the lake's `status_change`).
pub async fn linker(
    sql: &Sql,
    registry: &[Vec<Option<String>>],
    threshold: f64,
) -> Result<Linker, WarningError> {
    let closures = sql
        .query(
            "SELECT subject, CAST(effective_on AS VARCHAR) AS closed_on FROM (
               SELECT subject, status, effective_on,
                 ROW_NUMBER() OVER (PARTITION BY subject ORDER BY effective_on DESC, status) AS latest
               FROM status_change
             ) WHERE latest = 1 AND status IN ('deregistered', 'revoked', 'moved_out')",
        )
        .await?;
    let mut closed: HashMap<String, String> = HashMap::with_capacity(closures.rows.len());
    for row in closures.rows {
        if let [Some(subject), Some(day)] = row.as_slice() {
            closed.insert(subject.clone(), day.clone());
        }
    }
    // The registry's columns: uscc, name, …, established_on (5),
    // industry (6), division (7).
    let column =
        |row: &[Option<String>], i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    Ok(Linker::new(
        registry.iter().map(|row| {
            let uscc = column(row, 0);
            link::Entity {
                closed_on: closed.remove(&uscc),
                uscc,
                name: column(row, 1),
                established_on: column(row, 5),
                industry: column(row, 6),
                division: column(row, 7),
            }
        }),
        threshold,
    ))
}

/// Links every complaint that carries no code, spread over the cores.
pub fn link(complaints: &mut [Complaint], linker: &Linker) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = complaints.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for part in complaints.chunks_mut(chunk) {
            scope.spawn(move || {
                for complaint in part.iter_mut().filter(|c| c.subject.is_none()) {
                    let received_on = complaint.received_on.to_string();
                    complaint.link = Some(linker.link(&link::Complaint {
                        business_name: &complaint.business_name,
                        division: &complaint.division,
                        industry: &complaint.industry,
                        received_on: &received_on,
                        content: &complaint.content,
                    }));
                }
            });
        }
    });
}

/// A date as the detectors' day number.
pub fn day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

/// A day number back to its date.
pub fn date(day: i64) -> Option<NaiveDate> {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Runs every detector over the complaints and returns the signals that
/// start in `from..=to`; the signals' complaint indices point into
/// `complaints`.
pub fn detect(
    complaints: &[Complaint],
    from: NaiveDate,
    to: NaiveDate,
    config: &Config,
) -> Vec<Signal> {
    let rows: Vec<Row> = complaints
        .iter()
        .map(|c| Row {
            business: c.entity().map(str::to_string),
            category: c.category.clone(),
            town: c.division.clone(),
            industry: c.industry.clone(),
            day: day(c.received_on),
        })
        .collect();
    detect::detect(&rows, day(from), day(to), config)
}

/// What [`detect_and_save`] found and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Detection {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub complaints: usize,
    /// Complaints without a code linked to an entity.
    pub linked: usize,
    pub signals: usize,
    pub saved: store::SavedSignals,
}

/// Where a detection run's signals may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    On(NaiveDate),
    /// This many days before the period's last day: a periodic run over
    /// what is new.
    DaysBefore(u64),
    /// Four weeks after the first complaint, the shortest baseline: a run
    /// over everything.
    AfterBaseline,
}

/// Reads the complaints up to `to` (the latest without it), links those
/// without a code, runs every detector over the period from `start` and
/// stores the signals with their evidence, detected at `at` (RFC 3339).
/// `None` when the lake holds no complaints.
pub async fn detect_and_save(
    store: &store::Store,
    sql: &Sql,
    start: Start,
    to: Option<NaiveDate>,
    config: &Config,
    threshold: f64,
    at: &str,
) -> Result<Option<Detection>, WarningError> {
    let registry = store.entities_table().await?;
    let mut complaints = load(sql, to).await?;
    let (Some(first), Some(latest)) = (
        complaints.first().map(|c| c.received_on),
        complaints.last().map(|c| c.received_on),
    ) else {
        return Ok(None);
    };
    let linker = linker(sql, &registry, threshold).await?;
    link(&mut complaints, &linker);
    let to = to.unwrap_or(latest);
    let from = match start {
        Start::On(day) => day,
        Start::DaysBefore(days) => to - chrono::Days::new(days),
        Start::AfterBaseline => (first + chrono::Days::new(28)).min(to),
    };
    let links: Vec<(String, String, f64, String)> = complaints
        .iter()
        .filter_map(|c| {
            let link = c.link.as_ref()?;
            let uscc = link.uscc.clone()?;
            let evidence: Vec<&str> = link.evidence.iter().map(|e| e.name_en()).collect();
            Some((c.ticket.clone(), uscc, link.confidence, evidence.join("; ")))
        })
        .collect();
    store.save_links(&links, at).await?;
    let signals = detect(&complaints, from, to, config);
    let rows: Vec<store::SignalRow> = signals
        .iter()
        .map(|s| evidence::Evidence::of(s, &complaints).row(at))
        .collect();
    let saved = store.save_signals(&rows).await?;
    Ok(Some(Detection {
        from,
        to,
        complaints: complaints.len(),
        linked: links.len(),
        signals: signals.len(),
        saved,
    }))
}
