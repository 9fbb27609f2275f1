//! Reaching enterprises, for pages and API alike: the cultivation pool (the
//! credit centre's rule, members with the checks that admitted them), key
//! enterprises a regulator pushes to banks and the banks' answers, visits
//! and their first loans, and settlement-account filings with the time to
//! opening. Each function checks who may act and audits what changes.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::catalog::Category;
use finance::pool::{self, PoolFacts, PoolRule};
use serde::{Deserialize, Serialize};
use store::{AccountFilingRow, KeyEnterpriseRow, KeyPushRow, VisitRow};

use crate::AppState;
use crate::access::bank_of;
use crate::access::{Action, Principal, allows};
use crate::http::Failure;
use crate::http::forms::at_most;
use crate::service::{audit_read, require};

fn day(text: &str, what: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::BadRequest(format!("{what} '{text}' is not a date (YYYY-MM-DD)")))
}

async fn entity_name(state: &AppState, uscc: &str) -> Result<String, Failure> {
    state
        .store
        .entity(uscc)
        .await?
        .map(|e| e.name)
        .ok_or_else(|| Failure::BadRequest(format!("{uscc} is not in the registry")))
}

async fn names_of(state: &AppState, codes: &[&str]) -> Result<BTreeMap<String, String>, Failure> {
    Ok(crate::finance::service::entities_by_code(state, codes)
        .await?
        .into_iter()
        .map(|(code, e)| (code, e.name))
        .collect())
}

// ---------------------------------------------------------------- the pool

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolMember {
    pub uscc: String,
    pub name: String,
    pub admitted_at: String,
    #[schema(value_type = Vec<Object>)]
    pub checks: serde_json::Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PoolView {
    #[schema(value_type = Object)]
    pub rule: PoolRule,
    pub version: Option<i64>,
    pub set_at: Option<String>,
    pub members: Vec<PoolMember>,
}

/// Whether `who` sees the pool: the credit centre and regulators, and a
/// bank with a published product for pool members.
async fn may_see_pool(state: &AppState, who: &Principal) -> Result<bool, Failure> {
    if allows(who, Action::ManagePool) || allows(who, Action::ViewFinanceStatistics) {
        return Ok(true);
    }
    let Some(bank) = bank_of(who) else {
        return Ok(false);
    };
    for product in state.store.products().await? {
        if product.bank == bank && product.state == "published" {
            let eligibility: finance::matching::Eligibility =
                serde_json::from_str(&product.eligibility).unwrap_or_default();
            if eligibility.pool_only {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The pool: its rule and members. The credit centre and regulators see
/// every member's checks; a bank sees who is a member, and the checks (the
/// financing grade, tax paid, headcount) only of members that granted it
/// `credit_profile`, as the credit report would. Audited, with how many
/// members' checks were shown.
pub async fn pool(
    state: &AppState,
    who: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PoolView, Failure> {
    if !may_see_pool(state, who).await? {
        require(state, who, Action::ManagePool, "pool").await?;
    }
    let in_full = allows(who, Action::ManagePool) || allows(who, Action::ViewFinanceStatistics);
    let granted = match (in_full, bank_of(who)) {
        (false, Some(bank)) => credit_profile_granted(state, bank, now).await?,
        _ => std::collections::BTreeSet::new(),
    };
    let stored = state.store.pool_rule().await?;
    let rule = match &stored {
        Some(row) => serde_json::from_str(&row.rule)
            .map_err(|e| Failure::Internal(format!("pool rule {}: {e}", row.version)))?,
        None => PoolRule::default(),
    };
    let rows = state.store.pool_members().await?;
    let codes: Vec<&str> = rows.iter().map(|m| m.uscc.as_str()).collect();
    let names = names_of(state, &codes).await?;
    let members: Vec<PoolMember> = rows
        .iter()
        .map(|m| PoolMember {
            name: names.get(&m.uscc).cloned().unwrap_or_default(),
            uscc: m.uscc.clone(),
            admitted_at: m.admitted_at.clone(),
            checks: if in_full || granted.contains(&m.uscc) {
                serde_json::from_str(&m.checks).unwrap_or_default()
            } else {
                serde_json::Value::Array(Vec::new())
            },
        })
        .collect();
    let shown = if in_full {
        members.len()
    } else {
        members.iter().filter(|m| granted.contains(&m.uscc)).count()
    };
    state
        .audit(
            &who.actor,
            "view_pool",
            "pool",
            "ok",
            serde_json::json!({"members": members.len(), "checks_shown": shown}),
        )
        .await?;
    Ok(PoolView {
        rule,
        version: stored.as_ref().map(|r| r.version),
        set_at: stored.map(|r| r.set_at),
        members,
    })
}

/// The enterprises whose live grants let `bank` read their credit profile
/// now, each decided by `finance::consent::check` as a report read is.
async fn credit_profile_granted(
    state: &AppState,
    bank: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<std::collections::BTreeSet<String>, Failure> {
    let needs = std::collections::BTreeSet::from([finance::consent::Scope::CreditProfile]);
    let mut by_enterprise: BTreeMap<String, Vec<finance::consent::Authorisation>> = BTreeMap::new();
    for row in state.store.authorisations_to(bank).await? {
        let grant = crate::finance::service::authorisation_of(&row)?;
        by_enterprise.entry(row.enterprise).or_default().push(grant);
    }
    Ok(by_enterprise
        .into_iter()
        .filter(|(enterprise, grants)| {
            let access = finance::consent::Access {
                bank,
                enterprise,
                application: None,
                needs: &needs,
                now,
            };
            finance::consent::check(grants, &access).allowed()
        })
        .map(|(enterprise, _)| enterprise)
        .collect())
}

/// Sets the pool's rule and selects its members anew from every graded,
/// operating enterprise; returns the rule's version and the member count.
/// Audited.
pub async fn set_pool_rule(
    state: &AppState,
    who: &Principal,
    rule: &PoolRule,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(i64, usize), Failure> {
    require(state, who, Action::ManagePool, "pool").await?;
    if rule.min_tax_paid < 0.0 || !rule.min_tax_paid.is_finite() {
        return Err(Failure::BadRequest(
            "the least tax paid is a number, not negative".into(),
        ));
    }
    let members = select_pool(&state.store, &state.catalog, rule, now).await?;
    let count = members.len();
    let rule_text = serde_json::to_string(rule).map_err(|e| Failure::Internal(e.to_string()))?;
    let version = state
        .store
        .replace_pool(&rule_text, &crate::stamp(now), &who.actor, members)
        .await?;
    state
        .audit(
            &who.actor,
            "pool_rule_set",
            "pool",
            "ok",
            serde_json::json!({"version": version, "rule": rule, "members": count}),
        )
        .await?;
    Ok((version, count))
}

/// The members a rule selects from every graded, operating enterprise, each
/// with its checks as JSON. Used by the page and API, and by the demo.
pub async fn select_pool(
    store: &store::Store,
    catalog: &domain::Catalog,
    rule: &PoolRule,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, String)>, Failure> {
    let today = now.date_naive();
    let today_text = today.to_string();
    // Penalties and lists in their publicity periods, per enterprise.
    let listed_items: Vec<&domain::catalog::Item> = catalog
        .items
        .iter()
        .filter(|i| matches!(i.category, Category::Penalty | Category::List))
        .collect();
    let ids: Vec<&str> = listed_items.iter().map(|i| i.id.as_str()).collect();
    let mut penalties: BTreeMap<String, u32> = BTreeMap::new();
    for (uscc, item, until) in store.events_of_items(&ids).await? {
        let Some(item) = catalog.item(&item) else {
            continue;
        };
        if crate::registry::service::published_until(item, until.as_deref(), &today_text) {
            *penalties.entry(uscc).or_default() += 1;
        }
    }
    let mut members = Vec::new();
    for candidate in store.pool_candidates().await? {
        let facts = PoolFacts {
            grade: crate::finance::service::grade_of(&candidate.grade),
            age_years: NaiveDate::parse_from_str(&candidate.established_on, "%Y-%m-%d")
                .ok()
                .and_then(|d| today.years_since(d))
                .unwrap_or(0),
            tax_paid_1y: candidate.tax_paid_1y.unwrap_or(0.0) / 10_000.0,
            headcount: candidate.employees.map_or(0, |e| e.max(0.0).round() as u32),
            section: domain::industry::division(&candidate.industry)
                .map_or(String::new(), |d| d.section.to_string()),
            published_penalties: penalties.get(&candidate.uscc).copied().unwrap_or(0),
        };
        let checks = pool::assess(rule, &facts);
        if pool::admitted(&checks) {
            let text =
                serde_json::to_string(&checks).map_err(|e| Failure::Internal(e.to_string()))?;
            members.push((candidate.uscc, text));
        }
    }
    Ok(members)
}

// ---------------------------------------------------------------- key enterprises

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PushView {
    #[schema(value_type = Object)]
    pub push: KeyPushRow,
    pub name: String,
    pub bank_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyEnterprises {
    /// The list itself (regulators, the credit centre).
    #[schema(value_type = Vec<Object>)]
    pub listed: Vec<KeyEnterpriseRow>,
    /// Every push for regulators and the credit centre; a bank's own for a bank.
    pub pushes: Vec<PushView>,
}

pub async fn key_enterprises(state: &AppState, who: &Principal) -> Result<KeyEnterprises, Failure> {
    let all =
        allows(who, Action::ManageKeyEnterprises) || allows(who, Action::ViewFinanceStatistics);
    let bank = bank_of(who);
    if !all && bank.is_none() {
        require(state, who, Action::ManageKeyEnterprises, "key_enterprises").await?;
    }
    audit_read(state, who, "view_key_enterprises", "").await?;
    let pushes = state
        .store
        .key_pushes(if all { None } else { bank })
        .await?;
    let codes: Vec<&str> = pushes.iter().map(|p| p.uscc.as_str()).collect();
    let names = names_of(state, &codes).await?;
    let banks: BTreeMap<String, String> = state
        .store
        .banks()
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    Ok(KeyEnterprises {
        listed: if all {
            state.store.key_enterprises().await?
        } else {
            Vec::new()
        },
        pushes: pushes
            .into_iter()
            .map(|push| PushView {
                name: names.get(&push.uscc).cloned().unwrap_or_default(),
                bank_name: banks.get(&push.bank).cloned().unwrap_or_default(),
                push,
            })
            .collect(),
    })
}

/// A regulator's listing of a key enterprise.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct KeyInput {
    pub uscc: String,
    #[serde(default)]
    pub note: String,
    /// Bank ids to push to; every bank when empty.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub banks: Vec<crate::finance::service::BankId>,
}

pub async fn push_key(
    state: &AppState,
    who: &Principal,
    input: &KeyInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, Failure> {
    require(state, who, Action::ManageKeyEnterprises, &input.uscc).await?;
    let uscc = crate::registry::service::parse_uscc(&input.uscc)?.to_string();
    entity_name(state, &uscc).await?;
    let known: Vec<String> = state
        .store
        .banks()
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let banks = if input.banks.is_empty() {
        known
    } else {
        if let Some(unknown) = input
            .banks
            .iter()
            .find(|b| !known.iter().any(|k| k == b.as_str()))
        {
            return Err(Failure::BadRequest(format!(
                "no bank '{}'",
                unknown.as_str()
            )));
        }
        input.banks.iter().map(|b| b.as_str().to_string()).collect()
    };
    let entry = KeyEnterpriseRow {
        uscc: uscc.clone(),
        note: at_most("the note", &input.note, 200)?,
        added_at: crate::stamp(now),
        added_by: who.actor.clone(),
    };
    state.store.push_key_enterprise(&entry, &banks).await?;
    state
        .audit(
            &who.actor,
            "key_enterprise_push",
            &uscc,
            "ok",
            serde_json::json!({"banks": banks.len()}),
        )
        .await?;
    Ok(banks.len())
}

/// A bank's answer to a push.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PushResponse {
    /// `contacted`, `credit_granted` or `declined`.
    pub response: String,
    /// 万元, for `credit_granted`.
    #[serde(default)]
    pub amount: Option<f64>,
}

pub async fn respond_push(
    state: &AppState,
    who: &Principal,
    uscc: &str,
    answer: &PushResponse,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, uscc).await?;
    let amount = match (answer.response.as_str(), answer.amount) {
        ("credit_granted", Some(a)) if a > 0.0 => Some(a),
        ("credit_granted", _) => {
            return Err(Failure::BadRequest(
                "credit granted: give the amount (万元)".into(),
            ));
        }
        ("contacted" | "declined", _) => None,
        (other, _) => {
            return Err(Failure::BadRequest(format!(
                "'{other}' is not contacted, credit_granted or declined"
            )));
        }
    };
    if !state
        .store
        .respond_to_push(
            uscc,
            bank,
            &answer.response,
            amount,
            &crate::stamp(now),
            &who.actor,
        )
        .await?
    {
        return Err(Failure::NotFound(format!("a push of {uscc} to your bank")));
    }
    state
        .audit(
            &who.actor,
            "key_enterprise_response",
            uscc,
            "ok",
            serde_json::json!({"bank": bank, "response": answer.response, "amount": amount}),
        )
        .await
}

// ---------------------------------------------------------------- visits

/// The organisation a visitor records for: their bank, or the credit centre.
fn organisation_of(who: &Principal) -> Option<String> {
    if let Some(bank) = bank_of(who) {
        return Some(bank.to_string());
    }
    allows(who, Action::RecordVisits).then(|| "credit_centre".to_string())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    #[schema(value_type = Object)]
    pub visit: VisitRow,
    pub name: String,
}

/// Visits: a bank's or the credit centre's own; every one for regulators
/// (and for the credit centre, which oversees the programme).
pub async fn visits(state: &AppState, who: &Principal) -> Result<Vec<VisitView>, Failure> {
    let all = allows(who, Action::ViewFinanceStatistics);
    let own = organisation_of(who);
    if !all && own.is_none() {
        require(state, who, Action::RecordVisits, "visits").await?;
    }
    audit_read(state, who, "view_visits", "").await?;
    let rows = state
        .store
        .visits(if all { None } else { own.as_deref() })
        .await?;
    let codes: Vec<&str> = rows.iter().map(|v| v.uscc.as_str()).collect();
    let names = names_of(state, &codes).await?;
    Ok(rows
        .into_iter()
        .map(|visit| VisitView {
            name: names.get(&visit.uscc).cloned().unwrap_or_default(),
            visit,
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    pub uscc: String,
    pub visitor: String,
    /// YYYY-MM-DD, not in the future.
    pub visited_on: String,
    pub needs: String,
    #[serde(default)]
    pub follow_up: String,
}

pub async fn record_visit(
    state: &AppState,
    who: &Principal,
    input: &VisitInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    require(state, who, Action::RecordVisits, &input.uscc).await?;
    let organisation = organisation_of(who).unwrap_or_default();
    let uscc = crate::registry::service::parse_uscc(&input.uscc)?.to_string();
    entity_name(state, &uscc).await?;
    let visited_on = day(&input.visited_on, "the visit date")?;
    if visited_on > now.date_naive() {
        return Err(Failure::BadRequest(
            "a visit cannot be in the future".into(),
        ));
    }
    if input.visitor.trim().is_empty() || input.needs.trim().is_empty() {
        return Err(Failure::BadRequest(
            "give the visitor and the needs found".into(),
        ));
    }
    let id = state
        .store
        .record_visit(&VisitRow {
            id: 0,
            uscc: uscc.clone(),
            visitor: at_most("the visitor", &input.visitor, 100)?,
            organisation,
            visited_on: visited_on.to_string(),
            needs: at_most("the needs found", &input.needs, 500)?,
            follow_up: at_most("the follow-up", &input.follow_up, 500)?,
            first_loan: "unknown".into(),
            recorded_at: crate::stamp(now),
            recorded_by: who.actor.clone(),
        })
        .await?;
    state
        .audit(
            &who.actor,
            "visit_record",
            &uscc,
            "ok",
            serde_json::json!({"visit": id}),
        )
        .await?;
    Ok(id)
}

/// Records whether the visited enterprise got its first loan (`yes`/`no`).
pub async fn set_first_loan(
    state: &AppState,
    who: &Principal,
    id: i64,
    first_loan: &str,
) -> Result<(), Failure> {
    require(state, who, Action::RecordVisits, &format!("visit:{id}")).await?;
    if !matches!(first_loan, "yes" | "no") {
        return Err(Failure::BadRequest("first loan is yes or no".into()));
    }
    let organisation = organisation_of(who).unwrap_or_default();
    if !state
        .store
        .set_first_loan(id, &organisation, first_loan)
        .await?
    {
        return Err(Failure::NotFound(format!("visit {id} of yours")));
    }
    state
        .audit(
            &who.actor,
            "visit_first_loan",
            &format!("visit:{id}"),
            "ok",
            serde_json::json!({"first_loan": first_loan}),
        )
        .await
}

// ---------------------------------------------------------------- account filings

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingView {
    #[schema(value_type = Object)]
    pub filing: AccountFilingRow,
    pub name: String,
    /// Days from application to opening, once opened.
    pub days_to_open: Option<i64>,
}

fn days_between(from: &str, to: Option<&str>) -> Option<i64> {
    let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").ok()?;
    let to = NaiveDate::parse_from_str(to?, "%Y-%m-%d").ok()?;
    Some((to - from).num_days())
}

/// Filings: a bank's own; every one for the credit centre and regulators.
pub async fn filings(state: &AppState, who: &Principal) -> Result<Vec<FilingView>, Failure> {
    let all = allows(who, Action::ViewFinanceStatistics);
    let bank = bank_of(who);
    if !all && bank.is_none() {
        require(
            state,
            who,
            Action::ActAsBank { bank: "" },
            "account_filings",
        )
        .await?;
    }
    audit_read(state, who, "view_account_filings", "").await?;
    let rows = state
        .store
        .account_filings(if all { None } else { bank })
        .await?;
    let codes: Vec<&str> = rows.iter().map(|f| f.uscc.as_str()).collect();
    let names = names_of(state, &codes).await?;
    Ok(rows
        .into_iter()
        .map(|filing| FilingView {
            name: names.get(&filing.uscc).cloned().unwrap_or_default(),
            days_to_open: days_between(&filing.applied_on, filing.opened_on.as_deref()),
            filing,
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct FilingInput {
    pub uscc: String,
    /// When the enterprise applied for the account, YYYY-MM-DD.
    pub applied_on: String,
}

pub async fn file_account(
    state: &AppState,
    who: &Principal,
    input: &FilingInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, &input.uscc).await?;
    let uscc = crate::registry::service::parse_uscc(&input.uscc)?.to_string();
    entity_name(state, &uscc).await?;
    let applied_on = day(&input.applied_on, "the application date")?;
    if applied_on > now.date_naive() {
        return Err(Failure::BadRequest(
            "an application cannot be in the future".into(),
        ));
    }
    let id = state
        .store
        .file_account(&AccountFilingRow {
            id: 0,
            uscc: uscc.clone(),
            bank: bank.to_string(),
            applied_on: applied_on.to_string(),
            opened_on: None,
            filed_at: crate::stamp(now),
            filed_by: who.actor.clone(),
        })
        .await?;
    state
        .audit(
            &who.actor,
            "account_file",
            &uscc,
            "ok",
            serde_json::json!({"filing": id, "bank": bank}),
        )
        .await?;
    Ok(id)
}

/// Records that a filed account opened, on or after its application.
pub async fn open_account(
    state: &AppState,
    who: &Principal,
    id: i64,
    opened_on: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(
        state,
        who,
        Action::ActAsBank { bank },
        &format!("filing:{id}"),
    )
    .await?;
    let opened = day(opened_on, "the opening date")?;
    let filing = state
        .store
        .account_filings(Some(bank))
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| Failure::NotFound(format!("filing {id} of your bank")))?;
    let applied = day(&filing.applied_on, "the stored application date")?;
    if opened < applied || opened > now.date_naive() {
        return Err(Failure::BadRequest(format!(
            "the account opens between its application ({applied}) and today"
        )));
    }
    if !state
        .store
        .open_account(id, bank, &opened.to_string())
        .await?
    {
        return Err(Failure::BadRequest(format!(
            "filing {id} is opened already"
        )));
    }
    state
        .audit(
            &who.actor,
            "account_open",
            &filing.uscc,
            "ok",
            serde_json::json!({"filing": id, "days": (opened - applied).num_days()}),
        )
        .await
}

// ---------------------------------------------------------------- statistics

/// Pool, key-enterprise, visit and account-opening figures.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct OutreachStatistics {
    pub pool_members: u64,
    /// Pool members with a loan paid out.
    pub pool_members_with_loans: u64,
    pub key_pushes: u64,
    pub key_contacted: u64,
    pub key_credit_granted: u64,
    /// 万元
    pub key_amount: f64,
    pub visits: u64,
    /// Visits whose first-loan outcome is known, and those that led to one.
    pub visits_decided: u64,
    pub visits_first_loan: u64,
    pub first_loan_rate: Option<f64>,
    pub accounts_filed: u64,
    pub accounts_opened: u64,
    pub mean_days_to_open: Option<f64>,
}

/// The figures, given every application (the statistics have read them).
pub async fn outreach_statistics(
    state: &AppState,
    applications: &[store::ApplicationRow],
) -> Result<OutreachStatistics, Failure> {
    let members = state.store.pool_members().await?;
    let borrowers: std::collections::BTreeSet<&str> = applications
        .iter()
        .filter(|a| a.disbursed_on.is_some())
        .map(|a| a.enterprise.as_str())
        .collect();
    let pushes = state.store.key_pushes(None).await?;
    let visits = state.store.visits(None).await?;
    let filings = state.store.account_filings(None).await?;
    let days: Vec<i64> = filings
        .iter()
        .filter_map(|f| days_between(&f.applied_on, f.opened_on.as_deref()))
        .collect();
    let decided = visits.iter().filter(|v| v.first_loan != "unknown").count() as u64;
    let first = visits.iter().filter(|v| v.first_loan == "yes").count() as u64;
    Ok(OutreachStatistics {
        pool_members: members.len() as u64,
        pool_members_with_loans: members
            .iter()
            .filter(|m| borrowers.contains(m.uscc.as_str()))
            .count() as u64,
        key_pushes: pushes.len() as u64,
        key_contacted: pushes.iter().filter(|p| p.response != "pending").count() as u64,
        key_credit_granted: pushes
            .iter()
            .filter(|p| p.response == "credit_granted")
            .count() as u64,
        key_amount: pushes.iter().filter_map(|p| p.amount).sum(),
        visits: visits.len() as u64,
        visits_decided: decided,
        visits_first_loan: first,
        first_loan_rate: (decided > 0).then(|| first as f64 / decided as f64),
        accounts_filed: filings.len() as u64,
        accounts_opened: days.len() as u64,
        mean_days_to_open: (!days.is_empty())
            .then(|| days.iter().sum::<i64>() as f64 / days.len() as f64),
    })
}
