//! `xinyong risk` on an ingested synthetic city: training with a hold-out,
//! features that never see past their as-of date, screening into classes,
//! and an entity's risk with reasons.

#![allow(clippy::unwrap_used)]

mod city;

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
    let (data, _city) = city::ingested(dir.path(), 4000, 5);

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
    // Later registry changes: capital, industry and district change in
    // 2025 (each change says what the value was before), the entity goes
    // on the serious-violation list and is deregistered in 2025.
    let old = row_of(&before, &subject);
    let text = |name: &str| old.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let changes = dir.path().join("late_changes.csv");
    std::fs::write(
        &changes,
        format!(
            "subject,change_item,before,after,changed_on\n\
             {subject},registered_capital,{},123456,2025-03-01\n\
             {subject},industry,{},6210,2025-03-02\n\
             {subject},division,{},440605124,2025-03-03\n",
            text("registered_capital"),
            text("industry"),
            text("district"),
        ),
    )
    .unwrap();
    xinyong(&data)
        .args([
            "ingest",
            "--item",
            "registration_change",
            "--source",
            "samr",
        ])
        .arg(&changes)
        .assert()
        .success();
    let closed = dir.path().join("late_status.csv");
    std::fs::write(
        &closed,
        format!("subject,status,effective_on,reason\n{subject},deregistered,2025-06-01,决议解散\n"),
    )
    .unwrap();
    xinyong(&data)
        .args(["ingest", "--item", "status_change", "--source", "samr"])
        .arg(&closed)
        .assert()
        .success();
    let listed = dir.path().join("late_serious.csv");
    std::fs::write(
        &listed,
        format!(
            "subject,decision_number,reason,listed_on,authority\n\
             {subject},佛市监严列〔2025〕1号,提交虚假材料取得登记,2025-02-01,佛山市市场监督管理局\n"
        ),
    )
    .unwrap();
    xinyong(&data)
        .args(["ingest", "--item", "serious_violation", "--source", "samr"])
        .arg(&listed)
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
    // As of a date after the changes, the new values hold and the entity
    // is closed: it leaves the population.
    let late_date = dir.path().join("after_changes.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2025-04-01", "--out"])
        .arg(&late_date)
        .assert()
        .success();
    let changed = row_of(&late_date, &subject);
    let now = |name: &str| changed.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(now("registered_capital"), "123456");
    assert_eq!(now("industry"), "62");
    assert_eq!(now("district"), "440605");
    assert_eq!(now("serious_listed"), "1");
    assert_eq!(now("closed"), "0");
    let after_closing = dir.path().join("after_closing.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2025-07-01", "--out"])
        .arg(&after_closing)
        .assert()
        .success();
    assert!(
        !std::fs::read_to_string(&after_closing)
            .unwrap()
            .contains(&subject),
        "a deregistered entity is still in the population"
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
    assert!(trained.contains("risk model v4-2025-01-01-1"), "{trained}");
    assert!(
        trained.contains("trained on features as of 2024-01-01"),
        "{trained}"
    );
    assert!(
        trained.contains("hold-out from 2025-01-01 to 2026-01-01"),
        "{trained}"
    );
    assert!(
        trained.contains("challenger (GBM)"),
        "the scorecard is reported beside its challenger: {trained}"
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
    assert!((share("A") - 65.0).abs() < 10.0, "{screened}");
    assert!(share("D") < 8.0, "{screened}");
    assert!(screened.contains("national rules ("), "{screened}");
    assert!(
        screened.contains("on the serious-violation list (serious_violation_list): at least D"),
        "{screened}"
    );

    // The national rules decide whatever the score: every listed entity is
    // in D, every abnormal-listed one, dishonest debtor or recently
    // seriously penalised one in C or D; the first reason is the rule.
    let features = dir.path().join("features_2026.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2026-01-01", "--out"])
        .arg(&features)
        .assert()
        .success();
    let classes = dir.path().join("classes.csv");
    xinyong(&data)
        .args(["risk", "export", "--out"])
        .arg(&classes)
        .assert()
        .success();
    let mut class_of = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_path(&classes).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        class_of.insert(
            record[0].to_string(),
            (record[3].to_string(), record[4].to_string()),
        );
    }
    let mut reader = csv::Reader::from_path(&features).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (serious, abnormal, dishonest, penalty) = (
        at("serious_listed"),
        at("abnormal_listed"),
        at("dishonest_debtor"),
        at("serious_penalties_1y"),
    );
    let (mut listed, mut floored) = (0, 0);
    for record in reader.records() {
        let record = record.unwrap();
        let (class, reasons) = &class_of[&record[0]];
        if &record[serious] == "1" {
            listed += 1;
            assert_eq!(class, "D", "{}", &record[0]);
            assert!(reasons.starts_with("列入严重违法失信名单"), "{reasons}");
        } else if &record[abnormal] == "1" || &record[dishonest] == "1" || &record[penalty] != "0" {
            floored += 1;
            assert!(class == "C" || class == "D", "{} is {class}", &record[0]);
            assert!(reasons.contains("依据"), "{reasons}");
        }
    }
    assert!(
        listed > 0 && floored > 0,
        "{listed} listed, {floored} floored"
    );
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

    // The entity deregistered in 2025 is out of scope of a 2026 screening.
    xinyong(&data)
        .args(["risk", "show", &subject])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("not screened"));

    // An entity's risk, with reasons, and its history of two screenings.
    let subject = {
        let mut reader = csv::Reader::from_path(&before).unwrap();
        reader.records().nth(1).unwrap().unwrap()[0].to_string()
    };
    let shown = stdout(xinyong(&data).args(["risk", "show", &subject]));
    assert!(shown.contains("class "), "{shown}");
    assert!(shown.contains("model v4-2025-01-01-1"), "{shown}");
    let history: Value = serde_json::from_str(&stdout(
        xinyong(&data).args(["risk", "show", "--json", &subject]),
    ))
    .unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2);
    let reasons: Value =
        serde_json::from_str(history[0]["score"]["reasons_json"].as_str().unwrap()).unwrap();
    for reason in reasons.as_array().unwrap() {
        if reason.get("rule").is_some() {
            assert!(reason["text_zh"].as_str().unwrap().contains("依据"));
        } else {
            assert!(reason["points"].as_u64().unwrap() > 0);
            assert!(!reason["text_zh"].as_str().unwrap().is_empty());
        }
    }
}

/// Ingests `text` as one file of `item` sent by `source`; every row must be
/// accepted.
fn ingest_accepted(data: &Path, dir: &Path, item: &str, source: &str, text: &str) {
    let file = dir.join(format!("{item}.csv"));
    std::fs::write(&file, text).unwrap();
    xinyong(data)
        .args(["ingest", "--item", item, "--source", source])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 quarantined"));
}

/// Version 3's columns on two hand-made entities, value by value: the
/// three-year record counts what was due and published inside the window,
/// ratings count from their publication date, and revenue is an average
/// over the filings held (an individual business's quarter divided by 3).
#[test]
fn features_v3_read_the_record_and_average_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    xinyong(&data).arg("init").assert().success();
    let firm = "91440600001557476T";
    let shop = "924406050524910405";
    let ingest = |item: &str, source: &str, text: String| {
        ingest_accepted(&data, dir.path(), item, source, &text);
    };
    ingest(
        "registration",
        "samr",
        format!(
            "subject,name,entity_type,legal_representative,registered_capital,established_on,industry,division,address,status,authority\n\
             {firm},佛山市测试制造有限公司,limited_company,张三,100,2015-03-01,3311,440605001,佛山市南海区桂城街道1号,operating,佛山市南海区市场监督管理局\n\
             {shop},佛山市南海区测试餐饮店,individual_business,李四,5,2018-05-01,6210,440605001,佛山市南海区桂城街道2号,operating,佛山市南海区市场监督管理局\n"
        ),
    );
    // Due 30 June of the next year: 2021's was filed late (flagged), 2022's
    // after the due date (not flagged), 2023's on the day; 2020's was due
    // before the window.
    ingest(
        "annual_report",
        "samr",
        format!(
            "subject,report_year,filed_on,employees,late\n\
             {firm},2019,2020-09-01,10,true\n\
             {firm},2021,2022-08-01,10,true\n\
             {firm},2022,2023-07-15,10,false\n\
             {firm},2023,2024-06-30,10,false\n"
        ),
    );
    ingest(
        "abnormal_operation",
        "samr",
        format!(
            "subject,reason,listed_on,removed_on,removal_reason,authority\n\
             {firm},no_annual_report,2021-07-05,2021-09-01,补报年度报告,佛山市南海区市场监督管理局\n\
             {firm},no_annual_report,2022-07-05,2022-09-01,补报年度报告,佛山市南海区市场监督管理局\n\
             {firm},unreachable_address,2023-03-01,,,佛山市南海区市场监督管理局\n"
        ),
    );
    ingest(
        "tax_credit_rating",
        "tax",
        format!(
            "subject,rating_year,rating\n{firm},2020,A\n{firm},2021,C\n{firm},2022,M\n{firm},2023,B\n"
        ),
    );
    ingest(
        "environmental_rating",
        "ecology",
        format!("subject,rating_year,rating\n{firm},2022,yellow\n{firm},2023,red\n"),
    );
    ingest(
        "tax_payment",
        "tax",
        format!(
            "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n\
             {firm},2022-12,vat,99999,100,100,2023-01-10\n\
             {firm},2023-03,vat,30000,300,300,2023-04-10\n\
             {firm},2024-06,vat,50000,500,500,2024-07-10\n\
             {firm},2024-06,corporate_income,900000,500,500,2024-07-10\n\
             {firm},2025-01,vat,70000,700,700,2025-02-10\n\
             {shop},2024-03,vat,30000,300,300,2024-04-10\n\
             {shop},2024-06,vat,60000,600,600,2024-07-10\n"
        ),
    );
    let features = |as_of: &str| {
        let out = dir.path().join(format!("features-{as_of}.csv"));
        xinyong(&data)
            .args(["risk", "features", "--as-of", as_of, "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let value = |row: &[(String, String)], name: &str| {
        row.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .1
            .clone()
    };

    let at_2025 = features("2025-01-01");
    let row = row_of(&at_2025, firm);
    assert_eq!(value(&row, "annual_reports_late_3y"), "2");
    assert_eq!(value(&row, "abnormal_listings_3y"), "2");
    assert_eq!(value(&row, "abnormal_listed"), "1");
    // 2021's C and 2023's B; 2022's M says nothing about the record.
    assert_eq!(value(&row, "tax_credit_points_3y"), "2.5");
    assert_eq!(value(&row, "tax_credit_rating"), "B");
    // 2023's rating is out from 1 July 2024.
    assert_eq!(value(&row, "environmental_rating"), "red");
    // VAT filed for 2023-03 and 2024-06 only: December 2022 is before the
    // window, January 2025 after it, and income tax is no VAT revenue.
    assert_eq!(value(&row, "revenue_per_month_2y"), "40000");
    let row = row_of(&at_2025, shop);
    assert_eq!(value(&row, "revenue_per_month_2y"), "15000");
    assert_eq!(value(&row, "annual_reports_late_3y"), "0");
    assert_eq!(value(&row, "tax_credit_points_3y"), "");
    assert_eq!(value(&row, "environmental_rating"), "");

    // A year earlier, 2023's ratings are not out yet.
    let row = row_of(&features("2024-01-01"), firm);
    assert_eq!(value(&row, "environmental_rating"), "yellow");
    assert_eq!(value(&row, "tax_credit_points_3y"), "3");
    assert_eq!(value(&row, "tax_credit_rating"), "M");
    assert_eq!(value(&row, "annual_reports_late_3y"), "2");
    assert_eq!(value(&row, "abnormal_listings_3y"), "3");
}

/// Version 4's complaint columns on a hand-made entity: the last 90 days,
/// the most within any 14 days of the year, the excess over its own usual
/// rate; nothing on or after the as-of date, nothing without its code.
#[test]
fn features_v4_count_complaints_before_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    xinyong(&data).arg("init").assert().success();
    let shop = "924406050524910405";
    let ingest = |item: &str, source: &str, text: String| {
        ingest_accepted(&data, dir.path(), item, source, &text);
    };
    ingest(
        "registration",
        "samr",
        format!(
            "subject,name,entity_type,legal_representative,registered_capital,established_on,industry,division,address,status,authority\n\
             {shop},佛山市南海区测试餐饮店,individual_business,李四,5,2018-05-01,6210,440605001,佛山市南海区桂城街道2号,operating,佛山市南海区市场监督管理局\n"
        ),
    );
    let mut rows = String::from(
        "subject,business_name,ticket_number,channel,request_type,category,industry,received_on,division,content,status,amount_involved\n",
    );
    for (n, (subject, day)) in [
        (shop, "2023-06-01"),
        (shop, "2024-03-01"),
        (shop, "2024-11-01"),
        (shop, "2024-11-05"),
        (shop, "2024-11-10"),
        (shop, "2024-11-20"),
        // On the as-of date and after: not yet known.
        (shop, "2025-01-01"),
        (shop, "2025-01-05"),
        // Without a code: not the entity's, for the features.
        ("", "2024-11-06"),
    ]
    .into_iter()
    .enumerate()
    {
        rows.push_str(&format!(
            "{subject},测试餐饮店,T{n},12345,complaint,food_safety,62,{day},440605011,饭菜变质,closed,\n"
        ));
    }
    ingest("complaint", "hotline", rows);
    let out = dir.path().join("features.csv");
    xinyong(&data)
        .args(["risk", "features", "--as-of", "2025-01-01", "--out"])
        .arg(&out)
        .assert()
        .success();
    let row = row_of(&out, shop);
    let value = |name: &str| -> f64 {
        row.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .1
            .parse()
            .unwrap()
    };
    assert_eq!(value("complaints_1y"), 5.0);
    assert_eq!(value("complaints_90d"), 4.0);
    // 1, 5 and 10 November.
    assert_eq!(value("repeat_complaints_14d_1y"), 3.0);
    // Two in the 641 days from 2023-01-01 to 2024-10-03: 90 × 2 / 641 usual.
    let spike = 4.0 - 90.0 * 2.0 / 641.0;
    assert!(
        (value("complaint_spike_90d") - spike).abs() < 1e-9,
        "{row:?}"
    );
}
