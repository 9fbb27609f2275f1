//! Generates small cities and checks them as the platform and an evaluator
//! would read them: manifest against files, rows against the catalog, dirty
//! labels against the rows, distributions, determinism.

#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use calamine::{Data, Reader};
use domain::catalog::FieldType;
use domain::{Catalog, SubjectId, Uscc};
use sim::feeds::Batch;
use sim::{Format, Manifest, SimConfig};

struct Generated {
    _dir: tempfile::TempDir,
    out: PathBuf,
    manifest: Manifest,
}

/// One city shared by the tests that only read it.
fn city() -> &'static Generated {
    static CITY: OnceLock<Generated> = OnceLock::new();
    CITY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("city");
        let config = SimConfig {
            entities: 4_000,
            seed: 42,
            years: 2,
            dirty_rate: 0.02,
            ..SimConfig::default()
        };
        let manifest = sim::write_city(&config, &out, |_| {}).unwrap();
        Generated {
            _dir: dir,
            out,
            manifest,
        }
    })
}

/// Reads a batch in whatever format it was written: header and rows.
fn read_batch(out: &Path, batch: &Batch) -> (Vec<String>, Vec<Vec<String>>) {
    let path = out.join(&batch.file);
    match batch.format {
        Format::Csv => {
            let bytes = std::fs::read(&path).unwrap();
            let text = if batch.encoding == "gbk" {
                let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
                assert!(!errors, "{} is not valid GBK", batch.file);
                text.into_owned()
            } else {
                String::from_utf8(bytes).unwrap()
            };
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header = reader
                .headers()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            let rows = reader
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect();
            (header, rows)
        }
        Format::Jsonl => {
            let catalog = Catalog::default_catalog();
            let item = catalog.item(&batch.item).unwrap();
            let header: Vec<String> = item.fields.iter().map(|f| f.name.clone()).collect();
            let text = std::fs::read_to_string(&path).unwrap();
            let rows = text
                .lines()
                .map(|line| {
                    let object: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(line).unwrap();
                    assert_eq!(object.len(), header.len(), "{line}");
                    header
                        .iter()
                        .map(|name| object[name].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .collect();
            (header, rows)
        }
        Format::Xlsx => {
            let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
            let range = workbook.worksheet_range_at(0).unwrap().unwrap();
            let width = range.width();
            let mut rows: Vec<Vec<String>> = range
                .rows()
                .map(|row| {
                    let mut cells: Vec<String> = row
                        .iter()
                        .map(|cell| match cell {
                            Data::String(s) => s.clone(),
                            Data::Empty => String::new(),
                            other => panic!("unexpected cell {other:?} in {}", batch.file),
                        })
                        .collect();
                    cells.resize(width, String::new());
                    cells
                })
                .collect();
            let header = rows.remove(0);
            (header, rows)
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn manifest_matches_the_files() {
    let city = city();
    let catalog = Catalog::default_catalog();
    let listed: HashSet<String> = city
        .manifest
        .batches
        .iter()
        .map(|b| b.file.clone())
        .collect();
    let mut files = Vec::new();
    walk(&city.out.join("feeds"), &mut files);
    let on_disk: HashSet<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&city.out)
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    assert_eq!(listed, on_disk);
    let mut total = 0;
    for batch in &city.manifest.batches {
        let (header, rows) = read_batch(&city.out, batch);
        let item = catalog.item(&batch.item).unwrap();
        let expected: Vec<String> = item.fields.iter().map(|f| f.name.clone()).collect();
        assert_eq!(header, expected, "{}", batch.file);
        assert_eq!(rows.len() as u64, batch.rows, "{}", batch.file);
        assert!(
            catalog
                .items_of(&batch.department)
                .any(|i| i.id == batch.item),
            "{} may not send {}",
            batch.department,
            batch.item
        );
        total += batch.rows;
    }
    assert_eq!(total, city.manifest.records);
    let formats: HashSet<(Format, &str)> = city
        .manifest
        .batches
        .iter()
        .map(|b| (b.format, b.encoding.as_str()))
        .collect();
    for wanted in [
        (Format::Csv, "utf-8"),
        (Format::Csv, "gbk"),
        (Format::Jsonl, "utf-8"),
        (Format::Xlsx, "utf-8"),
    ] {
        assert!(formats.contains(&wanted), "no batch as {wanted:?}");
    }
}

#[test]
fn every_catalog_item_has_a_feed() {
    let city = city();
    let items: HashSet<&str> = city
        .manifest
        .batches
        .iter()
        .map(|b| b.item.as_str())
        .collect();
    for item in &Catalog::default_catalog().items {
        assert!(items.contains(item.id.as_str()), "no feed for {}", item.id);
    }
}

/// Undoes a repairable dirt the way an ingest pipeline should.
fn repair(kind: &str, value: &str) -> String {
    match kind {
        "stray_spaces" => value.trim().to_string(),
        "full_width" => value
            .chars()
            .map(|c| char::from_u32(c as u32 - 0xFEE0).unwrap_or(c))
            .collect(),
        "thousands_separator" => value.replace(',', ""),
        "unit_wan" => {
            let wan: f64 = value.trim_end_matches("万元").parse().unwrap();
            format!("{:.2}", wan * 10_000.0)
        }
        "date_format" => {
            let formats = ["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"];
            let date = formats
                .iter()
                .find_map(|f| chrono::NaiveDate::parse_from_str(value, f).ok())
                .unwrap_or_else(|| panic!("cannot read date {value}"));
            date.to_string()
        }
        other => panic!("{other} is not repairable"),
    }
}

#[test]
fn clean_rows_follow_the_catalog_and_dirty_labels_match_the_rows() {
    let city = city();
    let catalog = Catalog::default_catalog();
    let labels = testkit::truth::dirty(&city.out);
    let entities: HashSet<String> = testkit::truth::entities(&city.out)
        .into_iter()
        .map(|e| e["subject"].clone())
        .collect();
    let organisation_codes: HashSet<String> =
        entities.iter().map(|c| c[8..17].to_string()).collect();
    let mut registration_numbers = HashSet::new();
    for batch in city
        .manifest
        .batches
        .iter()
        .filter(|b| b.item == "registration")
    {
        let (header, rows) = read_batch(&city.out, batch);
        let at = header
            .iter()
            .position(|h| h == "registration_number")
            .unwrap();
        registration_numbers.extend(
            rows.into_iter()
                .map(|r| r[at].clone())
                .filter(|v| !v.is_empty()),
        );
    }
    let mut seen_labels = 0;
    let mut rows_total = 0;
    let mut kinds = HashSet::new();
    for batch in &city.manifest.batches {
        let item = catalog.item(&batch.item).unwrap();
        let subject_at = item
            .fields
            .iter()
            .position(|f| f.name == item.subject_field)
            .unwrap();
        let (_, rows) = read_batch(&city.out, batch);
        for (i, row) in rows.iter().enumerate() {
            rows_total += 1;
            let number = i as u64 + 1;
            let Some(label) = labels.get(&(batch.file.clone(), number)) else {
                for (field, value) in item.fields.iter().zip(row) {
                    if let Err(e) = field.check(value) {
                        panic!("{} row {number} field {}: {e}", batch.file, field.name);
                    }
                }
                let subject = &row[subject_at];
                if subject.is_empty() {
                    assert!(item.subject_optional);
                    continue;
                }
                match subject.parse::<SubjectId>().unwrap() {
                    SubjectId::Uscc(code) => assert!(
                        entities.contains(code.as_str()),
                        "{subject} unknown in {}",
                        batch.file
                    ),
                    SubjectId::OrganisationCode(code) => {
                        assert!(organisation_codes.contains(code.as_str()))
                    }
                    SubjectId::RegistrationNumber(number) => {
                        assert!(registration_numbers.contains(number.as_str()))
                    }
                }
                continue;
            };
            seen_labels += 1;
            kinds.insert(label.kind.clone());
            if label.kind == "exact_duplicate" {
                assert_eq!(row, &rows[i - 1], "{} row {number}", batch.file);
                continue;
            }
            let at = item
                .fields
                .iter()
                .position(|f| f.name == label.field)
                .unwrap();
            let field = &item.fields[at];
            assert_ne!(row[at], label.original, "{} row {number}", batch.file);
            match label.expected.as_str() {
                "repair" => assert_eq!(
                    repair(&label.kind, &row[at]),
                    label.original,
                    "{} row {number}",
                    batch.file
                ),
                "conflict" => {
                    let previous = &rows[i - 1];
                    for key in &item.natural_key {
                        let k = item.fields.iter().position(|f| &f.name == key).unwrap();
                        assert_eq!(previous[k], row[k]);
                    }
                    assert_eq!(previous[at], label.original);
                }
                "quarantine" if label.kind == "unknown_entity" => {
                    assert!(row[at].parse::<Uscc>().is_ok());
                    assert!(!entities.contains(&row[at]));
                }
                "quarantine" => assert!(
                    field.check(&row[at]).is_err(),
                    "{} row {number}: {} passes",
                    batch.file,
                    row[at]
                ),
                other => panic!("unexpected expectation {other}"),
            }
            if field.field_type == FieldType::Subject {
                assert!(label.original.parse::<Uscc>().is_ok());
            }
        }
    }
    assert_eq!(
        seen_labels,
        labels.len(),
        "labels point at rows that do not exist"
    );
    assert_eq!(seen_labels as u64, city.manifest.dirty_rows);
    let share = seen_labels as f64 / rows_total as f64;
    assert!((0.01..0.03).contains(&share), "dirty share {share}");
    assert!(kinds.len() >= 12, "only {kinds:?}");
}

#[test]
fn distributions_are_within_bounds() {
    let city = city();
    let entities = testkit::truth::entities(&city.out);
    let n = entities.len() as f64;
    let share = |f: &dyn Fn(&HashMap<String, String>) -> bool| {
        entities.iter().filter(|e| f(e)).count() as f64 / n
    };
    let enterprises = share(&|e| e["kind"] == "enterprise");
    let individuals = share(&|e| e["kind"] == "individual_business");
    assert!((0.30..0.38).contains(&enterprises), "{enterprises}");
    assert!((0.61..0.69).contains(&individuals), "{individuals}");
    let violates = share(&|e| e["violates"] == "1");
    assert!((0.05..0.15).contains(&violates), "{violates}");
    for (district, low, high) in [
        ("440605", 0.27, 0.35),
        ("440606", 0.25, 0.33),
        ("440604", 0.16, 0.24),
    ] {
        let s = share(&|e| e["town"].starts_with(district));
        assert!((low..high).contains(&s), "{district} {s}");
    }
    // Appliances are Shunde's: division 38 is commoner among its enterprises.
    let appliance_share = |district: &str| {
        let own: Vec<_> = entities
            .iter()
            .filter(|e| e["kind"] == "enterprise" && e["town"].starts_with(district))
            .collect();
        own.iter().filter(|e| e["industry"] == "38").count() as f64 / own.len() as f64
    };
    assert!(appliance_share("440606") > 2.0 * appliance_share("440604"));
    // The truth carries signal: violators' probabilities are higher.
    let mean_p = |v: &str| {
        let group: Vec<f64> = entities
            .iter()
            .filter(|e| e["violates"] == v)
            .map(|e| e["violation_probability"].parse().unwrap())
            .collect();
        group.iter().sum::<f64>() / group.len() as f64
    };
    assert!(mean_p("1") > 1.5 * mean_p("0"));
    let codes: HashSet<&str> = entities.iter().map(|e| e["subject"].as_str()).collect();
    assert_eq!(codes.len(), entities.len(), "codes are not unique");
    let organisation: HashSet<&str> = codes.iter().map(|c| &c[8..17]).collect();
    assert_eq!(
        organisation.len(),
        entities.len(),
        "organisation codes are not unique"
    );
    for code in codes {
        assert!(code.parse::<Uscc>().is_ok(), "{code}");
    }
}

#[test]
fn legacy_identifiers_and_outbreaks_appear() {
    let city = city();
    let mut legacy = 0;
    let mut complaints_by_subject: HashMap<String, Vec<String>> = HashMap::new();
    let entity_of_ticket: HashMap<String, String> =
        testkit::truth::rows(&city.out, "complaints.csv")
            .into_iter()
            .map(|row| (row["ticket_number"].clone(), row["subject"].clone()))
            .collect();
    for batch in &city.manifest.batches {
        let (header, rows) = read_batch(&city.out, batch);
        let subject = header.iter().position(|h| h == "subject").unwrap();
        legacy += rows
            .iter()
            .filter(|r| matches!(r[subject].len(), 9 | 15))
            .count();
        if batch.item == "complaint" {
            let date = header.iter().position(|h| h == "received_on").unwrap();
            let ticket = header.iter().position(|h| h == "ticket_number").unwrap();
            for row in rows {
                // The entity behind the ticket, whether the complaint
                // carries its code or only a name (a dirty row's ticket
                // may be damaged).
                let Some(entity) = entity_of_ticket.get(&row[ticket]) else {
                    continue;
                };
                complaints_by_subject
                    .entry(entity.clone())
                    .or_default()
                    .push(row[date].clone());
            }
        }
    }
    assert!(legacy > 100, "{legacy} legacy identifiers");
    let mut reader = csv::Reader::from_path(city.out.join("truth/outbreaks.csv")).unwrap();
    let mut businesses = 0;
    for record in reader.records() {
        let record = record.unwrap();
        if &record[1] != "business" {
            continue;
        }
        businesses += 1;
        let dates = complaints_by_subject
            .get(&record[2])
            .cloned()
            .unwrap_or_default();
        let inside = dates
            .iter()
            .filter(|d| d.as_str() >= &record[4] && d.as_str() <= &record[5])
            .count();
        assert!(
            inside >= 5,
            "outbreak at {} shows {inside} complaints",
            &record[2]
        );
    }
    assert_eq!(businesses, 3);
}

fn files_of(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn output_is_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        entities: 5_000,
        seed: 7,
        years: 1,
        ..SimConfig::default()
    };
    let run = |threads: usize, name: &str| {
        let out = dir.path().join(name);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| sim::write_city(&config, &out, |_| {}).unwrap());
        files_of(&out)
    };
    let one = run(1, "one");
    let two = run(2, "two");
    assert_eq!(one.len(), two.len());
    for ((path_a, bytes_a), (path_b, bytes_b)) in one.iter().zip(&two) {
        assert_eq!(path_a, path_b);
        assert!(bytes_a == bytes_b, "{} differs", path_a.display());
    }
    // A different seed gives a different city.
    let other = SimConfig {
        seed: 8,
        ..config.clone()
    };
    let out = dir.path().join("other");
    sim::write_city(&other, &out, |_| {}).unwrap();
    let differs = files_of(&out)
        .iter()
        .zip(&one)
        .any(|((_, a), (_, b))| a != b);
    assert!(differs);
}

#[test]
fn refuses_a_non_empty_directory_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let config = SimConfig {
        entities: 10,
        ..SimConfig::default()
    };
    assert!(matches!(
        sim::write_city(&config, dir.path(), |_| {}),
        Err(sim::SimError::NotEmpty(_))
    ));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine"
    );
    let bad = SimConfig {
        dirty_rate: 1.5,
        ..config.clone()
    };
    assert!(matches!(
        sim::write_city(&bad, &dir.path().join("new"), |_| {}),
        Err(sim::SimError::Config(_))
    ));
    for rate in [0.0, -1.0, f64::NAN, 1001.0] {
        let bad = SimConfig {
            complaint_rate: rate,
            ..config.clone()
        };
        assert!(bad.validate().is_err(), "{rate}");
    }
}
