//! The credit report's pure parts: which group of information each catalog
//! item belongs to, payment behaviour from yearly figures, and the report
//! number.

use serde::Serialize;

use crate::consent::Scope;

/// The group a catalog item's records belong to, by its department and
/// category; `None` for what no authorisation opens to a bank (complaints,
/// inspection results, honours and others' ratings).
pub fn scope_of(department: &str, category: &str) -> Option<Scope> {
    match (department, category) {
        (_, "registration" | "annual_report" | "licence") => Some(Scope::Registration),
        (_, "penalty" | "list") => Some(Scope::PenaltiesAndLists),
        (_, "court") => Some(Scope::Court),
        (_, "intellectual_property") => Some(Scope::IntellectualProperty),
        ("tax", _) => Some(Scope::Tax),
        ("hrss" | "hpf", _) => Some(Scope::SocialInsurance),
        ("water" | "power" | "gas", _) => Some(Scope::Utilities),
        _ => None,
    }
}

/// One year of an item's records for one enterprise, as the store sums
/// them: `flagged` counts records paid late, short or in arrears.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearFigures {
    pub year: i64,
    pub records: i64,
    pub amount: f64,
    pub flagged: i64,
}

/// How regularly an enterprise paid one kind of dues over the report's
/// window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentBehaviour {
    pub item: String,
    pub years: Vec<YearFigures>,
    pub records: i64,
    /// Records paid late, short or in arrears.
    pub flagged: i64,
    /// Share of records paid in full and on time, 0–1; `None` without records.
    pub regularity: Option<f64>,
    /// Change of the amount from the year before last to last year
    /// (0.1 = 10 % more); `None` when either year is missing or zero.
    pub trend: Option<f64>,
}

/// The years a report covers: the 36 months before `today_year`'s end, so
/// the current year and the three before it.
pub fn window(today_year: i64) -> std::ops::RangeInclusive<i64> {
    (today_year - 3)..=today_year
}

/// Payment behaviour of one item from its yearly figures, over the window.
pub fn payment_behaviour(item: &str, years: &[YearFigures], today_year: i64) -> PaymentBehaviour {
    let window = window(today_year);
    let years: Vec<YearFigures> = years
        .iter()
        .filter(|y| window.contains(&y.year))
        .cloned()
        .collect();
    let records: i64 = years.iter().map(|y| y.records).sum();
    let flagged: i64 = years.iter().map(|y| y.flagged).sum();
    let amount_in = |year: i64| {
        years
            .iter()
            .find(|y| y.year == year)
            .map(|y| y.amount)
            .filter(|a| *a > 0.0)
    };
    let trend = match (amount_in(today_year - 2), amount_in(today_year - 1)) {
        (Some(before), Some(last)) => Some(last / before - 1.0),
        _ => None,
    };
    PaymentBehaviour {
        item: item.to_string(),
        records,
        flagged,
        regularity: (records > 0).then(|| (records - flagged) as f64 / records as f64),
        trend,
        years,
    }
}

/// A report's number: `XYR-<yyyymmdd>-<bank>-<suffix>`; the caller hands
/// in a random suffix, so numbers are not guessable and need no counter.
pub fn report_number(date: chrono::NaiveDate, bank: &str, suffix: &str) -> String {
    format!(
        "XYR-{}-{bank}-{}",
        date.format("%Y%m%d"),
        suffix.to_uppercase()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn year(year: i64, records: i64, amount: f64, flagged: i64) -> YearFigures {
        YearFigures {
            year,
            records,
            amount,
            flagged,
        }
    }

    #[test]
    fn behaviour_covers_the_window_only() {
        let years = [
            year(2020, 12, 100.0, 12),
            year(2023, 12, 100.0, 0),
            year(2024, 12, 110.0, 3),
            year(2025, 12, 121.0, 1),
            year(2026, 10, 90.0, 0),
        ];
        let b = payment_behaviour("tax_payment", &years, 2026);
        assert_eq!(b.records, 46);
        assert_eq!(b.flagged, 4);
        assert!((b.regularity.unwrap() - 42.0 / 46.0).abs() < 1e-12);
        assert!((b.trend.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(b.years.len(), 4);
    }

    #[test]
    fn no_records_no_regularity() {
        let b = payment_behaviour("water_usage", &[], 2026);
        assert_eq!(b.regularity, None);
        assert_eq!(b.trend, None);
    }

    #[test]
    fn groups_of_items() {
        assert_eq!(scope_of("tax", "tax"), Some(Scope::Tax));
        assert_eq!(scope_of("tax", "rating"), Some(Scope::Tax));
        assert_eq!(scope_of("hrss", "list"), Some(Scope::PenaltiesAndLists));
        assert_eq!(
            scope_of("hpf", "housing_fund"),
            Some(Scope::SocialInsurance)
        );
        assert_eq!(scope_of("court", "court"), Some(Scope::Court));
        assert_eq!(scope_of("hotline", "complaint"), None);
        assert_eq!(scope_of("samr", "inspection"), None);
    }
}
