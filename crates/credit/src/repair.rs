//! Credit repair (信用修复): after the minimum publicity period, a subject
//! that has corrected its conduct and fulfilled its obligations, and makes
//! a public credit commitment, asks the credit centre to end the
//! publicity of one record early (DOMAIN.md §7; 《信用修复管理办法》,
//! NDRC order 2025 No. 36).
//!
//! ```text
//! submitted ─credit centre─▶ approved (publicity and sharing of the record stop)
//!     └──────credit centre──▶ rejected (with reasons)
//! submitted ─enterprise─▶ withdrawn
//! ```
//!
//! Which records may be repaired ([`eligible`]): those published for a
//! period by severity (administrative penalties), inside the window from
//! the end of the minimum period to the end of the maximum one. A record
//! never published has nothing to repair; one past its maximum period is
//! no longer published anyway. Entries on a list (serious violation,
//! abnormal operation, dishonest debtors…) leave it by the list's own
//! removal procedure (移出), not by repair.

use std::fmt;

use chrono::NaiveDate;
use domain::catalog::Publicity;
use domain::publicity::PublicityPeriod;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 4] = [
        State::Submitted,
        State::Approved,
        State::Rejected,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            State::Submitted => "已提交，审核中",
            State::Approved => "修复通过",
            State::Rejected => "不予修复",
            State::Withdrawn => "已撤回",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            State::Submitted => "submitted, under review",
            State::Approved => "repaired",
            State::Rejected => "refused",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on a repair application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Enterprise,
    CreditCentre,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Enterprise => "enterprise",
            Party::CreditCentre => "credit centre",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("a repair application that is {from} cannot become {to}")]
    Illegal { from: State, to: State },
    #[error("only the {allowed} moves a repair application from {from} to {to}")]
    WrongParty {
        from: State,
        to: State,
        allowed: &'static str,
    },
    #[error("this decision needs its reasons")]
    ReasonNeeded,
}

/// The one table of moves.
pub fn mover(from: State, to: State) -> Option<Party> {
    use State::*;
    match (from, to) {
        (Submitted, Approved | Rejected) => Some(Party::CreditCentre),
        (Submitted, Withdrawn) => Some(Party::Enterprise),
        _ => None,
    }
}

/// Checks one move by one party; the credit centre's decisions say why.
pub fn check(from: State, to: State, by: Party, reasons: &str) -> Result<(), MoveError> {
    let Some(allowed) = mover(from, to) else {
        return Err(MoveError::Illegal { from, to });
    };
    if allowed != by {
        return Err(MoveError::WrongParty {
            from,
            to,
            allowed: allowed.as_str(),
        });
    }
    if by == Party::CreditCentre && reasons.trim().is_empty() {
        return Err(MoveError::ReasonNeeded);
    }
    Ok(())
}

/// The states `by` may move an application in `from` to.
pub fn next_states(from: State, by: Party) -> Vec<State> {
    State::ALL
        .into_iter()
        .filter(|to| mover(from, *to) == Some(by))
        .collect()
}

/// Why a record cannot be repaired on a day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    #[error(
        "records of this item are not repaired: a list entry leaves its list by the list's own removal procedure"
    )]
    NotRepairable,
    #[error("this record was never published: there is nothing to repair")]
    NeverPublished,
    #[error("repair may be asked from {repair_from}, when the minimum publicity period ends")]
    TooEarly { repair_from: NaiveDate },
    #[error("publicity ended on {until} at the maximum period: there is nothing left to repair")]
    Expired { until: NaiveDate },
    #[error("this record is repaired already")]
    Repaired,
    #[error("an application for this record is under review already")]
    Pending,
    #[error("the proof of correction and the credit commitment are both needed")]
    Incomplete,
}

impl Refusal {
    pub fn message_zh(&self) -> String {
        match self {
            Refusal::NotRepairable => {
                "该类记录不适用信用修复：名单类记录按名单的移出程序办理".into()
            }
            Refusal::NeverPublished => "该记录未公示，无需修复".into(),
            Refusal::TooEarly { repair_from } => {
                format!("最短公示期届满后方可申请修复：{repair_from} 起可申请")
            }
            Refusal::Expired { until } => {
                format!("该记录已于 {until} 公示期满自动停止公示，无需修复")
            }
            Refusal::Repaired => "该记录已修复".into(),
            Refusal::Pending => "该记录已有审核中的修复申请".into(),
            Refusal::Incomplete => {
                "须提交已纠正失信行为、履行法定义务的证明材料和信用承诺书".into()
            }
        }
    }
}

/// Whether a record of an item with this publicity and period may be
/// repaired on `day` (the store's facts — repaired already, pending — are
/// the caller's).
pub fn eligible(
    publicity: &Publicity,
    period: PublicityPeriod,
    day: NaiveDate,
) -> Result<(), Refusal> {
    if !matches!(publicity, Publicity::PenaltyPeriod { .. }) {
        return Err(Refusal::NotRepairable);
    }
    let PublicityPeriod::Published {
        repair_from, until, ..
    } = period
    else {
        return Err(Refusal::NeverPublished);
    };
    if day >= until {
        return Err(Refusal::Expired { until });
    }
    if day < repair_from {
        return Err(Refusal::TooEarly { repair_from });
    }
    Ok(())
}

/// Working days the credit centre has to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub review_days: u32,
}

impl Default for Deadlines {
    fn default() -> Deadlines {
        Deadlines { review_days: 5 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::publicity::{PenaltyFacts, PublicityPolicy, Severity};

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn penalty_period(severity: Severity) -> PublicityPeriod {
        PublicityPolicy::default().penalty_period(&PenaltyFacts {
            severity,
            simple_procedure: false,
            warning_only: false,
            decision_date: date("2026-01-15"),
        })
    }

    #[test]
    fn repair_opens_after_the_minimum_period_and_closes_at_the_maximum() {
        let penalty = Publicity::PenaltyPeriod {
            date_field: "decided_on".into(),
            severity_field: "severity".into(),
        };
        let general = penalty_period(Severity::General);
        assert_eq!(
            eligible(&penalty, general, date("2026-04-14")),
            Err(Refusal::TooEarly {
                repair_from: date("2026-04-15")
            })
        );
        assert_eq!(eligible(&penalty, general, date("2026-04-15")), Ok(()));
        assert_eq!(
            eligible(&penalty, general, date("2027-01-15")),
            Err(Refusal::Expired {
                until: date("2027-01-15")
            })
        );
        assert_eq!(
            eligible(
                &penalty,
                penalty_period(Severity::Minor),
                date("2026-06-01")
            ),
            Err(Refusal::NeverPublished)
        );
        let list = Publicity::WhileListed {
            from_field: "listed_on".into(),
            until_field: "removed_on".into(),
        };
        assert_eq!(
            eligible(&list, general, date("2026-06-01")),
            Err(Refusal::NotRepairable)
        );
    }

    #[test]
    fn only_the_credit_centre_decides() {
        use State::*;
        assert_eq!(
            check(Submitted, Approved, Party::CreditCentre, "paid"),
            Ok(())
        );
        assert_eq!(
            check(Submitted, Rejected, Party::CreditCentre, ""),
            Err(MoveError::ReasonNeeded)
        );
        assert!(check(Submitted, Approved, Party::Enterprise, "x").is_err());
        assert!(check(Approved, Withdrawn, Party::Enterprise, "").is_err());
        assert_eq!(check(Submitted, Withdrawn, Party::Enterprise, ""), Ok(()));
    }
}
