//! Dirty data, the way departments really send it, each dirty row labelled
//! so the ingest pipeline's repairs and quarantine can be scored.

use domain::catalog::{FieldType, Item};

use crate::draw::Draw;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirtKind {
    /// A USCC whose check character is wrong.
    InvalidUscc,
    /// A USCC with a character dropped, two swapped, or O typed for 0.
    MistypedUscc,
    /// A USCC in full-width characters.
    FullWidth,
    /// Leading or trailing spaces in a text value.
    StraySpaces,
    /// A real date in another format (2024/3/5, 20240305, 2024年3月5日).
    DateFormat,
    /// A date that does not exist (2023-02-30).
    ImpossibleDate,
    /// An amount with thousands separators (1,234.50).
    ThousandsSeparator,
    /// An amount in 元 written in 万元 (12.3456万元).
    UnitWan,
    /// A required value left empty.
    MissingRequired,
    /// A row sent twice.
    ExactDuplicate,
    /// A row sent twice with the same natural key and a different amount.
    NearDuplicate,
    /// A valid USCC of an entity the registry does not know.
    UnknownEntity,
    /// A number outside the field's range.
    OutOfRange,
}

impl DirtKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DirtKind::InvalidUscc => "invalid_uscc",
            DirtKind::MistypedUscc => "mistyped_uscc",
            DirtKind::FullWidth => "full_width",
            DirtKind::StraySpaces => "stray_spaces",
            DirtKind::DateFormat => "date_format",
            DirtKind::ImpossibleDate => "impossible_date",
            DirtKind::ThousandsSeparator => "thousands_separator",
            DirtKind::UnitWan => "unit_wan",
            DirtKind::MissingRequired => "missing_required",
            DirtKind::ExactDuplicate => "exact_duplicate",
            DirtKind::NearDuplicate => "near_duplicate",
            DirtKind::UnknownEntity => "unknown_entity",
            DirtKind::OutOfRange => "out_of_range",
        }
    }

    /// What a correct pipeline does with the row: repair it and accept it,
    /// quarantine it, or recognise it as a duplicate.
    pub fn expected(self) -> &'static str {
        match self {
            DirtKind::FullWidth
            | DirtKind::StraySpaces
            | DirtKind::DateFormat
            | DirtKind::ThousandsSeparator
            | DirtKind::UnitWan => "repair",
            DirtKind::ExactDuplicate => "duplicate",
            DirtKind::NearDuplicate => "conflict",
            _ => "quarantine",
        }
    }
}

/// What was done to a row.
#[derive(Debug, Clone)]
pub struct Dirt {
    pub kind: DirtKind,
    pub field: String,
    pub original: String,
}

fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Makes a row dirty in one way that fits its fields, or returns `None` when
/// the chosen way does not fit. `unknown_subject` is a valid USCC of no
/// entity in the city.
pub fn apply(
    draw: &mut Draw,
    item: &Item,
    values: &mut [String],
    unknown_subject: &str,
) -> Option<Dirt> {
    let kinds = [
        DirtKind::InvalidUscc,
        DirtKind::MistypedUscc,
        DirtKind::FullWidth,
        DirtKind::StraySpaces,
        DirtKind::DateFormat,
        DirtKind::ImpossibleDate,
        DirtKind::ThousandsSeparator,
        DirtKind::UnitWan,
        DirtKind::MissingRequired,
        DirtKind::ExactDuplicate,
        DirtKind::NearDuplicate,
        DirtKind::UnknownEntity,
        DirtKind::OutOfRange,
    ];
    let kind = *draw.pick(&kinds);
    let subject = item
        .fields
        .iter()
        .position(|f| f.name == item.subject_field)?;
    let positions_of = |fits: &dyn Fn(usize) -> bool| -> Vec<usize> {
        (0..item.fields.len()).filter(|&i| fits(i)).collect()
    };
    let choose = |draw: &mut Draw, positions: Vec<usize>| -> Option<usize> {
        if positions.is_empty() {
            None
        } else {
            Some(*draw.pick(&positions))
        }
    };
    let is_uscc = values[subject].len() == 18;
    let (position, new_value) = match kind {
        DirtKind::InvalidUscc if is_uscc => {
            let mut chars: Vec<char> = values[subject].chars().collect();
            let check = chars[17];
            let charset: Vec<char> = domain::uscc::CHARSET.chars().collect();
            chars[17] = charset[(charset.iter().position(|&c| c == check).unwrap_or(0)
                + 1
                + draw.range(0, 29) as usize)
                % 31];
            (subject, chars.into_iter().collect())
        }
        DirtKind::MistypedUscc if is_uscc => {
            let mut chars: Vec<char> = values[subject].chars().collect();
            match draw.range(0, 2) {
                0 => {
                    chars.remove(draw.range(0, 17) as usize);
                }
                1 => {
                    let at = (2..16).find(|&i| chars[i] != chars[i + 1])?;
                    chars.swap(at, at + 1);
                }
                _ => {
                    let at = chars.iter().position(|&c| c == '0')?;
                    chars[at] = 'O';
                }
            }
            (subject, chars.into_iter().collect())
        }
        DirtKind::FullWidth if is_uscc => (subject, full_width(&values[subject])),
        // A registration record brings its entity in: no code is unknown to it.
        DirtKind::UnknownEntity if is_uscc && !item.registers_entities => {
            (subject, unknown_subject.to_string())
        }
        DirtKind::StraySpaces => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    matches!(
                        item.fields[i].field_type,
                        FieldType::String | FieldType::Text
                    ) && !values[i].is_empty()
                }),
            )?;
            let spaced = match draw.range(0, 2) {
                0 => format!(" {}", values[at]),
                1 => format!("{}  ", values[at]),
                _ => format!(" {} ", values[at]),
            };
            (at, spaced)
        }
        DirtKind::DateFormat | DirtKind::ImpossibleDate => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    item.fields[i].field_type == FieldType::Date && !values[i].is_empty()
                }),
            )?;
            let date: chrono::NaiveDate = values[at].parse().ok()?;
            use chrono::Datelike;
            let text = if kind == DirtKind::ImpossibleDate {
                match draw.range(0, 2) {
                    0 => format!("{}-02-30", date.year()),
                    1 => format!("{}-13-{:02}", date.year(), date.day().min(28)),
                    _ => format!("{}-{:02}-32", date.year(), date.month()),
                }
            } else {
                match draw.range(0, 2) {
                    0 => format!("{}/{}/{}", date.year(), date.month(), date.day()),
                    1 => date.format("%Y%m%d").to_string(),
                    _ => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
                }
            };
            (at, text)
        }
        DirtKind::ThousandsSeparator => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    item.fields[i].field_type == FieldType::Decimal
                        && values[i].parse::<f64>().is_ok_and(|v| v >= 1000.0)
                }),
            )?;
            let (whole, fraction) = values[at].split_once('.').unwrap_or((&values[at], ""));
            let mut grouped = String::new();
            for (i, c) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            let text = if fraction.is_empty() {
                grouped
            } else {
                format!("{grouped}.{fraction}")
            };
            (at, text)
        }
        DirtKind::UnitWan => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    item.fields[i].field_type == FieldType::Decimal
                        && item.fields[i].name_zh.contains("（元）")
                        && values[i].parse::<f64>().is_ok_and(|v| v > 0.0)
                }),
            )?;
            let cents: f64 = values[at].parse::<f64>().ok()? * 100.0;
            (at, format!("{:.6}万元", libm::round(cents) / 1_000_000.0))
        }
        DirtKind::MissingRequired => {
            let at = choose(
                draw,
                positions_of(&|i| i != subject && item.fields[i].required && !values[i].is_empty()),
            )?;
            (at, String::new())
        }
        DirtKind::OutOfRange => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    let f = &item.fields[i];
                    matches!(f.field_type, FieldType::Decimal | FieldType::Integer)
                        && f.min == Some(0.0)
                        && values[i].parse::<f64>().is_ok_and(|v| v > 0.0)
                }),
            )?;
            (at, format!("-{}", values[at]))
        }
        DirtKind::NearDuplicate => {
            let at = choose(
                draw,
                positions_of(&|i| {
                    item.fields[i].field_type == FieldType::Decimal
                        && !item.natural_key.contains(&item.fields[i].name)
                        && values[i].parse::<f64>().is_ok()
                }),
            )?;
            // The duplicate row carries the change; the caller writes both.
            let value: f64 = values[at].parse().ok()?;
            (
                at,
                format!("{:.2}", value * (1.05 + 0.2 * draw.uniform()) + 1.0),
            )
        }
        DirtKind::ExactDuplicate => (subject, values[subject].clone()),
        _ => return None,
    };
    let original = std::mem::replace(&mut values[position], new_value);
    Some(Dirt {
        kind,
        field: item.fields[position].name.clone(),
        original,
    })
}
