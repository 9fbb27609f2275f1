//! Properties of evaluation over arbitrary facts and of scheme parsing over
//! arbitrary text.

use credit::facts::{FACTS, Kind};
use credit::{Facts, Scheme, SchemeSet, Value, evaluate};
use proptest::prelude::*;

fn any_facts() -> impl Strategy<Value = Facts> {
    let values: Vec<BoxedStrategy<Option<Value>>> = FACTS
        .iter()
        .map(|fact| match fact.kind {
            Kind::Category(values) => {
                let values: Vec<Option<Value>> = values
                    .iter()
                    .map(|v| Some(Value::Category((*v).to_string())))
                    .chain([None])
                    .collect();
                proptest::sample::select(values).boxed()
            }
            Kind::Flag => prop_oneof![Just(0.0), Just(1.0)]
                .prop_map(|v| Some(Value::Number(v)))
                .boxed(),
            Kind::Number => (0.0f64..50.0)
                .prop_map(|v| Some(Value::Number((v * 4.0).floor() / 4.0)))
                .boxed(),
        })
        .collect();
    values.prop_map(Facts)
}

proptest! {
    #[test]
    fn grades_follow_the_score_and_rules_only_lower_them(facts in any_facts()) {
        let Ok(set) = SchemeSet::built_in() else { panic!("built-in schemes") };
        for scheme in set.schemes() {
            let evaluation = evaluate(scheme, &facts);
            prop_assert!((0.0..=100.0).contains(&evaluation.score));
            let score_rank = scheme.rank(&evaluation.score_grade);
            let rank = scheme.rank(&evaluation.grade);
            prop_assert!(score_rank.is_some() && rank.is_some());
            prop_assert!(rank >= score_rank, "a rule raised a grade");
            let grade = &scheme.grades[score_rank.unwrap_or_default()];
            prop_assert!(evaluation.score >= grade.min_score);
            // The grade is capped exactly when a rule holds whose cap is
            // below the score's grade.
            let capped_by_rule = evaluation.rules.iter().any(|id| {
                scheme.rules.iter().any(|r| &r.id == id && scheme.rank(&r.grade) > score_rank)
            });
            prop_assert_eq!(evaluation.capped(), capped_by_rule);
            // The same facts give the same evaluation.
            prop_assert_eq!(&evaluate(scheme, &facts), &evaluation);
        }
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,400}") {
        let _ = Scheme::parse(&text, "any.toml");
    }

    /// A penalty may be repaired from the end of its minimum period to
    /// the day before its maximum ends, and on no other day; nothing else
    /// is repaired.
    #[test]
    fn repair_opens_exactly_between_the_minimum_and_the_maximum(
        severity in 0usize..3,
        simple in any::<bool>(),
        decided in 0u64..3000,
        offset in 0u64..1500,
    ) {
        use credit::repair::{Refusal, eligible};
        use domain::catalog::Publicity;
        use domain::publicity::{PenaltyFacts, PublicityPeriod, PublicityPolicy, Severity};
        let base = chrono::NaiveDate::from_ymd_opt(2018, 1, 1).unwrap_or_default();
        let decision_date = base + chrono::Days::new(decided);
        let day = decision_date + chrono::Days::new(offset);
        let severity = [Severity::Minor, Severity::General, Severity::Serious][severity];
        let period = PublicityPolicy::default().penalty_period(&PenaltyFacts {
            severity,
            simple_procedure: simple,
            warning_only: false,
            decision_date,
        });
        let penalty = Publicity::PenaltyPeriod {
            date_field: "decided_on".into(),
            severity_field: "severity".into(),
        };
        let answer = eligible(&penalty, period, day);
        match period {
            PublicityPeriod::NotPublished => prop_assert_eq!(answer, Err(Refusal::NeverPublished)),
            PublicityPeriod::Published { repair_from, until, .. } => {
                prop_assert_eq!(answer.is_ok(), repair_from <= day && day < until);
                prop_assert_eq!(answer.is_ok(), period.repair_allowed_on(day));
                if day < repair_from {
                    prop_assert_eq!(answer.clone(), Err(Refusal::TooEarly { repair_from }));
                }
                if day >= until {
                    prop_assert_eq!(answer, Err(Refusal::Expired { until }));
                }
            }
        }
        prop_assert_eq!(eligible(&Publicity::Public, period, day), Err(Refusal::NotRepairable));
    }
}
