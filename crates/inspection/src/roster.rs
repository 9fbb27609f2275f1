//! The two rosters of 双随机 (objects and inspectors), the inspectors'
//! declared relationships and who inspected whom, in one canonical CSV form.
//!
//! Canonical means: fixed columns, rows sorted by their key, `;` between list
//! members, dates as `YYYY-MM-DD`. The same rosters always give the same bytes,
//! so a snapshot's SHA-256 identifies it.

use std::io::{Read, Write};

use chrono::NaiveDate;
use domain::risk::RiskClass;
use domain::text::{from_spreadsheet_safe, spreadsheet_safe};
use serde::{Deserialize, Serialize};

use crate::InspectionError;

/// One entry of the object roster (检查对象名录库).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub uscc: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
    /// Town code (9 digits) or, when the town is unknown, district code (6).
    pub division: String,
    /// GB/T 4754 code, 2 to 4 digits.
    pub industry: String,
    /// Registry entity type, e.g. `limited_company`.
    pub kind: String,
    pub established_on: Option<NaiveDate>,
    /// Supervision class from the latest screening; `None` when never screened.
    pub class: Option<RiskClass>,
    pub last_inspected: Option<NaiveDate>,
    /// Under an open case (立案未结); plans may exclude these.
    pub open_case: bool,
}

impl Object {
    pub fn district(&self) -> &str {
        self.division.get(..6).unwrap_or(&self.division)
    }
}

/// One entry of the inspector roster (执法检查人员名录库).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspector {
    pub id: String,
    pub name: String,
    /// Enforcement certificate number (执法证号).
    pub certificate: String,
    pub department: String,
    /// Fields of competence, e.g. `food_safety`.
    pub competences: Vec<String>,
    pub available: bool,
}

/// A conflict an inspector declared with an entity: kinship, prior
/// employment, same registered address, or another stated reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relationship {
    pub inspector: String,
    pub subject: String,
    pub kind: String,
}

/// An inspector took part in inspecting an entity on a day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PastInspection {
    pub inspector: String,
    pub subject: String,
    pub inspected_on: NaiveDate,
}

/// Everything a draw reads besides the plan and the seed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rosters {
    pub objects: Vec<Object>,
    pub inspectors: Vec<Inspector>,
    pub relationships: Vec<Relationship>,
    pub history: Vec<PastInspection>,
}

impl Rosters {
    /// Sorts every list by its key and drops exact repeats: the canonical
    /// order in which snapshots are written.
    pub fn canonicalise(&mut self) {
        self.objects.sort_by(|a, b| a.uscc.cmp(&b.uscc));
        self.objects.dedup_by(|a, b| a.uscc == b.uscc);
        self.inspectors.sort_by(|a, b| a.id.cmp(&b.id));
        self.inspectors.dedup_by(|a, b| a.id == b.id);
        for inspector in &mut self.inspectors {
            inspector.competences.sort();
            inspector.competences.dedup();
        }
        self.relationships.sort();
        self.relationships.dedup();
        self.history.sort();
        self.history.dedup();
    }
}

pub const OBJECT_COLUMNS: [&str; 11] = [
    "uscc",
    "name",
    "legal_representative",
    "address",
    "division",
    "industry",
    "kind",
    "established_on",
    "class",
    "last_inspected",
    "open_case",
];

pub const INSPECTOR_COLUMNS: [&str; 6] = [
    "id",
    "name",
    "certificate",
    "department",
    "competences",
    "available",
];
pub const RELATIONSHIP_COLUMNS: [&str; 3] = ["inspector", "subject", "relationship"];
pub const HISTORY_COLUMNS: [&str; 3] = ["inspector", "subject", "inspected_on"];

fn date_text(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

fn write_rows<W: Write>(
    out: W,
    file: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), InspectionError> {
    let failed = |e: csv::Error| InspectionError::File {
        file: file.to_string(),
        message: e.to_string(),
    };
    let mut w = writer(out);
    w.write_record(columns).map_err(failed)?;
    for row in rows {
        // Bundles are opened in spreadsheets: a name sent as a formula stays
        // text there, and reads back as sent (`Row::text`).
        w.write_record(row.iter().map(|cell| spreadsheet_safe(cell).into_owned()))
            .map_err(failed)?;
    }
    w.flush().map_err(|e| InspectionError::File {
        file: file.to_string(),
        message: e.to_string(),
    })
}

pub fn write_objects<W: Write>(out: W, objects: &[Object]) -> Result<(), InspectionError> {
    let rows = objects.iter().map(|o| {
        vec![
            o.uscc.clone(),
            o.name.clone(),
            o.legal_representative.clone(),
            o.address.clone(),
            o.division.clone(),
            o.industry.clone(),
            o.kind.clone(),
            date_text(o.established_on),
            o.class.map(|c| c.to_string()).unwrap_or_default(),
            date_text(o.last_inspected),
            if o.open_case { "1" } else { "0" }.to_string(),
        ]
    });
    write_rows(out, "objects.csv", &OBJECT_COLUMNS, rows)
}

pub fn write_inspectors<W: Write>(out: W, inspectors: &[Inspector]) -> Result<(), InspectionError> {
    let rows = inspectors.iter().map(|i| {
        vec![
            i.id.clone(),
            i.name.clone(),
            i.certificate.clone(),
            i.department.clone(),
            i.competences.join(";"),
            if i.available { "1" } else { "0" }.to_string(),
        ]
    });
    write_rows(out, "inspectors.csv", &INSPECTOR_COLUMNS, rows)
}

pub fn write_relationships<W: Write>(
    out: W,
    relationships: &[Relationship],
) -> Result<(), InspectionError> {
    let rows = relationships
        .iter()
        .map(|r| vec![r.inspector.clone(), r.subject.clone(), r.kind.clone()]);
    write_rows(out, "relationships.csv", &RELATIONSHIP_COLUMNS, rows)
}

pub fn write_history<W: Write>(out: W, history: &[PastInspection]) -> Result<(), InspectionError> {
    let rows = history.iter().map(|h| {
        vec![
            h.inspector.clone(),
            h.subject.clone(),
            h.inspected_on.to_string(),
        ]
    });
    write_rows(out, "history.csv", &HISTORY_COLUMNS, rows)
}

/// Reads a CSV file whose header holds at least `required` columns and
/// hands each row to `parse` as a [`Row`] that names the file and line.
pub fn read_rows<R: Read, T>(
    input: R,
    file: &str,
    required: &[&str],
    mut parse: impl FnMut(&Row) -> Result<T, InspectionError>,
) -> Result<Vec<T>, InspectionError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| InspectionError::File {
            file: file.to_string(),
            message: format!("unreadable header: {e}"),
        })?
        .clone();
    let index: Vec<Option<usize>> = required
        .iter()
        .map(|name| headers.iter().position(|h| h.trim() == *name))
        .collect();
    if let Some(missing) = required.iter().zip(&index).find(|(_, i)| i.is_none()) {
        return Err(InspectionError::File {
            file: file.to_string(),
            message: format!("missing column '{}'", missing.0),
        });
    }
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        line += 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(InspectionError::File {
                    file: file.to_string(),
                    message: format!("row {line}: {e}"),
                });
            }
        }
        let row = Row {
            file,
            line,
            columns: required,
            index: &index,
            record: &record,
        };
        out.push(parse(&row)?);
    }
    Ok(out)
}

/// One CSV row being parsed; its accessors name the file, row and field in
/// their errors.
pub struct Row<'a> {
    file: &'a str,
    line: u64,
    columns: &'a [&'a str],
    index: &'a [Option<usize>],
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The row's line number in the file, the header being line 1.
    pub fn line(&self) -> u64 {
        self.line
    }

    pub fn text(&self, field: &str) -> &str {
        let Some(k) = self.columns.iter().position(|c| *c == field) else {
            return "";
        };
        self.index[k]
            .and_then(|i| self.record.get(i))
            .map(|cell| from_spreadsheet_safe(cell.trim()))
            .unwrap_or("")
    }

    pub fn fail(&self, field: &str, rule: impl Into<String>) -> InspectionError {
        InspectionError::Row {
            file: self.file.to_string(),
            row: self.line,
            field: field.to_string(),
            rule: rule.into(),
        }
    }

    pub fn required(&self, field: &str) -> Result<String, InspectionError> {
        let value = self.text(field);
        if value.is_empty() {
            return Err(self.fail(field, "must not be empty"));
        }
        Ok(value.to_string())
    }

    pub fn date(&self, field: &str) -> Result<Option<NaiveDate>, InspectionError> {
        let value = self.text(field);
        if value.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| self.fail(field, format!("'{value}' is not a date YYYY-MM-DD")))
    }

    pub fn flag(&self, field: &str) -> Result<bool, InspectionError> {
        match self.text(field) {
            "1" | "true" | "yes" | "是" => Ok(true),
            "0" | "false" | "no" | "否" | "" => Ok(false),
            other => Err(self.fail(field, format!("'{other}' is not 1/0, true/false or yes/no"))),
        }
    }

    pub fn class(&self, field: &str) -> Result<Option<RiskClass>, InspectionError> {
        let value = self.text(field);
        if value.is_empty() {
            return Ok(None);
        }
        value
            .parse()
            .map(Some)
            .map_err(|e: domain::risk::RiskClassError| self.fail(field, e.to_string()))
    }

    pub fn list(&self, field: &str) -> Vec<String> {
        self.text(field)
            .split([';', '；'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

pub fn read_objects<R: Read>(input: R, file: &str) -> Result<Vec<Object>, InspectionError> {
    read_rows(input, file, &OBJECT_COLUMNS, |row| {
        let uscc = row.required("uscc")?;
        if uscc.parse::<domain::uscc::Uscc>().is_err() {
            return Err(row.fail(
                "uscc",
                format!("'{uscc}' is not a valid unified social credit code"),
            ));
        }
        Ok(Object {
            uscc,
            name: row.required("name")?,
            legal_representative: row.text("legal_representative").to_string(),
            address: row.text("address").to_string(),
            division: row.required("division")?,
            industry: row.text("industry").to_string(),
            kind: row.text("kind").to_string(),
            established_on: row.date("established_on")?,
            class: row.class("class")?,
            last_inspected: row.date("last_inspected")?,
            open_case: row.flag("open_case")?,
        })
    })
}

pub fn read_inspectors<R: Read>(input: R, file: &str) -> Result<Vec<Inspector>, InspectionError> {
    read_rows(input, file, &INSPECTOR_COLUMNS, |row| {
        let competences = row.list("competences");
        if competences.is_empty() {
            return Err(row.fail(
                "competences",
                "an inspector needs at least one field of competence",
            ));
        }
        Ok(Inspector {
            id: row.required("id")?,
            name: row.required("name")?,
            certificate: row.required("certificate")?,
            department: row.required("department")?,
            competences,
            available: row.flag("available")?,
        })
    })
}

pub fn read_relationships<R: Read>(
    input: R,
    file: &str,
) -> Result<Vec<Relationship>, InspectionError> {
    read_rows(input, file, &RELATIONSHIP_COLUMNS, |row| {
        Ok(Relationship {
            inspector: row.required("inspector")?,
            subject: row.required("subject")?,
            kind: row.required("relationship")?,
        })
    })
}

pub fn read_history<R: Read>(input: R, file: &str) -> Result<Vec<PastInspection>, InspectionError> {
    read_rows(input, file, &HISTORY_COLUMNS, |row| {
        Ok(PastInspection {
            inspector: row.required("inspector")?,
            subject: row.required("subject")?,
            inspected_on: row
                .date("inspected_on")?
                .ok_or_else(|| row.fail("inspected_on", "must not be empty"))?,
        })
    })
}
