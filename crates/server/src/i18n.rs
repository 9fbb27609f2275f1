//! The message catalog: every text a page shows, in Chinese and English, in
//! one file (`assets/messages.toml`). Chinese is the default; a `lang=en`
//! cookie (set by `/lang/en`) switches to English.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::HeaderMap;

const MESSAGES_TOML: &str = include_str!("../assets/messages.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language a request asked for with its `lang` cookie.
    pub fn of(headers: &HeaderMap) -> Lang {
        match crate::http::cookies::cookie(headers, "lang") {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

#[derive(serde::Deserialize)]
struct Message {
    zh: String,
    en: String,
}

struct Catalog {
    zh: BTreeMap<String, String>,
    en: BTreeMap<String, String>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // The file ships inside the binary and a test parses it, so a
        // broken file cannot reach a user; should it, pages show keys.
        let parsed: BTreeMap<String, Message> = toml::from_str(MESSAGES_TOML).unwrap_or_default();
        Catalog {
            zh: parsed
                .iter()
                .map(|(k, m)| (k.clone(), m.zh.clone()))
                .collect(),
            en: parsed
                .iter()
                .map(|(k, m)| (k.clone(), m.en.clone()))
                .collect(),
        }
    })
}

/// Every message in `lang`, by key.
pub fn messages(lang: Lang) -> &'static BTreeMap<String, String> {
    match lang {
        Lang::Zh => &catalog().zh,
        Lang::En => &catalog().en,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages() {
        let parsed: BTreeMap<String, Message> = toml::from_str(MESSAGES_TOML).unwrap();
        assert!(parsed.len() > 50);
        for (key, m) in &parsed {
            assert!(!m.zh.trim().is_empty() && !m.en.trim().is_empty(), "{key}");
        }
    }

    /// Every `m.key` a template uses is in the catalog.
    #[test]
    fn templates_use_known_keys() {
        let known = messages(Lang::Zh);
        let pattern = regex_lite_keys();
        for (name, source) in crate::http::render::TEMPLATES {
            for key in pattern(source) {
                assert!(
                    known.contains_key(&key),
                    "template {name} uses unknown message '{key}'"
                );
            }
        }
    }

    fn regex_lite_keys() -> impl Fn(&str) -> Vec<String> {
        |source: &str| {
            let mut keys = Vec::new();
            let mut rest = source;
            while let Some(at) = rest.find("m.") {
                let before = rest[..at].chars().last();
                rest = &rest[at + 2..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() {
                    keys.push(key);
                }
            }
            keys
        }
    }
}
