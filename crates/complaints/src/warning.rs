//! Warnings made from signals: their kinds, states, who moves each one,
//! and when one is overdue.
//!
//! ```text
//!            ┌─regulator (edit)─┐
//!            ▼                  │
//! draft ─────┴──regulator──▶ approved ─regulator (issue)─▶ sent ─recipient─▶ acknowledged ─regulator─▶ resolved
//!   │                           │                           │                  │
//!   │                           └──regulator──▶ draft       └───────┬──────────┘
//!   └──regulator──▶ discarded                                        ├─regulator─▶ superseded (by its successor)
//!                                                                    └─regulator─▶ withdrawn (consumer alerts)
//! ```
//!
//! A regulator drafts a warning from a signal and edits it; another
//! regulator approves it (four eyes: the approver is not the last editor);
//! a regulator issues it, which sends it: an administrative notice to the
//! business, a risk report to the industry's authority or association,
//! and a consumer alert to the public pages. From then on it is never
//! changed: a correction is a new warning that supersedes it. The
//! recipient acknowledges a notice or a report (a regulator records it for
//! an association, which has no account); a regulator marks it resolved. A
//! consumer alert is not acknowledged: it is withdrawn or superseded when
//! it no longer holds. Deadlines to acknowledge and to resolve run from the
//! day it was sent; [`overdue`] says which has passed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a warning is and whom it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 行政提示: to a business.
    AdministrativeNotice,
    /// 消费提示: to the public.
    ConsumerAlert,
    /// 风险分析报告: to an industry authority or association.
    RiskReport,
}

impl Kind {
    pub const ALL: [Kind; 3] = [
        Kind::AdministrativeNotice,
        Kind::ConsumerAlert,
        Kind::RiskReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AdministrativeNotice => "administrative_notice",
            Kind::ConsumerAlert => "consumer_alert",
            Kind::RiskReport => "risk_report",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Kind::AdministrativeNotice => "行政提示",
            Kind::ConsumerAlert => "消费提示",
            Kind::RiskReport => "风险分析报告",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Kind::AdministrativeNotice => "administrative notice",
            Kind::ConsumerAlert => "consumer alert",
            Kind::RiskReport => "risk analysis report",
        }
    }

    /// Whether a recipient acknowledges it (a consumer alert has none).
    pub fn acknowledged(self) -> bool {
        !matches!(self, Kind::ConsumerAlert)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Approved,
    Sent,
    Acknowledged,
    Resolved,
    Discarded,
    Superseded,
    Withdrawn,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Draft,
        State::Approved,
        State::Sent,
        State::Acknowledged,
        State::Resolved,
        State::Discarded,
        State::Superseded,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Approved => "approved",
            State::Sent => "sent",
            State::Acknowledged => "acknowledged",
            State::Resolved => "resolved",
            State::Discarded => "discarded",
            State::Superseded => "superseded",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            State::Draft => "草稿",
            State::Approved => "已审核",
            State::Sent => "已发出",
            State::Acknowledged => "已签收",
            State::Resolved => "已办结",
            State::Discarded => "已作废",
            State::Superseded => "已被替代",
            State::Withdrawn => "已撤回",
        }
    }

    /// Issued: sent, and never to be edited again.
    pub fn is_issued(self) -> bool {
        matches!(
            self,
            State::Sent
                | State::Acknowledged
                | State::Resolved
                | State::Superseded
                | State::Withdrawn
        )
    }

    /// No move leaves this state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Resolved | State::Discarded | State::Superseded | State::Withdrawn
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Regulator,
    /// The business, the department, or a regulator on behalf of an
    /// association.
    Recipient,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Regulator => "regulator",
            Party::Recipient => "recipient",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("a {kind} that is {from} cannot become {to}")]
    Illegal {
        kind: &'static str,
        from: State,
        to: State,
    },
    #[error("only the {allowed} moves a warning from {from} to {to}")]
    WrongParty {
        from: State,
        to: State,
        allowed: &'static str,
    },
    #[error("the regulator who last edited a warning cannot approve it")]
    OwnApproval,
    #[error("{0} needs its reason")]
    ReasonNeeded(State),
}

/// Who may move a warning of `kind` from `from` to `to`, if anyone may.
/// Editing a draft is the move from draft to draft.
pub fn mover(kind: Kind, from: State, to: State) -> Option<Party> {
    use State::*;
    match (from, to) {
        (Draft, Draft | Approved | Discarded)
        | (Approved, Draft | Sent)
        | (Sent | Acknowledged, Superseded) => Some(Party::Regulator),
        (Sent, Acknowledged) if kind.acknowledged() => Some(Party::Recipient),
        (Acknowledged, Resolved) if kind.acknowledged() => Some(Party::Regulator),
        (Sent, Withdrawn) if !kind.acknowledged() => Some(Party::Regulator),
        _ => None,
    }
}

/// Checks one move. `last_editor_is_actor` says whether the one approving
/// is the one who last edited the draft; discarding, withdrawing and
/// superseding need a reason.
pub fn check(
    kind: Kind,
    from: State,
    to: State,
    by: Party,
    last_editor_is_actor: bool,
    reason: &str,
) -> Result<(), MoveError> {
    let Some(allowed) = mover(kind, from, to) else {
        return Err(MoveError::Illegal {
            kind: kind.as_str(),
            from,
            to,
        });
    };
    if allowed != by {
        return Err(MoveError::WrongParty {
            from,
            to,
            allowed: allowed.as_str(),
        });
    }
    if to == State::Approved && last_editor_is_actor {
        return Err(MoveError::OwnApproval);
    }
    if matches!(to, State::Discarded | State::Withdrawn | State::Superseded)
        && reason.trim().is_empty()
    {
        return Err(MoveError::ReasonNeeded(to));
    }
    Ok(())
}

/// The states a warning in `from` may move to, by `by`.
pub fn next_states(kind: Kind, from: State, by: Party) -> Vec<State> {
    State::ALL
        .into_iter()
        .filter(|to| *to != from && mover(kind, from, *to) == Some(by))
        .collect()
}

/// Days, from the day it was sent, within which a warning is to be
/// acknowledged and resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    pub acknowledge_days: i64,
    pub resolve_days: i64,
}

impl Default for Deadlines {
    fn default() -> Deadlines {
        Deadlines {
            acknowledge_days: 5,
            resolve_days: 30,
        }
    }
}

/// Which deadline of a sent warning has passed on `today` (day numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdue {
    Acknowledgement,
    Resolution,
}

impl Overdue {
    pub fn name_zh(self) -> &'static str {
        match self {
            Overdue::Acknowledgement => "逾期未签收",
            Overdue::Resolution => "逾期未办结",
        }
    }
}

/// A warning past a deadline: not acknowledged `acknowledge_days` after it
/// was sent, or not resolved `resolve_days` after. A consumer alert, a
/// warning not yet sent and one that is final are never overdue.
pub fn overdue(
    kind: Kind,
    state: State,
    sent_day: Option<i64>,
    today: i64,
    deadlines: &Deadlines,
) -> Option<Overdue> {
    let sent = sent_day?;
    if !kind.acknowledged() || state.is_final() {
        return None;
    }
    match state {
        State::Sent if today > sent + deadlines.acknowledge_days => Some(Overdue::Acknowledgement),
        State::Sent | State::Acknowledged if today > sent + deadlines.resolve_days => {
            Some(Overdue::Resolution)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_notice_goes_from_draft_to_resolved() {
        use State::*;
        let kind = Kind::AdministrativeNotice;
        let path = [
            (Draft, Draft, Party::Regulator),
            (Draft, Approved, Party::Regulator),
            (Approved, Sent, Party::Regulator),
            (Sent, Acknowledged, Party::Recipient),
            (Acknowledged, Resolved, Party::Regulator),
        ];
        for (from, to, by) in path {
            assert_eq!(
                check(kind, from, to, by, false, ""),
                Ok(()),
                "{from} → {to}"
            );
        }
    }

    #[test]
    fn only_regulators_issue_and_not_their_own_draft_unseen() {
        let kind = Kind::ConsumerAlert;
        assert!(matches!(
            check(
                kind,
                State::Approved,
                State::Sent,
                Party::Recipient,
                false,
                ""
            ),
            Err(MoveError::WrongParty { .. })
        ));
        assert_eq!(
            check(
                kind,
                State::Draft,
                State::Approved,
                Party::Regulator,
                true,
                ""
            ),
            Err(MoveError::OwnApproval)
        );
    }

    #[test]
    fn an_issued_warning_is_never_edited_only_superseded() {
        for kind in Kind::ALL {
            for from in State::ALL.into_iter().filter(|s| s.is_issued()) {
                for by in [Party::Regulator, Party::Recipient] {
                    assert!(check(kind, from, State::Draft, by, false, "x").is_err());
                    assert!(check(kind, from, from, by, false, "x").is_err(), "{from}");
                }
            }
            assert!(
                check(
                    kind,
                    State::Sent,
                    State::Superseded,
                    Party::Regulator,
                    false,
                    ""
                ) == Err(MoveError::ReasonNeeded(State::Superseded))
            );
        }
    }

    #[test]
    fn consumer_alerts_are_withdrawn_not_acknowledged() {
        let alert = Kind::ConsumerAlert;
        assert_eq!(
            next_states(alert, State::Sent, Party::Regulator),
            vec![State::Superseded, State::Withdrawn]
        );
        assert!(next_states(alert, State::Sent, Party::Recipient).is_empty());
        let notice = Kind::AdministrativeNotice;
        assert_eq!(
            next_states(notice, State::Sent, Party::Recipient),
            vec![State::Acknowledged]
        );
    }

    #[test]
    fn deadlines_mark_what_is_late() {
        let d = Deadlines::default();
        let notice = Kind::RiskReport;
        assert_eq!(overdue(notice, State::Sent, Some(100), 105, &d), None);
        assert_eq!(
            overdue(notice, State::Sent, Some(100), 106, &d),
            Some(Overdue::Acknowledgement)
        );
        assert_eq!(
            overdue(notice, State::Acknowledged, Some(100), 131, &d),
            Some(Overdue::Resolution)
        );
        assert_eq!(overdue(notice, State::Resolved, Some(100), 500, &d), None);
        assert_eq!(overdue(notice, State::Draft, None, 500, &d), None);
        assert_eq!(
            overdue(Kind::ConsumerAlert, State::Sent, Some(100), 500, &d),
            None
        );
    }

    proptest! {
        /// From any state, by anyone: a move is allowed exactly when the
        /// table names that party, nothing leaves a final state, and
        /// nothing issued goes back to a draft.
        #[test]
        fn the_table_decides(
            kind in prop::sample::select(Kind::ALL.to_vec()),
            from in prop::sample::select(State::ALL.to_vec()),
            to in prop::sample::select(State::ALL.to_vec()),
            regulator in any::<bool>(),
        ) {
            let by = if regulator { Party::Regulator } else { Party::Recipient };
            let allowed = check(kind, from, to, by, false, "reason").is_ok();
            prop_assert_eq!(allowed, mover(kind, from, to) == Some(by));
            if from.is_final() {
                prop_assert!(!allowed);
            }
            if from.is_issued() && !to.is_issued() {
                prop_assert!(!allowed);
            }
        }
    }
}
