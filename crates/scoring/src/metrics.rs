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

/// The summary of `probabilities` against `target`, row by row.
pub fn summary(probabilities: &[f64], target: &[bool]) -> Summary {
    let rows = probabilities.len().min(target.len());
    let groups = ascending(&probabilities[..rows])
        .into_iter()
        .map(|row| Group {
            probability: probabilities[row],
            rows: 1,
            events: u64::from(target[row]),
        })
        .collect::<Vec<_>>();
    summary_of_sorted(&groups)
}

/// Rows that share one probability (a scorecard's rows with the same bins).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Group {
    pub probability: f64,
    pub rows: u64,
    pub events: u64,
}

/// [`summary`] of rows given as groups, in any order: the same measures,
/// found in a sort of the groups rather than of every row.
pub fn summary_of_groups(mut groups: Vec<Group>) -> Summary {
    groups.sort_by(|a, b| a.probability.total_cmp(&b.probability));
    summary_of_sorted(&groups)
}

/// The summary of groups sorted by probability, ascending.
fn summary_of_sorted(groups: &[Group]) -> Summary {
    let rows: u64 = groups.iter().map(|g| g.rows).sum();
    let events: u64 = groups.iter().map(|g| g.events).sum();
    let non_events = rows - events;

    // AUC and KS walk runs of equal probability.
    let mut below_non_events = 0u64;
    let mut concordant = 0.0;
    let mut seen_events = 0u64;
    let mut ks: f64 = 0.0;
    let mut log_loss = 0.0;
    let mut start = 0;
    while start < groups.len() {
        let value = groups[start].probability;
        let mut end = start;
        let (mut run_events, mut run_non_events) = (0u64, 0u64);
        while end < groups.len() && groups[end].probability == value {
            run_events += groups[end].events;
            run_non_events += groups[end].rows - groups[end].events;
            end += 1;
        }
        concordant += run_events as f64 * (below_non_events as f64 + 0.5 * run_non_events as f64);
        below_non_events += run_non_events;
        seen_events += run_events;
        if events > 0 && non_events > 0 {
            let gap =
                below_non_events as f64 / non_events as f64 - seen_events as f64 / events as f64;
            ks = ks.max(gap.abs());
        }
        let p = value.clamp(1e-15, 1.0 - 1e-15);
        log_loss += run_events as f64 * -p.ln() + run_non_events as f64 * -(1.0 - p).ln();
        start = end;
    }
    let auc = if events > 0 && non_events > 0 {
        concordant / (events as f64 * non_events as f64)
    } else {
        f64::NAN
    };
    Summary {
        rows,
        events,
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        log_loss: log_loss / rows.max(1) as f64,
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
    decile_cuts_of_counts(values.iter().map(|&v| (v, 1)).collect())
}

/// [`decile_cuts`] of values given with how many times each occurs.
pub fn decile_cuts_of_counts(mut counted: Vec<(f64, u64)>) -> Vec<f64> {
    counted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = counted.iter().map(|c| c.1).sum();
    let Some(&(first, _)) = counted.first() else {
        return Vec::new();
    };
    let mut cuts: Vec<f64> = Vec::new();
    let (mut next, mut before) = (0, 0u64);
    for d in 1..10 {
        // The value at position d·total/10 of the sorted, expanded values.
        let position = d as u64 * total / 10;
        while next < counted.len() && before + counted[next].1 <= position {
            before += counted[next].1;
            next += 1;
        }
        let Some(&(v, _)) = counted.get(next) else {
            continue;
        };
        if cuts.last().is_none_or(|&last| last < v) && first < v {
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
    fn groups_measure_as_their_rows_do() {
        // Rows with repeated probabilities, in no order, and the same rows
        // as groups of equal probability (two groups share 0.3).
        let probabilities = [0.3, 0.1, 0.7, 0.3, 0.1, 0.7, 0.3, 0.9, 0.1, 0.3];
        let target = [
            true, false, true, false, false, false, false, true, true, true,
        ];
        let groups = vec![
            Group {
                probability: 0.7,
                rows: 2,
                events: 1,
            },
            Group {
                probability: 0.3,
                rows: 3,
                events: 2,
            },
            Group {
                probability: 0.1,
                rows: 3,
                events: 1,
            },
            Group {
                probability: 0.9,
                rows: 1,
                events: 1,
            },
            Group {
                probability: 0.3,
                rows: 1,
                events: 0,
            },
        ];
        let rows = summary(&probabilities, &target);
        let grouped = summary_of_groups(groups);
        assert_eq!((grouped.rows, grouped.events), (rows.rows, rows.events));
        assert!(
            (grouped.auc - rows.auc).abs() < 1e-12,
            "{grouped:?} {rows:?}"
        );
        assert!((grouped.ks - rows.ks).abs() < 1e-12);
        assert!((grouped.log_loss - rows.log_loss).abs() < 1e-12);

        let scores = [
            500.0, 510.0, 510.0, 530.0, 480.0, 510.0, 600.0, 480.0, 550.0, 530.0,
        ];
        let counted = vec![
            (510.0, 3),
            (480.0, 2),
            (600.0, 1),
            (500.0, 1),
            (530.0, 2),
            (550.0, 1),
        ];
        assert_eq!(decile_cuts_of_counts(counted), decile_cuts(&scores));
        assert_eq!(
            decile_cuts(&scores),
            vec![500.0, 510.0, 530.0, 550.0, 600.0]
        );
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
