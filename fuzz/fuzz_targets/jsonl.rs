//! Any bytes as a department's jsonl file: a clear error or every row
//! accounted for, and the digest of exactly the bytes given.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../reader.rs"]
mod reader;

fuzz_target!(|bytes: &[u8]| {
    reader::read(bytes, ingest::FileFormat::Jsonl, "input.jsonl");
});
