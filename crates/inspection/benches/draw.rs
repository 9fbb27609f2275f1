//! Commit, draw and assignment at city scale (not a test: it prints figures).
//!
//! `cargo bench -p inspection --bench draw` builds the synthetic city's
//! object roster (1.2 M entities by default, `XINYONG_BENCH_OBJECTS` to
//! change) and 600 inspectors, then times: writing and hashing the
//! snapshots (commit), reading them back, the draw with assignment, and a
//! full verification. The aim is the draw and assignment under 1 s.

use std::time::Instant;

use chrono::NaiveDate;
use domain::risk::RiskClass;
use inspection::bundle::{self, Bundle};
use inspection::draw::{self, Seed};
use inspection::plan::{Exclusions, Item, Plan, Sampling, Scope, Window};
use inspection::roster::{Inspector, Object, PastInspection, Relationship, Rosters};
use rayon::prelude::*;

fn main() {
    let objects: u32 = std::env::var("XINYONG_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200_000);
    let inspectors: u32 = 600;
    let config = sim::SimConfig {
        entities: objects,
        ..sim::SimConfig::preset(sim::Preset::City, 20261128)
    };
    let started = Instant::now();
    let rosters = city_rosters(&config, inspectors);
    println!(
        "rosters: {} objects, {} inspectors, {} relationships, {} past inspections (built in {:.1} s)",
        rosters.objects.len(),
        rosters.inspectors.len(),
        rosters.relationships.len(),
        rosters.history.len(),
        started.elapsed().as_secs_f64()
    );
    let plan = city_plan();
    let seed = Seed::from_bytes([42; 32]);

    let t = Instant::now();
    let mut bundle = Bundle::commit(&plan, &rosters, &seed, "2026-08-20T09:00:00+08:00")
        .unwrap_or_else(|e| panic!("commit: {e}"));
    let commit = t.elapsed().as_secs_f64();
    let bytes: usize = bundle.files.iter().map(|(_, b)| b.len()).sum();

    let t = Instant::now();
    let snapshot = bundle.rosters().unwrap_or_else(|e| panic!("read: {e}"));
    let read = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let result = draw::draw(&plan, &snapshot, &seed).unwrap_or_else(|e| panic!("draw: {e}"));
    let draw_time = t.elapsed().as_secs_f64();

    bundle
        .draw(&seed)
        .unwrap_or_else(|e| panic!("bundle draw: {e}"));
    let t = Instant::now();
    let report = bundle::verify(&bundle, Some(&bundle.commitment_sha256()));
    let verify = t.elapsed().as_secs_f64();
    assert!(report.ok(), "{report:#?}");

    println!(
        "drawn: {} objects ({} staffed, {} unstaffed) of {} in scope",
        result.picks.len(),
        result.staffed().count(),
        result.unstaffed().count(),
        result.in_scope
    );
    for s in &result.strata {
        println!(
            "  {:>9}: {:>8} candidates, {:>6} drawn",
            draw::stratum_label(s.class),
            s.candidates,
            s.drawn
        );
    }
    let loads: Vec<u32> = result.workload.iter().map(|(_, n)| *n).collect();
    println!(
        "workload: {} inspectors in the pool, {}..{} tasks each",
        loads.len(),
        loads.iter().min().copied().unwrap_or(0),
        loads.iter().max().copied().unwrap_or(0)
    );
    println!(
        "commit (write + hash {:.0} MB of snapshots): {commit:.3} s",
        bytes as f64 / 1e6
    );
    println!("read snapshots back:                     {read:.3} s");
    println!("draw + assignment:                       {draw_time:.3} s (aim under 1 s)");
    println!("verify (hashes, recompute, recusal):     {verify:.3} s");
}

fn city_plan() -> Plan {
    Plan {
        id: "BENCH-2026-001".to_string(),
        name: "city-wide random inspection".to_string(),
        items: vec![
            Item {
                code: "samr.annual_report".to_string(),
                name: "年度报告公示信息的检查".to_string(),
                department: "samr".to_string(),
                competence: "registration".to_string(),
            },
            Item {
                code: "samr.food".to_string(),
                name: "食品经营者经营条件和经营行为的检查".to_string(),
                department: "samr".to_string(),
                competence: "food_safety".to_string(),
            },
        ],
        departments: vec!["samr".to_string()],
        scope: Scope::default(),
        sampling: Sampling::default(),
        exclusions: Exclusions {
            inspected_within_months: Some(12),
            open_case: true,
        },
        window: Window {
            start: date(2026, 9, 1),
            end: date(2026, 11, 30),
        },
        inspectors_per_object: 2,
        recusal_months: 24,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The synthetic city's registry as an object roster; classes at the
/// observed shares (65 / 25 / 8 / 1.5 %, the rest unclassed) by true risk.
fn city_rosters(config: &sim::SimConfig, inspectors: u32) -> Rosters {
    let entities: Vec<sim::entity::Entity> = (0..config.entities)
        .into_par_iter()
        .map(|k| sim::entity::generate(config, k))
        .filter(|e| e.status == sim::entity::Status::Operating)
        .collect();
    let mut by_risk: Vec<(f64, usize)> = entities
        .iter()
        .enumerate()
        .map(|(k, e)| (e.truth.violation_probability, k))
        .collect();
    by_risk.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = by_risk.len() as f64;
    let mut class = vec![None; entities.len()];
    for (rank, (_, k)) in by_risk.iter().enumerate() {
        let q = rank as f64 / n;
        class[*k] = match q {
            q if q < 0.005 => None,
            q if q < 0.655 => Some(RiskClass::A),
            q if q < 0.905 => Some(RiskClass::B),
            q if q < 0.985 => Some(RiskClass::C),
            _ => Some(RiskClass::D),
        };
    }
    let mut rosters = Rosters {
        objects: entities
            .iter()
            .enumerate()
            .map(|(k, e)| Object {
                uscc: e.uscc.to_string(),
                name: e.name.clone(),
                legal_representative: e.legal_representative.clone(),
                address: e.address.clone(),
                division: e.town.code.to_string(),
                industry: e.industry.to_string(),
                kind: e.entity_type.to_string(),
                established_on: Some(e.established_on),
                class: class[k],
                last_inspected: (e.index % 29 == 0).then(|| date(2026, 3, 1 + e.index % 28)),
                open_case: e.index % 997 == 0,
            })
            .collect(),
        ..Rosters::default()
    };
    let sim_inspectors = sim::roster::inspectors(&sim::SimConfig {
        entities: inspectors * 2_500,
        ..config.clone()
    });
    for i in &sim_inspectors {
        rosters.inspectors.push(Inspector {
            id: i.id.to_string(),
            name: i.name.clone(),
            certificate: i.certificate.clone(),
            department: i.department.to_string(),
            competences: i.competences.iter().map(|c| c.to_string()).collect(),
            available: i.available,
        });
        for (entity, kind) in &i.relationships {
            if let Some(e) = entities.get(*entity as usize) {
                rosters.relationships.push(Relationship {
                    inspector: i.id.to_string(),
                    subject: e.uscc.to_string(),
                    kind: kind.to_string(),
                });
            }
        }
    }
    // every inspector visited a few hundred entities in the last two years
    for (k, e) in entities.iter().enumerate().step_by(7) {
        let inspector = &sim_inspectors[k % sim_inspectors.len()];
        rosters.history.push(PastInspection {
            inspector: inspector.id.to_string(),
            subject: e.uscc.to_string(),
            inspected_on: date(2025, 1 + (k % 12) as u32, 1 + (k % 28) as u32),
        });
    }
    rosters.canonicalise();
    rosters
}
