//! `xinyong complaints`: link complaints without a code to the registry,
//! run every detector over the city's complaints, score both against a
//! synthetic city's truth.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{Days, NaiveDate};
use clap::Subcommand;
use complaints::detect::{self, Config, Outbreak, Place, Scope, Signal};
use complaints::link::DEFAULT_THRESHOLD;
use warnings::Complaint;

use crate::Outcome;
use crate::csv_table::{CsvFile, write_csv};
use crate::data_cmd::{DataOptions, runtime};
use crate::output::{outln, print_json, print_table, table};
use crate::risk_cmd::{open_lake, parse_date};

#[derive(Subcommand)]
pub enum ComplaintsCommand {
    /// Link complaints that carry no code to registered entities by name, place and industry.
    Link {
        /// Link at or above this confidence (0 to 1).
        #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
        threshold: f64,
        /// Write every complaint without a code, its link, confidence and evidence.
        #[arg(long, value_name = "LINKS.csv")]
        out: Option<PathBuf>,
        /// Measure against the entity behind each ticket (a synthetic city's `truth/complaints.csv`).
        #[arg(long, value_name = "complaints.csv")]
        truth: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run every detector (repeats, EARS C1–C3, EWMA, negative binomial, space-time scan) over a period.
    Detect {
        /// First day signals may start (default: a year before --to).
        #[arg(long)]
        from: Option<String>,
        /// Last day (default: the latest complaint's).
        #[arg(long)]
        to: Option<String>,
        /// The detectors' settings (TOML; every field optional, see docs/COMPLAINTS.md).
        #[arg(long, value_name = "DETECT.toml")]
        config: Option<PathBuf>,
        /// Link complaints without a code at or above this confidence.
        #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
        threshold: f64,
        /// Write every signal with its evidence.
        #[arg(long, value_name = "SIGNALS.csv")]
        out: Option<PathBuf>,
        /// Score against known outbreaks (a synthetic city's `truth/outbreaks.csv`).
        #[arg(long, value_name = "outbreaks.csv")]
        truth: Option<PathBuf>,
        /// Count a signal up to this many days after an outbreak's end as its own.
        #[arg(long, default_value_t = 7)]
        grace_days: i64,
        /// Store the signals with their evidence, for regulators to draft warnings from (a signal already stored is updated).
        #[arg(long)]
        save: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    data: &DataOptions,
    catalog: Option<&Path>,
    command: ComplaintsCommand,
) -> Result<Outcome> {
    runtime()?.block_on(async {
        let store = data.open().await?;
        let sql = open_lake(&store, data, catalog).await?;
        // Read once: linking and the scores' business places share it.
        let registry = store.entities_table().await?;
        let outcome = match command {
            ComplaintsCommand::Link {
                threshold,
                out,
                truth,
                json,
            } => {
                check_threshold(threshold)?;
                let complaints = load(&sql, &registry, None, threshold).await?;
                link_report(&complaints, out.as_deref(), truth.as_deref(), json)
            }
            ComplaintsCommand::Detect {
                from,
                to,
                config,
                threshold,
                out,
                truth,
                grace_days,
                save,
                json,
            } => {
                check_threshold(threshold)?;
                let config = read_config(config.as_deref())?;
                let to = match to {
                    Some(text) => Some(parse_date(&text, "--to")?),
                    None => None,
                };
                let from = match from {
                    Some(text) => Some(parse_date(&text, "--from")?),
                    None => None,
                };
                let complaints = load(&sql, &registry, to, threshold).await?;
                let Some(latest) = complaints.iter().map(|c| c.received_on).max() else {
                    bail!("the lake holds no complaints");
                };
                let to = to.unwrap_or(latest);
                let from = from.unwrap_or_else(|| to - Days::new(364));
                if from > to {
                    bail!("--from {from} is after --to {to}");
                }
                let business = registry_places(&registry);
                let started = Instant::now();
                let signals = warnings::detect(&complaints, from, to, &config);
                eprintln!(
                    "ran every detector from {from} to {to} in {:.2} s",
                    started.elapsed().as_secs_f64()
                );
                if save {
                    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    let rows: Vec<store::SignalRow> = signals
                        .iter()
                        .map(|s| warnings::evidence::Evidence::of(s, &complaints).row(&at))
                        .collect();
                    let saved = store.save_signals(&rows).await?;
                    eprintln!(
                        "stored the signals for warnings: {} new, {} updated",
                        saved.added, saved.updated
                    );
                }
                detect_report(
                    &complaints,
                    from,
                    to,
                    &signals,
                    &business,
                    out.as_deref(),
                    truth.as_deref(),
                    grace_days,
                    json,
                )
            }
        };
        store.close().await;
        outcome
    })
}

fn check_threshold(threshold: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&threshold) {
        bail!("--threshold {threshold} is not between 0 and 1");
    }
    Ok(())
}

fn read_config(path: Option<&Path>) -> Result<Config> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}", path.display()))
}

/// The complaints up to `to`, those without a code linked.
async fn load(
    sql: &lake::sql::Sql,
    registry: &[Vec<Option<String>>],
    to: Option<NaiveDate>,
    threshold: f64,
) -> Result<Vec<Complaint>> {
    let started = Instant::now();
    let mut complaints = warnings::load(sql, to).await?;
    let read = started.elapsed();
    let linker = warnings::linker(sql, registry, threshold).await?;
    warnings::link(&mut complaints, &linker);
    eprintln!(
        "read {} complaints in {:.2} s; linked those without a code against {} entities in {:.2} s",
        complaints.len(),
        read.as_secs_f64(),
        linker.len(),
        (started.elapsed() - read).as_secs_f64()
    );
    Ok(complaints)
}

/// Each registered entity's town and industry division.
fn registry_places(registry: &[Vec<Option<String>>]) -> HashMap<String, (String, String)> {
    registry
        .iter()
        .filter_map(|row| {
            let uscc = row.first().cloned().flatten()?;
            let industry = row.get(6).cloned().flatten().unwrap_or_default();
            let town = row.get(7).cloned().flatten().unwrap_or_default();
            Some((uscc, (town, industry.chars().take(2).collect())))
        })
        .collect()
}

#[derive(Default, serde::Serialize)]
struct LinkSummary {
    complaints: usize,
    with_code: usize,
    without_code: usize,
    linked: usize,
    /// A best candidate below the threshold.
    below_threshold: usize,
    /// No registered entity with the name's core.
    no_candidate: usize,
    truth: Option<LinkTruth>,
}

#[derive(Default, serde::Serialize)]
struct LinkTruth {
    /// Complaints without a code whose entity the truth names.
    known: usize,
    right: usize,
    wrong: usize,
    precision: f64,
    recall: f64,
    /// The best candidate, whatever its confidence, is right.
    best_right: usize,
    /// Per confidence band: (band, linked, wrong).
    by_band: Vec<(String, usize, usize)>,
}

fn link_report(
    complaints: &[Complaint],
    out: Option<&Path>,
    truth: Option<&Path>,
    json: bool,
) -> Result<Outcome> {
    let without: Vec<&Complaint> = complaints.iter().filter(|c| c.subject.is_none()).collect();
    let mut summary = LinkSummary {
        complaints: complaints.len(),
        with_code: complaints.len() - without.len(),
        without_code: without.len(),
        ..LinkSummary::default()
    };
    for c in &without {
        match &c.link {
            Some(l) if l.uscc.is_some() => summary.linked += 1,
            Some(l) if l.best.is_some() => summary.below_threshold += 1,
            _ => summary.no_candidate += 1,
        }
    }
    if let Some(path) = truth {
        let answers = read_truth_links(path)?;
        let bands = [0.0, 0.8, 0.9, 0.95, 0.99];
        let mut t = LinkTruth::default();
        let mut by_band = vec![(0usize, 0usize); bands.len()];
        for c in &without {
            let Some(answer) = answers.get(&c.ticket) else {
                continue;
            };
            t.known += 1;
            let Some(link) = &c.link else { continue };
            if link.best.as_deref() == Some(answer.as_str()) {
                t.best_right += 1;
            }
            if let Some(uscc) = &link.uscc {
                let right = uscc == answer;
                if right {
                    t.right += 1;
                } else {
                    t.wrong += 1;
                }
                let band = bands
                    .iter()
                    .rposition(|b| link.confidence >= *b)
                    .unwrap_or(0);
                by_band[band].0 += 1;
                by_band[band].1 += usize::from(!right);
            }
        }
        t.precision = ratio(t.right, t.right + t.wrong);
        t.recall = ratio(t.right, t.known);
        t.by_band = bands
            .iter()
            .zip(&by_band)
            .filter(|(_, (n, _))| *n > 0)
            .map(|(b, (n, w))| (format!("≥ {b:.2}"), *n, *w))
            .collect();
        summary.truth = Some(t);
    }
    if let Some(path) = out {
        let header: Vec<String> = [
            "ticket_number",
            "business_name",
            "division",
            "industry",
            "received_on",
            "linked",
            "best",
            "confidence",
            "candidates",
            "evidence",
            "evidence_en",
        ]
        .map(String::from)
        .to_vec();
        write_csv(
            path,
            &header,
            without.iter().map(|c| {
                let link = c.link.clone().unwrap_or_else(complaints::link::Link::none);
                Ok(vec![
                    c.ticket.clone(),
                    c.business_name.clone(),
                    c.division.clone(),
                    c.industry.clone(),
                    c.received_on.to_string(),
                    link.uscc.unwrap_or_default(),
                    link.best.unwrap_or_default(),
                    format!("{:.4}", link.confidence),
                    link.candidates.to_string(),
                    link.evidence
                        .iter()
                        .map(|e| e.name_zh())
                        .collect::<Vec<_>>()
                        .join("；"),
                    link.evidence
                        .iter()
                        .map(|e| e.name_en())
                        .collect::<Vec<_>>()
                        .join("; "),
                ])
            }),
        )?;
    }
    if json {
        print_json(&summary)?;
        return Ok(Outcome::Ok);
    }
    outln!(
        "complaints {}: with a code {}, without {}",
        summary.complaints,
        summary.with_code,
        summary.without_code
    );
    outln!(
        "without a code: linked {} ({:.1} %), best candidate below the threshold {}, no candidate {}",
        summary.linked,
        100.0 * ratio(summary.linked, summary.without_code),
        summary.below_threshold,
        summary.no_candidate
    );
    if let Some(t) = &summary.truth {
        outln!(
            "against the truth ({} known): right {}, wrong {}; precision {:.4}, recall {:.4}; best candidate right {} ({:.1} %)",
            t.known,
            t.right,
            t.wrong,
            t.precision,
            t.recall,
            t.best_right,
            100.0 * ratio(t.best_right, t.known)
        );
        let mut bands = table(&["confidence", "linked", "wrong"]);
        for (band, n, w) in &t.by_band {
            bands.add_row(vec![band.clone(), n.to_string(), w.to_string()]);
        }
        print_table(&bands);
    }
    Ok(Outcome::Ok)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// ticket_number → subject.
fn read_truth_links(path: &Path) -> Result<HashMap<String, String>> {
    let file = CsvFile::open(path)?;
    let ticket = file.position("ticket_number")?;
    let subject = file.position("subject")?;
    let mut answers = HashMap::new();
    for record in file.records() {
        let (_, record) = record?;
        answers.insert(
            record.get(ticket).unwrap_or_default().to_string(),
            record.get(subject).unwrap_or_default().to_string(),
        );
    }
    Ok(answers)
}

/// The columns of a truth file of outbreaks, in the order read.
const OUTBREAK_COLUMNS: [&str; 6] = ["id", "scope", "target", "category", "start", "end"];

fn read_outbreaks(
    path: &Path,
    business: &HashMap<String, (String, String)>,
) -> Result<Vec<Outbreak>> {
    let file = CsvFile::open(path)?;
    let columns = OUTBREAK_COLUMNS
        .map(|c| file.position(c))
        .into_iter()
        .collect::<Result<Vec<usize>>>()?;
    let mut out = Vec::new();
    for record in file.records() {
        let (row, record) = record?;
        let field = |i: usize| record.get(columns[i]).unwrap_or_default();
        let date = |i: usize| {
            parse_date(field(i), OUTBREAK_COLUMNS[i])
                .with_context(|| format!("{}: row {row}", path.display()))
        };
        let target = field(2).to_string();
        let scope = match field(1) {
            "business" => {
                let (town, industry) = business.get(&target).cloned().unwrap_or_default();
                Scope::Business {
                    uscc: target,
                    town,
                    industry,
                }
            }
            "town" => Scope::Town(target),
            "industry" => Scope::Industry(target),
            other => bail!(
                "{}: row {row}: scope {other:?} is not business, town or industry",
                path.display()
            ),
        };
        out.push(Outbreak {
            id: field(0)
                .parse()
                .with_context(|| format!("{}: row {row}: id", path.display()))?,
            scope,
            category: field(3).to_string(),
            start: warnings::day(date(4)?),
            end: warnings::day(date(5)?),
        });
    }
    Ok(out)
}

/// A place's name for people.
fn place_name(place: &Place) -> String {
    let division = |code: &str| {
        domain::division::lookup(code).map_or_else(|| code.to_string(), |d| d.name_zh.to_string())
    };
    match place {
        Place::Business(uscc) => uscc.clone(),
        Place::Town(code) | Place::District(code) => division(code),
        Place::Industry(code) => domain::industry::division(code)
            .map_or_else(|| code.clone(), |d| format!("{code} {}", d.name_zh)),
        Place::Towns(codes) => codes
            .iter()
            .map(|c| division(c))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

fn place_code(place: &Place) -> String {
    match place {
        Place::Business(code)
        | Place::Town(code)
        | Place::District(code)
        | Place::Industry(code) => code.clone(),
        Place::Towns(codes) => codes.join(";"),
    }
}

#[allow(clippy::too_many_arguments)]
fn detect_report(
    complaints: &[Complaint],
    from: NaiveDate,
    to: NaiveDate,
    signals: &[Signal],
    business: &HashMap<String, (String, String)>,
    out: Option<&Path>,
    truth: Option<&Path>,
    grace_days: i64,
    json: bool,
) -> Result<Outcome> {
    let date = |day: i64| warnings::date(day).map_or_else(|| day.to_string(), |d| d.to_string());
    if let Some(path) = out {
        let header: Vec<String> = [
            "detector",
            "detector_zh",
            "detector_en",
            "category",
            "level",
            "place",
            "place_name",
            "day",
            "last_day",
            "observed",
            "expected",
            "statistic",
            "p_value",
            "complaints",
        ]
        .map(String::from)
        .to_vec();
        write_csv(
            path,
            &header,
            signals.iter().map(|s| {
                Ok(vec![
                    s.detector.key().to_string(),
                    s.detector.name_zh().to_string(),
                    s.detector.name_en().to_string(),
                    s.category.clone().unwrap_or_default(),
                    s.place.level().to_string(),
                    place_code(&s.place),
                    place_name(&s.place),
                    date(s.day),
                    date(s.last_day),
                    s.observed.to_string(),
                    format!("{:.2}", s.expected),
                    format!("{:.3}", s.statistic),
                    s.p_value.map(|p| format!("{p:.4}")).unwrap_or_default(),
                    s.complaints
                        .iter()
                        .map(|&i| complaints[i].ticket.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                ])
            }),
        )?;
    }
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for s in signals {
        *counts
            .entry((s.detector.key(), s.place.level()))
            .or_default() += 1;
    }
    let scores = match truth {
        Some(path) => {
            let outbreaks = read_outbreaks(path, business)?;
            let lookup = |uscc: &str| business.get(uscc).cloned();
            Some(detect::score(
                signals,
                &outbreaks,
                warnings::day(from),
                warnings::day(to),
                grace_days,
                &lookup,
            ))
        }
        None => None,
    };
    if json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            from: NaiveDate,
            to: NaiveDate,
            signals: &'a [Signal],
            scores: Option<Vec<ScoreRow>>,
        }
        let scores = scores
            .as_ref()
            .map(|s| s.iter().map(ScoreRow::from).collect());
        print_json(&Report {
            from,
            to,
            signals,
            scores,
        })?;
        return Ok(Outcome::Ok);
    }
    outln!("{} signals from {from} to {to}", signals.len());
    let mut by_detector = table(&["detector", "level", "signals"]);
    for ((detector, level), n) in &counts {
        by_detector.add_row(vec![detector.to_string(), level.to_string(), n.to_string()]);
    }
    print_table(&by_detector);
    if let Some(scores) = &scores {
        outln!();
        outln!(
            "against the outbreaks (detected / outbreaks by scope; delay in days; false alarms per 30 days):"
        );
        let mut t = table(&[
            "detector",
            "level",
            "business",
            "town",
            "industry",
            "median delay",
            "signals",
            "false",
            "false / month",
        ]);
        for row in scores.iter().map(ScoreRow::from) {
            t.add_row(vec![
                row.detector.to_string(),
                row.level.to_string(),
                row.business.clone(),
                row.town.clone(),
                row.industry.clone(),
                row.median_delay
                    .map_or("–".to_string(), |d| format!("{d:.1}")),
                row.signals.to_string(),
                row.false_alarms.to_string(),
                format!("{:.2}", row.false_per_month),
            ]);
        }
        print_table(&t);
    }
    Ok(Outcome::Ok)
}

/// One line of the score, as printed and as JSON.
#[derive(serde::Serialize)]
struct ScoreRow {
    detector: &'static str,
    level: &'static str,
    business: String,
    town: String,
    industry: String,
    median_delay: Option<f64>,
    delays: Vec<i64>,
    signals: u32,
    false_alarms: u32,
    false_per_month: f64,
}

impl From<&detect::Score> for ScoreRow {
    fn from(s: &detect::Score) -> ScoreRow {
        let scope = |kind: &str| {
            s.by_scope
                .get(kind)
                .map_or("–".to_string(), |(n, found)| format!("{found}/{n}"))
        };
        ScoreRow {
            detector: s.detector.key(),
            level: s.level,
            business: scope("business"),
            town: scope("town"),
            industry: scope("industry"),
            median_delay: s.median_delay(),
            delays: s.delays.clone(),
            signals: s.signals,
            false_alarms: s.false_alarms,
            false_per_month: s.false_per_month,
        }
    }
}

/// The demo's early warning: every detector over the city's years, its
/// signals stored; then, as the demo's two regulators, a consumer alert
/// drafted, approved by the other and issued (on the public pages), a
/// notice issued to the business with the strongest repeat complaints
/// (awaiting its acknowledgement) and a risk report left as a draft for
/// the demo regulator to approve. Skipped when signals are stored already.
pub async fn demo_warnings(
    store: &store::Store,
    sql: &lake::sql::Sql,
    catalog: &domain::Catalog,
    data_dir: &Path,
    enterprise: &str,
) -> Result<()> {
    use server::warnings::service::{self as views, DraftInput, MoveInput};
    if store
        .signals(&store::SignalFilter::default(), 0, 0)
        .await?
        .total
        > 0
    {
        outln!("      already detected; reusing the signals");
        return Ok(());
    }
    let now = chrono::Utc::now();
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let started = Instant::now();
    let Some(found) = warnings::detect_and_save(
        store,
        sql,
        warnings::Start::AfterBaseline,
        None,
        &Config::default(),
        DEFAULT_THRESHOLD,
        &at,
    )
    .await?
    else {
        outln!("      the city has no complaints; skipped");
        return Ok(());
    };
    outln!(
        "      {} complaints, {} signals from {} to {} in {:.1} s",
        found.complaints,
        found.signals,
        found.from,
        found.to,
        started.elapsed().as_secs_f64()
    );
    // The background job need not run again over what is detected here.
    let latest = store.batch_mark_of("complaint").await?;
    store
        .set_job_marker(server::warnings::job::JOB, latest, &at)
        .await?;
    let state = crate::server_cmd::demo_state(store, catalog, data_dir)?;
    let as_user = |name: &str| server::access::Principal {
        actor: format!("user:{name}"),
        display_name: name.to_string(),
        grants: vec![server::access::Grant {
            role: server::access::Role::Regulator,
            subject: String::new(),
        }],
        via: server::access::Via::Token { id: 0 },
        ip: std::net::IpAddr::from([127, 0, 0, 1]),
    };
    let (regulator, reviewer) = (as_user("regulator"), as_user("reviewer"));
    let failed = |f: server::http::Failure| anyhow::anyhow!(f.message());
    let alert = match strongest(store, "towns", enterprise).await? {
        Some(signal) => Some(signal),
        None => strongest(store, "town", enterprise).await?,
    };
    // Drafted by one regulator, approved by the other, issued.
    let issue = |signal: i64, kind: &'static str, drafter, approver| {
        let (state, issuer) = (&state, &regulator);
        async move {
            let input = DraftInput {
                signal,
                kind: kind.into(),
            };
            let id = views::draft(state, drafter, &input, now).await?;
            for (to, by) in [("approved", approver), ("sent", issuer)] {
                let step = MoveInput {
                    to: to.into(),
                    version: 1,
                    reason: String::new(),
                };
                views::move_warning(state, by, id, &step, now).await?;
            }
            Ok::<i64, server::http::Failure>(id)
        }
    };
    if let Some(signal) = alert {
        let id = issue(signal.id, "consumer_alert", &regulator, &reviewer)
            .await
            .map_err(failed)?;
        outln!("      consumer alert {id} issued (public at /alerts/{id})");
    }
    if let Some(signal) = strongest(store, "business", enterprise).await? {
        let id = issue(signal.id, "administrative_notice", &reviewer, &regulator)
            .await
            .map_err(failed)?;
        outln!(
            "      administrative notice {id} issued to {}, awaiting its acknowledgement",
            signal.place
        );
    }
    if let Some(signal) = strongest(store, "industry", enterprise).await? {
        let input = DraftInput {
            signal: signal.id,
            kind: "risk_report".into(),
        };
        let id = views::draft(&state, &reviewer, &input, now)
            .await
            .map_err(failed)?;
        outln!("      risk report {id} drafted, for the regulator to approve");
    }
    Ok(())
}

/// The strongest signal of a level (by its statistic), the demo
/// enterprise's first.
async fn strongest(
    store: &store::Store,
    level: &str,
    enterprise: &str,
) -> Result<Option<store::SignalRow>> {
    let filter = store::SignalFilter {
        place_level: Some(level.to_string()),
        ..Default::default()
    };
    let all = store.signals(&filter, 0, i64::MAX).await?.rows;
    Ok(all.into_iter().max_by(|a, b| {
        (a.place == enterprise)
            .cmp(&(b.place == enterprise))
            .then(a.statistic.total_cmp(&b.statistic))
    }))
}
