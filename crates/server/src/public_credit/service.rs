//! The public side of credit: an entity's composite evaluation with what
//! moved its grade and what changed, the evaluation runs and their
//! distributions, credit checks for application scenarios and their
//! statistics, and the lists with their measures (public).

use std::collections::BTreeMap;

use credit::facts::{self, Kind};
use credit::lists::Measures;
use domain::Uscc;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::access::{Action, Principal, Role};
use crate::http::Failure;
use crate::service::require;

/// Most entities one check may ask about.
pub const CHECK_LIMIT: usize = 200_000;

fn stored_failure(e: evaluation::EvaluationError) -> Failure {
    Failure::Internal(e.to_string())
}

/// A grade with its names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GradeName {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// One indicator of an entity's evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub id: String,
    pub dimension: String,
    pub fact: String,
    pub name_zh: String,
    pub name_en: String,
    /// The value as shown, with its unit ("—" when missing).
    pub value_zh: String,
    pub value_en: String,
    pub points: f64,
    pub weight: f64,
    /// Score lost to it.
    pub lost: f64,
}

/// A dimension's share of the score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DimensionView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub weight: f64,
    /// Points earned out of `weight`.
    pub earned: f64,
}

/// A capping rule that holds, with its basis.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub grade: GradeName,
    pub basis_zh: String,
    pub basis_en: String,
}

/// One earlier evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryLine {
    pub run: i64,
    pub as_of: String,
    pub scheme: String,
    pub score: f64,
    pub grade: GradeName,
}

/// An indicator whose contribution changed since the run before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeLine {
    pub name_zh: String,
    pub name_en: String,
    pub before_zh: String,
    pub after_zh: String,
    pub before_en: String,
    pub after_en: String,
    pub score_change: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangesView {
    pub since_run: i64,
    pub since_as_of: String,
    pub score_before: f64,
    pub grade_before: GradeName,
    pub scheme_changed: bool,
    pub indicators: Vec<ChangeLine>,
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
}

/// An entity's composite evaluation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub uscc: String,
    pub name: String,
    pub run: i64,
    pub as_of: String,
    /// False when the latest run left the entity out (closed since): this
    /// is its last evaluation.
    pub current: bool,
    pub scheme: String,
    pub scheme_name_zh: String,
    pub scheme_name_en: String,
    pub scheme_version: String,
    pub score: f64,
    pub grade: GradeName,
    /// The grade the score alone reached; differs when a rule capped it.
    pub score_grade: GradeName,
    pub rules: Vec<RuleView>,
    pub dimensions: Vec<DimensionView>,
    /// Costliest first.
    pub indicators: Vec<IndicatorView>,
    pub changes: Option<ChangesView>,
    pub history: Vec<HistoryLine>,
}

fn grade_name(scheme: &credit::Scheme, id: &str) -> GradeName {
    let grade = scheme.grade(id);
    GradeName {
        id: id.to_string(),
        name_zh: grade.map_or(id.to_string(), |g| g.name_zh.clone()),
        name_en: grade.map_or(id.to_string(), |g| g.name_en.clone()),
    }
}

/// A fact's value in words: (Chinese, English).
pub fn value_words(fact: &str, value: Option<&credit::Value>) -> (String, String) {
    let Some(value) = value else {
        return ("无记录".into(), "no record".into());
    };
    let Some(fact) = facts::fact(fact) else {
        return (format!("{value:?}"), format!("{value:?}"));
    };
    match (fact.kind, value) {
        (Kind::Flag, credit::Value::Number(n)) => {
            if *n > 0.0 {
                ("是".into(), "yes".into())
            } else {
                ("否".into(), "no".into())
            }
        }
        (_, credit::Value::Number(n)) => {
            let n = (n * 100.0).round() / 100.0;
            (
                format!("{n} {}", fact.unit_zh).trim().to_string(),
                format!("{n} {}", fact.unit_en).trim().to_string(),
            )
        }
        (_, credit::Value::Category(c)) => (category_zh(fact.name, c), c.replace('_', " ")),
    }
}

/// The Chinese name of a rating category.
fn category_zh(fact: &str, value: &str) -> String {
    let name = match (fact, value) {
        ("environmental_rating", "green") => "绿牌（诚信）",
        ("environmental_rating", "blue") => "蓝牌（良好）",
        ("environmental_rating", "yellow") => "黄牌（警示）",
        ("environmental_rating", "red") => "红牌（不良）",
        ("environmental_rating", "black") => "黑牌（严重失信）",
        ("customs_credit", "advanced_certified") => "高级认证企业",
        ("customs_credit", "registered") => "其他注册登记和备案企业",
        ("customs_credit", "dishonest") => "失信企业",
        ("tax_credit_rating", grade) => return format!("{grade} 级"),
        _ => value,
    };
    name.to_string()
}

/// An entity's latest evaluation, what moved it and what changed.
pub async fn entity_evaluation(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
) -> Result<EvaluationView, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ViewEvaluation { uscc }, uscc).await?;
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    state
        .audit(
            &who.actor,
            "view_evaluation",
            uscc,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    let rows = state.store.entity_evaluations(uscc).await?;
    let Some(latest) = rows.first() else {
        return Err(Failure::NotFound(format!("an evaluation of {uscc}")));
    };
    // Only the latest run and the one before are recomputed (the grade and
    // what changed); the history needs their grades alone.
    let mut runs = BTreeMap::new();
    for row in rows.iter().take(2) {
        if let Some(run) = state.store.evaluation_run(row.run_id).await? {
            runs.insert(run.id, run);
        }
    }
    let read = |row: &store::EntityEvaluationRow| {
        let run = runs.get(&row.run_id).ok_or_else(|| {
            Failure::Internal(format!("evaluation run {} is missing", row.run_id))
        })?;
        evaluation::stored(run, row)
            .map(|(scheme, e)| (run.clone(), scheme, e))
            .map_err(stored_failure)
    };
    let (run, scheme, now) = read(latest)?;
    let current = state
        .store
        .latest_evaluation_run()
        .await?
        .is_none_or(|newest| newest.id == run.id);
    let fact_of = |indicator: &str| {
        scheme
            .indicators
            .iter()
            .find(|i| i.id == indicator)
            .map(|i| i.fact.clone())
            .unwrap_or_default()
    };
    let mut indicators: Vec<IndicatorView> = now
        .indicators
        .iter()
        .map(|s| {
            let fact_name = fact_of(&s.indicator);
            let fact = facts::fact(&fact_name);
            let (value_zh, value_en) = value_words(&fact_name, s.value.as_ref());
            IndicatorView {
                id: s.indicator.clone(),
                dimension: scheme
                    .indicators
                    .iter()
                    .find(|i| i.id == s.indicator)
                    .map(|i| i.dimension.clone())
                    .unwrap_or_default(),
                name_zh: fact.map_or(fact_name.clone(), |f| f.name_zh.to_string()),
                name_en: fact.map_or(fact_name.clone(), |f| f.name_en.to_string()),
                fact: fact_name,
                value_zh,
                value_en,
                points: s.points,
                weight: s.weight,
                lost: (s.lost * 100.0).round() / 100.0,
            }
        })
        .collect();
    indicators.sort_by(|a, b| b.lost.total_cmp(&a.lost).then(a.id.cmp(&b.id)));
    let dimensions = scheme
        .dimensions
        .iter()
        .map(|d| {
            let of: Vec<&credit::Scored> = now
                .indicators
                .iter()
                .filter(|s| {
                    scheme
                        .indicators
                        .iter()
                        .any(|i| i.id == s.indicator && i.dimension == d.id)
                })
                .collect();
            DimensionView {
                id: d.id.clone(),
                name_zh: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                weight: of.iter().map(|s| s.weight).sum(),
                earned: (of.iter().map(|s| s.weight * s.points / 100.0).sum::<f64>() * 100.0)
                    .round()
                    / 100.0,
            }
        })
        .collect();
    let rules = now
        .rules
        .iter()
        .filter_map(|id| scheme.rules.iter().find(|r| &r.id == id))
        .map(|r| RuleView {
            id: r.id.clone(),
            name_zh: r.name_zh.clone(),
            name_en: r.name_en.clone(),
            grade: grade_name(&scheme, &r.grade),
            basis_zh: r.basis_zh.clone(),
            basis_en: r.basis_en.clone(),
        })
        .collect();
    let changes = match rows.get(1) {
        Some(row) => {
            let (then_run, then_scheme, then) = read(row)?;
            let c = credit::changes(&then, &now);
            Some(ChangesView {
                since_run: then_run.id,
                since_as_of: then_run.as_of.clone(),
                score_before: c.score_before,
                grade_before: grade_name(&then_scheme, &c.grade_before),
                scheme_changed: c.scheme_changed,
                indicators: c
                    .indicators
                    .iter()
                    .map(|i| {
                        let fact_name = fact_of(&i.indicator);
                        let fact = facts::fact(&fact_name);
                        let (before_zh, before_en) =
                            value_words(&fact_name, i.value_before.as_ref());
                        let (after_zh, after_en) = value_words(&fact_name, i.value_after.as_ref());
                        ChangeLine {
                            name_zh: fact.map_or(i.indicator.clone(), |f| f.name_zh.to_string()),
                            name_en: fact.map_or(i.indicator.clone(), |f| f.name_en.to_string()),
                            before_zh,
                            after_zh,
                            before_en,
                            after_en,
                            score_change: i.score_change,
                        }
                    })
                    .collect(),
                rules_added: c.rules_added,
                rules_removed: c.rules_removed,
            })
        }
        None => None,
    };
    // Grades named by the latest run's schemes (a scheme gone since keeps
    // its grade's id).
    let schemes: Vec<credit::Scheme> = serde_json::from_str(&run.schemes_json).unwrap_or_default();
    let history = state
        .store
        .entity_evaluation_history(uscc, 12)
        .await?
        .into_iter()
        .map(|(run, as_of, scheme, score, grade)| HistoryLine {
            grade: match schemes.iter().find(|s| s.id == scheme) {
                Some(s) => grade_name(s, &grade),
                None => GradeName {
                    id: grade.clone(),
                    name_zh: grade.clone(),
                    name_en: grade,
                },
            },
            run,
            as_of,
            scheme,
            score,
        })
        .collect();
    Ok(EvaluationView {
        uscc: entity.uscc,
        name: entity.name,
        run: run.id,
        as_of: run.as_of.clone(),
        current,
        scheme: scheme.id.clone(),
        scheme_name_zh: scheme.name_zh.clone(),
        scheme_name_en: scheme.name_en.clone(),
        scheme_version: scheme.version.clone(),
        score: now.score,
        grade: grade_name(&scheme, &now.grade),
        score_grade: grade_name(&scheme, &now.score_grade),
        rules,
        dimensions,
        indicators,
        changes,
        history,
    })
}

/// Entities by grade in one area (a district, an industry or a scheme).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AreaGrades {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Counts in the order of `Overview::grades`.
    pub counts: Vec<i64>,
    pub total: i64,
}

/// One run summarised.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunLine {
    pub id: i64,
    pub as_of: String,
    pub finished_at: String,
    pub entities: i64,
    pub withdrawn: i64,
}

/// The evaluation runs and the latest one's distributions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub runs: Vec<RunLine>,
    pub grades: Vec<GradeName>,
    pub by_district: Vec<AreaGrades>,
    pub by_industry: Vec<AreaGrades>,
    pub by_scheme: Vec<AreaGrades>,
}

/// Every run, and the latest run's grades by district, industry and
/// scheme.
pub async fn overview(state: &AppState, who: &Principal) -> Result<Overview, Failure> {
    require(state, who, Action::ManageEvaluations, "").await?;
    crate::service::audit_read(state, who, "view_evaluations", "").await?;
    let runs = state.store.evaluation_runs().await?;
    let Some(latest) = runs.first() else {
        return Ok(Overview {
            runs: Vec::new(),
            grades: Vec::new(),
            by_district: Vec::new(),
            by_industry: Vec::new(),
            by_scheme: Vec::new(),
        });
    };
    let schemes: Vec<credit::Scheme> =
        serde_json::from_str(&latest.schemes_json).unwrap_or_default();
    // Every scheme shipped grades alike; a city's own may not: the grades
    // of the general scheme, then any other grade met.
    let mut grades: Vec<GradeName> = Vec::new();
    for scheme in &schemes {
        for g in &scheme.grades {
            if !grades.iter().any(|known| known.id == g.id) {
                grades.push(GradeName {
                    id: g.id.clone(),
                    name_zh: g.name_zh.clone(),
                    name_en: g.name_en.clone(),
                });
            }
        }
    }
    let by = |rows: Vec<(String, String, i64)>, name: &dyn Fn(&str) -> (String, String)| {
        let mut areas: Vec<AreaGrades> = Vec::new();
        for (area, grade, n) in rows {
            if areas.last().is_none_or(|a| a.code != area) {
                let (name_zh, name_en) = name(&area);
                areas.push(AreaGrades {
                    code: area.clone(),
                    name_zh,
                    name_en,
                    counts: vec![0; grades.len()],
                    total: 0,
                });
            }
            if let Some(last) = areas.last_mut() {
                if let Some(at) = grades.iter().position(|g| g.id == grade) {
                    last.counts[at] += n;
                }
                last.total += n;
            }
        }
        areas
    };
    let district = |code: &str| {
        domain::division::lookup(code).map_or((code.to_string(), code.to_string()), |d| {
            (d.name_zh.to_string(), d.name_en.to_string())
        })
    };
    let industry = |code: &str| {
        domain::industry::division(code).map_or((code.to_string(), code.to_string()), |d| {
            (d.name_zh.to_string(), d.name_en.to_string())
        })
    };
    let scheme_name = |id: &str| {
        schemes
            .iter()
            .find(|s| s.id == id)
            .map_or((id.to_string(), id.to_string()), |s| {
                (s.name_zh.clone(), s.name_en.clone())
            })
    };
    let by_district = by(
        state.store.evaluation_counts(latest.id, "district").await?,
        &district,
    );
    let by_industry = by(
        state.store.evaluation_counts(latest.id, "industry").await?,
        &industry,
    );
    let by_scheme = by(
        state.store.evaluation_counts(latest.id, "scheme").await?,
        &scheme_name,
    );
    Ok(Overview {
        runs: runs
            .iter()
            .map(|r| RunLine {
                id: r.id,
                as_of: r.as_of.clone(),
                finished_at: r.finished_at.clone(),
                entities: r.entities,
                withdrawn: r.withdrawn,
            })
            .collect(),
        grades,
        by_district,
        by_industry,
        by_scheme,
    })
}

/// What a check asks.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CheckInput {
    pub scenario: String,
    /// Codes to check, up to 200 000.
    pub usccs: Vec<String>,
}

/// One entity's answer, with names.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckLine {
    pub asked: String,
    pub found: bool,
    pub problem: Option<String>,
    pub grade: Option<String>,
    pub grade_name: Option<String>,
    pub score: Option<f64>,
    pub lists: Vec<ListLine>,
    pub measures: Vec<MeasureLine>,
    pub verdict: Option<String>,
    pub verdict_name_zh: Option<String>,
    pub verdict_name_en: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListLine {
    pub id: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub basis_zh: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeasureLine {
    pub id: String,
    pub kind: String,
    pub name_zh: String,
    pub name_en: String,
    pub basis_zh: String,
    pub basis_en: String,
}

/// A check's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub check: i64,
    pub scenario: String,
    pub scenario_name_zh: String,
    pub scenario_name_en: String,
    /// The evaluation run the answers come from.
    pub run: Option<i64>,
    pub as_of: Option<String>,
    pub barred: i64,
    pub scrutiny: i64,
    pub incentive: i64,
    pub clear: i64,
    pub not_found: i64,
    pub results: Vec<CheckLine>,
    /// The rows of the result file (CSV), when asked for one.
    #[serde(skip)]
    pub csv: Vec<Vec<String>>,
}

/// Checks entities for a scenario; recorded and audited.
pub async fn check(
    state: &AppState,
    who: &Principal,
    input: &CheckInput,
    now: chrono::DateTime<chrono::Utc>,
    with_file: bool,
) -> Result<CheckReport, Failure> {
    require(state, who, Action::CheckCredit, &input.scenario).await?;
    let measures: &Measures = &state.config.measures;
    let Some(scenario) = measures.scenario(&input.scenario) else {
        return Err(Failure::Unprocessable(format!(
            "scenario '{}' is not known",
            input.scenario
        )));
    };
    let asked: Vec<String> = input
        .usccs
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if asked.is_empty() {
        return Err(Failure::Unprocessable("no code to check".into()));
    }
    if asked.len() > CHECK_LIMIT {
        return Err(Failure::Unprocessable(format!(
            "{} codes: one check takes at most {CHECK_LIMIT}",
            asked.len()
        )));
    }
    let checked = evaluation::check::check(&state.store, measures, &scenario.id, &asked)
        .await
        .map_err(stored_failure)?;
    let [barred, scrutiny, incentive, clear, not_found] = checked.tally();
    let department = who
        .subjects(Role::Department)
        .first()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let record = checked.record(&crate::stamp(now), &who.actor, &department, &scenario.id);
    let id = state.store.save_credit_check(&record).await?;
    // One entry per check; a single entity's check names it.
    let subject = if asked.len() == 1 {
        asked[0].clone()
    } else {
        format!("check:{id}")
    };
    state
        .audit(
            &who.actor,
            "credit_check",
            &subject,
            "ok",
            serde_json::json!({"check": id, "scenario": scenario.id, "entities": asked.len()}),
        )
        .await?;
    let grades = evaluation::check::grade_names(checked.run.as_ref());
    let csv = if with_file {
        checked
            .results
            .iter()
            .map(|r| evaluation::check::csv_row(measures, &grades, r))
            .collect()
    } else {
        Vec::new()
    };
    let results = checked
        .results
        .iter()
        .map(|r| CheckLine {
            asked: r.asked.clone(),
            found: r.found,
            problem: r.problem.clone(),
            grade: r.grade.clone(),
            grade_name: r.grade.as_ref().and_then(|g| {
                grades
                    .get(&(r.scheme.clone().unwrap_or_default(), g.clone()))
                    .cloned()
            }),
            score: r.score,
            lists: r
                .lists
                .iter()
                .filter_map(|id| measures.list(id))
                .map(|l| ListLine {
                    id: l.id.clone(),
                    kind: l.kind.as_str().into(),
                    name_zh: l.name_zh.clone(),
                    name_en: l.name_en.clone(),
                    basis_zh: l.basis_zh.clone(),
                })
                .collect(),
            measures: r
                .measures
                .iter()
                .filter_map(|id| measures.measures.iter().find(|m| &m.id == id))
                .map(|m| MeasureLine {
                    id: m.id.clone(),
                    kind: m.kind.as_str().into(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    basis_zh: m.basis_zh.clone(),
                    basis_en: m.basis_en.clone(),
                })
                .collect(),
            verdict: r.verdict.map(|v| v.as_str().to_string()),
            verdict_name_zh: r.verdict.map(|v| v.name_zh().to_string()),
            verdict_name_en: r.verdict.map(|v| v.name_en().to_string()),
        })
        .collect();
    Ok(CheckReport {
        check: id,
        scenario: scenario.id.clone(),
        scenario_name_zh: scenario.name_zh.clone(),
        scenario_name_en: scenario.name_en.clone(),
        run: checked.run.as_ref().map(|r| r.id),
        as_of: checked.run.as_ref().map(|r| r.as_of.clone()),
        barred,
        scrutiny,
        incentive,
        clear,
        not_found,
        results,
        csv,
    })
}

/// Checks by scenario and department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckStatistic {
    pub scenario: String,
    pub scenario_name_zh: String,
    pub scenario_name_en: String,
    pub department: String,
    pub checks: i64,
    pub entities: i64,
    pub barred: i64,
    pub scrutiny: i64,
    pub incentive: i64,
}

pub async fn check_statistics(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<CheckStatistic>, Failure> {
    require(state, who, Action::ViewCheckStatistics, "").await?;
    crate::service::audit_read(state, who, "view_check_statistics", "").await?;
    let measures = &state.config.measures;
    Ok(state
        .store
        .credit_check_statistics()
        .await?
        .into_iter()
        .map(
            |(scenario, department, checks, entities, barred, scrutiny, incentive)| {
                let s = measures.scenario(&scenario);
                CheckStatistic {
                    scenario_name_zh: s.map_or(scenario.clone(), |s| s.name_zh.clone()),
                    scenario_name_en: s.map_or(scenario.clone(), |s| s.name_en.clone()),
                    scenario,
                    department,
                    checks,
                    entities,
                    barred,
                    scrutiny,
                    incentive,
                }
            },
        )
        .collect())
}
