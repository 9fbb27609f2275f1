//! A model read against a sample: binning tables with this sample's counts,
//! discrimination and calibration when outcomes are known, and stability
//! (PSI) of every feature and of the score against the training sample.

use serde::{Deserialize, Serialize};

use crate::binning::Totals;
use crate::metrics::{self, Decile, Summary};
use crate::model::{ModelError, Scorer};
use crate::table::Table;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinReport {
    pub label: String,
    pub points: i64,
    pub woe: f64,
    pub training_share: f64,
    pub count: u64,
    pub share: f64,
    pub events: Option<u64>,
    pub event_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureReport {
    pub name: String,
    pub label: String,
    pub coefficient: f64,
    pub training_iv: f64,
    /// IV of the model's bins on this sample, when outcomes are known.
    pub iv: Option<f64>,
    /// Stability of the feature's bin shares against training.
    pub psi: f64,
    pub bins: Vec<BinReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub model: String,
    pub version: String,
    pub rows: u64,
    pub metrics: Option<Summary>,
    pub deciles: Vec<Decile>,
    pub score_psi: f64,
    pub features: Vec<FeatureReport>,
}

/// Reads the model against `table`; `target` holds the outcomes if known.
pub fn report(
    scorer: &Scorer<'_>,
    table: &Table,
    target: Option<&[bool]>,
) -> Result<Report, ModelError> {
    let model = scorer.model;
    let rows = table.rows();
    let bins = scorer.bin_table(table)?;
    let scored = scorer.score_binned(&bins, rows);
    let target = target.filter(|t| t.len() == rows);

    let mut features = Vec::with_capacity(model.features.len());
    for (feature, row_bins) in model.features.iter().zip(&bins) {
        let mut counts = vec![0u64; feature.bins.len()];
        let mut events = vec![0u64; feature.bins.len()];
        for (row, &bin) in row_bins.iter().enumerate() {
            counts[bin as usize] += 1;
            if target.is_some_and(|t| t[row]) {
                events[bin as usize] += 1;
            }
        }
        let training_counts: Vec<u64> = feature.bins.iter().map(|b| b.count).collect();
        let training_total = training_counts.iter().sum::<u64>().max(1) as f64;
        let iv = target.map(|t| {
            let totals = Totals::of(t);
            counts
                .iter()
                .zip(&events)
                .map(|(&c, &e)| totals.iv(c, e))
                .sum()
        });
        features.push(FeatureReport {
            name: feature.name.clone(),
            label: feature.label.clone(),
            coefficient: feature.coefficient,
            training_iv: feature.iv,
            iv,
            psi: metrics::psi(&training_counts, &counts),
            bins: feature
                .bins
                .iter()
                .enumerate()
                .map(|(b, bin)| BinReport {
                    label: bin.label.clone(),
                    points: bin.points,
                    woe: bin.woe,
                    training_share: bin.count as f64 / training_total,
                    count: counts[b],
                    share: counts[b] as f64 / rows.max(1) as f64,
                    events: target.map(|_| events[b]),
                    event_rate: target.map(|_| events[b] as f64 / counts[b].max(1) as f64),
                })
                .collect(),
        });
    }

    let probabilities: Vec<f64> = scored.iter().map(|s| s.probability).collect();
    let score_counts = metrics::histogram(
        scored.iter().map(|s| s.score as f64),
        &model.training.score_cuts,
    );
    Ok(Report {
        model: model.name.clone(),
        version: model.version.clone(),
        rows: rows as u64,
        metrics: target.map(|t| metrics::summary(&probabilities, t)),
        deciles: target.map_or_else(Vec::new, |t| metrics::deciles(&probabilities, t)),
        score_psi: metrics::psi(&model.training.score_counts, &score_counts),
        features,
    })
}
