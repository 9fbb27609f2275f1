//! Loan applications: their states, which party moves each one, and how
//! long an application spent in each state.
//!
//! ```text
//! submitted ─bank─▶ accepted ─bank─▶ under_review ─bank─▶ approved ─bank─▶ disbursed
//!     │                 │                  └──bank──▶ rejected (with a reason)
//!     │                 └─────────bank────────────▶ rejected
//!     └──bank──▶ rejected
//! submitted, accepted, under_review ─enterprise─▶ withdrawn
//! ```
//!
//! The enterprise submits (and may withdraw until a decision); the bank
//! accepts, reviews, decides and reports the disbursed loan. The issue's
//! "accepted" is the bank's acceptance, so an application starts as
//! `submitted`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Accepted,
    UnderReview,
    Approved,
    Rejected,
    Disbursed,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Submitted,
        State::Accepted,
        State::UnderReview,
        State::Approved,
        State::Rejected,
        State::Disbursed,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Accepted => "accepted",
            State::UnderReview => "under_review",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Disbursed => "disbursed",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// No transition leaves this state.
    pub fn is_final(self) -> bool {
        matches!(self, State::Rejected | State::Disbursed | State::Withdrawn)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Enterprise,
    Bank,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Enterprise => "enterprise",
            Party::Bank => "bank",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("an application that is {from} cannot become {to}")]
    Illegal { from: State, to: State },
    #[error("only the {allowed} moves an application from {from} to {to}")]
    WrongParty {
        from: State,
        to: State,
        allowed: &'static str,
    },
    #[error("a rejection needs its reason")]
    ReasonNeeded,
}

/// Who may move an application from `from` to `to`, if anyone may.
pub fn mover(from: State, to: State) -> Option<Party> {
    use State::*;
    match (from, to) {
        (Submitted, Accepted)
        | (Accepted, UnderReview)
        | (UnderReview, Approved)
        | (Submitted | Accepted | UnderReview, Rejected)
        | (Approved, Disbursed) => Some(Party::Bank),
        (Submitted | Accepted | UnderReview, Withdrawn) => Some(Party::Enterprise),
        _ => None,
    }
}

/// Checks one transition by one party; a rejection must say why.
pub fn check(from: State, to: State, by: Party, reason: &str) -> Result<(), TransitionError> {
    let Some(allowed) = mover(from, to) else {
        return Err(TransitionError::Illegal { from, to });
    };
    if allowed != by {
        return Err(TransitionError::WrongParty {
            from,
            to,
            allowed: allowed.as_str(),
        });
    }
    if to == State::Rejected && reason.trim().is_empty() {
        return Err(TransitionError::ReasonNeeded);
    }
    Ok(())
}

/// The states an application in `from` may move to, by `by`.
pub fn next_states(from: State, by: Party) -> Vec<State> {
    State::ALL
        .into_iter()
        .filter(|to| mover(from, *to) == Some(by))
        .collect()
}

/// An application entering a state at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    pub state: State,
    pub at: DateTime<Utc>,
}

/// Seconds spent in each state, from the ordered history of states
/// entered; the current state counts up to `now` unless it is final.
pub fn time_in_states(history: &[Entered], now: DateTime<Utc>) -> Vec<(State, i64)> {
    let mut out: Vec<(State, i64)> = Vec::new();
    for (k, entered) in history.iter().enumerate() {
        let until = match history.get(k + 1) {
            Some(next) => next.at,
            None if entered.state.is_final() => continue,
            None => now,
        };
        let seconds = (until - entered.at).num_seconds().max(0);
        match out.iter_mut().find(|(s, _)| *s == entered.state) {
            Some((_, total)) => *total += seconds,
            None => out.push((entered.state, seconds)),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_its_name() {
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn final_states_have_no_way_out() {
        for from in State::ALL.into_iter().filter(|s| s.is_final()) {
            for to in State::ALL {
                assert_eq!(mover(from, to), None, "{from} → {to}");
            }
        }
    }
}
