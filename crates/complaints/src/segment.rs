//! Chinese word segmentation for complaint texts, and the terms a
//! classifier reads.
//!
//! jieba (jieba-rs, its dictionary built in) with the platform's domain
//! dictionary (`dict/domain.txt`: products, problems, the city's places)
//! and any words the credit centre adds, in the same format: `word [freq]
//! [tag]` a line, `#` for comments. A term is a word after [`normalise`]
//! (full-width digits and letters as ASCII, Latin letters lower case), with punctuation,
//! spaces and common function words left out and every number read as
//! `<num>`: an amount or a date says nothing about a category.

use std::collections::HashSet;

use jieba_rs::Jieba;

use crate::mask::normalise;

const DOMAIN: &str = include_str!("../dict/domain.txt");

/// Words too common to tell categories apart.
const STOP_WORDS: [&str; 34] = [
    "的", "了", "在", "是", "我", "有", "和", "就", "不", "人", "都", "一", "一个", "上", "也",
    "很", "到", "说", "要", "去", "你", "会", "着", "没有", "看", "好", "自己", "这", "本人", "于",
    "时", "其", "该", "对",
];

/// A problem in a dictionary file.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("dictionary line {line}: {message}")]
pub struct DictionaryError {
    pub line: usize,
    pub message: String,
}

/// jieba with the domain dictionary and any added words.
pub struct Segmenter {
    jieba: Jieba,
    stop: HashSet<&'static str>,
}

impl Segmenter {
    /// jieba's dictionary and the platform's domain words.
    pub fn new() -> Segmenter {
        let mut jieba = Jieba::new();
        // The built-in file is checked by a test: no line can fail.
        let _ = add_words(&mut jieba, DOMAIN);
        Segmenter {
            jieba,
            stop: STOP_WORDS.into_iter().collect(),
        }
    }

    /// As [`Segmenter::new`], with the words of `dictionary` (the domain
    /// file's format) added; a malformed line is an error naming it.
    pub fn with_words(dictionary: &str) -> Result<Segmenter, DictionaryError> {
        let mut segmenter = Segmenter::new();
        add_words(&mut segmenter.jieba, dictionary)?;
        Ok(segmenter)
    }

    /// The words of a text as jieba cuts it (with its HMM for unknown
    /// words), after normalisation.
    pub fn words(&self, text: &str) -> Vec<String> {
        let text = normalise(text);
        self.jieba
            .cut(&text, true)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect()
    }

    /// The terms a classifier reads: words without punctuation, spaces or
    /// stop words, Latin letters lower case, numbers as `<num>`.
    pub fn terms(&self, text: &str) -> Vec<String> {
        let text = normalise(text);
        let mut terms = Vec::new();
        for token in self.jieba.cut(&text, true) {
            let word = token.word;
            if !word.chars().any(char::is_alphanumeric) || self.stop.contains(word) {
                continue;
            }
            if word.chars().all(|c| c.is_ascii_digit() || c == '.') {
                if terms.last().is_none_or(|t: &String| t != "<num>") {
                    terms.push("<num>".to_string());
                }
                continue;
            }
            terms.push(word.to_lowercase());
        }
        terms
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter::new()
    }
}

/// Adds a dictionary's words: `word [freq] [tag]` a line.
fn add_words(jieba: &mut Jieba, dictionary: &str) -> Result<(), DictionaryError> {
    for (k, line) in dictionary.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |message: String| DictionaryError {
            line: k + 1,
            message,
        };
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        let freq = match parts.next() {
            None => None,
            Some(f) => Some(
                f.parse::<usize>()
                    .map_err(|_| fail(format!("frequency '{f}' is not a whole number")))?,
            ),
        };
        let tag = parts.next();
        if let Some(extra) = parts.next() {
            return Err(fail(format!("unexpected '{extra}' after the tag")));
        }
        jieba.add_word(word, freq, tag);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_dictionary_is_well_formed() {
        let mut jieba = Jieba::empty();
        add_words(&mut jieba, DOMAIN).unwrap();
    }

    #[test]
    fn domain_words_stay_whole_and_numbers_fold() {
        let s = Segmenter::new();
        let terms = s
            .terms("本人于2024年3月在禅城区某店购买的双皮奶变质，商家拒绝退款，涉及金额１２８元。");
        for word in ["禅城区", "双皮奶", "变质", "拒绝退款"] {
            assert!(terms.iter().any(|t| t == word), "{word} in {terms:?}");
        }
        assert!(terms.iter().any(|t| t == "<num>"), "{terms:?}");
        assert!(
            !terms.iter().any(|t| t == "的" || t == "，" || t == "128"),
            "{terms:?}"
        );
    }

    #[test]
    fn added_words_are_kept_whole_and_bad_lines_named() {
        let text = "这家店的椰子鸡汤不新鲜";
        let plain = Segmenter::new().terms(text);
        assert!(!plain.iter().any(|t| t == "椰子鸡汤"), "{plain:?}");
        let added = Segmenter::with_words("# ours\n椰子鸡汤 800 n\n")
            .unwrap()
            .terms(text);
        assert!(added.iter().any(|t| t == "椰子鸡汤"), "{added:?}");
        let error = Segmenter::with_words("好词\n坏词 many\n").err().unwrap();
        assert_eq!(
            error.to_string(),
            "dictionary line 2: frequency 'many' is not a whole number"
        );
    }
}
