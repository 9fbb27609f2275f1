//! `xinyong inspection`: double random, one public. Rosters, plans, the
//! verifiable draw, results, and the strategy simulation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use domain::risk::{RiskClass, SamplingRatios};
use inspection::bundle::{Bundle, VerifyReport};
use inspection::items::{STANDARD_ITEMS, standard_item};
use inspection::plan::{Exclusions, Plan, Sampling, Scope, Window};
use store::Store;
use supervision::roster_files;

use crate::Outcome;
use crate::data_cmd::{DataOptions, catalog_in_use, now, runtime};
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum InspectionCommand {
    /// The inspector roster: import from files, show.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Inspection plans: create, list, show.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Freeze a plan: snapshot the rosters, publish their hashes and the hash of a secret seed.
    Commit { plan: String },
    /// Reveal the seed and draw objects, then inspectors; merge joint visits.
    Draw {
        plan: String,
        #[arg(long)]
        json: bool,
    },
    /// Recompute a draw from its published material and report any difference.
    Verify {
        plan: String,
        /// Verify an exported bundle directory alone, without the database.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The commitment hash published at commit, to check the bundle against.
        #[arg(long, value_name = "SHA256")]
        commitment: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write the published bundle (plan, snapshots, commitment, seed, draw) to a directory.
    Export {
        plan: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Inspection results: import, publish.
    #[command(subcommand)]
    Results(ResultsCommand),
    /// Working-day calendar: holidays and make-up working days.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
    /// Random against risk-weighted sampling on the synthetic city, judged by its truth.
    Simulate(SimulateArgs),
}

#[derive(Subcommand)]
pub enum RosterCommand {
    /// Import inspectors, declared relationships and past inspections (the simulator's files or the same columns).
    Import {
        /// id,name,certificate,department,competences,available
        #[arg(long)]
        inspectors: Option<PathBuf>,
        /// inspector,subject,relationship
        #[arg(long)]
        relationships: Option<PathBuf>,
        /// Past inspections with inspector_1 and inspector_2 columns (history/inspections.csv).
        #[arg(long)]
        history: Option<PathBuf>,
    },
    /// The rosters' sizes, and the inspectors by department.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PlanCommand {
    /// Create a draft plan from options or from a plan JSON file.
    Create(Box<PlanArgs>),
    List {
        #[arg(long)]
        json: bool,
    },
    /// A plan, its commitment, its draw and its progress.
    Show {
        plan: String,
        #[arg(long)]
        json: bool,
    },
    /// The standard inspection items a plan can list.
    Items,
}

#[derive(Args)]
pub struct PlanArgs {
    /// A plan as JSON (the form `plan show --json` prints under "definition").
    #[arg(long, value_name = "FILE", conflicts_with_all = ["id", "item"])]
    from: Option<PathBuf>,
    #[arg(long, required_unless_present = "from")]
    id: Option<String>,
    #[arg(long, default_value = "")]
    name: String,
    /// Standard item codes (see `plan items`); departments follow from them.
    #[arg(long, value_delimiter = ',', required_unless_present = "from")]
    item: Vec<String>,
    /// Inspection window, START..END (inclusive dates).
    #[arg(long, required_unless_present = "from")]
    window: Option<String>,
    /// Sampling shares of classes A,B,C,D (default 0.01,0.02,0.10,0.30).
    #[arg(long, value_delimiter = ',', conflicts_with = "count")]
    ratios: Vec<f64>,
    /// Share of entities never screened (default: class B's).
    #[arg(long)]
    unclassed: Option<f64>,
    /// Draw this many objects uniformly instead of by class shares.
    #[arg(long)]
    count: Option<u64>,
    #[arg(long, value_delimiter = ',')]
    district: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    town: Vec<String>,
    /// Industry code prefixes (GB/T 4754).
    #[arg(long, value_delimiter = ',')]
    industry: Vec<String>,
    /// Registry entity types.
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    class: Vec<String>,
    #[arg(long)]
    min_age_years: Option<u32>,
    #[arg(long)]
    max_age_years: Option<u32>,
    /// Leave out entities inspected within this many months.
    #[arg(long)]
    exclude_inspected_within: Option<u32>,
    /// Leave out entities under an open case.
    #[arg(long)]
    exclude_open_cases: bool,
    #[arg(long, default_value_t = 2)]
    inspectors_per_object: u32,
    /// An inspector who inspected the object within this many months recuses.
    #[arg(long, default_value_t = 12)]
    recusal_months: u32,
}

#[derive(Subcommand)]
pub enum ResultsCommand {
    /// Import results: plan,uscc,item,outcome,problem_type,description,inspected_on (one row per task and item).
    Import {
        file: PathBuf,
        /// Publish the imported results at once.
        #[arg(long)]
        publish: bool,
    },
    /// Publish a plan's recorded, unpublished results.
    Publish { plan: String },
}

#[derive(Subcommand)]
pub enum HolidaysCommand {
    /// Import day,kind[,note] rows; kind is holiday or working_weekend.
    Import {
        file: PathBuf,
    },
    List,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Inspections per round, the same for both strategies.
    #[arg(long)]
    budget: u64,
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// The city's truth (default: the demo city's truth/entities.csv).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Seeds the rounds' draws, so a run can be repeated.
    #[arg(long, default_value = "xinyong-simulation")]
    seed: String,
    #[arg(long)]
    json: bool,
}

pub fn run(
    data: &DataOptions,
    catalog: Option<&Path>,
    command: InspectionCommand,
) -> Result<Outcome> {
    // a bundle is verified without any database
    if let InspectionCommand::Verify {
        from: Some(dir),
        commitment,
        json,
        ..
    } = &command
    {
        return verify_bundle(dir, commitment.as_deref(), *json);
    }
    runtime()?.block_on(async {
        let store = data.open().await?;
        let outcome = dispatch(&store, data, catalog, command).await;
        store.close().await;
        outcome
    })
}

async fn dispatch(
    store: &Store,
    data: &DataOptions,
    catalog: Option<&Path>,
    command: InspectionCommand,
) -> Result<Outcome> {
    let dir = &data.data_dir;
    match command {
        InspectionCommand::Roster(RosterCommand::Import {
            inspectors,
            relationships,
            history,
        }) => {
            import_roster(
                store,
                inspectors.as_deref(),
                relationships.as_deref(),
                history.as_deref(),
            )
            .await
        }
        InspectionCommand::Roster(RosterCommand::Show { json }) => show_roster(store, json).await,
        InspectionCommand::Plan(PlanCommand::Create(args)) => {
            let plan = plan_from_args(*args)?;
            supervision::create_plan(store, &plan, "cli", &now()).await?;
            outln!(
                "plan {} created as a draft: {} items, {} departments, window {} to {}",
                plan.id,
                plan.items.len(),
                plan.departments.len(),
                plan.window.start,
                plan.window.end
            );
            Ok(Outcome::Ok)
        }
        InspectionCommand::Plan(PlanCommand::List { json }) => list_plans(store, json).await,
        InspectionCommand::Plan(PlanCommand::Show { plan, json }) => {
            show_plan(store, &plan, json).await
        }
        InspectionCommand::Plan(PlanCommand::Items) => {
            let mut t = table(&["code", "item", "department", "competence"]);
            for (code, name, department, competence) in STANDARD_ITEMS {
                t.add_row(vec![code, name, department, competence]);
            }
            print_table(&t);
            Ok(Outcome::Ok)
        }
        InspectionCommand::Commit { plan } => {
            let (commitment, published) = supervision::commit(store, dir, &plan, &now()).await?;
            outln!("plan {plan} committed; publish these before the draw:");
            outln!("  commitment sha256  {published}");
            outln!("  seed sha256        {}", commitment.seed_sha256);
            for file in &commitment.files {
                outln!("  {:<18} {} ({} rows)", file.name, file.sha256, file.rows);
            }
            Ok(Outcome::Ok)
        }
        InspectionCommand::Draw { plan, json } => {
            let (result, joint) = supervision::draw(store, dir, &plan, &now()).await?;
            if json {
                print_json(&serde_json::json!({"draw": result, "joint": joint}))?;
                return Ok(Outcome::Ok);
            }
            outln!(
                "plan {plan} drawn: {} of {} in scope ({} excluded as recently inspected, {} under an open case)",
                result.picks.len(),
                result.in_scope,
                result.excluded_recently_inspected,
                result.excluded_open_case
            );
            let mut t = table(&["stratum", "candidates", "ratio", "drawn"]);
            for s in &result.strata {
                t.add_row(vec![
                    inspection::draw::stratum_label(s.class),
                    s.candidates.to_string(),
                    s.ratio
                        .map(|r| format!("{:.1}%", r * 100.0))
                        .unwrap_or_else(|| "-".into()),
                    s.drawn.to_string(),
                ]);
            }
            print_table(&t);
            let unstaffed: Vec<_> = result.unstaffed().collect();
            outln!(
                "staffed {} objects; {} could not be staffed",
                result.staffed().count(),
                unstaffed.len()
            );
            for pick in unstaffed.iter().take(20) {
                outln!(
                    "  {}: {}",
                    pick.uscc,
                    pick.unstaffed.as_deref().unwrap_or("")
                );
            }
            outln!(
                "joint visits: {} open tasks in overlapping windows make {} visits ({} saved)",
                joint.tasks,
                joint.visits,
                joint.saved
            );
            Ok(Outcome::Ok)
        }
        InspectionCommand::Verify {
            plan,
            json,
            commitment,
            from: None,
        } => {
            let mut report = supervision::verify(store, dir, &plan).await?;
            if let Some(given) = commitment
                && given.trim() != report.commitment_sha256
            {
                report.checks.insert(
                    0,
                    inspection::bundle::Check {
                        name: "commitment".into(),
                        ok: false,
                        detail: format!(
                            "the bundle's commitment is {}, not the given {given}",
                            report.commitment_sha256
                        ),
                    },
                );
            }
            print_verify(&report, json)
        }
        InspectionCommand::Verify {
            from: Some(dir),
            commitment,
            json,
            ..
        } => verify_bundle(&dir, commitment.as_deref(), json),
        InspectionCommand::Export { plan, out } => {
            let files = supervision::export(store, dir, &plan, &out).await?;
            outln!(
                "plan {plan}: {files} files in {}; check them with `xinyong inspection verify {plan} --from {}`",
                out.display(),
                out.display()
            );
            Ok(Outcome::Ok)
        }
        InspectionCommand::Results(ResultsCommand::Import { file, publish }) => {
            let inputs = supervision::read_results(&file)?;
            let catalog = catalog_in_use(store, catalog).await?;
            let lake = lake::Lake::new(dir);
            let lock = crate::data_cmd::lake_lock(store, &lake).await?;
            let mut known = ingest::batch::Known::load(store).await?;
            let recorded = supervision::results::record(
                store,
                &lock,
                &catalog,
                &mut known,
                dir,
                &inputs,
                "cli",
                &now(),
            )
            .await?;
            outln!(
                "{} tasks recorded, {} with problems; lake batches {}",
                recorded.tasks,
                recorded.problems,
                recorded
                    .batches
                    .iter()
                    .map(|b| b.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if publish {
                let plans: std::collections::BTreeSet<&str> =
                    inputs.iter().map(|i| i.plan.as_str()).collect();
                for plan in plans {
                    publish_plan(store, plan).await?;
                }
            }
            Ok(Outcome::Ok)
        }
        InspectionCommand::Results(ResultsCommand::Publish { plan }) => {
            publish_plan(store, &plan).await?;
            Ok(Outcome::Ok)
        }
        InspectionCommand::Holidays(HolidaysCommand::Import { file }) => {
            import_holidays(store, &file).await
        }
        InspectionCommand::Holidays(HolidaysCommand::List) => {
            let mut t = table(&["day", "kind", "note"]);
            for (day, kind, note) in store.holidays().await? {
                t.add_row(vec![day, kind, note]);
            }
            print_table(&t);
            Ok(Outcome::Ok)
        }
        InspectionCommand::Simulate(args) => simulate(store, data, catalog, args).await,
    }
}

fn verify_bundle(dir: &Path, commitment: Option<&str>, json: bool) -> Result<Outcome> {
    let bundle = Bundle::read_dir(dir)?;
    print_verify(&inspection::bundle::verify(&bundle, commitment), json)
}

fn print_verify(report: &VerifyReport, json: bool) -> Result<Outcome> {
    if json {
        print_json(report)?;
    } else {
        outln!(
            "plan {}: commitment {}",
            report.plan,
            report.commitment_sha256
        );
        for check in &report.checks {
            outln!(
                "  {} {:<18} {}",
                if check.ok { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        outln!(
            "{}",
            if report.ok() {
                "verified: the draw is exactly what the published material gives"
            } else {
                "NOT verified: see the failed checks above"
            }
        );
    }
    Ok(if report.ok() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

async fn publish_plan(store: &Store, plan: &str) -> Result<()> {
    let today = chrono::Local::now().date_naive();
    let published = supervision::publish(store, plan, today).await?;
    outln!("plan {plan}: {published} results published on {today}");
    Ok(())
}

fn parse_day(text: &str, what: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .with_context(|| format!("{what} '{text}' is not a date (YYYY-MM-DD)"))
}

fn plan_from_args(args: PlanArgs) -> Result<Plan> {
    if let Some(file) = args.from {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let plan = Plan::from_json(&text, &file.display().to_string())?;
        plan.validate()?;
        return Ok(plan);
    }
    let id = args.id.unwrap_or_default();
    let window = args.window.unwrap_or_default();
    let Some((start, end)) = window.split_once("..") else {
        bail!("--window '{window}' is not START..END");
    };
    let mut items = Vec::new();
    for code in &args.item {
        let item = standard_item(code).with_context(|| {
            format!(
                "--item '{code}' is not a standard item; `xinyong inspection plan items` lists them"
            )
        })?;
        items.push(item);
    }
    let departments = inspection::plan::departments_of(&items);
    let ratios = match args.ratios.as_slice() {
        [] => SamplingRatios::default(),
        [a, b, c, d] => SamplingRatios {
            a: *a,
            b: *b,
            c: *c,
            d: *d,
        },
        _ => bail!("--ratios takes four shares: A, B, C and D"),
    };
    let sampling = match args.count {
        Some(count) => Sampling::Count { count },
        None => Sampling::Ratios {
            unclassed: args.unclassed.unwrap_or(ratios.b),
            ratios,
        },
    };
    let classes = args
        .class
        .iter()
        .map(|c| {
            c.parse::<RiskClass>()
                .map_err(|e| anyhow::anyhow!("--class: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let plan = Plan {
        name: if args.name.is_empty() {
            id.clone()
        } else {
            args.name
        },
        id,
        items,
        departments,
        scope: Scope {
            districts: args.district,
            towns: args.town,
            industries: args.industry,
            kinds: args.kind,
            classes,
            min_age_years: args.min_age_years,
            max_age_years: args.max_age_years,
        },
        sampling,
        exclusions: Exclusions {
            inspected_within_months: args.exclude_inspected_within,
            open_case: args.exclude_open_cases,
        },
        window: Window {
            start: parse_day(start, "window start")?,
            end: parse_day(end, "window end")?,
        },
        inspectors_per_object: args.inspectors_per_object,
        recusal_months: args.recusal_months,
    };
    plan.validate()?;
    Ok(plan)
}

async fn import_roster(
    store: &Store,
    inspectors: Option<&Path>,
    relationships: Option<&Path>,
    history: Option<&Path>,
) -> Result<Outcome> {
    if inspectors.is_none() && relationships.is_none() && history.is_none() {
        bail!("nothing to import: give --inspectors, --relationships or --history");
    }
    let open = |path: &Path| {
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let name = |path: &Path| path.display().to_string();
    if let Some(path) = inspectors {
        let n = roster_files::import_inspectors(store, open(path)?, &name(path), &now()).await?;
        outln!("{n} inspectors imported from {}", path.display());
    }
    if let Some(path) = relationships {
        let n = roster_files::import_relationships(store, open(path)?, &name(path), &now()).await?;
        outln!(
            "{n} declared relationships imported from {}",
            path.display()
        );
    }
    if let Some(path) = history {
        let n = roster_files::import_history(store, open(path)?, &name(path)).await?;
        outln!("{n} past inspector visits imported from {}", path.display());
    }
    Ok(Outcome::Ok)
}

async fn show_roster(store: &Store, json: bool) -> Result<Outcome> {
    let inspectors = store.inspectors().await?;
    let objects = store.object_roster().await?;
    let relationships = store.relationships().await?;
    let mut by_department: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for i in &inspectors {
        let entry = by_department.entry(i.department.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(i.available);
    }
    if json {
        print_json(&serde_json::json!({
            "objects": objects.len(),
            "classed": objects.iter().filter(|o| o.class.is_some()).count(),
            "inspectors": inspectors.len(),
            "relationships": relationships.len(),
            "by_department": by_department.iter().map(|(d, (n, a))| serde_json::json!({"department": d, "inspectors": n, "available": a})).collect::<Vec<_>>(),
        }))?;
        return Ok(Outcome::Ok);
    }
    outln!(
        "object roster: {} operating entities ({} with a risk class)",
        objects.len(),
        objects.iter().filter(|o| o.class.is_some()).count()
    );
    outln!(
        "inspector roster: {} inspectors, {} declared relationships",
        inspectors.len(),
        relationships.len()
    );
    let mut t = table(&["department", "inspectors", "available"]);
    for (department, (n, available)) in by_department {
        t.add_row(vec![
            department.to_string(),
            n.to_string(),
            available.to_string(),
        ]);
    }
    print_table(&t);
    Ok(Outcome::Ok)
}

async fn list_plans(store: &Store, json: bool) -> Result<Outcome> {
    let plans = store.plans().await?;
    if json {
        let public: Vec<_> = plans
            .iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "name": p.name, "state": p.state, "window_start": p.window_start,
                    "window_end": p.window_end, "commitment_sha256": p.commitment_sha256,
                    "seed_sha256": p.seed_sha256, "seed": p.revealed_seed(),
                })
            })
            .collect();
        print_json(&public)?;
        return Ok(Outcome::Ok);
    }
    let mut t = table(&["plan", "name", "state", "window", "commitment"]);
    for p in plans {
        t.add_row(vec![
            p.id.clone(),
            p.name.clone(),
            p.state.clone(),
            format!("{} – {}", p.window_start, p.window_end),
            p.commitment_sha256
                .clone()
                .unwrap_or_default()
                .chars()
                .take(16)
                .collect(),
        ]);
    }
    print_table(&t);
    Ok(Outcome::Ok)
}

async fn show_plan(store: &Store, id: &str, json: bool) -> Result<Outcome> {
    let (row, plan) = supervision::stored_plan(store, id).await?;
    let tasks = store.tasks_of_plan(id).await?;
    let calendar = supervision::calendar(store).await?;
    let progress = supervision::progress(&tasks, &calendar, chrono::Local::now().date_naive());
    if json {
        print_json(&serde_json::json!({
            "id": row.id, "state": row.state, "definition": plan,
            "committed_at": row.committed_at, "commitment_sha256": row.commitment_sha256,
            "seed_sha256": row.seed_sha256, "seed": row.revealed_seed(), "drawn_at": row.drawn_at,
            "progress": progress,
        }))?;
        return Ok(Outcome::Ok);
    }
    outln!("plan {} ({}): {}", row.id, row.state, row.name);
    outln!(
        "  window        {} to {}",
        plan.window.start,
        plan.window.end
    );
    outln!("  departments   {}", plan.departments.join(", "));
    for item in &plan.items {
        outln!(
            "  item          {} {} ({}, {})",
            item.code,
            item.name,
            item.department,
            item.competence
        );
    }
    outln!("  sampling      {}", plan.sampling.describe());
    outln!(
        "  team          {} inspectors per object; recusal window {} months",
        plan.inspectors_per_object,
        plan.recusal_months
    );
    if let Some(sha) = &row.commitment_sha256 {
        outln!("  commitment    {sha}");
        outln!(
            "  seed sha256   {}",
            row.seed_sha256.clone().unwrap_or_default()
        );
    }
    if let Some(seed) = row.revealed_seed() {
        outln!("  seed          {seed}");
    }
    if !tasks.is_empty() {
        outln!(
            "  tasks         {} ({} unstaffed, {} open, {} done, {} with problems)",
            progress.tasks,
            progress.unstaffed,
            progress.assigned,
            progress.done,
            progress.problems
        );
        outln!(
            "  published     {} ({} overdue, {} published late); {} in joint visits",
            progress.published,
            progress.overdue,
            progress.published_late,
            progress.in_joint_visits
        );
    }
    Ok(Outcome::Ok)
}

async fn import_holidays(store: &Store, file: &Path) -> Result<Outcome> {
    let name = file.display().to_string();
    let reader = std::fs::File::open(file).with_context(|| format!("cannot read {name}"))?;
    let rows = inspection::roster::read_rows(reader, &name, &["day", "kind", "note"], |row| {
        let day = row
            .date("day")?
            .ok_or_else(|| row.fail("day", "must not be empty"))?;
        let kind = row.required("kind")?;
        if kind != "holiday" && kind != "working_weekend" {
            return Err(row.fail(
                "kind",
                format!("'{kind}' is not holiday or working_weekend"),
            ));
        }
        Ok((day.to_string(), kind, row.text("note").to_string()))
    })?;
    store.set_holidays(&rows).await?;
    outln!("{} days imported from {name}", rows.len());
    Ok(Outcome::Ok)
}

async fn simulate(
    store: &Store,
    data: &DataOptions,
    catalog: Option<&Path>,
    args: SimulateArgs,
) -> Result<Outcome> {
    let truth_path = args.truth.unwrap_or_else(|| {
        data.data_dir
            .join("demo-city")
            .join("truth")
            .join("entities.csv")
    });
    let truth = supervision::simulation::read_truth(&truth_path)?;
    let sql = crate::risk_cmd::open_lake(store, data, catalog).await?;
    let as_of = risk::default_screening_as_of(&sql).await?;
    let report =
        supervision::simulation::run(&sql, &truth, as_of, args.budget, args.rounds, &args.seed)
            .await?;
    let path = supervision::simulation::report_path(&data.data_dir);
    supervision::simulation::save(&report, &path)?;
    if args.json {
        print_json(&report)?;
        return Ok(Outcome::Ok);
    }
    let c = &report.comparison;
    outln!(
        "{} rounds of {} inspections from {} on {} entities ({} violate)",
        c.rounds,
        c.budget,
        as_of,
        report.population,
        report.violators
    );
    let mut t = table(&[
        "",
        "random",
        "risk-weighted",
        "seed city (random → risk-based)",
    ]);
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    t.add_row(vec![
        "problem discovery rate".into(),
        pct(c.random.discovery_rate()),
        pct(c.risk_weighted.discovery_rate()),
        "17.6% → 86%".into(),
    ]);
    t.add_row(vec![
        "inspections of law-abiding entities".into(),
        pct(c.random.law_abiding_share()),
        pct(c.risk_weighted.law_abiding_share()),
        "−83%".into(),
    ]);
    t.add_row(vec![
        "fall in law-abiding inspections".into(),
        "".into(),
        pct(c.law_abiding_fall()),
        "83%".into(),
    ]);
    t.add_row(vec![
        "share of all violators found".into(),
        pct(c.random.violators_found_share()),
        pct(c.risk_weighted.violators_found_share()),
        "".into(),
    ]);
    print_table(&t);
    outln!("report saved to {}", path.display());
    Ok(Outcome::Ok)
}

/// The demo's inspection side: the city's inspector roster and history, and
/// one city-wide plan committed and drawn with a window starting today.
pub async fn demo_inspections(store: &Store, data_dir: &Path, city: &Path) -> Result<()> {
    if !store.plans().await?.is_empty() {
        outln!("      plans exist already; reusing them");
        return Ok(());
    }
    import_roster(
        store,
        Some(&city.join("roster/inspectors.csv")),
        Some(&city.join("roster/relationships.csv")),
        Some(&city.join("history/inspections.csv")),
    )
    .await?;
    let today = chrono::Local::now().date_naive();
    let end = today
        .checked_add_days(chrono::Days::new(90))
        .unwrap_or(today);
    let id = format!("SJ-{}-001", today.format("%Y"));
    let plan = plan_from_args(PlanArgs {
        from: None,
        id: Some(id.clone()),
        name: "年度报告与食品经营双随机抽查".to_string(),
        item: vec!["samr.annual_report".to_string(), "samr.food".to_string()],
        window: Some(format!("{today}..{end}")),
        ratios: Vec::new(),
        unclassed: None,
        count: None,
        district: Vec::new(),
        town: Vec::new(),
        industry: Vec::new(),
        kind: Vec::new(),
        class: Vec::new(),
        min_age_years: None,
        max_age_years: None,
        exclude_inspected_within: Some(12),
        exclude_open_cases: true,
        inspectors_per_object: 2,
        recusal_months: 24,
    })?;
    supervision::create_plan(store, &plan, "demo", &now()).await?;
    let (_, published) = supervision::commit(store, data_dir, &id, &now()).await?;
    let (result, _) = supervision::draw(store, data_dir, &id, &now()).await?;
    // the demo inspector account signs in as the busiest inspector
    if let Some((busiest, _)) = result
        .workload
        .iter()
        .max_by_key(|(id, n)| (*n, std::cmp::Reverse(id.clone())))
    {
        store.link_inspector_account(busiest, "inspector").await?;
    }
    outln!(
        "      plan {id}: commitment {}…, {} objects drawn, {} staffed",
        published.get(..16).unwrap_or(&published),
        result.picks.len(),
        result.staffed().count()
    );
    Ok(())
}
