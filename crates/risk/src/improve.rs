//! What would improve an enterprise's financing grade: for each thing the
//! enterprise itself can change — arrears it can stop, employees it can
//! insure, a listing it can have lifted — the points the scorecard gives back and the grade the
//! score would then reach.
//!
//! Only [`ACTIONS`] count. Age, capital, industry and district are facts,
//! not advice; past penalties, enforcement cases and complaints cannot be
//! undone by the enterprise (they age out of their windows), and complaint
//! counts are internal. An action moves its feature to the value it names
//! (no arrears, not listed) and the model's own lookup finds the bin, so the
//! points are exactly what scoring would give.
//!
//! Grades after a step use the cut-offs of the grading that scored the
//! enterprise: the other enterprises' scores are held where they are.

use scoring::{Scorer, Value};
use serde::{Deserialize, Serialize};

use crate::classes::Cutoffs;
use crate::features::FeatureSet;
use crate::words;

/// Something an enterprise can do about one feature.
pub struct Action {
    pub feature: &'static str,
    /// The feature's value once it is done.
    pub value: f64,
    pub zh: &'static str,
    pub en: &'static str,
}

/// The actions, one per feature the enterprise can move itself.
pub const ACTIONS: &[Action] = &[
    Action {
        feature: "tax_short_months_1y",
        value: 0.0,
        zh: "按期足额缴纳税款：此后 12 个月无欠缴，该项不再扣分",
        en: "pay taxes in full and on time: after 12 months without arrears this item costs nothing",
    },
    Action {
        feature: "insurance_short_months_1y",
        value: 0.0,
        zh: "按期足额缴纳社会保险费：此后 12 个月无欠缴，该项不再扣分",
        en: "pay social insurance in full and on time: after 12 months without arrears this item costs nothing",
    },
    Action {
        feature: "utility_overdue_months_1y",
        value: 0.0,
        zh: "按时缴纳水、电、气费：此后 12 个月无逾期，该项不再扣分",
        en: "pay water, power and gas bills on time: after 12 months without overdue bills this item costs nothing",
    },
    Action {
        feature: "insurance_coverage",
        value: 1.0,
        zh: "依法为全部从业人员参加社会保险",
        en: "insure every employee with social insurance, as the law requires",
    },
    Action {
        feature: "housing_fund",
        value: 1.0,
        zh: "为职工缴存住房公积金",
        en: "contribute to the housing provident fund for the employees",
    },
    Action {
        feature: "abnormal_listed",
        value: 0.0,
        zh: "补报年度报告或更正登记信息，申请移出经营异常名录",
        en: "file the missing annual reports or correct the registration, then apply to leave the abnormal-operation list",
    },
    Action {
        feature: "dishonest_debtor",
        value: 0.0,
        zh: "履行生效法律文书确定的义务，向法院申请删除失信被执行人信息",
        en: "meet the obligations of the court's decision and ask the court to remove the dishonest-debtor entry",
    },
];

/// One action and what it would bring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub feature: String,
    pub action_zh: String,
    pub action_en: String,
    /// The feature's bin now, in words.
    pub now_zh: String,
    pub now_en: String,
    /// Its bin once the action is done.
    pub then_zh: String,
    pub then_en: String,
    pub points: u32,
    pub score_after: i64,
    pub grade_after: String,
}

/// Every step that would gain points, the most first, and where all of
/// them together would take the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Outlook {
    pub steps: Vec<Step>,
    pub score_after: i64,
    pub grade_after: String,
}

/// What each action would do under one model, found once for all the rows
/// it grades: the feature's place in the model, the bin the action moves it
/// to, that bin's points and words.
pub struct Planner<'a> {
    scorer: &'a Scorer<'a>,
    set: &'a FeatureSet,
    targets: Vec<Target>,
}

struct Target {
    action: &'static Action,
    /// The feature's index in the model.
    at: usize,
    points: i64,
    then_zh: String,
    then_en: String,
}

impl<'a> Planner<'a> {
    pub fn new(scorer: &'a Scorer<'a>, set: &'a FeatureSet) -> Planner<'a> {
        let features = &scorer.model.features;
        let targets = ACTIONS
            .iter()
            .filter_map(|action| {
                // A feature the model dropped: acting on it changes nothing.
                let at = features.iter().position(|f| f.name == action.feature)?;
                let feature = &features[at];
                let then = scorer.bin_of(at, Value::Number(action.value))?;
                let bin = feature.bins.get(then as usize)?;
                let (then_zh, then_en) = words::bin(set, &feature.name, &feature.label, &bin.rule);
                Some(Target {
                    action,
                    at,
                    points: bin.points,
                    then_zh,
                    then_en,
                })
            })
            .collect();
        Planner {
            scorer,
            set,
            targets,
        }
    }

    /// The outlook of one scored row: `bins` holds its bin in each of the
    /// model's features (as [`Scorer::bin_table`] gives them), `score` its
    /// score under `cutoffs`.
    pub fn outlook(&self, bins: &[u8], score: i64, cutoffs: &Cutoffs) -> Outlook {
        let grade = |score: i64| cutoffs.class_of(score).to_string();
        let mut steps = Vec::new();
        for target in &self.targets {
            let feature = &self.scorer.model.features[target.at];
            let Some(now_bin) = bins
                .get(target.at)
                .and_then(|&b| feature.bins.get(b as usize))
            else {
                continue;
            };
            let gain = target.points - now_bin.points;
            if gain <= 0 {
                continue;
            }
            let (now_zh, now_en) =
                words::bin(self.set, &feature.name, &feature.label, &now_bin.rule);
            steps.push(Step {
                feature: feature.name.clone(),
                action_zh: target.action.zh.to_string(),
                action_en: target.action.en.to_string(),
                now_zh,
                now_en,
                then_zh: target.then_zh.clone(),
                then_en: target.then_en.clone(),
                points: gain.unsigned_abs() as u32,
                score_after: score + gain,
                grade_after: grade(score + gain),
            });
        }
        steps.sort_by_key(|s| std::cmp::Reverse(s.points));
        let score_after = score + steps.iter().map(|s| i64::from(s.points)).sum::<i64>();
        Outlook {
            steps,
            score_after,
            grade_after: grade(score_after),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use scoring::{BinRule, Kind, Model, Scaling, Trend};

    use super::*;
    use crate::V4;

    fn bin(rule: BinRule, points: i64) -> scoring::model::ModelBin {
        scoring::model::ModelBin {
            label: rule.describe(),
            rule,
            count: 10,
            events: 1,
            woe: 0.0,
            iv: 0.0,
            points,
        }
    }

    fn feature(name: &str, bins: Vec<scoring::model::ModelBin>) -> scoring::model::Feature {
        scoring::model::Feature {
            name: name.into(),
            label: name.into(),
            kind: Kind::Numeric,
            trend: Some(Trend::Ascending),
            iv: 0.1,
            coefficient: 1.0,
            bins,
        }
    }

    fn range(lo: Option<f64>, hi: Option<f64>) -> BinRule {
        BinRule::Range { lo, hi }
    }

    /// Tax arrears (actionable), the abnormal list (actionable) and years in
    /// operation (not advice).
    fn model() -> Model {
        let training = scoring::model::Training {
            rows: 30,
            events: 3,
            l2: 0.0,
            newton_steps: 0,
            converged: true,
            score_cuts: Vec::new(),
            score_counts: Vec::new(),
            metrics: scoring::metrics::Summary {
                rows: 30,
                events: 3,
                auc: 0.5,
                gini: 0.0,
                ks: 0.0,
                log_loss: 0.0,
            },
            validation: None,
            notes: serde_json::Map::new(),
        };
        let mut model = Model {
            format: scoring::model::FORMAT.into(),
            format_version: scoring::model::FORMAT_VERSION,
            name: "financing".into(),
            version: "test".into(),
            created: "2026-11-30".into(),
            target: "bad".into(),
            event: "1".into(),
            scaling: Scaling::default(),
            intercept: 0.0,
            features: Vec::new(),
            dropped: Vec::new(),
            training,
        };
        model.features = vec![
            feature(
                "tax_short_months_1y",
                vec![
                    bin(range(None, Some(1.0)), 60),
                    bin(range(Some(1.0), Some(4.0)), 35),
                    bin(range(Some(4.0), None), 10),
                    bin(BinRule::Missing, 40),
                ],
            ),
            feature(
                "abnormal_listed",
                vec![
                    bin(range(None, Some(1.0)), 50),
                    bin(range(Some(1.0), None), 20),
                    bin(BinRule::Missing, 50),
                ],
            ),
            feature(
                "years_in_operation",
                vec![
                    bin(range(None, Some(3.0)), 10),
                    bin(range(Some(3.0), None), 70),
                    bin(BinRule::Missing, 10),
                ],
            ),
        ];
        model
    }

    const CUTOFFS: Cutoffs = Cutoffs {
        a: 170,
        b: 140,
        c: 110,
    };

    #[test]
    fn steps_give_back_exactly_the_points_scoring_gives() {
        let model = model();
        let scorer = model.scorer();
        // 5 months of arrears, listed, young: 10 + 20 + 10.
        let bins = [2, 1, 0];
        let score = scorer.score_bins(&bins).score;
        let outlook = Planner::new(&scorer, &V4).outlook(&bins, score, &CUTOFFS);
        let gains: Vec<(&str, u32)> = outlook
            .steps
            .iter()
            .map(|s| (s.feature.as_str(), s.points))
            .collect();
        assert_eq!(
            gains,
            [("tax_short_months_1y", 50), ("abnormal_listed", 30)]
        );
        // Scoring the row as it would be after every step agrees.
        let after = scorer.score_bins(&[0, 0, 0]).score;
        assert_eq!(outlook.score_after, after);
        assert_eq!(outlook.steps[0].score_after, score + 50);
        assert_eq!(outlook.grade_after, CUTOFFS.class_of(after).to_string());
        assert!(
            outlook.steps[0].now_zh.contains("欠缴税款"),
            "{:?}",
            outlook.steps[0]
        );
        assert!(outlook.steps[1].action_zh.contains("经营异常名录"));
    }

    #[test]
    fn nothing_to_do_for_what_is_already_best_or_not_advice() {
        let model = model();
        let scorer = model.scorer();
        // No arrears, not listed, young: only age costs points, and age is
        // not advice.
        let bins = [0, 0, 0];
        let score = scorer.score_bins(&bins).score;
        let outlook = Planner::new(&scorer, &V4).outlook(&bins, score, &CUTOFFS);
        assert!(outlook.steps.is_empty());
        assert_eq!(outlook.score_after, score);
    }

    #[test]
    fn a_missing_value_moves_only_when_the_action_gains() {
        let model = model();
        let scorer = model.scorer();
        // Arrears unreported (40 points) → none (60): 20 points.
        let bins = [3, 0, 1];
        let score = scorer.score_bins(&bins).score;
        let outlook = Planner::new(&scorer, &V4).outlook(&bins, score, &CUTOFFS);
        assert_eq!(outlook.steps.len(), 1);
        assert_eq!(outlook.steps[0].points, 20);
    }

    #[test]
    fn every_action_names_a_feature_of_the_set() {
        for action in ACTIONS {
            assert!(V4.feature(action.feature).is_some(), "{}", action.feature);
        }
    }
}
