//! `xinyong model`: the scorecard engine on any CSV table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use scoring::{
    BinningOptions, FitOptions, Kind, Model, ModelInfo, Prebinning, Report, Scaling, Trend,
};

use crate::Outcome;
use crate::csv_table::{CsvFile, Typing, read, read_table, write_csv};
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Fit a scorecard to a CSV table.
    Fit(Box<FitArgs>),
    /// Score a CSV table: adds probability, score and reasons to every row.
    Apply {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long, value_name = "SCORED.csv")]
        out: PathBuf,
    },
    /// Binning tables, metrics and stability of a model on a CSV table.
    Report {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The model as a SQL query with CASE expressions.
    ExportSql {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        /// Table the query reads.
        #[arg(long, default_value = "data")]
        table: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TrendArg {
    /// Ascending or descending, whichever has the higher IV.
    Auto,
    Ascending,
    Descending,
    /// Any shape.
    Free,
    /// Rising to one peak, then falling.
    Peak,
    /// Falling to one low point, then rising.
    Valley,
    /// As auto, or a peak or valley when a likelihood-ratio test at 5 % says it fits better.
    Unimodal,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PrebinningArg {
    Tree,
    Quantile,
}

#[derive(Args)]
pub struct FitArgs {
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// The outcome column.
    #[arg(long)]
    target: String,
    /// The target value that counts as the bad outcome.
    #[arg(long, default_value = "1")]
    event: String,
    /// Columns not to use as features.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Columns to read as categories even if they hold numbers.
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Where to write the model; standard output if not given.
    #[arg(long, value_name = "MODEL.json")]
    out: Option<PathBuf>,
    #[arg(long, default_value = "scorecard")]
    name: String,
    /// The version recorded in the model.
    #[arg(long, default_value = "1")]
    model_version: String,
    /// The shape the WoE of a numeric feature's bins must follow.
    #[arg(long, value_enum, default_value_t = TrendArg::Auto)]
    trend: TrendArg,
    #[arg(long, value_enum, default_value_t = PrebinningArg::Tree)]
    prebinning: PrebinningArg,
    #[arg(long, default_value_t = 8)]
    max_bins: usize,
    #[arg(long, default_value_t = 0.05)]
    min_bin_share: f64,
    /// A bin smaller than --min-bin-share is still kept when it holds at
    /// least this many events (0: off), so rare flags keep their own bin.
    #[arg(long, default_value_t = 0)]
    min_bin_events: u64,
    /// Numeric codes that get bins of their own (e.g. -1 for "not reported").
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    special: Vec<f64>,
    #[arg(long, default_value_t = 0.02)]
    min_iv: f64,
    #[arg(long, default_value_t = 0.8)]
    max_correlation: f64,
    #[arg(long, default_value_t = 1.0)]
    l2: f64,
    /// Keep features whose coefficient comes out negative (by default they
    /// are dropped, so a riskier bin never earns more points).
    #[arg(long)]
    allow_negative_coefficients: bool,
    #[arg(long, default_value_t = 600.0)]
    base_score: f64,
    #[arg(long, default_value_t = 50.0)]
    base_odds: f64,
    #[arg(long, default_value_t = 20.0)]
    pdo: f64,
}

pub fn run(command: ModelCommand) -> Result<Outcome> {
    match command {
        ModelCommand::Fit(args) => fit(*args),
        ModelCommand::Apply { model, data, out } => apply(&model, &data, &out),
        ModelCommand::Report { model, data, json } => report(&model, &data, json),
        ModelCommand::ExportSql { model, table } => {
            let model = load(&model)?;
            outln!("{}", scoring::sql::select(&model, &table));
            Ok(Outcome::Ok)
        }
    }
}

pub fn load(path: &Path) -> Result<Model> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Model::from_json(&text).with_context(|| format!("{}", path.display()))
}

fn fit(args: FitArgs) -> Result<Outcome> {
    let started = Instant::now();
    let file = CsvFile::open(&args.data)?;
    file.position(&args.target)?;
    for name in args.exclude.iter().chain(&args.categorical) {
        file.position(name)?;
    }
    let columns: Vec<(String, Typing)> = file
        .header
        .iter()
        .filter(|h| **h != args.target && !args.exclude.contains(h))
        .map(|h| {
            let typing = if args.categorical.contains(h) {
                Typing::Exactly(Kind::Categorical)
            } else {
                Typing::Auto
            };
            (h.clone(), typing)
        })
        .collect();
    if columns.is_empty() {
        bail!(
            "{}: no feature columns are left besides the target",
            file.path
        );
    }
    let (table, target) = read(&file, &columns, Some((&args.target, &args.event)))?;
    let target = target.unwrap_or_default();
    let read_seconds = started.elapsed().as_secs_f64();

    let options = FitOptions {
        binning: BinningOptions {
            prebinning: match args.prebinning {
                PrebinningArg::Tree => Prebinning::Tree,
                PrebinningArg::Quantile => Prebinning::Quantile,
            },
            max_bins: args.max_bins,
            min_bin_share: args.min_bin_share,
            min_bin_events: args.min_bin_events,
            trend: match args.trend {
                TrendArg::Auto => Trend::Auto,
                TrendArg::Ascending => Trend::Ascending,
                TrendArg::Descending => Trend::Descending,
                TrendArg::Free => Trend::Free,
                TrendArg::Peak => Trend::Peak,
                TrendArg::Valley => Trend::Valley,
                TrendArg::Unimodal => Trend::Unimodal,
            },
            special_values: args.special.clone(),
            ..BinningOptions::default()
        },
        min_iv: args.min_iv,
        max_correlation: args.max_correlation,
        l2: args.l2,
        positive_coefficients: !args.allow_negative_coefficients,
        scaling: Scaling {
            base_score: args.base_score,
            base_odds: args.base_odds,
            pdo: args.pdo,
        },
        ..FitOptions::default()
    };
    let info = ModelInfo {
        name: args.name.clone(),
        version: args.model_version.clone(),
        created: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        target: args.target.clone(),
        event: args.event.clone(),
        labels: BTreeMap::new(),
    };
    let fit_started = Instant::now();
    let fitted = scoring::fit(&table, &target, &options, &info)
        .with_context(|| format!("{}: cannot fit", file.path))?;
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    let model = fitted.model;
    let json = model.to_json();
    match &args.out {
        Some(path) => std::fs::write(path, &json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => outln!("{json}"),
    }
    let m = &model.training.metrics;
    eprintln!(
        "fitted {} features ({} dropped) on {} rows, {} events: training AUC {:.4}, KS {:.4}, Gini {:.4}",
        model.features.len(),
        model.dropped.len(),
        m.rows,
        m.events,
        m.auc,
        m.ks,
        m.gini
    );
    eprintln!("read {read_seconds:.3} s, fit {fit_seconds:.3} s");
    Ok(Outcome::Ok)
}

/// The model's features as columns to read, typed as the model has them.
fn model_columns(model: &Model) -> Vec<(String, Typing)> {
    model
        .features
        .iter()
        .map(|f| (f.name.clone(), Typing::Exactly(f.kind)))
        .collect()
}

fn apply(model_path: &Path, data: &Path, out: &Path) -> Result<Outcome> {
    let started = Instant::now();
    let model = load(model_path)?;
    let file = CsvFile::open(data)?;
    for name in ["probability", "score", "reasons"] {
        if file.header.iter().any(|h| h == name) {
            bail!(
                "{}: already has a column '{name}', which apply adds",
                file.path
            );
        }
    }
    let table = read_table(&file, &model_columns(&model))?;
    let read_seconds = started.elapsed().as_secs_f64();
    let score_started = Instant::now();
    let scorer = model.scorer();
    let scored = scorer
        .score_table(&table)
        .with_context(|| file.path.clone())?;
    let score_seconds = score_started.elapsed().as_secs_f64();

    let mut header = file.header.clone();
    header.extend(["probability", "score", "reasons"].map(String::from));
    let rows = file.records().zip(&scored).map(|(record, scored)| {
        let (_, record) = record?;
        let mut fields: Vec<String> = record.iter().map(String::from).collect();
        fields.push(format!("{}", scored.probability));
        fields.push(scored.score.to_string());
        fields.push(scorer.reasons_text(scored));
        Ok(fields)
    });
    write_csv(out, &header, rows)?;
    eprintln!(
        "scored {} rows: read {read_seconds:.3} s, score {score_seconds:.3} s, total {:.3} s",
        scored.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}

fn report(model_path: &Path, data: &Path, json: bool) -> Result<Outcome> {
    let model = load(model_path)?;
    let file = CsvFile::open(data)?;
    let target = file
        .position(&model.target)
        .is_ok()
        .then_some((model.target.as_str(), model.event.as_str()));
    let (table, target) = read(&file, &model_columns(&model), target)?;
    let scorer = model.scorer();
    let report =
        scoring::report(&scorer, &table, target.as_deref()).with_context(|| file.path.clone())?;
    if json {
        print_json(&report)?;
        return Ok(Outcome::Ok);
    }
    print_report(&model, &report);
    Ok(Outcome::Ok)
}

fn print_report(model: &Model, report: &Report) {
    outln!(
        "model {} version {}: {} = {} on {} rows",
        model.name,
        model.version,
        model.target,
        model.event,
        report.rows
    );
    match &report.metrics {
        Some(m) => outln!(
            "AUC {:.4}  Gini {:.4}  KS {:.4}  log-loss {:.4}  events {} ({:.2}%)",
            m.auc,
            m.gini,
            m.ks,
            m.log_loss,
            m.events,
            100.0 * m.events as f64 / m.rows.max(1) as f64
        ),
        None => outln!("no '{}' column: stability only", model.target),
    }
    outln!(
        "score PSI against training {:.4} ({})",
        report.score_psi,
        scoring::metrics::psi_reading(report.score_psi)
    );
    for feature in &report.features {
        outln!();
        let iv = feature.iv.map_or("-".to_string(), |iv| format!("{iv:.4}"));
        outln!(
            "{} — IV {:.4} in training, {iv} here; coefficient {:.3}; PSI {:.4} ({})",
            feature.label,
            feature.training_iv,
            feature.coefficient,
            feature.psi,
            scoring::metrics::psi_reading(feature.psi)
        );
        let mut t = table(&[
            "bin",
            "points",
            "WoE",
            "training share",
            "rows",
            "share",
            "events",
            "event rate",
        ]);
        for bin in &feature.bins {
            t.add_row(vec![
                bin.label.clone(),
                bin.points.to_string(),
                format!("{:.3}", bin.woe),
                format!("{:.2}%", 100.0 * bin.training_share),
                bin.count.to_string(),
                format!("{:.2}%", 100.0 * bin.share),
                bin.events.map_or("-".into(), |e| e.to_string()),
                bin.event_rate
                    .map_or("-".into(), |r| format!("{:.2}%", 100.0 * r)),
            ]);
        }
        print_table(&t);
    }
    if !report.deciles.is_empty() {
        outln!();
        outln!("deciles of predicted risk, riskiest first");
        let mut t = table(&[
            "decile",
            "rows",
            "events",
            "mean predicted",
            "observed",
            "lift",
            "cumulative capture",
        ]);
        for d in &report.deciles {
            t.add_row(vec![
                d.decile.to_string(),
                d.rows.to_string(),
                d.events.to_string(),
                format!("{:.2}%", 100.0 * d.mean_probability),
                format!("{:.2}%", 100.0 * d.event_rate),
                format!("{:.2}", d.lift),
                format!("{:.1}%", 100.0 * d.cumulative_capture),
            ]);
        }
        print_table(&t);
    }
    if !model.dropped.is_empty() {
        outln!();
        outln!("dropped in training");
        for d in &model.dropped {
            outln!("  {}: {}", d.name, d.reason);
        }
    }
}
