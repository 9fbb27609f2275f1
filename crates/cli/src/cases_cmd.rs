//! Objections and credit repairs in the demo: cases in every state, made
//! through the server's own service as the people of each role would.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use server::access::{Grant, Principal, Role, Via};
use server::credit_cases::service::{
    self as cases, CaseInput, Kind, MoveInput, Moved, Opened, RecordRef, Upload, repairable,
};
use server::http::Failure;
use store::{EventRow, Store};

use crate::output::outln;

fn principal(name: &str, role: Role, subject: &str) -> Principal {
    Principal {
        actor: format!("user:{name}"),
        display_name: name.to_string(),
        grants: vec![Grant {
            role,
            subject: subject.to_string(),
        }],
        via: Via::Token { id: 0 },
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
    }
}

fn failed(f: Failure) -> anyhow::Error {
    anyhow::anyhow!(f.message())
}

/// A scanned proof of payment, as an enterprise would attach it (a
/// minimal PDF).
fn proof(name: &str) -> Upload {
    Upload {
        file_name: name.to_string(),
        bytes: b"%PDF-1.4\n% demo proof\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec(),
    }
}

/// Records the demo contests: penalties, published, of entities with one
/// that may be repaired today, the demo enterprise first.
async fn candidates(
    state: &server::AppState,
    enterprise: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(String, EventRow)>> {
    let store: &Store = &state.store;
    let today = server::beijing_date(now);
    // The demo's cases are dated up to ten days back.
    let earlier = today - Duration::days(10);
    let mut usccs: Vec<String> = vec![enterprise.to_string()];
    let mut seen = std::collections::BTreeSet::new();
    for (uscc, _, until) in store.events_of_items(&["admin_penalty"]).await? {
        if until.is_some_and(|u| u > today.to_string()) && seen.insert(uscc.clone()) {
            usccs.push(uscc);
        }
        if usccs.len() > 40 {
            break;
        }
    }
    let mut out = Vec::new();
    for uscc in usccs {
        for event in store.events(&uscc).await? {
            let Some(item) = state.catalog.item(&event.item) else {
                continue;
            };
            if event.withdrawn.is_none()
                && event.objection.is_none()
                && cases::contestable(item)
                && repairable(item, &event, today).is_ok()
                && repairable(item, &event, earlier).is_ok()
            {
                out.push((uscc.clone(), event));
                break;
            }
        }
    }
    Ok(out)
}

/// Objections in each state (submitted, accepted and overdue, rejected,
/// confirmed, corrected) and repairs (submitted, approved, rejected,
/// withdrawn); nothing when the demo made them before.
pub async fn demo_cases(
    store: &Store,
    catalog: &domain::Catalog,
    data_dir: &std::path::Path,
    enterprise: &str,
) -> anyhow::Result<()> {
    let existing = store
        .cases(&store::CaseFilter::default(), 0, 1)
        .await?
        .total;
    if existing > 0 {
        outln!("      {existing} cases already; reusing them");
        return Ok(());
    }
    let state = crate::server_cmd::demo_state(store, catalog, data_dir)?;
    let now = Utc::now();
    let records = candidates(&state, enterprise, now).await?;
    if records.len() < 9 {
        outln!(
            "      skipped: only {} records may be contested and repaired",
            records.len()
        );
        return Ok(());
    }
    let centre = principal("centre", Role::CreditCentre, "");
    let open = |kind: Kind, at: usize, statement: &str, ago_days: i64| {
        let (uscc, event) = &records[at];
        let who = principal(&format!("enterprise-{at}"), Role::Enterprise, uscc);
        let input = CaseInput {
            record: RecordRef::of(event),
            ground: "error".into(),
            statement: statement.into(),
            commitment: match kind {
                Kind::Repair => "本企业承诺依法诚信经营，如有违反，愿承担相应责任。".into(),
                Kind::Objection => String::new(),
            },
            documents: vec![proof("payment-receipt.pdf")],
        };
        let state = &state;
        async move {
            let code: domain::Uscc = uscc.parse().context("a stored code")?;
            let when = now - Duration::days(ago_days);
            match cases::open(state, &who, &code, kind, &input, when)
                .await
                .map_err(failed)?
            {
                Opened::Case(id) => Ok::<(i64, Principal), anyhow::Error>((id, who)),
                Opened::Invalid(invalid) => {
                    anyhow::bail!("demo case refused: {:?}", invalid.errors)
                }
            }
        }
    };
    let step = |id: i64,
                who: Principal,
                to: &'static str,
                version: i64,
                reasons: &'static str,
                ago_days: i64| {
        let state = &state;
        async move {
            let input = MoveInput {
                to: to.into(),
                version,
                reasons: reasons.into(),
                values: Default::default(),
            };
            match cases::move_case(state, &who, id, &input, now - Duration::days(ago_days))
                .await
                .map_err(failed)?
            {
                Moved::Done => Ok::<(), anyhow::Error>(()),
                Moved::Invalid(invalid) => anyhow::bail!("demo move refused: {:?}", invalid.errors),
            }
        }
    };
    let department = |at: usize| {
        let department = state
            .catalog
            .item(&records[at].1.item)
            .map_or("samr".to_string(), |i| i.department.clone());
        principal(
            &format!("officer-{department}"),
            Role::Department,
            &department,
        )
    };
    // Objections: the demo enterprise's own is just submitted.
    open(
        Kind::Objection,
        0,
        "处罚决定书载明的违法事实与本企业实际经营情况不符，附相关说明。",
        0,
    )
    .await?;
    let (accepted, _) = open(Kind::Objection, 1, "罚款金额登记有误。", 30).await?;
    step(
        accepted,
        department(1),
        "accepted",
        1,
        "材料齐全，予以受理。",
        29,
    )
    .await?;
    let (rejected, _) = open(Kind::Objection, 2, "希望撤销该记录。", 20).await?;
    step(
        rejected,
        department(2),
        "rejected",
        1,
        "未提供记录有误的证据，不予受理。",
        19,
    )
    .await?;
    let (confirmed, _) = open(Kind::Objection, 3, "认为处罚依据有误。", 15).await?;
    step(confirmed, department(3), "accepted", 1, "予以受理。", 14).await?;
    step(
        confirmed,
        department(3),
        "confirmed",
        2,
        "经核实，原记录准确无误，予以维持。",
        10,
    )
    .await?;
    let (corrected, _) = open(
        Kind::Objection,
        4,
        "罚款金额登记有误，应为决定书所载金额。",
        12,
    )
    .await?;
    step(corrected, department(4), "accepted", 1, "予以受理。", 11).await?;
    let fine = records[4]
        .1
        .detail
        .get("fine_amount")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(1.0);
    let correction = MoveInput {
        to: "corrected".into(),
        version: 2,
        reasons: "经核实，罚款金额登记有误，予以更正。".into(),
        // The amount and the content that states it, corrected together.
        values: {
            let amount = format!("{:.2}", (fine / 2.0).max(0.01));
            [
                ("content".to_string(), format!("罚款{amount}万元")),
                ("fine_amount".to_string(), amount),
            ]
            .into_iter()
            .collect()
        },
    };
    match cases::move_case(&state, &department(4), corrected, &correction, now)
        .await
        .map_err(failed)?
    {
        Moved::Done => {}
        Moved::Invalid(invalid) => anyhow::bail!("demo correction refused: {:?}", invalid.errors),
    }
    // Repairs.
    open(
        Kind::Repair,
        5,
        "罚款已于决定后十五日内缴清，违法行为已整改完毕。",
        1,
    )
    .await?;
    let (approved, _) = open(Kind::Repair, 6, "罚款已缴清，已完成整改并通过复查。", 8).await?;
    step(
        approved,
        centre.clone(),
        "approved",
        1,
        "已纠正失信行为、履行法定义务，作出信用承诺，准予修复。",
        5,
    )
    .await?;
    let (refused, _) = open(Kind::Repair, 7, "已整改。", 9).await?;
    step(
        refused,
        centre.clone(),
        "rejected",
        1,
        "未提供罚款缴纳凭证，不予修复。",
        6,
    )
    .await?;
    let (withdrawn, owner) = open(Kind::Repair, 8, "罚款已缴清。", 3).await?;
    step(withdrawn, owner, "withdrawn", 1, "", 2).await?;
    outln!(
        "      objections: submitted, accepted (overdue), rejected, confirmed, corrected (case {corrected}); repairs: submitted, approved (case {approved}), rejected, withdrawn"
    );
    Ok(())
}
