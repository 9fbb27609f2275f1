//! The financing scorecard: the platform's credit profile of an enterprise
//! for lenders. Same engine and features as the supervision model, another
//! target: whether a loan the enterprise took went overdue or defaulted.
//! It never sees inspection results and is never shown as a supervision
//! class; its grades (A best) serve matching and the credit report.
//!
//! Features are taken at the point of lending: each loan is paired with the
//! enterprise's features as of 1 January of the year it was paid out, so a
//! loan's outcome is never explained by what happened after it. The latest
//! year with both outcomes (and any after it) is held out for validation
//! when earlier years can train alone.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use lake::sql::Sql;
use scoring::Model;
use scoring::metrics::Summary;
use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::classes::{self, ClassRule, Cutoffs};
use crate::features::FeatureSet;
use crate::improve::{self, Outlook};
use crate::sample::{self, select_rows};
use crate::screen::{StoredReason, reasons_of};
use crate::train::{fit_options, model_info};

/// A loan paid out and how it turned out.
#[derive(Debug, Clone, PartialEq)]
pub struct Loan {
    pub subject: String,
    pub disbursed_on: NaiveDate,
    /// Overdue or defaulted.
    pub bad: bool,
}

/// Features the financing scorecard never learns from: they count records
/// of internal items (complaints), and the card's reasons and outlook reach
/// banks and the enterprise, which internal items never do (DESIGN.md
/// invariant 8). The supervision model, seen by regulators only, keeps them.
pub const NOT_FOR_LENDERS: &[&str] = &[
    "complaints_1y",
    "complaints_90d",
    "repeat_complaints_14d_1y",
    "complaint_spike_90d",
];

/// `table` without the columns named in `names`.
fn without(table: scoring::Table, names: &[&str]) -> scoring::Table {
    let mut kept = scoring::Table::default();
    for (name, column) in table.names.into_iter().zip(table.columns) {
        if !names.contains(&name.as_str()) {
            kept.push(name, column);
        }
    }
    kept
}

/// Shares of grades A, B, C, D among scored enterprises, best first.
pub const GRADE_SHARES: [f64; 4] = [0.2, 0.3, 0.3, 0.2];

/// What training found, kept beside the model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FinancingReport {
    pub features_version: String,
    /// Loans by year of payment, and how many went bad.
    pub loans_by_year: Vec<(i32, u64, u64)>,
    pub trained_on: u64,
    pub training_metrics: Summary,
    /// The first held-out year (it and later years validate), when one
    /// had both outcomes after earlier years that had both.
    pub holdout_year: Option<i32>,
    pub holdout_metrics: Option<Summary>,
}

pub struct FinancingOutcome {
    pub model: Model,
    pub report: FinancingReport,
}

/// One enterprise, scored and graded.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    pub subject: String,
    pub score: i64,
    pub probability: f64,
    /// "A" … "D".
    pub grade: char,
    pub reasons: Vec<StoredReason>,
    /// What the enterprise could do to raise its grade.
    pub outlook: Outlook,
    /// The facts product rules ask about, from the same features.
    pub employees: Option<f64>,
    /// Yuan, in the year before the as-of date.
    pub tax_paid_1y: Option<f64>,
}

/// Features at each loan year's start, labelled by the year's loans: per
/// enterprise and year, bad when any of its loans that year went bad.
async fn loan_samples(
    sql: &Sql,
    set: &FeatureSet,
    loans: &[Loan],
) -> Result<Vec<(i32, scoring::Table, Vec<bool>)>, RiskError> {
    let mut by_year: BTreeMap<i32, BTreeMap<&str, bool>> = BTreeMap::new();
    for loan in loans {
        let bad = by_year
            .entry(loan.disbursed_on.year())
            .or_default()
            .entry(loan.subject.as_str())
            .or_insert(false);
        *bad |= loan.bad;
    }
    let mut out = Vec::new();
    for (year, outcomes) in by_year {
        let as_of = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| RiskError::Data(format!("no 1 January in {year}")))?;
        let population = sample::population(sql, set, as_of).await?;
        let mut rows = Vec::new();
        let mut target = Vec::new();
        for (row, subject) in population.subjects.iter().enumerate() {
            if let Some(&bad) = outcomes.get(subject.as_str()) {
                rows.push(row);
                target.push(bad);
            }
        }
        out.push((year, select_rows(&population.table, &rows), target));
    }
    Ok(out)
}

/// Trains the financing scorecard on loan outcomes.
pub async fn train(
    sql: &Sql,
    set: &FeatureSet,
    loans: &[Loan],
    version: &str,
    created: &str,
) -> Result<FinancingOutcome, RiskError> {
    let samples = loan_samples(sql, set, loans).await?;
    let both = |target: &[bool]| target.iter().any(|b| *b) && target.iter().any(|b| !*b);
    let loans_by_year: Vec<(i32, u64, u64)> = samples
        .iter()
        .map(|(year, _, t)| {
            (
                *year,
                t.len() as u64,
                t.iter().filter(|b| **b).count() as u64,
            )
        })
        .collect();
    // Hold out from the latest year with both outcomes whose earlier years
    // have both too; that year and any later ones validate, the earlier
    // ones train.
    let holdout = (1..samples.len()).rev().find(|&k| {
        let earlier: Vec<bool> = samples[..k].iter().flat_map(|s| s.2.clone()).collect();
        both(&samples[k].2) && both(&earlier)
    });
    let holdout_year = holdout.map(|k| samples[k].0);
    let mut training: Option<(scoring::Table, Vec<bool>)> = None;
    let mut held: Option<(scoring::Table, Vec<bool>)> = None;
    for (k, (_, table, target)) in samples.into_iter().enumerate() {
        let slot = if holdout.is_some_and(|h| k >= h) {
            &mut held
        } else {
            &mut training
        };
        *slot = Some(match slot.take() {
            None => (table, target),
            Some((t, mut y)) => {
                y.extend(target);
                (sample::concat(&t, &table)?, y)
            }
        });
    }
    let Some((table, target)) = training else {
        return Err(RiskError::Data(
            "no loans paid out: nothing to learn from".into(),
        ));
    };
    if !both(&target) {
        return Err(RiskError::Data(format!(
            "{} loans, {} bad: a financing model needs both outcomes",
            target.len(),
            target.iter().filter(|b| **b).count()
        )));
    }
    let info = model_info(
        set,
        "financing",
        "loan_overdue_or_default",
        version,
        created,
    );
    // Loans are hundreds where inspections are thousands: the engine's
    // default bins of at least 5 % keep the card from learning noise.
    let options = scoring::FitOptions {
        binning: scoring::BinningOptions::default(),
        ..fit_options(set)
    };
    let table = without(table, NOT_FOR_LENDERS);
    let fitted = scoring::fit_weighted(&table, &target, None, &options, &info)?;
    let mut model = fitted.model;
    let holdout_metrics = match &held {
        Some((table, target)) => {
            scoring::report(&model.scorer(), table, Some(target.as_slice()))?.metrics
        }
        None => None,
    };
    model.training.validation = holdout_metrics;
    model.training.notes.insert(
        "features_version".into(),
        serde_json::Value::String(set.version.to_string()),
    );
    Ok(FinancingOutcome {
        report: FinancingReport {
            features_version: set.version.to_string(),
            loans_by_year,
            trained_on: target.len() as u64,
            training_metrics: model.training.metrics,
            holdout_year,
            holdout_metrics,
        },
        model,
    })
}

/// Scores every enterprise known at `as_of` and grades it by
/// [`GRADE_SHARES`]; returns the grades and the cut-offs used.
pub async fn grade(
    sql: &Sql,
    set: &FeatureSet,
    model: &Model,
    as_of: NaiveDate,
) -> Result<(Vec<Graded>, Cutoffs), RiskError> {
    let population = sample::population(sql, set, as_of).await?;
    let scorer = model.scorer();
    let bins = scorer.bin_table(&population.table)?;
    let scored = scorer.score_binned(&bins, population.table.rows());
    let scores: Vec<i64> = scored.iter().map(|s| s.score).collect();
    let cutoffs = classes::cutoffs(&scores, ClassRule::Shares(GRADE_SHARES));
    let numbers = |name: &str| match population.table.column(name) {
        Some(scoring::Column::Numeric(values)) => Some(values.clone()),
        _ => None,
    };
    let (employees, tax_paid) = (numbers("employees"), numbers("tax_paid_1y"));
    let value = |column: &Option<Vec<f64>>, row: usize| {
        column
            .as_ref()
            .and_then(|c| c.get(row).copied())
            .filter(|v| v.is_finite())
    };
    let planner = improve::Planner::new(&scorer, set);
    let graded = population
        .subjects
        .into_iter()
        .zip(&scored)
        .enumerate()
        .map(|(row, (subject, s))| Graded {
            employees: value(&employees, row),
            tax_paid_1y: value(&tax_paid, row),
            subject,
            score: s.score,
            probability: s.probability,
            grade: cutoffs
                .class_of(s.score)
                .to_string()
                .chars()
                .next()
                .unwrap_or('D'),
            reasons: reasons_of(model, set, s),
            outlook: {
                let row_bins: Vec<u8> = bins.iter().map(|feature| feature[row]).collect();
                planner.outlook(&row_bins, s.score, &cutoffs)
            },
        })
        .collect();
    Ok((graded, cutoffs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use scoring::{Column, Table};

    use super::*;

    #[test]
    fn internal_counts_are_left_out_and_the_rest_kept_in_order() {
        let mut table = Table::default();
        for name in ["years_in_operation", "complaints_1y", "tax_paid_1y"] {
            table.push(name, Column::Numeric(vec![1.0, 2.0]));
        }
        let kept = without(table, NOT_FOR_LENDERS);
        assert_eq!(kept.names, ["years_in_operation", "tax_paid_1y"]);
        assert_eq!(kept.rows(), 2);
        for name in NOT_FOR_LENDERS {
            assert!(crate::V4.feature(name).is_some(), "{name}");
        }
        // Every feature read from complaints is kept from lenders.
        for feature in crate::V4.features {
            if feature.name.contains("complaint") {
                assert!(NOT_FOR_LENDERS.contains(&feature.name), "{}", feature.name);
            }
        }
    }
}
