//! A consistent copy of the operational store, taken while it is in use,
//! and its restoration into an empty store.
//!
//! - SQLite: `VACUUM INTO`, one read transaction: the copy is the database
//!   as of one moment, writers going on meanwhile (WAL).
//! - PostgreSQL: `pg_dump --format=custom`, which reads in one snapshot;
//!   restored with `pg_restore` into an empty database.

use std::path::Path;
use std::process::Command;

use crate::{Backend, Store, StoreError};

/// The file a backup of each backend writes, inside its directory.
pub fn file_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "xinyong.db",
        Backend::Postgres => "store.pgdump",
    }
}

impl Store {
    /// Writes a consistent copy of the store into `dir` (which must exist)
    /// as [`file_name`]. `url` is the one the store was opened with: the
    /// PostgreSQL copy is taken by `pg_dump`, a process of its own.
    pub async fn backup_into(&self, url: &str, dir: &Path) -> Result<(), StoreError> {
        let target = dir.join(file_name(self.backend));
        match self.backend {
            Backend::Sqlite => {
                let path = target.display().to_string();
                if path.contains('\0') {
                    return Err(StoreError::Conflict(format!("cannot back up into {path}")));
                }
                // A read transaction (writers, the server's included, go on
                // under WAL), though on the writer connection: the read
                // connections are `query_only`, which refuses `VACUUM`.
                sqlx::query(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
            Backend::Postgres => run(
                Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--file"])
                    .arg(&target)
                    .arg(url),
                "pg_dump",
            ),
        }
    }
}

/// Restores a backup's PostgreSQL copy into the database at `url`, which
/// must be empty (no store opened on it yet): in one transaction, so a
/// database that is not empty is refused and left as it was. A SQLite copy
/// is a database file: the caller puts it in place.
pub fn restore_postgres(url: &str, dir: &Path) -> Result<(), StoreError> {
    run(
        Command::new("pg_restore")
            .args([
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
            ])
            .arg(url)
            .arg(dir.join(file_name(Backend::Postgres))),
        "pg_restore",
    )
}

fn run(command: &mut Command, name: &str) -> Result<(), StoreError> {
    let output = command.output().map_err(|e| {
        StoreError::Conflict(format!(
            "cannot run {name} (is the PostgreSQL client installed?): {e}"
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "{name} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}
