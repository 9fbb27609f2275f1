//! The composite public credit evaluation of a city (issue 22): every
//! entity's facts computed from the lake by the facts SQL
//! (`facts/v1.sql`), graded by the scheme of its industry
//! (`credit::SchemeSet`), and the run stored with the schemes it used so
//! that any grade can be recomputed and any two runs compared.
//!
//! Records withdrawn — a repair approved, or a correction that superseded
//! the record — are left out of the facts: the caller lists them and the
//! query reads every item through a view without them.

pub mod check;

use std::sync::Arc;

use chrono::{DateTime, Months, NaiveDate, Utc};
use credit::facts::{FACTS, Kind};
use credit::{Evaluation, Facts, Scheme, SchemeSet, Value};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use domain::Catalog;
use lake::sql::Sql;
use store::{EntityEvaluationRow, EvaluationRunRow, Store};

/// The facts SQL's version, stored with every run.
pub const FACTS_VERSION: &str = "v1";
const FACTS_SQL: &str = include_str!("../facts/v1.sql");

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error(transparent)]
    Sql(#[from] lake::sql::SqlError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Risk(#[from] risk::RiskError),
    #[error(transparent)]
    Scheme(#[from] credit::SchemeError),
    #[error("facts column '{column}': {problem}")]
    Column { column: String, problem: String },
    #[error("stored evaluation: {0}")]
    Stored(String),
}

/// A record left out of the evaluation, by its lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub item: String,
    pub batch: i64,
    pub row: i64,
}

/// Every record the store has withdrawn: repaired, or replaced by its
/// correction.
pub async fn withdrawn(store: &Store) -> Result<Vec<Withdrawn>, EvaluationError> {
    Ok(store
        .withdrawals()
        .await?
        .into_iter()
        .map(|(item, batch, row)| Withdrawn { item, batch, row })
        .collect())
}

/// One entity's facts at a date.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityFacts {
    pub subject: String,
    /// GB/T 4754 code as registered.
    pub industry: String,
    /// Deregistered, revoked or moved out by the date: not evaluated.
    pub closed: bool,
    pub facts: Facts,
}

/// The facts SQL for a date, with every `live_<item>` view it reads.
pub fn render(catalog: &Catalog, as_of: NaiveDate) -> String {
    let years_before = |n: u32| {
        as_of
            .checked_sub_months(Months::new(12 * n))
            .unwrap_or(as_of)
    };
    let month = |d: NaiveDate| d.format("%Y-%m").to_string();
    let body = FACTS_SQL
        .replace("{as_of_month}", &month(as_of))
        .replace("{y1_month}", &month(years_before(1)))
        .replace("{as_of}", &as_of.to_string())
        .replace("{y1}", &years_before(1).to_string())
        .replace("{y3}", &years_before(3).to_string());
    let views: Vec<String> = catalog
        .items
        .iter()
        .filter(|item| reads(&body, &format!("live_{}", item.id)))
        .map(|item| {
            format!(
                "live_{id} AS (SELECT t.* FROM {id} t LEFT JOIN \
                 (SELECT batch, row_number FROM withdrawn WHERE item = '{id}') w \
                 ON w.batch = t._batch AND w.row_number = t._row WHERE w.batch IS NULL)",
                id = item.id
            )
        })
        .collect();
    // The query's own comment lines come first; its WITH opens the list.
    body.replacen("WITH\n", &format!("WITH\n{},\n", views.join(",\n")), 1)
}

/// Every entity's facts at `as_of`, the withdrawn records left out.
pub async fn facts(
    sql: &Sql,
    catalog: &Catalog,
    as_of: NaiveDate,
    withdrawn: &[Withdrawn],
) -> Result<Vec<EntityFacts>, EvaluationError> {
    sql.register("withdrawn", withdrawn_table(withdrawn)?)?;
    let batches = sql.batches(&render(catalog, as_of)).await?;
    let mut out = Vec::new();
    for batch in &batches {
        let text = |name: &str| -> Result<ArrayRef, EvaluationError> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| column_error(name, "missing".into()))?;
            cast(column, &DataType::Utf8).map_err(|e| column_error(name, e.to_string()))
        };
        let number = |name: &str| -> Result<ArrayRef, EvaluationError> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| column_error(name, "missing".into()))?;
            cast(column, &DataType::Float64).map_err(|e| column_error(name, e.to_string()))
        };
        let subjects = text("subject")?;
        let industries = text("industry")?;
        let closed = number("closed")?;
        let mut columns = Vec::with_capacity(FACTS.len());
        for fact in &FACTS {
            columns.push(match fact.kind {
                Kind::Category(_) => text(fact.name)?,
                Kind::Number | Kind::Flag => number(fact.name)?,
            });
        }
        let (subjects, industries) = (subjects.as_string::<i32>(), industries.as_string::<i32>());
        let closed = closed.as_primitive::<Float64Type>();
        for r in 0..batch.num_rows() {
            let values = FACTS
                .iter()
                .zip(&columns)
                .map(|(fact, column)| {
                    if column.is_null(r) {
                        return None;
                    }
                    Some(match fact.kind {
                        Kind::Category(_) => {
                            Value::Category(column.as_string::<i32>().value(r).to_string())
                        }
                        Kind::Number | Kind::Flag => {
                            Value::Number(column.as_primitive::<Float64Type>().value(r))
                        }
                    })
                })
                .collect();
            out.push(EntityFacts {
                subject: subjects.value(r).to_string(),
                industry: if industries.is_null(r) {
                    String::new()
                } else {
                    industries.value(r).to_string()
                },
                closed: !closed.is_null(r) && closed.value(r) > 0.0,
                facts: Facts(values),
            });
        }
    }
    Ok(out)
}

/// Whether `sql` names `table` (not merely a longer name starting with it).
fn reads(sql: &str, table: &str) -> bool {
    sql.match_indices(table).any(|(at, _)| {
        let next = sql[at + table.len()..].bytes().next();
        !next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

fn column_error(column: &str, problem: String) -> EvaluationError {
    EvaluationError::Column {
        column: column.to_string(),
        problem,
    }
}

fn withdrawn_table(withdrawn: &[Withdrawn]) -> Result<RecordBatch, EvaluationError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("item", DataType::Utf8, false),
        Field::new("batch", DataType::Int64, false),
        Field::new("row_number", DataType::Int64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            withdrawn.iter().map(|w| w.item.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(
            withdrawn.iter().map(|w| w.batch),
        )),
        Arc::new(Int64Array::from_iter_values(
            withdrawn.iter().map(|w| w.row),
        )),
    ];
    RecordBatch::try_new(schema, columns)
        .map_err(|e| EvaluationError::Sql(lake::sql::SqlError(e.to_string())))
}

/// Grades every entity in operation by the scheme of its industry.
pub fn grade_all(set: &SchemeSet, entities: &[EntityFacts]) -> Vec<(String, Evaluation)> {
    entities
        .iter()
        .filter(|e| !e.closed)
        .map(|e| {
            let scheme = set.for_industry(&e.industry);
            (e.subject.clone(), credit::evaluate(scheme, &e.facts))
        })
        .collect()
}

/// What one run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub as_of: NaiveDate,
    pub entities: usize,
    pub closed: usize,
    pub withdrawn: usize,
    /// Entities by scheme and grade.
    pub grades: Vec<(String, String, usize)>,
}

/// Evaluates the whole city at `as_of` and stores the run; `clock` gives
/// its start and end times.
pub async fn run(
    store: &Store,
    sql: &Sql,
    catalog: &Catalog,
    set: &SchemeSet,
    as_of: NaiveDate,
    withdrawn: &[Withdrawn],
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<RunSummary, EvaluationError> {
    let started = clock();
    let entities = facts(sql, catalog, as_of, withdrawn).await?;
    let graded = grade_all(set, &entities);
    let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    let rows: Vec<EntityEvaluationRow> = graded
        .into_iter()
        .zip(entities.iter().filter(|e| !e.closed))
        .map(|((subject, evaluation), facts)| {
            *counts
                .entry((evaluation.scheme.clone(), evaluation.grade.clone()))
                .or_default() += 1;
            EntityEvaluationRow {
                run_id: 0,
                uscc: subject,
                scheme: evaluation.scheme,
                score: evaluation.score,
                grade: evaluation.grade,
                score_grade: evaluation.score_grade,
                facts_json: serde_json::to_string(&facts.facts.0).unwrap_or_default(),
            }
        })
        .collect();
    let evaluated = rows.len();
    let schemes_json = serde_json::to_string(set.schemes()).unwrap_or_default();
    let run = EvaluationRunRow {
        id: 0,
        as_of: as_of.to_string(),
        started_at: stamp(started),
        finished_at: stamp(clock()),
        schemes_json,
        facts_version: FACTS_VERSION.to_string(),
        entities: evaluated as i64,
        withdrawn: withdrawn.len() as i64,
    };
    let id = store.save_evaluation_run(&run, rows).await?;
    Ok(RunSummary {
        id,
        as_of,
        entities: evaluated,
        closed: entities.len() - evaluated,
        withdrawn: withdrawn.len(),
        grades: counts
            .into_iter()
            .map(|((scheme, grade), n)| (scheme, grade, n))
            .collect(),
    })
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The default date: the first day after the latest month of tax
/// payments, as for screening.
pub async fn default_as_of(sql: &Sql) -> Result<NaiveDate, EvaluationError> {
    Ok(risk::default_screening_as_of(sql).await?)
}

/// A stored result read back: the scheme it was graded by (from its run)
/// and the evaluation recomputed from its stored facts.
pub fn stored(
    run: &EvaluationRunRow,
    row: &EntityEvaluationRow,
) -> Result<(Scheme, Evaluation), EvaluationError> {
    let schemes: Vec<Scheme> = serde_json::from_str(&run.schemes_json)
        .map_err(|e| EvaluationError::Stored(format!("run {}: schemes: {e}", run.id)))?;
    let scheme = schemes
        .into_iter()
        .find(|s| s.id == row.scheme)
        .ok_or_else(|| {
            EvaluationError::Stored(format!("run {}: no scheme '{}'", run.id, row.scheme))
        })?;
    let values: Vec<Option<Value>> = serde_json::from_str(&row.facts_json)
        .map_err(|e| EvaluationError::Stored(format!("{}: facts: {e}", row.uscc)))?;
    let evaluation = credit::evaluate(&scheme, &Facts(values));
    Ok((scheme, evaluation))
}
