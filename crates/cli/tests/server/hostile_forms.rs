//! Hostile values in every form, API call, upload and address of the server
//! (issue 19): what no one types (a NUL, an escape sequence, a
//! bidirectional override, bytes that are not UTF-8) is refused before any
//! handler reads it, naming the field and the character; a body over the
//! limit is refused as too large; nothing is stored. What may be typed
//! (formulas, markup, line breaks) is stored as sent and shown escaped.
//!
//! The routes come from the router's own tables (`page_paths`, the OpenAPI
//! document), so a route added later is swept too.

use super::*;

/// What no one types: how a form sends it, how JSON does, and what the
/// refusal says.
struct Hostile {
    what: &'static str,
    form: &'static str,
    json: &'static [u8],
    said: &'static str,
}

const HOSTILE: [Hostile; 4] = [
    Hostile {
        what: "a NUL",
        form: "%00",
        json: br#"{"purpose": "a\u0000b"}"#,
        said: "U+0000",
    },
    Hostile {
        what: "an escape sequence",
        form: "%1B%5B2J",
        json: br#"{"purpose": "\u001b[2J"}"#,
        said: "U+001B",
    },
    Hostile {
        what: "a bidirectional override",
        form: "%E2%80%AEexe.pdf",
        json: br#"{"purpose": "\u202eexe.pdf"}"#,
        said: "U+202E",
    },
    Hostile {
        what: "bytes that are not UTF-8",
        form: "%FF%FE",
        json: b"{\"purpose\": \"\xff\xfe\"}",
        said: "UTF-8",
    },
];

/// Routes that take their input as a file upload; swept with multipart
/// bodies below.
const UPLOADS: [&str; 10] = [
    "/upload",
    "/inspections/rosters/import",
    "/api/v1/batches",
    "/finance/loan-reports",
    "/api/v1/finance/loan-reports",
    "/credit/check",
    "/credit/objections/new",
    "/credit/repairs/new",
    "/api/v1/credit/objections",
    "/api/v1/credit/repairs",
];

/// API calls that take JSON under the upload limit (a credit check of a
/// file's worth of codes): checked like every call, but a megabyte is not
/// too large for them.
const LARGE_JSON: [&str; 1] = ["/api/v1/credit/checks"];

/// API calls that read no body (a step named by the address alone): their
/// addresses are swept, not their bodies.
const NO_BODY: [&str; 8] = [
    "/api/v1/finance/claims/{id}/{decision}",
    "/api/v1/finance/products/{id}/{step}",
    "/api/v1/finance/consents/{id}/revoke",
    "/api/v1/inspections/plans/{id}/commit",
    "/api/v1/inspections/plans/{id}/draw",
    "/api/v1/inspections/plans/{id}/publish",
    "/api/v1/risk/screenings/current",
    "/api/v1/warnings/{id}/correct",
];

/// A route's pattern with ids no row has: a refusal must come from the
/// body's check, and a request that got past it would find nothing to
/// change.
fn concrete(pattern: &str, own: &str) -> String {
    pattern
        .replace("{username}", "no-such-user")
        .replace("{change}", "disable")
        .replace("{decision}", "approve")
        .replace("{step}", "approve")
        .replace("{uscc}", own)
        .replace("{code}", "zh")
        .replace("{file}", "by_bank.csv")
        .replace("{id}", "999999999")
}

/// Tables a refused request may still add to: the audit chain, sessions,
/// the log of reads.
const BOOKKEEPING: [&str; 3] = ["audit_log", "sessions", "data_accesses"];

fn stored(data: &Path) -> std::collections::BTreeMap<String, i64> {
    let mut counts = testkit::table_counts(&state_url(data)).unwrap();
    counts.retain(|table, _| !BOOKKEEPING.contains(&table.as_str()));
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_and_call_refuses_what_no_one_types() {
    let Some(data) = private_demo("hostile-forms") else {
        return;
    };
    let server = Server::start(&data, &[]);
    let own = enterprise_uscc(&data);
    let roles = [
        "admin",
        "centre",
        "tax",
        "regulator",
        "inspector",
        "bank",
        "enterprise",
    ];
    let mut signed_in = Vec::new();
    for role in roles {
        let client = demo_user(&server, role).await;
        let csrf = session_csrf(&server, &client).await;
        signed_in.push((role, client, csrf));
    }
    let before = stored(&data);
    let mut wrong = Vec::new();

    // Every page that takes a form, as every role: refused for the body,
    // before the handler decides anything, the field and character named.
    let mut forms = 0;
    for pattern in server::page_paths() {
        if UPLOADS.contains(&pattern) {
            continue;
        }
        let path = concrete(pattern, &own);
        for (role, client, csrf) in &signed_in {
            for hostile in &HOSTILE {
                let response = client
                    .post(server.url(&path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("csrf={csrf}&purpose={}", hostile.form))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    break;
                }
                let page = response.text().await.unwrap();
                if status != StatusCode::BAD_REQUEST
                    || !page.contains("purpose")
                    || !page.contains(hostile.said)
                {
                    wrong.push(format!(
                        "{role} POST {path} with {}: {status}",
                        hostile.what
                    ));
                }
            }
        }
        let (_, admin, csrf) = &signed_in[0];
        let large = admin
            .post(server.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&purpose={}", "a".repeat(1 << 20)))
            .send()
            .await;
        if let Ok(response) = &large
            && response.status() == StatusCode::METHOD_NOT_ALLOWED
        {
            continue;
        }
        refused_as_too_large(large);
        forms += 1;
    }
    assert!(forms >= 30, "only {forms} pages take a form");

    // The public's forms (sign-in, registration) the same, with the
    // double-submit cookie they need.
    let public = client();
    let sign_in_page = get_text(&public, server.url("/sign-in")).await;
    let token = hidden_csrf(&sign_in_page);
    for path in ["/sign-in", "/finance/register", "/finance/register/confirm"] {
        for hostile in &HOSTILE {
            let response = public
                .post(server.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "csrf={token}&username={0}&password={0}",
                    hostile.form
                ))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let page = response.text().await.unwrap();
            if status != StatusCode::BAD_REQUEST || !page.contains(hostile.said) {
                wrong.push(format!(
                    "anonymous POST {path} with {}: {status}",
                    hostile.what
                ));
            }
        }
    }

    // Every API call that takes a body, as every role: a JSON error naming
    // the field (`purpose`), never axum's plain text.
    let api_doc = get_json(&client(), server.url("/api/v1/openapi.json")).await;
    let mut calls = 0;
    for (pattern, methods) in api_doc["paths"].as_object().unwrap() {
        if methods.get("post").is_none()
            || UPLOADS.contains(&pattern.as_str())
            || NO_BODY.contains(&pattern.as_str())
        {
            continue;
        }
        calls += 1;
        let path = concrete(pattern, &own);
        for (role, client, csrf) in &signed_in {
            for hostile in &HOSTILE {
                let response = client
                    .post(server.url(&path))
                    .header("x-csrf-token", csrf.as_str())
                    .header("content-type", "application/json")
                    .body(hostile.json.to_vec())
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let error = body["error"].as_str().unwrap_or_default();
                let named = if hostile.said == "UTF-8" {
                    error.contains("not valid JSON")
                } else {
                    error.contains("'purpose'") && error.contains(hostile.said)
                };
                if status != StatusCode::BAD_REQUEST || body["code"] != 400 || !named {
                    wrong.push(format!(
                        "{role} POST {path} with {}: {status} {body}",
                        hostile.what
                    ));
                }
            }
            let not_json = client
                .post(server.url(&path))
                .header("x-csrf-token", csrf.as_str())
                .header("content-type", "application/json")
                .body("{\"purpose\": ")
                .send()
                .await
                .unwrap();
            let status = not_json.status();
            let body: Value = not_json.json().await.unwrap_or(Value::Null);
            if status != StatusCode::BAD_REQUEST || body["code"] != 400 {
                wrong.push(format!(
                    "{role} POST {path} with broken JSON: {status} {body}"
                ));
            }
        }
        if LARGE_JSON.contains(&pattern.as_str()) {
            continue;
        }
        let (_, admin, csrf) = &signed_in[0];
        refused_as_too_large(
            admin
                .post(server.url(&path))
                .header("x-csrf-token", csrf.as_str())
                .header("content-type", "application/json")
                .body(format!("{{\"purpose\": \"{}\"}}", "a".repeat(1 << 20)))
                .send()
                .await,
        );
    }
    assert!(calls >= 15, "only {calls} API calls take a body");

    // Uploads: the form's own fields checked like any other.
    let upload = |csrf: &str, item: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .part(
                "item",
                reqwest::multipart::Part::bytes(item.as_bytes().to_vec()),
            )
            .text("department", "tax")
            .part(
                "file",
                reqwest::multipart::Part::text(tax_csv(&own, 2031)).file_name("tax.csv"),
            )
    };
    for (path, role) in [
        ("/upload", "centre"),
        ("/api/v1/batches", "centre"),
        ("/inspections/rosters/import", "regulator"),
        ("/finance/loan-reports", "bank"),
        ("/api/v1/finance/loan-reports", "bank"),
        ("/credit/check", "tax"),
        ("/credit/objections/new", "enterprise"),
        ("/credit/repairs/new", "enterprise"),
        ("/api/v1/credit/objections", "enterprise"),
        ("/api/v1/credit/repairs", "enterprise"),
    ] {
        let (_, client, csrf) = signed_in.iter().find(|(r, ..)| *r == role).unwrap();
        for (what, item, said) in [
            ("a NUL", "tax\u{0}", "U+0000"),
            ("an escape sequence", "\u{1b}]0;owned\u{7}", "U+001B"),
        ] {
            let response = client
                .post(server.url(path))
                .header("x-csrf-token", csrf.as_str())
                .multipart(upload(csrf, item))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            if status != StatusCode::BAD_REQUEST || !text.contains("item") || !text.contains(said) {
                wrong.push(format!(
                    "{role} POST {path} with {what} in 'item': {status}"
                ));
            }
        }
    }

    // Addresses: a path or query holding what no one types is refused
    // before any route, for the public as for everyone.
    for pattern in server::page_paths().into_iter().chain(server::api_paths()) {
        let path = concrete(pattern, &own);
        for hostile in &HOSTILE {
            let response = client()
                .get(server.url(&format!("{path}?q={}", hostile.form)))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            if status != StatusCode::BAD_REQUEST || !text.contains(hostile.said) {
                wrong.push(format!("GET {path}?q= with {}: {status}", hostile.what));
            }
        }
    }
    for path in [
        "/entity/%00",
        "/api/v1/entities/%1B%5B2J",
        "/admin/users/a%E2%80%AEb/roles",
        "/public/entity/%FF",
    ] {
        let status = signed_in[0]
            .1
            .get(server.url(path))
            .send()
            .await
            .unwrap()
            .status();
        if status != StatusCode::BAD_REQUEST {
            wrong.push(format!("GET {path}: {status}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Nothing was stored, and the server still answers.
    assert_eq!(stored(&data), before, "a refused request stored something");
    let health = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    xinyong(&data).args(["audit", "verify"]).assert().success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_values_are_stored_as_sent_and_shown_escaped() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let own = enterprise_uscc(data);

    // Formulas, markup and line breaks are text a person may type: stored
    // as sent, escaped on the page.
    let enterprise = demo_user(&server, "enterprise").await;
    let csrf = session_csrf(&server, &enterprise).await;
    let purpose = "=HYPERLINK(\"http://x\",\"y\") <b>周转</b>\n第二行 @SUM(1)";
    let created = post_json(
        &enterprise,
        server.url("/api/v1/finance/demands"),
        &csrf,
        serde_json::json!({"amount": 30.0, "term_months": 6, "purpose": purpose}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let shown = get_json(
        &enterprise,
        server.url(&format!("/api/v1/finance/demands/{id}")),
    )
    .await;
    assert_eq!(shown["demand"]["purpose"], purpose);
    let page = get_text(&enterprise, server.url(&format!("/finance/demands/{id}"))).await;
    assert!(!page.contains("<b>周转</b>"), "markup reached the page");
    assert!(
        page.contains("&lt;b&gt;周转"),
        "the purpose is not on the page"
    );

    // Too long is refused whole, never cut: nothing is stored.
    let bank = demo_user(&server, "bank").await;
    let bank_csrf = session_csrf(&server, &bank).await;
    let visits_url = server.url("/api/v1/finance/visits");
    let before = visit_count(&bank, &visits_url).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let long = post_json(
        &bank,
        server.url("/api/v1/finance/visits"),
        &bank_csrf,
        serde_json::json!({"uscc": own, "visitor": "张".repeat(101), "visited_on": today,
            "needs": "流动资金"}),
    )
    .await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    let error = long.json::<Value>().await.unwrap()["error"].clone();
    assert!(
        error.as_str().unwrap().contains("at most 100 characters"),
        "{error}"
    );
    assert_eq!(visit_count(&bank, &visits_url).await, before);
    let needs = "@SUM(1)\t-2+3";
    let visit = post_json(
        &bank,
        server.url("/api/v1/finance/visits"),
        &bank_csrf,
        serde_json::json!({"uscc": own, "visitor": "张经理", "visited_on": today,
            "needs": needs, "follow_up": "+cmd|' /C calc'!A0"}),
    )
    .await;
    assert_eq!(visit.status(), StatusCode::CREATED);
    let id = visit.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let listed = get_json(&bank, server.url("/api/v1/finance/visits")).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["visit"])
        .find(|v| v["id"] == id)
        .unwrap();
    assert_eq!(row["needs"], needs);
    assert_eq!(row["follow_up"], "+cmd|' /C calc'!A0");
}

async fn visit_count(bank: &reqwest::Client, url: &str) -> usize {
    get_json(bank, url.to_string())
        .await
        .as_array()
        .unwrap()
        .len()
}

/// The lake's `inspection_result` rows of a task.
fn results_in_lake(data: &Path, task_number: &str) -> usize {
    let output = xinyong(data)
        .args([
            "sql",
            "--format",
            "json",
            &format!(
                "SELECT task_number FROM inspection_result WHERE task_number = '{task_number}'"
            ),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// A server killed between a result's store commit and its lake batch:
/// started again, it sends what the lake lacks, once, and nothing the lake
/// already has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_reach_the_lake_once_after_a_crash() {
    let Some(data) = private_demo("results-after-crash") else {
        return;
    };
    let server = Server::start(&data, &[]);
    let regulator = demo_user(&server, "regulator").await;
    let csrf = session_csrf(&server, &regulator).await;
    let plans = get_json(&client(), server.url("/api/v1/inspections/plans")).await;
    let plan = plans[0]["id"].as_str().unwrap().to_string();
    let detail = get_json(
        &regulator,
        server.url(&format!("/api/v1/inspections/plans/{plan}/detail")),
    )
    .await;
    let assigned: Vec<i64> = detail["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|view| &view["task"])
        .filter(|task| task["state"] == "assigned")
        .map(|task| task["id"].as_i64().unwrap())
        .collect();
    assert!(assigned.len() >= 2, "{detail}");
    let (sent, unsent) = (assigned[0], assigned[1]);
    let day = detail["definition"]["window"]["start"].as_str().unwrap();
    let item = detail["definition"]["items"][0]["code"].as_str().unwrap();
    let recorded = post_json(
        &regulator,
        server.url(&format!("/api/v1/inspections/tasks/{sent}/result")),
        &csrf,
        serde_json::json!({"inspected_on": day, "findings": [{"item": item,
            "outcome": "no_problem", "problem_type": "", "description": ""}]}),
    )
    .await;
    assert_eq!(recorded.status(), StatusCode::OK);
    let number = |task: i64| format!("{plan}-{task:06}");
    assert_eq!(results_in_lake(&data, &number(sent)), 1);
    drop(server);

    // As a kill would leave them: `sent` in the lake but not noted as
    // sent; `unsent` done in the store (with its finding and its staged
    // audit entry) and not in the lake at all.
    let batches = xinyong_batches(&data);
    execute_sql(
        &data,
        &[
            &format!("UPDATE inspection_tasks SET lake_batch = NULL WHERE id = {sent}"),
            &format!(
                "UPDATE inspection_tasks SET state = 'done', inspected_on = '{day}', \
                 result = 'problem_found', recorded_at = '{day}T09:00:00Z', \
                 recorded_by = 'user:regulator' WHERE id = {unsent}"
            ),
            &format!(
                "INSERT INTO inspection_findings (task_id, item, outcome, problem_type, \
                 description, recorded_at, recorded_by) VALUES ({unsent}, '{item}', \
                 'problem_found', '未按规定公示信息', '', '{day}T09:00:00Z', 'user:regulator')"
            ),
            &format!(
                "INSERT INTO audit_pending (at, actor, action, subject, outcome, detail) \
                 VALUES ('{day}T09:00:00Z', 'user:regulator', 'record_inspection_result', \
                 '{unsent}', 'ok', '{{}}')"
            ),
        ],
    );
    let server = Server::start(&data, &[]);
    let health = client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(results_in_lake(&data, &number(sent)), 1, "sent twice");
    assert_eq!(results_in_lake(&data, &number(unsent)), 1, "never sent");
    assert_eq!(xinyong_batches(&data), batches + 1);
    let subject = unsent.to_string();
    let chained = audit_entries(&data, "user:regulator")
        .into_iter()
        .filter(|e| e["action"] == "record_inspection_result" && e["subject"] == subject.as_str())
        .count();
    assert_eq!(chained, 1, "the staged entry is chained once");
    xinyong(&data).args(["audit", "verify"]).assert().success();
}
