//! The regulator's inspection workflow over the store and the data
//! directory: the `inspection` crate's pure draw, given rosters read from
//! the registry, plans kept in the store and bundles kept as files.
//!
//! A plan's bundle lives in `<data-dir>/inspection/plans/<plan id>/`; it is
//! what is published and exported. The secret seed lives only in the store
//! until the draw reveals it.
//!
//! Results recorded here go into the record lake as an `inspection_result`
//! batch (so they reach the entity's profile and the risk model's labels)
//! before they are marked in the store.

pub mod results;
pub mod roster_files;
pub mod simulation;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use domain::risk::RiskClass;
use inspection::bundle::{self, Bundle, VerifyReport};
use inspection::calendar::WorkCalendar;
use inspection::draw::{Draw, Seed};
use inspection::joint::{self, PlannedTask};
use inspection::plan::{Plan, Window};
use inspection::roster::{Inspector, Object, PastInspection, Relationship, Rosters};
use inspection::{Commitment, InspectionError};
use serde::Serialize;
use store::{NewTask, PlanRow, Store, StoreError};

pub use results::{FindingInput, ResultInput, read_results};

#[derive(Debug, thiserror::Error)]
pub enum SupervisionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inspection(#[from] InspectionError),
    #[error(transparent)]
    Ingest(#[from] ingest::batch::IngestError),
    /// A request the workflow refuses: unknown plan, wrong state, bad result.
    #[error("{0}")]
    Refused(String),
    #[error("random source: {0}")]
    Random(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn refused(message: impl Into<String>) -> SupervisionError {
    SupervisionError::Refused(message.into())
}

pub fn bundle_dir(data_dir: &Path, plan: &str) -> PathBuf {
    data_dir.join("inspection").join("plans").join(plan)
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
}

/// The rosters as the store holds them now; past inspections from `since`.
pub async fn rosters(store: &Store, since: NaiveDate) -> Result<Rosters, SupervisionError> {
    let objects = store
        .object_roster()
        .await?
        .into_iter()
        .map(|o| Object {
            class: o.class.as_deref().and_then(|c| c.parse::<RiskClass>().ok()),
            established_on: parse_date(&o.established_on),
            last_inspected: o.last_inspected.as_deref().and_then(parse_date),
            uscc: o.uscc,
            name: o.name,
            legal_representative: o.legal_representative,
            address: o.address,
            division: o.division,
            industry: o.industry,
            kind: o.entity_type,
            open_case: o.open_case,
        })
        .collect();
    let inspectors = store
        .inspectors()
        .await?
        .into_iter()
        .map(|i| Inspector {
            competences: i
                .competences
                .split(';')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            id: i.id,
            name: i.name,
            certificate: i.certificate,
            department: i.department,
            available: i.available,
        })
        .collect();
    let relationships = store
        .relationships()
        .await?
        .into_iter()
        .map(|r| Relationship {
            inspector: r.inspector,
            subject: r.subject,
            kind: r.relationship,
        })
        .collect();
    let history = store
        .inspector_visits(&since.to_string())
        .await?
        .into_iter()
        .filter_map(|v| {
            Some(PastInspection {
                inspected_on: parse_date(&v.inspected_on)?,
                inspector: v.inspector,
                subject: v.subject,
            })
        })
        .collect();
    let mut rosters = Rosters {
        objects,
        inspectors,
        relationships,
        history,
    };
    rosters.canonicalise();
    Ok(rosters)
}

pub async fn create_plan(
    store: &Store,
    plan: &Plan,
    by: &str,
    now: &str,
) -> Result<(), SupervisionError> {
    plan.validate()?;
    store
        .create_plan(&PlanRow {
            id: plan.id.clone(),
            name: plan.name.clone(),
            definition: plan.to_json(),
            state: "draft".to_string(),
            window_start: plan.window.start.to_string(),
            window_end: plan.window.end.to_string(),
            created_at: now.to_string(),
            created_by: by.to_string(),
            committed_at: None,
            commitment_sha256: None,
            seed_sha256: None,
            seed: None,
            drawn_at: None,
            draw_summary: None,
        })
        .await?;
    Ok(())
}

/// A stored plan and its definition.
pub async fn stored_plan(store: &Store, id: &str) -> Result<(PlanRow, Plan), SupervisionError> {
    let row = store
        .plan(id)
        .await?
        .ok_or_else(|| refused(format!("no plan '{id}'")))?;
    let plan = Plan::from_json(&row.definition, &format!("plan {id}"))?;
    Ok((row, plan))
}

fn fresh_seed() -> Result<Seed, SupervisionError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SupervisionError::Random(e.to_string()))?;
    Ok(Seed::from_bytes(bytes))
}

/// Freezes a draft plan: writes its snapshots and commitment, keeps a fresh
/// secret seed in the store, and returns the commitment to publish.
pub async fn commit(
    store: &Store,
    data_dir: &Path,
    id: &str,
    now: &str,
) -> Result<(Commitment, String), SupervisionError> {
    let (row, plan) = stored_plan(store, id).await?;
    if row.state != "draft" {
        return Err(refused(format!(
            "plan {id} is {}: only a draft can be committed",
            row.state
        )));
    }
    let rosters = rosters(store, plan.recusal_since()).await?;
    let seed = fresh_seed()?;
    let bundle = Bundle::commit(&plan, &rosters, &seed, now)?;
    let dir = bundle_dir(data_dir, id);
    if dir.exists() {
        // left by a commit that did not reach the store: the plan is a draft
        std::fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
    }
    bundle.write_dir(&dir)?;
    let commitment = bundle.commitment()?;
    let published = bundle.commitment_sha256();
    store
        .commit_plan(id, now, &published, &commitment.seed_sha256, seed.as_str())
        .await?;
    Ok((commitment, published))
}

fn io(path: &Path, source: std::io::Error) -> SupervisionError {
    SupervisionError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What merging a draw's tasks into joint visits did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JointReport {
    /// Open tasks of all plans with windows overlapping this plan's.
    pub tasks: usize,
    pub visits: usize,
    /// Visits saved: tasks done together instead of one visit each.
    pub saved: usize,
    /// This plan's tasks that joined another plan's visit.
    pub joined: usize,
}

/// Reveals the seed of a committed plan, draws, stores the tasks and merges
/// them with other plans' into joint visits.
pub async fn draw(
    store: &Store,
    data_dir: &Path,
    id: &str,
    now: &str,
) -> Result<(Draw, JointReport), SupervisionError> {
    let (row, plan) = stored_plan(store, id).await?;
    if row.state != "committed" {
        return Err(refused(format!(
            "plan {id} is {}: only a committed plan can be drawn",
            row.state
        )));
    }
    let seed = row
        .seed
        .as_deref()
        .ok_or_else(|| refused(format!("plan {id} has no seed")))
        .and_then(|s| Seed::parse(s).map_err(refused))?;
    let dir = bundle_dir(data_dir, id);
    let mut bundle = Bundle::read_dir(&dir)?;
    if bundle.commitment_sha256() != row.commitment_sha256.clone().unwrap_or_default() {
        return Err(refused(format!(
            "the bundle in {} is not the one committed: its commitment hash changed",
            dir.display()
        )));
    }
    let result = bundle.draw(&seed)?;
    bundle.write_dir(&dir)?;
    let tasks = result
        .picks
        .iter()
        .map(|p| NewTask {
            rank: i64::from(p.rank),
            subject: p.uscc.clone(),
            class: p.class.map(|c| c.to_string()),
            object_key: p.key.clone(),
            inspectors: p.inspectors.clone(),
            unstaffed: p.unstaffed.clone(),
        })
        .collect();
    store
        .record_draw(id, now, &bundle::summary_json(&result), tasks)
        .await?;
    let joint = merge_joint_visits(store, id, plan.window).await?;
    Ok((result, joint))
}

/// Merges open tasks of plans whose windows overlap `window` into joint
/// visits and records the visit of each task that shares one.
pub async fn merge_joint_visits(
    store: &Store,
    plan: &str,
    window: Window,
) -> Result<JointReport, SupervisionError> {
    let rows = store
        .open_tasks_overlapping(&window.start.to_string(), &window.end.to_string())
        .await?;
    let tasks: Vec<PlannedTask> = rows
        .iter()
        .filter_map(|t| {
            Some(PlannedTask {
                task: t.id,
                plan: t.plan_id.clone(),
                uscc: t.subject.clone(),
                window: Window {
                    start: parse_date(&t.window_start)?,
                    end: parse_date(&t.window_end)?,
                },
                inspectors: t.inspector_ids().iter().map(|s| s.to_string()).collect(),
            })
        })
        .collect();
    let visits = joint::merge(&tasks);
    let mut assignments = Vec::new();
    let mut joined = 0;
    for visit in visits.iter().filter(|v| v.tasks.len() > 1) {
        let first = visit.tasks.iter().copied().min().unwrap_or_default();
        for task in &visit.tasks {
            assignments.push((*task, first));
        }
        if visit.plans.iter().any(|p| p == plan) {
            joined += 1;
        }
    }
    store.set_visits(&assignments).await?;
    Ok(JointReport {
        tasks: tasks.len(),
        visits: visits.len(),
        saved: joint::saved(tasks.len(), &visits),
        joined,
    })
}

/// Verifies a plan's bundle in the data directory against the commitment
/// hash the store published.
pub async fn verify(
    store: &Store,
    data_dir: &Path,
    id: &str,
) -> Result<VerifyReport, SupervisionError> {
    let (row, _) = stored_plan(store, id).await?;
    let Some(published) = row.commitment_sha256 else {
        return Err(refused(format!(
            "plan {id} is a draft: there is nothing to verify yet"
        )));
    };
    let bundle = Bundle::read_dir(&bundle_dir(data_dir, id))?;
    Ok(bundle::verify(&bundle, Some(&published)))
}

/// Copies a plan's published bundle to `out`. Before the draw the bundle
/// holds the snapshots and the commitment only.
pub async fn export(
    store: &Store,
    data_dir: &Path,
    id: &str,
    out: &Path,
) -> Result<usize, SupervisionError> {
    let (row, _) = stored_plan(store, id).await?;
    if row.state == "draft" {
        return Err(refused(format!(
            "plan {id} is a draft: nothing is published yet"
        )));
    }
    let bundle = Bundle::read_dir(&bundle_dir(data_dir, id))?;
    bundle.write_dir(out)?;
    Ok(std::fs::read_dir(out).map_err(|e| io(out, e))?.count())
}

/// Publishes a plan's recorded, unpublished results on `today`; returns
/// how many.
pub async fn publish(store: &Store, plan: &str, today: NaiveDate) -> Result<u64, SupervisionError> {
    let ids: Vec<i64> = store
        .tasks_of_plan(plan)
        .await?
        .iter()
        .filter(|t| t.state == "done" && t.published_on.is_none())
        .map(|t| t.id)
        .collect();
    Ok(store.publish_results(&ids, &today.to_string()).await?)
}

/// The working-day calendar from the holidays the store holds.
pub async fn calendar(store: &Store) -> Result<WorkCalendar, SupervisionError> {
    let mut calendar = WorkCalendar::default();
    for (day, kind, _) in store.holidays().await? {
        let Some(day) = parse_date(&day) else {
            continue;
        };
        if kind == "working_weekend" {
            calendar.working_weekends.insert(day);
        } else {
            calendar.holidays.insert(day);
        }
    }
    Ok(calendar)
}

/// Where a plan's tasks stand.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub tasks: usize,
    pub unstaffed: usize,
    pub assigned: usize,
    pub done: usize,
    pub problems: usize,
    pub published: usize,
    /// Done, not published, past the 20-working-day limit.
    pub overdue: usize,
    /// Published after the limit.
    pub published_late: usize,
    /// Tasks sharing a visit with another plan's.
    pub in_joint_visits: usize,
}

/// A done task's publication deadline and whether it is overdue on `today`.
pub fn publication_state(
    task: &store::TaskRow,
    calendar: &WorkCalendar,
    today: NaiveDate,
) -> Option<(NaiveDate, bool)> {
    let inspected = parse_date(task.inspected_on.as_deref()?)?;
    let due = calendar.publication_due(inspected);
    let overdue = match task.published_on.as_deref().and_then(parse_date) {
        Some(published) => published > due,
        None => today > due,
    };
    Some((due, overdue))
}

pub fn progress(tasks: &[store::TaskRow], calendar: &WorkCalendar, today: NaiveDate) -> Progress {
    let mut p = Progress {
        tasks: tasks.len(),
        ..Progress::default()
    };
    for task in tasks {
        match task.state.as_str() {
            "unstaffed" => p.unstaffed += 1,
            "assigned" => p.assigned += 1,
            _ => p.done += 1,
        }
        if task.visit_id.is_some() {
            p.in_joint_visits += 1;
        }
        if task.result.as_deref().is_some_and(results::is_problem) {
            p.problems += 1;
        }
        if task.published_on.is_some() {
            p.published += 1;
        }
        if let Some((_, true)) = publication_state(task, calendar, today) {
            if task.published_on.is_some() {
                p.published_late += 1;
            } else {
                p.overdue += 1;
            }
        }
    }
    p
}
