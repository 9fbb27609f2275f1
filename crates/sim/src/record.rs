//! A record on its way to a department's batch file.

use chrono::{Datelike, NaiveDate};

/// Which batch a record belongs to: departments send periodic items monthly,
/// events yearly, and the registry as one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Snapshot,
    Year(i32),
    Month(i32, u32),
}

impl Period {
    pub fn month_of(date: NaiveDate) -> Period {
        Period::Month(date.year(), date.month())
    }

    pub fn year_of(date: NaiveDate) -> Period {
        Period::Year(date.year())
    }

    pub fn label(self) -> String {
        match self {
            Period::Snapshot => "snapshot".to_string(),
            Period::Year(y) => format!("{y}"),
            Period::Month(y, m) => format!("{y}-{m:02}"),
        }
    }
}

/// One row of a catalog item, as field name and value pairs; fields left out
/// are empty.
#[derive(Debug, Clone)]
pub struct Record {
    pub department: &'static str,
    pub item: &'static str,
    pub period: Period,
    pub values: Vec<(&'static str, String)>,
}

impl Record {
    pub fn new(department: &'static str, item: &'static str, period: Period) -> Record {
        Record {
            department,
            item,
            period,
            values: Vec::with_capacity(12),
        }
    }

    pub fn set(mut self, field: &'static str, value: impl Into<String>) -> Record {
        self.values.push((field, value.into()));
        self
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, v)| v.as_str())
    }
}

/// Money in 元 or 万元 with two decimals.
pub fn money(value: f64) -> String {
    format!("{:.2}", value.max(0.0))
}
