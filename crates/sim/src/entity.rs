//! Market entities of the synthetic city and their hidden truth.
//!
//! Each entity is generated from its own random stream, so entity `i` is the
//! same whatever the city's size or the order of generation.

use chrono::NaiveDate;
use domain::division::{self, Division, DivisionCode};
use domain::uscc::{CHARSET, EntityKind};
use domain::{RegistrationNumber, Uscc};

use crate::config::SimConfig;
use crate::draw::{Draw, Purpose};
use crate::names;

/// The day the unified social credit code replaced registration numbers.
const USCC_REFORM: (i32, u32, u32) = (2015, 10, 1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Enterprise,
    IndividualBusiness,
    FarmersCooperative,
}

impl Kind {
    fn entity_kind(self) -> EntityKind {
        match self {
            Kind::Enterprise => EntityKind::ENTERPRISE,
            Kind::IndividualBusiness => EntityKind::INDIVIDUAL_BUSINESS,
            Kind::FarmersCooperative => EntityKind::FARMERS_COOPERATIVE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Operating,
    Deregistered,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Operating => "operating",
            Status::Deregistered => "deregistered",
            Status::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Shareholder {
    pub name: String,
    pub natural_person: bool,
    /// 万元
    pub subscribed: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeItem {
    Address,
    LegalRepresentative,
}

impl ChangeItem {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeItem::Address => "address",
            ChangeItem::LegalRepresentative => "legal_representative",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    pub on: NaiveDate,
    pub item: ChangeItem,
    pub before: String,
    pub after: String,
}

/// What the departments never see: the entity's hidden propensity to break
/// the law, and whether it does in the final year of the history.
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    /// Quality of management, N(0, 1); drives compliance everywhere.
    pub management: f64,
    pub risk_logit: f64,
    pub violation_probability: f64,
    pub violates: bool,
}

#[derive(Debug, Clone)]
pub struct Entity {
    pub index: u32,
    pub uscc: Uscc,
    pub registration_number: Option<RegistrationNumber>,
    pub kind: Kind,
    pub entity_type: &'static str,
    pub name: String,
    pub district: &'static Division,
    pub town: &'static Division,
    /// GB/T 4754 division, two digits.
    pub industry: &'static str,
    pub established_on: NaiveDate,
    pub status: Status,
    pub status_on: Option<NaiveDate>,
    /// 万元
    pub registered_capital: f64,
    /// 万元
    pub paid_in_capital: f64,
    pub shareholders: Vec<Shareholder>,
    pub legal_representative: String,
    pub employees: u32,
    pub address: String,
    /// Changes inside the simulated history, oldest first; the fields above
    /// hold the state after the last one.
    pub changes: Vec<Change>,
    pub truth: Truth,
}

impl Entity {
    pub fn subscribed_capital(&self) -> f64 {
        self.shareholders.iter().map(|s| s.subscribed).sum()
    }

    pub fn authority(&self) -> String {
        let district = self.district.name_zh;
        format!("佛山市{district}市场监督管理局")
    }
}

const DISTRICT_WEIGHTS: [(&str, f64); 5] = [
    ("440605", 0.31),
    ("440606", 0.29),
    ("440604", 0.20),
    ("440607", 0.11),
    ("440608", 0.09),
];

const ENTERPRISE_INDUSTRIES: [(&str, f64); 40] = [
    ("38", 3.0),
    ("33", 4.0),
    ("21", 2.0),
    ("30", 1.5),
    ("32", 1.5),
    ("17", 1.0),
    ("18", 1.5),
    ("29", 2.0),
    ("34", 2.0),
    ("35", 1.5),
    ("39", 1.5),
    ("26", 1.0),
    ("13", 0.5),
    ("14", 0.7),
    ("15", 0.3),
    ("19", 0.5),
    ("22", 0.5),
    ("23", 0.5),
    ("36", 0.6),
    ("40", 0.3),
    ("51", 14.0),
    ("52", 6.0),
    ("72", 8.0),
    ("65", 4.0),
    ("64", 1.5),
    ("74", 2.0),
    ("75", 2.0),
    ("47", 1.5),
    ("48", 1.0),
    ("50", 3.0),
    ("54", 2.0),
    ("58", 1.0),
    ("59", 1.0),
    ("70", 2.0),
    ("62", 1.5),
    ("61", 0.5),
    ("80", 1.0),
    ("82", 1.0),
    ("88", 1.5),
    ("83", 0.5),
];

/// Foshan's specialities: appliances and furniture in Shunde, aluminium and
/// textiles in Nanhai, ceramics in Chancheng, beverages and chemicals in
/// Sanshui, ceramics and plastics in Gaoming.
fn speciality(district: &str, industry: &str) -> f64 {
    match (district, industry) {
        ("440606", "38") => 4.0,
        ("440606", "21") => 3.0,
        ("440606", "35") => 1.5,
        ("440605", "32") => 4.0,
        ("440605", "17") => 3.0,
        ("440605", "18") => 2.0,
        ("440605", "33") => 1.5,
        ("440604", "30") => 4.0,
        ("440604", "18") => 1.5,
        ("440607", "15") => 4.0,
        ("440607", "26") => 2.0,
        ("440607", "32") => 1.5,
        ("440608", "30") => 2.0,
        ("440608", "29") => 2.0,
        _ => 1.0,
    }
}

const INDIVIDUAL_INDUSTRIES: [(&str, f64); 12] = [
    ("52", 40.0),
    ("62", 18.0),
    ("51", 10.0),
    ("80", 7.0),
    ("81", 5.0),
    ("82", 6.0),
    ("54", 5.0),
    ("88", 1.0),
    ("83", 1.0),
    ("18", 1.0),
    ("21", 1.0),
    ("33", 1.0),
];

const COOPERATIVE_INDUSTRIES: [(&str, f64); 4] =
    [("01", 60.0), ("03", 20.0), ("04", 15.0), ("05", 5.0)];

/// Shops, restaurants and services that consumers complain about.
pub fn consumer_facing(industry: &str) -> bool {
    matches!(
        industry,
        "52" | "61" | "62" | "80" | "81" | "82" | "83" | "90"
    )
}

pub fn is_manufacturing(industry: &str) -> bool {
    matches!(industry.parse::<u32>(), Ok(13..=43))
}

/// How much an industry raises the odds of violations (food, catering,
/// construction and chemicals are inspected for good reason).
fn industry_risk(industry: &str) -> f64 {
    match industry {
        "62" => 0.5,
        "13" | "14" => 0.4,
        "47" | "48" | "49" | "50" => 0.35,
        "54" | "70" | "26" => 0.3,
        "52" | "30" => 0.2,
        "38" => -0.1,
        "74" | "75" => -0.2,
        "64" | "65" => -0.3,
        _ => 0.0,
    }
}

/// 31^6: bodies of the form `MA` + 6 characters.
const MODERN_BODIES: u64 = 887_503_681;
/// 10^8: bodies of 8 digits.
const NUMERIC_BODIES: u64 = 100_000_000;

/// A unique organisation-code body per index, in the style of the time:
/// entities registered since the 2015 reform get `MA` + 6 characters (as
/// market regulators assign them), older ones and government bodies 8 digits.
/// Each style is an affine bijection of the index (multipliers coprime to the
/// modulus), offset by the seed, so codes are unique, look scattered, and
/// differ between cities.
pub(crate) fn organisation_body(seed: u64, index: u32, modern: bool) -> String {
    let offset = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if modern {
        // 548 512 093 is not a multiple of 31, hence coprime to 31^6.
        let mut n = (index as u64 * 548_512_093 + offset % MODERN_BODIES) % MODERN_BODIES;
        let charset = CHARSET.as_bytes();
        let mut body = [b'0'; 6];
        for slot in body.iter_mut().rev() {
            *slot = charset[(n % 31) as usize];
            n /= 31;
        }
        return format!("MA{}", body.iter().map(|&b| b as char).collect::<String>());
    }
    // 61 803 399 is odd and not a multiple of 5, hence coprime to 10^8.
    let n = (index as u64 * 61_803_399 + offset % NUMERIC_BODIES) % NUMERIC_BODIES;
    format!("{n:08}")
}

fn person_name(draw: &mut Draw) -> String {
    let surname = *draw.pick(&names::SURNAMES);
    let first = *draw.pick(&names::GIVEN);
    if draw.chance(0.3) {
        return format!("{surname}{first}");
    }
    let second = *draw.pick(&names::GIVEN);
    format!("{surname}{first}{second}")
}

fn trade_name(draw: &mut Draw) -> String {
    let a = *draw.pick(&names::TRADE);
    let mut b = *draw.pick(&names::TRADE);
    if a == b {
        b = names::TRADE
            [(names::TRADE.iter().position(|t| *t == a).unwrap_or(0) + 1) % names::TRADE.len()];
    }
    format!("{a}{b}")
}

fn address(draw: &mut Draw, district: &Division, town: &Division) -> String {
    let road = *draw.pick(&names::ROADS);
    let number = draw.range(1, 388);
    format!("佛山市{}{}{road}{number}号", district.name_zh, town.name_zh)
}

/// Rounds capital to what people register: two significant figures.
fn round_capital(value: f64) -> f64 {
    if value < 1.0 {
        return 1.0;
    }
    let magnitude = libm::pow(10.0, libm::floor(libm::log10(value)) - 1.0);
    libm::round(value / magnitude) * magnitude
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

fn date_between(draw: &mut Draw, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let days = (to - from).num_days().max(0) as u32;
    from + chrono::Days::new(draw.range(0, days) as u64)
}

/// Generates entity `index` of the city.
pub fn generate(config: &SimConfig, index: u32) -> Entity {
    let mut draw = Draw::for_entity(config.seed, index, Purpose::Entity);
    let kind = match draw.uniform() {
        u if u < 0.34 => Kind::Enterprise,
        u if u < 0.99 => Kind::IndividualBusiness,
        _ => Kind::FarmersCooperative,
    };
    let district_code = *draw.weighted(&DISTRICT_WEIGHTS);
    let district = division::lookup(district_code).unwrap_or(&division::foshan()[1]);
    let towns: Vec<&'static Division> = division::towns_of(district.code).collect();
    let town = *draw.pick(&towns);

    let industry = match kind {
        Kind::Enterprise => {
            let weighted: Vec<(&str, f64)> = ENTERPRISE_INDUSTRIES
                .iter()
                .map(|&(code, w)| (code, w * speciality(district.code, code)))
                .collect();
            *draw.weighted(&weighted)
        }
        Kind::IndividualBusiness => *draw.weighted(&INDIVIDUAL_INDUSTRIES),
        Kind::FarmersCooperative => *draw.weighted(&COOPERATIVE_INDUSTRIES),
    };
    let industry: &'static str = domain::industry::division(industry).map_or("52", |d| d.code);

    let mean_age = if kind == Kind::IndividualBusiness {
        5.0
    } else {
        7.0
    };
    let age_days = (draw.exponential(mean_age).min(40.0) * 365.25) as u64;
    let established_on = config.end - chrono::Days::new(age_days);
    let age_years = age_days as f64 / 365.25;

    // Large enterprises register with the city bureau, the rest with their district's.
    let registered_at = if kind == Kind::Enterprise && draw.chance(0.1) {
        "440600"
    } else {
        district.code
    };
    let registered_at = DivisionCode::parse(registered_at)
        .unwrap_or_else(|_| unreachable!("table codes are 6 digits"));
    let reform =
        NaiveDate::from_ymd_opt(USCC_REFORM.0, USCC_REFORM.1, USCC_REFORM.2).unwrap_or_default();
    let body = organisation_body(config.seed, index, established_on >= reform);
    let uscc = Uscc::from_parts(kind.entity_kind(), registered_at, &body)
        .unwrap_or_else(|e| unreachable!("generated body {body} rejected: {e}"));
    let registration_number = (established_on < reform).then(|| {
        let sequence = ((index as u64 * 7919 + config.seed % 100_000_000) % 100_000_000) as u32;
        RegistrationNumber::from_parts(registered_at, sequence)
    });

    let manufacturing = is_manufacturing(industry);
    let (employees, registered_capital) = match kind {
        Kind::Enterprise => {
            let median = if manufacturing { 15.0 } else { 5.0 };
            let employees = draw.lognormal(median, 1.1).clamp(1.0, 20_000.0) as u32;
            let capital_median = if manufacturing { 100.0 } else { 50.0 };
            (
                employees,
                round_capital(draw.lognormal(capital_median, 1.2)),
            )
        }
        Kind::IndividualBusiness => (
            1 + draw.poisson(1.0),
            round_capital(draw.lognormal(5.0, 0.8)),
        ),
        Kind::FarmersCooperative => (
            3 + draw.poisson(5.0),
            round_capital(draw.lognormal(30.0, 1.0)),
        ),
    };

    let legal_representative = person_name(&mut draw);
    let shareholders = match kind {
        Kind::IndividualBusiness => vec![Shareholder {
            name: legal_representative.clone(),
            natural_person: true,
            subscribed: registered_capital,
        }],
        _ => {
            let count = (1 + draw.poisson(0.8)).min(8) as usize;
            let weights: Vec<f64> = (0..count).map(|_| 0.2 + draw.uniform()).collect();
            let total: f64 = weights.iter().sum();
            let mut holders: Vec<Shareholder> = weights
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let natural_person = i == 0 || draw.chance(0.9);
                    let name = if i == 0 {
                        legal_representative.clone()
                    } else if natural_person {
                        person_name(&mut draw)
                    } else {
                        format!("佛山市{}投资有限公司", trade_name(&mut draw))
                    };
                    Shareholder {
                        name,
                        natural_person,
                        subscribed: libm::round(registered_capital * w / total * 100.0) / 100.0,
                    }
                })
                .collect();
            // Make the parts add up to the whole exactly.
            let assigned: f64 = holders.iter().skip(1).map(|s| s.subscribed).sum();
            holders[0].subscribed = libm::round((registered_capital - assigned) * 100.0) / 100.0;
            holders
        }
    };
    let paid_in_capital =
        libm::round(registered_capital * libm::pow(draw.uniform(), 2.0) * 100.0) / 100.0;

    let mut trade = trade_name(&mut draw);
    // Three syllables for most: with two alone, a town's shops of one kind
    // shared names by the dozen, which a registration authority does not
    // allow and which no complaint could be linked through. From a stream
    // of its own, so that every other attribute stays as it was.
    let mut third = Draw::for_entity(config.seed, index, Purpose::Names);
    if third.chance(0.8) {
        trade.push_str(third.pick::<&str>(&names::TRADE));
    }
    let name = match kind {
        Kind::IndividualBusiness => format!(
            "佛山市{}{}{trade}{}",
            district.name_zh,
            town.name_zh,
            names::shop_word(industry)
        ),
        Kind::FarmersCooperative => format!("佛山市{}{trade}农业专业合作社", district.name_zh),
        Kind::Enterprise => {
            let place = if draw.chance(0.6) {
                district.name_zh
            } else {
                ""
            };
            let suffix = if registered_capital >= 1000.0 && draw.chance(0.3) {
                "股份有限公司"
            } else {
                "有限公司"
            };
            format!(
                "佛山市{place}{trade}{}{suffix}",
                names::industry_word(industry)
            )
        }
    };
    let entity_type = match kind {
        Kind::Enterprise if name.ends_with("股份有限公司") => "joint_stock_company",
        Kind::Enterprise => "limited_company",
        Kind::IndividualBusiness => "individual_business",
        Kind::FarmersCooperative => "farmers_cooperative",
    };

    // The hidden truth: the seed's factors carry signal, management quality
    // carries more, and a noise term nobody can observe.
    let management = draw.normal();
    let subscribed: f64 = shareholders.iter().map(|s| s.subscribed).sum();
    let risk_logit = -1.3
        - 0.55 * libm::log1p(age_years)
        - 0.20 * libm::log1p(subscribed)
        - 0.30 * libm::log1p(employees as f64)
        + industry_risk(industry)
        + if kind == Kind::IndividualBusiness {
            0.3
        } else {
            0.0
        }
        - 0.8 * management
        + 0.5 * draw.normal();
    let violation_probability = sigmoid(risk_logit);
    let violates = draw.chance(violation_probability);

    // History inside the window: changes, then maybe an end.
    let start = config.start().max(established_on);
    let mut address_now = address(&mut draw, district, town);
    let mut representative_now = legal_representative.clone();
    let years = config.years as f64;
    let instability = libm::exp(0.3 * risk_logit.clamp(-4.0, 4.0) + 0.6);
    let mut changes = Vec::new();
    for _ in 0..draw.poisson(0.05 * years * instability) {
        let after = address(&mut draw, district, town);
        changes.push(Change {
            on: date_between(&mut draw, start, config.end),
            item: ChangeItem::Address,
            before: String::new(),
            after,
        });
    }
    if kind != Kind::IndividualBusiness {
        for _ in 0..draw.poisson(0.04 * years * instability) {
            let after = person_name(&mut draw);
            changes.push(Change {
                on: date_between(&mut draw, start, config.end),
                item: ChangeItem::LegalRepresentative,
                before: String::new(),
                after,
            });
        }
    }
    changes.sort_by_key(|c| c.on);
    for change in &mut changes {
        let current = match change.item {
            ChangeItem::Address => &mut address_now,
            ChangeItem::LegalRepresentative => &mut representative_now,
        };
        change.before = std::mem::replace(current, change.after.clone());
    }

    let yearly_exit = if kind == Kind::IndividualBusiness {
        0.08
    } else {
        0.05
    } * libm::exp(0.4 * (risk_logit + 2.5));
    let exit_probability = 1.0 - libm::pow(1.0 - yearly_exit.min(0.9), years);
    let (status, status_on) = if draw.chance(exit_probability) {
        let last_change = changes.last().map_or(start, |c| c.on);
        let on = date_between(&mut draw, last_change, config.end);
        let revoked = violates && draw.chance(0.3);
        (
            if revoked {
                Status::Revoked
            } else {
                Status::Deregistered
            },
            Some(on),
        )
    } else {
        (Status::Operating, None)
    };

    Entity {
        index,
        uscc,
        registration_number,
        kind,
        entity_type,
        name,
        district,
        town,
        industry,
        established_on,
        status,
        status_on,
        registered_capital,
        paid_in_capital,
        shareholders,
        legal_representative: representative_now,
        employees,
        address: address_now,
        changes,
        truth: Truth {
            management,
            risk_logit,
            violation_probability,
            violates,
        },
    }
}
