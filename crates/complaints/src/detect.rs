//! Every detector over a city's complaints, and their signals scored
//! against known outbreaks.
//!
//! [`detect`] builds the daily series — per category and town, per
//! category and district, per category and industry across the city —
//! and runs on each EARS C1–C3, EWMA and the negative-binomial test, then
//! repeat complaints per business and the space-time scan per category
//! over the towns. Consecutive alarm days of one series (no more than
//! `merge_gap_days` apart) are one [`Signal`], dated by its first day:
//! that is when a regulator would have been told. Every signal keeps its
//! evidence: the count and what was expected, the statistic or p-value,
//! and the complaints behind it.
//!
//! [`score`] holds the signals against outbreaks whose place, category and
//! days are known (the synthetic city's truth): an outbreak is detected by
//! a detector when one of its signals matches it in category and place and
//! starts within the outbreak's days; the delay is the days from the
//! outbreak's start to that signal; a signal that matches no outbreak
//! (within its days and a grace period after) is a false alarm.
//!
//! Days are day numbers (days since 1970-01-01, say): the caller owns the
//! calendar.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::{ears, ewma, negbin, repeat, scan};

/// One complaint as the detectors read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The entity (its USCC), when known or linked.
    pub business: Option<String>,
    pub category: String,
    /// The town's 9-digit code, or "" when not given.
    pub town: String,
    /// GB/T 4754 division (two digits), or "".
    pub industry: String,
    pub day: i64,
}

/// Every statistic and threshold, with the detectors' defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub repeat: repeat::Options,
    pub ears: ears::Options,
    pub ewma: ewma::Options,
    pub negbin: negbin::Options,
    pub scan: scan::Options,
    /// The scan's Monte Carlo seed: the same data and seed give the same
    /// p-values.
    pub scan_seed: u64,
    /// Alarm days of one series at most this far apart are one signal.
    pub merge_gap_days: i64,
    /// Evidence kept per signal, most recent complaints first.
    pub max_evidence: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            repeat: repeat::Options {
                window_days: 14,
                min_count: 5,
            },
            ears: ears::Options::default(),
            ewma: ewma::Options::default(),
            negbin: negbin::Options::default(),
            scan: scan::Options::default(),
            scan_seed: 20_260_101,
            merge_gap_days: 7,
            max_evidence: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    Repeat,
    EarsC1,
    EarsC2,
    EarsC3,
    Ewma,
    NegBin,
    Scan,
}

impl Detector {
    pub const ALL: [Detector; 7] = [
        Detector::Repeat,
        Detector::EarsC1,
        Detector::EarsC2,
        Detector::EarsC3,
        Detector::Ewma,
        Detector::NegBin,
        Detector::Scan,
    ];

    /// The levels of the places its signals are at.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Detector::Repeat => &["business"],
            Detector::Scan => &["towns"],
            _ => &["town", "district", "industry"],
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Detector::Repeat => "repeat",
            Detector::EarsC1 => "ears_c1",
            Detector::EarsC2 => "ears_c2",
            Detector::EarsC3 => "ears_c3",
            Detector::Ewma => "ewma",
            Detector::NegBin => "negbin",
            Detector::Scan => "scan",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Detector::Repeat => "重复投诉",
            Detector::EarsC1 => "EARS C1 突增",
            Detector::EarsC2 => "EARS C2 突增",
            Detector::EarsC3 => "EARS C3 突增",
            Detector::Ewma => "EWMA 突增",
            Detector::NegBin => "负二项基线突增",
            Detector::Scan => "时空聚集（时空重排扫描）",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Detector::Repeat => "repeat complaints",
            Detector::EarsC1 => "EARS C1 spike",
            Detector::EarsC2 => "EARS C2 spike",
            Detector::EarsC3 => "EARS C3 spike",
            Detector::Ewma => "EWMA spike",
            Detector::NegBin => "negative-binomial spike",
            Detector::Scan => "space-time cluster (permutation scan)",
        }
    }
}

/// Where a signal is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "code")]
pub enum Place {
    Business(String),
    Town(String),
    District(String),
    /// An industry across the city.
    Industry(String),
    /// A space-time cluster's towns, its centre first.
    Towns(Vec<String>),
}

impl Place {
    pub fn level(&self) -> &'static str {
        match self {
            Place::Business(_) => "business",
            Place::Town(_) => "town",
            Place::District(_) => "district",
            Place::Industry(_) => "industry",
            Place::Towns(_) => "towns",
        }
    }

    /// Whether the place covers a town (a district its towns; a business
    /// or an industry no town as such).
    fn covers_town(&self, town: &str) -> bool {
        match self {
            Place::Town(code) => code == town,
            Place::District(code) => town.starts_with(code.as_str()),
            Place::Towns(codes) => codes.iter().any(|c| c == town),
            Place::Business(_) | Place::Industry(_) => false,
        }
    }
}

/// A detector's alarm, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub detector: Detector,
    /// The category; `None` for repeat complaints, which count them all.
    pub category: Option<String>,
    pub place: Place,
    /// The first alarm day: when it would have been raised.
    pub day: i64,
    /// The last alarm day of the run.
    pub last_day: i64,
    /// Complaints on the first alarm day (in the window, for repeat
    /// complaints and clusters).
    pub observed: u32,
    /// What the baseline expected for it.
    pub expected: f64,
    /// The detector's statistic on the first day (EARS's C, EWMA's t,
    /// the scan's log-likelihood ratio, the count for repeats).
    pub statistic: f64,
    /// The p-value, for the detectors that give one.
    pub p_value: Option<f64>,
    /// Indices (into the rows given) of the complaints behind the signal,
    /// most recent first, at most `max_evidence`.
    pub complaints: Vec<usize>,
}

/// Runs every detector over the rows and returns the signals whose first
/// day falls in `from..=to`, ordered by day, detector and place. Days
/// before `from` serve as baselines (and estimate the negative binomial's
/// dispersion, when there are at least 28 of them).
pub fn detect(rows: &[Row], from: i64, to: i64, config: &Config) -> Vec<Signal> {
    let Some(first) = rows.iter().map(|r| r.day).min() else {
        return Vec::new();
    };
    let first = first.min(from);
    if to < from {
        return Vec::new();
    }
    let days = (to - first + 1) as usize;
    let mut signals = Vec::new();
    signals.extend(repeats(rows, from, to, config));
    let series = build_series(rows, first, days, to);
    let training = (from - first) as usize;
    signals.extend(spikes(&series, first, from, training, config));
    signals.extend(clusters(rows, &series, first, from, to, config));
    signals.sort_by(|a, b| {
        (a.day, a.detector, &a.place, &a.category).cmp(&(b.day, b.detector, &b.place, &b.category))
    });
    signals
}

fn repeats(rows: &[Row], from: i64, to: i64, config: &Config) -> Vec<Signal> {
    let complaints: Vec<repeat::Complaint> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.day <= to)
        .filter_map(|(id, r)| {
            r.business.as_ref().map(|b| repeat::Complaint {
                business: b.clone(),
                day: r.day,
                id,
            })
        })
        .collect();
    repeat::signals(&complaints, &config.repeat)
        .into_iter()
        .filter(|s| (from..=to).contains(&s.day))
        .map(|s| {
            let mut evidence = s.complaints.clone();
            evidence.reverse();
            evidence.truncate(config.max_evidence);
            Signal {
                detector: Detector::Repeat,
                category: None,
                place: Place::Business(s.business),
                day: s.day,
                last_day: s.day,
                observed: s.complaints.len() as u32,
                expected: 0.0,
                statistic: s.complaints.len() as f64,
                p_value: None,
                complaints: evidence,
            }
        })
        .collect()
}

/// A daily series and the complaints on each of its days.
struct Series {
    counts: Vec<u32>,
    rows: HashMap<usize, Vec<usize>>,
}

type Key = (String, Place);

fn build_series(rows: &[Row], first: i64, days: usize, to: i64) -> BTreeMap<Key, Series> {
    let mut series: BTreeMap<Key, Series> = BTreeMap::new();
    for (id, row) in rows.iter().enumerate() {
        if row.day > to || row.day < first {
            continue;
        }
        let day = (row.day - first) as usize;
        let mut places = Vec::with_capacity(3);
        if row.town.len() == 9 {
            places.push(Place::Town(row.town.clone()));
            places.push(Place::District(row.town[..6].to_string()));
        } else if row.town.len() == 6 {
            places.push(Place::District(row.town.clone()));
        }
        if row.industry.len() >= 2 {
            places.push(Place::Industry(row.industry[..2].to_string()));
        }
        for place in places {
            let entry = series
                .entry((row.category.clone(), place))
                .or_insert_with(|| Series {
                    counts: vec![0; days],
                    rows: HashMap::new(),
                });
            entry.counts[day] += 1;
            entry.rows.entry(day).or_default().push(id);
        }
    }
    series
}

/// One series' alarm days merged into signals.
struct Alarm {
    day: usize,
    observed: u32,
    expected: f64,
    statistic: f64,
    p_value: Option<f64>,
}

fn spikes(
    series: &BTreeMap<Key, Series>,
    first: i64,
    from: i64,
    training: usize,
    config: &Config,
) -> Vec<Signal> {
    // The negative binomial's size, pooled over the series of one category
    // and level over the training days.
    let mut pooled: HashMap<(String, &'static str), Option<f64>> = HashMap::new();
    if training >= 28 {
        let mut groups: HashMap<(String, &'static str), Vec<&[u32]>> = HashMap::new();
        for ((category, place), s) in series {
            groups
                .entry((category.clone(), place.level()))
                .or_default()
                .push(&s.counts[..training]);
        }
        for (key, list) in groups {
            pooled.insert(key, negbin::pooled_size(&list));
        }
    }
    let start = (from - first) as usize;
    let mut out = Vec::new();
    for ((category, place), s) in series {
        let mut found: Vec<(Detector, Vec<Alarm>)> = Vec::new();
        for (detector, method) in [
            (Detector::EarsC1, ears::Method::C1),
            (Detector::EarsC2, ears::Method::C2),
            (Detector::EarsC3, ears::Method::C3),
        ] {
            let alarms = ears::statistics(&s.counts, method, &config.ears)
                .into_iter()
                .filter(|d| d.alarm && d.day >= start)
                .map(|d| Alarm {
                    day: d.day,
                    observed: d.count,
                    expected: d.baseline_mean,
                    statistic: d.statistic,
                    p_value: None,
                })
                .collect();
            found.push((detector, alarms));
        }
        let alarms = ewma::statistics(&s.counts, &config.ewma)
            .into_iter()
            .filter(|d| d.level == ewma::Level::Red && d.day >= start)
            .map(|d| Alarm {
                day: d.day,
                observed: d.count,
                expected: d.expected,
                statistic: d.statistic,
                p_value: Some(d.p_value),
            })
            .collect();
        found.push((Detector::Ewma, alarms));
        let size = pooled
            .get(&(category.clone(), place.level()))
            .copied()
            .flatten();
        let alarms = negbin::statistics(&s.counts, size, &config.negbin)
            .into_iter()
            .filter(|d| d.alarm && d.day >= start)
            .map(|d| Alarm {
                day: d.day,
                observed: d.count,
                expected: d.expected,
                statistic: f64::from(d.count),
                p_value: Some(d.p_value),
            })
            .collect();
        found.push((Detector::NegBin, alarms));
        for (detector, alarms) in found {
            for run in merge(alarms, config.merge_gap_days) {
                let head = &run[0];
                let mut evidence: Vec<usize> = run
                    .iter()
                    .rev()
                    .flat_map(|a| s.rows.get(&a.day).into_iter().flatten().rev().copied())
                    .collect();
                evidence.truncate(config.max_evidence);
                out.push(Signal {
                    detector,
                    category: Some(category.clone()),
                    place: place.clone(),
                    day: first + head.day as i64,
                    last_day: first + run[run.len() - 1].day as i64,
                    observed: head.observed,
                    expected: head.expected,
                    statistic: head.statistic,
                    p_value: head.p_value,
                    complaints: evidence,
                });
            }
        }
    }
    out
}

/// Alarm days into runs: a day at most `gap` after the previous continues
/// its run. A day without complaints (C3 alarms on the days before it)
/// continues a run but does not start one: there is nothing to show.
fn merge(alarms: Vec<Alarm>, gap: i64) -> Vec<Vec<Alarm>> {
    let mut runs: Vec<Vec<Alarm>> = Vec::new();
    for alarm in alarms {
        match runs.last_mut() {
            Some(run) if (alarm.day - run[run.len() - 1].day) as i64 <= gap => run.push(alarm),
            _ if alarm.observed == 0 => {}
            _ => runs.push(vec![alarm]),
        }
    }
    runs
}

fn clusters(
    rows: &[Row],
    series: &BTreeMap<Key, Series>,
    first: i64,
    from: i64,
    to: i64,
    config: &Config,
) -> Vec<Signal> {
    let towns: Vec<&'static domain::division::Division> = domain::division::foshan()
        .iter()
        .filter(|d| d.level == domain::division::Level::Town)
        .collect();
    let zones: Vec<scan::Zone> = towns
        .iter()
        .filter_map(|t| {
            domain::division::centroid(t.code).map(|point| scan::Zone {
                code: t.code.to_string(),
                point,
            })
        })
        .collect();
    let codes: Vec<&str> = zones.iter().map(|z| z.code.as_str()).collect();
    let scanner = scan::Scanner::new(
        &zones,
        |a, b| domain::division::adjacent(codes[a], codes[b]),
        config.scan,
    );
    let o = &config.scan;
    let categories: Vec<&String> = {
        let mut c: Vec<&String> = series.keys().map(|(c, _)| c).collect();
        c.dedup();
        c
    };
    let mut out = Vec::new();
    for category in categories {
        let by_town: Vec<Option<&Series>> = codes
            .iter()
            .map(|code| series.get(&(category.clone(), Place::Town(code.to_string()))))
            .collect();
        // Open signal: its towns and the last day it alarmed.
        let mut open: Option<(usize, i64)> = None;
        for day in from..=to {
            let end = (day - first) as usize;
            if end + 1 < o.study_days {
                continue;
            }
            let begin = end + 1 - o.study_days;
            let counts: Vec<Vec<u32>> = by_town
                .iter()
                .map(|s| match s {
                    Some(s) => s.counts[begin..=end].to_vec(),
                    None => vec![0; o.study_days],
                })
                .collect();
            let seed = config.scan_seed ^ (day as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let Ok(Some(cluster)) = scanner.scan(&counts, seed) else {
                continue;
            };
            if !cluster.signal {
                continue;
            }
            let place = Place::Towns(
                cluster
                    .zones
                    .iter()
                    .map(|&z| codes[z].to_string())
                    .collect(),
            );
            // A cluster sharing a town with the open signal, within the
            // gap, continues it.
            if let Some((index, last)) = open {
                let previous: &Signal = &out[index];
                let overlaps = match (&previous.place, &place) {
                    (Place::Towns(a), Place::Towns(b)) => a.iter().any(|t| b.contains(t)),
                    _ => false,
                };
                if overlaps && day - last <= config.merge_gap_days {
                    let signal: &mut Signal = &mut out[index];
                    signal.last_day = day;
                    open = Some((index, day));
                    continue;
                }
            }
            let window_start = end + 1 - cluster.days;
            let mut evidence: Vec<usize> = Vec::new();
            for &z in &cluster.zones {
                if let Some(s) = by_town[z] {
                    for d in window_start..=end {
                        evidence.extend(s.rows.get(&d).into_iter().flatten().copied());
                    }
                }
            }
            evidence.sort_by_key(|&id| std::cmp::Reverse((rows[id].day, id)));
            evidence.truncate(config.max_evidence);
            out.push(Signal {
                detector: Detector::Scan,
                category: Some(category.clone()),
                place,
                day,
                last_day: day,
                observed: cluster.observed,
                expected: cluster.expected,
                statistic: cluster.llr,
                p_value: Some(cluster.p_value),
                complaints: evidence,
            });
            open = Some((out.len() - 1, day));
        }
    }
    out
}

/// A known outbreak.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbreak {
    pub id: u32,
    pub scope: Scope,
    pub category: String,
    pub start: i64,
    /// Last day, inclusive.
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// A business: its USCC, town and industry.
    Business {
        uscc: String,
        town: String,
        industry: String,
    },
    Town(String),
    Industry(String),
}

impl Scope {
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Business { .. } => "business",
            Scope::Town(_) => "town",
            Scope::Industry(_) => "industry",
        }
    }
}

/// One detector at one level, against the outbreaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub detector: Detector,
    /// The signals' level ("town", "district", "industry", "business",
    /// "towns").
    pub level: &'static str,
    /// Per outbreak scope ("business", "town", "industry"): outbreaks and
    /// how many were detected.
    pub by_scope: BTreeMap<&'static str, (u32, u32)>,
    /// Days from each detected outbreak's start to its first signal.
    pub delays: Vec<i64>,
    pub signals: u32,
    pub false_alarms: u32,
    /// False alarms per 30 days of the period scored.
    pub false_per_month: f64,
}

impl Score {
    pub fn median_delay(&self) -> Option<f64> {
        if self.delays.is_empty() {
            return None;
        }
        let mut d = self.delays.clone();
        d.sort_unstable();
        let n = d.len();
        Some(if n % 2 == 1 {
            d[n / 2] as f64
        } else {
            (d[n / 2 - 1] + d[n / 2]) as f64 / 2.0
        })
    }
}

/// Whether a signal matches an outbreak in category and place (not time).
/// `business_town` gives a linked business's town and industry.
fn matches(
    signal: &Signal,
    outbreak: &Outbreak,
    business: &dyn Fn(&str) -> Option<(String, String)>,
) -> bool {
    if signal
        .category
        .as_ref()
        .is_some_and(|c| *c != outbreak.category)
    {
        return false;
    }
    match (&outbreak.scope, &signal.place) {
        (Scope::Business { uscc, .. }, Place::Business(b)) => b == uscc,
        (Scope::Business { industry, .. }, Place::Industry(i)) => i == industry,
        (Scope::Business { town, .. }, place) => place.covers_town(town),
        (Scope::Town(town), Place::Business(b)) => business(b).is_some_and(|(t, _)| t == *town),
        (Scope::Town(_), Place::Industry(_)) => false,
        (Scope::Town(town), place) => place.covers_town(town),
        (Scope::Industry(code), Place::Business(b)) => business(b).is_some_and(|(_, i)| i == *code),
        (Scope::Industry(code), Place::Industry(i)) => i == code,
        // An industry's outbreak across the city shows in every place.
        (Scope::Industry(_), _) => true,
    }
}

/// Scores signals against outbreaks over `from..=to` (see the module's
/// documentation). A signal up to `grace_days` after an outbreak's end
/// that matches it is neither a detection nor a false alarm.
pub fn score(
    signals: &[Signal],
    outbreaks: &[Outbreak],
    from: i64,
    to: i64,
    grace_days: i64,
    business: &dyn Fn(&str) -> Option<(String, String)>,
) -> Vec<Score> {
    let months = ((to - from + 1) as f64 / 30.0).max(1.0 / 30.0);
    // Every detector at every level it works at, signals or not: a
    // detector that raised none missed every outbreak.
    let mut groups: BTreeMap<(Detector, &'static str), Vec<&Signal>> = BTreeMap::new();
    for detector in Detector::ALL {
        for level in detector.levels() {
            groups.insert((detector, level), Vec::new());
        }
    }
    for s in signals.iter().filter(|s| (from..=to).contains(&s.day)) {
        groups
            .entry((s.detector, s.place.level()))
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    for ((detector, level), list) in groups {
        let mut by_scope: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
        let mut delays = Vec::new();
        for outbreak in outbreaks.iter().filter(|o| o.start <= to && o.end >= from) {
            let entry = by_scope.entry(outbreak.scope.kind()).or_default();
            entry.0 += 1;
            let first = list
                .iter()
                .filter(|s| s.day >= outbreak.start && s.day <= outbreak.end)
                .filter(|s| matches(s, outbreak, business))
                .map(|s| s.day)
                .min();
            if let Some(day) = first {
                entry.1 += 1;
                delays.push(day - outbreak.start);
            }
        }
        let false_alarms = list
            .iter()
            .filter(|s| {
                !outbreaks.iter().any(|o| {
                    s.day >= o.start && s.day <= o.end + grace_days && matches(s, o, business)
                })
            })
            .count() as u32;
        out.push(Score {
            detector,
            level,
            by_scope,
            delays,
            signals: list.len() as u32,
            false_alarms,
            false_per_month: f64::from(false_alarms) / months,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quiet city: each of four towns gets a complaint every other day in
    /// each of two categories; business X in 桂城 adds its own.
    fn quiet(days: i64) -> Vec<Row> {
        let towns = ["440605011", "440605125", "440604010", "440608103"];
        let mut rows = Vec::new();
        for day in 0..days {
            for (t, town) in towns.iter().enumerate() {
                for (c, category) in ["food_safety", "quality"].iter().enumerate() {
                    if (day + t as i64 + c as i64) % 2 == 0 {
                        rows.push(Row {
                            business: Some(format!("B{t}{c}{}", day % 5)),
                            category: category.to_string(),
                            town: town.to_string(),
                            industry: "62".to_string(),
                            day,
                        });
                    }
                }
            }
        }
        rows
    }

    fn outbreak(rows: &mut Vec<Row>, from: i64, to: i64, per_day: usize) {
        for day in from..=to {
            for _ in 0..per_day {
                rows.push(Row {
                    business: Some("X".to_string()),
                    category: "food_safety".to_string(),
                    town: "440605011".to_string(),
                    industry: "62".to_string(),
                    day,
                });
            }
        }
    }

    #[test]
    fn an_outbreak_at_one_business_is_found_by_each_detector_and_scored() {
        let mut rows = quiet(200);
        outbreak(&mut rows, 170, 183, 3);
        let config = Config::default();
        let signals = detect(&rows, 120, 199, &config);
        let truth = [Outbreak {
            id: 1,
            scope: Scope::Business {
                uscc: "X".to_string(),
                town: "440605011".to_string(),
                industry: "62".to_string(),
            },
            category: "food_safety".to_string(),
            start: 170,
            end: 183,
        }];
        let lookup = |b: &str| (b == "X").then(|| ("440605011".to_string(), "62".to_string()));
        let scores = score(&signals, &truth, 120, 199, 7, &lookup);
        let found = |detector: Detector, level: &str| {
            scores
                .iter()
                .find(|s| s.detector == detector && s.level == level)
                .unwrap_or_else(|| panic!("no {detector:?} at {level}: {scores:?}"))
        };
        for (detector, level) in [
            (Detector::Repeat, "business"),
            (Detector::EarsC1, "town"),
            (Detector::EarsC3, "town"),
            (Detector::Ewma, "town"),
            (Detector::NegBin, "town"),
            (Detector::Scan, "towns"),
        ] {
            let s = found(detector, level);
            assert_eq!(s.by_scope["business"], (1, 1), "{s:?}");
            assert!(s.delays[0] <= 3, "{s:?}");
        }
        // The repeat signal names the business and holds its complaints.
        let repeat = signals
            .iter()
            .find(|s| s.detector == Detector::Repeat && s.place == Place::Business("X".into()))
            .unwrap();
        assert!(
            repeat
                .complaints
                .iter()
                .all(|&i| rows[i].business.as_deref() == Some("X"))
        );
        // Every signal's evidence is of its category and place.
        for s in &signals {
            for &i in &s.complaints {
                let row = &rows[i];
                if let Some(category) = &s.category {
                    assert_eq!(&row.category, category, "{s:?}");
                }
                match &s.place {
                    Place::Town(t) => assert_eq!(&row.town, t),
                    Place::Towns(ts) => assert!(ts.contains(&row.town)),
                    Place::District(d) => assert!(row.town.starts_with(d.as_str())),
                    Place::Industry(i) => assert_eq!(&row.industry, i),
                    Place::Business(b) => assert_eq!(row.business.as_ref(), Some(b)),
                }
            }
        }
    }

    #[test]
    fn a_quiet_city_raises_few_alarms_and_each_is_false() {
        let rows = quiet(200);
        let signals = detect(&rows, 120, 199, &Config::default());
        let scores = score(&signals, &[], 120, 199, 7, &|_| None);
        for s in &scores {
            assert_eq!(s.false_alarms, s.signals);
        }
        // Every detector at every level is scored, with signals or not.
        assert_eq!(scores.len(), 1 + 1 + 5 * 3);
        // The alternating pattern is no outbreak: no spike or cluster.
        assert!(
            signals.iter().all(|s| s.detector == Detector::Repeat),
            "{signals:?}"
        );
    }

    #[test]
    fn consecutive_alarm_days_are_one_signal() {
        let runs = merge(
            [1usize, 2, 3, 20, 30, 50, 52]
                .into_iter()
                .map(|day| Alarm {
                    day,
                    observed: u32::from(day != 50),
                    expected: 0.0,
                    statistic: 0.0,
                    p_value: None,
                })
                .collect(),
            7,
        );
        let days: Vec<Vec<usize>> = runs
            .iter()
            .map(|r| r.iter().map(|a| a.day).collect())
            .collect();
        assert_eq!(days, vec![vec![1, 2, 3], vec![20], vec![30], vec![52]]);
    }
}
