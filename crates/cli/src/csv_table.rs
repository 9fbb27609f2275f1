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

use anyhow::{Context, Result, bail};
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
        Ok(CsvFile {
            path,
            bytes,
            header,
        })
    }

    pub fn position(&self, column: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == column)
            .with_context(|| format!("{}: no column '{column}' in the header", self.path))
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
/// row), in one pass over
/// the file's bytes: no string per field, numbers parsed in place. Only
/// columns typed `Auto` whose values turn out not to be numbers need a
/// second pass, over those columns alone.
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
        Some((name, event)) => Some((file.position(name)?, name, event, event.parse::<f64>().ok())),
        None => None,
    };
    let mut builders: Vec<Builder> = columns
        .iter()
        .map(|(_, typing)| match typing {
            Typing::Exactly(Kind::Categorical) => {
                Builder::Categorical(CategoricalBuilder::default())
            }
            _ => Builder::Numeric(Vec::new()),
        })
        .collect();
    let mut events = target.map(|_| Vec::new());
    file.each_byte_record(|row, record| {
        for (c, builder) in builders.iter_mut().enumerate() {
            let (name, typing) = &columns[c];
            let bytes = record.get(positions[c]).unwrap_or(b"");
            match builder {
                Builder::Numeric(values) => {
                    if is_missing_bytes(bytes) {
                        values.push(f64::NAN);
                        continue;
                    }
                    match number(bytes) {
                        Some(value) => values.push(value),
                        None if *typing == Typing::Auto => *builder = Builder::Demoted,
                        None => bail!(
                            "{}: row {row}, column '{name}': '{}' is not a number, and the model reads this column as numbers",
                            file.path,
                            String::from_utf8_lossy(bytes)
                        ),
                    }
                }
                Builder::Categorical(categories) => {
                    let text = text(file, row, name, bytes)?.trim();
                    categories.push((!is_missing(text)).then_some(text));
                }
                Builder::Demoted => {}
            }
        }
        if let (Some((position, name, event, event_number)), Some(events)) = (&target, &mut events)
        {
            let value = text(file, row, name, record.get(*position).unwrap_or(b""))?.trim();
            if is_missing(value) {
                bail!(
                    "{}: row {row}, column '{name}': the target is missing; every row needs an outcome",
                    file.path
                );
            }
            events.push(
                value == *event
                    || value
                        .parse::<f64>()
                        .ok()
                        .zip(*event_number)
                        .is_some_and(|(a, b)| a == b),
            );
        }
        Ok(())
    })?;

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
                let value = text(file, row, &columns[c].0, bytes)?.trim();
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

fn is_missing_bytes(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    MISSING.iter().any(|m| m.as_bytes() == trimmed)
}

/// A number from a field's bytes, surrounding spaces allowed.
fn number(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes.trim_ascii()).ok()?;
    text.parse::<f64>().ok()
}

fn text<'a>(file: &CsvFile, row: usize, column: &str, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!(
            "{}: row {row}, column '{column}': the value is not UTF-8 text",
            file.path
        )
    })
}
