//! Screening: score every entity, class it, and keep the result.

use std::time::Instant;

use chrono::NaiveDate;
use domain::RiskClass;
use lake::sql::Sql;
use scoring::{Model, Scored};
use serde::{Deserialize, Serialize};
use store::{RiskScoreRow, Store};

use crate::RiskError;
use crate::classes::{ClassRule, Cutoffs};
use crate::features::FeatureSet;
use crate::policy::{Policy, RuleCount, SegmentSummary};
use crate::sample;
use crate::train::PopulationReference;
use crate::words;

pub struct ScreenOutcome {
    pub as_of: NaiveDate,
    pub subjects: Vec<String>,
    pub scored: Vec<Scored>,
    pub classes: Vec<RiskClass>,
    /// Per entity, the policy's class rules it meets, the decider first.
    pub rules_met: Vec<Vec<usize>>,
    pub policy: Policy,
    pub summary: ScreenSummary,
}

/// What a screening stores about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScreenSummary {
    pub rule: ClassRule,
    /// The city-wide cut-offs (segments graded apart have their own).
    pub cutoffs: Cutoffs,
    /// Entities in A, B, C, D, the national rules applied.
    pub class_counts: [u64; 4],
    /// Entities in A, B, C, D by their score alone.
    #[serde(default)]
    pub score_class_counts: [u64; 4],
    /// Each national rule: entities it applies to and entities it moved.
    #[serde(default)]
    pub rules: Vec<RuleCount>,
    /// The city-wide group first, then each industry segment.
    #[serde(default)]
    pub segments: Vec<SegmentSummary>,
    /// The policy screened with, so a rescreening can reuse it.
    #[serde(default)]
    pub policy: Option<Policy>,
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

/// Scores and classes every entity known at `as_of` under `policy` (the
/// national rules first, see [`crate::policy`]); `rule` grades the
/// city-wide group. `progress` hears of each phase as it starts.
pub async fn screen(
    sql: &Sql,
    set: &FeatureSet,
    model: &Model,
    as_of: NaiveDate,
    rule: ClassRule,
    policy: &Policy,
    progress: &(dyn Fn(Phase) + Send + Sync),
) -> Result<ScreenOutcome, RiskError> {
    rule.validate().map_err(RiskError::Data)?;
    progress(Phase::Features);
    let started = Instant::now();
    let everyone = sample::everyone(sql, set, as_of).await?;
    let (in_scope, mut rule_counts) = policy.scope(&everyone);
    let population = everyone.select(&in_scope);
    drop(everyone);
    let features_seconds = started.elapsed().as_secs_f64();

    progress(Phase::Scoring);
    let started = Instant::now();
    let scorer = model.scorer();
    let bins = scorer.bin_table(&population.table)?;
    let scored = scorer.score_binned(&bins, population.table.rows());
    let scores: Vec<i64> = scored.iter().map(|s| s.score).collect();
    let classing = policy.classes(&population, &scores, rule, &mut rule_counts);
    let scoring_seconds = started.elapsed().as_secs_f64();

    let mut class_counts = [0u64; 4];
    let mut score_class_counts = [0u64; 4];
    for (&c, &by_score) in classing.classes.iter().zip(&classing.score_classes) {
        class_counts[c as usize] += 1;
        score_class_counts[by_score as usize] += 1;
    }
    let cutoffs = classing
        .segments
        .first()
        .map_or(Cutoffs { a: 0, b: 0, c: 0 }, |city| city.cutoffs);
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
        classes: classing.classes,
        rules_met: classing.matched,
        policy: policy.clone(),
        summary: ScreenSummary {
            rule,
            cutoffs,
            class_counts,
            score_class_counts,
            rules: rule_counts,
            segments: classing.segments,
            policy: Some(policy.clone()),
            features_seconds,
            scoring_seconds,
            score_psi,
            feature_psi,
            psi_reference: psi_reference.to_string(),
        },
    })
}

/// A reason as stored: a national rule that decided the class, or a
/// feature's bin and the points it lost; with the same plain words in both
/// languages for pages, API, CSV and credit reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredReason {
    /// The feature, or the column a rule read.
    pub feature: String,
    /// The bin in the model's own terms (empty for a rule).
    pub bin: String,
    pub points: u32,
    /// The national rule's id, for a rule's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default)]
    pub text_zh: String,
    #[serde(default)]
    pub text_en: String,
}

impl StoredReason {
    /// The reason in Chinese, for rows stored before reasons had words.
    pub fn zh(&self) -> String {
        if !self.text_zh.is_empty() {
            return self.text_zh.clone();
        }
        format!("{}：{}", self.feature, self.bin)
    }

    pub fn en(&self) -> String {
        if !self.text_en.is_empty() {
            return self.text_en.clone();
        }
        format!("{}: {}", self.feature, self.bin)
    }
}

/// The reasons of one score in words: feature, bin, points lost.
pub fn reasons_of(model: &Model, set: &FeatureSet, scored: &Scored) -> Vec<StoredReason> {
    scored
        .reasons()
        .iter()
        .filter_map(|r| {
            let feature = model.features.get(r.feature as usize)?;
            let bin = feature.bins.get(r.bin as usize)?;
            let (text_zh, text_en) = words::bin(set, &feature.name, &feature.label, &bin.rule);
            Some(StoredReason {
                feature: feature.name.clone(),
                bin: bin.label.clone(),
                points: r.points_lost,
                rule: None,
                text_zh,
                text_en,
            })
        })
        .collect()
}

/// An entity's reasons: the national rules it meets (the decider first),
/// then the score's.
pub fn reasons_with_rules(
    model: &Model,
    set: &FeatureSet,
    policy: &Policy,
    rules_met: &[usize],
    scored: &Scored,
) -> Vec<StoredReason> {
    let mut out: Vec<StoredReason> = rules_met
        .iter()
        .filter_map(|&k| policy.rules.get(k))
        .map(|rule| {
            let class = rule.class.unwrap_or(RiskClass::D);
            StoredReason {
                feature: rule.when.clone(),
                bin: String::new(),
                points: 0,
                rule: Some(rule.id.clone()),
                text_zh: format!(
                    "{}：按规定不低于{}类（{}）。依据：{}",
                    rule.name_zh,
                    class,
                    class.name_zh(),
                    rule.basis_zh
                ),
                text_en: format!(
                    "{}: by rule at least class {class} ({}). Basis: {}",
                    rule.name_en,
                    class.name_en(),
                    rule.basis_en
                ),
            }
        })
        .collect();
    out.extend(reasons_of(model, set, scored));
    out
}

/// Stores a screening with every entity's result; returns its id.
pub async fn save(
    store: &Store,
    set: &FeatureSet,
    model: &Model,
    outcome: &ScreenOutcome,
    screened_at: &str,
) -> Result<i64, RiskError> {
    let rows: Vec<RiskScoreRow> = outcome
        .subjects
        .iter()
        .zip(&outcome.scored)
        .zip(&outcome.classes)
        .zip(&outcome.rules_met)
        .map(|(((subject, scored), class), rules_met)| {
            let reasons = reasons_with_rules(model, set, &outcome.policy, rules_met, scored);
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
