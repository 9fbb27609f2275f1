//! The strategy simulation: the same budget of inspections per round, drawn
//! at random or weighted by the risk classes, on a synthetic city whose
//! truth says who violates. After every round the risk-weighted strategy's
//! findings are added to the model's labels and the model is refitted, so
//! later rounds draw from updated classes.

use std::path::Path;

use chrono::{Days, NaiveDate};
use domain::risk::RiskClass;
use foldhash::{HashMap, HashSet};
use inspection::draw::{self, Seed};
use inspection::plan::Window;
use inspection::roster::{Inspector, Object, Rosters};
use inspection::simulate::{self, Comparison, Strategy, Tally};
use lake::sql::Sql;
use risk::{ClassRule, FeatureSet};
use scoring::{ModelInfo, Table};
use serde::Serialize;

use crate::{SupervisionError, io, refused};

/// Reads `truth/entities.csv` of a synthetic city: subject → violates.
pub fn read_truth(path: &Path) -> Result<HashMap<String, bool>, SupervisionError> {
    let file = path.display().to_string();
    let reader = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let rows = inspection::roster::read_rows(reader, &file, &["subject", "violates"], |row| {
        let violates = row.flag("violates")?;
        Ok((row.required("subject")?, violates))
    })?;
    Ok(rows.into_iter().collect())
}

/// One round's figures per strategy, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct RoundFigures {
    pub round: u32,
    pub strategy: &'static str,
    pub inspections: u64,
    pub problems: u64,
    /// Holdout-free check of the model in use: AUC of its scores against the truth.
    pub model_auc_vs_truth: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    pub comparison: Comparison,
    pub rounds: Vec<RoundFigures>,
    pub population: usize,
    pub violators: usize,
    pub as_of: NaiveDate,
}

/// Runs the simulation on the lake's city as of `as_of`.
pub async fn run(
    sql: &Sql,
    truth: &HashMap<String, bool>,
    as_of: NaiveDate,
    budget: u64,
    rounds: u32,
    seed: &str,
) -> Result<SimulationReport, SupervisionError> {
    let set: &FeatureSet = &risk::V4;
    let risk_err = |e: risk::RiskError| refused(format!("risk model: {e}"));
    let population = risk::sample::population(sql, set, as_of)
        .await
        .map_err(risk_err)?;
    let (_, history) =
        risk::train::labelled_sample(sql, set, risk::train::year_before(as_of), as_of)
            .await
            .map_err(risk_err)?;
    let index: HashMap<&str, usize> = population
        .subjects
        .iter()
        .enumerate()
        .map(|(k, s)| (s.as_str(), k))
        .collect();
    let violators = population
        .subjects
        .iter()
        .filter(|s| truth.get(*s).copied().unwrap_or(false))
        .count();
    if violators == 0 {
        return Err(refused(
            "the truth names no violator among the population: is it this city's truth file?",
        ));
    }
    let in_population: HashMap<String, bool> = population
        .subjects
        .iter()
        .map(|s| (s.clone(), truth.get(s).copied().unwrap_or(false)))
        .collect();

    // extra labels from the risk-weighted rounds: (row, found, weight)
    let mut feedback: Vec<(usize, bool, f64)> = Vec::new();
    let mut classes = fit_and_class(&population.table, &history, &feedback)?;
    let mut tallies = [Tally::default(), Tally::default()];
    let mut found: [HashSet<String>; 2] = Default::default();
    let mut last_inspected: [HashMap<String, NaiveDate>; 2] = Default::default();
    let mut figures = Vec::new();
    let inspectors = simulation_inspectors();
    for round in 1..=rounds {
        // rounds are 4 months apart, so the 12-month exclusion matters
        let start = as_of
            .checked_add_days(Days::new(u64::from(round - 1) * 122))
            .unwrap_or(as_of);
        let window = Window {
            start,
            end: start.checked_add_days(Days::new(90)).unwrap_or(start),
        };
        let auc = auc_vs_truth(&classes.1, &population.subjects, truth);
        for (k, strategy) in Strategy::ALL.iter().enumerate() {
            let rosters = Rosters {
                objects: population
                    .subjects
                    .iter()
                    .enumerate()
                    .map(|(row, s)| Object {
                        uscc: s.clone(),
                        name: String::new(),
                        legal_representative: String::new(),
                        address: String::new(),
                        division: String::new(),
                        industry: String::new(),
                        kind: String::new(),
                        established_on: None,
                        class: Some(classes.0[row]),
                        last_inspected: last_inspected[k].get(s).copied(),
                        open_case: false,
                    })
                    .collect(),
                inspectors: inspectors.clone(),
                ..Rosters::default()
            };
            let plan = simulate::round_plan(*strategy, budget, round, window);
            let seed = Seed::from_bytes(seed_bytes(seed, strategy.name(), round));
            let result = draw::draw(&plan, &rosters, &seed)?;
            let judged = simulate::judge(&result, &in_population, &mut found[k], &mut tallies[k]);
            figures.push(RoundFigures {
                round,
                strategy: strategy.name(),
                inspections: judged.len() as u64,
                problems: judged.iter().filter(|j| j.1).count() as u64,
                model_auc_vs_truth: (*strategy == Strategy::RiskWeighted).then_some(auc),
            });
            for (subject, _) in &judged {
                last_inspected[k].insert(subject.clone(), window.end);
            }
            if *strategy == Strategy::RiskWeighted {
                // inverse probability of being drawn in the stratum
                let weight_of: HashMap<Option<RiskClass>, f64> = result
                    .strata
                    .iter()
                    .filter(|s| s.drawn > 0)
                    .map(|s| (s.class, s.candidates as f64 / s.drawn as f64))
                    .collect();
                for (pick, (subject, problem)) in result.picks.iter().zip(&judged) {
                    if let Some(&row) = index.get(subject.as_str()) {
                        let weight = weight_of.get(&pick.class).copied().unwrap_or(1.0);
                        feedback.push((row, *problem, weight));
                    }
                }
            }
        }
        classes = fit_and_class(&population.table, &history, &feedback)?;
    }
    let [random, risk_weighted] = tallies;
    Ok(SimulationReport {
        comparison: Comparison {
            budget,
            rounds,
            random,
            risk_weighted,
            first_round_on: as_of,
        },
        rounds: figures,
        population: population.subjects.len(),
        violators,
        as_of,
    })
}

fn seed_bytes(seed: &str, strategy: &str, round: u32) -> [u8; 32] {
    let text = format!("{seed}|{strategy}|{round}");
    let hex = inspection::sha256_hex(text.as_bytes());
    let mut out = [0u8; 32];
    for (k, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * k..2 * k + 2).unwrap_or("00"), 16).unwrap_or(0);
    }
    out
}

/// Enough samr inspectors that staffing never limits the simulation.
fn simulation_inspectors() -> Vec<Inspector> {
    (0..200)
        .map(|k| Inspector {
            id: format!("S{k:03}"),
            name: format!("simulated inspector {k}"),
            certificate: format!("SIM{k:06}"),
            department: "samr".to_string(),
            competences: vec!["registration".to_string()],
            available: true,
        })
        .collect()
}

/// Fits the model on the history's labels plus the feedback, scores the
/// population and classes it at the default shares.
fn fit_and_class(
    population: &Table,
    history: &risk::sample::Sample,
    feedback: &[(usize, bool, f64)],
) -> Result<(Vec<RiskClass>, Vec<f64>), SupervisionError> {
    let rows: Vec<usize> = feedback.iter().map(|f| f.0).collect();
    let extra = risk::sample::select_rows(population, &rows);
    let table = risk::sample::concat(&history.table, &extra)
        .map_err(|e| refused(format!("simulation sample: {e}")))?;
    let mut target = history.target.clone();
    target.extend(feedback.iter().map(|f| f.1));
    let mut weights = history.weights.clone();
    let mean = feedback.iter().map(|f| f.2).sum::<f64>() / feedback.len().max(1) as f64;
    weights.extend(feedback.iter().map(|f| f.2 / mean.max(f64::MIN_POSITIVE)));
    let info = ModelInfo {
        name: "simulation".to_string(),
        version: "simulation".to_string(),
        created: String::new(),
        target: "inspection_problem".to_string(),
        event: "1".to_string(),
        labels: Default::default(),
    };
    let fitted = scoring::fit_weighted(
        &table,
        &target,
        Some(&weights),
        &risk::train::fit_options(&risk::V4),
        &info,
    )
    .map_err(|e| refused(format!("simulation model: {e}")))?;
    let scored = fitted
        .model
        .scorer()
        .score_table(population)
        .map_err(|e| refused(format!("simulation scoring: {e}")))?;
    let scores: Vec<i64> = scored.iter().map(|s| s.score).collect();
    let cutoffs = risk::classes::cutoffs(&scores, ClassRule::default());
    Ok((
        scores.iter().map(|s| cutoffs.class_of(*s)).collect(),
        scored.iter().map(|s| s.probability).collect(),
    ))
}

/// AUC of the model's probabilities against the truth.
fn auc_vs_truth(probabilities: &[f64], subjects: &[String], truth: &HashMap<String, bool>) -> f64 {
    let labels: Vec<bool> = subjects
        .iter()
        .map(|s| truth.get(s).copied().unwrap_or(false))
        .collect();
    scoring::metrics::summary(probabilities, &labels).auc
}

/// Where the latest simulation report is kept for the pages.
pub fn report_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("inspection").join("simulation.json")
}

pub fn save(report: &SimulationReport, path: &Path) -> Result<(), SupervisionError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(report).unwrap_or_default();
    std::fs::write(path, text).map_err(|e| io(path, e))
}
