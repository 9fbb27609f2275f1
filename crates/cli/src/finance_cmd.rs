//! The financing side of a synthetic city, loaded into the store: banks,
//! products (published, as approved long ago), demands, and applications
//! with the states they went through and the loans' outcomes.
//!
//! The city's files give when an application was made and decided; the
//! steps between (acceptance the next day, review the day after, the loan
//! paid out three days after approval) are this loader's assumption, so
//! that time-in-state figures have something to measure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate};
use clap::Subcommand;
use finance::consent::Scope;
use finance::matching::Eligibility;
use serde::Deserialize;
use store::{
    ApplicationEventRow, ApplicationRow, AuthorisationRow, BankRow, DemandRow, ProductRow, Store,
};

use crate::Outcome;
use crate::data_cmd::{DataOptions, now, runtime};
use crate::output::{outln, print_json};

#[derive(Subcommand)]
pub enum FinanceCommand {
    /// Load a synthetic city's financing side (finance/banks.csv, products.jsonl, demands.csv, applications.csv) into an empty financing store.
    Load {
        /// The city directory `xinyong sim` wrote.
        city: PathBuf,
    },
    /// Train the financing scorecard on the loans' outcomes and grade every enterprise A–D.
    Grade {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(data: &DataOptions, catalog: Option<&Path>, command: FinanceCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let outcome = match command {
            FinanceCommand::Load { city } => {
                let loaded = load_city_finance(&store, &city).await?;
                outln!(
                    "{} banks, {} products, {} demands, {} applications loaded",
                    loaded.banks,
                    loaded.products,
                    loaded.demands,
                    loaded.applications
                );
                Ok(Outcome::Ok)
            }
            FinanceCommand::Grade { json } => {
                let sql = crate::risk_cmd::open_lake(&store, data, catalog).await?;
                let report = grade_financing(&store, &sql).await?;
                if json {
                    print_json(&report)?;
                } else {
                    print_grading(&report);
                }
                Ok(Outcome::Ok)
            }
        };
        store.close().await;
        outcome
    })
}

#[derive(Deserialize)]
struct BankLine {
    id: String,
    name: String,
    uscc: String,
}

#[derive(Deserialize)]
struct ProductLine {
    id: i64,
    bank: i64,
    name: String,
    amount_min: f64,
    amount_max: f64,
    term_months_max: i64,
    rate_min: f64,
    rate_max: f64,
    collateral: String,
    guarantee: String,
    eligibility: Eligibility,
}

#[derive(Deserialize)]
struct DemandLine {
    demand_id: String,
    subject: String,
    posted_on: NaiveDate,
    amount: f64,
    term_months: i64,
    purpose: String,
}

#[derive(Deserialize)]
struct ApplicationLine {
    demand_id: String,
    subject: String,
    product: i64,
    applied_on: NaiveDate,
    decision: String,
    decided_on: NaiveDate,
    approved_amount: f64,
    rate: f64,
    loan_outcome: String,
}

/// Reads a CSV file into rows, naming the file and row of a bad one.
fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (k, row) in reader.deserialize().enumerate() {
        rows.push(row.with_context(|| format!("{}: row {}", path.display(), k + 2))?);
    }
    Ok(rows)
}

/// A stored time at nine in the morning of `day`, UTC.
fn at(day: NaiveDate, hour: u32) -> String {
    format!("{day}T{hour:02}:00:00Z")
}

/// What the loader stored.
pub struct Loaded {
    pub banks: usize,
    pub products: usize,
    pub demands: usize,
    pub applications: usize,
}

/// Loads `finance/` of a synthetic city into an empty financing store.
pub async fn load_city_finance(store: &Store, city: &Path) -> Result<Loaded> {
    if !store.banks().await?.is_empty() {
        bail!("the store holds banks already; load the financing side once");
    }
    let dir = city.join("finance");
    let banks: Vec<BankLine> = read_csv(&dir.join("banks.csv"))?;
    store
        .upsert_banks(
            &banks
                .iter()
                .map(|b| BankRow {
                    id: b.id.clone(),
                    name: b.name.clone(),
                    uscc: b.uscc.clone(),
                })
                .collect::<Vec<_>>(),
        )
        .await?;

    let products_path = dir.join("products.jsonl");
    let text = std::fs::read_to_string(&products_path)
        .with_context(|| format!("cannot read {}", products_path.display()))?;
    let mut lines = Vec::new();
    for (k, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let product: ProductLine = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}", products_path.display(), k + 1))?;
        lines.push(product);
    }
    let published = "2020-01-01T00:00:00Z".to_string();
    let rows: Vec<ProductRow> = lines
        .iter()
        .map(|p| {
            Ok(ProductRow {
                id: 0,
                bank: p.bank.to_string(),
                name: p.name.clone(),
                amount_min: p.amount_min,
                amount_max: p.amount_max,
                term_months_max: p.term_months_max,
                rate_min: p.rate_min,
                rate_max: p.rate_max,
                collateral: p.collateral.clone(),
                guarantee: p.guarantee.clone(),
                eligibility: serde_json::to_string(&p.eligibility)?,
                state: "published".into(),
                created_at: published.clone(),
                created_by: "sim".into(),
                reviewed_at: Some(published.clone()),
                reviewed_by: Some("sim".into()),
            })
        })
        .collect::<Result<_>>()?;
    let stored_ids = store.create_products(&rows).await?;
    let product_ids: HashMap<i64, (i64, String)> = lines
        .iter()
        .zip(&stored_ids)
        .map(|(p, id)| (p.id, (*id, p.bank.to_string())))
        .collect();

    let demands: Vec<DemandLine> = read_csv(&dir.join("demands.csv"))?;
    let applications: Vec<ApplicationLine> = read_csv(&dir.join("applications.csv"))?;
    let decided: std::collections::HashSet<&str> = applications
        .iter()
        .filter(|a| a.decision == "approved")
        .map(|a| a.demand_id.as_str())
        .collect();
    let latest = demands.iter().map(|d| d.posted_on).max();
    let demand_rows: Vec<DemandRow> = demands
        .iter()
        .map(|d| {
            // Recent demands nobody has lent to are still open.
            let recent = latest.is_some_and(|l| (l - d.posted_on).num_days() <= 180);
            DemandRow {
                id: 0,
                enterprise: d.subject.clone(),
                posted_at: at(d.posted_on, 9),
                amount: d.amount,
                term_months: d.term_months,
                purpose: d.purpose.clone(),
                urgency: "normal".into(),
                state: if recent && !decided.contains(d.demand_id.as_str()) {
                    "open".into()
                } else {
                    "closed".into()
                },
                reference: d.demand_id.clone(),
            }
        })
        .collect();
    let demand_ids = store.create_demands(&demand_rows).await?;
    let demand_of: HashMap<&str, (i64, i64, f64)> = demands
        .iter()
        .zip(&demand_ids)
        .map(|(d, id)| (d.demand_id.as_str(), (*id, d.term_months, d.amount)))
        .collect();

    let mut rows = Vec::new();
    let mut events = Vec::new();
    let mut outcomes = Vec::new();
    for (k, a) in applications.iter().enumerate() {
        let place = || format!("{}: row {}", dir.join("applications.csv").display(), k + 2);
        let Some((product, bank)) = product_ids.get(&a.product) else {
            bail!("{}: field product: no product {}", place(), a.product);
        };
        let Some((demand, term, demand_amount)) = demand_of.get(a.demand_id.as_str()) else {
            bail!("{}: field demand_id: no demand {}", place(), a.demand_id);
        };
        let mut steps = vec![
            ("submitted", at(a.applied_on, 9), String::new()),
            (
                "accepted",
                at(a.applied_on + Days::new(1), 10),
                String::new(),
            ),
        ];
        if a.decided_on > a.applied_on + Days::new(2) {
            steps.push((
                "under_review",
                at(a.applied_on + Days::new(2), 10),
                String::new(),
            ));
        }
        let disbursed = a.decision == "approved";
        match a.decision.as_str() {
            "approved" => {
                steps.push(("approved", at(a.decided_on, 15), String::new()));
                steps.push((
                    "disbursed",
                    at(a.decided_on + Days::new(3), 11),
                    String::new(),
                ));
            }
            "rejected" => steps.push((
                "rejected",
                at(a.decided_on, 15),
                "不符合本行授信政策".into(),
            )),
            "withdrawn" => steps.push(("withdrawn", at(a.decided_on, 15), String::new())),
            other => bail!("{}: field decision: unknown decision '{other}'", place()),
        }
        let index = rows.len();
        for (seq, (state, when, reason)) in steps.iter().enumerate() {
            events.push((
                index,
                ApplicationEventRow {
                    application_id: 0,
                    seq: seq as i64 + 1,
                    at: when.clone(),
                    actor: if *state == "submitted" || *state == "withdrawn" {
                        format!("enterprise:{}", a.subject)
                    } else {
                        format!("bank:{bank}")
                    },
                    state: state.to_string(),
                    reason: reason.clone(),
                },
            ));
        }
        let (last_state, last_at, last_reason) =
            steps
                .last()
                .cloned()
                .unwrap_or(("submitted", at(a.applied_on, 9), String::new()));
        rows.push(ApplicationRow {
            id: 0,
            enterprise: a.subject.clone(),
            product_id: *product,
            bank: bank.clone(),
            demand_id: Some(*demand),
            amount: *demand_amount,
            term_months: *term,
            state: last_state.to_string(),
            reason: last_reason,
            created_at: at(a.applied_on, 9),
            updated_at: last_at,
            loan_amount: disbursed.then_some(a.approved_amount),
            loan_rate: disbursed.then_some(a.rate),
            loan_term_months: disbursed.then_some(*term),
            disbursed_on: disbursed.then(|| (a.decided_on + Days::new(3)).to_string()),
            loan_status: disbursed.then(|| "current".to_string()),
        });
        if disbursed {
            outcomes.push((
                index,
                a.decided_on + Days::new(3),
                *term,
                a.loan_outcome.clone(),
                bank.clone(),
            ));
        }
    }
    let ids = store.create_applications(&rows, &events).await?;
    // The banks' file of loan outcomes: each outcome becomes the reports a
    // bank would have sent, checked like any other report.
    let today = chrono::Utc::now().date_naive();
    for (index, disbursed_on, term, outcome, bank) in outcomes {
        let Some(&id) = ids.get(index) else {
            continue;
        };
        for report in outcome_reports(&outcome, disbursed_on, term, today) {
            let by = server::finance::service::Reporter {
                actor: &format!("bank:{bank}"),
                source: "file",
                at: &now(),
                today,
            };
            server::finance::service::store_loan_report(store, id, &report, &by, None)
                .await
                .with_context(|| format!("application {id}: loan report"))?;
        }
    }
    Ok(Loaded {
        banks: banks.len(),
        products: stored_ids.len(),
        demands: demand_ids.len(),
        applications: rows.len(),
    })
}

/// The demo's financing side: the city's banks, products, demands and
/// applications, and a live authorisation from the demo enterprise to the
/// demo bank so that its credit report opens at once.
pub async fn demo_finance(
    store: &Store,
    sql: &lake::sql::Sql,
    catalog: &domain::Catalog,
    city: &Path,
    bank: &str,
    enterprise: &str,
) -> Result<()> {
    if !store.banks().await?.is_empty() {
        outln!("      financing data exists already; reusing it");
        return Ok(());
    }
    let loaded = load_city_finance(store, city).await?;
    outln!(
        "      {} banks, {} products, {} demands, {} applications",
        loaded.banks,
        loaded.products,
        loaded.demands,
        loaded.applications
    );
    // A city too small to have both loan outcomes still makes a demo,
    // without financing grades.
    match grade_financing(store, sql).await {
        Ok(g) => outln!(
            "      financing scorecard {}: grades A {}, B {}, C {}, D {}",
            g.version,
            g.grades[0],
            g.grades[1],
            g.grades[2],
            g.grades[3]
        ),
        Err(error) => outln!("      financing grades skipped: {error:#}"),
    }
    // The cultivation pool under the default rule.
    let rule = finance::pool::PoolRule::default();
    let members = server::finance::outreach::select_pool(store, catalog, &rule, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("pool: {}", e.message()))?;
    outln!(
        "      cultivation pool: {} members under the default rule",
        members.len()
    );
    store
        .replace_pool(&serde_json::to_string(&rule)?, &now(), "cli:demo", members)
        .await?;
    let granted_at = chrono::Utc::now();
    let scope: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    store
        .grant_authorisation(&AuthorisationRow {
            id: 0,
            enterprise: enterprise.to_string(),
            bank: bank.to_string(),
            application_id: None,
            scope: scope.join(";"),
            purpose: "演示：授信前调查".into(),
            granted_at: granted_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            granted_by: "user:enterprise".into(),
            expires_at: (granted_at + chrono::Duration::days(90))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            revoked_at: None,
            revoked_by: None,
        })
        .await?;
    Ok(())
}

/// What grading did, for the command line.
#[derive(serde::Serialize)]
pub struct Grading {
    pub version: String,
    pub as_of: NaiveDate,
    pub report: risk::financing::FinancingReport,
    pub cutoffs: risk::Cutoffs,
    pub grades: [u64; 4],
    /// The features the scorecard kept.
    pub features: Vec<String>,
}

fn print_grading(g: &Grading) {
    outln!(
        "financing scorecard {} (features {}), as of {}",
        g.version,
        g.report.features_version,
        g.as_of
    );
    outln!("  features: {}", g.features.join(", "));
    for (year, loans, bad) in &g.report.loans_by_year {
        outln!("  loans paid out in {year}: {loans}, {bad} overdue or defaulted");
    }
    let m = &g.report.training_metrics;
    outln!(
        "  training: {} loans, AUC {:.3}, KS {:.3}",
        g.report.trained_on,
        m.auc,
        m.ks
    );
    if let (Some(year), Some(m)) = (g.report.holdout_year, &g.report.holdout_metrics) {
        outln!("  held out {year} on: AUC {:.3}, KS {:.3}", m.auc, m.ks);
    }
    outln!(
        "  grades: A {} (score ≥ {}), B {} (≥ {}), C {} (≥ {}), D {}",
        g.grades[0],
        g.cutoffs.a,
        g.grades[1],
        g.cutoffs.b,
        g.grades[2],
        g.cutoffs.c,
        g.grades[3]
    );
}

/// Trains the financing scorecard on every disbursed loan's outcome, grades
/// every enterprise as of the lake's latest data, and stores both.
pub async fn grade_financing(store: &Store, sql: &lake::sql::Sql) -> Result<Grading> {
    let mut reports_by_loan: HashMap<i64, Vec<finance::outcome::Report>> = HashMap::new();
    for r in store.all_loan_reports().await? {
        let Some(report) =
            finance::outcome::Report::parse(&r.reported_on, &r.state, r.days_past_due)
        else {
            bail!(
                "loan report {} of application {} is unreadable",
                r.seq,
                r.application_id
            );
        };
        reports_by_loan
            .entry(r.application_id)
            .or_default()
            .push(report);
    }
    let mut loans = Vec::new();
    for a in store.applications().await? {
        let Some(day) = a.disbursed_on.as_deref() else {
            continue;
        };
        let disbursed_on: NaiveDate = day
            .parse()
            .with_context(|| format!("application {}: disbursed on '{day}'", a.id))?;
        // The bank's reports decide: a loan nobody reported on is current.
        let reports = reports_by_loan.remove(&a.id).unwrap_or_default();
        loans.push(risk::financing::Loan {
            subject: a.enterprise,
            disbursed_on,
            bad: finance::outcome::is_bad(&reports),
        });
    }
    let created = now();
    let version = format!(
        "fin-{}",
        created.replace([':', '-'], "").trim_end_matches('Z')
    );
    let set = &risk::V4;
    let trained = risk::financing::train(sql, set, &loans, &version, &created).await?;
    let as_of = risk::default_screening_as_of(sql).await?;
    let (graded, cutoffs) = risk::financing::grade(sql, set, &trained.model, as_of).await?;
    store
        .save_financing_model(&store::FinancingModelRow {
            version: version.clone(),
            created_at: created,
            as_of: as_of.to_string(),
            model_json: serde_json::to_string(&trained.model)?,
            report_json: serde_json::to_string(&trained.report)?,
        })
        .await?;
    let mut grades = [0u64; 4];
    let rows = graded
        .into_iter()
        .map(|g| {
            grades[match g.grade {
                'A' => 0,
                'B' => 1,
                'C' => 2,
                _ => 3,
            }] += 1;
            Ok(store::FinancingScoreRow {
                uscc: g.subject,
                model_version: version.clone(),
                as_of: as_of.to_string(),
                score: g.score,
                probability: g.probability,
                grade: g.grade.to_string(),
                reasons: serde_json::to_string(&g.reasons)?,
                employees: g.employees,
                tax_paid_1y: g.tax_paid_1y,
                outlook: Some(serde_json::to_string(&g.outlook)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    store.replace_financing_scores(rows).await?;
    Ok(Grading {
        features: trained
            .model
            .features
            .iter()
            .map(|f| f.name.clone())
            .collect(),
        version,
        as_of,
        report: trained.report,
        cutoffs,
        grades,
    })
}

/// The reports a bank sends for a loan whose outcome the synthetic city
/// gives: overdue 45 days four months in, then (for a default) defaulted
/// three months later; repaid at the end of its term; none while current.
/// Reports after `today` are not sent yet.
fn outcome_reports(
    outcome: &str,
    disbursed_on: NaiveDate,
    term_months: i64,
    today: NaiveDate,
) -> Vec<finance::outcome::Report> {
    use finance::outcome::{LoanState, Report};
    let after = |days: u64| disbursed_on + Days::new(days);
    let term_end = disbursed_on
        .checked_add_months(chrono::Months::new(
            u32::try_from(term_months).unwrap_or(12),
        ))
        .unwrap_or(disbursed_on);
    let reports = match LoanState::parse(outcome) {
        Some(LoanState::Overdue) => vec![Report {
            on: after(120),
            state: LoanState::Overdue,
            days_past_due: 45,
        }],
        Some(LoanState::Defaulted) => vec![
            Report {
                on: after(120),
                state: LoanState::Overdue,
                days_past_due: 45,
            },
            Report {
                on: after(210),
                state: LoanState::Defaulted,
                days_past_due: 0,
            },
        ],
        Some(LoanState::Repaid) => vec![Report {
            on: term_end,
            state: LoanState::Repaid,
            days_past_due: 0,
        }],
        _ => Vec::new(),
    };
    reports.into_iter().filter(|r| r.on <= today).collect()
}
