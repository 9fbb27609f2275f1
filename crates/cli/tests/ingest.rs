//! `xinyong init`, `ingest`, `batch` and `entity` on a real data directory,
//! on SQLite and on PostgreSQL, including a process killed mid-batch.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn xinyong(data: &Path, database_url: Option<&str>) -> Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, database_url)
}

fn city(dir: &Path, entities: u32) -> PathBuf {
    let out = dir.join("city");
    let config = sim::SimConfig {
        entities,
        seed: 3,
        years: 1,
        dirty_rate: 0.03,
        ..sim::SimConfig::default()
    };
    sim::write_city(&config, &out, |_| {}).unwrap();
    out.join("manifest.json")
}

fn json(command: &mut Command) -> Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What a data directory holds, without ids and times.
fn state(data: &Path, url: Option<&str>, subjects: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    let batches = json(xinyong(data, url).args(["batch", "list", "--json"]));
    for b in batches.as_array().unwrap() {
        out.push(serde_json::json!([
            b["department"],
            b["item"],
            b["file_name"],
            b["rows_in"],
            b["accepted"],
            b["quarantined"],
            b["report"]["by_reason"]
        ]));
    }
    for subject in subjects {
        let mut shown = json(xinyong(data, url).args(["entity", "show", "--json", subject]));
        for event in shown["events"].as_array_mut().unwrap() {
            event.as_object_mut().unwrap().remove("batch_id");
        }
        out.push(shown);
    }
    out
}

/// The lake's files, relative to it, with their sizes in rows' worth: the
/// names carry batch ids, which a rerun reproduces.
fn lake_files(data: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("lake"), &data.join("lake"), &mut out);
    out.retain(|f| !f.starts_with("_staging"));
    out.sort();
    out
}

fn subjects(manifest: &Path, n: usize) -> Vec<String> {
    let mut codes = testkit::truth::codes(manifest.parent().unwrap());
    codes.truncate(n);
    codes
}

fn ingest_city_and_check(data: &Path, url: Option<&str>, manifest: &Path) -> Vec<Value> {
    xinyong(data, url)
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("36 items"));
    let reports = json(
        xinyong(data, url)
            .args(["ingest", "--json", "--manifest"])
            .arg(manifest),
    );
    let manifest_json: Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(
        reports.len(),
        manifest_json["batches"].as_array().unwrap().len()
    );
    for report in reports {
        assert_eq!(report["status"], "committed", "{report}");
        let batch = &report["batch"];
        assert_eq!(
            batch["rows_in"].as_i64().unwrap(),
            batch["accepted"].as_i64().unwrap() + batch["quarantined"].as_i64().unwrap(),
            "{batch}"
        );
    }
    // Registration came first and registered the entities.
    assert_eq!(reports[0]["batch"]["item"], "registration");
    let subjects = subjects(manifest, 5);
    let before = state(data, url, &subjects);

    // Idempotent: the same batches again add nothing.
    let again = json(
        xinyong(data, url)
            .args(["ingest", "--json", "--manifest"])
            .arg(manifest),
    );
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "already_ingested")
    );
    assert_eq!(state(data, url, &subjects), before);
    before
}

#[test]
fn ingest_a_city_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = city(dir.path(), 400);
    let data = dir.path().join("data");
    let state = ingest_city_and_check(&data, None, &manifest);
    assert!(!state.is_empty());

    // Quality per department and item adds up to the batches.
    let quality = json(xinyong(&data, None).args(["quality", "--json"]));
    let batches = json(xinyong(&data, None).args(["batch", "list", "--json"]));
    let rows = |v: &Value, key: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|q| q[key].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(rows(&quality, "rows"), rows(&batches, "rows_in"));
    assert_eq!(rows(&quality, "quarantined"), rows(&batches, "quarantined"));
    for q in quality.as_array().unwrap() {
        let expected = q["quarantined"].as_f64().unwrap() / q["rows"].as_f64().unwrap().max(1.0);
        assert!((q["error_rate"].as_f64().unwrap() - expected).abs() < 1e-9);
    }
    let tax = json(xinyong(&data, None).args(["quality", "--json", "--source", "tax"]));
    assert!(
        tax.as_array()
            .unwrap()
            .iter()
            .all(|q| q["department"] == "tax")
    );
    assert!(
        tax.as_array()
            .unwrap()
            .iter()
            .any(|q| q["item"] == "tax_payment" && q["over_time"].as_array().unwrap().len() == 12)
    );

    // SQL over the lake and the registry agrees with the batches.
    let accepted_tax: i64 = batches
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["item"] == "tax_payment")
        .map(|b| b["accepted"].as_i64().unwrap())
        .sum();
    let counted = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM tax_payment",
    ]));
    assert_eq!(counted[0]["n"], serde_json::json!(accepted_tax));
    let quarantined = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM quarantine",
    ]));
    assert_eq!(
        quarantined[0]["n"],
        serde_json::json!(rows(&batches, "quarantined"))
    );
    // JSON keeps the columns' types: numbers (decimals with every digit),
    // booleans, and text for the rest.
    let typed = xinyong(&data, None)
        .args([
            "sql",
            "--format",
            "json",
            "SELECT amount_paid, period, amount_paid > 0 AS paid FROM tax_payment LIMIT 1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(typed.stdout).unwrap();
    let typed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(typed[0]["amount_paid"].is_number(), "{text}");
    assert!(typed[0]["period"].is_string(), "{text}");
    assert!(typed[0]["paid"].is_boolean(), "{text}");
    let amount = text
        .split("\"amount_paid\": ")
        .nth(1)
        .and_then(|rest| rest.split([',', '\n']).next())
        .unwrap();
    assert_eq!(amount.split('.').nth(1).map(str::len), Some(6), "{text}");
    let joined = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM registration r JOIN entities e ON e.uscc = r.subject",
    ]));
    let registered = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM entities",
    ]));
    assert_eq!(joined[0]["n"], registered[0]["n"]);
    xinyong(&data, None)
        .args(["sql", "SELEC 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Expected: an SQL statement"));

    // A batch report names its reasons; an entity shows its summaries.
    let report = json(xinyong(&data, None).args(["batch", "show", "1", "--json"]));
    assert_eq!(report["item"], "registration");
    assert!(report["report"]["by_reason"].as_object().is_some());
    let subject = subjects(&manifest, 1).remove(0);
    xinyong(&data, None)
        .args(["entity", "show", &subject])
        .assert()
        .success()
        .stdout(predicate::str::contains(subject.as_str()))
        .stdout(
            predicate::str::contains("tax_payment")
                .or(predicate::str::contains("electricity_usage")),
        );
}

/// pyarrow, installed from PyPI when missing.
fn ensure_pyarrow() {
    let present = std::process::Command::new("python3")
        .args(["-c", "import pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        let status = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "pyarrow"])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "cannot install pyarrow for the independent-reader test"
        );
    }
}

#[test]
fn the_lake_is_read_back_by_an_independent_parquet_reader() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = city(dir.path(), 400);
    let data = dir.path().join("data");
    xinyong(&data, None)
        .args(["ingest", "--manifest"])
        .arg(&manifest)
        .assert()
        .success();
    let batches = json(xinyong(&data, None).args(["batch", "list", "--json"]));
    let mut accepted: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let mut quarantined = 0;
    for b in batches.as_array().unwrap() {
        *accepted
            .entry(b["item"].as_str().unwrap().to_string())
            .or_default() += b["accepted"].as_i64().unwrap();
        quarantined += b["quarantined"].as_i64().unwrap();
    }
    accepted.retain(|_, n| *n > 0);

    ensure_pyarrow();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_lake.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .arg(data.join("lake"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    let read: std::collections::BTreeMap<String, i64> = found["items"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect();
    assert_eq!(
        read, accepted,
        "rows in the lake per item = accepted rows per item"
    );
    assert_eq!(found["quarantined"].as_i64().unwrap(), quarantined);
    assert_eq!(found["unsorted"], serde_json::json!([]));
    let columns = found["columns"]["tax_payment"].as_array().unwrap();
    for lineage in [
        "_subject_sent",
        "_department",
        "_batch",
        "_row",
        "_ingested_at",
        "year",
        "month",
    ] {
        assert!(columns.iter().any(|c| c == lineage), "no {lineage} column");
    }
    assert!(
        !data.join("lake/_staging").exists()
            || std::fs::read_dir(data.join("lake/_staging"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn records_sent_again_are_duplicates_of_stored_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let manifest = city(dir.path(), 30);
    let listed: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    let registration = listed["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["item"] == "registration")
        .unwrap();
    xinyong(&data, None)
        .args(["ingest", "--item", "registration", "--source", "samr"])
        .arg(
            manifest
                .parent()
                .unwrap()
                .join(registration["file"].as_str().unwrap()),
        )
        .assert()
        .success();
    let found = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT subject FROM registration ORDER BY subject LIMIT 1",
    ]));
    let subject = found[0]["subject"].as_str().unwrap().to_string();
    let header = "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on";
    let file = |name: &str, rows: &[&str]| {
        let path = dir.path().join(name);
        let body: Vec<String> = rows.iter().map(|r| format!("{subject},{r}")).collect();
        std::fs::write(&path, format!("{header}\n{}\n", body.join("\n"))).unwrap();
        path
    };
    let ingest = |files: &[&Path]| {
        let mut command = xinyong(&data, None);
        command.args([
            "ingest",
            "--json",
            "--item",
            "tax_payment",
            "--source",
            "tax",
        ]);
        command.args(files);
        let output = command.output().unwrap();
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let first = file(
        "first.csv",
        &[
            "2024-03,vat,1000,30,30,2024-04-10",
            "2024-04,vat,1000,30,30,2024-05-10",
        ],
    );
    assert_eq!(ingest(&[&first])[0]["batch"]["accepted"], 2);

    // A failed batch's rows are not remembered: a later batch may bring them.
    let broken = file(
        "broken.csv",
        &["2024-06,vat,1000,30,30,2024-07-10", "2024-07"],
    );
    let later = file(
        "later.csv",
        &[
            "2024-03,vat,1000,30,30,2024-04-10",
            "2024-04,vat,1000,30,29,2024-05-10",
            "2024-05,vat,1000,30,30,2024-06-10",
            "2024-06,vat,1000,30,30,2024-07-10",
        ],
    );
    let reports = ingest(&[&broken, &later]);
    assert_eq!(reports[0]["status"], "failed");
    let batch = &reports[1]["batch"];
    assert_eq!(batch["accepted"], 2, "{batch}");
    assert_eq!(batch["report"]["by_reason"]["duplicate"], 1, "{batch}");
    assert_eq!(
        batch["report"]["by_reason"]["duplicate_conflict"], 1,
        "{batch}"
    );
    assert_eq!(batch["report"]["duplicates_of_stored"], 2, "{batch}");

    // Keys survive the process: a new run sees every stored record.
    let again = file("again.csv", &["2024-06,vat,1000,30,30,2024-07-10"]);
    let batch = &ingest(&[&again])[0]["batch"];
    assert_eq!(batch["accepted"], 0, "{batch}");
    assert_eq!(batch["report"]["duplicates_of_stored"], 1, "{batch}");
    let keys = lake_files(&data)
        .into_iter()
        .filter(|f| f.starts_with("_keys/item=tax_payment/"))
        .count();
    assert_eq!(keys, 2, "one key file per batch that accepted records");
}

#[test]
fn a_bad_file_changes_nothing_and_names_file_row_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    xinyong(&data, None).arg("init").assert().success();
    let good = dir.path().join("tax.csv");
    std::fs::write(
        &good,
        "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n91440606722473344C,2024-03,vat,1000,30,30,2024-04-10\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n91440606722473344C,2024-03,vat,1000,30,30,2024-04-10\n91440606722473344C,2024-04\n",
    )
    .unwrap();
    xinyong(&data, None)
        .args(["ingest", "--item", "tax_payment", "--source", "tax"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "bad.csv, row 2: has 2 columns, the header has 7",
        ));
    let batches = json(xinyong(&data, None).args(["batch", "list", "--json"]));
    assert_eq!(
        batches.as_array().unwrap().len(),
        0,
        "a failed batch leaves no trace"
    );

    // The good file is a batch; its subject is unknown to the empty registry.
    let report = json(
        xinyong(&data, None)
            .args([
                "ingest",
                "--json",
                "--item",
                "tax_payment",
                "--source",
                "tax",
            ])
            .arg(&good),
    );
    assert_eq!(
        report[0]["batch"]["report"]["by_reason"]["unknown_entity"],
        1
    );

    // A department may only send its own items.
    xinyong(&data, None)
        .args(["ingest", "--item", "tax_payment", "--source", "water"])
        .arg(&good)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "department 'water' may not send item 'tax_payment'",
        ));
}

#[test]
fn a_killed_ingest_leaves_no_trace_and_a_rerun_ends_in_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = city(dir.path(), 1_500);
    let subjects = subjects(&manifest, 5);

    let reference = dir.path().join("reference");
    xinyong(&reference, None)
        .args(["ingest", "--manifest"])
        .arg(&manifest)
        .assert()
        .success();
    let expected = state(&reference, None, &subjects);

    let killed = dir.path().join("killed");
    for delay in [150, 400, 900] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("xinyong"))
            .arg("--data-dir")
            .arg(&killed)
            .args(["ingest", "--manifest"])
            .arg(&manifest)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever was committed reconciles; nothing half-written shows.
        if killed.join("xinyong.db").exists() {
            let batches = json(xinyong(&killed, None).args(["batch", "list", "--json"]));
            for b in batches.as_array().unwrap() {
                assert_eq!(
                    b["rows_in"].as_i64().unwrap(),
                    b["accepted"].as_i64().unwrap() + b["quarantined"].as_i64().unwrap()
                );
                assert!(
                    b["report"]["item"].is_string(),
                    "a batch without its report: {b}"
                );
            }
        }
    }
    xinyong(&killed, None)
        .args(["ingest", "--manifest"])
        .arg(&manifest)
        .assert()
        .success();
    assert_eq!(state(&killed, None, &subjects), expected);
    assert_eq!(
        lake_files(&killed),
        lake_files(&reference),
        "the lake ends the same"
    );
    let staging = std::fs::read_dir(killed.join("lake/_staging"));
    assert!(
        staging.map_or(true, |mut d| d.next().is_none()),
        "staging is left over"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_a_city_into_postgres_with_the_same_result() {
    let Some(db) = testkit::postgres::fresh("cli_ingest") else {
        return;
    };
    let url = db.url.clone();

    let dir = tempfile::tempdir().unwrap();
    let manifest = city(dir.path(), 300);
    let (on_sqlite, on_postgres) = {
        let dir = dir.path().to_path_buf();
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let sqlite = ingest_city_and_check(&dir.join("sqlite"), None, &manifest);
            let postgres = ingest_city_and_check(&dir.join("pg"), Some(&url), &manifest);
            (sqlite, postgres)
        })
        .await
        .unwrap()
    };
    assert_eq!(on_sqlite, on_postgres);
}
