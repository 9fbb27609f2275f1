//! Reading a CSV file into the scoring engine's table.
//!
//! The file is read into memory once and parsed twice: the first pass types
//! each column (numeric when every present value parses as a number), the
//! second fills the columns. Empty cells and `NA`, `N/A`, `NaN`, `nan`,
//! `null`, `NULL`, `None` are missing values.

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
    let positions = columns
        .iter()
        .map(|(name, _)| file.position(name))
        .collect::<Result<Vec<_>>>()?;

    // Pass 1: type the columns left to us.
    let mut numeric: Vec<bool> = columns
        .iter()
        .map(|(_, typing)| *typing != Typing::Exactly(Kind::Categorical))
        .collect();
    let auto: Vec<bool> = columns.iter().map(|(_, t)| *t == Typing::Auto).collect();
    if auto.iter().any(|&a| a) {
        for record in file.records() {
            let (_, record) = record?;
            for (c, &p) in positions.iter().enumerate() {
                if auto[c] && numeric[c] {
                    let text = record.get(p).unwrap_or("");
                    if !is_missing(text) && text.trim().parse::<f64>().is_err() {
                        numeric[c] = false;
                    }
                }
            }
        }
    }

    // Pass 2: fill them.
    enum Builder {
        Numeric(Vec<f64>),
        Categorical(CategoricalBuilder),
    }
    let mut builders: Vec<Builder> = numeric
        .iter()
        .map(|&n| {
            if n {
                Builder::Numeric(Vec::new())
            } else {
                Builder::Categorical(CategoricalBuilder::default())
            }
        })
        .collect();
    for record in file.records() {
        let (row, record) = record?;
        for ((builder, &p), (name, _)) in builders.iter_mut().zip(&positions).zip(columns) {
            let text = record.get(p).unwrap_or("");
            match builder {
                Builder::Numeric(values) => {
                    if is_missing(text) {
                        values.push(f64::NAN);
                        continue;
                    }
                    let value = text.trim().parse::<f64>().map_err(|_| {
                        anyhow::anyhow!(
                            "{}: row {row}, column '{name}': '{text}' is not a number, and the model reads this column as numbers",
                            file.path
                        )
                    })?;
                    values.push(value);
                }
                Builder::Categorical(builder) => {
                    let text = text.trim();
                    builder.push((!is_missing(text)).then_some(text));
                }
            }
        }
    }
    let mut table = Table::default();
    for ((name, _), builder) in columns.iter().zip(builders) {
        let column = match builder {
            Builder::Numeric(values) => Column::Numeric(values),
            Builder::Categorical(builder) => builder.finish(),
        };
        table.push(name.clone(), column);
    }
    Ok(table)
}

/// The target column as events: a row is an event when its value equals
/// `event`. A missing target is an error naming the row.
pub fn read_target(file: &CsvFile, target: &str, event: &str) -> Result<Vec<bool>> {
    let position = file.position(target)?;
    let mut out = Vec::new();
    for record in file.records() {
        let (row, record) = record?;
        let text = record.get(position).unwrap_or("").trim();
        if is_missing(text) {
            bail!(
                "{}: row {row}, column '{target}': the target is missing; every row needs an outcome",
                file.path
            );
        }
        out.push(
            text == event
                || text
                    .parse::<f64>()
                    .ok()
                    .zip(event.parse::<f64>().ok())
                    .is_some_and(|(a, b)| a == b),
        );
    }
    Ok(out)
}
