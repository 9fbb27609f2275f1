//! `xinyong evaluate` and `xinyong check` on an ingested synthetic city:
//! the whole city graded by industry scheme, grades reproduced from the
//! records and the scheme, the national rules before the score, withdrawn
//! records left out, history and changes, scheme files refused with every
//! problem named, and credit checks for a scenario.

#![allow(clippy::unwrap_used)]

mod city;

use std::path::Path;

use assert_cmd::Command;
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

fn json(command: &mut Command) -> Value {
    serde_json::from_str(&stdout(command)).unwrap()
}

/// The first column of a query's rows.
fn column(data: &Path, query: &str) -> Vec<String> {
    let out = stdout(xinyong(data).args(["sql", "--format", "csv", query]));
    out.lines()
        .skip(1)
        .map(|l| l.trim_matches('"').to_string())
        .collect()
}

#[test]
fn the_city_is_graded_by_scheme_and_every_grade_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _city) = city::ingested(dir.path(), 2500, 11);

    // An earlier run, then the default date: history and changes.
    let first = json(xinyong(&data).args(["evaluate", "--as-of", "2024-07-01", "--json"]));
    let summary = json(xinyong(&data).args(["evaluate", "--json"]));
    assert!(summary["id"].as_i64().unwrap() > first["id"].as_i64().unwrap());
    let graded = summary["entities"].as_u64().unwrap();
    assert!(graded > 2000, "{summary}");
    let schemes: std::collections::BTreeSet<String> = summary["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g[0].as_str().unwrap().to_string())
        .collect();
    assert!(
        schemes.contains("general") && schemes.contains("catering"),
        "{schemes:?}"
    );
    let as_of = summary["as_of"].as_str().unwrap().to_string();

    // An entity on the serious-violation list is graded poor by the rule,
    // whatever its score.
    let listed = column(
        &data,
        &format!(
            "SELECT DISTINCT subject FROM serious_violation WHERE listed_on < DATE '{as_of}' \
             AND (removed_on IS NULL OR removed_on >= DATE '{as_of}') \
             AND subject NOT IN (SELECT subject FROM status_change WHERE effective_on < DATE '{as_of}') \
             ORDER BY subject LIMIT 3"
        ),
    );
    assert!(
        !listed.is_empty(),
        "the city has no serious-violation listing"
    );
    for uscc in &listed {
        let shown = json(xinyong(&data).args(["evaluate", "show", uscc, "--json"]));
        let evaluation = &shown["evaluation"];
        assert_eq!(evaluation["grade"], "poor", "{shown}");
        assert!(
            evaluation["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "serious_violation_list"),
            "{shown}"
        );
    }

    // Every stored grade is the scheme applied to the stored facts, and a
    // fact is what the records say: the penalties of an entity that has
    // some, counted here by an independent query.
    let penalised = column(
        &data,
        &format!(
            "SELECT subject FROM admin_penalty WHERE decided_on < DATE '{as_of}' \
             AND decided_on >= DATE '{as_of}' - INTERVAL '3 years' AND severity <> 'minor' \
             AND NOT simple_procedure AND penalty_category <> 'warning' \
             AND subject NOT IN (SELECT subject FROM status_change WHERE effective_on < DATE '{as_of}') \
             GROUP BY subject ORDER BY COUNT(*) DESC, subject LIMIT 5"
        ),
    );
    assert!(!penalised.is_empty());
    let set = credit::SchemeSet::built_in().unwrap();
    for uscc in &penalised {
        let counted: f64 = column(
            &data,
            &format!(
                "SELECT COUNT(*) FROM admin_penalty WHERE subject = '{uscc}' \
                 AND decided_on < DATE '{as_of}' AND decided_on >= DATE '{as_of}' - INTERVAL '3 years' \
                 AND severity <> 'minor' AND NOT simple_procedure AND penalty_category <> 'warning'"
            ),
        )[0]
        .parse()
        .unwrap();
        let shown = json(xinyong(&data).args(["evaluate", "show", uscc, "--json"]));
        assert_eq!(shown["run"], summary["id"], "{uscc}");
        let stored = &shown["stored"];
        let facts: credit::Facts = serde_json::from_value(stored["facts"].clone()).unwrap();
        assert_eq!(
            facts.get("penalties_3y"),
            Some(&credit::Value::Number(counted)),
            "{uscc}"
        );
        let scheme = set.get(stored["scheme"].as_str().unwrap()).unwrap();
        let again = credit::evaluate(scheme, &facts);
        assert_eq!(again.grade, stored["grade"].as_str().unwrap(), "{uscc}");
        assert!((again.score - stored["score"].as_f64().unwrap()).abs() < 1e-9);
        // Penalties cost points, and the costliest indicator comes first.
        let moved = again.moved_by();
        assert!(moved.iter().any(|s| s.indicator == "penalties"), "{uscc}");
    }

    // What changed since the earlier run is explained.
    let shown = json(xinyong(&data).args(["evaluate", "show", &penalised[0], "--json"]));
    assert!(shown["changes"].is_object(), "{shown}");
    let text = stdout(xinyong(&data).args(["evaluate", "show", &penalised[0]]));
    assert!(text.contains("what cost points"), "{text}");
    assert!(text.contains("since evaluation"), "{text}");

    // Distributions by district, industry and scheme add up to the run.
    for by in ["district", "industry", "scheme"] {
        let counts = json(xinyong(&data).args(["evaluate", "distribution", "--by", by, "--json"]));
        let total: i64 = counts
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[2].as_i64().unwrap())
            .sum();
        assert_eq!(total as u64, graded, "{by}");
    }

    // A withdrawn record (a repair approved, a correction) is left out of
    // the facts: the entity's penalty count falls by one.
    let lineage = column(
        &data,
        &format!(
            "SELECT CONCAT(CAST(_batch AS VARCHAR), ':', CAST(_row AS VARCHAR)) FROM admin_penalty \
             WHERE subject = '{}' AND decided_on < DATE '{as_of}' \
             AND decided_on >= DATE '{as_of}' - INTERVAL '3 years' AND severity <> 'minor' \
             AND NOT simple_procedure AND penalty_category <> 'warning' LIMIT 1",
            penalised[0]
        ),
    );
    let (batch, row) = lineage[0].split_once(':').unwrap();
    let withdrawn = vec![evaluation::Withdrawn {
        item: "admin_penalty".into(),
        batch: batch.parse().unwrap(),
        row: row.parse().unwrap(),
    }];
    let count_with = |withdrawn: Vec<evaluation::Withdrawn>| {
        let data = data.clone();
        let uscc = penalised[0].clone();
        let as_of: chrono::NaiveDate = as_of.parse().unwrap();
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let catalog = domain::Catalog::default_catalog();
                let sql = lake::sql::Sql::over(&lake::Lake::new(&data), &catalog)
                    .await
                    .unwrap();
                let facts = evaluation::facts(&sql, &catalog, as_of, &withdrawn)
                    .await
                    .unwrap();
                let entity = facts.iter().find(|e| e.subject == uscc).unwrap();
                entity
                    .facts
                    .get("penalties_3y")
                    .and_then(credit::Value::as_number)
            })
    };
    let all = count_with(Vec::new()).unwrap();
    assert_eq!(count_with(withdrawn), Some(all - 1.0));
}

#[test]
fn scheme_files_with_errors_are_refused_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let general = credit::scheme::BUILT_IN[0].1;
    let bad = general
        .replace("weight = 6\n", "weight = 7\n")
        .replace("fact = \"penalties_3y\"", "fact = \"penaltys\"")
        .replace("grade = \"poor\"", "grade = \"awful\"");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, bad).unwrap();
    let output = xinyong(&data)
        .args(["evaluate", "check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "bad.toml",
        "weights add up to 101, not 100",
        "fact 'penaltys' is not known",
        "grade 'awful' is not declared",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    // Used for a run, the same file stops it before anything is stored.
    let output = xinyong(&data)
        .args(["evaluate", "--scheme"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("penaltys"));
    // The built-in schemes pass.
    let good = dir.path().join("general.toml");
    std::fs::write(&good, general).unwrap();
    xinyong(&data)
        .args(["evaluate", "check"])
        .arg(&good)
        .assert()
        .success();
}
