//! Optimal binning of one feature against a binary target.
//!
//! Numeric features: a deterministic sample of the values gives up to
//! [`FINE_BINS`] fine cut points (short decimals between neighbouring
//! values); fine bins are counted in one pass and grouped into pre-bins by
//! quantiles or by a best-first classification tree; a dynamic programme
//! then picks the contiguous grouping of pre-bins with the highest
//! information value under the constraints (minimum bin share or, when
//! set, minimum events per bin; maximum bins; a WoE strictly ascending or
//! descending, or rising to one peak, or falling to one valley). The
//! programme is exact: no other grouping of the pre-bins meeting the
//! constraints has a higher IV.
//!
//! Categorical features: categories rarer than the minimum share are pooled
//! as "other" (which also takes categories never seen in training); the rest
//! are ordered by event rate and grouped the same way.
//!
//! Missing values and each special value get bins of their own.
//!
//! WoE here is `ln(share of events / share of non-events)`, each count
//! smoothed by ½, so a higher WoE means a riskier bin.

use serde::{Deserialize, Serialize};

use crate::table::{Column, MISSING_CODE};

/// At most this many fine bins are counted per numeric feature.
pub const FINE_BINS: usize = 100;
/// At most this many values are sorted to find the fine cut points.
const SAMPLE: usize = 200_000;

/// Direction the WoE must follow across the ordered bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Risk rises with the value.
    Ascending,
    /// Risk falls as the value rises.
    Descending,
    /// Whichever of the two gives the higher IV.
    Auto,
    /// No constraint.
    Free,
    /// Risk rises to one peak, then falls (age, say: risky when young and
    /// when old is the valley below).
    Peak,
    /// Risk falls to one low point, then rises.
    Valley,
    /// Ascending or descending as in `Auto`, or a peak or a valley when it
    /// fits clearly better: its binned log-likelihood beats the monotonic
    /// grouping's by more than [`TURN_TEST`] (a likelihood-ratio test at
    /// 5 % on one degree of freedom). optbinning's default chooses among the
    /// same four shapes; the test keeps a turn that noise made out.
    Unimodal,
}

/// The likelihood-ratio statistic (twice the log-likelihood gain) a peak or
/// valley must exceed to replace a monotonic grouping: χ²(1) at 95 %.
pub const TURN_TEST: f64 = 3.841;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prebinning {
    Quantile,
    Tree,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinningOptions {
    pub prebinning: Prebinning,
    pub max_prebins: usize,
    /// A pre-bin holds at least this share of all rows.
    pub min_prebin_share: f64,
    pub max_bins: usize,
    /// A final bin holds at least this share of all rows…
    pub min_bin_share: f64,
    /// …or at least this many events (0: the share alone). Rare flags and
    /// counts — a listing, months of arrears — are the strongest signals
    /// and never reach a share floor; an event floor keeps their bin when
    /// enough of them went bad to say so. Pre-bins follow the same rule.
    #[serde(default)]
    pub min_bin_events: u64,
    pub trend: Trend,
    /// Categories rarer than this share are pooled as "other".
    pub min_category_share: f64,
    /// Numeric codes that mean something other than their value
    /// (e.g. -1 for "not reported"); each gets its own bin.
    pub special_values: Vec<f64>,
}

impl Default for BinningOptions {
    fn default() -> Self {
        BinningOptions {
            prebinning: Prebinning::Tree,
            max_prebins: 20,
            min_prebin_share: 0.02,
            max_bins: 8,
            min_bin_share: 0.05,
            min_bin_events: 0,
            trend: Trend::Auto,
            min_category_share: 0.01,
            special_values: Vec::new(),
        }
    }
}

impl BinningOptions {
    pub fn validate(&self) -> Result<(), String> {
        if !(2..=64).contains(&self.max_prebins) {
            return Err(format!(
                "max prebins {} is not within 2..=64",
                self.max_prebins
            ));
        }
        if !(1..=32).contains(&self.max_bins) {
            return Err(format!("max bins {} is not within 1..=32", self.max_bins));
        }
        for (name, share) in [
            ("min prebin share", self.min_prebin_share),
            ("min bin share", self.min_bin_share),
            ("min category share", self.min_category_share),
        ] {
            if !(0.0..0.5).contains(&share) {
                return Err(format!("{name} {share} is not within 0..0.5"));
            }
        }
        if self.special_values.len() > 32 {
            return Err("more than 32 special values".to_string());
        }
        if self.special_values.iter().any(|v| !v.is_finite()) {
            return Err("special values must be finite numbers".to_string());
        }
        Ok(())
    }
}

/// What values a bin holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BinRule {
    /// `lo <= x < hi`; `None` is an open end.
    Range {
        lo: Option<f64>,
        hi: Option<f64>,
    },
    Special {
        value: f64,
    },
    /// The listed categories; with `other`, also the rare ones and any
    /// category not seen in training.
    Categories {
        values: Vec<String>,
        other: bool,
    },
    Missing,
}

impl BinRule {
    /// The bin in words, e.g. "3.5 to under 7", "one of: 52, 62".
    pub fn describe(&self) -> String {
        match self {
            BinRule::Range { lo: None, hi: None } => "any value".to_string(),
            BinRule::Range {
                lo: None,
                hi: Some(hi),
            } => format!("under {hi}"),
            BinRule::Range {
                lo: Some(lo),
                hi: None,
            } => format!("{lo} or more"),
            BinRule::Range {
                lo: Some(lo),
                hi: Some(hi),
            } => format!("{lo} to under {hi}"),
            BinRule::Special { value } => format!("special value {value}"),
            BinRule::Categories { values, other } => {
                let mut listed = values
                    .iter()
                    .take(8)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if values.len() > 8 {
                    listed.push_str(&format!(" and {} more", values.len() - 8));
                }
                match (values.is_empty(), other) {
                    (true, _) => "other values".to_string(),
                    (false, true) => format!("one of: {listed}, or other values"),
                    (false, false) => format!("one of: {listed}"),
                }
            }
            BinRule::Missing => "missing".to_string(),
        }
    }
}

/// A bin with its training counts and weight of evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub rule: BinRule,
    pub count: u64,
    pub events: u64,
    pub woe: f64,
    pub iv: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    Categorical,
}

/// The bins of one feature: regular bins in order, then special bins, then
/// the missing bin.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBinning {
    pub kind: Kind,
    /// The trend the regular bins follow; `None` for categorical features,
    /// whose groups are ordered by event rate.
    pub trend: Option<Trend>,
    pub bins: Vec<Bin>,
    pub iv: f64,
}

/// Event and row totals of the training sample, for WoE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub events: u64,
    pub non_events: u64,
}

impl Totals {
    pub fn of(target: &[bool]) -> Totals {
        let events = target.iter().filter(|&&t| t).count() as u64;
        Totals {
            events,
            non_events: target.len() as u64 - events,
        }
    }

    fn rows(self) -> u64 {
        self.events + self.non_events
    }

    /// Weight of evidence of a bin with these counts (½-smoothed).
    pub fn woe(self, count: u64, events: u64) -> f64 {
        if count == 0 || self.events == 0 || self.non_events == 0 {
            return 0.0;
        }
        let event_share = (events as f64 + 0.5) / self.events as f64;
        let non_event_share = ((count - events) as f64 + 0.5) / self.non_events as f64;
        (event_share / non_event_share).ln()
    }

    /// Information value of a bin with these counts.
    pub fn iv(self, count: u64, events: u64) -> f64 {
        if count == 0 || self.events == 0 || self.non_events == 0 {
            return 0.0;
        }
        let event_share = events as f64 / self.events as f64;
        let non_event_share = (count - events) as f64 / self.non_events as f64;
        (event_share - non_event_share) * self.woe(count, events)
    }

    fn bin(self, rule: BinRule, count: u64, events: u64) -> Bin {
        Bin {
            rule,
            count,
            events,
            woe: self.woe(count, events),
            iv: self.iv(count, events),
        }
    }
}

/// The smallest bin allowed: enough rows, or enough events.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Floor {
    rows: u64,
    /// 0: no event floor.
    events: u64,
}

impl Floor {
    fn of(share: f64, events: u64, totals: Totals) -> Floor {
        Floor {
            rows: share_count(share, totals.rows()),
            events,
        }
    }

    fn admits(self, c: Counts) -> bool {
        c.count >= self.rows || (self.events > 0 && c.events >= self.events && c.count > 0)
    }
}

/// Counts of a run of rows: all rows and events among them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    count: u64,
    events: u64,
}

impl Counts {
    fn add(&mut self, event: bool) {
        self.count += 1;
        self.events += u64::from(event);
    }

    fn merge(self, other: Counts) -> Counts {
        Counts {
            count: self.count + other.count,
            events: self.events + other.events,
        }
    }
}

/// Bins one feature and returns its bins and every row's bin index.
pub fn bin_feature(
    column: &Column,
    target: &[bool],
    options: &BinningOptions,
) -> (FeatureBinning, Vec<u8>) {
    let totals = Totals::of(target);
    match column {
        Column::Numeric(values) => bin_numeric(values, target, totals, options),
        Column::Categorical { levels, codes } => {
            bin_categorical(levels, codes, target, totals, options)
        }
    }
}

fn bin_numeric(
    values: &[f64],
    target: &[bool],
    totals: Totals,
    options: &BinningOptions,
) -> (FeatureBinning, Vec<u8>) {
    let specials = &options.special_values;
    let is_regular = |v: f64| !v.is_nan() && !specials.contains(&v);
    let cuts = fine_cuts(values, is_regular);
    let fine_count = cuts.len() + 1;
    let special_base = fine_count;
    let missing_code = special_base + specials.len();

    // One pass: each row's fine code and the counts per code.
    let mut counts = vec![Counts::default(); missing_code + 1];
    let mut fine = Vec::with_capacity(values.len());
    for (&value, &event) in values.iter().zip(target) {
        let code = if value.is_nan() {
            missing_code
        } else if let Some(s) = specials.iter().position(|&sv| sv == value) {
            special_base + s
        } else {
            cuts.partition_point(|&c| c <= value)
        };
        counts[code].add(event);
        fine.push(code as u16);
    }

    let regular = &counts[..fine_count];
    let prebins = prebin(regular, totals, options);
    let prebin_counts = prebins
        .iter()
        .map(|r| sum(&regular[r.clone()]))
        .collect::<Vec<_>>();
    let min_count = Floor::of(options.min_bin_share, options.min_bin_events, totals);
    let monotonic = || {
        let up = optimal_groups(
            &prebin_counts,
            totals,
            min_count,
            options.max_bins,
            Order::Up,
        );
        let down = optimal_groups(
            &prebin_counts,
            totals,
            min_count,
            options.max_bins,
            Order::Down,
        );
        if down.1 > up.1 + 1e-12 {
            (Trend::Descending, down.0)
        } else {
            (Trend::Ascending, up.0)
        }
    };
    let turn =
        |peak: bool| optimal_turn(&prebin_counts, totals, min_count, options.max_bins, peak).0;
    let (trend, groups) = match options.trend {
        Trend::Auto => monotonic(),
        Trend::Ascending => (
            Trend::Ascending,
            optimal_groups(
                &prebin_counts,
                totals,
                min_count,
                options.max_bins,
                Order::Up,
            )
            .0,
        ),
        Trend::Descending => (
            Trend::Descending,
            optimal_groups(
                &prebin_counts,
                totals,
                min_count,
                options.max_bins,
                Order::Down,
            )
            .0,
        ),
        Trend::Free => (
            Trend::Free,
            optimal_groups(
                &prebin_counts,
                totals,
                min_count,
                options.max_bins,
                Order::Free,
            )
            .0,
        ),
        Trend::Peak => (Trend::Peak, turn(true)),
        Trend::Valley => (Trend::Valley, turn(false)),
        Trend::Unimodal => {
            let (trend, groups) = monotonic();
            let base = log_likelihood(&prebin_counts, &groups);
            let mut chosen = (trend, groups);
            let mut best = base;
            for (shape, peak) in [(Trend::Peak, true), (Trend::Valley, false)] {
                let groups = turn(peak);
                let ll = log_likelihood(&prebin_counts, &groups);
                if 2.0 * (ll - base) > TURN_TEST && ll > best {
                    best = ll;
                    chosen = (shape, groups);
                }
            }
            chosen
        }
    };

    // Final bins: groups of pre-bins, i.e. runs of fine bins.
    let mut bins = Vec::new();
    let mut fine_to_bin = vec![0u8; missing_code + 1];
    for group in &groups {
        let first_fine = prebins[group.start].start;
        let end_fine = prebins[group.end - 1].end;
        let lo = (first_fine > 0).then(|| cuts[first_fine - 1]);
        let hi = (end_fine < fine_count).then(|| cuts[end_fine - 1]);
        let c = sum(&counts[first_fine..end_fine]);
        for slot in &mut fine_to_bin[first_fine..end_fine] {
            *slot = bins.len() as u8;
        }
        bins.push(totals.bin(BinRule::Range { lo, hi }, c.count, c.events));
    }
    for (s, &value) in specials.iter().enumerate() {
        let c = counts[special_base + s];
        fine_to_bin[special_base + s] = bins.len() as u8;
        bins.push(totals.bin(BinRule::Special { value }, c.count, c.events));
    }
    let c = counts[missing_code];
    fine_to_bin[missing_code] = bins.len() as u8;
    bins.push(totals.bin(BinRule::Missing, c.count, c.events));

    let rows = fine.iter().map(|&f| fine_to_bin[f as usize]).collect();
    let iv = bins.iter().map(|b| b.iv).sum();
    let binning = FeatureBinning {
        kind: Kind::Numeric,
        trend: Some(trend),
        bins,
        iv,
    };
    (binning, rows)
}

fn bin_categorical(
    levels: &[String],
    codes: &[u32],
    target: &[bool],
    totals: Totals,
    options: &BinningOptions,
) -> (FeatureBinning, Vec<u8>) {
    let mut level_counts = vec![Counts::default(); levels.len()];
    let mut missing = Counts::default();
    for (&code, &event) in codes.iter().zip(target) {
        match level_counts.get_mut(code as usize) {
            Some(c) if code != MISSING_CODE => c.add(event),
            _ => missing.add(event),
        }
    }

    // Ordered "fine" groups: each common level alone, the rare ones pooled.
    let rare_below = share_count(options.min_category_share, totals.rows()).max(1);
    let mut other = Counts::default();
    let mut members: Vec<(Vec<usize>, bool, Counts)> = Vec::new();
    for (level, &c) in level_counts.iter().enumerate() {
        if c.count == 0 {
            continue;
        }
        if c.count < rare_below {
            other = other.merge(c);
        } else {
            members.push((vec![level], false, c));
        }
    }
    if other.count > 0 {
        members.push((Vec::new(), true, other));
    }
    // Order by smoothed WoE; ties by first level so the order is stable.
    members.sort_by(|a, b| {
        let wa = totals.woe(a.2.count, a.2.events);
        let wb = totals.woe(b.2.count, b.2.events);
        wa.total_cmp(&wb)
            .then_with(|| a.0.first().cmp(&b.0.first()))
    });
    let fine_counts = members.iter().map(|m| m.2).collect::<Vec<_>>();
    let prebins = prebin(&fine_counts, totals, options);
    let prebin_counts = prebins
        .iter()
        .map(|r| sum(&fine_counts[r.clone()]))
        .collect::<Vec<_>>();
    let min_count = Floor::of(options.min_bin_share, options.min_bin_events, totals);
    let trend = match options.trend {
        Trend::Free => Order::Free,
        _ => Order::Up,
    };
    let (groups, _) = optimal_groups(&prebin_counts, totals, min_count, options.max_bins, trend);

    let mut bins = Vec::new();
    let mut level_to_bin = vec![u8::MAX; levels.len()];
    let mut other_bin = None;
    for group in &groups {
        let first = prebins[group.start].start;
        let end = prebins[group.end - 1].end;
        let mut values = Vec::new();
        let mut has_other = false;
        for (member_levels, is_other, _) in &members[first..end] {
            has_other |= *is_other;
            for &level in member_levels {
                level_to_bin[level] = bins.len() as u8;
                values.push(levels[level].clone());
            }
        }
        if has_other {
            other_bin = Some(bins.len() as u8);
        }
        values.sort();
        let c = sum(&fine_counts[first..end]);
        let rule = BinRule::Categories {
            values,
            other: has_other,
        };
        bins.push(totals.bin(rule, c.count, c.events));
    }
    let other_bin = match other_bin {
        Some(bin) => bin,
        None => {
            // No rare categories in training: unseen ones score neutrally.
            let rule = BinRule::Categories {
                values: Vec::new(),
                other: true,
            };
            bins.push(totals.bin(rule, 0, 0));
            (bins.len() - 1) as u8
        }
    };
    for slot in level_to_bin.iter_mut().filter(|s| **s == u8::MAX) {
        *slot = other_bin;
    }
    let missing_bin = bins.len() as u8;
    bins.push(totals.bin(BinRule::Missing, missing.count, missing.events));

    let rows = codes
        .iter()
        .map(|&code| match level_to_bin.get(code as usize) {
            Some(&bin) if code != MISSING_CODE => bin,
            _ => missing_bin,
        })
        .collect();
    let iv = bins.iter().map(|b| b.iv).sum();
    let binning = FeatureBinning {
        kind: Kind::Categorical,
        trend: None,
        bins,
        iv,
    };
    (binning, rows)
}

fn sum(counts: &[Counts]) -> Counts {
    counts.iter().fold(Counts::default(), |a, &b| a.merge(b))
}

/// The binomial log-likelihood of the rows when each group of pre-bins
/// predicts its own event rate.
fn log_likelihood(prebins: &[Counts], groups: &[std::ops::Range<usize>]) -> f64 {
    let term = |k: u64, n: u64| {
        if k == 0 {
            0.0
        } else {
            k as f64 * (k as f64 / n as f64).ln()
        }
    };
    groups
        .iter()
        .map(|g| {
            let c = sum(&prebins[g.clone()]);
            term(c.events, c.count) + term(c.count - c.events, c.count)
        })
        .sum()
}

fn share_count(share: f64, rows: u64) -> u64 {
    (share * rows as f64).ceil() as u64
}

/// Fine cut points: short decimals between neighbouring distinct values of a
/// deterministic, evenly strided sample, at most [`FINE_BINS`] bins.
fn fine_cuts(values: &[f64], is_regular: impl Fn(f64) -> bool) -> Vec<f64> {
    let stride = (values.len() / SAMPLE).max(1);
    let mut sample = values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|&v| is_regular(v))
        .collect::<Vec<_>>();
    sample.sort_unstable_by(f64::total_cmp);
    let mut distinct = sample.clone();
    distinct.dedup();
    if distinct.len() <= FINE_BINS {
        return distinct.windows(2).map(|w| short_cut(w[0], w[1])).collect();
    }
    let mut cuts: Vec<f64> = Vec::with_capacity(FINE_BINS);
    for q in 1..FINE_BINS {
        let position = q * sample.len() / FINE_BINS;
        let (below, at) = (sample[position - 1], sample[position]);
        if below == at {
            // Inside a run of equal values: cut after the run instead.
            let end = sample[position..].partition_point(|&v| v == at) + position;
            if end >= sample.len() {
                continue;
            }
            let cut = short_cut(at, sample[end]);
            if cuts.last().is_none_or(|&last| last < cut) {
                cuts.push(cut);
            }
            continue;
        }
        let cut = short_cut(below, at);
        if cuts.last().is_none_or(|&last| last < cut) {
            cuts.push(cut);
        }
    }
    cuts
}

/// The shortest decimal `c` with `below < c <= above` (for `below < above`),
/// so bins read "under 3.5" rather than "under 3.4999817".
pub fn short_cut(below: f64, above: f64) -> f64 {
    for exponent in (-12..=15).rev() {
        let candidate = if exponent >= 0 {
            let step = 10f64.powi(exponent);
            ((below / step).floor() + 1.0) * step
        } else {
            let scale = 10f64.powi(-exponent);
            ((below * scale).floor() + 1.0) / scale
        };
        if candidate > below && candidate <= above {
            return candidate;
        }
    }
    above
}

/// Groups consecutive fine bins into pre-bins; returns ranges of fine bins.
fn prebin(
    fine: &[Counts],
    totals: Totals,
    options: &BinningOptions,
) -> Vec<std::ops::Range<usize>> {
    if fine.is_empty() {
        return Vec::new();
    }
    let mut min_count = Floor::of(options.min_prebin_share, options.min_bin_events, totals);
    min_count.rows = min_count.rows.max(1);
    let ranges = match options.prebinning {
        Prebinning::Quantile => quantile_prebins(fine, options.max_prebins),
        Prebinning::Tree => tree_prebins(fine, options.max_prebins, min_count),
    };
    // Empty fine bins carry no information: drop empty pre-bins by merging
    // them into their neighbour.
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        let empty = sum(&fine[range.clone()]).count == 0;
        match merged.last_mut() {
            Some(last) if empty => last.end = range.end,
            _ => merged.push(range),
        }
    }
    if merged.len() > 1 && sum(&fine[merged[0].clone()]).count == 0 {
        let first = merged.remove(0);
        merged[0].start = first.start;
    }
    merged
}

fn quantile_prebins(fine: &[Counts], max_prebins: usize) -> Vec<std::ops::Range<usize>> {
    let total = sum(fine).count;
    let target = total.div_ceil(max_prebins as u64).max(1);
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut running = 0;
    for (i, c) in fine.iter().enumerate() {
        running += c.count;
        if running >= target {
            ranges.push(start..i + 1);
            start = i + 1;
            running = 0;
        }
    }
    if start < fine.len() {
        ranges.push(start..fine.len());
    }
    ranges
}

/// Best-first binary splits by Gini gain, each side keeping `min_count`.
fn tree_prebins(
    fine: &[Counts],
    max_prebins: usize,
    min_count: Floor,
) -> Vec<std::ops::Range<usize>> {
    let whole = 0..fine.len();
    let mut leaves = vec![whole];
    while leaves.len() < max_prebins {
        let mut best: Option<(f64, usize, usize)> = None;
        for (index, leaf) in leaves.iter().enumerate() {
            if let Some((gain, split)) = best_split(&fine[leaf.clone()], min_count)
                && best.is_none_or(|(g, _, _)| gain > g)
            {
                best = Some((gain, index, leaf.start + split));
            }
        }
        let Some((_, index, split)) = best else {
            break;
        };
        let leaf = leaves.remove(index);
        leaves.insert(index, split..leaf.end);
        leaves.insert(index, leaf.start..split);
    }
    leaves
}

fn gini(c: Counts) -> f64 {
    if c.count == 0 {
        return 0.0;
    }
    let p = c.events as f64 / c.count as f64;
    c.count as f64 * 2.0 * p * (1.0 - p)
}

fn best_split(fine: &[Counts], min_count: Floor) -> Option<(f64, usize)> {
    let total = sum(fine);
    let parent = gini(total);
    let mut left = Counts::default();
    let mut best: Option<(f64, usize)> = None;
    for split in 1..fine.len() {
        left = left.merge(fine[split - 1]);
        let right = Counts {
            count: total.count - left.count,
            events: total.events - left.events,
        };
        if !min_count.admits(left) || !min_count.admits(right) {
            continue;
        }
        let gain = parent - gini(left) - gini(right);
        if gain > 1e-9 && best.is_none_or(|(g, _)| gain > g) {
            best = Some((gain, split));
        }
    }
    best
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Up,
    Down,
    Free,
}

/// The best chains of groups over every prefix of the pre-bins: for each
/// number of groups and each prefix `[0, j)`, the highest IV of a split of
/// the prefix into that many groups whose WoE follows the order, every
/// group holding `min_count` rows. One table answers a whole trend (the
/// prefix of all pre-bins) and the halves of a peak or a valley.
struct Chains {
    n: usize,
    /// best[k][i * (n + 1) + j]: highest IV of [0, j) in k + 1 groups, the
    /// last being [i, j); from[k][…] is where the previous group starts.
    best: Vec<Vec<f64>>,
    from: Vec<Vec<usize>>,
}

impl Chains {
    fn build(
        prebins: &[Counts],
        totals: Totals,
        min_count: Floor,
        max_groups: usize,
        order: Order,
    ) -> Chains {
        let n = prebins.len();
        let mut prefix = vec![Counts::default(); n + 1];
        for (i, c) in prebins.iter().enumerate() {
            prefix[i + 1] = prefix[i].merge(*c);
        }
        let segment = |i: usize, j: usize| Counts {
            count: prefix[j].count - prefix[i].count,
            events: prefix[j].events - prefix[i].events,
        };
        let woe = |i: usize, j: usize| {
            let c = segment(i, j);
            totals.woe(c.count, c.events)
        };
        let iv = |i: usize, j: usize| {
            let c = segment(i, j);
            totals.iv(c.count, c.events)
        };
        let feasible = |i: usize, j: usize| min_count.admits(segment(i, j));
        let follows = |before: f64, after: f64| match order {
            Order::Up => after > before,
            Order::Down => after < before,
            Order::Free => true,
        };

        let k_max = max_groups.min(n).max(1);
        let index = |i: usize, j: usize| i * (n + 1) + j;
        let mut best = vec![vec![f64::NEG_INFINITY; (n + 1) * (n + 1)]; k_max];
        let mut from = vec![vec![usize::MAX; (n + 1) * (n + 1)]; k_max];
        for j in 1..=n {
            if feasible(0, j) {
                best[0][index(0, j)] = iv(0, j);
            }
        }
        for k in 1..k_max {
            for j in 2..=n {
                for i in 1..j {
                    if !feasible(i, j) {
                        continue;
                    }
                    let last_woe = woe(i, j);
                    let last_iv = iv(i, j);
                    for h in 0..i {
                        let previous = best[k - 1][index(h, i)];
                        if previous == f64::NEG_INFINITY || !follows(woe(h, i), last_woe) {
                            continue;
                        }
                        let candidate = previous + last_iv;
                        if candidate > best[k][index(i, j)] {
                            best[k][index(i, j)] = candidate;
                            from[k][index(i, j)] = h;
                        }
                    }
                }
            }
        }
        Chains { n, best, from }
    }

    fn groups_max(&self) -> usize {
        self.best.len()
    }

    /// The best split of `[0, j)` into `k + 1` groups: its IV and where its
    /// last group starts.
    fn ending(&self, k: usize, j: usize) -> Option<(f64, usize)> {
        self.endings(k, j)
            .fold(None, |answer, (value, i)| match answer {
                Some((v, _)) if value <= v + 1e-12 => answer,
                _ => Some((value, i)),
            })
    }

    /// Every chain of `k + 1` groups over `[0, j)`, by where its last group
    /// starts: the chain's IV and that start.
    fn endings(&self, k: usize, j: usize) -> impl Iterator<Item = (f64, usize)> + '_ {
        (0..j).filter_map(move |i| {
            let value = self.best[k][i * (self.n + 1) + j];
            (value > f64::NEG_INFINITY).then_some((value, i))
        })
    }

    /// The groups of a chain `endings` or `ending` found, in order.
    fn groups(&self, mut k: usize, last_start: usize, j: usize) -> Vec<std::ops::Range<usize>> {
        let last = last_start..j;
        let mut groups = vec![last];
        let (mut start, mut end) = (last_start, j);
        while k > 0 {
            let previous_start = self.from[k][start * (self.n + 1) + end];
            groups.push(previous_start..start);
            end = start;
            start = previous_start;
            k -= 1;
        }
        groups.reverse();
        groups
    }
}

/// The grouping of consecutive pre-bins with the highest IV such that every
/// group holds `min_count` rows, there are at most `max_bins` groups, and
/// WoE strictly follows `order`. Returns groups as ranges of pre-bins and
/// the IV. Fewer groups win ties.
fn optimal_groups(
    prebins: &[Counts],
    totals: Totals,
    min_count: Floor,
    max_bins: usize,
    order: Order,
) -> (Vec<std::ops::Range<usize>>, f64) {
    let n = prebins.len();
    if n == 0 {
        return (Vec::new(), 0.0);
    }
    let chains = Chains::build(prebins, totals, min_count, max_bins, order);
    let mut answer: Option<(f64, usize, usize)> = None;
    for k in 0..chains.groups_max() {
        if let Some((value, start)) = chains.ending(k, n)
            && answer.is_none_or(|(v, _, _)| value > v + 1e-12)
        {
            answer = Some((value, k, start));
        }
    }
    match answer {
        Some((value, k, start)) => (chains.groups(k, start, n), value),
        // Too few rows for even one bin of the minimum size: one bin.
        None => {
            let whole = sum(prebins);
            let all = 0..n;
            (vec![all], totals.iv(whole.count, whole.events))
        }
    }
}

/// A candidate for [`optimal_turn`]: its IV and number of groups, where it
/// turns, and each side's chain as (groups − 1, where its last group
/// starts), `None` for a side with no groups.
struct Turn {
    iv: f64,
    groups: usize,
    turn: usize,
    left: Option<(usize, usize)>,
    right: Option<(usize, usize)>,
}

/// The grouping with the highest IV whose WoE rises to one peak and then
/// falls (`peak`), or falls to one valley and then rises; a monotonic
/// grouping is the case with the turn at an end. The two sides are chains
/// of their own: an ascending chain over a prefix and a descending one over
/// the rest (found as an ascending chain over the reversed pre-bins), so
/// the result is exact like [`optimal_groups`].
fn optimal_turn(
    prebins: &[Counts],
    totals: Totals,
    min_count: Floor,
    max_bins: usize,
    peak: bool,
) -> (Vec<std::ops::Range<usize>>, f64) {
    let n = prebins.len();
    if n == 0 {
        return (Vec::new(), 0.0);
    }
    // A peak rises to the turn and falls after it, which read from the end
    // backwards is rising again: both sides are chains of the same order,
    // the second over the reversed pre-bins. A valley is the mirror.
    let order = if peak { Order::Up } else { Order::Down };
    let left = Chains::build(prebins, totals, min_count, max_bins, order);
    let reversed = prebins.iter().rev().copied().collect::<Vec<_>>();
    let right = Chains::build(&reversed, totals, min_count, max_bins, order);

    let mut answer: Option<Turn> = None;
    let mut consider = |choice: Turn| {
        let better = answer.as_ref().is_none_or(|a| {
            choice.iv > a.iv + 1e-12 || (choice.iv > a.iv - 1e-12 && choice.groups < a.groups)
        });
        if better {
            answer = Some(choice);
        }
    };
    let woe = |range: std::ops::Range<usize>| {
        let c = sum(&prebins[range]);
        totals.woe(c.count, c.events)
    };
    for turn in 0..=n {
        // Every chain ending at the turn (not only each count's best: the
        // best one may meet the other side at an equal WoE).
        let lefts = (0..left.groups_max())
            .flat_map(|k| left.endings(k, turn).map(move |(v, i)| (k, v, i)))
            .collect::<Vec<_>>();
        let rights = (0..right.groups_max())
            .flat_map(|k| right.endings(k, n - turn).map(move |(v, i)| (k, v, i)))
            .collect::<Vec<_>>();
        if turn == n {
            for &(k, iv, start) in &lefts {
                consider(Turn {
                    iv,
                    groups: k + 1,
                    turn,
                    left: Some((k, start)),
                    right: None,
                });
            }
            continue;
        }
        if turn == 0 {
            for &(k, iv, start) in &rights {
                consider(Turn {
                    iv,
                    groups: k + 1,
                    turn,
                    left: None,
                    right: Some((k, start)),
                });
            }
            continue;
        }
        for &(kl, vl, sl) in &lefts {
            for &(kr, vr, sr) in &rights {
                let groups = kl + kr + 2;
                // The sides meet at the turn, where WoE must still change.
                if groups <= max_bins && woe(sl..turn) != woe(turn..n - sr) {
                    consider(Turn {
                        iv: vl + vr,
                        groups,
                        turn,
                        left: Some((kl, sl)),
                        right: Some((kr, sr)),
                    });
                }
            }
        }
    }
    let Some(Turn {
        iv: value,
        turn,
        left: left_chain,
        right: right_chain,
        ..
    }) = answer
    else {
        let whole = sum(prebins);
        let all = 0..n;
        return (vec![all], totals.iv(whole.count, whole.events));
    };
    let mut groups = match left_chain {
        Some((k, start)) => left.groups(k, start, turn),
        None => Vec::new(),
    };
    if let Some((k, start)) = right_chain {
        let mirrored = right.groups(k, start, n - turn);
        groups.extend(mirrored.iter().rev().map(|g| n - g.end..n - g.start));
    }
    (groups, value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_are_short_and_between() {
        assert_eq!(short_cut(3.0, 4.0), 4.0);
        assert_eq!(short_cut(3.4999817, 3.6), 3.5);
        assert_eq!(short_cut(0.1, 0.25), 0.2);
        assert_eq!(short_cut(120.0, 180.0), 130.0);
        assert_eq!(short_cut(-5.5, -5.0), -5.0);
        assert_eq!(short_cut(1999.0, 2001.0), 2000.0);
    }

    #[test]
    fn optimal_groups_respect_order_and_size() {
        let totals = Totals {
            events: 60,
            non_events: 540,
        };
        let prebins = [
            Counts {
                count: 100,
                events: 5,
            },
            Counts {
                count: 100,
                events: 15,
            },
            Counts {
                count: 100,
                events: 8,
            },
            Counts {
                count: 100,
                events: 10,
            },
            Counts {
                count: 100,
                events: 12,
            },
            Counts {
                count: 100,
                events: 10,
            },
        ];
        let floor = Floor {
            rows: 150,
            events: 0,
        };
        let (groups, _) = optimal_groups(&prebins, totals, floor, 8, Order::Up);
        let mut woes = Vec::new();
        for g in &groups {
            let c = sum(&prebins[g.clone()]);
            assert!(c.count >= 150);
            woes.push(totals.woe(c.count, c.events));
        }
        assert!(woes.windows(2).all(|w| w[1] > w[0]), "{woes:?}");
        assert_eq!(groups.first().unwrap().start, 0);
        assert_eq!(groups.last().unwrap().end, 6);
    }

    /// Every grouping of `n` pre-bins into consecutive runs.
    fn all_groupings(n: usize) -> Vec<Vec<std::ops::Range<usize>>> {
        (0..1u32 << (n - 1))
            .map(|cuts| {
                let mut groups = Vec::new();
                let mut start = 0;
                for i in 1..n {
                    if cuts & (1 << (i - 1)) != 0 {
                        groups.push(start..i);
                        start = i;
                    }
                }
                groups.push(start..n);
                groups
            })
            .collect()
    }

    proptest::proptest! {
        /// The peak and valley search is exact: no admissible grouping with
        /// one turn has a higher IV.
        #[test]
        fn turns_are_the_best_of_every_grouping(
            bins in proptest::collection::vec((1u64..60, 0u64..30), 1..8),
            floor in 0u64..80,
            max_bins in 1usize..6,
            peak in proptest::bool::ANY,
        ) {
            let prebins: Vec<Counts> = bins
                .iter()
                .map(|&(count, events)| Counts { count: count + events, events })
                .collect();
            let all = sum(&prebins);
            let totals = Totals { events: all.events + 1, non_events: all.count - all.events + 1 };
            let floor = Floor { rows: floor, events: 0 };
            let (groups, iv) = optimal_turn(&prebins, totals, floor, max_bins, peak);
            let woe = |g: &std::ops::Range<usize>| {
                let c = sum(&prebins[g.clone()]);
                totals.woe(c.count, c.events)
            };
            let one_turn = |groups: &[std::ops::Range<usize>]| {
                let steps: Vec<bool> = groups.windows(2).map(|w| woe(&w[1]) > woe(&w[0])).collect();
                let strict = groups.windows(2).all(|w| woe(&w[1]) != woe(&w[0]));
                let turns = steps.windows(2).filter(|w| w[0] != w[1]).count();
                strict && (turns == 0 || (turns == 1 && steps[0] == peak))
            };
            let admissible = |groups: &[std::ops::Range<usize>]| {
                groups.len() <= max_bins
                    && groups.iter().all(|g| floor.admits(sum(&prebins[g.clone()])))
                    && one_turn(groups)
            };
            let best = all_groupings(prebins.len())
                .into_iter()
                .filter(|g| admissible(g))
                .map(|g| g.iter().map(|r| { let c = sum(&prebins[r.clone()]); totals.iv(c.count, c.events) }).sum::<f64>())
                .fold(f64::NEG_INFINITY, f64::max);
            if best == f64::NEG_INFINITY {
                proptest::prop_assert_eq!(groups, vec![0..prebins.len()]);
            } else {
                proptest::prop_assert!(admissible(&groups), "{:?}", groups);
                proptest::prop_assert!((iv - best).abs() < 1e-9, "{} vs {}", iv, best);
            }
        }
    }
}
