//! Cleansing: the repairs a credit platform makes to department data before
//! validating it, each reported by kind so departments learn what to fix.
//!
//! A repair never guesses: a value is changed only into the one form it
//! unambiguously means (`2024/3/5` is 5 March 2024; `12.5万元` in a 元 field
//! is 125000 元). Anything else is left for validation to reject.

use std::borrow::Cow;

use chrono::NaiveDate;
use domain::catalog::{Field, FieldType};
use domain::normalise::{Normalisation, normalise_code_input};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// Surrounding whitespace removed.
    Trimmed,
    /// Full-width characters made half-width.
    FullWidth,
    /// A code's letters made upper case.
    UpperCase,
    /// A date or month in another format rewritten as ISO 8601.
    DateFormat,
    /// Thousands separators removed from a number.
    ThousandsSeparator,
    /// An amount given in another unit (万元 vs 元) converted.
    Unit,
    /// 是/否, Y/N, 1/0 written as true/false.
    Boolean,
    /// A legacy identifier replaced by the USCC it maps to.
    LegacyId,
}

impl Repair {
    pub fn as_str(self) -> &'static str {
        match self {
            Repair::Trimmed => "trimmed",
            Repair::FullWidth => "full_width",
            Repair::UpperCase => "upper_case",
            Repair::DateFormat => "date_format",
            Repair::ThousandsSeparator => "thousands_separator",
            Repair::Unit => "unit",
            Repair::Boolean => "boolean",
            Repair::LegacyId => "legacy_id",
        }
    }
}

fn half_width(text: &str) -> (String, bool) {
    let mut changed = false;
    let out = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => {
                changed = true;
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect();
    (out, changed)
}

/// Moves the decimal point of a plain decimal `places` to the right (or
/// left when negative), exactly, on the digits.
fn shift_decimal(text: &str, places: i32) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let point = whole.len() as i32 + places;
    let (int_part, frac_part) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = frac_part.trim_end_matches('0');
    let sign = if negative { "-" } else { "" };
    Some(if frac_part.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    })
}

/// `1,234,567.89` → `1234567.89`, only when the groups are well formed.
fn remove_thousands_separators(text: &str) -> Option<String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    if groups.len() < 2
        || groups[0].is_empty()
        || groups[0].len() > 3
        || groups[1..].iter().any(|g| g.len() != 3)
    {
        return None;
    }
    if !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(text.replace(',', ""))
}

const DATE_FORMATS: [&str; 5] = ["%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d"];

fn repair_date(text: &str) -> Option<String> {
    // Spreadsheets export dates with a midnight time.
    let text = text.strip_suffix(" 00:00:00").unwrap_or(text);
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
        .map(|d| d.to_string())
}

fn repair_month(text: &str) -> Option<String> {
    let attempts = [
        (format!("{text}/1"), "%Y/%m/%d"),
        (format!("{text}01"), "%Y%m%d"),
        (format!("{text}1日"), "%Y年%m月%d日"),
        (format!("{text}-1"), "%Y-%m-%d"),
    ];
    attempts
        .iter()
        .find_map(|(candidate, format)| NaiveDate::parse_from_str(candidate, format).ok())
        .map(|d| d.format("%Y-%m").to_string())
}

/// A field holds amounts in 元 (its Chinese name says so), or in 万元.
fn unit_of(field: &Field) -> Option<&'static str> {
    if field.name_zh.contains("万元") {
        Some("万元")
    } else if field.name_zh.contains("（元）") {
        Some("元")
    } else {
        None
    }
}

/// Cleanses one value for a field; returns the value, borrowed when no
/// repair was needed (most values: ingest allocates nothing for them), and
/// the repairs made.
pub fn cleanse<'r>(field: &Field, raw: &'r str) -> (Cow<'r, str>, Vec<Repair>) {
    let mut repairs = Vec::new();
    if matches!(field.field_type, FieldType::Subject | FieldType::Uscc) {
        let clean = raw
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b.is_ascii_lowercase());
        if clean {
            return (Cow::Borrowed(raw), repairs);
        }
        let (text, done) = normalise_code_input(raw);
        for n in done {
            repairs.push(match n {
                Normalisation::Trimmed => Repair::Trimmed,
                Normalisation::FullWidthToHalfWidth => Repair::FullWidth,
                Normalisation::LowerToUpper => Repair::UpperCase,
            });
        }
        return (Cow::Owned(text), repairs);
    }
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace());
    if trimmed.len() != raw.len() {
        repairs.push(Repair::Trimmed);
    }
    let mut value = Cow::Borrowed(trimmed);
    if value.is_empty() {
        return (value, repairs);
    }
    match field.field_type {
        FieldType::Integer | FieldType::Decimal => {
            let (half, changed) = half_width(&value);
            if changed {
                repairs.push(Repair::FullWidth);
                value = Cow::Owned(half);
            }
            if value.contains(',')
                && let Some(plain) = remove_thousands_separators(&value)
            {
                repairs.push(Repair::ThousandsSeparator);
                value = Cow::Owned(plain);
            }
            match unit_of(field) {
                Some("元") => {
                    if let Some(wan) = value
                        .strip_suffix("万元")
                        .or_else(|| value.strip_suffix('万'))
                        && let Some(yuan) = shift_decimal(wan.trim(), 4)
                    {
                        repairs.push(Repair::Unit);
                        value = Cow::Owned(yuan);
                    } else if let Some(yuan) = value.strip_suffix('元') {
                        repairs.push(Repair::Unit);
                        value = Cow::Owned(yuan.trim().to_string());
                    }
                }
                Some("万元") => {
                    if let Some(wan) = value.strip_suffix("万元") {
                        repairs.push(Repair::Unit);
                        value = Cow::Owned(wan.trim().to_string());
                    } else if let Some(yuan) = value.strip_suffix('元')
                        && let Some(wan) = shift_decimal(yuan.trim(), -4)
                    {
                        repairs.push(Repair::Unit);
                        value = Cow::Owned(wan);
                    }
                }
                _ => {}
            }
        }
        FieldType::Date => {
            if field.check(&value).is_err()
                && let Some(iso) = repair_date(&value)
            {
                repairs.push(Repair::DateFormat);
                value = Cow::Owned(iso);
            }
        }
        FieldType::Month => {
            if field.check(&value).is_err()
                && let Some(iso) = repair_month(&value)
            {
                repairs.push(Repair::DateFormat);
                value = Cow::Owned(iso);
            }
        }
        FieldType::Boolean => {
            let normal = match value.as_ref() {
                "是" | "Y" | "y" | "1" | "TRUE" | "True" => Some("true"),
                "否" | "N" | "n" | "0" | "FALSE" | "False" => Some("false"),
                _ => None,
            };
            if let Some(normal) = normal {
                repairs.push(Repair::Boolean);
                value = Cow::Borrowed(normal);
            }
        }
        _ => {}
    }
    (value, repairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_shifts_are_exact() {
        assert_eq!(shift_decimal("12.345678", 4).as_deref(), Some("123456.78"));
        assert_eq!(shift_decimal("12", 4).as_deref(), Some("120000"));
        assert_eq!(shift_decimal("0.000123", 4).as_deref(), Some("1.23"));
        assert_eq!(shift_decimal("123456.78", -4).as_deref(), Some("12.345678"));
        assert_eq!(shift_decimal("5", -4).as_deref(), Some("0.0005"));
        assert_eq!(shift_decimal("1e3", 4), None);
    }

    #[test]
    fn separators_only_when_well_grouped() {
        assert_eq!(
            remove_thousands_separators("1,234,567.89").as_deref(),
            Some("1234567.89")
        );
        assert_eq!(remove_thousands_separators("12,34"), None);
        assert_eq!(remove_thousands_separators("1,2345"), None);
        assert_eq!(remove_thousands_separators(",123"), None);
    }

    #[test]
    fn dates_in_other_formats() {
        assert_eq!(repair_date("2024/3/5").as_deref(), Some("2024-03-05"));
        assert_eq!(repair_date("20240305").as_deref(), Some("2024-03-05"));
        assert_eq!(repair_date("2024年3月5日").as_deref(), Some("2024-03-05"));
        assert_eq!(
            repair_date("2024-03-05 00:00:00").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(repair_date("2023-02-30"), None);
        assert_eq!(repair_month("2024/3").as_deref(), Some("2024-03"));
        assert_eq!(repair_month("202403").as_deref(), Some("2024-03"));
        assert_eq!(repair_month("2024年3月").as_deref(), Some("2024-03"));
    }
}
