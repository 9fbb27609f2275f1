//! Complaints that carry no USCC linked to registered entities by the name
//! the caller gave, the place and the industry.
//!
//! A caller names a business as people do: "美华电器" for 佛山市顺德区美华
//! 电器有限公司, the town in front or in brackets, the legal form said
//! loosely, full-width or with a space typed in. [`called`] takes a name
//! apart into its **core** (the trade name and the industry or shop word)
//! and what surrounds it: the places it names and its legal form. The
//! registry's names go through the same function, so a name links when its
//! core is a registered core.
//!
//! Several entities may share a core (the same shop sign in two towns, a
//! company and its namesake in another district), so each candidate is
//! weighed by its evidence, a likelihood ratio per kind ([`Evidence`]):
//! the town where it happened (the complaint's division and the towns its
//! name and text name), the industry, the whole registered name, the legal
//! form, whether the entity existed on the day. The confidence is the best candidate's weight over
//! all candidates' plus the weight of "none of these" (a business that is
//! not registered, or registered under another name). A link is made only
//! at or above the threshold; below it the complaint stays unlinked,
//! counted, with its candidates.

use std::collections::HashMap;

use domain::division::{self, Level};
use serde::Serialize;

/// One registered entity, as the linker needs it.
#[derive(Debug, Clone)]
pub struct Entity {
    pub uscc: String,
    pub name: String,
    /// The town's 9-digit code (or the district's 6 digits).
    pub division: String,
    /// GB/T 4754 division (two digits) or finer.
    pub industry: String,
    /// ISO date.
    pub established_on: String,
    /// The ISO date it was deregistered, revoked or moved out, when its
    /// latest status change closed it.
    pub closed_on: Option<String>,
}

/// What a complaint says about the business it is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Complaint<'a> {
    pub business_name: &'a str,
    /// The town (9 digits) or district (6 digits) where it happened.
    pub division: &'a str,
    pub industry: &'a str,
    /// ISO date.
    pub received_on: &'a str,
    pub content: &'a str,
}

/// A business name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called {
    /// The trade name with its industry or shop word: the part that
    /// identifies the business.
    pub core: String,
    /// Codes of the towns and districts the name mentions (the city is
    /// left out: it says nothing).
    pub places: Vec<&'static str>,
    pub form: Option<Form>,
    /// The name with widths, brackets and spaces normalised, for an exact
    /// comparison.
    pub whole: String,
}

/// The legal form at the end of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// 股份有限公司.
    JointStock,
    /// 有限公司, 有限责任公司, 公司.
    Company,
    /// 农业专业合作社, 专业合作社, 合作社.
    Cooperative,
}

/// Suffixes naming a legal form, longest first.
const FORMS: [(&str, Form); 7] = [
    ("股份有限公司", Form::JointStock),
    ("有限责任公司", Form::Company),
    ("有限公司", Form::Company),
    ("公司", Form::Company),
    ("农业专业合作社", Form::Cooperative),
    ("专业合作社", Form::Cooperative),
    ("合作社", Form::Cooperative),
];

/// Takes a business name apart (see the module's documentation).
pub fn called(name: &str) -> Called {
    let mut whole = String::with_capacity(name.len());
    let mut outside = String::with_capacity(name.len());
    let mut bracketed = Vec::new();
    let mut inside: Option<String> = None;
    for c in crate::mask::normalise(name).chars() {
        let c = match c {
            '（' | '【' | '[' | '〔' => '(',
            '）' | '】' | ']' | '〕' => ')',
            c => c,
        };
        if c.is_whitespace() || matches!(c, '·' | '•' | '.' | '、' | '"' | '“' | '”' | '\'')
        {
            continue;
        }
        whole.push(c);
        match (c, inside.as_mut()) {
            ('(', None) => inside = Some(String::new()),
            ('(', Some(_)) => {}
            (')', Some(_)) => bracketed.extend(inside.take()),
            (')', None) => {}
            (c, Some(text)) => text.push(c),
            (c, None) => outside.push(c),
        }
    }
    // An unclosed bracket's text belongs to the name.
    if let Some(text) = inside {
        outside.push_str(&text);
    }

    let mut places = Vec::new();
    for text in &bracketed {
        places.extend(places_in(text));
    }
    let mut rest = outside.as_str();
    let mut form = None;
    for (suffix, kind) in FORMS {
        if let Some(head) = rest.strip_suffix(suffix).filter(|h| !h.is_empty()) {
            rest = head;
            form = Some(kind);
            break;
        }
    }
    while let Some((code, tail)) = strip_place(rest) {
        places.extend(code);
        rest = tail;
    }
    places.sort_unstable();
    places.dedup();
    Called {
        core: rest.to_string(),
        places,
        form,
        whole,
    }
}

/// A place at the start of a name: the province, the city, a district or a
/// town, in full or without its 区/镇/街道. Returns its code (`None` for
/// the province and the city) and the rest, when enough is left to be a
/// name: two characters after a full place name, three after a short one,
/// so that a trade name such as 南海 is not taken for the district.
fn strip_place(name: &str) -> Option<(Option<&'static str>, &str)> {
    const OUTER: [&str; 4] = ["广东省", "广东", "佛山市", "佛山"];
    for outer in OUTER {
        if let Some(rest) = name.strip_prefix(outer)
            && rest.chars().count() >= 2
        {
            return Some((None, rest));
        }
    }
    for place in division::foshan().iter().filter(|d| d.level != Level::City) {
        if let Some(rest) = name.strip_prefix(place.name_zh)
            && rest.chars().count() >= 2
        {
            return Some((Some(place.code), rest));
        }
        let short = short_name(place.name_zh);
        if short.chars().count() >= 2
            && short != place.name_zh
            && let Some(rest) = name.strip_prefix(short)
            && rest.chars().count() >= 3
        {
            return Some((Some(place.code), rest));
        }
    }
    None
}

/// A district's or town's name without 区, 镇, 街道.
fn short_name(name: &str) -> &str {
    ["街道", "区", "镇"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// Codes of the districts and towns a text names in full.
fn places_in(text: &str) -> Vec<&'static str> {
    division::foshan()
        .iter()
        .filter(|d| d.level != Level::City && text.contains(d.name_zh))
        .map(|d| d.code)
        .collect()
}

/// One piece of evidence for or against a candidate, with its weight: how
/// many times likelier it is when the candidate is the business than when
/// it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The caller's name is the registered name (widths and spaces aside).
    SameName,
    /// The complaint happened in the entity's town (by its division, or a
    /// town its name or text names).
    SameTown,
    /// It happened in another town of the entity's district.
    OtherTown,
    /// Only a district is known, and it is the entity's.
    SameDistrict,
    /// It happened in another district.
    OtherDistrict,
    /// The name names another town or district than the entity's.
    NamedPlaceDisagrees,
    /// The complaint's industry is the entity's.
    SameIndustry,
    OtherIndustry,
    /// The name's legal form contradicts the entity's.
    OtherForm,
    /// Received before the entity was established.
    BeforeEstablished,
    /// Received after the entity was closed.
    AfterClosed,
}

impl Evidence {
    pub fn weight(self) -> f64 {
        match self {
            Evidence::SameName => 3.0,
            Evidence::SameTown => 10.0,
            Evidence::OtherTown => 0.1,
            Evidence::SameDistrict => 2.0,
            Evidence::OtherDistrict => 0.02,
            Evidence::NamedPlaceDisagrees => 0.05,
            Evidence::SameIndustry => 5.0,
            Evidence::OtherIndustry => 0.3,
            Evidence::OtherForm => 0.3,
            Evidence::BeforeEstablished => 0.1,
            Evidence::AfterClosed => 0.001,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Evidence::SameName => "名称与登记名称一致",
            Evidence::SameTown => "发生地与登记镇街一致",
            Evidence::OtherTown => "发生地在同区其他镇街",
            Evidence::SameDistrict => "发生地与登记区一致",
            Evidence::OtherDistrict => "发生地在其他区",
            Evidence::NamedPlaceDisagrees => "名称中的地名与登记地不一致",
            Evidence::SameIndustry => "行业一致",
            Evidence::OtherIndustry => "行业不一致",
            Evidence::OtherForm => "组织形式不一致",
            Evidence::BeforeEstablished => "受理日期早于成立日期",
            Evidence::AfterClosed => "受理日期晚于注销（吊销、迁出）日期",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Evidence::SameName => "same name as registered",
            Evidence::SameTown => "in the registered town",
            Evidence::OtherTown => "in another town of the registered district",
            Evidence::SameDistrict => "in the registered district",
            Evidence::OtherDistrict => "in another district",
            Evidence::NamedPlaceDisagrees => "the name's place is another",
            Evidence::SameIndustry => "same industry",
            Evidence::OtherIndustry => "another industry",
            Evidence::OtherForm => "another legal form",
            Evidence::BeforeEstablished => "received before establishment",
            Evidence::AfterClosed => "received after closure",
        }
    }
}

/// The weight of "none of the candidates": a business that is not
/// registered, or registered under another name. A lone candidate with no
/// evidence for it stays at 1 / 1.5 = 0.67, below the default threshold.
pub const NONE_OF_THESE: f64 = 0.5;

/// The default confidence at or above which a complaint is linked.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// How one complaint was linked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The entity, when the confidence reached the threshold.
    pub uscc: Option<String>,
    /// The best candidate, linked or not.
    pub best: Option<String>,
    /// The best candidate's share of the weight, 0 without candidates.
    pub confidence: f64,
    /// Registered entities with the same core.
    pub candidates: usize,
    /// The best candidate's evidence.
    pub evidence: Vec<Evidence>,
}

impl Link {
    /// No candidate at all.
    pub fn none() -> Link {
        Link {
            uscc: None,
            best: None,
            confidence: 0.0,
            candidates: 0,
            evidence: Vec::new(),
        }
    }
}

/// The registry indexed by core.
pub struct Linker {
    entities: Vec<Indexed>,
    by_core: HashMap<String, Vec<u32>>,
    threshold: f64,
}

/// What linking keeps of a registered entity (the registry of a province
/// is millions of them).
struct Indexed {
    uscc: Box<str>,
    division: Box<str>,
    industry: Box<str>,
    established_on: Box<str>,
    closed_on: Option<Box<str>>,
    /// The normalised whole name.
    whole: Box<str>,
    form: Option<Form>,
}

impl Linker {
    pub fn new(entities: impl IntoIterator<Item = Entity>, threshold: f64) -> Linker {
        let mut indexed = Vec::new();
        let mut by_core: HashMap<String, Vec<u32>> = HashMap::new();
        for entity in entities {
            let called = called(&entity.name);
            if called.core.is_empty() {
                continue;
            }
            let Ok(position) = u32::try_from(indexed.len()) else {
                break;
            };
            by_core.entry(called.core).or_default().push(position);
            indexed.push(Indexed {
                uscc: entity.uscc.into(),
                division: entity.division.into(),
                industry: entity.industry.into(),
                established_on: entity.established_on.into(),
                closed_on: entity.closed_on.map(Into::into),
                whole: called.whole.into(),
                form: called.form,
            });
        }
        Linker {
            entities: indexed,
            by_core,
            threshold,
        }
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn link(&self, complaint: &Complaint<'_>) -> Link {
        let called = called(complaint.business_name);
        let Some(positions) = self.by_core.get(&called.core) else {
            return Link::none();
        };
        let place = Where::of(complaint, &called);
        let mut total = NONE_OF_THESE;
        let mut best: Option<(f64, &Indexed, Vec<Evidence>)> = None;
        for &position in positions {
            let candidate = &self.entities[position as usize];
            let evidence = weigh(complaint, &called, &place, candidate);
            let weight: f64 = evidence.iter().map(|e| e.weight()).product();
            total += weight;
            // Ties keep the first candidate: the registry's order.
            if best.as_ref().is_none_or(|(w, _, _)| weight > *w) {
                best = Some((weight, candidate, evidence));
            }
        }
        let Some((weight, candidate, evidence)) = best else {
            return Link::none();
        };
        let confidence = weight / total;
        let uscc = candidate.uscc.to_string();
        Link {
            uscc: (confidence >= self.threshold).then(|| uscc.clone()),
            best: Some(uscc),
            confidence,
            candidates: positions.len(),
            evidence,
        }
    }
}

/// Where a complaint happened, as far as it says: the towns and districts
/// of its division, of the places its name names and of those its text
/// names.
struct Where {
    towns: Vec<&'static str>,
    districts: Vec<&'static str>,
}

impl Where {
    fn of(complaint: &Complaint<'_>, called: &Called) -> Where {
        let mut codes: Vec<&'static str> = places_in(complaint.content);
        codes.extend(&called.places);
        if let Some(d) = division::lookup(complaint.division) {
            codes.push(d.code);
        }
        let mut towns = Vec::new();
        let mut districts = Vec::new();
        for code in codes {
            match code.len() {
                9 => {
                    towns.push(code);
                    if let Some(parent) = division::lookup(code).and_then(|d| d.parent) {
                        districts.push(parent);
                    }
                }
                6 => districts.push(code),
                _ => {}
            }
        }
        for list in [&mut towns, &mut districts] {
            list.sort_unstable();
            list.dedup();
        }
        Where { towns, districts }
    }
}

fn weigh(
    complaint: &Complaint<'_>,
    called: &Called,
    place: &Where,
    candidate: &Indexed,
) -> Vec<Evidence> {
    let entity = candidate;
    let mut evidence = Vec::new();
    if *called.whole == *candidate.whole {
        evidence.push(Evidence::SameName);
    }
    let (town, district) = town_and_district(&entity.division);
    let in_district = district.is_some_and(|d| place.districts.contains(&d));
    if !place.towns.is_empty() {
        evidence.push(if town.is_some_and(|t| place.towns.contains(&t)) {
            Evidence::SameTown
        } else if in_district {
            Evidence::OtherTown
        } else {
            Evidence::OtherDistrict
        });
    } else if !place.districts.is_empty() {
        evidence.push(if in_district {
            Evidence::SameDistrict
        } else {
            Evidence::OtherDistrict
        });
    }
    // A district or town the caller named must be where the entity is.
    if called
        .places
        .iter()
        .any(|&p| Some(p) != town && Some(p) != district)
    {
        evidence.push(Evidence::NamedPlaceDisagrees);
    }
    if !complaint.industry.is_empty() && entity.industry.len() >= 2 {
        let same = complaint.industry.get(..2) == entity.industry.get(..2);
        evidence.push(if same {
            Evidence::SameIndustry
        } else {
            Evidence::OtherIndustry
        });
    }
    if let (Some(said), Some(registered)) = (called.form, candidate.form)
        && said != registered
        && !(said == Form::Company && registered == Form::JointStock)
    {
        evidence.push(Evidence::OtherForm);
    }
    if !complaint.received_on.is_empty() {
        if !entity.established_on.is_empty() && complaint.received_on < &*entity.established_on {
            evidence.push(Evidence::BeforeEstablished);
        }
        if entity
            .closed_on
            .as_deref()
            .is_some_and(|closed| complaint.received_on > closed)
        {
            evidence.push(Evidence::AfterClosed);
        }
    }
    evidence
}

/// A division code's town and district codes as far as it gives them.
fn town_and_district(code: &str) -> (Option<&str>, Option<&str>) {
    match code.len() {
        9 => (Some(code), code.get(..6)),
        6 => (None, Some(code)),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entity(uscc: &str, name: &str, division: &str, industry: &str) -> Entity {
        Entity {
            uscc: uscc.to_string(),
            name: name.to_string(),
            division: division.to_string(),
            industry: industry.to_string(),
            established_on: "2015-01-01".to_string(),
            closed_on: None,
        }
    }

    fn complaint<'a>(name: &'a str, division: &'a str, industry: &'a str) -> Complaint<'a> {
        Complaint {
            business_name: name,
            division,
            industry,
            received_on: "2024-05-01",
            content: "",
        }
    }

    #[test]
    fn a_name_comes_apart_into_its_core_places_and_form() {
        let full = called("佛山市顺德区美华电器有限公司");
        assert_eq!(full.core, "美华电器");
        assert_eq!(full.places, vec!["440606"]);
        assert_eq!(full.form, Some(Form::Company));
        for said in [
            "顺德区美华电器有限公司",
            "佛山市顺德区美华电器有限责任公司",
            "美华电器",
            "大良街道美华电器",
            "美华电器（大良街道店）",
            "美华电器(大良街道)",
            "顺德区\u{3000}美华电器",
            "广东省佛山市 美华电器股份有限公司",
            "大良美华电器",
            "【顺德】美华电器",
        ] {
            assert_eq!(called(said).core, "美华电器", "{said}");
        }
        assert_eq!(called("美华电器（大良街道店）").places, vec!["440606010"]);
        assert_eq!(called("佛山市南海区里水镇兴盛餐厅").core, "兴盛餐厅");
        assert_eq!(called("佛山市南海区兴盛农业专业合作社").core, "兴盛");
        assert_eq!(called("兴盛合作社").core, "兴盛");
        // A trade name that is also a district's short name stays a name.
        assert_eq!(called("佛山市南海电器有限公司").core, "南海电器");
        assert_eq!(called("ＡＢＣ 商行").core, "ABC商行");
    }

    fn city() -> Linker {
        Linker::new(
            [
                entity("A", "佛山市顺德区美华电器有限公司", "440606010", "52"),
                entity("B", "佛山市美华电器有限公司", "440604010", "52"),
                entity("C", "佛山市南海区里水镇兴盛餐厅", "440605126", "62"),
                entity("D", "佛山市南海区大沥镇兴盛餐厅", "440605125", "62"),
            ],
            DEFAULT_THRESHOLD,
        )
    }

    #[test]
    fn the_town_tells_namesakes_apart() {
        let linker = city();
        let link = linker.link(&complaint("兴盛餐厅", "440605126", "62"));
        assert_eq!(link.uscc.as_deref(), Some("C"));
        assert_eq!(link.candidates, 2);
        assert!(link.evidence.contains(&Evidence::SameTown), "{link:?}");
        let link = linker.link(&complaint("美华电器", "440606010", "52"));
        assert_eq!(link.uscc.as_deref(), Some("A"));
        let link = linker.link(&complaint("美华电器有限公司", "440604010", "52"));
        assert_eq!(link.uscc.as_deref(), Some("B"));
    }

    #[test]
    fn without_evidence_to_choose_there_is_no_link() {
        let linker = city();
        // Neither namesake's town, both in the district.
        let link = linker.link(&complaint("兴盛餐厅", "440605011", "62"));
        assert_eq!(link.uscc, None, "{link:?}");
        assert!(link.best.is_some());
        assert!(link.confidence < 0.5, "{link:?}");
        // A name nobody registered.
        let link = linker.link(&complaint("好运来超市", "440605126", "52"));
        assert_eq!(link.candidates, 0);
        assert_eq!(link.uscc, None);
    }

    #[test]
    fn a_named_place_outweighs_where_the_caller_was() {
        let linker = city();
        // The complaint was filed in 大沥 about the 里水 shop, named so.
        let link = linker.link(&complaint("兴盛餐厅（里水镇店）", "440605125", "62"));
        assert_eq!(link.best.as_deref(), Some("C"), "{link:?}");
        assert!(link.evidence.contains(&Evidence::SameTown), "{link:?}");
    }

    #[test]
    fn a_lone_candidate_needs_evidence() {
        let linker = Linker::new(
            [entity("E", "佛山市宏达五金有限公司", "440607101", "33")],
            DEFAULT_THRESHOLD,
        );
        let bare = linker.link(&Complaint {
            business_name: "宏达五金",
            ..Complaint::default()
        });
        assert_eq!(bare.uscc, None, "{bare:?}");
        let placed = linker.link(&complaint("宏达五金", "440607101", "33"));
        assert_eq!(placed.uscc.as_deref(), Some("E"));
        assert!(placed.confidence > 0.95);
        let elsewhere = linker.link(&complaint("宏达五金", "440604010", "62"));
        assert_eq!(elsewhere.uscc, None, "{elsewhere:?}");
    }

    #[test]
    fn another_town_or_a_closed_namesake_is_no_link() {
        let mut closed = entity("F", "佛山市南海区大沥镇嘉凯商行", "440605125", "52");
        closed.closed_on = Some("2022-03-01".to_string());
        let linker = Linker::new(
            [
                closed,
                entity("G", "佛山市三水区南山镇科康餐厅", "440607105", "62"),
            ],
            DEFAULT_THRESHOLD,
        );
        // The same name in the same town, but closed before the complaint:
        // the business complained about is another, not registered here.
        let link = linker.link(&complaint("佛山市南海区大沥镇嘉凯商行", "440605125", "52"));
        assert_eq!(link.uscc, None, "{link:?}");
        assert!(link.evidence.contains(&Evidence::AfterClosed));
        // Before it closed, it is the one.
        let link = linker.link(&Complaint {
            received_on: "2021-06-01",
            ..complaint("佛山市南海区大沥镇嘉凯商行", "440605125", "52")
        });
        assert_eq!(link.uscc.as_deref(), Some("F"), "{link:?}");
        // The only 科康餐厅 is in 南山镇; a complaint from 西南街道 that
        // names the district is about another.
        let link = linker.link(&Complaint {
            content: "位于三水区西南街道的科康餐厅，饭菜变质。",
            ..complaint("三水区\u{3000}科康餐厅", "440607010", "62")
        });
        assert_eq!(link.uscc, None, "{link:?}");
        assert!(link.evidence.contains(&Evidence::OtherTown), "{link:?}");
    }

    proptest! {
        /// However a name is decorated with the city, a place in front or
        /// in brackets, widths and spaces, its core stays.
        #[test]
        fn decorations_keep_the_core(
            trade in "[美华顺达兴盛宏新利源]{2}",
            word in prop::sample::select(vec!["电器", "餐厅", "五金", "商行", "科技"]),
            town in prop::sample::select(vec!["大良街道", "里水镇", "南庄镇", "荷城街道"]),
            prefix in prop::sample::select(vec!["", "佛山市", "广东省佛山市", "顺德区", "佛山市南海区"]),
            form in prop::sample::select(vec!["", "有限公司", "有限责任公司", "股份有限公司", "公司"]),
            decoration in 0..4u8,
        ) {
            let core = format!("{trade}{word}");
            let said = match decoration {
                0 => format!("{prefix}{core}{form}"),
                1 => format!("{prefix}{town}{core}{form}"),
                2 => format!("{prefix} {core}{form}（{town}店）"),
                _ => format!("{prefix}\u{3000}{core}{form}"),
            };
            prop_assert_eq!(called(&said).core, core, "{}", said);
        }
    }
}
