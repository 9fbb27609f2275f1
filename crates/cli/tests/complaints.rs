//! `xinyong complaints` on an ingested synthetic city: complaints without a
//! code linked to the registry and checked against the truth behind every
//! ticket; every detector run and scored against the injected outbreaks.

#![allow(clippy::unwrap_used)]

mod city;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn xinyong(data: &Path) -> Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, None)
}

#[test]
fn complaints_are_linked_and_outbreaks_detected_on_an_ingested_city() {
    let dir = tempfile::tempdir().unwrap();
    let (data, city) = city::ingested(dir.path(), 6000, 21);

    // Linking: never the wrong entity at or above the threshold.
    let links = dir.path().join("links.csv");
    let summary = testkit::json(
        xinyong(&data)
            .args(["complaints", "link", "--json", "--truth"])
            .arg(city.join("truth/complaints.csv"))
            .arg("--out")
            .arg(&links),
    );
    let without = summary["without_code"].as_u64().unwrap();
    assert!(without >= 100, "{summary}");
    let truth = &summary["truth"];
    assert_eq!(truth["known"].as_u64().unwrap(), without, "{summary}");
    assert_eq!(truth["wrong"], 0, "{summary}");
    assert!(truth["recall"].as_f64().unwrap() >= 0.6, "{summary}");
    assert_eq!(
        summary["linked"].as_u64().unwrap()
            + summary["below_threshold"].as_u64().unwrap()
            + summary["no_candidate"].as_u64().unwrap(),
        without
    );
    let mut reader = csv::Reader::from_path(&links).unwrap();
    let mut rows = 0;
    for record in reader.deserialize::<std::collections::HashMap<String, String>>() {
        let record = record.unwrap();
        rows += 1;
        let confidence: f64 = record["confidence"].parse().unwrap();
        assert_eq!(
            !record["linked"].is_empty(),
            confidence >= 0.8,
            "{record:?}"
        );
        if !record["linked"].is_empty() {
            assert!(!record["evidence"].is_empty(), "{record:?}");
        }
    }
    assert_eq!(rows, without);

    // A stricter threshold links fewer, never more.
    let strict =
        testkit::json(xinyong(&data).args(["complaints", "link", "--json", "--threshold", "0.99"]));
    assert!(strict["linked"].as_u64() <= summary["linked"].as_u64());

    // Detection over the city's three years after a first quarter of baseline.
    let signals = dir.path().join("signals.csv");
    let report = testkit::json(
        xinyong(&data)
            .args([
                "complaints",
                "detect",
                "--json",
                "--from",
                "2023-04-01",
                "--truth",
            ])
            .arg(city.join("truth/outbreaks.csv"))
            .arg("--out")
            .arg(&signals),
    );
    let scores = report["scores"].as_array().unwrap();
    let score = |detector: &str, level: &str| {
        scores
            .iter()
            .find(|s| s["detector"] == detector && s["level"] == level)
            .unwrap_or_else(|| panic!("no {detector} at {level}: {report:#}"))
    };
    // Repeat complaints find the businesses, the scan the towns, the
    // negative binomial over industries the industry.
    let detected = |value: &Value| {
        let text = value.as_str().unwrap();
        let (found, of) = text.split_once('/').unwrap();
        (found.parse::<u32>().unwrap(), of.parse::<u32>().unwrap())
    };
    let (found, of) = detected(&score("repeat", "business")["business"]);
    assert!(of >= 1 && found == of, "{report:#}");
    let (found, of) = detected(&score("scan", "towns")["town"]);
    assert!(of >= 1 && found >= 1, "{report:#}");
    let (found, of) = detected(&score("negbin", "industry")["industry"]);
    assert!(of >= 1 && found == of, "{report:#}");
    // Every signal names its complaints, by ticket.
    let mut reader = csv::Reader::from_path(&signals).unwrap();
    let mut count = 0;
    for record in reader.deserialize::<std::collections::HashMap<String, String>>() {
        let record = record.unwrap();
        count += 1;
        assert!(!record["complaints"].is_empty(), "{record:?}");
        assert!(!record["place_name"].is_empty(), "{record:?}");
    }
    assert_eq!(count, report["signals"].as_array().unwrap().len());

    // Settings from a file; an unknown one is refused with its name.
    let settings = dir.path().join("detect.toml");
    std::fs::write(&settings, "[repeat]\nmin_count = 1000\n").unwrap();
    let quiet = testkit::json(
        xinyong(&data)
            .args(["complaints", "detect", "--json", "--config"])
            .arg(&settings),
    );
    assert!(
        quiet["signals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["detector"] != "repeat"),
        "{quiet:#}"
    );
    std::fs::write(&settings, "[repeat]\nminimum = 3\n").unwrap();
    let refused = xinyong(&data)
        .args(["complaints", "detect", "--config"])
        .arg(&settings)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("minimum"), "{stderr}");
}
