//! Shared by the reader targets: the bytes as a file of `format`, read and
//! checked against the tax-payment item with every subject known.

use domain::{Catalog, SubjectId, Uscc};
use ingest::{FileFormat, ReadError, Registry};

struct Everyone;

impl Registry for Everyone {
    fn resolve(&self, id: &SubjectId) -> Option<Uscc> {
        id.as_uscc()
    }
}

pub fn read(bytes: &[u8], format: FileFormat, name: &str) {
    thread_local! {
        static DIR: std::path::PathBuf = {
            let dir = std::env::temp_dir().join(format!("xinyong-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            dir
        };
    }
    let path = DIR.with(|dir| dir.join(name));
    std::fs::write(&path, bytes).expect("the input written");
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    let catalog = CATALOG.get_or_init(Catalog::default_catalog);
    let Some(item) = catalog.item("tax_payment") else {
        return;
    };
    let mut keys = lake::KeySet::default();
    let mut rows = 0u64;
    let read = ingest::run_file(&path, format, None, item, &Everyone, &mut keys, &mut |_| {
        rows += 1;
        Ok::<(), ReadError>(())
    });
    if let Ok((tally, digest)) = read {
        assert_eq!(tally.rows_in, rows);
        assert_eq!(tally.rows_in, tally.accepted + tally.quarantined);
        assert_eq!(digest.bytes, bytes.len() as u64);
    }
}
