//! Enterprise credit-risk classes for supervision (SAMR 2022 guidance).
//!
//! Four classes, A (low) to D (high), recorded against each enterprise and
//! updated as data changes. They steer inspection intensity and are never
//! published.

use std::fmt;
use std::str::FromStr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum RiskClass {
    A,
    B,
    C,
    D,
}

impl RiskClass {
    pub const ALL: [RiskClass; 4] = [RiskClass::A, RiskClass::B, RiskClass::C, RiskClass::D];

    pub fn letter(self) -> char {
        match self {
            RiskClass::A => 'A',
            RiskClass::B => 'B',
            RiskClass::C => 'C',
            RiskClass::D => 'D',
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            RiskClass::A => "信用风险低",
            RiskClass::B => "信用风险一般",
            RiskClass::C => "信用风险较高",
            RiskClass::D => "信用风险高",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            RiskClass::A => "low credit risk",
            RiskClass::B => "moderate credit risk",
            RiskClass::C => "elevated credit risk",
            RiskClass::D => "high credit risk",
        }
    }

    /// Classes are a supervision tool: the guidance forbids publishing them.
    pub fn is_public(self) -> bool {
        false
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk class '{0}' is not one of A, B, C, D")]
pub struct RiskClassError(pub String);

impl FromStr for RiskClass {
    type Err = RiskClassError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "A" | "a" => Ok(RiskClass::A),
            "B" | "b" => Ok(RiskClass::B),
            "C" | "c" => Ok(RiskClass::C),
            "D" | "d" => Ok(RiskClass::D),
            other => Err(RiskClassError(other.to_string())),
        }
    }
}

/// Share of each class's entities drawn by an inspection plan.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingRatios {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

impl Default for SamplingRatios {
    /// One province's rule: A 1%, B 2%, C 10%, D 30%.
    fn default() -> Self {
        SamplingRatios {
            a: 0.01,
            b: 0.02,
            c: 0.10,
            d: 0.30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingRatiosError {
    #[error("sampling ratio for class {class} is {ratio}, expected a value from 0 to 1")]
    OutOfRange { class: RiskClass, ratio: f64 },
    #[error(
        "sampling ratio for class {higher} ({higher_ratio}) is below class {lower} ({lower_ratio}): riskier classes must not be sampled less"
    )]
    NotIncreasing {
        lower: RiskClass,
        lower_ratio: f64,
        higher: RiskClass,
        higher_ratio: f64,
    },
}

impl SamplingRatios {
    pub fn ratio(&self, class: RiskClass) -> f64 {
        match class {
            RiskClass::A => self.a,
            RiskClass::B => self.b,
            RiskClass::C => self.c,
            RiskClass::D => self.d,
        }
    }

    /// Each ratio in [0, 1] and never lower for a riskier class: sampling
    /// follows risk.
    pub fn validate(&self) -> Result<(), SamplingRatiosError> {
        for class in RiskClass::ALL {
            let ratio = self.ratio(class);
            if !(0.0..=1.0).contains(&ratio) {
                return Err(SamplingRatiosError::OutOfRange { class, ratio });
            }
        }
        for pair in RiskClass::ALL.windows(2) {
            let (lower, higher) = (pair[0], pair[1]);
            if self.ratio(higher) < self.ratio(lower) {
                return Err(SamplingRatiosError::NotIncreasing {
                    lower,
                    lower_ratio: self.ratio(lower),
                    higher,
                    higher_ratio: self.ratio(higher),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ratios_follow_risk() {
        let ratios = SamplingRatios::default();
        assert_eq!(ratios.ratio(RiskClass::D), 0.30);
        assert!(ratios.validate().is_ok());
    }

    #[test]
    fn rejects_ratios_against_risk() {
        let ratios = SamplingRatios {
            c: 0.5,
            ..SamplingRatios::default()
        };
        assert!(matches!(
            ratios.validate(),
            Err(SamplingRatiosError::NotIncreasing {
                lower: RiskClass::C,
                ..
            })
        ));
        let ratios = SamplingRatios {
            d: 1.5,
            ..SamplingRatios::default()
        };
        assert!(matches!(
            ratios.validate(),
            Err(SamplingRatiosError::OutOfRange { .. })
        ));
    }

    #[test]
    fn parses_letters() {
        assert_eq!("c".parse(), Ok(RiskClass::C));
        assert!("E".parse::<RiskClass>().is_err());
        assert!(!RiskClass::D.is_public());
    }
}
