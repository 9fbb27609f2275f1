//! Consent: a bank reads an enterprise's credit information only under a
//! live authorisation the enterprise granted to that bank, whose scope
//! covers every group of information read.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Groups of information an authorisation can cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Registration,
    Tax,
    /// Social insurance and housing fund.
    SocialInsurance,
    Utilities,
    /// Penalties and lists in their publicity periods.
    PenaltiesAndLists,
    Court,
    IntellectualProperty,
    /// The platform's financing-oriented score and grade.
    CreditProfile,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::Registration,
        Scope::Tax,
        Scope::SocialInsurance,
        Scope::Utilities,
        Scope::PenaltiesAndLists,
        Scope::Court,
        Scope::IntellectualProperty,
        Scope::CreditProfile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Registration => "registration",
            Scope::Tax => "tax",
            Scope::SocialInsurance => "social_insurance",
            Scope::Utilities => "utilities",
            Scope::PenaltiesAndLists => "penalties_and_lists",
            Scope::Court => "court",
            Scope::IntellectualProperty => "intellectual_property",
            Scope::CreditProfile => "credit_profile",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an enterprise granted one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorisation {
    pub id: i64,
    /// USCC of the granting enterprise.
    pub enterprise: String,
    pub bank: String,
    /// Set when the grant is for one application only.
    pub application: Option<i64>,
    pub scope: BTreeSet<Scope>,
    pub purpose: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Authorisation {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.granted_at <= now && now < self.expires_at && self.revoked_at.is_none_or(|r| now < r)
    }
}

/// A bank's request to read an enterprise's information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access<'a> {
    pub bank: &'a str,
    pub enterprise: &'a str,
    /// The application the read is for, if any.
    pub application: Option<i64>,
    pub needs: &'a BTreeSet<Scope>,
    pub now: DateTime<Utc>,
}

/// The outcome of a consent check, with the reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allowed {
        authorisation: i64,
    },
    /// The enterprise never authorised this bank.
    NoAuthorisation,
    /// Every grant to this bank has expired.
    Expired {
        authorisation: i64,
        expired_at: DateTime<Utc>,
    },
    /// Every grant to this bank was revoked.
    Revoked {
        authorisation: i64,
        revoked_at: DateTime<Utc>,
    },
    /// A live grant exists but does not cover these groups.
    OutOfScope {
        authorisation: i64,
        missing: Vec<Scope>,
    },
    /// The live grant is for another application.
    OtherApplication {
        authorisation: i64,
    },
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    pub fn reason(&self) -> String {
        match self {
            Decision::Allowed { authorisation } => format!("authorised by grant {authorisation}"),
            Decision::NoAuthorisation => "the enterprise has not authorised this bank".to_string(),
            Decision::Expired {
                authorisation,
                expired_at,
            } => {
                format!("grant {authorisation} expired at {expired_at}")
            }
            Decision::Revoked {
                authorisation,
                revoked_at,
            } => {
                format!("grant {authorisation} was revoked at {revoked_at}")
            }
            Decision::OutOfScope {
                authorisation,
                missing,
            } => format!(
                "grant {authorisation} does not cover {}",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Decision::OtherApplication { authorisation } => {
                format!("grant {authorisation} is for another application")
            }
        }
    }
}

/// What happens to the grants made for one application when it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantsOnMove {
    /// Nothing: the application is still being decided.
    Keep,
    /// They end now: the purpose they were given for is gone.
    End,
    /// They last until the loan's last day (unless revoked sooner): the
    /// bank monitors the loan it made.
    LastUntil(DateTime<Utc>),
}

/// The rule for grants bound to an application: withdrawn or rejected, the
/// application no longer needs them and they end at once; disbursed, they
/// last for the loan's term from the disbursement, whatever expiry they
/// were given (an enterprise may still revoke them); other moves keep them.
pub fn grants_on_move(
    to: crate::workflow::State,
    loan: Option<(chrono::NaiveDate, u32)>,
) -> GrantsOnMove {
    use crate::workflow::State;
    match (to, loan) {
        (State::Withdrawn | State::Rejected, _) => GrantsOnMove::End,
        (State::Disbursed, Some((disbursed_on, term_months))) => {
            let end = disbursed_on
                .checked_add_months(chrono::Months::new(term_months))
                .unwrap_or(disbursed_on);
            GrantsOnMove::LastUntil(end.and_time(chrono::NaiveTime::MIN).and_utc())
        }
        _ => GrantsOnMove::Keep,
    }
}

/// Decides a read against the enterprise's grants. Only grants from this
/// enterprise to this bank count; another bank's grant never does. When no
/// grant allows the read, the reason is the closest miss: out of scope
/// before other application, before revoked, before expired.
pub fn check(grants: &[Authorisation], access: &Access<'_>) -> Decision {
    let mine: Vec<&Authorisation> = grants
        .iter()
        .filter(|g| g.enterprise == access.enterprise && g.bank == access.bank)
        .collect();
    if mine.is_empty() {
        return Decision::NoAuthorisation;
    }
    let mut best: Option<(u8, Decision)> = None;
    let mut consider = |rank: u8, decision: Decision| {
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, decision));
        }
    };
    for grant in &mine {
        if let Some(revoked_at) = grant.revoked_at
            && revoked_at <= access.now
        {
            consider(
                3,
                Decision::Revoked {
                    authorisation: grant.id,
                    revoked_at,
                },
            );
            continue;
        }
        if !grant.is_live(access.now) {
            consider(
                4,
                Decision::Expired {
                    authorisation: grant.id,
                    expired_at: grant.expires_at,
                },
            );
            continue;
        }
        if let Some(application) = grant.application
            && access.application != Some(application)
        {
            consider(
                2,
                Decision::OtherApplication {
                    authorisation: grant.id,
                },
            );
            continue;
        }
        let missing: Vec<Scope> = access.needs.difference(&grant.scope).copied().collect();
        if !missing.is_empty() {
            consider(
                1,
                Decision::OutOfScope {
                    authorisation: grant.id,
                    missing,
                },
            );
            continue;
        }
        return Decision::Allowed {
            authorisation: grant.id,
        };
    }
    best.map(|(_, d)| d).unwrap_or(Decision::NoAuthorisation)
}
