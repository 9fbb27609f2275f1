//! What became of a disbursed loan, as its bank reports it (DOMAIN.md §8:
//! "the bank reports the loan outcome back"): the states a loan may be
//! reported in, which report may follow which, and whether a loan's
//! reports make it a bad loan for the financing scorecard.
//!
//! ```text
//! current ──▶ overdue (days past due ≥ 1) ──▶ defaulted ──▶ written_off
//!    │  ▲          │  │                          │
//!    │  └──────────┘  └──────────▶ repaid ◀──────┘
//!    └──────────────────────────▶ repaid
//! ```
//!
//! Every report is dated (the day the state held) and reports of one loan
//! must not go back in time. `repaid` and `written_off` are final. A
//! defaulted loan may still be repaid (recovered); it stays a bad loan.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanState {
    Current,
    Overdue,
    Defaulted,
    WrittenOff,
    Repaid,
}

impl LoanState {
    pub const ALL: [LoanState; 5] = [
        LoanState::Current,
        LoanState::Overdue,
        LoanState::Defaulted,
        LoanState::WrittenOff,
        LoanState::Repaid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LoanState::Current => "current",
            LoanState::Overdue => "overdue",
            LoanState::Defaulted => "defaulted",
            LoanState::WrittenOff => "written_off",
            LoanState::Repaid => "repaid",
        }
    }

    /// Also reads `default`, the synthetic city's older word.
    pub fn parse(text: &str) -> Option<LoanState> {
        match text.trim() {
            "default" => Some(LoanState::Defaulted),
            other => LoanState::ALL.into_iter().find(|s| s.as_str() == other),
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            LoanState::Current => "正常",
            LoanState::Overdue => "逾期",
            LoanState::Defaulted => "违约",
            LoanState::WrittenOff => "核销",
            LoanState::Repaid => "已结清",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            LoanState::Current => "current",
            LoanState::Overdue => "overdue",
            LoanState::Defaulted => "defaulted",
            LoanState::WrittenOff => "written off",
            LoanState::Repaid => "repaid",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, LoanState::Repaid | LoanState::WrittenOff)
    }
}

impl fmt::Display for LoanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One report: the state on a day, and days past due when overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub on: NaiveDate,
    pub state: LoanState,
    pub days_past_due: u32,
}

impl Report {
    /// A report as stored: its day (YYYY-MM-DD), state and days past due.
    pub fn parse(on: &str, state: &str, days_past_due: i64) -> Option<Report> {
        Some(Report {
            on: NaiveDate::parse_from_str(on.trim(), "%Y-%m-%d").ok()?,
            state: LoanState::parse(state)?,
            days_past_due: u32::try_from(days_past_due).ok()?,
        })
    }
}

/// [`check`] on what the store holds: the loan's payout day as text and
/// its last report as stored (an unreadable one refuses the new report).
pub fn check_stored(
    disbursed_on: &str,
    last: Option<(&str, &str, i64)>,
    report: &Report,
    today: NaiveDate,
) -> Result<(), ReportError> {
    let disbursed_on =
        NaiveDate::parse_from_str(disbursed_on.trim(), "%Y-%m-%d").map_err(|_| {
            ReportError::Stored(format!(
                "the loan's payout date '{disbursed_on}' is unreadable"
            ))
        })?;
    let last = match last {
        None => None,
        Some((on, state, days)) => Some(Report::parse(on, state, days).ok_or_else(|| {
            ReportError::Stored(format!(
                "the loan's last report ({state} on {on}) is unreadable"
            ))
        })?),
    };
    check(last.as_ref(), disbursed_on, report, today)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("a loan that is {from} cannot be reported {to}")]
    Illegal { from: LoanState, to: LoanState },
    #[error("an overdue loan needs its days past due (1 or more)")]
    DaysNeeded,
    #[error("only an overdue loan has days past due")]
    DaysNotAllowed,
    #[error("a report dated {on} is before the loan was paid out on {disbursed_on}")]
    BeforeDisbursal {
        on: NaiveDate,
        disbursed_on: NaiveDate,
    },
    #[error("a report dated {on} is before the loan's last report, dated {last}")]
    BackInTime { on: NaiveDate, last: NaiveDate },
    #[error("a report dated {on} is in the future")]
    Future { on: NaiveDate },
    /// What the store holds of the loan cannot be read.
    #[error("{0}")]
    Stored(String),
}

impl ReportError {
    /// The field of a report the error is about (empty for the stored
    /// loan's), for a file's problem list.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::Illegal { .. } => "state",
            ReportError::DaysNeeded | ReportError::DaysNotAllowed => "days_past_due",
            ReportError::BeforeDisbursal { .. }
            | ReportError::BackInTime { .. }
            | ReportError::Future { .. } => "reported_on",
            ReportError::Stored(_) => "",
        }
    }
}

/// Whether a loan in `from` may next be reported in `to`.
pub fn may_follow(from: LoanState, to: LoanState) -> bool {
    use LoanState::*;
    matches!(
        (from, to),
        (Current, Current | Overdue | Defaulted | Repaid)
            | (Overdue, Current | Overdue | Defaulted | Repaid)
            | (Defaulted, Defaulted | WrittenOff | Repaid)
    )
}

/// Checks a new report against the loan's last one (`None`: the loan is
/// as disbursed, `current`) and the calendar.
pub fn check(
    last: Option<&Report>,
    disbursed_on: NaiveDate,
    report: &Report,
    today: NaiveDate,
) -> Result<(), ReportError> {
    match (report.state, report.days_past_due) {
        (LoanState::Overdue, 0) => return Err(ReportError::DaysNeeded),
        (LoanState::Overdue, _) | (_, 0) => {}
        _ => return Err(ReportError::DaysNotAllowed),
    }
    if report.on < disbursed_on {
        return Err(ReportError::BeforeDisbursal {
            on: report.on,
            disbursed_on,
        });
    }
    if report.on > today {
        return Err(ReportError::Future { on: report.on });
    }
    let from = last.map_or(LoanState::Current, |l| l.state);
    if let Some(last) = last
        && report.on < last.on
    {
        return Err(ReportError::BackInTime {
            on: report.on,
            last: last.on,
        });
    }
    if !may_follow(from, report.state) {
        return Err(ReportError::Illegal {
            from,
            to: report.state,
        });
    }
    Ok(())
}

/// Days past due from which an overdue loan counts as bad (the usual
/// "30 days past due" line of credit scoring).
pub const BAD_DAYS_PAST_DUE: u32 = 30;

/// Whether a loan's reports make it a bad loan: it defaulted, was written
/// off, or was at least [`BAD_DAYS_PAST_DUE`] days overdue at any report.
pub fn is_bad(reports: &[Report]) -> bool {
    reports.iter().any(|r| match r.state {
        LoanState::Defaulted | LoanState::WrittenOff => true,
        LoanState::Overdue => r.days_past_due >= BAD_DAYS_PAST_DUE,
        LoanState::Current | LoanState::Repaid => false,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    fn report(on: &str, state: LoanState, days: u32) -> Report {
        Report {
            on: day(on),
            state,
            days_past_due: days,
        }
    }

    #[test]
    fn reports_follow_the_diagram() {
        use LoanState::*;
        let out = day("2025-03-01");
        let today = day("2026-01-01");
        let overdue = report("2025-06-01", Overdue, 45);
        assert_eq!(check(None, out, &overdue, today), Ok(()));
        assert_eq!(
            check(
                Some(&overdue),
                out,
                &report("2025-07-01", WrittenOff, 0),
                today
            ),
            Err(ReportError::Illegal {
                from: Overdue,
                to: WrittenOff
            })
        );
        let repaid = report("2025-08-01", Repaid, 0);
        assert_eq!(check(Some(&overdue), out, &repaid, today), Ok(()));
        assert!(check(Some(&repaid), out, &report("2025-09-01", Current, 0), today).is_err());
        assert_eq!(
            check(None, out, &report("2025-06-01", Overdue, 0), today),
            Err(ReportError::DaysNeeded)
        );
        assert_eq!(
            check(None, out, &report("2025-06-01", Current, 3), today),
            Err(ReportError::DaysNotAllowed)
        );
        assert!(matches!(
            check(None, out, &report("2025-01-01", Current, 0), today),
            Err(ReportError::BeforeDisbursal { .. })
        ));
        assert!(matches!(
            check(
                Some(&overdue),
                out,
                &report("2025-05-01", Current, 0),
                today
            ),
            Err(ReportError::BackInTime { .. })
        ));
        assert!(matches!(
            check(None, out, &report("2026-02-01", Current, 0), today),
            Err(ReportError::Future { .. })
        ));
    }

    #[test]
    fn bad_loans() {
        use LoanState::*;
        assert!(!is_bad(&[
            report("2025-06-01", Overdue, 29),
            report("2025-07-01", Repaid, 0)
        ]));
        assert!(is_bad(&[
            report("2025-06-01", Overdue, 30),
            report("2025-07-01", Repaid, 0)
        ]));
        assert!(is_bad(&[
            report("2025-06-01", Defaulted, 0),
            report("2025-09-01", Repaid, 0)
        ]));
        assert!(!is_bad(&[]));
        assert_eq!(LoanState::parse("default"), Some(Defaulted));
        assert_eq!(LoanState::parse("written_off"), Some(WrittenOff));
    }
}
