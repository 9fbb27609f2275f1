//! Warnings from complaints: the signals regulators draft them from, the
//! queue, each warning with its evidence and moves, and the issued consumer
//! alerts the public sees. The one place that reads and writes them: every
//! read is checked and audited here, every move checked against
//! `complaints::warning` and written with its audit entry.
//!
//! Who sees what: regulators and the credit centre see every warning with
//! its evidence (counts, tickets and masked examples); a recipient (the
//! enterprise of a notice, the department of a risk report) sees what was
//! issued to it with the counts but without the complaints, which are
//! internal; everyone sees issued consumer alerts with their counts.

use chrono::{DateTime, Days, NaiveDate, Utc};
use complaints::detect::Detector;
use complaints::warning::{self, Deadlines, Kind, Overdue, Party, State};
use serde::{Deserialize, Serialize};
use store::{NewAuditEntry, SignalFilter, SignalRow, WarningFilter, WarningRow};
use utoipa::ToSchema;
use warnings::evidence::Evidence;

use crate::AppState;
use crate::access::{Action, Principal, Role, allows};
use crate::http::Failure;
use crate::service::{audit_read, require};

/// Rows on a page of the queue, the signals or the alerts.
pub const PAGE_ROWS: i64 = 50;
/// The longest title and body a warning may have.
pub const MAX_TITLE: usize = 100;
pub const MAX_BODY: usize = 4000;

/// A place named in both languages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A signal as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignalView {
    pub id: i64,
    pub detector: String,
    pub detector_zh: String,
    pub detector_en: String,
    pub category: String,
    pub place_level: String,
    pub places: Vec<Named>,
    pub first_day: String,
    pub last_day: String,
    pub observed: i64,
    pub expected: f64,
    pub statistic: f64,
    pub p_value: Option<f64>,
    /// The warnings drafted from it.
    pub warnings: i64,
    /// The kind a warning from it would be, by default.
    pub suggested_kind: String,
}

/// One warning as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningView {
    pub id: i64,
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub state: String,
    pub state_zh: String,
    pub signal_id: Option<i64>,
    pub supersedes: Option<i64>,
    pub recipient_kind: String,
    pub recipient: String,
    /// The recipient's name (the enterprise's, the department's, the
    /// association's as written; "the public").
    pub recipient_name: String,
    pub title: String,
    pub body: String,
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub last_editor: String,
    pub updated_at: String,
    pub sent_at: Option<String>,
    /// The deadlines, from the day it was sent.
    pub acknowledge_by: Option<String>,
    pub resolve_by: Option<String>,
    /// `acknowledgement` or `resolution` when that deadline has passed.
    pub overdue: Option<String>,
    pub overdue_zh: Option<String>,
}

/// A warning with its evidence, history and what its reader may do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningDetail {
    pub warning: WarningView,
    /// The evidence as the reader may see it: complaint tickets and
    /// examples only for the government side.
    #[schema(value_type = Object)]
    pub evidence: Evidence,
    pub places: Vec<Named>,
    /// Each move and edit: seq, at, actor, state, version, reason.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<store::WarningEventRow>,
    /// The states the reader may move it to.
    pub next_states: Vec<String>,
    pub may_edit: bool,
    /// Whether a regulator may draft a correction that supersedes it.
    pub may_correct: bool,
    /// The warning that corrects it, if any.
    pub superseded_by: Option<i64>,
}

/// A page of rows and how many there are in all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listing<T> {
    pub rows: Vec<T>,
    pub total: i64,
    pub offset: i64,
}

/// The queue's filters.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct QueueFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    /// Only those past a deadline.
    #[serde(default)]
    pub overdue: bool,
    pub signal: Option<i64>,
}

/// A signal's list filters.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SignalQuery {
    pub detector: Option<String>,
    pub category: Option<String>,
    pub level: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only signals no warning has been drafted from.
    #[serde(default)]
    pub undrafted: bool,
}

/// Drafting from a signal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DraftInput {
    pub signal: i64,
    /// `administrative_notice`, `consumer_alert` or `risk_report`.
    pub kind: String,
}

/// An edit of a draft: the version it was made on, and the new text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct EditInput {
    pub version: i64,
    pub title: String,
    pub body: String,
    /// `business`, `department`, `association` or `public`, as the kind
    /// allows; the recipient's USCC, department id or association name.
    pub recipient_kind: String,
    #[serde(default)]
    pub recipient: String,
}

/// A move, decided on `version`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MoveInput {
    pub to: String,
    pub version: i64,
    #[serde(default)]
    pub reason: String,
}

/// An issued consumer alert, as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicAlert {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub places: Vec<Named>,
    pub sent_at: String,
    /// `sent`, or `superseded` / `withdrawn` once it no longer holds.
    pub state: String,
    pub state_zh: String,
    /// The alert that replaced it.
    pub superseded_by: Option<i64>,
    /// Complaints per day at the place, the alarm days from `first_day`
    /// to `last_day`, and what the baseline expected a day.
    #[schema(value_type = Vec<Object>)]
    pub series: Vec<warnings::evidence::DayCount>,
    pub first_day: String,
    pub last_day: String,
    pub expected: f64,
}

/// An edit refused for its fields: each field's problem, to show beside
/// it with what was typed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

fn kind_of(row: &WarningRow) -> Result<Kind, Failure> {
    Kind::parse(&row.kind)
        .ok_or_else(|| Failure::Internal(format!("warning {}: unknown kind", row.id)))
}

fn state_of(row: &WarningRow) -> Result<State, Failure> {
    State::parse(&row.state)
        .ok_or_else(|| Failure::Internal(format!("warning {}: unknown state", row.id)))
}

/// The Beijing day of a stored instant: deadlines count Beijing's days.
fn day_of(stamp: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(stamp)
        .ok()
        .map(|t| crate::beijing_date(t.with_timezone(&Utc)))
}

/// The names of a place's codes: towns and districts from the division
/// table, industries from GB/T 4754, an enterprise from the registry.
async fn named(state: &AppState, level: &str, codes: &[String]) -> Vec<Named> {
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let (zh, en) = match level {
            "industry" => domain::industry::division(code)
                .map(|d| (d.name_zh.to_string(), d.name_en.to_string()))
                .unwrap_or_default(),
            "business" => {
                let name = state
                    .store
                    .entity(code)
                    .await
                    .ok()
                    .flatten()
                    .map(|e| e.name)
                    .unwrap_or_default();
                (name.clone(), name)
            }
            _ => domain::division::lookup(code)
                .map(|d| (d.name_zh.to_string(), d.name_en.to_string()))
                .unwrap_or_default(),
        };
        out.push(Named {
            code: code.clone(),
            name_zh: zh,
            name_en: en,
        });
    }
    out
}

fn places_of(signal: &SignalRow) -> Vec<String> {
    signal.place.split(',').map(str::to_string).collect()
}

/// The kind a warning from this signal is, unless the regulator chooses
/// another: a business's repeats become a notice to it, an industry's
/// spike a report to its authority, a place's spike or cluster an alert.
pub fn suggested_kind(place_level: &str) -> Kind {
    match place_level {
        "business" => Kind::AdministrativeNotice,
        "industry" => Kind::RiskReport,
        _ => Kind::ConsumerAlert,
    }
}

/// The department that owns an industry, by its GB/T 4754 section: the
/// default recipient of a risk report, which the regulator may change
/// (to another department or an association).
pub fn owning_department(industry: &str) -> &'static str {
    let section = domain::industry::division(industry).map(|d| d.section);
    match section {
        Some('E') | Some('K') => "housing",
        Some('G') => "transport",
        Some('F') | Some('H') | Some('O') => "commerce",
        Some('B') | Some('D') => "emergency",
        Some('N') => "ecology",
        Some('M') | Some('I') => "science",
        _ => "samr",
    }
}

async fn signal_view(state: &AppState, row: &SignalRow, drafted: i64) -> SignalView {
    let detector = Detector::ALL.into_iter().find(|d| d.key() == row.detector);
    SignalView {
        id: row.id,
        detector: row.detector.clone(),
        detector_zh: detector.map_or(row.detector.clone(), |d| d.name_zh().to_string()),
        detector_en: detector.map_or(row.detector.clone(), |d| d.name_en().to_string()),
        category: row.category.clone(),
        place_level: row.place_level.clone(),
        places: named(state, &row.place_level, &places_of(row)).await,
        first_day: row.first_day.clone(),
        last_day: row.last_day.clone(),
        observed: row.observed,
        expected: row.expected,
        statistic: row.statistic,
        p_value: row.p_value,
        warnings: drafted,
        suggested_kind: suggested_kind(&row.place_level).as_str().to_string(),
    }
}

/// The signals regulators draft warnings from, newest first.
pub async fn signals(
    state: &AppState,
    who: &Principal,
    query: &SignalQuery,
    offset: i64,
) -> Result<Listing<SignalView>, Failure> {
    require(state, who, Action::ViewWarnings, "signals").await?;
    let date = |text: &Option<String>, what: &str| -> Result<Option<String>, Failure> {
        match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| Some(d.to_string()))
                .map_err(|_| {
                    Failure::BadRequest(format!("{what} '{t}' is not a date (YYYY-MM-DD)"))
                }),
        }
    };
    let filter = SignalFilter {
        detector: query.detector.clone().filter(|d| !d.is_empty()),
        category: query.category.clone().filter(|c| !c.is_empty()),
        place_level: query.level.clone().filter(|l| !l.is_empty()),
        from: date(&query.from, "from")?,
        to: date(&query.to, "to")?,
        undrafted: query.undrafted,
    };
    let offset = offset.max(0);
    let page = state.store.signals(&filter, offset, PAGE_ROWS).await?;
    audit_read(state, who, "view_signals", "signals").await?;
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let drafted = state.store.warnings_per_signal(&ids).await?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        let count = drafted.get(&row.id).copied().unwrap_or(0);
        rows.push(signal_view(state, row, count).await);
    }
    Ok(Listing {
        rows,
        total: page.total,
        offset,
    })
}

/// The recipient a principal receives warnings as, if any.
fn recipient_of(who: &Principal) -> Option<(&'static str, String)> {
    if let Some(uscc) = crate::access::enterprise_of(who) {
        return Some(("business", uscc.to_string()));
    }
    who.subjects(Role::Department)
        .first()
        .map(|d| ("department", d.to_string()))
}

fn view(
    state: &AppState,
    row: &WarningRow,
    recipient_name: String,
    today: NaiveDate,
) -> Result<WarningView, Failure> {
    let kind = kind_of(row)?;
    let current = state_of(row)?;
    let deadlines: &Deadlines = &state.config.warning_deadlines;
    let sent = row.sent_at.as_deref().and_then(day_of);
    let by = |days: i64| {
        sent.filter(|_| kind.acknowledged())
            .and_then(|d| d.checked_add_days(Days::new(u64::try_from(days).unwrap_or(0))))
            .map(|d| d.to_string())
    };
    let overdue = warning::overdue(
        kind,
        current,
        sent.map(warnings::day),
        warnings::day(today),
        deadlines,
    );
    Ok(WarningView {
        id: row.id,
        kind: row.kind.clone(),
        kind_zh: kind.name_zh().into(),
        kind_en: kind.name_en().into(),
        state: row.state.clone(),
        state_zh: current.name_zh().into(),
        signal_id: row.signal_id,
        supersedes: row.supersedes,
        recipient_kind: row.recipient_kind.clone(),
        recipient: row.recipient.clone(),
        recipient_name,
        title: row.title.clone(),
        body: row.body.clone(),
        version: row.version,
        created_at: row.created_at.clone(),
        created_by: row.created_by.clone(),
        last_editor: row.last_editor.clone(),
        updated_at: row.updated_at.clone(),
        sent_at: row.sent_at.clone(),
        acknowledge_by: by(deadlines.acknowledge_days),
        resolve_by: by(deadlines.resolve_days),
        overdue: overdue.map(|o| match o {
            Overdue::Acknowledgement => "acknowledgement".to_string(),
            Overdue::Resolution => "resolution".to_string(),
        }),
        overdue_zh: overdue.map(|o| o.name_zh().to_string()),
    })
}

async fn recipient_name(state: &AppState, row: &WarningRow) -> String {
    match row.recipient_kind.as_str() {
        "business" => state
            .store
            .entity(&row.recipient)
            .await
            .ok()
            .flatten()
            .map_or_else(|| row.recipient.clone(), |e| e.name),
        "department" => state
            .catalog
            .department(&row.recipient)
            .map_or_else(|| row.recipient.clone(), |d| d.name_zh.clone()),
        "public" => "社会公众".to_string(),
        _ => row.recipient.clone(),
    }
}

/// The queue: every warning for the government side; for a recipient,
/// what was issued to it.
pub async fn queue(
    state: &AppState,
    who: &Principal,
    filter: &QueueFilter,
    offset: i64,
    now: DateTime<Utc>,
) -> Result<Listing<WarningView>, Failure> {
    let today = crate::beijing_date(now);
    let deadlines = state.config.warning_deadlines;
    let mut store_filter = WarningFilter {
        kind: filter.kind.clone().filter(|k| !k.is_empty()),
        state: filter.state.clone().filter(|s| !s.is_empty()),
        signal_id: filter.signal,
        ..WarningFilter::default()
    };
    if let Some(kind) = &store_filter.kind
        && Kind::parse(kind).is_none()
    {
        return Err(Failure::BadRequest(format!("no kind of warning '{kind}'")));
    }
    if let Some(s) = &store_filter.state
        && State::parse(s).is_none()
    {
        return Err(Failure::BadRequest(format!("no state of warning '{s}'")));
    }
    if filter.overdue {
        // Sent before the start of these Beijing days is past the
        // deadline today (midnight in Beijing is 16:00 UTC the day before).
        let before = |days: i64| {
            let day = today - Days::new(u64::try_from(days).unwrap_or(0));
            let start = day
                .and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(crate::beijing()).single())
                .map(|t| t.with_timezone(&Utc));
            start.map_or_else(|| format!("{day}T00:00:00Z"), crate::stamp)
        };
        store_filter.overdue_before = Some((
            before(deadlines.acknowledge_days),
            before(deadlines.resolve_days),
        ));
    }
    if !allows(who, Action::ViewWarnings) {
        let Some((kind, recipient)) = recipient_of(who) else {
            require(state, who, Action::ViewWarnings, "warnings").await?;
            return Err(Failure::Forbidden);
        };
        require(
            state,
            who,
            Action::ReceiveWarnings {
                kind,
                recipient: &recipient,
            },
            &recipient,
        )
        .await?;
        store_filter.recipient = Some((kind.to_string(), recipient));
        store_filter.issued = true;
    }
    let offset = offset.max(0);
    let page = state
        .store
        .warnings(&store_filter, offset, PAGE_ROWS)
        .await?;
    audit_read(state, who, "view_warnings", "warnings").await?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        let name = recipient_name(state, row).await;
        rows.push(view(state, row, name, today)?);
    }
    Ok(Listing {
        rows,
        total: page.total,
        offset,
    })
}

/// How a principal stands to a warning: the government side, its
/// recipient, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    Government,
    Recipient,
}

fn reader(who: &Principal, row: &WarningRow, current: State) -> Option<Reader> {
    if allows(who, Action::ViewWarnings) {
        return Some(Reader::Government);
    }
    let receives = allows(
        who,
        Action::ReceiveWarnings {
            kind: &row.recipient_kind,
            recipient: &row.recipient,
        },
    );
    (receives && current.is_issued()).then_some(Reader::Recipient)
}

/// The party a principal acts as in moving `row` to `to`, if any. A
/// regulator records an association's acknowledgement (it has no account).
fn party(who: &Principal, row: &WarningRow, to: State) -> Option<Party> {
    let manages = allows(who, Action::ManageWarnings);
    let receives = allows(
        who,
        Action::ReceiveWarnings {
            kind: &row.recipient_kind,
            recipient: &row.recipient,
        },
    );
    if to == State::Acknowledged {
        if receives || (manages && row.recipient_kind == "association") {
            return Some(Party::Recipient);
        }
        return None;
    }
    manages.then_some(Party::Regulator)
}

async fn read_row(state: &AppState, id: i64) -> Result<WarningRow, Failure> {
    state
        .store
        .warning(id)
        .await?
        .ok_or_else(|| Failure::NotFound(format!("warning {id}")))
}

/// Refuses: the denial audited for a signed-in principal.
async fn refuse(state: &AppState, who: &Principal, action: &str, subject: &str) -> Failure {
    if who.is_anonymous() {
        return Failure::SignInNeeded;
    }
    if let Err(failure) = state
        .audit(&who.actor, action, subject, "denied", serde_json::json!({}))
        .await
    {
        return failure;
    }
    Failure::Forbidden
}

/// One warning with its evidence and history, as the reader may see it.
pub async fn detail(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<WarningDetail, Failure> {
    let subject = format!("warning:{id}");
    let row = read_row(state, id).await;
    let found = match &row {
        Ok(row) => state_of(row).ok().and_then(|s| reader(who, row, s)),
        Err(_) => None,
    };
    let Some(as_reader) = found else {
        // Whether it exists is no one's business but its readers'.
        return Err(refuse(state, who, "view_warning", &subject).await);
    };
    let row = row?;
    audit_read(state, who, "view_warning", &subject).await?;
    let current = state_of(&row)?;
    let kind = kind_of(&row)?;
    let mut evidence: Evidence = serde_json::from_str(&row.evidence)
        .map_err(|e| Failure::Internal(format!("{subject}: evidence: {e}")))?;
    if as_reader == Reader::Recipient {
        // Complaints are internal: the recipient sees the counts only.
        evidence.tickets.clear();
        evidence.examples.clear();
    }
    let places = named(state, &evidence.place_level, &evidence.places).await;
    let events = state.store.warning_events(id).await?;
    let successors = state.store.warning_successor(id).await?;
    let next_states: Vec<String> = State::ALL
        .into_iter()
        .filter(|to| {
            *to != current
                && *to != State::Superseded
                && party(who, &row, *to)
                    .is_some_and(|p| warning::mover(kind, current, *to) == Some(p))
        })
        .map(|s| s.as_str().to_string())
        .collect();
    let manages = allows(who, Action::ManageWarnings);
    let name = recipient_name(state, &row).await;
    Ok(WarningDetail {
        warning: view(state, &row, name, crate::beijing_date(now))?,
        evidence,
        places,
        events,
        next_states,
        may_edit: manages && current == State::Draft,
        may_correct: manages && current.is_issued() && !current.is_final(),
        superseded_by: successors,
    })
}

/// A complaint category's Chinese name, from the message catalog.
fn category_zh(category: &str) -> String {
    crate::i18n::messages(crate::i18n::Lang::Zh)
        .get(&format!("complaint_category_{category}"))
        .cloned()
        .unwrap_or_else(|| category.to_string())
}

/// The first text of a draft: what the detector saw, in the words a
/// notice, an alert or a report uses; the regulator edits it.
fn draft_text(kind: Kind, evidence: &Evidence, places: &[Named]) -> (String, String) {
    let place = places
        .iter()
        .map(|p| {
            if p.name_zh.is_empty() {
                p.code.as_str()
            } else {
                p.name_zh.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join("、");
    // An industry's name mostly ends in 业 already (餐饮业).
    let trade = if place.ends_with('业') {
        place.clone()
    } else {
        format!("{place}行业")
    };
    let category = evidence
        .category
        .as_deref()
        .map_or_else(|| "各类".to_string(), category_zh);
    let total: u32 = evidence
        .series
        .iter()
        .filter(|d| d.day >= evidence.first_day && d.day <= evidence.last_day)
        .map(|d| d.count)
        .sum();
    let period = if evidence.first_day == evidence.last_day {
        evidence.first_day.clone()
    } else {
        format!("{} 至 {}", evidence.first_day, evidence.last_day)
    };
    match kind {
        Kind::AdministrativeNotice => (
            format!("关于{place}投诉集中问题的行政提示"),
            format!(
                "{place}：\n{period}，12345 热线收到涉及你单位的{category}投诉 {total} 件，明显多于以往。请你单位对照相关法律法规自查自纠，妥善处理消费者诉求，并于收到本提示后按期反馈整改情况。"
            ),
        ),
        Kind::ConsumerAlert => (
            format!("关于{place}{category}问题的消费提示"),
            format!(
                "{period}，{place}涉及{category}问题的消费投诉 {total} 件，明显高于往常水平。请广大消费者提高警惕，保留购物凭证，理性消费；如权益受损，可拨打 12345 热线投诉举报。"
            ),
        ),
        Kind::RiskReport => (
            format!("{trade}{category}风险分析报告"),
            format!(
                "{period}，{trade}{category}投诉 {total} 件，高于基线期望（{:.1} 件/日）。投诉集中反映的问题见附件示例（已脱敏）。建议行业主管部门加强行业指导和监督检查，督促经营者落实主体责任。",
                evidence.expected
            ),
        ),
    }
}

fn audit_entry<'a>(
    who: &'a Principal,
    action: &'a str,
    subject: &'a str,
    detail: serde_json::Value,
) -> NewAuditEntry<'a> {
    NewAuditEntry {
        actor: &who.actor,
        action,
        subject,
        outcome: "ok",
        detail,
    }
}

fn conflict(e: store::StoreError) -> Failure {
    match e {
        store::StoreError::Conflict(why) => Failure::Conflict(why),
        other => other.into(),
    }
}

/// Drafts a warning of `kind` from a signal (regulators); returns its id.
pub async fn draft(
    state: &AppState,
    who: &Principal,
    input: &DraftInput,
    now: DateTime<Utc>,
) -> Result<i64, Failure> {
    let subject = format!("signal:{}", input.signal);
    require(state, who, Action::ManageWarnings, &subject).await?;
    let kind = Kind::parse(&input.kind)
        .ok_or_else(|| Failure::BadRequest(format!("no kind of warning '{}'", input.kind)))?;
    let signal = state
        .store
        .signal(input.signal)
        .await?
        .ok_or_else(|| Failure::NotFound(subject.clone()))?;
    let evidence: Evidence = serde_json::from_str(&signal.evidence)
        .map_err(|e| Failure::Internal(format!("{subject}: evidence: {e}")))?;
    let places = named(state, &signal.place_level, &places_of(&signal)).await;
    let (recipient_kind, recipient) = match kind {
        Kind::ConsumerAlert => ("public", String::new()),
        Kind::AdministrativeNotice if signal.place_level == "business" => {
            ("business", signal.place.clone())
        }
        // The regulator names the business before approval.
        Kind::AdministrativeNotice => ("business", String::new()),
        Kind::RiskReport if signal.place_level == "industry" => {
            ("department", owning_department(&signal.place).to_string())
        }
        Kind::RiskReport => ("department", "samr".to_string()),
    };
    let (title, body) = draft_text(kind, &evidence, &places);
    let at = crate::stamp(now);
    let audit_subject = subject.clone();
    let id = state
        .store
        .create_warning(
            &store::NewWarning {
                kind: kind.as_str(),
                signal_id: Some(signal.id),
                supersedes: None,
                recipient_kind,
                recipient: &recipient,
                title: &title,
                body: &body,
                evidence: &signal.evidence,
                actor: &who.actor,
                at: &at,
            },
            &audit_entry(
                who,
                "warning_draft",
                &audit_subject,
                serde_json::json!({"kind": kind.as_str()}),
            ),
        )
        .await?;
    Ok(id)
}

/// Drafts a correction of an issued warning (regulators): a new draft with
/// its text and evidence that, once issued, supersedes it.
pub async fn correct(
    state: &AppState,
    who: &Principal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<i64, Failure> {
    let subject = format!("warning:{id}");
    require(state, who, Action::ManageWarnings, &subject).await?;
    let row = read_row(state, id).await?;
    let current = state_of(&row)?;
    if !current.is_issued() || current.is_final() {
        return Err(Failure::BadRequest(format!(
            "only an issued warning still in force is corrected; this one is {current}"
        )));
    }
    let at = crate::stamp(now);
    let new = state
        .store
        .create_warning(
            &store::NewWarning {
                kind: &row.kind,
                signal_id: row.signal_id,
                supersedes: Some(id),
                recipient_kind: &row.recipient_kind,
                recipient: &row.recipient,
                title: &row.title,
                body: &row.body,
                evidence: &row.evidence,
                actor: &who.actor,
                at: &at,
            },
            &audit_entry(who, "warning_correct", &subject, serde_json::json!({})),
        )
        .await?;
    Ok(new)
}

/// Checks an edit's fields: every problem by field, in the language of
/// the message catalog's keys.
async fn check_edit(state: &AppState, kind: Kind, input: &EditInput) -> FieldErrors {
    let mut errors = Vec::new();
    let title = input.title.trim();
    if title.is_empty() {
        errors.push(("title", "warn_error_title_empty".to_string()));
    } else if title.chars().count() > MAX_TITLE {
        errors.push(("title", "warn_error_title_long".to_string()));
    }
    let body = input.body.trim();
    if body.is_empty() {
        errors.push(("body", "warn_error_body_empty".to_string()));
    } else if body.chars().count() > MAX_BODY {
        errors.push(("body", "warn_error_body_long".to_string()));
    }
    let recipient = input.recipient.trim();
    let kinds: &[&str] = match kind {
        Kind::AdministrativeNotice => &["business"],
        Kind::ConsumerAlert => &["public"],
        Kind::RiskReport => &["department", "association"],
    };
    if !kinds.contains(&input.recipient_kind.as_str()) {
        errors.push(("recipient", "warn_error_recipient_kind".to_string()));
        return FieldErrors(errors);
    }
    match input.recipient_kind.as_str() {
        "business" => {
            let known = match recipient.parse::<domain::Uscc>() {
                Ok(uscc) => state
                    .store
                    .entity(uscc.as_str())
                    .await
                    .ok()
                    .flatten()
                    .is_some(),
                Err(_) => false,
            };
            if !known {
                errors.push(("recipient", "warn_error_business".to_string()));
            }
        }
        "department" if state.catalog.department(recipient).is_none() => {
            errors.push(("recipient", "warn_error_department".to_string()));
        }
        "association" if recipient.is_empty() || recipient.chars().count() > MAX_TITLE => {
            errors.push(("recipient", "warn_error_association".to_string()));
        }
        _ => {}
    }
    FieldErrors(errors)
}

/// What an edit came to.
#[derive(Debug)]
pub enum Edited {
    /// The new version.
    Saved(i64),
    /// Refused for its fields; nothing changed.
    Invalid(FieldErrors),
}

/// Edits a draft (regulators) made on `input.version`.
pub async fn edit(
    state: &AppState,
    who: &Principal,
    id: i64,
    input: &EditInput,
    now: DateTime<Utc>,
) -> Result<Edited, Failure> {
    let subject = format!("warning:{id}");
    require(state, who, Action::ManageWarnings, &subject).await?;
    let row = read_row(state, id).await?;
    let kind = kind_of(&row)?;
    let errors = check_edit(state, kind, input).await;
    if !errors.0.is_empty() {
        return Ok(Edited::Invalid(errors));
    }
    let recipient = if input.recipient_kind == "public" {
        String::new()
    } else {
        input.recipient.trim().to_string()
    };
    let at = crate::stamp(now);
    let version = state
        .store
        .edit_warning(
            &store::WarningEdit {
                id,
                version: input.version,
                recipient_kind: &input.recipient_kind,
                recipient: &recipient,
                title: input.title.trim(),
                body: input.body.trim(),
                actor: &who.actor,
                at: &at,
            },
            &audit_entry(
                who,
                "warning_edit",
                &subject,
                serde_json::json!({"version": input.version}),
            ),
        )
        .await
        .map_err(conflict)?;
    Ok(Edited::Saved(version))
}

/// Moves a warning as `complaints::warning` allows, by the party the move
/// belongs to; issuing a correction supersedes the warning it corrects in
/// the same transaction.
pub async fn move_warning(
    state: &AppState,
    who: &Principal,
    id: i64,
    input: &MoveInput,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let subject = format!("warning:{id}");
    let to = State::parse(&input.to)
        .ok_or_else(|| Failure::BadRequest(format!("no state of warning '{}'", input.to)))?;
    let row = read_row(state, id).await;
    let acting = match &row {
        Ok(row) => party(who, row, to).filter(|_| {
            // A recipient acts only on what was issued to it.
            allows(who, Action::ManageWarnings) || state_of(row).is_ok_and(|s| s.is_issued())
        }),
        Err(_) => None,
    };
    let Some(by) = acting else {
        return Err(refuse(state, who, "warning_move", &subject).await);
    };
    let row = row?;
    let kind = kind_of(&row)?;
    let from = state_of(&row)?;
    let reason = input.reason.trim();
    if reason.chars().count() > MAX_BODY {
        return Err(Failure::BadRequest("the reason is too long".into()));
    }
    if to == State::Superseded {
        return Err(Failure::BadRequest(
            "a warning is superseded by issuing its correction".into(),
        ));
    }
    if to == State::Sent && row.recipient.is_empty() && row.recipient_kind != "public" {
        return Err(Failure::BadRequest(
            "name the recipient before issuing the warning".into(),
        ));
    }
    let own_edit = row.last_editor == who.actor;
    if let Err(e) = warning::check(kind, from, to, by, own_edit, reason) {
        state
            .audit(
                &who.actor,
                "warning_move",
                &subject,
                "denied",
                serde_json::json!({"from": from.as_str(), "to": to.as_str(), "reason": e.to_string()}),
            )
            .await?;
        return Err(Failure::BadRequest(e.to_string()));
    }
    let superseded_reason = format!("由第 {id} 号更正替代 / superseded by warning {id}");
    const SUPERSEDABLE: [&str; 2] = ["sent", "acknowledged"];
    let supersede = match (to, row.supersedes) {
        (State::Sent, Some(old)) => Some((old, &SUPERSEDABLE[..], superseded_reason.as_str())),
        _ => None,
    };
    let at = crate::stamp(now);
    state
        .store
        .move_warning(
            &store::WarningMove {
                id,
                from: from.as_str(),
                version: input.version,
                to: to.as_str(),
                actor: &who.actor,
                at: &at,
                reason,
                supersede,
            },
            &audit_entry(
                who,
                "warning_move",
                &subject,
                serde_json::json!({"from": from.as_str(), "to": to.as_str(), "reason": reason, "supersedes": row.supersedes}),
            ),
        )
        .await
        .map_err(conflict)
}

async fn public_alert_of(state: &AppState, row: &WarningRow) -> Result<PublicAlert, Failure> {
    let evidence: Evidence = serde_json::from_str(&row.evidence)
        .map_err(|e| Failure::Internal(format!("warning {}: evidence: {e}", row.id)))?;
    let current = state_of(row)?;
    let superseded_by = if current == State::Superseded {
        state.store.warning_successor(row.id).await?
    } else {
        None
    };
    Ok(PublicAlert {
        id: row.id,
        title: row.title.clone(),
        body: row.body.clone(),
        category: evidence.category.clone(),
        places: named(state, &evidence.place_level, &evidence.places).await,
        sent_at: row.sent_at.clone().unwrap_or_default(),
        state: row.state.clone(),
        state_zh: current.name_zh().to_string(),
        superseded_by,
        series: evidence.series,
        first_day: evidence.first_day,
        last_day: evidence.last_day,
        expected: evidence.expected,
    })
}

/// Issued consumer alerts in force, newest first: public.
pub async fn public_alerts(state: &AppState, offset: i64) -> Result<Listing<PublicAlert>, Failure> {
    let offset = offset.max(0);
    let page = state
        .store
        .warnings(
            &WarningFilter {
                kind: Some(Kind::ConsumerAlert.as_str().into()),
                state: Some(State::Sent.as_str().into()),
                ..WarningFilter::default()
            },
            offset,
            PAGE_ROWS,
        )
        .await?;
    let mut rows = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        rows.push(public_alert_of(state, row).await?);
    }
    Ok(Listing {
        rows,
        total: page.total,
        offset,
    })
}

/// One issued consumer alert: public, also once superseded or withdrawn
/// (saying so). Anything else is not found, whatever it is.
pub async fn public_alert(state: &AppState, id: i64) -> Result<PublicAlert, Failure> {
    let not_found = || Failure::NotFound(format!("consumer alert {id}"));
    let row = state.store.warning(id).await?.ok_or_else(not_found)?;
    let current = state_of(&row)?;
    if row.kind != Kind::ConsumerAlert.as_str() || !current.is_issued() {
        return Err(not_found());
    }
    public_alert_of(state, &row).await
}
