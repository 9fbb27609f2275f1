//! Personal data masked out of a complaint's text before it is shown.
//!
//! Callers give their phone numbers, ID numbers, names, plate numbers and
//! home addresses to the hotline; none of it is needed to see a risk, and
//! the text reaches regulators, reports and examples in notices. Each kind
//! is replaced character for character by `*`, so the masked text keeps
//! its length and shape:
//!
//! | kind | example | shown |
//! |---|---|---|
//! | mobile number | 13812345678 | 138****5678 |
//! | landline | 0757-83123456 | 0757-******56 |
//! | ID number (18 or 15 digits) | 44060419900101123X | 440*************3X |
//! | a name before 先生/女士/小姐 | 王小明先生 | 王**先生 |
//! | plate number | 粤A12345, 粤E·D12345 | 粤A*****, 粤E·****** |
//! | house number after a street | 季华五路18号3座1201室 | 季华五路**号*座****室 |
//!
//! Runs of digits are classified by their whole length (no look-around),
//! so a digit run inside a longer one is never half masked. Full-width
//! digits and letters are read as their ASCII forms first ([`normalise`]).

use std::sync::LazyLock;

use regex::Regex;

/// Full-width digits, Latin letters and hyphens (１, Ａ, －) as their ASCII
/// forms, as people type either. Chinese punctuation (，。：) stays: it is
/// how the text is written, and it is what is shown.
pub fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '－' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            _ => c,
        })
        .collect()
}

static LANDLINE: LazyLock<Regex> = LazyLock::new(|| compile(r"0\d{2,3}-\d{7,8}"));
static NAME: LazyLock<Regex> = LazyLock::new(|| compile(r"\p{Han}{1,2}(先生|女士|小姐)"));
static PLATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·•]?[A-Z0-9]{5,6}",
    )
});
static HOUSE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(路|街|道|巷|村)\d+号(之\d+)?(\d+(栋|座|幢|单元|楼|层|室|房))*"));

fn compile(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles each.
    Regex::new(pattern).unwrap_or_else(|e| panic!("mask pattern {pattern}: {e}"))
}

/// The text with every kind of personal data above masked.
pub fn mask(text: &str) -> String {
    let text = normalise(text);
    let mut chars: Vec<char> = text.chars().collect();
    let mut hide = vec![false; chars.len()];
    // Byte offsets of the text to char offsets, for the regexes' matches.
    let mut char_at = vec![0usize; text.len() + 1];
    for (k, (b, c)) in text.char_indices().enumerate() {
        for slot in &mut char_at[b..b + c.len_utf8()] {
            *slot = k;
        }
    }
    char_at[text.len()] = chars.len();
    let span = |m: regex::Match| char_at[m.start()]..char_at[m.end()];

    digit_runs(&chars, &mut hide);
    for m in LANDLINE.find_iter(&text) {
        let range = span(m);
        let before = range.start.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(range.end).copied();
        if before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        let dash = (range.start..range.end)
            .find(|&i| chars[i] == '-')
            .unwrap_or(range.start);
        let shown_tail = range.end.saturating_sub(2).max(dash + 1);
        for slot in &mut hide[dash + 1..shown_tail] {
            *slot = true;
        }
    }
    for m in NAME.find_iter(&text) {
        let range = span(m);
        // The title itself (two characters) stays; of a three-character
        // name the surname stays too, which names no one.
        for slot in &mut hide[range.start..range.end - 2] {
            *slot = true;
        }
    }
    for m in PLATE.find_iter(&text) {
        let range = span(m);
        for i in range.start + 2..range.end {
            if chars[i] != '·' && chars[i] != '•' {
                hide[i] = true;
            }
        }
    }
    for m in HOUSE.find_iter(&text) {
        let range = span(m);
        for i in range.start + 1..range.end {
            if chars[i].is_ascii_digit() {
                hide[i] = true;
            }
        }
    }
    for (c, hidden) in chars.iter_mut().zip(hide) {
        if hidden {
            *c = '*';
        }
    }
    chars.into_iter().collect()
}

/// Maximal runs of digits (an ID number's final X included): 18 or 15
/// digits are an ID number (first three and last two kept), 11 starting
/// 13–19 a mobile number (first three and last four kept).
fn digit_runs(chars: &[char], hide: &mut [bool]) {
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && matches!(chars.get(end), Some('X' | 'x')) {
            end += 1;
            i += 1;
        }
        let len = end - start;
        let (keep_head, keep_tail) = match len {
            18 | 15 => (3, 2),
            11 if chars[start] == '1' && matches!(chars[start + 1], '3'..='9') => (3, 4),
            _ => continue,
        };
        for slot in &mut hide[start + keep_head..end - keep_tail] {
            *slot = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_masked_as_documented() {
        let cases = [
            ("电话13812345678联系", "电话138****5678联系"),
            ("座机0757-83123456。", "座机0757-******56。"),
            ("身份证44060419900101123X", "身份证440*************3X"),
            ("身份证440604900101123", "身份证440**********23"),
            ("王小明先生反映", "王**先生反映"),
            ("李女士说", "*女士说"),
            ("车牌粤A12345停在门口", "车牌粤A*****停在门口"),
            ("车牌粤E·D12345", "车牌粤E·******"),
            ("住在季华五路18号3座1201室", "住在季华五路**号*座****室"),
            ("全角１３８１２３４５６７８", "全角138****5678"),
        ];
        for (text, shown) in cases {
            assert_eq!(mask(text), shown, "{text}");
        }
    }

    #[test]
    fn what_is_not_personal_stays() {
        for text in [
            "涉及金额1280元，2024-05-06购买",
            "订单号123456789012",
            "禅城区祖庙街道的门店",
            "2024年3月15日",
        ] {
            assert_eq!(mask(text), text);
        }
    }

    proptest::proptest! {
        /// Masking keeps the length, is idempotent, and no mobile number
        /// set in any text survives it.
        #[test]
        fn masks_keep_shape_and_hide_numbers(
            before in "\\PC{0,12}",
            after in "[\\p{Han}a-z ，。]{0,12}",
            number in "1[3-9][0-9]{9}",
        ) {
            let text = format!("{before}{number}{after}");
            let once = mask(&text);
            proptest::prop_assert_eq!(once.chars().count(), normalise(&text).chars().count());
            proptest::prop_assert_eq!(mask(&once), once.clone());
            let digits_before = normalise(&before).chars().rev().take_while(char::is_ascii_digit).count();
            if digits_before == 0 {
                proptest::prop_assert!(!once.contains(&number), "{} -> {}", text, once);
            }
        }
    }
}
