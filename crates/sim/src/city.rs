//! City-wide facts that every entity's history refers to: government
//! authorities and their codes, the inspector roster, injected complaint
//! outbreaks. Derived from the seed alone.

use chrono::NaiveDate;
use domain::Uscc;
use domain::division::{self, DivisionCode};
use domain::uscc::{Authority, EntityKind};

use crate::config::SimConfig;
use crate::draw::{Draw, Purpose};
use crate::entity::{self, organisation_body};
use crate::roster::{self, Inspector};

/// A government body that decides licences, penalties or inspections.
#[derive(Debug, Clone)]
pub struct GovBody {
    pub department: &'static str,
    pub name: String,
    pub uscc: Uscc,
}

/// A burst of complaints injected into the history, for detectors to find.
#[derive(Debug, Clone)]
pub struct Outbreak {
    pub id: u32,
    pub scope: OutbreakScope,
    pub category: &'static str,
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
    /// Extra complaints per affected entity per day.
    pub daily_rate: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutbreakScope {
    Business(u32),
    Town(&'static str),
    Industry(&'static str),
}

pub struct City {
    pub config: SimConfig,
    /// Department id → its city-level authority.
    pub authorities: Vec<GovBody>,
    /// District code → its market-regulation bureau.
    pub district_bureaus: Vec<(&'static str, GovBody)>,
    pub inspectors: Vec<Inspector>,
    pub outbreaks: Vec<Outbreak>,
}

const DEPARTMENT_NAMES: [(&str, &str); 18] = [
    ("samr", "佛山市市场监督管理局"),
    ("tax", "国家税务总局佛山市税务局"),
    ("hrss", "佛山市人力资源和社会保障局"),
    ("hpf", "佛山市住房公积金管理中心"),
    ("water", "佛山水业集团有限公司"),
    ("power", "广东电网有限责任公司佛山供电局"),
    ("gas", "佛山市燃气集团股份有限公司"),
    ("court", "佛山市中级人民法院"),
    ("ip", "佛山市知识产权局"),
    ("transport", "佛山市交通运输局"),
    ("commerce", "佛山市商务局"),
    ("hotline", "佛山市12345政务服务便民热线"),
    ("ecology", "佛山市生态环境局"),
    ("emergency", "佛山市应急管理局"),
    ("housing", "佛山市住房和城乡建设局"),
    ("customs", "佛山海关"),
    ("science", "佛山市科学技术局"),
    ("credit", "佛山市发展和改革局"),
];

/// Government codes come from the top of the index range, far from entities.
const GOVERNMENT_INDEX: u32 = u32::MAX - 10_000;

fn government_uscc(seed: u64, k: u32, division: &str) -> Uscc {
    let kind = EntityKind::new(Authority::Establishment, '1').unwrap_or(EntityKind::ENTERPRISE);
    let division =
        DivisionCode::parse(division).unwrap_or_else(|_| unreachable!("table codes are 6 digits"));
    let body = organisation_body(seed, GOVERNMENT_INDEX + k, false);
    Uscc::from_parts(kind, division, &body)
        .unwrap_or_else(|e| unreachable!("generated body rejected: {e}"))
}

impl City {
    pub fn new(config: &SimConfig) -> City {
        let authorities = DEPARTMENT_NAMES
            .iter()
            .enumerate()
            .map(|(k, (department, name))| GovBody {
                department,
                name: name.to_string(),
                uscc: government_uscc(config.seed, k as u32, "440600"),
            })
            .collect();
        let district_bureaus = division::districts()
            .enumerate()
            .map(|(k, d)| {
                (
                    d.code,
                    GovBody {
                        department: "samr",
                        name: format!("佛山市{}市场监督管理局", d.name_zh),
                        uscc: government_uscc(config.seed, 100 + k as u32, d.code),
                    },
                )
            })
            .collect();
        City {
            config: config.clone(),
            authorities,
            district_bureaus,
            inspectors: roster::inspectors(config),
            outbreaks: outbreaks(config),
        }
    }

    pub fn authority(&self, department: &str) -> &GovBody {
        self.authorities
            .iter()
            .find(|a| a.department == department)
            .unwrap_or(&self.authorities[0])
    }

    /// The market-regulation bureau of a district.
    pub fn bureau(&self, district: &str) -> &GovBody {
        self.district_bureaus
            .iter()
            .find(|(code, _)| *code == district)
            .map_or(&self.authorities[0], |(_, a)| a)
    }

    /// Inspectors of one department.
    pub fn inspectors_of<'a>(
        &'a self,
        department: &'a str,
    ) -> impl Iterator<Item = &'a Inspector> + 'a {
        self.inspectors
            .iter()
            .filter(move |i| i.department == department)
    }
}

/// Businesses, streets and industries whose complaints spike for a few
/// weeks. Chosen from the seed; recorded in the truth.
fn outbreaks(config: &SimConfig) -> Vec<Outbreak> {
    let mut draw = Draw::for_entity(config.seed, u32::MAX, Purpose::City);
    let days = (config.end - config.start()).num_days().max(60) as u32;
    let window = |draw: &mut Draw, length: u32| {
        let start = config.start() + chrono::Days::new(draw.range(30, days - 30) as u64);
        (start, start + chrono::Days::new(length as u64 - 1))
    };
    let mut found = Vec::new();
    // Consumer-facing businesses: look through the first entities for them.
    let mut index = draw.range(0, config.entities.saturating_sub(1));
    let mut tries = 0;
    while found.len() < 3 && tries < 10_000 && config.entities > 0 {
        let candidate = entity::generate(config, index);
        // Established at least two months before the period ends, so that
        // its outbreak fits in its life (below).
        if entity::consumer_facing(candidate.industry)
            && candidate.status == entity::Status::Operating
            && candidate.established_on + chrono::Days::new(60) <= config.end
        {
            found.push((index, candidate.established_on));
        }
        index = (index + 7919) % config.entities;
        tries += 1;
    }
    let mut out = Vec::new();
    let categories = ["food_safety", "prepaid_refund", "quality", "after_sales"];
    for (k, (business, established_on)) in found.into_iter().enumerate() {
        let length = 10 + draw.range(0, 11);
        let (mut start, mut end) = window(&mut draw, length);
        // A business established after the window would get none of the
        // outbreak's complaints: its window moves to a month after the
        // establishment (when the city's period leaves room), and the draws
        // stay as they were, so every other outbreak does too.
        let opens = established_on + chrono::Days::new(30);
        if start < opens && opens + chrono::Days::new(length as u64 - 1) <= config.end {
            start = opens;
            end = opens + chrono::Days::new(length as u64 - 1);
        }
        out.push(Outbreak {
            id: out.len() as u32 + 1,
            scope: OutbreakScope::Business(business),
            category: categories[k % categories.len()],
            start,
            end,
            daily_rate: 1.5,
        });
    }
    let towns: Vec<&'static str> = division::foshan()
        .iter()
        .filter(|d| d.level == division::Level::Town)
        .map(|d| d.code)
        .collect();
    for category in ["food_safety", "safety_hazard"] {
        let town = *draw.pick(&towns);
        let (start, end) = window(&mut draw, 14);
        out.push(Outbreak {
            id: out.len() as u32 + 1,
            scope: OutbreakScope::Town(town),
            category,
            start,
            end,
            daily_rate: 0.02,
        });
    }
    let (start, end) = window(&mut draw, 21);
    out.push(Outbreak {
        id: out.len() as u32 + 1,
        scope: OutbreakScope::Industry("82"),
        category: "prepaid_refund",
        start,
        end,
        daily_rate: 0.01,
    });
    out
}
