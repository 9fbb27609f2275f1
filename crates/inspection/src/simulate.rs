//! Random against risk-weighted sampling on a city whose truth is known.
//!
//! Both strategies get the same budget of inspections per round. What an
//! inspection finds is decided by the truth (does the entity violate?), not
//! by the model, so the comparison measures the sampling alone. The caller
//! feeds each round's findings back into the model before the next round.

use chrono::NaiveDate;
use domain::risk::SamplingRatios;
use foldhash::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use crate::draw::Draw;
use crate::plan::{Exclusions, Item, Plan, Sampling, Scope, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Random,
    RiskWeighted,
}

impl Strategy {
    pub const ALL: [Strategy; 2] = [Strategy::Random, Strategy::RiskWeighted];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Random => "random",
            Strategy::RiskWeighted => "risk_weighted",
        }
    }
}

/// A strategy's tally over all rounds so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub inspections: u64,
    pub problems: u64,
    pub law_abiding: u64,
    /// Distinct violators found.
    pub violators_found: u64,
    pub violators_total: u64,
}

impl Tally {
    pub fn discovery_rate(&self) -> f64 {
        ratio(self.problems, self.inspections)
    }

    pub fn law_abiding_share(&self) -> f64 {
        ratio(self.law_abiding, self.inspections)
    }

    pub fn violators_found_share(&self) -> f64 {
        ratio(self.violators_found, self.violators_total)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The plan a strategy runs in one round: the whole city, `budget` objects,
/// entities inspected within 12 months left out.
pub fn round_plan(strategy: Strategy, budget: u64, round: u32, window: Window) -> Plan {
    let sampling = match strategy {
        Strategy::Random => Sampling::Count { count: budget },
        Strategy::RiskWeighted => Sampling::WeightedCount {
            count: budget,
            weights: SamplingRatios::default(),
            unclassed: SamplingRatios::default().b,
        },
    };
    Plan {
        id: format!("SIM-{}-{round}", strategy.name()),
        name: format!("simulation round {round}, {}", strategy.name()),
        items: vec![Item {
            code: "samr.annual_report".to_string(),
            name: "年度报告公示信息的检查".to_string(),
            department: "samr".to_string(),
            competence: "registration".to_string(),
        }],
        departments: vec!["samr".to_string()],
        scope: Scope::default(),
        sampling,
        exclusions: Exclusions {
            inspected_within_months: Some(12),
            open_case: false,
        },
        window,
        inspectors_per_object: 2,
        recusal_months: 12,
    }
}

/// Judges one round's drawn objects by the truth and adds them to the tally;
/// returns each inspected entity with whether a problem was found.
pub fn judge(
    draw: &Draw,
    violates: &HashMap<String, bool>,
    found: &mut HashSet<String>,
    tally: &mut Tally,
) -> Vec<(String, bool)> {
    tally.violators_total = violates.values().filter(|v| **v).count() as u64;
    let mut out = Vec::with_capacity(draw.picks.len());
    for pick in &draw.picks {
        let problem = violates.get(&pick.uscc).copied().unwrap_or(false);
        tally.inspections += 1;
        if problem {
            tally.problems += 1;
            if found.insert(pick.uscc.clone()) {
                tally.violators_found += 1;
            }
        } else {
            tally.law_abiding += 1;
        }
        out.push((pick.uscc.clone(), problem));
    }
    out
}

/// The seed city's published figures, for the side-by-side table.
pub const SEED_CITY_RANDOM_DISCOVERY: f64 = 0.176;
pub const SEED_CITY_WEIGHTED_DISCOVERY: f64 = 0.86;
pub const SEED_CITY_LAW_ABIDING_FALL: f64 = 0.83;

/// The comparison after all rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub budget: u64,
    pub rounds: u32,
    pub random: Tally,
    pub risk_weighted: Tally,
    pub first_round_on: NaiveDate,
}

impl Comparison {
    /// How much fewer inspections of law-abiding entities the risk-weighted
    /// strategy spent than the random one (the seed city: 83 %).
    pub fn law_abiding_fall(&self) -> f64 {
        if self.random.law_abiding == 0 {
            return 0.0;
        }
        1.0 - self.risk_weighted.law_abiding as f64 / self.random.law_abiding as f64
    }
}
