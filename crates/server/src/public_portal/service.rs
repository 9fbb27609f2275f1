//! The public portal (in the manner of 信用中国): the red and black lists
//! with their members, and the open-data files of public records. All of
//! it is public; the public's calls to the API are rate-limited per
//! address (`throttle::Attempt::PublicApi`).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use credit::Facts;
use domain::catalog::{Item, Publicity, RecordKind};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::access::Principal;
use crate::http::Failure;
use crate::http::throttle::{self, Attempt};
use crate::registry::service::published;

/// Members on a page.
pub const PAGE_ROWS: usize = 50;
/// Records in one page of the open-data API.
pub const OPEN_DATA_PAGE: i64 = 1000;

/// The licence every open-data file is published under.
pub const LICENCE_ZH: &str = "本数据依据《中华人民共和国政府信息公开条例》和公共信用信息公示规定开放，采用知识共享署名 4.0 国际许可协议（CC BY 4.0）：可自由复制、分发和改编，须注明“来源：公共信用信息平台”及获取时间。仅含公示期内的信息；已修复、已更正或公示期届满的记录不再公开，使用者应定期更新，不得继续传播已停止公示的信息。";
pub const LICENCE_EN: &str = "Published under the Regulations on the Disclosure of Government Information and the rules on publicity of public credit information, licensed CC BY 4.0: copy, share and adapt freely, crediting \"Source: the public credit information platform\" and the time of retrieval. Only records within their publicity periods are included; records repaired, corrected or past their period are no longer public: refresh your copy and stop publishing what has been withdrawn.";
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";

/// The public's calls to the API, per address and minute; signed-in
/// callers are accountable and not counted.
pub fn rate_limit(state: &AppState, who: &Principal) -> Result<(), Failure> {
    if !who.is_anonymous() || throttle::admit(state, Attempt::PublicApi, who.ip) {
        return Ok(());
    }
    Err(Failure::TooManyAttempts)
}

/// A list with how many are on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListSummary {
    pub id: String,
    /// `black` or `red`.
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub name_zh: String,
    pub name_en: String,
    pub basis_zh: String,
    pub basis_en: String,
    pub members: usize,
}

/// One entity on a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub uscc: String,
    pub name: String,
    pub division: String,
    pub division_name: String,
}

/// The lists, as of the latest evaluation run.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lists {
    pub run: Option<i64>,
    pub as_of: Option<String>,
    pub lists: Vec<ListSummary>,
}

/// One list's members, a page of them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListPage {
    pub list: ListSummary,
    pub run: Option<i64>,
    pub as_of: Option<String>,
    pub members: Vec<Member>,
    /// Members that match the filter.
    pub total: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MemberQuery {
    /// A district's code (6 digits) or a town's (9).
    pub division: Option<String>,
    /// Any part of the name or code.
    pub q: Option<String>,
    pub offset: Option<usize>,
}

/// Every list's members as of one run, built once per run.
pub struct Membership {
    pub run: i64,
    pub as_of: String,
    pub by_list: BTreeMap<String, Vec<Member>>,
}

fn summary(list: &credit::lists::List, members: usize) -> ListSummary {
    ListSummary {
        id: list.id.clone(),
        kind: list.kind.as_str().into(),
        kind_zh: list.kind.name_zh().into(),
        kind_en: list.kind.name_en().into(),
        name_zh: list.name_zh.clone(),
        name_en: list.name_en.clone(),
        basis_zh: list.basis_zh.clone(),
        basis_en: list.basis_en.clone(),
        members,
    }
}

/// The members of every list as of the latest run: read from the run's
/// facts by the lists' own conditions (as credit checks read them), kept
/// until a newer run exists.
async fn membership(state: &AppState) -> Result<Option<Arc<Membership>>, Failure> {
    let Some(run) = state.store.latest_evaluation_run().await? else {
        return Ok(None);
    };
    let mut cached = state.list_members.lock().await;
    if let Some(held) = cached.as_ref().filter(|m| m.run == run.id) {
        return Ok(Some(Arc::clone(held)));
    }
    let measures = &state.config.measures;
    let mut codes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (uscc, facts) in state.store.run_facts(run.id).await? {
        let values = serde_json::from_str(&facts)
            .map_err(|e| Failure::Internal(format!("run {}: facts of {uscc}: {e}", run.id)))?;
        for list in measures.lists_of(&Facts(values)) {
            codes.entry(list.id.clone()).or_default().push(uscc.clone());
        }
    }
    let mut by_list = BTreeMap::new();
    for (list, members) in codes {
        let mut rows = Vec::with_capacity(members.len());
        for chunk in members.chunks(500) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            rows.extend(state.store.entities_with_codes(&chunk).await?);
        }
        let mut named: Vec<Member> = rows
            .into_iter()
            .map(|e| Member {
                division_name: domain::division::lookup(&e.division)
                    .map_or(e.division.clone(), |d| d.name_zh.to_string()),
                uscc: e.uscc,
                name: e.name,
                division: e.division,
            })
            .collect();
        named.sort_by(|a, b| a.name.cmp(&b.name).then(a.uscc.cmp(&b.uscc)));
        by_list.insert(list, named);
    }
    let membership = Arc::new(Membership {
        run: run.id,
        as_of: run.as_of,
        by_list,
    });
    *cached = Some(Arc::clone(&membership));
    Ok(Some(membership))
}

/// Every list with its basis and how many are on it.
pub async fn lists(state: &AppState) -> Result<Lists, Failure> {
    let membership = membership(state).await?;
    let count = |id: &str| {
        membership
            .as_ref()
            .and_then(|m| m.by_list.get(id))
            .map_or(0, Vec::len)
    };
    Ok(Lists {
        run: membership.as_ref().map(|m| m.run),
        as_of: membership.as_ref().map(|m| m.as_of.clone()),
        lists: state
            .config
            .measures
            .lists
            .iter()
            .map(|l| summary(l, count(&l.id)))
            .collect(),
    })
}

/// A page of one list's members, filtered by place and name.
pub async fn list_page(
    state: &AppState,
    id: &str,
    query: &MemberQuery,
) -> Result<ListPage, Failure> {
    let Some(list) = state.config.measures.list(id) else {
        return Err(Failure::NotFound(format!("no list '{id}'")));
    };
    let membership = membership(state).await?;
    let division = query.division.as_deref().map(str::trim).unwrap_or("");
    if !division.is_empty()
        && (!division.chars().all(|c| c.is_ascii_digit()) || division.len() > 12)
    {
        return Err(Failure::BadRequest(format!(
            "'{division}' is not a division code"
        )));
    }
    let text = query.q.as_deref().map(str::trim).unwrap_or("");
    let all: &[Member] = membership
        .as_ref()
        .and_then(|m| m.by_list.get(id))
        .map_or(&[], Vec::as_slice);
    let matching: Vec<&Member> = all
        .iter()
        .filter(|m| division.is_empty() || m.division.starts_with(division))
        .filter(|m| {
            text.is_empty() || m.name.contains(text) || m.uscc.contains(&text.to_ascii_uppercase())
        })
        .collect();
    let offset = query.offset.unwrap_or(0).min(matching.len());
    Ok(ListPage {
        list: summary(list, all.len()),
        run: membership.as_ref().map(|m| m.run),
        as_of: membership.as_ref().map(|m| m.as_of.clone()),
        total: matching.len(),
        members: matching
            .into_iter()
            .skip(offset)
            .take(PAGE_ROWS)
            .cloned()
            .collect(),
        offset,
    })
}

/// An item the open-data files carry: event records the catalog publishes.
pub fn open_item(item: &Item) -> bool {
    item.record == RecordKind::Event
        && matches!(
            item.publicity,
            Publicity::Public | Publicity::PenaltyPeriod { .. } | Publicity::WhileListed { .. }
        )
}

/// A dataset of the open-data page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dataset {
    pub item: String,
    pub name_zh: String,
    pub name_en: String,
    pub department_zh: String,
    pub department_en: String,
    /// How long its records are published, in words.
    pub publicity_zh: String,
    pub publicity_en: String,
    pub fields: Vec<DatasetField>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DatasetField {
    pub name: String,
    pub name_zh: String,
}

pub fn datasets(state: &AppState) -> Vec<Dataset> {
    state
        .catalog
        .items
        .iter()
        .filter(|i| open_item(i))
        .map(|item| {
            let department = state.catalog.department(&item.department);
            let (publicity_zh, publicity_en) = match item.publicity {
                Publicity::PenaltyPeriod { .. } => (
                    "公示期内（按失信程度，最长三年；可信用修复提前停止）",
                    "within the publicity period (by severity, up to three years; ended early by repair)",
                ),
                Publicity::WhileListed { .. } => ("列入名单期间", "while on the list"),
                _ => ("长期公开", "published without a period"),
            };
            Dataset {
                item: item.id.clone(),
                name_zh: item.name_zh.clone(),
                name_en: item.name_en.clone(),
                department_zh: department.map_or(item.department.clone(), |d| d.name_zh.clone()),
                department_en: department.map_or(item.department.clone(), |d| d.name_en.clone()),
                publicity_zh: publicity_zh.into(),
                publicity_en: publicity_en.into(),
                fields: item
                    .fields
                    .iter()
                    .map(|f| DatasetField {
                        name: f.name.clone(),
                        name_zh: f.name_zh.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// One page of an open-data file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OpenDataPage {
    pub item: String,
    pub licence_zh: String,
    pub licence_en: String,
    pub licence_url: String,
    pub generated_at: String,
    /// The records, each field by its catalog name, with `under_objection`.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Pass as `after` for the next page; none on the last.
    pub next: Option<i64>,
}

/// The open item `id`, or not found.
pub fn open_dataset<'a>(state: &'a AppState, id: &str) -> Result<&'a Item, Failure> {
    state
        .catalog
        .item(id)
        .filter(|i| open_item(i))
        .ok_or_else(|| Failure::NotFound(format!("no open dataset '{id}'")))
}

/// The records of an open item after event `after`, those published
/// today, each as its values in the order of [`open_data_header`]; and the
/// cursor for the next page, if there may be one.
pub async fn open_data_page(
    state: &AppState,
    item: &Item,
    after: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<Vec<String>>, Option<i64>), Failure> {
    let today = crate::beijing_date(now).to_string();
    let rows = state
        .store
        .item_events_after(&item.id, after, limit)
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let records = rows
        .into_iter()
        .filter(|(_, _, event)| published(item, event, &today))
        .map(|(_, uscc, event)| {
            let mut values: Vec<String> = item
                .fields
                .iter()
                .map(|f| {
                    if f.name == item.subject_field {
                        return uscc.clone();
                    }
                    event
                        .detail
                        .get(&f.name)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            values.push(event.publicity_until.clone().unwrap_or_default());
            values.push(
                if event.objection.is_some() {
                    "true"
                } else {
                    "false"
                }
                .into(),
            );
            values.push(format!(
                "{}:{}:{}",
                event.item, event.batch_id, event.source_row
            ));
            values
        })
        .collect();
    Ok((records, next))
}

/// The header of an open-data file: the item's fields, then the first
/// day the platform no longer publishes the record (named apart from any
/// field the department sends), whether an objection to it is open, and its lineage.
pub fn open_data_header(item: &Item) -> Vec<String> {
    item.fields
        .iter()
        .map(|f| f.name.clone())
        .chain(["publicity_ends_on", "under_objection", "record"].map(String::from))
        .collect()
}
