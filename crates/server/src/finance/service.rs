//! What the financing pages and API show and do, once for both:
//! registration of enterprises, authorisations and the access log, credit
//! reports under consent, products, demands with matching, and
//! applications through their states. Each function says what it checks
//! and what it audits; the rules themselves are the `finance` crate's.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, Utc};
use domain::Uscc;
use domain::catalog::Publicity;
use finance::consent::{self, Access, Authorisation, Decision, Scope};
use finance::matching::{self, Demand, EnterpriseFacts, Grade, Product, RuleCheck};
use finance::report::{self, PaymentBehaviour, YearFigures};
use finance::workflow::{self, Party, State};
use serde::{Deserialize, Serialize};
use store::{
    AccessRow, ApplicationEventRow, ApplicationParty, ApplicationRow, AuthorisationRow, BankRow,
    DemandRow, EntityRow, LoanOutcome, NewAuditEntry, ProductRow,
};

use crate::AppState;
use crate::access::{Action, Principal, allows, bank_of, enterprise_of};
use crate::http::Failure;
use crate::registry::service::TimelineEvent;
use crate::service::{audit_read, require};

/// The most rows a list returns.
const LIST_LIMIT: i64 = 500;

fn parse_time(text: &str, what: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Failure::Internal(format!("stored {what} '{text}' is not a time")))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The scope as stored: groups joined by `;`.
fn scope_text(scope: &BTreeSet<Scope>) -> String {
    scope
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// Parses groups given as text; an unknown group is the asker's mistake.
pub fn parse_scope<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<Scope>, Failure> {
    let mut scope = BTreeSet::new();
    for text in texts
        .into_iter()
        .flat_map(|t| t.split([';', ',']))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let group = Scope::parse(text).ok_or_else(|| {
            let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            Failure::BadRequest(format!(
                "unknown group '{text}' (groups: {})",
                names.join(", ")
            ))
        })?;
        scope.insert(group);
    }
    Ok(scope)
}

pub(crate) fn authorisation_of(row: &AuthorisationRow) -> Result<Authorisation, Failure> {
    Ok(Authorisation {
        id: row.id,
        enterprise: row.enterprise.clone(),
        bank: row.bank.clone(),
        application: row.application_id,
        scope: parse_scope([row.scope.as_str()])
            .map_err(|_| Failure::Internal(format!("grant {}: damaged scope", row.id)))?,
        purpose: row.purpose.clone(),
        granted_at: parse_time(&row.granted_at, "grant time")?,
        expires_at: parse_time(&row.expires_at, "expiry")?,
        revoked_at: row
            .revoked_at
            .as_deref()
            .map(|t| parse_time(t, "revocation time"))
            .transpose()?,
    })
}

async fn bank_names(state: &AppState) -> Result<BTreeMap<String, String>, Failure> {
    Ok(state
        .store
        .banks()
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect())
}

// ---------------------------------------------------------------- consents

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    #[schema(value_type = Object)]
    pub grant: AuthorisationRow,
    pub bank_name: String,
    pub scope: Vec<String>,
    /// `live`, `expired` or `revoked`.
    pub status: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessView {
    #[schema(value_type = Object)]
    pub access: AccessRow,
    pub bank_name: String,
}

/// An enterprise's grants and every read of its data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Consents {
    pub uscc: String,
    pub grants: Vec<GrantView>,
    pub accesses: Vec<AccessView>,
    #[schema(value_type = Vec<Object>)]
    pub banks: Vec<BankRow>,
    pub groups: Vec<String>,
}

pub async fn consents(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Consents, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    audit_read(state, who, "view_consents", uscc).await?;
    let names = bank_names(state).await?;
    let name = |bank: &str| names.get(bank).cloned().unwrap_or_else(|| bank.to_string());
    let current = now;
    let mut grants = Vec::new();
    for row in state.store.authorisations_of(uscc).await? {
        let grant = authorisation_of(&row)?;
        let status = if grant.revoked_at.is_some_and(|r| r <= current) {
            "revoked"
        } else if grant.is_live(current) {
            "live"
        } else {
            "expired"
        };
        grants.push(GrantView {
            bank_name: name(&row.bank),
            scope: grant.scope.iter().map(|s| s.as_str().to_string()).collect(),
            status: status.to_string(),
            grant: row,
        });
    }
    let accesses = state
        .store
        .accesses_of(uscc, LIST_LIMIT)
        .await?
        .into_iter()
        .map(|access| AccessView {
            bank_name: name(&access.bank),
            access,
        })
        .collect();
    Ok(Consents {
        uscc: uscc.to_string(),
        grants,
        accesses,
        banks: state.store.banks().await?,
        groups: Scope::ALL.iter().map(|s| s.as_str().to_string()).collect(),
    })
}

/// A bank's id as a request names it (`1`, `boc-fs`): 1 to 32 letters,
/// digits, `-` or `_`, parsed at the edge; whether the bank exists is the
/// service's check against the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BankId(String);

impl TryFrom<String> for BankId {
    type Error = String;

    fn try_from(text: String) -> Result<BankId, String> {
        let text = text.trim();
        let fits = (1..=32).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if fits {
            Ok(BankId(text.to_string()))
        } else {
            Err(format!("'{text}' is not a bank id"))
        }
    }
}

impl From<BankId> for String {
    fn from(id: BankId) -> String {
        id.0
    }
}

impl BankId {
    pub fn parse(text: &str) -> Result<BankId, Failure> {
        BankId::try_from(text.to_string()).map_err(Failure::BadRequest)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A grant as an enterprise gives it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct GrantInput {
    #[schema(value_type = String)]
    pub bank: BankId,
    /// Groups: registration, tax, social_insurance, utilities,
    /// penalties_and_lists, court, intellectual_property, credit_profile.
    pub scope: Vec<String>,
    pub purpose: String,
    /// Days the grant lasts, 1 to 366; or give `expires_at`.
    #[serde(default)]
    pub days: Option<i64>,
    /// The instant the grant ends (RFC 3339), within 366 days.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// For one application only.
    #[serde(default)]
    pub application: Option<i64>,
}

/// Stores an enterprise's grant to a bank; audited.
pub async fn grant(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    input: &GrantInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    if let Some(id) = input.application {
        let application = state.store.application(id).await?;
        if application.is_none_or(|a| a.enterprise != uscc || a.bank != input.bank.as_str()) {
            return Err(Failure::BadRequest(format!(
                "application {id} is not yours with this bank"
            )));
        }
    }
    let mut row = grant_row(state, who, uscc, input, now).await?;
    row.id = state.store.reserve_ids("authorisations", 1).await?;
    state
        .store
        .grant_authorisation_audited(&row, &grant_audit(who, &row))
        .await?;
    Ok(row.id)
}

/// The audit entry of a grant, written with it.
fn grant_audit<'a>(who: &'a Principal, row: &'a AuthorisationRow) -> NewAuditEntry<'a> {
    NewAuditEntry {
        actor: &who.actor,
        action: "consent_grant",
        subject: &row.enterprise,
        outcome: "ok",
        detail: serde_json::json!({"grant": row.id, "bank": row.bank, "scope": row.scope,
            "expires_at": row.expires_at, "application": row.application_id}),
    }
}

/// A grant as asked for, checked (scope, expiry, purpose, bank); its id is
/// the caller's to reserve.
async fn grant_row(
    state: &AppState,
    who: &Principal,
    uscc: &str,
    input: &GrantInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<AuthorisationRow, Failure> {
    let scope = parse_scope(input.scope.iter().map(String::as_str))?;
    if scope.is_empty() {
        return Err(Failure::BadRequest("choose at least one group".into()));
    }
    let granted_at = now;
    let expires_at = match (input.days, input.expires_at.as_deref()) {
        (Some(days), None) if (1..=366).contains(&days) => granted_at + Duration::days(days),
        (None, Some(text)) => {
            let at = DateTime::parse_from_rfc3339(text.trim())
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Failure::BadRequest(format!("expires_at '{text}' is not an RFC 3339 time"))
                })?;
            if at <= granted_at || at > granted_at + Duration::days(366) {
                return Err(Failure::BadRequest(
                    "a grant expires after now and within 366 days".into(),
                ));
            }
            at
        }
        _ => {
            return Err(Failure::BadRequest(
                "give days (1 to 366) or expires_at, not both".into(),
            ));
        }
    };
    let purpose = input.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(Failure::BadRequest(
            "give the purpose, at most 200 characters".into(),
        ));
    }
    if !state
        .store
        .banks()
        .await?
        .iter()
        .any(|b| b.id == input.bank.as_str())
    {
        return Err(Failure::BadRequest(format!(
            "no bank '{}'",
            input.bank.as_str()
        )));
    }
    Ok(AuthorisationRow {
        id: 0,
        enterprise: uscc.to_string(),
        bank: input.bank.as_str().to_string(),
        application_id: input.application,
        scope: scope_text(&scope),
        purpose: purpose.to_string(),
        granted_at: rfc3339(granted_at),
        granted_by: who.actor.clone(),
        expires_at: rfc3339(expires_at),
        revoked_at: None,
        revoked_by: None,
    })
}

/// Revokes an enterprise's own grant, from this instant; audited.
pub async fn revoke(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    let audit = NewAuditEntry {
        actor: &who.actor,
        action: "consent_revoke",
        subject: uscc,
        outcome: "ok",
        detail: serde_json::json!({"grant": id}),
    };
    let revoked = state
        .store
        .revoke_authorisation_audited(id, uscc, &crate::stamp(now), &who.actor, Some(&audit))
        .await?;
    if !revoked {
        return Err(Failure::NotFound(format!("a live grant {id} of yours")));
    }
    Ok(())
}

// ---------------------------------------------------------------- credit report

/// What a bank asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct ReportRequest {
    /// The application the report is for, if any.
    pub application: Option<i64>,
    /// Groups wanted, `,` between; all the live grant covers when absent.
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentSection {
    pub name_zh: String,
    pub name_en: String,
    pub group: String,
    #[schema(value_type = Object)]
    pub behaviour: PaymentBehaviour,
}

/// A credit report: the authorised groups only. The enterprise's own copy
/// ([`own_credit`]) has every group, and no number, bank or authorisation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreditReport {
    /// Empty on the enterprise's own copy.
    pub number: String,
    pub generated_at: String,
    /// Empty on the enterprise's own copy.
    pub bank: String,
    pub bank_name: String,
    pub authorisation: Option<i64>,
    pub application: Option<i64>,
    pub scope: Vec<String>,
    pub uscc: String,
    pub name: String,
    /// Registry basics, when `registration` is in scope.
    #[schema(value_type = Option<Object>)]
    pub registry: Option<EntityRow>,
    pub division_name: String,
    pub industry_name: String,
    /// The registry's codes by name, in both languages.
    pub names: RegistryNames,
    /// The years the report covers.
    pub years: Vec<i64>,
    pub payments: Vec<PaymentSection>,
    /// Records per group, newest first: penalties and lists only within
    /// their publicity periods.
    pub records: BTreeMap<String, Vec<TimelineEvent>>,
    /// The financing score and grade, when `credit_profile` is in scope and
    /// the enterprise has been graded.
    pub profile: Option<CreditProfile>,
}

/// A name in both languages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Named {
    pub zh: String,
    pub en: String,
}

impl Named {
    /// The names of a code, or the code itself in both when it has none.
    fn of(code: &str, names: Option<(&str, &str)>) -> Named {
        let (zh, en) = names.unwrap_or((code, code));
        Named {
            zh: zh.to_string(),
            en: en.to_string(),
        }
    }
}

/// The report's registry codes by name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistryNames {
    pub entity_type: Named,
    pub status: Named,
    pub division: Named,
    pub industry: Named,
}

/// The platform's financing score of an enterprise, with its reasons.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreditProfile {
    pub score: i64,
    /// A (best) to D.
    pub grade: String,
    /// Estimated probability that a loan goes overdue or defaults.
    pub probability: f64,
    pub model_version: String,
    pub as_of: String,
    #[schema(value_type = Vec<Object>)]
    pub reasons: Vec<crate::risk::service::ReasonView>,
}

/// Produces a credit report for a bank, after checking the enterprise's
/// consent with `finance::consent::check`. Every request, allowed or
/// denied, goes to the access log the enterprise sees and to the audit
/// log; a denial tells the bank why.
pub async fn credit_report(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    request: &ReportRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<CreditReport, Failure> {
    let uscc = uscc.as_str();
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, uscc).await?;
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    let grants: Vec<Authorisation> = state
        .store
        .authorisations_of(uscc)
        .await?
        .iter()
        .map(authorisation_of)
        .collect::<Result<_, _>>()?;
    let current = now;
    let needs = match request.scope.as_deref() {
        Some(text) if !text.trim().is_empty() => parse_scope([text])?,
        // Everything the live grant for this request covers; without one,
        // every group, and the check says why not.
        _ => grants
            .iter()
            .filter(|g| {
                g.bank == bank
                    && g.is_live(current)
                    && g.application.is_none_or(|a| Some(a) == request.application)
            })
            .max_by_key(|g| g.granted_at)
            .map_or_else(|| Scope::ALL.into_iter().collect(), |g| g.scope.clone()),
    };
    let decision = consent::check(
        &grants,
        &Access {
            bank,
            enterprise: uscc,
            application: request.application,
            needs: &needs,
            now: current,
        },
    );
    let names = bank_names(state).await?;
    let bank_name = names.get(bank).cloned().unwrap_or_else(|| bank.to_string());
    let authorisation = match &decision {
        Decision::Allowed { authorisation } => Some(*authorisation),
        _ => None,
    };
    let number = match authorisation {
        Some(_) => Some(report::report_number(
            current.date_naive(),
            bank,
            &crate::secrets::random_hex(4).map_err(|e| Failure::Internal(e.to_string()))?,
        )),
        None => None,
    };
    let purpose = authorisation
        .and_then(|id| grants.iter().find(|g| g.id == id))
        .map_or(String::new(), |g| g.purpose.clone());
    let outcome = if decision.allowed() {
        "allowed"
    } else {
        "denied"
    };
    state
        .store
        .record_access(&AccessRow {
            id: 0,
            at: rfc3339(current),
            bank: bank.to_string(),
            actor: who.actor.clone(),
            enterprise: uscc.to_string(),
            application_id: request.application,
            scope: scope_text(&needs),
            purpose,
            outcome: outcome.to_string(),
            reason: decision.reason(),
            authorisation_id: authorisation,
            report_number: number.clone(),
        })
        .await?;
    state
        .audit(
            &who.actor,
            "credit_report",
            uscc,
            if decision.allowed() { "ok" } else { "denied" },
            serde_json::json!({"bank": bank, "scope": scope_text(&needs), "reason": decision.reason(),
                "report": number, "application": request.application}),
        )
        .await?;
    let (Some(authorisation), Some(number)) = (authorisation, number) else {
        return Err(Failure::Refused(decision.reason()));
    };
    let score = match needs.contains(&Scope::CreditProfile) {
        true => state.store.financing_score(uscc).await?,
        false => None,
    };
    let mut report = assemble_report(state, entity, &needs, score, current).await?;
    report.number = number;
    report.bank = bank.to_string();
    report.bank_name = bank_name;
    report.authorisation = Some(authorisation);
    report.application = request.application;
    Ok(report)
}

/// What an enterprise sees of its own credit: the report a bank would
/// receive with every group authorised, and its financing grade with what
/// would raise it. The supervision class is not in either: classes are for
/// supervision and never shown to the entity (DOMAIN.md §5).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnCredit {
    pub report: CreditReport,
    /// What would raise the financing grade (`risk::improve`); `None`
    /// before the enterprise is graded.
    #[schema(value_type = Option<Object>)]
    pub outlook: Option<risk::improve::Outlook>,
}

/// The enterprise's own credit report and outlook; only the enterprise's
/// own accounts, and each read audited.
pub async fn own_credit(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    now: DateTime<Utc>,
) -> Result<OwnCredit, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    audit_read(state, who, "view_own_credit", uscc).await?;
    let score = state.store.financing_score(uscc).await?;
    let outlook = match score.as_ref().and_then(|s| s.outlook.as_deref()) {
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            Failure::Internal(format!("stored outlook of {uscc} is unreadable: {e}"))
        })?),
        None => None,
    };
    let all = Scope::ALL.into_iter().collect();
    let report = assemble_report(state, entity, &all, score, now).await?;
    Ok(OwnCredit { report, outlook })
}

/// The report's groups in `scope`, for no one yet: the caller fills in
/// the bank, the authorisation and the number. `score` is the enterprise's
/// financing score as the caller read it, shown when `credit_profile` is in
/// scope.
async fn assemble_report(
    state: &AppState,
    entity: EntityRow,
    scope: &BTreeSet<Scope>,
    score: Option<store::FinancingScoreRow>,
    at: DateTime<Utc>,
) -> Result<CreditReport, Failure> {
    let uscc = entity.uscc.clone();
    let today = at.date_naive();
    let today_text = today.to_string();
    let group_of = |item: &str| {
        state
            .catalog
            .item(item)
            .and_then(|i| report::scope_of(&i.department, i.category.as_str()))
    };
    let mut yearly: BTreeMap<String, Vec<YearFigures>> = BTreeMap::new();
    for row in state.store.summaries(&uscc).await? {
        yearly
            .entry(row.item.clone())
            .or_default()
            .push(YearFigures {
                year: row.year,
                records: row.records,
                amount: row.amount,
                flagged: row.flagged,
            });
    }
    let mut payments = Vec::new();
    for (item_id, years) in &yearly {
        let Some(item) = state.catalog.item(item_id) else {
            continue;
        };
        let Some(group) = group_of(item_id) else {
            continue;
        };
        let payment_group = matches!(
            group,
            Scope::Tax | Scope::SocialInsurance | Scope::Utilities
        );
        if !payment_group
            || !scope.contains(&group)
            || item.record != domain::catalog::RecordKind::Periodic
        {
            continue;
        }
        payments.push(PaymentSection {
            name_zh: item.name_zh.clone(),
            name_en: item.name_en.clone(),
            group: group.as_str().to_string(),
            behaviour: report::payment_behaviour(item_id, years, today.year() as i64),
        });
    }
    let mut records: BTreeMap<String, Vec<TimelineEvent>> = BTreeMap::new();
    for event in state.store.events(&uscc).await?.into_iter().rev() {
        let Some(item) = state.catalog.item(&event.item) else {
            continue;
        };
        let Some(group) = group_of(&event.item) else {
            continue;
        };
        // Repaired, or replaced by its correction: no longer shared.
        if !scope.contains(&group) || event.withdrawn.is_some() {
            continue;
        }
        let limited = matches!(
            item.publicity,
            Publicity::PenaltyPeriod { .. } | Publicity::WhileListed { .. }
        );
        if limited && !crate::registry::service::published(item, &event, &today_text) {
            continue;
        }
        records
            .entry(group.as_str().to_string())
            .or_default()
            .push(crate::registry::service::timeline_event(Some(item), event));
    }
    let profile = match scope.contains(&Scope::CreditProfile) {
        true => score.map(|s| CreditProfile {
            score: s.score,
            grade: s.grade,
            probability: s.probability,
            reasons: crate::risk::service::reasons(&s.reasons),
            model_version: s.model_version,
            as_of: s.as_of,
        }),
        false => None,
    };
    let names = RegistryNames {
        entity_type: Named::of(
            &entity.entity_type,
            domain::entity_type::names(&entity.entity_type),
        ),
        status: Named::of(
            &entity.status,
            domain::entity_type::status_names(&entity.status),
        ),
        division: Named::of(
            &entity.division,
            domain::division::lookup(&entity.division).map(|d| (d.name_zh, d.name_en)),
        ),
        industry: Named::of(
            &entity.industry,
            domain::industry::division(&entity.industry).map(|d| (d.name_zh, d.name_en)),
        ),
    };
    let division_name = names.division.zh.clone();
    let industry_name = names.industry.zh.clone();
    Ok(CreditReport {
        profile,
        number: String::new(),
        generated_at: rfc3339(at),
        bank: String::new(),
        bank_name: String::new(),
        authorisation: None,
        application: None,
        scope: scope.iter().map(|s| s.as_str().to_string()).collect(),
        uscc,
        name: entity.name.clone(),
        registry: scope.contains(&Scope::Registration).then_some(entity),
        division_name,
        industry_name,
        names,
        years: report::window(today.year() as i64).collect(),
        payments,
        records,
    })
}

// ---------------------------------------------------------------- products

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    #[schema(value_type = Object)]
    pub product: ProductRow,
    pub bank_name: String,
    #[schema(value_type = Object)]
    pub eligibility: matching::Eligibility,
}

fn product_of(row: &ProductRow) -> Result<Product, Failure> {
    Ok(Product {
        id: row.id,
        bank: row.bank.clone(),
        name: row.name.clone(),
        amount_min: row.amount_min,
        amount_max: row.amount_max,
        term_months_max: row.term_months_max.max(0) as u32,
        rate_min: row.rate_min,
        rate_max: row.rate_max,
        eligibility: serde_json::from_str(&row.eligibility).map_err(|e| {
            Failure::Internal(format!("product {}: damaged eligibility: {e}", row.id))
        })?,
    })
}

/// The products `who` may see: published ones for everyone, a bank's own
/// in every state, every one for the credit centre.
pub async fn products(state: &AppState, who: &Principal) -> Result<Vec<ProductView>, Failure> {
    let names = bank_names(state).await?;
    let reviewer = allows(who, Action::ReviewProducts);
    let own = bank_of(who);
    let mut out = Vec::new();
    for row in state.store.products().await? {
        if row.state != "published" && !reviewer && own != Some(row.bank.as_str()) {
            continue;
        }
        let eligibility = product_of(&row)?.eligibility;
        out.push(ProductView {
            bank_name: names
                .get(&row.bank)
                .cloned()
                .unwrap_or_else(|| row.bank.clone()),
            product: row,
            eligibility,
        });
    }
    Ok(out)
}

/// A product as a bank submits it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    pub name: String,
    /// 万元
    pub amount_min: f64,
    pub amount_max: f64,
    pub term_months_max: i64,
    /// % a year
    pub rate_min: f64,
    pub rate_max: f64,
    #[serde(default)]
    pub collateral: String,
    #[serde(default)]
    pub guarantee: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub eligibility: matching::Eligibility,
}

fn check_product(input: &ProductInput) -> Result<(), Failure> {
    let bad = |why: &str| Err(Failure::BadRequest(why.to_string()));
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        return bad("a product has a name of at most 100 characters");
    }
    if !(input.amount_min > 0.0 && input.amount_min <= input.amount_max) {
        return bad("the amount range must be positive, its minimum at most its maximum");
    }
    if !(1..=360).contains(&input.term_months_max) {
        return bad("the longest term is 1 to 360 months");
    }
    if !(input.rate_min > 0.0 && input.rate_min <= input.rate_max && input.rate_max < 36.0) {
        return bad("the rate range must be positive, its minimum at most its maximum, under 36 %");
    }
    let e = &input.eligibility;
    if let Some(section) = e.sections.iter().find(|s| {
        s.len() != 1
            || !s.chars().all(|c| c.is_ascii_uppercase())
            || domain::industry::section(s.chars().next().unwrap_or('?')).is_none()
    }) {
        return Err(Failure::BadRequest(format!(
            "'{section}' is not a GB/T 4754 section letter"
        )));
    }
    if let Some(district) = e
        .districts
        .iter()
        .find(|d| d.len() != 6 || !d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Failure::BadRequest(format!(
            "'{district}' is not a 6-digit district code"
        )));
    }
    if e.min_tax_paid < 0.0 {
        return bad("the minimum tax paid cannot be negative");
    }
    Ok(())
}

/// Submits a bank's product for the credit centre's approval; audited.
pub async fn create_product(
    state: &AppState,
    who: &Principal,
    input: &ProductInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, "product").await?;
    check_product(input)?;
    let eligibility =
        serde_json::to_string(&input.eligibility).map_err(|e| Failure::Internal(e.to_string()))?;
    let row = ProductRow {
        id: 0,
        bank: bank.to_string(),
        name: input.name.trim().to_string(),
        amount_min: input.amount_min,
        amount_max: input.amount_max,
        term_months_max: input.term_months_max,
        rate_min: input.rate_min,
        rate_max: input.rate_max,
        collateral: input.collateral.trim().to_string(),
        guarantee: input.guarantee.trim().to_string(),
        eligibility,
        state: "pending".into(),
        created_at: crate::stamp(now),
        created_by: who.actor.clone(),
        reviewed_at: None,
        reviewed_by: None,
    };
    let ids = state
        .store
        .create_products(std::slice::from_ref(&row))
        .await?;
    let id = ids.first().copied().unwrap_or_default();
    state
        .audit(
            &who.actor,
            "product_create",
            &format!("product:{id}"),
            "ok",
            serde_json::json!({"bank": bank, "name": row.name}),
        )
        .await?;
    Ok(id)
}

/// Approves, rejects, pauses or resumes a product. The credit centre does
/// all four; a bank pauses and resumes its own approved products.
pub async fn product_step(
    state: &AppState,
    who: &Principal,
    id: i64,
    step: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let subject = format!("product:{id}");
    let product = state.store.product(id).await?;
    let own = product
        .as_ref()
        .is_some_and(|p| allows(who, Action::ActAsBank { bank: &p.bank }));
    let (from, to, bank_may) = match step {
        "approve" => ("pending", "published", false),
        "reject" => ("pending", "rejected", false),
        "pause" => ("published", "paused", true),
        "resume" => ("paused", "published", true),
        other => return Err(Failure::NotFound(format!("no step '{other}'"))),
    };
    if !(allows(who, Action::ReviewProducts) || bank_may && own) {
        require(state, who, Action::ReviewProducts, &subject).await?;
    }
    let Some(product) = product else {
        return Err(Failure::NotFound(subject));
    };
    if !state
        .store
        .set_product_state(id, from, to, &crate::stamp(now), &who.actor)
        .await?
    {
        return Err(Failure::BadRequest(format!(
            "product {id} is {}, not {from}",
            product.state
        )));
    }
    state
        .audit(
            &who.actor,
            &format!("product_{step}"),
            &subject,
            "ok",
            serde_json::json!({"bank": product.bank}),
        )
        .await
}

// ---------------------------------------------------------------- demands and matching

/// A demand as an enterprise posts it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DemandInput {
    /// 万元
    pub amount: f64,
    pub term_months: i64,
    pub purpose: String,
    /// `normal` or `urgent`.
    #[serde(default = "normal")]
    pub urgency: String,
}

fn normal() -> String {
    "normal".into()
}

pub async fn post_demand(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    input: &DemandInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    if !(input.amount > 0.0 && input.amount <= 1_000_000.0) {
        return Err(Failure::BadRequest(
            "the amount is more than 0 and at most 1,000,000 万元".into(),
        ));
    }
    if !(1..=360).contains(&input.term_months) {
        return Err(Failure::BadRequest("the term is 1 to 360 months".into()));
    }
    let purpose = input.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 200 {
        return Err(Failure::BadRequest(
            "give the purpose, at most 200 characters".into(),
        ));
    }
    if !matches!(input.urgency.as_str(), "normal" | "urgent") {
        return Err(Failure::BadRequest("urgency is normal or urgent".into()));
    }
    let ids = state
        .store
        .create_demands(&[DemandRow {
            id: 0,
            enterprise: uscc.to_string(),
            posted_at: crate::stamp(now),
            amount: input.amount,
            term_months: input.term_months,
            purpose: purpose.to_string(),
            urgency: input.urgency.clone(),
            state: "open".into(),
            reference: String::new(),
        }])
        .await?;
    let id = ids.first().copied().unwrap_or_default();
    state
        .audit(
            &who.actor,
            "demand_post",
            uscc,
            "ok",
            serde_json::json!({"demand": id, "amount": input.amount}),
        )
        .await?;
    Ok(id)
}

/// What matching knows of an enterprise: the registry, and its financing
/// profile (grade, employees and tax paid, from the features the grade was
/// computed on). Before it has been graded, tax paid comes from last year's
/// tax summary and the headcount is unknown (0), which rules asking for
/// either say.
pub async fn enterprise_facts(
    state: &AppState,
    uscc: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<EnterpriseFacts, Failure> {
    let Some(entity) = state.store.entity(uscc).await? else {
        return Err(Failure::NotFound(format!("entity {uscc}")));
    };
    let today = now.date_naive();
    let profile = state.store.financing_score(uscc).await?;
    let tax_paid_yuan = match profile.as_ref().and_then(|p| p.tax_paid_1y) {
        Some(yuan) => yuan,
        None => state
            .store
            .summaries(uscc)
            .await?
            .iter()
            .find(|s| s.item == "tax_payment" && s.year == today.year() as i64 - 1)
            .map_or(0.0, |s| s.amount),
    };
    let age_years = chrono::NaiveDate::parse_from_str(&entity.established_on, "%Y-%m-%d")
        .ok()
        .and_then(|d| today.years_since(d))
        .unwrap_or(0);
    Ok(EnterpriseFacts {
        uscc: uscc.to_string(),
        section: domain::industry::division(&entity.industry)
            .map_or(String::new(), |d| d.section.to_string()),
        age_years,
        district: entity.division.chars().take(6).collect(),
        tax_paid_1y: (tax_paid_yuan / 100.0).round() / 100.0,
        headcount: profile
            .as_ref()
            .and_then(|p| p.employees)
            .map_or(0, |e| e.max(0.0).round() as u32),
        grade: profile.as_ref().and_then(|p| grade_of(&p.grade)),
        in_pool: state.store.in_pool(uscc).await?,
        programmes: programmes_of(state, uscc, &today.to_string()).await?,
    })
}

/// The special programmes the platform's records put an enterprise in: the
/// technology programme while a high-tech certificate is valid. Lists of
/// other programmes (epidemic relief, resume production, green) come from
/// the departments that run them and are not fed yet, so products for them
/// match no one and say so.
async fn programmes_of(state: &AppState, uscc: &str, today: &str) -> Result<Vec<String>, Failure> {
    let certified = state.store.events(uscc).await?.iter().any(|e| {
        e.item == "high_tech_enterprise"
            && e.detail["valid_to"]
                .as_str()
                .is_some_and(|until| until >= today)
    });
    Ok(if certified {
        vec!["technology".to_string()]
    } else {
        Vec::new()
    })
}

pub(crate) fn grade_of(text: &str) -> Option<Grade> {
    match text {
        "A" => Some(Grade::A),
        "B" => Some(Grade::B),
        "C" => Some(Grade::C),
        "D" => Some(Grade::D),
        _ => None,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MatchView {
    pub product: ProductView,
    pub eligible: bool,
    #[schema(value_type = Vec<Object>)]
    pub checks: Vec<RuleCheck>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DemandDetail {
    #[schema(value_type = Object)]
    pub demand: DemandRow,
    #[schema(value_type = Object)]
    pub facts: EnterpriseFacts,
    /// Every published product, eligible ones first, each with its checks.
    pub matches: Vec<MatchView>,
}

fn demand_of(row: &DemandRow) -> Demand {
    Demand {
        amount: row.amount,
        term_months: row.term_months.max(0) as u32,
    }
}

/// A demand with every published product ranked against it. The enterprise
/// that posted it sees it, and those who see the statistics.
pub async fn demand_detail(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DemandDetail, Failure> {
    let demand = state.store.demand(id).await?;
    let owner = demand.as_ref().map_or("", |d| d.enterprise.as_str());
    if !allows(who, Action::ViewFinanceStatistics) {
        require(
            state,
            who,
            Action::ManageOwnFinance { uscc: owner },
            &format!("demand:{id}"),
        )
        .await?;
    }
    let Some(demand) = demand else {
        return Err(Failure::NotFound(format!("demand {id}")));
    };
    // The facts carry the enterprise's grade and tax paid: non-public.
    state
        .audit(
            &who.actor,
            "view_demand",
            &format!("demand:{id}"),
            "ok",
            serde_json::json!({"enterprise": demand.enterprise}),
        )
        .await?;
    let facts = enterprise_facts(state, &demand.enterprise, now).await?;
    let views: Vec<ProductView> = products(state, &Principal::anonymous()).await?;
    let catalogue: Vec<Product> = views
        .iter()
        .map(|v| product_of(&v.product))
        .collect::<Result<_, _>>()?;
    let ranked = matching::rank(&catalogue, &facts, &demand_of(&demand));
    let mut by_id: BTreeMap<i64, ProductView> =
        views.into_iter().map(|v| (v.product.id, v)).collect();
    let matches = ranked
        .into_iter()
        .filter_map(|a| {
            let eligible = a.eligible();
            by_id.remove(&a.product).map(|product| MatchView {
                product,
                eligible,
                checks: a.checks,
            })
        })
        .collect();
    Ok(DemandDetail {
        demand,
        facts,
        matches,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DemandForBank {
    #[schema(value_type = Object)]
    pub demand: DemandRow,
    pub enterprise_name: String,
    /// The bank's published products the demand is eligible for.
    pub products: Vec<String>,
}

/// The asker's own enterprise's demands, newest first.
pub async fn my_demands(state: &AppState, who: &Principal) -> Result<Vec<DemandRow>, Failure> {
    let uscc = crate::accounts::service::own_enterprise(state, who)
        .await?
        .to_string();
    audit_read(state, who, "view_demands", &uscc).await?;
    Ok(state.store.demands_of(&uscc).await?)
}

/// The bank's own latest report reads and refusals.
pub async fn bank_accesses(
    state: &AppState,
    who: &Principal,
    limit: i64,
) -> Result<Vec<AccessRow>, Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, "reports").await?;
    audit_read(state, who, "view_report_log", &format!("bank:{bank}")).await?;
    Ok(state.store.accesses_by_bank(bank, limit).await?)
}

/// Open demands that fit at least one of the bank's published products.
pub async fn demands_for_bank(
    state: &AppState,
    who: &Principal,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<DemandForBank>, Failure> {
    let bank = bank_of(who).unwrap_or("");
    require(state, who, Action::ActAsBank { bank }, "demands").await?;
    audit_read(state, who, "view_demands", &format!("bank:{bank}")).await?;
    let own: Vec<Product> = state
        .store
        .products()
        .await?
        .iter()
        .filter(|p| p.bank == bank && p.state == "published")
        .map(product_of)
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for demand in state.store.open_demands(LIST_LIMIT).await? {
        // One demand naming a company the registry does not hold (its
        // registration was quarantined, say) must not hide every other.
        let facts = match enterprise_facts(state, &demand.enterprise, now).await {
            Ok(facts) => facts,
            Err(Failure::NotFound(_)) => {
                tracing::warn!(
                    "demand {}: {} is not in the registry",
                    demand.id,
                    demand.enterprise
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        let wanted = demand_of(&demand);
        let products: Vec<String> = own
            .iter()
            .filter(|p| matching::assess(p, &facts, &wanted).eligible())
            .map(|p| p.name.clone())
            .collect();
        if products.is_empty() {
            continue;
        }
        let enterprise_name = state
            .store
            .entity(&demand.enterprise)
            .await?
            .map_or(String::new(), |e| e.name);
        out.push(DemandForBank {
            demand,
            enterprise_name,
            products,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- applications

/// An application as the enterprise makes it; `authorise` confirms the
/// grant to the product's bank for this application.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ApplicationInput {
    pub product: i64,
    #[serde(default)]
    pub demand: Option<i64>,
    /// 万元
    pub amount: f64,
    pub term_months: i64,
    #[serde(default)]
    pub authorise: bool,
    /// Groups the grant covers; every group when empty.
    #[serde(default)]
    pub scope: Vec<String>,
}

/// How long an application's grant lasts.
const APPLICATION_GRANT_DAYS: i64 = 90;

/// Applies to a published product: the application starts `submitted`,
/// and with the enterprise's confirmation a grant for this application
/// goes to the bank. Audited.
pub async fn apply(
    state: &AppState,
    who: &Principal,
    uscc: &Uscc,
    input: &ApplicationInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let uscc = uscc.as_str();
    require(state, who, Action::ManageOwnFinance { uscc }, uscc).await?;
    let Some(product) = state.store.product(input.product).await? else {
        return Err(Failure::BadRequest(format!("no product {}", input.product)));
    };
    if product.state != "published" {
        return Err(Failure::BadRequest(format!(
            "product {} is {}, not open to applications",
            product.id, product.state
        )));
    }
    if let Some(demand) = input.demand {
        let owned = state.store.demand(demand).await?;
        if owned.is_none_or(|d| d.enterprise != uscc) {
            return Err(Failure::BadRequest(format!("demand {demand} is not yours")));
        }
    }
    let sensible = input.amount > 0.0 && (1..=360).contains(&input.term_months);
    if !sensible {
        return Err(Failure::BadRequest(
            "give a positive amount and a term of 1 to 360 months".into(),
        ));
    }
    let at = crate::stamp(now);
    let id = state.store.reserve_ids("loan_applications", 1).await?;
    // The grant the enterprise asked for with it, checked before anything
    // is written: the application and its grant are stored together.
    let grant = if input.authorise {
        let scope = if input.scope.is_empty() {
            Scope::ALL.iter().map(|s| s.as_str().to_string()).collect()
        } else {
            input.scope.clone()
        };
        let asked = GrantInput {
            bank: BankId::try_from(product.bank.clone()).map_err(Failure::Internal)?,
            scope,
            purpose: format!("贷款申请 {id}（{}）", product.name),
            days: Some(APPLICATION_GRANT_DAYS),
            expires_at: None,
            application: Some(id),
        };
        let mut row = grant_row(state, who, uscc, &asked, now).await?;
        row.id = state.store.reserve_ids("authorisations", 1).await?;
        Some(row)
    } else {
        None
    };
    let row = ApplicationRow {
        id,
        enterprise: uscc.to_string(),
        product_id: product.id,
        bank: product.bank.clone(),
        demand_id: input.demand,
        amount: input.amount,
        term_months: input.term_months,
        state: State::Submitted.as_str().into(),
        reason: String::new(),
        created_at: at.clone(),
        updated_at: at.clone(),
        loan_amount: None,
        loan_rate: None,
        loan_term_months: None,
        disbursed_on: None,
        loan_status: None,
    };
    let event = ApplicationEventRow {
        application_id: id,
        seq: 1,
        at,
        actor: who.actor.clone(),
        state: State::Submitted.as_str().into(),
        reason: String::new(),
    };
    let subject = format!("application:{id}");
    let mut audit = vec![NewAuditEntry {
        actor: &who.actor,
        action: "application_submit",
        subject: &subject,
        outcome: "ok",
        detail: serde_json::json!({"enterprise": uscc, "product": product.id, "bank": product.bank,
            "grant": grant.as_ref().map(|g| g.id)}),
    }];
    if let Some(grant) = &grant {
        audit.push(grant_audit(who, grant));
    }
    state
        .store
        .submit_application(&row, &event, grant.as_ref(), &audit)
        .await?;
    Ok(id)
}

/// The party `who` is for an application, if any.
fn party_of(who: &Principal, application: &ApplicationRow) -> Option<Party> {
    if allows(
        who,
        Action::ManageOwnFinance {
            uscc: &application.enterprise,
        },
    ) {
        return Some(Party::Enterprise);
    }
    if allows(
        who,
        Action::ActAsBank {
            bank: &application.bank,
        },
    ) {
        return Some(Party::Bank);
    }
    None
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationDetail {
    #[schema(value_type = Object)]
    pub application: ApplicationRow,
    pub enterprise_name: String,
    pub product_name: String,
    pub bank_name: String,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<ApplicationEventRow>,
    /// Seconds in each state entered, the current one up to now.
    pub time_in_states: Vec<(String, i64)>,
    /// The states the asker may move it to.
    pub next_states: Vec<String>,
    /// The bank's reports on the disbursed loan, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub loan_reports: Vec<store::LoanReportRow>,
    /// Whether the asker may report on the loan (its bank, once paid out).
    pub may_report: bool,
}

/// An application, for its enterprise, its bank, or those who see the
/// statistics; audited when refused.
pub async fn application_detail(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ApplicationDetail, Failure> {
    let application = state.store.application(id).await?;
    let party = application.as_ref().and_then(|a| party_of(who, a));
    if party.is_none() {
        require(
            state,
            who,
            Action::ViewFinanceStatistics,
            &format!("application:{id}"),
        )
        .await?;
    }
    let Some(application) = application else {
        return Err(Failure::NotFound(format!("application {id}")));
    };
    audit_read(state, who, "view_application", &format!("application:{id}")).await?;
    let events = state.store.application_events(id).await?;
    let mut entered = Vec::new();
    for event in &events {
        let Some(state) = State::parse(&event.state) else {
            return Err(Failure::Internal(format!(
                "application {id}: unknown state"
            )));
        };
        entered.push(workflow::Entered {
            state,
            at: parse_time(&event.at, "event time")?,
        });
    }
    let current = State::parse(&application.state)
        .ok_or_else(|| Failure::Internal(format!("application {id}: unknown state")))?;
    let product_name = state
        .store
        .product(application.product_id)
        .await?
        .map_or(String::new(), |p| p.name);
    let enterprise_name = state
        .store
        .entity(&application.enterprise)
        .await?
        .map_or(String::new(), |e| e.name);
    let names = bank_names(state).await?;
    let loan_reports = state.store.loan_reports(id).await?;
    Ok(ApplicationDetail {
        bank_name: names
            .get(&application.bank)
            .cloned()
            .unwrap_or_else(|| application.bank.clone()),
        enterprise_name,
        product_name,
        time_in_states: workflow::time_in_states(&entered, now)
            .into_iter()
            .map(|(s, seconds)| (s.as_str().to_string(), seconds))
            .collect(),
        next_states: party
            .map(|p| workflow::next_states(current, p))
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        may_report: party == Some(Party::Bank)
            && current == State::Disbursed
            && loan_reports.last().is_none_or(|r| {
                finance::outcome::LoanState::parse(&r.state).is_some_and(|s| !s.is_final())
            }),
        loan_reports,
        events,
        application,
    })
}

/// The applications `who` is a party to, newest first: the enterprise's
/// own, or those made to the bank.
pub async fn my_applications(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<ApplicationRow>, Failure> {
    if let Some(uscc) = enterprise_of(who) {
        audit_read(state, who, "view_applications", uscc).await?;
        return Ok(state
            .store
            .applications_where(ApplicationParty::Enterprise, uscc, LIST_LIMIT)
            .await?);
    }
    if let Some(bank) = bank_of(who) {
        audit_read(state, who, "view_applications", &format!("bank:{bank}")).await?;
        return Ok(state
            .store
            .applications_where(ApplicationParty::Bank, bank, LIST_LIMIT)
            .await?);
    }
    require(state, who, Action::ViewFinanceStatistics, "applications").await?;
    audit_read(state, who, "view_applications", "all").await?;
    let mut all = state.store.applications().await?;
    all.reverse();
    all.truncate(LIST_LIMIT as usize);
    Ok(all)
}

/// A move of an application by one of its parties.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    /// The state to move to.
    pub to: String,
    #[serde(default)]
    pub reason: String,
    /// The loan, when the bank reports it disbursed.
    #[serde(default)]
    pub loan_amount: Option<f64>,
    #[serde(default)]
    pub loan_rate: Option<f64>,
    #[serde(default)]
    pub loan_term_months: Option<i64>,
    #[serde(default)]
    pub disbursed_on: Option<String>,
}

/// Moves an application, if the asker is the party the workflow names for
/// that move; refusals and moves are audited.
pub async fn move_application(
    state: &AppState,
    who: &Principal,
    id: i64,
    transition: &Transition,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let subject = format!("application:{id}");
    let application = state.store.application(id).await?;
    let Some(party) = application.as_ref().and_then(|a| party_of(who, a)) else {
        state
            .audit(
                &who.actor,
                "application_move",
                &subject,
                "denied",
                serde_json::json!({"to": transition.to}),
            )
            .await?;
        return Err(if who.is_anonymous() {
            Failure::SignInNeeded
        } else {
            Failure::Forbidden
        });
    };
    let Some(application) = application else {
        return Err(Failure::NotFound(subject));
    };
    let to = State::parse(&transition.to)
        .ok_or_else(|| Failure::BadRequest(format!("no state '{}'", transition.to)))?;
    let from = State::parse(&application.state)
        .ok_or_else(|| Failure::Internal(format!("{subject}: unknown state")))?;
    if let Err(e) = workflow::check(from, to, party, &transition.reason) {
        state
            .audit(
                &who.actor,
                "application_move",
                &subject,
                "denied",
                serde_json::json!({"from": from.as_str(), "to": to.as_str(), "reason": e.to_string()}),
            )
            .await?;
        return Err(Failure::BadRequest(e.to_string()));
    }
    let loan = if to == State::Disbursed {
        let (Some(amount), Some(rate), Some(term_months), Some(disbursed_on)) = (
            transition.loan_amount,
            transition.loan_rate,
            transition.loan_term_months,
            transition.disbursed_on.as_deref(),
        ) else {
            return Err(Failure::BadRequest(
                "a disbursement reports the loan's amount, rate, term and date".into(),
            ));
        };
        let sensible =
            amount > 0.0 && rate > 0.0 && rate < 36.0 && (1..=360).contains(&term_months);
        if !sensible {
            return Err(Failure::BadRequest(
                "the loan needs a positive amount, a rate under 36 % and a term of 1 to 360 months"
                    .into(),
            ));
        }
        let date =
            chrono::NaiveDate::parse_from_str(disbursed_on.trim(), "%Y-%m-%d").map_err(|_| {
                Failure::BadRequest(format!("'{disbursed_on}' is not a date (YYYY-MM-DD)"))
            })?;
        Some(LoanOutcome {
            amount,
            rate,
            term_months,
            disbursed_on: date.to_string(),
        })
    } else {
        None
    };
    let event = ApplicationEventRow {
        application_id: id,
        seq: 0,
        at: crate::stamp(now),
        actor: who.actor.clone(),
        state: to.as_str().into(),
        reason: transition.reason.trim().to_string(),
    };
    let loan_term = loan.as_ref().and_then(|l| {
        let on = chrono::NaiveDate::parse_from_str(&l.disbursed_on, "%Y-%m-%d").ok()?;
        Some((on, u32::try_from(l.term_months).ok()?))
    });
    let ended_by = format!("application:{id} {}", to.as_str());
    let until;
    let grants = match consent::grants_on_move(to, loan_term) {
        consent::GrantsOnMove::Keep => store::GrantChange::Keep,
        consent::GrantsOnMove::End => store::GrantChange::End {
            at: &event.at,
            by: &ended_by,
        },
        consent::GrantsOnMove::LastUntil(at) => {
            until = rfc3339(at);
            store::GrantChange::LastUntil(&until)
        }
    };
    let change = store::Move {
        id,
        from: from.as_str(),
        to: to.as_str(),
        event: &event,
        loan: loan.as_ref(),
        grants,
    };
    let audit = NewAuditEntry {
        actor: &who.actor,
        action: "application_move",
        subject: &subject,
        outcome: "ok",
        detail: serde_json::json!({"from": from.as_str(), "to": to.as_str(), "reason": event.reason}),
    };
    state
        .store
        .move_application_audited(&change, Some(&audit))
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(why) => Failure::BadRequest(why),
            other => other.into(),
        })
}

/// A bank's report of what became of a loan it paid out.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LoanReportInput {
    /// The day the state held (YYYY-MM-DD).
    pub reported_on: String,
    /// `current`, `overdue`, `defaulted`, `written_off` or `repaid`.
    pub state: String,
    /// Days past due, for an overdue loan.
    #[serde(default)]
    pub days_past_due: u32,
}

/// Records the bank's report on a disbursed loan: only the bank the
/// application was made to may report, each report is checked against the
/// loan's last one (`finance::outcome::check`) in the transaction that
/// stores it, and reports and refusals are audited.
pub async fn report_loan(
    state: &AppState,
    who: &Principal,
    id: i64,
    input: &LoanReportInput,
    source: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let subject = format!("application:{id}");
    let application = state.store.application(id).await?;
    let party = application.as_ref().and_then(|a| party_of(who, a));
    if party != Some(Party::Bank) {
        state
            .audit(
                &who.actor,
                "loan_report",
                &subject,
                "denied",
                serde_json::json!({"state": input.state}),
            )
            .await?;
        return Err(if who.is_anonymous() {
            Failure::SignInNeeded
        } else if application.is_none() {
            Failure::NotFound(subject)
        } else {
            Failure::Forbidden
        });
    }
    let loan_state = finance::outcome::LoanState::parse(&input.state).ok_or_else(|| {
        Failure::BadRequest(format!(
            "no loan state '{}': current, overdue, defaulted, written_off or repaid",
            input.state
        ))
    })?;
    let on =
        chrono::NaiveDate::parse_from_str(input.reported_on.trim(), "%Y-%m-%d").map_err(|_| {
            Failure::BadRequest(format!(
                "'{}' is not a date (YYYY-MM-DD)",
                input.reported_on
            ))
        })?;
    let report = finance::outcome::Report {
        on,
        state: loan_state,
        days_past_due: input.days_past_due,
    };
    let today = crate::beijing_date(now);
    let audit = NewAuditEntry {
        actor: &who.actor,
        action: "loan_report",
        subject: &subject,
        outcome: "ok",
        detail: serde_json::json!({"state": loan_state.as_str(), "reported_on": on.to_string(),
            "days_past_due": input.days_past_due, "source": source}),
    };
    let reporter = Reporter {
        actor: &who.actor,
        source,
        at: &crate::stamp(now),
        today,
    };
    let stored = store_loan_report(&state.store, id, &report, &reporter, Some(&audit)).await;
    match stored {
        Ok(seq) => Ok(seq),
        Err(store::StoreError::Conflict(why)) => {
            state
                .audit(
                    &who.actor,
                    "loan_report",
                    &subject,
                    "refused",
                    serde_json::json!({"state": loan_state.as_str(), "reason": why}),
                )
                .await?;
            Err(Failure::BadRequest(why))
        }
        Err(other) => Err(other.into()),
    }
}

/// Who reports on a loan, how, when, and the day that is today for the
/// report's date.
pub struct Reporter<'a> {
    pub actor: &'a str,
    /// `page`, `api` or `file`.
    pub source: &'a str,
    pub at: &'a str,
    pub today: chrono::NaiveDate,
}

/// Stores one report on a loan, checked against the loan's last report by
/// `finance::outcome::check_stored` inside the store's transaction: the
/// one way a report is written, for the pages, the API and the loader of
/// the synthetic city's outcomes.
pub async fn store_loan_report(
    store: &store::Store,
    application_id: i64,
    report: &finance::outcome::Report,
    by: &Reporter<'_>,
    audit: Option<&NewAuditEntry<'_>>,
) -> Result<i64, store::StoreError> {
    let row = store::LoanReportRow {
        application_id,
        seq: 0,
        reported_on: report.on.to_string(),
        state: report.state.as_str().to_string(),
        days_past_due: i64::from(report.days_past_due),
        actor: by.actor.to_string(),
        at: by.at.to_string(),
        source: by.source.to_string(),
    };
    store
        .report_loan(
            &row,
            |disbursed_on, last| {
                let last =
                    last.map(|l| (l.reported_on.as_str(), l.state.as_str(), l.days_past_due));
                finance::outcome::check_stored(disbursed_on, last, report, by.today)
                    .map_err(|e| e.to_string())
            },
            audit,
        )
        .await
}

/// What a bank's file of loan reports did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoanFileOutcome {
    pub file: String,
    /// Reports stored, one a row.
    pub stored: usize,
    /// Loans reported on.
    pub loans: usize,
}

/// A bank's file of loan reports (`finance::outcome_file`): only a bank,
/// and only on its own disbursed loans; every row is read and checked
/// before anything is stored, then all rows are stored in one transaction,
/// each checked against the loan's reports before it, or none is. A file
/// with problems comes back as their list (`Ok(Err(..))`), each naming the
/// file, row and field; reads, stores and refusals are audited.
pub async fn report_loan_file(
    state: &AppState,
    who: &Principal,
    file_name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<Result<LoanFileOutcome, Vec<String>>, Failure> {
    use finance::outcome_file::{self, MAX_PROBLEMS};
    let bank = bank_of(who).unwrap_or("");
    let subject = format!("bank:{bank}");
    require(state, who, Action::ActAsBank { bank }, &subject).await?;
    let file = crate::http::forms::clean_file_name(file_name);
    let (file_ref, subject_ref) = (&file, &subject);
    let refuse = move |problems: Vec<String>| async move {
        let (file, subject) = (file_ref, subject_ref);
        state
            .audit(
                &who.actor,
                "loan_report_file",
                subject,
                "refused",
                serde_json::json!({"file": file, "problems": problems.len(),
                    "first": problems.first()}),
            )
            .await?;
        let mut shown: Vec<String> = problems.iter().take(MAX_PROBLEMS).cloned().collect();
        if problems.len() > MAX_PROBLEMS {
            shown.push(format!(
                "and {} more problems",
                problems.len() - MAX_PROBLEMS
            ));
        }
        Ok::<_, Failure>(Err(shown))
    };
    let rows = match outcome_file::parse(bytes) {
        Ok(rows) => rows,
        Err(problems) => {
            let problems = problems.iter().map(|p| p.describe(&file)).collect();
            return refuse(problems).await;
        }
    };
    // Each application must be a loan this bank paid out; one that is not,
    // or is another bank's, reads the same, so a file tells nothing of
    // others' loans.
    let mut problems = Vec::new();
    let mut loans: BTreeMap<i64, bool> = BTreeMap::new();
    for row in &rows {
        let ours = match loans.get(&row.application) {
            Some(&ours) => ours,
            None => {
                let ours = state
                    .store
                    .application(row.application)
                    .await?
                    .is_some_and(|a| a.bank == bank && a.state == "disbursed");
                loans.insert(row.application, ours);
                ours
            }
        };
        if !ours {
            problems.push(
                outcome_file::Problem {
                    line: row.line,
                    field: "application",
                    rule: format!(
                        "no disbursed loan of this bank is numbered {}",
                        row.application
                    ),
                }
                .describe(&file),
            );
        }
    }
    if !problems.is_empty() {
        return refuse(problems).await;
    }
    let today = crate::beijing_date(now);
    let at = crate::stamp(now);
    let stored_rows: Vec<store::LoanReportRow> = rows
        .iter()
        .map(|r| store::LoanReportRow {
            application_id: r.application,
            seq: 0,
            reported_on: r.report.on.to_string(),
            state: r.report.state.as_str().to_string(),
            days_past_due: i64::from(r.report.days_past_due),
            actor: who.actor.clone(),
            at: at.clone(),
            source: format!("file:{file}"),
        })
        .collect();
    let audit = NewAuditEntry {
        actor: &who.actor,
        action: "loan_report_file",
        subject: &subject,
        outcome: "ok",
        detail: serde_json::json!({"file": file, "rows": rows.len(), "loans": loans.len()}),
    };
    let stored = state
        .store
        .report_loans(
            &stored_rows,
            |index, disbursed_on, last| {
                let Some(row) = rows.get(index) else {
                    return Err(format!("{file}: no row {index}"));
                };
                let last =
                    last.map(|l| (l.reported_on.as_str(), l.state.as_str(), l.days_past_due));
                finance::outcome::check_stored(disbursed_on, last, &row.report, today).map_err(
                    |e| {
                        outcome_file::Problem {
                            line: row.line,
                            field: e.field(),
                            rule: e.to_string(),
                        }
                        .describe(&file)
                    },
                )
            },
            &audit,
        )
        .await;
    match stored {
        Ok(numbers) => Ok(Ok(LoanFileOutcome {
            file: file.clone(),
            stored: numbers.len(),
            loans: loans.len(),
        })),
        Err(store::StoreError::Conflict(why)) => refuse(vec![why]).await,
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------- statistics

/// The financing statistics, for the credit centre and regulators.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Statistics {
    #[schema(value_type = Object)]
    pub totals: finance::statistics::Totals,
    #[schema(value_type = Vec<Object>)]
    pub by_year: Vec<finance::statistics::YearRow>,
    /// Keys are bank ids; `names` has their names.
    #[schema(value_type = Vec<Object>)]
    pub by_bank: Vec<finance::statistics::Breakdown>,
    /// Keys are district codes.
    #[schema(value_type = Vec<Object>)]
    pub by_district: Vec<finance::statistics::Breakdown>,
    /// Keys are GB/T 4754 section letters.
    #[schema(value_type = Vec<Object>)]
    pub by_section: Vec<finance::statistics::Breakdown>,
    #[schema(value_type = Vec<Object>)]
    pub state_times: Vec<finance::statistics::StateTime>,
    /// Enterprises registered on the platform, by month.
    pub registrations: Vec<(String, i64)>,
    /// Disbursed loans by their latest reported state (banks' reports; a
    /// loan without a report is current).
    pub loan_states: Vec<(String, u64)>,
    /// Names of the keys of every breakdown: banks, districts, sections.
    pub names: BTreeMap<String, String>,
    pub outreach: crate::finance::outreach::OutreachStatistics,
}

/// Disbursed loans per latest reported state, in the states' order.
fn loan_states(applications: &[ApplicationRow]) -> Vec<(String, u64)> {
    finance::outcome::LoanState::ALL
        .iter()
        .map(|state| {
            let count = applications
                .iter()
                .filter(|a| a.disbursed_on.is_some())
                .filter(|a| {
                    a.loan_status
                        .as_deref()
                        .and_then(finance::outcome::LoanState::parse)
                        .unwrap_or(finance::outcome::LoanState::Current)
                        == *state
                })
                .count() as u64;
            (state.as_str().to_string(), count)
        })
        .collect()
}

/// Codes at a time in one registry lookup, under every backend's limit of
/// parameters.
const LOOKUP_CHUNK: usize = 5_000;

/// The registry entries of `codes`, by code, looked up a chunk at a time.
pub(crate) async fn entities_by_code(
    state: &AppState,
    codes: &[&str],
) -> Result<BTreeMap<String, EntityRow>, Failure> {
    let mut entities = BTreeMap::new();
    for chunk in codes.chunks(LOOKUP_CHUNK) {
        for entity in state.store.entities_with_codes(chunk).await? {
            entities.insert(entity.uscc.clone(), entity);
        }
    }
    Ok(entities)
}

pub async fn statistics(state: &AppState, who: &Principal) -> Result<Statistics, Failure> {
    require(
        state,
        who,
        Action::ViewFinanceStatistics,
        "finance_statistics",
    )
    .await?;
    audit_read(state, who, "view_finance_statistics", "").await?;
    let applications = state.store.applications().await?;
    let mut codes: Vec<&str> = applications.iter().map(|a| a.enterprise.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let entities = entities_by_code(state, &codes).await?;
    let facts: Vec<finance::statistics::ApplicationFact> = applications
        .iter()
        .map(|a| {
            let entity = entities.get(&a.enterprise);
            finance::statistics::ApplicationFact {
                year: a.created_at.chars().take(4).collect(),
                bank: a.bank.clone(),
                district: entity.map_or(String::new(), |e| e.division.chars().take(6).collect()),
                section: entity
                    .and_then(|e| domain::industry::division(&e.industry))
                    .map_or(String::new(), |d| d.section.to_string()),
                loan: a.disbursed_on.as_ref().and(a.loan_amount),
            }
        })
        .collect();
    let demands = state.store.demands().await?;
    let demand_years: Vec<String> = demands
        .iter()
        .map(|d| d.posted_at.chars().take(4).collect())
        .collect();
    let matched: std::collections::BTreeSet<i64> =
        applications.iter().filter_map(|a| a.demand_id).collect();
    let funded: std::collections::BTreeSet<i64> = applications
        .iter()
        .filter(|a| a.disbursed_on.is_some())
        .filter_map(|a| a.demand_id)
        .collect();
    let banks = state.store.banks().await?;
    let products = state.store.products().await?;
    let registrations = state.store.registrations_by_month().await?;
    let registered: i64 = registrations.iter().map(|(_, n)| n).sum();

    let mut spans = Vec::new();
    let events = state.store.all_application_events().await?;
    for pair in events.windows(2) {
        let [this, next] = pair else { continue };
        if this.application_id != next.application_id {
            continue;
        }
        let seconds = (parse_time(&next.at, "event time")? - parse_time(&this.at, "event time")?)
            .num_seconds();
        spans.push((this.state.clone(), seconds.max(0)));
    }

    let mut names: BTreeMap<String, String> = banks
        .iter()
        .map(|b| (b.id.clone(), b.name.clone()))
        .collect();
    let by_district = finance::statistics::breakdown(&facts, |f| &f.district);
    for row in &by_district {
        if let Some(d) = domain::division::lookup(&row.key) {
            names.insert(row.key.clone(), d.name_zh.to_string());
        }
    }
    let by_section = finance::statistics::breakdown(&facts, |f| &f.section);
    for row in &by_section {
        if let Some(s) = row.key.chars().next().and_then(domain::industry::section) {
            names.insert(row.key.clone(), s.name_zh.to_string());
        }
    }
    Ok(Statistics {
        totals: finance::statistics::totals(
            &facts,
            finance::statistics::Counts {
                enterprises_registered: registered.max(0) as u64,
                institutions: banks.len() as u64,
                products_published: products.iter().filter(|p| p.state == "published").count()
                    as u64,
                demands: demands.len() as u64,
                demands_matched: matched.len() as u64,
                demands_funded: funded.len() as u64,
            },
        ),
        by_year: finance::statistics::by_year(&facts, &demand_years),
        by_bank: finance::statistics::breakdown(&facts, |f| &f.bank),
        by_district,
        by_section,
        state_times: finance::statistics::state_times(&spans),
        loan_states: loan_states(&applications),
        registrations,
        names,
        outreach: crate::finance::outreach::outreach_statistics(state, &applications).await?,
    })
}

/// A table as text, for CSV and XLSX.
pub struct TextTable {
    pub name: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The statistics' tables as rows of text.
pub fn statistics_tables(s: &Statistics) -> Vec<TextTable> {
    let rate = |r: Option<f64>| r.map_or(String::new(), |r| format!("{r:.4}"));
    let breakdown = |rows: &[finance::statistics::Breakdown]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                vec![
                    r.key.clone(),
                    s.names.get(&r.key).cloned().unwrap_or_default(),
                    r.applications.to_string(),
                    r.loans.to_string(),
                    format!("{:.2}", r.amount),
                    rate(r.landing_rate),
                ]
            })
            .collect()
    };
    let header = |key: &str| {
        [
            key,
            "name",
            "applications",
            "loans",
            "amount_10k_yuan",
            "landing_rate",
        ]
        .map(str::to_string)
        .to_vec()
    };
    let years = s
        .by_year
        .iter()
        .map(|y| {
            vec![
                y.figures.key.clone(),
                y.demands.to_string(),
                y.figures.applications.to_string(),
                y.figures.loans.to_string(),
                format!("{:.2}", y.figures.amount),
                rate(y.figures.landing_rate),
                rate(y.loans_growth),
                rate(y.amount_growth),
            ]
        })
        .collect();
    let t = &s.totals;
    vec![
        (
            "totals",
            [
                "enterprises_registered",
                "institutions",
                "products_published",
                "demands",
                "demands_matched",
                "demands_funded",
                "applications",
                "loans",
                "amount_10k_yuan",
                "landing_rate",
            ]
            .map(str::to_string)
            .to_vec(),
            vec![vec![
                t.enterprises_registered.to_string(),
                t.institutions.to_string(),
                t.products_published.to_string(),
                t.demands.to_string(),
                t.demands_matched.to_string(),
                t.demands_funded.to_string(),
                t.applications.to_string(),
                t.loans.to_string(),
                format!("{:.2}", t.amount),
                rate(t.landing_rate),
            ]],
        ),
        (
            "by_year",
            [
                "year",
                "demands",
                "applications",
                "loans",
                "amount_10k_yuan",
                "landing_rate",
                "loans_growth",
                "amount_growth",
            ]
            .map(str::to_string)
            .to_vec(),
            years,
        ),
        ("by_bank", header("bank"), breakdown(&s.by_bank)),
        ("by_district", header("district"), breakdown(&s.by_district)),
        ("by_section", header("section"), breakdown(&s.by_section)),
        (
            "state_times",
            ["state", "applications", "mean_hours"]
                .map(str::to_string)
                .to_vec(),
            s.state_times
                .iter()
                .map(|t| {
                    vec![
                        t.state.clone(),
                        t.applications.to_string(),
                        format!("{:.1}", t.mean_hours),
                    ]
                })
                .collect(),
        ),
        (
            "outreach",
            [
                "pool_members",
                "pool_members_with_loans",
                "key_pushes",
                "key_contacted",
                "key_credit_granted",
                "key_amount_10k_yuan",
                "visits",
                "visits_decided",
                "visits_first_loan",
                "first_loan_rate",
                "accounts_filed",
                "accounts_opened",
                "mean_days_to_open",
            ]
            .map(str::to_string)
            .to_vec(),
            {
                let o = &s.outreach;
                vec![vec![
                    o.pool_members.to_string(),
                    o.pool_members_with_loans.to_string(),
                    o.key_pushes.to_string(),
                    o.key_contacted.to_string(),
                    o.key_credit_granted.to_string(),
                    format!("{:.2}", o.key_amount),
                    o.visits.to_string(),
                    o.visits_decided.to_string(),
                    o.visits_first_loan.to_string(),
                    rate(o.first_loan_rate),
                    o.accounts_filed.to_string(),
                    o.accounts_opened.to_string(),
                    o.mean_days_to_open
                        .map_or(String::new(), |d| format!("{d:.1}")),
                ]]
            },
        ),
    ]
    .into_iter()
    .map(|(name, header, rows)| TextTable { name, header, rows })
    .collect()
}
