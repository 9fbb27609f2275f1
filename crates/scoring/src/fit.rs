//! Fitting a scorecard: bin every column, select features, regress, scale.

use std::collections::BTreeMap;

use foldhash::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::{self, BinRule, BinningOptions, FeatureBinning, Totals, Trend};
use crate::logistic::{self, Patterns};
use crate::metrics;
use crate::model::{Dropped, FORMAT, FORMAT_VERSION, Feature, Model, ModelBin, Scaling, Training};
use crate::table::Table;
use crate::table::{Column, MISSING_CODE};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    pub binning: BinningOptions,
    /// Trends for particular features, overriding `binning.trend`.
    #[serde(default)]
    pub trends: BTreeMap<String, Trend>,
    /// Features whose IV is below this are dropped (0.02 is the usual
    /// "not predictive" line).
    pub min_iv: f64,
    /// Of two features whose WoE columns correlate beyond this, the one
    /// with the lower IV is dropped.
    pub max_correlation: f64,
    pub max_features: Option<usize>,
    /// L2 penalty λ on the coefficients.
    pub l2: f64,
    /// Drop features whose coefficient comes out negative (the usual
    /// scorecard rule: a riskier bin must never earn more points).
    #[serde(default = "yes")]
    pub positive_coefficients: bool,
    pub scaling: Scaling,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            binning: BinningOptions::default(),
            trends: BTreeMap::new(),
            min_iv: 0.02,
            max_correlation: 0.8,
            max_features: None,
            l2: 1.0,
            positive_coefficients: true,
            scaling: Scaling::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Who the model is: name, version, when, and what it predicts.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub created: String,
    pub target: String,
    pub event: String,
    /// Feature labels in words; a feature without one is labelled by name.
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("the data has no rows")]
    Empty,
    #[error("the target has {rows} values for {table_rows} rows")]
    TargetLength { rows: usize, table_rows: usize },
    #[error("the target has no {0}: a model needs both outcomes")]
    OneOutcome(&'static str),
    #[error("invalid option: {0}")]
    Options(String),
    #[error("no feature is left to fit: {0}")]
    NoFeatures(String),
}

/// A fitted model together with the training rows' probabilities, which
/// callers use for reports without scoring the rows again.
pub struct Fitted {
    pub model: Model,
    pub probabilities: Vec<f64>,
}

pub fn fit(
    table: &Table,
    target: &[bool],
    options: &FitOptions,
    info: &ModelInfo,
) -> Result<Fitted, FitError> {
    fit_weighted(table, target, None, options, info)
}

/// Fits with a weight per row (e.g. inverse probabilities of having been
/// observed). Weights enter the regression; bins are found on the rows as
/// they are, and the training metrics are unweighted.
pub fn fit_weighted(
    table: &Table,
    target: &[bool],
    weights: Option<&[f64]>,
    options: &FitOptions,
    info: &ModelInfo,
) -> Result<Fitted, FitError> {
    let rows = table.rows();
    if rows == 0 {
        return Err(FitError::Empty);
    }
    if target.len() != rows {
        return Err(FitError::TargetLength {
            rows: target.len(),
            table_rows: rows,
        });
    }
    options.binning.validate().map_err(FitError::Options)?;
    if options.l2.is_nan() || options.l2 < 0.0 {
        return Err(FitError::Options(format!("l2 {} is negative", options.l2)));
    }
    if let Some(weights) = weights {
        if weights.len() != rows {
            return Err(FitError::Options(format!(
                "{} weights for {rows} rows",
                weights.len()
            )));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(FitError::Options(
                "weights must be finite and not negative".to_string(),
            ));
        }
    }
    let totals = Totals::of(target);
    if totals.events == 0 {
        return Err(FitError::OneOutcome("events"));
    }
    if totals.non_events == 0 {
        return Err(FitError::OneOutcome("non-events"));
    }

    let binned: Vec<(FeatureBinning, Vec<u8>)> = table
        .columns
        .par_iter()
        .zip(&table.names)
        .map(|(column, name)| {
            let mut feature_options = options.binning.clone();
            if let Some(&trend) = options.trends.get(name) {
                feature_options.trend = trend;
            }
            binning::bin_feature(column, target, &feature_options)
        })
        .collect();

    let mut dropped = Vec::new();
    let mut order: Vec<usize> = (0..binned.len()).collect();
    order.sort_by(|&a, &b| binned[b].0.iv.total_cmp(&binned[a].0.iv).then(a.cmp(&b)));
    let mut selected: Vec<usize> = Vec::new();
    for &candidate in &order {
        let name = &table.names[candidate];
        let iv = binned[candidate].0.iv;
        if iv < options.min_iv {
            let regular = binned[candidate]
                .0
                .bins
                .iter()
                .filter(|b| {
                    b.count > 0
                        && matches!(b.rule, BinRule::Range { .. } | BinRule::Categories { .. })
                })
                .count();
            let reason = if regular <= 1 && distinct_values(&table.columns[candidate]) > 1 {
                format!(
                    "information value {iv:.4} is below {}: its values fell into one bin, as no smaller group reached the bin floor ({})",
                    options.min_iv,
                    floor_words(&options.binning, rows)
                )
            } else {
                format!("information value {iv:.4} is below {}", options.min_iv)
            };
            dropped.push(Dropped {
                name: name.clone(),
                iv,
                reason,
            });
            continue;
        }
        if let Some(limit) = options.max_features
            && selected.len() >= limit
        {
            dropped.push(Dropped {
                name: name.clone(),
                iv,
                reason: format!("{limit} features with a higher information value were kept"),
            });
            continue;
        }
        let woe_of = |f: usize| -> Vec<f64> { binned[f].0.bins.iter().map(|b| b.woe).collect() };
        let candidate_woe = woe_of(candidate);
        // No correlation exceeds 1: a limit of 1 or more keeps every pair
        // without a pass over the rows for each.
        let clash = (options.max_correlation < 1.0)
            .then(|| {
                selected.iter().find_map(|&kept| {
                    let r = correlation(
                        &binned[candidate].1,
                        &candidate_woe,
                        &binned[kept].1,
                        &woe_of(kept),
                    );
                    (r.abs() > options.max_correlation).then_some((kept, r))
                })
            })
            .flatten();
        if let Some((kept, r)) = clash {
            dropped.push(Dropped {
                name: name.clone(),
                iv,
                reason: format!(
                    "its WoE correlates {r:.2} with '{}', which has a higher information value",
                    table.names[kept]
                ),
            });
            continue;
        }
        selected.push(candidate);
    }

    // Regress; a WoE feature whose coefficient is not positive is fighting
    // the others (collinearity), so the weakest such one leaves and the
    // regression runs again.
    let (fit, row_patterns) = loop {
        if selected.is_empty() {
            return Err(FitError::NoFeatures(
                dropped
                    .iter()
                    .map(|d| format!("{}: {}", d.name, d.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        let (patterns, row_patterns, keys) = patterns_of(&binned, &selected, target, weights);
        let fit = logistic::fit(&patterns, options.l2);
        let worst = fit
            .coefficients
            .iter()
            .enumerate()
            .filter(|(_, c)| options.positive_coefficients && **c <= 0.0)
            .min_by(|a, b| a.1.total_cmp(b.1));
        let Some((position, &coefficient)) = worst else {
            break (fit, (patterns, row_patterns, keys));
        };
        let feature = selected.remove(position);
        dropped.push(Dropped {
            name: table.names[feature].clone(),
            iv: binned[feature].0.iv,
            reason: format!(
                "its coefficient {coefficient:.3} was not positive beside the other features"
            ),
        });
    };

    let scaling = options.scaling;
    let factor = scaling.factor();
    let intercept_share = (scaling.offset() - factor * fit.intercept) / selected.len() as f64;
    let features: Vec<Feature> = selected
        .iter()
        .zip(&fit.coefficients)
        .map(|(&f, &coefficient)| {
            let name = &table.names[f];
            let binning = &binned[f].0;
            Feature {
                name: name.clone(),
                label: info
                    .labels
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.clone()),
                kind: binning.kind,
                trend: binning.trend,
                iv: binning.iv,
                coefficient,
                bins: binning
                    .bins
                    .iter()
                    .map(|b| ModelBin {
                        label: b.rule.describe(),
                        rule: b.rule.clone(),
                        count: b.count,
                        events: b.events,
                        woe: b.woe,
                        iv: b.iv,
                        points: (intercept_share - factor * coefficient * b.woe).round() as i64,
                    })
                    .collect(),
            }
        })
        .collect();

    let (patterns, row_patterns, keys) = row_patterns;
    let pattern_probabilities: Vec<f64> = (0..patterns.len())
        .map(|p| {
            let x = &patterns.values[p * patterns.width..(p + 1) * patterns.width];
            let eta = fit.intercept
                + x.iter()
                    .zip(&fit.coefficients)
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
            logistic::sigmoid(eta)
        })
        .collect();
    let probabilities: Vec<f64> = row_patterns
        .iter()
        .map(|&p| pattern_probabilities[p as usize])
        .collect();
    // The training metrics are unweighted, and every row of a pattern has
    // its probability and its score: both are measured per pattern.
    let mut groups: Vec<metrics::Group> = pattern_probabilities
        .iter()
        .map(|&probability| metrics::Group {
            probability,
            rows: 0,
            events: 0,
        })
        .collect();
    for (&p, &event) in row_patterns.iter().zip(target) {
        groups[p as usize].rows += 1;
        groups[p as usize].events += u64::from(event);
    }
    let mut model = Model {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        name: info.name.clone(),
        version: info.version.clone(),
        created: info.created.clone(),
        target: info.target.clone(),
        event: info.event.clone(),
        scaling,
        intercept: fit.intercept,
        features,
        dropped,
        training: Training {
            rows: rows as u64,
            events: totals.events,
            l2: options.l2,
            newton_steps: fit.steps,
            converged: fit.converged,
            score_cuts: Vec::new(),
            score_counts: Vec::new(),
            metrics: metrics::summary_of_groups(groups.clone()),
            validation: None,
            notes: serde_json::Map::new(),
        },
    };
    // The training score distribution, kept for the score's PSI later.
    let scorer = model.scorer();
    let scores: Vec<(f64, u64)> = keys
        .iter()
        .zip(&groups)
        .map(|(key, group)| (scorer.score_bins(key).score as f64, group.rows))
        .collect();
    let score_cuts = metrics::decile_cuts_of_counts(scores.clone());
    let mut score_counts = vec![0u64; score_cuts.len() + 1];
    for &(score, rows) in &scores {
        score_counts[score_cuts.partition_point(|&c| c <= score)] += rows;
    }
    model.training.score_cuts = score_cuts;
    model.training.score_counts = score_counts;
    if let Ok(options) = serde_json::to_value(options)
        && let serde_json::Value::Object(map) = options
    {
        model.training.notes.insert("options".into(), map.into());
    }
    Ok(Fitted {
        model,
        probabilities,
    })
}

/// Pearson correlation of two WoE-coded columns given as bin indices.
fn correlation(a_bins: &[u8], a_woe: &[f64], b_bins: &[u8], b_woe: &[f64]) -> f64 {
    // Joint counts of (bin a, bin b) make this one pass of byte lookups.
    let width = b_woe.len();
    let mut joint = vec![0u64; a_woe.len() * width];
    for (&a, &b) in a_bins.iter().zip(b_bins) {
        joint[a as usize * width + b as usize] += 1;
    }
    let n = a_bins.len() as f64;
    let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &wa) in a_woe.iter().enumerate() {
        for (j, &wb) in b_woe.iter().enumerate() {
            let c = joint[i * width + j] as f64;
            sa += c * wa;
            sb += c * wb;
            saa += c * wa * wa;
            sbb += c * wb * wb;
            sab += c * wa * wb;
        }
    }
    let cov = sab / n - (sa / n) * (sb / n);
    let va = saa / n - (sa / n).powi(2);
    let vb = sbb / n - (sb / n).powi(2);
    if va <= 1e-15 || vb <= 1e-15 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

/// Groups rows by their bins in the selected features; returns the
/// patterns (WoE values, rows, events), each row's pattern and each
/// pattern's bins.
fn patterns_of(
    binned: &[(FeatureBinning, Vec<u8>)],
    selected: &[usize],
    target: &[bool],
    weights: Option<&[f64]>,
) -> (Patterns, Vec<u32>, Vec<Vec<u8>>) {
    let columns: Vec<&[u8]> = selected.iter().map(|&f| binned[f].1.as_slice()).collect();
    let bins_of = |row: usize| -> Vec<u8> { columns.iter().map(|c| c[row]).collect() };
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut row_patterns = Vec::with_capacity(target.len());
    if columns.len() <= 16 {
        // A row's bins packed into one integer, a byte a feature: the
        // lookup hashes a number instead of a slice on the heap.
        let mut index: HashMap<u128, u32> = HashMap::default();
        for row in 0..target.len() {
            let key = columns
                .iter()
                .fold(0u128, |key, c| (key << 8) | u128::from(c[row]));
            let p = *index.entry(key).or_insert_with(|| {
                keys.push(bins_of(row));
                (keys.len() - 1) as u32
            });
            row_patterns.push(p);
        }
    } else {
        let mut index: HashMap<Vec<u8>, u32> = HashMap::default();
        for row in 0..target.len() {
            let key = bins_of(row);
            let p = match index.get(&key) {
                Some(&p) => p,
                None => {
                    keys.push(key.clone());
                    index.insert(key, (keys.len() - 1) as u32);
                    (keys.len() - 1) as u32
                }
            };
            row_patterns.push(p);
        }
    }
    let mut patterns = Patterns {
        width: selected.len(),
        rows: vec![0.0; keys.len()],
        events: vec![0.0; keys.len()],
        ..Patterns::default()
    };
    for (row, (&p, &event)) in row_patterns.iter().zip(target).enumerate() {
        let weight = weights.map_or(1.0, |w| w[row]);
        patterns.rows[p as usize] += weight;
        if event {
            patterns.events[p as usize] += weight;
        }
    }
    patterns.values.reserve(keys.len() * selected.len());
    for key in &keys {
        for (&f, &bin) in selected.iter().zip(key) {
            patterns.values.push(binned[f].0.bins[bin as usize].woe);
        }
    }
    (patterns, row_patterns, keys)
}

/// Distinct present values of a column, counted up to 2.
fn distinct_values(column: &Column) -> usize {
    match column {
        Column::Numeric(values) => {
            let mut present = values.iter().filter(|v| !v.is_nan());
            let Some(first) = present.next() else {
                return 0;
            };
            if present.any(|v| v != first) { 2 } else { 1 }
        }
        Column::Categorical { codes, .. } => {
            let mut present = codes.iter().filter(|&&c| c != MISSING_CODE);
            let Some(first) = present.next() else {
                return 0;
            };
            if present.any(|c| c != first) { 2 } else { 1 }
        }
    }
}

/// The bin floor in words: rows, and events when there is an event floor.
fn floor_words(options: &BinningOptions, rows: usize) -> String {
    let floor_rows = (options.min_bin_share * rows as f64).ceil() as u64;
    let share = 100.0 * options.min_bin_share;
    match options.min_bin_events {
        0 => format!("{share}% of rows = {floor_rows} rows"),
        events => format!("{share}% of rows = {floor_rows} rows, or {events} events"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Packed keys (up to 16 features) and slice keys (more) group rows
    /// alike: each row's pattern holds its bins, and each pattern is
    /// distinct.
    #[test]
    fn patterns_hold_each_rows_bins_however_many_features() {
        let rows = 2_000;
        let target: Vec<bool> = (0..rows).map(|r| r % 5 == 0).collect();
        let options = BinningOptions {
            min_bin_share: 0.01,
            ..BinningOptions::default()
        };
        let binned: Vec<(FeatureBinning, Vec<u8>)> = (0..20)
            .map(|f| {
                let values = (0..rows).map(|r| ((r * (f + 3)) % 7) as f64).collect();
                binning::bin_feature(&Column::Numeric(values), &target, &options)
            })
            .collect();
        for width in [3, 16, 20] {
            let selected: Vec<usize> = (0..width).collect();
            let (patterns, row_patterns, keys) = patterns_of(&binned, &selected, &target, None);
            assert_eq!(patterns.len(), keys.len());
            assert_eq!(patterns.rows.iter().sum::<f64>(), rows as f64);
            let distinct: std::collections::BTreeSet<&Vec<u8>> = keys.iter().collect();
            assert_eq!(distinct.len(), keys.len(), "width {width}");
            for (row, &p) in row_patterns.iter().enumerate() {
                let bins: Vec<u8> = selected.iter().map(|&f| binned[f].1[row]).collect();
                assert_eq!(keys[p as usize], bins, "width {width}, row {row}");
            }
        }
    }
}
