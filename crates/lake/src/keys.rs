//! Natural keys of the stored records, for duplicate detection across
//! batches.
//!
//! Every batch writes the keys of the records it accepted beside the lake,
//! as `_keys/item=<item>/batch-<id>.keys`, staged and published with the
//! batch's Parquet files, so the keys and the records they stand for appear
//! together or not at all. A key file is a header and then one fixed-width
//! entry per record: the 128-bit hash of the natural key and the 64-bit hash
//! of the record's content, little-endian.
//!
//! [`KeySet`] holds an item's keys in memory while its batches are checked:
//! 32 bytes a record, looked up on the thread that validates rows. Keeping
//! them here rather than in an indexed table of the operational store takes
//! the largest index out of the store's write path; an item of 20 million
//! records needs about 640 MB.

use std::collections::HashMap;
use std::fs;
use std::hash::BuildHasherDefault;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::{LakeError, io};

const MAGIC: &[u8; 8] = b"XYKEYS1\n";
const ENTRY: usize = 24;

/// The hash of a record's natural key and of its whole content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordKey {
    pub key: u128,
    pub content: u64,
}

impl RecordKey {
    /// Hashes the values at `key_at` (the natural key) and all values. The
    /// hashes (XXH3) are stable across versions and machines, as persisted
    /// keys need; values are length-prefixed so that no two different rows
    /// hash the same input. `scratch` is reused from row to row.
    pub fn of<S: AsRef<str>>(values: &[S], key_at: &[usize], scratch: &mut Vec<u8>) -> RecordKey {
        scratch.clear();
        for &at in key_at {
            push_prefixed(scratch, values.get(at).map_or("", AsRef::as_ref));
        }
        let key = twox_hash::XxHash3_128::oneshot(scratch);
        scratch.clear();
        for value in values {
            push_prefixed(scratch, value.as_ref());
        }
        let content = twox_hash::XxHash3_64::oneshot(scratch);
        RecordKey { key, content }
    }
}

fn push_prefixed(buffer: &mut Vec<u8>, text: &str) {
    buffer.extend_from_slice(&(text.len() as u32).to_le_bytes());
    buffer.extend_from_slice(text.as_bytes());
}

/// Whether a key was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    New,
    /// Earlier in the same batch.
    InBatch {
        same_content: bool,
    },
    /// In a batch stored before.
    Stored {
        same_content: bool,
    },
}

/// The keys are hashes already: hashing them again would only cost time.
#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    content: u64,
    in_batch: bool,
}

/// The keys of one item: those stored, and those of the batch being checked.
#[derive(Default)]
pub struct KeySet {
    item: String,
    keys: HashMap<u128, Entry, BuildHasherDefault<KeyHasher>>,
}

impl KeySet {
    pub fn item(&self) -> &str {
        &self.item
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Looks a record's key up and, when new, adds it to the running batch.
    pub fn check(&mut self, record: RecordKey) -> Seen {
        match self.keys.get(&record.key) {
            None => {
                self.keys.insert(
                    record.key,
                    Entry {
                        content: record.content,
                        in_batch: true,
                    },
                );
                Seen::New
            }
            Some(entry) => {
                let same_content = entry.content == record.content;
                if entry.in_batch {
                    Seen::InBatch { same_content }
                } else {
                    Seen::Stored { same_content }
                }
            }
        }
    }

    /// The keys the running batch added, for its key file.
    pub fn batch_keys(&self) -> impl Iterator<Item = RecordKey> + '_ {
        self.keys
            .iter()
            .filter(|(_, entry)| entry.in_batch)
            .map(|(&key, entry)| RecordKey {
                key,
                content: entry.content,
            })
    }

    /// The running batch was committed: its keys count as stored.
    pub fn batch_committed(&mut self) {
        for entry in self.keys.values_mut() {
            entry.in_batch = false;
        }
    }

    /// The running batch was abandoned: its keys are forgotten.
    pub fn batch_abandoned(&mut self) {
        self.keys.retain(|_, entry| !entry.in_batch);
    }
}

impl crate::Lake {
    fn keys_dir(&self, item: &str) -> std::path::PathBuf {
        self.root.join("_keys").join(format!("item={item}"))
    }

    /// The keys of every record of `item` the lake holds.
    pub fn load_keys(&self, item: &str) -> Result<KeySet, LakeError> {
        let mut set = KeySet {
            item: item.to_string(),
            keys: HashMap::default(),
        };
        let dir = self.keys_dir(item);
        if !dir.exists() {
            return Ok(set);
        }
        let mut files = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            files.push(entry.map_err(io(&dir))?.path());
        }
        files.sort();
        for path in files {
            let bytes = fs::read(&path).map_err(io(&path))?;
            let entries = bytes
                .strip_prefix(MAGIC.as_slice())
                .filter(|rest| rest.len() % ENTRY == 0)
                .ok_or_else(|| LakeError::Parquet {
                    path: path.clone(),
                    message: "not a key file, or a truncated one".to_string(),
                })?;
            set.keys.reserve(entries.len() / ENTRY);
            for entry in entries.chunks_exact(ENTRY) {
                let (key, content) = entry.split_at(16);
                let key = u128::from_le_bytes(key.try_into().unwrap_or_default());
                let content = u64::from_le_bytes(content.try_into().unwrap_or_default());
                set.keys.entry(key).or_insert(Entry {
                    content,
                    in_batch: false,
                });
            }
        }
        Ok(set)
    }

    /// Where a batch's key file goes when published.
    pub(crate) fn key_file(&self, item: &str, batch_id: i64) -> std::path::PathBuf {
        self.keys_dir(item).join(format!("batch-{batch_id}.keys"))
    }
}

/// Writes a key file.
pub(crate) fn write_key_file(
    path: &Path,
    keys: impl Iterator<Item = RecordKey>,
) -> Result<(), LakeError> {
    let file = fs::File::create(path).map_err(io(path))?;
    let mut out = BufWriter::new(file);
    out.write_all(MAGIC).map_err(io(path))?;
    for record in keys {
        out.write_all(&record.key.to_le_bytes()).map_err(io(path))?;
        out.write_all(&record.content.to_le_bytes())
            .map_err(io(path))?;
    }
    let file = out.into_inner().map_err(|e| LakeError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(parts: &[&str]) -> RecordKey {
        RecordKey::of(parts, &[0], &mut Vec::new())
    }

    #[test]
    fn length_prefixes_keep_different_rows_apart() {
        assert_ne!(key(&["ab", "c"]).content, key(&["a", "bc"]).content);
        assert_eq!(key(&["ab", "c"]).key, key(&["ab", "d"]).key);
    }

    #[test]
    fn batches_see_their_own_and_stored_keys() {
        let mut set = KeySet::default();
        assert_eq!(set.check(key(&["a", "1"])), Seen::New);
        assert_eq!(
            set.check(key(&["a", "1"])),
            Seen::InBatch { same_content: true }
        );
        assert_eq!(
            set.check(key(&["a", "2"])),
            Seen::InBatch {
                same_content: false
            }
        );
        set.batch_committed();
        assert_eq!(
            set.check(key(&["a", "1"])),
            Seen::Stored { same_content: true }
        );
        assert_eq!(set.check(key(&["b", "1"])), Seen::New);
        set.batch_abandoned();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn key_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let lake = crate::Lake::new(dir.path());
        let keys = [key(&["a", "1"]), key(&["b", "2"])];
        let path = lake.key_file("tax_payment", 7);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        write_key_file(&path, keys.iter().copied()).unwrap();
        let mut set = lake.load_keys("tax_payment").unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.check(keys[1]), Seen::Stored { same_content: true });
        fs::write(&path, b"XYKEYS1\nshort").unwrap();
        assert!(lake.load_keys("tax_payment").is_err());
    }
}
