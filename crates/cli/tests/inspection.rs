//! `xinyong inspection` on an ingested, screened synthetic city: a plan
//! created, committed, drawn, verified from the database and from its
//! exported bundle alone, tampering caught, joint visits merged, results
//! imported into the lake and published.

#![allow(clippy::unwrap_used)]

mod city;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn xinyong(data: &Path) -> Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, None)
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

#[test]
fn plan_commit_draw_verify_export_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let (data, city) = city::ingested(dir.path(), 4000, 5);
    xinyong(&data).args(["risk", "train"]).assert().success();
    xinyong(&data).args(["risk", "screen"]).assert().success();
    xinyong(&data)
        .args(["inspection", "roster", "import", "--inspectors"])
        .arg(city.join("roster/inspectors.csv"))
        .arg("--relationships")
        .arg(city.join("roster/relationships.csv"))
        .arg("--history")
        .arg(city.join("history/inspections.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("inspectors imported"));

    // a bad plan is refused with the rule it breaks
    xinyong(&data)
        .args([
            "inspection",
            "plan",
            "create",
            "--id",
            "BAD",
            "--item",
            "samr.food",
        ])
        .args([
            "--window",
            "2026-01-05..2026-03-31",
            "--inspectors-per-object",
            "1",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 2"));

    xinyong(&data)
        .args([
            "inspection",
            "plan",
            "create",
            "--id",
            "P1",
            "--name",
            "食品经营抽查",
        ])
        .args([
            "--item",
            "samr.annual_report,samr.food",
            "--window",
            "2026-01-05..2026-03-31",
        ])
        .args(["--exclude-inspected-within", "12", "--exclude-open-cases"])
        .assert()
        .success();
    let shown = json(xinyong(&data).args(["inspection", "plan", "show", "P1", "--json"]));
    assert_eq!(shown["state"], "draft");
    xinyong(&data)
        .args(["inspection", "verify", "P1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("draft"));

    xinyong(&data)
        .args(["inspection", "commit", "P1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("commitment sha256"));
    let shown = json(xinyong(&data).args(["inspection", "plan", "show", "P1", "--json"]));
    assert_eq!(shown["state"], "committed");
    let commitment = shown["commitment_sha256"].as_str().unwrap().to_string();
    // the seed stays secret until the draw
    assert!(shown["seed"].is_null());
    assert_eq!(shown["seed_sha256"].as_str().unwrap().len(), 64);

    let drawn = json(xinyong(&data).args(["inspection", "draw", "P1", "--json"]));
    let picks = drawn["draw"]["picks"].as_array().unwrap();
    assert!(!picks.is_empty());
    // the class shares are met within rounding
    for stratum in drawn["draw"]["strata"].as_array().unwrap() {
        let expected = stratum["candidates"].as_f64().unwrap() * stratum["ratio"].as_f64().unwrap();
        assert!(
            (stratum["drawn"].as_f64().unwrap() - expected).abs() <= 0.5,
            "{stratum}"
        );
    }
    xinyong(&data)
        .args(["inspection", "draw", "P1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only a committed plan"));
    let shown = json(xinyong(&data).args(["inspection", "plan", "show", "P1", "--json"]));
    assert_eq!(shown["seed"].as_str().unwrap().len(), 64);

    xinyong(&data)
        .args(["inspection", "verify", "P1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("verified"));

    // the exported bundle verifies alone, without any database
    let bundle = dir.path().join("bundle");
    xinyong(&data)
        .args(["inspection", "export", "P1", "--out"])
        .arg(&bundle)
        .assert()
        .success();
    let nowhere = dir.path().join("no-data-dir");
    xinyong(&nowhere)
        .args([
            "inspection",
            "verify",
            "P1",
            "--commitment",
            &commitment,
            "--from",
        ])
        .arg(&bundle)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok   draw.csv"));
    assert!(!nowhere.exists());

    // one changed roster row is caught
    let objects = bundle.join("objects.csv");
    let text = std::fs::read_to_string(&objects).unwrap();
    let line = text.lines().nth(1).unwrap().to_string();
    std::fs::write(
        &objects,
        text.replacen(&line, &line.replacen(',', ", ", 1), 1),
    )
    .unwrap();
    xinyong(&nowhere)
        .args([
            "inspection",
            "verify",
            "P1",
            "--commitment",
            &commitment,
            "--from",
        ])
        .arg(&bundle)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL objects.csv"));

    // a second plan over the same window draws everyone: the shared
    // entities become joint visits
    xinyong(&data)
        .args([
            "inspection",
            "plan",
            "create",
            "--id",
            "P2",
            "--item",
            "samr.pricing",
        ])
        .args([
            "--window",
            "2026-02-01..2026-04-30",
            "--ratios",
            "1,1,1,1",
            "--unclassed",
            "1",
        ])
        .assert()
        .success();
    xinyong(&data)
        .args(["inspection", "commit", "P2"])
        .assert()
        .success();
    let drawn2 = json(xinyong(&data).args(["inspection", "draw", "P2", "--json"]));
    assert!(
        drawn2["joint"]["saved"].as_u64().unwrap() > 0,
        "{}",
        drawn2["joint"]
    );
    let shown = json(xinyong(&data).args(["inspection", "plan", "show", "P1", "--json"]));
    assert!(shown["progress"]["in_joint_visits"].as_u64().unwrap() > 0);

    // results: two staffed tasks of P1
    let staffed: Vec<&str> = picks
        .iter()
        .filter(|p| p["unstaffed"].is_null())
        .map(|p| p["uscc"].as_str().unwrap())
        .take(2)
        .collect();
    let results = dir.path().join("results.csv");
    std::fs::write(
        &results,
        format!(
            "plan,uscc,item,outcome,problem_type,description,inspected_on\n\
             P1,{a},samr.annual_report,no_problem,,,2026-02-10\n\
             P1,{a},samr.food,no_problem,,,2026-02-10\n\
             P1,{b},samr.food,problem_found,食品安全违法,过期食品在售,2026-02-12\n",
            a = staffed[0],
            b = staffed[1]
        ),
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "plan,uscc,item,outcome,problem_type,description,inspected_on\n\
             P1,{a},samr.pricing,no_problem,,,2026-02-10\n",
            a = staffed[0]
        ),
    )
    .unwrap();
    xinyong(&data)
        .args(["inspection", "results", "import"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("row 2, field 'item'"));
    xinyong(&data)
        .args(["inspection", "results", "import", "--publish"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "2 tasks recorded, 1 with problems",
        ));
    let in_lake = json(xinyong(&data).args([
        "sql",
        "--format",
        "json",
        "SELECT result FROM inspection_result WHERE task_number LIKE 'P1-%' ORDER BY result",
    ]));
    assert_eq!(
        in_lake,
        serde_json::json!([{"result": "no_problem"}, {"result": "problem_found"}])
    );
    let shown = json(xinyong(&data).args(["inspection", "plan", "show", "P1", "--json"]));
    assert_eq!(shown["progress"]["done"], 2);
    assert_eq!(shown["progress"]["problems"], 1);
    assert_eq!(shown["progress"]["published"], 2);
    // a task takes one result
    xinyong(&data)
        .args(["inspection", "results", "import"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not open for a result"));
}
