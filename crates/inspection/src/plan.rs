//! An inspection plan (抽查计划): what is inspected (items), by whom
//! (departments), among which entities (scope, exclusions), how many (the
//! sampling rule), when (the window) and by how many inspectors each.
//!
//! The plan is frozen as `plan.json` at commit; its JSON form is canonical
//! (fields in declaration order), so its hash identifies it.

use chrono::{Months, NaiveDate};
use domain::risk::{RiskClass, SamplingRatios};
use serde::{Deserialize, Serialize};

use crate::InspectionError;
use crate::roster::Object;

/// An inspection item (抽查事项) and the competence it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub department: String,
    /// Field of competence an inspector needs for this item.
    pub competence: String,
}

/// Which entities a plan covers. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scope {
    /// District codes (6 digits).
    pub districts: Vec<String>,
    /// Town codes (9 digits).
    pub towns: Vec<String>,
    /// Industry code prefixes: `13` covers 131 and 1310.
    pub industries: Vec<String>,
    /// Registry entity types.
    pub kinds: Vec<String>,
    pub classes: Vec<RiskClass>,
    /// Registered at least this many whole years before the window starts.
    pub min_age_years: Option<u32>,
    /// Registered at most this many whole years before the window starts.
    pub max_age_years: Option<u32>,
}

/// How many objects a plan draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Sampling {
    /// A share of each class; `unclassed` for entities never screened.
    Ratios {
        ratios: SamplingRatios,
        unclassed: f64,
    },
    /// A fixed number drawn uniformly from the whole scope.
    Count { count: u64 },
    /// A fixed number spread over the classes in proportion to
    /// `class size × weight` (largest remainders), then drawn within each.
    WeightedCount {
        count: u64,
        weights: SamplingRatios,
        unclassed: f64,
    },
}

impl Sampling {
    /// The rule in words, for pages and the command line.
    pub fn describe(&self) -> String {
        match self {
            Sampling::Ratios { ratios, unclassed } => format!(
                "A {:.1}% · B {:.1}% · C {:.1}% · D {:.1}% · unclassed {:.1}%",
                ratios.a * 100.0,
                ratios.b * 100.0,
                ratios.c * 100.0,
                ratios.d * 100.0,
                unclassed * 100.0
            ),
            Sampling::Count { count } => format!("{count} objects at random"),
            Sampling::WeightedCount { count, .. } => format!("{count} objects weighted by class"),
        }
    }
}

/// The departments of some items, each once, in the items' order (the
/// first leads).
pub fn departments_of(items: &[Item]) -> Vec<String> {
    let mut departments: Vec<String> = Vec::new();
    for item in items {
        if !departments.contains(&item.department) {
            departments.push(item.department.clone());
        }
    }
    departments
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::Ratios {
            ratios: SamplingRatios::default(),
            unclassed: SamplingRatios::default().b,
        }
    }
}

/// Entities left out of the draw even though they are in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Exclusions {
    /// Inspected within this many months before the window starts.
    pub inspected_within_months: Option<u32>,
    /// Under an open case.
    pub open_case: bool,
}

/// Inclusive dates within which the inspections take place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Window {
    pub fn overlaps(&self, other: &Window) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub items: Vec<Item>,
    /// Departments taking part; the first leads.
    pub departments: Vec<String>,
    pub scope: Scope,
    pub sampling: Sampling,
    pub exclusions: Exclusions,
    pub window: Window,
    /// At least 2 (the rule says two inspectors go to every object).
    pub inspectors_per_object: u32,
    /// An inspector who inspected the object within this many months before
    /// the window must recuse.
    pub recusal_months: u32,
}

/// Why an in-scope entity is not a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Excluded {
    RecentlyInspected,
    OpenCase,
}

impl Plan {
    /// Checks what a plan must satisfy before it can be committed.
    pub fn validate(&self) -> Result<(), InspectionError> {
        let fail = |message: String| InspectionError::Plan {
            plan: self.id.clone(),
            message,
        };
        // the id names the bundle's directory: letters, digits, '-' and '_'
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !id_ok {
            return Err(fail(
                "a plan id is 1 to 64 letters, digits, '-' or '_'".into(),
            ));
        }
        if self.items.is_empty() {
            return Err(fail("a plan needs at least one inspection item".into()));
        }
        if self.departments.is_empty() {
            return Err(fail("a plan needs at least one department".into()));
        }
        for item in &self.items {
            if !self.departments.contains(&item.department) {
                return Err(fail(format!(
                    "item {} belongs to department {}, which is not taking part",
                    item.code, item.department
                )));
            }
        }
        for department in &self.departments {
            if !self.items.iter().any(|i| &i.department == department) {
                return Err(fail(format!(
                    "department {department} has no item in the plan"
                )));
            }
        }
        if self.inspectors_per_object < 2 {
            return Err(fail(format!(
                "{} inspectors per object: the rule asks for at least 2",
                self.inspectors_per_object
            )));
        }
        if (self.inspectors_per_object as usize) < self.departments.len() {
            return Err(fail(format!(
                "{} inspectors per object cannot include one from each of {} departments",
                self.inspectors_per_object,
                self.departments.len()
            )));
        }
        if self.window.end < self.window.start {
            return Err(fail(format!(
                "the window ends ({}) before it starts ({})",
                self.window.end, self.window.start
            )));
        }
        let check_ratio = |what: &str, r: f64| {
            if (0.0..=1.0).contains(&r) {
                Ok(())
            } else {
                Err(fail(format!("{what} is {r}, expected a share from 0 to 1")))
            }
        };
        match &self.sampling {
            Sampling::Ratios { ratios, unclassed } => {
                ratios.validate().map_err(|e| fail(e.to_string()))?;
                check_ratio("the ratio for unclassed entities", *unclassed)?;
            }
            Sampling::Count { .. } => {}
            Sampling::WeightedCount {
                weights, unclassed, ..
            } => {
                weights.validate().map_err(|e| fail(e.to_string()))?;
                check_ratio("the weight for unclassed entities", *unclassed)?;
            }
        }
        if let (Some(min), Some(max)) = (self.scope.min_age_years, self.scope.max_age_years)
            && min > max
        {
            return Err(fail(format!(
                "minimum age {min} is above maximum age {max}"
            )));
        }
        Ok(())
    }

    /// Whether an entity falls inside the plan's scope.
    pub fn in_scope(&self, object: &Object) -> bool {
        let scope = &self.scope;
        if !scope.districts.is_empty() && !scope.districts.iter().any(|d| d == object.district()) {
            return false;
        }
        if !scope.towns.is_empty() && !scope.towns.contains(&object.division) {
            return false;
        }
        if !scope.industries.is_empty()
            && !scope
                .industries
                .iter()
                .any(|i| object.industry.starts_with(i.as_str()))
        {
            return false;
        }
        if !scope.kinds.is_empty() && !scope.kinds.contains(&object.kind) {
            return false;
        }
        if !scope.classes.is_empty() && !object.class.is_some_and(|c| scope.classes.contains(&c)) {
            return false;
        }
        if scope.min_age_years.is_some() || scope.max_age_years.is_some() {
            let Some(established) = object.established_on else {
                return false;
            };
            let age = whole_years(established, self.window.start);
            if scope.min_age_years.is_some_and(|min| age < i64::from(min)) {
                return false;
            }
            if scope.max_age_years.is_some_and(|max| age > i64::from(max)) {
                return false;
            }
        }
        true
    }

    /// Why an in-scope entity is excluded from the draw, if it is.
    pub fn excluded(&self, object: &Object) -> Option<Excluded> {
        if self.exclusions.open_case && object.open_case {
            return Some(Excluded::OpenCase);
        }
        let months = self.exclusions.inspected_within_months?;
        let since = months_before(self.window.start, months);
        match object.last_inspected {
            Some(last) if last >= since => Some(Excluded::RecentlyInspected),
            _ => None,
        }
    }

    /// Earliest date of a past inspection that makes its inspector recuse.
    pub fn recusal_since(&self) -> NaiveDate {
        months_before(self.window.start, self.recusal_months)
    }

    /// Competences the plan needs from a department's inspectors.
    pub fn competences_of(&self, department: &str) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.department == department)
            .map(|i| i.competence.as_str())
            .collect()
    }

    pub fn to_json(&self) -> String {
        // a plan is plain data: serialising it cannot fail
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn from_json(text: &str, file: &str) -> Result<Plan, InspectionError> {
        serde_json::from_str(text).map_err(|e| InspectionError::File {
            file: file.to_string(),
            message: format!("not a plan: {e}"),
        })
    }
}

pub fn months_before(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

fn whole_years(from: NaiveDate, to: NaiveDate) -> i64 {
    use chrono::Datelike;
    let mut years = i64::from(to.year() - from.year());
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}
