//! Pages of risk: overview, ranked list, one entity's score and reasons,
//! the model, re-screening.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use minijinja::{Value, context};
use serde::Deserialize;

use crate::Shared;
use crate::access::{Action, Principal, allows};
use crate::http::PageResult;
use crate::http::cookies::CheckedForm;
use crate::http::cookies::CsrfForm;
use crate::http::render::page;

use super::service as risk_views;
use crate::charts;
use crate::i18n::{Lang, messages};
use crate::registry::service as views;

fn percent(value: f64) -> String {
    format!("{:.1}%", 100.0 * value)
}

async fn risk_page(State(state): State<Shared>, headers: HeaderMap, who: Principal) -> PageResult {
    let overview = risk_views::overview(&state, &who).await?;
    let lang = Lang::of(&headers);
    let Some(s) = &overview.screening else {
        return page(
            "risk.html",
            &headers,
            &who,
            context! { s => Value::from(()), can_rescreen => allows(&who, Action::Rescreen) },
        );
    };
    let total = s.entities.max(1) as f64;
    let cut = s.summary.cutoffs;
    let zh = lang == Lang::Zh;
    let rules: Vec<Value> = s
        .summary
        .rules
        .iter()
        .map(|r| {
            context! {
                name => if zh { &r.name_zh } else { &r.name_en },
                class => r.class.map(|c| c.to_string()),
                basis => if zh { &r.basis_zh } else { &r.basis_en },
                matched => r.matched, moved => r.moved,
            }
        })
        .collect();
    let segments: Vec<Value> = s
        .summary
        .segments
        .iter()
        .map(|g| {
            context! {
                name => if zh { &g.name_zh } else { &g.name_en },
                population => g.population, graded_apart => g.graded_apart,
                cutoffs => format!("A ≥ {} · B ≥ {} · C ≥ {}", g.cutoffs.a, g.cutoffs.b, g.cutoffs.c),
                counts => g.class_counts,
            }
        })
        .collect();
    let classes: Vec<Value> = domain::RiskClass::ALL
        .iter()
        .zip(s.summary.class_counts)
        .zip(s.summary.score_class_counts)
        .map(|((class, count), by_score)| {
            let cutoff = match class {
                domain::RiskClass::A => format!("≥ {}", cut.a),
                domain::RiskClass::B => format!("{} – {}", cut.b, cut.a - 1),
                domain::RiskClass::C => format!("{} – {}", cut.c, cut.b - 1),
                domain::RiskClass::D => format!("< {}", cut.c),
            };
            context! {
                letter => class.letter().to_string(),
                name => if lang == Lang::Zh { class.name_zh() } else { class.name_en() },
                count, by_score, share => percent(count as f64 / total), cutoff,
            }
        })
        .collect();
    let bars: Vec<(String, f64)> = overview
        .histogram
        .iter()
        .map(|(bucket, counts)| (bucket.to_string(), counts.iter().sum::<i64>() as f64))
        .collect();
    let observed: Vec<Value> = overview
        .observed
        .iter()
        .map(|o| context! { class => o.class, inspected => o.inspected, problems => o.problems, rate => percent(o.rate) })
        .collect();
    page(
        "risk.html",
        &headers,
        &who,
        context! {
            s => Value::from_serialize(s),
            classes, rules, segments,
            psi => format!("{:.4} ({})", s.summary.score_psi, scoring::metrics::psi_reading(s.summary.score_psi)),
            psi_against_population => s.summary.psi_reference == "training population",
            feature_psi => s.summary.feature_psi.iter().map(|(name, psi)| {
                let label = risk::V4.feature(name).map_or(name.clone(), |d| {
                    if lang == Lang::Zh { d.label_zh.to_string() } else { d.label_en.to_string() }
                });
                context! { label, psi => format!("{psi:.4}"), reading => scoring::metrics::psi_reading(*psi) }
            }).collect::<Vec<_>>(),
            histogram => charts::bars(&bars, "score"),
            by_district => Value::from_serialize(&overview.by_district),
            by_industry => Value::from_serialize(&overview.by_industry),
            previous => overview.previous,
            migration => Value::from_serialize(&overview.migration),
            observed_screening => Value::from_serialize(&overview.observed_screening),
            observed,
            can_rescreen => allows(&who, Action::Rescreen),
        },
    )
}

#[derive(Deserialize, Default)]
struct RiskListQuery {
    class: Option<String>,
    division: Option<String>,
    industry: Option<String>,
    offset: Option<i64>,
}

const RISK_PAGE_ROWS: i64 = 50;

async fn risk_list_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Query(q): Query<RiskListQuery>,
) -> PageResult {
    let filter = risk_views::list_filter(
        q.class,
        q.division,
        q.industry,
        RISK_PAGE_ROWS + 1,
        q.offset,
    );
    let (screening, mut rows) = risk_views::ranked(&state, &who, &filter).await?;
    let more = rows.len() as i64 > RISK_PAGE_ROWS;
    rows.truncate(RISK_PAGE_ROWS as usize);
    let lang = Lang::of(&headers);
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let reasons: Vec<String> = r
                .reasons
                .iter()
                .map(|x| match x.rule {
                    Some(_) => x.text(lang).to_string(),
                    None => format!("{} (−{})", x.text(lang), x.points),
                })
                .collect();
            context! {
                rank => filter.offset + i as i64 + 1, name => r.row.name, uscc => r.row.uscc,
                class => r.row.class, score => r.row.score,
                probability => percent(r.row.probability), reasons => reasons.join("; "),
            }
        })
        .collect();
    let link = |offset: i64| {
        format!(
            "/risk/list?class={}&division={}&industry={}&offset={offset}",
            filter.class.clone().unwrap_or_default(),
            filter.division.clone().unwrap_or_default(),
            filter.industry.clone().unwrap_or_default()
        )
    };
    page(
        "risk_list.html",
        &headers,
        &who,
        context! {
            screening, rows, more,
            class => filter.class.clone().unwrap_or_default(),
            division => filter.division.clone().unwrap_or_default(),
            industry => filter.industry.clone().unwrap_or_default(),
            offset => filter.offset,
            previous_page => link((filter.offset - RISK_PAGE_ROWS).max(0)),
            next_page => link(filter.offset + RISK_PAGE_ROWS),
        },
    )
}

async fn risk_entity_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
    Path(code): Path<String>,
) -> PageResult {
    let uscc = views::parse_uscc(&code)?;
    let (entity, history) = risk_views::entity(&state, &who, &uscc).await?;
    let lang = Lang::of(&headers);
    let latest = history.first();
    let class_name = latest
        .and_then(|l| l.class.parse::<domain::RiskClass>().ok())
        .map(|c| {
            if lang == Lang::Zh {
                c.name_zh()
            } else {
                c.name_en()
            }
        })
        .unwrap_or_default();
    let reasons: Vec<Value> = latest
        .map(|l| {
            l.reasons
                .iter()
                .map(|r| context! { text => r.text(lang), rule => r.rule.is_some(), points => r.points })
                .collect()
        })
        .unwrap_or_default();
    page(
        "risk_entity.html",
        &headers,
        &who,
        context! {
            name => entity.name, uscc,
            latest => Value::from_serialize(latest),
            class_name, reasons,
            probability => latest.map(|l| percent(l.probability)).unwrap_or_default(),
            history => Value::from_serialize(&history),
        },
    )
}

async fn risk_model_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let Some(view) = risk_views::model(&state, &who).await? else {
        return page(
            "risk_model.html",
            &headers,
            &who,
            context! { model => Value::from(()) },
        );
    };
    let lang = Lang::of(&headers);
    let report = &view.report;
    let metric_row = |name: &str,
                      facts: &risk::sample::SampleFacts,
                      m: Option<&scoring::metrics::Summary>| {
        context! {
            name, as_of => facts.as_of.to_string(), labelled => facts.labelled, bad => facts.bad,
            auc => m.map(|m| format!("{:.3}", m.auc)).unwrap_or_default(),
            ks => m.map(|m| format!("{:.3}", m.ks)).unwrap_or_default(),
            gini => m.map(|m| format!("{:.3}", m.gini)).unwrap_or_default(),
        }
    };
    let metrics = vec![
        metric_row("training", &report.training, Some(&report.training_metrics)),
        metric_row(
            "hold-out",
            &report.validation,
            report.validation_metrics.as_ref(),
        ),
    ];
    let t = &report.training;
    let selection = format!(
        "{} / {} · {:.1} / {:.1}",
        t.with_complaints_labelled,
        t.labelled - t.with_complaints_labelled,
        t.weight_with_complaints,
        t.weight_without_complaints
    );
    let features: Vec<Value> = report
        .validation_report
        .features
        .iter()
        .map(|f| {
            let label = risk::V4.feature(&f.name).map_or(f.label.clone(), |d| {
                if lang == Lang::Zh {
                    d.label_zh.to_string()
                } else {
                    d.label_en.to_string()
                }
            });
            let bins: Vec<Value> = f
                .bins
                .iter()
                .map(|b| {
                    context! {
                        label => b.label, points => b.points, woe => format!("{:.3}", b.woe),
                        training_share => percent(b.training_share), share => percent(b.share),
                        event_rate => b.event_rate.map(percent).unwrap_or_default(),
                    }
                })
                .collect();
            context! {
                label, iv => format!("{:.3}", f.training_iv), psi => format!("{:.3}", f.psi),
                coefficient => format!("{:.3}", f.coefficient), bins,
            }
        })
        .collect();
    let challenger: Vec<Value> = report
        .challenger
        .iter()
        .flat_map(|side| {
            [
                ("risk_scorecard", &side.scorecard),
                ("risk_challenger", &side.challenger),
            ]
        })
        .map(|(key, s)| {
            context! {
                key, auc => format!("{:.3}", s.summary.auc), ks => format!("{:.3}", s.summary.ks),
                brier => format!("{:.4}", s.brier), calibration => format!("{:.4}", s.calibration_error),
                top_decile => percent(s.top_decile_event_rate),
            }
        })
        .collect();
    page(
        "risk_model.html",
        &headers,
        &who,
        context! {
            model => context! { version => view.version, created_at => view.created_at, as_of => view.as_of },
            metrics, selection, features, challenger,
            challenger_problem => report.challenger_problem,
            dropped => Value::from_serialize(&view.model.dropped),
        },
    )
}

async fn risk_screen_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    who: Principal,
) -> PageResult {
    let job = risk_views::job(&state, &who).await?;
    let lang = Lang::of(&headers);
    let phase = job
        .phase
        .map(|p| {
            let key = match p {
                risk::screen::Phase::Features => "risk_phase_features",
                risk::screen::Phase::Scoring => "risk_phase_scoring",
                risk::screen::Phase::Storing => "risk_phase_storing",
            };
            messages(lang).get(key).cloned().unwrap_or_default()
        })
        .unwrap_or_default();
    page(
        "risk_screen.html",
        &headers,
        &who,
        context! { job => Value::from_serialize(&job), phase, can_rescreen => allows(&who, Action::Rescreen) },
    )
}

async fn risk_screen_submit(
    State(state): State<Shared>,
    who: Principal,
    CheckedForm(_): CheckedForm<CsrfForm>,
) -> PageResult {
    risk_views::start_screening(&state, &who, chrono::Utc::now()).await?;
    Ok(Redirect::to("/risk/screen").into_response())
}

crate::http::routes! {
    pub fn routes, const PATHS;
    "/risk" => get(risk_page),
    "/risk/list" => get(risk_list_page),
    "/risk/entity/{uscc}" => get(risk_entity_page),
    "/risk/model" => get(risk_model_page),
    "/risk/screen" => get(risk_screen_page).post(risk_screen_submit),
}
