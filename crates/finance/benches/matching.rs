//! Matching at the seed city's scale: 10,000 financing demands against 400
//! loan products, every rule of every product checked and worded, ranked.
//! Products and enterprises come from the synthetic city; the demands
//! follow its financing model. No peer does rule matching with reasons,
//! so the figure stands alone.
//!
//! Run: `cargo bench -p finance --bench matching` (bench/finance.sh).

use std::time::Instant;

use finance::matching::{self, Demand, EnterpriseFacts, Grade, Product};

const DEMANDS: u32 = 10_000;
const PRODUCTS: usize = 400;

/// Grades spread as the financing scorecard spreads them: 20/30/30/20 %.
fn grade(k: u32) -> Option<Grade> {
    match k % 10 {
        0 | 1 => Some(Grade::A),
        2..=4 => Some(Grade::B),
        5..=7 => Some(Grade::C),
        _ => Some(Grade::D),
    }
}

fn main() {
    let mut config = sim::SimConfig::preset(sim::Preset::Demo, 1);
    // 38 banks give about 370 products; a few more give 400.
    config.banks = 44;
    let banks = sim::finance::banks(&config);
    let products: Vec<Product> = sim::finance::products(&config, &banks)
        .into_iter()
        .take(PRODUCTS)
        .map(|p| Product {
            id: i64::from(p.id),
            bank: p.bank.to_string(),
            name: p.name,
            amount_min: p.amount_min,
            amount_max: p.amount_max,
            term_months_max: p.term_months_max,
            rate_min: p.rate_min,
            rate_max: p.rate_max,
            eligibility: matching::Eligibility {
                sections: p
                    .eligibility
                    .sections
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                min_age_years: p.eligibility.min_age_years,
                districts: p.eligibility.districts,
                min_tax_paid: p.eligibility.min_tax_paid,
                min_headcount: p.eligibility.min_headcount,
                min_grade: match p.eligibility.min_grade {
                    'A' => Some(Grade::A),
                    'B' => Some(Grade::B),
                    'C' => Some(Grade::C),
                    _ => Some(Grade::D),
                },
                pool_only: p.eligibility.pool_only,
                programme: p.eligibility.programme,
            },
        })
        .collect();
    assert_eq!(products.len(), PRODUCTS, "the city has too few products");

    let cases: Vec<(EnterpriseFacts, Demand)> = (0..DEMANDS)
        .map(|k| {
            let e = sim::entity::generate(&config, k);
            let facts = EnterpriseFacts {
                uscc: e.uscc.to_string(),
                section: domain::industry::division(e.industry)
                    .map_or(String::new(), |d| d.section.to_string()),
                age_years: (2026 - chrono::Datelike::year(&e.established_on)).max(0) as u32,
                district: e.district.code.to_string(),
                tax_paid_1y: f64::from(e.employees) * 0.4,
                headcount: e.employees,
                grade: grade(k),
                in_pool: k % 7 == 0,
                programmes: if k % 5 == 0 {
                    vec!["epidemic_relief".to_string()]
                } else {
                    Vec::new()
                },
            };
            let demand = Demand {
                amount: f64::from(50 + e.employees * 3),
                term_months: [6, 12, 24, 36][(k % 4) as usize],
            };
            (facts, demand)
        })
        .collect();

    let started = Instant::now();
    let mut eligible = 0usize;
    let mut checks = 0usize;
    let mut reason_bytes = 0usize;
    for (facts, demand) in &cases {
        let ranked = matching::rank(&products, facts, demand);
        for assessment in &ranked {
            eligible += usize::from(assessment.eligible());
            checks += assessment.checks.len();
            reason_bytes += assessment
                .checks
                .iter()
                .map(|c| c.reason.len())
                .sum::<usize>();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let pairs = cases.len() * products.len();
    println!(
        "matching: {} demands × {} products = {pairs} assessments",
        cases.len(),
        products.len()
    );
    println!(
        "  {checks} rule checks, {eligible} eligible pairs, {:.1} MB of reasons",
        reason_bytes as f64 / 1e6
    );
    println!(
        "  {seconds:.2} s on one thread ({:.0} assessments/s, {:.2} ms per demand)",
        pairs as f64 / seconds,
        seconds * 1000.0 / cases.len() as f64
    );
}
