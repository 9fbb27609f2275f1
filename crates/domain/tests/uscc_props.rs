//! Properties of the identifier parsers: generated codes validate, and no
//! single-character change of a valid code is accepted.

#![allow(clippy::unwrap_used)]

use domain::division::{self, DivisionCode};
use domain::uscc::{Authority, CHARSET, EntityKind};
use domain::{Normalisation, OrganisationCode, RegistrationNumber, SubjectId, Uscc};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn real_codes() -> Vec<String> {
    include_str!("real_codes.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Every code that differs from `code` in exactly one position, using every
/// character of the USCC set and a few outside it.
fn single_substitutions(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    for position in 0..chars.len() {
        for replacement in CHARSET
            .chars()
            .chain(['I', 'O', 'S', 'V', 'Z', 'a', '-', ' ', '０'])
        {
            if replacement == chars[position] {
                continue;
            }
            let mut changed = chars.clone();
            changed[position] = replacement;
            out.push(changed.into_iter().collect());
        }
    }
    out
}

#[test]
fn real_codes_are_valid_and_every_mutation_is_rejected() {
    let codes = real_codes();
    assert!(codes.len() >= 10);
    for code in codes {
        let parsed: Uscc = code.parse().unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(parsed.as_str(), code);
        for mutation in single_substitutions(&code) {
            assert!(
                mutation.parse::<Uscc>().is_err(),
                "{mutation} (from {code}) was accepted"
            );
        }
    }
}

#[test]
fn midea_decodes_to_shunde() {
    let parts = "91440606722473344C".parse::<Uscc>().unwrap().parts();
    assert_eq!(parts.authority_zh, "市场监管（工商）");
    assert_eq!(parts.kind_zh, "企业");
    assert_eq!(parts.division_name.as_deref(), Some("广东省佛山市顺德区"));
    assert_eq!(parts.organisation_code, "722473344");
}

fn any_kind() -> impl Strategy<Value = EntityKind> {
    let kinds: Vec<EntityKind> = Authority::all()
        .flat_map(|a| {
            a.kinds()
                .iter()
                .filter_map(move |k| EntityKind::new(a, k.0))
        })
        .collect();
    proptest::sample::select(kinds)
}

fn any_division() -> impl Strategy<Value = DivisionCode> {
    let codes: Vec<&str> = division::foshan().iter().map(|d| &d.code[..6]).collect();
    prop_oneof![
        proptest::sample::select(codes).prop_map(|c| DivisionCode::parse(c).unwrap()),
        (0u32..1_000_000).prop_map(|n| DivisionCode::parse(&format!("{n:06}")).unwrap()),
    ]
}

proptest! {
    #[test]
    fn sort_keys_order_codes_as_their_text(a in any::<u64>(), b in any::<u64>(), kind in any_kind(), division in any_division()) {
        let x = Uscc::generate(kind, division, &mut ChaCha8Rng::seed_from_u64(a));
        let y = Uscc::generate(kind, division, &mut ChaCha8Rng::seed_from_u64(b));
        prop_assert_eq!(x.sort_key().cmp(&y.sort_key()), x.as_str().cmp(y.as_str()));
    }

    #[test]
    fn generated_codes_validate(seed in any::<u64>(), kind in any_kind(), division in any_division()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let code = Uscc::generate(kind, division, &mut rng);
        let reparsed: Uscc = code.as_str().parse().unwrap();
        prop_assert_eq!(reparsed, code);
        prop_assert_eq!(code.kind(), kind);
        prop_assert_eq!(code.division(), division);
        prop_assert!(code.organisation_code().as_str().parse::<OrganisationCode>().is_ok());
    }

    #[test]
    fn generation_is_deterministic(seed in any::<u64>()) {
        let division = DivisionCode::parse("440605").unwrap();
        let a = Uscc::generate(EntityKind::ENTERPRISE, division, &mut ChaCha8Rng::seed_from_u64(seed));
        let b = Uscc::generate(EntityKind::ENTERPRISE, division, &mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!(a, b);
    }

    #[test]
    fn every_substitution_of_a_generated_code_is_rejected(seed in any::<u64>(), kind in any_kind()) {
        let division = DivisionCode::parse("440606").unwrap();
        let code = Uscc::generate(kind, division, &mut ChaCha8Rng::seed_from_u64(seed));
        for mutation in single_substitutions(code.as_str()) {
            prop_assert!(mutation.parse::<Uscc>().is_err(), "{} accepted", mutation);
        }
    }

    #[test]
    fn user_input_repairs_are_reported(seed in any::<u64>(), lower in any::<bool>(), wide in any::<bool>(), pad in any::<bool>()) {
        let code = Uscc::generate(EntityKind::ENTERPRISE, DivisionCode::parse("440604").unwrap(), &mut ChaCha8Rng::seed_from_u64(seed));
        let mut input: String = code.as_str().chars().map(|c| {
            let c = if lower { c.to_ascii_lowercase() } else { c };
            if wide { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c }
        }).collect();
        if pad { input = format!(" {input}\u{3000}"); }
        let parsed = Uscc::parse_input(&input).unwrap();
        prop_assert_eq!(parsed.value, code);
        prop_assert_eq!(parsed.normalisations.contains(&Normalisation::Trimmed), pad);
        prop_assert_eq!(parsed.normalisations.contains(&Normalisation::FullWidthToHalfWidth), wide);
        let has_letters = code.as_str().chars().any(|c| c.is_ascii_uppercase());
        prop_assert_eq!(parsed.normalisations.contains(&Normalisation::LowerToUpper), lower && has_letters);
    }

    #[test]
    fn normalisation_never_validates_an_invalid_code(input in "\\PC{0,24}") {
        // Whatever parse_input accepts, the strict parser accepts after the
        // same repairs: normalisation adds no leniency of its own.
        if let Ok(parsed) = Uscc::parse_input(&input) {
            let (repaired, _) = domain::normalise::normalise_code_input(&input);
            prop_assert_eq!(repaired.parse::<Uscc>(), Ok(parsed.value));
        }
    }

    #[test]
    fn parsers_never_panic(input in "\\PC{0,40}") {
        let _ = input.parse::<Uscc>();
        let _ = Uscc::parse_input(&input);
        let _ = SubjectId::parse_input(&input);
        let _ = input.parse::<OrganisationCode>();
        let _ = input.parse::<RegistrationNumber>();
    }

    #[test]
    fn registration_numbers_detect_every_single_digit_error(sequence in 0u32..100_000_000, position in 0usize..15, delta in 1u8..10) {
        let number = RegistrationNumber::from_parts(DivisionCode::parse("440606").unwrap(), sequence);
        prop_assert!(number.as_str().parse::<RegistrationNumber>().is_ok());
        let mut bytes = number.as_str().as_bytes().to_vec();
        bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert!(mutated.parse::<RegistrationNumber>().is_err());
    }

    /// GB 11714 checks mod 11 over values 0..35, so a substitution whose
    /// value differs by a multiple of 11 (`8` ↔ `J`) is invisible to the
    /// organisation-code check alone; inside a USCC the mod-31 check catches
    /// it. Every other single substitution is rejected.
    #[test]
    fn organisation_codes_detect_substitutions_the_mod_11_check_can_see(seed in any::<u64>(), position in 0usize..9, replacement in "[0-9A-Z]") {
        let code = Uscc::generate(EntityKind::ENTERPRISE, DivisionCode::parse("440600").unwrap(), &mut ChaCha8Rng::seed_from_u64(seed)).organisation_code();
        let mut chars: Vec<char> = code.as_str().chars().collect();
        let replacement = replacement.chars().next().unwrap();
        let value = |c: char| c.to_digit(36).unwrap() as i32;
        prop_assume!(position == 8 || (value(chars[position]) - value(replacement)) % 11 != 0);
        prop_assume!(chars[position] != replacement);
        chars[position] = replacement;
        let mutated: String = chars.into_iter().collect();
        prop_assert!(mutated.parse::<OrganisationCode>().is_err(), "{} accepted", mutated);
    }
}
