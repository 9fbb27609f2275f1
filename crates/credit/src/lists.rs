//! Red and black lists, the measures that follow from them in each
//! application scenario (守信激励与失信惩戒), and the credit check
//! (信用核查) that reads them for one entity.
//!
//! The file (`data/measures.toml`, or a city's own) declares departments,
//! scenarios, lists and measures; [`Measures::parse`] names every problem.
//! A list's members are read from the evaluation facts (so withdrawn
//! records — repaired or superseded — put nobody on a list); a measure
//! applies to an entity in a scenario when the entity is on one of the
//! measure's lists and the measure names the scenario.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::facts::{self, Facts, Kind, Value};

/// The lists and measures shipped with Xinyong.
pub const BUILT_IN: &str = include_str!("../data/measures.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measures {
    pub departments: Vec<Department>,
    pub scenarios: Vec<Scenario>,
    pub lists: Vec<List>,
    pub measures: Vec<Measure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// Black lists punish, red lists reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    Black,
    Red,
}

impl ListKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Black => "black",
            ListKind::Red => "red",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ListKind::Black => "失信名单",
            ListKind::Red => "守信名单",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ListKind::Black => "black list",
            ListKind::Red => "red list",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct List {
    pub id: String,
    pub kind: ListKind,
    pub name_zh: String,
    pub name_en: String,
    /// A fact of `credit::FACTS`.
    pub when: String,
    /// For a number or flag fact (default 1).
    #[serde(default)]
    pub at_least: Option<f64>,
    /// For a category fact.
    #[serde(default)]
    pub equals: Option<String>,
    pub basis_zh: String,
    pub basis_en: String,
    /// The departments that decide who is on it.
    pub departments: Vec<String>,
}

/// What a measure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// 禁止/限制参与: the entity may not take part.
    Prohibit,
    /// 从严审核/重点监管: it may, under closer scrutiny.
    Restrict,
    /// 激励: easier, faster or preferred.
    Incentive,
}

impl MeasureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MeasureKind::Prohibit => "prohibit",
            MeasureKind::Restrict => "restrict",
            MeasureKind::Incentive => "incentive",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            MeasureKind::Prohibit => "禁止或限制",
            MeasureKind::Restrict => "从严审核",
            MeasureKind::Incentive => "守信激励",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            MeasureKind::Prohibit => "barred",
            MeasureKind::Restrict => "closer scrutiny",
            MeasureKind::Incentive => "incentive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    pub id: String,
    pub kind: MeasureKind,
    pub name_zh: String,
    pub name_en: String,
    pub lists: Vec<String>,
    pub scenarios: Vec<String>,
    pub basis_zh: String,
    pub basis_en: String,
    /// The departments bound to apply it.
    pub departments: Vec<String>,
}

/// Every problem of a measures file, each named by where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {}", problems.join("; "))]
pub struct MeasuresError {
    pub file: String,
    pub problems: Vec<String>,
}

impl Measures {
    pub fn built_in() -> Result<Measures, MeasuresError> {
        Measures::parse(BUILT_IN, "measures.toml (built in)")
    }

    /// Reads and checks a measures file.
    pub fn parse(text: &str, file: &str) -> Result<Measures, MeasuresError> {
        let error = |problems: Vec<String>| MeasuresError {
            file: file.to_string(),
            problems,
        };
        let measures: Measures = toml::from_str(text).map_err(|e| error(vec![e.to_string()]))?;
        let problems = measures.problems();
        if !problems.is_empty() {
            return Err(error(problems));
        }
        Ok(measures)
    }

    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    pub fn list(&self, id: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.id == id)
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let unique = |what: &str, ids: Vec<&str>, problems: &mut Vec<String>| {
            let mut seen = BTreeSet::new();
            for id in ids {
                if !seen.insert(id) {
                    problems.push(format!("{what}: '{id}' twice"));
                }
            }
        };
        unique(
            "departments",
            self.departments.iter().map(|d| d.id.as_str()).collect(),
            &mut problems,
        );
        unique(
            "scenarios",
            self.scenarios.iter().map(|s| s.id.as_str()).collect(),
            &mut problems,
        );
        unique(
            "lists",
            self.lists.iter().map(|l| l.id.as_str()).collect(),
            &mut problems,
        );
        unique(
            "measures",
            self.measures.iter().map(|m| m.id.as_str()).collect(),
            &mut problems,
        );
        let department = |at: &str, id: &str, problems: &mut Vec<String>| {
            if self.department(id).is_none() {
                problems.push(format!("{at}: department '{id}' is not declared"));
            }
        };
        for list in &self.lists {
            let at = format!("lists.{}", list.id);
            match facts::fact(&list.when) {
                None => problems.push(format!("{at}: fact '{}' is not known", list.when)),
                Some(fact) => match (fact.kind, &list.equals, list.at_least) {
                    (Kind::Category(values), Some(value), None) => {
                        if !values.contains(&value.as_str()) {
                            problems.push(format!(
                                "{at}: '{value}' is not a category of '{}' ({})",
                                fact.name,
                                values.join(", ")
                            ));
                        }
                    }
                    (Kind::Category(_), _, _) => problems.push(format!(
                        "{at}: fact '{}' is a category: give `equals`, not `at_least`",
                        fact.name
                    )),
                    (Kind::Number | Kind::Flag, None, _) => {}
                    (Kind::Number | Kind::Flag, Some(_), _) => problems.push(format!(
                        "{at}: fact '{}' is a number: give `at_least`, not `equals`",
                        fact.name
                    )),
                },
            }
            if list.basis_zh.trim().is_empty() {
                problems.push(format!("{at}: basis_zh is empty"));
            }
            if list.departments.is_empty() {
                problems.push(format!("{at}: no department decides it"));
            }
            for id in &list.departments {
                department(&at, id, &mut problems);
            }
        }
        for measure in &self.measures {
            let at = format!("measures.{}", measure.id);
            if measure.lists.is_empty() {
                problems.push(format!("{at}: no list"));
            }
            for id in &measure.lists {
                match self.list(id) {
                    None => problems.push(format!("{at}: list '{id}' is not declared")),
                    Some(list) => {
                        let rewards = list.kind == ListKind::Red;
                        let incentive = measure.kind == MeasureKind::Incentive;
                        if rewards != incentive {
                            problems.push(format!(
                                "{at}: a measure of kind '{}' cannot follow from the {} '{id}'",
                                measure.kind.as_str(),
                                list.kind.name_en()
                            ));
                        }
                    }
                }
            }
            if measure.scenarios.is_empty() {
                problems.push(format!("{at}: no scenario"));
            }
            for id in &measure.scenarios {
                if self.scenario(id).is_none() {
                    problems.push(format!("{at}: scenario '{id}' is not declared"));
                }
            }
            if measure.basis_zh.trim().is_empty() {
                problems.push(format!("{at}: basis_zh is empty"));
            }
            for id in &measure.departments {
                department(&at, id, &mut problems);
            }
        }
        problems
    }

    /// The lists an entity with these facts is on, in the file's order.
    pub fn lists_of(&self, facts: &Facts) -> Vec<&List> {
        self.lists.iter().filter(|l| l.holds(facts)).collect()
    }

    /// The measures that apply in a scenario to an entity on `lists`.
    pub fn measures_for<'a>(&'a self, lists: &[&List], scenario: &str) -> Vec<&'a Measure> {
        self.measures
            .iter()
            .filter(|m| m.scenarios.iter().any(|s| s == scenario))
            .filter(|m| lists.iter().any(|l| m.lists.contains(&l.id)))
            .collect()
    }
}

impl List {
    /// Whether facts put an entity on this list.
    pub fn holds(&self, facts: &Facts) -> bool {
        match (facts.get(&self.when), &self.equals) {
            (Some(Value::Category(value)), Some(expected)) => value == expected,
            (Some(Value::Number(value)), None) => *value >= self.at_least.unwrap_or(1.0),
            _ => false,
        }
    }
}

/// The outcome of a credit check in one scenario, worst first: barred,
/// then closer scrutiny, then incentives only, then nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Barred,
    Scrutiny,
    Incentive,
    Clear,
}

impl Verdict {
    pub fn of(measures: &[&Measure]) -> Verdict {
        let has = |kind| measures.iter().any(|m| m.kind == kind);
        if has(MeasureKind::Prohibit) {
            Verdict::Barred
        } else if has(MeasureKind::Restrict) {
            Verdict::Scrutiny
        } else if has(MeasureKind::Incentive) {
            Verdict::Incentive
        } else {
            Verdict::Clear
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Barred => "barred",
            Verdict::Scrutiny => "scrutiny",
            Verdict::Incentive => "incentive",
            Verdict::Clear => "clear",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Verdict::Barred => "依法限制",
            Verdict::Scrutiny => "从严审核",
            Verdict::Incentive => "可予激励",
            Verdict::Clear => "无限制",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Verdict::Barred => "barred",
            Verdict::Scrutiny => "closer scrutiny",
            Verdict::Incentive => "incentives apply",
            Verdict::Clear => "no measure applies",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measures() -> Measures {
        match Measures::built_in() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_built_in_file_has_the_seed_citys_28_scenarios() {
        let m = measures();
        assert_eq!(m.scenarios.len(), 28);
        assert!(m.lists.iter().any(|l| l.kind == ListKind::Red));
        assert!(m.lists.iter().any(|l| l.kind == ListKind::Black));
    }

    #[test]
    fn a_listed_entity_is_barred_and_a_red_listed_one_rewarded() {
        let m = measures();
        let mut facts = Facts::empty();
        facts.set("serious_listed", Some(Value::Number(1.0)));
        facts.set("tax_credit_rating", Some(Value::Category("A".into())));
        let lists = m.lists_of(&facts);
        let ids: Vec<&str> = lists.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, vec!["serious_violation", "tax_a"]);
        let procurement = m.measures_for(&lists, "government_procurement");
        assert_eq!(Verdict::of(&procurement), Verdict::Barred);
        let mut good = Facts::empty();
        good.set("tax_credit_rating", Some(Value::Category("A".into())));
        let lists = m.lists_of(&good);
        let green = m.measures_for(&lists, "administrative_licence");
        assert_eq!(Verdict::of(&green), Verdict::Incentive);
        assert_eq!(
            Verdict::of(&m.measures_for(&[], "government_procurement")),
            Verdict::Clear
        );
    }

    #[test]
    fn every_problem_is_named() {
        let text = r#"
departments = [ { id = "samr", name_zh = "市场监管", name_en = "SAMR" } ]
scenarios = [
  { id = "procurement", name_zh = "政府采购", name_en = "procurement" },
  { id = "procurement", name_zh = "政府采购", name_en = "procurement" },
]
[[lists]]
id = "bad_rating"
kind = "black"
name_zh = "坏"
name_en = "bad"
when = "tax_credit_rating"
equals = "Z"
basis_zh = ""
basis_en = ""
departments = ["nobody"]

[[lists]]
id = "honour"
kind = "red"
name_zh = "荣誉"
name_en = "honour"
when = "honours_3y"
equals = "many"
basis_zh = "依据"
basis_en = "basis"
departments = ["samr"]

[[measures]]
id = "reward_the_bad"
kind = "incentive"
name_zh = "奖"
name_en = "reward"
lists = ["bad_rating", "ghost"]
scenarios = ["nowhere"]
basis_zh = "依据"
basis_en = "basis"
departments = ["samr"]
"#;
        let Err(error) = Measures::parse(text, "m.toml") else {
            panic!("accepted");
        };
        let all = error.to_string();
        for expected in [
            "scenarios: 'procurement' twice",
            "lists.bad_rating: 'Z' is not a category",
            "lists.bad_rating: basis_zh is empty",
            "lists.bad_rating: department 'nobody'",
            "lists.honour: fact 'honours_3y' is a number",
            "measures.reward_the_bad: a measure of kind 'incentive' cannot follow from the black list 'bad_rating'",
            "measures.reward_the_bad: list 'ghost'",
            "measures.reward_the_bad: scenario 'nowhere'",
        ] {
            assert!(all.contains(expected), "'{expected}' missing from: {all}");
        }
        assert_eq!(error.problems.len(), 8, "{all}");
    }
}
