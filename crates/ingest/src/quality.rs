//! Data quality per department and item, over time, from the batch reports:
//! what the `quality` command and the quality pages show.

use std::collections::BTreeMap;

use serde::Serialize;
use store::BatchRow;

/// Data quality of one department's item over its batches.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Quality {
    pub department: String,
    pub item: String,
    pub batches: u64,
    pub rows: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Quarantined rows by reason.
    pub by_reason: BTreeMap<String, u64>,
    /// Quarantined rows by field and reason (`field:reason`): the rules broken.
    pub by_rule: BTreeMap<String, u64>,
    pub repairs: BTreeMap<String, u64>,
    pub error_rate: f64,
    pub duplicate_rate: f64,
    pub unknown_entity_rate: f64,
    /// Days from the end of the period a batch covers to its ingestion.
    pub median_delay_days: Option<i64>,
    pub max_delay_days: Option<i64>,
    /// Per period the batches cover (the month or year of their latest record).
    pub over_time: Vec<QualityPeriod>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct QualityPeriod {
    pub period: String,
    pub rows: u64,
    pub error_rate: f64,
    pub delay_days: Option<i64>,
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &serde_json::Value) {
    if let Some(map) = from.as_object() {
        for (k, v) in map {
            *into.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
        }
    }
}

impl Quality {
    /// The rule broken most often, with its count (`field:reason (n)`).
    pub fn top_rule(&self) -> String {
        self.by_rule
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(k, n)| format!("{k} ({n})"))
            .unwrap_or_default()
    }

    /// Median and largest delay in days, as `median/max`.
    pub fn delay_text(&self) -> String {
        match (self.median_delay_days, self.max_delay_days) {
            (Some(m), Some(x)) => format!("{m}/{x}"),
            _ => String::new(),
        }
    }
}

/// Quality per department and item of `batches`, only of `department` if given.
pub fn quality(batches: &[BatchRow], department: Option<&str>) -> Vec<Quality> {
    let source = department;
    let mut groups: BTreeMap<(String, String), (Quality, Vec<i64>)> = BTreeMap::new();
    for batch in batches
        .iter()
        .filter(|b| source.is_none_or(|s| s == b.department))
    {
        let (q, delays) = groups
            .entry((batch.department.clone(), batch.item.clone()))
            .or_default();
        q.department = batch.department.clone();
        q.item = batch.item.clone();
        q.batches += 1;
        q.rows += batch.rows_in as u64;
        q.accepted += batch.accepted as u64;
        q.quarantined += batch.quarantined as u64;
        add_counts(&mut q.by_reason, &batch.report["by_reason"]);
        add_counts(&mut q.by_rule, &batch.report["by_field"]);
        add_counts(&mut q.repairs, &batch.report["repairs"]);
        let period_to = batch.report["period_to"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // A month (2025-03) ends at its last day; a date is itself.
        let end = chrono::NaiveDate::parse_from_str(&period_to, "%Y-%m-%d")
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(&format!("{period_to}-01"), "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                    .and_then(|d| d.pred_opt())
            });
        let ingested = chrono::DateTime::parse_from_rfc3339(&batch.finished_at)
            .ok()
            .map(|t| t.date_naive());
        let delay = match (end, ingested) {
            (Some(end), Some(ingested)) => Some((ingested - end).num_days()),
            _ => None,
        };
        if let Some(delay) = delay {
            delays.push(delay);
        }
        q.over_time.push(QualityPeriod {
            period: period_to.get(..7).unwrap_or(&period_to).to_string(),
            rows: batch.rows_in as u64,
            error_rate: rate(batch.quarantined as u64, batch.rows_in as u64),
            delay_days: delay,
        });
    }
    let mut report: Vec<Quality> = Vec::new();
    for (_, (mut q, mut delays)) in groups {
        q.error_rate = rate(q.quarantined, q.rows);
        let duplicates = q.by_reason.get("duplicate").copied().unwrap_or(0)
            + q.by_reason.get("duplicate_conflict").copied().unwrap_or(0);
        q.duplicate_rate = rate(duplicates, q.rows);
        q.unknown_entity_rate = rate(
            q.by_reason.get("unknown_entity").copied().unwrap_or(0),
            q.rows,
        );
        delays.sort_unstable();
        q.median_delay_days = delays.get(delays.len() / 2).copied();
        q.max_delay_days = delays.last().copied();
        q.over_time.sort_by(|a, b| a.period.cmp(&b.period));
        report.push(q);
    }
    report
}
