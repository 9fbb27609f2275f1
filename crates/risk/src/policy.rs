//! The classing policy: the national rules first, then the score, graded
//! per industry segment (DOMAIN.md §5).
//!
//! The order, for one screening:
//!
//! 1. **Out of scope.** An entity an out-of-scope rule matches (by default:
//!    deregistered, revoked or moved out by the as-of date) leaves the
//!    population: it is neither scored nor classed, and the first such rule
//!    is counted as having moved it.
//! 2. **The score.** Every remaining entity is scored. Its segment is the
//!    first segment whose industries include its industry, else the
//!    city-wide group; each segment's cut-offs come from its own rule
//!    (shares of its own population, or fixed scores). A segment with fewer
//!    than `min_segment_population` entities cannot carry shares and uses
//!    the city-wide cut-offs instead (shown as such).
//! 3. **The floors.** A class rule that matches makes the entity at least
//!    that risky (`class = "D"` places it in D). The riskiest matching
//!    floor decides; among equals, the first rule in the file. The score's
//!    class stands when it is already as risky or riskier.
//!
//! Every matching rule becomes a reason, before the score's reasons, with
//! its legal basis. A rule "moved" an entity when it decided a class other
//! than the score's, so the moves of all rules add up to the entities whose
//! class is not their score's.

use domain::RiskClass;
use serde::{Deserialize, Serialize};

use crate::classes::{self, ClassRule, Cutoffs};
use crate::features::FeatureSet;
use crate::sample::Population;

/// The policy shipped with Xinyong: the national rules, one city-wide group.
pub const NATIONAL: &str = include_str!("../data/policy.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// A segment graded by shares needs at least this many entities.
    #[serde(default = "default_min_segment_population")]
    pub min_segment_population: u64,
}

fn default_min_segment_population() -> u64 {
    100
}

/// A national rule: when a column is at least a value, a class floor or
/// leaving the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A fact or numeric feature of the feature set.
    pub when: String,
    #[serde(default = "one")]
    pub at_least: f64,
    /// The class the entity is at least.
    #[serde(default)]
    pub class: Option<RiskClass>,
    #[serde(default)]
    pub out_of_scope: bool,
    pub basis_zh: String,
    pub basis_en: String,
}

fn one() -> f64 {
    1.0
}

/// Industries graded apart, by shares of their own population or by
/// fixed cut-offs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// GB/T 4754 divisions (two digits) or sections (one letter).
    pub industries: Vec<String>,
    #[serde(default)]
    pub shares: Option<[f64; 4]>,
    #[serde(default)]
    pub cutoffs: Option<[i64; 3]>,
}

impl Segment {
    fn rule(&self) -> Option<ClassRule> {
        match (self.shares, self.cutoffs) {
            (Some(shares), None) => Some(ClassRule::Shares(shares)),
            (None, Some(cutoffs)) => Some(ClassRule::Cutoffs(cutoffs)),
            _ => None,
        }
    }

    fn covers(&self, division: &str) -> bool {
        self.industries.iter().any(|code| {
            if code.len() == 1 {
                domain::industry::division(division).is_some_and(|d| code.starts_with(d.section))
            } else {
                code == division
            }
        })
    }
}

/// Every problem of a policy file, each named by where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {}", problems.join("; "))]
pub struct PolicyError {
    pub file: String,
    pub problems: Vec<String>,
}

impl Policy {
    /// The shipped policy.
    pub fn national(set: &FeatureSet) -> Result<Policy, PolicyError> {
        Policy::parse(NATIONAL, "policy.toml (built in)", set)
    }

    /// Reads and checks a policy file against the feature set it will read.
    pub fn parse(text: &str, file: &str, set: &FeatureSet) -> Result<Policy, PolicyError> {
        let error = |problems: Vec<String>| PolicyError {
            file: file.to_string(),
            problems,
        };
        let policy: Policy = toml::from_str(text).map_err(|e| error(vec![e.to_string()]))?;
        let problems = policy.problems(set);
        if !problems.is_empty() {
            return Err(error(problems));
        }
        Ok(policy)
    }

    fn problems(&self, set: &FeatureSet) -> Vec<String> {
        let mut problems = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        for (k, rule) in self.rules.iter().enumerate() {
            let at = format!("rule {} ('{}')", k + 1, rule.id);
            if rule.id.trim().is_empty() {
                problems.push(format!("rule {}: no id", k + 1));
            } else if !ids.insert(rule.id.as_str()) {
                problems.push(format!("{at}: the id is used twice"));
            }
            let numeric = set.fact(&rule.when).is_some()
                || set.feature(&rule.when).is_some_and(|f| !f.categorical);
            if !numeric {
                problems.push(format!(
                    "{at}: when = '{}' is not a fact or numeric feature of features {}",
                    rule.when, set.version
                ));
            }
            if !rule.at_least.is_finite() {
                problems.push(format!("{at}: at_least must be a number"));
            }
            match (rule.class, rule.out_of_scope) {
                (Some(_), true) => problems.push(format!(
                    "{at}: a rule either sets a class or puts out of scope, not both"
                )),
                (None, false) => problems.push(format!(
                    "{at}: give class = \"A\"–\"D\" or out_of_scope = true"
                )),
                _ => {}
            }
            for (field, text) in [
                ("name_zh", &rule.name_zh),
                ("name_en", &rule.name_en),
                ("basis_zh", &rule.basis_zh),
                ("basis_en", &rule.basis_en),
            ] {
                if text.trim().is_empty() {
                    problems.push(format!("{at}: {field} is empty"));
                }
            }
        }
        let mut segment_ids = std::collections::BTreeSet::new();
        for (k, segment) in self.segments.iter().enumerate() {
            let at = format!("segment {} ('{}')", k + 1, segment.id);
            if !segment_ids.insert(segment.id.as_str()) {
                problems.push(format!("{at}: the id is used twice"));
            }
            match segment.rule() {
                None => problems.push(format!("{at}: give either shares or cutoffs")),
                Some(rule) => {
                    if let Err(e) = rule.validate() {
                        problems.push(format!("{at}: {e}"));
                    }
                }
            }
            if segment.industries.is_empty() {
                problems.push(format!("{at}: no industries"));
            }
            for code in &segment.industries {
                let known = match code.len() {
                    1 => code
                        .chars()
                        .next()
                        .and_then(domain::industry::section)
                        .is_some(),
                    2 => domain::industry::division(code).is_some(),
                    _ => false,
                };
                if !known {
                    problems.push(format!(
                        "{at}: '{code}' is not a GB/T 4754 section (A–T) or division (two digits)"
                    ));
                }
            }
        }
        problems
    }

    /// Step 1: the rows that stay in scope, and each rule's count.
    pub fn scope(&self, population: &Population) -> (Vec<usize>, Vec<RuleCount>) {
        let mut counts: Vec<RuleCount> = self.rules.iter().map(RuleCount::of).collect();
        let mut kept = Vec::with_capacity(population.subjects.len());
        for row in 0..population.subjects.len() {
            let mut out = false;
            for (rule, count) in self.rules.iter().zip(&mut counts) {
                if !rule.out_of_scope || !matches(rule, population, row) {
                    continue;
                }
                count.matched += 1;
                if !out {
                    count.moved += 1;
                    out = true;
                }
            }
            if !out {
                kept.push(row);
            }
        }
        (kept, counts)
    }

    /// Steps 2 and 3 for the entities in scope and their scores.
    pub fn classes(
        &self,
        population: &Population,
        scores: &[i64],
        city: ClassRule,
        counts: &mut [RuleCount],
    ) -> Classing {
        let industry = population.table.column("industry");
        let segment_of: Vec<Option<usize>> = (0..scores.len())
            .map(|row| {
                let Some(scoring::Value::Text(code)) = industry.map(|c| c.value(row)) else {
                    return None;
                };
                self.segments.iter().position(|s| s.covers(code))
            })
            .collect();

        // The city-wide cut-offs come from the entities no segment takes.
        let city_scores: Vec<i64> = scores
            .iter()
            .zip(&segment_of)
            .filter(|(_, s)| s.is_none())
            .map(|(&score, _)| score)
            .collect();
        let city_cutoffs = classes::cutoffs(&city_scores, city);
        let mut segments = vec![SegmentSummary {
            id: "city".into(),
            name_zh: "全市（未分行业的主体）".into(),
            name_en: "city-wide (entities of no segment)".into(),
            rule: city,
            graded_apart: true,
            cutoffs: city_cutoffs,
            population: city_scores.len() as u64,
            class_counts: [0; 4],
        }];
        for (k, segment) in self.segments.iter().enumerate() {
            let own: Vec<i64> = scores
                .iter()
                .zip(&segment_of)
                .filter(|(_, s)| **s == Some(k))
                .map(|(&score, _)| score)
                .collect();
            let rule = segment.rule().unwrap_or(city);
            let enough = matches!(rule, ClassRule::Cutoffs(_))
                || own.len() as u64 >= self.min_segment_population;
            segments.push(SegmentSummary {
                id: segment.id.clone(),
                name_zh: segment.name_zh.clone(),
                name_en: segment.name_en.clone(),
                rule,
                graded_apart: enough,
                cutoffs: if enough {
                    classes::cutoffs(&own, rule)
                } else {
                    city_cutoffs
                },
                population: own.len() as u64,
                class_counts: [0; 4],
            });
        }

        let mut out = Classing {
            classes: Vec::with_capacity(scores.len()),
            score_classes: Vec::with_capacity(scores.len()),
            matched: Vec::with_capacity(scores.len()),
            segment: Vec::with_capacity(scores.len()),
            segments: Vec::new(),
        };
        for (row, (&score, segment)) in scores.iter().zip(&segment_of).enumerate() {
            let summary = segment.map_or(0, |k| k + 1);
            let by_score = segments[summary].cutoffs.class_of(score);
            let matched: Vec<usize> = self
                .rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.class.is_some() && matches(rule, population, row))
                .map(|(k, _)| k)
                .collect();
            // The riskiest floor, the first rule among equals.
            let decider = matched
                .iter()
                .copied()
                .fold(None, |best: Option<usize>, k| match best {
                    Some(b) if self.rules[b].class >= self.rules[k].class => Some(b),
                    _ => Some(k),
                });
            let mut class = by_score;
            for &k in &matched {
                counts[k].matched += 1;
            }
            if let Some(k) = decider
                && let Some(floor) = self.rules[k].class
                && floor > by_score
            {
                class = floor;
                counts[k].moved += 1;
            }
            segments[summary].class_counts[class as usize] += 1;
            let mut ordered = matched;
            ordered.sort_by(|&a, &b| {
                self.rules[b]
                    .class
                    .cmp(&self.rules[a].class)
                    .then(a.cmp(&b))
            });
            out.classes.push(class);
            out.score_classes.push(by_score);
            out.matched.push(ordered);
            out.segment.push(summary);
        }
        out.segments = segments;
        out
    }
}

fn matches(rule: &Rule, population: &Population, row: usize) -> bool {
    population
        .numbers(&rule.when)
        .and_then(|values| values.get(row))
        .is_some_and(|&v| v >= rule.at_least)
}

/// What a rule did in one screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub class: Option<RiskClass>,
    pub out_of_scope: bool,
    pub basis_zh: String,
    pub basis_en: String,
    /// Entities the rule applies to.
    pub matched: u64,
    /// Entities whose class (or leaving the population) this rule decided
    /// against their score.
    pub moved: u64,
}

impl RuleCount {
    fn of(rule: &Rule) -> RuleCount {
        RuleCount {
            id: rule.id.clone(),
            name_zh: rule.name_zh.clone(),
            name_en: rule.name_en.clone(),
            class: rule.class,
            out_of_scope: rule.out_of_scope,
            basis_zh: rule.basis_zh.clone(),
            basis_en: rule.basis_en.clone(),
            matched: 0,
            moved: 0,
        }
    }
}

/// A segment's grading in one screening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentSummary {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub rule: ClassRule,
    /// False when the segment had too few entities for shares and used the
    /// city-wide cut-offs.
    pub graded_apart: bool,
    pub cutoffs: Cutoffs,
    pub population: u64,
    /// Final classes (rules applied) of the segment's entities.
    pub class_counts: [u64; 4],
}

/// The classes of the entities in scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Classing {
    pub classes: Vec<RiskClass>,
    /// The class the score alone gives.
    pub score_classes: Vec<RiskClass>,
    /// The class rules each entity meets, the decider first.
    pub matched: Vec<Vec<usize>>,
    /// Index into `segments` (0 is the city-wide group).
    pub segment: Vec<usize>,
    pub segments: Vec<SegmentSummary>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::V4;
    use chrono::NaiveDate;
    use scoring::{CategoricalBuilder, Column, Table};

    /// A population of `n` entities with the given facts (name, values) and
    /// industries.
    fn population(facts: &[(&str, Vec<f64>)], industries: &[&str]) -> Population {
        let mut table = Table::default();
        let mut builder = CategoricalBuilder::default();
        for code in industries {
            builder.push(Some(code));
        }
        table.push("industry", builder.finish());
        let mut fact_table = Table::default();
        for (name, values) in facts {
            fact_table.push(*name, Column::Numeric(values.clone()));
        }
        Population {
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            subjects: (0..industries.len()).map(|k| format!("s{k}")).collect(),
            table,
            facts: fact_table,
        }
    }

    #[test]
    fn the_national_policy_parses() {
        let policy = Policy::national(&V4).unwrap();
        assert_eq!(policy.rules.len(), 5);
        assert!(policy.rules.iter().any(|r| r.out_of_scope));
    }

    #[test]
    fn problems_are_named() {
        let text = r#"
[[rules]]
id = "x"
name_zh = "甲"
name_en = "x"
when = "industry"
class = "D"
out_of_scope = true
basis_zh = ""
basis_en = "b"

[[segments]]
id = "food"
name_zh = "餐饮"
name_en = "food"
industries = ["62", "99", "Z"]
"#;
        let error = Policy::parse(text, "p.toml", &V4).unwrap_err();
        let all = error.to_string();
        for expected in [
            "p.toml",
            "rule 1 ('x'): when = 'industry' is not a fact or numeric feature",
            "not both",
            "basis_zh is empty",
            "segment 1 ('food'): give either shares or cutoffs",
            "'99' is not a GB/T 4754",
            "'Z' is not",
        ] {
            assert!(all.contains(expected), "{expected} not in {all}");
        }
    }

    #[test]
    fn a_listed_entity_is_classed_by_its_rule_whatever_its_score() {
        let policy = Policy::national(&V4).unwrap();
        // Ten entities; the best score is on the serious-violation list, the
        // second best on the abnormal list, the third closed.
        let n = 10;
        let mut serious = vec![0.0; n];
        serious[0] = 1.0;
        let mut abnormal = vec![0.0; n];
        abnormal[1] = 1.0;
        abnormal[0] = 1.0;
        let mut closed = vec![0.0; n];
        closed[2] = 1.0;
        let people = population(
            &[
                ("serious_listed", serious),
                ("closed", closed),
                ("serious_penalties_1y", vec![0.0; n]),
                ("dishonest_debtor", vec![0.0; n]),
                ("abnormal_listed", abnormal),
            ],
            &["62"; 10],
        );
        let (kept, mut counts) = policy.scope(&people);
        assert_eq!(kept.len(), 9);
        assert!(!kept.contains(&2));
        let people = people.select(&kept);
        let scores: Vec<i64> = (0..9).map(|k| 900 - 10 * k).collect();
        let classing = policy.classes(
            &people,
            &scores,
            ClassRule::Cutoffs([800, 0, -1]),
            &mut counts,
        );
        assert_eq!(classing.score_classes[0], RiskClass::A);
        assert_eq!(classing.classes[0], RiskClass::D);
        assert_eq!(classing.classes[1], RiskClass::C);
        assert_eq!(classing.classes[2], RiskClass::A);
        // The serious rule decides and comes first among the reasons.
        let first = classing.matched[0][0];
        assert_eq!(policy.rules[first].id, "serious_violation_list");
        assert_eq!(classing.matched[0].len(), 2);

        let count = |id: &str| counts.iter().find(|c| c.id == id).unwrap().clone();
        assert_eq!(count("closed").moved, 1);
        assert_eq!(count("serious_violation_list").moved, 1);
        assert_eq!(count("abnormal_operation_list").matched, 2);
        assert_eq!(count("abnormal_operation_list").moved, 1);
        let moved: u64 = counts
            .iter()
            .filter(|c| !c.out_of_scope)
            .map(|c| c.moved)
            .sum();
        let differ = classing
            .classes
            .iter()
            .zip(&classing.score_classes)
            .filter(|(a, b)| a != b)
            .count() as u64;
        assert_eq!(moved, differ);
    }

    #[test]
    fn segments_grade_their_own_population() {
        let text = r#"
min_segment_population = 4

[[segments]]
id = "food"
name_zh = "餐饮业"
name_en = "catering"
industries = ["62", "H"]
shares = [0.5, 0.5, 0.0, 0.0]

[[segments]]
id = "tiny"
name_zh = "小"
name_en = "tiny"
industries = ["01"]
shares = [0.5, 0.5, 0.0, 0.0]
"#;
        let policy = Policy::parse(text, "p.toml", &V4).unwrap();
        // Four catering entities (61 is also section H), four others, one
        // farm, too few for shares of its own.
        let people = population(&[], &["62", "62", "61", "62", "52", "52", "52", "52", "01"]);
        let scores = vec![100, 90, 80, 70, 600, 500, 400, 300, 450];
        let mut counts = Vec::new();
        let classing = policy.classes(
            &people,
            &scores,
            ClassRule::Shares([0.25, 0.25, 0.25, 0.25]),
            &mut counts,
        );
        // Catering's low scores are half A, half B within catering.
        assert_eq!(
            &classing.classes[..4],
            &[RiskClass::A, RiskClass::A, RiskClass::B, RiskClass::B]
        );
        assert_eq!(
            &classing.classes[4..8],
            &[RiskClass::A, RiskClass::B, RiskClass::C, RiskClass::D]
        );
        let tiny = &classing.segments[2];
        assert!(!tiny.graded_apart);
        assert_eq!(tiny.population, 1);
        // With the city-wide cut-offs (A from 600, B 500, C 400).
        assert_eq!(classing.classes[8], RiskClass::C);
        let populations: Vec<u64> = classing.segments.iter().map(|s| s.population).collect();
        assert_eq!(populations, vec![4, 4, 1]);
    }
}
