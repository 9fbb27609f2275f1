//! Inspection results: per task and item, what was found, recorded by the
//! inspectors or imported from a file, then sent into the record lake.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use domain::Catalog;
use ingest::batch::{BatchRequest, BatchResult, Known};
use store::{BatchRow, FindingRow, Store, TaskResult};

use crate::{SupervisionError, io, parse_date, refused, stored_plan};

/// What an inspector may record per item.
pub const OUTCOMES: [&str; 4] = ["no_problem", "problem_found", "not_found", "closed"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingInput {
    pub item: String,
    pub outcome: String,
    pub problem_type: String,
    pub description: String,
}

/// One task's result to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultInput {
    pub plan: String,
    pub subject: String,
    pub inspected_on: NaiveDate,
    pub findings: Vec<FindingInput>,
    /// Where it came from, for error messages: "results.csv row 4".
    pub source: String,
}

/// The task's overall result in the catalog's terms (`inspection_result`).
pub fn task_result(findings: &[FindingInput]) -> &'static str {
    if findings.iter().any(|f| f.outcome == "not_found") {
        "not_found_at_address"
    } else if findings.iter().any(|f| f.outcome == "closed") {
        "closed_down"
    } else if findings.iter().any(|f| f.outcome == "problem_found") {
        "problem_found"
    } else {
        "no_problem"
    }
}

/// Whether a catalog result counts as a problem found (as the risk model's
/// labels count it).
pub fn is_problem(result: &str) -> bool {
    matches!(
        result,
        "problem_found" | "problem_corrected" | "not_found_at_address"
    )
}

pub const RESULT_COLUMNS: [&str; 7] = [
    "plan",
    "uscc",
    "item",
    "outcome",
    "problem_type",
    "description",
    "inspected_on",
];

/// Reads a results file: one row per task and item. Rows of one task are
/// grouped; every rule broken is reported with its row and field.
pub fn read_results(path: &Path) -> Result<Vec<ResultInput>, SupervisionError> {
    let file = path.display().to_string();
    let reader = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let rows = inspection::roster::read_rows(reader, &file, &RESULT_COLUMNS, |row| {
        let outcome = row.required("outcome")?;
        if !OUTCOMES.contains(&outcome.as_str()) {
            return Err(row.fail(
                "outcome",
                format!("'{outcome}' is not one of {}", OUTCOMES.join(", ")),
            ));
        }
        let problem_type = row.text("problem_type").to_string();
        if outcome == "problem_found" && problem_type.is_empty() {
            return Err(row.fail("problem_type", "a problem found needs its type"));
        }
        let inspected_on = row
            .date("inspected_on")?
            .ok_or_else(|| row.fail("inspected_on", "must not be empty"))?;
        Ok((
            row.required("plan")?,
            row.required("uscc")?,
            inspected_on,
            FindingInput {
                item: row.required("item")?,
                outcome,
                problem_type,
                description: row.text("description").to_string(),
            },
            format!("{file} row {}", row.line()),
        ))
    })?;
    let mut grouped: BTreeMap<(String, String), ResultInput> = BTreeMap::new();
    for (plan, subject, inspected_on, finding, source) in rows {
        let entry = grouped
            .entry((plan.clone(), subject.clone()))
            .or_insert_with(|| ResultInput {
                plan,
                subject,
                inspected_on,
                findings: Vec::new(),
                source: source.clone(),
            });
        if entry.inspected_on != inspected_on {
            return Err(refused(format!(
                "{source}, field 'inspected_on': one task has one inspection date ({} above)",
                entry.inspected_on
            )));
        }
        entry.findings.push(finding);
    }
    Ok(grouped.into_values().collect())
}

/// What recording did.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub tasks: usize,
    pub problems: usize,
    /// The lake batches that carried the results, one per department.
    pub batches: Vec<BatchRow>,
}

/// Records results: checks every one first (nothing is stored if any is
/// wrong), sends them into the lake as `inspection_result` records of the
/// plan's lead department, then marks the tasks done.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    store: &Store,
    lock: &lake::WriteLock,
    catalog: &Catalog,
    known: &mut Known,
    data_dir: &Path,
    inputs: &[ResultInput],
    by: &str,
    now: &str,
) -> Result<Recorded, SupervisionError> {
    // check everything before anything is written
    let mut checked = Vec::new();
    let mut plans = BTreeMap::new();
    for input in inputs {
        if !plans.contains_key(&input.plan) {
            let (_, plan) = stored_plan(store, &input.plan)
                .await
                .map_err(|e| refused(format!("{}: {e}", input.source)))?;
            plans.insert(input.plan.clone(), plan);
        }
        let plan = &plans[&input.plan];
        let task = store
            .task_of(&input.plan, &input.subject)
            .await?
            .ok_or_else(|| {
                refused(format!(
                    "{}: {} was not drawn in plan {}",
                    input.source, input.subject, input.plan
                ))
            })?;
        if task.state != "assigned" {
            return Err(refused(format!(
                "{}: the task for {} in plan {} is {}, not open for a result",
                input.source, input.subject, input.plan, task.state
            )));
        }
        if input.inspected_on < plan.window.start {
            return Err(refused(format!(
                "{}, field 'inspected_on': {} is before the plan's window ({} to {})",
                input.source, input.inspected_on, plan.window.start, plan.window.end
            )));
        }
        if input.inspected_on > parse_date(now).unwrap_or(NaiveDate::MAX) {
            return Err(refused(format!(
                "{}, field 'inspected_on': {} is in the future",
                input.source, input.inspected_on
            )));
        }
        if input.findings.is_empty() {
            return Err(refused(format!(
                "{}: a result needs at least one finding",
                input.source
            )));
        }
        for finding in &input.findings {
            if !OUTCOMES.contains(&finding.outcome.as_str()) {
                return Err(refused(format!(
                    "{}, item {}: outcome '{}' is not one of {}",
                    input.source,
                    finding.item,
                    finding.outcome,
                    OUTCOMES.join(", ")
                )));
            }
            if finding.outcome == "problem_found" && finding.problem_type.trim().is_empty() {
                return Err(refused(format!(
                    "{}, item {}: a problem found needs its type",
                    input.source, finding.item
                )));
            }
            if !plan.items.iter().any(|i| i.code == finding.item) {
                return Err(refused(format!(
                    "{}, field 'item': '{}' is not an item of plan {} ({})",
                    input.source,
                    finding.item,
                    input.plan,
                    plan.items
                        .iter()
                        .map(|i| i.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        checked.push((task, input));
    }
    if checked.is_empty() {
        return Ok(Recorded {
            tasks: 0,
            problems: 0,
            batches: Vec::new(),
        });
    }

    // What an earlier call left unsent goes first, as it was: the same
    // tasks make the same bytes, which the lake knows if they got there.
    let mut batches = send_to_lake(store, lock, catalog, known, data_dir, now).await?;

    // The store first, each task with its findings and its audit entry in
    // one transaction; then the lake, from what the store holds.
    let mut problems = 0;
    for (task, input) in &checked {
        let result = task_result(&input.findings);
        if is_problem(result) {
            problems += 1;
        }
        let findings = input
            .findings
            .iter()
            .map(|f| FindingRow {
                task_id: task.id,
                item: f.item.clone(),
                outcome: f.outcome.clone(),
                problem_type: f.problem_type.clone(),
                description: f.description.clone(),
                recorded_at: now.to_string(),
                recorded_by: by.to_string(),
            })
            .collect();
        let subject = task.id.to_string();
        let audit = store::NewAuditEntry {
            actor: by,
            action: "record_inspection_result",
            subject: &subject,
            outcome: "ok",
            detail: serde_json::json!({"plan": input.plan, "subject": input.subject, "result": result}),
        };
        store
            .record_result_audited(
                task.id,
                &TaskResult {
                    inspected_on: input.inspected_on.to_string(),
                    result: result.to_string(),
                    findings,
                    recorded_at: now.to_string(),
                    recorded_by: by.to_string(),
                },
                Some(&audit),
            )
            .await?;
    }
    batches.extend(send_to_lake(store, lock, catalog, known, data_dir, now).await?);
    Ok(Recorded {
        tasks: checked.len(),
        problems,
        batches,
    })
}

/// Sends the results of every task done and not yet in the lake
/// ([`Store::tasks_to_send`]) as `inspection_result` records, one batch per
/// lead department, built from what the store holds in task order: sent
/// again after a crash, the same tasks give the same bytes, and a batch
/// that got in is found as already ingested instead of stored twice. The
/// server calls this when it starts.
pub async fn send_to_lake(
    store: &Store,
    lock: &lake::WriteLock,
    catalog: &Catalog,
    known: &mut Known,
    data_dir: &Path,
    now: &str,
) -> Result<Vec<BatchRow>, SupervisionError> {
    let tasks = store.tasks_to_send().await?;
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let mut plans = BTreeMap::new();
    let mut by_department: BTreeMap<String, (Vec<i64>, Vec<Vec<String>>)> = BTreeMap::new();
    for task in &tasks {
        if !plans.contains_key(&task.plan_id) {
            let (_, plan) = stored_plan(store, &task.plan_id).await?;
            plans.insert(task.plan_id.clone(), plan);
        }
        let plan = &plans[&task.plan_id];
        let findings = store.findings(task.id).await?;
        let department = plan.departments.first().cloned().unwrap_or_default();
        let authority = catalog
            .department(&department)
            .map(|d| d.name_zh.clone())
            .unwrap_or_else(|| department.clone());
        let items: Vec<&str> = findings
            .iter()
            .filter_map(|f| plan.items.iter().find(|i| i.code == f.item))
            .map(|i| i.name.as_str())
            .collect();
        let problems: Vec<&str> = findings
            .iter()
            .filter(|f| f.outcome == "problem_found")
            .map(|f| f.problem_type.as_str())
            .collect();
        let (ids, rows) = by_department.entry(department).or_default();
        ids.push(task.id);
        rows.push(vec![
            task.subject.clone(),
            format!("{}-{:06}", task.plan_id, task.id),
            truncate(&items.join("；"), 200),
            task.inspected_on.clone().unwrap_or_default(),
            task.result.clone().unwrap_or_default(),
            truncate(&problems.join("；"), 500),
            authority,
        ]);
    }
    let dir = data_dir.join("inspection").join("results");
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let lake = lake::Lake::new(data_dir);
    let stamp: String = now.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut batches = Vec::new();
    for (department, (ids, rows)) in by_department {
        let first = ids.first().copied().unwrap_or_default();
        let path = dir.join(format!("{department}-{stamp}-{first}.csv"));
        write_result_file(&path, &rows)?;
        let request = BatchRequest {
            path: path.clone(),
            department,
            item: "inspection_result".to_string(),
            format: ingest::FileFormat::Csv,
            encoding: None,
            file_name: None,
            replaces: None,
        };
        let batch = match ingest::batch::ingest(store, &lake, lock, catalog, known, request).await?
        {
            BatchResult::Committed(batch) | BatchResult::AlreadyIngested(batch) => batch,
        };
        store.sent_to_lake(&ids, batch.id).await?;
        batches.push(batch);
    }
    Ok(batches)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn write_result_file(path: &Path, rows: &[Vec<String>]) -> Result<(), SupervisionError> {
    let mut out = String::from(
        "subject,task_number,inspection_item,inspected_on,result,follow_up,authority\n",
    );
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| io(path, e))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
