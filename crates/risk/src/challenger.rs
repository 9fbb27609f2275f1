//! A challenger to the scorecard: a gradient-boosted model (the `forust-ml`
//! crate) trained on the same features, labels and weights, with the same
//! monotonic directions, so the accuracy the scorecard gives up for being
//! readable is measured, not guessed. The scorecard stays the decision
//! model: only its points can be explained to an inspected firm.
//!
//! The booster takes numbers only: a categorical feature reaches it as the
//! rank of its level's training event rate (smoothed, so the trees can
//! split risky levels from calm ones on one axis); a level unseen in
//! training is missing. The fit is deterministic: no subsampling, fixed
//! settings below.

use std::collections::{BTreeMap, HashMap};

use forust_ml::GradientBooster;
use forust_ml::Matrix;
use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::objective::ObjectiveType;
use scoring::metrics::{self, Standing};
use scoring::{Column, Table, Trend};
use serde::{Deserialize, Serialize};

use crate::RiskError;

/// The booster's settings: many small, slow steps, as LightGBM's peer run
/// in `bench/` uses, and leaves of some weight so a handful of inspected
/// firms cannot make a rule of their own.
pub const TREES: usize = 300;
pub const LEARNING_RATE: f32 = 0.05;
pub const MAX_DEPTH: usize = 4;
pub const MIN_LEAF_WEIGHT: f32 = 5.0;

pub struct Challenger {
    booster: GradientBooster,
    /// Per feature in the training table's order: each categorical level's
    /// rank, or `None` for a numeric feature.
    levels: Vec<(String, Option<HashMap<String, usize>>)>,
}

/// Fits the challenger on a labelled table; `trends` are the features'
/// monotonic directions (ascending: risk rises with the value).
pub fn fit(
    table: &Table,
    target: &[bool],
    weights: Option<&[f64]>,
    trends: &BTreeMap<String, Trend>,
) -> Result<Challenger, RiskError> {
    let mut levels = Vec::with_capacity(table.names.len());
    let mut constraints = ConstraintMap::new();
    for (k, (name, column)) in table.names.iter().zip(&table.columns).enumerate() {
        match column {
            Column::Categorical {
                levels: names,
                codes,
            } => {
                levels.push((name.clone(), Some(rank_by_event_rate(names, codes, target))));
                constraints.insert(k, Constraint::Positive);
            }
            Column::Numeric(_) => {
                levels.push((name.clone(), None));
                let constraint = match trends.get(name) {
                    Some(Trend::Ascending) => Constraint::Positive,
                    Some(Trend::Descending) => Constraint::Negative,
                    _ => Constraint::Unconstrained,
                };
                constraints.insert(k, constraint);
            }
        }
    }
    let challenger = Challenger {
        booster: GradientBooster::default(),
        levels,
    };
    let data = challenger.matrix(table)?;
    let matrix = Matrix::new(&data, table.rows(), table.names.len());
    let y: Vec<f64> = target.iter().map(|&t| f64::from(u8::from(t))).collect();
    let ones;
    let weights = match weights {
        Some(w) => w,
        None => {
            ones = vec![1.0; y.len()];
            &ones
        }
    };
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(TREES)
        .set_learning_rate(LEARNING_RATE)
        .set_max_depth(MAX_DEPTH)
        .set_min_leaf_weight(MIN_LEAF_WEIGHT)
        .set_monotone_constraints(Some(constraints));
    booster
        .fit(&matrix, &y, weights, None)
        .map_err(|e| RiskError::Data(format!("challenger: {e}")))?;
    Ok(Challenger {
        booster,
        ..challenger
    })
}

impl Challenger {
    /// Probabilities of the event for every row of `table` (a table with
    /// the training table's columns).
    pub fn probabilities(&self, table: &Table) -> Result<Vec<f64>, RiskError> {
        let data = self.matrix(table)?;
        let matrix = Matrix::new(&data, table.rows(), self.levels.len());
        let log_odds = self.booster.predict(&matrix, true);
        Ok(log_odds.iter().map(|z| 1.0 / (1.0 + (-z).exp())).collect())
    }

    /// The table column-major, categories as their level's rank.
    fn matrix(&self, table: &Table) -> Result<Vec<f64>, RiskError> {
        let rows = table.rows();
        let mut data = Vec::with_capacity(rows * self.levels.len());
        for (name, levels) in &self.levels {
            let column = table.column(name).ok_or_else(|| {
                RiskError::Data(format!("challenger: the table has no column '{name}'"))
            })?;
            match (column, levels) {
                (Column::Numeric(values), None) => data.extend_from_slice(values),
                (Column::Categorical { .. }, Some(index)) => {
                    data.extend((0..rows).map(|row| match column.value(row) {
                        scoring::Value::Text(level) => {
                            index.get(level).map_or(f64::NAN, |&i| i as f64)
                        }
                        _ => f64::NAN,
                    }));
                }
                _ => {
                    return Err(RiskError::Data(format!(
                        "challenger: column '{name}' changed kind since training"
                    )));
                }
            }
        }
        Ok(data)
    }
}

/// The scorecard and its challenger on the same hold-out sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SideBySide {
    pub scorecard: Standing,
    pub challenger: Standing,
    pub trees: usize,
}

/// Fits the challenger on the training sample and stands both models on
/// the hold-out sample.
pub fn side_by_side(
    training: (&Table, &[bool], Option<&[f64]>),
    holdout: (&Table, &[bool]),
    scorecard_probabilities: &[f64],
    trends: &BTreeMap<String, Trend>,
) -> Result<SideBySide, RiskError> {
    let (table, target, weights) = training;
    let challenger = fit(table, target, weights, trends)?;
    let (holdout_table, holdout_target) = holdout;
    let probabilities = challenger.probabilities(holdout_table)?;
    Ok(SideBySide {
        scorecard: metrics::standing(scorecard_probabilities, holdout_target),
        challenger: metrics::standing(&probabilities, holdout_target),
        trees: TREES,
    })
}

/// Each level's rank by its training event rate, smoothed by one row at
/// the overall rate (a level with no rows ranks as the overall rate).
fn rank_by_event_rate(levels: &[String], codes: &[u32], target: &[bool]) -> HashMap<String, usize> {
    let mut counts = vec![(0.0f64, 0.0f64); levels.len()];
    for (&code, &event) in codes.iter().zip(target) {
        if let Some(c) = counts.get_mut(code as usize) {
            c.0 += 1.0;
            c.1 += f64::from(u8::from(event));
        }
    }
    let overall = target.iter().filter(|&&t| t).count() as f64 / target.len().max(1) as f64;
    let mut order: Vec<(f64, usize)> = counts
        .iter()
        .enumerate()
        .map(|(k, &(rows, events))| ((events + overall) / (rows + 1.0), k))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order
        .into_iter()
        .enumerate()
        .map(|(rank, (_, k))| (levels[k].clone(), rank))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use scoring::CategoricalBuilder;

    /// A signal in a number and in a category: the challenger finds both,
    /// and an unseen category is scored as missing, not refused.
    #[test]
    fn the_challenger_learns_and_scores_unseen_levels() {
        let rows = 2000;
        let mut numbers = Vec::new();
        let mut categories = CategoricalBuilder::default();
        let mut target = Vec::new();
        for k in 0..rows {
            let x = (k % 100) as f64;
            let group = if k % 3 == 0 { "risky" } else { "calm" };
            numbers.push(x);
            categories.push(Some(group));
            // Deterministic outcomes that rise with x and in the risky group.
            let threshold = if group == "risky" { 60 } else { 85 };
            target.push((k * 7919) % 100 + x as usize > threshold + 50);
        }
        let mut table = Table::default();
        table.push("x", Column::Numeric(numbers));
        table.push("group", categories.finish());
        let mut trends = BTreeMap::new();
        trends.insert("x".to_string(), Trend::Ascending);
        let challenger = fit(&table, &target, None, &trends).unwrap();
        let p = challenger.probabilities(&table).unwrap();
        let auc = metrics::summary(&p, &target).auc;
        assert!(auc > 0.7, "{auc}");

        let mut unseen = CategoricalBuilder::default();
        unseen.push(Some("never seen"));
        let mut one = Table::default();
        one.push("x", Column::Numeric(vec![50.0]));
        one.push("group", unseen.finish());
        let p = challenger.probabilities(&one).unwrap();
        assert!(p[0] > 0.0 && p[0] < 1.0);
    }
}
