//! Helpers the tests of several crates share, and nothing else: this crate
//! is a dev-dependency only and never reaches the binary.
//!
//! - [`needs`]: a test that needs PostgreSQL or Chromium is skipped, saying
//!   so, on a machine without them, and fails under CI (`CI` set), where
//!   `.ci/run` makes them mandatory.
//! - [`postgres`]: a fresh PostgreSQL database per test, dropped afterwards.
//! - [`xinyong`]: the command line with a data directory and, when given, a
//!   database URL, isolated from the caller's environment.
//! - [`execute_sql`]: statements against a test's database, either backend.
//! - [`truth`]: the synthetic city's answer key (`truth/*.csv`).
//! - [`hostile`]: hostile workbooks, and a child process's peak memory.

#![allow(clippy::unwrap_used)]

pub mod hostile;
pub mod postgres;
pub mod truth;

use std::io::Write;
use std::path::Path;

/// Whether the test may go on: `true` when `available`; otherwise `false`
/// after saying why on a developer's machine, and a failure under CI.
pub fn needs(what: &str, available: Result<(), String>) -> bool {
    match available {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_none() => {
            skipped(&format!("needs {what}: {why}"));
            false
        }
        Err(why) => panic!("under CI this test must run, and it needs {what}: {why}"),
    }
}

/// Says that the running test was skipped, and why. Straight to the
/// process's stderr: the harness captures `eprintln!` of a passing test,
/// and this must be seen.
pub fn skipped(why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "skipped ({}): {why}",
        std::thread::current().name().unwrap_or("a test")
    );
}

/// Debian's Chromium and its WebDriver (`apt-get install chromium
/// chromium-driver`; `.ci/run` installs them).
pub fn chromium() -> Result<(), String> {
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(program).exists() {
            return Err(format!(
                "no {program} (apt-get install chromium chromium-driver)"
            ));
        }
    }
    Ok(())
}

/// The `xinyong` binary at `binary` (a test passes
/// `env!("CARGO_BIN_EXE_xinyong")`) on the data directory `data`, with the
/// state in `database_url` when given; variables from the caller's shell that
/// would change what it opens are removed.
pub fn xinyong(binary: &str, data: &Path, database_url: Option<&str>) -> assert_cmd::Command {
    assert_cmd::Command::from_std(process(binary, data, database_url))
}

/// [`xinyong`] as a std command, to run in the background or measured.
pub fn process(binary: &str, data: &Path, database_url: Option<&str>) -> std::process::Command {
    let mut command = std::process::Command::new(binary);
    command
        .env_remove("XINYONG_CATALOG")
        .env_remove("XINYONG_DATABASE_URL")
        .env_remove("XINYONG_DATA_DIR")
        .arg("--data-dir")
        .arg(data);
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    command
}

/// Runs a command that must succeed and prints JSON; its output parsed.
pub fn json(command: &mut assert_cmd::Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs `work` on a connection to the database at `url` (SQLite or
/// PostgreSQL), on a thread and runtime of its own, so that a synchronous
/// test, an asynchronous one and a `Drop` can all call it.
fn on_connection<T, F>(url: &str, work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: AsyncFnOnce(&mut sqlx::AnyConnection, &str) -> Result<T, String> + Send + 'static,
{
    use sqlx::Connection;
    let url = url.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&url)
                .await
                .map_err(|e| e.to_string())?;
            let done = work(&mut conn, &url).await?;
            conn.close().await.map_err(|e| e.to_string())?;
            Ok(done)
        })
    })
    .join()
    .unwrap_or_else(|_| Err("the database thread panicked".to_string()))
}

/// Runs `statements` in order on the database at `url` (see
/// [`on_connection`]).
pub fn execute_sql(url: &str, statements: Vec<String>) -> Result<(), String> {
    on_connection(url, async move |conn, _| {
        for statement in &statements {
            sqlx::query(statement)
                .execute(&mut *conn)
                .await
                .map_err(|e| format!("{statement}: {e}"))?;
        }
        Ok(())
    })
}

/// The number of rows of every table of the database at `url` (SQLite or
/// PostgreSQL), by name: a test compares two of these to show a refused
/// request stored nothing.
pub fn table_counts(url: &str) -> Result<std::collections::BTreeMap<String, i64>, String> {
    use sqlx::Row;
    on_connection(url, async |conn, url| {
        let list = if url.starts_with("sqlite:") {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        } else {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"
        };
        let names: Vec<String> = sqlx::query(list)
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let mut counts = std::collections::BTreeMap::new();
        for name in names {
            let count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{name}\""))
                .fetch_one(&mut *conn)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| format!("{name}: {e}"))?;
            counts.insert(name, count);
        }
        Ok(counts)
    })
}
