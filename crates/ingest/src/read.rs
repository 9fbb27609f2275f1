//! Reading batch files as departments send them: CSV (UTF-8 or GBK), JSON
//! lines and XLSX, row by row, without loading the file.
//!
//! Reading pushes rows to a callback rather than returning an iterator, so
//! that the XLSX reader, which borrows its workbook, streams like the others.
//! Every problem is a [`ReadError`] naming the file, the row and the rule.
//!
//! Each file is read once, and that one read gives both its rows and its
//! SHA-256 ([`FileDigest`]): the hash a batch is recorded under is the hash
//! of the bytes its rows came from, even if the file changes meanwhile.
//! Only regular files are read; a pipe or a device is refused before it is
//! opened for reading, so nothing waits on a writer that never comes.
//!
//! Memory is bounded whatever the input: a CSV record or JSON line is at
//! most [`MAX_LINE_BYTES`]; an XLSX file is held whole (at most
//! [`MAX_XLSX_BYTES`]) because its directory is at its end, and each of its
//! parts is checked before calamine reads it ([`check_xlsx_parts`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader};
use domain::catalog::Item;
use domain::text::escape_controls;
use sha2::{Digest, Sha256};

/// A line (CSV: a record, quoted line breaks included) longer than this is
/// refused rather than buffered: a 2 GB line is a broken file, not a record.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The largest value an XLSX cell may hold, as for a CSV record.
pub const MAX_CELL_BYTES: usize = MAX_LINE_BYTES;

/// The largest XLSX file read. It is held in memory, so this bounds what
/// reading it takes; larger batches come as CSV or JSON lines.
pub const MAX_XLSX_BYTES: u64 = 256 << 20;

/// The largest uncompressed part of a workbook other than a worksheet
/// (shared strings, styles, the workbook): calamine holds these whole.
pub const MAX_XLSX_PART_BYTES: u64 = 256 << 20;

/// The longest text or tag inside a workbook's XML: a cell of
/// [`MAX_CELL_BYTES`] escaped as `&quot;` throughout is six times longer.
const MAX_XML_RUN: u64 = 6 * MAX_CELL_BYTES as u64;

/// Excel's last column (XFD) and row.
pub const XLSX_COLUMNS: u32 = 16_384;
pub const XLSX_ROWS: u32 = 1_048_576;

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

/// What the one read of a file gives besides its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Lowercase hex.
    pub sha256: String,
    pub bytes: u64,
}

/// Why a file could not be read. Its message never holds a control
/// character: a file's bytes quoted in it are escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", escape_controls(&file.display().to_string()), row.map(|r| format!(", row {r}")).unwrap_or_default())]
pub struct ReadError {
    pub file: PathBuf,
    /// The data row, when the problem is in one.
    pub row: Option<u64>,
    pub message: String,
}

impl ReadError {
    pub fn new(file: &Path, row: Option<u64>, message: impl AsRef<str>) -> ReadError {
        ReadError {
            file: file.to_path_buf(),
            row,
            message: escape_controls(message.as_ref()).into_owned(),
        }
    }
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Reads what is left, so the digest covers the whole file.
    fn finish(mut self, path: &Path) -> Result<FileDigest, ReadError> {
        std::io::copy(&mut self, &mut std::io::sink())
            .map_err(|e| ReadError::new(path, None, format!("cannot read: {e}")))?;
        Ok(FileDigest {
            sha256: self
                .hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            bytes: self.bytes,
        })
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
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

/// Names the encoding of a file that is UTF-16 (by its byte-order mark, or
/// by a NUL byte beside most ASCII characters) or holds NUL bytes at all:
/// CSV files are read as UTF-8 or GBK, and such a file would only give
/// garbled header names.
fn not_text(sample: &[u8]) -> Option<&'static str> {
    if sample.starts_with(&[0xff, 0xfe]) {
        return Some("UTF-16 little-endian text");
    }
    if sample.starts_with(&[0xfe, 0xff]) {
        return Some("UTF-16 big-endian text");
    }
    if !sample.contains(&0) {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_at = |parity: usize| {
        sample
            .chunks_exact(2)
            .filter(|pair| pair[parity] == 0 && pair[1 - parity] != 0)
            .count()
    };
    if zero_at(1) * 2 > pairs {
        Some("UTF-16 little-endian text")
    } else if zero_at(0) * 2 > pairs {
        Some("UTF-16 big-endian text")
    } else {
        Some("binary data (it holds NUL bytes)")
    }
}

/// Where a CSV reader is within a record, as the csv crate's parser is: a
/// quote opens a quoted value only at the start of a field, and line breaks
/// inside one do not end the record.
#[derive(Clone, Copy, PartialEq)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: the value's end, or the first of two.
    QuoteInQuoted,
}

/// A reader that refuses CSV records longer than [`MAX_LINE_BYTES`] and
/// says where a quote was left open, so that neither a long line nor a
/// missing closing quote makes the parser buffer the rest of the file.
struct RecordLimit<R> {
    inner: R,
    state: CsvState,
    in_record: usize,
    line: u64,
    quote_opened_on: u64,
}

impl<R> RecordLimit<R> {
    fn new(inner: R) -> RecordLimit<R> {
        RecordLimit {
            inner,
            state: CsvState::FieldStart,
            in_record: 0,
            line: 1,
            quote_opened_on: 0,
        }
    }

    fn error(&self, message: String) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, message)
    }
}

impl<R: Read> Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.state == CsvState::Quoted {
            return Err(self.error(format!(
                "the quote opened on line {} is never closed",
                self.quote_opened_on
            )));
        }
        for &b in &buf[..n] {
            let end_of_line = b == b'\n' || b == b'\r';
            if b == b'\n' {
                self.line += 1;
            }
            self.state = match (self.state, b) {
                (CsvState::FieldStart, b'"') => {
                    self.quote_opened_on = self.line;
                    CsvState::Quoted
                }
                (CsvState::Quoted, b'"') => CsvState::QuoteInQuoted,
                (CsvState::Quoted, _) => CsvState::Quoted,
                (CsvState::QuoteInQuoted, b'"') => CsvState::Quoted,
                (_, b',') => CsvState::FieldStart,
                (_, _) if end_of_line => {
                    self.in_record = 0;
                    CsvState::FieldStart
                }
                _ => CsvState::Unquoted,
            };
            if self.state != CsvState::FieldStart || !end_of_line {
                self.in_record += 1;
            }
            if self.in_record > MAX_LINE_BYTES {
                let mut message = format!("a line is longer than {} MiB", MAX_LINE_BYTES >> 20);
                if self.state == CsvState::Quoted {
                    message += &format!(
                        ": the quote opened on line {} is still open (is its closing quote missing?)",
                        self.quote_opened_on
                    );
                }
                return Err(self.error(message));
            }
        }
        Ok(n)
    }
}

/// Reads every data row of `path` in `format`, calling `row` for each; stops
/// at the first error the callback returns. Returns the digest of the bytes
/// the rows were read from.
pub fn read_rows<E: From<ReadError>>(
    path: &Path,
    format: FileFormat,
    encoding: Option<Encoding>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<FileDigest, E> {
    let source = Hashing::new(open(path)?);
    match format {
        FileFormat::Csv => read_csv(path, source, encoding, item, row),
        FileFormat::Jsonl => read_jsonl(path, source, item, row),
        FileFormat::Xlsx => read_xlsx(path, source, item, row),
    }
}

/// The digest of a file, read to its end without parsing: only to
/// recognise content stored before, never the hash a batch is recorded
/// under (that comes from the read that gives its rows).
pub fn hash_file(path: &Path) -> Result<FileDigest, ReadError> {
    Hashing::new(open(path)?).finish(path)
}

/// Opens a regular file for reading, refusing anything else. The file is
/// opened without waiting (a FIFO would otherwise block until a writer
/// came) and then checked, so nothing can be swapped in between.
pub fn open(path: &Path) -> Result<File, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options
        .open(path)
        .map_err(|e| ReadError::new(path, None, format!("cannot open: {e}")))?;
    let kind = file
        .metadata()
        .map_err(|e| ReadError::new(path, None, format!("cannot open: {e}")))?
        .file_type();
    if kind.is_file() {
        return Ok(file);
    }
    let what = if kind.is_dir() {
        "a directory"
    } else {
        special_file_kind(&kind)
    };
    Err(ReadError::new(
        path,
        None,
        format!(
            "is {what}, not a regular file: only files are ingested, read once (save the data to a file first)"
        ),
    ))
}

#[cfg(unix)]
fn special_file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_file_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

fn read_csv<E: From<ReadError>>(
    path: &Path,
    mut source: Hashing<File>,
    encoding: Option<Encoding>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<FileDigest, E> {
    let mut file = BufReader::with_capacity(1 << 16, &mut source);
    let sample = file
        .fill_buf()
        .map_err(|e| ReadError::new(path, None, format!("cannot read: {e}")))?;
    if sample.is_empty() {
        return Err(ReadError::new(path, None, "file is empty: expected a header row").into());
    }
    if let Some(what) = not_text(sample) {
        return Err(ReadError::new(
            path,
            None,
            format!("the file is {what}; CSV files are read as UTF-8 or GBK text (in Excel: save as \"CSV UTF-8\")"),
        )
        .into());
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
        .from_reader(RecordLimit::new(decoded));
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
            let mut message = format!(
                "has {} columns, the header has {}",
                record.len(),
                header.len()
            );
            // A value running over lines with the wrong column count is
            // most often a quote left open.
            let line = record.position().map_or(0, csv::Position::line);
            let next_line = reader.position().line();
            if record.iter().any(|v| v.contains('\n')) && next_line > line + 1 {
                message += &format!(
                    " (a quoted value runs from line {line} to line {}: is a closing quote missing?)",
                    next_line - 1
                );
            }
            return Err(ReadError::new(path, Some(number), message).into());
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
    drop(reader);
    Ok(source.finish(path)?)
}

fn read_jsonl<E: From<ReadError>>(
    path: &Path,
    mut source: Hashing<File>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<FileDigest, E> {
    let mut file = BufReader::with_capacity(1 << 16, &mut source);
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
    drop(file);
    Ok(source.finish(path)?)
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

/// A column's name as Excel writes it: 0 is A, 26 is AA.
pub fn column_name(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut name = Vec::new();
    while n > 0 {
        let digit = ((n - 1) % 26) as u8;
        name.push(b'A' + digit);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

fn read_xlsx<E: From<ReadError>>(
    path: &Path,
    mut source: Hashing<File>,
    item: &Item,
    row: &mut dyn FnMut(RawRow) -> Result<(), E>,
) -> Result<FileDigest, E> {
    let mut bytes = Vec::new();
    (&mut source)
        .take(MAX_XLSX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::new(path, None, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_XLSX_BYTES {
        return Err(ReadError::new(
            path,
            None,
            format!(
                "an XLSX file may be at most {} MiB: send larger batches as CSV or JSON lines",
                MAX_XLSX_BYTES >> 20
            ),
        )
        .into());
    }
    let digest = source.finish(path)?;
    check_xlsx_parts(&bytes).map_err(|message| ReadError::new(path, None, message))?;
    let mut workbook: calamine::Xlsx<_> = calamine::Xlsx::new(Cursor::new(bytes.as_slice()))
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
        let value = cell_text(cell.get_value());
        let place = || format!("cell {}{}", column_name(c), u64::from(r) + 1);
        if value.len() > MAX_CELL_BYTES {
            return Err(ReadError::new(
                path,
                columns.is_some().then_some(number + 1),
                format!(
                    "{} holds {} MiB; a value may hold at most {} MiB",
                    place(),
                    value.len() >> 20,
                    MAX_CELL_BYTES >> 20
                ),
            )
            .into());
        }
        // The row's cells are a list as long as its last column: bound it
        // before it grows, by the header's width for data rows.
        let limit = if columns.is_some() {
            width
        } else {
            XLSX_COLUMNS as usize
        };
        let c = c as usize;
        if c >= limit {
            if value.is_empty() {
                continue;
            }
            let message = if columns.is_some() {
                format!(
                    "{} lies beyond the header's {width} columns (A to {})",
                    place(),
                    column_name(width.saturating_sub(1) as u32)
                )
            } else {
                format!("{} lies beyond Excel's last column XFD", place())
            };
            return Err(
                ReadError::new(path, columns.is_some().then_some(number + 1), message).into(),
            );
        }
        if line.len() <= c {
            line.resize(c + 1, String::new());
        }
        line[c] = value;
    }
    if current.is_some() {
        flush(&mut line, &mut columns, &mut width, &mut number)?;
    }
    if columns.is_none() {
        return Err(ReadError::new(path, None, "the sheet is empty: expected a header row").into());
    }
    Ok(digest)
}

/// Checks every XML part of a workbook before calamine reads it, streaming
/// each once: no part but a worksheet (which calamine streams) is larger
/// than [`MAX_XLSX_PART_BYTES`] uncompressed, whatever its header claims; no
/// text or tag is longer than a cell may be; and every cell reference is
/// within Excel's grid, so that no reader sizes anything by a hostile
/// number.
pub fn check_xlsx_parts(bytes: &[u8]) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("not a valid XLSX file: {e}"))?;
    for index in 0..archive.len() {
        let mut part = archive
            .by_index(index)
            .map_err(|e| format!("not a valid XLSX file: {e}"))?;
        let name = part
            .name()
            .map_err(|e| format!("not a valid XLSX file: {e}"))?
            .into_owned();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let limit = (!name.contains("worksheets/")).then_some(MAX_XLSX_PART_BYTES);
        XmlScan::default()
            .run(&mut part, limit)
            .map_err(|message| format!("{}: {message}", escape_controls(&name)))?;
    }
    Ok(())
}

/// One pass over a part's XML, measuring rather than parsing.
#[derive(Default)]
struct XmlScan {
    in_tag: bool,
    /// Bytes of the current text or tag.
    run: u64,
    total: u64,
    /// The current tag's bytes (at most [`MAX_XML_RUN`]).
    tag: Vec<u8>,
    /// The last cell reference seen, for messages.
    last_cell: String,
}

impl XmlScan {
    fn run(mut self, part: &mut impl Read, limit: Option<u64>) -> Result<(), String> {
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = part
                .read(&mut buffer)
                .map_err(|e| format!("cannot be read: {e}"))?;
            if n == 0 {
                return Ok(());
            }
            self.total += n as u64;
            if let Some(limit) = limit
                && self.total > limit
            {
                return Err(format!("is larger than {} MiB uncompressed", limit >> 20));
            }
            let mut rest = &buffer[..n];
            while !rest.is_empty() {
                let end = if self.in_tag { b'>' } else { b'<' };
                let (piece, found) = match rest.iter().position(|&b| b == end) {
                    Some(at) => (&rest[..at], true),
                    None => (rest, false),
                };
                self.run += piece.len() as u64;
                if self.run > MAX_XML_RUN {
                    return Err(self.too_long());
                }
                if self.in_tag {
                    self.tag.extend_from_slice(piece);
                }
                rest = if found { &rest[piece.len() + 1..] } else { &[] };
                if found {
                    if self.in_tag {
                        self.end_tag()?;
                    }
                    self.in_tag = !self.in_tag;
                    self.run = 0;
                }
            }
        }
    }

    fn too_long(&self) -> String {
        let near = if self.last_cell.is_empty() {
            String::new()
        } else {
            format!(" after cell {}", self.last_cell)
        };
        let what = if self.in_tag { "a tag" } else { "a text" };
        format!(
            "{what} of more than {} MiB{near}: a cell may hold at most {} MiB",
            MAX_XML_RUN >> 20,
            MAX_CELL_BYTES >> 20
        )
    }

    /// Checks the references a tag holds (`r`, `ref`, `sqref`).
    fn end_tag(&mut self) -> Result<(), String> {
        let tag = std::mem::take(&mut self.tag);
        for name in [&b"r"[..], b"ref", b"sqref"] {
            let Some(value) = attribute(&tag, name) else {
                continue;
            };
            for reference in value
                .split(|&b| b == b':' || b == b' ')
                .filter(|r| !r.is_empty())
            {
                check_reference(reference)?;
            }
            if name == b"r" && (tag.starts_with(b"c ") || tag.starts_with(b"c\t")) {
                self.last_cell = String::from_utf8_lossy(value).into_owned();
            }
        }
        self.tag = tag;
        self.tag.clear();
        Ok(())
    }
}

/// The value of attribute `name` in a tag's bytes.
fn attribute<'t>(tag: &'t [u8], name: &[u8]) -> Option<&'t [u8]> {
    let mut from = 0;
    while let Some(at) = tag[from..]
        .windows(name.len() + 1)
        .position(|w| &w[..name.len()] == name && w[name.len()] == b'=')
    {
        let start = from + at;
        let after = start + name.len() + 1;
        from = after;
        if start == 0 || !tag[start - 1].is_ascii_whitespace() {
            continue;
        }
        let quote = *tag.get(after)?;
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let value = &tag[after + 1..];
        let end = value.iter().position(|&b| b == quote)?;
        return Some(&value[..end]);
    }
    None
}

/// A cell reference (`A1`, `$XFD$1048576`, a column `C` or a row `7`)
/// within Excel's grid.
fn check_reference(reference: &[u8]) -> Result<(), String> {
    let text: Vec<u8> = reference.iter().copied().filter(|&b| b != b'$').collect();
    let letters = text.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = &text[letters..];
    let beyond = || {
        format!(
            "cell reference '{}' lies beyond Excel's last cell XFD{XLSX_ROWS}",
            escape_controls(&String::from_utf8_lossy(reference))
        )
    };
    if letters > 3 || digits.len() > 7 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(beyond());
    }
    let column = text[..letters].iter().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row = digits
        .iter()
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    if column > XLSX_COLUMNS || row > XLSX_ROWS {
        return Err(beyond());
    }
    Ok(())
}
