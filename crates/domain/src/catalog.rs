//! The information catalog (公共信用信息目录): the closed list of what the
//! platform may hold.
//!
//! A catalog is data, a TOML document: the default one ships inside the
//! binary (`data/catalog.toml`) and a user may supply their own. Loading
//! checks every item and field and reports every problem at once, each
//! naming its item and field, so a catalog author fixes them in one pass.

use std::collections::HashSet;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::legacy::SubjectId;
use crate::uscc::Uscc;

/// The catalog shipped with Xinyong.
pub const DEFAULT_CATALOG_TOML: &str = include_str!("../data/catalog.toml");

/// A loaded and checked catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub version: String,
    pub departments: Vec<Department>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// One catalog item: a kind of record a department sends.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// The department that owns the item.
    pub department: String,
    /// Other departments that may send records of this item (for example
    /// every department sends its own administrative penalties).
    pub also_from: Vec<String>,
    pub category: Category,
    pub record: RecordKind,
    /// The field naming the market entity the record is about.
    pub subject_field: String,
    /// Whether the subject may be a legacy registration number or
    /// organisation code instead of a USCC.
    pub accepts_legacy_ids: bool,
    /// Whether a record may leave its subject empty.
    pub subject_optional: bool,
    /// Whether records of this item register entities (the registration
    /// item), so that their subject need not be known yet.
    pub registers_entities: bool,
    pub fields: Vec<Field>,
    /// Fields whose values identify a record: a second record with the same
    /// values is a duplicate.
    pub natural_key: Vec<String>,
    pub publicity: Publicity,
    pub partition: Partition,
}

/// What an item is about; also decides which consent scope covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Registration,
    AnnualReport,
    Licence,
    Penalty,
    List,
    Tax,
    SocialInsurance,
    HousingFund,
    Utility,
    Court,
    IntellectualProperty,
    Logistics,
    Complaint,
    Inspection,
    Rating,
    Commitment,
    Honour,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Registration => "registration",
            Category::AnnualReport => "annual_report",
            Category::Licence => "licence",
            Category::Penalty => "penalty",
            Category::List => "list",
            Category::Tax => "tax",
            Category::SocialInsurance => "social_insurance",
            Category::HousingFund => "housing_fund",
            Category::Utility => "utility",
            Category::Court => "court",
            Category::IntellectualProperty => "intellectual_property",
            Category::Logistics => "logistics",
            Category::Complaint => "complaint",
            Category::Inspection => "inspection",
            Category::Rating => "rating",
            Category::Commitment => "commitment",
            Category::Honour => "honour",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How records of an item reach the profile and the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Keeps the entity registry current (registration and changes).
    Registry,
    /// Regular figures (monthly, yearly) that profiles summarise.
    Periodic,
    /// Events that profiles show one by one (licences, penalties, cases).
    Event,
}

/// Who may see records of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Publicity {
    /// Published to everyone (registration basics, licences).
    Public,
    /// Published for the period its severity sets (see `publicity`).
    PenaltyPeriod {
        date_field: String,
        severity_field: String,
    },
    /// Published from listing until removal.
    WhileListed {
        from_field: String,
        until_field: String,
    },
    /// Shared only under the subject's live authorisation.
    Consent,
    /// Government use only.
    Internal,
}

impl Publicity {
    pub fn name(&self) -> &'static str {
        match self {
            Publicity::Public => "public",
            Publicity::PenaltyPeriod { .. } => "penalty_period",
            Publicity::WhileListed { .. } => "while_listed",
            Publicity::Consent => "consent",
            Publicity::Internal => "internal",
        }
    }
}

/// How an item's records are laid out in the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    pub by: PartitionBy,
    /// The date or month field the partition is taken from.
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionBy {
    None,
    Year,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Short text: names, numbers of documents.
    String,
    /// Long free text: facts, content.
    Text,
    Integer,
    Decimal,
    /// `YYYY-MM-DD`
    Date,
    /// `YYYY-MM`
    Month,
    /// `true` or `false`
    Boolean,
    /// One of `values`.
    Enum,
    /// A market entity: USCC, or a legacy identifier where the item allows.
    Subject,
    /// A USCC only (of an authority, a bank, a counterparty).
    Uscc,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Date => "date",
            FieldType::Month => "month",
            FieldType::Boolean => "boolean",
            FieldType::Enum => "enum",
            FieldType::Subject => "subject",
            FieldType::Uscc => "uscc",
        }
    }

    fn is_textual(self) -> bool {
        matches!(self, FieldType::String | FieldType::Text)
    }

    fn is_numeric(self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Decimal)
    }

    fn is_temporal(self) -> bool {
        matches!(self, FieldType::Date | FieldType::Month)
    }
}

/// One field of an item, with its rules.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub name_zh: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_regex"
    )]
    pub pattern: Option<Regex>,
    /// Set on the subject field of items that accept legacy identifiers.
    #[serde(skip)]
    accepts_legacy_ids: bool,
}

fn serialize_regex<S: serde::Serializer>(
    regex: &Option<Regex>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match regex {
        Some(regex) => serializer.serialize_str(regex.as_str()),
        None => serializer.serialize_none(),
    }
}

/// A value that breaks one of a field's rules. The caller adds file, row and
/// field name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldError {
    #[error("required value is missing")]
    Missing,
    #[error("length {found} is below the minimum {min}")]
    TooShort { found: usize, min: usize },
    #[error("length {found} is above the maximum {max}")]
    TooLong { found: usize, max: usize },
    #[error("'{0}' is not an integer")]
    NotInteger(String),
    #[error("'{0}' is not a decimal number")]
    NotDecimal(String),
    #[error("{found} is below the minimum {min}")]
    BelowMin { found: f64, min: f64 },
    #[error("{found} is above the maximum {max}")]
    AboveMax { found: f64, max: f64 },
    #[error("'{0}' is not a date (YYYY-MM-DD)")]
    NotDate(String),
    #[error("'{0}' is not a month (YYYY-MM)")]
    NotMonth(String),
    #[error("'{0}' is not a boolean (true or false)")]
    NotBoolean(String),
    #[error("'{found}' is not one of: {allowed}")]
    NotInList { found: String, allowed: String },
    #[error("'{found}' does not match the pattern {pattern}")]
    Pattern { found: String, pattern: String },
    #[error("{0}")]
    Subject(String),
    #[error(
        "a legacy identifier is not accepted for this item; a unified social credit code is required"
    )]
    LegacyNotAccepted,
}

impl Field {
    /// Checks one raw value against the field's type and rules. An empty
    /// string is a missing value. Values are checked as given: trimming and
    /// other cleansing happen before, in ingest.
    pub fn check(&self, raw: &str) -> Result<(), FieldError> {
        if raw.is_empty() {
            return if self.required {
                Err(FieldError::Missing)
            } else {
                Ok(())
            };
        }
        let length = raw.chars().count();
        if let Some(min) = self.min_len.filter(|&min| length < min) {
            return Err(FieldError::TooShort { found: length, min });
        }
        if let Some(max) = self.max_len.filter(|&max| length > max) {
            return Err(FieldError::TooLong { found: length, max });
        }
        match self.field_type {
            FieldType::String | FieldType::Text => {}
            FieldType::Integer => {
                let value: i64 = raw
                    .parse()
                    .map_err(|_| FieldError::NotInteger(raw.to_string()))?;
                self.check_range(value as f64)?;
            }
            FieldType::Decimal => {
                let value =
                    parse_decimal(raw).ok_or_else(|| FieldError::NotDecimal(raw.to_string()))?;
                self.check_range(value)?;
            }
            FieldType::Date => {
                if !is_iso_date(raw) {
                    return Err(FieldError::NotDate(raw.to_string()));
                }
            }
            FieldType::Month => {
                if !is_iso_month(raw) {
                    return Err(FieldError::NotMonth(raw.to_string()));
                }
            }
            FieldType::Boolean => {
                if raw != "true" && raw != "false" {
                    return Err(FieldError::NotBoolean(raw.to_string()));
                }
            }
            FieldType::Enum => {
                if !self.values.iter().any(|v| v == raw) {
                    return Err(FieldError::NotInList {
                        found: raw.to_string(),
                        allowed: self.values.join(", "),
                    });
                }
            }
            FieldType::Subject => {
                let id: SubjectId = raw.parse().map_err(|e: crate::legacy::SubjectIdError| {
                    FieldError::Subject(e.to_string())
                })?;
                if id.is_legacy() && !self.accepts_legacy_ids {
                    return Err(FieldError::LegacyNotAccepted);
                }
            }
            FieldType::Uscc => {
                raw.parse::<Uscc>().map_err(|e| {
                    FieldError::Subject(format!("invalid unified social credit code: {e}"))
                })?;
            }
        }
        if let Some(pattern) = &self.pattern
            && !pattern.is_match(raw)
        {
            return Err(FieldError::Pattern {
                found: raw.to_string(),
                pattern: pattern.as_str().to_string(),
            });
        }
        Ok(())
    }

    fn check_range(&self, value: f64) -> Result<(), FieldError> {
        if let Some(min) = self.min.filter(|&min| value < min) {
            return Err(FieldError::BelowMin { found: value, min });
        }
        if let Some(max) = self.max.filter(|&max| value > max) {
            return Err(FieldError::AboveMax { found: value, max });
        }
        Ok(())
    }
}

/// A plain decimal: optional sign, digits, optional fraction. No exponent,
/// no thousands separators, no `NaN` or `inf`, which `f64::from_str` would
/// accept but no department means.
fn parse_decimal(raw: &str) -> Option<f64> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (unsigned.contains('.') && fraction.is_empty())
    {
        return None;
    }
    raw.parse().ok()
}

/// A `YYYY-MM-DD` date, strictly: four-digit year, two-digit month and
/// day, a real calendar day. By hand, because chrono's format parser cost a
/// tenth of ingest time.
pub fn iso_date(raw: &str) -> Option<chrono::NaiveDate> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        let digits = bytes.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        })
    };
    chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

fn is_iso_date(raw: &str) -> bool {
    iso_date(raw).is_some()
}

fn is_iso_month(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let month = raw.get(5..7).and_then(|m| m.parse::<u32>().ok());
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[5..].iter().all(u8::is_ascii_digit)
        && month.is_some_and(|m| (1..=12).contains(&m))
}

/// One problem in a catalog, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub item: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(item) = &self.item {
            write!(f, "item '{item}'")?;
            if let Some(field) = &self.field {
                write!(f, ", field '{field}'")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    name_zh: String,
    name_en: String,
    department: String,
    #[serde(default)]
    also_from: Vec<String>,
    category: Category,
    record: RecordKind,
    subject: RawSubject,
    natural_key: Vec<String>,
    publicity: Publicity,
    #[serde(default = "no_partition")]
    partition: Partition,
    #[serde(default)]
    registers: bool,
}

fn no_partition() -> Partition {
    Partition {
        by: PartitionBy::None,
        field: None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubject {
    field: String,
    #[serde(default)]
    legacy: bool,
    /// The subject may be unknown (a complaint about a shop the caller
    /// cannot identify); such records still name the subject otherwise.
    #[serde(default)]
    optional: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    name_zh: String,
    #[serde(rename = "type")]
    field_type: FieldType,
    #[serde(default)]
    required: bool,
    min_len: Option<usize>,
    max_len: Option<usize>,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    values: Vec<String>,
    pattern: Option<String>,
}

/// Collects problems while a catalog loads.
struct Problems(Vec<CatalogError>);

impl Problems {
    fn add(&mut self, item: Option<&str>, field: Option<&str>, message: impl Into<String>) {
        self.0.push(CatalogError {
            item: item.map(str::to_string),
            field: field.map(str::to_string),
            message: message.into(),
        });
    }
}

fn is_identifier(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Catalog {
    /// The catalog shipped with Xinyong.
    pub fn default_catalog() -> Catalog {
        match Catalog::from_toml(DEFAULT_CATALOG_TOML) {
            Ok(catalog) => catalog,
            // A test loads the shipped catalog, so this cannot happen in a
            // released binary.
            Err(errors) => panic!("the shipped catalog is invalid:\n{errors}"),
        }
    }

    /// Loads and checks a catalog; on failure returns every problem found.
    pub fn from_toml(text: &str) -> Result<Catalog, CatalogErrors> {
        let mut problems = Problems(Vec::new());
        let mut document: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(e) => {
                problems.add(
                    None,
                    None,
                    format!("not valid TOML: {}", e.to_string().trim_end()),
                );
                return Err(CatalogErrors(problems.0));
            }
        };
        let version = match document.remove("version") {
            Some(toml::Value::String(v)) => v,
            _ => {
                problems.add(None, None, "missing 'version' (a string)");
                String::new()
            }
        };
        let departments: Vec<Department> = match document.remove("departments") {
            Some(value) => value.try_into().unwrap_or_else(|e: toml::de::Error| {
                problems.add(None, None, format!("departments: {}", e.message()));
                Vec::new()
            }),
            None => {
                problems.add(None, None, "missing [[departments]]");
                Vec::new()
            }
        };
        let raw_items = match document.remove("items") {
            Some(toml::Value::Array(items)) => items,
            _ => {
                problems.add(None, None, "missing [[items]]");
                Vec::new()
            }
        };
        for key in document.keys() {
            problems.add(None, None, format!("unknown key '{key}'"));
        }

        let mut department_ids = HashSet::new();
        for department in &departments {
            if !department_ids.insert(department.id.as_str()) {
                problems.add(
                    None,
                    None,
                    format!("department '{}' is defined twice", department.id),
                );
            }
        }

        let mut items = Vec::new();
        let mut item_ids = HashSet::new();
        for (index, raw) in raw_items.into_iter().enumerate() {
            let Some(item) = load_item(index, raw, &mut problems) else {
                continue;
            };
            if !item_ids.insert(item.id.clone()) {
                problems.add(Some(&item.id), None, "item id is defined twice");
            }
            for department in std::iter::once(&item.department).chain(&item.also_from) {
                if !department_ids.contains(department.as_str()) {
                    problems.add(
                        Some(&item.id),
                        None,
                        format!("department '{department}' is not defined"),
                    );
                }
            }
            items.push(item);
        }

        if !problems.0.is_empty() {
            return Err(CatalogErrors(problems.0));
        }
        Ok(Catalog {
            version,
            departments,
            items,
        })
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|item| item.id == id)
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.id == id)
    }

    /// Items a department may send records of.
    pub fn items_of(&self, department: &str) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |item| {
            item.department == department || item.also_from.iter().any(|d| d == department)
        })
    }
}

impl Item {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

fn load_item(index: usize, raw: toml::Value, problems: &mut Problems) -> Option<Item> {
    let toml::Value::Table(mut table) = raw else {
        problems.add(None, None, format!("items[{index}] is not a table"));
        return None;
    };
    let id = match table.remove("id") {
        Some(toml::Value::String(id)) => id,
        _ => {
            problems.add(None, None, format!("items[{index}] has no 'id'"));
            return None;
        }
    };
    let item_id = Some(id.as_str());
    if !is_identifier(&id) {
        problems.add(
            item_id,
            None,
            "id must be lower case letters, digits and '_', starting with a letter",
        );
    }
    let raw_fields = match table.remove("fields") {
        Some(toml::Value::Array(fields)) if !fields.is_empty() => fields,
        _ => {
            problems.add(item_id, None, "has no [[items.fields]]");
            Vec::new()
        }
    };
    let raw_item: RawItem = match toml::Value::Table(table).try_into() {
        Ok(item) => item,
        Err(e) => {
            let e: toml::de::Error = e;
            problems.add(item_id, None, e.message().to_string());
            return None;
        }
    };

    let mut fields = Vec::new();
    let mut names = HashSet::new();
    for (position, raw) in raw_fields.into_iter().enumerate() {
        let name = raw.get("name").and_then(|n| n.as_str()).map(str::to_string);
        let label = name.clone().unwrap_or_else(|| format!("#{}", position + 1));
        let raw_field: RawField = match raw.try_into() {
            Ok(field) => field,
            Err(e) => {
                let e: toml::de::Error = e;
                problems.add(item_id, Some(&label), e.message().to_string());
                continue;
            }
        };
        if !names.insert(raw_field.name.clone()) {
            problems.add(item_id, Some(&label), "field is defined twice");
        }
        if let Some(field) = load_field(&id, raw_field, raw_item.subject.legacy, problems) {
            fields.push(field);
        }
    }

    let item = Item {
        id,
        name_zh: raw_item.name_zh,
        name_en: raw_item.name_en,
        department: raw_item.department,
        also_from: raw_item.also_from,
        category: raw_item.category,
        record: raw_item.record,
        subject_field: raw_item.subject.field,
        accepts_legacy_ids: raw_item.subject.legacy,
        subject_optional: raw_item.subject.optional,
        registers_entities: raw_item.registers,
        fields,
        natural_key: raw_item.natural_key,
        publicity: raw_item.publicity,
        partition: raw_item.partition,
    };
    check_references(&item, &names, problems);
    Some(item)
}

fn load_field(item: &str, raw: RawField, legacy: bool, problems: &mut Problems) -> Option<Field> {
    let before = problems.0.len();
    let mut problem = |message: String| problems.add(Some(item), Some(&raw.name), message);
    let t = raw.field_type;
    if !is_identifier(&raw.name) {
        problem("name must be lower case letters, digits and '_', starting with a letter".into());
    }
    if (raw.min_len.is_some() || raw.max_len.is_some()) && !t.is_textual() {
        problem(format!(
            "min_len and max_len apply to string and text fields, not {}",
            t.as_str()
        ));
    }
    if let (Some(min), Some(max)) = (raw.min_len, raw.max_len)
        && min > max
    {
        problem(format!("min_len {min} is greater than max_len {max}"));
    }
    if (raw.min.is_some() || raw.max.is_some()) && !t.is_numeric() {
        problem(format!(
            "min and max apply to integer and decimal fields, not {}",
            t.as_str()
        ));
    }
    if let (Some(min), Some(max)) = (raw.min, raw.max)
        && min > max
    {
        problem(format!("min {min} is greater than max {max}"));
    }
    match (t == FieldType::Enum, raw.values.is_empty()) {
        (true, true) => problem("an enum field needs a non-empty 'values' list".into()),
        (false, false) => problem(format!(
            "'values' applies to enum fields, not {}",
            t.as_str()
        )),
        _ => {}
    }
    let mut seen = HashSet::new();
    for value in &raw.values {
        if !seen.insert(value) {
            problem(format!("enum value '{value}' is listed twice"));
        }
    }
    let pattern = match raw.pattern.as_deref().map(Regex::new) {
        None => None,
        Some(Ok(regex)) if t.is_textual() => Some(regex),
        Some(Ok(_)) => {
            problem(format!(
                "'pattern' applies to string and text fields, not {}",
                t.as_str()
            ));
            None
        }
        Some(Err(e)) => {
            problem(format!("pattern is not a valid regular expression: {e}"));
            None
        }
    };
    if problems.0.len() > before {
        return None;
    }
    Some(Field {
        name: raw.name,
        name_zh: raw.name_zh,
        field_type: t,
        required: raw.required,
        min_len: raw.min_len,
        max_len: raw.max_len,
        min: raw.min,
        max: raw.max,
        values: raw.values,
        pattern,
        accepts_legacy_ids: legacy && t == FieldType::Subject,
    })
}

/// Checks that the item's subject, natural key, publicity and partition name
/// fields that exist and have a fitting type.
fn check_references(item: &Item, names: &HashSet<String>, problems: &mut Problems) {
    let id = Some(item.id.as_str());
    let require = |problems: &mut Problems,
                   name: &str,
                   role: &str,
                   fits: fn(FieldType) -> bool,
                   expected: &str| {
        if !names.contains(name) {
            problems.add(
                id,
                Some(name),
                format!("{role} names a field that is not defined"),
            );
            return;
        }
        // A field that failed its own checks was reported already.
        if let Some(t) = item.field(name).map(|f| f.field_type)
            && !fits(t)
        {
            problems.add(
                id,
                Some(name),
                format!("{role} must be a {expected} field, not {}", t.as_str()),
            );
        }
    };
    require(
        problems,
        &item.subject_field,
        "subject",
        |t| t == FieldType::Subject,
        "subject",
    );
    if let Some(field) = item.field(&item.subject_field)
        && field.required == item.subject_optional
    {
        let message = if item.subject_optional {
            "the subject is optional (subject.optional), so its field must not be required"
        } else {
            "the subject field must be required (or the subject declared optional)"
        };
        problems.add(id, Some(&item.subject_field), message);
    }
    for key in &item.natural_key {
        require(problems, key, "natural_key", |_| true, "any");
    }
    if item.natural_key.is_empty() {
        problems.add(id, None, "natural_key must name at least one field");
    }
    match &item.publicity {
        Publicity::PenaltyPeriod {
            date_field,
            severity_field,
        } => {
            require(
                problems,
                date_field,
                "publicity date_field",
                |t| t == FieldType::Date,
                "date",
            );
            require(
                problems,
                severity_field,
                "publicity severity_field",
                |t| t == FieldType::Enum,
                "enum",
            );
            if let Some(severity) = item.field(severity_field) {
                for value in &severity.values {
                    if value.parse::<crate::publicity::Severity>().is_err() {
                        problems.add(
                            id,
                            Some(severity_field),
                            format!(
                                "severity value '{value}' is not one of minor, general, serious"
                            ),
                        );
                    }
                }
            }
        }
        Publicity::WhileListed {
            from_field,
            until_field,
        } => {
            require(
                problems,
                from_field,
                "publicity from_field",
                |t| t == FieldType::Date,
                "date",
            );
            require(
                problems,
                until_field,
                "publicity until_field",
                |t| t == FieldType::Date,
                "date",
            );
        }
        Publicity::Public | Publicity::Consent | Publicity::Internal => {}
    }
    match (&item.partition.by, &item.partition.field) {
        (PartitionBy::None, Some(field)) => {
            problems.add(id, Some(field), "partition by none takes no field");
        }
        (PartitionBy::None, None) => {}
        (_, None) => problems.add(id, None, "partition by year or month needs a field"),
        (_, Some(field)) => require(
            problems,
            field,
            "partition",
            FieldType::is_temporal,
            "date or month",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_plain() {
        assert_eq!(parse_decimal("12.50"), Some(12.5));
        assert_eq!(parse_decimal("-3"), Some(-3.0));
        for bad in ["1e3", "NaN", "inf", "1,000", ".5", "5.", "+1", ""] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_and_months_are_iso() {
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2023-02-29"));
        assert!(!is_iso_date("2024-2-9"));
        assert!(!is_iso_date("2024-+1-05"));
        assert!(!is_iso_date("+024-01-05"));
        assert!(is_iso_month("2024-12"));
        assert!(!is_iso_month("2024-13"));
        assert!(!is_iso_month("2024-00"));
        assert!(!is_iso_month("2024-+1"));
        assert!(!is_iso_month("20a4-01"));
    }
}
