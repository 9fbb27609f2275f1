//! The cultivation pool (培育池): good-credit enterprises selected by rules
//! the credit centre sets on the platform's profile and data, each member
//! with the checks that admitted it, in the words matching uses.

use serde::{Deserialize, Serialize};

use crate::matching::{Grade, RuleCheck};

/// Who enters the pool. Zeros and empty lists mean "no rule".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PoolRule {
    /// The worst financing grade admitted.
    pub min_grade: Grade,
    pub min_age_years: u32,
    /// Tax paid in the last year, 万元.
    pub min_tax_paid: f64,
    pub min_headcount: u32,
    /// GB/T 4754 section letters; empty = any.
    pub sections: Vec<String>,
    /// No penalty or list record within its publicity period.
    pub clean_record: bool,
}

impl Default for PoolRule {
    /// Grade B or better, two years in business, a clean record.
    fn default() -> Self {
        PoolRule {
            min_grade: Grade::B,
            min_age_years: 2,
            min_tax_paid: 0.0,
            min_headcount: 0,
            sections: Vec::new(),
            clean_record: true,
        }
    }
}

/// What the pool rules read of an enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolFacts {
    pub grade: Option<Grade>,
    pub age_years: u32,
    pub tax_paid_1y: f64,
    pub headcount: u32,
    pub section: String,
    /// Penalty and list records within their publicity periods.
    pub published_penalties: u32,
}

/// Every rule checked against an enterprise; it is admitted when all pass.
pub fn assess(rule: &PoolRule, facts: &PoolFacts) -> Vec<RuleCheck> {
    let mut checks = Vec::new();
    let (passed, reason) = match facts.grade {
        Some(grade) => (
            grade <= rule.min_grade,
            format!(
                "grade {grade:?}, the pool admits {:?} or better",
                rule.min_grade
            ),
        ),
        None => (false, "not graded yet".to_string()),
    };
    checks.push(RuleCheck {
        rule: "grade",
        passed,
        reason,
    });
    if rule.min_age_years > 0 {
        checks.push(RuleCheck {
            rule: "age",
            passed: facts.age_years >= rule.min_age_years,
            reason: format!(
                "{} years in business, the pool needs {}",
                facts.age_years, rule.min_age_years
            ),
        });
    }
    if rule.min_tax_paid > 0.0 {
        checks.push(RuleCheck {
            rule: "tax_paid",
            passed: facts.tax_paid_1y >= rule.min_tax_paid,
            reason: format!(
                "{} 万元 tax paid in a year, the pool needs {}",
                facts.tax_paid_1y, rule.min_tax_paid
            ),
        });
    }
    if rule.min_headcount > 0 {
        checks.push(RuleCheck {
            rule: "headcount",
            passed: facts.headcount >= rule.min_headcount,
            reason: format!(
                "{} employees, the pool needs {}",
                facts.headcount, rule.min_headcount
            ),
        });
    }
    if !rule.sections.is_empty() {
        checks.push(RuleCheck {
            rule: "industry",
            passed: rule.sections.contains(&facts.section),
            reason: format!(
                "industry section {}, the pool takes {}",
                facts.section,
                rule.sections.join(", ")
            ),
        });
    }
    if rule.clean_record {
        checks.push(RuleCheck {
            rule: "clean_record",
            passed: facts.published_penalties == 0,
            reason: format!(
                "{} penalty or list records in their publicity periods",
                facts.published_penalties
            ),
        });
    }
    checks
}

pub fn admitted(checks: &[RuleCheck]) -> bool {
    checks.iter().all(|c| c.passed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn facts() -> PoolFacts {
        PoolFacts {
            grade: Some(Grade::A),
            age_years: 5,
            tax_paid_1y: 12.0,
            headcount: 30,
            section: "C".into(),
            published_penalties: 0,
        }
    }

    #[test]
    fn good_credit_enters_and_each_failure_is_named() {
        let rule = PoolRule::default();
        assert!(admitted(&assess(&rule, &facts())));
        let listed = PoolFacts {
            published_penalties: 1,
            ..facts()
        };
        let checks = assess(&rule, &listed);
        assert!(!admitted(&checks));
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.rule)
            .collect();
        assert_eq!(failed, ["clean_record"]);
        let ungraded = PoolFacts {
            grade: None,
            ..facts()
        };
        assert!(!admitted(&assess(&rule, &ungraded)));
        let c_grade = PoolFacts {
            grade: Some(Grade::C),
            ..facts()
        };
        assert!(!admitted(&assess(&rule, &c_grade)));
    }
}
