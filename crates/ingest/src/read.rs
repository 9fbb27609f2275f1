//! Reading batch files as departments send them: CSV (UTF-8 or GBK), JSON
//! lines and XLSX, row by row, without loading the file.
//!
//! Reading pushes rows to a callback rather than returning an iterator, so
//! that the XLSX reader, which borrows its workbook, streams like the others.
//! Every problem is a [`ReadError`] naming the file, the row and the rule.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader};
use domain::catalog::Item;

/// A line longer than this is refused rather than buffered: a 2 GB line is a
/// broken file, not a record.
pub const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Jsonl,
    Xlsx,
}

impl FileFormat {
    /// The format a file name says.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(FileFormat::Csv),
            "jsonl" | "ndjson" | "json" => Some(FileFormat::Jsonl),
            "xlsx" => Some(FileFormat::Xlsx),
            _ => None,
        }
    }
}

/// Text encodings of CSV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Gbk,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gbk => "GBK",
        }
    }
}

/// One data row: its number in the file (1 = the first data row, in every
/// format) and its values in the item's field order.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub number: u64,
    pub values: Vec<String>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", row.map(|r| format!(", row {r}")).unwrap_or_default())]
pub struct ReadError {
    pub file: PathBuf,
    /// The data row, when the problem is in one.
    pub row: Option<u64>,
    pub message: String,
}

impl ReadError {
    fn new(file: &Path, row: Option<u64>, message: impl Into<String>) -> ReadError {
        ReadError {
            file: file.to_path_buf(),
            row,
            message: message.into(),
        }
    }
}

/// Maps the file's header to the item's fields: for each field, the column
/// it is in (None when the optional field is absent).
fn map_header(
    file: &Path,
    item: &Item,
    header: &[String],
) -> Result<Vec<Option<usize>>, ReadError> {
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    if let Some(unknown) = header.iter().find(|h| item.field(h).is_none()) {
        return Err(ReadError::new(
            file,
            None,
            format!(
                "header column '{unknown}' is not a field of item '{}'",
                item.id
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = header.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(ReadError::new(
            file,
            None,
            format!("header column '{twice}' appears twice"),
        ));
    }
    let mut columns = Vec::with_capacity(item.fields.len());
    for field in &item.fields {
        let column = header.iter().position(|h| *h == field.name);
        if column.is_none() && field.required {
            return Err(ReadError::new(
                file,
                None,
                format!(
                    "header lacks required field '{}' of item '{}'",
                    field.name, item.id
                ),
            ));
        }
        columns.push(column);
    }
    Ok(columns)
}

/// The cells of a row in the item's field order (each column is one field's
/// at most: the header was checked for repeats).
fn arrange(columns: &[Option<usize>], mut cells: Vec<String>) -> Vec<String> {
    columns
        .iter()
        .map(|c| {
            c.and_then(|c| cells.get_mut(c))
                .map(std::mem::take)
                .unwrap_or_default()
        })
        .collect()
}

/// Guesses a CSV file's encoding from its first 64 KiB: UTF-8 if it decodes
/// as UTF-8 (a character cut at the end of the sample allowed), else GBK.
pub fn sniff_encoding(sample: &[u8]) -> Encoding {
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() && sample.len() - e.valid_up_to() < 4 => Encoding::Utf8,
        Err(_) => Encoding::Gbk,
    }
}

/// A reader that refuses lines longer than [`MAX_LINE_BYTES`].
struct LineLimit<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("a line is longer than {} MiB", MAX_LINE_BYTES >> 20),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Reads every data row of `path` in `format`, calling `row` for each; stops
/// at the first error the callback returns.
pub fn read_rows<E: From<ReadError>>(
    path: &Path,
    format: FileFormat,
    encoding: Option<Encoding>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<(), E> {
    match format {
        FileFormat::Csv => read_csv(path, encoding, item, row),
        FileFormat::Jsonl => read_jsonl(path, item, row),
        FileFormat::Xlsx => read_xlsx(path, item, row),
    }
}

fn open(path: &Path) -> Result<File, ReadError> {
    File::open(path).map_err(|e| ReadError::new(path, None, format!("cannot open: {e}")))
}

fn read_csv<E: From<ReadError>>(
    path: &Path,
    encoding: Option<Encoding>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<(), E> {
    let mut file = BufReader::with_capacity(1 << 16, open(path)?);
    let sample = file
        .fill_buf()
        .map_err(|e| ReadError::new(path, None, format!("cannot read: {e}")))?;
    if sample.is_empty() {
        return Err(ReadError::new(path, None, "file is empty: expected a header row").into());
    }
    let encoding = encoding.unwrap_or_else(|| sniff_encoding(sample));
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(match encoding {
            Encoding::Utf8 => encoding_rs::UTF_8,
            Encoding::Gbk => encoding_rs::GBK,
        }))
        .build(file);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineLimit {
            inner: decoded,
            since_newline: 0,
        });
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(ReadError::new(path, None, format!("cannot read the header: {e}")).into());
        }
    };
    let columns = map_header(path, item, &header)?;
    let mut record = csv::StringRecord::new();
    let mut number = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => format!("not valid {} text", encoding.name()),
                    csv::ErrorKind::Io(io) => io.to_string(),
                    _ => e.to_string(),
                };
                return Err(ReadError::new(path, Some(number + 1), message).into());
            }
        }
        number += 1;
        if record.len() != header.len() {
            return Err(ReadError::new(
                path,
                Some(number),
                format!(
                    "has {} columns, the header has {}",
                    record.len(),
                    header.len()
                ),
            )
            .into());
        }
        if record.as_slice().contains('\u{fffd}') {
            return Err(ReadError::new(
                path,
                Some(number),
                format!("not valid {} text", encoding.name()),
            )
            .into());
        }
        let values = columns
            .iter()
            .map(|c| {
                c.and_then(|c| record.get(c))
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        row(RawRow { number, values })?;
    }
    Ok(())
}

fn read_jsonl<E: From<ReadError>>(
    path: &Path,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<(), E> {
    let mut file = BufReader::with_capacity(1 << 16, open(path)?);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        let read = (&mut file)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| ReadError::new(path, Some(number + 1), format!("cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.len() > MAX_LINE_BYTES {
            return Err(ReadError::new(
                path,
                Some(number),
                format!("line is longer than {} MiB", MAX_LINE_BYTES >> 20),
            )
            .into());
        }
        let text = std::str::from_utf8(&line).map_err(|_| {
            ReadError::new(
                path,
                Some(number),
                "not valid UTF-8 text (JSON lines must be UTF-8)",
            )
        })?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            number -= 1;
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| ReadError::new(path, Some(number), format!("not a JSON object: {e}")))?;
        if let Some(unknown) = object.keys().find(|k| item.field(k).is_none()) {
            return Err(ReadError::new(
                path,
                Some(number),
                format!("key '{unknown}' is not a field of item '{}'", item.id),
            )
            .into());
        }
        let mut values = Vec::with_capacity(item.fields.len());
        for field in &item.fields {
            let value = match object.get(&field.name) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::Bool(b)) => b.to_string(),
                Some(_) => {
                    return Err(ReadError::new(
                        path,
                        Some(number),
                        format!(
                            "field '{}' is an array or object, expected a value",
                            field.name
                        ),
                    )
                    .into());
                }
            };
            values.push(value);
        }
        row(RawRow { number, values })?;
    }
    if number == 0 {
        return Err(ReadError::new(
            path,
            None,
            "file is empty: expected JSON objects, one per line",
        )
        .into());
    }
    Ok(())
}

fn cell_text(cell: &DataRef) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        // Excel counts days from 1899-12-30.
        DataRef::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| {
                epoch.checked_add_signed(chrono::TimeDelta::days(d.as_f64().floor() as i64))
            })
            .map_or_else(|| d.as_f64().to_string(), |date| date.to_string()),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e}"),
    }
}

fn read_xlsx<E: From<ReadError>>(
    path: &Path,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<(), E> {
    let mut workbook: calamine::Xlsx<_> = calamine::Xlsx::new(BufReader::new(open(path)?))
        .map_err(|e| ReadError::new(path, None, format!("not a valid XLSX file: {e}")))?;
    let Some(sheet) = workbook.sheet_names().first().cloned() else {
        return Err(ReadError::new(path, None, "the workbook has no sheet").into());
    };
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| ReadError::new(path, None, format!("cannot read sheet '{sheet}': {e}")))?;
    let mut current: Option<u32> = None;
    let mut line: Vec<String> = Vec::new();
    let mut columns: Option<Vec<Option<usize>>> = None;
    let mut width = 0;
    let mut number = 0;
    let mut flush = |line: &mut Vec<String>,
                     columns: &mut Option<Vec<Option<usize>>>,
                     width: &mut usize,
                     number: &mut u64|
     -> Result<(), E> {
        let cells = std::mem::take(line);
        match columns {
            None => {
                *width = cells.len();
                *columns = Some(map_header(path, item, &cells)?);
                Ok(())
            }
            Some(columns) => {
                if cells.iter().all(String::is_empty) {
                    return Ok(());
                }
                *number += 1;
                if cells.len() > *width {
                    return Err(ReadError::new(
                        path,
                        Some(*number),
                        format!("has {} columns, the header has {width}", cells.len()),
                    )
                    .into());
                }
                row(RawRow {
                    number: *number,
                    values: arrange(columns, cells),
                })
            }
        }
    };
    loop {
        let cell = cells.next_cell().map_err(|e| {
            ReadError::new(path, Some(number + 1), format!("broken XLSX data: {e}"))
        })?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        if current.is_some_and(|cur| cur != r) {
            flush(&mut line, &mut columns, &mut width, &mut number)?;
        }
        current = Some(r);
        let c = c as usize;
        if line.len() <= c {
            line.resize(c + 1, String::new());
        }
        line[c] = cell_text(cell.get_value());
    }
    if current.is_some() {
        flush(&mut line, &mut columns, &mut width, &mut number)?;
    }
    if columns.is_none() {
        return Err(ReadError::new(path, None, "the sheet is empty: expected a header row").into());
    }
    Ok(())
}
