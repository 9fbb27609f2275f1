//! The synthetic city's answer key, as `xinyong sim` writes it under
//! `truth/` (docs/SIM.md).

use std::collections::HashMap;
use std::path::Path;

/// Every row of `truth/<file>` as column name → value.
pub fn rows(out: &Path, file: &str) -> Vec<HashMap<String, String>> {
    let path = out.join("truth").join(file);
    let mut reader = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The city's entities (`truth/entities.csv`).
pub fn entities(out: &Path) -> Vec<HashMap<String, String>> {
    rows(out, "entities.csv")
}

/// The USCCs of the city's entities, in the order written.
pub fn codes(out: &Path) -> Vec<String> {
    entities(out)
        .into_iter()
        .map(|mut e| e.remove("subject").unwrap())
        .collect()
}

/// A row the city made dirty on purpose (`truth/dirty.csv`).
#[derive(Debug, Clone)]
pub struct DirtyLabel {
    pub kind: String,
    pub field: String,
    pub expected: String,
    pub original: String,
}

/// The dirty rows, keyed by (file, data row).
pub fn dirty(out: &Path) -> HashMap<(String, u64), DirtyLabel> {
    rows(out, "dirty.csv")
        .into_iter()
        .map(|mut r| {
            let mut take = |column: &str| r.remove(column).unwrap_or_default();
            let file = take("file");
            let row = take("row").parse().unwrap();
            (
                (file, row),
                DirtyLabel {
                    kind: take("kind"),
                    field: take("field"),
                    expected: take("expected"),
                    original: take("original"),
                },
            )
        })
        .collect()
}
