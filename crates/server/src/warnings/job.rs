//! Detection in the background: every so often, when complaint batches
//! have been stored since the last run, every detector runs over the
//! recent days and the signals are stored for regulators to draft from.
//! The last batch a run saw is kept in the store (`job_runs`), so a
//! restarted server does not redo a run.

use std::time::Duration;

use crate::Shared;

/// The job's name in `job_runs`.
pub const JOB: &str = "complaint_detection";
/// Signals starting this many days before the latest complaint are
/// looked for; earlier ones were stored by earlier runs.
pub const RECENT_DAYS: u64 = 90;

/// Checks every `every` and runs when there is something new.
pub fn spawn(state: Shared, every: Duration) {
    tokio::spawn(async move {
        loop {
            match round(&state).await {
                Ok(Some(found)) => tracing::info!(
                    "detection: {} signals from {} to {} ({} new, {} updated)",
                    found.signals,
                    found.from,
                    found.to,
                    found.saved.added,
                    found.saved.updated
                ),
                Ok(None) => {}
                Err(e) => tracing::error!("detection: {e}"),
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// One round: a run when a complaint batch newer than the last run's
/// marker has been stored; `None` when there was nothing to do.
pub async fn round(state: &Shared) -> Result<Option<warnings::Detection>, String> {
    let latest = state
        .store
        .batch_mark_of("complaint")
        .await
        .map_err(|e| e.to_string())?;
    let seen = state
        .store
        .job_marker(JOB)
        .await
        .map_err(|e| e.to_string())?;
    if latest <= seen {
        return Ok(None);
    }
    let sql = lake::sql::Sql::over(&state.lake, &state.catalog)
        .await
        .map_err(|e| e.to_string())?;
    let at = crate::stamp(chrono::Utc::now());
    let found = warnings::detect_and_save(
        &state.store,
        &sql,
        warnings::Start::DaysBefore(RECENT_DAYS),
        None,
        &complaints::detect::Config::default(),
        complaints::link::DEFAULT_THRESHOLD,
        &at,
    )
    .await
    .map_err(|e| e.to_string())?;
    state
        .store
        .set_job_marker(JOB, latest, &crate::stamp(chrono::Utc::now()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(found)
}
