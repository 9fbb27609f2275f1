//! `xinyong backup` while the server runs and an ingest races it, and
//! `xinyong restore`: the copy is consistent (every batch's rows in the lake,
//! the audit chain whole), and a copy of a quiet platform answers exactly
//! as the original. On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use testkit::json;

fn xinyong(data: &Path, url: Option<&str>) -> assert_cmd::Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, url)
}

fn process(data: &Path, database_url: Option<&str>) -> Command {
    testkit::process(env!("CARGO_BIN_EXE_xinyong"), data, database_url)
}

/// A running `xinyong serve`, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path, url: Option<&str>) -> Server {
        let mut child = process(data, url)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        Server { child, base }
    }

    fn get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.base);
        let body = std::thread::spawn(move || {
            tokio::runtime::Runtime::new()
                .unwrap()
                .block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
        });
        body.join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything the platform answers about its data, without times.
fn answers(data: &Path, url: Option<&str>, subjects: &[String]) -> Vec<Value> {
    let mut out = vec![json(xinyong(data, url).args(["batch", "list", "--json"]))];
    for subject in subjects {
        out.push(json(
            xinyong(data, url).args(["entity", "show", "--json", subject]),
        ));
    }
    let audit = json(xinyong(data, url).args(["audit", "verify", "--json"]));
    out.push(audit);
    out
}

/// Every batch's accepted rows are in the lake, and the audit log verifies.
fn consistent(data: &Path, url: Option<&str>) {
    let batches = json(xinyong(data, url).args(["batch", "list", "--json"]));
    let mut accepted: std::collections::BTreeMap<String, i64> = Default::default();
    for b in batches.as_array().unwrap() {
        *accepted
            .entry(b["item"].as_str().unwrap().to_string())
            .or_default() += b["accepted"].as_i64().unwrap();
    }
    for (item, accepted) in accepted {
        let query = format!("SELECT COUNT(*) AS n FROM {item}");
        let rows = json(xinyong(data, url).args(["sql", "--format", "json", &query]));
        assert_eq!(rows[0]["n"], accepted, "{item}");
    }
    let audit = json(xinyong(data, url).args(["audit", "verify", "--json"]));
    assert!(audit["first_broken"].is_null(), "{audit}");
}

fn part_manifest(city: &Path, name: &str, batches: &[Value]) -> PathBuf {
    let path = city.join(name);
    std::fs::write(&path, serde_json::json!({ "batches": batches }).to_string()).unwrap();
    path
}

/// `urls`: the original's, the racing copy's and the quiet copy's stores
/// (all `None` for SQLite).
fn round_trip(urls: [Option<&str>; 3]) {
    let [url, raced_url, quiet_url] = urls;
    let dir = tempfile::tempdir().unwrap();
    let city = dir.path().join("city");
    let config = sim::SimConfig {
        entities: 400,
        seed: 7,
        years: 2,
        dirty_rate: 0.02,
        ..sim::SimConfig::default()
    };
    sim::write_city(&config, &city, |_| {}).unwrap();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(city.join("manifest.json")).unwrap())
            .unwrap();
    let batches = manifest["batches"].as_array().unwrap();
    let (first, later): (Vec<Value>, Vec<Value>) = batches
        .iter()
        .cloned()
        .partition(|b| b["item"] == "registration" || b["file"].as_str().unwrap().contains("tax"));
    let first = part_manifest(&city, "first.json", &first);
    let later = part_manifest(&city, "later.json", &later);

    let data = dir.path().join("data");
    xinyong(&data, url)
        .args(["ingest", "--manifest"])
        .arg(&first)
        .assert()
        .success();
    xinyong(&data, url)
        .args([
            "user",
            "add",
            "auditor",
            "--role",
            "admin",
            "--password",
            "a long passphrase 1",
        ])
        .assert()
        .success();
    let server = Server::start(&data, url);
    let subjects: Vec<String> = testkit::truth::codes(&city).into_iter().take(3).collect();
    let page = format!("/public/entity/{}", subjects[0]);
    assert!(server.get(&page).contains(&subjects[0]));

    // Backed up while the server runs and another ingest writes.
    let racing = process(&data, url)
        .args(["ingest", "--manifest"])
        .arg(&later)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let raced = dir.path().join("raced-backup");
    xinyong(&data, url)
        .args(["backup", "--out"])
        .arg(&raced)
        .assert()
        .success();
    assert!(racing.wait_with_output().unwrap().status.success());
    let restored = dir.path().join("raced-restored");
    xinyong(&restored, raced_url)
        .arg("restore")
        .arg(&raced)
        .assert()
        .success();
    consistent(&restored, raced_url);

    // A quiet platform's copy answers exactly as the original.
    let quiet = dir.path().join("quiet-backup");
    xinyong(&data, url)
        .args(["backup", "--out"])
        .arg(&quiet)
        .assert()
        .success();
    let copy = dir.path().join("quiet-restored");
    xinyong(&copy, quiet_url)
        .arg("restore")
        .arg(&quiet)
        .assert()
        .success();
    assert_eq!(
        answers(&copy, quiet_url, &subjects),
        answers(&data, url, &subjects)
    );
    let copy_server = Server::start(&copy, quiet_url);
    assert_eq!(copy_server.get(&page), server.get(&page));
    drop(copy_server);

    // Not over a data directory in use, and not from a damaged copy.
    xinyong(&copy, quiet_url)
        .arg("restore")
        .arg(&quiet)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "is not empty: restore into a new data directory",
        ));
    let backup: Value =
        serde_json::from_str(&std::fs::read_to_string(quiet.join("backup.json")).unwrap()).unwrap();
    let lake_file = backup["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .find(|p| p.starts_with("lake/tax_payment/"))
        .unwrap()
        .to_string();
    let damaged = quiet.join("files").join(&lake_file);
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, bytes).unwrap();
    xinyong(&dir.path().join("damaged"), quiet_url)
        .arg("restore")
        .arg(&quiet)
        .assert()
        .failure()
        .stderr(predicates::str::contains(format!(
            "{lake_file} does not match its hash"
        )));
}

#[test]
fn a_backup_taken_while_in_use_restores_consistent_on_sqlite() {
    round_trip([None, None, None]);
}

#[test]
fn a_backup_taken_while_in_use_restores_consistent_on_postgres() {
    let Some(original) = testkit::postgres::fresh("backup_original") else {
        return;
    };
    let raced = testkit::postgres::fresh("backup_raced").unwrap();
    let quiet = testkit::postgres::fresh("backup_quiet").unwrap();
    round_trip([Some(&original.url), Some(&raced.url), Some(&quiet.url)]);
}
