//! `xinyong evaluate`: the composite public credit evaluation of the city
//! by industry scheme; check scheme files, show an entity's grade and what
//! changed, distributions by district, industry and scheme.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use credit::{Scheme, SchemeSet};
use store::Store;

use crate::Outcome;
use crate::data_cmd::{DataOptions, catalog_in_use, runtime};
use crate::output::{outln, print_json, print_table, table};
use crate::risk_cmd::parse_date;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvaluateArgs {
    #[command(subcommand)]
    command: Option<EvaluateCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Date the records are known at (default: the month after the latest tax payments).
    #[arg(long)]
    as_of: Option<String>,
    /// A scheme file (TOML) to use in place of the built-in scheme with
    /// the same id, or beside them; repeat for several.
    #[arg(long)]
    scheme: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum EvaluateCommand {
    /// Check scheme files: every problem is named; exit 1 if any.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The built-in schemes: industries, dimensions, indicators, grades, rules.
    Schemes {
        #[arg(long)]
        json: bool,
    },
    /// An entity's latest grade, the indicators that moved it, and what
    /// changed since the run before.
    Show {
        uscc: String,
        #[arg(long)]
        json: bool,
    },
    /// One run's grades by district, industry or scheme.
    Distribution {
        /// district, industry or scheme.
        #[arg(long, default_value = "district")]
        by: String,
        /// Run id (default: the latest).
        #[arg(long)]
        run: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(data: &DataOptions, catalog: Option<&Path>, args: EvaluateArgs) -> Result<Outcome> {
    match args.command {
        Some(EvaluateCommand::Check { files }) => return check(&files),
        Some(EvaluateCommand::Schemes { json }) => return schemes(json),
        _ => {}
    }
    runtime()?.block_on(async {
        let store = data.open().await?;
        match args.command {
            Some(EvaluateCommand::Show { uscc, json }) => show(&store, &uscc, json).await,
            Some(EvaluateCommand::Distribution { by, run, json }) => {
                distribution(&store, &by, run, json).await
            }
            _ => evaluate(&store, data, catalog, args.run).await,
        }
    })
}

/// The built-in schemes with the given files in place or beside them.
pub fn scheme_set(files: &[PathBuf]) -> Result<SchemeSet> {
    let mut schemes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the scheme {}", file.display()))?;
        schemes.push(Scheme::parse(&text, &file.display().to_string())?);
    }
    Ok(SchemeSet::built_in()?.with(schemes)?)
}

fn check(files: &[PathBuf]) -> Result<Outcome> {
    let mut failed = false;
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the scheme {}", file.display()))?;
        match Scheme::parse(&text, &file.display().to_string()) {
            Ok(scheme) => outln!(
                "{}: ok — {} ({}), {} indicators, {} rules",
                file.display(),
                scheme.name_zh,
                scheme.id,
                scheme.indicators.len(),
                scheme.rules.len()
            ),
            Err(error) => {
                failed = true;
                outln!("{}: {} problems", error.file, error.problems.len());
                for problem in &error.problems {
                    outln!("  - {problem}");
                }
            }
        }
    }
    Ok(if failed {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}

fn schemes(json: bool) -> Result<Outcome> {
    let set = SchemeSet::built_in()?;
    if json {
        print_json(set.schemes())?;
        return Ok(Outcome::Ok);
    }
    for scheme in set.schemes() {
        let industries = if scheme.is_general() {
            "every other industry".to_string()
        } else {
            scheme.industries.join(", ")
        };
        outln!(
            "{} {} ({}, version {}): {industries}",
            scheme.id,
            scheme.name_zh,
            scheme.name_en,
            scheme.version
        );
        let grades: Vec<String> = scheme
            .grades
            .iter()
            .map(|g| format!("{} {} ≥ {}", g.name_zh, g.name_en, g.min_score))
            .collect();
        outln!("  grades: {}", grades.join(", "));
        let mut rows = table(&["dimension", "indicator", "fact", "weight"]);
        for i in &scheme.indicators {
            let fact = credit::facts::fact(&i.fact);
            rows.add_row(vec![
                scheme
                    .dimension(&i.dimension)
                    .map_or(i.dimension.clone(), |d| d.name_zh.clone()),
                i.id.clone(),
                fact.map_or(i.fact.clone(), |f| f.name_zh.to_string()),
                format!("{}", i.weight),
            ]);
        }
        print_table(&rows);
        for rule in &scheme.rules {
            outln!(
                "  rule {}: {} → at most {}",
                rule.id,
                rule.name_zh,
                rule.grade
            );
        }
        outln!();
    }
    Ok(Outcome::Ok)
}

async fn evaluate(
    store: &Store,
    data: &DataOptions,
    catalog: Option<&Path>,
    args: RunArgs,
) -> Result<Outcome> {
    let set = scheme_set(&args.scheme)?;
    let catalog = catalog_in_use(store, catalog).await?;
    let sql = lake::sql::Sql::over(&lake::Lake::new(&data.data_dir), &catalog).await?;
    let as_of = match args.as_of {
        Some(text) => parse_date(&text, "--as-of")?,
        None => evaluation::default_as_of(&sql).await?,
    };
    let started = Instant::now();
    let withdrawn = evaluation::withdrawn(store).await?;
    let summary = evaluation::run(
        store,
        &sql,
        &catalog,
        &set,
        as_of,
        &withdrawn,
        chrono::Utc::now,
    )
    .await?;
    if args.json {
        print_json(&summary)?;
        return Ok(Outcome::Ok);
    }
    outln!(
        "evaluation {} as of {}: {} entities graded, {} closed left out, {} records withdrawn, {:.1} s",
        summary.id,
        summary.as_of,
        summary.entities,
        summary.closed,
        summary.withdrawn,
        started.elapsed().as_secs_f64()
    );
    let mut rows = table(&["scheme", "grade", "entities"]);
    let mut grades = summary.grades.clone();
    // Best grade first within each scheme.
    grades.sort_by_key(|(scheme, grade, _)| {
        let rank = set.get(scheme).and_then(|s| s.rank(grade));
        (scheme.clone(), rank)
    });
    for (scheme, grade, n) in &grades {
        let grade_name = set
            .get(scheme)
            .and_then(|s| s.grade(grade))
            .map_or(grade.clone(), |g| format!("{} {}", g.name_zh, g.name_en));
        rows.add_row(vec![scheme.clone(), grade_name, n.to_string()]);
    }
    print_table(&rows);
    Ok(Outcome::Ok)
}

/// The whole city with the built-in schemes at the default date (the
/// demo's step).
pub async fn evaluate_city(
    store: &Store,
    sql: &lake::sql::Sql,
    catalog: &domain::Catalog,
) -> Result<evaluation::RunSummary> {
    let set = SchemeSet::built_in()?;
    let as_of = evaluation::default_as_of(sql).await?;
    let withdrawn = evaluation::withdrawn(store).await?;
    Ok(evaluation::run(
        store,
        sql,
        catalog,
        &set,
        as_of,
        &withdrawn,
        chrono::Utc::now,
    )
    .await?)
}

/// A stored result with its run, recomputed.
async fn read_stored(
    store: &Store,
    row: &store::EntityEvaluationRow,
) -> Result<(store::EvaluationRunRow, Scheme, credit::Evaluation)> {
    let run = store
        .evaluation_run(row.run_id)
        .await?
        .with_context(|| format!("evaluation run {} is missing", row.run_id))?;
    let (scheme, evaluation) = evaluation::stored(&run, row)?;
    Ok((run, scheme, evaluation))
}

async fn show(store: &Store, uscc: &str, json: bool) -> Result<Outcome> {
    let code: domain::Uscc = uscc
        .parse()
        .map_err(|e| anyhow::anyhow!("'{uscc}' is not a valid USCC: {e}"))?;
    let history = store.entity_evaluations(code.as_str()).await?;
    let Some(latest) = history.first() else {
        outln!("{code}: not evaluated");
        return Ok(Outcome::CheckFailed);
    };
    let (run, scheme, now) = read_stored(store, latest).await?;
    let before = match history.get(1) {
        Some(row) => Some(read_stored(store, row).await?),
        None => None,
    };
    let changes = before
        .as_ref()
        .map(|(_, _, then)| credit::changes(then, &now));
    if json {
        let facts: serde_json::Value = serde_json::from_str(&latest.facts_json).unwrap_or_default();
        print_json(&serde_json::json!({
            "run": run.id,
            "as_of": run.as_of,
            "stored": {
                "scheme": latest.scheme,
                "score": latest.score,
                "grade": latest.grade,
                "facts": facts,
            },
            "evaluation": now,
            "changes": changes,
        }))?;
        return Ok(Outcome::Ok);
    }
    let grade = scheme.grade(&now.grade).map_or(now.grade.clone(), |g| {
        format!("{} {}", g.name_zh, g.name_en)
    });
    outln!(
        "{code}: {grade}, score {:.2} by {} ({} version {}), evaluation {} as of {}",
        now.score,
        scheme.name_en,
        scheme.id,
        scheme.version,
        run.id,
        run.as_of
    );
    for id in &now.rules {
        if let Some(rule) = scheme.rules.iter().find(|r| &r.id == id) {
            outln!(
                "  rule {}: {} — at most {}; {}",
                rule.id,
                rule.name_en,
                rule.grade,
                rule.basis_en
            );
        }
    }
    let mut rows = table(&["indicator", "value", "points", "weight", "lost"]);
    for scored in now.moved_by() {
        let fact = scheme
            .indicators
            .iter()
            .find(|i| i.id == scored.indicator)
            .and_then(|i| credit::facts::fact(&i.fact));
        rows.add_row(vec![
            fact.map_or(scored.indicator.clone(), |f| f.name_en.to_string()),
            value_text(scored.value.as_ref()),
            format!("{}", scored.points),
            format!("{}", scored.weight),
            format!("{:.2}", scored.lost),
        ]);
    }
    outln!("  what cost points:");
    print_table(&rows);
    if let Some(changes) = changes {
        outln!(
            "  since evaluation {}: score {:.2} → {:.2}, grade {} → {}{}",
            before.as_ref().map_or(0, |(run, _, _)| run.id),
            changes.score_before,
            changes.score_after,
            changes.grade_before,
            changes.grade_after,
            if changes.scheme_changed {
                " (the scheme changed)"
            } else {
                ""
            }
        );
        for change in &changes.indicators {
            outln!(
                "    {}: {} → {} ({:+.2})",
                change.indicator,
                value_text(change.value_before.as_ref()),
                value_text(change.value_after.as_ref()),
                change.score_change
            );
        }
    }
    Ok(Outcome::Ok)
}

fn value_text(value: Option<&credit::Value>) -> String {
    match value {
        None => "—".into(),
        Some(credit::Value::Number(n)) => format!("{}", (n * 100.0).round() / 100.0),
        Some(credit::Value::Category(c)) => c.clone(),
    }
}

async fn distribution(store: &Store, by: &str, run: Option<i64>, json: bool) -> Result<Outcome> {
    if !matches!(by, "district" | "industry" | "scheme") {
        anyhow::bail!("--by '{by}' is not one of district, industry, scheme");
    }
    let run = match run {
        Some(id) => id,
        None => match store.latest_evaluation_run().await? {
            Some(run) => run.id,
            None => {
                outln!("no evaluation yet: run `xinyong evaluate`");
                return Ok(Outcome::CheckFailed);
            }
        },
    };
    let counts = store.evaluation_counts(run, by).await?;
    if json {
        print_json(&counts)?;
        return Ok(Outcome::Ok);
    }
    let mut rows = table(&[by, "name", "grade", "entities"]);
    for (area, grade, n) in counts {
        let name = match by {
            "district" => {
                domain::division::lookup(&area).map_or(String::new(), |d| d.name_zh.to_string())
            }
            "industry" => {
                domain::industry::division(&area).map_or(String::new(), |d| d.name_zh.to_string())
            }
            _ => String::new(),
        };
        rows.add_row(vec![area, name, grade, n.to_string()]);
    }
    outln!("evaluation {run} by {by}:");
    print_table(&rows);
    Ok(Outcome::Ok)
}
