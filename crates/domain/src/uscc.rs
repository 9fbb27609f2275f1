//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
//!
//! A [`Uscc`] can only hold a valid code: the only ways to get one are parsing
//! (strictly with [`str::parse`], or from user input with [`Uscc::parse_input`])
//! and building one from its parts, which computes both check characters.
//!
//! Layout (1-based positions):
//! 1 registering authority, 2 entity kind, 3-8 division code of the authority,
//! 9-17 organisation code (GB 11714: 8 body characters and a check character),
//! 18 check character over positions 1-17.

use std::fmt;
use std::str::FromStr;

use crate::division::DivisionCode;
use crate::legacy::OrganisationCode;
use crate::normalise::{Normalised, normalise_code_input};

/// The 31 characters a USCC may use; a character's value is its index here.
pub const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// `3^(i-1) mod 31` for i = 1..17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Value of each ASCII character in [`CHARSET`], 255 for the others: the
/// check runs on every record of every batch, so it is a table lookup.
const VALUES: [u8; 128] = {
    let mut table = [255u8; 128];
    let chars = CHARSET.as_bytes();
    let mut i = 0;
    while i < chars.len() {
        table[chars[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Value of a USCC character, or `None` for a character outside [`CHARSET`].
pub fn char_value(c: char) -> Option<u32> {
    let value = *VALUES.get(c as usize)?;
    (value != 255).then_some(value as u32)
}

fn value_char(value: u32) -> char {
    CHARSET.as_bytes()[value as usize] as char
}

/// The check character (position 18) for the first 17 characters.
///
/// `c = 31 - (Σ value·weight mod 31)`, and `c = 31` is written `0`: the value
/// is taken mod 31 before indexing, which avoids the well-known bug of
/// indexing the 31-character table at 31.
fn check_character(first17: &[u8; 17]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| char_value(c as char).unwrap_or(0) * w)
        .sum();
    value_char((31 - sum % 31) % 31)
}

/// Why a string is not a valid USCC. Each variant names one rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("empty code")]
    Empty,
    #[error("length is {found} characters, expected 18")]
    Length { found: usize },
    #[error(
        "character '{character}' at position {position} is not allowed (only 0-9 and A-Y without I, O, S, V, Z)"
    )]
    Character { position: usize, character: char },
    #[error("registering authority '{0}' at position 1 is not defined in GB 32100")]
    Authority(char),
    #[error(
        "entity kind '{kind}' at position 2 is not defined for registering authority '{authority}'"
    )]
    Kind { authority: char, kind: char },
    #[error("division code '{0}' at positions 3-8 is not 6 digits")]
    Division(String),
    #[error("organisation code check character (position 17) is '{found}', expected '{expected}'")]
    OrganisationCheck { found: char, expected: char },
    #[error("check character is '{found}', expected '{expected}'")]
    Check { found: char, expected: char },
}

/// A valid Unified Social Credit Code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uscc([u8; 18]);

impl Uscc {
    /// Parses user input: trims, turns full-width characters into half-width
    /// ones and lower case into upper case, then validates strictly. Every
    /// change made is reported, so a caller can tell the user.
    pub fn parse_input(input: &str) -> Result<Normalised<Uscc>, UsccError> {
        let (text, normalisations) = normalise_code_input(input);
        let code = text.parse()?;
        Ok(Normalised {
            value: code,
            normalisations,
        })
    }

    /// Builds the code for an entity kind, the division of its registering
    /// authority and the 8 body characters of its organisation code; computes
    /// both check characters.
    pub fn from_parts(
        kind: EntityKind,
        division: DivisionCode,
        organisation_body: &str,
    ) -> Result<Uscc, UsccError> {
        let found = organisation_body.chars().count();
        if found != 8 {
            return Err(UsccError::Length { found: 10 + found });
        }
        if let Some((i, c)) = organisation_body
            .chars()
            .enumerate()
            .find(|&(_, c)| char_value(c).is_none())
        {
            return Err(UsccError::Character {
                position: 9 + i,
                character: c,
            });
        }
        // Only CHARSET characters from here on, so 8 characters are 8 bytes.
        let body = organisation_body.as_bytes();
        let mut bytes = [0u8; 18];
        bytes[0] = kind.authority.code() as u8;
        bytes[1] = kind.code as u8;
        bytes[2..8].copy_from_slice(division.as_str().as_bytes());
        bytes[8..16].copy_from_slice(body);
        let mut body8 = [0u8; 8];
        body8.copy_from_slice(body);
        bytes[16] = OrganisationCode::check_character(&body8) as u8;
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&bytes[..17]);
        bytes[17] = check_character(&first17) as u8;
        Ok(Uscc(bytes))
    }

    /// Generates a valid code with a random organisation-code body drawn from
    /// `rng`. The same generator state gives the same code.
    pub fn generate<R: rand_core::Rng + ?Sized>(
        kind: EntityKind,
        division: DivisionCode,
        rng: &mut R,
    ) -> Uscc {
        let mut body = String::with_capacity(8);
        for _ in 0..8 {
            // 2^32 mod 31 = 4, so the bias of `% 31` is below 1e-9: negligible
            // for synthetic data.
            body.push(value_char(rng.next_u32() % 31));
        }
        // Every character comes from CHARSET and the body has 8 of them, so
        // from_parts cannot fail here.
        match Uscc::from_parts(kind, division, &body) {
            Ok(code) => code,
            Err(e) => unreachable!("generated body {body} rejected: {e}"),
        }
    }

    /// Integers that order codes as their text does: the first 16
    /// characters and the last 2, big-endian.
    pub fn sort_key(&self) -> (u128, u16) {
        let mut head = [0u8; 16];
        head.copy_from_slice(&self.0[..16]);
        (
            u128::from_be_bytes(head),
            u16::from_be_bytes([self.0[16], self.0[17]]),
        )
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes from CHARSET are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn authority(&self) -> Authority {
        // Validated at construction.
        Authority::from_code(self.0[0] as char).unwrap_or(Authority::Other)
    }

    pub fn kind(&self) -> EntityKind {
        EntityKind {
            authority: self.authority(),
            code: self.0[1] as char,
        }
    }

    pub fn division(&self) -> DivisionCode {
        let mut digits = [0u8; 6];
        digits.copy_from_slice(&self.0[2..8]);
        DivisionCode::from_digits(digits)
    }

    /// The embedded GB 11714 organisation code (positions 9-17).
    pub fn organisation_code(&self) -> OrganisationCode {
        let mut code = [0u8; 9];
        code.copy_from_slice(&self.0[8..17]);
        OrganisationCode::from_valid_bytes(code)
    }

    pub fn check(&self) -> char {
        self.0[17] as char
    }
}

impl FromStr for Uscc {
    type Err = UsccError;

    /// Strict parse: the input must already be exactly 18 valid characters.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(UsccError::Empty);
        }
        let found = s.chars().count();
        if found != 18 {
            return Err(UsccError::Length { found });
        }
        if let Some((i, c)) = s
            .chars()
            .enumerate()
            .find(|&(_, c)| char_value(c).is_none())
        {
            return Err(UsccError::Character {
                position: i + 1,
                character: c,
            });
        }
        // All characters are ASCII from here on.
        let b = s.as_bytes();
        let authority_code = b[0] as char;
        let authority =
            Authority::from_code(authority_code).ok_or(UsccError::Authority(authority_code))?;
        let kind_code = b[1] as char;
        if authority.kind_name(kind_code).is_none() {
            return Err(UsccError::Kind {
                authority: authority_code,
                kind: kind_code,
            });
        }
        let division = &s[2..8];
        if !division.bytes().all(|c| c.is_ascii_digit()) {
            return Err(UsccError::Division(division.to_string()));
        }
        let mut body = [0u8; 8];
        body.copy_from_slice(&b[8..16]);
        let expected = OrganisationCode::check_character(&body);
        let found = b[16] as char;
        if found != expected {
            return Err(UsccError::OrganisationCheck { found, expected });
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&b[..17]);
        let expected = check_character(&first17);
        let found = b[17] as char;
        if found != expected {
            return Err(UsccError::Check { found, expected });
        }
        let mut bytes = [0u8; 18];
        bytes.copy_from_slice(b);
        Ok(Uscc(bytes))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uscc({})", self.as_str())
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Registering authority (登记管理部门), position 1 of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    Establishment,
    ForeignAffairs,
    Justice,
    Culture,
    CivilAffairs,
    Tourism,
    Religion,
    TradeUnion,
    MarketRegulation,
    MilitaryEstablishment,
    Agriculture,
    Other,
}

/// (authority, code, Chinese name, English name, kinds as (code, Chinese, English)).
type AuthorityRow = (
    Authority,
    char,
    &'static str,
    &'static str,
    &'static [(char, &'static str, &'static str)],
);

const AUTHORITIES: [AuthorityRow; 12] = [
    (
        Authority::Establishment,
        '1',
        "机构编制",
        "institutional establishment",
        &[
            ('1', "机关", "government organ"),
            ('2', "事业单位", "public institution"),
            (
                '3',
                "中央编办直接管理机构编制的群众团体",
                "mass organisation under the central establishment office",
            ),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::ForeignAffairs,
        '2',
        "外交",
        "foreign affairs",
        &[
            ('1', "外国常驻新闻机构", "resident foreign news agency"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Justice,
        '3',
        "司法行政",
        "judicial administration",
        &[
            ('1', "律师执业机构", "law firm"),
            ('2', "公证处", "notary office"),
            ('3', "基层法律服务所", "grassroots legal service office"),
            ('4', "司法鉴定机构", "forensic appraisal institution"),
            ('5', "仲裁委员会", "arbitration commission"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Culture,
        '4',
        "文化",
        "culture",
        &[
            ('1', "外国在华文化中心", "foreign cultural centre in China"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::CivilAffairs,
        '5',
        "民政",
        "civil affairs",
        &[
            ('1', "社会团体", "social organisation"),
            ('2', "民办非企业单位", "private non-enterprise unit"),
            ('3', "基金会", "foundation"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Tourism,
        '6',
        "旅游",
        "tourism",
        &[
            (
                '1',
                "外国旅游部门常驻代表机构",
                "resident office of a foreign tourism authority",
            ),
            (
                '2',
                "港澳台地区旅游部门常驻内地（大陆）代表机构",
                "resident office of a Hong Kong, Macao or Taiwan tourism authority",
            ),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Religion,
        '7',
        "宗教",
        "religious affairs",
        &[
            ('1', "宗教活动场所", "place of religious activity"),
            ('2', "宗教院校", "religious college"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::TradeUnion,
        '8',
        "工会",
        "trade union",
        &[
            ('1', "基层工会", "grassroots trade union"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::MarketRegulation,
        '9',
        "市场监管（工商）",
        "market regulation",
        &[
            ('1', "企业", "enterprise"),
            ('2', "个体工商户", "individual business"),
            ('3', "农民专业合作社", "farmers' cooperative"),
        ],
    ),
    (
        Authority::MilitaryEstablishment,
        'A',
        "中央军委改革和编制办公室",
        "military establishment office",
        &[
            ('1', "军队事业单位", "military public institution"),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Agriculture,
        'N',
        "农业",
        "agriculture",
        &[
            (
                '1',
                "组级集体经济组织",
                "group-level collective economic organisation",
            ),
            (
                '2',
                "村级集体经济组织",
                "village-level collective economic organisation",
            ),
            (
                '3',
                "乡镇级集体经济组织",
                "township-level collective economic organisation",
            ),
            ('9', "其他", "other"),
        ],
    ),
    (
        Authority::Other,
        'Y',
        "其他",
        "other",
        &[('1', "其他", "other")],
    ),
];

impl Authority {
    fn row(self) -> &'static AuthorityRow {
        // Every variant has exactly one row.
        AUTHORITIES
            .iter()
            .find(|row| row.0 == self)
            .unwrap_or(&AUTHORITIES[11])
    }

    pub fn from_code(code: char) -> Option<Authority> {
        AUTHORITIES
            .iter()
            .find(|row| row.1 == code)
            .map(|row| row.0)
    }

    pub fn all() -> impl Iterator<Item = Authority> {
        AUTHORITIES.iter().map(|row| row.0)
    }

    pub fn code(self) -> char {
        self.row().1
    }

    pub fn name_zh(self) -> &'static str {
        self.row().2
    }

    pub fn name_en(self) -> &'static str {
        self.row().3
    }

    /// The kinds this authority registers, as (code, Chinese, English).
    pub fn kinds(self) -> &'static [(char, &'static str, &'static str)] {
        self.row().4
    }

    fn kind_name(self, code: char) -> Option<(&'static str, &'static str)> {
        self.kinds()
            .iter()
            .find(|k| k.0 == code)
            .map(|k| (k.1, k.2))
    }
}

/// Entity kind (机构类别), position 2, whose meaning depends on the authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntityKind {
    authority: Authority,
    code: char,
}

impl EntityKind {
    pub const ENTERPRISE: EntityKind = EntityKind {
        authority: Authority::MarketRegulation,
        code: '1',
    };
    pub const INDIVIDUAL_BUSINESS: EntityKind = EntityKind {
        authority: Authority::MarketRegulation,
        code: '2',
    };
    pub const FARMERS_COOPERATIVE: EntityKind = EntityKind {
        authority: Authority::MarketRegulation,
        code: '3',
    };

    /// The kind `code` of `authority`, if GB 32100 defines it.
    pub fn new(authority: Authority, code: char) -> Option<EntityKind> {
        authority.kind_name(code)?;
        Some(EntityKind { authority, code })
    }

    pub fn authority(self) -> Authority {
        self.authority
    }

    pub fn code(self) -> char {
        self.code
    }

    pub fn name_zh(self) -> &'static str {
        self.authority.kind_name(self.code).map_or("", |n| n.0)
    }

    pub fn name_en(self) -> &'static str {
        self.authority.kind_name(self.code).map_or("", |n| n.1)
    }
}

/// The decoded parts of a code, for display and JSON output.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UsccParts {
    pub code: Uscc,
    pub authority: char,
    pub authority_zh: &'static str,
    pub authority_en: &'static str,
    pub kind: char,
    pub kind_zh: &'static str,
    pub kind_en: &'static str,
    pub division: String,
    pub division_name: Option<String>,
    pub organisation_code: String,
    pub check: char,
}

impl Uscc {
    pub fn parts(&self) -> UsccParts {
        let authority = self.authority();
        let kind = self.kind();
        let division = self.division();
        UsccParts {
            code: *self,
            authority: authority.code(),
            authority_zh: authority.name_zh(),
            authority_en: authority.name_en(),
            kind: kind.code(),
            kind_zh: kind.name_zh(),
            kind_en: kind.name_en(),
            division: division.as_str().to_string(),
            division_name: division.full_name_zh(),
            organisation_code: self.organisation_code().to_string(),
            check: self.check(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_worked_examples_are_valid() {
        for code in ["91350100M000100Y43", "9135010026017703XW"] {
            let parsed: Uscc = code.parse().unwrap();
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn check_character_error_names_found_and_expected() {
        let err = "91350100M000100Y44".parse::<Uscc>().unwrap_err();
        assert_eq!(
            err,
            UsccError::Check {
                found: '4',
                expected: '3'
            }
        );
        assert_eq!(err.to_string(), "check character is '4', expected '3'");
    }

    #[test]
    fn check_value_31_maps_to_zero() {
        // Find a 17-character prefix whose sum is 0 mod 31: its check must be '0'.
        let kind = EntityKind::ENTERPRISE;
        let division = DivisionCode::parse("440606").unwrap();
        let mut found = false;
        for n in 0..100_000u32 {
            let body = format!("{n:08}");
            let code = Uscc::from_parts(kind, division, &body).unwrap();
            if code.check() == '0' {
                assert!(code.as_str().parse::<Uscc>().is_ok());
                found = true;
                break;
            }
        }
        assert!(found);
    }

    #[test]
    fn each_rule_has_its_own_error() {
        assert_eq!("".parse::<Uscc>(), Err(UsccError::Empty));
        assert_eq!("9135".parse::<Uscc>(), Err(UsccError::Length { found: 4 }));
        assert_eq!(
            "91350100M000100YI3".parse::<Uscc>(),
            Err(UsccError::Character {
                position: 17,
                character: 'I'
            })
        );
        assert_eq!(
            "B1350100M000100Y43".parse::<Uscc>(),
            Err(UsccError::Authority('B'))
        );
        assert_eq!(
            "94350100M000100Y43".parse::<Uscc>(),
            Err(UsccError::Kind {
                authority: '9',
                kind: '4'
            })
        );
        assert_eq!(
            "9135010AM000100Y43".parse::<Uscc>(),
            Err(UsccError::Division("35010A".into()))
        );
        assert_eq!(
            "91350100M000100Y53".parse::<Uscc>(),
            Err(UsccError::OrganisationCheck {
                found: '5',
                expected: '4'
            })
        );
    }
}
