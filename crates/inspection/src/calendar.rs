//! Working days, for the rule that results are published within 20 working
//! days of the inspection.
//!
//! Weekends are rest days unless listed as make-up working days (调休);
//! listed holidays are rest days. The lists come from the State Council's
//! yearly notice, entered by an administrator: the crate ships none, so that
//! no guessed holiday ever moves a legal deadline.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Results must be public within this many working days.
pub const PUBLICATION_WORKING_DAYS: u32 = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    pub holidays: BTreeSet<NaiveDate>,
    pub working_weekends: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        match day.weekday() {
            Weekday::Sat | Weekday::Sun => self.working_weekends.contains(&day),
            _ => true,
        }
    }

    /// The `n`th working day after `day` (day itself not counted).
    pub fn add_working_days(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut current = day;
        let mut left = n;
        while left > 0 {
            current = current
                .checked_add_days(Days::new(1))
                .unwrap_or(NaiveDate::MAX);
            if current == NaiveDate::MAX {
                return current;
            }
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        current
    }

    /// Working days in `(from, to]`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .filter(|d| self.is_working_day(*d))
            .count() as u32
    }

    /// The last day a result of an inspection ending on `inspected_on` may be
    /// published.
    pub fn publication_due(&self, inspected_on: NaiveDate) -> NaiveDate {
        self.add_working_days(inspected_on, PUBLICATION_WORKING_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn twenty_working_days_skip_weekends() {
        let calendar = WorkCalendar::default();
        // Monday 2026-03-02 + 20 working days = Monday 2026-03-30
        assert_eq!(
            calendar.publication_due(day("2026-03-02")),
            day("2026-03-30")
        );
        assert_eq!(
            calendar.working_days_between(day("2026-03-02"), day("2026-03-30")),
            20
        );
    }

    #[test]
    fn holidays_and_make_up_days_count() {
        let mut calendar = WorkCalendar::default();
        calendar.holidays.insert(day("2026-03-03"));
        calendar.working_weekends.insert(day("2026-03-07"));
        // one holiday lost, one Saturday gained: same due day
        assert_eq!(
            calendar.publication_due(day("2026-03-02")),
            day("2026-03-30")
        );
        calendar.holidays.insert(day("2026-03-04"));
        assert_eq!(
            calendar.publication_due(day("2026-03-02")),
            day("2026-03-31")
        );
        assert!(!calendar.is_working_day(day("2026-03-08")));
    }
}
