//! Discrimination, calibration and stability measures.
//!
//! Probabilities are of the event (the bad outcome): higher means riskier.

use serde::{Deserialize, Serialize};

/// Summary measures of probabilities against outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: u64,
    pub events: u64,
    /// Area under the ROC curve; ties count one half.
    pub auc: f64,
    /// 2·AUC − 1.
    pub gini: f64,
    /// Largest gap between the cumulative event and non-event shares.
    pub ks: f64,
    /// Mean negative log-likelihood per row.
    pub log_loss: f64,
}

/// One tenth of the rows, riskiest first.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decile {
    pub decile: u32,
    pub rows: u64,
    pub events: u64,
    pub mean_probability: f64,
    pub event_rate: f64,
    /// Event rate over the overall event rate.
    pub lift: f64,
    /// Share of all events in this and the riskier deciles.
    pub cumulative_capture: f64,
}

/// Row indices ordered by probability, ascending; ties keep row order.
fn ascending(probabilities: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
    order
}

pub fn summary(probabilities: &[f64], target: &[bool]) -> Summary {
    let rows = probabilities.len().min(target.len());
    let events = target[..rows].iter().filter(|&&t| t).count() as u64;
    let non_events = rows as u64 - events;
    let order = ascending(&probabilities[..rows]);

    // AUC and KS walk groups of equal probability.
    let mut below_non_events = 0u64;
    let mut concordant = 0.0;
    let mut seen_events = 0u64;
    let mut ks: f64 = 0.0;
    let mut start = 0;
    while start < order.len() {
        let value = probabilities[order[start]];
        let mut end = start;
        let (mut group_events, mut group_non_events) = (0u64, 0u64);
        while end < order.len() && probabilities[order[end]] == value {
            if target[order[end]] {
                group_events += 1;
            } else {
                group_non_events += 1;
            }
            end += 1;
        }
        concordant +=
            group_events as f64 * (below_non_events as f64 + 0.5 * group_non_events as f64);
        below_non_events += group_non_events;
        seen_events += group_events;
        if events > 0 && non_events > 0 {
            let gap =
                below_non_events as f64 / non_events as f64 - seen_events as f64 / events as f64;
            ks = ks.max(gap.abs());
        }
        start = end;
    }
    let auc = if events > 0 && non_events > 0 {
        concordant / (events as f64 * non_events as f64)
    } else {
        f64::NAN
    };
    let log_loss = probabilities[..rows]
        .iter()
        .zip(target)
        .map(|(&p, &t)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if t { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum::<f64>()
        / rows.max(1) as f64;
    Summary {
        rows: rows as u64,
        events,
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        log_loss,
    }
}

/// Calibration and lift by deciles of the probability, riskiest first.
pub fn deciles(probabilities: &[f64], target: &[bool]) -> Vec<Decile> {
    let rows = probabilities.len().min(target.len());
    if rows == 0 {
        return Vec::new();
    }
    let mut order = ascending(&probabilities[..rows]);
    order.reverse();
    let total_events = target[..rows].iter().filter(|&&t| t).count() as f64;
    let base_rate = total_events / rows as f64;
    let mut cumulative = 0.0;
    let mut out = Vec::with_capacity(10);
    for d in 0..10 {
        let (start, end) = (d * rows / 10, (d + 1) * rows / 10);
        if start == end {
            continue;
        }
        let slice = &order[start..end];
        let events = slice.iter().filter(|&&i| target[i]).count() as f64;
        let mean = slice.iter().map(|&i| probabilities[i]).sum::<f64>() / slice.len() as f64;
        let rate = events / slice.len() as f64;
        cumulative += events;
        out.push(Decile {
            decile: d as u32 + 1,
            rows: slice.len() as u64,
            events: events as u64,
            mean_probability: mean,
            event_rate: rate,
            lift: if base_rate > 0.0 {
                rate / base_rate
            } else {
                0.0
            },
            cumulative_capture: if total_events > 0.0 {
                cumulative / total_events
            } else {
                0.0
            },
        });
    }
    out
}

/// Population stability index between two distributions over the same
/// bins, given as counts. Shares are floored at 0.0001 so an empty bin
/// counts as a large but finite shift.
pub fn psi(expected: &[u64], actual: &[u64]) -> f64 {
    let expected_total = expected.iter().sum::<u64>().max(1) as f64;
    let actual_total = actual.iter().sum::<u64>().max(1) as f64;
    expected
        .iter()
        .zip(actual)
        .map(|(&e, &a)| {
            let e = (e as f64 / expected_total).max(1e-4);
            let a = (a as f64 / actual_total).max(1e-4);
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// How a PSI is usually read.
pub fn psi_reading(psi: f64) -> &'static str {
    if psi < 0.1 {
        "stable"
    } else if psi < 0.25 {
        "some shift"
    } else {
        "major shift"
    }
}

/// Counts of `values` in the intervals cut by ascending `cuts`
/// (`x < cuts[0]`, `cuts[0] <= x < cuts[1]`, …).
pub fn histogram(values: impl IntoIterator<Item = f64>, cuts: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; cuts.len() + 1];
    for v in values {
        counts[cuts.partition_point(|&c| c <= v)] += 1;
    }
    counts
}

/// Cut points splitting `values` into ten groups of about equal size,
/// without repeats.
pub fn decile_cuts(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut cuts: Vec<f64> = Vec::new();
    for d in 1..10 {
        let Some(&v) = sorted.get(d * sorted.len() / 10) else {
            continue;
        };
        if cuts.last().is_none_or(|&last| last < v) && sorted.first().is_some_and(|&f| f < v) {
            cuts.push(v);
        }
    }
    cuts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_perfect_random_and_tied_orders() {
        let target = [false, false, true, true];
        assert_eq!(summary(&[0.1, 0.2, 0.8, 0.9], &target).auc, 1.0);
        assert_eq!(summary(&[0.9, 0.8, 0.2, 0.1], &target).auc, 0.0);
        assert_eq!(summary(&[0.5, 0.5, 0.5, 0.5], &target).auc, 0.5);
        // One inversion out of four pairs.
        assert_eq!(summary(&[0.1, 0.6, 0.5, 0.9], &target).auc, 0.75);
        assert_eq!(summary(&[0.1, 0.2, 0.8, 0.9], &target).ks, 1.0);
    }

    #[test]
    fn psi_is_zero_for_equal_shares_and_grows_with_shift() {
        assert_eq!(psi(&[10, 20, 30], &[20, 40, 60]), 0.0);
        assert!(psi(&[10, 20, 30], &[30, 20, 10]) > 0.25);
    }

    #[test]
    fn deciles_capture_all_events() {
        let p: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let t: Vec<bool> = (0..100).map(|i| i >= 80).collect();
        let d = deciles(&p, &t);
        assert_eq!(d.len(), 10);
        assert_eq!(d[0].events, 10);
        assert_eq!(d[1].cumulative_capture, 1.0);
        assert!((d[0].lift - 5.0).abs() < 1e-12);
    }
}

/// How a model stands on a sample, for comparing two models side by side:
/// discrimination, calibration, and what its riskiest tenth catches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    pub summary: Summary,
    /// Mean squared error of the probabilities.
    pub brier: f64,
    /// Mean absolute gap between predicted and observed event rates over
    /// the deciles, weighted by rows (expected calibration error).
    pub calibration_error: f64,
    /// Event rate among the riskiest tenth of rows.
    pub top_decile_event_rate: f64,
    /// Event rate over all rows.
    pub event_rate: f64,
}

pub fn standing(probabilities: &[f64], target: &[bool]) -> Standing {
    let rows = probabilities.len().min(target.len());
    let deciles = deciles(probabilities, target);
    let brier = probabilities
        .iter()
        .zip(target)
        .map(|(&p, &t)| (p - f64::from(u8::from(t))).powi(2))
        .sum::<f64>()
        / rows.max(1) as f64;
    let calibration_error = deciles
        .iter()
        .map(|d| d.rows as f64 * (d.mean_probability - d.event_rate).abs())
        .sum::<f64>()
        / rows.max(1) as f64;
    Standing {
        summary: summary(probabilities, target),
        brier,
        calibration_error,
        top_decile_event_rate: deciles.first().map_or(0.0, |d| d.event_rate),
        event_rate: target[..rows].iter().filter(|&&t| t).count() as f64 / rows.max(1) as f64,
    }
}
