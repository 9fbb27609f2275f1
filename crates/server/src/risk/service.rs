//! What the risk pages and API show: the latest screening's overview
//! (classes by district and industry, score distribution, migration,
//! observed problem rates per class, stability), ranked lists, an entity's
//! risk with reasons, the model's report, and re-screening the city in the
//! background.
//!
//! Risk classes are for supervision only (DOMAIN.md §5): every function
//! here checks [`Action::ViewRisk`](crate::access::Action::ViewRisk)
//! (regulators and inspectors) or
//! [`Action::Rescreen`](crate::access::Action::Rescreen) (regulators)
//! itself, and every read is audited.

use std::sync::Arc;

use domain::RiskClass;
use risk::screen::{Phase, ScreenSummary, StoredReason};
use serde::Serialize;
use store::{RankedRow, RiskListFilter, ScreeningRow};

use crate::access::{Action, Principal};
use crate::http::Failure;
use crate::service::{audit_read, require};
use crate::{AppState, Shared};

fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::Internal(e.to_string())
}

/// A screening as the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningView {
    pub id: i64,
    pub screened_at: String,
    pub as_of: String,
    pub model_version: String,
    pub entities: i64,
    pub summary: ScreenSummary,
}

impl ScreeningView {
    fn of(row: &ScreeningRow) -> Result<ScreeningView, Failure> {
        Ok(ScreeningView {
            id: row.id,
            screened_at: row.screened_at.clone(),
            as_of: row.as_of.clone(),
            model_version: row.model_version.clone(),
            entities: row.entities,
            summary: serde_json::from_str(&row.summary_json).map_err(internal)?,
        })
    }
}

/// Entities per class for one district or industry.
#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    pub key: String,
    pub name: String,
    /// A, B, C, D.
    pub counts: [i64; 4],
    pub total: i64,
}

/// What inspections after a screening found, per class of that screening.
#[derive(Debug, Clone, Serialize)]
pub struct ObservedRow {
    pub class: String,
    pub inspected: i64,
    pub problems: i64,
    pub rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub screening: Option<ScreeningView>,
    pub by_district: Vec<ClassRow>,
    pub by_industry: Vec<ClassRow>,
    /// Score bucket start and entities per class in it.
    pub histogram: Vec<(i64, [i64; 4])>,
    /// The screening the migration starts from.
    pub previous: Option<i64>,
    /// (from class, to class, entities).
    pub migration: Vec<(String, String, i64)>,
    /// The screening whose classes later inspections are compared with.
    pub observed_screening: Option<ScreeningView>,
    pub observed: Vec<ObservedRow>,
}

fn class_index(class: &str) -> Option<usize> {
    class
        .parse::<RiskClass>()
        .ok()
        .map(|c| RiskClass::ALL.iter().position(|k| *k == c).unwrap_or(0))
}

fn class_rows(rows: Vec<(String, String, i64)>, name: impl Fn(&str) -> String) -> Vec<ClassRow> {
    let mut out: Vec<ClassRow> = Vec::new();
    for (key, class, count) in rows {
        if out.last().is_none_or(|r| r.key != key) {
            out.push(ClassRow {
                name: name(&key),
                key: key.clone(),
                counts: [0; 4],
                total: 0,
            });
        }
        if let (Some(row), Some(i)) = (out.last_mut(), class_index(&class)) {
            row.counts[i] += count;
            row.total += count;
        }
    }
    out
}

/// Classes by district and industry, the score distribution and the
/// migration since the screening before; audited.
pub async fn overview(state: &AppState, who: &Principal) -> Result<Overview, Failure> {
    require(state, who, Action::ViewRisk, "").await?;
    audit_read(state, who, "view_risk_overview", "").await?;
    let screenings = state.store.screenings().await?;
    let Some(latest) = screenings.first() else {
        return Ok(Overview {
            screening: None,
            by_district: Vec::new(),
            by_industry: Vec::new(),
            histogram: Vec::new(),
            previous: None,
            migration: Vec::new(),
            observed_screening: None,
            observed: Vec::new(),
        });
    };
    let by_district = class_rows(
        state.store.class_counts(latest.id, "district").await?,
        |code| domain::division::lookup(code).map_or(code.to_string(), |d| d.name_zh.to_string()),
    );
    let by_industry = class_rows(
        state.store.class_counts(latest.id, "industry").await?,
        |code| {
            domain::industry::division(code)
                .map_or(code.to_string(), |d| format!("{code} {}", d.name_zh))
        },
    );
    let mut histogram: Vec<(i64, [i64; 4])> = Vec::new();
    for (bucket, class, count) in state.store.score_histogram(latest.id, 10).await? {
        if histogram.last().is_none_or(|h| h.0 != bucket) {
            histogram.push((bucket, [0; 4]));
        }
        if let (Some(last), Some(i)) = (histogram.last_mut(), class_index(&class)) {
            last.1[i] += count;
        }
    }
    let previous = screenings.get(1).map(|s| s.id);
    let migration = match previous {
        Some(p) => state.store.class_migration(p, latest.id).await?,
        None => Vec::new(),
    };
    let (observed_screening, observed) = observed(state, &screenings).await?;
    Ok(Overview {
        screening: Some(ScreeningView::of(latest)?),
        by_district,
        by_industry,
        histogram,
        previous,
        migration,
        observed_screening,
        observed,
    })
}

/// The newest screening that inspections have followed, and per class of
/// it, how many of those inspected had problems.
async fn observed(
    state: &AppState,
    screenings: &[ScreeningRow],
) -> Result<(Option<ScreeningView>, Vec<ObservedRow>), Failure> {
    let sql = lake::sql::Sql::over(&state.lake, &state.catalog)
        .await
        .map_err(internal)?;
    for screening in screenings {
        let Ok(from) = screening.as_of.parse::<chrono::NaiveDate>() else {
            continue;
        };
        let until = chrono::NaiveDate::MAX;
        let labels = risk::sample::labels(&sql, from, until)
            .await
            .map_err(internal)?;
        if labels.is_empty() {
            continue;
        }
        let subjects: Vec<String> = labels.keys().cloned().collect();
        let classes = state.store.classes_of(screening.id, &subjects).await?;
        let mut rows: Vec<ObservedRow> = RiskClass::ALL
            .iter()
            .map(|c| ObservedRow {
                class: c.to_string(),
                inspected: 0,
                problems: 0,
                rate: 0.0,
            })
            .collect();
        for (uscc, class) in classes {
            let Some(i) = class_index(&class) else {
                continue;
            };
            rows[i].inspected += 1;
            if labels.get(&uscc).copied().unwrap_or(false) {
                rows[i].problems += 1;
            }
        }
        for row in &mut rows {
            row.rate = row.problems as f64 / row.inspected.max(1) as f64;
        }
        return Ok((Some(ScreeningView::of(screening)?), rows));
    }
    Ok((None, Vec::new()))
}

/// A ranked row with its reasons read.
#[derive(Debug, Clone, Serialize)]
pub struct RankedView {
    #[serde(flatten)]
    pub row: RankedRow,
    pub reasons: Vec<ReasonView>,
}

/// A reason as pages and the API show it: a national rule (with its
/// basis in the text, no points) or a feature's bin and the points lost,
/// in the words stored at screening.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonView {
    pub feature: String,
    /// The national rule's id, for a rule's reason.
    pub rule: Option<String>,
    pub label_zh: String,
    pub label_en: String,
    pub text_zh: String,
    pub text_en: String,
    /// The bin in the model's own terms.
    pub bin: String,
    pub points: u32,
}

impl ReasonView {
    pub fn text(&self, lang: crate::i18n::Lang) -> &str {
        if lang == crate::i18n::Lang::Zh {
            &self.text_zh
        } else {
            &self.text_en
        }
    }
}

/// Stored reasons in words, with each feature's labels.
pub(crate) fn reasons(json: &str) -> Vec<ReasonView> {
    let stored: Vec<StoredReason> = serde_json::from_str(json).unwrap_or_default();
    stored
        .into_iter()
        .map(|r| {
            let (label_zh, label_en) = risk::V4
                .words(&r.feature)
                .map_or((r.feature.clone(), r.feature.clone()), |(zh, en)| {
                    (zh.to_string(), en.to_string())
                });
            ReasonView {
                text_zh: r.zh(),
                text_en: r.en(),
                label_zh,
                label_en,
                feature: r.feature,
                rule: r.rule,
                bin: r.bin,
                points: r.points,
            }
        })
        .collect()
}

/// A ranked list's filter from what a page or API request gave: empty
/// fields mean no filter, the offset is never negative.
pub fn list_filter(
    class: Option<String>,
    division: Option<String>,
    industry: Option<String>,
    limit: i64,
    offset: Option<i64>,
) -> RiskListFilter {
    let keep = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
    RiskListFilter {
        class: keep(class),
        division: keep(division),
        industry: keep(industry),
        limit,
        offset: offset.unwrap_or(0).max(0),
    }
}

/// The latest screening's results, riskiest first; audited.
pub async fn ranked(
    state: &AppState,
    who: &Principal,
    filter: &RiskListFilter,
) -> Result<(Option<i64>, Vec<RankedView>), Failure> {
    require(state, who, Action::ViewRisk, "").await?;
    let Some(latest) = state.store.latest_screening().await? else {
        return Ok((None, Vec::new()));
    };
    state
        .audit(
            &who.actor,
            "view_risk_list",
            "",
            "ok",
            serde_json::json!({
                "screening": latest.id,
                "class": filter.class, "division": filter.division, "industry": filter.industry,
                "offset": filter.offset,
            }),
        )
        .await?;
    let rows = state.store.ranked(latest.id, filter).await?;
    Ok((
        Some(latest.id),
        rows.into_iter()
            .map(|row| RankedView {
                reasons: reasons(&row.reasons_json),
                row,
            })
            .collect(),
    ))
}

/// One screening's result for an entity, reasons read.
#[derive(Debug, Clone, Serialize)]
pub struct EntityRiskView {
    pub screening_id: i64,
    pub as_of: String,
    pub model_version: String,
    pub score: i64,
    pub probability: f64,
    pub class: String,
    pub reasons: Vec<ReasonView>,
}

/// An entity's risk in every screening, newest first; audited.
pub async fn entity(
    state: &AppState,
    who: &Principal,
    uscc: &domain::Uscc,
) -> Result<(store::EntityRow, Vec<EntityRiskView>), Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ViewRisk, uscc).await?;
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    state
        .audit(
            &who.actor,
            "view_entity_risk",
            uscc,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    let history = state
        .store
        .entity_risk(uscc)
        .await?
        .into_iter()
        .map(|h| EntityRiskView {
            screening_id: h.screening_id,
            as_of: h.as_of,
            model_version: h.model_version,
            score: h.score.score,
            probability: h.score.probability,
            class: h.score.class,
            reasons: reasons(&h.score.reasons_json),
        })
        .collect();
    Ok((entity, history))
}

/// The model of the latest screening (or the latest model) with its report.
#[derive(Debug, Clone, Serialize)]
pub struct ModelView {
    pub version: String,
    pub created_at: String,
    pub as_of: String,
    pub model: scoring::Model,
    pub report: risk::train::TrainReport,
}

/// The model the latest screening used, with its report; audited.
pub async fn model(state: &AppState, who: &Principal) -> Result<Option<ModelView>, Failure> {
    require(state, who, Action::ViewRisk, "").await?;
    audit_read(state, who, "view_risk_model", "").await?;
    let row = match state.store.latest_screening().await? {
        Some(s) => state.store.risk_model(&s.model_version).await?,
        None => state.store.latest_risk_model().await?,
    };
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ModelView {
        model: scoring::Model::from_json(&row.model_json).map_err(internal)?,
        report: serde_json::from_str(&row.report_json).map_err(internal)?,
        version: row.version,
        created_at: row.created_at,
        as_of: row.as_of,
    }))
}

/// The re-screening in progress or last finished.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScreeningJob {
    pub running: bool,
    pub phase: Option<Phase>,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The screening made, when it succeeded.
    pub screening: Option<i64>,
    pub error: Option<String>,
}

/// The re-screening in progress or last finished.
pub async fn job(state: &AppState, who: &Principal) -> Result<ScreeningJob, Failure> {
    require(state, who, Action::ViewRisk, "").await?;
    audit_read(state, who, "view_screening_job", "").await?;
    Ok(current_job(state))
}

fn current_job(state: &AppState) -> ScreeningJob {
    state
        .screening
        .lock()
        .map(|j| j.clone())
        .unwrap_or_default()
}

fn update(state: &AppState, change: impl FnOnce(&mut ScreeningJob)) {
    if let Ok(mut job) = state.screening.lock() {
        change(&mut job);
    }
}

/// Starts screening the city with the latest screening's model (or the
/// latest model) as of the data's latest month; one at a time.
pub async fn start_screening(
    state: &Shared,
    who: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ScreeningJob, Failure> {
    require(state, who, Action::Rescreen, "").await?;
    let latest = state.store.latest_screening().await?;
    let row = match &latest {
        Some(s) => state.store.risk_model(&s.model_version).await?,
        None => state.store.latest_risk_model().await?,
    };
    let Some(row) = row else {
        return Err(Failure::BadRequest(
            "no risk model yet: run `xinyong risk train`".into(),
        ));
    };
    let model = scoring::Model::from_json(&row.model_json).map_err(internal)?;
    // The rule and policy the regulator screened with last time.
    let (rule, policy) = match &latest {
        Some(s) => {
            let summary = ScreeningView::of(s)?.summary;
            (summary.rule, summary.policy)
        }
        None => (risk::ClassRule::default(), None),
    };
    let policy = match policy {
        Some(policy) => policy,
        None => risk::Policy::national(&risk::V4).map_err(internal)?,
    };
    {
        let mut job = state.screening.lock().map_err(internal)?;
        if job.running {
            return Err(Failure::BadRequest("a screening is already running".into()));
        }
        *job = ScreeningJob {
            running: true,
            phase: None,
            started_by: who.actor.clone(),
            started_at: crate::stamp(now),
            finished_at: None,
            screening: None,
            error: None,
        };
    }
    state
        .audit(
            &who.actor,
            "rescreen",
            "",
            "ok",
            serde_json::json!({"model": model.version}),
        )
        .await?;
    let task_state = Arc::clone(state);
    tokio::spawn(async move {
        let state = task_state;
        let result = run_screening(&state, &model, rule, &policy).await;
        update(&state, |job| {
            job.running = false;
            // The job ends after the request that started it: its own clock.
            job.finished_at = Some(crate::now());
            match result {
                Ok(id) => job.screening = Some(id),
                Err(e) => {
                    tracing::error!("screening failed: {e}");
                    job.error = Some(e);
                }
            }
        });
    });
    Ok(current_job(state))
}

async fn run_screening(
    state: &Shared,
    model: &scoring::Model,
    rule: risk::ClassRule,
    policy: &risk::Policy,
) -> Result<i64, String> {
    let sql = lake::sql::Sql::over(&state.lake, &state.catalog)
        .await
        .map_err(|e| e.to_string())?;
    let as_of = risk::default_screening_as_of(&sql)
        .await
        .map_err(|e| e.to_string())?;
    let progress = |phase: Phase| update(state, |job| job.phase = Some(phase));
    let outcome = risk::screen(&sql, &risk::V4, model, as_of, rule, policy, &progress)
        .await
        .map_err(|e| e.to_string())?;
    progress(Phase::Storing);
    risk::screen::save(&state.store, &risk::V4, model, &outcome, &crate::now())
        .await
        .map_err(|e| e.to_string())
}
