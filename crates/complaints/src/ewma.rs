//! Spikes in daily counts by EWMA, as ESSENCE and CDC's Rnssp
//! (`alert_ewma`) compute it.
//!
//! Two exponentially weighted moving averages of the counts run side by
//! side: weight 0.4 (sensitive to gradual rises) and 0.9 (to sudden ones).
//! Each day's averages are compared with a baseline of up to 28 days that
//! ends before a 2-day guard band (the first days use what the series has,
//! from 7 on): the test statistic is the average's excess over the
//! baseline's mean in units of the baseline's standard deviation, corrected
//! for the smoothing, with Rnssp's floor and constant so that a quiet
//! baseline does not make noise an alert. The p-value is Student's t with
//! the baseline's length less one degrees of freedom; the smaller of the
//! two averages' p-values is the day's. Red below 0.01, yellow below 0.05.
//! An average that passes the red limit is pulled back to it, so one
//! outbreak does not keep the average high for weeks after.
//!
//! One addition to Rnssp: the baseline's standard deviation is at least
//! `min_sigma` (0.5, as EARS has it here). Rnssp's constant was made for
//! syndromic counts in the tens; on a town's complaints of one category,
//! most days zero, it let one complaint after a quiet month be red (27
//! false alarms a month over a small city's series; docs/COMPLAINTS.md).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::mean_sd;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// The longest baseline, in days (Rnssp's `B`).
    pub baseline: usize,
    /// Days between the baseline and the day tested (`g`).
    pub guard: usize,
    /// The weight of the average for gradual rises (`w1`).
    pub gradual_weight: f64,
    /// The weight of the average for sudden rises (`w2`).
    pub sudden_weight: f64,
    /// A day below this p-value is red.
    pub red: f64,
    /// A day below this p-value, and not red, is yellow.
    pub yellow: f64,
    /// The least standard deviation a baseline is given (0 is Rnssp's).
    pub min_sigma: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            baseline: 28,
            guard: 2,
            gradual_weight: 0.4,
            sudden_weight: 0.9,
            red: 0.01,
            yellow: 0.05,
            min_sigma: 0.5,
        }
    }
}

/// The shortest baseline tested (Rnssp's `min_baseline`).
pub const MIN_BASELINE: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    None,
    Yellow,
    Red,
}

/// One day's test, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    pub day: usize,
    pub count: u32,
    /// The baseline's mean.
    pub expected: f64,
    /// The days in the baseline.
    pub baseline_days: usize,
    /// The statistic of the average with the smaller p-value.
    pub statistic: f64,
    pub p_value: f64,
    pub level: Level,
}

/// The test of every day with enough history (`MIN_BASELINE + guard` days
/// before it).
pub fn statistics(counts: &[u32], options: &Options) -> Vec<Day> {
    let g = options.guard;
    let start = MIN_BASELINE + g;
    if counts.len() <= start || options.baseline < MIN_BASELINE {
        return Vec::new();
    }
    let y: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
    let weights = [options.gradual_weight, options.sudden_weight];
    // The two averages, run up to the first day tested.
    let mut z = [y[0], y[0]];
    for &value in &y[1..start] {
        for (zk, w) in z.iter_mut().zip(weights) {
            *zk = w * value + (1.0 - w) * *zk;
        }
    }
    let mut days = Vec::new();
    for t in start..y.len() {
        let baseline = &counts[(t - g).saturating_sub(options.baseline)..t - g];
        let n = baseline.len() as f64;
        let freedom = n - 1.0;
        let (expected, sigma) = mean_sd(baseline);
        let sigma = sigma.max(options.min_sigma);
        let Ok(t_dist) = StudentsT::new(0.0, 1.0, freedom) else {
            continue;
        };
        let red_limit = t_dist.inverse_cdf(1.0 - options.red);
        let yellow_limit = t_dist.inverse_cdf(1.0 - options.yellow);
        let mut best: Option<(f64, f64)> = None;
        for (zk, w) in z.iter_mut().zip(weights) {
            let correction = (w / (2.0 - w) + 1.0 / n
                - 2.0 * (1.0 - w).powi(g as i32 + 1) * ((1.0 - (1.0 - w).powf(n)) / n))
                .sqrt();
            let floor = (w / yellow_limit) * (0.01 + 0.05 * (1.0 - w).powi(2));
            let constant = (0.1289 - (0.2414 - 0.1826 * (1.0 - w).powi(4)) * (10.0 * 0.05f64).ln())
                * (w / yellow_limit);
            let sd = (sigma * correction + constant).max(floor);
            *zk = w * y[t] + (1.0 - w) * *zk;
            let statistic = (*zk - expected) / sd;
            if statistic.abs() > red_limit {
                *zk = expected + statistic.signum() * red_limit * sd;
            }
            let p = 1.0 - t_dist.cdf(statistic);
            // Ties go to the sudden average, as in Rnssp.
            if best.is_none_or(|(_, bp)| p <= bp) {
                best = Some((statistic, p));
            }
        }
        let Some((statistic, p_value)) = best else {
            continue;
        };
        let level = if p_value < options.red {
            Level::Red
        } else if p_value < options.yellow {
            Level::Yellow
        } else {
            Level::None
        };
        days.push(Day {
            day: t,
            count: counts[t],
            expected,
            baseline_days: baseline.len(),
            statistic,
            p_value,
            level,
        });
    }
    days
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A noisy but steady series: 10 a day, give or take two.
    fn steady(days: usize) -> Vec<u32> {
        (0..days).map(|d| 10 + (d * 7 % 5) as u32 - 2).collect()
    }

    #[test]
    fn a_spike_is_red_and_the_steady_days_before_are_not() {
        let mut counts = steady(40);
        counts.push(30);
        let days = statistics(&counts, &Options::default());
        assert_eq!(days.first().unwrap().day, MIN_BASELINE + 2);
        assert_eq!(days.first().unwrap().baseline_days, MIN_BASELINE);
        assert_eq!(days.last().unwrap().baseline_days, 28);
        let last = days.last().unwrap();
        assert_eq!(last.level, Level::Red, "{last:?}");
        assert!(last.p_value < 0.01);
        assert!(
            days[..days.len() - 1].iter().all(|d| d.level != Level::Red),
            "{days:?}"
        );
    }

    #[test]
    fn the_baseline_ends_before_the_guard_band() {
        // A jump two days before the tested day stays out of its baseline.
        let mut counts = steady(30);
        counts.extend([40, 40, 40]);
        let days = statistics(&counts, &Options::default());
        let last = days.last().unwrap();
        let baseline = &counts[32 - 2 - 28..32 - 2];
        let mean = baseline.iter().map(|&c| f64::from(c)).sum::<f64>() / 28.0;
        assert_eq!(last.day, 32);
        assert!(
            (last.expected - mean).abs() < 1e-12,
            "{} vs {mean}",
            last.expected
        );
    }

    #[test]
    fn one_complaint_after_a_quiet_month_is_red_only_without_the_floor() {
        let mut counts = vec![0; 40];
        counts.push(1);
        let rnssp = Options {
            min_sigma: 0.0,
            ..Options::default()
        };
        assert_eq!(
            statistics(&counts, &rnssp).last().unwrap().level,
            Level::Red
        );
        let ours = statistics(&counts, &Options::default());
        assert_eq!(ours.last().unwrap().level, Level::None, "{ours:?}");
        counts.push(4);
        let ours = statistics(&counts, &Options::default());
        assert_eq!(ours.last().unwrap().level, Level::Red, "{ours:?}");
    }

    #[test]
    fn too_short_a_series_is_not_tested() {
        assert!(statistics(&steady(9), &Options::default()).is_empty());
        assert_eq!(statistics(&steady(10), &Options::default()).len(), 1);
    }

    proptest::proptest! {
        /// A flat series is never red; p-values are probabilities.
        #[test]
        fn flat_series_are_quiet(level in 0u32..200, len in 10usize..60) {
            let days = statistics(&vec![level; len], &Options::default());
            for d in days {
                proptest::prop_assert!(d.level != Level::Red, "{:?}", d);
                proptest::prop_assert!((0.0..=1.0).contains(&d.p_value));
            }
        }
    }
}
