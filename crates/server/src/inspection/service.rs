//! What the inspection pages and API show and do: plans (public and
//! regulator views), commit and draw, verification, tasks, results, rosters
//! and the simulation report.
//!
//! The public sees committed and drawn plans, their commitment and seed
//! hashes, the drawn entities in code order and published results; never a
//! class, and nothing a class could be inferred from: not the seed (with it
//! anyone recomputes every entity's key, and a key above the quota of the
//! low-risk strata can only come from a high-risk one), not the keys, not
//! the ranks within strata, not the details of a failed check. Regulators
//! see everything, and entitled auditors get the full bundle
//! (`xinyong inspection export`) to re-run the draw; see docs/SECURITY.md.
//! An inspector sees and records the tasks they are on.

use chrono::NaiveDate;
use inspection::bundle::VerifyReport;
use inspection::calendar::WorkCalendar;
use inspection::plan::Plan;
use serde::{Deserialize, Serialize};
use store::{InspectorRow, PlanRow, TaskRow};
use supervision::results::{FindingInput, ResultInput};

use crate::AppState;
use crate::access::{Action, Principal};
use crate::http::Failure;

pub(crate) fn refused(e: supervision::SupervisionError) -> Failure {
    match e {
        supervision::SupervisionError::Refused(message) => Failure::BadRequest(message),
        supervision::SupervisionError::Inspection(e) => Failure::BadRequest(e.to_string()),
        other => Failure::Internal(other.to_string()),
    }
}

/// A plan as anyone may see it once committed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSummary {
    pub id: String,
    pub name: String,
    pub state: String,
    pub window_start: String,
    pub window_end: String,
    pub departments: Vec<String>,
    /// (code, name) of each item.
    pub items: Vec<(String, String)>,
    pub sampling: String,
    pub inspectors_per_object: u32,
    pub committed_at: Option<String>,
    /// Published at commit, before the draw.
    pub commitment_sha256: Option<String>,
    pub seed_sha256: Option<String>,
    /// Shown only once drawn.
    pub seed: Option<String>,
    pub drawn_at: Option<String>,
}

fn summary(row: &PlanRow, plan: &Plan) -> PlanSummary {
    PlanSummary {
        id: row.id.clone(),
        name: row.name.clone(),
        state: row.state.clone(),
        window_start: row.window_start.clone(),
        window_end: row.window_end.clone(),
        departments: plan.departments.clone(),
        items: plan
            .items
            .iter()
            .map(|i| (i.code.clone(), i.name.clone()))
            .collect(),
        sampling: plan.sampling.describe(),
        inspectors_per_object: plan.inspectors_per_object,
        committed_at: row.committed_at.clone(),
        commitment_sha256: row.commitment_sha256.clone(),
        seed_sha256: row.seed_sha256.clone(),
        seed: row.revealed_seed().map(str::to_string),
        drawn_at: row.drawn_at.clone(),
    }
}

/// Every plan (`public`: committed and drawn ones only), newest first.
pub async fn plans(state: &AppState, public: bool) -> Result<Vec<PlanSummary>, Failure> {
    let mut out = Vec::new();
    for row in state.store.plans().await? {
        if public && row.state == "draft" {
            continue;
        }
        let plan = Plan::from_json(&row.definition, &row.id)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let mut summary = summary(&row, &plan);
        if public {
            summary.seed = None;
        }
        out.push(summary);
    }
    Ok(out)
}

async fn plan_of(state: &AppState, id: &str) -> Result<(PlanRow, Plan), Failure> {
    match supervision::stored_plan(&state.store, id).await {
        Ok(found) => Ok(found),
        Err(supervision::SupervisionError::Refused(_)) => {
            Err(Failure::NotFound(format!("no plan '{id}'")))
        }
        Err(e) => Err(Failure::Internal(e.to_string())),
    }
}

/// A drawn entity as the public sees it: no rank or key, which would tell
/// its stratum.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicPick {
    pub uscc: String,
    pub name: String,
    pub staffed: bool,
    pub result: Option<String>,
    pub inspected_on: Option<String>,
    pub published_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicPlan {
    pub plan: PlanSummary,
    pub picks: Vec<PublicPick>,
}

/// A committed or drawn plan as the public sees it; drafts are not found.
pub async fn public_plan(state: &AppState, id: &str) -> Result<PublicPlan, Failure> {
    let (row, plan) = plan_of(state, id).await?;
    if row.state == "draft" {
        return Err(Failure::NotFound(format!("no plan '{id}'")));
    }
    let mut picks: Vec<PublicPick> = state
        .store
        .tasks_of_plan(id)
        .await?
        .into_iter()
        .map(|t| {
            let published = t.published_on.is_some();
            PublicPick {
                staffed: t.unstaffed.is_none(),
                result: if published { t.result.clone() } else { None },
                inspected_on: if published {
                    t.inspected_on.clone()
                } else {
                    None
                },
                published_on: t.published_on.clone(),
                uscc: t.subject,
                name: t.subject_name,
            }
        })
        .collect();
    // Code order: the order of the draw is by stratum.
    picks.sort_by(|a, b| a.uscc.cmp(&b.uscc));
    let mut plan = summary(&row, &plan);
    plan.seed = None;
    Ok(PublicPlan { plan, picks })
}

/// A task with its publication deadline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[schema(value_type = Object)]
    pub task: TaskRow,
    pub due: Option<String>,
    pub overdue: bool,
}

/// The day it is at `now` where the server runs (the city's local day).
fn local_day(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    now.with_timezone(&chrono::Local).date_naive()
}

fn task_views(tasks: Vec<TaskRow>, calendar: &WorkCalendar, today: NaiveDate) -> Vec<TaskView> {
    tasks
        .into_iter()
        .map(|task| {
            let publication = supervision::publication_state(&task, calendar, today);
            TaskView {
                due: publication.map(|(d, _)| d.to_string()),
                overdue: publication.is_some_and(|(_, o)| o),
                task,
            }
        })
        .collect()
}

/// Everything about a plan, for regulators.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanDetail {
    pub plan: PlanSummary,
    #[schema(value_type = Object)]
    pub definition: Plan,
    /// Counts per stratum, exclusions and workload, once drawn.
    #[schema(value_type = Object)]
    pub draw: Option<serde_json::Value>,
    pub tasks: Vec<TaskView>,
    #[schema(value_type = Object)]
    pub progress: supervision::Progress,
}

/// A plan in full, for those who manage inspections; audited (it carries
/// every task's risk class and team).
pub async fn plan_detail(
    state: &AppState,
    who: &Principal,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PlanDetail, Failure> {
    crate::service::require(state, who, Action::ManageInspections, id).await?;
    let (row, plan) = plan_of(state, id).await?;
    state
        .audit(
            &who.actor,
            "view_plan_detail",
            &format!("plan:{id}"),
            "ok",
            serde_json::json!({}),
        )
        .await?;
    let tasks = state.store.tasks_of_plan(id).await?;
    let calendar = supervision::calendar(&state.store).await.map_err(refused)?;
    let progress = supervision::progress(&tasks, &calendar, local_day(now));
    Ok(PlanDetail {
        plan: summary(&row, &plan),
        draw: row
            .draw_summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        tasks: task_views(tasks, &calendar, local_day(now)),
        progress,
        definition: plan,
    })
}

pub async fn create(
    state: &AppState,
    who: &Principal,
    plan: &Plan,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    crate::service::require(state, who, Action::ManageInspections, &plan.id).await?;
    supervision::create_plan(&state.store, plan, &who.actor, &crate::stamp(now))
        .await
        .map_err(|e| match e {
            supervision::SupervisionError::Store(store::StoreError::Conflict(m)) => {
                Failure::BadRequest(m)
            }
            other => refused(other),
        })?;
    state
        .audit(
            &who.actor,
            "inspection_plan_create",
            &plan.id,
            "ok",
            serde_json::json!({"plan": plan}),
        )
        .await
}

/// What commit publishes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Committed {
    pub commitment_sha256: String,
    pub seed_sha256: String,
    /// (file, sha256, rows)
    pub files: Vec<(String, String, u64)>,
}

pub async fn commit(
    state: &AppState,
    who: &Principal,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Committed, Failure> {
    crate::service::require(state, who, Action::ManageInspections, id).await?;
    plan_of(state, id).await?;
    let (commitment, published) =
        supervision::commit(&state.store, &state.config.data_dir, id, &crate::stamp(now))
            .await
            .map_err(refused)?;
    let committed = Committed {
        commitment_sha256: published,
        seed_sha256: commitment.seed_sha256.clone(),
        files: commitment
            .files
            .iter()
            .map(|f| (f.name.clone(), f.sha256.clone(), f.rows))
            .collect(),
    };
    state
        .audit(
            &who.actor,
            "inspection_commit",
            id,
            "ok",
            serde_json::json!(committed),
        )
        .await?;
    Ok(committed)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Drawn {
    pub drawn: usize,
    pub staffed: usize,
    pub unstaffed: usize,
    #[schema(value_type = Object)]
    pub joint: supervision::JointReport,
}

pub async fn draw(
    state: &AppState,
    who: &Principal,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Drawn, Failure> {
    crate::service::require(state, who, Action::ManageInspections, id).await?;
    plan_of(state, id).await?;
    let (result, joint) =
        supervision::draw(&state.store, &state.config.data_dir, id, &crate::stamp(now))
            .await
            .map_err(refused)?;
    let drawn = Drawn {
        drawn: result.picks.len(),
        staffed: result.staffed().count(),
        unstaffed: result.unstaffed().count(),
        joint,
    };
    state
        .audit(
            &who.actor,
            "inspection_draw",
            id,
            "ok",
            serde_json::json!(drawn),
        )
        .await?;
    Ok(drawn)
}

/// Recomputes a committed plan's draw from its bundle. The outcome is kept
/// while the bundle's files stay as they were (same names, sizes and
/// modification times): at city scale a verification reads 160 MB and takes
/// over a second, and public pages would repeat it on every view.
pub async fn verify(state: &AppState, id: &str) -> Result<VerifyReport, Failure> {
    let (row, _) = plan_of(state, id).await?;
    if row.state == "draft" {
        return Err(Failure::NotFound(format!("no plan '{id}'")));
    }
    let published = row.commitment_sha256.unwrap_or_default();
    let dir = supervision::bundle_dir(&state.config.data_dir, id);
    let stamp = format!("{published} {}", bundle_stamp(&dir));
    if let Some(report) = state.verifications.lock().ok().and_then(|cache| {
        cache
            .get(id)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, r)| r.clone())
    }) {
        return Ok(report);
    }
    let report = tokio::task::spawn_blocking(move || {
        inspection::Bundle::read_dir(&dir).map(|b| inspection::bundle::verify(&b, Some(&published)))
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?
    .map_err(|e| Failure::Internal(e.to_string()))?;
    if let Ok(mut cache) = state.verifications.lock() {
        cache.insert(id.to_string(), (stamp, report.clone()));
    }
    Ok(report)
}

/// A verification as the public may read it: each check's name and
/// outcome; the details of a failed one (lines of the draw, with strata)
/// are for auditors.
pub fn public_report(mut report: VerifyReport) -> VerifyReport {
    for check in &mut report.checks {
        if !check.ok {
            check.detail = "differs; the details are for auditors".into();
        }
    }
    report
}

/// Names, sizes and modification times of a bundle's files: what changes
/// when any file is rewritten.
fn bundle_stamp(dir: &std::path::Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            Some(format!(
                "{}:{}:{modified}",
                e.file_name().to_string_lossy(),
                meta.len()
            ))
        })
        .collect();
    files.sort();
    files.join(",")
}

/// The inspector a signed-in user is, if linked.
pub async fn inspector_of(
    state: &AppState,
    who: &Principal,
) -> Result<Option<InspectorRow>, Failure> {
    let Some(username) = who.actor.strip_prefix("user:") else {
        return Ok(None);
    };
    Ok(state.store.inspector_of_account(username).await?)
}

pub async fn my_tasks(
    state: &AppState,
    who: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Option<InspectorRow>, Vec<TaskView>), Failure> {
    crate::service::require(state, who, Action::ViewOwnTasks, "").await?;
    crate::service::audit_read(state, who, "view_own_tasks", "").await?;
    let Some(inspector) = inspector_of(state, who).await? else {
        return Ok((None, Vec::new()));
    };
    let tasks = state.store.tasks_of_inspector(&inspector.id).await?;
    let calendar = supervision::calendar(&state.store).await.map_err(refused)?;
    Ok((
        Some(inspector),
        task_views(tasks, &calendar, local_day(now)),
    ))
}

/// A task and whether `who` may record its result: an inspector on its
/// team, or a regulator.
pub async fn task_for(
    state: &AppState,
    who: &Principal,
    task_id: i64,
) -> Result<(TaskRow, Plan), Failure> {
    // Neither an inspector nor a regulator: refused before the task is read
    // (the public is sent to sign in).
    if !crate::access::allows(who, Action::ViewOwnTasks)
        && !crate::access::allows(who, Action::ManageInspections)
    {
        crate::service::require(state, who, Action::ViewOwnTasks, &format!("task:{task_id}"))
            .await?;
    }
    let task = state
        .store
        .task(task_id)
        .await?
        .ok_or_else(|| Failure::NotFound(format!("no task {task_id}")))?;
    // The account link alone is not enough: the account must hold the
    // inspector role now (a link outlives a role taken away).
    let on_team = match inspector_of(state, who).await? {
        Some(inspector) => {
            who.has(crate::access::Role::Inspector)
                && task.inspector_ids().contains(&inspector.id.as_str())
        }
        None => false,
    };
    if !on_team && !who.has(crate::access::Role::Regulator) {
        state
            .audit(
                &who.actor,
                "record_inspection_result",
                &task_id.to_string(),
                "denied",
                serde_json::json!({}),
            )
            .await?;
        return Err(Failure::Forbidden);
    }
    let (_, plan) = plan_of(state, &task.plan_id).await?;
    Ok((task, plan))
}

/// Records a task's result through the lake and the store.
pub async fn record_result(
    state: &AppState,
    who: &Principal,
    task_id: i64,
    inspected_on: NaiveDate,
    findings: Vec<FindingInput>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let (task, _) = task_for(state, who, task_id).await?;
    let input = ResultInput {
        plan: task.plan_id.clone(),
        subject: task.subject.clone(),
        inspected_on,
        findings,
        source: format!("task {task_id}"),
    };
    let mut guard = state.ingest.lock().await;
    let lock = crate::registry::service::lake_lock(state)
        .await
        .map_err(Failure::BadRequest)?;
    let (_, known) = crate::registry::service::fresh_known(state, &mut guard)
        .await
        .map_err(Failure::Internal)?;
    let recorded = supervision::results::record(
        &state.store,
        &lock,
        &state.catalog,
        known,
        &state.config.data_dir,
        &[input],
        &who.actor,
        &crate::stamp(now),
    )
    .await;
    match &recorded {
        Ok(r) => crate::registry::service::keep_if_fresh(state, &mut guard, r.batches.len()).await,
        Err(_) => *guard = None,
    }
    // The result's audit entry was written with it (`record`).
    recorded.map(|_| ()).map_err(refused)
}

/// Sends into the lake the results a killed server recorded and did not
/// send (`supervision::results::send_to_lake`), under the lake's lock.
pub(crate) async fn send_unsent_results(
    state: &AppState,
    lock: &lake::WriteLock,
) -> Result<(), String> {
    if state
        .store
        .tasks_to_send()
        .await
        .map_err(|e| e.to_string())?
        .is_empty()
    {
        return Ok(());
    }
    let mut guard = state.ingest.lock().await;
    let (_, known) = crate::registry::service::fresh_known(state, &mut guard).await?;
    let sent = supervision::results::send_to_lake(
        &state.store,
        lock,
        &state.catalog,
        known,
        &state.config.data_dir,
        &crate::stamp(chrono::Utc::now()),
    )
    .await;
    match &sent {
        Ok(batches) => {
            crate::registry::service::keep_if_fresh(state, &mut guard, batches.len()).await
        }
        Err(_) => *guard = None,
    }
    sent.map(|_| ()).map_err(|e| e.to_string())
}

pub async fn publish(
    state: &AppState,
    who: &Principal,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, Failure> {
    crate::service::require(state, who, Action::ManageInspections, id).await?;
    plan_of(state, id).await?;
    let published = supervision::publish(&state.store, id, local_day(now))
        .await
        .map_err(refused)?;
    state
        .audit(
            &who.actor,
            "inspection_publish",
            id,
            "ok",
            serde_json::json!({"published": published}),
        )
        .await?;
    Ok(published)
}

/// The last simulation report, if one was run (regulators).
pub async fn simulation(
    state: &AppState,
    who: &Principal,
) -> Result<Option<serde_json::Value>, Failure> {
    crate::service::require(state, who, Action::ManageInspections, "").await?;
    crate::service::audit_read(state, who, "view_simulation", "").await?;
    let path = supervision::simulation::report_path(&state.config.data_dir);
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&text).ok())
}

/// Every plan, drafts included, for those who manage inspections.
pub async fn managed_plans(state: &AppState, who: &Principal) -> Result<Vec<PlanSummary>, Failure> {
    crate::service::require(state, who, Action::ManageInspections, "").await?;
    crate::service::audit_read(state, who, "view_plans", "").await?;
    plans(state, false).await
}

pub fn day(text: &str, what: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a date (YYYY-MM-DD)")))
}

/// One change to the rosters: `change` says which, the rest its fields.
#[derive(Deserialize)]
pub struct RosterChange {
    #[serde(default)]
    pub csrf: String,
    pub change: String,
    #[serde(default)]
    pub inspector: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub relationship: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub day: String,
    #[serde(default)]
    pub kind: String,
}

/// What the rosters page shows, for those who manage inspections.
pub struct Rosters {
    pub inspectors: Vec<InspectorRow>,
    pub relationships: Vec<store::RelationshipRow>,
    /// (subject, opened on, note).
    pub cases: Vec<(String, String, String)>,
    /// (day, kind, note).
    pub holidays: Vec<(String, String, String)>,
}

pub async fn rosters(state: &AppState, who: &Principal) -> Result<Rosters, Failure> {
    crate::service::require(state, who, Action::ManageInspections, "").await?;
    crate::service::audit_read(state, who, "view_rosters", "").await?;
    Ok(Rosters {
        inspectors: state.store.inspectors().await?,
        relationships: state.store.relationships().await?,
        cases: state.store.open_cases().await?,
        holidays: state.store.holidays().await?,
    })
}

/// Applies one change to the rosters; audited.
pub async fn change_roster(
    state: &AppState,
    who: &Principal,
    form: &RosterChange,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    crate::service::require(state, who, Action::ManageInspections, "").await?;
    let now = crate::stamp(now);
    let subject_code = || {
        form.subject
            .trim()
            .parse::<domain::Uscc>()
            .map(|u| u.to_string())
            .map_err(|e| {
                Failure::BadRequest(format!("'{}' is not a valid code: {e}", form.subject))
            })
    };
    match form.change.as_str() {
        "available" | "unavailable" => {
            let found = state
                .store
                .set_inspector_available(&form.inspector, form.change == "available", &now)
                .await?;
            if !found {
                return Err(Failure::NotFound(format!(
                    "no inspector '{}'",
                    form.inspector
                )));
            }
        }
        "relationship" => {
            if state.store.inspector(&form.inspector).await?.is_none() {
                return Err(Failure::NotFound(format!(
                    "no inspector '{}'",
                    form.inspector
                )));
            }
            let relationship = form.relationship.trim();
            if relationship.is_empty() {
                return Err(Failure::BadRequest("a relationship needs its kind".into()));
            }
            state
                .store
                .add_relationships(
                    &[store::RelationshipRow {
                        inspector: form.inspector.clone(),
                        subject: subject_code()?,
                        relationship: relationship.to_string(),
                    }],
                    &now,
                )
                .await?;
        }
        "open_case" => {
            state
                .store
                .open_case(
                    &subject_code()?,
                    &now[..10.min(now.len())],
                    form.note.trim(),
                )
                .await?;
        }
        "close_case" => {
            state.store.close_case(&subject_code()?).await?;
        }
        "holiday" => {
            let day = day(&form.day, "day")?;
            if form.kind != "holiday" && form.kind != "working_weekend" {
                return Err(Failure::BadRequest(format!(
                    "'{}' is not holiday or working_weekend",
                    form.kind
                )));
            }
            state
                .store
                .set_holidays(&[(
                    day.to_string(),
                    form.kind.clone(),
                    form.note.trim().to_string(),
                )])
                .await?;
        }
        other => return Err(Failure::BadRequest(format!("unknown change '{other}'"))),
    }
    state
        .audit(
            &who.actor,
            "inspection_roster_change",
            &form.change,
            "ok",
            serde_json::json!({"inspector": form.inspector, "subject": form.subject, "relationship": form.relationship, "day": form.day}),
        )
        .await?;
    Ok(())
}

/// Imports a roster file (`kind`: inspectors, relationships or history);
/// a file with a bad row stores nothing and the error names the row.
/// Audited.
pub async fn import_roster(
    state: &AppState,
    who: &Principal,
    kind: &str,
    file: &str,
    bytes: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    crate::service::require(state, who, Action::ManageInspections, "").await?;
    let store = &state.store;
    let imported = match kind {
        "inspectors" => {
            supervision::roster_files::import_inspectors(store, bytes, file, &crate::stamp(now))
                .await
        }
        "relationships" => {
            supervision::roster_files::import_relationships(store, bytes, file, &crate::stamp(now))
                .await
        }
        "history" => supervision::roster_files::import_history(store, bytes, file).await,
        other => return Err(Failure::BadRequest(format!("unknown roster '{other}'"))),
    }
    .map_err(refused)?;
    state
        .audit(
            &who.actor,
            "inspection_roster_import",
            kind,
            "ok",
            serde_json::json!({"file": file, "rows": imported}),
        )
        .await?;
    Ok(())
}

/// A task, its plan and its findings, for its team or a regulator.
pub async fn task_detail(
    state: &AppState,
    who: &Principal,
    task_id: i64,
) -> Result<(TaskRow, Plan, Vec<store::FindingRow>), Failure> {
    let (task, plan) = task_for(state, who, task_id).await?;
    let findings = state.store.findings(task_id).await?;
    Ok((task, plan, findings))
}
