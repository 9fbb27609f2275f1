//! Identity before access: how an account comes to speak for an enterprise.
//!
//! Facts on public pages (the code, the legal representative's name) prove
//! nothing. A registration is a *claim*: the platform sends a one-time code
//! to the contact the enterprise registered with the market regulator (the
//! `registration_contact` item, internal), and only someone who can read
//! that phone or mailbox can confirm it. Every account the enterprise
//! already has is told of every claim. The first account is created on
//! confirmation; a further one waits for the approval of the enterprise's
//! administrator (its oldest enabled account), who may also refuse it.
//!
//! ```text
//! claim ──code sent──▶ awaiting_code ──right code, no account yet──▶ approved
//!                           │  └──right code, accounts exist──▶ awaiting_approval ──admin──▶ approved | refused
//!                           └──5 wrong codes, or 15 minutes──▶ (no longer confirmable)
//! ```
//!
//! Throttled per address ([`Attempt::Register`], [`Attempt::Confirm`]) and per claim (attempts
//! counted before the code is compared). Nothing here tells whether a user
//! name exists to anyone who has not proven the enterprise's contact.

use std::net::IpAddr;

use chrono::Duration;
use domain::Uscc;
use serde::{Deserialize, Serialize};
use store::{ClaimAccount, ClaimMove, ClaimRow, NewClaim, NewMessage, RoleGrant};

use crate::access::{Principal, Role};
use crate::http::Failure;
use crate::http::throttle::{Attempt, admit};
use crate::{AppState, secrets};

/// How long a code may be confirmed.
pub const CODE_MINUTES: i64 = 15;
/// Confirmations compared per claim.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Claims per enterprise in a day: each sends a text message to its
/// contact and a notice to its accounts, which no one may flood.
pub const MAX_CLAIMS_PER_DAY: usize = 5;

/// A claim to speak for an enterprise, as the applicant makes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub uscc: String,
    /// The legal representative's name, as the registry holds it.
    pub legal_representative: String,
    /// `legal_representative` or `agent`.
    pub capacity: String,
    /// Who registers: the legal representative or the authorised agent.
    pub applicant_name: String,
}

/// The code from the message, and the account wanted.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Confirmation {
    pub claim: i64,
    pub code: String,
    pub username: String,
    pub password: String,
}

/// What a claim or confirmation came to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimOutcome {
    pub claim: i64,
    /// `awaiting_code`, `awaiting_approval` or `approved`.
    pub state: String,
    /// What happens next, in Chinese and English.
    pub message_zh: String,
    pub message_en: String,
}

/// The contact an enterprise registered with the market regulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub liaison: String,
    pub phone: String,
    pub email: Option<String>,
}

/// The latest registered contact of `uscc`, read from the lake.
pub async fn registered_contact(state: &AppState, uscc: &Uscc) -> Result<Option<Contact>, Failure> {
    let internal = |e: lake::sql::SqlError| Failure::Internal(format!("registered contact: {e}"));
    let sql = lake::sql::Sql::over(&state.lake, &state.catalog)
        .await
        .map_err(internal)?;
    // A `Uscc` holds only digits and capital letters: safe inside quotes.
    let rows = sql
        .query(&format!(
            "SELECT liaison_name, contact_phone, contact_email FROM registration_contact
             WHERE subject = '{uscc}' ORDER BY _ingested_at DESC, _batch DESC, _row DESC LIMIT 1"
        ))
        .await
        .map_err(internal)?;
    Ok(rows.rows.into_iter().next().and_then(|row| {
        let mut values = row.into_iter();
        let liaison = values.next().flatten().unwrap_or_default();
        let phone = values.next().flatten()?;
        let email = values.next().flatten().filter(|e| !e.is_empty());
        Some(Contact {
            liaison,
            phone,
            email,
        })
    }))
}

fn parse_code(text: &str) -> Result<Uscc, Failure> {
    Uscc::parse_input(text)
        .map(|p| p.value)
        .map_err(|e| Failure::BadRequest(format!("'{text}' is not a valid code: {e}")))
}

/// The registry's checks of a claim: an operating entity whose legal
/// representative is the one named, and an applicant who says who they are.
async fn check_claim(state: &AppState, uscc: &Uscc, form: &Registration) -> Result<(), Failure> {
    let Some(entity) = state.store.entity(uscc.as_str()).await? else {
        return Err(Failure::BadRequest(format!(
            "{uscc} is not in the registry"
        )));
    };
    if entity.status != "operating" {
        return Err(Failure::BadRequest(format!(
            "{uscc} is {} in the registry, not operating",
            entity.status
        )));
    }
    if form.legal_representative.trim() != entity.legal_representative.trim() {
        return Err(Failure::BadRequest(
            "the legal representative does not match the registry".into(),
        ));
    }
    let applicant = form.applicant_name.trim();
    if applicant.is_empty() || applicant.chars().count() > 50 {
        return Err(Failure::BadRequest(
            "give the applicant's name, at most 50 characters".into(),
        ));
    }
    match form.capacity.as_str() {
        "legal_representative" if applicant != entity.legal_representative.trim() => {
            Err(Failure::BadRequest(
                "registering as the legal representative, the applicant must be them".into(),
            ))
        }
        "legal_representative" | "agent" => Ok(()),
        other => Err(Failure::BadRequest(format!(
            "capacity '{other}' is neither legal_representative nor agent"
        ))),
    }
}

fn capacity_zh(capacity: &str) -> &'static str {
    if capacity == "legal_representative" {
        "法定代表人"
    } else {
        "经办人"
    }
}

/// Messages telling every account of the enterprise about a claim.
async fn notices_to_accounts(
    state: &AppState,
    uscc: &Uscc,
    subject: &str,
    body: &str,
) -> Result<Vec<NewMessage>, Failure> {
    Ok(state
        .store
        .users_with_role(Role::Enterprise.as_str(), uscc.as_str())
        .await?
        .into_iter()
        .map(|u| NewMessage {
            channel: "account".into(),
            recipient: format!("user:{}", u.username),
            subject: subject.into(),
            body: body.into(),
        })
        .collect())
}

/// Makes a claim: checks it against the registry, sends a one-time code to
/// the registered contact and tells the enterprise's accounts. Audited,
/// refusals too.
pub async fn register(
    state: &AppState,
    ip: IpAddr,
    form: &Registration,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ClaimOutcome, Failure> {
    if !admit(state, Attempt::Register, ip) {
        return Err(Failure::TooManyAttempts);
    }
    let uscc = parse_code(&form.uscc)?;
    let refused = |why: String| async move {
        state
            .audit(
                "anonymous",
                "enterprise_claim",
                uscc.as_str(),
                "denied",
                serde_json::json!({"reason": why, "ip": ip.to_string()}),
            )
            .await?;
        Err::<ClaimOutcome, Failure>(Failure::BadRequest(why))
    };
    if let Err(Failure::BadRequest(why)) = check_claim(state, &uscc, form).await {
        return refused(why).await;
    }
    let since = crate::stamp(now - Duration::hours(24));
    let today = state
        .store
        .claims_of(uscc.as_str())
        .await?
        .iter()
        .filter(|c| c.created_at >= since)
        .count();
    if today >= MAX_CLAIMS_PER_DAY {
        return refused(format!(
            "{uscc} has had {MAX_CLAIMS_PER_DAY} claims in a day; try tomorrow or ask the credit centre"
        ))
        .await;
    }
    let Some(contact) = registered_contact(state, &uscc).await? else {
        return refused(format!(
            "{uscc} has no contact registered with the market regulator; ask the credit centre"
        ))
        .await;
    };
    let code = one_time_code()?;
    let expires = crate::stamp(now + Duration::minutes(CODE_MINUTES));
    let applicant = form.applicant_name.trim();
    let capacity = capacity_zh(&form.capacity);
    let body = format!(
        "【信用平台】验证码 {code}，{CODE_MINUTES} 分钟内有效。{applicant}（{capacity}）申请代表 {uscc} 开通企业账户。\
         如非本企业申请，请勿告知任何人，并联系信用中心。"
    );
    let mut messages = vec![NewMessage {
        channel: "sms".into(),
        recipient: contact.phone.clone(),
        subject: "企业账户验证码".into(),
        body: body.clone(),
    }];
    if let Some(email) = &contact.email {
        messages.push(NewMessage {
            channel: "email".into(),
            recipient: email.clone(),
            subject: "企业账户验证码 / Enterprise account code".into(),
            body,
        });
    }
    messages.extend(
        notices_to_accounts(
            state,
            &uscc,
            "有人申请代表本企业开通账户",
            &format!(
                "{applicant}（{capacity}）于 {} 申请代表本企业开通账户，验证码已发往本企业在市场监管部门登记的联络方式。\
                 如非本企业所为，请在“账户申请”页面拒绝并联系信用中心。",
                crate::stamp(now)
            ),
        )
        .await?,
    );
    let claim = NewClaim {
        uscc: uscc.as_str(),
        applicant_name: applicant,
        capacity: &form.capacity,
        code_sha256: &secrets::sha256_hex(&code),
        code_expires_at: &expires,
    };
    let id = state
        .store
        .create_claim(&claim, &messages, &crate::stamp(now))
        .await?;
    state
        .audit(
            "anonymous",
            "enterprise_claim",
            uscc.as_str(),
            "ok",
            serde_json::json!({"claim": id, "capacity": form.capacity, "ip": ip.to_string()}),
        )
        .await?;
    Ok(ClaimOutcome {
        claim: id,
        state: "awaiting_code".into(),
        message_zh: format!(
            "验证码已发往该企业在市场监管部门登记的联络手机和邮箱，{CODE_MINUTES} 分钟内有效。"
        ),
        message_en: format!(
            "A code was sent to the phone and e-mail the enterprise registered with the market regulator; it is valid for {CODE_MINUTES} minutes."
        ),
    })
}

/// Six random digits.
fn one_time_code() -> Result<String, Failure> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| Failure::Internal(e.to_string()))?;
    Ok(format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000))
}

/// Confirms a claim with its code and chooses the account. The first
/// account of an enterprise is created at once; a further one waits for the
/// administrator. Audited.
pub async fn confirm(
    state: &AppState,
    ip: IpAddr,
    form: &Confirmation,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ClaimOutcome, Failure> {
    if !admit(state, Attempt::Confirm, ip) {
        return Err(Failure::TooManyAttempts);
    }
    let subject = format!("claim:{}", form.claim);
    let wrong = || Failure::BadRequest("the code is wrong or no longer valid".into());
    let Some(claim) = state
        .store
        .begin_claim_confirmation(form.claim, &crate::stamp(now), MAX_CODE_ATTEMPTS)
        .await?
    else {
        state
            .audit(
                "anonymous",
                "enterprise_claim_confirm",
                &subject,
                "denied",
                serde_json::json!({"reason": "not confirmable", "ip": ip.to_string()}),
            )
            .await?;
        return Err(wrong());
    };
    if !secrets::same_secret(&secrets::sha256_hex(form.code.trim()), &claim.code_sha256) {
        state
            .audit(
                "anonymous",
                "enterprise_claim_confirm",
                &subject,
                "failed",
                serde_json::json!({"reason": "wrong code", "attempt": claim.attempts, "ip": ip.to_string()}),
            )
            .await?;
        return Err(wrong());
    }
    // Past this point the asker has proven the registered contact.
    let username = form.username.trim();
    crate::accounts::service::check_new_account(username, &form.password)?;
    if state.store.user_by_name(username).await?.is_some() {
        return Err(Failure::BadRequest(format!(
            "the user name '{username}' is taken; choose another"
        )));
    }
    let hash = state
        .hashing
        .hash(&form.password)
        .await
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let uscc = parse_code(&claim.uscc)?;
    let existing = state
        .store
        .users_with_role(Role::Enterprise.as_str(), uscc.as_str())
        .await?;
    if existing.is_empty() {
        let user_id = approve(state, &claim, "awaiting_code", username, &hash, "code", now).await?;
        state
            .audit(
                &format!("user:{username}"),
                "enterprise_register",
                uscc.as_str(),
                "ok",
                serde_json::json!({"claim": claim.id, "user": user_id, "capacity": claim.capacity}),
            )
            .await?;
        return Ok(ClaimOutcome {
            claim: claim.id,
            state: "approved".into(),
            message_zh: "账户已开通，请登录。".into(),
            message_en: "The account is open; sign in.".into(),
        });
    }
    let notices = notices_to_accounts(
        state,
        &uscc,
        "待审批的企业账户申请",
        &format!(
            "{}（{}）已用验证码确认申请，拟用账户名 {username}，等待本企业管理员在“账户申请”页面审批。",
            claim.applicant_name,
            capacity_zh(&claim.capacity)
        ),
    )
    .await?;
    state
        .store
        .move_claim(
            claim.id,
            &ClaimMove {
                from: "awaiting_code",
                to: "awaiting_approval",
                chosen: Some((username, &hash)),
                decided_by: None,
            },
            &notices,
            &crate::stamp(now),
        )
        .await
        .map_err(conflict)?;
    state
        .audit(
            "anonymous",
            "enterprise_claim_confirm",
            &subject,
            "ok",
            serde_json::json!({"awaiting": "approval", "ip": ip.to_string()}),
        )
        .await?;
    Ok(ClaimOutcome {
        claim: claim.id,
        state: "awaiting_approval".into(),
        message_zh: "该企业已有账户：申请已提交，待企业管理员审批。".into(),
        message_en:
            "The enterprise has an account already: the claim awaits its administrator's approval."
                .into(),
    })
}

fn conflict(e: store::StoreError) -> Failure {
    match e {
        store::StoreError::Conflict(why) => Failure::BadRequest(why),
        other => other.into(),
    }
}

async fn approve(
    state: &AppState,
    claim: &ClaimRow,
    from: &str,
    username: &str,
    password_hash: &str,
    decided_by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, Failure> {
    let roles = [RoleGrant {
        role: Role::Enterprise.as_str().into(),
        subject: claim.uscc.clone(),
    }];
    let display = format!("{}（{}）", claim.applicant_name, claim.uscc);
    let account = ClaimAccount {
        username,
        display_name: &display,
        password_hash,
        roles: &roles,
    };
    state
        .store
        .approve_claim(
            claim.id,
            from,
            &account,
            decided_by,
            &[],
            &crate::stamp(now),
        )
        .await
        .map_err(conflict)
}

/// The enterprise's administrator: its oldest enabled account. Only it
/// approves or refuses further accounts.
async fn is_administrator(state: &AppState, who: &Principal, uscc: &str) -> Result<bool, Failure> {
    let Some(name) = who.actor.strip_prefix("user:") else {
        return Ok(false);
    };
    let accounts = state
        .store
        .users_with_role(Role::Enterprise.as_str(), uscc)
        .await?;
    Ok(accounts.first().is_some_and(|a| a.username == name))
}

/// An enterprise's claims, for its accounts; whether the asker may decide.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Claims {
    pub uscc: String,
    pub administrator: bool,
    #[schema(value_type = Vec<Object>)]
    pub claims: Vec<ClaimRow>,
    /// The notices sent to the asker's account, newest first.
    #[schema(value_type = Vec<Object>)]
    pub notices: Vec<store::OutboxRow>,
}

pub async fn claims(state: &AppState, who: &Principal) -> Result<Claims, Failure> {
    let uscc = crate::accounts::service::own_enterprise(state, who)
        .await?
        .to_string();
    let claims = state.store.claims_of(&uscc).await?;
    state
        .audit(
            &who.actor,
            "view_claims",
            &uscc,
            "ok",
            serde_json::json!({}),
        )
        .await?;
    let notices = state.store.outbox(Some(&who.actor), 50).await?;
    Ok(Claims {
        administrator: is_administrator(state, who, &uscc).await?,
        uscc,
        claims,
        notices,
    })
}

/// The administrator approves (`approve`) or refuses (`refuse`) a claim
/// awaiting approval. Audited, refusals too.
pub async fn decide(
    state: &AppState,
    who: &Principal,
    id: i64,
    approve_it: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    let uscc = crate::accounts::service::own_enterprise(state, who)
        .await?
        .to_string();
    let subject = format!("claim:{id}");
    let claim = state.store.claim(id).await?;
    let allowed = claim.as_ref().is_some_and(|c| c.uscc == uscc)
        && is_administrator(state, who, &uscc).await?;
    let Some(claim) = claim.filter(|_| allowed) else {
        state
            .audit(
                &who.actor,
                "enterprise_claim_decide",
                &subject,
                "denied",
                serde_json::json!({}),
            )
            .await?;
        return Err(Failure::Forbidden);
    };
    let (Some(username), Some(hash)) = (claim.username.clone(), claim.password_hash.clone()) else {
        return Err(Failure::BadRequest(format!(
            "claim {id} is {}, not awaiting approval",
            claim.state
        )));
    };
    if approve_it {
        approve(
            state,
            &claim,
            "awaiting_approval",
            &username,
            &hash,
            &who.actor,
            now,
        )
        .await?;
    } else {
        state
            .store
            .move_claim(
                id,
                &ClaimMove {
                    from: "awaiting_approval",
                    to: "refused",
                    chosen: None,
                    decided_by: Some(&who.actor),
                },
                &[],
                &crate::stamp(now),
            )
            .await
            .map_err(conflict)?;
    }
    state
        .audit(
            &who.actor,
            "enterprise_claim_decide",
            &subject,
            "ok",
            serde_json::json!({"approved": approve_it, "username": username}),
        )
        .await
}
