//! Form fields, JSON bodies and uploaded files, as handlers read them.
//!
//! Everything a person typed is checked here, once, before any handler or
//! store sees it ([`check_text`]): valid UTF-8, and no control characters
//! but line breaks and tabs. A NUL would otherwise reach PostgreSQL (which
//! refuses it in text, an internal error), an escape sequence the terminal
//! of whoever reads the log, and a bidirectional override the pages, where
//! it turns a name around. Values that pass are stored as sent: pages
//! escape them for HTML and exports defuse formulas (`domain::text`).

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use domain::text::escape_controls;
use serde::de::DeserializeOwned;

use super::{ApiFailure, Failure, PageFailure};

/// The form's value of `name`, trimmed; empty when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

/// `value` trimmed, refused (not cut) when longer than `max` characters:
/// what was typed is kept whole or not at all.
pub fn at_most(what: &str, value: &str, max: usize) -> Result<String, Failure> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(Failure::BadRequest(format!(
            "{what} is at most {max} characters"
        )));
    }
    Ok(value.to_string())
}

pub fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a number")))
}

/// Refuses `value` of the field `field` if it holds a character no one
/// types into a form: a control character other than a line break or a tab,
/// or a bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069).
pub fn check_text(field: &str, value: &str) -> Result<(), Failure> {
    let Some(c) = value.chars().find(|c| not_typed(*c)) else {
        return Ok(());
    };
    Err(Failure::BadRequest(format!(
        "field '{}' holds the character U+{:04X}; only printable text, line breaks and tabs are accepted",
        escape_controls(field),
        u32::from(c)
    )))
}

fn not_typed(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks every name and value of a URL-encoded form body or query string
/// with [`check_text`], and that each decodes to UTF-8 (a decoder would
/// otherwise replace bad bytes silently).
pub fn check_urlencoded(what: &str, bytes: &[u8]) -> Result<(), Failure> {
    for pair in bytes.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let name = decode(name)
            .ok_or_else(|| Failure::BadRequest(format!("a name in the {what} is not UTF-8")))?;
        check_text(&name, &name)?;
        let value = decode(value).ok_or_else(|| {
            Failure::BadRequest(format!(
                "field '{}' of the {what} is not UTF-8",
                escape_controls(&name)
            ))
        })?;
        check_text(&name, &value)?;
    }
    Ok(())
}

/// Checks a request's path, percent-decoded, with [`check_text`].
pub fn check_path(path: &str) -> Result<(), Failure> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| Failure::BadRequest("the address is not UTF-8".into()))?;
    check_text("address", &decoded)
}

/// A URL-encoded part decoded (`+` is a space), or `None` if not UTF-8.
fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).ok()
}

/// Checks every string of a JSON body, and every key, with [`check_text`];
/// a value is named by its path (`items[2].name`).
pub fn check_json(path: &str, value: &serde_json::Value) -> Result<(), Failure> {
    use serde_json::Value;
    match value {
        Value::String(text) => check_text(path, text),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json(&format!("{path}[{i}]"), item)),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            check_text(&path, key)?;
            check_json(&path, item)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// The body of a request, refused as too large past the router's limit.
pub async fn body_bytes<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, Failure> {
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Failure::TooLarge
            } else {
                Failure::BadRequest("the body could not be read".into())
            }
        })
}

/// A URL-encoded form body, checked by [`check_urlencoded`], then `T`.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    check_urlencoded("form", bytes)?;
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| Failure::BadRequest(format!("the form is not valid: {e}")))
}

/// A form the public posts (no session, so no session CSRF token: the
/// handler checks the double-submit cookie), read like every other form.
pub struct PublicForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PublicForm<T> {
    type Rejection = PageFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        Ok(PublicForm(parse_form(&bytes)?))
    }
}

/// A JSON body, checked by [`check_json`], then `T`; every refusal is the
/// API's JSON error (axum's own `Json` answers in plain text).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::BadRequest(format!("the body is not valid JSON: {e}")))?;
        check_json("", &value)?;
        let parsed = serde_json::from_value(value)
            .map_err(|e| Failure::BadRequest(format!("the body does not fit the request: {e}")))?;
        Ok(ApiJson(parsed))
    }
}

/// The fields of an upload form, read in full before anything is checked.
#[derive(Default)]
pub struct UploadForm {
    pub csrf: Option<String>,
    pub item: Option<String>,
    pub department: Option<String>,
    /// A credit check's scenario and the codes typed in.
    pub scenario: Option<String>,
    pub codes: Option<String>,
    /// An objection's or repair application's record (`item:batch:row`),
    /// ground, statement and commitment.
    pub record: Option<String>,
    pub ground: Option<String>,
    pub statement: Option<String>,
    pub commitment: Option<String>,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
    /// Files sent as `documents` (several; an empty one is a slot left
    /// unfilled and is skipped).
    pub documents: Vec<(String, Vec<u8>)>,
}

/// Reads a multipart upload; a malformed body is a clear refusal.
pub async fn read_upload(mut multipart: Multipart) -> Result<UploadForm, Failure> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::TooLarge
        } else {
            Failure::BadRequest(format!("malformed upload: {}", e.body_text()))
        }
    };
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                form.file_name = field.file_name().map(str::to_string);
                form.bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            "documents" => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(bad)?.to_vec();
                if !(file_name.is_empty() && bytes.is_empty()) {
                    form.documents.push((file_name, bytes));
                }
            }
            "csrf" | "item" | "department" | "scenario" | "codes" | "record" | "ground"
            | "statement" | "commitment" => {
                let bytes = field.bytes().await.map_err(bad)?;
                let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                    Failure::BadRequest(format!("field '{name}' of the upload is not UTF-8"))
                })?;
                check_text(&name, &text)?;
                match name.as_str() {
                    "csrf" => form.csrf = Some(text),
                    "item" => form.item = Some(text),
                    "scenario" => form.scenario = Some(text),
                    "codes" => form.codes = Some(text),
                    "record" => form.record = Some(text),
                    "ground" => form.ground = Some(text),
                    "statement" => form.statement = Some(text),
                    "commitment" => form.commitment = Some(text),
                    _ => form.department = Some(text),
                }
            }
            other => {
                return Err(Failure::BadRequest(format!(
                    "unexpected field '{}' in the upload",
                    escape_controls(other)
                )));
            }
        }
    }
    Ok(form)
}

/// The last part of a file name as a sender gave it, without control
/// characters or path separators, at most 120 characters.
pub fn clean_file_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    match cleaned.trim() {
        "" | "." | ".." => "upload".to_string(),
        name => name.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_passes_and_controls_are_named() {
        assert!(check_text("notes", "第一行\r\n第二行\t=SUM(1) <b>").is_ok());
        let refused = |field: &str, value: &str| match check_text(field, value) {
            Err(Failure::BadRequest(why)) => why,
            other => panic!("{value:?} not refused: {other:?}"),
        };
        assert!(refused("name", "a\u{0}b").contains("'name' holds the character U+0000"));
        assert!(refused("name", "\u{1b}[31m").contains("U+001B"));
        assert!(refused("name", "abc\u{202E}fed").contains("U+202E"));
        assert!(refused("name", "\u{2066}x").contains("U+2066"));
        // The field's own name is escaped in the message.
        assert!(refused("a\u{1b}b", "\u{7}").contains("'a\\u{1b}b'"));
    }

    #[test]
    fn urlencoded_bodies_are_decoded_before_the_check() {
        assert!(check_urlencoded("form", b"csrf=ab&purpose=%E4%BD%A0+%3D1&x=").is_ok());
        assert!(check_urlencoded("form", b"&&a&b=").is_ok());
        for refused in [
            &b"purpose=%00"[..],
            b"purpose=%1B%5B2J",
            b"purpose=%FF%FE",
            b"%00=1",
            b"name=%E2%80%AE",
        ] {
            assert!(
                check_urlencoded("form", refused).is_err(),
                "{}",
                String::from_utf8_lossy(refused)
            );
        }
        assert!(check_path("/entity/91440600MA4UTEST1X").is_ok());
        assert!(check_path("/admin/users/a%00b/roles").is_err());
        assert!(check_path("/entity/%C0%AF").is_err());
    }

    #[test]
    fn json_strings_and_keys_are_checked_where_they_are() {
        let ok = serde_json::json!({"purpose": "周转", "items": [{"name": "=1+1"}], "n": 3});
        assert!(check_json("", &ok).is_ok());
        let bad = serde_json::json!({"items": [{"name": "ok"}, {"name": "\u{0}"}]});
        match check_json("", &bad) {
            Err(Failure::BadRequest(why)) => assert!(why.contains("'items[1].name'"), "{why}"),
            other => panic!("{other:?}"),
        }
        let bad_key = serde_json::json!({"a\u{1}": 1});
        assert!(check_json("", &bad_key).is_err());
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\x\\tax.csv"), "tax.csv");
        assert_eq!(clean_file_name(".."), "upload");
        assert_eq!(clean_file_name("a\u{0}b.csv"), "ab.csv");
    }
}
