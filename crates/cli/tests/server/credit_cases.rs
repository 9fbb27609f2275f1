//! Objections and credit repairs over HTTP, on a demo city of their own
//! (they change what is published): who may open, see and decide a case;
//! a form that keeps its input; one decision however many officers decide
//! at once; a correction as a new version in the lake; a repair that
//! takes the record off every surface — the public page and API, the
//! enterprise's credit report, the evaluation — while the enterprise and
//! government still see it marked; statistics and the national export.

use super::*;

fn pdf(name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(b"%PDF-1.4\n% proof\n%%EOF\n".to_vec())
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .unwrap()
}

/// The events of a profile (full, public, or a credit report's groups).
fn events_of(profile: &Value) -> Vec<Value> {
    if let Some(events) = profile["events"].as_array() {
        return events.clone();
    }
    profile["report"]["records"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().clone())
        .collect()
}

fn find<'a>(events: &'a [Value], reference: &str) -> Option<&'a Value> {
    events.iter().find(|e| e["reference"] == reference)
}

/// The entity's penalties_3y in its latest evaluation.
fn penalties(data: &Path, uscc: &str) -> f64 {
    let out = xinyong(data)
        .args(["evaluate", "show", uscc, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = credit::facts::FACTS
        .iter()
        .position(|f| f.name == "penalties_3y")
        .unwrap();
    shown["stored"]["facts"][at].as_f64().unwrap()
}

fn add_user(data: &Path, name: &str, role: &str) {
    xinyong(data)
        .args([
            "user",
            "add",
            name,
            "--role",
            role,
            "--password",
            "Cases-test-2026",
        ])
        .assert()
        .success();
}

/// The same JSON post sent `n` times at once; their statuses.
async fn post_at_once(
    client: &reqwest::Client,
    url: String,
    csrf: &str,
    body: Value,
    n: usize,
) -> Vec<StatusCode> {
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, url, csrf, body) =
            (client.clone(), url.clone(), csrf.to_string(), body.clone());
        posts.spawn(async move { post_json(&client, url, &csrf, body).await.status() });
    }
    posts.join_all().await
}

async fn user(server: &Server, name: &str) -> reqwest::Client {
    let (client, status) = sign_in(server, name, "Cases-test-2026").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{name} signs in");
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objections_and_repairs_on_every_surface() {
    let Some(data) = private_demo("credit-cases") else {
        return;
    };
    let data = data.as_path();
    let server = Server::start(data, &[]);
    let centre = demo_user(&server, "centre").await;
    let demo_enterprise = demo_user(&server, "enterprise").await;
    let bank = demo_user(&server, "bank").await;
    let regulator = demo_user(&server, "regulator").await;
    let tax = demo_user(&server, "tax").await;

    // The demo left cases in every state.
    let all = get_json(&centre, server.url("/api/v1/credit/cases")).await;
    let states: std::collections::BTreeSet<String> = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["kind"].as_str().unwrap(),
                c["state"].as_str().unwrap()
            )
        })
        .collect();
    for expected in [
        "objection:submitted",
        "objection:accepted",
        "objection:rejected",
        "objection:confirmed",
        "objection:corrected",
        "repair:submitted",
        "repair:approved",
        "repair:rejected",
        "repair:withdrawn",
    ] {
        assert!(states.contains(expected), "{expected} missing: {states:?}");
    }
    assert!(
        all["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["overdue"] == true)
    );

    // The entity of the refused repair: its record may still be repaired.
    let refused = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "repair" && c["state"] == "rejected")
        .unwrap()
        .clone();
    let uscc = refused["uscc"].as_str().unwrap().to_string();
    let record = refused["record"].as_str().unwrap().to_string();
    add_user(data, "cases-owner", &format!("enterprise:{uscc}"));
    add_user(data, "cases-samr", "department:samr");
    let owner = user(&server, "cases-owner").await;
    let samr = user(&server, "cases-samr").await;
    let owner_csrf = session_csrf(&server, &owner).await;

    let profile = get_json(&owner, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    let contestable: Vec<String> = serde_json::from_value(profile["contestable"].clone()).unwrap();
    let repairable: Vec<String> = serde_json::from_value(profile["repairable"].clone()).unwrap();
    assert!(contestable.contains(&record) && repairable.contains(&record));
    let page = get_text(&owner, server.url(&format!("/entity/{uscc}"))).await;
    assert!(
        page.contains(&format!("/credit/objections/new?record={record}")),
        "{page}"
    );

    // The form keeps what was typed and says what is missing beside it.
    let form = reqwest::multipart::Form::new()
        .text("csrf", owner_csrf.clone())
        .text("record", record.clone())
        .text("ground", "")
        .text("statement", "罚款金额登记有误")
        .part("documents", pdf("决定书.pdf"));
    let response = owner
        .post(server.url("/credit/objections/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"id="error-ground""#) && html.contains("罚款金额登记有误"),
        "{html}"
    );

    // Outsiders, another enterprise, a bank and a wrong role cannot open
    // one for this record.
    let objection_form = |csrf: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("record", record.clone())
            .text("ground", "error")
            .text("statement", "罚款金额登记有误，应以决定书为准。")
            .part("documents", pdf("决定书.pdf"))
    };
    let status = client()
        .post(server.url("/api/v1/credit/objections"))
        .multipart(objection_form(""))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other_csrf = session_csrf(&server, &demo_enterprise).await;
    let response = demo_enterprise
        .post(server.url("/api/v1/credit/objections"))
        .header("x-csrf-token", &other_csrf)
        .multipart(objection_form(&other_csrf))
        .send()
        .await
        .unwrap();
    // Another enterprise's record is not among its own: nothing to contest.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal: Value = response.json().await.unwrap();
    assert!(refusal["errors"]["record"].is_string(), "{refusal}");
    for (who, name) in [(&bank, "bank"), (&regulator, "regulator")] {
        let csrf = session_csrf(&server, who).await;
        let status = who
            .post(server.url("/api/v1/credit/objections"))
            .header("x-csrf-token", &csrf)
            .multipart(objection_form(&csrf))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }

    // The owner opens it; a second at once for the same record is refused.
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let request = owner
            .post(server.url("/api/v1/credit/objections"))
            .header("x-csrf-token", &owner_csrf)
            .multipart(objection_form(&owner_csrf));
        sends.spawn(async move { request.send().await.unwrap() });
    }
    let mut created = None;
    let mut refused_again = 0;
    for response in sends.join_all().await {
        match response.status() {
            StatusCode::CREATED => {
                created = Some(
                    response.json::<Value>().await.unwrap()["id"]
                        .as_i64()
                        .unwrap(),
                )
            }
            StatusCode::UNPROCESSABLE_ENTITY => refused_again += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(refused_again, 1);
    let objection = created.unwrap();

    // Under objection on every surface that shows the record.
    let public = get_json(
        &client(),
        server.url(&format!("/api/v1/public/entities/{uscc}")),
    )
    .await;
    let shown = find(&events_of(&public), &record).unwrap().clone();
    assert_eq!(shown["under_objection"], true);
    assert!(
        shown["record"]["objection"].is_null(),
        "the public sees no case id"
    );
    let public_page = get_text(&client(), server.url(&format!("/public/entity/{uscc}"))).await;
    assert!(public_page.contains("异议处理中"));
    let own = get_json(&owner, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    assert_eq!(
        find(&events_of(&own), &record).unwrap()["under_objection"],
        true
    );
    let report = get_json(&owner, server.url("/api/v1/finance/my-credit")).await;
    assert_eq!(
        find(&events_of(&report), &record).unwrap()["under_objection"],
        true
    );

    // Who sees the case: the owner, the department that owns the record,
    // the credit centre; not another enterprise, another department, a
    // bank, a regulator or the public.
    let case_url = server.url(&format!("/api/v1/credit/cases/{objection}"));
    for (who, name) in [(&owner, "owner"), (&samr, "samr"), (&centre, "centre")] {
        assert_eq!(
            who.get(&case_url).send().await.unwrap().status(),
            StatusCode::OK,
            "{name}"
        );
    }
    for (who, name) in [
        (&demo_enterprise, "other enterprise"),
        (&tax, "tax"),
        (&bank, "bank"),
        (&regulator, "regulator"),
    ] {
        assert_eq!(
            who.get(&case_url).send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{name}"
        );
    }
    assert_eq!(
        client().get(&case_url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let listed = get_json(&tax, server.url("/api/v1/credit/cases")).await;
    assert!(
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["department"] == "tax")
    );
    let document = owner
        .get(server.url(&format!("/credit/cases/{objection}/documents/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), StatusCode::OK);
    assert!(document.bytes().await.unwrap().starts_with(b"%PDF"));

    // The enterprise cannot decide; the department accepts, twenty times at
    // once on one version: one move is made, the rest are told it changed.
    let samr_csrf = session_csrf(&server, &samr).await;
    let accept =
        serde_json::json!({"to": "accepted", "version": 1, "reasons": "材料齐全，予以受理"});
    let status = post_json(
        &owner,
        format!("{case_url}/move"),
        &owner_csrf,
        accept.clone(),
    )
    .await
    .status();
    assert_eq!(status, StatusCode::FORBIDDEN, "only the department accepts");
    let status = post_json(
        &samr,
        format!("{case_url}/move"),
        &samr_csrf,
        serde_json::json!({"to": "accepted", "version": 1, "reasons": " "}),
    )
    .await
    .status();
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a decision says why"
    );
    let statuses = post_at_once(&samr, format!("{case_url}/move"), &samr_csrf, accept, 20).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::CONFLICT)
    );
    let case = get_json(&owner, case_url.clone()).await;
    assert_eq!(case["case"]["state"], "accepted");
    assert!(case["case"]["due_on"].is_string());

    // The department corrects the fine: the corrected version is a new
    // record in the lake (a batch of its own), the original withdrawn.
    let old_fine = find(&events_of(&own), &record).unwrap()["record"]["detail"]["fine_amount"]
        .as_str()
        .unwrap()
        .to_string();
    let new_fine = format!("{:.2}", old_fine.parse::<f64>().unwrap() + 1.0);
    let bad = serde_json::json!({"to": "corrected", "version": 2, "reasons": "金额更正", "values": {"fine_amount": "很多"}});
    let response = post_json(&samr, format!("{case_url}/move"), &samr_csrf, bad).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refusal: Value = response.json().await.unwrap();
    assert!(refusal["errors"]["fine_amount"].is_string(), "{refusal}");
    let correct = serde_json::json!({"to": "corrected", "version": 2, "reasons": "经核实，罚款金额登记有误，予以更正", "values": {"fine_amount": new_fine}});
    let status = post_json(&samr, format!("{case_url}/move"), &samr_csrf, correct)
        .await
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let case = get_json(&owner, case_url.clone()).await;
    assert_eq!(case["case"]["state"], "corrected");
    let batch = case["case"]["correction_batch"].as_i64().unwrap();
    assert_eq!(
        case["corrected"]["record"]["detail"]["fine_amount"],
        new_fine.as_str()
    );
    let corrected_record = case["corrected"]["reference"].as_str().unwrap().to_string();
    assert_eq!(corrected_record, format!("admin_penalty:{batch}:1"));
    let in_lake = xinyong(data)
        .args([
            "sql",
            "--format",
            "csv",
            &format!("SELECT fine_amount FROM admin_penalty WHERE _batch = {batch}"),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&in_lake.stdout).contains(&new_fine));
    let public = get_json(
        &client(),
        server.url(&format!("/api/v1/public/entities/{uscc}")),
    )
    .await;
    assert!(
        find(&events_of(&public), &record).is_none(),
        "the original is withdrawn"
    );
    let now_shown = find(&events_of(&public), &corrected_record)
        .unwrap()
        .clone();
    assert_eq!(now_shown["under_objection"], false);
    let own = get_json(&owner, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    assert_eq!(
        find(&events_of(&own), &record).unwrap()["record"]["withdrawn"],
        "corrected"
    );

    // A repair: refused for a record the rules do not repair and without
    // proof; then applied for with proof and a commitment.
    let penalties_before = penalties(data, &uscc);
    let repair_form = |record: &str, proof: bool| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", owner_csrf.clone())
            .text("record", record.to_string())
            .text("statement", "罚款已缴清，违法行为已整改完毕。")
            .text("commitment", "本企业承诺依法诚信经营。");
        if proof {
            form.part("documents", pdf("缴款凭证.pdf"))
        } else {
            form
        }
    };
    let own = get_json(&owner, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    let contestable: Vec<String> = serde_json::from_value(own["contestable"].clone()).unwrap();
    let repairable: Vec<String> = serde_json::from_value(own["repairable"].clone()).unwrap();
    assert!(repairable.contains(&corrected_record));
    let not_repaired = contestable
        .iter()
        .find(|r| !repairable.contains(r))
        .expect("a record that is not repaired");
    for (record, proof, field) in [
        (not_repaired.as_str(), true, "record"),
        (corrected_record.as_str(), false, "documents"),
    ] {
        let response = owner
            .post(server.url("/api/v1/credit/repairs"))
            .header("x-csrf-token", &owner_csrf)
            .multipart(repair_form(record, proof))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{record}"
        );
        let refusal: Value = response.json().await.unwrap();
        assert!(refusal["errors"][field].is_string(), "{refusal}");
    }
    let response = owner
        .post(server.url("/api/v1/credit/repairs"))
        .header("x-csrf-token", &owner_csrf)
        .multipart(repair_form(&corrected_record, true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let repair = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let repair_url = server.url(&format!("/api/v1/credit/cases/{repair}"));
    // Only the credit centre reviews: not the department, nor the owner.
    let approve = serde_json::json!({"to": "approved", "version": 1, "reasons": "已履行法定义务并作出信用承诺，准予修复"});
    for (who, csrf) in [(&samr, &samr_csrf), (&owner, &owner_csrf)] {
        let status = post_json(who, format!("{repair_url}/move"), csrf, approve.clone())
            .await
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let centre_csrf = session_csrf(&server, &centre).await;
    let statuses = post_at_once(
        &centre,
        format!("{repair_url}/move"),
        &centre_csrf,
        approve,
        10,
    )
    .await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count(),
        1,
        "{statuses:?}"
    );

    // Repaired: gone from the public page and API and from the credit
    // report; the enterprise and government see it marked.
    let public = get_json(
        &client(),
        server.url(&format!("/api/v1/public/entities/{uscc}")),
    )
    .await;
    assert!(find(&events_of(&public), &corrected_record).is_none());
    let public_page = get_text(&client(), server.url(&format!("/public/entity/{uscc}"))).await;
    assert!(!public_page.contains(&new_fine), "{public_page}");
    let report = get_json(&owner, server.url("/api/v1/finance/my-credit")).await;
    assert!(find(&events_of(&report), &corrected_record).is_none());
    let own = get_json(&owner, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    assert_eq!(
        find(&events_of(&own), &corrected_record).unwrap()["record"]["withdrawn"],
        "repaired"
    );
    let full = get_json(&regulator, server.url(&format!("/api/v1/entities/{uscc}"))).await;
    assert_eq!(
        find(&events_of(&full), &corrected_record).unwrap()["record"]["withdrawn"],
        "repaired"
    );
    // The evaluation leaves it out from the next run.
    xinyong(data).args(["evaluate"]).assert().success();
    assert_eq!(penalties(data, &uscc), penalties_before - 1.0);

    // Statistics and the file for the national platform.
    let statistics = get_json(&centre, server.url("/api/v1/credit/repairs/statistics")).await;
    assert!(
        statistics["approved"].as_i64().unwrap() >= 2,
        "{statistics}"
    );
    assert!(statistics["mean_working_days"].is_number());
    let export = get_text(&centre, server.url("/api/v1/credit/repairs/export")).await;
    assert!(
        export.starts_with('\u{feff}') && export.contains(&uscc),
        "{export}"
    );
    for (who, name) in [
        (&owner, "owner"),
        (&samr, "samr"),
        (&bank, "bank"),
        (&regulator, "regulator"),
    ] {
        let status = who
            .get(server.url("/api/v1/credit/repairs/statistics"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }

    // Every step is in the audit log.
    let actions: Vec<String> = audit_entries(data, "user:cases-samr")
        .iter()
        .chain(audit_entries(data, "user:cases-owner").iter())
        .chain(audit_entries(data, "user:centre").iter())
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for action in [
        "submit_objection",
        "objection_accepted",
        "objection_corrected",
        "submit_repair",
        "repair_approved",
        "view_case",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} not audited");
    }
}
