//! Objections (异议): an enterprise contests one of its records; the
//! department that owns the record decides (DOMAIN.md §7).
//!
//! ```text
//! submitted ─department─▶ accepted ─department─▶ confirmed (the record stands)
//!     │                       └──────department──▶ corrected (a new version replaces it)
//!     └──department──▶ rejected (not admissible)
//! submitted, accepted ─enterprise─▶ withdrawn
//! ```
//!
//! "Department" is the department that owns the record's catalog item, or
//! the credit centre acting for it. Every decision carries its reasons.
//! While an objection is submitted or accepted the record is marked
//! "under objection" wherever it appears. Deadlines run in working days of
//! the platform's calendar: to accept or reject from submission, and to
//! confirm or correct from acceptance.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Accepted,
    Rejected,
    Confirmed,
    Corrected,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Submitted,
        State::Accepted,
        State::Rejected,
        State::Confirmed,
        State::Corrected,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Accepted => "accepted",
            State::Rejected => "rejected",
            State::Confirmed => "confirmed",
            State::Corrected => "corrected",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            State::Submitted => "已提交",
            State::Accepted => "已受理，核查中",
            State::Rejected => "不予受理",
            State::Confirmed => "核实无误，维持原记录",
            State::Corrected => "已更正",
            State::Withdrawn => "已撤回",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Accepted => "accepted, being verified",
            State::Rejected => "rejected",
            State::Confirmed => "confirmed, the record stands",
            State::Corrected => "corrected",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// The record is marked "under objection" in this state.
    pub fn is_open(self) -> bool {
        matches!(self, State::Submitted | State::Accepted)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Grounds for an objection (DOMAIN.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    Error,
    Omission,
    Duplicate,
    ShouldNotBePublic,
    PastItsPeriod,
    MismatchWithAuthority,
}

impl Ground {
    pub const ALL: [Ground; 6] = [
        Ground::Error,
        Ground::Omission,
        Ground::Duplicate,
        Ground::ShouldNotBePublic,
        Ground::PastItsPeriod,
        Ground::MismatchWithAuthority,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ground::Error => "error",
            Ground::Omission => "omission",
            Ground::Duplicate => "duplicate",
            Ground::ShouldNotBePublic => "should_not_be_public",
            Ground::PastItsPeriod => "past_its_period",
            Ground::MismatchWithAuthority => "mismatch_with_authority",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Ground::Error => "信息有误",
            Ground::Omission => "信息遗漏",
            Ground::Duplicate => "重复记录",
            Ground::ShouldNotBePublic => "不应公开",
            Ground::PastItsPeriod => "超过公示期限仍在公示",
            Ground::MismatchWithAuthority => "与认定单位信息不一致",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Ground::Error => "the record is wrong",
            Ground::Omission => "something is missing",
            Ground::Duplicate => "a duplicate",
            Ground::ShouldNotBePublic => "should not be public",
            Ground::PastItsPeriod => "published past its period",
            Ground::MismatchWithAuthority => "differs from the issuing authority's",
        }
    }

    pub fn parse(text: &str) -> Option<Ground> {
        Ground::ALL.into_iter().find(|g| g.as_str() == text.trim())
    }
}

/// Who acts on an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Enterprise,
    Department,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Enterprise => "enterprise",
            Party::Department => "department",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("an objection that is {from} cannot become {to}")]
    Illegal { from: State, to: State },
    #[error("only the {allowed} moves an objection from {from} to {to}")]
    WrongParty {
        from: State,
        to: State,
        allowed: &'static str,
    },
    #[error("this decision needs its reasons")]
    ReasonNeeded,
}

/// Who may move an objection from `from` to `to`, if anyone may: the one
/// table of moves.
pub fn mover(from: State, to: State) -> Option<Party> {
    use State::*;
    match (from, to) {
        (Submitted, Accepted | Rejected) | (Accepted, Confirmed | Corrected) => {
            Some(Party::Department)
        }
        (Submitted | Accepted, Withdrawn) => Some(Party::Enterprise),
        _ => None,
    }
}

/// Checks one move by one party; every department decision says why.
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
    if by == Party::Department && reasons.trim().is_empty() {
        return Err(MoveError::ReasonNeeded);
    }
    Ok(())
}

/// The states `by` may move an objection in `from` to.
pub fn next_states(from: State, by: Party) -> Vec<State> {
    State::ALL
        .into_iter()
        .filter(|to| mover(from, *to) == Some(by))
        .collect()
}

/// Working days allowed for each step (one city's rule: accept within 2,
/// verify within 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub accept_days: u32,
    pub decide_days: u32,
}

impl Default for Deadlines {
    fn default() -> Deadlines {
        Deadlines {
            accept_days: 2,
            decide_days: 10,
        }
    }
}

impl Deadlines {
    /// Working days the department has in `state`, if it must act.
    pub fn for_state(&self, state: State) -> Option<u32> {
        match state {
            State::Submitted => Some(self.accept_days),
            State::Accepted => Some(self.decide_days),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_department_decides_and_says_why() {
        use State::*;
        assert_eq!(
            check(Submitted, Accepted, Party::Department, "admissible"),
            Ok(())
        );
        assert_eq!(
            check(Submitted, Accepted, Party::Department, " "),
            Err(MoveError::ReasonNeeded)
        );
        assert!(matches!(
            check(Submitted, Accepted, Party::Enterprise, "x"),
            Err(MoveError::WrongParty { .. })
        ));
        assert!(matches!(
            check(Submitted, Corrected, Party::Department, "x"),
            Err(MoveError::Illegal { .. })
        ));
        assert_eq!(check(Accepted, Withdrawn, Party::Enterprise, ""), Ok(()));
        assert_eq!(
            next_states(Accepted, Party::Department),
            vec![Confirmed, Corrected]
        );
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
            let closed = State::ALL.into_iter().all(|to| mover(state, to).is_none());
            assert_eq!(closed, !state.is_open(), "{state}");
        }
    }
}
