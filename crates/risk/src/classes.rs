//! Supervision classes A–D from scores: by target shares of the population
//! or by fixed score cut-offs. Higher scores are safer, so A takes the top.

use domain::RiskClass;
use serde::{Deserialize, Serialize};

/// Shares observed in one city (DOMAIN.md §5): about 65 / 25 / 8 / 1.5 %.
pub const DEFAULT_SHARES: [f64; 4] = [0.65, 0.25, 0.085, 0.015];

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassRule {
    /// Shares of A, B, C, D (summing to 1).
    Shares([f64; 4]),
    /// Lowest score of A, of B, of C; below that, D.
    Cutoffs([i64; 3]),
}

impl Default for ClassRule {
    fn default() -> Self {
        ClassRule::Shares(DEFAULT_SHARES)
    }
}

impl ClassRule {
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ClassRule::Shares(shares) => {
                if shares.iter().any(|s| !(0.0..=1.0).contains(s)) {
                    return Err("class shares must be between 0 and 1".into());
                }
                let total: f64 = shares.iter().sum();
                if (total - 1.0).abs() > 1e-6 {
                    return Err(format!("class shares add up to {total}, not 1"));
                }
                Ok(())
            }
            ClassRule::Cutoffs([a, b, c]) => {
                if !(a >= b && b >= c) {
                    return Err(format!("cut-offs must fall from A to C: {a}, {b}, {c}"));
                }
                Ok(())
            }
        }
    }
}

/// The score cut-offs a screening used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutoffs {
    pub a: i64,
    pub b: i64,
    pub c: i64,
}

impl Cutoffs {
    pub fn class_of(&self, score: i64) -> RiskClass {
        if score >= self.a {
            RiskClass::A
        } else if score >= self.b {
            RiskClass::B
        } else if score >= self.c {
            RiskClass::C
        } else {
            RiskClass::D
        }
    }
}

/// The cut-offs for `scores` under `rule`. With shares, each class's lowest
/// score is the score at its cumulative share from the top (A at 65 %, B at
/// 90 %, C at 98.5 % by default), and entities tied at a boundary go to the
/// safer class. Shares are met up to ties; a tie wider than a class empties
/// it, but the riskiest class always starts at its share from the bottom.
pub fn cutoffs(scores: &[i64], rule: ClassRule) -> Cutoffs {
    let shares = match rule {
        ClassRule::Cutoffs([a, b, c]) => return Cutoffs { a, b, c },
        ClassRule::Shares(shares) => shares,
    };
    let mut sorted = scores.to_vec();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    let n = sorted.len();
    let at = |cumulative: f64| -> i64 {
        if n == 0 {
            return 0;
        }
        let position = ((cumulative * n as f64).round() as usize).clamp(1, n) - 1;
        sorted[position]
    };
    let a = at(shares[0]);
    let b = at(shares[0] + shares[1]).min(a);
    let c = at(shares[0] + shares[1] + shares[2]).min(b);
    Cutoffs { a, b, c }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_met_on_distinct_scores() {
        let scores: Vec<i64> = (0..1000).collect();
        let cut = cutoffs(&scores, ClassRule::default());
        let mut counts = [0usize; 4];
        for &s in &scores {
            counts[cut.class_of(s) as usize] += 1;
        }
        assert_eq!(counts, [650, 250, 85, 15]);
    }

    #[test]
    fn ties_go_to_the_safer_class() {
        // A's quarter is two entities, but four are tied at its boundary:
        // all four are A, B's boundary falls inside the same tie and B is
        // empty, and C and D keep their quarters from the bottom.
        let scores = vec![10, 10, 10, 10, 5, 5, 1, 0];
        let cut = cutoffs(&scores, ClassRule::Shares([0.25, 0.25, 0.25, 0.25]));
        assert_eq!(cut.class_of(10), RiskClass::A);
        assert_eq!(cut.class_of(5), RiskClass::C);
        assert_eq!(cut.class_of(1), RiskClass::D);
        assert_eq!(cut.class_of(0), RiskClass::D);
    }

    #[test]
    fn rules_are_checked() {
        assert!(ClassRule::Shares([0.5, 0.5, 0.5, 0.0]).validate().is_err());
        assert!(ClassRule::Cutoffs([500, 600, 400]).validate().is_err());
        assert!(ClassRule::default().validate().is_ok());
    }
}
