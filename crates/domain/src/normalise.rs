//! Normalisation of identifiers typed or pasted by people.
//!
//! Users paste codes from Word documents, PDFs and Chinese input methods, so
//! leading spaces, full-width characters (`９１４４…`) and lower case are
//! common. We repair those three and nothing else, and always say what was
//! repaired: a normalisation never turns an invalid code into a valid one
//! silently.

use std::fmt;

/// One kind of repair applied to user input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    /// Leading or trailing whitespace (including the ideographic space) removed.
    Trimmed,
    /// Full-width ASCII forms (U+FF01..U+FF5E) replaced by their half-width forms.
    FullWidthToHalfWidth,
    /// Lower-case letters replaced by upper case.
    LowerToUpper,
}

impl fmt::Display for Normalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Normalisation::Trimmed => "trimmed surrounding whitespace",
            Normalisation::FullWidthToHalfWidth => "converted full-width characters to half-width",
            Normalisation::LowerToUpper => "converted lower case to upper case",
        })
    }
}

/// A value parsed from user input together with the repairs that were needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised<T> {
    pub value: T,
    pub normalisations: Vec<Normalisation>,
}

/// Applies the three repairs and lists those that changed something.
pub fn normalise_code_input(input: &str) -> (String, Vec<Normalisation>) {
    let mut normalisations = Vec::new();
    let trimmed = input.trim_matches(|c: char| c.is_whitespace());
    if trimmed.len() != input.len() {
        normalisations.push(Normalisation::Trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut full_width = false;
    let mut lower = false;
    for c in trimmed.chars() {
        let half = match c {
            '\u{FF01}'..='\u{FF5E}' => {
                full_width = true;
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '\u{3000}' => {
                full_width = true;
                ' '
            }
            _ => c,
        };
        if half.is_ascii_lowercase() {
            lower = true;
        }
        out.push(half.to_ascii_uppercase());
    }
    if full_width {
        normalisations.push(Normalisation::FullWidthToHalfWidth);
    }
    if lower {
        normalisations.push(Normalisation::LowerToUpper);
    }
    (out, normalisations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_repair() {
        let (text, done) = normalise_code_input("\u{3000} ９１３５0100m000100y43 ");
        assert_eq!(text, "91350100M000100Y43");
        assert_eq!(
            done,
            [
                Normalisation::Trimmed,
                Normalisation::FullWidthToHalfWidth,
                Normalisation::LowerToUpper
            ]
        );
    }

    #[test]
    fn clean_input_reports_nothing() {
        let (text, done) = normalise_code_input("91350100M000100Y43");
        assert_eq!(text, "91350100M000100Y43");
        assert!(done.is_empty());
    }

    #[test]
    fn inner_whitespace_is_kept_so_validation_rejects_it() {
        let (text, _) = normalise_code_input("9135 0100");
        assert_eq!(text, "9135 0100");
    }
}
