//! `xinyong risk`: train the city's risk model, screen the city, show an
//! entity's risk.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use domain::text::spreadsheet_safe;
use risk::ClassRule;
use scoring::Model;
use store::{RiskModelRow, Store};

use crate::Outcome;
use crate::data_cmd::{DataOptions, catalog_in_use, now, runtime};
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum RiskCommand {
    /// Fit the risk model: trains on the year before --as-of, validates on the year after it.
    Train {
        /// Start of the hold-out year (default: 1 January of the latest inspection's year).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Score and class every entity, and keep the result.
    Screen {
        /// Date the features are known at (default: the month after the latest tax payments).
        #[arg(long)]
        as_of: Option<String>,
        /// Model version (default: the latest).
        #[arg(long)]
        model: Option<String>,
        /// Shares of classes A,B,C,D (default 0.65,0.25,0.085,0.015).
        #[arg(long, value_delimiter = ',', conflicts_with = "cutoffs")]
        shares: Vec<f64>,
        /// Lowest scores of A,B,C instead of shares.
        #[arg(long, value_delimiter = ',')]
        cutoffs: Vec<i64>,
        /// Classing policy (TOML): the national rules and industry
        /// segments (default: the built-in national rules).
        #[arg(long)]
        policy: Option<std::path::PathBuf>,
    },
    /// Export the feature table at a date as CSV (for analysis with `xinyong model`).
    Features {
        /// Date the features are known at (default: as for screening).
        #[arg(long)]
        as_of: Option<String>,
        /// Only entities inspected in the year after --as-of, with their
        /// outcome (`inspection_problem`) and selection weight (`weight`).
        #[arg(long)]
        labelled: bool,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Export one screening's results as CSV: USCC, score, probability, class, reasons.
    Export {
        /// Screening id (default: the latest).
        #[arg(long)]
        screening: Option<i64>,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// An entity's risk: score, class, reasons, and its history.
    Show {
        uscc: String,
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn parse_date(text: &str, flag: &str) -> Result<NaiveDate> {
    text.parse()
        .with_context(|| format!("{flag} '{text}' is not a date (YYYY-MM-DD)"))
}

pub fn run(data: &DataOptions, catalog: Option<&Path>, command: RiskCommand) -> Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let outcome = match command {
            RiskCommand::Train { as_of } => {
                let sql = open_lake(&store, data, catalog).await?;
                let as_of = match as_of {
                    Some(text) => Some(parse_date(&text, "--as-of")?),
                    None => None,
                };
                train(&store, &sql, as_of).await.map(|_| Outcome::Ok)
            }
            RiskCommand::Screen {
                as_of,
                model,
                shares,
                cutoffs,
                policy,
            } => {
                let rule = class_rule(&shares, &cutoffs)?;
                let policy = read_policy(policy.as_deref())?;
                let sql = open_lake(&store, data, catalog).await?;
                let as_of = match as_of {
                    Some(text) => Some(parse_date(&text, "--as-of")?),
                    None => None,
                };
                screen(&store, &sql, as_of, model.as_deref(), rule, &policy)
                    .await
                    .map(|_| Outcome::Ok)
            }
            RiskCommand::Features {
                as_of,
                labelled,
                out,
            } => {
                let sql = open_lake(&store, data, catalog).await?;
                let as_of = match as_of {
                    Some(text) => parse_date(&text, "--as-of")?,
                    None => risk::default_screening_as_of(&sql).await?,
                };
                features(&sql, as_of, labelled, &out).await
            }
            RiskCommand::Export { screening, out } => export(&store, screening, &out).await,
            RiskCommand::Show { uscc, json } => show(&store, &uscc, json).await,
        };
        store.close().await;
        outcome
    })
}

pub async fn open_lake(
    store: &Store,
    data: &DataOptions,
    catalog: Option<&Path>,
) -> Result<lake::sql::Sql> {
    let catalog = catalog_in_use(store, catalog).await?;
    Ok(lake::sql::Sql::over(&lake::Lake::new(&data.data_dir), &catalog).await?)
}

/// What the national rules did and how each segment was graded.
fn print_rules_and_segments(s: &risk::screen::ScreenSummary) {
    let moved: u64 = s.rules.iter().map(|r| r.moved).sum();
    outln!("  national rules ({moved} entities moved):");
    for r in &s.rules {
        let outcome = match r.class {
            Some(class) => format!("at least {class}"),
            None => "out of scope".to_string(),
        };
        outln!(
            "    {} ({}): {outcome}; applies to {}, moved {}",
            r.name_en,
            r.id,
            r.matched,
            r.moved
        );
    }
    if s.segments.len() > 1 {
        outln!("  segments:");
        for g in &s.segments {
            let grading = if g.graded_apart {
                "graded apart"
            } else {
                "too few for shares: city-wide cut-offs"
            };
            outln!(
                "    {} ({}): {} entities, {grading}; A from {}, B from {}, C from {}; A {} B {} C {} D {}",
                g.name_en,
                g.id,
                g.population,
                g.cutoffs.a,
                g.cutoffs.b,
                g.cutoffs.c,
                g.class_counts[0],
                g.class_counts[1],
                g.class_counts[2],
                g.class_counts[3]
            );
        }
    }
}

/// The classing policy from a file, or the built-in national rules.
pub fn read_policy(path: Option<&Path>) -> Result<risk::Policy> {
    let Some(path) = path else {
        return Ok(risk::Policy::national(&risk::V4)?);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy {}", path.display()))?;
    Ok(risk::Policy::parse(
        &text,
        &path.display().to_string(),
        &risk::V4,
    )?)
}

fn class_rule(shares: &[f64], cutoffs: &[i64]) -> Result<ClassRule> {
    let rule = match (shares, cutoffs) {
        ([], []) => ClassRule::default(),
        ([a, b, c, d], []) => ClassRule::Shares([*a, *b, *c, *d]),
        ([], [a, b, c]) => ClassRule::Cutoffs([*a, *b, *c]),
        ([], _) => bail!("--cutoffs takes three scores: the lowest of A, B and C"),
        _ => bail!("--shares takes four shares: A, B, C and D"),
    };
    rule.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(rule)
}

/// Trains, validates and stores a model; returns it.
pub async fn train(store: &Store, sql: &lake::sql::Sql, as_of: Option<NaiveDate>) -> Result<Model> {
    let set = &risk::V4;
    let as_of = match as_of {
        Some(date) => date,
        None => risk::default_training_as_of(sql).await?,
    };
    let created = now();
    let existing = store.risk_models().await?.len();
    let version = format!("{}-{}-{}", set.version, as_of, existing + 1);
    let started = Instant::now();
    let outcome = risk::train(sql, set, as_of, &version, &created)
        .await
        .context("cannot train the risk model")?;
    let report = &outcome.report;
    store
        .save_risk_model(&RiskModelRow {
            version: version.clone(),
            created_at: created,
            as_of: as_of.to_string(),
            features_version: set.version.to_string(),
            model_json: outcome.model.to_json(),
            report_json: serde_json::to_string(report)?,
        })
        .await?;
    let t = &report.training;
    outln!(
        "risk model {version}: trained on features as of {} and inspections to {} ({} of {} entities inspected, {} with problems)",
        t.as_of,
        t.label_until,
        t.labelled,
        t.population,
        t.bad
    );
    outln!(
        "  selection: {} of {} with complaints were inspected, {} of {} without; weights {:.1} and {:.1}",
        t.with_complaints_labelled,
        t.with_complaints_population,
        t.labelled - t.with_complaints_labelled,
        t.population - t.with_complaints_population,
        t.weight_with_complaints,
        t.weight_without_complaints
    );
    outln!(
        "  training AUC {:.4}, KS {:.4}",
        report.training_metrics.auc,
        report.training_metrics.ks
    );
    let v = &report.validation;
    match &report.validation_metrics {
        Some(m) => outln!(
            "  hold-out from {} to {}: {} inspected, {} with problems; AUC {:.4}, KS {:.4}, Gini {:.4}",
            v.as_of,
            v.label_until,
            v.labelled,
            v.bad,
            m.auc,
            m.ks,
            m.gini
        ),
        None => outln!("  hold-out from {}: no inspections to validate on", v.as_of),
    }
    match (&report.challenger, &report.challenger_problem) {
        (Some(side), _) => {
            outln!("  the scorecard beside a gradient-boosted challenger on the hold-out:");
            let mut t = table(&[
                "model",
                "AUC",
                "KS",
                "Brier",
                "calibration error",
                "top-decile problem rate",
            ]);
            for (name, s) in [
                ("scorecard", &side.scorecard),
                ("challenger (GBM)", &side.challenger),
            ] {
                t.add_row(vec![
                    name.to_string(),
                    format!("{:.4}", s.summary.auc),
                    format!("{:.4}", s.summary.ks),
                    format!("{:.4}", s.brier),
                    format!("{:.4}", s.calibration_error),
                    format!("{:.1}%", 100.0 * s.top_decile_event_rate),
                ]);
            }
            print_table(&t);
        }
        (None, Some(problem)) => outln!("  no challenger: {problem}"),
        (None, None) => {}
    }
    let mut t = table(&["feature", "IV", "coefficient", "bins"]);
    for f in &outcome.model.features {
        t.add_row(vec![
            f.name.clone(),
            format!("{:.4}", f.iv),
            format!("{:.3}", f.coefficient),
            f.bins.len().to_string(),
        ]);
    }
    print_table(&t);
    for d in &outcome.model.dropped {
        outln!("  dropped {}: {}", d.name, d.reason);
    }
    outln!("  {:.1} s", started.elapsed().as_secs_f64());
    Ok(outcome.model)
}

/// Screens the city with a stored model and keeps the result; returns the
/// screening's id.
pub async fn screen(
    store: &Store,
    sql: &lake::sql::Sql,
    as_of: Option<NaiveDate>,
    version: Option<&str>,
    rule: ClassRule,
    policy: &risk::Policy,
) -> Result<i64> {
    let row = match version {
        Some(v) => store
            .risk_model(v)
            .await?
            .with_context(|| format!("no risk model version '{v}'"))?,
        None => store
            .latest_risk_model()
            .await?
            .context("no risk model yet: run `xinyong risk train` first")?,
    };
    let model = Model::from_json(&row.model_json)
        .with_context(|| format!("risk model {} is unreadable", row.version))?;
    let as_of = match as_of {
        Some(date) => date,
        None => risk::default_screening_as_of(sql).await?,
    };
    let previous = store.latest_screening().await?;
    let outcome = risk::screen(sql, &risk::V4, &model, as_of, rule, policy, &|_| {}).await?;
    let started = Instant::now();
    let id = risk::screen::save(store, &risk::V4, &model, &outcome, &now()).await?;
    let store_seconds = started.elapsed().as_secs_f64();
    let s = &outcome.summary;
    outln!(
        "screening {id}: {} entities as of {as_of} with model {}",
        outcome.subjects.len(),
        model.version
    );
    let total = outcome.subjects.len().max(1) as f64;
    for (class, count) in domain::RiskClass::ALL.iter().zip(s.class_counts) {
        outln!(
            "  {class} {}: {count} ({:.1}%)",
            class.name_en(),
            100.0 * count as f64 / total
        );
    }
    outln!(
        "  cut-offs: A from {}, B from {}, C from {}, D below",
        s.cutoffs.a,
        s.cutoffs.b,
        s.cutoffs.c
    );
    print_rules_and_segments(s);
    outln!(
        "  features {:.2} s, scoring and classing {:.3} s, storing {:.2} s",
        s.features_seconds,
        s.scoring_seconds,
        store_seconds
    );
    outln!(
        "  score PSI against the {} {:.4} ({})",
        s.psi_reference,
        s.score_psi,
        scoring::metrics::psi_reading(s.score_psi)
    );
    for (name, psi) in &s.feature_psi {
        if *psi >= 0.1 {
            outln!(
                "  feature {name} PSI {psi:.4} ({})",
                scoring::metrics::psi_reading(*psi)
            );
        }
    }
    if let Some(previous) = previous {
        let moves = store.class_migration(previous.id, id).await?;
        let moved: i64 = moves.iter().filter(|m| m.0 != m.1).map(|m| m.2).sum();
        outln!(
            "  {moved} entities changed class since screening {}",
            previous.id
        );
    }
    Ok(id)
}

async fn show(store: &Store, uscc: &str, json: bool) -> Result<Outcome> {
    let code: domain::Uscc = uscc
        .parse()
        .map_err(|e| anyhow::anyhow!("'{uscc}' is not a valid USCC: {e}"))?;
    let history = store.entity_risk(&code.to_string()).await?;
    if json {
        print_json(&history)?;
        return Ok(Outcome::Ok);
    }
    let Some(latest) = history.first() else {
        outln!("{code}: not screened");
        return Ok(Outcome::CheckFailed);
    };
    let class: domain::RiskClass = latest.score.class.parse()?;
    outln!(
        "{code}: class {class} ({}), score {}, probability of a problem {:.1}%",
        class.name_en(),
        latest.score.score,
        100.0 * latest.score.probability
    );
    outln!(
        "  screening {} as of {} with model {}",
        latest.screening_id,
        latest.as_of,
        latest.model_version
    );
    let reasons: Vec<risk::screen::StoredReason> =
        serde_json::from_str(&latest.score.reasons_json).unwrap_or_default();
    for r in &reasons {
        if r.rule.is_some() {
            outln!("  ! {} / {}", r.zh(), r.en());
        } else {
            outln!("  − {} points: {} / {}", r.points, r.zh(), r.en());
        }
    }
    if history.len() > 1 {
        outln!("history");
        let mut t = table(&["screening", "as of", "class", "score"]);
        for h in &history {
            t.add_row(vec![
                h.screening_id.to_string(),
                h.as_of.clone(),
                h.score.class.clone(),
                h.score.score.to_string(),
            ]);
        }
        print_table(&t);
    }
    Ok(Outcome::Ok)
}

async fn features(
    sql: &lake::sql::Sql,
    as_of: NaiveDate,
    labelled: bool,
    out: &Path,
) -> Result<Outcome> {
    use risk::sample;
    let set = &risk::V4;
    let (population, extra) = if labelled {
        let until = risk::train::year_after(as_of);
        let (population, s) = risk::train::labelled_sample(sql, set, as_of, until).await?;
        let extra: Vec<[String; 2]> = s
            .target
            .iter()
            .zip(&s.weights)
            .map(|(&t, w)| [u8::from(t).to_string(), format!("{w}")])
            .collect();
        (population.select(&s.rows), Some(extra))
    } else {
        (sample::population(sql, set, as_of).await?, None)
    };
    let (subjects, table, facts) = (&population.subjects, &population.table, &population.facts);
    let mut writer =
        csv::Writer::from_path(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut header = vec!["subject".to_string()];
    header.extend(table.names.iter().cloned());
    header.extend(facts.names.iter().cloned());
    if extra.is_some() {
        header.extend(["inspection_problem".to_string(), "weight".to_string()]);
    }
    writer.write_record(&header)?;
    for (row, subject) in subjects.iter().enumerate() {
        let mut fields = vec![subject.clone()];
        for column in table.columns.iter().chain(&facts.columns) {
            fields.push(match column.value(row) {
                scoring::Value::Number(v) => format!("{v}"),
                scoring::Value::Text(t) => t.to_string(),
                scoring::Value::Missing => String::new(),
            });
        }
        if let Some(extra) = &extra {
            fields.extend(extra[row].iter().cloned());
        }
        writer.write_record(fields.iter().map(|f| spreadsheet_safe(f).into_owned()))?;
    }
    writer.flush()?;
    outln!(
        "{} entities as of {as_of}, {} features, written to {}",
        subjects.len(),
        table.names.len(),
        out.display()
    );
    Ok(Outcome::Ok)
}

async fn export(store: &Store, screening: Option<i64>, out: &Path) -> Result<Outcome> {
    let id = match screening {
        Some(id) => id,
        None => {
            store
                .latest_screening()
                .await?
                .context("no screening yet: run `xinyong risk screen` first")?
                .id
        }
    };
    let rows = store.screening_scores(id).await?;
    if rows.is_empty() {
        bail!("screening {id} has no results");
    }
    let mut writer =
        csv::Writer::from_path(out).with_context(|| format!("cannot write {}", out.display()))?;
    writer.write_record(["uscc", "score", "probability", "class", "reasons"])?;
    for r in &rows {
        let reasons: Vec<risk::screen::StoredReason> =
            serde_json::from_str(&r.reasons_json).unwrap_or_default();
        let text: Vec<String> = reasons
            .iter()
            .map(|x| match x.rule {
                Some(_) => x.zh(),
                None => format!("{}（-{} 分）", x.zh(), x.points),
            })
            .collect();
        let cells = [
            r.uscc.clone(),
            r.score.to_string(),
            format!("{}", r.probability),
            r.class.clone(),
            text.join("; "),
        ];
        writer.write_record(cells.iter().map(|c| spreadsheet_safe(c).into_owned()))?;
    }
    writer.flush()?;
    outln!(
        "screening {id}: {} entities written to {}",
        rows.len(),
        out.display()
    );
    Ok(Outcome::Ok)
}
