//! `xinyong risk` on an ingested synthetic city: training with a hold-out,
//! features that never see past their as-of date, screening into classes,
//! and an entity's risk with reasons.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn xinyong(data: &Path) -> Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, None)
}

fn stdout(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Feature rows of one entity from an exported feature file.
fn row_of(file: &Path, subject: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(file).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for record in reader.records() {
        let record = record.unwrap();
        if &record[0] == subject {
            return header
                .iter()
                .cloned()
                .zip(record.iter().map(String::from))
                .collect();
        }
    }
    panic!("{subject} not in {}", file.display());
}

#[test]
fn train_screen_and_show_on_an_ingested_city() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let city = dir.path().join("city");
    let config = sim::SimConfig {
        entities: 4000,
        seed: 5,
        dirty_rate: 0.0,
        formats: vec![sim::Format::Csv],
        ..sim::SimConfig::default()
    };
    sim::write_city(&config, &city, |_| {}).unwrap();
    xinyong(&data).arg("init").assert().success();
    xinyong(&data)
        .args(["ingest", "--manifest"])
        .arg(city.join("manifest.json"))
        .assert()
        .success();

    // Features as of a date do not change when later records arrive.
    let before = dir.path().join("before.csv");
    let before_later = dir.path().join("before_later.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2024-01-01", "--out"])
        .arg(&before)
        .assert()
        .success();
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2025-01-01", "--out"])
        .arg(&before_later)
        .assert()
        .success();
    let subject = {
        let mut reader = csv::Reader::from_path(&before).unwrap();
        reader.records().next().unwrap().unwrap()[0].to_string()
    };
    let late = dir.path().join("late_tax.csv");
    std::fs::write(
        &late,
        format!(
            "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n\
             {subject},2024-06,consumption,10000,500,100,2024-07-10\n"
        ),
    )
    .unwrap();
    xinyong(&data)
        .args(["ingest", "--item", "tax_payment", "--source", "tax"])
        .arg(&late)
        .assert()
        .success();
    let after = dir.path().join("after.csv");
    let after_later = dir.path().join("after_later.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2024-01-01", "--out"])
        .arg(&after)
        .assert()
        .success();
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2025-01-01", "--out"])
        .arg(&after_later)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&before).unwrap() == std::fs::read_to_string(&after).unwrap(),
        "a record dated after the as-of date changed the features"
    );
    let field = |row: &[(String, String)], name: &str| -> f64 {
        row.iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    let (old, new) = (
        row_of(&before_later, &subject),
        row_of(&after_later, &subject),
    );
    assert_eq!(
        field(&new, "tax_short_months_1y"),
        field(&old, "tax_short_months_1y") + 1.0
    );
    assert!((field(&new, "tax_paid_1y") - field(&old, "tax_paid_1y") - 100.0).abs() < 1e-6);

    // Training: a year to learn from, the next to validate on.
    let trained = stdout(xinyong(&data).args(["risk", "train"]));
    assert!(trained.contains("risk model v1-2025-01-01-1"), "{trained}");
    assert!(
        trained.contains("trained on features as of 2024-01-01"),
        "{trained}"
    );
    assert!(
        trained.contains("hold-out from 2025-01-01 to 2026-01-01"),
        "{trained}"
    );

    // Screening with the default shares, then with cut-offs.
    let screened = stdout(xinyong(&data).args(["risk", "screen"]));
    assert!(screened.contains("screening 1:"), "{screened}");
    assert!(screened.contains("as of 2026-01-01"), "{screened}");
    let share = |class: &str| -> f64 {
        let line = screened
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{class} ")))
            .unwrap();
        let percent = line.rsplit('(').next().unwrap().trim_end_matches("%)");
        percent.parse().unwrap()
    };
    assert!((share("A") - 65.0).abs() < 8.0, "{screened}");
    assert!(share("D") < 6.0, "{screened}");
    xinyong(&data)
        .args(["risk", "screen", "--cutoffs", "700,600,500"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "cut-offs: A from 700, B from 600, C from 500",
        ))
        .stdout(predicate::str::contains("changed class since screening 1"));
    xinyong(&data)
        .args(["risk", "screen", "--shares", "0.5,0.5,0.5,0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add up to"));

    // An entity's risk, with reasons, and its history of two screenings.
    let shown = stdout(xinyong(&data).args(["risk", "show", &subject]));
    assert!(shown.contains("class "), "{shown}");
    assert!(shown.contains("model v1-2025-01-01-1"), "{shown}");
    let history: Value = serde_json::from_str(&stdout(
        xinyong(&data).args(["risk", "show", "--json", &subject]),
    ))
    .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);
    let reasons: Value =
        serde_json::from_str(history[0]["score"]["reasons_json"].as_str().unwrap()).unwrap();
    for reason in reasons.as_array().unwrap() {
        assert!(reason["points"].as_u64().unwrap() > 0);
    }
}
