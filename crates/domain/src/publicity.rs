//! Publicity periods of administrative penalties and credit repair
//! (DOMAIN.md §7, rules in force from 2026-04-01).
//!
//! A penalty's severity sets how long it is published, counted from the
//! decision date: minor ones are not published (a locality may publish them
//! for at most 3 months), general ones 3 months to 1 year, serious ones 1 to 3
//! years. Simple-procedure and warning-only penalties are never published.
//! After the minimum period the subject may apply for credit repair, which
//! ends publicity early; at the maximum period publicity ends by itself.

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate};

/// Severity of the conduct behind a penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 轻微
    Minor,
    /// 一般
    General,
    /// 严重
    Serious,
}

impl Severity {
    pub fn name_zh(self) -> &'static str {
        match self {
            Severity::Minor => "轻微",
            Severity::General => "一般",
            Severity::Serious => "严重",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::General => "general",
            Severity::Serious => "serious",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("severity '{0}' is not one of minor, general, serious (轻微, 一般, 严重)")]
pub struct SeverityError(pub String);

impl FromStr for Severity {
    type Err = SeverityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "minor" | "轻微" => Ok(Severity::Minor),
            "general" | "一般" => Ok(Severity::General),
            "serious" | "严重" => Ok(Severity::Serious),
            other => Err(SeverityError(other.to_string())),
        }
    }
}

/// What a penalty record says about how it was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PenaltyFacts {
    pub severity: Severity,
    /// Decided under the simple procedure (简易程序).
    pub simple_procedure: bool,
    /// The only penalty is a warning (警告).
    pub warning_only: bool,
    pub decision_date: NaiveDate,
}

/// Publicity periods in months, per severity: a locality's configuration
/// within the national bounds checked by [`PublicityPolicy::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicityPolicy {
    /// 0 = minor penalties are not published; at most 3.
    pub minor_months: u32,
    pub general_min_months: u32,
    pub general_max_months: u32,
    pub serious_min_months: u32,
    pub serious_max_months: u32,
}

impl Default for PublicityPolicy {
    fn default() -> Self {
        PublicityPolicy {
            minor_months: 0,
            general_min_months: 3,
            general_max_months: 12,
            serious_min_months: 12,
            serious_max_months: 36,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publicity policy: {0}")]
pub struct PublicityPolicyError(pub String);

/// When a penalty is published and when repair may end that early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "publicity", rename_all = "snake_case")]
pub enum PublicityPeriod {
    NotPublished,
    Published {
        from: NaiveDate,
        /// First day the subject may apply for credit repair.
        repair_from: NaiveDate,
        /// First day the record is no longer published.
        until: NaiveDate,
    },
}

/// Whether a record is published on a given day, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicityStatus {
    NeverPublished,
    NotYetPublished,
    Published,
    EndedByRepair,
    Expired,
}

impl PublicityPolicy {
    /// Checks the configuration against the national bounds.
    pub fn validate(&self) -> Result<(), PublicityPolicyError> {
        let fail = |message: &str| Err(PublicityPolicyError(message.to_string()));
        if self.minor_months > 3 {
            return fail("minor penalties may be published for at most 3 months");
        }
        if !(3..=12).contains(&self.general_min_months)
            || !(self.general_min_months..=12).contains(&self.general_max_months)
        {
            return fail("general penalties need 3 <= minimum <= maximum <= 12 months");
        }
        if !(12..=36).contains(&self.serious_min_months)
            || !(self.serious_min_months..=36).contains(&self.serious_max_months)
        {
            return fail("serious penalties need 12 <= minimum <= maximum <= 36 months");
        }
        Ok(())
    }

    /// The publicity period of one penalty.
    pub fn penalty_period(&self, penalty: &PenaltyFacts) -> PublicityPeriod {
        if penalty.simple_procedure || penalty.warning_only {
            return PublicityPeriod::NotPublished;
        }
        let (min, max) = match penalty.severity {
            Severity::Minor if self.minor_months == 0 => return PublicityPeriod::NotPublished,
            Severity::Minor => (0, self.minor_months),
            Severity::General => (self.general_min_months, self.general_max_months),
            Severity::Serious => (self.serious_min_months, self.serious_max_months),
        };
        let from = penalty.decision_date;
        PublicityPeriod::Published {
            from,
            repair_from: add_months(from, min),
            until: add_months(from, max),
        }
    }
}

/// Month arithmetic that keeps month ends (31 Jan + 1 month = 28/29 Feb).
fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

impl PublicityPeriod {
    /// Status on `day`, given the day a repair was granted, if any.
    pub fn status_on(&self, day: NaiveDate, repaired_on: Option<NaiveDate>) -> PublicityStatus {
        let PublicityPeriod::Published { from, until, .. } = *self else {
            return PublicityStatus::NeverPublished;
        };
        if day < from {
            return PublicityStatus::NotYetPublished;
        }
        if day >= until {
            return PublicityStatus::Expired;
        }
        if repaired_on.is_some_and(|repaired| repaired <= day) {
            return PublicityStatus::EndedByRepair;
        }
        PublicityStatus::Published
    }

    /// Whether a repair application made on `day` is allowed to proceed.
    pub fn repair_allowed_on(&self, day: NaiveDate) -> bool {
        match *self {
            PublicityPeriod::NotPublished => false,
            PublicityPeriod::Published {
                repair_from, until, ..
            } => day >= repair_from && day < until,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn penalty(severity: Severity) -> PenaltyFacts {
        PenaltyFacts {
            severity,
            simple_procedure: false,
            warning_only: false,
            decision_date: date("2026-05-31"),
        }
    }

    #[test]
    fn periods_follow_severity() {
        let policy = PublicityPolicy::default();
        assert_eq!(
            policy.penalty_period(&penalty(Severity::Minor)),
            PublicityPeriod::NotPublished
        );
        assert_eq!(
            policy.penalty_period(&penalty(Severity::General)),
            PublicityPeriod::Published {
                from: date("2026-05-31"),
                repair_from: date("2026-08-31"),
                until: date("2027-05-31"),
            }
        );
        let serious = policy.penalty_period(&penalty(Severity::Serious));
        assert_eq!(
            serious.status_on(date("2029-05-30"), None),
            PublicityStatus::Published
        );
        assert_eq!(
            serious.status_on(date("2029-05-31"), None),
            PublicityStatus::Expired
        );
        assert!(!serious.repair_allowed_on(date("2027-05-30")));
        assert!(serious.repair_allowed_on(date("2027-05-31")));
        assert_eq!(
            serious.status_on(date("2028-01-01"), Some(date("2027-06-01"))),
            PublicityStatus::EndedByRepair
        );
    }

    #[test]
    fn simple_procedure_and_warnings_are_never_published() {
        let policy = PublicityPolicy::default();
        let mut facts = penalty(Severity::Serious);
        facts.simple_procedure = true;
        assert_eq!(policy.penalty_period(&facts), PublicityPeriod::NotPublished);
        let mut facts = penalty(Severity::General);
        facts.warning_only = true;
        assert_eq!(policy.penalty_period(&facts), PublicityPeriod::NotPublished);
    }

    #[test]
    fn a_locality_may_publish_minor_penalties_up_to_3_months() {
        let policy = PublicityPolicy {
            minor_months: 3,
            ..PublicityPolicy::default()
        };
        assert!(policy.validate().is_ok());
        let period = policy.penalty_period(&penalty(Severity::Minor));
        assert!(period.repair_allowed_on(date("2026-05-31")));
        let too_long = PublicityPolicy {
            minor_months: 4,
            ..PublicityPolicy::default()
        };
        assert!(too_long.validate().is_err());
    }

    #[test]
    fn severity_parses_chinese_and_english() {
        assert_eq!("严重".parse(), Ok(Severity::Serious));
        assert_eq!("general".parse(), Ok(Severity::General));
        assert!("grave".parse::<Severity>().is_err());
    }
}
