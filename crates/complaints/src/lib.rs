//! Citizens' complaints (12345 / 12315): pure computation, no IO and no
//! clock.
//!
//! - [`mask`]: personal data in a complaint's text (phone and ID numbers,
//!   names before 先生/女士, plate numbers, house numbers beyond the
//!   street) replaced before anything is shown.
//! - [`link`]: complaints without a USCC linked to registered entities by
//!   the name the caller gave, the place and the industry, with a
//!   confidence and its evidence.
//! - [`segment`]: Chinese word segmentation (jieba) with a domain
//!   dictionary the credit centre can extend, and the terms a classifier
//!   reads.
//! - [`ears`]: spikes in daily counts by EARS C1, C2 and C3, each alarm
//!   with its evidence; [`ewma`]: by two weighted moving averages with
//!   t-test p-values, as ESSENCE does; [`negbin`]: against a
//!   negative-binomial baseline whose dispersion is pooled per industry;
//!   [`repeat`]: repeat complaints about
//!   one business within a window; [`scan`]: space-time clusters over
//!   towns and days by Kulldorff's prospective space-time permutation scan
//!   with Monte Carlo p-values.
//! - [`detect`]: every detector over a city's complaints (series per
//!   category and town, district and industry; repeats per business;
//!   clusters per category), signals with their evidence, and their score
//!   against known outbreaks.
//! - [`warning`]: warnings made from signals (administrative notices,
//!   consumer alerts, risk reports): states, who moves each, four eyes,
//!   deadlines and overdue marks.
//! - [`classify`]: a category classifier for labelled Chinese text:
//!   TF-IDF terms and a multinomial logistic regression, with accuracy,
//!   macro-F1 and a confusion matrix.

pub mod classify;
pub mod detect;
pub mod ears;
pub mod ewma;
pub mod link;
pub mod mask;
pub mod negbin;
pub mod repeat;
pub mod scan;
pub mod segment;
pub mod warning;

pub use classify::{Evaluation, FitOptions, Model, Prediction, each_in_parts};
pub use mask::mask;
pub use segment::Segmenter;

/// Mean and sample standard deviation (n − 1) of daily counts, as the
/// detectors' baselines use them; (0, 0) for no days, sd 0 for one.
pub(crate) fn mean_sd(values: &[u32]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let variance = values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    (mean, variance.sqrt())
}
