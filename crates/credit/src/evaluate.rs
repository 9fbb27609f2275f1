//! One entity graded by one scheme, and what changed between two
//! evaluations.

use serde::{Deserialize, Serialize};

use crate::facts::{Facts, Value};
use crate::scheme::{Indicator, Scheme};

/// An entity's evaluation: the score, the grade and how each indicator
/// and rule contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub scheme: String,
    pub version: String,
    /// 0–100, rounded to two decimals.
    pub score: f64,
    /// The grade the score alone reaches.
    pub score_grade: String,
    /// The grade after the capping rules.
    pub grade: String,
    /// The rules that hold, in the scheme's order; the first that caps
    /// hardest decided the grade when it differs from `score_grade`.
    pub rules: Vec<String>,
    pub indicators: Vec<Scored>,
}

/// One indicator's value and points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub indicator: String,
    pub value: Option<Value>,
    /// 0–100.
    pub points: f64,
    pub weight: f64,
    /// Score lost to this indicator: weight × (100 − points) / 100.
    pub lost: f64,
}

/// Grades one entity's facts by a scheme.
pub fn evaluate(scheme: &Scheme, facts: &Facts) -> Evaluation {
    let indicators: Vec<Scored> = scheme
        .indicators
        .iter()
        .map(|indicator| {
            let value = facts.get(&indicator.fact).cloned();
            let points = points_of(indicator, value.as_ref());
            Scored {
                indicator: indicator.id.clone(),
                value,
                points,
                weight: indicator.weight,
                lost: indicator.weight * (100.0 - points) / 100.0,
            }
        })
        .collect();
    let raw: f64 = indicators.iter().map(|s| s.weight * s.points / 100.0).sum();
    let score = (raw * 100.0).round() / 100.0;
    let score_rank = scheme
        .grades
        .iter()
        .position(|g| score >= g.min_score)
        .unwrap_or(scheme.grades.len().saturating_sub(1));
    let mut rank = score_rank;
    let mut rules = Vec::new();
    for rule in &scheme.rules {
        let holds = facts
            .get(&rule.when)
            .and_then(Value::as_number)
            .is_some_and(|v| v >= rule.at_least);
        if !holds {
            continue;
        }
        rules.push(rule.id.clone());
        if let Some(cap) = scheme.rank(&rule.grade) {
            rank = rank.max(cap);
        }
    }
    let name = |rank: usize| {
        scheme
            .grades
            .get(rank)
            .map_or(String::new(), |g| g.id.clone())
    };
    Evaluation {
        scheme: scheme.id.clone(),
        version: scheme.version.clone(),
        score,
        score_grade: name(score_rank),
        grade: name(rank),
        rules,
        indicators,
    }
}

/// An indicator's points for a value.
pub fn points_of(indicator: &Indicator, value: Option<&Value>) -> f64 {
    match value {
        None => indicator.missing.unwrap_or(0.0),
        Some(Value::Category(category)) => indicator
            .categories
            .get(category)
            .copied()
            .or(indicator.missing)
            .unwrap_or(0.0),
        Some(Value::Number(number)) => indicator
            .bands
            .iter()
            .find(|band| band.below.is_none_or(|below| *number < below))
            .map_or(0.0, |band| band.points),
    }
}

impl Evaluation {
    /// The indicators that cost points, costliest first: what moved the
    /// grade down.
    pub fn moved_by(&self) -> Vec<&Scored> {
        let mut lost: Vec<&Scored> = self.indicators.iter().filter(|s| s.lost > 0.0).collect();
        lost.sort_by(|a, b| b.lost.total_cmp(&a.lost));
        lost
    }

    /// Whether the capping rules, not the score, decided the grade.
    pub fn capped(&self) -> bool {
        self.grade != self.score_grade
    }
}

/// What changed from one evaluation of an entity to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    pub score_before: f64,
    pub score_after: f64,
    pub grade_before: String,
    pub grade_after: String,
    /// The scheme or its version changed: indicators may not compare.
    pub scheme_changed: bool,
    /// Indicators whose points changed, the biggest change first.
    pub indicators: Vec<IndicatorChange>,
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorChange {
    pub indicator: String,
    pub value_before: Option<Value>,
    pub value_after: Option<Value>,
    /// Change of the indicator's contribution to the score.
    pub score_change: f64,
}

/// Explains how `after` differs from `before`.
pub fn changes(before: &Evaluation, after: &Evaluation) -> Changes {
    let mut indicators: Vec<IndicatorChange> = after
        .indicators
        .iter()
        .filter_map(|now| {
            let then = before
                .indicators
                .iter()
                .find(|s| s.indicator == now.indicator);
            let contribution_then = then.map_or(0.0, |s| s.weight * s.points / 100.0);
            let change = now.weight * now.points / 100.0 - contribution_then;
            let value_changed = then.is_none_or(|t| t.value != now.value);
            (change.abs() > 1e-9 || value_changed).then(|| IndicatorChange {
                indicator: now.indicator.clone(),
                value_before: then.and_then(|t| t.value.clone()),
                value_after: now.value.clone(),
                score_change: (change * 100.0).round() / 100.0,
            })
        })
        .collect();
    indicators.sort_by(|a, b| b.score_change.abs().total_cmp(&a.score_change.abs()));
    Changes {
        score_before: before.score,
        score_after: after.score,
        grade_before: before.grade.clone(),
        grade_after: after.grade.clone(),
        scheme_changed: before.scheme != after.scheme || before.version != after.version,
        indicators,
        rules_added: after
            .rules
            .iter()
            .filter(|r| !before.rules.contains(r))
            .cloned()
            .collect(),
        rules_removed: before
            .rules
            .iter()
            .filter(|r| !after.rules.contains(r))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::SchemeSet;

    fn general() -> Scheme {
        match SchemeSet::built_in() {
            Ok(set) => set.for_industry("39").clone(),
            Err(e) => panic!("{e}"),
        }
    }

    fn clean() -> Facts {
        let mut facts = Facts::empty();
        for (name, value) in [
            ("years_in_operation", 8.0),
            ("registered_capital", 500.0),
            ("housing_fund", 1.0),
            ("patents_granted", 3.0),
            ("honours_3y", 1.0),
            ("commitments_kept_3y", 1.0),
        ] {
            facts.set(name, Some(Value::Number(value)));
        }
        for fact in &crate::facts::FACTS {
            let number = !matches!(fact.kind, crate::facts::Kind::Category(_));
            if number && facts.get(fact.name).is_none() {
                facts.set(fact.name, Some(Value::Number(0.0)));
            }
        }
        facts.set("tax_credit_rating", Some(Value::Category("A".into())));
        facts
    }

    #[test]
    fn a_clean_record_grades_best_and_a_listing_caps_it() {
        let scheme = general();
        let best = evaluate(&scheme, &clean());
        assert_eq!(best.grade, scheme.grades[0].id, "{best:?}");
        assert!(!best.capped());
        let mut listed = clean();
        listed.set("serious_listed", Some(Value::Number(1.0)));
        let capped = evaluate(&scheme, &listed);
        assert_eq!(capped.grade, scheme.grades[scheme.grades.len() - 1].id);
        assert!(capped.capped());
        assert_eq!(capped.rules, vec!["serious_violation_list".to_string()]);
        let explained = changes(&best, &capped);
        assert_eq!(
            explained.rules_added,
            vec!["serious_violation_list".to_string()]
        );
        assert_eq!(explained.indicators[0].indicator, "serious_list");
        assert!(explained.indicators[0].score_change < 0.0);
    }

    #[test]
    fn the_score_is_the_weighted_points() {
        let scheme = general();
        let mut facts = clean();
        facts.set("penalties_3y", Some(Value::Number(2.0)));
        let evaluation = evaluate(&scheme, &facts);
        let by_hand: f64 = scheme
            .indicators
            .iter()
            .map(|i| i.weight * points_of(i, facts.get(&i.fact)) / 100.0)
            .sum();
        assert!((evaluation.score - by_hand).abs() < 0.006);
        let moved = evaluation.moved_by();
        assert!(moved.iter().any(|s| s.indicator == "penalties"));
        assert!(moved.windows(2).all(|w| w[0].lost >= w[1].lost));
    }
}
