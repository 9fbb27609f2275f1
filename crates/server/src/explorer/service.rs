//! The complaint explorer: complaints filtered by day, category, channel,
//! type, state, district, town, industry, business and words, with their
//! counts by each facet, by month and by town, and the matching complaints
//! a page at a time, their personal data masked. Complaints are internal:
//! only `Action::ViewInternalRecords` reads them, every read audited.
//!
//! Words are searched in the masked text: a complaint is found by what the
//! reader would see, so a search for a phone number or a caller's name
//! finds nothing. The lake is asked for the complaints whose raw text
//! holds the words (at most [`MOST_SEARCHED`]); those whose masked text
//! still holds them are the matches, and every count is over them.

use chrono::NaiveDate;
use domain::Uscc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::access::{Action, Principal};
use crate::http::Failure;
use crate::service::{audit_read, require};

/// Complaints on a page.
pub const PAGE_ROWS: i64 = 50;
/// Raw matches of a search examined at most (the newest).
pub const MOST_SEARCHED: usize = 20_000;
/// The longest search.
pub const MAX_WORDS: usize = 50;

/// What to explore; every field optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ExploreQuery {
    /// Received on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Received on or before (YYYY-MM-DD).
    pub to: Option<String>,
    pub category: Option<String>,
    pub channel: Option<String>,
    pub request_type: Option<String>,
    pub status: Option<String>,
    /// A district (6 digits).
    pub district: Option<String>,
    /// A town (9 digits).
    pub town: Option<String>,
    /// An industry division (2 digits).
    pub industry: Option<String>,
    /// The business's USCC (complaints that carry it).
    pub uscc: Option<String>,
    /// Words in the masked text.
    pub q: Option<String>,
}

/// One value of a facet and how many complaints have it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Facet {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub count: i64,
}

/// A town on the map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TownCount {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub district: String,
    pub latitude: f64,
    pub longitude: f64,
    pub count: i64,
}

/// A complaint as the explorer shows it: its text masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComplaintView {
    pub ticket: String,
    pub received_on: String,
    pub category: String,
    pub channel: String,
    pub request_type: String,
    pub status: String,
    pub division: String,
    pub division_name: String,
    pub division_name_en: String,
    pub industry: String,
    pub industry_name: String,
    pub industry_name_en: String,
    pub business_name: String,
    /// The USCC the complaint carried (none for one linked by name).
    pub subject: Option<String>,
    pub text: String,
}

/// The explorer's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Exploration {
    pub total: i64,
    /// A search matched more than [`MOST_SEARCHED`] raw texts: the counts
    /// are over the newest of them.
    pub capped: bool,
    pub by_category: Vec<Facet>,
    pub by_channel: Vec<Facet>,
    pub by_request_type: Vec<Facet>,
    pub by_status: Vec<Facet>,
    pub by_district: Vec<Facet>,
    pub by_industry: Vec<Facet>,
    /// Complaints per month (YYYY-MM).
    pub by_month: Vec<Facet>,
    /// Every town of the city, with its point and count.
    pub by_town: Vec<TownCount>,
    pub rows: Vec<ComplaintView>,
    pub offset: i64,
}

/// A value of one of the catalog's closed lists, or a refusal naming the
/// field: only such values reach the SQL.
fn one_of(
    state: &AppState,
    field: &str,
    value: &Option<String>,
) -> Result<Option<String>, Failure> {
    let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let allowed = state
        .catalog
        .item("complaint")
        .and_then(|item| item.fields.iter().find(|f| f.name == field))
        .map(|f| f.values.clone())
        .unwrap_or_default();
    if !allowed.iter().any(|a| a == value) {
        return Err(Failure::BadRequest(format!(
            "{field} '{value}' is not one of {}",
            allowed.join(", ")
        )));
    }
    Ok(Some(value.to_string()))
}

fn digits(field: &str, value: &Option<String>, len: usize) -> Result<Option<String>, Failure> {
    let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::BadRequest(format!(
            "{field} '{value}' is not {len} digits"
        )));
    }
    Ok(Some(value.to_string()))
}

fn date(field: &str, value: &Option<String>) -> Result<Option<NaiveDate>, Failure> {
    let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Failure::BadRequest(format!("{field} '{value}' is not a date (YYYY-MM-DD)")))
}

/// The WHERE clause of a query, every value checked or quoted.
fn conditions(state: &AppState, query: &ExploreQuery) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    if let Some(from) = date("from", &query.from)? {
        out.push(format!("received_on >= DATE '{from}'"));
    }
    if let Some(to) = date("to", &query.to)? {
        out.push(format!("received_on <= DATE '{to}'"));
    }
    for (field, value) in [
        ("category", &query.category),
        ("channel", &query.channel),
        ("request_type", &query.request_type),
        ("status", &query.status),
    ] {
        if let Some(value) = one_of(state, field, value)? {
            out.push(format!("{field} = '{value}'"));
        }
    }
    if let Some(district) = digits("district", &query.district, 6)? {
        out.push(format!("starts_with(division, '{district}')"));
    }
    if let Some(town) = digits("town", &query.town, 9)? {
        out.push(format!("division = '{town}'"));
    }
    if let Some(industry) = digits("industry", &query.industry, 2)? {
        out.push(format!("substr(industry, 1, 2) = '{industry}'"));
    }
    if let Some(uscc) = query
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let uscc: Uscc = uscc
            .parse()
            .map_err(|e| Failure::BadRequest(format!("uscc '{uscc}': {e}")))?;
        out.push(format!("subject = '{uscc}'"));
    }
    Ok(out)
}

fn uscc_of(query: &ExploreQuery) -> Result<Option<Uscc>, Failure> {
    let Some(uscc) = query
        .uscc
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    uscc.parse()
        .map(Some)
        .map_err(|e| Failure::BadRequest(format!("uscc '{uscc}': {e}")))
}

fn clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

fn internal(e: lake::sql::SqlError) -> Failure {
    Failure::Internal(format!("complaints: {e}"))
}

/// A message in both languages.
fn message(key: &str) -> (String, String) {
    let zh = crate::i18n::messages(crate::i18n::Lang::Zh)
        .get(key)
        .cloned()
        .unwrap_or_default();
    let en = crate::i18n::messages(crate::i18n::Lang::En)
        .get(key)
        .cloned()
        .unwrap_or_default();
    (zh, en)
}

/// A facet's code in both languages.
fn names(facet: &str, code: &str) -> (String, String) {
    match facet {
        // A district's or a town's: the division table holds both.
        "district" => domain::division::lookup(code)
            .map(|d| (d.name_zh.to_string(), d.name_en.to_string()))
            .unwrap_or_default(),
        "industry" => domain::industry::division(code)
            .map(|d| (d.name_zh.to_string(), d.name_en.to_string()))
            .unwrap_or_default(),
        "month" => (code.to_string(), code.to_string()),
        _ => message(&format!("complaint_{facet}_{code}")),
    }
}

/// Explores the complaints as the query says.
pub async fn explore(
    state: &AppState,
    who: &Principal,
    query: &ExploreQuery,
    offset: i64,
) -> Result<Exploration, Failure> {
    require(state, who, Action::ViewInternalRecords, "complaints").await?;
    let mut conditions = conditions(state, query)?;
    let words = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string);
    if let Some(words) = &words
        && words.chars().count() > MAX_WORDS
    {
        return Err(Failure::BadRequest(format!(
            "search for at most {MAX_WORDS} characters"
        )));
    }
    let sql = lake::sql::Sql::over(&state.lake, &state.catalog)
        .await
        .map_err(internal)?;
    if let Some(uscc) = uscc_of(query)? {
        let linked = state.store.linked_tickets(uscc.as_str()).await?;
        sql.register_strings("linked", "ticket", &linked)
            .map_err(internal)?;
    }
    let mut capped = false;
    if let Some(words) = &words {
        let quoted = words.replace('\'', "''");
        let mut raw = conditions.clone();
        raw.push(format!("strpos(content, '{quoted}') > 0"));
        let found = sql
            .query(&format!(
                "SELECT ticket_number, content FROM complaint {} ORDER BY received_on DESC, ticket_number DESC LIMIT {}",
                clause(&raw),
                MOST_SEARCHED + 1
            ))
            .await
            .map_err(internal)?;
        capped = found.rows.len() > MOST_SEARCHED;
        let matched: Vec<String> = found
            .rows
            .into_iter()
            .take(MOST_SEARCHED)
            .filter_map(|row| {
                let mut values = row.into_iter();
                let ticket = values.next().flatten()?;
                let content = values.next().flatten().unwrap_or_default();
                complaints::mask::mask(&content)
                    .contains(words.as_str())
                    .then_some(ticket)
            })
            .collect();
        sql.register_strings("matched", "ticket", &matched)
            .map_err(internal)?;
        conditions.push("ticket_number IN (SELECT ticket FROM matched)".into());
    }
    let filter = clause(&conditions);
    let count = |rows: lake::sql::Rows| -> Vec<(String, i64)> {
        rows.rows
            .into_iter()
            .filter_map(|row| {
                let mut values = row.into_iter();
                let code = values.next().flatten()?;
                let n = values.next().flatten()?.parse().ok()?;
                Some((code, n))
            })
            .collect()
    };
    let grouped = |expression: &str| {
        format!(
            "SELECT {expression} AS code, COUNT(*) AS n FROM complaint {filter}
             GROUP BY {expression} ORDER BY n DESC, code"
        )
    };
    let mut facets = Vec::new();
    for (facet, expression) in [
        ("category", "category"),
        ("channel", "channel"),
        ("request_type", "request_type"),
        ("status", "status"),
        ("district", "substr(division, 1, 6)"),
        ("industry", "substr(industry, 1, 2)"),
        ("month", "substr(CAST(received_on AS VARCHAR), 1, 7)"),
        ("town", "division"),
    ] {
        let rows = sql.query(&grouped(expression)).await.map_err(internal)?;
        facets.push((facet, count(rows)));
    }
    let facet = |name: &str| -> Vec<Facet> {
        let mut out: Vec<Facet> = facets
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(code, count)| {
                let (name_zh, name_en) = names(name, &code);
                Facet {
                    code,
                    name_zh,
                    name_en,
                    count,
                }
            })
            .collect();
        if name == "month" {
            out.sort_by(|a, b| a.code.cmp(&b.code));
        }
        out
    };
    let towns = facet("town");
    let by_town = domain::division::foshan()
        .iter()
        .filter(|d| d.level == domain::division::Level::Town)
        .filter_map(|d| {
            let (latitude, longitude) = domain::division::centroid(d.code)?;
            Some(TownCount {
                code: d.code.to_string(),
                name_zh: d.name_zh.to_string(),
                name_en: d.name_en.to_string(),
                district: d.parent.unwrap_or_default().to_string(),
                latitude,
                longitude,
                count: towns
                    .iter()
                    .find(|t| t.code == d.code)
                    .map_or(0, |t| t.count),
            })
        })
        .collect();
    let by_category = facet("category");
    let total = by_category.iter().map(|f| f.count).sum();
    let offset = offset.max(0);
    let found = sql
        .query(&format!(
            "SELECT ticket_number, CAST(received_on AS VARCHAR) AS received, category, channel, request_type,
                    status, division, industry, business_name, subject, content
             FROM complaint {filter}
             ORDER BY received_on DESC, ticket_number DESC LIMIT {PAGE_ROWS} OFFSET {offset}"
        ))
        .await
        .map_err(internal)?;
    let rows = found
        .rows
        .into_iter()
        .map(|row| {
            let mut values = row.into_iter();
            let mut next = || values.next().flatten().unwrap_or_default();
            let (ticket, received_on, category, channel, request_type, status) =
                (next(), next(), next(), next(), next(), next());
            let (division, industry, business_name, subject, content) =
                (next(), next(), next(), next(), next());
            let (division_name, division_name_en) = names("district", &division);
            let (industry_name, industry_name_en) = names("industry", &industry);
            ComplaintView {
                division_name,
                division_name_en,
                industry_name,
                industry_name_en,
                ticket,
                received_on,
                category,
                channel,
                request_type,
                status,
                division,
                industry,
                business_name,
                subject: Some(subject).filter(|s| !s.is_empty()),
                text: complaints::mask::mask(&content),
            }
        })
        .collect();
    audit_read(
        state,
        who,
        "view_complaints",
        query.uscc.as_deref().unwrap_or("complaints"),
    )
    .await?;
    Ok(Exploration {
        total,
        capped,
        by_channel: facet("channel"),
        by_request_type: facet("request_type"),
        by_status: facet("status"),
        by_district: facet("district"),
        by_industry: facet("industry"),
        by_month: facet("month"),
        by_category,
        by_town,
        rows,
        offset,
    })
}

/// A warning to the business, as its history lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningLine {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub title: String,
    pub sent_at: Option<String>,
}

/// A business's complaints: every complaint that carries its code or was
/// linked to it by name, their counts, and the warnings issued or drafted
/// to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct History {
    pub uscc: String,
    pub name: String,
    pub complaints: Exploration,
    pub warnings: Vec<WarningLine>,
}

/// One business's complaint history (the government side).
pub async fn history(
    state: &AppState,
    who: &Principal,
    uscc: &str,
    query: &ExploreQuery,
    offset: i64,
) -> Result<History, Failure> {
    require(state, who, Action::ViewInternalRecords, uscc).await?;
    let code: Uscc = uscc
        .trim()
        .parse()
        .map_err(|e| Failure::BadRequest(format!("uscc '{uscc}': {e}")))?;
    let entity = state
        .store
        .entity(code.as_str())
        .await?
        .ok_or_else(|| Failure::NotFound(format!("entity {code}")))?;
    let query = ExploreQuery {
        uscc: Some(code.to_string()),
        ..query.clone()
    };
    let complaints = explore(state, who, &query, offset).await?;
    let warnings = state
        .store
        .warnings(
            &store::WarningFilter {
                recipient: Some(("business".into(), code.to_string())),
                ..Default::default()
            },
            0,
            100,
        )
        .await?
        .rows
        .into_iter()
        .map(|w| WarningLine {
            id: w.id,
            kind: w.kind,
            state: w.state,
            title: w.title,
            sent_at: w.sent_at,
        })
        .collect();
    Ok(History {
        uscc: code.to_string(),
        name: entity.name,
        complaints,
        warnings,
    })
}
