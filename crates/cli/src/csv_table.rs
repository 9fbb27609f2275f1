//! Reading a CSV file into the scoring engine's table.
//!
//! The file is read into memory once and parsed once: each field's bytes go
//! straight into a typed column (numbers parsed in place, categories into a
//! dictionary), the target with them. A column left to be typed starts as
//! numbers; only if one of its values is not a number is it read again, as
//! categories. Empty cells and `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`,
//! `None` are missing values.

use std::collections::BTreeSet;
use std::path::Path;

use std::io::Write;

use anyhow::{Context, Result, bail};
use domain::text::spreadsheet_safe;
use scoring::{CategoricalBuilder, Column, Kind, Table};

const MISSING: [&str; 8] = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"];

pub fn is_missing(text: &str) -> bool {
    MISSING.contains(&text.trim())
}

/// A CSV file held in memory with its header.
pub struct CsvFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub header: Vec<String>,
    /// Whether a field may be quoted or a row end in a lone carriage return
    /// (a quote character or such a return appears). Otherwise every comma
    /// ends a field and every line feed a row.
    quoted: bool,
}

impl CsvFile {
    pub fn open(path: &Path) -> Result<CsvFile> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let path = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let header = reader
            .headers()
            .with_context(|| format!("{path}: cannot read the header row"))?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect::<Vec<_>>();
        if header.is_empty() || header.iter().all(String::is_empty) {
            bail!("{path}: the file has no header row");
        }
        let mut seen = BTreeSet::new();
        for name in &header {
            if !seen.insert(name) {
                bail!("{path}: column '{name}' appears twice in the header");
            }
        }
        let quoted = bytes.contains(&b'"')
            || memchr::memchr_iter(b'\r', &bytes).any(|at| bytes.get(at + 1) != Some(&b'\n'));
        Ok(CsvFile {
            path,
            bytes,
            header,
            quoted,
        })
    }

    pub fn position(&self, column: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == column)
            .with_context(|| format!("{}: no column '{column}' in the header", self.path))
    }

    /// The file cut into runs of whole rows, one per core, each starting at
    /// a line's start (the first holds the header). A file with a quote
    /// character is one run: a quoted field may hold a line break, so a
    /// line's start need not be a row's.
    pub fn runs(&self) -> Vec<std::ops::Range<usize>> {
        let bytes = &self.bytes;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let whole = 0..bytes.len();
        if cores == 1 || bytes.len() < 1 << 20 || self.quoted {
            return vec![whole];
        }
        let mut runs = Vec::with_capacity(cores);
        let mut start = 0;
        for k in 1..cores {
            let target = (bytes.len() * k / cores).max(start);
            let Some(newline) = bytes[target..].iter().position(|&b| b == b'\n') else {
                break;
            };
            let end = target + newline + 1;
            runs.push(start..end);
            start = end;
        }
        runs.push(start..bytes.len());
        runs
    }

    /// Calls `each` with every data row as bytes, in order, with its
    /// 1-based row number; one record is reused for all rows. A malformed
    /// row is an error naming it.
    pub fn each_byte_record(
        &self,
        mut each: impl FnMut(usize, &csv::ByteRecord) -> Result<()>,
    ) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new().from_reader(self.bytes.as_slice());
        let width = self.header.len();
        let mut record = csv::ByteRecord::new();
        let mut row = 0;
        loop {
            row += 1;
            match reader.read_byte_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) if record.len() != width => bail!(
                    "{}: row {row} has {} fields, the header has {width}",
                    self.path,
                    record.len()
                ),
                Ok(true) => each(row, &record)?,
                Err(error) => bail!("{}: row {row}: {error}", self.path),
            }
        }
    }

    /// Every data row in order, with its 1-based row number (the header is
    /// row 0); a malformed row is an error naming it.
    pub fn records(&self) -> impl Iterator<Item = Result<(usize, csv::StringRecord)>> + '_ {
        let mut reader = csv::ReaderBuilder::new().from_reader(self.bytes.as_slice());
        let width = self.header.len();
        let path = self.path.clone();
        let mut row = 0;
        std::iter::from_fn(move || {
            let mut record = csv::StringRecord::new();
            row += 1;
            match reader.read_record(&mut record) {
                Ok(false) => None,
                Ok(true) if record.len() != width => Some(Err(anyhow::anyhow!(
                    "{path}: row {row} has {} fields, the header has {width}",
                    record.len()
                ))),
                Ok(true) => Some(Ok((row, record))),
                Err(error) => Some(Err(anyhow::anyhow!("{path}: row {row}: {error}"))),
            }
        })
    }
}

/// Writes a header and rows to `out` as CSV, every field made safe to open
/// in a spreadsheet (a formula is written as text).
pub fn write_csv(
    out: &Path,
    header: &[String],
    rows: impl IntoIterator<Item = Result<Vec<String>>>,
) -> Result<()> {
    let output =
        std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(output));
    writer.write_record(header)?;
    for fields in rows {
        writer.write_record(fields?.iter().map(|f| spreadsheet_safe(f).into_owned()))?;
    }
    writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", out.display(), e.error()))?
        .flush()
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// How to read one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// Numeric if every present value is a number, else categorical.
    Auto,
    Exactly(Kind),
}

/// Reads the named columns as a table; `typing` says how each is read.
pub fn read_table(file: &CsvFile, columns: &[(String, Typing)]) -> Result<Table> {
    Ok(read(file, columns, None)?.0)
}

/// One column being filled: numbers straight into a typed buffer, or
/// categories into a dictionary. An `Auto` column starts as numbers and is
/// read again as categories only if a value is not a number.
enum Builder {
    Numeric(Vec<f64>),
    Categorical(CategoricalBuilder),
    /// An `Auto` column that turned out not to be numeric.
    Demoted,
}

/// Reads the named columns, and the target when asked (a row is an event
/// when its value equals `event`; a missing target is an error naming the
/// row), in one pass over the file's bytes: no string per field, numbers
/// parsed in place, each core parsing its own run of rows. Only columns
/// typed `Auto` whose values turn out not to be numbers need a second
/// pass, over those columns alone.
pub fn read(
    file: &CsvFile,
    columns: &[(String, Typing)],
    target: Option<(&str, &str)>,
) -> Result<(Table, Option<Vec<bool>>)> {
    let positions = columns
        .iter()
        .map(|(name, _)| file.position(name))
        .collect::<Result<Vec<_>>>()?;
    let target = match target {
        Some((name, event)) => Some(Target {
            position: file.position(name)?,
            name,
            event,
            event_number: event.parse::<f64>().ok(),
        }),
        None => None,
    };
    // Columns left to be typed whose first rows hold text are read as
    // categories from the start; only a column whose text comes later
    // needs the second pass below.
    let sniffed = sniff(file, columns, &positions);
    let columns = sniffed.as_slice();
    let job = Job {
        width: file.header.len(),
        plain: !file.quoted,
        columns,
        positions: &positions,
        target: target.as_ref(),
    };
    let runs = file.runs();
    // Columns are made their final size up front: the first run's take
    // every run's rows, the others theirs, so no column is copied as it
    // grows. Fresh pages are what reading costs most here (the kernel
    // zeroing them), so each page is touched once, not at every doubling.
    let lines = runs
        .iter()
        .map(|run| memchr::memchr_iter(b'\n', &file.bytes[run.clone()]).count() + 1)
        .collect::<Vec<_>>();
    let total_lines = lines.iter().sum::<usize>();
    let parts: Vec<Result<Part, RowError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .zip(&lines)
            .map(|(run, &lines)| {
                let first = run.start == 0;
                let capacity = if first { total_lines } else { lines };
                let job = &job;
                scope.spawn(move || job.parse(&file.bytes[run.clone()], first, capacity))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(RowError {
                        row: 0,
                        message: ": a reading thread failed".into(),
                    })
                })
            })
            .collect()
    });
    // Row numbers in errors count the rows of the runs before.
    let mut rows_before = 0;
    let mut merged: Option<Part> = None;
    for part in parts {
        match part {
            Err(e) => {
                let row = rows_before + e.row;
                bail!("{}: row {row}{}", file.path, e.message);
            }
            Ok(part) => {
                rows_before += part.rows;
                merged = Some(match merged {
                    None => part,
                    Some(first) => first.append(part),
                });
            }
        }
    }
    let Part {
        mut builders,
        events,
        ..
    } = merged.unwrap_or_else(|| job.empty(0));

    // Columns that were not numbers after all: a second pass for them.
    let demoted: Vec<usize> = (0..builders.len())
        .filter(|&c| matches!(builders[c], Builder::Demoted))
        .collect();
    if !demoted.is_empty() {
        let mut categories: Vec<CategoricalBuilder> = demoted
            .iter()
            .map(|_| CategoricalBuilder::default())
            .collect();
        file.each_byte_record(|row, record| {
            for (k, &c) in demoted.iter().enumerate() {
                let bytes = record.get(positions[c]).unwrap_or(b"");
                let value = text(bytes).map_err(|e| {
                    anyhow::anyhow!("{}: row {row}, column '{}'{e}", file.path, columns[c].0)
                })?;
                let value = value.trim();
                categories[k].push((!is_missing(value)).then_some(value));
            }
            Ok(())
        })?;
        for (k, &c) in demoted.iter().enumerate() {
            builders[c] = Builder::Categorical(std::mem::take(&mut categories[k]));
        }
    }

    let mut table = Table::default();
    for ((name, _), builder) in columns.iter().zip(builders) {
        let column = match builder {
            Builder::Numeric(values) => Column::Numeric(values),
            Builder::Categorical(builder) => builder.finish(),
            Builder::Demoted => Column::Numeric(Vec::new()),
        };
        table.push(name.clone(), column);
    }
    Ok((table, events))
}

/// Rows read to type the columns left to be typed.
const SNIFF_ROWS: usize = 1000;

/// `columns` with each `Auto` column that has a value other than a number
/// in the first [`SNIFF_ROWS`] rows typed categorical.
fn sniff(
    file: &CsvFile,
    columns: &[(String, Typing)],
    positions: &[usize],
) -> Vec<(String, Typing)> {
    let mut typed = columns.to_vec();
    let mut reader = csv::ReaderBuilder::new().from_reader(file.bytes.as_slice());
    let mut record = csv::ByteRecord::new();
    for _ in 0..SNIFF_ROWS {
        if !matches!(reader.read_byte_record(&mut record), Ok(true)) {
            break;
        }
        for ((_, typing), &p) in typed.iter_mut().zip(positions) {
            if *typing != Typing::Auto {
                continue;
            }
            let bytes = record.get(p).unwrap_or(b"");
            if !is_missing_bytes(bytes) && number(bytes).is_none() {
                *typing = Typing::Exactly(Kind::Categorical);
            }
        }
    }
    typed
}

struct Target<'a> {
    position: usize,
    name: &'a str,
    event: &'a str,
    event_number: Option<f64>,
}

/// What every run reads.
struct Job<'a> {
    /// Fields in the header.
    width: usize,
    /// The file has no quote character: fields are split in place.
    plain: bool,
    columns: &'a [(String, Typing)],
    positions: &'a [usize],
    target: Option<&'a Target<'a>>,
}

/// One run's columns.
struct Part {
    rows: usize,
    builders: Vec<Builder>,
    events: Option<Vec<bool>>,
}

/// A problem in a run's row (counted within the run), its message after
/// the row.
struct RowError {
    row: usize,
    message: String,
}

impl Job<'_> {
    /// A part with room for `rows` rows in every column.
    fn empty(&self, rows: usize) -> Part {
        Part {
            rows: 0,
            builders: self
                .columns
                .iter()
                .map(|(_, typing)| match typing {
                    Typing::Exactly(Kind::Categorical) => {
                        Builder::Categorical(CategoricalBuilder::with_capacity(rows))
                    }
                    _ => Builder::Numeric(Vec::with_capacity(rows)),
                })
                .collect(),
            events: self.target.map(|_| Vec::with_capacity(rows)),
        }
    }

    /// Parses one run of rows into columns with room for `capacity` rows;
    /// the first run holds the header.
    fn parse(&self, bytes: &[u8], has_header: bool, capacity: usize) -> Result<Part, RowError> {
        if self.plain {
            return self.parse_plain(bytes, has_header, capacity);
        }
        let mut part = self.empty(capacity);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(has_header)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        loop {
            let row = part.rows + 1;
            let fail = |message: String| RowError { row, message };
            match reader.read_byte_record(&mut record) {
                Ok(false) => return Ok(part),
                Ok(true) => {}
                Err(error) => return Err(fail(format!(": {error}"))),
            }
            part.rows += 1;
            if record.len() != self.width {
                return Err(fail(format!(
                    " has {} fields, the header has {}",
                    record.len(),
                    self.width
                )));
            }
            self.row(|c| record.get(c).unwrap_or(b""), &mut part)
                .map_err(fail)?;
        }
    }

    /// Parses a run of a file with no quote character: one SIMD scan finds
    /// every comma and line feed, and fields are read where they lie, with
    /// no copy into a record. Rows are as the CSV reader sees them: a
    /// carriage return before the line feed is not part of the last field,
    /// and blank lines are skipped.
    fn parse_plain(
        &self,
        bytes: &[u8],
        has_header: bool,
        capacity: usize,
    ) -> Result<Part, RowError> {
        let mut part = self.empty(capacity);
        let mut fields: Vec<&[u8]> = Vec::with_capacity(self.width);
        let mut header = has_header;
        let mut start = 0;
        let mut end_row = |fields: &mut Vec<&[u8]>, part: &mut Part| {
            if let Some(last) = fields.last_mut()
                && let Some(stripped) = last.strip_suffix(b"\r")
            {
                *last = stripped;
            }
            let blank = fields.len() == 1 && fields[0].is_empty();
            let result = if blank {
                Ok(())
            } else if header {
                header = false;
                Ok(())
            } else {
                part.rows += 1;
                let row = part.rows;
                let fail = |message: String| RowError { row, message };
                if fields.len() != self.width {
                    Err(fail(format!(
                        " has {} fields, the header has {}",
                        fields.len(),
                        self.width
                    )))
                } else {
                    self.row(|c| fields[c], part).map_err(fail)
                }
            };
            fields.clear();
            result
        };
        for end in memchr::memchr2_iter(b',', b'\n', bytes) {
            fields.push(&bytes[start..end]);
            start = end + 1;
            if bytes[end] == b'\n' {
                end_row(&mut fields, &mut part)?;
            }
        }
        // The last row, when the run does not end with a line feed.
        if start < bytes.len() || !fields.is_empty() {
            fields.push(&bytes[start..]);
            end_row(&mut fields, &mut part)?;
        }
        Ok(part)
    }

    /// Reads one row; `field` gives the bytes of the field at a position.
    fn row<'r>(&self, field: impl Fn(usize) -> &'r [u8], part: &mut Part) -> Result<(), String> {
        for (c, builder) in part.builders.iter_mut().enumerate() {
            let (name, typing) = &self.columns[c];
            let bytes = field(self.positions[c]);
            match builder {
                Builder::Numeric(values) => {
                    if is_missing_bytes(bytes) {
                        values.push(f64::NAN);
                        continue;
                    }
                    match number(bytes) {
                        Some(value) => values.push(value),
                        None if *typing == Typing::Auto => *builder = Builder::Demoted,
                        None => {
                            return Err(format!(
                                ", column '{name}': '{}' is not a number, and the model reads this column as numbers",
                                String::from_utf8_lossy(bytes)
                            ));
                        }
                    }
                }
                Builder::Categorical(categories) => {
                    let value = text(bytes)
                        .map_err(|e| format!(", column '{name}'{e}"))?
                        .trim();
                    categories.push((!is_missing(value)).then_some(value));
                }
                Builder::Demoted => {}
            }
        }
        if let (Some(target), Some(events)) = (self.target, &mut part.events) {
            let name = target.name;
            let value = text(field(target.position))
                .map_err(|e| format!(", column '{name}'{e}"))?
                .trim();
            if is_missing(value) {
                return Err(format!(
                    ", column '{name}': the target is missing; every row needs an outcome"
                ));
            }
            events.push(
                value == target.event
                    || value
                        .parse::<f64>()
                        .ok()
                        .zip(target.event_number)
                        .is_some_and(|(a, b)| a == b),
            );
        }
        Ok(())
    }
}

impl Part {
    /// This run's rows followed by the next run's: numbers concatenated,
    /// categories merged into one dictionary, a column demoted in either
    /// demoted.
    fn append(mut self, next: Part) -> Part {
        for (mine, theirs) in self.builders.iter_mut().zip(next.builders) {
            let merged = match (std::mem::replace(mine, Builder::Demoted), theirs) {
                (Builder::Numeric(mut a), Builder::Numeric(b)) => {
                    a.extend(b);
                    Builder::Numeric(a)
                }
                (Builder::Categorical(mut a), Builder::Categorical(b)) => {
                    a.append(b);
                    Builder::Categorical(a)
                }
                _ => Builder::Demoted,
            };
            *mine = merged;
        }
        if let (Some(a), Some(b)) = (&mut self.events, next.events) {
            a.extend(b);
        }
        self.rows += next.rows;
        self
    }
}

fn is_missing_bytes(bytes: &[u8]) -> bool {
    // Most fields are numbers: no missing marker starts with a digit.
    if bytes.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let trimmed = bytes.trim_ascii();
    MISSING.iter().any(|m| m.as_bytes() == trimmed)
}

/// A number from a field's bytes, surrounding spaces allowed.
fn number(bytes: &[u8]) -> Option<f64> {
    let bytes = bytes.trim_ascii();
    if let Some(value) = short_decimal(bytes) {
        return Some(value);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    text.parse::<f64>().ok()
}

/// Powers of ten that are exact doubles.
const TENS: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `-?digits[.digits]` with at most 15 digits, read without the general
/// parser: the digits are an integer below 2^53 and the scale a power of
/// ten below 10^16, both exact doubles, so one division is the correctly
/// rounded value (Clinger's fast path), the value `str::parse` gives. Most
/// fields of a data table look like this; anything else is `None`, for the
/// general parser.
fn short_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut mantissa = 0u64;
    let mut count = 0;
    let mut decimals: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
        if count > 15 {
            return None;
        }
    }
    if count == 0 {
        return None;
    }
    let value = mantissa as f64 / TENS[decimals.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// A field as text; the error reads after the column's name.
fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| ": the value is not UTF-8 text".to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use scoring::Value;

    fn file(text: String) -> CsvFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        CsvFile::open(&path).unwrap()
    }

    /// A file of several megabytes is read in runs, one per core; the
    /// result is the one-run result, categories merged in order.
    #[test]
    fn runs_read_as_one() {
        let mut text = String::from("x,kind,bad\n");
        for k in 0..200_000 {
            text.push_str(&format!("{},k{},{}\n", k % 97, k % 13, k % 5 == 0));
        }
        let file = file(text);
        let columns = vec![
            ("x".to_string(), Typing::Auto),
            ("kind".to_string(), Typing::Auto),
        ];
        let (table, events) = read(&file, &columns, Some(("bad", "true"))).unwrap();
        let events = events.unwrap();
        assert_eq!(table.rows(), 200_000);
        assert_eq!(events.iter().filter(|&&e| e).count(), 40_000);
        for row in [0, 99_999, 100_000, 199_999] {
            assert_eq!(
                table.columns[0].value(row),
                Value::Number((row % 97) as f64)
            );
            let kind = format!("k{}", row % 13);
            assert_eq!(table.columns[1].value(row), Value::Text(&kind));
            assert_eq!(events[row], row % 5 == 0);
        }
    }

    /// The same file, read as if it held a quote.
    fn through_the_reader(f: &CsvFile) -> CsvFile {
        CsvFile {
            path: f.path.clone(),
            bytes: f.bytes.clone(),
            header: f.header.clone(),
            quoted: true,
        }
    }

    /// A file without quotes is split in place; the CSV reader, which a
    /// quoted file needs, reads the same rows from the same bytes: CRLF
    /// ends, blank lines, an empty last field, no line feed at the end.
    #[test]
    fn fields_split_in_place_read_as_the_csv_reader_reads_them() {
        let text = "x,kind,bad\r\n1.5,a,1\r\n\r\n,b,0\n2,,1\n\n7,c,0\n-3e2,a,\n4,NA,1";
        let columns = vec![
            ("x".to_string(), Typing::Auto),
            ("kind".to_string(), Typing::Auto),
        ];
        let plain = file(text.to_string());
        assert!(!plain.quoted);
        let reader = through_the_reader(&plain);
        let read_all = |f: &CsvFile| read(f, &columns, None).unwrap().0;
        let (a, b) = (read_all(&plain), read_all(&reader));
        // Missing numbers are NaN, which equals nothing: compare the text.
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(a.rows(), 6);
        assert_eq!(a.columns[0].value(3), Value::Number(7.0));
        assert_eq!(a.columns[1].value(2), Value::Missing);
        assert_eq!(a.columns[1].value(4), Value::Text("a"));
        // The target: the empty outcome on row 5 is an error both ways.
        let target = |f: &CsvFile| {
            read(f, &columns, Some(("bad", "1")))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(target(&plain), target(&reader));
        assert!(target(&plain).contains("row 5, column 'bad': the target is missing"));
        // A ragged row is named the same way too.
        let ragged = "x,kind,bad\n1,a,1\n2,b\n";
        let plain = file(ragged.to_string());
        let quoted = through_the_reader(&plain);
        let error = |f: &CsvFile| read(f, &columns, None).unwrap_err().to_string();
        assert_eq!(error(&plain), error(&quoted));
        assert!(error(&plain).ends_with("row 2 has 2 fields, the header has 3"));
    }

    proptest::proptest! {
        /// Any quote-free file reads the same split in place as through
        /// the CSV reader: the same table, or the same error.
        #[test]
        fn splitting_in_place_agrees_with_the_csv_reader(
            rows in proptest::collection::vec(
                proptest::collection::vec("[0-9a-c. NA-]{0,4}", 1..5), 0..12),
            crlf in proptest::bool::ANY,
            final_end in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("x,kind,bad{end}");
            let lines: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
            text.push_str(&lines.join(end));
            if final_end {
                text.push_str(end);
            }
            let plain = file(text);
            proptest::prop_assume!(!plain.quoted);
            let reader = through_the_reader(&plain);
            let columns = vec![
                ("x".to_string(), Typing::Auto),
                ("kind".to_string(), Typing::Exactly(Kind::Categorical)),
            ];
            let outcome = |f: &CsvFile| match read(f, &columns, Some(("bad", "1"))) {
                Ok((table, events)) => format!("{table:?} {events:?}"),
                Err(error) => error.to_string(),
            };
            proptest::prop_assert_eq!(outcome(&plain), outcome(&reader));
        }
    }

    proptest::proptest! {
        /// The short path reads a number exactly as `str::parse` does, bit
        /// for bit, and leaves alone what it cannot read.
        #[test]
        fn short_decimals_read_as_the_standard_parser_reads_them(
            text in "-?[0-9]{0,17}(\\.[0-9]{0,17})?|[-+.eE0-9]{1,8}",
        ) {
            let standard = text.parse::<f64>().ok();
            match short_decimal(text.as_bytes()) {
                Some(value) => proptest::prop_assert_eq!(
                    Some(value.to_bits()), standard.map(f64::to_bits), "{}", text
                ),
                None => proptest::prop_assert_eq!(
                    number(text.as_bytes()).map(f64::to_bits), standard.map(f64::to_bits)
                ),
            }
        }
    }

    /// A lone carriage return ends a row for the CSV reader: such a file is
    /// not split in place.
    #[test]
    fn a_lone_carriage_return_takes_the_csv_reader() {
        assert!(file("x,bad\r1,0\r".to_string()).quoted);
        assert!(!file("x,bad\r\n1,0\r\n".to_string()).quoted);
    }

    /// An error in a later run names the row counted from the file's start.
    #[test]
    fn errors_in_a_later_run_name_the_file_row() {
        let mut text = String::from("x,bad\n");
        for k in 0..200_000 {
            let x = if k == 180_000 {
                "n/a?".to_string()
            } else {
                k.to_string()
            };
            text.push_str(&format!("{x},1\n"));
        }
        let file = file(text);
        let columns = vec![("x".to_string(), Typing::Exactly(Kind::Numeric))];
        let error = read(&file, &columns, Some(("bad", "1"))).unwrap_err();
        assert!(
            error.to_string().ends_with(
                "row 180001, column 'x': 'n/a?' is not a number, and the model reads this column as numbers"
            ),
            "{error}"
        );
    }
}
