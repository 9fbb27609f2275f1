//! What every feature's service shares: [`require`], the guard that allows
//! an action or refuses it, auditing a signed-in principal's denial in the
//! chain and counting the public's in the request log.

use crate::AppState;
use crate::access::{Action, Principal, allows};
use crate::http::Failure;

/// Allows `action`, or fails: a signed-in principal's denial is audited
/// in the chain, the public's is counted in the request log
/// ([`crate::http::throttle::refused_anonymously`]).
pub async fn require(
    state: &AppState,
    who: &Principal,
    action: Action<'_>,
    subject: &str,
) -> Result<(), Failure> {
    if allows(who, action) {
        return Ok(());
    }
    if who.is_anonymous() {
        crate::http::throttle::refused_anonymously(state, who.ip, action.name(), subject)?;
        return Err(Failure::SignInNeeded);
    }
    state
        .audit(
            &who.actor,
            action.name(),
            subject,
            "denied",
            serde_json::json!({}),
        )
        .await?;
    Err(Failure::Forbidden)
}

/// Records that `who` read non-public data (`action` names what, `subject`
/// whose): one entry per read. Nothing is shown if it cannot be written.
pub async fn audit_read(
    state: &AppState,
    who: &Principal,
    action: &str,
    subject: &str,
) -> Result<(), Failure> {
    state
        .audit(&who.actor, action, subject, "ok", serde_json::json!({}))
        .await
}
