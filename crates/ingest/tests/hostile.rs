//! The hostile corpus: files built to exhaust memory, hang the reader or
//! fool the terminal. Each is refused with a message naming the file, the
//! place and the rule, before anything large is allocated.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use domain::{Catalog, SubjectId, Uscc};
use ingest::{Encoding, FileDigest, FileFormat, ReadError, Registry, Tally};
use sha2::Digest;
use testkit::hostile::{row, workbook};

struct Everyone;

impl Registry for Everyone {
    fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
        id.as_uscc()
    }
}

fn run(path: &Path, format: FileFormat, item: &str) -> Result<(Tally, FileDigest), ReadError> {
    let catalog = Catalog::default_catalog();
    let item = catalog.item(item).unwrap();
    let mut keys = lake::KeySet::default();
    ingest::run_file(
        path,
        format,
        None::<Encoding>,
        item,
        &Everyone,
        &mut keys,
        &mut |_| Ok::<(), ReadError>(()),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn refused(path: &Path, format: FileFormat) -> String {
    let error = run(path, format, "abnormal_operation").unwrap_err();
    error.to_string()
}

const FIELDS: [&str; 6] = [
    "subject",
    "reason",
    "listed_on",
    "removed_on",
    "removal_reason",
    "authority",
];

fn header_row() -> String {
    let cells: Vec<(String, &str)> = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("{}1", ingest::read::column_name(i as u32)), *f))
        .collect();
    let cells: Vec<(&str, &str)> = cells.iter().map(|(a, f)| (a.as_str(), *f)).collect();
    row(1, &cells)
}

fn good_row(number: u32) -> String {
    row(
        number,
        &[
            (&format!("A{number}"), "91440606722473344C"),
            (&format!("B{number}"), "no_annual_report"),
            (&format!("C{number}"), "2024-07-01"),
        ],
    )
}

/// A workbook of the header, one good row, and `extra` as its third row.
fn sheet_with(extra: String) -> Vec<u8> {
    workbook(
        |w| write!(w, "{}{}{extra}", header_row(), good_row(2)),
        None,
    )
}

#[test]
fn a_good_workbook_built_here_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "good.xlsx", &sheet_with(good_row(3)));
    let (tally, digest) = run(&path, FileFormat::Xlsx, "abnormal_operation").unwrap();
    assert_eq!(tally.rows_in, 2);
    let bytes = std::fs::read(&path).unwrap();
    let expected: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest.sha256, expected, "the digest is of the bytes read");
    assert_eq!(digest.bytes, bytes.len() as u64);
}

#[test]
fn a_cell_far_beyond_the_grid_is_refused_before_anything_is_sized_by_it() {
    let dir = tempfile::tempdir().unwrap();
    for column in ["DVFKPWS", "ZZZZZZ", "AAAA"] {
        let path = write(
            &dir,
            "far.xlsx",
            &sheet_with(row(3, &[(&format!("{column}3"), "x")])),
        );
        let shown = refused(&path, FileFormat::Xlsx);
        assert!(
            shown.contains(&format!(
                "cell reference '{column}3' lies beyond Excel's last cell XFD1048576"
            )),
            "{shown}"
        );
    }
    let path = write(
        &dir,
        "row.xlsx",
        &sheet_with(row(99_999_999, &[("A99999999", "x")])),
    );
    assert!(refused(&path, FileFormat::Xlsx).contains("beyond Excel's last cell"));
}

#[test]
fn a_value_beyond_the_header_is_refused_naming_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "wide.xlsx", &sheet_with(row(3, &[("XFD3", "x")])));
    let shown = refused(&path, FileFormat::Xlsx);
    assert!(
        shown.ends_with("wide.xlsx, row 2: cell XFD3 lies beyond the header's 6 columns (A to F)"),
        "{shown}"
    );
}

#[test]
fn a_huge_cell_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // 20 MiB of text in one cell, a few kilobytes compressed.
    let big = "x".repeat(20 << 20);
    let path = write(&dir, "huge.xlsx", &sheet_with(row(3, &[("F3", &big)])));
    let shown = refused(&path, FileFormat::Xlsx);
    assert!(
        shown.contains("xl/worksheets/sheet1.xml: a text of more than 6 MiB after cell F3"),
        "{shown}"
    );
    // 2 MiB passes the scan but not the limit on a value.
    let big = "y".repeat(2 << 20);
    let path = write(&dir, "big.xlsx", &sheet_with(row(3, &[("F3", &big)])));
    let shown = refused(&path, FileFormat::Xlsx);
    assert!(
        shown.ends_with("big.xlsx, row 2: cell F3 holds 2 MiB; a value may hold at most 1 MiB"),
        "{shown}"
    );
}

#[test]
fn shared_strings_larger_than_their_limit_are_refused_as_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let strings = |w: &mut dyn Write| -> std::io::Result<()> {
        let item = format!("<si><t>{}</t></si>", "s".repeat(1000));
        let chunk = item.repeat(1000);
        for _ in 0..((ingest::read::MAX_XLSX_PART_BYTES as usize / chunk.len()) + 2) {
            w.write_all(chunk.as_bytes())?;
        }
        Ok(())
    };
    let bytes = workbook(|w| write!(w, "{}", header_row()), Some(&strings));
    assert!(bytes.len() < 16 << 20, "the bomb is small: {}", bytes.len());
    let path = write(&dir, "strings.xlsx", &bytes);
    let shown = refused(&path, FileFormat::Xlsx);
    assert!(
        shown.contains("xl/sharedStrings.xml: is larger than 256 MiB uncompressed"),
        "{shown}"
    );
}

#[test]
fn pipes_and_devices_are_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("feed.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let shown = refused(&fifo, FileFormat::Csv);
    assert!(
        shown.contains("feed.csv: is a named pipe (FIFO), not a regular file"),
        "{shown}"
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "it did not wait for a writer"
    );
    let shown = refused(Path::new("/dev/zero"), FileFormat::Csv);
    assert!(
        shown.starts_with("/dev/zero: is a character device, not a regular file"),
        "{shown}"
    );
    let shown = refused(dir.path(), FileFormat::Jsonl);
    assert!(shown.contains("is a directory"), "{shown}");
}

#[test]
fn utf16_is_named_not_garbled() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\n", FIELDS.join(","));
    let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let with_bom = [&[0xff, 0xfe][..], &utf16le].concat();
    let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, bytes, what) in [
        ("bom.csv", with_bom, "UTF-16 little-endian"),
        ("le.csv", utf16le, "UTF-16 little-endian"),
        ("be.csv", utf16be, "UTF-16 big-endian"),
    ] {
        let shown = refused(&write(&dir, name, &bytes), FileFormat::Csv);
        assert!(
            shown.contains(&format!(
                "{name}: the file is {what} text; CSV files are read as UTF-8 or GBK"
            )),
            "{shown}"
        );
    }
}

#[test]
fn an_open_quote_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let header = FIELDS.join(",");
    let text = format!(
        "{header}\n91440606722473344C,no_annual_report,2024-07-01,,,x\n91440606722473344C,\"no_annual_report,2024-07-01,,,x\n91440606722473344C,no_annual_report,2024-07-02,,,x\n"
    );
    let shown = refused(&write(&dir, "open.csv", text.as_bytes()), FileFormat::Csv);
    assert!(
        shown.ends_with("open.csv, row 2: the quote opened on line 3 is never closed"),
        "{shown}"
    );
    // Closed later, the quoted value swallows lines and the count is wrong.
    let text = format!(
        "{header}\n91440606722473344C,\"no_annual_report,2024-07-01\n91440606722473344C\",x\n"
    );
    let shown = refused(&write(&dir, "late.csv", text.as_bytes()), FileFormat::Csv);
    assert!(
        shown.ends_with("late.csv, row 1: has 3 columns, the header has 6 (a quoted value runs from line 2 to line 3: is a closing quote missing?)"),
        "{shown}"
    );
    // A record of short lines inside an open quote is bounded like a line.
    let mut text = format!("{header}\n91440606722473344C,\"");
    for _ in 0..(ingest::read::MAX_LINE_BYTES / 10 + 1) {
        text.push_str("123456789\n");
    }
    let shown = refused(&write(&dir, "lines.csv", text.as_bytes()), FileFormat::Csv);
    assert!(
        shown.contains("a line is longer than 1 MiB: the quote opened on line 2 is still open"),
        "{shown}"
    );
}

#[test]
fn control_characters_in_a_file_are_escaped_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let text = "subject,\u{1b}]0;owned\u{7}\u{1b}[2J\n";
    let shown = refused(&write(&dir, "esc.csv", text.as_bytes()), FileFormat::Csv);
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(
        shown.contains("header column '\\u{1b}]0;owned\\u{7}\\u{1b}[2J'"),
        "{shown}"
    );
    let name = write(&dir, "bad\u{1b}[31mname.csv", b"");
    let shown = refused(&name, FileFormat::Csv);
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
}

#[test]
fn values_are_read_as_sent_formulas_included() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n91440606722473344C,no_annual_report,2024-07-01,,,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n",
        FIELDS.join(",")
    );
    let path = write(&dir, "formula.csv", text.as_bytes());
    let catalog = Catalog::default_catalog();
    let item = catalog.item("abnormal_operation").unwrap();
    let mut rows = Vec::new();
    ingest::read::read_rows(&path, FileFormat::Csv, None, item, &mut |row| {
        rows.push(row);
        Ok::<(), ReadError>(())
    })
    .unwrap();
    let authority = item
        .fields
        .iter()
        .position(|f| f.name == "authority")
        .unwrap();
    assert_eq!(rows[0].values[authority], "=HYPERLINK(\"http://x\",\"y\")");
}
