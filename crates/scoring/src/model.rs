//! The scorecard as a versioned document, and scoring with it.
//!
//! A model's log-odds of the event are `intercept + Σ coefficient · WoE(bin)`;
//! its score is the sum of the integer points of the rows' bins, scaled so
//! that `base_score` points mean odds of `base_odds` good to one bad and
//! every `pdo` points double the odds. Rounding each bin's points to an
//! integer moves the score by at most ½ point per feature from
//! `offset − factor · log-odds`.

use foldhash::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::{BinRule, Kind, Trend};
use crate::logistic::sigmoid;
use crate::metrics::Summary;
use crate::table::{Column, MISSING_CODE, Table, Value};

pub const FORMAT: &str = "xinyong-scorecard";
pub const FORMAT_VERSION: u32 = 1;
/// Reason codes per row, as adverse-action practice gives.
pub const MAX_REASONS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub base_score: f64,
    /// Good-to-bad odds at the base score.
    pub base_odds: f64,
    /// Points to double the odds.
    pub pdo: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            base_score: 600.0,
            base_odds: 50.0,
            pdo: 20.0,
        }
    }
}

impl Scaling {
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    pub fn offset(&self) -> f64 {
        self.base_score - self.factor() * self.base_odds.ln()
    }

    /// The unrounded score of a log-odds of the event.
    pub fn score_of(&self, log_odds: f64) -> f64 {
        self.offset() - self.factor() * log_odds
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelBin {
    #[serde(flatten)]
    pub rule: BinRule,
    /// The rule in words.
    pub label: String,
    pub count: u64,
    pub events: u64,
    pub woe: f64,
    pub iv: f64,
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    /// What the feature is, in words a person reads.
    pub label: String,
    pub kind: Kind,
    pub trend: Option<Trend>,
    pub iv: f64,
    pub coefficient: f64,
    pub bins: Vec<ModelBin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    pub name: String,
    pub iv: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub rows: u64,
    pub events: u64,
    pub l2: f64,
    pub newton_steps: usize,
    pub converged: bool,
    /// Cut points of the training score's deciles, for the score's PSI.
    pub score_cuts: Vec<f64>,
    /// Training rows per score interval cut by `score_cuts`.
    pub score_counts: Vec<u64>,
    pub metrics: Summary,
    /// Metrics on a hold-out sample, when the trainer kept one.
    pub validation: Option<Summary>,
    /// Anything else the trainer wants kept (options, as-of dates, …).
    #[serde(default)]
    pub notes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: String,
    pub format_version: u32,
    pub name: String,
    pub version: String,
    /// When it was fitted, as the caller stated it.
    pub created: String,
    pub target: String,
    pub event: String,
    pub scaling: Scaling,
    pub intercept: f64,
    pub features: Vec<Feature>,
    pub dropped: Vec<Dropped>,
    pub training: Training,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("not a scorecard: format is '{0}', expected '{FORMAT}'")]
    Format(String),
    #[error("scorecard format version {0} is newer than this program's {FORMAT_VERSION}")]
    Version(u32),
    #[error("feature '{feature}': {problem}")]
    Feature { feature: String, problem: String },
    #[error("the data has no column '{0}', which the model uses")]
    MissingColumn(String),
    #[error("column '{0}' holds numbers but the model reads it as categories")]
    NotCategorical(String),
    #[error("column '{0}' holds text but the model needs numbers")]
    NotNumeric(String),
    #[error("model json: {0}")]
    Json(String),
}

impl Model {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Model, ModelError> {
        #[derive(Deserialize)]
        struct Header {
            format: String,
            format_version: u32,
        }
        let header: Header =
            serde_json::from_str(text).map_err(|e| ModelError::Json(e.to_string()))?;
        if header.format != FORMAT {
            return Err(ModelError::Format(header.format));
        }
        if header.format_version > FORMAT_VERSION {
            return Err(ModelError::Version(header.format_version));
        }
        let model: Model =
            serde_json::from_str(text).map_err(|e| ModelError::Json(e.to_string()))?;
        model.check()?;
        Ok(model)
    }

    /// The structure scoring relies on: bins in a usable order, one missing
    /// bin, one "other" bin for categories.
    pub fn check(&self) -> Result<(), ModelError> {
        for feature in &self.features {
            let problem = |problem: &str| ModelError::Feature {
                feature: feature.name.clone(),
                problem: problem.to_string(),
            };
            let missing = feature
                .bins
                .iter()
                .filter(|b| b.rule == BinRule::Missing)
                .count();
            if missing != 1 {
                return Err(problem("needs exactly one missing bin"));
            }
            if feature.bins.len() > 255 {
                return Err(problem("has more than 255 bins"));
            }
            match feature.kind {
                Kind::Numeric => {
                    let his: Vec<Option<f64>> = feature
                        .bins
                        .iter()
                        .filter_map(|b| match b.rule {
                            BinRule::Range { hi, .. } => Some(hi),
                            _ => None,
                        })
                        .collect();
                    let Some((last, inner)) = his.split_last() else {
                        return Err(problem("has no value ranges"));
                    };
                    if last.is_some() || inner.iter().any(Option::is_none) {
                        return Err(problem("value ranges must end with an open one"));
                    }
                    let cuts: Vec<f64> = inner.iter().flatten().copied().collect();
                    if cuts.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(problem("value ranges are not in ascending order"));
                    }
                }
                Kind::Categorical => {
                    let others = feature
                        .bins
                        .iter()
                        .filter(|b| matches!(b.rule, BinRule::Categories { other: true, .. }))
                        .count();
                    if others != 1 {
                        return Err(problem("needs exactly one bin for other categories"));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn scorer(&self) -> Scorer<'_> {
        Scorer::new(self)
    }
}

/// A reason a row scored low: the feature, its bin, and the points it lost
/// against the feature's best bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReasonCode {
    pub feature: u16,
    pub bin: u8,
    pub points_lost: u32,
}

/// A scored row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub log_odds: f64,
    pub probability: f64,
    pub score: i64,
    reasons: [ReasonCode; MAX_REASONS],
    reason_count: u8,
}

impl Scored {
    /// The reasons, the costliest first.
    pub fn reasons(&self) -> &[ReasonCode] {
        &self.reasons[..self.reason_count as usize]
    }
}

enum Lookup {
    Numeric {
        cuts: Vec<f64>,
        specials: Vec<f64>,
        /// Bin of the first special value; specials follow the ranges.
        first_special: u8,
        missing: u8,
    },
    Categorical {
        bins: HashMap<String, u8>,
        other: u8,
        missing: u8,
    },
}

struct Compiled {
    lookup: Lookup,
    /// coefficient · WoE per bin.
    log_odds: Vec<f64>,
    points: Vec<i64>,
    best_points: i64,
}

impl Compiled {
    fn numeric_bin(&self, value: f64) -> u8 {
        match &self.lookup {
            Lookup::Numeric {
                cuts,
                specials,
                first_special,
                missing,
            } => {
                if value.is_nan() {
                    return *missing;
                }
                if let Some(s) = specials.iter().position(|&v| v == value) {
                    return first_special + s as u8;
                }
                cuts.partition_point(|&c| c <= value) as u8
            }
            // A number for a categorical feature is read as its text.
            Lookup::Categorical { .. } => self.text_bin(&value.to_string()),
        }
    }

    fn text_bin(&self, text: &str) -> u8 {
        match &self.lookup {
            Lookup::Categorical { bins, other, .. } => bins.get(text).copied().unwrap_or(*other),
            Lookup::Numeric { missing, .. } => match text.trim().parse::<f64>() {
                Ok(v) => self.numeric_bin(v),
                Err(_) => *missing,
            },
        }
    }

    fn missing_bin(&self) -> u8 {
        match &self.lookup {
            Lookup::Numeric { missing, .. } | Lookup::Categorical { missing, .. } => *missing,
        }
    }

    fn bin_of(&self, value: Value<'_>) -> u8 {
        match value {
            Value::Number(v) => self.numeric_bin(v),
            Value::Text(t) => self.text_bin(t),
            Value::Missing => self.missing_bin(),
        }
    }
}

/// A model compiled for fast scoring.
pub struct Scorer<'m> {
    pub model: &'m Model,
    compiled: Vec<Compiled>,
}

impl<'m> Scorer<'m> {
    fn new(model: &'m Model) -> Scorer<'m> {
        let compiled = model
            .features
            .iter()
            .map(|feature| {
                let position = |rule: &dyn Fn(&BinRule) -> bool| {
                    feature.bins.iter().position(|b| rule(&b.rule)).unwrap_or(0) as u8
                };
                let missing = position(&|r| *r == BinRule::Missing);
                let lookup = match feature.kind {
                    Kind::Numeric => Lookup::Numeric {
                        cuts: feature
                            .bins
                            .iter()
                            .filter_map(|b| match b.rule {
                                BinRule::Range { hi: Some(hi), .. } => Some(hi),
                                _ => None,
                            })
                            .collect(),
                        specials: feature
                            .bins
                            .iter()
                            .filter_map(|b| match b.rule {
                                BinRule::Special { value } => Some(value),
                                _ => None,
                            })
                            .collect(),
                        first_special: position(&|r| matches!(r, BinRule::Special { .. })),
                        missing,
                    },
                    Kind::Categorical => {
                        let mut bins = HashMap::default();
                        for (index, bin) in feature.bins.iter().enumerate() {
                            if let BinRule::Categories { values, .. } = &bin.rule {
                                for value in values {
                                    bins.insert(value.clone(), index as u8);
                                }
                            }
                        }
                        Lookup::Categorical {
                            bins,
                            other: position(&|r| {
                                matches!(r, BinRule::Categories { other: true, .. })
                            }),
                            missing,
                        }
                    }
                };
                let points: Vec<i64> = feature.bins.iter().map(|b| b.points).collect();
                Compiled {
                    lookup,
                    log_odds: feature
                        .bins
                        .iter()
                        .map(|b| feature.coefficient * b.woe)
                        .collect(),
                    best_points: points.iter().copied().max().unwrap_or(0),
                    points,
                }
            })
            .collect();
        Scorer { model, compiled }
    }

    /// Scores one row given its values in the model's feature order.
    pub fn score_row(&self, values: &[Value<'_>]) -> Scored {
        let bins: Vec<u8> = self
            .compiled
            .iter()
            .enumerate()
            .map(|(i, c)| c.bin_of(values.get(i).copied().unwrap_or(Value::Missing)))
            .collect();
        self.score_bins(&bins)
    }

    /// The bin `value` falls in for the model's `feature`-th feature, the
    /// same lookup scoring makes; `None` past the last feature.
    pub fn bin_of(&self, feature: usize, value: Value<'_>) -> Option<u8> {
        self.compiled.get(feature).map(|c| c.bin_of(value))
    }

    /// Scores a row from its bin index in each feature.
    pub fn score_bins(&self, bins: &[u8]) -> Scored {
        let mut log_odds = self.model.intercept;
        let mut score = 0;
        let mut reasons = [ReasonCode::default(); MAX_REASONS];
        let mut reason_count = 0usize;
        for (feature, (compiled, &bin)) in self.compiled.iter().zip(bins).enumerate() {
            let bin = bin as usize;
            log_odds += compiled.log_odds.get(bin).copied().unwrap_or(0.0);
            let points = compiled.points.get(bin).copied().unwrap_or(0);
            score += points;
            let lost = (compiled.best_points - points).max(0) as u32;
            if lost == 0 {
                continue;
            }
            // Insertion into the short list of costliest features; earlier
            // features win ties, so the order is stable.
            let code = ReasonCode {
                feature: feature as u16,
                bin: bin as u8,
                points_lost: lost,
            };
            let at = reasons[..reason_count]
                .iter()
                .position(|r| r.points_lost < lost)
                .unwrap_or(reason_count);
            if at >= MAX_REASONS {
                continue;
            }
            let end = (reason_count + 1).min(MAX_REASONS);
            for k in (at + 1..end).rev() {
                reasons[k] = reasons[k - 1];
            }
            reasons[at] = code;
            reason_count = end;
        }
        Scored {
            log_odds,
            probability: sigmoid(log_odds),
            score,
            reasons,
            reason_count: reason_count as u8,
        }
    }

    /// Every feature's bin for every row of a table.
    pub fn bin_table(&self, table: &Table) -> Result<Vec<Vec<u8>>, ModelError> {
        self.model
            .features
            .par_iter()
            .zip(&self.compiled)
            .map(|(feature, compiled)| {
                let column = table
                    .column(&feature.name)
                    .ok_or_else(|| ModelError::MissingColumn(feature.name.clone()))?;
                Ok(match column {
                    Column::Numeric(values) => {
                        if feature.kind == Kind::Categorical {
                            return Err(ModelError::NotCategorical(feature.name.clone()));
                        }
                        values.iter().map(|&v| compiled.numeric_bin(v)).collect()
                    }
                    Column::Categorical { levels, codes } => {
                        if feature.kind == Kind::Numeric {
                            return Err(ModelError::NotNumeric(feature.name.clone()));
                        }
                        let level_bins: Vec<u8> =
                            levels.iter().map(|l| compiled.text_bin(l)).collect();
                        let missing = compiled.missing_bin();
                        codes
                            .iter()
                            .map(|&code| match level_bins.get(code as usize) {
                                Some(&bin) if code != MISSING_CODE => bin,
                                _ => missing,
                            })
                            .collect()
                    }
                })
            })
            .collect()
    }

    /// Scores every row of a table.
    pub fn score_table(&self, table: &Table) -> Result<Vec<Scored>, ModelError> {
        let bins = self.bin_table(table)?;
        Ok(self.score_binned(&bins, table.rows()))
    }

    /// Scores rows already binned by [`Scorer::bin_table`].
    pub fn score_binned(&self, bins: &[Vec<u8>], rows: usize) -> Vec<Scored> {
        (0..rows)
            .into_par_iter()
            .map_init(
                || vec![0u8; bins.len()],
                |row_bins, row| {
                    for (slot, feature) in row_bins.iter_mut().zip(bins) {
                        *slot = feature[row];
                    }
                    self.score_bins(row_bins)
                },
            )
            .collect()
    }

    /// A reason in words: "years in operation: under 2 (−31 points)".
    pub fn reason_text(&self, reason: ReasonCode) -> String {
        let Some(feature) = self.model.features.get(reason.feature as usize) else {
            return String::new();
        };
        let bin = feature
            .bins
            .get(reason.bin as usize)
            .map_or("", |b| b.label.as_str());
        format!(
            "{}: {} (−{} points)",
            feature.label, bin, reason.points_lost
        )
    }

    /// All of a row's reasons in words, separated by "; ".
    pub fn reasons_text(&self, scored: &Scored) -> String {
        scored
            .reasons()
            .iter()
            .map(|&r| self.reason_text(r))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
