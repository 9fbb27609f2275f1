//! The holes an outside probe found (issue 17), one test each: every one of
//! them worked against the server before, and each must stay closed.

use super::*;

/// An operating enterprise of the demo city, the `from_end`-th from the end
/// of a search, skipping those other tests register.
async fn operating_enterprise(server: &Server, from_end: usize) -> String {
    let centre = demo_user(server, "centre").await;
    let hits = get_json(&centre, server.url("/api/v1/entities?q=有限公司")).await;
    hits.as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|h| h["status"] == "operating")
        .map(|h| h["uscc"].as_str().unwrap().to_string())
        .nth(from_end)
        .unwrap()
}

/// Enterprises other tests register accounts for: the demo enterprise and
/// the last operating hits of the search they read.
async fn taken_by_other_tests(server: &Server, data: &Path) -> Vec<String> {
    let mut taken = vec![enterprise_uscc(data)];
    for from_end in 0..8 {
        taken.push(operating_enterprise(server, from_end).await);
    }
    taken
}

async fn post(server: &Server, path: &str, body: Value) -> reqwest::Response {
    client()
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn add_user(data: &Path, username: &str, role: &str) {
    xinyong(data)
        .args([
            "user",
            "add",
            username,
            "--role",
            role,
            "--password",
            "Security-test-2026",
        ])
        .assert()
        .success();
}

/// Finding 1: the public facts of the registry no longer open an account.
/// The code goes to the registered contact; a further account waits for the
/// enterprise's administrator, whom every claim is told of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_a_claim_proven_by_the_registered_contact() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let uscc = operating_enterprise(&server, 4).await;
    let representative = representative_of(&server, &uscc).await;
    let claim = serde_json::json!({
        "uscc": uscc, "legal_representative": representative, "capacity": "agent",
        "applicant_name": "冒名者", "username": "attacker", "password": "Attacker-pass-2026",
    });

    // The probe's request: it makes a claim, and nothing more.
    let claimed = post(&server, "/api/v1/finance/register", claim.clone()).await;
    assert_eq!(claimed.status(), StatusCode::ACCEPTED);
    let claimed: Value = claimed.json().await.unwrap();
    assert_eq!(claimed["state"], "awaiting_code");
    let (code, phone) = code_sent_for(data, &uscc);
    assert!(!claimed.to_string().contains(&code), "{claimed}");
    let (_, status) = sign_in(&server, "attacker", "Attacker-pass-2026").await;
    assert_ne!(status, StatusCode::SEE_OTHER, "no account without the code");
    // Nothing tells whether a user name exists: a claim naming one that
    // does is answered as one naming one that does not.
    let mut taken = claim.clone();
    taken["username"] = "admin".into();
    let answered: Value = post(&server, "/api/v1/finance/register", taken)
        .await
        .json()
        .await
        .unwrap();
    let without_id = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("claim");
        v
    };
    assert_eq!(without_id(&answered), without_id(&claimed));
    // The code went to the contact the enterprise registered, not to the
    // asker: a mobile number, as the registration_contact item holds it.
    assert!(phone.starts_with('1') && phone.len() == 11, "{phone}");

    // Guessing: five wrong codes, and then not even the right one works.
    let confirm = |claim: &Value, code: &str, username: &str| {
        serde_json::json!({"claim": claim["claim"], "code": code, "username": username,
            "password": "Finance-test-2026"})
    };
    for wrong in ["000000", "111111", "222222", "333333", "444444"] {
        let wrong = if wrong == code { "555555" } else { wrong };
        let refused = post(
            &server,
            "/api/v1/finance/register/confirm",
            confirm(&claimed, wrong, "attacker"),
        )
        .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
    let spent = post(
        &server,
        "/api/v1/finance/register/confirm",
        confirm(&claimed, &code, "attacker"),
    )
    .await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);

    // Whoever holds the registered phone opens the first account.
    let first = claim_account(&server, &uscc, "claim-first").await;
    assert_eq!(first["state"], "approved", "{first}");
    let (owner, status) = sign_in(&server, "claim-first", "Finance-test-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let owner_csrf = session_csrf(&server, &owner).await;

    // A further claim: the first account is told, and even with the right
    // code the new account waits for its approval.
    let second = claim_account(&server, &uscc, "claim-second").await;
    assert_eq!(second["state"], "awaiting_approval", "{second}");
    let notices = outbox(data, Some("user:claim-first"));
    assert!(notices.len() >= 2, "{notices:?}");
    let (_, status) = sign_in(&server, "claim-second", "Finance-test-2026").await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    let listed = get_json(&owner, server.url("/api/v1/finance/claims")).await;
    assert_eq!(listed["administrator"], true);
    assert!(listed["notices"].as_array().unwrap().len() >= 2);
    let pending = second["claim"].as_i64().unwrap();
    // No one else decides: the public, another enterprise, a bank.
    let decide = |who: &reqwest::Client, csrf: &str, decision: &str| {
        who.post(server.url(&format!("/api/v1/finance/claims/{pending}/{decision}")))
            .header("x-csrf-token", csrf.to_string())
            .send()
    };
    let anonymous = decide(&client(), "", "approve").await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let other = demo_user(&server, "enterprise").await;
    let other_csrf = session_csrf(&server, &other).await;
    assert_eq!(
        decide(&other, &other_csrf, "approve")
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let bank = demo_user(&server, "bank").await;
    let bank_csrf = session_csrf(&server, &bank).await;
    assert_eq!(
        decide(&bank, &bank_csrf, "approve").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&owner, &owner_csrf, "approve")
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let (_, status) = sign_in(&server, "claim-second", "Finance-test-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Approved once: a second decision is refused.
    assert_eq!(
        decide(&owner, &owner_csrf, "refuse")
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );

    // The administrator refuses a third; it never signs in.
    let third = claim_account(&server, &uscc, "claim-third").await;
    assert_eq!(third["state"], "awaiting_approval");
    // That was the day's fifth claim on this enterprise: no one may flood
    // its phone and accounts with more.
    let flood = post(&server, "/api/v1/finance/register", claim.clone()).await;
    assert_eq!(flood.status(), StatusCode::BAD_REQUEST);
    assert!(flood.text().await.unwrap().contains("claims in a day"));
    let refused = owner
        .post(server.url(&format!("/api/v1/finance/claims/{}/refuse", third["claim"])))
        .header("x-csrf-token", &owner_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::NO_CONTENT);
    let (_, status) = sign_in(&server, "claim-third", "Finance-test-2026").await;
    assert_ne!(status, StatusCode::SEE_OTHER);

    // Every step is in the audit log.
    let claims: Vec<Value> = audit_entries(data, "anonymous")
        .into_iter()
        .filter(|e| e["action"] == "enterprise_claim" && e["subject"] == uscc.as_str())
        .collect();
    assert!(claims.len() >= 4, "{claims:?}");
    let decisions = audit_entries(data, "user:claim-first");
    assert!(
        decisions
            .iter()
            .any(|e| e["action"] == "enterprise_claim_decide" && e["outcome"] == "ok")
    );
    let denied = audit_entries(data, "user:enterprise");
    assert!(
        denied
            .iter()
            .any(|e| e["action"] == "enterprise_claim_decide" && e["outcome"] == "denied")
    );
}

/// Findings 7 and 9: registration is throttled per address, and the form
/// carries a real CSRF token that its post must return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_is_throttled_and_its_form_checked() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let http = client();
    let form = http
        .get(server.url("/finance/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hidden_csrf(&form).len(), 64, "{form}");
    let forged = client()
        .post(server.url("/finance/register"))
        .form(&[("csrf", "0".repeat(64).as_str()), ("uscc", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let claim = serde_json::json!({
        "uscc": "91440606722473344C", "legal_representative": "某人",
        "capacity": "agent", "applicant_name": "某人",
    });
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            post(&server, "/api/v1/finance/register", claim.clone())
                .await
                .status(),
        );
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(statuses[11], StatusCode::TOO_MANY_REQUESTS);
}

/// Finding 2: the enterprise's own profile carries no internal record: no
/// complaint text, ticket number or channel; only counts by month and
/// category. The government side still reads them in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_items_never_reach_the_enterprise() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let complained = xinyong(data)
        .args([
            "sql",
            "--format",
            "json",
            "SELECT c.subject AS uscc, count(*) AS n FROM complaint c JOIN entities e ON e.uscc = c.subject \
             WHERE e.status = 'operating' GROUP BY c.subject ORDER BY n DESC, c.subject LIMIT 20",
        ])
        .output()
        .unwrap();
    assert!(complained.status.success());
    let complained: Value = serde_json::from_slice(&complained.stdout).unwrap();
    let taken = taken_by_other_tests(&server, data).await;
    let uscc = complained
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uscc"].as_str().unwrap().to_string())
        .find(|u| !taken.contains(u))
        .unwrap();

    let regulator = demo_user(&server, "regulator").await;
    let full = get_json(&regulator, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    let tickets: Vec<String> = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["item"] == "complaint")
        .map(|e| {
            e["record"]["detail"]["ticket_number"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!tickets.is_empty(), "{full}");

    let outcome = claim_account(&server, &uscc, "complained-firm").await;
    assert_eq!(outcome["state"], "approved");
    let (own, status) = sign_in(&server, "complained-firm", "Finance-test-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let profile = get_text(&own, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    let page = get_text(&own, server.url(&format!("/entity/{uscc}"))).await;
    for text in [&profile, &page] {
        for ticket in &tickets {
            assert!(!text.contains(ticket.as_str()), "ticket {ticket} leaked");
        }
        assert!(!text.contains("registration_contact") && !text.contains("登记联络信息"));
    }
    let profile: Value = serde_json::from_str(&profile).unwrap();
    assert!(
        profile["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["item"] != "complaint")
    );
    let counted: u64 = profile["complaint_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, tickets.len() as u64);
    assert!(page.contains(r#"id="complaint-counts""#));
}

/// Finding 3: a bank with a product for the pool sees who is in it, and the
/// checks (grade, tax paid, headcount) only of members that granted it
/// `credit_profile`; every look at the pool is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_shows_banks_membership_not_figures() {
    let Some(data) = fixture() else {
        return;
    };
    add_user(data, "pool-bank", "bank:1");
    let server = Server::start(data, &[]);
    let (bank, status) = sign_in(&server, "pool-bank", "Security-test-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pool = get_json(&bank, server.url("/api/v1/finance/pool")).await;
    let members = pool["members"].as_array().unwrap().clone();
    assert!(!members.is_empty(), "{pool}");
    assert!(
        members
            .iter()
            .all(|m| m["checks"].as_array().unwrap().is_empty()),
        "a bank sees no member's figures without consent"
    );
    let page = bank
        .get(server.url("/finance/pool"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("需企业授权"), "{page}");
    // The credit centre sees every member's checks.
    let centre = demo_user(&server, "centre").await;
    let full = get_json(&centre, server.url("/api/v1/finance/pool")).await;
    assert!(
        full["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["checks"].as_array().unwrap().is_empty())
    );

    // One member grants the bank its credit profile: its checks show.
    let taken = taken_by_other_tests(&server, data).await;
    let member = members
        .iter()
        .map(|m| m["uscc"].as_str().unwrap().to_string())
        .rev()
        .find(|u| !taken.contains(u))
        .unwrap();
    let outcome = claim_account(&server, &member, "pool-member").await;
    assert_eq!(outcome["state"], "approved");
    let (firm, _) = sign_in(&server, "pool-member", "Finance-test-2026").await;
    let csrf = session_csrf(&server, &firm).await;
    let granted = post_json(
        &firm,
        server.url("/api/v1/finance/consents"),
        &csrf,
        serde_json::json!({"bank": "1", "scope": ["credit_profile"], "purpose": "入池产品", "days": 30}),
    )
    .await;
    assert_eq!(granted.status(), StatusCode::CREATED);
    let pool = get_json(&bank, server.url("/api/v1/finance/pool")).await;
    for m in pool["members"].as_array().unwrap() {
        let shown = !m["checks"].as_array().unwrap().is_empty();
        assert_eq!(shown, m["uscc"] == member.as_str(), "{m}");
    }
    let looks: Vec<Value> = audit_entries(data, "user:pool-bank")
        .into_iter()
        .filter(|e| e["action"] == "view_pool" && e["outcome"] == "ok")
        .collect();
    assert_eq!(looks.len(), 3, "{looks:?}");
}

/// Finding 4: forty sign-ins at once against one account from one address
/// get no more password checks than forty one by one: ten for the address,
/// five before the account locks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sign_ins_are_counted_before_the_hash() {
    let Some(data) = fixture() else {
        return;
    };
    add_user(data, "burst-target", "regulator");
    let server = Server::start(data, &[]);
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let url = server.url("/sign-in");
        attempts.spawn(async move {
            let http = client();
            let form = http.get(&url).send().await.unwrap().text().await.unwrap();
            let csrf = hidden_csrf(&form);
            http.post(&url)
                .form(&[
                    ("username", "burst-target"),
                    ("password", "wrong-password-0"),
                    ("csrf", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses = attempts.join_all().await;
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(throttled, 30, "{statuses:?}");
    let failures: Vec<Value> = audit_entries(data, "anonymous")
        .into_iter()
        .filter(|e| e["action"] == "sign_in" && e["subject"] == "burst-target")
        .collect();
    let reason = |e: &Value| {
        serde_json::from_str::<Value>(e["detail"].as_str().unwrap()).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let checked = failures
        .iter()
        .filter(|e| reason(e).starts_with("wrong password"))
        .count();
    assert_eq!(checked, 5, "{failures:?}");
    // The account is locked: not even the right password opens it now.
    let user = xinyong(data)
        .args(["user", "list", "--json"])
        .output()
        .unwrap();
    let users: Value = serde_json::from_slice(&user.stdout).unwrap();
    let target = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "burst-target")
        .unwrap();
    assert!(target["locked_until"].is_string(), "{target}");
}

/// Finding 5: a grant made with an application ends when the application is
/// withdrawn; the bank's next read is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_end_with_their_application() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let own = enterprise_uscc(data);
    let (uscc, enterprise) = register_enterprise(&server, "grant-end-test", 2, &[own]).await;
    let csrf = session_csrf(&server, &enterprise).await;
    let bank = demo_user(&server, "bank").await;
    let bank_csrf = session_csrf(&server, &bank).await;
    let centre = demo_user(&server, "centre").await;
    let centre_csrf = session_csrf(&server, &centre).await;
    let product = create_product(&server, &bank, &bank_csrf, "撤回测试贷").await;
    let approved = centre
        .post(server.url(&format!("/api/v1/finance/products/{product}/approve")))
        .header("x-csrf-token", &centre_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::NO_CONTENT);
    let applied: Value = post_json(
        &enterprise,
        server.url("/api/v1/finance/applications"),
        &csrf,
        serde_json::json!({"product": product, "amount": 100.0, "term_months": 12, "authorise": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = applied["id"].as_i64().unwrap();
    let report = server.url(&format!("/api/v1/finance/reports/{uscc}?application={id}"));
    assert_eq!(
        bank.get(&report).send().await.unwrap().status(),
        StatusCode::OK
    );
    let withdrawn = post_json(
        &enterprise,
        server.url(&format!("/api/v1/finance/applications/{id}/transitions")),
        &csrf,
        serde_json::json!({"to": "withdrawn", "reason": "不再需要"}),
    )
    .await;
    assert_eq!(withdrawn.status(), StatusCode::NO_CONTENT);
    let after = bank.get(&report).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::FORBIDDEN);
    let why = after.text().await.unwrap();
    assert!(why.contains("revoked"), "{why}");
    let consents = get_json(&enterprise, server.url("/api/v1/finance/consents")).await;
    let grant = consents["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["grant"]["application_id"] == id)
        .unwrap();
    assert_eq!(grant["status"], "revoked");
    assert_eq!(
        grant["grant"]["revoked_by"],
        format!("application:{id} withdrawn")
    );
}

/// Finding 6: the public's refused requests are counted and limited in the
/// request log; none of them lands in the hash chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_refusals_stay_out_of_the_chain() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let chained = || {
        audit_entries(data, "anonymous")
            .iter()
            .filter(|e| e["action"] == "view_audit" || e["action"] == "token_rejected")
            .count()
    };
    let before = chained();
    let http = client();
    let mut statuses = Vec::new();
    for i in 0..200 {
        let request = if i % 2 == 0 {
            http.get(server.url("/api/v1/audit"))
        } else {
            http.get(server.url("/api/v1/audit"))
                .bearer_auth("not-a-token")
        };
        statuses.push(request.send().await.unwrap().status());
    }
    assert!(
        statuses[..120]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[120..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(chained(), before);
    // The admin sees the counts beside the chain.
    let admin = demo_user(&server, "admin").await;
    let page = admin
        .get(server.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="refused""#) && page.contains("view_audit"));
}

/// Finding 8: each read of non-public data leaves exactly one audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sensitive_read_is_audited_once() {
    let Some(data) = fixture() else {
        return;
    };
    add_user(data, "audited-centre", "credit_centre");
    add_user(data, "audited-regulator", "regulator");
    add_user(data, "audited-bank", "bank:1");
    let server = Server::start(data, &[]);
    let own = enterprise_uscc(data);
    let plans = get_json(&client(), server.url("/api/v1/inspections/plans")).await;
    let plan = plans[0]["id"].as_str().unwrap().to_string();
    let enterprise = demo_user(&server, "enterprise").await;
    let enterprise_csrf = session_csrf(&server, &enterprise).await;
    let posted: Value = post_json(
        &enterprise,
        server.url("/api/v1/finance/demands"),
        &enterprise_csrf,
        serde_json::json!({"amount": 80.0, "term_months": 12, "purpose": "备货"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let demand = posted["id"].as_i64().unwrap();
    let reads: Vec<(&str, String, &str)> = vec![
        ("audited-centre", "/quality".into(), "view_quality"),
        ("audited-centre", "/api/v1/quality".into(), "view_quality"),
        ("audited-centre", format!("/entity/{own}"), "view_entity"),
        (
            "audited-centre",
            format!("/api/v1/finance/demands/{demand}"),
            "view_demand",
        ),
        ("audited-centre", "/api/v1/finance/pool".into(), "view_pool"),
        (
            "audited-regulator",
            format!("/inspections/plans/{plan}"),
            "view_plan_detail",
        ),
        (
            "audited-regulator",
            format!("/api/v1/inspections/plans/{plan}/detail"),
            "view_plan_detail",
        ),
        (
            "audited-regulator",
            format!("/api/v1/entities/{own}"),
            "view_entity",
        ),
        ("audited-bank", "/finance/pool".into(), "view_pool"),
    ];
    for (user, path, action) in reads {
        let (who, status) = sign_in(&server, user, "Security-test-2026").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let actor = format!("user:{user}");
        let count = || {
            audit_entries(data, &actor)
                .iter()
                .filter(|e| e["action"] == action && e["outcome"] == "ok")
                .count()
        };
        let before = count();
        let response = who.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{user} {path}");
        assert_eq!(count(), before + 1, "{user} {path}: one {action} entry");
    }
}

/// Finding 9: the headers every response carries, and no caching of what
/// is not public.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_on_every_response() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let own = enterprise_uscc(data);
    let regulator = demo_user(&server, "regulator").await;
    for path in [
        "/".to_string(),
        "/api/v1/catalog".into(),
        format!("/entity/{own}"),
        format!("/api/v1/entities/{own}"),
        "/no-such-page".into(),
        "/static/style.css".into(),
    ] {
        let response = regulator.get(server.url(&path)).send().await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        let cache = header("cache-control");
        if path.starts_with("/static/") {
            assert!(cache.starts_with("max-age"), "{path}: {cache}");
        } else {
            assert_eq!(cache, "no-store", "{path}");
        }
    }
}

/// A mail relay for the test: accepts every message, speaking just enough
/// SMTP, and hands each message's recipients and data to the channel.
fn smtp_sink() -> (u16, std::sync::mpsc::Receiver<(Vec<String>, String)>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let _ = stream.write_all(b"220 sink ESMTP\r\n");
            let (mut recipients, mut line) = (Vec::new(), String::new());
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let command = line.trim_end().to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("RCPT TO:") {
                    recipients.push(line.trim_end()[8..].trim().to_string());
                    b"250 ok\r\n"
                } else if command == "DATA" {
                    let _ = stream.write_all(b"354 go on\r\n");
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    let _ = sender.send((std::mem::take(&mut recipients), data));
                    b"250 queued\r\n"
                } else if command == "QUIT" {
                    let _ = stream.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = stream.write_all(reply);
            }
        }
    });
    (port, received)
}

/// The outbox's e-mail leaves through the configured SMTP relay, and the
/// outbox records it as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_by_email_go_through_the_smtp_relay() {
    let Some(data) = fixture() else {
        return;
    };
    let (port, received) = smtp_sink();
    let relay = format!("smtp://127.0.0.1:{port}");
    let server = Server::start(data, &["--smtp-url", &relay]);
    let uscc = operating_enterprise(&server, 6).await;
    let representative = representative_of(&server, &uscc).await;
    let claimed = post(
        &server,
        "/api/v1/finance/register",
        serde_json::json!({"uscc": uscc, "legal_representative": representative,
            "capacity": "legal_representative", "applicant_name": representative}),
    )
    .await;
    assert_eq!(claimed.status(), StatusCode::ACCEPTED);
    let email = outbox(data, None)
        .into_iter()
        .find(|m| m["channel"] == "email" && m["body"].as_str().unwrap().contains(&uscc))
        .expect("a code sent to the registered e-mail");
    let address = email["recipient"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut delivered = false;
    while std::time::Instant::now() < deadline && !delivered {
        if let Ok((recipients, message)) =
            received.recv_timeout(std::time::Duration::from_millis(500))
        {
            delivered =
                recipients.iter().any(|r| r.contains(&address)) && message.contains("Subject:");
        }
    }
    assert!(delivered, "no message to {address} reached the relay");
    // The outbox says so (the mark follows the relay's answer at once).
    let mut marked = false;
    for _ in 0..20 {
        marked = outbox(data, Some(&address))
            .iter()
            .any(|m| m["id"] == email["id"] && m["sent_at"].is_string());
        if marked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(marked, "the outbox does not record the delivery");
}

/// Finding 9: a task is the inspector's by the account link *and* the
/// inspector role; an account whose role was taken away keeps the link but
/// no longer reads or records its tasks. On a demo of its own, since it
/// changes the demo inspector's roles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_needs_the_inspector_role_not_only_the_link() {
    let Some(dir) = private_demo("server-fixture-roles") else {
        return;
    };
    let server = Server::start(&dir, &[]);
    let inspector = demo_user(&server, "inspector").await;
    let tasks = get_json(&inspector, server.url("/api/v1/inspections/tasks/mine")).await;
    let task = tasks[0]["task"]["id"].as_i64().unwrap();
    let page = inspector
        .get(server.url(&format!("/inspections/tasks/{task}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // The role goes (the account stays linked to its inspector).
    xinyong(&dir)
        .args(["user", "roles", "inspector", "--role", "department:tax"])
        .assert()
        .success();
    let (inspector, status) = sign_in(&server, "inspector", "inspector-demo-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = inspector
        .get(server.url(&format!("/inspections/tasks/{task}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let csrf = session_csrf(&server, &inspector).await;
    let recorded = inspector
        .post(server.url(&format!("/inspections/tasks/{task}")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("inspected_on", "2026-11-01"),
            ("result", "no_problem"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::FORBIDDEN);
}

/// A read whose audit entry cannot be written shows nothing: the store
/// refuses the entry (a trigger stands in for a full disk or a lost
/// connection), and the profile fails while the public page still answers.
/// On a demo of its own, since it breaks the audit log for a while.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_audit_entry_no_read() {
    let Some(data) = private_demo("server-fixture-audit") else {
        return;
    };
    let server = Server::start(&data, &[]);
    let uscc = enterprise_uscc(&data);
    let regulator = demo_user(&server, "regulator").await;
    let profile = server.url(&format!("/api/v1/entities/{uscc}"));
    assert_eq!(
        regulator.get(&profile).send().await.unwrap().status(),
        StatusCode::OK
    );

    let (refuse, allow): (&[&str], &[&str]) = if on_postgres() {
        (
            &[
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
            ],
            &["DROP TRIGGER refuse_audit ON audit_log"],
        )
    } else {
        (
            &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
               BEGIN SELECT RAISE(ABORT, 'audit refused'); END"],
            &["DROP TRIGGER refuse_audit"],
        )
    };
    execute_sql(&data, refuse);
    let refused = regulator.get(&profile).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = refused.text().await.unwrap();
    assert!(
        !body.contains(&uscc),
        "nothing of the entity is shown: {body}"
    );
    let public = client()
        .get(server.url(&format!("/public/entity/{uscc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        public.status(),
        StatusCode::OK,
        "the public page writes no entry"
    );

    execute_sql(&data, allow);
    assert_eq!(
        regulator.get(&profile).send().await.unwrap().status(),
        StatusCode::OK
    );
}
