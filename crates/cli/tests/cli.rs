//! Runs the real `xinyong` binary, as a user would.

#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use predicates::prelude::*;

fn xinyong() -> Command {
    let mut command = Command::cargo_bin("xinyong").unwrap();
    command.env_remove("XINYONG_CATALOG");
    command
}

fn stdout_of(args: &[&str]) -> String {
    let output = xinyong().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

const REAL_CODES: &str = include_str!("../../domain/tests/real_codes.txt");

fn real_codes() -> Vec<&'static str> {
    REAL_CODES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn uscc_check_accepts_real_codes() {
    let codes = real_codes();
    let out = xinyong()
        .arg("uscc")
        .arg("check")
        .args(&codes)
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.ends_with("  valid")).count(),
        codes.len()
    );
}

#[test]
fn uscc_check_rejects_every_mutation_of_real_codes() {
    let charset = domain::uscc::CHARSET;
    let mut mutations = Vec::new();
    for code in real_codes() {
        for position in 0..18 {
            for replacement in charset.chars() {
                let mut chars: Vec<char> = code.chars().collect();
                if chars[position] == replacement {
                    continue;
                }
                chars[position] = replacement;
                mutations.push(chars.into_iter().collect::<String>());
            }
        }
    }
    let out = xinyong()
        .args(["uscc", "check", "--json"])
        .write_stdin(mutations.join("\n"))
        .assert()
        .code(1);
    let results: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), mutations.len());
    for result in results {
        assert_eq!(result["valid"], false, "{result}");
        assert!(result["error"].as_str().is_some());
    }
}

#[test]
fn uscc_check_reports_reason_and_exit_code() {
    xinyong()
        .args(["uscc", "check", "91440606722473344C", "91440606722473344D"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "91440606722473344D  invalid: check character is 'D', expected 'C'",
        ));
}

#[test]
fn uscc_check_reports_repairs() {
    let out = stdout_of(&["uscc", "check", " ９１４４０６０６７２２４７３３４４ｃ"]);
    assert!(out.starts_with("91440606722473344C  valid (input"), "{out}");
    assert!(out.contains("converted full-width characters to half-width"));
    assert!(out.contains("converted lower case to upper case"));
    assert!(out.contains("trimmed surrounding whitespace"));
}

#[test]
fn uscc_parse_decodes_the_parts() {
    insta::assert_snapshot!(stdout_of(&["uscc", "parse", "91440606722473344C"]));
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "uscc",
        "parse",
        "--json",
        "914403001922038216",
    ]))
    .unwrap();
    assert_eq!(json["division_name"], "广东省");
    assert_eq!(json["organisation_code"], "192203821");
}

#[test]
fn uscc_generate_is_reproducible_and_valid() {
    let first = stdout_of(&[
        "uscc",
        "generate",
        "--count",
        "20",
        "--seed",
        "9",
        "--kind",
        "individual-business",
    ]);
    let second = stdout_of(&[
        "uscc",
        "generate",
        "--count",
        "20",
        "--seed",
        "9",
        "--kind",
        "individual-business",
    ]);
    assert_eq!(first, second);
    let codes: Vec<&str> = first.lines().collect();
    assert_eq!(codes.len(), 20);
    assert!(codes.iter().all(|c| c.starts_with("92440600")));
    xinyong()
        .arg("uscc")
        .arg("check")
        .args(&codes)
        .assert()
        .success();
}

#[test]
fn codes_tables() {
    assert_eq!(stdout_of(&["codes", "industries"]).lines().count(), 21);
    assert_eq!(
        stdout_of(&["codes", "industries", "--divisions"])
            .lines()
            .count(),
        98
    );
    let manufacturing: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "codes",
        "industries",
        "--section",
        "C",
        "--json",
    ]))
    .unwrap();
    assert_eq!(manufacturing.as_array().unwrap().len(), 31);
    insta::assert_snapshot!(stdout_of(&["codes", "divisions"]));
    insta::assert_snapshot!(stdout_of(&["codes", "risk-classes"]));
}

#[test]
fn catalog_list_and_show() {
    let list: serde_json::Value =
        serde_json::from_str(&stdout_of(&["catalog", "list", "--json"])).unwrap();
    assert!(list.as_array().unwrap().len() >= 30);
    insta::assert_snapshot!(stdout_of(&["catalog", "show", "tax_payment"]));
    xinyong()
        .args(["catalog", "show", "no_such_item"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no catalog item 'no_such_item'"));
}

#[test]
fn catalog_check_names_item_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, domain::catalog::DEFAULT_CATALOG_TOML).unwrap();
    xinyong()
        .args(["catalog", "check"])
        .arg(&good)
        .assert()
        .success()
        .stdout(predicate::str::contains("valid catalog"));

    let bad = dir.path().join("bad.toml");
    let text = domain::catalog::DEFAULT_CATALOG_TOML.replace(
        r#"{ name = "insured_headcount", name_zh = "参保人数", type = "integer", required = true, min = 0, max = 1000000 }"#,
        r#"{ name = "insured_headcount", name_zh = "参保人数", type = "integer", required = true, min = 10, max = 1 }"#,
    );
    assert_ne!(text, domain::catalog::DEFAULT_CATALOG_TOML);
    std::fs::write(&bad, text).unwrap();
    xinyong()
        .args(["catalog", "check"])
        .arg(&bad)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "item 'social_insurance', field 'insured_headcount': min 10 is greater than max 1",
        ));

    // The same file as the catalog in use is refused with the same reason.
    xinyong()
        .arg("--catalog")
        .arg(&bad)
        .args(["catalog", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("insured_headcount"));
}

#[test]
fn a_user_catalog_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("city.toml");
    let end = domain::catalog::DEFAULT_CATALOG_TOML
        .find("# -------------------------------------------------------------------- licences")
        .unwrap();
    std::fs::write(&file, &domain::catalog::DEFAULT_CATALOG_TOML[..end]).unwrap();
    let list: serde_json::Value = serde_json::from_str(&{
        let out = xinyong()
            .env("XINYONG_CATALOG", &file)
            .args(["catalog", "list", "--json"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    })
    .unwrap();
    // The registration section: registration, its contact, changes,
    // status changes and shareholders.
    assert_eq!(list.as_array().unwrap().len(), 6);
}

#[test]
fn usage_errors_exit_2_and_help_is_everywhere() {
    xinyong().arg("bogus").assert().code(2);
    xinyong().args(["uscc", "check", "--nope"]).assert().code(2);
    for args in [
        vec!["--help"],
        vec!["uscc", "--help"],
        vec!["uscc", "check", "--help"],
        vec!["uscc", "parse", "--help"],
        vec!["uscc", "generate", "--help"],
        vec!["codes", "industries", "--help"],
        vec!["codes", "divisions", "--help"],
        vec!["codes", "risk-classes", "--help"],
        vec!["catalog", "list", "--help"],
        vec!["catalog", "show", "--help"],
        vec!["catalog", "check", "--help"],
    ] {
        xinyong()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage"));
    }
}

#[test]
fn sim_generate_writes_a_city_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("city");
    let summary = stdout_of(&[
        "sim",
        "generate",
        "--entities",
        "300",
        "--years",
        "1",
        "--seed",
        "5",
        "--formats",
        "csv,jsonl",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["entities"], 300);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["records"], summary["records"]);
    for batch in manifest["batches"].as_array().unwrap() {
        assert_ne!(batch["format"], "xlsx", "xlsx was not allowed");
        assert!(out.join(batch["file"].as_str().unwrap()).exists());
    }
    // The generated codes pass the checker.
    let codes = testkit::truth::codes(&out);
    xinyong()
        .arg("uscc")
        .arg("check")
        .args(&codes)
        .assert()
        .success();

    // A second run into the same directory is refused and harms nothing.
    xinyong()
        .args(["sim", "generate", "--entities", "10", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not empty"));
    assert!(out.join("manifest.json").exists());
}

#[test]
fn sim_generate_rejects_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, message) in [
        (
            "--formats",
            "csv,pdf",
            "'pdf' is not one of csv, jsonl, xlsx",
        ),
        ("--dirty", "2", "dirty rate must be from 0 to 1"),
        ("--end", "2025-13-01", "is not a date"),
    ] {
        xinyong()
            .args(["sim", "generate", "--entities", "10", flag, value, "--out"])
            .arg(dir.path().join(flag.trim_start_matches('-')))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}
