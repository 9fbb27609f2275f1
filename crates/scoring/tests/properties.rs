//! Properties the engine promises, over random data: monotonic bins, points
//! that reproduce the log-odds, a JSON round trip, and the same score for a
//! row alone as in a batch.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use scoring::binning::{self, BinRule, BinningOptions, Prebinning, Trend};
use scoring::{CategoricalBuilder, Column, FitOptions, Model, ModelInfo, Table, Value};

/// Rows of (number or missing, category or missing, event).
fn rows() -> impl Strategy<Value = Vec<(Option<f64>, Option<u8>, bool)>> {
    prop::collection::vec(
        (
            prop::option::weighted(0.9, -1000.0f64..1000.0),
            prop::option::weighted(0.95, 0u8..12),
            any::<bool>(),
        ),
        60..600,
    )
    .prop_map(|mut rows| {
        // Both outcomes must occur.
        rows[0].2 = true;
        rows[1].2 = false;
        rows
    })
}

fn table_of(rows: &[(Option<f64>, Option<u8>, bool)]) -> (Table, Vec<bool>) {
    let mut table = Table::default();
    let numbers = rows.iter().map(|r| r.0.unwrap_or(f64::NAN)).collect();
    // A second numeric feature tied to the outcome, so fits keep features.
    let signal = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if r.2 {
                (i % 7) as f64 + 3.0
            } else {
                (i % 5) as f64
            }
        })
        .collect();
    let mut categories = CategoricalBuilder::default();
    for r in rows {
        let text = r.1.map(|c| format!("c{c}"));
        categories.push(text.as_deref());
    }
    table.push("number", Column::Numeric(numbers));
    table.push("signal", Column::Numeric(signal));
    table.push("category", categories.finish());
    (table, rows.iter().map(|r| r.2).collect())
}

fn info() -> ModelInfo {
    ModelInfo {
        name: "test".into(),
        version: "1".into(),
        created: "2026-11-27".into(),
        target: "bad".into(),
        event: "1".into(),
        labels: BTreeMap::new(),
    }
}

fn loose_options() -> FitOptions {
    FitOptions {
        min_iv: 0.0,
        max_correlation: 1.0,
        ..FitOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn monotonic_constraints_hold(
        rows in rows(),
        shape in 0usize..4,
        tree in any::<bool>(),
        max_bins in 1usize..10,
        min_share in 0.0f64..0.2,
    ) {
        let (table, target) = table_of(&rows);
        let trend = [Trend::Ascending, Trend::Descending, Trend::Peak, Trend::Valley][shape];
        let options = BinningOptions {
            trend,
            prebinning: if tree { Prebinning::Tree } else { Prebinning::Quantile },
            max_bins,
            min_bin_share: min_share,
            ..BinningOptions::default()
        };
        let (binning, row_bins) = binning::bin_feature(&table.columns[0], &target, &options);
        let regular: Vec<_> = binning
            .bins
            .iter()
            .filter(|b| matches!(b.rule, BinRule::Range { .. }))
            .collect();
        prop_assert!(!regular.is_empty() && regular.len() <= max_bins);
        // Ascending: no step down; descending: no step up; a peak: no step
        // up after a step down; a valley: no step down after a step up.
        let steps: Vec<bool> = regular.windows(2).map(|p| p[1].woe > p[0].woe).collect();
        prop_assert!(regular.windows(2).all(|p| p[1].woe != p[0].woe), "{:?}", regular);
        let turns = steps.windows(2).filter(|w| w[0] != w[1]).count();
        match trend {
            Trend::Ascending => prop_assert!(steps.iter().all(|&up| up), "{:?}", regular),
            Trend::Descending => prop_assert!(steps.iter().all(|&up| !up), "{:?}", regular),
            Trend::Peak => prop_assert!(
                turns == 0 || (turns == 1 && steps[0]), "{:?}", regular
            ),
            _ => prop_assert!(turns == 0 || (turns == 1 && !steps[0]), "{:?}", regular),
        }
        if regular.len() > 1 {
            let min_count = (min_share * rows.len() as f64).ceil() as u64;
            prop_assert!(regular.iter().all(|b| b.count >= min_count));
        }
        // Every row is counted in the bin it was assigned.
        let mut counts = vec![0u64; binning.bins.len()];
        for &b in &row_bins {
            counts[b as usize] += 1;
        }
        let stated: Vec<u64> = binning.bins.iter().map(|b| b.count).collect();
        prop_assert_eq!(counts, stated);
    }

    #[test]
    fn categorical_bins_follow_event_rate(rows in rows(), max_bins in 1usize..6) {
        let (table, target) = table_of(&rows);
        let options = BinningOptions { max_bins, ..BinningOptions::default() };
        let (binning, _) = binning::bin_feature(&table.columns[2], &target, &options);
        let groups: Vec<_> = binning
            .bins
            .iter()
            .filter(|b| matches!(b.rule, BinRule::Categories { .. }) && b.count > 0)
            .collect();
        for pair in groups.windows(2) {
            prop_assert!(pair[1].woe > pair[0].woe);
        }
        let others = binning
            .bins
            .iter()
            .filter(|b| matches!(b.rule, BinRule::Categories { other: true, .. }))
            .count();
        prop_assert_eq!(others, 1);
    }

    #[test]
    fn points_reproduce_log_odds_and_json_round_trips(rows in rows()) {
        let (table, target) = table_of(&rows);
        let fitted = scoring::fit(&table, &target, &loose_options(), &info()).unwrap();
        let model = fitted.model;
        let scorer = model.scorer();
        let scored = scorer.score_table(&table).unwrap();
        let half_points = 0.5 * model.features.len() as f64 + 1e-9;
        for (s, &p) in scored.iter().zip(&fitted.probabilities) {
            let exact = model.scaling.score_of(s.log_odds);
            prop_assert!((s.score as f64 - exact).abs() <= half_points, "{} vs {}", s.score, exact);
            prop_assert!((s.probability - p).abs() < 1e-12);
        }
        // The training measures, found per pattern of bins, are the rows'.
        let by_rows = scoring::metrics::summary(&fitted.probabilities, &target);
        let training = model.training.metrics;
        prop_assert_eq!((training.rows, training.events), (by_rows.rows, by_rows.events));
        prop_assert!((training.auc - by_rows.auc).abs() < 1e-9 || (training.auc.is_nan() && by_rows.auc.is_nan()));
        prop_assert!((training.ks - by_rows.ks).abs() < 1e-9);
        prop_assert!((training.log_loss - by_rows.log_loss).abs() < 1e-9);
        let scores: Vec<f64> = scored.iter().map(|s| s.score as f64).collect();
        let cuts = scoring::metrics::decile_cuts(&scores);
        prop_assert_eq!(&model.training.score_cuts, &cuts);
        prop_assert_eq!(
            &model.training.score_counts,
            &scoring::metrics::histogram(scores.iter().copied(), &cuts)
        );
        let back = Model::from_json(&model.to_json()).unwrap();
        prop_assert_eq!(&back, &model);
        let again = back.scorer().score_table(&table).unwrap();
        prop_assert_eq!(again, scored);
    }

    #[test]
    fn a_row_alone_scores_as_in_a_batch(rows in rows()) {
        let (table, target) = table_of(&rows);
        let fitted = scoring::fit(&table, &target, &loose_options(), &info()).unwrap();
        let scorer = fitted.model.scorer();
        let batch = scorer.score_table(&table).unwrap();
        for (row, expected) in batch.iter().enumerate() {
            let values: Vec<Value<'_>> = fitted
                .model
                .features
                .iter()
                .map(|f| table.column(&f.name).unwrap().value(row))
                .collect();
            prop_assert_eq!(&scorer.score_row(&values), expected);
        }
    }
}

#[test]
fn reasons_name_the_costliest_features_first() {
    let rows: Vec<(Option<f64>, Option<u8>, bool)> = (0..2000)
        .map(|i| {
            let bad = i % 9 == 0 || i % 13 == 0;
            (Some((i % 100) as f64), Some((i % 12) as u8), bad)
        })
        .collect();
    let (table, target) = table_of(&rows);
    let fitted = scoring::fit(&table, &target, &loose_options(), &info()).unwrap();
    let scorer = fitted.model.scorer();
    for scored in scorer.score_table(&table).unwrap() {
        let lost: Vec<u32> = scored.reasons().iter().map(|r| r.points_lost).collect();
        assert!(lost.windows(2).all(|w| w[0] >= w[1]), "{lost:?}");
        assert!(lost.iter().all(|&l| l > 0));
        assert!(scored.reasons().len() <= scoring::model::MAX_REASONS);
        for reason in scored.reasons() {
            assert!(scorer.reason_text(*reason).contains("points"));
        }
    }
}

#[test]
fn unseen_categories_and_text_in_numeric_columns_score_without_panic() {
    let rows: Vec<(Option<f64>, Option<u8>, bool)> = (0..500)
        .map(|i| (Some(i as f64), Some((i % 3) as u8), i % 4 == 0))
        .collect();
    let (table, target) = table_of(&rows);
    let fitted = scoring::fit(&table, &target, &loose_options(), &info()).unwrap();
    let scorer = fitted.model.scorer();
    let names: Vec<&str> = fitted
        .model
        .features
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let values: Vec<Value<'_>> = names
        .iter()
        .map(|n| match *n {
            "category" => Value::Text("never seen"),
            _ => Value::Text("not a number"),
        })
        .collect();
    let scored = scorer.score_row(&values);
    assert!(scored.probability > 0.0 && scored.probability < 1.0);
}

#[test]
fn uniform_weights_change_nothing_without_a_penalty() {
    // Outcomes that no bin predicts perfectly, so the unpenalised fit has a
    // finite optimum: the event rate rises with the number, with noise
    // from a fixed scramble of the row index.
    let rows = 3000u64;
    let scramble = |i: u64| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 100;
    let number: Vec<f64> = (0..rows).map(|i| (i % 97) as f64).collect();
    let target: Vec<bool> = (0..rows).map(|i| scramble(i) < 5 + (i % 97) / 5).collect();
    let mut categories = CategoricalBuilder::default();
    for i in 0..rows {
        categories.push(Some(["a", "b", "c"][(scramble(i + 7) % 3) as usize]));
    }
    let mut table = Table::default();
    table.push("number", Column::Numeric(number));
    table.push("category", categories.finish());
    let options = FitOptions {
        l2: 0.0,
        ..loose_options()
    };
    let plain = scoring::fit(&table, &target, &options, &info())
        .unwrap()
        .model;
    let weights = vec![3.0; target.len()];
    let weighted = scoring::fit_weighted(&table, &target, Some(&weights), &options, &info())
        .unwrap()
        .model;
    assert!((plain.intercept - weighted.intercept).abs() < 1e-6);
    for (a, b) in plain.features.iter().zip(&weighted.features) {
        assert!(
            (a.coefficient - b.coefficient).abs() < 1e-6,
            "{} {}",
            a.coefficient,
            b.coefficient
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A rare flag whose entities go bad far more often than the rest keeps
    /// a bin of its own under an event floor, however far below the share
    /// floor it is, and is never dropped for the floor.
    #[test]
    fn a_rare_strong_flag_is_never_dropped_for_a_bin_floor(
        rows in 2_000usize..8_000,
        base_permille in 30u64..300,
        flagged_events in 8u64..40,
        flagged_rate_permille in 0u64..600,
        min_share in 0.01f64..0.1,
        seed in any::<u64>(),
    ) {
        let base = base_permille as f64 / 1000.0;
        // At least three times the base rate, and at least 40 %.
        let flagged_rate = (3.0 * base).max(0.4) + flagged_rate_permille as f64 / 1000.0 * (1.0 - (3.0 * base).max(0.4));
        let flagged = ((flagged_events as f64 / flagged_rate).ceil() as usize).max(flagged_events as usize);
        let flagged = flagged.min((min_share * rows as f64) as usize - 1).max(flagged_events as usize);
        prop_assume!(flagged < (min_share * rows as f64) as usize);
        let mut state = seed | 1;
        let mut next = || {
            // xorshift: a reproducible stream from the seed.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1_000_000) as f64 / 1_000_000.0
        };
        let mut flag = Vec::with_capacity(rows);
        let mut target = Vec::with_capacity(rows);
        for k in 0..rows {
            if k < flagged {
                flag.push(1.0);
                target.push((k as u64) < flagged_events);
            } else {
                flag.push(0.0);
                target.push(next() < base);
            }
        }
        prop_assume!(target.iter().any(|&t| !t) && target[flagged..].iter().any(|&t| t));
        let options = BinningOptions {
            min_bin_share: min_share,
            min_prebin_share: min_share,
            min_bin_events: 8,
            trend: Trend::Ascending,
            ..BinningOptions::default()
        };
        let column = Column::Numeric(flag);
        let (binning, _) = binning::bin_feature(&column, &target, &options);
        let filled: Vec<_> = binning
            .bins
            .iter()
            .filter(|b| matches!(b.rule, BinRule::Range { .. }) && b.count > 0)
            .collect();
        prop_assert_eq!(filled.len(), 2, "{:?}", binning.bins);
        prop_assert_eq!(filled[1].count, flagged as u64);

        let mut table = Table::default();
        table.push("flag", column);
        let fit = scoring::fit(
            &table,
            &target,
            &FitOptions { binning: options, ..FitOptions::default() },
            &info(),
        );
        if let Ok(fitted) = fit {
            for dropped in &fitted.model.dropped {
                prop_assert!(!dropped.reason.contains("bin floor"), "{}", dropped.reason);
            }
        }
    }
}
