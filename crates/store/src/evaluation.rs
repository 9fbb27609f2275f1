//! Composite public credit evaluations: runs of the whole city and every
//! entity's result in each (the history is kept).

use serde::Serialize;
use sqlx::Row;

use crate::{Cell, ROWS_PER_STATEMENT, Store, StoreError, insert_rows};

/// One evaluation of the whole city.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvaluationRunRow {
    pub id: i64,
    pub as_of: String,
    pub started_at: String,
    pub finished_at: String,
    /// JSON list of the schemes used.
    pub schemes_json: String,
    pub facts_version: String,
    pub entities: i64,
    pub withdrawn: i64,
}

/// One entity's result in one run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntityEvaluationRow {
    pub run_id: i64,
    pub uscc: String,
    pub scheme: String,
    pub score: f64,
    pub grade: String,
    pub score_grade: String,
    /// JSON list of the facts in the order of `credit::FACTS`.
    pub facts_json: String,
}

const RUN_COLUMNS: &str =
    "id, as_of, started_at, finished_at, schemes, facts_version, entities, withdrawn";
const ROW_COLUMNS: &str = "run_id, uscc, scheme, score, grade, score_grade, facts";

fn run_row(r: &sqlx::any::AnyRow) -> EvaluationRunRow {
    EvaluationRunRow {
        id: r.get("id"),
        as_of: r.get("as_of"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        schemes_json: r.get("schemes"),
        facts_version: r.get("facts_version"),
        entities: r.get("entities"),
        withdrawn: r.get("withdrawn"),
    }
}

fn entity_row(r: &sqlx::any::AnyRow) -> EntityEvaluationRow {
    EntityEvaluationRow {
        run_id: r.get("run_id"),
        uscc: r.get("uscc"),
        scheme: r.get("scheme"),
        score: r.get("score"),
        grade: r.get("grade"),
        score_grade: r.get("score_grade"),
        facts_json: r.get("facts"),
    }
}

impl Store {
    /// Stores a run and every entity's result in one transaction; the
    /// run's id comes from its counter. `run.id` and each row's `run_id`
    /// are ignored.
    pub async fn save_evaluation_run(
        &self,
        run: &EvaluationRunRow,
        rows: Vec<EntityEvaluationRow>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "evaluation_runs", 1).await?;
        sqlx::query(&format!(
            "INSERT INTO evaluation_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(id)
        .bind(&run.as_of)
        .bind(&run.started_at)
        .bind(&run.finished_at)
        .bind(&run.schemes_json)
        .bind(&run.facts_version)
        .bind(rows.len() as i64)
        .bind(run.withdrawn)
        .execute(&mut *tx)
        .await?;
        let cells = rows.into_iter().map(|row| {
            vec![
                Cell::Integer(id),
                Cell::Text(Some(row.uscc)),
                Cell::Text(Some(row.scheme)),
                Cell::Number(Some(row.score)),
                Cell::Text(Some(row.grade)),
                Cell::Text(Some(row.score_grade)),
                Cell::Text(Some(row.facts_json)),
            ]
        });
        let columns: Vec<&str> = ROW_COLUMNS.split(", ").collect();
        insert_rows(&mut tx, self.backend, "entity_evaluations", &columns, cells).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every run, newest first.
    pub async fn evaluation_runs(&self) -> Result<Vec<EvaluationRunRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM evaluation_runs ORDER BY id DESC"
        ))
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(run_row).collect())
    }

    /// The newest run.
    pub async fn latest_evaluation_run(&self) -> Result<Option<EvaluationRunRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM evaluation_runs ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(run_row))
    }

    pub async fn evaluation_run(&self, id: i64) -> Result<Option<EvaluationRunRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM evaluation_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.as_ref().map(run_row))
    }

    /// An entity's results in every run, newest first.
    pub async fn entity_evaluations(
        &self,
        uscc: &str,
    ) -> Result<Vec<EntityEvaluationRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ROW_COLUMNS} FROM entity_evaluations WHERE uscc = $1 ORDER BY run_id DESC"
        ))
        .bind(uscc)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(entity_row).collect())
    }

    /// An entity's grades in its latest `limit` runs, newest first:
    /// (run, as-of date, scheme, score, grade).
    pub async fn entity_evaluation_history(
        &self,
        uscc: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, f64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.run_id, r.as_of, v.scheme, v.score, v.grade
             FROM entity_evaluations v JOIN evaluation_runs r ON r.id = v.run_id
             WHERE v.uscc = $1 ORDER BY v.run_id DESC LIMIT $2",
        )
        .bind(uscc)
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("run_id"),
                    r.get("as_of"),
                    r.get("scheme"),
                    r.get("score"),
                    r.get("grade"),
                )
            })
            .collect())
    }

    /// One run's results by grade and a registry attribute: `by` is
    /// `district` (first 6 digits of the division), `industry` (the GB/T
    /// 4754 division) or `scheme`.
    pub async fn evaluation_counts(
        &self,
        run: i64,
        by: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let key = match by {
            "district" => "SUBSTR(e.division, 1, 6)",
            "scheme" => "v.scheme",
            _ => "SUBSTR(e.industry, 1, 2)",
        };
        let rows = sqlx::query(&format!(
            "SELECT {key} AS area, v.grade, COUNT(*) AS entities
             FROM entity_evaluations v JOIN entities e ON e.uscc = v.uscc
             WHERE v.run_id = $1 GROUP BY {key}, v.grade ORDER BY 1, 2"
        ))
        .bind(run)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("area"), r.get("grade"), r.get("entities")))
            .collect())
    }

    /// Some entities' results in one run, by USCC.
    /// Every entity's (code, facts JSON) in a run, in code order.
    pub async fn run_facts(&self, run: i64) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT uscc, facts FROM entity_evaluations WHERE run_id = $1 ORDER BY uscc",
        )
        .bind(run)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get("uscc"), r.get("facts")))
            .collect())
    }

    pub async fn evaluations_of(
        &self,
        run: i64,
        usccs: &[String],
    ) -> Result<Vec<EntityEvaluationRow>, StoreError> {
        let mut out = Vec::with_capacity(usccs.len());
        for chunk in usccs.chunks(ROWS_PER_STATEMENT) {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|k| crate::parameter(self.backend, k + 2))
                .collect();
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM entity_evaluations WHERE run_id = {} AND uscc IN ({})",
                crate::parameter(self.backend, 1),
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(run);
            for uscc in chunk {
                query = query.bind(uscc);
            }
            out.extend(query.fetch_all(&self.reads).await?.iter().map(entity_row));
        }
        Ok(out)
    }
}

/// One credit check: who asked, for which scenario, what it found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreditCheckRow {
    pub id: i64,
    pub checked_at: String,
    pub actor: String,
    pub department: String,
    pub scenario: String,
    pub mode: String,
    pub evaluation_run: Option<i64>,
    pub entities: i64,
    pub not_found: i64,
    pub barred: i64,
    pub scrutiny: i64,
    pub incentive: i64,
    pub clear: i64,
}

const CHECK_COLUMNS: &str = "id, checked_at, actor, department, scenario, mode, evaluation_run, entities, not_found, barred, scrutiny, incentive, clear";

fn check_row(r: &sqlx::any::AnyRow) -> CreditCheckRow {
    CreditCheckRow {
        id: r.get("id"),
        checked_at: r.get("checked_at"),
        actor: r.get("actor"),
        department: r.get("department"),
        scenario: r.get("scenario"),
        mode: r.get("mode"),
        evaluation_run: r.get("evaluation_run"),
        entities: r.get("entities"),
        not_found: r.get("not_found"),
        barred: r.get("barred"),
        scrutiny: r.get("scrutiny"),
        incentive: r.get("incentive"),
        clear: r.get("clear"),
    }
}

impl Store {
    /// Records a check; its id comes from its counter (`check.id` is
    /// ignored).
    pub async fn save_credit_check(&self, check: &CreditCheckRow) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = crate::take_ids(&mut tx, "credit_checks", 1).await?;
        sqlx::query(&format!(
            "INSERT INTO credit_checks ({CHECK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(id)
        .bind(&check.checked_at)
        .bind(&check.actor)
        .bind(&check.department)
        .bind(&check.scenario)
        .bind(&check.mode)
        .bind(check.evaluation_run)
        .bind(check.entities)
        .bind(check.not_found)
        .bind(check.barred)
        .bind(check.scrutiny)
        .bind(check.incentive)
        .bind(check.clear)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Checks, newest first, optionally of one department.
    pub async fn credit_checks(
        &self,
        department: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CreditCheckRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CHECK_COLUMNS} FROM credit_checks WHERE ($1 = '' OR department = $1)
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(department.unwrap_or_default())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.reads)
        .await?;
        Ok(rows.iter().map(check_row).collect())
    }

    /// Checks and entities checked by scenario and department:
    /// (scenario, department, checks, entities, barred, scrutiny,
    /// incentive).
    pub async fn credit_check_statistics(
        &self,
    ) -> Result<Vec<(String, String, i64, i64, i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            // A sum of BIGINTs is NUMERIC on PostgreSQL: cast it back.
            "SELECT scenario, department, COUNT(*) AS checks,
                    CAST(SUM(entities) AS BIGINT) AS entities, CAST(SUM(barred) AS BIGINT) AS barred,
                    CAST(SUM(scrutiny) AS BIGINT) AS scrutiny, CAST(SUM(incentive) AS BIGINT) AS incentive
             FROM credit_checks GROUP BY scenario, department ORDER BY 1, 2",
        )
        .fetch_all(&self.reads)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("scenario"),
                    r.get("department"),
                    r.get("checks"),
                    r.get("entities"),
                    r.get("barred"),
                    r.get("scrutiny"),
                    r.get("incentive"),
                )
            })
            .collect())
    }
}
