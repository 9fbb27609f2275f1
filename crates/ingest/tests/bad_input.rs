//! Broken files get a clear error naming file, row and rule; none panics.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use domain::{Catalog, SubjectId, Uscc};
use ingest::{Encoding, FileFormat, ReadError, Registry};
use proptest::prelude::*;

struct Everyone;

impl Registry for Everyone {
    fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
        id.as_uscc()
    }
}

fn run(
    path: &Path,
    format: FileFormat,
    encoding: Option<Encoding>,
    item: &str,
) -> Result<ingest::Tally, ReadError> {
    let catalog = Catalog::default_catalog();
    let item = catalog.item(item).unwrap();
    let mut keys = lake::KeySet::default();
    ingest::run_file(
        path,
        format,
        encoding,
        item,
        &Everyone,
        &mut keys,
        &mut |_| Ok::<(), ReadError>(()),
    )
    .map(|(tally, _)| tally)
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const HEADER: &str = "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n";

#[test]
fn good_csv_in_utf8_and_gbk() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}91440606722473344C,2024-03,vat,1000.00,30.00,30.00,2024-04-10\n");
    let tally = run(
        &write(&dir, "a.csv", text.as_bytes()),
        FileFormat::Csv,
        None,
        "tax_payment",
    )
    .unwrap();
    assert_eq!((tally.rows_in, tally.accepted), (1, 1));
    let chinese = "subject,reason,listed_on,removed_on,removal_reason,authority\n91440606722473344C,no_annual_report,2024-07-01,,,佛山市顺德区市场监督管理局\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(chinese);
    let tally = run(
        &write(&dir, "b.csv", &gbk),
        FileFormat::Csv,
        None,
        "abnormal_operation",
    )
    .unwrap();
    assert_eq!(tally.accepted, 1, "GBK is detected");
}

#[test]
fn errors_name_file_row_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(PathBuf, FileFormat, &str)> = vec![
        (
            write(&dir, "empty.csv", b""),
            FileFormat::Csv,
            "empty.csv: file is empty: expected a header row",
        ),
        (
            write(&dir, "empty.jsonl", b""),
            FileFormat::Jsonl,
            "empty.jsonl: file is empty",
        ),
        (
            write(&dir, "unknown.csv", b"subject,period,colour\n"),
            FileFormat::Csv,
            "unknown.csv: header column 'colour' is not a field of item 'tax_payment'",
        ),
        (
            write(&dir, "missing.csv", b"subject,period\n"),
            FileFormat::Csv,
            "missing.csv: header lacks required field 'tax_type' of item 'tax_payment'",
        ),
        (
            write(
                &dir,
                "short.csv",
                format!("{HEADER}91440606722473344C,2024-03\n").as_bytes(),
            ),
            FileFormat::Csv,
            "short.csv, row 1: has 2 columns, the header has 7",
        ),
        (
            write(
                &dir,
                "object.jsonl",
                b"{\"subject\":\"91440606722473344C\"}\n[1,2]\n",
            ),
            FileFormat::Jsonl,
            "object.jsonl, row 2: not a JSON object",
        ),
        (
            write(
                &dir,
                "key.jsonl",
                b"{\"subject\":\"x\",\"colour\":\"red\"}\n",
            ),
            FileFormat::Jsonl,
            "key.jsonl, row 1: key 'colour' is not a field of item 'tax_payment'",
        ),
        (
            write(&dir, "nested.jsonl", b"{\"subject\":{\"a\":1}}\n"),
            FileFormat::Jsonl,
            "nested.jsonl, row 1: field 'subject' is an array or object",
        ),
        (
            write(&dir, "latin.jsonl", b"{\"subject\":\"\xff\xfe\"}\n"),
            FileFormat::Jsonl,
            "latin.jsonl, row 1: not valid UTF-8 text",
        ),
        (
            write(&dir, "garbage.xlsx", b"PK\x03\x04 this is not a zip"),
            FileFormat::Xlsx,
            "garbage.xlsx: not a valid XLSX file",
        ),
    ];
    for (path, format, expected) in cases {
        let error = run(&path, format, None, "tax_payment")
            .unwrap_err()
            .to_string();
        let shown = error.replace(&format!("{}/", dir.path().display()), "");
        assert!(
            shown.starts_with(expected),
            "expected {expected:?}, got {shown:?}"
        );
    }
}

#[test]
fn declared_utf8_that_is_gbk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("subject,reason,listed_on,removed_on,removal_reason,authority\n91440606722473344C,no_annual_report,2024-07-01,,,佛山市市场监督管理局\n");
    let error = run(
        &write(&dir, "gbk.csv", &gbk),
        FileFormat::Csv,
        Some(Encoding::Utf8),
        "abnormal_operation",
    )
    .unwrap_err();
    assert_eq!(error.row, Some(1));
    assert!(error.message.contains("not valid UTF-8 text"), "{error}");
}

#[test]
fn overlong_lines_are_refused_not_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(ingest::read::MAX_LINE_BYTES + 10);
    let csv = format!("{HEADER}91440606722473344C,{long}\n");
    let error = run(
        &write(&dir, "long.csv", csv.as_bytes()),
        FileFormat::Csv,
        None,
        "tax_payment",
    )
    .unwrap_err();
    assert!(error.message.contains("longer than 1 MiB"), "{error}");
    let jsonl = format!("{{\"subject\":\"{long}\"}}\n");
    let error = run(
        &write(&dir, "long.jsonl", jsonl.as_bytes()),
        FileFormat::Jsonl,
        None,
        "tax_payment",
    )
    .unwrap_err();
    assert!(error.message.contains("longer than 1 MiB"), "{error}");
}

#[test]
fn truncated_xlsx_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("city");
    let config = sim::SimConfig {
        entities: 50,
        years: 1,
        formats: vec![sim::Format::Xlsx],
        dirty_rate: 0.0,
        ..sim::SimConfig::default()
    };
    let manifest = sim::write_city(&config, &out, |_| {}).unwrap();
    let batch = manifest
        .batches
        .iter()
        .find(|b| b.item == "water_usage")
        .unwrap();
    let path = out.join(&batch.file);
    let tally = run(&path, FileFormat::Xlsx, None, "water_usage").unwrap();
    assert_eq!(tally.rows_in, batch.rows);
    let bytes = std::fs::read(&path).unwrap();
    let truncated = write(&dir, "truncated.xlsx", &bytes[..bytes.len() / 2]);
    let error = run(&truncated, FileFormat::Xlsx, None, "water_usage").unwrap_err();
    assert!(error.message.contains("XLSX"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), prefix in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let headed = match prefix {
            0 => bytes.clone(),
            1 => [HEADER.as_bytes(), &bytes].concat(),
            _ => [b"PK\x03\x04".as_slice(), &bytes].concat(),
        };
        for (name, format) in [("f.csv", FileFormat::Csv), ("f.jsonl", FileFormat::Jsonl), ("f.xlsx", FileFormat::Xlsx)] {
            let path = write(&dir, name, &headed);
            let _ = run(&path, format, None, "tax_payment");
        }
    }

    #[test]
    fn every_row_is_accounted_for(rows in proptest::collection::vec("[0-9A-Z,\\. -]{0,40}", 0..40)) {
        let dir = tempfile::tempdir().unwrap();
        let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
        let path = write(&dir, "rows.csv", format!("{HEADER}{body}").as_bytes());
        if let Ok(tally) = run(&path, FileFormat::Csv, None, "tax_payment") {
            prop_assert_eq!(tally.rows_in, tally.accepted + tally.quarantined);
        }
    }
}
