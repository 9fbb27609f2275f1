//! What to generate: size, seed, history period, formats and data quality.

use chrono::NaiveDate;
use serde::Serialize;

/// A file format departments send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        match text.trim() {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::Jsonl),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    pub entities: u32,
    pub seed: u64,
    /// Years of history that feeds cover, ending at `end`.
    pub years: u32,
    /// Last day of the simulated history.
    pub end: NaiveDate,
    /// Share of records, in items that allow it, that name their subject by
    /// a legacy identifier (registration number or organisation code).
    pub legacy_share: f64,
    /// Share of feed rows made dirty (each labelled in the truth).
    pub dirty_rate: f64,
    /// Share of entity-months for which periodic records are sent (1 = all);
    /// lower it to make very large cities practical.
    pub density: f64,
    /// Complaints per entity against the usual rate (1 = usual); raise it
    /// to measure the complaint pipeline at a million complaints without a
    /// city of millions of entities.
    pub complaint_rate: f64,
    /// Formats departments may use; each department keeps its own habit
    /// where it is allowed, and falls back to the first one listed.
    pub formats: Vec<Format>,
    /// Loan-granting institutions on the financing platform.
    pub banks: u32,
    /// Rows per batch file at most; larger batches are split into parts.
    pub max_rows_per_file: u64,
}

/// Named configurations for common runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// About 20 000 entities: seconds.
    Demo,
    /// The seed city: 1.2 million entities.
    City,
}

impl SimConfig {
    pub fn preset(preset: Preset, seed: u64) -> SimConfig {
        let entities = match preset {
            Preset::Demo => 20_000,
            Preset::City => 1_200_000,
        };
        SimConfig {
            entities,
            seed,
            ..SimConfig::default()
        }
    }

    /// First day of the simulated history.
    pub fn start(&self) -> NaiveDate {
        self.end
            .checked_sub_months(chrono::Months::new(12 * self.years))
            .and_then(|d| d.succ_opt())
            .unwrap_or(self.end)
    }

    /// The first month of the history and the number of months.
    pub fn months(&self) -> u32 {
        12 * self.years
    }

    /// The format a department uses, given what the run allows.
    pub fn format_for(&self, habit: Format) -> Format {
        if self.formats.contains(&habit) {
            return habit;
        }
        self.formats.first().copied().unwrap_or(Format::Csv)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.entities == 0 {
            return Err("entities must be at least 1".into());
        }
        if !(1..=40).contains(&self.years) {
            return Err("years must be from 1 to 40".into());
        }
        for (name, value) in [
            ("dirty rate", self.dirty_rate),
            ("legacy share", self.legacy_share),
            ("density", self.density),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be from 0 to 1, got {value}"));
            }
        }
        if self.density == 0.0 {
            return Err("density must be above 0".into());
        }
        if !(self.complaint_rate > 0.0 && self.complaint_rate <= 1000.0) {
            return Err(format!(
                "complaint rate must be above 0 and at most 1000, got {}",
                self.complaint_rate
            ));
        }
        if self.formats.is_empty() {
            return Err("at least one format is needed".into());
        }
        if self.banks == 0 {
            return Err("banks must be at least 1".into());
        }
        if self.max_rows_per_file < 1000 {
            return Err("max rows per file must be at least 1000".into());
        }
        Ok(())
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            entities: 20_000,
            seed: 1,
            years: 3,
            end: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default(),
            legacy_share: 0.05,
            dirty_rate: 0.01,
            density: 1.0,
            complaint_rate: 1.0,
            formats: vec![Format::Csv, Format::Jsonl, Format::Xlsx],
            banks: 38,
            max_rows_per_file: 1_000_000,
        }
    }
}
