//! Ingests a synthetic city and scores the pipeline against the city's
//! truth: every dirty row must be repaired, quarantined or recognised as a
//! duplicate as its label says, and no clean row may be quarantined.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::{Catalog, SubjectId, Uscc};
use ingest::{Encoding, FileFormat, Outcome, Reason, Registry};

#[derive(Default)]
struct MemoryRegistry {
    codes: HashSet<Uscc>,
    legacy: HashMap<String, Uscc>,
}

impl Registry for MemoryRegistry {
    fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
        match id {
            SubjectId::Uscc(code) => self.codes.contains(code).then_some(*code),
            other => self.legacy.get(&other.to_string()).copied(),
        }
    }
}

fn format_of(batch: &sim::feeds::Batch) -> (FileFormat, Option<Encoding>) {
    match batch.format {
        sim::Format::Csv => (FileFormat::Csv, None),
        sim::Format::Jsonl => (FileFormat::Jsonl, None),
        sim::Format::Xlsx => (FileFormat::Xlsx, None),
    }
}

fn same_value(a: &str, b: &str) -> bool {
    a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if (x - y).abs() < 1e-9)
}

#[test]
fn pipeline_handles_every_dirty_row_as_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("city");
    let config = sim::SimConfig {
        entities: 3_000,
        seed: 11,
        years: 1,
        dirty_rate: 0.05,
        ..sim::SimConfig::default()
    };
    let manifest = sim::write_city(&config, &out, |_| {}).unwrap();
    let catalog = Catalog::default_catalog();
    let labels = testkit::truth::dirty(&out);

    // The registry first: registration records bring entities in.
    let mut registry = MemoryRegistry::default();
    let mut batches: Vec<&sim::feeds::Batch> = manifest.batches.iter().collect();
    batches.sort_by_key(|b| b.item != "registration");

    // (file, row) → outcome, and the rows as sent.
    let mut handled: HashMap<(String, u64), Outcome> = HashMap::new();
    // Each item's keys, as the lake keeps them across batches.
    let mut keys: HashMap<String, lake::KeySet> = HashMap::new();
    for batch in batches {
        let item = catalog.item(&batch.item).unwrap();
        let (format, encoding) = format_of(batch);
        let path = out.join(&batch.file);
        let mut outcomes = Vec::new();
        let (tally, _) = ingest::run_file::<ingest::ReadError>(
            &path,
            format,
            encoding,
            item,
            &registry,
            keys.entry(batch.item.clone()).or_default(),
            &mut |o| {
                outcomes.push(o);
                Ok(())
            },
        )
        .unwrap();
        if let Some(keys) = keys.get_mut(&batch.item) {
            keys.batch_committed();
        }
        assert_eq!(tally.rows_in, batch.rows, "{}", batch.file);
        assert_eq!(
            tally.rows_in,
            tally.accepted + tally.quarantined,
            "{}",
            batch.file
        );
        if item.registers_entities {
            let regno_at = item
                .fields
                .iter()
                .position(|f| f.name == "registration_number")
                .unwrap();
            for outcome in &outcomes {
                if let Outcome::Accepted(row) = outcome {
                    let code = row.subject.unwrap();
                    registry.codes.insert(code);
                    registry
                        .legacy
                        .insert(code.organisation_code().to_string(), code);
                    if !row.values[regno_at].is_empty() {
                        registry.legacy.insert(row.values[regno_at].clone(), code);
                    }
                }
            }
        }
        for outcome in outcomes {
            let number = match &outcome {
                Outcome::Accepted(a) => a.number,
                Outcome::Quarantined(q) => q.number,
            };
            handled.insert((batch.file.clone(), number), outcome);
        }
    }

    // A registration row that must be quarantined leaves its entity out of
    // the registry, so every record about that entity is rightly unknown.
    let registration = catalog.item("registration").unwrap();
    let mut unregistered: HashSet<String> = HashSet::new();
    for batch in manifest.batches.iter().filter(|b| b.item == "registration") {
        for ((file, number), outcome) in &handled {
            let (Some(label), Outcome::Quarantined(q)) =
                (labels.get(&(file.clone(), *number)), outcome)
            else {
                continue;
            };
            if file != &batch.file || label.expected == "repair" {
                continue;
            }
            let subject_at = registration
                .fields
                .iter()
                .position(|f| f.name == registration.subject_field)
                .unwrap();
            let subject = if label.field == registration.subject_field {
                label.original.clone()
            } else {
                q.original[subject_at].clone()
            };
            unregistered.insert(subject);
            let regno_at = registration
                .fields
                .iter()
                .position(|f| f.name == "registration_number")
                .unwrap();
            if !q.original[regno_at].is_empty() {
                unregistered.insert(q.original[regno_at].clone());
            }
        }
    }
    let cascades = |outcome: &Outcome| match outcome {
        Outcome::Quarantined(q)
            if matches!(q.reason, Reason::UnknownEntity | Reason::LegacyUnmapped) =>
        {
            q.original
                .iter()
                .map(|v| domain::normalise::normalise_code_input(v).0)
                .any(|v| {
                    unregistered.iter().any(|code| {
                        v == *code || (v.len() == 9 && code.get(8..17) == Some(v.as_str()))
                    })
                })
        }
        _ => false,
    };

    // Score each dirty kind; every clean row must be accepted.
    let mut per_kind: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut wrongly_quarantined = Vec::new();
    let mut quarantined_for: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for ((file, number), outcome) in &handled {
        let label = labels.get(&(file.clone(), *number));
        if let Outcome::Quarantined(q) = outcome {
            let entry = quarantined_for.entry(q.reason.as_str()).or_default();
            entry.0 += 1;
            if label.is_some_and(|l| l.expected != "repair") || cascades(outcome) {
                entry.1 += 1;
            }
        }
        if cascades(outcome) && label.is_none_or(|l| l.kind != "unknown_entity") {
            continue;
        }
        let Some(label) = label else {
            if let Outcome::Quarantined(q) = outcome {
                wrongly_quarantined.push(format!(
                    "{file} row {number}: {} {}",
                    q.reason.as_str(),
                    q.message
                ));
            }
            continue;
        };
        let item_id = file.split('/').nth(2).unwrap();
        let item = catalog.item(item_id).unwrap();
        let right = match (label.expected.as_str(), outcome) {
            ("repair", Outcome::Accepted(row)) => {
                let at = item
                    .fields
                    .iter()
                    .position(|f| f.name == label.field)
                    .unwrap();
                // A legacy subject was repaired by mapping it to the USCC;
                // the label speaks of the identifier as sent.
                let value = match &row.subject_sent {
                    Some(sent) if label.field == item.subject_field => sent,
                    _ => &row.values[at],
                };
                same_value(value, &label.original)
            }
            ("quarantine", Outcome::Quarantined(q)) => {
                let unknown = label.kind == "unknown_entity";
                (q.reason == Reason::UnknownEntity) == unknown
            }
            ("duplicate", Outcome::Quarantined(q)) => q.reason == Reason::Duplicate,
            ("conflict", Outcome::Quarantined(q)) => q.reason == Reason::DuplicateConflict,
            _ => false,
        };
        let entry = per_kind.entry(label.kind.clone()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(right);
    }
    println!("dirty kind            rows  handled as labelled");
    for (kind, (rows, right)) in &per_kind {
        println!(
            "{kind:<20} {rows:>5}  {:>6.1}%",
            100.0 * *right as f64 / *rows as f64
        );
    }
    println!(
        "\nquarantine reason     rows  precision (labelled, or about an entity whose registration was quarantined)"
    );
    for (reason, (rows, labelled)) in &quarantined_for {
        println!(
            "{reason:<20} {rows:>5}  {:>6.1}%",
            100.0 * *labelled as f64 / *rows as f64
        );
    }
    for (reason, (rows, justified)) in &quarantined_for {
        assert_eq!(
            rows, justified,
            "{reason}: {justified} of {rows} quarantined rows justified"
        );
    }
    assert!(
        wrongly_quarantined.is_empty(),
        "clean rows quarantined:\n{}",
        wrongly_quarantined.join("\n")
    );
    assert!(per_kind.len() >= 12);
    for (kind, (rows, right)) in &per_kind {
        assert_eq!(rows, right, "{kind}: {right} of {rows} handled as labelled");
    }
}
