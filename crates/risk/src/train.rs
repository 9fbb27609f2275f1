//! Training with a time-based hold-out.
//!
//! For a hold-out start `as_of`: the model learns from the features known at
//! `as_of − 1 year` and the inspections of the year up to `as_of`, and is
//! validated on the features known at `as_of` and the inspections of the
//! year after it. Neither step sees anything dated after its own as-of
//! date, and the validation year comes after everything trained on.

use chrono::{Months, NaiveDate};
use lake::sql::Sql;
use scoring::metrics::Summary;
use scoring::{BinningOptions, FitOptions, Model, ModelInfo, Report};
use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::challenger::{self, SideBySide};
use crate::features::FeatureSet;
use crate::sample::{self, SampleFacts};

/// What a training run found, kept beside the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainReport {
    pub features_version: String,
    pub training: SampleFacts,
    pub validation: SampleFacts,
    pub training_metrics: Summary,
    /// On the hold-out year's inspected entities, unweighted.
    pub validation_metrics: Option<Summary>,
    /// Binning tables, deciles and PSI on the hold-out sample.
    pub validation_report: Report,
    /// The scorecard beside a gradient-boosted challenger on the hold-out
    /// sample; `None` with the reason in `challenger_problem` when the
    /// challenger could not be fitted (the scorecard does not depend on it).
    #[serde(default)]
    pub challenger: Option<SideBySide>,
    #[serde(default)]
    pub challenger_problem: Option<String>,
}

pub struct TrainOutcome {
    pub model: Model,
    pub report: TrainReport,
}

/// Events a bin below the share floor needs to be kept (see
/// [`fit_options`]).
pub const MIN_BIN_EVENTS: u64 = 8;

pub fn year_before(date: NaiveDate) -> NaiveDate {
    date.checked_sub_months(Months::new(12)).unwrap_or(date)
}

pub fn year_after(date: NaiveDate) -> NaiveDate {
    date.checked_add_months(Months::new(12)).unwrap_or(date)
}

/// Fit options for the city model: the feature set's trends, and bins of
/// at least 1 % of the labelled entities or at least
/// [`MIN_BIN_EVENTS`] events. The strongest signals (a listing, a
/// dishonest debtor, months of arrears) are rare: a share floor alone
/// merges them into one bin and drops them with an information value of
/// zero, so a rare value keeps its bin once enough of its entities had
/// problems.
pub fn fit_options(set: &FeatureSet) -> FitOptions {
    FitOptions {
        binning: BinningOptions {
            min_bin_share: 0.01,
            min_prebin_share: 0.01,
            min_bin_events: MIN_BIN_EVENTS,
            ..BinningOptions::default()
        },
        trends: set
            .features
            .iter()
            .map(|f| (f.name.to_string(), f.trend))
            .collect(),
        ..FitOptions::default()
    }
}

/// What a model of `set` says about itself: name, version, target, labels.
pub fn model_info(
    set: &FeatureSet,
    name: &str,
    target: &str,
    version: &str,
    created: &str,
) -> ModelInfo {
    ModelInfo {
        name: format!("{name} {}", set.version),
        version: version.to_string(),
        created: created.to_string(),
        target: target.to_string(),
        event: "1".to_string(),
        labels: set
            .features
            .iter()
            .map(|f| (f.name.to_string(), f.label_en.to_string()))
            .collect(),
    }
}

/// Trains and validates a model whose hold-out year starts at `as_of`.
pub async fn train(
    sql: &Sql,
    set: &FeatureSet,
    as_of: NaiveDate,
    version: &str,
    created: &str,
) -> Result<TrainOutcome, RiskError> {
    let training_as_of = year_before(as_of);
    let (training_population, training) = labelled_sample(sql, set, training_as_of, as_of).await?;
    if training.facts.bad == 0 || training.facts.bad == training.facts.labelled {
        return Err(RiskError::Data(format!(
            "inspections from {training_as_of} to {as_of} give {} labelled entities, {} with problems: a model needs both outcomes",
            training.facts.labelled, training.facts.bad
        )));
    }
    let info = model_info(set, "city risk", "inspection_problem", version, created);
    let fitted = scoring::fit_weighted(
        &training.table,
        &training.target,
        Some(&training.weights),
        &fit_options(set),
        &info,
    )?;
    let mut model = fitted.model;

    let (_, validation) = labelled_sample(sql, set, as_of, year_after(as_of)).await?;
    // The training date's whole population, for monitoring: the labelled
    // sample is the inspected, unlike the population by design, so drift
    // is measured against everyone at the training date.
    let reference = PopulationReference::of(&model, &training_population.table)?;
    model.training.notes.insert(
        REFERENCE_NOTE.into(),
        serde_json::to_value(&reference).unwrap_or_default(),
    );
    let scorer = model.scorer();
    let validation_report = scoring::report(
        &scorer,
        &validation.table,
        Some(validation.target.as_slice()),
    )?;
    let holdout_bins = scorer.bin_table(&validation.table)?;
    let holdout_probabilities: Vec<f64> = scorer
        .score_binned(&holdout_bins, validation.table.rows())
        .iter()
        .map(|s| s.probability)
        .collect();
    let (challenger, challenger_problem) = match challenger::side_by_side(
        (&training.table, &training.target, Some(&training.weights)),
        (&validation.table, &validation.target),
        &holdout_probabilities,
        &fit_options(set).trends,
    ) {
        Ok(side) if validation.facts.bad > 0 => (Some(side), None),
        Ok(_) => (
            None,
            Some("the hold-out year has no problems to compare on".to_string()),
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    let validation_metrics = validation_report.metrics;
    model.training.validation = validation_metrics;
    model.training.notes.insert(
        "features_version".into(),
        serde_json::Value::String(set.version.to_string()),
    );
    model.training.notes.insert(
        "training_as_of".into(),
        serde_json::Value::String(training_as_of.to_string()),
    );
    model.training.notes.insert(
        "holdout_as_of".into(),
        serde_json::Value::String(as_of.to_string()),
    );
    let report = TrainReport {
        features_version: set.version.to_string(),
        training_metrics: model.training.metrics,
        training: training.facts,
        validation: validation.facts,
        validation_metrics,
        validation_report,
        challenger,
        challenger_problem,
    };
    Ok(TrainOutcome { model, report })
}

/// The population at `as_of` and its entities inspected before `until`,
/// labelled and weighted.
pub async fn labelled_sample(
    sql: &Sql,
    set: &FeatureSet,
    as_of: NaiveDate,
    until: NaiveDate,
) -> Result<(sample::Population, sample::Sample), RiskError> {
    let population = sample::population(sql, set, as_of).await?;
    let labels = sample::labels(sql, as_of, until).await?;
    let complained = sample::complained(sql, as_of, until).await?;
    let labelled = sample::labelled(&population, &labels, &complained, until);
    Ok((population, labelled))
}

/// Where a model keeps its population reference among its training notes.
pub const REFERENCE_NOTE: &str = "population_reference";

/// How the whole population at the training date spread over the model's
/// bins and score intervals: what screenings' PSI compares with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PopulationReference {
    pub entities: u64,
    /// Per feature, in the model's order: entities per bin.
    pub feature_counts: Vec<Vec<u64>>,
    /// Entities per interval of the model's training score cuts.
    pub score_counts: Vec<u64>,
}

impl PopulationReference {
    pub fn of(model: &Model, table: &scoring::Table) -> Result<PopulationReference, RiskError> {
        let scorer = model.scorer();
        let bins = scorer.bin_table(table)?;
        let scores = scorer.score_binned(&bins, table.rows());
        Ok(PopulationReference::from_scored(model, &bins, &scores))
    }

    /// The reference of rows already binned and scored by `model`.
    pub fn from_scored(
        model: &Model,
        bins: &[Vec<u8>],
        scores: &[scoring::Scored],
    ) -> PopulationReference {
        let feature_counts = model
            .features
            .iter()
            .zip(bins)
            .map(|(feature, rows)| {
                let mut counts = vec![0u64; feature.bins.len()];
                for &b in rows {
                    counts[b as usize] += 1;
                }
                counts
            })
            .collect();
        PopulationReference {
            entities: scores.len() as u64,
            feature_counts,
            score_counts: scoring::metrics::histogram(
                scores.iter().map(|s| s.score as f64),
                &model.training.score_cuts,
            ),
        }
    }

    /// The reference a model carries, if it was trained with one.
    pub fn in_model(model: &Model) -> Option<PopulationReference> {
        let value = model.training.notes.get(REFERENCE_NOTE)?;
        serde_json::from_value(value.clone()).ok()
    }

    /// The training sample's spread, which every model records: the
    /// reference for a model trained without a population reference.
    pub fn training_sample(model: &Model) -> PopulationReference {
        PopulationReference {
            entities: model.training.rows,
            feature_counts: model
                .features
                .iter()
                .map(|f| f.bins.iter().map(|b| b.count).collect())
                .collect(),
            score_counts: model.training.score_counts.clone(),
        }
    }
}
