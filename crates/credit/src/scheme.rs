//! Evaluation schemes (公共信用综合评价标准): which industries a scheme
//! grades, its dimensions and indicators with weights and scoring rules,
//! its grades, and the rules that cap a grade whatever the score.
//!
//! A scheme is a TOML file (`data/schemes/*.toml`, the shipped ones; a
//! city may replace or add its own). [`Scheme::parse`] reads one and
//! returns every problem at once, each naming the scheme and where in it.
//! [`SchemeSet`] holds one general scheme (no industries: everyone else)
//! and any number of industry schemes; an entity is graded by the most
//! specific scheme that covers its GB/T 4754 code.
//!
//! The score is the weighted mean of the indicators' points (0–100 each,
//! weights adding up to 100), so it runs from 0 to 100. The grade is the
//! first grade whose `min_score` the score reaches; then every capping
//! rule that holds makes the grade at most its own (national rules before
//! the score: an entity on the serious-violation list is graded 差
//! whatever its score).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::facts::{self, Kind};

/// The schemes shipped with Xinyong, by file name.
pub const BUILT_IN: [(&str, &str); 6] = [
    ("general.toml", include_str!("../data/schemes/general.toml")),
    (
        "catering.toml",
        include_str!("../data/schemes/catering.toml"),
    ),
    (
        "construction.toml",
        include_str!("../data/schemes/construction.toml"),
    ),
    (
        "chemicals.toml",
        include_str!("../data/schemes/chemicals.toml"),
    ),
    (
        "road_transport.toml",
        include_str!("../data/schemes/road_transport.toml"),
    ),
    ("medical.toml", include_str!("../data/schemes/medical.toml")),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub id: String,
    /// Stored with every evaluation; change it whenever the file changes.
    pub version: String,
    pub name_zh: String,
    pub name_en: String,
    /// GB/T 4754 codes: a section letter (A–T), or a division, group or
    /// class (2, 3 or 4 digits). Empty for the general scheme.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Best first; the last one's `min_score` is 0.
    pub grades: Vec<Grade>,
    pub dimensions: Vec<Dimension>,
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub min_score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub id: String,
    pub dimension: String,
    /// A fact of [`facts::FACTS`].
    pub fact: String,
    /// Share of the score; the weights of a scheme add up to 100.
    pub weight: f64,
    /// For numbers and flags: the first band whose `below` exceeds the
    /// value gives the points; the last band has no `below`.
    #[serde(default)]
    pub bands: Vec<Band>,
    /// For categories: the points of every category of the fact.
    #[serde(default)]
    pub categories: BTreeMap<String, f64>,
    /// Points when the fact is missing (no rating ever given).
    #[serde(default)]
    pub missing: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(default)]
    pub below: Option<f64>,
    pub points: f64,
}

/// A rule that caps the grade when a fact is at least a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A number or flag fact.
    pub when: String,
    #[serde(default = "one")]
    pub at_least: f64,
    /// The best grade the entity may have.
    pub grade: String,
    pub basis_zh: String,
    pub basis_en: String,
}

fn one() -> f64 {
    1.0
}

/// Every problem of a scheme file, each named by where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {}", problems.join("; "))]
pub struct SchemeError {
    pub file: String,
    pub problems: Vec<String>,
}

impl Scheme {
    /// Reads and checks a scheme file.
    pub fn parse(text: &str, file: &str) -> Result<Scheme, SchemeError> {
        let error = |problems: Vec<String>| SchemeError {
            file: file.to_string(),
            problems,
        };
        let scheme: Scheme = toml::from_str(text).map_err(|e| error(vec![e.to_string()]))?;
        let problems = scheme.problems();
        if !problems.is_empty() {
            return Err(error(problems));
        }
        Ok(scheme)
    }

    pub fn is_general(&self) -> bool {
        self.industries.is_empty()
    }

    pub fn grade(&self, id: &str) -> Option<&Grade> {
        self.grades.iter().find(|g| g.id == id)
    }

    /// The grade's rank, 0 the best.
    pub fn rank(&self, id: &str) -> Option<usize> {
        self.grades.iter().position(|g| g.id == id)
    }

    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }

    /// How specifically the scheme covers an industry code: 0 not at all,
    /// 1 by section, else the number of digits matched.
    pub fn covers(&self, industry: &str) -> usize {
        let section = domain::industry::division(industry).map(|d| d.section);
        self.industries
            .iter()
            .map(|code| {
                let mut chars = code.chars();
                match (chars.next(), chars.next()) {
                    (Some(letter), None) if letter.is_ascii_uppercase() => {
                        usize::from(section == Some(letter))
                    }
                    _ if industry.starts_with(code.as_str()) => code.len(),
                    _ => 0,
                }
            })
            .max()
            .unwrap_or(0)
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut problem = |text: String| problems.push(text);
        if !is_identifier(&self.id) {
            problem(format!(
                "id '{}' must be lower-case letters, digits and _",
                self.id
            ));
        }
        if self.version.trim().is_empty() {
            problem("version is empty".into());
        }
        for code in &self.industries {
            if !industry_code(code) {
                problem(format!(
                    "industries: '{code}' is not a GB/T 4754 section (A–T) or a division, group or class of a known division"
                ));
            }
        }
        // Grades.
        if self.grades.len() < 2 {
            problem("grades: at least two are needed".into());
        }
        let mut seen = BTreeSet::new();
        for (i, grade) in self.grades.iter().enumerate() {
            if !seen.insert(grade.id.as_str()) {
                problem(format!("grades: '{}' twice", grade.id));
            }
            if !(0.0..=100.0).contains(&grade.min_score) {
                problem(format!(
                    "grades.{}: min_score {} is outside 0–100",
                    grade.id, grade.min_score
                ));
            }
            if let Some(before) = i.checked_sub(1).and_then(|b| self.grades.get(b))
                && grade.min_score >= before.min_score
            {
                problem(format!(
                    "grades.{}: min_score {} must be below the better grade {}'s {}",
                    grade.id, grade.min_score, before.id, before.min_score
                ));
            }
        }
        if self.grades.last().is_some_and(|g| g.min_score != 0.0) {
            problem(
                "grades: the last grade's min_score must be 0 so that every score has a grade"
                    .into(),
            );
        }
        // Dimensions.
        let mut seen = BTreeSet::new();
        for dimension in &self.dimensions {
            if !seen.insert(dimension.id.as_str()) {
                problem(format!("dimensions: '{}' twice", dimension.id));
            }
            if !self.indicators.iter().any(|i| i.dimension == dimension.id) {
                problem(format!(
                    "dimensions.{}: no indicator belongs to it",
                    dimension.id
                ));
            }
        }
        // Indicators.
        let mut seen = BTreeSet::new();
        let mut total = 0.0;
        for indicator in &self.indicators {
            let at = format!("indicators.{}", indicator.id);
            if !seen.insert(indicator.id.as_str()) {
                problem(format!("indicators: '{}' twice", indicator.id));
            }
            if self.dimension(&indicator.dimension).is_none() {
                problem(format!(
                    "{at}: dimension '{}' is not declared",
                    indicator.dimension
                ));
            }
            if !(indicator.weight > 0.0 && indicator.weight <= 100.0) {
                problem(format!(
                    "{at}: weight {} must be above 0 and at most 100",
                    indicator.weight
                ));
            }
            total += indicator.weight;
            if let Some(missing) = indicator.missing
                && !points(missing)
            {
                problem(format!("{at}: missing = {missing} is outside 0–100"));
            }
            let Some(fact) = facts::fact(&indicator.fact) else {
                problem(format!("{at}: fact '{}' is not known", indicator.fact));
                continue;
            };
            match fact.kind {
                Kind::Category(values) => {
                    if !indicator.bands.is_empty() {
                        problem(format!(
                            "{at}: fact '{}' is a category: give categories, not bands",
                            fact.name
                        ));
                    }
                    for value in values {
                        if !indicator.categories.contains_key(*value) {
                            problem(format!("{at}: category '{value}' has no points"));
                        }
                    }
                    for (value, p) in &indicator.categories {
                        if !values.contains(&value.as_str()) {
                            problem(format!(
                                "{at}: '{value}' is not a category of '{}' ({})",
                                fact.name,
                                values.join(", ")
                            ));
                        }
                        if !points(*p) {
                            problem(format!(
                                "{at}: category '{value}': {p} points is outside 0–100"
                            ));
                        }
                    }
                }
                Kind::Number | Kind::Flag => {
                    if !indicator.categories.is_empty() {
                        problem(format!(
                            "{at}: fact '{}' is a number: give bands, not categories",
                            fact.name
                        ));
                    }
                    for problem_text in bands_problems(&indicator.bands) {
                        problem(format!("{at}: {problem_text}"));
                    }
                }
            }
        }
        if self.indicators.is_empty() {
            problem("indicators: none".into());
        } else if (total - 100.0).abs() > 1e-6 {
            problem(format!("indicators: weights add up to {total}, not 100"));
        }
        // Rules.
        let mut seen = BTreeSet::new();
        for rule in &self.rules {
            let at = format!("rules.{}", rule.id);
            if !seen.insert(rule.id.as_str()) {
                problem(format!("rules: '{}' twice", rule.id));
            }
            match facts::fact(&rule.when) {
                None => problem(format!("{at}: fact '{}' is not known", rule.when)),
                Some(f) if matches!(f.kind, Kind::Category(_)) => problem(format!(
                    "{at}: fact '{}' is a category; a rule reads a number or a flag",
                    f.name
                )),
                Some(_) => {}
            }
            if self.grade(&rule.grade).is_none() {
                problem(format!("{at}: grade '{}' is not declared", rule.grade));
            }
            if rule.basis_zh.trim().is_empty() {
                problem(format!("{at}: basis_zh is empty"));
            }
        }
        problems
    }
}

fn points(p: f64) -> bool {
    (0.0..=100.0).contains(&p)
}

fn bands_problems(bands: &[Band]) -> Vec<String> {
    let mut problems = Vec::new();
    if bands.is_empty() {
        problems.push("bands: none".to_string());
        return problems;
    }
    let mut previous: Option<f64> = None;
    for (i, band) in bands.iter().enumerate() {
        let last = i + 1 == bands.len();
        match (band.below, last) {
            (Some(below), false) => {
                if previous.is_some_and(|p| below <= p) {
                    problems.push(format!(
                        "bands[{i}]: below = {below} must be above the band before"
                    ));
                }
                previous = Some(below);
            }
            (None, false) => problems.push(format!(
                "bands[{i}]: only the last band may have no 'below'"
            )),
            (Some(_), true) => problems.push(format!(
                "bands[{i}]: the last band must have no 'below', so that every value has points"
            )),
            (None, true) => {}
        }
        if !points(band.points) {
            problems.push(format!(
                "bands[{i}]: {} points is outside 0–100",
                band.points
            ));
        }
    }
    problems
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn industry_code(code: &str) -> bool {
    let mut chars = code.chars();
    if let (Some(letter), None) = (chars.next(), chars.next()) {
        return domain::industry::section(letter).is_some();
    }
    (2..=4).contains(&code.len()) && domain::industry::division(code).is_some()
}

/// The general scheme and the industry schemes, checked together.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeSet {
    schemes: Vec<Scheme>,
}

impl SchemeSet {
    /// The schemes shipped with Xinyong.
    pub fn built_in() -> Result<SchemeSet, SchemeError> {
        let mut schemes = Vec::new();
        for (file, text) in BUILT_IN {
            schemes.push(Scheme::parse(text, &format!("{file} (built in)"))?);
        }
        SchemeSet::new(schemes)
    }

    /// Checks that exactly one scheme is general, ids are unique and no
    /// industry code belongs to two schemes.
    pub fn new(schemes: Vec<Scheme>) -> Result<SchemeSet, SchemeError> {
        let mut problems = Vec::new();
        let general = schemes.iter().filter(|s| s.is_general()).count();
        if general != 1 {
            problems.push(format!(
                "{general} general schemes (without industries); exactly one is needed"
            ));
        }
        let mut ids = BTreeSet::new();
        let mut codes: BTreeMap<&str, &str> = BTreeMap::new();
        for scheme in &schemes {
            if !ids.insert(scheme.id.as_str()) {
                problems.push(format!("scheme '{}' twice", scheme.id));
            }
            for code in &scheme.industries {
                if let Some(other) = codes.insert(code.as_str(), scheme.id.as_str()) {
                    problems.push(format!(
                        "industry '{code}' is in both '{other}' and '{}'",
                        scheme.id
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(SchemeError {
                file: "schemes".into(),
                problems,
            });
        }
        Ok(SchemeSet { schemes })
    }

    /// The built-in set with these schemes in place of those with the same
    /// id, and the others added.
    pub fn with(mut self, schemes: Vec<Scheme>) -> Result<SchemeSet, SchemeError> {
        for scheme in schemes {
            self.schemes.retain(|s| s.id != scheme.id);
            self.schemes.push(scheme);
        }
        SchemeSet::new(self.schemes)
    }

    pub fn schemes(&self) -> &[Scheme] {
        &self.schemes
    }

    pub fn get(&self, id: &str) -> Option<&Scheme> {
        self.schemes.iter().find(|s| s.id == id)
    }

    /// The most specific scheme covering an industry code, else the
    /// general one.
    pub fn for_industry(&self, industry: &str) -> &Scheme {
        let mut best: Option<(usize, &Scheme)> = None;
        for scheme in &self.schemes {
            let depth = scheme.covers(industry);
            if depth > 0 && best.is_none_or(|(d, _)| depth > d) {
                best = Some((depth, scheme));
            }
        }
        match best {
            Some((_, scheme)) => scheme,
            // `new` checked that there is exactly one general scheme.
            None => self
                .schemes
                .iter()
                .find(|s| s.is_general())
                .unwrap_or(&self.schemes[0]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_schemes_are_valid() {
        let set = match SchemeSet::built_in() {
            Ok(set) => set,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(set.schemes().len(), 6);
        assert_eq!(set.for_industry("62").id, "catering");
        assert_eq!(set.for_industry("6210").id, "catering");
        assert_eq!(set.for_industry("48").id, "construction");
        assert_eq!(set.for_industry("26").id, "chemicals");
        assert_eq!(set.for_industry("54").id, "road_transport");
        assert_eq!(set.for_industry("84").id, "medical");
        assert_eq!(set.for_industry("39").id, "general");
        assert_eq!(set.for_industry("").id, "general");
    }

    #[test]
    fn every_problem_is_named() {
        let text = r#"
id = "Bad Id"
version = ""
name_zh = "坏"
name_en = "bad"
industries = ["Z", "99", "62"]
grades = [
  { id = "A", name_zh = "优", name_en = "excellent", min_score = 80 },
  { id = "A", name_zh = "良", name_en = "good", min_score = 90 },
]
dimensions = [
  { id = "basics", name_zh = "基础", name_en = "basics" },
  { id = "unused", name_zh = "空", name_en = "unused" },
]
[[indicators]]
id = "age"
dimension = "basics"
fact = "years_in_operation"
weight = 50
bands = [ { points = 50 }, { below = 3, points = 120 } ]

[[indicators]]
id = "rating"
dimension = "nowhere"
fact = "tax_credit_rating"
weight = 40
categories = { A = 100, E = 10 }

[[indicators]]
id = "ghost"
dimension = "basics"
fact = "no_such_fact"
weight = 5

[[rules]]
id = "listed"
name_zh = "名单"
name_en = "listed"
when = "tax_credit_rating"
grade = "Z"
basis_zh = ""
basis_en = ""
"#;
        let Err(error) = Scheme::parse(text, "bad.toml") else {
            panic!("a bad scheme was accepted");
        };
        let all = error.to_string();
        for expected in [
            "bad.toml",
            "id 'Bad Id'",
            "version is empty",
            "industries: 'Z'",
            "industries: '99'",
            "grades: 'A' twice",
            "min_score 90 must be below",
            "last grade's min_score must be 0",
            "dimensions.unused: no indicator",
            "indicators.age: bands[0]: only the last band",
            "indicators.age: bands[1]: the last band must have no 'below'",
            "indicators.age: bands[1]: 120 points",
            "indicators.rating: dimension 'nowhere'",
            "indicators.rating: category 'B' has no points",
            "indicators.rating: 'E' is not a category",
            "indicators.ghost: fact 'no_such_fact'",
            "weights add up to 95, not 100",
            "rules.listed: fact 'tax_credit_rating' is a category",
            "rules.listed: grade 'Z'",
            "rules.listed: basis_zh is empty",
        ] {
            assert!(all.contains(expected), "'{expected}' missing from: {all}");
        }
        assert_eq!(error.problems.len(), 22, "{all}");
    }

    #[test]
    fn a_set_refuses_two_generals_and_shared_industries() {
        let Ok(set) = SchemeSet::built_in() else {
            panic!("built in");
        };
        let general = set.get("general").cloned();
        let catering = set.get("catering").cloned();
        let (Some(general), Some(catering)) = (general, catering) else {
            panic!("built in schemes");
        };
        let mut second = general.clone();
        second.id = "general_2".into();
        let mut copy = catering.clone();
        copy.id = "catering_2".into();
        let Err(error) = SchemeSet::new(vec![general, second, catering, copy]) else {
            panic!("accepted");
        };
        let all = error.to_string();
        assert!(all.contains("2 general schemes"), "{all}");
        assert!(
            all.contains("industry '62' is in both 'catering' and 'catering_2'"),
            "{all}"
        );
    }
}
