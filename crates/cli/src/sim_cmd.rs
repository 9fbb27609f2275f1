//! `xinyong sim`: generate the synthetic city.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sim::{Format, Preset, SimConfig};

use crate::Outcome;
use crate::output::{outln, print_json};

#[derive(Subcommand)]
pub enum SimCommand {
    /// Generate a synthetic city: department feeds, manifest, rosters, finance data and the truth.
    ///
    /// The same arguments give byte-identical output on any machine.
    Generate {
        /// Output directory; must be new or empty.
        #[arg(long)]
        out: PathBuf,
        /// A named size: demo (20 000 entities) or city (1.2 million). --entities overrides it.
        #[arg(long, value_enum)]
        preset: Option<PresetArg>,
        /// Number of market entities.
        #[arg(long)]
        entities: Option<u32>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Years of history, ending at --end.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// Last day of the history (YYYY-MM-DD).
        #[arg(long, default_value = "2025-12-31")]
        end: String,
        /// Share of feed rows made dirty, each labelled in truth/dirty.csv.
        #[arg(long, default_value_t = 0.01)]
        dirty: f64,
        /// Share of records naming their subject by a legacy identifier, where the item allows.
        #[arg(long, default_value_t = 0.05)]
        legacy_share: f64,
        /// Share of entity-months with periodic records (1 = all); lower it for very large cities.
        #[arg(long, default_value_t = 1.0)]
        density: f64,
        /// Complaints against the usual rate (1 = usual), to measure the complaint pipeline at scale.
        #[arg(long, default_value_t = 1.0)]
        complaint_rate: f64,
        /// Formats departments may send, comma-separated: csv, jsonl, xlsx.
        #[arg(long, default_value = "csv,jsonl,xlsx")]
        formats: String,
        /// Banks on the financing platform.
        #[arg(long, default_value_t = 38)]
        banks: u32,
        /// Print the manifest summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a flat 12-factor risk table with the truth as target, for
    /// benchmarking scorecard tools (`bench/scorecard.sh`); no feeds.
    Factors {
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
        /// Number of market entities generated (rows are those operating
        /// at the start of the final year).
        #[arg(long, default_value_t = 1_000_000)]
        entities: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Demo,
    City,
}

pub fn run(command: SimCommand) -> anyhow::Result<Outcome> {
    if let SimCommand::Factors {
        out,
        entities,
        seed,
    } = command
    {
        return factors(&out, entities, seed);
    }
    let SimCommand::Generate {
        out,
        preset,
        entities,
        seed,
        years,
        end,
        dirty,
        legacy_share,
        density,
        complaint_rate,
        formats,
        banks,
        json,
    } = command
    else {
        bail!("unreachable sim command");
    };
    let mut config = match preset {
        Some(PresetArg::Demo) => SimConfig::preset(Preset::Demo, seed),
        Some(PresetArg::City) => SimConfig::preset(Preset::City, seed),
        None => SimConfig {
            seed,
            ..SimConfig::default()
        },
    };
    if let Some(entities) = entities {
        config.entities = entities;
    }
    config.years = years;
    config.end = end
        .parse()
        .with_context(|| format!("--end '{end}' is not a date (YYYY-MM-DD)"))?;
    config.dirty_rate = dirty;
    config.legacy_share = legacy_share;
    config.density = density;
    config.complaint_rate = complaint_rate;
    config.banks = banks;
    config.formats = Vec::new();
    for name in formats.split(',') {
        match Format::parse(name) {
            Some(format) => config.formats.push(format),
            None => bail!("--formats: '{name}' is not one of csv, jsonl, xlsx"),
        }
    }
    config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;

    let bar = ProgressBar::new(config.entities as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} generating {pos}/{len} entities [{bar:30}] {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let manifest = sim::write_city(&config, &out, |done| {
        if done % 1024 == 0 {
            bar.set_position(done as u64);
        }
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if json {
        print_json(&serde_json::json!({
            "out": out.display().to_string(),
            "entities": manifest.entities,
            "records": manifest.records,
            "dirty_rows": manifest.dirty_rows,
            "batches": manifest.batches.len(),
            "seconds": seconds,
        }))?;
    } else {
        outln!(
            "{} entities, {} records in {} batches ({} dirty rows) written to {} in {:.1} s ({:.0} records/s)",
            manifest.entities,
            manifest.records,
            manifest.batches.len(),
            manifest.dirty_rows,
            out.display(),
            seconds,
            manifest.records as f64 / seconds.max(1e-9)
        );
    }
    Ok(Outcome::Ok)
}

fn factors(out: &std::path::Path, entities: u32, seed: u64) -> anyhow::Result<Outcome> {
    let config = SimConfig {
        entities,
        seed,
        ..SimConfig::default()
    };
    config.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = ProgressBar::new(entities as u64);
    let started = Instant::now();
    let rows = sim::factors::write_csv(&config, out, |done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    outln!(
        "{rows} rows from {entities} entities written to {} in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(Outcome::Ok)
}
