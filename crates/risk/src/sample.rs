//! The population at a date and the labelled sample drawn from it.
//!
//! Labels come from inspection results: an entity inspected in the label
//! window is bad when any inspection found a problem (problem found,
//! corrected on the spot, or not found at its address) and good when none
//! did; closed-down results are left out.
//!
//! The inspected are not a random sample: besides the random draws,
//! inspections follow complaints, so entities with complaints in the window
//! are inspected far more often. Left alone, the model would learn the
//! complainants' risk. Each labelled entity is therefore weighted by the
//! inverse of its stratum's inspection rate — the strata being "had a
//! complaint in the label window" and "had none" — so the weighted sample
//! stands for the whole population (inverse probability weighting under
//! selection on that observable). Weights are scaled to average 1.

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use foldhash::{HashMap, HashSet};
use lake::sql::Sql;
use scoring::{CategoricalBuilder, Column, Table};
use serde::{Deserialize, Serialize};

use crate::RiskError;
use crate::features::FeatureSet;

/// Entities at a date with their features, and the facts the classing
/// rules read (numeric columns the model does not use).
pub struct Population {
    pub as_of: NaiveDate,
    pub subjects: Vec<String>,
    pub table: Table,
    pub facts: Table,
}

impl Population {
    /// A numeric column by name, among the facts or the features.
    pub fn numbers(&self, name: &str) -> Option<&[f64]> {
        match self
            .facts
            .column(name)
            .or_else(|| self.table.column(name))?
        {
            Column::Numeric(values) => Some(values),
            Column::Categorical { .. } => None,
        }
    }

    /// The given rows, in that order.
    pub fn select(&self, rows: &[usize]) -> Population {
        Population {
            as_of: self.as_of,
            subjects: rows.iter().map(|&r| self.subjects[r].clone()).collect(),
            table: select_rows(&self.table, rows),
            facts: select_rows(&self.facts, rows),
        }
    }

    /// Without the entities closed by the date (deregistered, revoked or
    /// moved out): they are no longer supervised, so they are neither
    /// learnt from nor scored.
    pub fn in_operation(self) -> Population {
        let Some(closed) = self.numbers(CLOSED) else {
            return self;
        };
        let open: Vec<usize> = (0..self.subjects.len())
            .filter(|&r| closed[r] <= 0.0)
            .collect();
        if open.len() == self.subjects.len() {
            return self;
        }
        self.select(&open)
    }
}

/// The fact column that marks an entity closed by the as-of date.
pub const CLOSED: &str = "closed";

/// Facts about a labelled sample, kept in the model's report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleFacts {
    pub as_of: NaiveDate,
    pub label_until: NaiveDate,
    pub population: u64,
    pub labelled: u64,
    pub bad: u64,
    pub with_complaints_population: u64,
    pub with_complaints_labelled: u64,
    /// Weight of a labelled entity with / without complaints (before
    /// scaling to mean 1).
    pub weight_with_complaints: f64,
    pub weight_without_complaints: f64,
}

/// The labelled part of a population.
pub struct Sample {
    /// The population's rows, in the sample's order.
    pub rows: Vec<usize>,
    pub subjects: Vec<String>,
    pub table: Table,
    pub target: Vec<bool>,
    pub weights: Vec<f64>,
    pub facts: SampleFacts,
}

/// Computes the features of every entity in operation at `as_of`.
pub async fn population(
    sql: &Sql,
    set: &FeatureSet,
    as_of: NaiveDate,
) -> Result<Population, RiskError> {
    Ok(everyone(sql, set, as_of).await?.in_operation())
}

/// Computes the features of every entity registered before `as_of`,
/// closed ones included (screening leaves them out by its rules).
pub async fn everyone(
    sql: &Sql,
    set: &FeatureSet,
    as_of: NaiveDate,
) -> Result<Population, RiskError> {
    let batches = sql.batches(&set.render(as_of)).await?;
    let (subjects, table, facts) = table_of(&batches, set)?;
    Ok(Population {
        as_of,
        subjects,
        table,
        facts,
    })
}

/// Arrow batches to the engine's tables: the `subject` column apart, the
/// facts apart, text columns as categories, everything else as numbers.
fn table_of(
    batches: &[RecordBatch],
    set: &FeatureSet,
) -> Result<(Vec<String>, Table, Table), RiskError> {
    let Some(first) = batches.first() else {
        let (table, facts) = empty_tables(set);
        return Ok((Vec::new(), table, facts));
    };
    let schema = first.schema();
    let mut subjects = Vec::new();
    let mut table = Table::default();
    let mut facts = Table::default();
    for (index, field) in schema.fields().iter().enumerate() {
        let name = field.name();
        let column_error = |problem: String| RiskError::Column {
            column: name.clone(),
            problem,
        };
        if name == "subject" {
            for batch in batches {
                let array = cast(batch.column(index), &DataType::Utf8)
                    .map_err(|e| column_error(e.to_string()))?;
                let strings = array.as_string::<i32>();
                for i in 0..strings.len() {
                    subjects.push(strings.value(i).to_string());
                }
            }
            continue;
        }
        let categorical = set.feature(name).is_some_and(|f| f.categorical);
        let column = if categorical {
            let mut builder = CategoricalBuilder::default();
            for batch in batches {
                let array = cast(batch.column(index), &DataType::Utf8)
                    .map_err(|e| column_error(e.to_string()))?;
                let strings = array.as_string::<i32>();
                for i in 0..strings.len() {
                    builder.push((!strings.is_null(i)).then(|| strings.value(i)));
                }
            }
            builder.finish()
        } else {
            let mut values = Vec::new();
            for batch in batches {
                let array = cast(batch.column(index), &DataType::Float64)
                    .map_err(|e| column_error(e.to_string()))?;
                let numbers = array.as_primitive::<Float64Type>();
                for i in 0..numbers.len() {
                    values.push(if numbers.is_null(i) {
                        f64::NAN
                    } else {
                        numbers.value(i)
                    });
                }
            }
            Column::Numeric(values)
        };
        if set.fact(name).is_some() {
            facts.push(name.clone(), column);
        } else {
            table.push(name.clone(), column);
        }
    }
    Ok((subjects, table, facts))
}

fn empty_tables(set: &FeatureSet) -> (Table, Table) {
    let mut table = Table::default();
    for f in set.features {
        let column = if f.categorical {
            CategoricalBuilder::default().finish()
        } else {
            Column::Numeric(Vec::new())
        };
        table.push(f.name, column);
    }
    let mut facts = Table::default();
    for f in set.facts {
        facts.push(f.name, Column::Numeric(Vec::new()));
    }
    (table, facts)
}

/// Inspection outcomes in `[from, until)`: subject → a problem was found.
pub async fn labels(
    sql: &Sql,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<HashMap<String, bool>, RiskError> {
    let rows = sql
        .query(&format!(
            "SELECT subject, MAX(CASE WHEN result IN ('problem_found', 'problem_corrected', 'not_found_at_address')
                                  THEN 1 ELSE 0 END) AS bad
             FROM inspection_result
             WHERE inspected_on >= DATE '{from}' AND inspected_on < DATE '{until}'
               AND result <> 'closed_down'
             GROUP BY subject"
        ))
        .await?;
    let mut out = HashMap::default();
    for row in rows.rows {
        if let [Some(subject), Some(bad)] = row.as_slice() {
            out.insert(subject.clone(), bad == "1");
        }
    }
    Ok(out)
}

/// Entities with at least one complaint in `[from, until)`.
pub async fn complained(
    sql: &Sql,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<HashSet<String>, RiskError> {
    let rows = sql
        .query(&format!(
            "SELECT DISTINCT subject FROM complaint
             WHERE received_on >= DATE '{from}' AND received_on < DATE '{until}' AND subject IS NOT NULL"
        ))
        .await?;
    Ok(rows
        .rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

/// The labelled, weighted sample of a population.
pub fn labelled(
    population: &Population,
    labels: &HashMap<String, bool>,
    complained: &HashSet<String>,
    label_until: NaiveDate,
) -> Sample {
    let mut rows = Vec::new();
    let (mut with_population, mut with_labelled, mut without_labelled) = (0u64, 0u64, 0u64);
    for (row, subject) in population.subjects.iter().enumerate() {
        let has_complaint = complained.contains(subject);
        with_population += u64::from(has_complaint);
        if let Some(&bad) = labels.get(subject) {
            rows.push((row, bad, has_complaint));
            if has_complaint {
                with_labelled += 1;
            } else {
                without_labelled += 1;
            }
        }
    }
    let without_population = population.subjects.len() as u64 - with_population;
    let inverse_rate = |population: u64, labelled: u64| {
        if labelled == 0 {
            0.0
        } else {
            population as f64 / labelled as f64
        }
    };
    let weight_with = inverse_rate(with_population, with_labelled);
    let weight_without = inverse_rate(without_population, without_labelled);
    let raw: Vec<f64> = rows
        .iter()
        .map(|&(_, _, c)| if c { weight_with } else { weight_without })
        .collect();
    let mean = raw.iter().sum::<f64>() / raw.len().max(1) as f64;
    let weights = raw
        .iter()
        .map(|w| w / mean.max(f64::MIN_POSITIVE))
        .collect();
    let picked: Vec<usize> = rows.iter().map(|r| r.0).collect();
    Sample {
        subjects: picked
            .iter()
            .map(|&r| population.subjects[r].clone())
            .collect(),
        table: select_rows(&population.table, &picked),
        rows: picked.clone(),
        target: rows.iter().map(|r| r.1).collect(),
        weights,
        facts: SampleFacts {
            as_of: population.as_of,
            label_until,
            population: population.subjects.len() as u64,
            labelled: rows.len() as u64,
            bad: rows.iter().filter(|r| r.1).count() as u64,
            with_complaints_population: with_population,
            with_complaints_labelled: with_labelled,
            weight_with_complaints: weight_with,
            weight_without_complaints: weight_without,
        },
    }
}

/// The given rows of a table, in that order.
pub fn select_rows(table: &Table, rows: &[usize]) -> Table {
    let columns = table
        .columns
        .iter()
        .map(|column| match column {
            Column::Numeric(values) => Column::Numeric(rows.iter().map(|&r| values[r]).collect()),
            Column::Categorical { levels, codes } => Column::Categorical {
                levels: levels.clone(),
                codes: rows.iter().map(|&r| codes[r]).collect(),
            },
        })
        .collect();
    Table {
        names: table.names.clone(),
        columns,
    }
}

/// The rows of `a` followed by those of `b`, columns matched by name (both
/// tables come from one feature set). Categorical levels are merged: `b`'s
/// codes are mapped into `a`'s levels, new levels appended.
pub fn concat(a: &Table, b: &Table) -> Result<Table, RiskError> {
    let mut out = Table::default();
    for (name, left) in a.names.iter().zip(&a.columns) {
        let right = b.column(name).ok_or_else(|| {
            RiskError::Data(format!("feature {name} is missing from one of the tables"))
        })?;
        let column = match (left, right) {
            (Column::Numeric(x), Column::Numeric(y)) => {
                Column::Numeric(x.iter().chain(y).copied().collect())
            }
            (
                Column::Categorical { levels, codes },
                Column::Categorical {
                    levels: other_levels,
                    codes: other_codes,
                },
            ) => {
                let mut levels = levels.clone();
                let mapping: Vec<u32> = other_levels
                    .iter()
                    .map(|level| match levels.iter().position(|l| l == level) {
                        Some(k) => k as u32,
                        None => {
                            levels.push(level.clone());
                            (levels.len() - 1) as u32
                        }
                    })
                    .collect();
                let mut all = codes.clone();
                all.extend(other_codes.iter().map(|&c| {
                    if c == scoring::table::MISSING_CODE {
                        c
                    } else {
                        mapping[c as usize]
                    }
                }));
                Column::Categorical { levels, codes: all }
            }
            _ => {
                return Err(RiskError::Data(format!(
                    "feature {name} is numeric in one table and categorical in the other"
                )));
            }
        };
        out.push(name.clone(), column);
    }
    Ok(out)
}
