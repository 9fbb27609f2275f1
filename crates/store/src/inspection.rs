//! Double random, one public: rosters, plans, tasks, findings, holidays.
//!
//! The store keeps plain rows; the `inspection` crate gives them meaning.

use serde::Serialize;
use sqlx::Row;

use crate::{Cell, NewAuditEntry, Store, StoreError, insert_rows};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InspectorRow {
    pub id: String,
    pub name: String,
    pub certificate: String,
    pub department: String,
    /// `;` between fields of competence.
    pub competences: String,
    pub available: bool,
    /// The user who signs in as this inspector.
    pub account: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RelationshipRow {
    pub inspector: String,
    pub subject: String,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InspectorVisitRow {
    pub inspector: String,
    pub subject: String,
    pub inspected_on: String,
    pub source: String,
}

/// One entry of the object roster, from the registry, the latest screening,
/// the inspection records and the open cases.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ObjectRosterRow {
    pub uscc: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
    pub division: String,
    pub industry: String,
    pub entity_type: String,
    pub established_on: String,
    pub class: Option<String>,
    pub last_inspected: Option<String>,
    pub open_case: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanRow {
    pub id: String,
    pub name: String,
    pub definition: String,
    pub state: String,
    pub window_start: String,
    pub window_end: String,
    pub created_at: String,
    pub created_by: String,
    pub committed_at: Option<String>,
    pub commitment_sha256: Option<String>,
    pub seed_sha256: Option<String>,
    /// Secret until the plan is drawn; never shown before.
    pub seed: Option<String>,
    pub drawn_at: Option<String>,
    pub draw_summary: Option<String>,
}

impl PlanRow {
    /// The seed, only once it has been revealed by the draw.
    pub fn revealed_seed(&self) -> Option<&str> {
        (self.state == "drawn")
            .then_some(self.seed.as_deref())
            .flatten()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TaskRow {
    pub id: i64,
    pub plan_id: String,
    pub rank: i64,
    pub subject: String,
    pub subject_name: String,
    pub class: Option<String>,
    pub object_key: String,
    /// `;` between inspector ids.
    pub inspectors: String,
    pub unstaffed: Option<String>,
    pub visit_id: Option<i64>,
    pub window_start: String,
    pub window_end: String,
    pub state: String,
    pub inspected_on: Option<String>,
    pub result: Option<String>,
    pub recorded_at: Option<String>,
    pub recorded_by: Option<String>,
    pub published_on: Option<String>,
}

impl TaskRow {
    pub fn inspector_ids(&self) -> Vec<&str> {
        self.inspectors
            .split(';')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// A drawn object to store as a task.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub rank: i64,
    pub subject: String,
    pub class: Option<String>,
    pub object_key: String,
    pub inspectors: Vec<String>,
    pub unstaffed: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FindingRow {
    pub task_id: i64,
    pub item: String,
    pub outcome: String,
    pub problem_type: String,
    pub description: String,
    pub recorded_at: String,
    pub recorded_by: String,
}

/// A task's result as recorded: what the inspection found on which day.
#[derive(Debug, Clone)]
pub struct TaskResult {
    pub inspected_on: String,
    pub result: String,
    pub findings: Vec<FindingRow>,
    pub recorded_at: String,
    pub recorded_by: String,
}

const PLAN_COLUMNS: &str = "id, name, definition, state, window_start, window_end, created_at, \
     created_by, committed_at, commitment_sha256, seed_sha256, seed, drawn_at, draw_summary";

const TASK_SELECT: &str = "SELECT t.id, t.plan_id, t.rank, t.subject, COALESCE(e.name, '') AS subject_name, t.class, \
     t.object_key, t.inspectors, t.unstaffed, t.visit_id, t.window_start, t.window_end, t.state, \
     t.inspected_on, t.result, t.recorded_at, t.recorded_by, t.published_on \
     FROM inspection_tasks t LEFT JOIN entities e ON e.uscc = t.subject";

fn plan_row(r: &sqlx::any::AnyRow) -> PlanRow {
    PlanRow {
        id: r.get("id"),
        name: r.get("name"),
        definition: r.get("definition"),
        state: r.get("state"),
        window_start: r.get("window_start"),
        window_end: r.get("window_end"),
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        committed_at: r.get("committed_at"),
        commitment_sha256: r.get("commitment_sha256"),
        seed_sha256: r.get("seed_sha256"),
        seed: r.get("seed"),
        drawn_at: r.get("drawn_at"),
        draw_summary: r.get("draw_summary"),
    }
}

fn task_row(r: &sqlx::any::AnyRow) -> TaskRow {
    TaskRow {
        id: r.get("id"),
        plan_id: r.get("plan_id"),
        rank: r.get("rank"),
        subject: r.get("subject"),
        subject_name: r.get("subject_name"),
        class: r.get("class"),
        object_key: r.get("object_key"),
        inspectors: r.get("inspectors"),
        unstaffed: r.get("unstaffed"),
        visit_id: r.get("visit_id"),
        window_start: r.get("window_start"),
        window_end: r.get("window_end"),
        state: r.get("state"),
        inspected_on: r.get("inspected_on"),
        result: r.get("result"),
        recorded_at: r.get("recorded_at"),
        recorded_by: r.get("recorded_by"),
        published_on: r.get("published_on"),
    }
}

const INSPECTOR_SELECT: &str =
    "SELECT id, name, certificate, department, competences, available, account FROM inspectors";

fn inspector_row(r: &sqlx::any::AnyRow) -> InspectorRow {
    InspectorRow {
        id: r.get("id"),
        name: r.get("name"),
        certificate: r.get("certificate"),
        department: r.get("department"),
        competences: r.get("competences"),
        available: r.get::<i64, _>("available") != 0,
        account: r.get("account"),
    }
}

impl Store {
    /// Adds inspectors or replaces those with the same id; keeps their
    /// account links.
    pub async fn upsert_inspectors(
        &self,
        rows: &[InspectorRow],
        updated_at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO inspectors (id, name, certificate, department, competences, available, account, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, certificate = excluded.certificate,
                   department = excluded.department, competences = excluded.competences,
                   available = excluded.available,
                   account = COALESCE(excluded.account, inspectors.account),
                   updated_at = excluded.updated_at",
            )
            .bind(&row.id)
            .bind(&row.name)
            .bind(&row.certificate)
            .bind(&row.department)
            .bind(&row.competences)
            .bind(i64::from(row.available))
            .bind(&row.account)
            .bind(updated_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn inspectors(&self) -> Result<Vec<InspectorRow>, StoreError> {
        let rows = sqlx::query(&format!("{INSPECTOR_SELECT} ORDER BY id"))
            .fetch_all(&self.reads)
            .await?;
        Ok(rows.iter().map(inspector_row).collect())
    }

    pub async fn inspector(&self, id: &str) -> Result<Option<InspectorRow>, StoreError> {
        let row = sqlx::query(&format!("{INSPECTOR_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(inspector_row))
    }

    /// The inspector a user signs in as.
    pub async fn inspector_of_account(
        &self,
        username: &str,
    ) -> Result<Option<InspectorRow>, StoreError> {
        let row = sqlx::query(&format!("{INSPECTOR_SELECT} WHERE account = $1"))
            .bind(username)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(inspector_row))
    }

    pub async fn set_inspector_available(
        &self,
        id: &str,
        available: bool,
        updated_at: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("UPDATE inspectors SET available = $1, updated_at = $2 WHERE id = $3")
                .bind(i64::from(available))
                .bind(updated_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn link_inspector_account(
        &self,
        id: &str,
        username: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE inspectors SET account = $1 WHERE id = $2")
            .bind(username)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds declared relationships; ones already declared are kept as they are.
    pub async fn add_relationships(
        &self,
        rows: &[RelationshipRow],
        declared_at: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO inspector_relationships (inspector, subject, relationship, declared_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (inspector, subject, relationship) DO NOTHING",
            )
            .bind(&row.inspector)
            .bind(&row.subject)
            .bind(&row.relationship)
            .bind(declared_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_relationship(&self, row: &RelationshipRow) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "DELETE FROM inspector_relationships WHERE inspector = $1 AND subject = $2 AND relationship = $3",
        )
        .bind(&row.inspector)
        .bind(&row.subject)
        .bind(&row.relationship)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn relationships(&self) -> Result<Vec<RelationshipRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT inspector, subject, relationship FROM inspector_relationships
             ORDER BY inspector, subject, relationship",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| RelationshipRow {
                inspector: r.get("inspector"),
                subject: r.get("subject"),
                relationship: r.get("relationship"),
            })
            .collect())
    }

    /// Records who inspected whom; repeats are ignored.
    pub async fn add_inspector_visits(&self, rows: &[InspectorVisitRow]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for row in rows {
            sqlx::query(
                "INSERT INTO inspector_visits (inspector, subject, inspected_on, source)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (inspector, subject, inspected_on) DO NOTHING",
            )
            .bind(&row.inspector)
            .bind(&row.subject)
            .bind(&row.inspected_on)
            .bind(&row.source)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Visits on or after `since` (YYYY-MM-DD).
    pub async fn inspector_visits(
        &self,
        since: &str,
    ) -> Result<Vec<InspectorVisitRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT inspector, subject, inspected_on, source FROM inspector_visits
             WHERE inspected_on >= $1 ORDER BY inspector, subject, inspected_on",
        )
        .bind(since)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| InspectorVisitRow {
                inspector: r.get("inspector"),
                subject: r.get("subject"),
                inspected_on: r.get("inspected_on"),
                source: r.get("source"),
            })
            .collect())
    }

    pub async fn open_case(
        &self,
        subject: &str,
        opened_on: &str,
        note: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO open_cases (subject, opened_on, note) VALUES ($1, $2, $3)
             ON CONFLICT (subject) DO UPDATE SET opened_on = excluded.opened_on, note = excluded.note",
        )
        .bind(subject)
        .bind(opened_on)
        .bind(note)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn close_case(&self, subject: &str) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM open_cases WHERE subject = $1")
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn open_cases(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT subject, opened_on, note FROM open_cases ORDER BY subject")
            .fetch_all(&self.reads)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("subject"), r.get("opened_on"), r.get("note")))
            .collect())
    }

    /// The object roster: every operating entity with its latest class, last
    /// inspection and open case, in USCC order.
    pub async fn object_roster(&self) -> Result<Vec<ObjectRosterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.uscc, e.name, e.legal_representative, e.address, e.division, e.industry,
                    e.entity_type, e.established_on, r.class, v.last_inspected,
                    CAST(CASE WHEN c.subject IS NULL THEN 0 ELSE 1 END AS BIGINT) AS open_case
             FROM entities e
             LEFT JOIN risk_scores r ON r.uscc = e.uscc
               AND r.screening_id = (SELECT id FROM risk_screenings ORDER BY id DESC LIMIT 1)
             LEFT JOIN (SELECT uscc, MAX(event_date) AS last_inspected FROM events
                        WHERE item = 'inspection_result' GROUP BY uscc) v ON v.uscc = e.uscc
             LEFT JOIN open_cases c ON c.subject = e.uscc
             WHERE e.status = 'operating'
             ORDER BY e.uscc",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ObjectRosterRow {
                uscc: r.get("uscc"),
                name: r.get("name"),
                legal_representative: r.get("legal_representative"),
                address: r.get("address"),
                division: r.get("division"),
                industry: r.get("industry"),
                entity_type: r.get("entity_type"),
                established_on: r.get("established_on"),
                class: r.get("class"),
                last_inspected: r.get("last_inspected"),
                open_case: r.get::<i64, _>("open_case") != 0,
            })
            .collect())
    }

    pub async fn create_plan(&self, plan: &PlanRow) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let exists = sqlx::query("SELECT 1 FROM inspection_plans WHERE id = $1")
            .bind(&plan.id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "plan {} exists already",
                plan.id
            )));
        }
        sqlx::query(
            "INSERT INTO inspection_plans (id, name, definition, state, window_start, window_end, created_at, created_by)
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7)",
        )
        .bind(&plan.id)
        .bind(&plan.name)
        .bind(&plan.definition)
        .bind(&plan.window_start)
        .bind(&plan.window_end)
        .bind(&plan.created_at)
        .bind(&plan.created_by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn plan(&self, id: &str) -> Result<Option<PlanRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {PLAN_COLUMNS} FROM inspection_plans WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(plan_row))
    }

    /// Every plan, newest window first.
    pub async fn plans(&self) -> Result<Vec<PlanRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PLAN_COLUMNS} FROM inspection_plans ORDER BY window_start DESC, id"
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(plan_row).collect())
    }

    /// Freezes a draft plan: its commitment and the seed (kept secret).
    pub async fn commit_plan(
        &self,
        id: &str,
        committed_at: &str,
        commitment_sha256: &str,
        seed_sha256: &str,
        seed: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE inspection_plans SET state = 'committed', committed_at = $1,
               commitment_sha256 = $2, seed_sha256 = $3, seed = $4
             WHERE id = $5 AND state = 'draft'",
        )
        .bind(committed_at)
        .bind(commitment_sha256)
        .bind(seed_sha256)
        .bind(seed)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("plan {id} is not a draft")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a committed plan's draw: the revealed seed and its tasks.
    pub async fn record_draw(
        &self,
        id: &str,
        drawn_at: &str,
        summary_json: &str,
        tasks: Vec<NewTask>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let plan = sqlx::query(
            "SELECT window_start, window_end FROM inspection_plans WHERE id = $1 AND state = 'committed'",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("plan {id} is not committed, or drawn already")))?;
        let (start, end): (String, String) = (plan.get("window_start"), plan.get("window_end"));
        sqlx::query(
            "UPDATE inspection_plans SET state = 'drawn', drawn_at = $1, draw_summary = $2 WHERE id = $3",
        )
        .bind(drawn_at)
        .bind(summary_json)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let first = crate::take_ids(&mut tx, "inspection_tasks", tasks.len()).await?;
        let mut task_rows = Vec::with_capacity(tasks.len());
        let mut member_rows = Vec::new();
        for (k, task) in tasks.into_iter().enumerate() {
            let task_id = first + k as i64;
            for inspector in &task.inspectors {
                member_rows.push(vec![
                    Cell::Integer(task_id),
                    Cell::Text(Some(inspector.clone())),
                ]);
            }
            let state = if task.unstaffed.is_some() {
                "unstaffed"
            } else {
                "assigned"
            };
            task_rows.push(vec![
                Cell::Integer(task_id),
                Cell::Text(Some(id.to_string())),
                Cell::Integer(task.rank),
                Cell::Text(Some(task.subject)),
                Cell::Text(task.class),
                Cell::Text(Some(task.object_key)),
                Cell::Text(Some(task.inspectors.join(";"))),
                Cell::Text(task.unstaffed),
                Cell::Text(Some(start.clone())),
                Cell::Text(Some(end.clone())),
                Cell::Text(Some(state.to_string())),
            ]);
        }
        let backend = self.backend;
        insert_rows(
            &mut tx,
            backend,
            "inspection_tasks",
            &[
                "id",
                "plan_id",
                "rank",
                "subject",
                "class",
                "object_key",
                "inspectors",
                "unstaffed",
                "window_start",
                "window_end",
                "state",
            ],
            task_rows,
        )
        .await?;
        insert_rows(
            &mut tx,
            backend,
            "task_inspectors",
            &["task_id", "inspector"],
            member_rows,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Groups tasks into joint visits: each pair is (task, visit id).
    pub async fn set_visits(&self, visits: &[(i64, i64)]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (task, visit) in visits {
            sqlx::query("UPDATE inspection_tasks SET visit_id = $1 WHERE id = $2")
                .bind(visit)
                .bind(task)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn tasks_of_plan(&self, plan: &str) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.plan_id = $1 ORDER BY t.rank"
        ))
        .bind(plan)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(task_row).collect())
    }

    /// Staffed, not yet done tasks of drawn plans whose window overlaps
    /// `[start, end]`: the candidates for joint visits.
    pub async fn open_tasks_overlapping(
        &self,
        start: &str,
        end: &str,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.state = 'assigned' AND t.window_start <= $1 AND t.window_end >= $2
             ORDER BY t.subject, t.id"
        ))
        .bind(end)
        .bind(start)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(task_row).collect())
    }

    /// An inspector's tasks, open ones first.
    pub async fn tasks_of_inspector(&self, inspector: &str) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} JOIN task_inspectors m ON m.task_id = t.id WHERE m.inspector = $1
             ORDER BY CASE WHEN t.state = 'assigned' THEN 0 ELSE 1 END, t.window_end, t.id"
        ))
        .bind(inspector)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(task_row).collect())
    }

    pub async fn task(&self, id: i64) -> Result<Option<TaskRow>, StoreError> {
        let row = sqlx::query(&format!("{TASK_SELECT} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.reads)
            .await?;
        Ok(row.as_ref().map(task_row))
    }

    pub async fn task_of(&self, plan: &str, subject: &str) -> Result<Option<TaskRow>, StoreError> {
        let row = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.plan_id = $1 AND t.subject = $2"
        ))
        .bind(plan)
        .bind(subject)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(task_row))
    }

    /// Tasks done, across plans, most recent inspection first.
    pub async fn done_tasks(
        &self,
        published_only: bool,
        limit: i64,
    ) -> Result<Vec<TaskRow>, StoreError> {
        let filter = if published_only {
            "AND t.published_on IS NOT NULL"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.state = 'done' {filter} ORDER BY t.inspected_on DESC, t.id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(task_row).collect())
    }

    /// Records an assigned task's result and findings, and that its
    /// inspectors visited the entity (for later recusal).
    pub async fn record_result(&self, task_id: i64, result: &TaskResult) -> Result<(), StoreError> {
        self.record_result_audited(task_id, result, None).await
    }

    /// The same, with the result's audit entry in the same transaction. The
    /// task is left for the lake ([`Store::tasks_to_send`]) until
    /// [`Store::sent_to_lake`] names the batch that carried it.
    pub async fn record_result_audited(
        &self,
        task_id: i64,
        result: &TaskResult,
        audit: Option<&NewAuditEntry<'_>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let row =
            sqlx::query("SELECT subject, inspectors, state FROM inspection_tasks WHERE id = $1")
                .bind(task_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::Conflict(format!("no task {task_id}")))?;
        let (subject, inspectors, state): (String, String, String) =
            (row.get("subject"), row.get("inspectors"), row.get("state"));
        if state != "assigned" {
            return Err(StoreError::Conflict(format!(
                "task {task_id} is {state}: only an assigned task takes a result"
            )));
        }
        sqlx::query(
            "UPDATE inspection_tasks SET state = 'done', inspected_on = $1, result = $2,
               recorded_at = $3, recorded_by = $4 WHERE id = $5",
        )
        .bind(&result.inspected_on)
        .bind(&result.result)
        .bind(&result.recorded_at)
        .bind(&result.recorded_by)
        .bind(task_id)
        .execute(&mut *tx)
        .await?;
        let findings: Vec<Vec<Cell>> = result
            .findings
            .iter()
            .map(|f| {
                vec![
                    Cell::Integer(task_id),
                    Cell::Text(Some(f.item.clone())),
                    Cell::Text(Some(f.outcome.clone())),
                    Cell::Text(Some(f.problem_type.clone())),
                    Cell::Text(Some(f.description.clone())),
                    Cell::Text(Some(f.recorded_at.clone())),
                    Cell::Text(Some(f.recorded_by.clone())),
                ]
            })
            .collect();
        let backend = self.backend;
        insert_rows(
            &mut tx,
            backend,
            "inspection_findings",
            &[
                "task_id",
                "item",
                "outcome",
                "problem_type",
                "description",
                "recorded_at",
                "recorded_by",
            ],
            findings,
        )
        .await?;
        for inspector in inspectors.split(';').filter(|s| !s.is_empty()) {
            sqlx::query(
                "INSERT INTO inspector_visits (inspector, subject, inspected_on, source)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (inspector, subject, inspected_on) DO NOTHING",
            )
            .bind(inspector)
            .bind(&subject)
            .bind(&result.inspected_on)
            .bind(format!("task:{task_id}"))
            .execute(&mut *tx)
            .await?;
        }
        if let Some(entry) = audit {
            crate::audit::stage(&mut tx, entry, &result.recorded_at).await?;
        }
        tx.commit().await?;
        if audit.is_some() {
            self.flush_after_change().await;
        }
        Ok(())
    }

    /// Tasks done whose result no lake batch has carried yet (migration
    /// 0012), oldest first.
    pub async fn tasks_to_send(&self) -> Result<Vec<TaskRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.state = 'done' AND t.lake_batch IS NULL ORDER BY t.id"
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(task_row).collect())
    }

    /// Notes the lake batch that carried these tasks' results.
    pub async fn sent_to_lake(&self, tasks: &[i64], batch: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for task in tasks {
            sqlx::query("UPDATE inspection_tasks SET lake_batch = $1 WHERE id = $2")
                .bind(batch)
                .bind(task)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn findings(&self, task_id: i64) -> Result<Vec<FindingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT task_id, item, outcome, problem_type, description, recorded_at, recorded_by
             FROM inspection_findings WHERE task_id = $1 ORDER BY item",
        )
        .bind(task_id)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| FindingRow {
                task_id: r.get("task_id"),
                item: r.get("item"),
                outcome: r.get("outcome"),
                problem_type: r.get("problem_type"),
                description: r.get("description"),
                recorded_at: r.get("recorded_at"),
                recorded_by: r.get("recorded_by"),
            })
            .collect())
    }

    /// Publishes done tasks' results; returns how many were published now.
    pub async fn publish_results(
        &self,
        task_ids: &[i64],
        published_on: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut published = 0;
        for id in task_ids {
            published += sqlx::query(
                "UPDATE inspection_tasks SET published_on = $1
                 WHERE id = $2 AND state = 'done' AND published_on IS NULL",
            )
            .bind(published_on)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(published)
    }

    /// Holidays and make-up working days: (day, kind, note).
    pub async fn holidays(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT day, kind, note FROM holidays ORDER BY day")
            .fetch_all(&self.reads)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("day"), r.get("kind"), r.get("note")))
            .collect())
    }

    pub async fn set_holidays(&self, days: &[(String, String, String)]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for (day, kind, note) in days {
            sqlx::query(
                "INSERT INTO holidays (day, kind, note) VALUES ($1, $2, $3)
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, note = excluded.note",
            )
            .bind(day)
            .bind(kind)
            .bind(note)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
