//! Financing statistics for the credit centre and regulators: demands,
//! applications, loans and amounts by year, bank, district and industry,
//! the landing rate (loans / applications), growth on the year before,
//! and the time applications spend in each state.

use std::collections::BTreeMap;

use serde::Serialize;

/// An application as statistics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationFact {
    /// `YYYY` of the application.
    pub year: String,
    pub bank: String,
    pub district: String,
    /// GB/T 4754 section letter.
    pub section: String,
    /// The loan paid out, 万元, if any.
    pub loan: Option<f64>,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub key: String,
    pub applications: u64,
    pub loans: u64,
    /// 万元
    pub amount: f64,
    /// Loans / applications; `None` without applications.
    pub landing_rate: Option<f64>,
}

/// A year, with the demands posted in it and the growth on the year
/// before.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct YearRow {
    #[serde(flatten)]
    pub figures: Breakdown,
    pub demands: u64,
    /// Loan amount against the year before (0.1 = 10 % more).
    pub amount_growth: Option<f64>,
    /// Loans against the year before.
    pub loans_growth: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub enterprises_registered: u64,
    pub institutions: u64,
    pub products_published: u64,
    pub demands: u64,
    /// Demands matched to a product: at least one application made on them.
    pub demands_matched: u64,
    /// Demands with a loan paid out on them.
    pub demands_funded: u64,
    pub applications: u64,
    pub loans: u64,
    /// 万元
    pub amount: f64,
    pub landing_rate: Option<f64>,
}

fn add(row: &mut Breakdown, fact: &ApplicationFact) {
    row.applications += 1;
    if let Some(amount) = fact.loan {
        row.loans += 1;
        row.amount += amount;
    }
}

fn finish(mut rows: BTreeMap<String, Breakdown>) -> Vec<Breakdown> {
    for (key, row) in rows.iter_mut() {
        row.key = key.clone();
        row.landing_rate =
            (row.applications > 0).then(|| row.loans as f64 / row.applications as f64);
    }
    rows.into_values().collect()
}

/// Applications grouped by `key`, with loans, amounts and landing rates.
pub fn breakdown(
    facts: &[ApplicationFact],
    key: impl Fn(&ApplicationFact) -> &str,
) -> Vec<Breakdown> {
    let mut rows: BTreeMap<String, Breakdown> = BTreeMap::new();
    for fact in facts {
        add(rows.entry(key(fact).to_string()).or_default(), fact);
    }
    finish(rows)
}

fn growth(now: f64, before: f64) -> Option<f64> {
    (before > 0.0).then(|| now / before - 1.0)
}

/// Years with applications or demands, in order, each with its growth on
/// the year before (when that year had any).
pub fn by_year(facts: &[ApplicationFact], demand_years: &[String]) -> Vec<YearRow> {
    let mut years: BTreeMap<String, YearRow> = BTreeMap::new();
    for fact in facts {
        add(
            &mut years.entry(fact.year.clone()).or_default().figures,
            fact,
        );
    }
    for year in demand_years {
        years.entry(year.clone()).or_default().demands += 1;
    }
    let mut out: Vec<YearRow> = Vec::new();
    for (year, mut row) in years {
        row.figures.key = year.clone();
        row.figures.landing_rate = (row.figures.applications > 0)
            .then(|| row.figures.loans as f64 / row.figures.applications as f64);
        let before = year
            .parse::<i32>()
            .ok()
            .and_then(|y| out.iter().find(|r| r.figures.key == (y - 1).to_string()));
        if let Some(before) = before {
            row.amount_growth = growth(row.figures.amount, before.figures.amount);
            row.loans_growth = growth(row.figures.loans as f64, before.figures.loans as f64);
        }
        out.push(row);
    }
    out
}

/// How many there are of what the totals count besides applications.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub enterprises_registered: u64,
    pub institutions: u64,
    pub products_published: u64,
    pub demands: u64,
    pub demands_matched: u64,
    pub demands_funded: u64,
}

/// Totals over every application.
pub fn totals(facts: &[ApplicationFact], counts: Counts) -> Totals {
    let mut all = Breakdown::default();
    for fact in facts {
        add(&mut all, fact);
    }
    Totals {
        enterprises_registered: counts.enterprises_registered,
        institutions: counts.institutions,
        products_published: counts.products_published,
        demands: counts.demands,
        demands_matched: counts.demands_matched,
        demands_funded: counts.demands_funded,
        applications: all.applications,
        loans: all.loans,
        amount: all.amount,
        landing_rate: (all.applications > 0).then(|| all.loans as f64 / all.applications as f64),
    }
}

/// Mean hours in a state over the applications that left it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateTime {
    pub state: String,
    pub applications: u64,
    pub mean_hours: f64,
}

/// Mean time in each state from `(state, seconds)` pairs.
pub fn state_times(spans: &[(String, i64)]) -> Vec<StateTime> {
    let mut sums: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for (state, seconds) in spans {
        let entry = sums.entry(state.as_str()).or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }
    sums.into_iter()
        .map(|(state, (n, total))| StateTime {
            state: state.to_string(),
            applications: n,
            mean_hours: total as f64 / n as f64 / 3600.0,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fact(year: &str, bank: &str, loan: Option<f64>) -> ApplicationFact {
        ApplicationFact {
            year: year.into(),
            bank: bank.into(),
            district: "440606".into(),
            section: "C".into(),
            loan,
        }
    }

    #[test]
    fn landing_rates_and_growth() {
        let facts = [
            fact("2024", "1", Some(100.0)),
            fact("2024", "1", None),
            fact("2025", "1", Some(150.0)),
            fact("2025", "2", Some(50.0)),
            fact("2025", "2", None),
        ];
        let years = by_year(&facts, &["2025".to_string()]);
        assert_eq!(years.len(), 2);
        assert_eq!(years[0].figures.landing_rate, Some(0.5));
        assert_eq!(years[1].demands, 1);
        assert!((years[1].amount_growth.unwrap() - 1.0).abs() < 1e-12);
        assert!((years[1].loans_growth.unwrap() - 1.0).abs() < 1e-12);
        let banks = breakdown(&facts, |f| &f.bank);
        assert_eq!(banks[0].loans, 2);
        assert!((banks[1].landing_rate.unwrap() - 0.5).abs() < 1e-12);
        let all = totals(
            &facts,
            Counts {
                demands: 1,
                ..Counts::default()
            },
        );
        assert_eq!((all.applications, all.loans), (5, 3));
        assert_eq!(all.amount, 300.0);
        // The breakdowns add up to the totals.
        assert_eq!(banks.iter().map(|b| b.loans).sum::<u64>(), all.loans);
    }

    #[test]
    fn state_times_average() {
        let spans = [
            ("accepted".to_string(), 3600),
            ("accepted".to_string(), 7200),
            ("under_review".to_string(), 36_000),
        ];
        let times = state_times(&spans);
        assert_eq!(times[0].mean_hours, 1.5);
        assert_eq!(times[1].applications, 1);
    }
}
