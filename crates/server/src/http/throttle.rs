//! Per-address throttles and the request log of the public's refusals.
//!
//! An attempt is counted *before* the work it asks for (a password hash, a
//! claim), under the lock, so concurrent requests cannot all pass a check
//! made before any of them is recorded. The public's refused requests are
//! counted here and logged with `tracing`, not chained in the audit log:
//! anyone can make them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::Failure;
use crate::AppState;

pub const MAX_FAILURES_PER_MINUTE: u32 = 10;

pub const MAX_REGISTRATIONS_PER_HOUR: u32 = 10;

pub const MAX_CONFIRMATIONS_PER_HOUR: u32 = 30;

pub const MAX_ANONYMOUS_DENIALS_PER_MINUTE: u32 = 120;

/// The public's calls to the public API and open-data files, per minute.
pub const MAX_PUBLIC_API_PER_MINUTE: u32 = 120;

/// What the per-address throttle counts, each with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attempt {
    /// Sign-in attempts that did not succeed.
    SignIn,
    /// Claims to speak for an enterprise.
    Register,
    /// Confirmations of a claim's code.
    Confirm,
    /// Requests by the public that were refused.
    AnonymousDenial,
    /// The public's calls to the public API and open-data files.
    PublicApi,
}

impl Attempt {
    /// At most this many in one window of [`Attempt::window`].
    fn limit(self) -> u32 {
        match self {
            Attempt::SignIn => MAX_FAILURES_PER_MINUTE,
            Attempt::Register => MAX_REGISTRATIONS_PER_HOUR,
            Attempt::Confirm => MAX_CONFIRMATIONS_PER_HOUR,
            Attempt::AnonymousDenial => MAX_ANONYMOUS_DENIALS_PER_MINUTE,
            Attempt::PublicApi => MAX_PUBLIC_API_PER_MINUTE,
        }
    }

    fn window(self) -> Duration {
        match self {
            Attempt::SignIn | Attempt::AnonymousDenial | Attempt::PublicApi => {
                Duration::from_secs(60)
            }
            Attempt::Register | Attempt::Confirm => Duration::from_secs(3600),
        }
    }
}

/// Attempts per client address and kind, in fixed windows. An attempt is
/// counted *before* the work it asks for (a password hash, a claim), under
/// the lock, so concurrent requests cannot all pass a check made before
/// any of them is recorded.
#[derive(Default)]
pub struct Throttle {
    attempts: HashMap<(Attempt, IpAddr), (Instant, u32)>,
}

impl Throttle {
    /// Counts one attempt; false when the address has used up its window.
    pub fn admit(&mut self, kind: Attempt, ip: IpAddr) -> bool {
        let now = Instant::now();
        self.attempts
            .retain(|(k, _), (start, _)| now.duration_since(*start) < k.window());
        let entry = self.attempts.entry((kind, ip)).or_insert((now, 0));
        if entry.1 >= kind.limit() {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Takes back an attempt that turned out not to count (a sign-in that
    /// succeeded).
    pub fn forgive(&mut self, kind: Attempt, ip: IpAddr) {
        if let Some(entry) = self.attempts.get_mut(&(kind, ip)) {
            entry.1 = entry.1.saturating_sub(1);
        }
    }
}

/// Requests by the public that were refused, by action, since the server
/// started: the request log's counts, shown to the admin beside the audit
/// log. They are not chained: anyone can make them, and a chained entry
/// each would let anyone fill the chain and hold its lock.
#[derive(Default)]
pub struct RefusedCounts {
    by_action: std::collections::BTreeMap<&'static str, u64>,
}

impl RefusedCounts {
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        self.by_action.iter().map(|(a, n)| (*a, *n)).collect()
    }
}

/// Records a refusal of the public's request in the request log and counts
/// it against the address; past [`MAX_ANONYMOUS_DENIALS_PER_MINUTE`] the
/// address gets "too many attempts" instead of a sign-in prompt.
pub fn refused_anonymously(
    state: &AppState,
    ip: IpAddr,
    action: &'static str,
    subject: &str,
) -> Result<(), Failure> {
    tracing::info!(%ip, action, subject, "refused: not signed in");
    if let Ok(mut counts) = state.refused.lock() {
        *counts.by_action.entry(action).or_default() += 1;
    }
    if admit(state, Attempt::AnonymousDenial, ip) {
        Ok(())
    } else {
        Err(Failure::TooManyAttempts)
    }
}

/// Counts an attempt of `kind` from `ip`; a poisoned lock admits nothing.
pub fn admit(state: &AppState, kind: Attempt, ip: IpAddr) -> bool {
    state
        .throttle
        .lock()
        .map(|mut t| t.admit(kind, ip))
        .unwrap_or(false)
}
