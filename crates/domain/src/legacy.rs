//! Identifiers that predate the USCC and still appear in department records:
//! the 9-character organisation code (组织机构代码, GB 11714) and the 15-digit
//! business registration number (工商注册号, GS 15001-2006). [`SubjectId`]
//! recognises which of the three identifiers a record carries.

use std::fmt;
use std::str::FromStr;

use crate::normalise::{Normalised, normalise_code_input};
use crate::uscc::{Uscc, UsccError};

const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Why a string is not a valid organisation code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationCodeError {
    #[error(
        "length is {found} characters, expected 9 (or 10 with a hyphen before the check character)"
    )]
    Length { found: usize },
    #[error("character '{character}' at position {position} is not allowed (only 0-9 and A-Z)")]
    Character { position: usize, character: char },
    #[error("check character is '{found}', expected '{expected}'")]
    Check { found: char, expected: char },
}

/// A valid GB 11714 organisation code, stored without the hyphen.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrganisationCode([u8; 9]);

impl OrganisationCode {
    /// Value of a body character in GB 11714: digits at face value, letters
    /// A=10 … Z=35. (Not the USCC value of the same letter.)
    fn body_value(c: u8) -> Option<u32> {
        match c {
            b'0'..=b'9' => Some((c - b'0') as u32),
            b'A'..=b'Z' => Some((c - b'A') as u32 + 10),
            _ => None,
        }
    }

    /// `c = 11 - (Σ value·weight mod 11)`; 10 is written `X` and 11 is `0`.
    pub(crate) fn check_character(body: &[u8; 8]) -> char {
        let sum: u32 = body
            .iter()
            .zip(ORG_WEIGHTS)
            .map(|(&c, w)| Self::body_value(c).unwrap_or(0) * w)
            .sum();
        match 11 - sum % 11 {
            10 => 'X',
            11 => '0',
            n => char::from_digit(n, 10).unwrap_or('0'),
        }
    }

    /// For codes already validated as part of a USCC.
    pub(crate) fn from_valid_bytes(bytes: [u8; 9]) -> OrganisationCode {
        OrganisationCode(bytes)
    }

    /// Parses user input with the same repairs as [`Uscc::parse_input`].
    pub fn parse_input(input: &str) -> Result<Normalised<OrganisationCode>, OrganisationCodeError> {
        let (text, normalisations) = normalise_code_input(input);
        Ok(Normalised {
            value: text.parse()?,
            normalisations,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for OrganisationCode {
    type Err = OrganisationCodeError;

    /// Accepts `XXXXXXXXC` and the printed form `XXXXXXXX-C`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let chars: Vec<char> = s.chars().collect();
        let compact: Vec<char> = match chars.len() {
            10 if chars[8] == '-' => chars
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != 8)
                .map(|(_, &c)| c)
                .collect(),
            9 => chars,
            found => return Err(OrganisationCodeError::Length { found }),
        };
        for (i, &c) in compact.iter().enumerate() {
            let allowed = if i == 8 {
                c.is_ascii_digit() || c == 'X'
            } else {
                c.is_ascii_digit() || c.is_ascii_uppercase()
            };
            if !allowed {
                return Err(OrganisationCodeError::Character {
                    position: i + 1,
                    character: c,
                });
            }
        }
        let mut bytes = [0u8; 9];
        for (b, c) in bytes.iter_mut().zip(&compact) {
            *b = *c as u8;
        }
        let mut body = [0u8; 8];
        body.copy_from_slice(&bytes[..8]);
        let expected = Self::check_character(&body);
        let found = bytes[8] as char;
        if found != expected {
            return Err(OrganisationCodeError::Check { found, expected });
        }
        Ok(OrganisationCode(bytes))
    }
}

impl fmt::Display for OrganisationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for OrganisationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrganisationCode({})", self.as_str())
    }
}

/// Why a string is not a valid 15-digit registration number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationNumberError {
    #[error("length is {found} characters, expected 15 digits")]
    Length { found: usize },
    #[error("character '{character}' at position {position} is not a digit")]
    Character { position: usize, character: char },
    #[error("check digit is '{found}', expected '{expected}'")]
    Check { found: char, expected: char },
}

/// A valid 15-digit business registration number: 6 digits of the
/// registering authority's division, 8 of sequence, and an ISO 7064
/// MOD 11,10 check digit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistrationNumber([u8; 15]);

impl RegistrationNumber {
    /// ISO 7064 MOD 11,10 check digit over the first 14 digits.
    pub(crate) fn check_digit(first14: &[u8]) -> char {
        let mut product = 10u32;
        for &d in first14 {
            let sum = product % 11 + (d - b'0') as u32;
            let rem = sum % 10;
            product = if rem == 0 { 10 } else { rem } * 2;
        }
        let check = (11 - product % 11) % 10;
        char::from_digit(check, 10).unwrap_or('0')
    }

    pub fn parse_input(
        input: &str,
    ) -> Result<Normalised<RegistrationNumber>, RegistrationNumberError> {
        let (text, normalisations) = normalise_code_input(input);
        Ok(Normalised {
            value: text.parse()?,
            normalisations,
        })
    }

    /// Builds a number from the authority's 6-digit division and an
    /// 8-digit sequence; used by the synthetic city.
    pub fn from_parts(
        division: crate::division::DivisionCode,
        sequence: u32,
    ) -> RegistrationNumber {
        let first14 = format!("{}{:08}", division.as_str(), sequence % 100_000_000);
        let mut bytes = [0u8; 15];
        bytes[..14].copy_from_slice(first14.as_bytes());
        bytes[14] = Self::check_digit(&bytes[..14]) as u8;
        RegistrationNumber(bytes)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl FromStr for RegistrationNumber {
    type Err = RegistrationNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let found = s.chars().count();
        if found != 15 {
            return Err(RegistrationNumberError::Length { found });
        }
        if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(RegistrationNumberError::Character {
                position: i + 1,
                character: c,
            });
        }
        let b = s.as_bytes();
        let expected = Self::check_digit(&b[..14]);
        let found = b[14] as char;
        if found != expected {
            return Err(RegistrationNumberError::Check { found, expected });
        }
        let mut bytes = [0u8; 15];
        bytes.copy_from_slice(b);
        Ok(RegistrationNumber(bytes))
    }
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrationNumber({})", self.as_str())
    }
}

/// How a record names its subject: the USCC or one of the legacy identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectId {
    Uscc(Uscc),
    RegistrationNumber(RegistrationNumber),
    OrganisationCode(OrganisationCode),
}

/// Why a string is none of the three identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectIdError {
    #[error("invalid unified social credit code: {0}")]
    Uscc(#[from] UsccError),
    #[error("invalid registration number: {0}")]
    RegistrationNumber(#[from] RegistrationNumberError),
    #[error("invalid organisation code: {0}")]
    OrganisationCode(#[from] OrganisationCodeError),
    #[error(
        "length is {found} characters: not a unified social credit code (18), registration number (15) or organisation code (9)"
    )]
    Length { found: usize },
}

impl SubjectId {
    /// Recognises the identifier by its length after normalisation:
    /// 18 → USCC, 15 → registration number, 9 or 10 with a hyphen →
    /// organisation code.
    pub fn parse_input(input: &str) -> Result<Normalised<SubjectId>, SubjectIdError> {
        let (text, normalisations) = normalise_code_input(input);
        let id = SubjectId::parse_normalised(&text)?;
        Ok(Normalised {
            value: id,
            normalisations,
        })
    }

    fn parse_normalised(text: &str) -> Result<SubjectId, SubjectIdError> {
        match text.chars().count() {
            18 => Ok(SubjectId::Uscc(text.parse()?)),
            15 => Ok(SubjectId::RegistrationNumber(text.parse()?)),
            9 | 10 => Ok(SubjectId::OrganisationCode(text.parse()?)),
            0 => Err(UsccError::Empty.into()),
            found => Err(SubjectIdError::Length { found }),
        }
    }

    pub fn as_uscc(&self) -> Option<Uscc> {
        match self {
            SubjectId::Uscc(code) => Some(*code),
            _ => None,
        }
    }

    pub fn is_legacy(&self) -> bool {
        !matches!(self, SubjectId::Uscc(_))
    }
}

impl FromStr for SubjectId {
    type Err = SubjectIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubjectId::parse_normalised(s)
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectId::Uscc(c) => c.fmt(f),
            SubjectId::RegistrationNumber(c) => c.fmt(f),
            SubjectId::OrganisationCode(c) => c.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_7064_mod_11_10_reference_example() {
        // ISO 7064's own example: "0794" has check digit 5.
        assert_eq!(RegistrationNumber::check_digit(b"0794"), '5');
    }

    #[test]
    fn organisation_code_accepts_hyphenated_form() {
        let code: OrganisationCode = "M000100Y-4".parse().unwrap();
        assert_eq!(code.as_str(), "M000100Y4");
        assert_eq!(
            "M000100Y5".parse::<OrganisationCode>(),
            Err(OrganisationCodeError::Check {
                found: '5',
                expected: '4'
            })
        );
    }

    #[test]
    fn uscc_embeds_its_organisation_code() {
        let uscc: Uscc = "9135010026017703XW".parse().unwrap();
        assert_eq!(uscc.organisation_code().as_str(), "26017703X");
        assert!("26017703X".parse::<OrganisationCode>().is_ok());
    }

    #[test]
    fn subject_id_is_recognised_by_length() {
        let division = crate::division::DivisionCode::parse("440606").unwrap();
        let regno = RegistrationNumber::from_parts(division, 1234);
        assert!(matches!(
            regno.as_str().parse::<SubjectId>(),
            Ok(SubjectId::RegistrationNumber(_))
        ));
        assert!(matches!(
            "91350100M000100Y43".parse::<SubjectId>(),
            Ok(SubjectId::Uscc(_))
        ));
        assert!(matches!(
            "M000100Y4".parse::<SubjectId>(),
            Ok(SubjectId::OrganisationCode(_))
        ));
        assert_eq!(
            "1234".parse::<SubjectId>(),
            Err(SubjectIdError::Length { found: 4 })
        );
    }
}
