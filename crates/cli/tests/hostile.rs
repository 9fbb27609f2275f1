//! `xinyong ingest` against hostile files and against itself: memory
//! measured for each case, two ingests at once into one data directory on
//! both backends, and formulas that leave as text.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use testkit::hostile::{row, run_measured, workbook};
use testkit::json;

fn xinyong(data: &Path, database_url: Option<&str>) -> assert_cmd::Command {
    testkit::xinyong(env!("CARGO_BIN_EXE_xinyong"), data, database_url)
}

/// The same, as a std command (to run measured or in the background).
fn process(data: &Path, database_url: Option<&str>) -> Command {
    testkit::process(env!("CARGO_BIN_EXE_xinyong"), data, database_url)
}

const HEADER: &str = "subject,reason,listed_on,removed_on,removal_reason,authority\n";
const ROW: &str = "91440606722473344C,no_annual_report,2024-07-01,,,佛山市顺德区市场监督管理局\n";

/// A data directory whose registry holds the entity of [`ROW`].
fn registered(dir: &Path, name: &str) -> PathBuf {
    let data = dir.join(name);
    let file = dir.join(format!("{name}-registration.csv"));
    std::fs::write(
        &file,
        "subject,name,entity_type,legal_representative,established_on,industry,division,address,status,authority\n\
         91440606722473344C,佛山市甲有限公司,limited_company,张三,2015-03-01,5211,440606,佛山市顺德区大良街道1号,operating,佛山市顺德区市场监督管理局\n",
    )
    .unwrap();
    xinyong(&data, None)
        .args(["ingest", "--item", "registration", "--source", "samr"])
        .arg(&file)
        .assert()
        .success();
    data
}

/// Ingests `file` as the market regulator's abnormal-operation list,
/// measured: the output and the peak memory in MiB.
fn ingest_measured(data: &Path, file: &Path) -> (std::process::Output, u64) {
    run_measured(
        process(data, None)
            .args([
                "ingest",
                "--json",
                "--item",
                "abnormal_operation",
                "--source",
                "samr",
            ])
            .arg(file),
        Duration::from_secs(300),
    )
}

/// Peak memory of ingesting a one-row file: what every bound is above.
fn baseline(dir: &Path) -> u64 {
    let data = registered(dir, "baseline");
    let file = dir.join("one.csv");
    std::fs::write(&file, format!("{HEADER}{ROW}")).unwrap();
    let (output, peak) = ingest_measured(&data, &file);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    peak
}

#[test]
fn hostile_files_are_refused_or_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path());
    let data = registered(dir.path(), "data");
    let mut peaks = BTreeMap::new();

    // Refused, each before anything is sized by the hostile number.
    let header = row(
        1,
        &[
            ("A1", "subject"),
            ("B1", "reason"),
            ("C1", "listed_on"),
            ("D1", "authority"),
        ],
    );
    let far = workbook(
        |w| write!(w, "{header}{}", row(2, &[("DVFKPWS2", "x")])),
        None,
    );
    let huge_cell = workbook(
        |w| write!(w, "{header}{}", row(2, &[("C2", &"x".repeat(64 << 20))])),
        None,
    );
    let strings = |w: &mut dyn Write| -> std::io::Result<()> {
        let chunk = format!("<si><t>{}</t></si>", "s".repeat(1000)).repeat(1000);
        for _ in 0..300 {
            w.write_all(chunk.as_bytes())?;
        }
        Ok(())
    };
    let shared = workbook(|w| write!(w, "{header}"), Some(&strings));
    for (name, bytes, message) in [
        (
            "far.xlsx",
            far,
            "cell reference 'DVFKPWS2' lies beyond Excel's last cell",
        ),
        (
            "huge.xlsx",
            huge_cell,
            "a text of more than 6 MiB after cell C2",
        ),
        (
            "strings.xlsx",
            shared,
            "xl/sharedStrings.xml: is larger than 256 MiB uncompressed",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let (output, peak) = ingest_measured(&data, &file);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success());
        assert!(stdout.contains(message), "{name}: {stdout}");
        peaks.insert(name, peak);
    }

    // Read whole: 400,000 copies of one row (all but one quarantined as
    // duplicates), as CSV and as an XLSX zip bomb.
    let rows = 400_000;
    let file = dir.path().join("copies.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    out.write_all(HEADER.as_bytes()).unwrap();
    for _ in 0..rows {
        out.write_all(ROW.as_bytes()).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let bomb = workbook(
        |w| {
            write!(w, "{header}")?;
            for n in 2..rows + 2 {
                write!(
                    w,
                    "{}",
                    row(
                        n,
                        &[
                            (&format!("A{n}"), "91440606722473344C"),
                            (&format!("B{n}"), "no_annual_report"),
                            (&format!("C{n}"), "2024-07-02"),
                            (&format!("D{n}"), "佛山市顺德区市场监督管理局"),
                        ]
                    )
                )?;
            }
            Ok(())
        },
        None,
    );
    let bomb_file = dir.path().join("copies.xlsx");
    std::fs::write(&bomb_file, &bomb).unwrap();
    for (name, file) in [("copies.csv", &file), ("copies.xlsx", &bomb_file)] {
        let (output, peak) = ingest_measured(&data, file);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
        let batch = &reports[0]["batch"];
        assert_eq!(batch["rows_in"], rows as i64, "{batch}");
        assert_eq!(batch["accepted"], 1, "{batch}");
        assert_eq!(batch["quarantined"], rows as i64 - 1, "{batch}");
        peaks.insert(name, peak);
    }
    let quarantined = json(xinyong(&data, None).args([
        "sql",
        "--format",
        "json",
        "SELECT COUNT(*) AS n FROM quarantine",
    ]));
    assert_eq!(quarantined[0]["n"], 2 * (rows as i64 - 1));

    // Kept in memory, the quarantined rows alone took more than 150 MiB
    // per file; the refused files took gigabytes.
    eprintln!("baseline {base} MiB, peaks {peaks:?}");
    for (name, peak) in &peaks {
        assert!(
            *peak < base + 100,
            "{name}: peak {peak} MiB against a baseline of {base} MiB"
        );
    }
}

#[test]
fn a_pipe_or_a_device_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("feed.csv");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = dir.path().join("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    for file in [&fifo, &zero] {
        let (output, _) = run_measured(
            process(&dir.path().join("data"), None)
                .args(["ingest", "--item", "abnormal_operation", "--source", "samr"])
                .arg(file),
            Duration::from_secs(60),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains("not a regular file"), "{stderr}");
    }
}

#[test]
fn the_hash_recorded_is_of_the_bytes_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = registered(dir.path(), "data");
    let file = dir.path().join("list.csv");
    std::fs::write(&file, format!("{HEADER}{ROW}")).unwrap();
    let ingest = |data: &Path| {
        json(
            xinyong(data, None)
                .args([
                    "ingest",
                    "--json",
                    "--item",
                    "abnormal_operation",
                    "--source",
                    "samr",
                ])
                .arg(&file),
        )
    };
    let first = ingest(&data);
    assert_eq!(first[0]["status"], "committed");
    // The same length, other content: a new batch, not "already ingested".
    std::fs::write(&file, format!("{HEADER}{}", ROW.replace("07-01", "07-02"))).unwrap();
    let second = ingest(&data);
    assert_eq!(second[0]["status"], "committed", "{second}");
    assert_ne!(
        first[0]["batch"]["content_sha256"],
        second[0]["batch"]["content_sha256"]
    );
    let sha = Command::new("sha256sum").arg(&file).output().unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout);
    assert_eq!(
        second[0]["batch"]["content_sha256"].as_str().unwrap(),
        sha.split_whitespace().next().unwrap()
    );
    // Sent again, it is recognised.
    assert_eq!(ingest(&data)[0]["status"], "already_ingested");
}

#[test]
fn formulas_are_stored_as_sent_and_leave_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let data = registered(dir.path(), "data");
    let file = dir.path().join("list.csv");
    let formulas = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1)",
        "-1+2",
    ];
    let mut text = HEADER.to_string();
    for (n, formula) in formulas.iter().enumerate() {
        let quoted = formula.replace('"', "\"\"");
        text += &format!(
            "91440606722473344C,no_annual_report,2024-07-0{},,,\"{quoted}\"\n",
            n + 1
        );
    }
    std::fs::write(&file, text).unwrap();
    xinyong(&data, None)
        .args(["ingest", "--item", "abnormal_operation", "--source", "samr"])
        .arg(&file)
        .assert()
        .success();
    let query = "SELECT authority FROM abnormal_operation ORDER BY listed_on";
    let stored = json(xinyong(&data, None).args(["sql", "--format", "json", query]));
    let stored: Vec<&str> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["authority"].as_str().unwrap())
        .collect();
    assert_eq!(stored, formulas, "stored as sent");
    let output = xinyong(&data, None)
        .args(["sql", "--format", "csv", query])
        .output()
        .unwrap();
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let cells: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let expected: Vec<String> = formulas.iter().map(|f| format!("'{f}")).collect();
    assert_eq!(cells, expected, "written out as text");
}

fn city(dir: &Path, entities: u32, years: u32) -> (PathBuf, Value) {
    let out = dir.join("city");
    let config = sim::SimConfig {
        entities,
        seed: 19,
        years,
        dirty_rate: 0.02,
        ..sim::SimConfig::default()
    };
    sim::write_city(&config, &out, |_| {}).unwrap();
    let manifest = out.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    (out, serde_json::from_str(&text).unwrap())
}

/// A manifest of some of a city's batches, beside the city's files.
fn part_manifest(city: &Path, name: &str, batches: Vec<Value>) -> PathBuf {
    let path = city.join(name);
    std::fs::write(&path, serde_json::json!({ "batches": batches }).to_string()).unwrap();
    path
}

/// Every batch's accepted rows are in the lake under its id, exactly.
fn accepted_equals_lake(data: &Path, url: Option<&str>) -> BTreeMap<String, i64> {
    let batches = json(xinyong(data, url).args(["batch", "list", "--json"]));
    let mut per_item = BTreeMap::new();
    let mut lake_counts: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for b in batches.as_array().unwrap() {
        let item = b["item"].as_str().unwrap().to_string();
        if let std::collections::btree_map::Entry::Vacant(e) = per_item.entry(item.clone()) {
            e.insert(0);
            let query = format!("SELECT _batch, COUNT(*) AS n FROM {item} GROUP BY _batch");
            let rows = json(xinyong(data, url).args(["sql", "--format", "json", &query]));
            for r in rows.as_array().unwrap() {
                lake_counts.insert(
                    (item.clone(), r["_batch"].as_i64().unwrap()),
                    r["n"].as_i64().unwrap(),
                );
            }
        }
        let accepted = b["accepted"].as_i64().unwrap();
        let in_lake = lake_counts
            .get(&(item.clone(), b["id"].as_i64().unwrap()))
            .copied()
            .unwrap_or(0);
        assert_eq!(in_lake, accepted, "batch {}: {b}", b["id"]);
        *per_item.get_mut(&item).unwrap() += accepted;
    }
    per_item
}

/// Two manifests ingested at once (the second started half a second after
/// the first) and one file sent twice at once, against the same batches
/// ingested one after the other into `reference_url`'s store.
fn two_ingests_at_once(url: Option<&str>, reference_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (city, manifest) = city(dir.path(), 2_000, 3);
    let all = manifest["batches"].as_array().unwrap().clone();
    let (registration, rest): (Vec<Value>, Vec<Value>) =
        all.into_iter().partition(|b| b["item"] == "registration");
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for (i, batch) in rest.into_iter().enumerate() {
        if i % 2 == 0 {
            first.push(batch);
        } else {
            second.push(batch);
        }
    }
    let registration = part_manifest(&city, "registration.json", registration);
    let first = part_manifest(&city, "first.json", first);
    let second = part_manifest(&city, "second.json", second);

    // The reference: one after the other.
    let reference = dir.path().join("reference");
    for manifest in [&registration, &first, &second] {
        xinyong(&reference, reference_url)
            .args(["ingest", "--manifest"])
            .arg(manifest)
            .assert()
            .success();
    }

    let data = dir.path().join("data");
    xinyong(&data, url)
        .args(["ingest", "--manifest"])
        .arg(&registration)
        .assert()
        .success();
    let start = |manifest: &Path| {
        process(&data, url)
            .args(["ingest", "--json", "--manifest"])
            .arg(manifest)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let one = start(&first);
    std::thread::sleep(Duration::from_millis(500));
    let two = start(&second);
    // The same file twice at once, as a third and fourth process.
    let same = city.join(second_file(&second));
    let again = |_: u8| {
        process(&data, url)
            .args([
                "ingest",
                "--json",
                "--item",
                "tax_payment",
                "--source",
                "tax",
            ])
            .arg(&same)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (three, four) = (again(3), again(4));
    let mut statuses = Vec::new();
    for child in [one, two, three, four] {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let reports: Value = serde_json::from_slice(&output.stdout).unwrap();
        for r in reports.as_array().unwrap() {
            statuses.push(r["status"].as_str().unwrap().to_string());
        }
    }
    assert!(
        statuses
            .iter()
            .all(|s| s == "committed" || s == "already_ingested")
    );
    let ours = accepted_equals_lake(&data, url);
    let theirs = accepted_equals_lake(&reference, reference_url);
    assert_eq!(ours, theirs, "the same records as one after the other");
}

/// A tax file of the second manifest, relative to the city.
fn second_file(second: &Path) -> String {
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(second).unwrap()).unwrap();
    manifest["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["item"] == "tax_payment" && b["format"] == "csv")
        .map(|b| b["file"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn two_ingests_at_once_into_sqlite_lose_nothing() {
    two_ingests_at_once(None, None);
}

#[test]
fn two_ingests_at_once_into_postgres_lose_nothing() {
    let Some(db) = testkit::postgres::fresh("cli_two_ingests") else {
        return;
    };
    let Some(reference) = testkit::postgres::fresh("cli_two_ingests_reference") else {
        return;
    };
    two_ingests_at_once(Some(&db.url), Some(&reference.url));
}
