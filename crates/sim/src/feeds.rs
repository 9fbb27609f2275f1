//! Batch files in the formats departments send: CSV (UTF-8 or GBK), JSON
//! lines and XLSX, one file per department, item and period, split into parts
//! above a row limit. Dirty rows are made here, as they are written, and
//! labelled with the file and row they land in.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::Datelike;
use domain::Catalog;
use domain::catalog::Item;
use rayon::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
use serde::{Deserialize, Serialize};

use crate::config::{Format, SimConfig};
use crate::dirty::{self, DirtKind};
use crate::draw::Draw;
use crate::output::SimError;
use crate::record::{Period, Record};

/// One batch file as a department would send it, as the manifest lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Batch {
    pub department: String,
    pub item: String,
    /// Relative to the output directory.
    pub file: String,
    pub format: Format,
    pub encoding: String,
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    pub rows: u64,
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Format::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown format {text}")))
    }
}

/// How each department sends its data, when the run allows it.
fn habit(department: &str) -> (Format, &'static str) {
    match department {
        "tax" | "power" | "ecology" => (Format::Csv, "gbk"),
        "hrss" | "water" | "commerce" | "transport" | "emergency" | "science" => {
            (Format::Xlsx, "utf-8")
        }
        "gas" | "court" | "ip" | "hotline" | "customs" => (Format::Jsonl, "utf-8"),
        _ => (Format::Csv, "utf-8"),
    }
}

enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
    Jsonl(BufWriter<File>),
    Xlsx(Box<Workbook>),
}

struct OpenBatch {
    batch: Batch,
    path: PathBuf,
    sink: Sink,
    part: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct BatchKey {
    department: &'static str,
    item: &'static str,
    period: Period,
}

/// Every batch being written, and the dirty-row labels.
pub struct Feeds<'a> {
    out: PathBuf,
    config: &'a SimConfig,
    catalog: &'a Catalog,
    open: HashMap<BatchKey, OpenBatch>,
    finished: Vec<Batch>,
    labels: csv::Writer<BufWriter<File>>,
    labels_path: PathBuf,
    pub dirty_rows: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_error(path: &Path) -> impl FnOnce(csv::Error) -> SimError + '_ {
    move |source| SimError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

fn xlsx_error(path: &Path) -> impl FnOnce(rust_xlsxwriter::XlsxError) -> SimError + '_ {
    move |source| SimError::Xlsx {
        path: path.to_path_buf(),
        message: source.to_string(),
    }
}

fn period_bounds(period: Period, config: &SimConfig) -> (String, String) {
    let clip = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        (
            from.max(config.start()).to_string(),
            to.min(config.end).to_string(),
        )
    };
    match period {
        Period::Snapshot => (config.start().to_string(), config.end.to_string()),
        Period::Year(y) => match (
            chrono::NaiveDate::from_ymd_opt(y, 1, 1),
            chrono::NaiveDate::from_ymd_opt(y, 12, 31),
        ) {
            (Some(from), Some(to)) => clip(from, to),
            _ => (String::new(), String::new()),
        },
        Period::Month(y, m) => {
            let from = chrono::NaiveDate::from_ymd_opt(y, m, 1);
            let to = from
                .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                .and_then(|d| d.pred_opt());
            match (from, to) {
                (Some(from), Some(to)) => clip(from, to),
                _ => (String::new(), String::new()),
            }
        }
    }
}

impl<'a> Feeds<'a> {
    pub fn new(
        out: &Path,
        config: &'a SimConfig,
        catalog: &'a Catalog,
    ) -> Result<Feeds<'a>, SimError> {
        let labels_path = out.join("truth/dirty.csv");
        if let Some(parent) = labels_path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let file = File::create(&labels_path).map_err(io(&labels_path))?;
        let mut labels = csv::Writer::from_writer(BufWriter::new(file));
        labels
            .write_record([
                "file", "row", "item", "kind", "field", "expected", "original",
            ])
            .map_err(csv_error(&labels_path))?;
        Ok(Feeds {
            out: out.to_path_buf(),
            config,
            catalog,
            open: HashMap::new(),
            finished: Vec::new(),
            labels,
            labels_path,
            dirty_rows: 0,
        })
    }

    fn open_batch(&self, key: BatchKey, item: &Item, part: u32) -> Result<OpenBatch, SimError> {
        let (habit_format, habit_encoding) = habit(key.department);
        let format = self.config.format_for(habit_format);
        let encoding = if format == Format::Csv && habit_format == Format::Csv {
            habit_encoding
        } else {
            "utf-8"
        };
        let suffix = if part > 1 {
            format!("-part{part}")
        } else {
            String::new()
        };
        let label = key.period.label();
        let relative = format!(
            "feeds/{}/{}/{}-{}{suffix}.{}",
            key.department,
            key.item,
            key.item,
            label,
            format.extension()
        );
        let path = self.out.join(&relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let header: Vec<&str> = item.fields.iter().map(|f| f.name.as_str()).collect();
        let sink = match format {
            Format::Csv => {
                let file = BufWriter::new(File::create(&path).map_err(io(&path))?);
                let target: Box<dyn Write + Send> = if encoding == "gbk" {
                    Box::new(GbkWriter::new(file))
                } else {
                    Box::new(file)
                };
                let mut writer = csv::Writer::from_writer(target);
                writer.write_record(&header).map_err(csv_error(&path))?;
                Sink::Csv(Box::new(writer))
            }
            Format::Jsonl => Sink::Jsonl(BufWriter::new(File::create(&path).map_err(io(&path))?)),
            Format::Xlsx => {
                let mut workbook = Box::new(Workbook::new());
                // A fixed creation time (the end of the history) keeps the
                // file byte-identical between runs.
                let created = ExcelDateTime::from_ymd(
                    self.config.end.year() as u16,
                    self.config.end.month() as u8,
                    self.config.end.day() as u8,
                )
                .map_err(xlsx_error(&path))?;
                workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
                let sheet = workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_error(&path))?;
                sheet
                    .set_name(item.id.as_str())
                    .map_err(xlsx_error(&path))?;
                for (col, name) in header.iter().enumerate() {
                    sheet
                        .write_string(0, col as u16, *name)
                        .map_err(xlsx_error(&path))?;
                }
                Sink::Xlsx(workbook)
            }
        };
        let (period_from, period_to) = period_bounds(key.period, self.config);
        Ok(OpenBatch {
            batch: Batch {
                department: key.department.to_string(),
                item: key.item.to_string(),
                file: relative,
                format,
                encoding: encoding.to_string(),
                period: label,
                period_from,
                period_to,
                rows: 0,
            },
            path,
            sink,
            part,
        })
    }

    /// Writes one record, dirty with probability `dirty_rate` (drawn from
    /// the entity's own dirt stream), and labels any dirt.
    pub fn write(
        &mut self,
        record: &Record,
        dirt: &mut Draw,
        unknown_subject: &str,
    ) -> Result<(), SimError> {
        let catalog = self.catalog;
        let Some(item) = catalog.item(record.item) else {
            return Err(SimError::Internal(format!(
                "record for item {} that the catalog lacks",
                record.item
            )));
        };
        let mut values: Vec<String> = Vec::with_capacity(item.fields.len());
        for field in &item.fields {
            values.push(record.get(&field.name).unwrap_or_default().to_string());
        }
        if let Some((name, _)) = record
            .values
            .iter()
            .find(|(name, _)| item.field(name).is_none())
        {
            return Err(SimError::Internal(format!(
                "item {} has no field {name}",
                record.item
            )));
        }
        if self.config.dirty_rate > 0.0 && dirt.chance(self.config.dirty_rate) {
            let clean = values.clone();
            if let Some(applied) = dirty::apply(dirt, item, &mut values, unknown_subject) {
                let duplicate = matches!(
                    applied.kind,
                    DirtKind::ExactDuplicate | DirtKind::NearDuplicate
                );
                if duplicate {
                    self.write_row(record, item, &clean)?;
                }
                let (file, row) = self.write_row(record, item, &values)?;
                self.dirty_rows += 1;
                let field = if applied.kind == DirtKind::ExactDuplicate {
                    ""
                } else {
                    applied.field.as_str()
                };
                self.labels
                    .write_record([
                        file.as_str(),
                        &row.to_string(),
                        record.item,
                        applied.kind.as_str(),
                        field,
                        applied.kind.expected(),
                        &applied.original,
                    ])
                    .map_err(csv_error(&self.labels_path))?;
                return Ok(());
            }
        }
        self.write_row(record, item, &values)?;
        Ok(())
    }

    /// Appends a row; returns the file and the row's number in it (1 = the
    /// first data row, whatever the format).
    fn write_row(
        &mut self,
        record: &Record,
        item: &Item,
        values: &[String],
    ) -> Result<(String, u64), SimError> {
        let key = BatchKey {
            department: record.department,
            item: record.item,
            period: record.period,
        };
        let full = self
            .open
            .get(&key)
            .is_some_and(|b| b.batch.rows >= self.config.max_rows_per_file);
        if full && let Some(done) = self.open.remove(&key) {
            let part = done.part + 1;
            self.finished.push(finish(done)?);
            let next = self.open_batch(key, item, part)?;
            self.open.insert(key, next);
        }
        if !self.open.contains_key(&key) {
            let batch = self.open_batch(key, item, 1)?;
            self.open.insert(key, batch);
        }
        let Some(open) = self.open.get_mut(&key) else {
            return Err(SimError::Internal("batch vanished".into()));
        };
        open.batch.rows += 1;
        let row = open.batch.rows;
        match &mut open.sink {
            Sink::Csv(writer) => writer.write_record(values).map_err(csv_error(&open.path))?,
            Sink::Jsonl(file) => {
                let mut line = Vec::with_capacity(512);
                line.push(b'{');
                for (k, (field, value)) in item.fields.iter().zip(values).enumerate() {
                    if k > 0 {
                        line.push(b',');
                    }
                    serde_json::to_writer(&mut line, &field.name)
                        .map_err(|e| SimError::Internal(e.to_string()))?;
                    line.push(b':');
                    if value.is_empty() {
                        line.extend_from_slice(b"null");
                    } else {
                        serde_json::to_writer(&mut line, value)
                            .map_err(|e| SimError::Internal(e.to_string()))?;
                    }
                }
                line.extend_from_slice(b"}\n");
                file.write_all(&line).map_err(io(&open.path))?;
            }
            Sink::Xlsx(workbook) => {
                let sheet = workbook
                    .worksheet_from_index(0)
                    .map_err(xlsx_error(&open.path))?;
                for (col, value) in values.iter().enumerate() {
                    if !value.is_empty() {
                        sheet
                            .write_string(row as u32, col as u16, value)
                            .map_err(xlsx_error(&open.path))?;
                    }
                }
            }
        }
        Ok((open.batch.file.clone(), row))
    }

    /// Closes every batch; returns them sorted by file. Workbooks are
    /// compressed in parallel: deflate is most of the cost of XLSX.
    pub fn finish(mut self) -> Result<Vec<Batch>, SimError> {
        let open: Vec<OpenBatch> = self.open.drain().map(|(_, batch)| batch).collect();
        let closed: Vec<Result<Batch, SimError>> = open.into_par_iter().map(finish).collect();
        for batch in closed {
            self.finished.push(batch?);
        }
        self.labels.flush().map_err(io(&self.labels_path))?;
        self.finished.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(self.finished)
    }
}

/// Encodes UTF-8 text written to it as GBK, as many departments' systems
/// export. Bytes are held until they form whole characters.
struct GbkWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> GbkWriter<W> {
    fn new(inner: W) -> GbkWriter<W> {
        GbkWriter {
            inner,
            pending: Vec::with_capacity(1 << 16),
        }
    }

    fn drain(&mut self) -> std::io::Result<()> {
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).unwrap_or_default();
        let (encoded, _, unmappable) = encoding_rs::GBK.encode(text);
        if unmappable {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "text not representable in GBK",
            ));
        }
        self.inner.write_all(&encoded)?;
        self.pending.drain(..valid);
        Ok(())
    }
}

impl<W: Write> Write for GbkWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= 1 << 16 {
            self.drain()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

fn finish(open: OpenBatch) -> Result<Batch, SimError> {
    match open.sink {
        Sink::Csv(mut writer) => writer.flush().map_err(io(&open.path))?,
        Sink::Jsonl(mut file) => file.flush().map_err(io(&open.path))?,
        Sink::Xlsx(mut workbook) => workbook.save(&open.path).map_err(xlsx_error(&open.path))?,
    }
    Ok(open.batch)
}
