//! Spikes in daily counts against a negative-binomial baseline.
//!
//! Complaint counts are over-dispersed: a restaurant street has busy and
//! quiet weeks, so their variance exceeds their mean and a Poisson test
//! cries wolf. The dispersion is a property of an industry's complaints
//! more than of one series, and one series' few weeks estimate it badly,
//! so it is estimated once over all the series of an industry
//! ([`pooled_size`], by the method of moments) and handed to the test of
//! each series ([`statistics`]): the expected count is the mean of a
//! baseline of 28 days before a 2-day guard band, and a day alarms when
//! the chance of at least its count under that negative binomial is below
//! `alpha`. Without over-dispersion (`size` `None`) the test is Poisson.

use serde::{Deserialize, Serialize};
use statrs::distribution::{DiscreteCDF, NegativeBinomial, Poisson};

use crate::mean_sd;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Days in the baseline.
    pub baseline: usize,
    /// Days between the baseline and the day tested.
    pub guard: usize,
    /// A day alarms when the chance of at least its count is below this.
    pub alpha: f64,
    /// The least expected count a day is given (a quiet baseline would
    /// otherwise expect nothing, and any complaint would alarm).
    pub min_expected: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            baseline: 28,
            guard: 2,
            alpha: 0.01,
            min_expected: 0.2,
        }
    }
}

/// One day's test, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Day {
    pub day: usize,
    pub count: u32,
    /// The baseline's mean, at least `min_expected`.
    pub expected: f64,
    /// The chance of at least this count under the baseline.
    pub p_value: f64,
    /// The least count that would have alarmed.
    pub alarm_from: u32,
    pub alarm: bool,
}

/// The negative binomial's size `r` (variance = mean + mean² / r) that
/// fits the series best by the method of moments, pooled: the sum of
/// their squared means over the sum of their variances' excess over their
/// means. `None` when the series are not over-dispersed (Poisson fits).
pub fn pooled_size(series: &[&[u32]]) -> Option<f64> {
    let mut squared_means = 0.0;
    let mut excess = 0.0;
    for s in series {
        if s.len() < 2 {
            continue;
        }
        let (mean, sd) = mean_sd(s);
        let variance = sd * sd;
        squared_means += mean * mean;
        excess += variance - mean;
    }
    (excess > 0.0 && squared_means > 0.0).then(|| squared_means / excess)
}

/// The chance of a count of at least `count` when `expected` are expected.
fn upper_tail(count: u32, expected: f64, size: Option<f64>) -> f64 {
    if count == 0 {
        return 1.0;
    }
    let below = u64::from(count - 1);
    match size {
        Some(r) => match NegativeBinomial::new(r, r / (r + expected)) {
            Ok(nb) => 1.0 - nb.cdf(below),
            Err(_) => 1.0,
        },
        None => match Poisson::new(expected) {
            Ok(poisson) => 1.0 - poisson.cdf(below),
            Err(_) => 1.0,
        },
    }
}

/// The test of every day with at least a full baseline before its guard
/// band; `size` from [`pooled_size`] over the series' industry.
pub fn statistics(counts: &[u32], size: Option<f64>, options: &Options) -> Vec<Day> {
    let first = options.baseline + options.guard;
    (first..counts.len())
        .map(|t| {
            let window = &counts[t - first..t - options.guard];
            let expected = mean_sd(window).0.max(options.min_expected);
            let p_value = upper_tail(counts[t], expected, size);
            // The least count past alpha: a short walk up from the mean.
            let mut alarm_from = expected.ceil() as u32;
            while upper_tail(alarm_from, expected, size) >= options.alpha && alarm_from < 100_000 {
                alarm_from += 1;
            }
            Day {
                day: t,
                count: counts[t],
                expected,
                p_value,
                alarm_from,
                alarm: p_value < options.alpha,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_pooled_size_follows_the_moments() {
        // Means 2 and 4, sample variances both 16/3: excesses 10/3 and 4/3.
        let a: &[u32] = &[0, 0, 4, 4];
        let b: &[u32] = &[2, 2, 6, 6];
        let size = pooled_size(&[a, b]).unwrap();
        let expected = (4.0 + 16.0) / (16.0 / 3.0 - 2.0 + 16.0 / 3.0 - 4.0);
        assert!((size - expected).abs() < 1e-12, "{size} vs {expected}");
        // A constant series is under-dispersed: Poisson.
        assert_eq!(pooled_size(&[&[3, 3, 3, 3]]), None);
    }

    #[test]
    fn over_dispersion_makes_a_count_less_surprising() {
        let mut counts = vec![5u32; 30];
        counts.push(12);
        let poisson = statistics(&counts, None, &Options::default());
        let dispersed = statistics(&counts, Some(2.0), &Options::default());
        let (p, d) = (poisson.last().unwrap(), dispersed.last().unwrap());
        assert!(p.alarm, "{p:?}");
        assert!(!d.alarm, "{d:?}");
        assert!(d.p_value > p.p_value);
        assert!(d.alarm_from > p.alarm_from);
        // The evidence: the count that alarms does, the one below does not.
        assert!(upper_tail(p.alarm_from, p.expected, None) < 0.01);
        assert!(upper_tail(p.alarm_from - 1, p.expected, None) >= 0.01);
    }

    #[test]
    fn the_baseline_is_the_28_days_before_the_guard() {
        let mut counts: Vec<u32> = (0..30).map(|d| d % 4).collect();
        counts.extend([50, 50, 9]);
        let days = statistics(&counts, None, &Options::default());
        let last = days.last().unwrap();
        assert_eq!(last.day, 32);
        let window = &counts[2..30];
        let mean = window.iter().map(|&c| f64::from(c)).sum::<f64>() / 28.0;
        assert!((last.expected - mean).abs() < 1e-12);
        assert_eq!(days.first().unwrap().day, 30);
    }

    proptest::proptest! {
        /// p-values are probabilities, fall as the count rises, and the
        /// alarm follows them.
        #[test]
        fn tails_are_monotonic(
            level in 0u32..30,
            spike in 0u32..60,
            size in proptest::option::of(0.5f64..50.0),
        ) {
            let mut counts = vec![level; 30];
            counts.push(spike);
            let day = statistics(&counts, size, &Options::default()).pop().unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&day.p_value));
            proptest::prop_assert_eq!(day.alarm, day.p_value < 0.01);
            proptest::prop_assert_eq!(day.alarm, spike >= day.alarm_from);
            let higher = upper_tail(spike + 1, day.expected, size);
            proptest::prop_assert!(higher <= day.p_value + 1e-12);
        }
    }
}
