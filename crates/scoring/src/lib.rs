//! A credit-scorecard engine: binning with monotonic constraints, WoE and
//! IV, feature selection, L2 logistic regression, integer points, reason
//! codes, metrics, and the model as JSON and as SQL.
//!
//! Pure compute: tables in, models and scores out. No files, no clock, no
//! randomness — the caller states names, versions and dates.
//!
//! - [`table`]: the columns the engine reads;
//! - [`binning`]: optimal binning of one feature;
//! - [`logistic`]: the regression;
//! - [`fit`]: the whole fit, from a table to a [`Model`];
//! - [`model`]: the model document and the [`Scorer`];
//! - [`metrics`]: AUC, KS, Gini, log-loss, deciles, PSI;
//! - [`report`]: a model read against a sample;
//! - [`sql`]: the model as SQL `CASE` expressions.

pub mod binning;
pub mod fit;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod report;
pub mod sql;
pub mod table;

pub use binning::{BinRule, BinningOptions, Kind, Prebinning, Trend};
pub use fit::{FitError, FitOptions, Fitted, ModelInfo, fit, fit_weighted};
pub use model::{Model, ModelError, ReasonCode, Scaling, Scored, Scorer};
pub use report::{Report, report};
pub use table::{CategoricalBuilder, Column, Table, Value};
