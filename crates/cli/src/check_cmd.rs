//! `xinyong check`: a credit check (信用核查) for an application scenario,
//! of one entity or a file of thousands, from the command line; recorded
//! and audited like the server's.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use credit::lists::Measures;

use crate::Outcome;
use crate::csv_table::write_csv;
use crate::data_cmd::{DataOptions, runtime};
use crate::output::{outln, print_json, print_table, table};

#[derive(Args)]
pub struct CheckArgs {
    /// The application scenario (`xinyong check --scenarios` lists them).
    #[arg(long, required_unless_present = "scenarios")]
    scenario: Option<String>,
    /// Codes to check.
    uscc: Vec<String>,
    /// A file of codes: one per line, or a CSV whose first column holds them (a header line is skipped).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Write every entity's result here as CSV.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The department the check is made for (recorded with it).
    #[arg(long, default_value = "")]
    department: String,
    /// Lists, measures and scenarios (TOML; default: the built-in file).
    #[arg(long)]
    measures: Option<PathBuf>,
    /// List the scenarios and stop.
    #[arg(long)]
    scenarios: bool,
    #[arg(long)]
    json: bool,
}

/// The measures file given, else the built-in one.
pub fn read_measures(path: Option<&Path>) -> Result<Measures> {
    let Some(path) = path else {
        return Ok(Measures::built_in()?);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the measures {}", path.display()))?;
    Ok(Measures::parse(&text, &path.display().to_string())?)
}

/// Codes from a file.
fn codes_in(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(evaluation::check::codes_in(&text))
}

pub fn run(data: &DataOptions, args: CheckArgs) -> Result<Outcome> {
    let measures = read_measures(args.measures.as_deref())?;
    if args.scenarios {
        let mut rows = table(&["scenario", "名称", "name"]);
        for s in &measures.scenarios {
            rows.add_row(vec![s.id.clone(), s.name_zh.clone(), s.name_en.clone()]);
        }
        print_table(&rows);
        return Ok(Outcome::Ok);
    }
    let scenario = args.scenario.clone().unwrap_or_default();
    if measures.scenario(&scenario).is_none() {
        bail!("scenario '{scenario}' is not known: `xinyong check --scenarios` lists them");
    }
    let mut asked = args.uscc.clone();
    if let Some(file) = &args.file {
        asked.extend(codes_in(file)?);
    }
    if asked.is_empty() {
        bail!("nothing to check: give codes or --file");
    }
    runtime()?.block_on(async {
        let store = data.open().await?;
        let started = Instant::now();
        let checked = evaluation::check::check(&store, &measures, &scenario, &asked).await?;
        let [barred, scrutiny, incentive, clear, not_found] = checked.tally();
        let at = crate::data_cmd::now();
        let actor = crate::server_cmd::cli_actor();
        let record = checked.record(&at, &actor, &args.department, &scenario);
        let id = store.save_credit_check(&record).await?;
        store
            .audit(
                &store::NewAuditEntry {
                    actor: &actor,
                    action: "credit_check",
                    subject: &id.to_string(),
                    outcome: "ok",
                    detail: serde_json::json!({
                        "scenario": scenario, "entities": asked.len(),
                        "barred": barred, "not_found": not_found,
                    }),
                },
                &at,
            )
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        if let Some(out) = &args.out {
            let grades = evaluation::check::grade_names(checked.run.as_ref());
            let header: Vec<String> = evaluation::check::CSV_HEADER
                .iter()
                .map(|h| h.to_string())
                .collect();
            write_csv(
                out,
                &header,
                checked
                    .results
                    .iter()
                    .map(|r| Ok(evaluation::check::csv_row(&measures, &grades, r))),
            )?;
        }
        if args.json {
            print_json(&checked)?;
            return Ok(Outcome::Ok);
        }
        let run = checked
            .run
            .as_ref()
            .map_or("no evaluation yet".to_string(), |r| {
                format!("evaluation {} as of {}", r.id, r.as_of)
            });
        outln!(
            "check {id}: {} entities for {scenario} ({run}) in {seconds:.2} s: {barred} barred, {scrutiny} closer scrutiny, {incentive} incentives, {clear} clear, {not_found} not found",
            asked.len()
        );
        if checked.results.len() <= 20 {
            let mut rows = table(&["uscc", "grade", "lists", "measures", "verdict"]);
            for r in &checked.results {
                rows.add_row(vec![
                    r.asked.clone(),
                    r.grade.clone().unwrap_or_default(),
                    r.lists.join(", "),
                    r.measures.join(", "),
                    r.verdict.map_or_else(
                        || r.problem.clone().unwrap_or_default(),
                        |v| v.as_str().to_string(),
                    ),
                ]);
            }
            print_table(&rows);
        }
        Ok(Outcome::Ok)
    })
}
