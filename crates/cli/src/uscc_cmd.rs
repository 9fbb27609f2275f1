//! `xinyong uscc`: check, decode and generate unified social credit codes.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use domain::division::DivisionCode;
use domain::uscc::EntityKind;
use domain::{Normalisation, Uscc};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;

use crate::Outcome;
use crate::output::{outln, print_json};

#[derive(Subcommand)]
pub enum UsccCommand {
    /// Check codes: one line per code, valid or invalid with the reason. Exits 0 only if all are valid.
    ///
    /// Input is repaired as people type it (surrounding spaces, full-width
    /// characters, lower case) and every repair is reported.
    Check {
        /// Codes to check; with none, one code per line is read from standard input.
        codes: Vec<String>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Decode a code: registering authority, entity kind, division, organisation code.
    Parse {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Generate valid codes, reproducibly from a seed (for test data).
    Generate {
        #[arg(long, value_enum, default_value_t = Kind::Enterprise)]
        kind: Kind,
        /// Six-digit division code of the registering authority.
        #[arg(long, default_value = "440600")]
        division: String,
        #[arg(long, default_value_t = 1)]
        count: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Enterprise,
    IndividualBusiness,
    FarmersCooperative,
}

#[derive(Serialize)]
struct CheckResult {
    input: String,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Uscc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    normalisations: Vec<Normalisation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn check_one(input: &str) -> CheckResult {
    match Uscc::parse_input(input) {
        Ok(parsed) => CheckResult {
            input: input.to_string(),
            valid: true,
            code: Some(parsed.value),
            normalisations: parsed.normalisations,
            error: None,
        },
        Err(e) => CheckResult {
            input: input.to_string(),
            valid: false,
            code: None,
            normalisations: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

pub fn run(command: UsccCommand) -> anyhow::Result<Outcome> {
    match command {
        UsccCommand::Check { codes, json } => check(codes, json),
        UsccCommand::Parse { code, json } => parse(&code, json),
        UsccCommand::Generate {
            kind,
            division,
            count,
            seed,
        } => generate(kind, &division, count, seed),
    }
}

fn check(mut codes: Vec<String>, json: bool) -> anyhow::Result<Outcome> {
    if codes.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("reading codes from standard input")?;
            if !line.trim().is_empty() {
                codes.push(line);
            }
        }
    }
    if codes.is_empty() {
        bail!("no codes given: pass them as arguments or one per line on standard input");
    }
    let results: Vec<CheckResult> = codes.iter().map(|c| check_one(c)).collect();
    if json {
        print_json(&results)?;
    } else {
        for result in &results {
            match (&result.code, &result.error) {
                (Some(code), _) if result.normalisations.is_empty() => outln!("{code}  valid"),
                (Some(code), _) => {
                    let repairs: Vec<String> = result
                        .normalisations
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    outln!(
                        "{code}  valid (input {:?}: {})",
                        result.input,
                        repairs.join(", ")
                    );
                }
                (None, error) => outln!(
                    "{}  invalid: {}",
                    result.input,
                    error.as_deref().unwrap_or_default()
                ),
            }
        }
    }
    let all_valid = results.iter().all(|r| r.valid);
    Ok(if all_valid {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

fn parse(input: &str, json: bool) -> anyhow::Result<Outcome> {
    let parsed = match Uscc::parse_input(input) {
        Ok(parsed) => parsed,
        Err(e) => {
            outln!("{input}  invalid: {e}");
            return Ok(Outcome::CheckFailed);
        }
    };
    let parts = parsed.value.parts();
    if json {
        print_json(&parts)?;
        return Ok(Outcome::Ok);
    }
    outln!("code               {}", parts.code);
    outln!(
        "authority          {}  {} ({})",
        parts.authority,
        parts.authority_zh,
        parts.authority_en
    );
    outln!(
        "kind               {}  {} ({})",
        parts.kind,
        parts.kind_zh,
        parts.kind_en
    );
    outln!(
        "division           {}  {}",
        parts.division,
        parts.division_name.as_deref().unwrap_or("(unknown)")
    );
    outln!("organisation code  {}", parts.organisation_code);
    outln!("check character    {}", parts.check);
    for repair in &parsed.normalisations {
        outln!("note               input {repair}");
    }
    Ok(Outcome::Ok)
}

fn generate(kind: Kind, division: &str, count: usize, seed: u64) -> anyhow::Result<Outcome> {
    let division = DivisionCode::parse(division)?;
    let kind = match kind {
        Kind::Enterprise => EntityKind::ENTERPRISE,
        Kind::IndividualBusiness => EntityKind::INDIVIDUAL_BUSINESS,
        Kind::FarmersCooperative => EntityKind::FARMERS_COOPERATIVE,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..count {
        outln!("{}", Uscc::generate(kind, division, &mut rng));
    }
    Ok(Outcome::Ok)
}
