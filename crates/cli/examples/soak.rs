//! A paced, mixed load against a running `xinyong serve` (bench/soak.sh
//! prepares the data and the credentials and starts the server).
//!
//! Open loop: a request is due every 1/rate seconds whatever the server
//! does, and its latency counts from when it was due, so a stalled server
//! shows in the figures instead of slowing the load (no coordinated
//! omission). The mix, per 1 000 requests: 317 profile views by API, 100
//! profile pages, 250 name searches, 200 consented credit reports, 130
//! application moves (an enterprise applies; the bank accepts, reviews and
//! rejects), 2 sign-ins (the form and its post), 1 upload of a small tax
//! file (at 500 a second: a sign-in a second, an upload every 2 s). Every
//! answer other than the one expected is an error.
//!
//! With `--plan` (bench/kill.sh), the mix is the writes' instead
//! ([`WRITE_MIX`]): consent grants and revocations, applications with and
//! without a grant, moved by the bank, and results for the plan's assigned
//! tasks, so that a server killed under it is killed while each is written.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    base: String,
    #[arg(long, default_value_t = 500)]
    rate: u32,
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// The server's process id, whose resident memory is sampled.
    #[arg(long)]
    pid: Option<u32>,
    /// A file of `uscc,name` lines: the entities viewed and searched.
    #[arg(long)]
    subjects: String,
    #[arg(long)]
    regulator_token: String,
    #[arg(long)]
    bank_token: String,
    #[arg(long)]
    bank: String,
    #[arg(long)]
    enterprise_token: String,
    #[arg(long)]
    enterprise: String,
    #[arg(long)]
    department_token: String,
    /// A user who signs in (and views pages) with this password.
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    /// An inspection plan whose assigned tasks get results: the write mix.
    #[arg(long)]
    plan: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    ProfileApi,
    ProfilePage,
    Search,
    CreditReport,
    Application,
    SignIn,
    Upload,
    Grant,
    Result,
}

/// The mix: how many of every 1 000 requests are of each kind.
const MIX: [(Kind, u32); 7] = [
    (Kind::ProfileApi, 317),
    (Kind::ProfilePage, 100),
    (Kind::Search, 250),
    (Kind::CreditReport, 200),
    (Kind::Application, 130),
    (Kind::SignIn, 2),
    (Kind::Upload, 1),
];

/// The mix with `--plan`: what a server killed under it may be writing.
const WRITE_MIX: [(Kind, u32); 8] = [
    (Kind::ProfileApi, 300),
    (Kind::Search, 150),
    (Kind::CreditReport, 150),
    (Kind::Application, 200),
    (Kind::Grant, 150),
    (Kind::Result, 40),
    (Kind::SignIn, 5),
    (Kind::Upload, 5),
];

/// What results are recorded with: the plan's first day and first item.
struct Inspection {
    day: String,
    item: String,
}

struct Shared {
    args: Args,
    http: reqwest::Client,
    /// Signed in as `args.user`, for the pages.
    session: reqwest::Client,
    subjects: Vec<(String, String)>,
    product: i64,
    /// Applications under way: (id, the next state the bank moves it to).
    open: Mutex<VecDeque<(i64, &'static str)>>,
    /// Grants this run made and has not revoked.
    grants: Mutex<VecDeque<i64>>,
    /// The plan's assigned tasks, for results.
    tasks: Mutex<VecDeque<i64>>,
    inspection: Option<Inspection>,
    results: Mutex<BTreeMap<Kind, Outcomes>>,
    /// The same, by the minute each request was due in.
    minutes: Mutex<BTreeMap<u64, Outcomes>>,
    /// Numbers this run's uploads apart from an earlier run's on the same
    /// data (seconds since the epoch when it started).
    run: u64,
}

#[derive(Default)]
struct Outcomes {
    micros: Vec<u64>,
    errors: u64,
    first_errors: Vec<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let subjects: Vec<(String, String)> = std::fs::read_to_string(&args.subjects)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(u, n)| (u.to_string(), n.to_string()))
        .collect();
    assert!(!subjects.is_empty(), "no subjects in {}", args.subjects);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let session = sign_in(&args.base, &args.user, &args.password)
        .await
        .expect("the soak's user signs in");
    let product = product_of(&http, &args.base, &args.bank).await;
    // The enterprise lets the bank read its credit profile for the run.
    let granted = http
        .post(format!("{}/api/v1/finance/consents", args.base))
        .bearer_auth(&args.enterprise_token)
        .json(
            &json!({"bank": args.bank, "scope": ["credit_profile"], "purpose": "soak", "days": 2}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        granted.status(),
        StatusCode::CREATED,
        "consent for the soak"
    );
    let (tasks, inspection) = match &args.plan {
        Some(plan) => assigned_tasks(&http, &args.base, &args.regulator_token, plan).await,
        None => (VecDeque::new(), None),
    };
    let shared = Arc::new(Shared {
        args,
        http,
        session,
        subjects,
        product,
        open: Mutex::new(VecDeque::new()),
        grants: Mutex::new(VecDeque::new()),
        tasks: Mutex::new(tasks),
        inspection,
        results: Mutex::new(BTreeMap::new()),
        minutes: Mutex::new(BTreeMap::new()),
        run: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });

    let mix: &[(Kind, u32)] = if shared.inspection.is_some() {
        &WRITE_MIX
    } else {
        &MIX
    };
    let slots: Vec<Kind> = mix
        .iter()
        .flat_map(|&(kind, n)| std::iter::repeat_n(kind, n as usize))
        .collect();
    let period = Duration::from_secs_f64(1.0 / f64::from(shared.args.rate.max(1)));
    let total = shared.args.seconds * u64::from(shared.args.rate);
    let memory_start = rss(shared.args.pid);
    let started = Instant::now();
    let sampler = tokio::spawn(sample_memory(shared.args.pid, shared.args.seconds));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..total {
        let due = started + period.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        // Spread the kinds: a prime stride through the 1 000 slots.
        let kind = slots[(n as usize * 379) % slots.len()];
        let shared = shared.clone();
        tasks.spawn(async move {
            let outcome = request(&shared, kind, n).await;
            let micros = due.elapsed().as_micros() as u64;
            let minute = n / (60 * u64::from(shared.args.rate.max(1)));
            let failed = outcome.is_err();
            {
                let mut minutes = shared.minutes.lock().unwrap();
                let entry = minutes.entry(minute).or_default();
                entry.micros.push(micros);
                entry.errors += u64::from(failed);
            }
            let mut results = shared.results.lock().unwrap();
            let entry = results.entry(kind).or_default();
            entry.micros.push(micros);
            if let Err(error) = outcome {
                entry.errors += 1;
                if entry.first_errors.len() < 5 {
                    entry.first_errors.push(format!(
                        "{}: {error}",
                        due.duration_since(started).as_secs()
                    ));
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let memory_end = rss(shared.args.pid);
    let memory = sampler.await.unwrap();
    report(&shared, elapsed, memory_start, memory_end, &memory);
}

async fn request(shared: &Shared, kind: Kind, n: u64) -> Result<(), String> {
    let args = &shared.args;
    let base = &args.base;
    let (uscc, name) = &shared.subjects[(n as usize * 7919) % shared.subjects.len()];
    match kind {
        Kind::ProfileApi => {
            let request = shared
                .http
                .get(format!("{base}/api/v1/entities/{uscc}"))
                .bearer_auth(&args.regulator_token);
            expect(request, StatusCode::OK).await.map(|_| ())
        }
        Kind::ProfilePage => {
            let request = shared.session.get(format!("{base}/entity/{uscc}"));
            expect(request, StatusCode::OK).await.map(|_| ())
        }
        Kind::Search => {
            // Two to four characters from the middle of a name, as a person
            // would type part of a firm's name.
            let chars: Vec<char> = name.chars().collect();
            let from = (chars.len() / 3).min(chars.len().saturating_sub(2));
            let term: String = chars[from..(from + 2 + (n as usize % 3)).min(chars.len())]
                .iter()
                .collect();
            let request = shared
                .http
                .get(format!("{base}/api/v1/entities"))
                .query(&[("q", term.as_str())])
                .bearer_auth(&args.regulator_token);
            expect(request, StatusCode::OK).await.map(|_| ())
        }
        Kind::CreditReport => {
            let request = shared
                .http
                .get(format!("{base}/api/v1/finance/reports/{}", args.enterprise))
                .bearer_auth(&args.bank_token);
            expect(request, StatusCode::OK).await.map(|_| ())
        }
        Kind::Application => {
            let next = shared.open.lock().unwrap().pop_front();
            let Some((id, to)) = next else {
                let request = shared
                    .http
                    .post(format!("{base}/api/v1/finance/applications"))
                    .bearer_auth(&args.enterprise_token)
                    .json(
                        &json!({"product": shared.product, "amount": 50.0, "term_months": 12,
                        "authorise": n.is_multiple_of(2)}),
                    );
                let body = expect(request, StatusCode::CREATED).await?;
                let id = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_i64())
                    .ok_or_else(|| format!("no id in {body}"))?;
                shared.open.lock().unwrap().push_back((id, "accepted"));
                return Ok(());
            };
            let request = shared
                .http
                .post(format!(
                    "{base}/api/v1/finance/applications/{id}/transitions"
                ))
                .bearer_auth(&args.bank_token)
                .json(&json!({"to": to, "reason": "soak: outside the bank's appetite"}));
            expect(request, StatusCode::NO_CONTENT).await?;
            let after = match to {
                "accepted" => Some("under_review"),
                "under_review" => Some("rejected"),
                _ => None,
            };
            if let Some(after) = after {
                shared.open.lock().unwrap().push_back((id, after));
            }
            Ok(())
        }
        Kind::SignIn => sign_in(base, &args.user, &args.password).await.map(|_| ()),
        Kind::Grant => {
            // Every other one revokes the oldest grant of this run.
            let oldest = if n % 2 == 1 {
                shared.grants.lock().unwrap().pop_front()
            } else {
                None
            };
            if let Some(id) = oldest {
                let request = shared
                    .http
                    .post(format!("{base}/api/v1/finance/consents/{id}/revoke"))
                    .bearer_auth(&args.enterprise_token);
                return expect(request, StatusCode::NO_CONTENT).await.map(|_| ());
            }
            let request = shared
                .http
                .post(format!("{base}/api/v1/finance/consents"))
                .bearer_auth(&args.enterprise_token)
                .json(&json!({"bank": args.bank, "scope": ["tax"], "purpose": "soak", "days": 30}));
            let body = expect(request, StatusCode::CREATED).await?;
            let id = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["id"].as_i64())
                .ok_or_else(|| format!("no id in {body}"))?;
            shared.grants.lock().unwrap().push_back(id);
            Ok(())
        }
        Kind::Result => {
            let task = shared.tasks.lock().unwrap().pop_front();
            let (Some(task), Some(inspection)) = (task, &shared.inspection) else {
                return Err("no assigned task left".into());
            };
            let outcome = if n.is_multiple_of(3) {
                json!({"item": inspection.item, "outcome": "problem_found",
                    "problem_type": "未按规定公示年报", "description": "soak"})
            } else {
                json!({"item": inspection.item, "outcome": "no_problem",
                    "problem_type": "", "description": ""})
            };
            let request = shared
                .http
                .post(format!("{base}/api/v1/inspections/tasks/{task}/result"))
                .bearer_auth(&args.regulator_token)
                .json(&json!({"inspected_on": inspection.day, "findings": [outcome]}));
            expect(request, StatusCode::OK).await.map(|_| ())
        }
        Kind::Upload => {
            // A tax payment no one has sent before: the revenue is the run's
            // and the request's number, so no two uploads are the same file.
            let mut file = String::from(
                "subject,period,tax_type,taxable_revenue,amount_due,amount_paid,paid_on\n",
            );
            file.push_str(&format!(
                "{uscc},2026-10,vat,{}{:09}.00,10.00,10.00,2026-10-15\n",
                shared.run % 100_000,
                n
            ));
            let form = reqwest::multipart::Form::new()
                .text("item", "tax_payment")
                .part(
                    "file",
                    reqwest::multipart::Part::text(file).file_name(format!("soak-{n}.csv")),
                );
            let request = shared
                .http
                .post(format!("{base}/api/v1/batches"))
                .bearer_auth(&args.department_token)
                .multipart(form);
            expect(request, StatusCode::CREATED).await.map(|_| ())
        }
    }
}

/// Sends, reads the whole body, and fails on any other status.
async fn expect(request: reqwest::RequestBuilder, status: StatusCode) -> Result<String, String> {
    let response = request.send().await.map_err(|e| format!("send: {e}"))?;
    let got = response.status();
    let body = response.text().await.map_err(|e| format!("body: {e}"))?;
    if got != status {
        return Err(format!(
            "{got}: {}",
            body.chars().take(200).collect::<String>()
        ));
    }
    Ok(body)
}

/// The sign-in form and its post; the client then holds the session.
async fn sign_in(base: &str, user: &str, password: &str) -> Result<reqwest::Client, String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let form = expect(client.get(format!("{base}/sign-in")), StatusCode::OK).await?;
    let marker = r#"name="csrf" value=""#;
    let at = form.find(marker).ok_or("no csrf field")? + marker.len();
    let csrf = &form[at..at + form[at..].find('"').ok_or("no csrf value")?];
    let post = client.post(format!("{base}/sign-in")).form(&[
        ("username", user),
        ("password", password),
        ("csrf", csrf),
    ]);
    expect(post, StatusCode::SEE_OTHER).await?;
    Ok(client)
}

/// A product of the bank that lends 50 万元 for 12 months.
/// The plan's assigned tasks, its first day and its first item.
async fn assigned_tasks(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    plan: &str,
) -> (VecDeque<i64>, Option<Inspection>) {
    let detail: Value = http
        .get(format!("{base}/api/v1/inspections/plans/{plan}/detail"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tasks = detail["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|view| &view["task"])
        .filter(|task| task["state"] == "assigned")
        .filter_map(|task| task["id"].as_i64())
        .collect();
    let inspection = Inspection {
        day: detail["definition"]["window"]["start"]
            .as_str()
            .unwrap()
            .to_string(),
        item: detail["definition"]["items"][0]["code"]
            .as_str()
            .unwrap()
            .to_string(),
    };
    (tasks, Some(inspection))
}

async fn product_of(http: &reqwest::Client, base: &str, bank: &str) -> i64 {
    let products: Value = http
        .get(format!("{base}/api/v1/finance/products"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    products
        .as_array()
        .unwrap()
        .iter()
        .map(|view| &view["product"])
        .find(|p| {
            p["bank"] == bank
                && p["amount_min"].as_f64().unwrap_or(f64::MAX) <= 50.0
                && p["amount_max"].as_f64().unwrap_or(0.0) >= 50.0
                && p["term_months_max"].as_i64().unwrap_or(0) >= 12
        })
        .and_then(|p| p["id"].as_i64())
        .unwrap_or_else(|| panic!("bank {bank} has no product for 50 万元 over 12 months"))
}

/// Resident memory of a process, in MiB.
fn rss(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resident memory, sampled every second.
async fn sample_memory(pid: Option<u32>, seconds: u64) -> Vec<Option<f64>> {
    let mut samples = Vec::new();
    for _ in 0..seconds {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(rss(pid));
    }
    samples
}

fn report(
    shared: &Shared,
    elapsed: Duration,
    start: Option<f64>,
    end: Option<f64>,
    memory: &[Option<f64>],
) {
    let peak = memory.iter().flatten().copied().reduce(f64::max);
    let mib = |m: Option<f64>| m.map_or("unknown".to_string(), |m| format!("{m:.0} MiB"));
    // Minute by minute: a soak must show that nothing creeps up.
    println!(
        "{:<14} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "minute", "requests", "errors", "p50 ms", "p99 ms", "max ms", "memory"
    );
    let mut minutes = shared.minutes.lock().unwrap();
    for (minute, outcome) in minutes.iter_mut() {
        let at_end = memory
            .get(((*minute as usize) + 1) * 60 - 1)
            .or(memory.last())
            .copied()
            .flatten();
        print_row(
            &format!("{}", minute + 1),
            outcome,
            &format!(" {:>9}", mib(at_end)),
        );
    }
    println!();
    let mut results = shared.results.lock().unwrap();
    let mut all = Outcomes::default();
    println!(
        "{:<14} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "kind", "requests", "errors", "p50 ms", "p99 ms", "max ms"
    );
    for (kind, outcome) in results.iter_mut() {
        print_row(&format!("{kind:?}"), outcome, "");
        all.micros.extend(&outcome.micros);
        all.errors += outcome.errors;
    }
    print_row("all", &mut all, "");
    let sent = all.micros.len() as f64;
    println!(
        "{:.0} requests in {:.1} s: {:.1} requests/s (asked {})",
        sent,
        elapsed.as_secs_f64(),
        sent / elapsed.as_secs_f64(),
        shared.args.rate
    );
    println!(
        "server memory: {} at start, {} at end, {} at most",
        mib(start),
        mib(end),
        mib(peak)
    );
    for (kind, outcome) in results.iter() {
        for error in &outcome.first_errors {
            println!("error {kind:?}: {error}");
        }
    }
}

fn print_row(label: &str, outcome: &mut Outcomes, after: &str) {
    outcome.micros.sort_unstable();
    let at = |q: f64| {
        let n = outcome.micros.len();
        if n == 0 {
            return 0.0;
        }
        outcome.micros[((n as f64 * q).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0
    };
    println!(
        "{:<14} {:>8} {:>7} {:>9.1} {:>9.1} {:>9.1}{after}",
        label,
        outcome.micros.len(),
        outcome.errors,
        at(0.50),
        at(0.99),
        at(1.0)
    );
}
