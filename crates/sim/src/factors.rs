//! A flat risk-factor table straight from the generator, for benchmarking
//! scorecard tools on the same input: one row per entity operating at the
//! start of the history's final year, twelve factors known at that date,
//! and whether the entity breaks the law during the final year (the truth).
//!
//! The platform's own risk model computes its features from the ingested
//! data instead; this table skips ingest so that a million rows take a
//! minute, and is for benchmarks and evaluation only.

use chrono::{Datelike, NaiveDate};

use crate::city::City;
use crate::entity::{self, Entity, Kind, Status};
use crate::history;
use crate::record::Period;

/// Column names, the target last.
pub const COLUMNS: [&str; 13] = [
    "years_in_operation",
    "registered_capital",
    "subscribed_capital",
    "employees",
    "industry",
    "entity_kind",
    "tax_paid_last_year",
    "tax_arrears_months",
    "insurance_arrears_months",
    "penalties_3y",
    "complaints_last_year",
    "abnormal_listings",
    "violated",
];

/// One row, as text in the order of [`COLUMNS`]; `None` for an entity not
/// operating at the start of the final year.
pub fn row(city: &City, index: u32) -> Option<Vec<String>> {
    let e = entity::generate(&city.config, index);
    let final_year = city.config.end.year();
    let as_of = NaiveDate::from_ymd_opt(final_year, 1, 1)?;
    if e.established_on >= as_of {
        return None;
    }
    if e.status != Status::Operating && e.status_on.is_some_and(|d| d < as_of) {
        return None;
    }
    let h = history::generate(city, &e);
    Some(factors(&e, &h, final_year, as_of))
}

fn factors(e: &Entity, h: &history::History, final_year: i32, as_of: NaiveDate) -> Vec<String> {
    let last_year = final_year - 1;
    let year_of = |p: Period| match p {
        Period::Year(y) | Period::Month(y, _) => Some(y),
        Period::Snapshot => None,
    };
    let amount = |r: &crate::record::Record, f: &str| -> f64 {
        r.get(f).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
    };
    let (mut tax_paid, mut tax_arrears, mut insurance_arrears) = (0.0, 0u32, 0u32);
    let (mut penalties, mut complaints, mut abnormal) = (0u32, 0u32, 0u32);
    for r in &h.records {
        let Some(year) = year_of(r.period) else {
            continue;
        };
        match r.item {
            "tax_payment" if year == last_year => {
                tax_paid += amount(r, "amount_paid");
                if r.get("tax_type") == Some("vat")
                    && amount(r, "amount_paid") < amount(r, "amount_due")
                {
                    tax_arrears += 1;
                }
            }
            "social_insurance"
                if year == last_year && amount(r, "amount_paid") < amount(r, "amount_due") =>
            {
                insurance_arrears += 1;
            }
            "admin_penalty" if (final_year - 3..final_year).contains(&year) => penalties += 1,
            "complaint" if year == last_year => complaints += 1,
            "abnormal_operation" if year < final_year => abnormal += 1,
            _ => {}
        }
    }
    let years = (as_of - e.established_on).num_days() as f64 / 365.25;
    let kind = match e.kind {
        Kind::Enterprise => "enterprise",
        Kind::IndividualBusiness => "individual",
        Kind::FarmersCooperative => "cooperative",
    };
    vec![
        format!("{years:.2}"),
        format!("{:.2}", e.registered_capital),
        format!("{:.2}", e.subscribed_capital()),
        e.employees.to_string(),
        // Section letter and division ("C13"), so every tool reads it as a
        // category rather than a number.
        domain::industry::division(e.industry).map_or_else(
            || e.industry.to_string(),
            |d| format!("{}{}", d.section, d.code),
        ),
        kind.to_string(),
        format!("{tax_paid:.2}"),
        tax_arrears.to_string(),
        insurance_arrears.to_string(),
        penalties.to_string(),
        complaints.to_string(),
        abnormal.to_string(),
        u8::from(e.truth.violates).to_string(),
    ]
}

/// Writes the table as CSV with a header; returns the rows written.
/// Entities are generated in parallel, in chunks, and written in order, so
/// the file is the same for any thread count.
pub fn write_csv(
    config: &crate::SimConfig,
    out: &std::path::Path,
    progress: impl Fn(u32),
) -> Result<u64, crate::SimError> {
    use rayon::prelude::*;
    let city = City::new(config);
    let io_error = |source| crate::SimError::Io {
        path: out.to_path_buf(),
        source,
    };
    let csv_error = |source| crate::SimError::Csv {
        path: out.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(out).map_err(io_error)?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
    writer.write_record(COLUMNS).map_err(csv_error)?;
    let mut written = 0;
    let chunk = 16_384u32;
    let mut start = 0u32;
    while start < config.entities {
        let end = start.saturating_add(chunk).min(config.entities);
        let rows: Vec<Option<Vec<String>>> = (start..end)
            .into_par_iter()
            .map(|i| row(&city, i))
            .collect();
        for r in rows.into_iter().flatten() {
            writer.write_record(&r).map_err(csv_error)?;
            written += 1;
        }
        progress(end);
        start = end;
    }
    writer.flush().map_err(io_error)?;
    Ok(written)
}
