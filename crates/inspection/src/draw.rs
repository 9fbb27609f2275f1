//! The draw: objects first, then inspectors, both decided by the seed and the
//! frozen snapshots alone (DESIGN.md invariant 4).
//!
//! The rules, so that anyone can re-implement them:
//!
//! - the seed is 32 random bytes written as 64 lowercase hex digits; the hash
//!   published before the draw is SHA-256 of that text;
//! - an object's key is SHA-256 of the text `<seed>|object|<uscc>`; within
//!   each stratum (class A, B, C, D, unclassed) the objects with the smallest
//!   keys (compared byte by byte) are drawn; drawn objects are ranked by key;
//! - an inspector's key is the first 8 bytes (big-endian) of SHA-256 of
//!   `<seed>|inspector|<id>`; for an object with key `k`, candidates are
//!   ordered by (tasks already assigned, mix64(k₈ ⊕ inspector key)) where
//!   `k₈` is the first 8 bytes of the object's key and mix64 is SplitMix64's
//!   finaliser; the first fit is taken, one per department, then the rest.
//!
//! No random-number generator is involved, so no crate upgrade can change a
//! past draw.

use chrono::NaiveDate;
use domain::risk::RiskClass;
use foldhash::{HashMap, HashMapExt, HashSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::{Excluded, Plan, Sampling};
use crate::roster::{Inspector, Rosters};
use crate::{InspectionError, sha256_hex};

/// The secret that decides a draw; published only after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed(String);

impl Seed {
    pub fn from_bytes(bytes: [u8; 32]) -> Seed {
        Seed(hex::encode(bytes))
    }

    pub fn parse(text: &str) -> Result<Seed, String> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("a seed is 64 lowercase hex digits".to_string());
        }
        Ok(Seed(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is published at commit, before anyone knows the seed.
    pub fn sha256(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    pub fn object_key(&self, uscc: &str) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.0.as_bytes());
        hasher.update(b"|object|");
        hasher.update(uscc.as_bytes());
        hasher.finalize().into()
    }

    pub fn inspector_key(&self, id: &str) -> u64 {
        let mut hasher = Sha256::new();
        hasher.update(self.0.as_bytes());
        hasher.update(b"|inspector|");
        hasher.update(id.as_bytes());
        first_u64(&hasher.finalize().into())
    }
}

fn first_u64(bytes: &[u8; 32]) -> u64 {
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(head)
}

/// SplitMix64's finaliser: a fixed bijection on u64 that spreads every input
/// bit over the output.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A class or the entities never screened.
pub type Stratum = Option<RiskClass>;

pub const STRATA: [Stratum; 5] = [
    Some(RiskClass::A),
    Some(RiskClass::B),
    Some(RiskClass::C),
    Some(RiskClass::D),
    None,
];

fn stratum_index(stratum: Stratum) -> usize {
    match stratum {
        Some(RiskClass::A) => 0,
        Some(RiskClass::B) => 1,
        Some(RiskClass::C) => 2,
        Some(RiskClass::D) => 3,
        None => 4,
    }
}

pub fn stratum_label(stratum: Stratum) -> String {
    stratum
        .map(|c| c.to_string())
        .unwrap_or_else(|| "unclassed".to_string())
}

/// Candidates and draws in one stratum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StratumCount {
    pub class: Option<RiskClass>,
    pub candidates: u64,
    /// Share or weight the rule gives this stratum; `None` under a plain count.
    pub ratio: Option<f64>,
    pub drawn: u64,
}

/// One drawn object and its team, or why it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pick {
    /// 1-based position in key order.
    pub rank: u32,
    pub uscc: String,
    pub class: Option<RiskClass>,
    /// The object's key in hex, so anyone can check it with `sha256sum`.
    pub key: String,
    pub inspectors: Vec<String>,
    /// Set when recusal and availability left too few inspectors.
    pub unstaffed: Option<String>,
}

/// The outcome of a draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    pub plan: String,
    pub seed_sha256: String,
    pub in_scope: u64,
    pub excluded_recently_inspected: u64,
    pub excluded_open_case: u64,
    pub strata: Vec<StratumCount>,
    pub picks: Vec<Pick>,
    /// Tasks per eligible inspector (zero included), by inspector id.
    pub workload: Vec<(String, u32)>,
    /// Inspectors of the taking-part departments left out of the pool, with why.
    pub ineligible: Vec<(String, String)>,
}

impl Draw {
    pub fn staffed(&self) -> impl Iterator<Item = &Pick> {
        self.picks.iter().filter(|p| p.unstaffed.is_none())
    }

    pub fn unstaffed(&self) -> impl Iterator<Item = &Pick> {
        self.picks.iter().filter(|p| p.unstaffed.is_some())
    }
}

fn round_half_up(x: f64) -> u64 {
    (x + 0.5).floor().max(0.0) as u64
}

fn stratum_ratio(sampling: &Sampling, stratum: Stratum) -> Option<f64> {
    match sampling {
        Sampling::Ratios { ratios, unclassed } => {
            Some(stratum.map(|c| ratios.ratio(c)).unwrap_or(*unclassed))
        }
        Sampling::WeightedCount {
            weights, unclassed, ..
        } => Some(stratum.map(|c| weights.ratio(c)).unwrap_or(*unclassed)),
        Sampling::Count { .. } => None,
    }
}

/// Spreads `count` over strata in proportion to `size × weight` by largest
/// remainders, never beyond a stratum's size; riskier strata win ties.
pub fn allocate(count: u64, sizes: [u64; 5], weights: [f64; 5]) -> [u64; 5] {
    let mut quota = [0u64; 5];
    let capacity: u64 = (0..5).filter(|&k| weights[k] > 0.0).map(|k| sizes[k]).sum();
    let mut left = count.min(capacity);
    while left > 0 {
        let active: Vec<usize> = (0..5)
            .filter(|&k| weights[k] > 0.0 && quota[k] < sizes[k])
            .collect();
        let total: f64 = active.iter().map(|&k| sizes[k] as f64 * weights[k]).sum();
        if active.is_empty() || total <= 0.0 {
            break;
        }
        let mut given = 0;
        let mut fractions = Vec::with_capacity(active.len());
        for &k in &active {
            let ideal = left as f64 * sizes[k] as f64 * weights[k] / total;
            let take = (ideal.floor() as u64).min(sizes[k] - quota[k]);
            quota[k] += take;
            given += take;
            fractions.push((ideal - ideal.floor(), k));
        }
        left -= given.min(left);
        if given > 0 {
            continue;
        }
        // every ideal share is below one: hand out single places
        fractions.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        for (_, k) in fractions {
            if left == 0 {
                break;
            }
            if quota[k] < sizes[k] {
                quota[k] += 1;
                left -= 1;
            }
        }
    }
    quota
}

/// Runs the draw. Fails only on a plan that does not validate.
pub fn draw(plan: &Plan, rosters: &Rosters, seed: &Seed) -> Result<Draw, InspectionError> {
    plan.validate()?;
    let mut in_scope = 0u64;
    let mut excluded_recent = 0u64;
    let mut excluded_open = 0u64;
    let mut strata: [Vec<([u8; 32], usize)>; 5] = Default::default();
    for (index, object) in rosters.objects.iter().enumerate() {
        if !plan.in_scope(object) {
            continue;
        }
        in_scope += 1;
        match plan.excluded(object) {
            Some(Excluded::RecentlyInspected) => excluded_recent += 1,
            Some(Excluded::OpenCase) => excluded_open += 1,
            None => {
                strata[stratum_index(object.class)].push((seed.object_key(&object.uscc), index))
            }
        }
    }

    let sizes: [u64; 5] = std::array::from_fn(|k| strata[k].len() as u64);
    let quotas: [u64; 5] = match &plan.sampling {
        Sampling::Ratios { .. } => std::array::from_fn(|k| {
            let ratio = stratum_ratio(&plan.sampling, STRATA[k]).unwrap_or(0.0);
            round_half_up(sizes[k] as f64 * ratio).min(sizes[k])
        }),
        Sampling::WeightedCount { count, .. } => {
            let weights =
                std::array::from_fn(|k| stratum_ratio(&plan.sampling, STRATA[k]).unwrap_or(0.0));
            allocate(*count, sizes, weights)
        }
        Sampling::Count { .. } => [0; 5],
    };

    let mut chosen: Vec<([u8; 32], usize)> = Vec::new();
    if let Sampling::Count { count } = plan.sampling {
        let mut all: Vec<([u8; 32], usize)> = strata.iter().flatten().copied().collect();
        chosen.extend(smallest(&mut all, count as usize, rosters));
    } else {
        for (k, stratum) in strata.iter_mut().enumerate() {
            chosen.extend(smallest(stratum, quotas[k] as usize, rosters));
        }
    }
    chosen.sort_unstable_by(|a, b| order(a, b, rosters));

    let mut drawn = [0u64; 5];
    for (_, index) in &chosen {
        drawn[stratum_index(rosters.objects[*index].class)] += 1;
    }
    let counts = (0..5)
        .map(|k| StratumCount {
            class: STRATA[k],
            candidates: sizes[k],
            ratio: stratum_ratio(&plan.sampling, STRATA[k]),
            drawn: drawn[k],
        })
        .collect();

    let (picks, workload, ineligible) = assign(plan, rosters, seed, &chosen);
    Ok(Draw {
        plan: plan.id.clone(),
        seed_sha256: seed.sha256(),
        in_scope,
        excluded_recently_inspected: excluded_recent,
        excluded_open_case: excluded_open,
        strata: counts,
        picks,
        workload,
        ineligible,
    })
}

fn order(a: &([u8; 32], usize), b: &([u8; 32], usize), rosters: &Rosters) -> std::cmp::Ordering {
    a.0.cmp(&b.0)
        .then_with(|| rosters.objects[a.1].uscc.cmp(&rosters.objects[b.1].uscc))
}

/// The `n` candidates with the smallest keys, in no particular order.
fn smallest(
    candidates: &mut [([u8; 32], usize)],
    n: usize,
    rosters: &Rosters,
) -> Vec<([u8; 32], usize)> {
    if n == 0 {
        return Vec::new();
    }
    if n < candidates.len() {
        candidates.select_nth_unstable_by(n - 1, |a, b| order(a, b, rosters));
    }
    candidates[..n.min(candidates.len())].to_vec()
}

/// Why an inspector may not go to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conflict {
    Relationship,
    RecentInspection(NaiveDate),
}

type Assignment = (Vec<Pick>, Vec<(String, u32)>, Vec<(String, String)>);

fn assign(plan: &Plan, rosters: &Rosters, seed: &Seed, chosen: &[([u8; 32], usize)]) -> Assignment {
    // the pool: inspectors of a taking-part department, available, competent
    let mut ineligible = Vec::new();
    let mut pool: Vec<usize> = Vec::new();
    for (index, inspector) in rosters.inspectors.iter().enumerate() {
        if !plan.departments.contains(&inspector.department) {
            continue;
        }
        if !inspector.available {
            ineligible.push((inspector.id.clone(), "unavailable".to_string()));
            continue;
        }
        let needed = plan.competences_of(&inspector.department);
        if !inspector
            .competences
            .iter()
            .any(|c| needed.contains(&c.as_str()))
        {
            ineligible.push((
                inspector.id.clone(),
                format!("no competence in {}", needed.join(", ")),
            ));
            continue;
        }
        pool.push(index);
    }
    let keys: Vec<u64> = rosters
        .inspectors
        .iter()
        .map(|i| seed.inspector_key(&i.id))
        .collect();
    let by_id: HashMap<&str, usize> = rosters
        .inspectors
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.as_str(), k))
        .collect();

    // conflicts, only for the drawn objects
    let drawn: HashSet<&str> = chosen
        .iter()
        .map(|(_, k)| rosters.objects[*k].uscc.as_str())
        .collect();
    let mut conflicts: HashMap<&str, Vec<(usize, Conflict)>> = HashMap::new();
    for r in &rosters.relationships {
        if let (Some(subject), Some(&inspector)) = (
            drawn.get(r.subject.as_str()),
            by_id.get(r.inspector.as_str()),
        ) {
            conflicts
                .entry(subject)
                .or_default()
                .push((inspector, Conflict::Relationship));
        }
    }
    let since = plan.recusal_since();
    for h in &rosters.history {
        if h.inspected_on < since {
            continue;
        }
        if let (Some(subject), Some(&inspector)) = (
            drawn.get(h.subject.as_str()),
            by_id.get(h.inspector.as_str()),
        ) {
            conflicts
                .entry(subject)
                .or_default()
                .push((inspector, Conflict::RecentInspection(h.inspected_on)));
        }
    }

    let mut load = vec![0u32; rosters.inspectors.len()];
    let size = plan.inspectors_per_object as usize;
    let no_conflicts = Vec::new();
    let mut picks = Vec::with_capacity(chosen.len());
    for (rank, (key, index)) in chosen.iter().enumerate() {
        let object = &rosters.objects[*index];
        let object_key = first_u64(key);
        let against = conflicts.get(object.uscc.as_str()).unwrap_or(&no_conflicts);
        let recused = |i: usize| against.iter().any(|(c, _)| *c == i);
        let mut team: Vec<usize> = Vec::with_capacity(size);
        let mut missing: Vec<&str> = Vec::new();
        let best = |team: &[usize], department: Option<&str>| {
            pool.iter()
                .copied()
                .filter(|&i| department.is_none_or(|d| rosters.inspectors[i].department == d))
                .filter(|&i| !recused(i) && !team.contains(&i))
                .min_by_key(|&i| (load[i], mix64(object_key ^ keys[i])))
        };
        for department in &plan.departments {
            match best(&team, Some(department)) {
                Some(i) => team.push(i),
                None => missing.push(department),
            }
        }
        while team.len() < size {
            match best(&team, None) {
                Some(i) => team.push(i),
                None => break,
            }
        }
        let unstaffed = if missing.is_empty() && team.len() >= size {
            for &i in &team {
                load[i] += 1;
            }
            None
        } else {
            Some(unstaffed_reason(
                plan,
                rosters,
                &pool,
                against,
                &missing,
                team.len(),
            ))
        };
        picks.push(Pick {
            rank: rank as u32 + 1,
            uscc: object.uscc.clone(),
            class: object.class,
            key: hex::encode(key),
            inspectors: if unstaffed.is_none() {
                team.iter()
                    .map(|&i| rosters.inspectors[i].id.clone())
                    .collect()
            } else {
                Vec::new()
            },
            unstaffed,
        });
    }
    let mut workload: Vec<(String, u32)> = pool
        .iter()
        .map(|&i| (rosters.inspectors[i].id.clone(), load[i]))
        .collect();
    workload.sort();
    ineligible.sort();
    (picks, workload, ineligible)
}

fn unstaffed_reason(
    plan: &Plan,
    rosters: &Rosters,
    pool: &[usize],
    against: &[(usize, Conflict)],
    missing: &[&str],
    found: usize,
) -> String {
    let mut relationship = 0;
    let mut recent = 0;
    let mut seen: Vec<usize> = Vec::new();
    for &(i, conflict) in against {
        if !pool.contains(&i) || seen.contains(&i) {
            continue;
        }
        seen.push(i);
        match conflict {
            Conflict::Relationship => relationship += 1,
            Conflict::RecentInspection(_) => recent += 1,
        }
    }
    let mut parts = Vec::new();
    if missing.is_empty() {
        parts.push(format!(
            "needs {} inspectors, {} eligible",
            plan.inspectors_per_object, found
        ));
    } else {
        parts.push(format!("no eligible inspector of {}", missing.join(", ")));
    }
    parts.push(format!("{} in the pool", pool.len()));
    if relationship > 0 {
        parts.push(format!(
            "{relationship} recused for a declared relationship"
        ));
    }
    if recent > 0 {
        parts.push(format!(
            "{recent} recused for inspecting it within {} months",
            plan.recusal_months
        ));
    }
    let unavailable = rosters
        .inspectors
        .iter()
        .filter(|i| plan.departments.contains(&i.department) && !i.available)
        .count();
    if unavailable > 0 {
        parts.push(format!("{unavailable} unavailable"));
    }
    parts.join("; ")
}

/// An independent check of staffed picks against every eligibility and
/// recusal rule; `verify` and the tests run it on each draw.
pub struct RuleCheck<'a> {
    plan: &'a Plan,
    inspectors: HashMap<&'a str, &'a Inspector>,
    related: HashSet<(&'a str, &'a str)>,
    last_visit: HashMap<(&'a str, &'a str), NaiveDate>,
}

impl<'a> RuleCheck<'a> {
    pub fn new(plan: &'a Plan, rosters: &'a Rosters) -> RuleCheck<'a> {
        let mut last_visit: HashMap<(&str, &str), NaiveDate> = HashMap::new();
        for h in &rosters.history {
            let entry = last_visit
                .entry((h.inspector.as_str(), h.subject.as_str()))
                .or_insert(h.inspected_on);
            *entry = (*entry).max(h.inspected_on);
        }
        RuleCheck {
            plan,
            inspectors: rosters
                .inspectors
                .iter()
                .map(|i| (i.id.as_str(), i))
                .collect(),
            related: rosters
                .relationships
                .iter()
                .map(|r| (r.inspector.as_str(), r.subject.as_str()))
                .collect(),
            last_visit,
        }
    }

    /// Every rule the pick's team breaks, in words.
    pub fn violations(&self, pick: &Pick) -> Vec<String> {
        let plan = self.plan;
        let mut out = Vec::new();
        let since = plan.recusal_since();
        if pick.unstaffed.is_none() && pick.inspectors.len() < plan.inspectors_per_object as usize {
            out.push(format!(
                "{}: only {} inspectors",
                pick.uscc,
                pick.inspectors.len()
            ));
        }
        for id in &pick.inspectors {
            let Some(inspector) = self.inspectors.get(id.as_str()) else {
                out.push(format!(
                    "{}: inspector {id} is not on the roster",
                    pick.uscc
                ));
                continue;
            };
            if !inspector.available {
                out.push(format!("{}: inspector {id} is unavailable", pick.uscc));
            }
            if !plan.departments.contains(&inspector.department) {
                out.push(format!(
                    "{}: inspector {id} is not of a taking-part department",
                    pick.uscc
                ));
            }
            let needed = plan.competences_of(&inspector.department);
            if !inspector
                .competences
                .iter()
                .any(|c| needed.contains(&c.as_str()))
            {
                out.push(format!(
                    "{}: inspector {id} lacks the competence",
                    pick.uscc
                ));
            }
            if self.related.contains(&(id.as_str(), pick.uscc.as_str())) {
                out.push(format!(
                    "{}: inspector {id} declared a relationship",
                    pick.uscc
                ));
            }
            if let Some(last) = self.last_visit.get(&(id.as_str(), pick.uscc.as_str()))
                && *last >= since
            {
                out.push(format!(
                    "{}: inspector {id} inspected it on {last}, within {} months",
                    pick.uscc, plan.recusal_months
                ));
            }
        }
        for department in &plan.departments {
            let present = pick.inspectors.iter().any(|id| {
                self.inspectors
                    .get(id.as_str())
                    .is_some_and(|i| &i.department == department)
            });
            if pick.unstaffed.is_none() && !present {
                out.push(format!("{}: no inspector of {department}", pick.uscc));
            }
        }
        let mut unique = pick.inspectors.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != pick.inspectors.len() {
            out.push(format!("{}: an inspector appears twice", pick.uscc));
        }
        out
    }
}

pub const DRAW_COLUMNS: [&str; 6] = ["rank", "uscc", "class", "key", "inspectors", "unstaffed"];

/// The draw as canonical CSV: what `verify` compares byte for byte.
pub fn write_draw<W: std::io::Write>(out: W, draw: &Draw) -> Result<(), InspectionError> {
    let failed = |e: csv::Error| InspectionError::File {
        file: "draw.csv".to_string(),
        message: e.to_string(),
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(DRAW_COLUMNS).map_err(failed)?;
    for pick in &draw.picks {
        let cells = [
            pick.rank.to_string(),
            pick.uscc.clone(),
            stratum_label(pick.class),
            pick.key.clone(),
            pick.inspectors.join(";"),
            pick.unstaffed.clone().unwrap_or_default(),
        ];
        w.write_record(
            cells
                .iter()
                .map(|cell| domain::text::spreadsheet_safe(cell).into_owned()),
        )
        .map_err(failed)?;
    }
    w.flush().map_err(|e| InspectionError::File {
        file: "draw.csv".to_string(),
        message: e.to_string(),
    })
}

pub fn draw_csv(draw: &Draw) -> Vec<u8> {
    let mut out = Vec::new();
    // writing to memory does not fail
    let _ = write_draw(&mut out, draw);
    out
}

/// Reads a draw's picks back from its CSV (for showing a bundle's result).
pub fn read_draw_picks<R: std::io::Read>(
    input: R,
    file: &str,
) -> Result<Vec<Pick>, InspectionError> {
    crate::roster::read_rows(input, file, &DRAW_COLUMNS, |row| {
        let rank = row
            .text("rank")
            .parse()
            .map_err(|_| row.fail("rank", "must be a whole number"))?;
        let class = match row.text("class") {
            "unclassed" => None,
            _ => row.class("class")?,
        };
        let unstaffed = row.text("unstaffed");
        Ok(Pick {
            rank,
            uscc: row.required("uscc")?,
            class,
            key: row.required("key")?,
            inspectors: row.list("inspectors"),
            unstaffed: (!unstaffed.is_empty()).then(|| unstaffed.to_string()),
        })
    })
}
