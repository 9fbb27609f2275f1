//! One row's way through ingest: cleanse every field, validate it against
//! the catalog, resolve the subject against the registry, and detect
//! duplicates on the item's natural key, within the batch and against the
//! records stored before. Every row ends accepted or quarantined with a
//! reason: nothing is dropped.

use std::borrow::Cow;
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

    pub const ALL: [Reason; 15] = [
        Reason::InvalidSubject,
        Reason::UnknownEntity,
        Reason::LegacyUnmapped,
        Reason::LegacyNotAccepted,
        Reason::MissingRequired,
        Reason::InvalidDate,
        Reason::NotANumber,
        Reason::OutOfRange,
        Reason::NotInList,
        Reason::Pattern,
        Reason::Length,
        Reason::InvalidBoolean,
        Reason::InvalidCode,
        Reason::Duplicate,
        Reason::DuplicateConflict,
    ];

    pub fn parse(text: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The names people read, Chinese and English.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            Reason::InvalidSubject => ("主体代码无效", "invalid subject code"),
            Reason::UnknownEntity => ("主体未登记", "entity not registered"),
            Reason::LegacyUnmapped => (
                "旧代码无法对应统一社会信用代码",
                "legacy code maps to no USCC",
            ),
            Reason::LegacyNotAccepted => {
                ("该类信息须填统一社会信用代码", "this item needs the USCC")
            }
            Reason::MissingRequired => ("必填项缺失", "required field missing"),
            Reason::InvalidDate => ("日期无效", "invalid date"),
            Reason::NotANumber => ("不是数字", "not a number"),
            Reason::OutOfRange => ("超出取值范围", "out of range"),
            Reason::NotInList => ("不在代码表中", "not in the list of values"),
            Reason::Pattern => ("格式不符", "does not match the format"),
            Reason::Length => ("长度不符", "wrong length"),
            Reason::InvalidBoolean => ("是否值无效", "invalid yes/no value"),
            Reason::InvalidCode => ("代码无效", "invalid code"),
            Reason::Duplicate => ("重复记录", "duplicate"),
            Reason::DuplicateConflict => ("同一记录内容不一致", "same record, other values"),
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
    /// The identifier as the department sent it (after cleansing) where it
    /// is not the resolved USCC: a legacy identifier.
    pub subject_sent: Option<String>,
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
    /// Reused by [`RecordKey::of`] from row to row.
    scratch: Vec<u8>,
    /// The natural key of the stored record a correction replaces: a row
    /// with that key and other values is its new version, not a conflict.
    replaces: Option<u128>,
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
            scratch: Vec::new(),
            replaces: None,
            tally: Tally::default(),
        }
    }

    /// Checks rows as corrected versions of the stored record `original`
    /// (its values in the item's field order).
    pub fn replacing(&mut self, original: &[String]) {
        self.replaces = Some(RecordKey::of(original, &self.key_at, &mut self.scratch).key);
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
        let RawRow { number, mut values } = row;
        values.resize(item.fields.len(), String::new());
        // Values are cleansed in place; the few a repair changes keep their
        // original here, for the quarantine's copy of the row as sent.
        let mut originals: Vec<(usize, String)> = Vec::new();
        let mut repairs: Vec<Repair> = Vec::new();
        for (at, field) in item.fields.iter().enumerate() {
            let (value, done) = cleanse(field, &values[at]);
            // Unchanged only if it is the very same text: a repair may also
            // borrow (`TRUE` → `true`).
            let repaired = match value {
                Cow::Borrowed(v) if std::ptr::eq(v, values[at].as_str()) => None,
                other => Some(other.into_owned()),
            };
            if let Some(repaired) = repaired {
                originals.push((at, std::mem::replace(&mut values[at], repaired)));
            }
            if let Err(error) = field.check(&values[at]) {
                let reason = Reason::of(&error, field.field_type);
                let message = format!("field '{}': {error}", field.name);
                let row = as_sent(number, values, originals);
                return self.quarantine(row, reason, Some(&field.name), message);
            }
            repairs.extend(done);
        }

        // The subject: known to the registry, or mapped from a legacy code.
        let sent = values[self.subject_at].as_str();
        let mut subject_sent = None;
        let subject = if sent.is_empty() {
            None
        } else {
            let Ok(id) = sent.parse::<SubjectId>() else {
                let message = format!("subject '{sent}' is not a valid identifier");
                let row = as_sent(number, values, originals);
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
                    subject_sent = Some(std::mem::replace(
                        &mut values[self.subject_at],
                        uscc.to_string(),
                    ));
                    Some(uscc)
                }
                (None, SubjectId::Uscc(uscc)) if self.registers => Some(uscc),
                (None, SubjectId::Uscc(_)) => {
                    let message = format!("no entity with code {sent} in the registry");
                    let row = as_sent(number, values, originals);
                    return self.quarantine(
                        row,
                        Reason::UnknownEntity,
                        Some(&item.subject_field),
                        message,
                    );
                }
                (None, _) => {
                    let message =
                        format!("legacy identifier {sent} maps to no entity in the registry");
                    let row = as_sent(number, values, originals);
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
        let key = RecordKey::of(&values, &self.key_at, &mut self.scratch);
        let (same_content, place) = match self.keys.check(key) {
            Seen::New => (None, ""),
            Seen::InBatch { same_content } => (Some(same_content), "earlier in the batch"),
            Seen::Stored {
                same_content: false,
            } if self.replaces == Some(key.key) => (None, ""),
            Seen::Stored { same_content } => {
                self.tally.duplicates_of_stored += 1;
                (Some(same_content), "in a batch stored before")
            }
        };
        let duplicate = match same_content {
            None => None,
            Some(true) => Some((
                Reason::Duplicate,
                format!("the same record appears {place}"),
            )),
            Some(false) => Some((
                Reason::DuplicateConflict,
                format!(
                    "natural key ({}) appears {place} with other values",
                    item.natural_key.join(", ")
                ),
            )),
        };
        if let Some((reason, message)) = duplicate {
            if let Some(sent) = subject_sent {
                values[self.subject_at] = sent;
            }
            let row = as_sent(number, values, originals);
            return self.quarantine(row, reason, None, message);
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
            number,
            subject,
            subject_sent,
            values,
        })
    }
}

/// The row as the department sent it: cleansed values put back as they were.
fn as_sent(number: u64, mut values: Vec<String>, originals: Vec<(usize, String)>) -> RawRow {
    for (at, original) in originals {
        values[at] = original;
    }
    RawRow { number, values }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use domain::Catalog;

    use super::*;

    const USCC: &str = "91440606722473344C";
    const ORGANISATION_CODE: &str = "722473344";

    /// Knows one entity, by its USCC and its organisation code.
    struct OneEntity;

    impl Registry for OneEntity {
        fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
            let uscc: Uscc = USCC.parse().ok()?;
            let known = id.to_string() == USCC || id.to_string() == ORGANISATION_CODE;
            known.then_some(uscc)
        }
    }

    fn row(number: u64, values: &[&str]) -> RawRow {
        RawRow {
            number,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn repairs_change_values_and_quarantine_keeps_the_text_as_sent() {
        let catalog = Catalog::default_catalog();
        let item = catalog.item("annual_report").unwrap();
        let mut keys = KeySet::default();
        let mut pipeline = Pipeline::new(item, &OneEntity, &mut keys);

        // A repair that borrows its result (`TRUE` → `true`) still changes
        // the value.
        let sent = [USCC, "2024", "2025-03-01", "12", "1,234.5", "", "", "TRUE"];
        let Outcome::Accepted(accepted) = pipeline.process(row(1, &sent)) else {
            panic!("a repairable row is accepted");
        };
        assert_eq!(accepted.values[4], "1234.5");
        assert_eq!(accepted.values[7], "true");
        assert_eq!(accepted.subject_sent, None);

        // A row failing after a repair is quarantined as it was sent.
        let sent = [USCC, "2023", "2024-03-01", "12", "1,234.5", "", "-5", "是"];
        let Outcome::Quarantined(quarantined) = pipeline.process(row(2, &sent)) else {
            panic!("a negative tax paid is quarantined");
        };
        assert_eq!(quarantined.reason, Reason::OutOfRange);
        assert_eq!(quarantined.original, sent);
        assert_eq!(pipeline.tally.repairs.get("boolean"), Some(&1));
    }

    #[test]
    fn a_legacy_subject_is_mapped_and_kept_as_sent() {
        let catalog = Catalog::default_catalog();
        let item = catalog.item("tax_payment").unwrap();
        let mut keys = KeySet::default();
        let mut pipeline = Pipeline::new(item, &OneEntity, &mut keys);

        let sent = [
            ORGANISATION_CODE,
            "2024-03",
            "vat",
            "1000",
            "30",
            "30",
            "2024-04-10",
        ];
        let Outcome::Accepted(accepted) = pipeline.process(row(1, &sent)) else {
            panic!("a mapped legacy subject is accepted");
        };
        assert_eq!(accepted.values[0], USCC);
        assert_eq!(accepted.subject_sent.as_deref(), Some(ORGANISATION_CODE));

        // The same record again is a duplicate, quarantined as sent.
        let Outcome::Quarantined(quarantined) = pipeline.process(row(2, &sent)) else {
            panic!("the same record again is a duplicate");
        };
        assert_eq!(quarantined.reason, Reason::Duplicate);
        assert_eq!(quarantined.original, sent);
        assert_eq!(pipeline.tally.legacy_mapped, 1);
    }
}
