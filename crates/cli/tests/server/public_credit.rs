//! The public side of credit over HTTP: the demo's evaluation of the whole
//! city, an entity's evaluation page, credit checks of one entity and of a
//! file (a CSV back), who may make them, their audit and statistics, and
//! the public lists and measures.

use super::*;

/// Entities in operation on the serious-violation list at the
/// evaluation's date, from the lake (an entity whose status changed is
/// left out: it may be closed, and a closed entity is not evaluated; so is
/// one whose registration the demo's dirty data kept out).
fn listed(data: &Path, as_of: &str) -> Vec<String> {
    let out = xinyong(data)
        .args([
            "sql",
            "--format",
            "csv",
            &format!(
                "SELECT DISTINCT subject FROM serious_violation WHERE listed_on < DATE '{as_of}' \
                 AND (removed_on IS NULL OR removed_on >= DATE '{as_of}') \
                 AND subject NOT IN (SELECT subject FROM status_change WHERE effective_on < DATE '{as_of}') \
                 AND subject IN (SELECT subject FROM registration) ORDER BY subject"
            ),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_and_credit_checks() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let own = enterprise_uscc(data);
    let centre = demo_user(&server, "centre").await;
    let tax = demo_user(&server, "tax").await;
    let bank = demo_user(&server, "bank").await;
    let enterprise = demo_user(&server, "enterprise").await;

    // The demo evaluated the whole city: its distributions add up.
    let overview = get_json(&centre, server.url("/api/v1/credit/evaluations")).await;
    let run = &overview["runs"][0];
    let as_of = run["as_of"].as_str().unwrap().to_string();
    let by_district: i64 = overview["by_district"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["total"].as_i64().unwrap())
        .sum();
    assert_eq!(by_district, run["entities"].as_i64().unwrap());
    let page = centre
        .get(server.url("/credit/evaluations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("全市评价等级分布") && page.contains("<svg"),
        "{page}"
    );

    // The enterprise sees its own evaluation, in Chinese, with what cost
    // it points; not another's, and a bank sees none.
    let mine = get_json(
        &enterprise,
        server.url(&format!("/api/v1/credit/evaluations/{own}")),
    )
    .await;
    assert_eq!(mine["uscc"], own.as_str());
    assert_eq!(mine["current"], true);
    let lost: Vec<f64> = mine["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["lost"].as_f64().unwrap())
        .collect();
    assert!(lost.windows(2).all(|w| w[0] >= w[1]), "costliest first");
    let page = enterprise
        .get(server.url(&format!("/credit/evaluations/{own}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("评价等级") && page.contains(mine["grade"]["name_zh"].as_str().unwrap()));
    let status = bank
        .get(server.url(&format!("/api/v1/credit/evaluations/{own}")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A department checks a listed entity, a valid code nobody registered
    // and a malformed one for procurement: barred, not found, not found.
    let listed = listed(data, &as_of);
    let barred = listed.first().expect("the demo city lists no one");
    let csrf = session_csrf(&server, &tax).await;
    // Valid (DOMAIN.md §2's worked example) but registered in Fuzhou.
    let unknown = "91350100M000100Y43";
    let report: Value = post_json(
        &tax,
        server.url("/api/v1/credit/checks"),
        &csrf,
        serde_json::json!({"scenario": "government_procurement", "usccs": [barred, unknown, "12345"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results[0]["verdict"], "barred", "{report}");
    assert!(
        results[0]["measures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "no_procurement"
                && m["basis_zh"].as_str().unwrap().contains("政府采购法"))
    );
    assert!(
        results[0]["lists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "serious_violation")
    );
    assert_eq!(results[1]["found"], false);
    assert_eq!(results[2]["found"], false);
    assert_eq!(report["barred"], 1);
    assert_eq!(report["not_found"], 2);
    // The same entity in a scenario no measure of its lists names is clear.
    let clear: Value = post_json(
        &tax,
        server.url("/api/v1/credit/checks"),
        &csrf,
        serde_json::json!({"scenario": "export_rebate", "usccs": [own]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(clear["results"][0]["found"].as_bool().unwrap(), "{clear}");
    // An unknown scenario is refused with its name.
    let refused = post_json(
        &tax,
        server.url("/api/v1/credit/checks"),
        &csrf,
        serde_json::json!({"scenario": "lottery", "usccs": [own]}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("lottery"));
    // Each check is audited, one entry per check.
    let audited = audit_entries(data, "user:tax");
    assert!(
        audited.iter().any(|e| e["action"] == "credit_check"
            && e["subject"] == format!("check:{}", report["check"]))
    );

    // A file of codes through the page comes back as a CSV file (with a
    // BOM, for Excel), a row per code.
    let mut file = String::from("uscc\n");
    file.push_str(&format!("{barred}\n{own}\n"));
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("scenario", "fiscal_subsidy")
        .text("codes", "")
        .part(
            "file",
            reqwest::multipart::Part::text(file).file_name("codes.csv"),
        );
    let response = tax
        .post(server.url("/credit/check"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "no BOM");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with(barred.as_str()) && lines[1].contains("依法限制"),
        "{csv}"
    );
    // A typed code shows the answer on the page; a bad scenario keeps what
    // was typed beside the error.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("scenario", "nowhere")
        .text("codes", own.clone());
    let response = tax
        .post(server.url("/credit/check"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(r#"id="error""#) && page.contains(&own),
        "{page}"
    );
    // Roles that may not check are refused, by page and by API alike, and
    // the public is sent to sign in.
    let admin = demo_user(&server, "admin").await;
    let inspector = demo_user(&server, "inspector").await;
    for client in [&bank, &enterprise, &admin, &inspector] {
        let csrf = session_csrf(&server, client).await;
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("scenario", "fiscal_subsidy")
            .text("codes", own.clone());
        let status = client
            .post(server.url("/credit/check"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let form = reqwest::multipart::Form::new()
        .text("scenario", "fiscal_subsidy")
        .text("codes", own.clone());
    let status = client()
        .post(server.url("/credit/check"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::SEE_OTHER);
    let anonymous = client()
        .post(server.url("/api/v1/credit/checks"))
        .json(&serde_json::json!({"scenario": "fiscal_subsidy", "usccs": [own]}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);

    // The credit centre's statistics count the department's checks.
    let statistics = get_json(&centre, server.url("/api/v1/credit/checks/statistics")).await;
    assert!(
        statistics
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["scenario"] == "government_procurement"
                && r["department"] == "tax"
                && r["barred"].as_i64().unwrap() >= 1)
    );

    // The public page shows a published penalty whole: decision number,
    // facts, legal basis, amount and authority.
    let out = xinyong(data)
        .args([
            "sql",
            "--format",
            "csv",
            "SELECT p.subject, p.decision_number FROM admin_penalty p \
             JOIN registration r ON r.subject = p.subject \
             WHERE p.severity = 'serious' AND NOT p.simple_procedure \
             AND p.penalty_category <> 'warning' AND p.decided_on >= DATE '2025-06-01' \
             ORDER BY p.subject LIMIT 1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .nth(1)
        .expect("the demo city has no recent serious penalty");
    let (penalised, decision) = line.split_once(',').unwrap();
    let public_page = client()
        .get(server.url(&format!("/public/entity/{penalised}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        decision.trim_matches('"'),
        "处罚依据",
        "违法事实",
        "处罚机关",
    ] {
        assert!(public_page.contains(expected), "{expected}: {public_page}");
    }

    // The lists and measures are public, with their basis.
    let public = client()
        .get(server.url("/credit/measures"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("市场监督管理严重违法失信名单") && public.contains("政府采购法"));
}

/// The public portal: the lists' members as the lake has them, filtered
/// by district; open data that holds exactly what is published today (no
/// withdrawn record), the same in its CSV file as in the API's pages, with
/// the licence; and the public's rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_portal_lists_open_data_and_rate_limit() {
    let Some(data) = fixture() else {
        return;
    };
    let server = Server::start(data, &[]);
    let public = client();
    let home = get_text(&public, server.url("/public")).await;
    assert!(
        home.contains("红黑名单") && home.contains("/open-data"),
        "{home}"
    );

    // The serious-violation list holds who the lake says, as of the run.
    let lists = get_json(&public, server.url("/api/v1/public/lists")).await;
    let as_of = lists["as_of"].as_str().unwrap().to_string();
    let serious = lists["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "serious_violation")
        .unwrap()
        .clone();
    let expected = listed(data, &as_of);
    assert_eq!(
        serious["members"].as_u64().unwrap() as usize,
        expected.len()
    );
    let mut members = Vec::new();
    let mut offset = 0;
    loop {
        let page = get_json(
            &public,
            server.url(&format!(
                "/api/v1/public/lists/serious_violation?offset={offset}"
            )),
        )
        .await;
        let rows = page["members"].as_array().unwrap().clone();
        if rows.is_empty() {
            break;
        }
        offset += rows.len();
        members.extend(rows.iter().map(|m| m["uscc"].as_str().unwrap().to_string()));
    }
    members.sort();
    assert_eq!(members, expected);
    // By district: every member in it, and the districts add up.
    let mut by_district = 0;
    for district in ["440604", "440605", "440606", "440607", "440608"] {
        let page = get_json(
            &public,
            server.url(&format!(
                "/api/v1/public/lists/serious_violation?division={district}"
            )),
        )
        .await;
        assert!(
            page["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["division"].as_str().unwrap().starts_with(district))
        );
        by_district += page["total"].as_u64().unwrap() as usize;
    }
    assert_eq!(by_district, expected.len());
    let page = get_text(
        &public,
        server.url("/public/lists/serious_violation?division=440604"),
    )
    .await;
    assert!(
        page.contains(r#"<option value="440604" selected>"#),
        "{page}"
    );
    let refused = public
        .get(server.url("/api/v1/public/lists/serious_violation?division=44x"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(refused, StatusCode::BAD_REQUEST);

    // Open data: penalties published today, a page at a time, with the
    // licence; the CSV file holds the same records.
    let datasets = get_json(&public, server.url("/api/v1/open-data")).await;
    assert!(
        datasets
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["item"] == "admin_penalty")
    );
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .to_string();
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = get_json(
            &public,
            server.url(&format!("/api/v1/open-data/admin_penalty?after={after}")),
        )
        .await;
        assert!(page["licence_zh"].as_str().unwrap().contains("CC BY 4.0"));
        for record in page["records"].as_array().unwrap() {
            assert!(
                record["publicity_ends_on"].as_str().unwrap() > today.as_str(),
                "{record}"
            );
            records.push(record["record"].as_str().unwrap().to_string());
        }
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert!(!records.is_empty());
    let response = public
        .get(server.url("/open-data/admin_penalty.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("creativecommons")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let mut reader = ::csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "record")
        .unwrap();
    let in_file: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[at].to_string())
        .collect();
    assert_eq!(in_file, records);
    // The demo's repaired record and its corrected original are not in it;
    // the corrected version is.
    let centre = demo_user(&server, "centre").await;
    let cases = get_json(&centre, server.url("/api/v1/credit/cases")).await;
    for case in cases["cases"].as_array().unwrap() {
        let record = case["record"].as_str().unwrap().to_string();
        match (
            case["kind"].as_str().unwrap(),
            case["state"].as_str().unwrap(),
        ) {
            ("repair", "approved") | ("objection", "corrected") => {
                assert!(!records.contains(&record), "{record} was withdrawn")
            }
            _ => {}
        }
        if let Some(batch) = case["correction_batch"].as_i64() {
            assert!(records.contains(&format!("admin_penalty:{batch}:1")));
        }
    }

    // The public is limited per address; a signed-in caller is not.
    let mut limited = false;
    for _ in 0..=server::http::throttle::MAX_PUBLIC_API_PER_MINUTE {
        let status = public
            .get(server.url("/api/v1/open-data"))
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
        assert_eq!(status, StatusCode::OK);
    }
    assert!(limited, "no rate limit");
    let status = centre
        .get(server.url("/api/v1/open-data"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let guide = get_text(&centre, server.url("/public/api")).await;
    assert!(guide.contains(&server::http::throttle::MAX_PUBLIC_API_PER_MINUTE.to_string()));
}
