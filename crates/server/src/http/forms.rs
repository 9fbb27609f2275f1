//! Form fields and uploaded files, as handlers read them.

use axum::extract::Multipart;
use axum::http::StatusCode;

use super::Failure;

/// The form's value of `name`, trimmed; empty when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.trim())
}

pub fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, Failure> {
    text.trim()
        .parse()
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a number")))
}

/// The fields of an upload form, read in full before anything is checked.
#[derive(Default)]
pub struct UploadForm {
    pub csrf: Option<String>,
    pub item: Option<String>,
    pub department: Option<String>,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
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
            "csrf" | "item" | "department" => {
                let text = field.text().await.map_err(bad)?;
                match name.as_str() {
                    "csrf" => form.csrf = Some(text),
                    "item" => form.item = Some(text),
                    _ => form.department = Some(text),
                }
            }
            other => {
                return Err(Failure::BadRequest(format!(
                    "unexpected field '{other}' in the upload"
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
    fn file_names_lose_their_paths() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\x\\tax.csv"), "tax.csv");
        assert_eq!(clean_file_name(".."), "upload");
        assert_eq!(clean_file_name("a\u{0}b.csv"), "ab.csv");
    }
}
