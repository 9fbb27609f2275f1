//! Text that leaves the platform: shown in a terminal, or opened in a
//! spreadsheet. Departments send whatever their systems hold, and some of it
//! is not meant for either.

use std::borrow::Cow;

/// `text` with control characters written as escapes (`\u{1b}`), so that a
/// file's bytes echoed in a message cannot move the cursor, recolour or
/// retitle the terminal reading it. Line breaks and tabs are escaped too: a
/// message is one line.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether a spreadsheet would take a cell beginning with this text for a
/// formula (OWASP, "CSV injection"): `=`, `+`, `-`, `@`, a tab or a carriage
/// return first — unless the whole text is a plain number such as `-12.5`,
/// which a spreadsheet reads as the number it is.
pub fn looks_like_formula(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    !is_plain_number(text)
}

fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty()
        && digits.chars().any(|c| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
}

/// A cell for a CSV file a person may open in a spreadsheet: text that would
/// be taken for a formula gets a leading apostrophe, which spreadsheets read
/// as "this is text". Stored values keep what was sent; only what is written
/// out changes. (XLSX cells are written as typed strings with the
/// quote-prefix style instead, see [`looks_like_formula`].)
///
/// Text that already begins with apostrophes before a formula gets one more,
/// so that [`from_spreadsheet_safe`] gives back exactly what was written
/// whatever it was: files the platform writes and reads again (inspection
/// bundles) round-trip.
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    if looks_like_formula(text.trim_start_matches('\'')) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`spreadsheet_safe`] was given.
pub fn from_spreadsheet_safe(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest.trim_start_matches('\'')) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused_and_numbers_left_alone() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1)",
            "-2+3",
            "\t=1+1",
            "\r=1+1",
            "-",
            "+",
        ] {
            assert_eq!(
                spreadsheet_safe(formula),
                format!("'{formula}"),
                "{formula}"
            );
        }
        for plain in ["-12.5", "+86", "1e5", "佛山", "", "a=b", "-0", "12"] {
            assert_eq!(spreadsheet_safe(plain), plain, "{plain}");
        }
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(escape_controls("佛山 ok"), "佛山 ok");
    }

    proptest! {
        #[test]
        fn what_is_safe_never_starts_a_formula(text in ".*") {
            let safe = spreadsheet_safe(&text);
            prop_assert!(!looks_like_formula(&safe));
            // Only a prefix is ever added.
            prop_assert!(safe.ends_with(text.as_str()));
        }

        #[test]
        fn what_is_made_safe_reads_back_as_it_was(text in "'{0,2}[=+@a-z0-9 -]{0,6}") {
            let safe = spreadsheet_safe(&text);
            prop_assert_eq!(from_spreadsheet_safe(&safe), text.as_str());
        }

        #[test]
        fn escaped_text_has_no_control_characters(text in ".*") {
            prop_assert!(!escape_controls(&text).chars().any(char::is_control));
        }
    }
}
