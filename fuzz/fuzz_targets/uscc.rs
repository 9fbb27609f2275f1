//! Any text as a subject identifier: a USCC, an organisation code or a
//! registration number, typed or pasted. Never panics; what parses
//! prints back to a code that parses to the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(code) = domain::Uscc::parse_input(text) {
        let again = domain::Uscc::parse_input(code.value.as_str());
        assert_eq!(again.map(|c| c.value), Ok(code.value));
    }
    let _ = domain::SubjectId::parse_input(text);
});
