//! Screening: score every entity, class it, and keep the result.

use std::time::Instant;

use chrono::NaiveDate;
use domain::RiskClass;
use lake::sql::Sql;
use scoring::{Model, Scored};
use serde::{Deserialize, Serialize};
use store::{RiskScoreRow, Store};

use crate::RiskError;
use crate::classes::{self, ClassRule, Cutoffs};
use crate::features::FeatureSet;
use crate::sample;
use crate::train::PopulationReference;

pub struct ScreenOutcome {
    pub as_of: NaiveDate,
    pub subjects: Vec<String>,
    pub scored: Vec<Scored>,
    pub classes: Vec<RiskClass>,
    pub summary: ScreenSummary,
}

/// What a screening stores about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScreenSummary {
    pub rule: ClassRule,
    pub cutoffs: Cutoffs,
    /// Entities in A, B, C, D.
    pub class_counts: [u64; 4],
    /// Features of every entity from the lake.
    pub features_seconds: f64,
    /// Scoring and classing every entity, reasons included.
    pub scoring_seconds: f64,
    /// Stability of the score and each feature against `psi_reference`.
    pub score_psi: f64,
    pub feature_psi: Vec<(String, f64)>,
    /// What the PSI compares with: the population at the training date,
    /// or, for a model without one, the training sample.
    #[serde(default)]
    pub psi_reference: String,
}

/// Where a screening is, for whoever waits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Features,
    Scoring,
    Storing,
}

/// Scores and classes every entity known at `as_of`; `progress` hears of
/// each phase as it starts.
pub async fn screen(
    sql: &Sql,
    set: &FeatureSet,
    model: &Model,
    as_of: NaiveDate,
    rule: ClassRule,
    progress: &(dyn Fn(Phase) + Send + Sync),
) -> Result<ScreenOutcome, RiskError> {
    rule.validate().map_err(RiskError::Data)?;
    progress(Phase::Features);
    let started = Instant::now();
    let population = sample::population(sql, set, as_of).await?;
    let features_seconds = started.elapsed().as_secs_f64();

    progress(Phase::Scoring);
    let started = Instant::now();
    let scorer = model.scorer();
    let bins = scorer.bin_table(&population.table)?;
    let scored = scorer.score_binned(&bins, population.table.rows());
    let scores: Vec<i64> = scored.iter().map(|s| s.score).collect();
    let cutoffs = classes::cutoffs(&scores, rule);
    let classes: Vec<RiskClass> = scores.iter().map(|&s| cutoffs.class_of(s)).collect();
    let scoring_seconds = started.elapsed().as_secs_f64();

    let mut class_counts = [0u64; 4];
    for &c in &classes {
        class_counts[c as usize] += 1;
    }
    // Stability from the bins and scores just computed.
    let (psi_reference, reference) = match PopulationReference::in_model(model) {
        Some(reference) => ("training population", reference),
        None => (
            "training sample",
            PopulationReference::training_sample(model),
        ),
    };
    let today = PopulationReference::from_scored(model, &bins, &scored);
    let feature_psi = model
        .features
        .iter()
        .zip(reference.feature_counts.iter().zip(&today.feature_counts))
        .map(|(f, (then, now))| (f.name.clone(), scoring::metrics::psi(then, now)))
        .collect();
    let score_psi = scoring::metrics::psi(&reference.score_counts, &today.score_counts);
    Ok(ScreenOutcome {
        as_of,
        subjects: population.subjects,
        scored,
        classes,
        summary: ScreenSummary {
            rule,
            cutoffs,
            class_counts,
            features_seconds,
            scoring_seconds,
            score_psi,
            feature_psi,
            psi_reference: psi_reference.to_string(),
        },
    })
}

/// A reason as stored: the feature, its bin in words, the points lost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredReason {
    pub feature: String,
    pub bin: String,
    pub points: u32,
}

/// The reasons of one score in words: feature, bin, points lost.
pub fn reasons_of(model: &Model, scored: &Scored) -> Vec<StoredReason> {
    scored
        .reasons()
        .iter()
        .filter_map(|r| {
            let feature = model.features.get(r.feature as usize)?;
            let bin = feature.bins.get(r.bin as usize)?;
            Some(StoredReason {
                feature: feature.name.clone(),
                bin: bin.label.clone(),
                points: r.points_lost,
            })
        })
        .collect()
}

/// Stores a screening with every entity's result; returns its id.
pub async fn save(
    store: &Store,
    model: &Model,
    outcome: &ScreenOutcome,
    screened_at: &str,
) -> Result<i64, RiskError> {
    let rows: Vec<RiskScoreRow> = outcome
        .subjects
        .iter()
        .zip(&outcome.scored)
        .zip(&outcome.classes)
        .map(|((subject, scored), class)| {
            let reasons = reasons_of(model, scored);
            RiskScoreRow {
                uscc: subject.clone(),
                score: scored.score,
                probability: scored.probability,
                class: class.to_string(),
                reasons_json: serde_json::to_string(&reasons).unwrap_or_default(),
            }
        })
        .collect();
    let summary = serde_json::to_string(&outcome.summary).unwrap_or_default();
    let id = store
        .save_screening(
            screened_at,
            &outcome.as_of.to_string(),
            &model.version,
            &summary,
            rows,
        )
        .await?;
    Ok(id)
}
