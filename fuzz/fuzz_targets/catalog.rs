//! Any text as the information catalog: every problem named, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = domain::Catalog::from_toml(text);
});
