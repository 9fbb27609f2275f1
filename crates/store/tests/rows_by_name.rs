//! Every row the store reads is mapped by column name: a column moved in a
//! SELECT must not land silently in another field of the same type.

#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn no_column_is_read_by_position() {
    let by_position = regex::Regex::new(r"\.(try_)?get(::<[^()]*>)?\(\d+\)").unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, line) in text.lines().enumerate() {
            if by_position.is_match(line) {
                found.push(format!("{}:{}: {}", path.display(), at + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "read by position:\n{}", found.join("\n"));
}
