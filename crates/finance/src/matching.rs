//! Products against a financing demand: every eligibility rule is checked
//! and reported, passed or failed, so that "eligible because …" and
//! "excluded because …" come from the same list.

use serde::{Deserialize, Serialize};

/// A credit grade of the platform's financing profile, A best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

/// Who may apply for a product. Empty lists and zeros mean "no rule".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Eligibility {
    /// GB/T 4754 section letters.
    pub sections: Vec<String>,
    pub min_age_years: u32,
    /// District codes (6 digits).
    pub districts: Vec<String>,
    /// Tax paid in the last year, 万元.
    pub min_tax_paid: f64,
    pub min_headcount: u32,
    /// The worst grade accepted.
    pub min_grade: Option<Grade>,
    /// Only for the cultivation pool (培育池).
    pub pool_only: bool,
    /// A special programme the enterprise must belong to (epidemic relief, …).
    pub programme: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: i64,
    pub bank: String,
    pub name: String,
    /// 万元
    pub amount_min: f64,
    pub amount_max: f64,
    pub term_months_max: u32,
    pub rate_min: f64,
    pub rate_max: f64,
    pub eligibility: Eligibility,
}

/// What the platform knows of the enterprise, as matching needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseFacts {
    pub uscc: String,
    pub section: String,
    pub age_years: u32,
    pub district: String,
    pub tax_paid_1y: f64,
    pub headcount: u32,
    pub grade: Option<Grade>,
    pub in_pool: bool,
    pub programmes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    /// 万元
    pub amount: f64,
    pub term_months: u32,
}

/// One rule, checked: its name, whether it passed, and why in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    pub rule: &'static str,
    pub passed: bool,
    pub reason: String,
}

/// A product assessed for one demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub product: i64,
    pub checks: Vec<RuleCheck>,
}

impl Assessment {
    pub fn eligible(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The rules that exclude the product.
    pub fn exclusions(&self) -> impl Iterator<Item = &RuleCheck> {
        self.checks.iter().filter(|c| !c.passed)
    }
}

/// Checks every rule of a product against an enterprise and its demand.
pub fn assess(product: &Product, facts: &EnterpriseFacts, demand: &Demand) -> Assessment {
    let e = &product.eligibility;
    let mut checks = Vec::new();
    let mut check = |rule: &'static str, passed: bool, reason: String| {
        checks.push(RuleCheck {
            rule,
            passed,
            reason,
        })
    };
    check(
        "amount",
        demand.amount >= product.amount_min && demand.amount <= product.amount_max,
        format!(
            "demand {} 万元, product lends {} to {} 万元",
            demand.amount, product.amount_min, product.amount_max
        ),
    );
    check(
        "term",
        demand.term_months <= product.term_months_max,
        format!(
            "demand {} months, product up to {} months",
            demand.term_months, product.term_months_max
        ),
    );
    if !e.sections.is_empty() {
        check(
            "industry",
            e.sections.contains(&facts.section),
            format!(
                "industry section {}, product serves {}",
                facts.section,
                e.sections.join(", ")
            ),
        );
    }
    if e.min_age_years > 0 {
        check(
            "age",
            facts.age_years >= e.min_age_years,
            format!(
                "{} years in business, product needs {}",
                facts.age_years, e.min_age_years
            ),
        );
    }
    if !e.districts.is_empty() {
        check(
            "district",
            e.districts.contains(&facts.district),
            format!(
                "district {}, product serves {}",
                facts.district,
                e.districts.join(", ")
            ),
        );
    }
    if e.min_tax_paid > 0.0 {
        check(
            "tax_paid",
            facts.tax_paid_1y >= e.min_tax_paid,
            format!(
                "{} 万元 tax paid in a year, product needs {}",
                facts.tax_paid_1y, e.min_tax_paid
            ),
        );
    }
    if e.min_headcount > 0 {
        check(
            "headcount",
            facts.headcount >= e.min_headcount,
            format!(
                "{} employees, product needs {}",
                facts.headcount, e.min_headcount
            ),
        );
    }
    if let Some(worst) = e.min_grade {
        let (passed, reason) = match facts.grade {
            Some(grade) => (
                grade <= worst,
                format!("grade {grade:?}, product accepts {worst:?} or better"),
            ),
            None => (
                false,
                format!("no grade yet, product accepts {worst:?} or better"),
            ),
        };
        check("grade", passed, reason);
    }
    if e.pool_only {
        check(
            "pool",
            facts.in_pool,
            if facts.in_pool {
                "in the cultivation pool, as the product requires".to_string()
            } else {
                "not in the cultivation pool, which the product requires".to_string()
            },
        );
    }
    if let Some(programme) = &e.programme {
        check(
            "programme",
            facts.programmes.contains(programme),
            format!("product is for the {programme} programme"),
        );
    }
    Assessment {
        product: product.id,
        checks,
    }
}

/// Every product assessed, eligible ones first by lowest rate, then the
/// excluded ones by fewest failed rules.
pub fn rank(products: &[Product], facts: &EnterpriseFacts, demand: &Demand) -> Vec<Assessment> {
    let mut out: Vec<(Assessment, f64)> = products
        .iter()
        .map(|p| (assess(p, facts, demand), p.rate_min))
        .collect();
    out.sort_by(|(a, ra), (b, rb)| {
        let failed = |x: &Assessment| x.exclusions().count();
        failed(a)
            .cmp(&failed(b))
            .then(ra.total_cmp(rb))
            .then(a.product.cmp(&b.product))
    });
    out.into_iter().map(|(a, _)| a).collect()
}
