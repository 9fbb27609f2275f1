//! The draw's promises: verifiable from the bundle alone, tamper-evident,
//! ratios within rounding, recusal never broken, workload balanced.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use domain::division::DivisionCode;
use domain::risk::{RiskClass, SamplingRatios};
use domain::uscc::{EntityKind, Uscc};
use inspection::bundle::{self, Bundle};
use inspection::draw::{self, RuleCheck, Seed};
use inspection::plan::{Exclusions, Item, Plan, Sampling, Scope, Window};
use inspection::roster::{Inspector, Object, PastInspection, Relationship, Rosters};
use proptest::prelude::*;

fn uscc(n: u32) -> String {
    let division = DivisionCode::parse("440606").unwrap();
    Uscc::from_parts(EntityKind::ENTERPRISE, division, &format!("{n:08}"))
        .unwrap()
        .to_string()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn object(n: u32, class: Option<RiskClass>) -> Object {
    Object {
        uscc: uscc(n),
        name: format!("佛山市测试{n}有限公司"),
        legal_representative: "张三".to_string(),
        address: format!("顺德区大良街道{n}号"),
        division: if n.is_multiple_of(3) {
            "440606101"
        } else {
            "440604001"
        }
        .to_string(),
        industry: if n.is_multiple_of(2) { "5211" } else { "1310" }.to_string(),
        kind: "limited_company".to_string(),
        established_on: Some(day("2015-06-01")),
        class,
        last_inspected: None,
        open_case: false,
    }
}

fn inspector(n: u32, department: &str, competences: &[&str], available: bool) -> Inspector {
    Inspector {
        id: format!("I{n:04}"),
        name: format!("检查员{n}"),
        certificate: format!("44060{n:06}"),
        department: department.to_string(),
        competences: competences.iter().map(|c| c.to_string()).collect(),
        available,
    }
}

fn item(department: &str, competence: &str) -> Item {
    Item {
        code: format!("{department}.{competence}"),
        name: format!("{competence} 检查"),
        department: department.to_string(),
        competence: competence.to_string(),
    }
}

fn plan(sampling: Sampling) -> Plan {
    Plan {
        id: "2026-SJ-001".to_string(),
        name: "食品经营者检查".to_string(),
        items: vec![item("samr", "food_safety")],
        departments: vec!["samr".to_string()],
        scope: Scope::default(),
        sampling,
        exclusions: Exclusions::default(),
        window: Window {
            start: day("2026-09-01"),
            end: day("2026-11-30"),
        },
        inspectors_per_object: 2,
        recusal_months: 12,
    }
}

fn class_of(n: u32) -> Option<RiskClass> {
    match n % 20 {
        0 => Some(RiskClass::D),
        1..=3 => Some(RiskClass::C),
        4..=8 => Some(RiskClass::B),
        19 => None,
        _ => Some(RiskClass::A),
    }
}

fn city(objects: u32, inspectors: u32) -> Rosters {
    let mut rosters = Rosters {
        objects: (0..objects).map(|n| object(n, class_of(n))).collect(),
        inspectors: (0..inspectors)
            .map(|n| inspector(n, "samr", &["food_safety", "registration"], n % 10 != 9))
            .collect(),
        relationships: vec![Relationship {
            inspector: "I0001".to_string(),
            subject: uscc(7),
            kind: "kinship".to_string(),
        }],
        history: vec![PastInspection {
            inspector: "I0002".to_string(),
            subject: uscc(7),
            inspected_on: day("2026-01-15"),
        }],
    };
    rosters.canonicalise();
    rosters
}

fn seed(n: u8) -> Seed {
    Seed::from_bytes([n; 32])
}

fn drawn_bundle(dir: &std::path::Path) -> (Bundle, String) {
    let rosters = city(3000, 40);
    let plan = plan(Sampling::default());
    let mut bundle =
        Bundle::commit(&plan, &rosters, &seed(7), "2026-08-20T09:00:00+08:00").unwrap();
    let published = bundle.commitment_sha256();
    bundle.draw(&seed(7)).unwrap();
    bundle.write_dir(dir).unwrap();
    (bundle, published)
}

#[test]
fn a_draw_verifies_from_its_exported_bundle_alone() {
    let dir = tempfile::tempdir().unwrap();
    drawn_bundle(dir.path());
    let read = Bundle::read_dir(dir.path()).unwrap();
    let published = read.commitment_sha256();
    let report = bundle::verify(&read, Some(&published));
    assert!(report.ok(), "{report:#?}");
    assert!(report.checks.iter().any(|c| c.name == "draw.csv" && c.ok));
}

fn tampered(edit: impl FnOnce(&std::path::Path)) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (_, published) = drawn_bundle(dir.path());
    edit(dir.path());
    let read = Bundle::read_dir(dir.path()).unwrap();
    let report = bundle::verify(&read, Some(&published));
    report.differences().map(|c| c.name.clone()).collect()
}

fn replace_in(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn one_changed_roster_row_is_detected() {
    let failed = tampered(|dir| {
        // one object moves from class A to D
        let path = dir.join("objects.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let line = text
            .lines()
            .find(|l| l.contains(",A,"))
            .unwrap()
            .to_string();
        replace_in(&path, &line, &line.replacen(",A,", ",D,", 1));
    });
    assert!(failed.contains(&"objects.csv".to_string()), "{failed:?}");
}

#[test]
fn a_changed_inspector_row_is_detected() {
    let failed = tampered(|dir| replace_in(&dir.join("inspectors.csv"), "I0009,", "I0009x,"));
    assert!(failed.contains(&"inspectors.csv".to_string()), "{failed:?}");
}

#[test]
fn a_changed_seed_is_detected() {
    let failed = tampered(|dir| {
        std::fs::write(dir.join("seed.txt"), format!("{}\n", seed(8).as_str())).unwrap()
    });
    assert!(failed.contains(&"seed.txt".to_string()), "{failed:?}");
    // and the draw recomputed with the wrong seed differs from the recorded one
    assert!(failed.contains(&"draw.csv".to_string()), "{failed:?}");
}

#[test]
fn a_changed_ratio_is_detected() {
    let failed = tampered(|dir| replace_in(&dir.join("plan.json"), "\"d\": 0.3", "\"d\": 0.5"));
    assert!(failed.contains(&"plan.json".to_string()), "{failed:?}");
    assert!(failed.contains(&"draw.csv".to_string()), "{failed:?}");
}

#[test]
fn a_changed_result_is_detected() {
    let failed = tampered(|dir| {
        let path = dir.join("draw.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let second = text.lines().nth(1).unwrap().to_string();
        let mut fields: Vec<String> = second.split(',').map(str::to_string).collect();
        fields[4] = "I0001;I0002".to_string();
        replace_in(&path, &second, &fields.join(","));
    });
    assert_eq!(failed, vec!["draw.csv".to_string()]);
}

#[test]
fn a_rewritten_commitment_is_caught_by_the_published_hash() {
    let failed = tampered(|dir| {
        replace_in(
            &dir.join("commitment.json"),
            "2026-08-20T09:00:00+08:00",
            "2026-08-21T09:00:00+08:00",
        )
    });
    assert_eq!(failed, vec!["commitment".to_string()]);
}

#[test]
fn the_draw_needs_the_committed_seed() {
    let rosters = city(100, 10);
    let mut bundle = Bundle::commit(&plan(Sampling::default()), &rosters, &seed(1), "t").unwrap();
    assert!(bundle.draw(&seed(2)).is_err());
    assert!(bundle.draw(&seed(1)).is_ok());
}

#[test]
fn class_ratios_are_met_within_rounding() {
    let rosters = city(5000, 60);
    let sampling = Sampling::Ratios {
        ratios: SamplingRatios {
            a: 0.01,
            b: 0.02,
            c: 0.10,
            d: 0.30,
        },
        unclassed: 0.05,
    };
    let result = draw::draw(&plan(sampling), &rosters, &seed(3)).unwrap();
    for stratum in &result.strata {
        let expected = stratum.candidates as f64 * stratum.ratio.unwrap();
        assert!(
            (stratum.drawn as f64 - expected).abs() <= 0.5,
            "{stratum:?}: expected {expected}"
        );
        let counted = result
            .picks
            .iter()
            .filter(|p| p.class == stratum.class)
            .count();
        assert_eq!(counted as u64, stratum.drawn);
    }
    assert_eq!(result.in_scope, 5000);
}

#[test]
fn a_fixed_count_is_drawn_exactly_and_weighted_counts_follow_risk() {
    let rosters = city(5000, 60);
    let result = draw::draw(&plan(Sampling::Count { count: 137 }), &rosters, &seed(3)).unwrap();
    assert_eq!(result.picks.len(), 137);
    let weighted = Sampling::WeightedCount {
        count: 137,
        weights: SamplingRatios::default(),
        unclassed: 0.02,
    };
    let result = draw::draw(&plan(weighted), &rosters, &seed(3)).unwrap();
    assert_eq!(result.picks.len(), 137);
    let share = |class| {
        let s = result
            .strata
            .iter()
            .find(|s| s.class == Some(class))
            .unwrap();
        s.drawn as f64 / s.candidates as f64
    };
    assert!(share(RiskClass::D) > share(RiskClass::C));
    assert!(share(RiskClass::C) > share(RiskClass::A));
}

#[test]
fn the_same_seed_gives_the_same_draw_and_another_seed_another() {
    let rosters = city(2000, 30);
    let plan = plan(Sampling::default());
    let a = draw::draw(&plan, &rosters, &seed(5)).unwrap();
    let b = draw::draw(&plan, &rosters, &seed(5)).unwrap();
    let c = draw::draw(&plan, &rosters, &seed(6)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.picks, c.picks);
}

#[test]
fn object_keys_are_sha256_of_the_documented_text() {
    let s = seed(9);
    let key = s.object_key(&uscc(1));
    let text = format!("{}|object|{}", s.as_str(), uscc(1));
    assert_eq!(hex_of(&key), inspection::sha256_hex(text.as_bytes()));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn exclusions_and_scope_are_applied() {
    let mut rosters = city(1000, 20);
    rosters.objects[0].open_case = true;
    rosters.objects[1].last_inspected = Some(day("2026-05-01"));
    rosters.objects[2].last_inspected = Some(day("2024-05-01"));
    let mut p = plan(Sampling::Ratios {
        ratios: SamplingRatios {
            a: 1.0,
            b: 1.0,
            c: 1.0,
            d: 1.0,
        },
        unclassed: 1.0,
    });
    p.exclusions = Exclusions {
        inspected_within_months: Some(12),
        open_case: true,
    };
    let result = draw::draw(&p, &rosters, &seed(1)).unwrap();
    assert_eq!(result.excluded_open_case, 1);
    assert_eq!(result.excluded_recently_inspected, 1);
    assert_eq!(result.picks.len(), 998);
    p.scope.towns = vec!["440606101".to_string()];
    p.scope.industries = vec!["52".to_string()];
    let result = draw::draw(&p, &rosters, &seed(1)).unwrap();
    // n % 3 == 0 and n % 2 == 0: n % 6 == 0, minus object 0 (open case)
    assert_eq!(result.in_scope, 167);
    assert_eq!(result.picks.len(), 166);
}

#[test]
fn workload_is_balanced_when_nothing_is_recused() {
    let mut rosters = city(4000, 25);
    rosters.relationships.clear();
    rosters.history.clear();
    let result = draw::draw(&plan(Sampling::default()), &rosters, &seed(2)).unwrap();
    let loads: Vec<u32> = result.workload.iter().map(|(_, n)| *n).collect();
    let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
    assert!(max - min <= 1, "{loads:?}");
    // unavailable inspectors (every tenth) carry nothing and are listed
    assert!(
        result
            .ineligible
            .iter()
            .any(|(id, why)| id == "I0009" && why == "unavailable")
    );
}

#[test]
fn too_few_inspectors_leave_an_object_unstaffed_with_the_reason() {
    let mut rosters = city(200, 3);
    // the three inspectors: I0000, I0001 (related to object 7), I0002 (inspected it)
    rosters
        .inspectors
        .iter_mut()
        .for_each(|i| i.available = true);
    let mut p = plan(Sampling::Ratios {
        ratios: SamplingRatios {
            a: 1.0,
            b: 1.0,
            c: 1.0,
            d: 1.0,
        },
        unclassed: 1.0,
    });
    p.inspectors_per_object = 2;
    let result = draw::draw(&p, &rosters, &seed(4)).unwrap();
    let seven = result.picks.iter().find(|p| p.uscc == uscc(7)).unwrap();
    assert!(seven.inspectors.is_empty());
    let reason = seven.unstaffed.as_deref().unwrap();
    assert!(
        reason.contains("1 recused for a declared relationship"),
        "{reason}"
    );
    assert!(
        reason.contains("1 recused for inspecting it within 12 months"),
        "{reason}"
    );
    assert_eq!(result.unstaffed().count(), 1);
}

#[test]
fn a_joint_plan_staffs_every_department() {
    let mut rosters = city(500, 20);
    rosters
        .inspectors
        .extend((100..110).map(|n| inspector(n, "emergency", &["work_safety"], true)));
    rosters.canonicalise();
    let mut p = plan(Sampling::default());
    p.items.push(item("emergency", "work_safety"));
    p.departments.push("emergency".to_string());
    let result = draw::draw(&p, &rosters, &seed(8)).unwrap();
    let rules = RuleCheck::new(&p, &rosters);
    for pick in result.staffed() {
        assert!(rules.violations(pick).is_empty());
        assert!(
            pick.inspectors.iter().any(|i| i.starts_with("I01")),
            "{pick:?}"
        );
    }
}

#[test]
fn roster_errors_name_the_file_row_and_field() {
    let text = "uscc,name,legal_representative,address,division,industry,kind,established_on,class,last_inspected,open_case\n\
                91440606MA4UX1234X,甲,张,地址,440606101,5211,limited_company,2015-01-01,A,,0\n";
    let err = inspection::roster::read_objects(text.as_bytes(), "objects.csv").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("objects.csv: row 2, field 'uscc'"),
        "{err}"
    );
    let text = format!(
        "uscc,name,legal_representative,address,division,industry,kind,established_on,class,last_inspected,open_case\n\
         {},甲,张,地址,440606101,5211,limited_company,2015-13-01,A,,0\n",
        uscc(1)
    );
    let err = inspection::roster::read_objects(text.as_bytes(), "objects.csv").unwrap_err();
    assert_eq!(
        err.to_string(),
        "objects.csv: row 2, field 'established_on': '2015-13-01' is not a date YYYY-MM-DD"
    );
}

#[test]
fn allocation_spends_the_whole_budget_within_capacity() {
    let quota = draw::allocate(100, [1000, 300, 50, 10, 0], [0.01, 0.02, 0.1, 0.3, 0.02]);
    assert_eq!(quota.iter().sum::<u64>(), 100);
    assert!(quota[3] <= 10);
    let quota = draw::allocate(10_000, [10, 10, 10, 10, 10], [0.01, 0.02, 0.1, 0.3, 0.0]);
    assert_eq!(quota, [10, 10, 10, 10, 0]);
}

// Random rosters and plans: no staffed team ever breaks a rule, and an object
// is unstaffed exactly when the rules leave too few inspectors.
fn arbitrary_case() -> impl Strategy<Value = (Rosters, Plan, u8)> {
    (
        20u32..200,
        2usize..30,
        proptest::collection::vec((0usize..30, 0u32..200, 0u8..3), 0..120),
        2u32..4,
        any::<bool>(),
        any::<u8>(),
        0u32..36,
    )
        .prop_map(
            |(objects, inspectors, conflicts, size, joint, seed, recusal)| {
                let departments = ["samr", "emergency"];
                let mut rosters = Rosters {
                    objects: (0..objects).map(|n| object(n, class_of(n))).collect(),
                    inspectors: (0..inspectors as u32)
                        .map(|n| {
                            let department = departments[(n % 3 == 2) as usize];
                            let competences: &[&str] = match n % 4 {
                                0 => &["food_safety"],
                                1 => &["registration"],
                                2 => &["work_safety"],
                                _ => &["food_safety", "work_safety"],
                            };
                            inspector(n, department, competences, n % 7 != 6)
                        })
                        .collect(),
                    ..Rosters::default()
                };
                for (who, whom, kind) in conflicts {
                    let inspector = format!("I{:04}", who % inspectors);
                    let subject = uscc(whom % objects);
                    match kind {
                        0 => rosters.relationships.push(Relationship {
                            inspector,
                            subject,
                            kind: "kinship".to_string(),
                        }),
                        1 => rosters.history.push(PastInspection {
                            inspector,
                            subject,
                            inspected_on: day("2026-03-01"),
                        }),
                        _ => rosters.history.push(PastInspection {
                            inspector,
                            subject,
                            inspected_on: day("2023-03-01"),
                        }),
                    }
                }
                rosters.canonicalise();
                let mut p = plan(Sampling::Ratios {
                    ratios: SamplingRatios {
                        a: 0.3,
                        b: 0.5,
                        c: 0.8,
                        d: 1.0,
                    },
                    unclassed: 0.5,
                });
                p.inspectors_per_object = size;
                p.recusal_months = recusal;
                if joint {
                    p.items.push(item("emergency", "work_safety"));
                    p.departments.push("emergency".to_string());
                }
                (rosters, p, seed)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn recusal_is_never_broken_and_never_relaxed((rosters, plan, s) in arbitrary_case()) {
        let result = draw::draw(&plan, &rosters, &seed(s)).unwrap();
        let rules = RuleCheck::new(&plan, &rosters);
        let since = plan.recusal_since();
        for pick in &result.picks {
            prop_assert!(rules.violations(pick).is_empty(), "{:?}", rules.violations(pick));
            // who could go at all, by the rules alone
            let eligible: Vec<&Inspector> = rosters.inspectors.iter().filter(|i| {
                let needed = plan.competences_of(&i.department);
                plan.departments.contains(&i.department)
                    && i.available
                    && i.competences.iter().any(|c| needed.contains(&c.as_str()))
                    && !rosters.relationships.iter().any(|r| r.inspector == i.id && r.subject == pick.uscc)
                    && !rosters.history.iter().any(|h| h.inspector == i.id && h.subject == pick.uscc && h.inspected_on >= since)
            }).collect();
            let staffable = eligible.len() >= plan.inspectors_per_object as usize
                && plan.departments.iter().all(|d| eligible.iter().any(|i| &i.department == d));
            prop_assert_eq!(pick.unstaffed.is_none(), staffable, "{:?}", pick);
            if pick.unstaffed.is_some() {
                prop_assert!(pick.inspectors.is_empty());
            }
        }
    }
}

#[test]
fn plan_ids_cannot_leave_the_bundle_directory() {
    for id in ["..", "a/b", "a b", "", "计划"] {
        let mut p = plan(Sampling::default());
        p.id = id.to_string();
        assert!(p.validate().is_err(), "{id:?}");
    }
}
