//! The city's risk model: features per entity from the lake (versioned SQL
//! with an as-of date), labels from inspection results, training with a
//! time-based hold-out, screening of every entity into classes A–D, and
//! monitoring. The scorecard itself is the `scoring` crate; this crate
//! reads the lake, writes the store and orchestrates, for the CLI and the
//! server alike.
//!
//! - [`features`]: the feature definitions;
//! - [`sample`]: the population at a date, labels and their weights;
//! - [`classes`]: class cut-offs from shares or scores;
//! - [`policy`]: the national rules and industry segments around them;
//! - [`train`] and [`screen`]: the two jobs;
//! - [`challenger`]: a gradient-boosted model beside the scorecard;
//! - [`financing`]: the financing scorecard, learnt from loan outcomes;
//! - [`words`]: reasons in plain words, Chinese and English.

pub mod challenger;
pub mod classes;
pub mod features;
pub mod financing;
pub mod improve;
pub mod policy;
pub mod sample;
pub mod screen;
pub mod train;
pub mod words;

pub use classes::{ClassRule, Cutoffs};
pub use features::{FeatureSet, V4};
pub use policy::Policy;
pub use screen::{ScreenOutcome, screen};
pub use train::{TrainOutcome, train};

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error(transparent)]
    Sql(#[from] lake::sql::SqlError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Fit(#[from] scoring::FitError),
    #[error(transparent)]
    Model(#[from] scoring::ModelError),
    #[error("feature column '{column}': {problem}")]
    Column { column: String, problem: String },
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error("{0}")]
    Data(String),
}

use chrono::{Datelike, Months, NaiveDate};

/// The default hold-out start for training: 1 January of the year of the
/// latest inspection result, so the hold-out year is the latest one with
/// outcomes.
pub async fn default_training_as_of(sql: &lake::sql::Sql) -> Result<NaiveDate, RiskError> {
    let latest = single_value(
        sql,
        "SELECT CAST(MAX(inspected_on) AS VARCHAR) FROM inspection_result",
    )
    .await?
    .ok_or_else(|| {
        RiskError::Data("no inspection results in the lake: nothing to learn from".into())
    })?;
    let date: NaiveDate = latest
        .parse()
        .map_err(|_| RiskError::Data(format!("latest inspection date '{latest}' is not a date")))?;
    NaiveDate::from_ymd_opt(date.year(), 1, 1)
        .ok_or_else(|| RiskError::Data(format!("no 1 January in {}", date.year())))
}

/// The default as-of date for screening: the first day after the latest
/// month of tax payments, the most regular feed — "today" as far as the
/// data goes.
pub async fn default_screening_as_of(sql: &lake::sql::Sql) -> Result<NaiveDate, RiskError> {
    let latest = single_value(sql, "SELECT MAX(period) FROM tax_payment")
        .await?
        .ok_or_else(|| {
            RiskError::Data("no tax payments in the lake: no date to screen at".into())
        })?;
    let first = NaiveDate::parse_from_str(&format!("{latest}-01"), "%Y-%m-%d")
        .map_err(|_| RiskError::Data(format!("latest tax period '{latest}' is not YYYY-MM")))?;
    first
        .checked_add_months(Months::new(1))
        .ok_or_else(|| RiskError::Data(format!("no month after {latest}")))
}

async fn single_value(sql: &lake::sql::Sql, query: &str) -> Result<Option<String>, RiskError> {
    let rows = sql.query(query).await?;
    Ok(rows
        .rows
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}
