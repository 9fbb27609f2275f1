//! A fresh PostgreSQL database for a test. The server comes from
//! `XINYONG_TEST_POSTGRES` (default: the local server at 127.0.0.1:5432,
//! database `test`, trust authentication).

/// The administrative URL tests connect to first.
pub fn admin_url() -> String {
    std::env::var("XINYONG_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A database of its own, dropped (with its connections) when this is.
pub struct FreshDatabase {
    pub url: String,
    name: String,
}

/// A new, empty database named after `name` and this process, or `None`
/// when the test should be skipped because no server answers (see
/// [`crate::needs`]).
pub fn fresh(name: &str) -> Option<FreshDatabase> {
    let name = format!("xinyong_test_{}_{}", identifier(name), std::process::id());
    let url = recreate(&name)?;
    Some(FreshDatabase { url, name })
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let _ = crate::execute_sql(
            &admin_url(),
            vec![format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}

/// Drops the database `name` if it exists and creates it empty; its URL, or
/// `None` when the test should be skipped because no server answers (see
/// [`crate::needs`]). Nothing drops it afterwards: a suite that names its
/// databases after its fixtures replaces them on its next run.
pub fn recreate(name: &str) -> Option<String> {
    let admin = admin_url();
    let reachable = crate::execute_sql(&admin, vec!["SELECT 1".to_string()]);
    if !crate::needs(
        "PostgreSQL (set XINYONG_TEST_POSTGRES)",
        reachable.map_err(|e| format!("none at {admin}: {e}")),
    ) {
        return None;
    }
    crate::execute_sql(
        &admin,
        vec![
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ],
    )
    .unwrap();
    Some(url_of(name))
}

/// The URL of the database `name` on the test server.
pub fn url_of(name: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// `text` as a PostgreSQL identifier: lowercase letters, digits and `_`.
pub fn identifier(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}
