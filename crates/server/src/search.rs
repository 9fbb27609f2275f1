//! Search by any part of an entity's name, fast on a city-sized registry.
//!
//! An in-memory bigram index: every pair of adjacent characters of every
//! name (lower-cased) points to the names that hold it, in name order. A
//! query of two or more characters walks the shortest posting list among its
//! bigrams and keeps the names that contain the whole query, so the first
//! hits in name order come without scanning the registry. SQL `LIKE '%…%'`
//! cannot use an index and reads every row; SQLite's FTS5 trigram tokenizer
//! needs three characters, while Chinese names are searched by two (佛山,
//! 美的); and PostgreSQL would need its own (pg_trgm). One structure in the
//! server serves both backends. A 1.2-million-entity registry takes about
//! 200 MB and a few seconds to build; the server rebuilds it in the
//! background when new batches have been stored.

use std::collections::HashMap;

/// A name's bigram as two `char`s packed into a `u64`.
fn bigram(a: char, b: char) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(u32::from(b))
}

fn folded(text: &str) -> Vec<char> {
    text.chars().flat_map(char::to_lowercase).collect()
}

pub struct NameIndex {
    /// `(uscc, folded name)` in name order.
    entries: Vec<(String, String)>,
    postings: HashMap<u64, Vec<u32>>,
    /// The last batch stored when the index was built.
    pub built_at_batch: i64,
}

impl NameIndex {
    /// Builds the index from `(uscc, name)` pairs in any order.
    pub fn build(mut rows: Vec<(String, String)>, built_at_batch: i64) -> NameIndex {
        rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut postings: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut entries = Vec::with_capacity(rows.len());
        for (position, (uscc, name)) in rows.into_iter().enumerate() {
            let chars = folded(&name);
            let mut seen: Vec<u64> = chars.windows(2).map(|w| bigram(w[0], w[1])).collect();
            seen.sort_unstable();
            seen.dedup();
            for gram in seen {
                postings.entry(gram).or_default().push(position as u32);
            }
            entries.push((uscc, chars.into_iter().collect()));
        }
        NameIndex {
            entries,
            postings,
            built_at_batch,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The codes of up to `limit` entities whose name contains `text`, in
    /// name order; `None` when the query is too short for the index (one
    /// character), which the caller answers another way.
    pub fn search(&self, text: &str, limit: usize) -> Option<Vec<&str>> {
        let query = folded(text.trim());
        if query.len() < 2 {
            return None;
        }
        let mut shortest: Option<&Vec<u32>> = None;
        for pair in query.windows(2) {
            let Some(list) = self.postings.get(&bigram(pair[0], pair[1])) else {
                return Some(Vec::new());
            };
            if shortest.is_none_or(|s| list.len() < s.len()) {
                shortest = Some(list);
            }
        }
        let needle: String = query.into_iter().collect();
        let list = shortest?;
        Some(
            list.iter()
                .map(|&at| &self.entries[at as usize])
                .filter(|(_, name)| name.contains(&needle))
                .take(limit)
                .map(|(uscc, _)| uscc.as_str())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> NameIndex {
        NameIndex::build(
            vec![
                ("3".into(), "佛山市顺德区美的电器有限公司".into()),
                ("1".into(), "佛山市南海区佳智服务部".into()),
                ("2".into(), "Foshan Midea Trading Co".into()),
            ],
            0,
        )
    }

    #[test]
    fn finds_any_part_in_name_order() {
        let index = index();
        assert_eq!(index.search("佛山", 10), Some(vec!["1", "3"]));
        assert_eq!(index.search("美的", 10), Some(vec!["3"]));
        assert_eq!(index.search("midea", 10), Some(vec!["2"]));
        assert_eq!(index.search("MIDEA TR", 10), Some(vec!["2"]));
        assert_eq!(index.search("服务部", 10), Some(vec!["1"]));
        assert_eq!(index.search("佛山", 1), Some(vec!["1"]));
    }

    #[test]
    fn misses_and_short_queries() {
        let index = index();
        assert_eq!(index.search("美团", 10), Some(vec![]));
        // Every bigram present, but not together.
        assert_eq!(index.search("佛山区", 10), Some(vec![]));
        assert_eq!(index.search("佛", 10), None);
        assert_eq!(index.search("%_", 10), Some(vec![]));
    }
}
