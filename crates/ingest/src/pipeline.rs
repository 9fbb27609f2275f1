//! One row's way through ingest: cleanse every field, validate it against
//! the catalog, resolve the subject against the registry, and detect
//! duplicates on the item's natural key, within the batch and against the
//! records stored before. Every row ends accepted or quarantined with a
//! reason: nothing is dropped.

use std::collections::BTreeMap;

use domain::catalog::{FieldError, FieldType, Item};
use domain::{SubjectId, Uscc};
use lake::{KeySet, RecordKey, Seen};
use serde::Serialize;

use crate::cleanse::{Repair, cleanse};
use crate::read::RawRow;

/// What the pipeline needs to know of the entity registry.
pub trait Registry {
    /// The USCC an identifier refers to: itself for a known USCC, the mapped
    /// code for a legacy identifier, `None` when unknown.
    fn resolve(&self, id: &SubjectId) -> Option<Uscc>;
}

/// Why a row was quarantined. The codes are stable: reports and the lake's
/// quarantine dataset use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The subject is not a valid USCC, registration number or organisation code.
    InvalidSubject,
    /// A valid code of an entity the registry does not have.
    UnknownEntity,
    /// A legacy identifier the registry cannot map to a USCC.
    LegacyUnmapped,
    /// A legacy identifier in an item that requires the USCC.
    LegacyNotAccepted,
    MissingRequired,
    InvalidDate,
    NotANumber,
    OutOfRange,
    NotInList,
    Pattern,
    Length,
    InvalidBoolean,
    /// A USCC field other than the subject (an authority's code) is invalid.
    InvalidCode,
    /// The same record again (same natural key, same content).
    Duplicate,
    /// The same natural key with different content.
    DuplicateConflict,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidSubject => "invalid_subject",
            Reason::UnknownEntity => "unknown_entity",
            Reason::LegacyUnmapped => "legacy_unmapped",
            Reason::LegacyNotAccepted => "legacy_not_accepted",
            Reason::MissingRequired => "missing_required",
            Reason::InvalidDate => "invalid_date",
            Reason::NotANumber => "not_a_number",
            Reason::OutOfRange => "out_of_range",
            Reason::NotInList => "not_in_list",
            Reason::Pattern => "pattern",
            Reason::Length => "length",
            Reason::InvalidBoolean => "invalid_boolean",
            Reason::InvalidCode => "invalid_code",
            Reason::Duplicate => "duplicate",
            Reason::DuplicateConflict => "duplicate_conflict",
        }
    }

    fn of(error: &FieldError, field_type: FieldType) -> Reason {
        match error {
            FieldError::Missing => Reason::MissingRequired,
            FieldError::TooShort { .. } | FieldError::TooLong { .. } => Reason::Length,
            FieldError::NotInteger(_) | FieldError::NotDecimal(_) => Reason::NotANumber,
            FieldError::BelowMin { .. } | FieldError::AboveMax { .. } => Reason::OutOfRange,
            FieldError::NotDate(_) | FieldError::NotMonth(_) => Reason::InvalidDate,
            FieldError::NotBoolean(_) => Reason::InvalidBoolean,
            FieldError::NotInList { .. } => Reason::NotInList,
            FieldError::Pattern { .. } => Reason::Pattern,
            FieldError::Subject(_) if field_type == FieldType::Subject => Reason::InvalidSubject,
            FieldError::Subject(_) => Reason::InvalidCode,
            FieldError::LegacyNotAccepted => Reason::LegacyNotAccepted,
        }
    }
}

/// A row that passed: cleansed values in field order, the subject resolved.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub number: u64,
    /// `None` only for items whose subject is optional.
    pub subject: Option<Uscc>,
    /// The identifier as the department sent it, after cleansing.
    pub subject_sent: String,
    pub values: Vec<String>,
}

/// A row that did not pass, with the original text.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub number: u64,
    pub reason: Reason,
    pub field: Option<String>,
    pub message: String,
    pub original: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Accepted(Accepted),
    Quarantined(Quarantined),
}

/// Counts for a batch report.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Tally {
    pub rows_in: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Quarantined rows by reason (duplicates included).
    pub by_reason: BTreeMap<String, u64>,
    /// Quarantined rows by field and reason: `field:reason`.
    pub by_field: BTreeMap<String, u64>,
    /// Repairs made, by kind (a row may have several).
    pub repairs: BTreeMap<String, u64>,
    /// Accepted rows whose subject was a legacy identifier.
    pub legacy_mapped: u64,
    /// Rows that repeated records stored by earlier batches (counted in
    /// `by_reason` as duplicates too).
    pub duplicates_of_stored: u64,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.rows_in += other.rows_in;
        self.accepted += other.accepted;
        self.quarantined += other.quarantined;
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_field {
            *self.by_field.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.repairs {
            *self.repairs.entry(k.clone()).or_default() += v;
        }
        self.legacy_mapped += other.legacy_mapped;
        self.duplicates_of_stored += other.duplicates_of_stored;
    }
}

/// Checks the rows of one batch of one item.
pub struct Pipeline<'a> {
    item: &'a Item,
    registry: &'a dyn Registry,
    /// Whether this item's rows register entities (so their subject need not
    /// be known yet).
    registers: bool,
    subject_at: usize,
    key_at: Vec<usize>,
    /// The item's stored keys and those of this batch so far.
    keys: &'a mut KeySet,
    pub tally: Tally,
}

impl<'a> Pipeline<'a> {
    pub fn new(item: &'a Item, registry: &'a dyn Registry, keys: &'a mut KeySet) -> Pipeline<'a> {
        let position = |name: &str| item.fields.iter().position(|f| f.name == name).unwrap_or(0);
        Pipeline {
            item,
            registry,
            registers: item.registers_entities,
            subject_at: position(&item.subject_field),
            key_at: item.natural_key.iter().map(|k| position(k)).collect(),
            keys,
            tally: Tally::default(),
        }
    }

    fn quarantine(
        &mut self,
        row: RawRow,
        reason: Reason,
        field: Option<&str>,
        message: String,
    ) -> Outcome {
        self.tally.quarantined += 1;
        *self
            .tally
            .by_reason
            .entry(reason.as_str().to_string())
            .or_default() += 1;
        if let Some(field) = field {
            *self
                .tally
                .by_field
                .entry(format!("{field}:{}", reason.as_str()))
                .or_default() += 1;
        }
        Outcome::Quarantined(Quarantined {
            number: row.number,
            reason,
            field: field.map(str::to_string),
            message,
            original: row.values,
        })
    }

    /// Takes one row to its outcome.
    pub fn process(&mut self, row: RawRow) -> Outcome {
        self.tally.rows_in += 1;
        let item = self.item;
        let mut values = Vec::with_capacity(item.fields.len());
        let mut repairs: Vec<Repair> = Vec::new();
        for (field, raw) in item.fields.iter().zip(&row.values) {
            let (value, done) = cleanse(field, raw);
            if let Err(error) = field.check(&value) {
                let reason = Reason::of(&error, field.field_type);
                let message = format!("field '{}': {error}", field.name);
                return self.quarantine(row, reason, Some(&field.name), message);
            }
            repairs.extend(done);
            values.push(value);
        }

        // The subject: known to the registry, or mapped from a legacy code.
        let subject_sent = values[self.subject_at].clone();
        let subject = if subject_sent.is_empty() {
            None
        } else {
            let Ok(id) = subject_sent.parse::<SubjectId>() else {
                let message = format!("subject '{subject_sent}' is not a valid identifier");
                return self.quarantine(
                    row,
                    Reason::InvalidSubject,
                    Some(&item.subject_field),
                    message,
                );
            };
            match (self.registry.resolve(&id), id) {
                (Some(uscc), SubjectId::Uscc(_)) => Some(uscc),
                (Some(uscc), _) => {
                    repairs.push(Repair::LegacyId);
                    values[self.subject_at] = uscc.to_string();
                    Some(uscc)
                }
                (None, SubjectId::Uscc(uscc)) if self.registers => Some(uscc),
                (None, SubjectId::Uscc(_)) => {
                    let message = format!("no entity with code {subject_sent} in the registry");
                    return self.quarantine(
                        row,
                        Reason::UnknownEntity,
                        Some(&item.subject_field),
                        message,
                    );
                }
                (None, _) => {
                    let message = format!(
                        "legacy identifier {subject_sent} maps to no entity in the registry"
                    );
                    return self.quarantine(
                        row,
                        Reason::LegacyUnmapped,
                        Some(&item.subject_field),
                        message,
                    );
                }
            }
        };

        // Duplicates on the natural key.
        let key_fields: Vec<&str> = self.key_at.iter().map(|&i| values[i].as_str()).collect();
        let key = RecordKey::of(&key_fields, &values);
        let (same_content, place) = match self.keys.check(key) {
            Seen::New => (None, ""),
            Seen::InBatch { same_content } => (Some(same_content), "earlier in the batch"),
            Seen::Stored { same_content } => {
                self.tally.duplicates_of_stored += 1;
                (Some(same_content), "in a batch stored before")
            }
        };
        match same_content {
            None => {}
            Some(true) => {
                let message = format!("the same record appears {place}");
                return self.quarantine(row, Reason::Duplicate, None, message);
            }
            Some(false) => {
                let message = format!(
                    "natural key ({}) appears {place} with other values",
                    item.natural_key.join(", ")
                );
                return self.quarantine(row, Reason::DuplicateConflict, None, message);
            }
        }

        self.tally.accepted += 1;
        if repairs.contains(&Repair::LegacyId) {
            self.tally.legacy_mapped += 1;
        }
        repairs.sort();
        repairs.dedup();
        for repair in repairs {
            *self
                .tally
                .repairs
                .entry(repair.as_str().to_string())
                .or_default() += 1;
        }
        Outcome::Accepted(Accepted {
            number: row.number,
            subject,
            subject_sent,
            values,
        })
    }
}
