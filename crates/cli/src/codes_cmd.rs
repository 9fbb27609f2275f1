//! `xinyong codes`: the code tables the platform uses.

use clap::Subcommand;
use domain::risk::SamplingRatios;
use domain::{RiskClass, division, industry};
use serde::Serialize;

use crate::Outcome;
use crate::output::{outln, print_json, print_table, table};

#[derive(Subcommand)]
pub enum CodesCommand {
    /// GB/T 4754-2017 industries: the 20 sections, or with --divisions the 97 divisions.
    Industries {
        /// List the 97 divisions (大类) instead of the 20 sections.
        #[arg(long)]
        divisions: bool,
        /// Only the divisions of this section (A-T); implies --divisions.
        #[arg(long)]
        section: Option<char>,
        #[arg(long)]
        json: bool,
    },
    /// GB/T 2260 divisions of Foshan: the city, its districts, towns and streets.
    Divisions {
        #[arg(long)]
        json: bool,
    },
    /// The supervision risk classes A-D and their default sampling ratios.
    RiskClasses {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: CodesCommand) -> anyhow::Result<Outcome> {
    match command {
        CodesCommand::Industries {
            divisions,
            section,
            json,
        } => industries(divisions, section, json),
        CodesCommand::Divisions { json } => divisions(json),
        CodesCommand::RiskClasses { json } => risk_classes(json),
    }
}

fn industries(divisions: bool, section: Option<char>, json: bool) -> anyhow::Result<Outcome> {
    if let Some(code) = section {
        let code = code.to_ascii_uppercase();
        if industry::section(code).is_none() {
            anyhow::bail!("section '{code}' is not one of A-T");
        }
    }
    if !divisions && section.is_none() {
        if json {
            print_json(industry::sections())?;
            return Ok(Outcome::Ok);
        }
        let mut out = table(&["section", "名称", "name"]);
        for s in industry::sections() {
            out.add_row(vec![
                s.code.to_string(),
                s.name_zh.to_string(),
                s.name_en.to_string(),
            ]);
        }
        print_table(&out);
        return Ok(Outcome::Ok);
    }
    let rows: Vec<&industry::Division> = industry::divisions()
        .iter()
        .filter(|d| section.is_none_or(|s| d.section == s.to_ascii_uppercase()))
        .collect();
    if json {
        print_json(&rows)?;
        return Ok(Outcome::Ok);
    }
    let mut out = table(&["division", "section", "名称", "name"]);
    for d in rows {
        out.add_row(vec![
            d.code.to_string(),
            d.section.to_string(),
            d.name_zh.to_string(),
            d.name_en.to_string(),
        ]);
    }
    print_table(&out);
    Ok(Outcome::Ok)
}

fn divisions(json: bool) -> anyhow::Result<Outcome> {
    if json {
        print_json(division::foshan())?;
        return Ok(Outcome::Ok);
    }
    let mut out = table(&["code", "level", "名称", "name", "parent"]);
    for d in division::foshan() {
        let level = match d.level {
            division::Level::City => "city",
            division::Level::District => "district",
            division::Level::Town => "town",
        };
        out.add_row(vec![
            d.code,
            level,
            d.name_zh,
            d.name_en,
            d.parent.unwrap_or(""),
        ]);
    }
    print_table(&out);
    Ok(Outcome::Ok)
}

#[derive(Serialize)]
struct ClassRow {
    class: RiskClass,
    name_zh: &'static str,
    name_en: &'static str,
    default_sampling_ratio: f64,
    published: bool,
}

fn risk_classes(json: bool) -> anyhow::Result<Outcome> {
    let ratios = SamplingRatios::default();
    let rows: Vec<ClassRow> = RiskClass::ALL
        .iter()
        .map(|&class| ClassRow {
            class,
            name_zh: class.name_zh(),
            name_en: class.name_en(),
            default_sampling_ratio: ratios.ratio(class),
            published: class.is_public(),
        })
        .collect();
    if json {
        print_json(&rows)?;
        return Ok(Outcome::Ok);
    }
    let mut out = table(&["class", "名称", "name", "sampling ratio"]);
    for row in rows {
        out.add_row(vec![
            row.class.to_string(),
            row.name_zh.to_string(),
            row.name_en.to_string(),
            format!("{:.0}%", row.default_sampling_ratio * 100.0),
        ]);
    }
    print_table(&out);
    outln!("\nrisk classes are for supervision only and are never published.");
    Ok(Outcome::Ok)
}
