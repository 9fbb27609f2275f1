//! Spikes in daily counts by the CDC's Early Aberration Reporting System
//! (EARS) statistics C1, C2 and C3, as R's `surveillance::earsC` computes
//! them.
//!
//! For day `t` of a series of daily counts:
//!
//! - **C1**: the baseline is the 7 days before `t`; `C1 = (y_t − mean) / sd`.
//! - **C2**: the baseline is the 7 days before a 2-day guard band (days
//!   `t−9 … t−3`), so a spike that started yesterday is not part of its
//!   own baseline; `C2 = (y_t − mean) / sd`.
//! - **C3**: C2 of the day plus the excesses of the two days before,
//!   `C3 = C2_t + max(0, C2_{t−1} − 1) + max(0, C2_{t−2} − 1)`: a rise that
//!   lasts is caught before any one day of it stands out.
//!
//! A day alarms when its statistic exceeds the threshold (default 3.09,
//! the normal quantile at 1 − 0.001, earsC's `alpha`). The standard
//! deviation is at least `min_sigma`, so a baseline of all zeros does not
//! make one complaint an alarm. Days without enough history get no
//! statistic. Every alarm carries its evidence: the count, the baseline's
//! mean and standard deviation, the statistic, the threshold, and the
//! count that would have alarmed.

use serde::{Deserialize, Serialize};

use crate::mean_sd;

/// The three statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    C1,
    C2,
    C3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Days in the baseline (7 in EARS).
    pub baseline: usize,
    /// Days between the baseline and the day tested, for C2 and C3 (2).
    pub guard: usize,
    /// A day alarms when its statistic exceeds this.
    pub threshold: f64,
    /// The least standard deviation a baseline is given.
    pub min_sigma: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            baseline: 7,
            guard: 2,
            threshold: 3.09,
            min_sigma: 0.5,
        }
    }
}

/// One day's statistic, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    /// The day's index in the series.
    pub day: usize,
    pub count: u32,
    pub baseline_mean: f64,
    /// The baseline's standard deviation, at least `min_sigma`.
    pub baseline_sd: f64,
    pub statistic: f64,
    pub threshold: f64,
    /// The least count that would have made the day alarm (for C3, given
    /// the two days before).
    pub alarm_from: f64,
    pub alarm: bool,
}

/// The statistic of every day with enough history.
pub fn statistics(counts: &[u32], method: Method, options: &Options) -> Vec<Day> {
    let gap = match method {
        Method::C1 => 0,
        Method::C2 | Method::C3 => options.guard,
    };
    let first = options.baseline + gap;
    // Each day's standardised count against its baseline: (mean, sd, z).
    let scored: Vec<(f64, f64, f64)> = (first..counts.len())
        .map(|t| {
            let (mean, sd) = mean_sd(&counts[t - gap - options.baseline..t - gap]);
            let sd = sd.max(options.min_sigma);
            (mean, sd, (f64::from(counts[t]) - mean) / sd)
        })
        .collect();
    scored
        .iter()
        .enumerate()
        .map(|(k, &(mean, sd, z))| {
            // C3 adds the two days before, each by its own C2.
            let excess: f64 = match method {
                Method::C3 => scored[k.saturating_sub(2)..k]
                    .iter()
                    .map(|&(_, _, before)| (before - 1.0).max(0.0))
                    .sum(),
                _ => 0.0,
            };
            let statistic = z + excess;
            Day {
                day: first + k,
                count: counts[first + k],
                baseline_mean: mean,
                baseline_sd: sd,
                statistic,
                threshold: options.threshold,
                alarm_from: mean + (options.threshold - excess) * sd,
                alarm: statistic > options.threshold,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_spike_alarms_and_its_evidence_adds_up() {
        // Two complaints a day, give or take one, then 12 on day 20.
        let mut counts: Vec<u32> = (0..20).map(|d| 2 + (d % 3 == 0) as u32).collect();
        counts.push(12);
        for method in [Method::C1, Method::C2, Method::C3] {
            let days = statistics(&counts, method, &Options::default());
            let last = days.last().unwrap();
            assert_eq!(last.day, 20);
            assert!(last.alarm, "{method:?} {last:?}");
            assert!(f64::from(last.count) > last.alarm_from);
            assert!(
                days[..days.len() - 1].iter().all(|d| !d.alarm),
                "{method:?}"
            );
        }
        let c1 = statistics(&counts, Method::C1, &Options::default());
        let last = c1.last().unwrap();
        let window: Vec<f64> = counts[13..20].iter().map(|&c| f64::from(c)).collect();
        let mean = window.iter().sum::<f64>() / 7.0;
        assert!((last.baseline_mean - mean).abs() < 1e-12);
        assert!((last.statistic - (12.0 - mean) / last.baseline_sd).abs() < 1e-12);
    }

    #[test]
    fn c2s_guard_keeps_a_rise_out_of_its_own_baseline_and_c3_sums_it() {
        // A rise over three days: 1 a day, then 4, 5, 6.
        let mut counts = vec![1u32; 15];
        counts.extend([4, 5, 6]);
        let options = Options::default();
        let c1 = statistics(&counts, Method::C1, &options);
        let c2 = statistics(&counts, Method::C2, &options);
        let c3 = statistics(&counts, Method::C3, &options);
        // Day 17: C1's baseline holds days 15 and 16 of the rise, C2's not.
        let day = |days: &[Day], d: usize| days.iter().find(|x| x.day == d).unwrap().clone();
        assert!(day(&c2, 17).statistic > day(&c1, 17).statistic);
        // C3 is C2 plus the excesses of the two days before.
        let expected = day(&c2, 17).statistic
            + (day(&c2, 16).statistic - 1.0).max(0.0)
            + (day(&c2, 15).statistic - 1.0).max(0.0);
        assert!((day(&c3, 17).statistic - expected).abs() < 1e-12);
        assert!(day(&c3, 17).statistic > day(&c2, 17).statistic);
    }

    #[test]
    fn short_series_and_quiet_baselines() {
        assert!(statistics(&[1, 2, 3], Method::C2, &Options::default()).is_empty());
        // A baseline of zeros: one complaint is not an alarm, three are.
        let mut counts = vec![0u32; 9];
        counts.push(1);
        let one = statistics(&counts, Method::C2, &Options::default());
        assert!(!one.last().unwrap().alarm);
        *counts.last_mut().unwrap() = 3;
        let three = statistics(&counts, Method::C2, &Options::default());
        assert!(three.last().unwrap().alarm);
        assert_eq!(three.last().unwrap().baseline_sd, 0.5);
    }

    proptest::proptest! {
        /// A flat series never alarms; adding to a day's count never lowers
        /// its statistic.
        #[test]
        fn flat_series_are_quiet_and_statistics_rise_with_the_count(
            level in 0u32..50,
            len in 10usize..40,
            extra in 0u32..20,
            method in 0usize..3,
        ) {
            let method = [Method::C1, Method::C2, Method::C3][method];
            let flat = vec![level; len];
            let days = statistics(&flat, method, &Options::default());
            proptest::prop_assert!(days.iter().all(|d| !d.alarm));
            let mut raised = flat.clone();
            *raised.last_mut().unwrap() += extra;
            let after = statistics(&raised, method, &Options::default());
            proptest::prop_assert!(after.last().unwrap().statistic >= days.last().unwrap().statistic);
        }
    }
}
