//! The inspector roster (执法检查人员名录库) and the relationships that
//! oblige recusal.

use crate::config::SimConfig;
use crate::draw::{Draw, Purpose};
use crate::names;

#[derive(Debug, Clone)]
pub struct Inspector {
    pub id: u32,
    pub name: String,
    pub certificate: String,
    pub department: &'static str,
    pub competences: Vec<&'static str>,
    pub available: bool,
    /// Declared relationships: (entity index, kind).
    pub relationships: Vec<(u32, &'static str)>,
}

/// Departments that inspect, their share of inspectors and their fields.
const INSPECTING: [(&str, f64, &[&str]); 7] = [
    (
        "samr",
        0.55,
        &[
            "registration",
            "food_safety",
            "product_quality",
            "advertising",
            "pricing",
            "special_equipment",
        ],
    ),
    (
        "ecology",
        0.09,
        &["emissions", "hazardous_waste", "environmental_impact"],
    ),
    ("emergency", 0.09, &["work_safety", "hazardous_chemicals"]),
    (
        "housing",
        0.07,
        &["construction_quality", "construction_safety"],
    ),
    ("transport", 0.07, &["road_transport", "logistics"]),
    ("tax", 0.07, &["invoices", "tax_registration"]),
    (
        "hrss",
        0.06,
        &["labour_contracts", "wage_payment", "social_insurance"],
    ),
];

const RELATIONSHIPS: [&str; 3] = ["kinship", "prior_employment", "same_address"];

/// One inspector per 2 500 entities, at least 30.
pub fn inspectors(config: &SimConfig) -> Vec<Inspector> {
    let total = (config.entities / 2_500).max(30);
    let mut out = Vec::with_capacity(total as usize);
    for id in 0..total {
        let mut draw = Draw::for_entity(config.seed, id, Purpose::Inspector);
        let department_choices: Vec<(usize, f64)> = INSPECTING
            .iter()
            .enumerate()
            .map(|(k, d)| (k, d.1))
            .collect();
        let (department, _, fields) = INSPECTING[*draw.weighted(&department_choices)];
        let mut competences: Vec<&'static str> = fields
            .iter()
            .copied()
            .filter(|_| draw.chance(0.6))
            .collect();
        if competences.is_empty() {
            competences.push(fields[0]);
        }
        let surname = *draw.pick(&names::SURNAMES);
        let given = *draw.pick(&names::GIVEN);
        let given2 = *draw.pick(&names::GIVEN);
        let mut relationships = Vec::new();
        if draw.chance(0.08) {
            for _ in 0..draw.range(1, 2) {
                let entity = draw.range(0, config.entities.saturating_sub(1));
                relationships.push((entity, *draw.pick(&RELATIONSHIPS)));
            }
        }
        out.push(Inspector {
            id: id + 1,
            name: format!("{surname}{given}{given2}"),
            certificate: format!(
                "4406{:02}{:06}",
                INSPECTING
                    .iter()
                    .position(|d| d.0 == department)
                    .unwrap_or(0)
                    + 1,
                100_000 + id
            ),
            department,
            competences,
            available: draw.chance(0.93),
            relationships,
        });
    }
    out
}
