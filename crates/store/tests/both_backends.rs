//! The same behaviour on SQLite and PostgreSQL. PostgreSQL comes from
//! `XINYONG_TEST_POSTGRES` (default: the local server at 127.0.0.1:5432,
//! database `test`); each test creates and drops its own database there
//! (`testkit::postgres`), and is skipped without a server unless `CI` is set.

#![allow(clippy::unwrap_used)]

use domain::Catalog;
use store::{BatchWriter, EntityUpdate, NewEvent, Store, StoreError, SummaryIncrement};

/// Runs a hundred writes at once (the second argument numbers them); every one must succeed, and the ids they
/// return, sorted, must all differ.
async fn at_once<W, F>(store: &Store, write: W) -> Vec<i64>
where
    W: Fn(Store, usize) -> F,
    F: std::future::Future<Output = Result<i64, store::StoreError>> + Send + 'static,
{
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..100 {
        writes.spawn(write(store.clone(), n));
    }
    let mut ids: Vec<i64> = writes
        .join_all()
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100, "ids collide");
    ids
}

async fn exercise(store: &Store) {
    let catalog = Catalog::default_catalog();
    store
        .save_catalog(
            &catalog,
            domain::catalog::DEFAULT_CATALOG_TOML,
            "2026-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(
        store.catalog_source().await.unwrap().as_deref(),
        Some(domain::catalog::DEFAULT_CATALOG_TOML)
    );

    // A committed batch lands whole.
    let mut batch = BatchWriter::begin(
        store,
        "samr",
        "registration",
        "reg.csv",
        "2026-01-01T00:00:00Z",
    )
    .await
    .unwrap();
    let entity = EntityUpdate {
        uscc: "91440606722473344C",
        name: "美的集团股份有限公司",
        entity_type: "joint_stock_company",
        legal_representative: "方洪波",
        registered_capital: Some(698_000.0),
        established_on: "2000-04-07",
        industry: "38",
        division: "440606106",
        address: "佛山市顺德区北滘镇美的大道6号",
        status: "operating",
        registration_number: Some("440681000046218"),
    };
    batch
        .upsert_entity(&entity, "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    batch
        .add_legacy_id("722473344", "91440606722473344C", "organisation_code")
        .await
        .unwrap();
    let mut first = SummaryIncrement::default();
    first.add(100.5, false, "2025-03");
    batch
        .add_to_summary("91440606722473344C", "tax_payment", 2025, &first)
        .await
        .unwrap();
    let mut second = SummaryIncrement::default();
    second.add(50.0, true, "2025-05");
    batch
        .add_to_summary("91440606722473344C", "tax_payment", 2025, &second)
        .await
        .unwrap();
    let detail = serde_json::json!({"fine_amount": "3.00"});
    batch
        .add_event(&NewEvent {
            uscc: "91440606722473344C",
            item: "admin_penalty",
            event_date: "2025-04-01",
            title: "虚假宣传",
            detail: &detail,
            department: "samr",
            source_row: 3,
            publicity_until: Some("2026-04-01"),
        })
        .await
        .unwrap();
    let report = serde_json::json!({"rows_in": 1});
    let id = batch
        .commit(counts(1, 1, 0), ("abc", 3), &report, "2026-01-01T00:00:01Z")
        .await
        .unwrap();

    let stored = store.batch(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.rows_in, stored.accepted, stored.report.clone()),
        (1, 1, report)
    );
    assert_eq!(
        store
            .batch_with_content("samr", "registration", "abc")
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    assert_eq!(
        store
            .entity("91440606722473344C")
            .await
            .unwrap()
            .unwrap()
            .name,
        "美的集团股份有限公司"
    );
    let summaries = store.summaries("91440606722473344C").await.unwrap();
    assert_eq!(
        (
            summaries[0].records,
            summaries[0].amount,
            summaries[0].flagged,
            summaries[0].latest.as_str()
        ),
        (2, 150.5, 1, "2025-05")
    );
    let events = store.events("91440606722473344C").await.unwrap();
    assert_eq!(events[0].detail["fine_amount"], "3.00");
    let snapshot = store.registry_snapshot().await.unwrap();
    assert_eq!(snapshot.codes.len(), 1);
    assert_eq!(snapshot.legacy["722473344"].as_str(), "91440606722473344C");

    // A rolled-back batch leaves no trace.
    let before = store.counts().await.unwrap();
    let mut batch = BatchWriter::begin(
        store,
        "samr",
        "registration",
        "reg2.csv",
        "2026-01-02T00:00:00Z",
    )
    .await
    .unwrap();
    batch
        .upsert_entity(
            &EntityUpdate {
                uscc: "914403001922038216",
                ..entity
            },
            "now",
        )
        .await
        .unwrap();
    batch.rollback().await.unwrap();
    assert_eq!(store.counts().await.unwrap(), before);
    assert!(store.entity("914403001922038216").await.unwrap().is_none());

    // The same content from the same source cannot be stored twice: the
    // second writer learns it at its commit, as a duplicate, and a file of
    // that length is known to be worth hashing first.
    let again = BatchWriter::begin(
        store,
        "samr",
        "registration",
        "reg.csv",
        "2026-01-03T00:00:00Z",
    )
    .await
    .unwrap();
    let twice = again
        .commit(counts(0, 0, 0), ("abc", 3), &serde_json::json!({}), "t")
        .await;
    assert!(matches!(twice, Err(StoreError::Duplicate(_))), "{twice:?}");
    assert_eq!(store.batches().await.unwrap().len(), 1);
    assert!(
        store
            .batch_of_length("samr", "registration", 3)
            .await
            .unwrap()
    );
    assert!(
        !store
            .batch_of_length("samr", "registration", 4)
            .await
            .unwrap()
    );
    assert!(
        !store
            .batch_of_length("tax", "registration", 3)
            .await
            .unwrap()
    );
}

/// Writes a batch holds back go out many rows to a statement, at the
/// statement size and at the commit; of two writes to one row the later
/// holds, as it would row by row.
async fn exercise_held_back_writes(store: &Store) {
    let mut batch = BatchWriter::begin(store, "samr", "registration", "r.csv", "t0")
        .await
        .unwrap();
    let entity = EntityUpdate {
        uscc: "91440606722473344C",
        name: "甲公司",
        entity_type: "limited_company",
        legal_representative: "张三",
        registered_capital: None,
        established_on: "2020-01-01",
        industry: "52",
        division: "440606",
        address: "顺德",
        status: "operating",
        registration_number: None,
    };
    batch.upsert_entity(&entity, "t1").await.unwrap();
    let renamed = EntityUpdate {
        name: "乙公司",
        ..entity
    };
    batch.upsert_entity(&renamed, "t2").await.unwrap();
    batch
        .update_entity_field(entity.uscc, "status", "revoked", "t3")
        .await
        .unwrap();
    batch
        .update_entity_field(entity.uscc, "status", "cancelled", "t4")
        .await
        .unwrap();
    batch
        .update_entity_field(entity.uscc, "registered_capital", "12.5", "t4")
        .await
        .unwrap();
    for n in 0..1_200 {
        batch
            .add_legacy_id(&format!("L{n:08}"), entity.uscc, "registration_number")
            .await
            .unwrap();
        batch
            .add_event(&NewEvent {
                uscc: entity.uscc,
                item: "admin_licence",
                event_date: "2025-01-01",
                title: "许可",
                detail: &serde_json::json!({}),
                department: "samr",
                source_row: n,
                publicity_until: None,
            })
            .await
            .unwrap();
    }
    batch
        .commit(
            counts(1_202, 1_202, 0),
            ("x", 1),
            &serde_json::json!({}),
            "t5",
        )
        .await
        .unwrap();

    let stored = store.entity(entity.uscc).await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.status.as_str()),
        ("乙公司", "cancelled")
    );
    assert_eq!(stored.registered_capital, Some(12.5));
    let events = store.events(entity.uscc).await.unwrap();
    assert_eq!(events.len(), 1_200);
    assert!(events.windows(2).all(|w| w[0].source_row < w[1].source_row));
    assert_eq!(store.registry_snapshot().await.unwrap().legacy.len(), 1_200);

    // Search helpers: a code prefix through the key, names by a part, codes
    // in the order asked.
    let names = store.entity_names().await.unwrap();
    let (code, name) = names[0].clone();
    let by_prefix = store
        .entities_with_code_prefix(&code[..10], 50)
        .await
        .unwrap();
    assert!(by_prefix.iter().any(|e| e.uscc == code));
    assert!(by_prefix.iter().all(|e| e.uscc.starts_with(&code[..10])));
    let part: String = name.chars().skip(1).take(3).collect();
    let by_name = store
        .entities_with_name_containing(&part, 50)
        .await
        .unwrap();
    assert!(by_name.iter().all(|e| e.name.contains(&part)));
    assert!(
        store
            .entities_with_name_containing("%", 50)
            .await
            .unwrap()
            .is_empty()
    );
    let (other, _) = names[names.len() - 1].clone();
    let codes = store
        .entities_with_codes(&[&other, "nope", &code])
        .await
        .unwrap();
    let expected = if other == code {
        vec![code]
    } else {
        vec![other, code]
    };
    assert_eq!(
        codes.iter().map(|e| e.uscc.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(store.batch_mark().await.unwrap() >= 1);
}

#[tokio::test]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise(&store).await;
    store.close().await;
    // Reopening runs no migration twice and finds the data.
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    assert_eq!(store.batches().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn postgres() {
    let Some(db) = testkit::postgres::fresh("store") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise(&store).await;
    store.close().await;
    let store = Store::open(&db.url).await.unwrap();
    assert_eq!(store.batches().await.unwrap().len(), 1);
    store.close().await;
}

/// A hundred uploads at once: every batch committed with its own id.
async fn exercise_hundred_uploads(store: &Store) {
    let committed = at_once(store, |store, n| async move {
        let sha = format!("{n:064x}");
        let batch = BatchWriter::begin(&store, "tax", "tax_payment", "up.csv", "t").await?;
        batch
            .commit(counts(1, 1, 0), (&sha, 64), &serde_json::json!({}), "t")
            .await
    })
    .await;
    assert_eq!(committed.len(), 100);
    assert_eq!(store.batches().await.unwrap().len(), 100);
}

#[tokio::test]
async fn hundred_uploads_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_hundred_uploads(&store).await;
    store.close().await;
}

#[tokio::test]
async fn hundred_uploads_on_postgres() {
    let Some(db) = testkit::postgres::fresh("uploads") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_hundred_uploads(&store).await;
    store.close().await;
}

/// A missing number, then a number, then a missing one again, each written
/// by the same statement on the same connection: PostgreSQL must accept the
/// statement prepared for the first (a float8 NULL, not sqlx's float4).
async fn exercise_missing_numbers(store: &Store) {
    let catalog = Catalog::default_catalog();
    store
        .save_catalog(&catalog, domain::catalog::DEFAULT_CATALOG_TOML, "t")
        .await
        .unwrap();
    let uscc = "91440606722473344C";
    for (n, capital) in [None, Some(698_000.0), None, Some(12.5)]
        .into_iter()
        .enumerate()
    {
        let sha = format!("{n:064x}");
        let mut batch = BatchWriter::begin(store, "samr", "registration", "r.csv", "t")
            .await
            .unwrap();
        let entity = EntityUpdate {
            uscc,
            name: "美的集团股份有限公司",
            entity_type: "joint_stock_company",
            legal_representative: "方洪波",
            registered_capital: capital,
            established_on: "2000-04-07",
            industry: "38",
            division: "440606106",
            address: "佛山市顺德区北滘镇美的大道6号",
            status: "operating",
            registration_number: None,
        };
        batch.upsert_entity(&entity, "t").await.unwrap();
        batch
            .commit(counts(1, 1, 0), (&sha, 64), &serde_json::json!({}), "t")
            .await
            .unwrap();
        let stored = store.entity(uscc).await.unwrap().unwrap();
        assert_eq!(stored.registered_capital, capital);
    }
    // A payments batch is the latest batch, not the latest registry batch.
    let registry = store.registry_batch_mark().await.unwrap();
    assert!(registry > 0);
    let before = store.batch_mark().await.unwrap();
    let batch = BatchWriter::begin(store, "tax", "tax_payment", "t.csv", "t")
        .await
        .unwrap();
    batch
        .commit(counts(0, 0, 0), ("tax", 3), &serde_json::json!({}), "t")
        .await
        .unwrap();
    assert_eq!(store.batch_mark().await.unwrap(), before + 1);
    assert_eq!(store.registry_batch_mark().await.unwrap(), registry);
    // A hundred batches committed at once each advance the markers once:
    // a reader that has seen a mark has seen every batch it counts.
    let item_before = store.batch_mark_of("tax_payment").await.unwrap();
    at_once(store, |store, n| async move {
        let batch = BatchWriter::begin(&store, "tax", "tax_payment", "t.csv", "t").await?;
        batch
            .commit(
                counts(0, 0, 0),
                (&format!("parallel-{n}"), 3),
                &serde_json::json!({}),
                "t",
            )
            .await
    })
    .await;
    assert_eq!(store.batch_mark().await.unwrap(), before + 101);
    assert_eq!(
        store.batch_mark_of("tax_payment").await.unwrap(),
        item_before + 100
    );
    assert_eq!(store.registry_batch_mark().await.unwrap(), registry);
}

#[tokio::test]
async fn missing_numbers_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_missing_numbers(&store).await;
    store.close().await;
}

#[tokio::test]
async fn missing_numbers_on_postgres() {
    let Some(db) = testkit::postgres::fresh("missing_numbers") else {
        return;
    };
    // One connection, so every statement meets its prepared predecessor.
    let store = Store::open_with(&db.url, 1).await.unwrap();
    exercise_missing_numbers(&store).await;
    store.close().await;
}

/// A request cancelled (its timeout) while its audit entry waited for
/// SQLite's lock must not leave the one writer connection inside a
/// transaction no one owns, or every later write would fail. The entry is
/// the store's appender's to write, so it is written all the same.
#[tokio::test]
async fn a_cancelled_audit_is_written_and_the_writer_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::sqlite_url(dir.path());
    let store = Store::open(&url).await.unwrap();
    let other = Store::open(&url).await.unwrap();
    // Another process holds the write lock.
    let held = other.write().await.unwrap();
    let entry = store::NewAuditEntry {
        actor: "user:wang",
        action: "view_entity",
        subject: "s",
        outcome: "ok",
        detail: serde_json::json!({}),
    };
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        store.audit(&entry, "t"),
    )
    .await;
    assert!(cancelled.is_err(), "the write waited for the lock");
    held.rollback().await.unwrap();
    for seq in 2..=4 {
        assert_eq!(store.audit(&entry, "t").await.unwrap(), seq);
    }
    let check = store.verify_audit().await.unwrap();
    assert_eq!((check.entries, check.first_broken), (4, None));
    store.close().await;
    other.close().await;
}

/// Entries that arrive together are written together (the appender's group
/// commit); one the database refuses fails alone, and the chain of the
/// others is whole.
/// Statements that make the log refuse entries whose subject is `refuse`,
/// and the one that stops it.
fn refuse_audit_trigger(backend: store::Backend) -> (Vec<String>, String) {
    match backend {
        store::Backend::Postgres => (
            vec![
                "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN \
                 IF NEW.subject = 'refuse' THEN RAISE EXCEPTION 'audit refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
                    .to_string(),
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
                    .to_string(),
            ],
            "DROP TRIGGER refuse_audit ON audit_log".to_string(),
        ),
        store::Backend::Sqlite => (
            vec![
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
                 WHEN NEW.subject = 'refuse' BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
                    .to_string(),
            ],
            "DROP TRIGGER refuse_audit".to_string(),
        ),
    }
}

async fn exercise_audit_refusal(store: &Store, url: &str) {
    let (refuse, _) = refuse_audit_trigger(store.backend());
    testkit::execute_sql(url, refuse).unwrap();
    let mut appends = tokio::task::JoinSet::new();
    for i in 0..500 {
        let store = store.clone();
        appends.spawn(async move {
            let subject = if i == 250 {
                "refuse".to_string()
            } else {
                format!("s{i}")
            };
            let entry = store::NewAuditEntry {
                actor: "user:wang",
                action: "view_entity",
                subject: &subject,
                outcome: "ok",
                detail: serde_json::json!({"i": i}),
            };
            (i, store.audit(&entry, "2026-11-29T10:00:00Z").await)
        });
    }
    let mut seqs = Vec::new();
    for (i, result) in appends.join_all().await {
        match result {
            Ok(seq) => seqs.push(seq),
            Err(e) => {
                assert_eq!(i, 250, "only the refused entry fails: {e}");
                assert!(e.to_string().contains("audit refused"), "{e}");
            }
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=499).collect::<Vec<i64>>());
    let check = store.verify_audit().await.unwrap();
    assert_eq!((check.entries, check.first_broken), (499, None));
}

/// A change and its audit entry commit together (migration 0012): the
/// entry is chained by the time the write returns; one a killed process
/// left staged is chained by the next append, before it; one the log
/// refuses waits without holding up the others.
async fn exercise_staged_audit(store: &Store, url: &str) {
    use store::AuthorisationRow;
    let mut grant = AuthorisationRow {
        id: 0,
        enterprise: "E1".into(),
        bank: "1".into(),
        application_id: None,
        scope: "tax".into(),
        purpose: "授信".into(),
        granted_at: "2026-11-29T10:00:00Z".into(),
        granted_by: "user:e".into(),
        expires_at: "2027-01-01T00:00:00Z".into(),
        revoked_at: None,
        revoked_by: None,
    };
    grant.id = store.reserve_ids("authorisations", 1).await.unwrap();
    let entry = store::NewAuditEntry {
        actor: "user:e",
        action: "consent_grant",
        subject: "E1",
        outcome: "ok",
        detail: serde_json::json!({"grant": grant.id}),
    };
    store
        .grant_authorisation_audited(&grant, &entry)
        .await
        .unwrap();
    assert_eq!(store.audit_pending().await.unwrap(), 0);
    let chained = store
        .audit_entries(&store::AuditFilter {
            subject: Some("E1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(chained.len(), 1);
    assert_eq!(chained[0].at, grant.granted_at);

    // Killed between the change's commit and the chaining.
    let staged = |subject: &str| {
        format!(
            "INSERT INTO audit_pending (at, actor, action, subject, outcome, detail) \
             VALUES ('2026-11-29T10:00:01Z', 'user:e', 'consent_grant', '{subject}', 'ok', '{{}}')"
        )
    };
    testkit::execute_sql(url, vec![staged("E2")]).unwrap();
    assert_eq!(store.audit_pending().await.unwrap(), 1);
    let view = store::NewAuditEntry {
        actor: "user:wang",
        action: "view_entity",
        subject: "E3",
        outcome: "ok",
        detail: serde_json::json!({}),
    };
    let seq = store.audit(&view, "2026-11-29T10:00:02Z").await.unwrap();
    assert_eq!(store.audit_pending().await.unwrap(), 0);
    let all = store.audit_entries(&Default::default()).await.unwrap();
    let subjects: Vec<&str> = all.iter().rev().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["E1", "E2", "E3"]);
    assert_eq!(all[0].seq, seq);

    // One the log refuses stays staged; the callers' own entries go on.
    let (refuse, allow) = refuse_audit_trigger(store.backend());
    testkit::execute_sql(url, refuse).unwrap();
    testkit::execute_sql(url, vec![staged("refuse")]).unwrap();
    store.audit(&view, "2026-11-29T10:00:03Z").await.unwrap();
    assert_eq!(store.audit_pending().await.unwrap(), 1);
    testkit::execute_sql(url, vec![allow]).unwrap();
    store.flush_audit().await.unwrap();
    assert_eq!(store.audit_pending().await.unwrap(), 0);
    let check = store.verify_audit().await.unwrap();
    assert_eq!((check.entries, check.first_broken), (5, None));
}

#[tokio::test]
async fn staged_audit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::sqlite_url(dir.path());
    let store = Store::open(&url).await.unwrap();
    exercise_staged_audit(&store, &url).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_audit_on_postgres() {
    let Some(db) = testkit::postgres::fresh("staged_audit") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_staged_audit(&store, &db.url).await;
    store.close().await;
}

#[tokio::test]
async fn audit_refusal_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Store::sqlite_url(dir.path());
    let store = Store::open(&url).await.unwrap();
    exercise_audit_refusal(&store, &url).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_refusal_on_postgres() {
    let Some(db) = testkit::postgres::fresh("audit_refusal") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_audit_refusal(&store, &db.url).await;
    store.close().await;
}

#[tokio::test]
async fn held_back_writes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_held_back_writes(&store).await;
    store.close().await;
}

#[tokio::test]
async fn held_back_writes_on_postgres() {
    let Some(db) = testkit::postgres::fresh("held_back") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_held_back_writes(&store).await;
    store.close().await;
}

/// Users, sessions, tokens, and the audit chain under concurrent appends.
async fn exercise_accounts_and_audit(store: &Store) {
    let grants = [
        store::RoleGrant {
            role: "department".into(),
            subject: "tax".into(),
        },
        store::RoleGrant {
            role: "regulator".into(),
            subject: String::new(),
        },
    ];
    let now = "2026-11-27T10:00:00Z";
    let id = store
        .create_user("wang", "王芳", "$argon2id$x", &grants, now)
        .await
        .unwrap();
    assert!(matches!(
        store.create_user("wang", "again", "h", &[], now).await,
        Err(store::StoreError::Conflict(_))
    ));
    let user = store.user_by_name("wang").await.unwrap().unwrap();
    assert_eq!(user.id, id);
    // Twenty accounts created at once get twenty ids.
    let mut creating = tokio::task::JoinSet::new();
    for n in 0..20 {
        let store = store.clone();
        creating.spawn(async move {
            store
                .create_user(&format!("burst{n}"), "并发", "$argon2id$x", &[], now)
                .await
        });
    }
    let mut created: Vec<i64> = creating
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    created.sort_unstable();
    created.dedup();
    assert_eq!(created.len(), 20);
    assert_eq!(user.roles.len(), 2);
    // Forty attempts at once: exactly five are counted before the lock, the
    // fifth sets it, and the rest are refused without being counted.
    let lock = "2026-11-27T10:15:00Z";
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let store = store.clone();
        attempts.spawn(async move { store.begin_login_attempt(id, now, 5, lock).await });
    }
    let mut admitted: Vec<i64> = attempts
        .join_all()
        .await
        .into_iter()
        .filter_map(Result::unwrap)
        .collect();
    admitted.sort_unstable();
    assert_eq!(admitted, vec![1, 2, 3, 4, 5]);
    let user = store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!(
        (user.failed_logins, user.locked_until.as_deref()),
        (5, Some(lock))
    );
    // After the lock has passed, attempts are counted again.
    assert_eq!(
        store
            .begin_login_attempt(id, "2026-11-27T10:16:00Z", 5, "2026-11-27T10:31:00Z")
            .await
            .unwrap(),
        Some(6)
    );
    store.reset_failed_logins(id).await.unwrap();
    let user = store.user_by_id(id).await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));

    store
        .create_session("s1", id, "csrf1", now, "2026-11-27T18:00:00Z")
        .await
        .unwrap();
    store
        .create_session("s2", id, "csrf2", now, "2026-11-27T18:00:00Z")
        .await
        .unwrap();
    store.revoke_session("s1", now).await.unwrap();
    assert!(
        store
            .session("s1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        store
            .session("s2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    // A new password and a disabled account both end every session.
    store.set_password(id, "$argon2id$y", now).await.unwrap();
    assert!(
        store
            .session("s2")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    store
        .create_session("s3", id, "csrf3", now, "2026-11-27T18:00:00Z")
        .await
        .unwrap();
    assert!(store.set_user_disabled("wang", true, now).await.unwrap());
    assert!(
        store
            .session("s3")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(!store.set_user_disabled("nobody", true, now).await.unwrap());

    let token = store
        .create_token(
            "push",
            "sha",
            "department",
            "tax",
            "cli:root",
            now,
            "2027-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    assert_eq!(
        store.token_by_secret("sha").await.unwrap().unwrap().id,
        token
    );
    assert!(store.revoke_token(token, now).await.unwrap());
    assert!(
        !store.revoke_token(token, now).await.unwrap(),
        "revoked once"
    );

    // A hundred appends at once still form one chain.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("s{i}");
            let entry = store::NewAuditEntry {
                actor: if i % 2 == 0 { "user:wang" } else { "user:li" },
                action: "view_entity",
                subject: &subject,
                outcome: "ok",
                detail: serde_json::json!({"i": i}),
            };
            store.audit(&entry, now).await.unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    let check = store.verify_audit().await.unwrap();
    assert_eq!((check.entries, check.first_broken.clone()), (100, None));
    let filter = store::AuditFilter {
        actor: Some("user:wang".into()),
        limit: 100,
        ..Default::default()
    };
    let wang = store.audit_entries(&filter).await.unwrap();
    assert_eq!(wang.len(), 50);
    assert!(wang.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
}

#[tokio::test]
async fn accounts_and_audit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_accounts_and_audit(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_audit_on_postgres() {
    let Some(db) = testkit::postgres::fresh("accounts") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_accounts_and_audit(&store).await;
    store.close().await;
}

#[tokio::test]
async fn rejects_other_urls() {
    assert!(matches!(
        Store::open("mysql://localhost/x").await,
        Err(store::StoreError::Url(_))
    ));
}

/// Rosters, a plan from draft to drawn, tasks, a result and publication.
async fn exercise_inspections(store: &Store) {
    use store::{
        FindingRow, InspectorRow, InspectorVisitRow, NewTask, PlanRow, RelationshipRow, TaskResult,
    };
    let catalog = Catalog::default_catalog();
    store
        .save_catalog(
            &catalog,
            domain::catalog::DEFAULT_CATALOG_TOML,
            "2026-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    let mut batch = BatchWriter::begin(
        store,
        "samr",
        "registration",
        "reg.csv",
        "2026-01-01T00:00:00Z",
    )
    .await
    .unwrap();
    let uscc = "91440606722473344C";
    batch
        .upsert_entity(
            &EntityUpdate {
                uscc,
                name: "美的集团股份有限公司",
                entity_type: "joint_stock_company",
                legal_representative: "方洪波",
                registered_capital: Some(698_000.0),
                established_on: "2000-04-07",
                industry: "38",
                division: "440606106",
                address: "佛山市顺德区北滘镇美的大道6号",
                status: "operating",
                registration_number: None,
            },
            "2026-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    batch
        .commit(
            counts(1, 1, 0),
            ("abc", 3),
            &serde_json::json!({}),
            "2026-01-01T00:00:01Z",
        )
        .await
        .unwrap();

    let inspector = |id: &str| InspectorRow {
        id: id.to_string(),
        name: format!("检查员{id}"),
        certificate: format!("4406{id}"),
        department: "samr".to_string(),
        competences: "registration;food_safety".to_string(),
        available: true,
        account: None,
    };
    store
        .upsert_inspectors(&[inspector("1"), inspector("2")], "t")
        .await
        .unwrap();
    store.link_inspector_account("1", "wang").await.unwrap();
    // a re-import keeps the account link
    store
        .upsert_inspectors(&[inspector("1")], "t2")
        .await
        .unwrap();
    assert_eq!(
        store
            .inspector_of_account("wang")
            .await
            .unwrap()
            .unwrap()
            .id,
        "1"
    );
    assert!(
        store
            .set_inspector_available("2", false, "t3")
            .await
            .unwrap()
    );
    assert!(!store.inspector("2").await.unwrap().unwrap().available);
    let relationship = RelationshipRow {
        inspector: "2".into(),
        subject: uscc.into(),
        relationship: "kinship".into(),
    };
    store
        .add_relationships(&[relationship.clone(), relationship.clone()], "t")
        .await
        .unwrap();
    assert_eq!(store.relationships().await.unwrap().len(), 1);
    store
        .add_inspector_visits(&[InspectorVisitRow {
            inspector: "1".into(),
            subject: uscc.into(),
            inspected_on: "2025-06-01".into(),
            source: "import".into(),
        }])
        .await
        .unwrap();
    assert_eq!(store.inspector_visits("2025-01-01").await.unwrap().len(), 1);
    assert!(
        store
            .inspector_visits("2025-07-01")
            .await
            .unwrap()
            .is_empty()
    );
    store.open_case(uscc, "2026-01-02", "立案").await.unwrap();
    let roster = store.object_roster().await.unwrap();
    assert_eq!(roster.len(), 1);
    assert!(roster[0].open_case);
    assert!(roster[0].class.is_none());
    assert!(store.close_case(uscc).await.unwrap());

    let plan = PlanRow {
        id: "P1".into(),
        name: "计划".into(),
        definition: "{}".into(),
        state: "draft".into(),
        window_start: "2026-02-01".into(),
        window_end: "2026-03-31".into(),
        created_at: "t".into(),
        created_by: "user:wang".into(),
        committed_at: None,
        commitment_sha256: None,
        seed_sha256: None,
        seed: None,
        drawn_at: None,
        draw_summary: None,
    };
    store.create_plan(&plan).await.unwrap();
    assert!(store.create_plan(&plan).await.is_err());
    // drawing needs a commit first; the seed stays hidden until drawn
    assert!(
        store
            .record_draw("P1", "t", "{}", Vec::new())
            .await
            .is_err()
    );
    store
        .commit_plan("P1", "t", "c0ffee", "5eed", "secret")
        .await
        .unwrap();
    assert!(
        store
            .commit_plan("P1", "t", "c0ffee", "5eed", "secret")
            .await
            .is_err()
    );
    assert_eq!(
        store.plan("P1").await.unwrap().unwrap().revealed_seed(),
        None
    );
    let tasks = vec![NewTask {
        rank: 1,
        subject: uscc.into(),
        class: Some("D".into()),
        object_key: "ab".into(),
        inspectors: vec!["1".into(), "2".into()],
        unstaffed: None,
    }];
    store.record_draw("P1", "t", "{}", tasks).await.unwrap();
    assert_eq!(
        store.plan("P1").await.unwrap().unwrap().revealed_seed(),
        Some("secret")
    );
    let mine = store.tasks_of_inspector("1").await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].subject_name, "美的集团股份有限公司");
    let task = mine[0].id;
    assert_eq!(
        store
            .open_tasks_overlapping("2026-03-01", "2026-04-30")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .open_tasks_overlapping("2026-04-01", "2026-04-30")
            .await
            .unwrap()
            .is_empty()
    );
    store.set_visits(&[(task, task)]).await.unwrap();
    let result = TaskResult {
        inspected_on: "2026-02-10".into(),
        result: "problem_found".into(),
        findings: vec![FindingRow {
            task_id: task,
            item: "samr.food".into(),
            outcome: "problem_found".into(),
            problem_type: "食品安全违法".into(),
            description: "".into(),
            recorded_at: "t".into(),
            recorded_by: "user:wang".into(),
        }],
        recorded_at: "t".into(),
        recorded_by: "user:wang".into(),
    };
    store.record_result(task, &result).await.unwrap();
    assert!(
        store.record_result(task, &result).await.is_err(),
        "one result per task"
    );
    // Recorded, then waiting for the lake until a batch carries it.
    let unsent: Vec<i64> = store
        .tasks_to_send()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(unsent, [task]);
    store.sent_to_lake(&[task], 7).await.unwrap();
    assert!(store.tasks_to_send().await.unwrap().is_empty());

    assert_eq!(store.findings(task).await.unwrap().len(), 1);
    // the team's visit counts for later recusal
    assert_eq!(store.inspector_visits("2026-02-01").await.unwrap().len(), 2);
    assert_eq!(
        store.publish_results(&[task], "2026-02-20").await.unwrap(),
        1
    );
    assert_eq!(
        store.publish_results(&[task], "2026-02-21").await.unwrap(),
        0
    );
    let done = store.done_tasks(true, 10).await.unwrap();
    assert_eq!(done[0].published_on.as_deref(), Some("2026-02-20"));
    assert_eq!(done[0].visit_id, Some(task));
    store
        .set_holidays(&[("2026-10-01".into(), "holiday".into(), "国庆".into())])
        .await
        .unwrap();
    assert_eq!(store.holidays().await.unwrap().len(), 1);
    // A hundred inspectors record their results at once.
    store
        .create_plan(&PlanRow {
            id: "P100".into(),
            ..plan.clone()
        })
        .await
        .unwrap();
    store
        .commit_plan("P100", "t", "c0ffee", "5eed", "secret")
        .await
        .unwrap();
    let hundred = (1..=100)
        .map(|rank| NewTask {
            rank,
            subject: format!("S{rank}"),
            class: Some("C".into()),
            object_key: format!("k{rank}"),
            inspectors: vec!["1".into()],
            unstaffed: None,
        })
        .collect();
    store.record_draw("P100", "t", "{}", hundred).await.unwrap();
    let tasks = store.tasks_of_plan("P100").await.unwrap();
    assert_eq!(tasks.len(), 100);
    let mut recording = tokio::task::JoinSet::new();
    for task in &tasks {
        let (store, id) = (store.clone(), task.id);
        let result = TaskResult {
            findings: result
                .findings
                .iter()
                .map(|f| FindingRow {
                    task_id: id,
                    ..f.clone()
                })
                .collect(),
            ..result.clone()
        };
        recording.spawn(async move { store.record_result(id, &result).await });
    }
    for outcome in recording.join_all().await {
        outcome.unwrap();
    }
    let recorded = store.tasks_of_plan("P100").await.unwrap();
    assert!(
        recorded
            .iter()
            .all(|t| t.result.as_deref() == Some("problem_found"))
    );
}

#[tokio::test]
async fn inspections_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_inspections(&store).await;
    store.close().await;
}

#[tokio::test]
async fn inspections_on_postgres() {
    let Some(db) = testkit::postgres::fresh("inspections") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_inspections(&store).await;
    store.close().await;
}

async fn exercise_finance(store: &Store) {
    use store::{
        AccessRow, ApplicationEventRow, ApplicationParty, ApplicationRow, AuthorisationRow,
        BankRow, DemandRow, GrantChange, LoanOutcome, ProductRow,
    };
    store
        .upsert_banks(&[
            BankRow {
                id: "1".into(),
                name: "甲银行".into(),
                uscc: "91440600MA4UXXXX0X".into(),
            },
            BankRow {
                id: "2".into(),
                name: "乙银行".into(),
                uscc: "91440600MA4UYYYY0Y".into(),
            },
        ])
        .await
        .unwrap();
    assert_eq!(store.banks().await.unwrap().len(), 2);

    let grant = AuthorisationRow {
        id: 0,
        enterprise: "E1".into(),
        bank: "1".into(),
        application_id: None,
        scope: "registration;tax".into(),
        purpose: "授信".into(),
        granted_at: "2026-01-01T00:00:00Z".into(),
        granted_by: "user:e".into(),
        expires_at: "2026-04-01T00:00:00Z".into(),
        revoked_at: None,
        revoked_by: None,
    };
    let first = store.grant_authorisation(&grant).await.unwrap();
    let second = store.grant_authorisation(&grant).await.unwrap();
    assert_eq!(second, first + 1);
    // A hundred grants at once, each with its own id.
    let granted = at_once(store, |store, _| {
        let grant = AuthorisationRow {
            enterprise: "E8".into(),
            ..grant.clone()
        };
        async move { store.grant_authorisation(&grant).await }
    })
    .await;
    assert_eq!(granted.len(), 100);
    // Only the enterprise's own grant can be revoked, and only once.
    assert!(
        !store
            .revoke_authorisation(first, "E2", "2026-01-02T00:00:00Z", "user:x")
            .await
            .unwrap()
    );
    assert!(
        store
            .revoke_authorisation(first, "E1", "2026-01-02T00:00:00Z", "user:e")
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_authorisation(first, "E1", "2026-01-03T00:00:00Z", "user:e")
            .await
            .unwrap()
    );
    let grants = store.authorisations_of("E1").await.unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(
        grants[1].revoked_at.as_deref(),
        Some("2026-01-02T00:00:00Z")
    );

    let access = AccessRow {
        id: 0,
        at: "2026-01-05T00:00:00Z".into(),
        bank: "1".into(),
        actor: "user:bank".into(),
        enterprise: "E1".into(),
        application_id: None,
        scope: "tax".into(),
        purpose: "授信".into(),
        outcome: "allowed".into(),
        reason: "authorised by grant 2".into(),
        authorisation_id: Some(second),
        report_number: Some("XYR-1".into()),
    };
    store.record_access(&access).await.unwrap();
    store
        .record_access(&AccessRow {
            bank: "2".into(),
            outcome: "denied".into(),
            authorisation_id: None,
            report_number: None,
            ..access.clone()
        })
        .await
        .unwrap();
    let seen = store.accesses_of("E1", 10).await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].outcome, "denied");
    assert_eq!(store.accesses_by_bank("1", 10).await.unwrap().len(), 1);
    // A hundred reads logged at once (a bank's burst of reports): the
    // database gives each its own id, none collides.
    let mut logging = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let store = store.clone();
        let access = AccessRow {
            enterprise: "E9".into(),
            ..access.clone()
        };
        logging.spawn(async move { store.record_access(&access).await });
    }
    let mut ids: Vec<i64> = logging
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100);
    assert_eq!(store.accesses_of("E9", 200).await.unwrap().len(), 100);

    let product = ProductRow {
        id: 0,
        bank: "1".into(),
        name: "税易贷".into(),
        amount_min: 10.0,
        amount_max: 300.0,
        term_months_max: 36,
        rate_min: 3.6,
        rate_max: 5.2,
        collateral: "none".into(),
        guarantee: "none".into(),
        eligibility: "{}".into(),
        state: "pending".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        created_by: "user:bank".into(),
        reviewed_at: None,
        reviewed_by: None,
    };
    let ids = store
        .create_products(&[product.clone(), product])
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(
        store
            .set_product_state(
                ids[0],
                "pending",
                "published",
                "2026-01-02T00:00:00Z",
                "user:centre"
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_product_state(
                ids[0],
                "pending",
                "published",
                "2026-01-02T00:00:00Z",
                "user:centre"
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.product(ids[0]).await.unwrap().unwrap().state,
        "published"
    );

    let demands = store
        .create_demands(&[DemandRow {
            id: 0,
            enterprise: "E1".into(),
            posted_at: "2026-01-03T00:00:00Z".into(),
            amount: 100.0,
            term_months: 12,
            purpose: "周转".into(),
            urgency: "normal".into(),
            state: "open".into(),
            reference: String::new(),
        }])
        .await
        .unwrap();
    assert_eq!(store.open_demands(10).await.unwrap().len(), 1);
    assert_eq!(store.demands_of("E1").await.unwrap()[0].id, demands[0]);

    let application = ApplicationRow {
        id: 0,
        enterprise: "E1".into(),
        product_id: ids[0],
        bank: "1".into(),
        demand_id: Some(demands[0]),
        amount: 100.0,
        term_months: 12,
        state: "submitted".into(),
        reason: String::new(),
        created_at: "2026-01-04T00:00:00Z".into(),
        updated_at: "2026-01-04T00:00:00Z".into(),
        loan_amount: None,
        loan_rate: None,
        loan_term_months: None,
        disbursed_on: None,
        loan_status: None,
    };
    let event = ApplicationEventRow {
        application_id: 0,
        seq: 1,
        at: "2026-01-04T00:00:00Z".into(),
        actor: "user:e".into(),
        state: "submitted".into(),
        reason: String::new(),
    };
    let application_template = application.clone();
    // A hundred applications at once, each with its own id and history.
    let applied = at_once(store, |store, _| {
        // Another enterprise and bank, so the counts below stay theirs.
        let application = ApplicationRow {
            enterprise: "E7".into(),
            bank: "7".into(),
            ..application.clone()
        };
        let event = event.clone();
        async move {
            Ok(store
                .create_applications(&[application], &[(0, event)])
                .await?[0])
        }
    })
    .await;
    assert_eq!(applied.len(), 100);
    for id in [applied[0], applied[99]] {
        assert_eq!(store.application_events(id).await.unwrap().len(), 1);
    }
    // Twenty banks' clerks accept one application at once: one move wins,
    // and its event takes the next number.
    let raced = applied[0];
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (store, event) = (store.clone(), event.clone());
        racing.spawn(async move {
            let accepted = ApplicationEventRow {
                state: "accepted".into(),
                ..event
            };
            store
                .move_application(
                    raced,
                    "submitted",
                    "accepted",
                    &accepted,
                    None,
                    GrantChange::Keep,
                )
                .await
                .is_ok()
        });
    }
    let won = racing.join_all().await.into_iter().filter(|ok| *ok).count();
    assert_eq!(won, 1);
    let seqs: Vec<i64> = store
        .application_events(raced)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
    let apps = store
        .create_applications(&[application], &[(0, event.clone())])
        .await
        .unwrap();
    let id = apps[0];
    // A grant for this application, and one for no application.
    let bound = store
        .grant_authorisation(&AuthorisationRow {
            application_id: Some(id),
            ..grant.clone()
        })
        .await
        .unwrap();
    let general = store.grant_authorisation(&grant).await.unwrap();
    let moved = |state: &str, at: &str| ApplicationEventRow {
        application_id: id,
        seq: 0,
        at: at.into(),
        actor: "user:bank".into(),
        state: state.into(),
        reason: String::new(),
    };
    store
        .move_application(
            id,
            "submitted",
            "accepted",
            &moved("accepted", "2026-01-05T00:00:00Z"),
            None,
            GrantChange::Keep,
        )
        .await
        .unwrap();
    // A stale move (someone moved it first) is a conflict.
    assert!(
        store
            .move_application(
                id,
                "submitted",
                "accepted",
                &moved("accepted", "2026-01-05T00:00:00Z"),
                None,
                GrantChange::Keep,
            )
            .await
            .is_err()
    );
    for (from, to) in [("accepted", "under_review"), ("under_review", "approved")] {
        store
            .move_application(
                id,
                from,
                to,
                &moved(to, "2026-01-06T00:00:00Z"),
                None,
                GrantChange::Keep,
            )
            .await
            .unwrap();
    }
    let loan = LoanOutcome {
        amount: 90.0,
        rate: 4.1,
        term_months: 12,
        disbursed_on: "2026-01-08".into(),
    };
    store
        .move_application(
            id,
            "approved",
            "disbursed",
            &moved("disbursed", "2026-01-08T00:00:00Z"),
            Some(&loan),
            GrantChange::LastUntil("2027-01-08T00:00:00Z"),
        )
        .await
        .unwrap();
    // The bound grant now lasts the loan's term; the other is untouched.
    let expiry = |g: i64| {
        let store = store.clone();
        async move { store.authorisation(g).await.unwrap().unwrap() }
    };
    assert_eq!(expiry(bound).await.expires_at, "2027-01-08T00:00:00Z");
    assert_eq!(expiry(general).await.expires_at, grant.expires_at);
    // A withdrawn application ends its grants in the same move.
    let withdrawn = store
        .create_applications(
            &[ApplicationRow {
                demand_id: None,
                ..application_template.clone()
            }],
            &[(0, event.clone())],
        )
        .await
        .unwrap()[0];
    let bound_to_withdrawn = store
        .grant_authorisation(&AuthorisationRow {
            application_id: Some(withdrawn),
            ..grant.clone()
        })
        .await
        .unwrap();
    store
        .move_application(
            withdrawn,
            "submitted",
            "withdrawn",
            &ApplicationEventRow {
                application_id: withdrawn,
                ..moved("withdrawn", "2026-01-09T00:00:00Z")
            },
            None,
            GrantChange::End {
                at: "2026-01-09T00:00:00Z",
                by: "application:withdrawn",
            },
        )
        .await
        .unwrap();
    let ended = expiry(bound_to_withdrawn).await;
    assert_eq!(ended.revoked_at.as_deref(), Some("2026-01-09T00:00:00Z"));
    assert_eq!(ended.revoked_by.as_deref(), Some("application:withdrawn"));
    assert!(expiry(general).await.revoked_at.is_none());
    let stored = store.application(id).await.unwrap().unwrap();
    assert_eq!(stored.state, "disbursed");
    assert_eq!(stored.loan_amount, Some(90.0));
    assert_eq!(stored.loan_term_months, Some(12));
    assert_eq!(stored.disbursed_on.as_deref(), Some("2026-01-08"));
    assert_eq!(stored.loan_status.as_deref(), Some("current"));

    // The bank's reports on the loan: a hundred sent at once are numbered
    // 1 to 100, each checked against the one before; a refused report
    // leaves nothing; an application without a disbursed loan has none.
    let report = move |state: &str, days: i64, on: &str| store::LoanReportRow {
        application_id: id,
        seq: 0,
        reported_on: on.into(),
        state: state.into(),
        days_past_due: days,
        actor: "bank:1".into(),
        at: "2026-02-01T00:00:00Z".into(),
        source: "api".into(),
    };
    let seqs = at_once(store, |s, _| {
        let r = report("overdue", 31, "2026-02-01");
        async move { s.report_loan(&r, |_, _| Ok(()), None).await }
    })
    .await;
    assert_eq!(seqs, (1..=100).collect::<Vec<i64>>());
    let refused = store
        .report_loan(
            &report("written_off", 0, "2026-03-01"),
            |disbursed_on, last| {
                assert_eq!(disbursed_on, "2026-01-08");
                assert_eq!(last.map(|l| l.seq), Some(100));
                Err("a loan that is overdue cannot be reported written_off".into())
            },
            None,
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("cannot be reported")),
        "{refused:?}"
    );
    let seq = store
        .report_loan(&report("repaid", 0, "2026-03-01"), |_, _| Ok(()), None)
        .await
        .unwrap();
    assert_eq!(seq, 101);
    let reports = store.loan_reports(id).await.unwrap();
    assert_eq!(reports.len(), 101);
    assert_eq!(reports[100].state, "repaid");
    assert_eq!(
        store
            .application(id)
            .await
            .unwrap()
            .unwrap()
            .loan_status
            .as_deref(),
        Some("repaid")
    );
    let none = store
        .report_loan(
            &store::LoanReportRow {
                application_id: withdrawn,
                ..report("current", 0, "2026-03-01")
            },
            |_, _| Ok(()),
            None,
        )
        .await;
    assert!(matches!(none, Err(StoreError::Conflict(_))), "{none:?}");
    assert_eq!(store.all_loan_reports().await.unwrap().len(), 101);

    // A bank's file: every row in one transaction, each checked against
    // the one before it, the file's own earlier rows included; a refused
    // row leaves nothing of the file, its audit entry included.
    let file_entry = store::NewAuditEntry {
        actor: "user:file-bank",
        action: "loan_report_file",
        subject: "bank:1",
        outcome: "ok",
        detail: serde_json::json!({"file": "loans.csv"}),
    };
    let file_audit = || async {
        store
            .audit_entries(&store::AuditFilter {
                actor: Some("user:file-bank".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
    };
    let file = [
        report("current", 0, "2026-03-02"),
        report("overdue", 12, "2026-03-03"),
        report("current", 0, "2026-03-04"),
    ];
    let refused = store
        .report_loans(
            &file,
            |index, _, last| {
                if index == 2 {
                    return Err("row 4: refused".into());
                }
                assert_eq!(last.map(|l| l.seq), Some(101 + index as i64));
                Ok(())
            },
            &file_entry,
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m == "row 4: refused"),
        "{refused:?}"
    );
    assert_eq!(store.all_loan_reports().await.unwrap().len(), 101);
    assert_eq!(file_audit().await, 0);
    let numbers = store
        .report_loans(
            &file,
            |index, _, last| {
                // The second row sees the first as the loan's last report.
                if index == 1 {
                    assert_eq!(last.map(|l| l.reported_on.as_str()), Some("2026-03-02"));
                }
                Ok(())
            },
            &file_entry,
        )
        .await
        .unwrap();
    assert_eq!(numbers, [102, 103, 104]);
    assert_eq!(file_audit().await, 1);
    // A hundred two-row files at once: each file's rows are numbered one
    // after the other, and no number is given twice.
    let firsts = at_once(store, |s, _| {
        let rows = [
            report("current", 0, "2026-03-05"),
            report("current", 0, "2026-03-05"),
        ];
        async move {
            let entry = store::NewAuditEntry {
                actor: "user:file-bank",
                action: "loan_report_file",
                subject: "bank:1",
                outcome: "ok",
                detail: serde_json::json!({}),
            };
            let numbers = s.report_loans(&rows, |_, _, _| Ok(()), &entry).await?;
            assert_eq!(numbers[1], numbers[0] + 1, "a file's rows interleaved");
            Ok(numbers[0])
        }
    })
    .await;
    assert_eq!(firsts.first(), Some(&105));
    assert_eq!(firsts.last(), Some(&(105 + 2 * 99)));
    assert_eq!(store.loan_reports(id).await.unwrap().len(), 104 + 200);
    assert_eq!(
        store
            .application(id)
            .await
            .unwrap()
            .unwrap()
            .loan_status
            .as_deref(),
        Some("current")
    );
    let events = store.application_events(id).await.unwrap();
    let states: Vec<&str> = events.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(
        states,
        [
            "submitted",
            "accepted",
            "under_review",
            "approved",
            "disbursed"
        ]
    );
    assert_eq!(
        store
            .applications_where(ApplicationParty::Bank, "1", 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .applications_where(ApplicationParty::Bank, "2", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.latest_financing_model().await.unwrap().is_none());
    store
        .save_financing_model(&store::FinancingModelRow {
            version: "fin-1".into(),
            created_at: "2026-01-09T00:00:00Z".into(),
            as_of: "2026-01-01".into(),
            model_json: "{}".into(),
            report_json: "{}".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .latest_financing_model()
            .await
            .unwrap()
            .unwrap()
            .version,
        "fin-1"
    );
    let score = |uscc: &str, grade: &str, employees: Option<f64>| store::FinancingScoreRow {
        uscc: uscc.into(),
        model_version: "fin-1".into(),
        as_of: "2026-01-01".into(),
        score: 600,
        probability: 0.05,
        grade: grade.into(),
        reasons: "[]".into(),
        employees,
        tax_paid_1y: Some(12_000.0),
        outlook: Some(format!("{{\"grade_after\":\"{grade}\"}}")),
    };
    store
        .replace_financing_scores(vec![score("E1", "B", Some(12.0)), score("E2", "D", None)])
        .await
        .unwrap();
    store
        .replace_financing_scores(vec![score("E1", "A", None)])
        .await
        .unwrap();
    let e1 = store.financing_score("E1").await.unwrap().unwrap();
    assert_eq!((e1.grade.as_str(), e1.employees), ("A", None));
    assert_eq!(e1.outlook.as_deref(), Some(r#"{"grade_after":"A"}"#));
    assert!(store.financing_score("E2").await.unwrap().is_none());

    // The pool is replaced whole with each rule.
    assert!(store.pool_rule().await.unwrap().is_none());
    let v1 = store
        .replace_pool(
            "{}",
            "2026-02-01T00:00:00Z",
            "user:centre",
            vec![("E1".into(), "[]".into()), ("E2".into(), "[]".into())],
        )
        .await
        .unwrap();
    let v2 = store
        .replace_pool(
            "{\"min_grade\":\"A\"}",
            "2026-02-02T00:00:00Z",
            "user:centre",
            vec![("E2".into(), "[]".into())],
        )
        .await
        .unwrap();
    assert_eq!(v2, v1 + 1);
    assert_eq!(store.pool_rule().await.unwrap().unwrap().version, v2);
    assert!(!store.in_pool("E1").await.unwrap());
    assert!(store.in_pool("E2").await.unwrap());
    assert_eq!(store.pool_members().await.unwrap().len(), 1);

    // Key enterprises: pushed once per bank; only a pushed bank answers.
    let key = store::KeyEnterpriseRow {
        uscc: "E1".into(),
        note: "专精特新".into(),
        added_at: "2026-02-03T00:00:00Z".into(),
        added_by: "user:regulator".into(),
    };
    store
        .push_key_enterprise(&key, &["1".into(), "2".into()])
        .await
        .unwrap();
    store
        .push_key_enterprise(&key, &["1".into()])
        .await
        .unwrap();
    assert_eq!(store.key_pushes(None).await.unwrap().len(), 2);
    assert!(
        store
            .respond_to_push(
                "E1",
                "1",
                "credit_granted",
                Some(200.0),
                "2026-02-04T00:00:00Z",
                "user:bank"
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .respond_to_push(
                "E9",
                "1",
                "contacted",
                None,
                "2026-02-04T00:00:00Z",
                "user:bank"
            )
            .await
            .unwrap()
    );
    let ours = store.key_pushes(Some("1")).await.unwrap();
    assert_eq!(
        (ours[0].response.as_str(), ours[0].amount),
        ("credit_granted", Some(200.0))
    );

    // Visits and account filings belong to whoever recorded them.
    let visit = store::VisitRow {
        id: 0,
        uscc: "E1".into(),
        visitor: "张客户经理".into(),
        organisation: "1".into(),
        visited_on: "2026-02-05".into(),
        needs: "流动资金".into(),
        follow_up: "推荐信用贷".into(),
        first_loan: "unknown".into(),
        recorded_at: "2026-02-05T00:00:00Z".into(),
        recorded_by: "user:bank".into(),
    };
    let visit_id = store.record_visit(&visit).await.unwrap();
    assert!(!store.set_first_loan(visit_id, "2", "yes").await.unwrap());
    assert!(store.set_first_loan(visit_id, "1", "yes").await.unwrap());
    assert_eq!(store.visits(Some("1")).await.unwrap()[0].first_loan, "yes");
    let filing = store::AccountFilingRow {
        id: 0,
        uscc: "E1".into(),
        bank: "1".into(),
        applied_on: "2026-02-06".into(),
        opened_on: None,
        filed_at: "2026-02-06T00:00:00Z".into(),
        filed_by: "user:bank".into(),
    };
    let filing_id = store.file_account(&filing).await.unwrap();
    assert!(
        !store
            .open_account(filing_id, "2", "2026-02-07")
            .await
            .unwrap()
    );
    assert!(
        store
            .open_account(filing_id, "1", "2026-02-07")
            .await
            .unwrap()
    );
    assert!(
        !store
            .open_account(filing_id, "1", "2026-02-08")
            .await
            .unwrap()
    );
    assert_eq!(
        store.account_filings(None).await.unwrap()[0]
            .opened_on
            .as_deref(),
        Some("2026-02-07")
    );
    // A hundred pool rules set at once: each its own version.
    let versions = at_once(store, |store, n| async move {
        store
            .replace_pool(
                "{}",
                "2026-03-01T00:00:00Z",
                "user:centre",
                vec![(format!("P{n}"), "[]".into())],
            )
            .await
    })
    .await;
    assert_eq!(versions.len(), 100);
}

#[tokio::test]
async fn finance_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_finance(&store).await;
    store.close().await;
}

#[tokio::test]
async fn finance_on_postgres() {
    let Some(db) = testkit::postgres::fresh("finance") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_finance(&store).await;
    store.close().await;
}

/// Claims: at most the allowed confirmations are compared however many
/// arrive at once; an approval creates the account and the registration in
/// one step and happens once; messages queue in the outbox.
async fn exercise_claims(store: &Store) {
    use store::{ClaimAccount, NewClaim, NewMessage, RoleGrant};
    let now = "2026-11-27T10:00:00Z";
    let code = |to: &str| NewMessage {
        channel: "sms".into(),
        recipient: to.into(),
        subject: "code".into(),
        body: "123456".into(),
    };
    let claim = NewClaim {
        uscc: "91440606722473344C",
        applicant_name: "李经办",
        capacity: "agent",
        code_sha256: "h",
        code_expires_at: "2026-11-27T10:15:00Z",
    };
    let first = store
        .create_claim(&claim, &[code("13800000000")], now)
        .await
        .unwrap();
    let second = store.create_claim(&claim, &[], now).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        store.outbox(Some("13800000000"), 10).await.unwrap().len(),
        1
    );
    assert_eq!(store.unsent_messages(10).await.unwrap().len(), 1);

    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tries.spawn(async move { store.begin_claim_confirmation(first, now, 5).await });
    }
    let compared = tries
        .join_all()
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_some())
        .count();
    assert_eq!(compared, 5);
    // An expired code is never compared.
    assert!(
        store
            .begin_claim_confirmation(second, "2026-11-27T10:15:00Z", 5)
            .await
            .unwrap()
            .is_none()
    );

    store
        .move_claim(
            second,
            &store::ClaimMove {
                from: "awaiting_code",
                to: "awaiting_approval",
                chosen: Some(("li", "$argon2id$x")),
                decided_by: None,
            },
            &[],
            now,
        )
        .await
        .unwrap();
    let roles = [RoleGrant {
        role: "enterprise".into(),
        subject: "91440606722473344C".into(),
    }];
    let account = ClaimAccount {
        username: "li",
        display_name: "李经办",
        password_hash: "$argon2id$x",
        roles: &roles,
    };
    let mut approvals = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let store = store.clone();
        let roles = roles.clone();
        approvals.spawn(async move {
            let account = ClaimAccount {
                username: "li",
                display_name: "李经办",
                password_hash: "$argon2id$x",
                roles: &roles,
            };
            store
                .approve_claim(
                    second,
                    "awaiting_approval",
                    &account,
                    "user:admin",
                    &[],
                    now,
                )
                .await
        });
    }
    let approved: Vec<_> = approvals.join_all().await;
    assert_eq!(approved.iter().filter(|r| r.is_ok()).count(), 1);
    let stored = store.claim(second).await.unwrap().unwrap();
    assert_eq!(stored.state, "approved");
    assert_eq!(stored.password_hash, None);
    let accounts = store
        .users_with_role("enterprise", "91440606722473344C")
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(Some(accounts[0].id), stored.user_id);
    // Approved once; a second approval is a conflict.
    assert!(matches!(
        store
            .approve_claim(
                second,
                "awaiting_approval",
                &account,
                "user:admin",
                &[],
                now
            )
            .await,
        Err(store::StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .claims_of("91440606722473344C")
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![second, first]
    );

    // Two claims of another enterprise confirmed by their codes at once:
    // one opens the first account, the other finds it and is refused.
    let other = NewClaim {
        uscc: "91440604MA4WTB4X5F",
        ..claim.clone()
    };
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..2 {
        let store = store.clone();
        let id = store.create_claim(&other, &[], now).await.unwrap();
        racing.spawn(async move {
            let roles = [RoleGrant {
                role: "enterprise".into(),
                subject: "91440604MA4WTB4X5F".into(),
            }];
            let account = ClaimAccount {
                username: &format!("racer{n}"),
                display_name: "先到者",
                password_hash: "$argon2id$x",
                roles: &roles,
            };
            store
                .approve_claim(id, "awaiting_code", &account, "code", &[], now)
                .await
        });
    }
    let outcomes = racing.join_all().await;
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|r| matches!(r, Err(store::StoreError::Conflict(_))))
    );
}

#[tokio::test]
async fn claims_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_claims(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_on_postgres() {
    let Some(db) = testkit::postgres::fresh("claims") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_claims(&store).await;
    store.close().await;
}

/// On SQLite a read does not wait behind a write: readers have their own
/// connections (WAL), and they cannot write.
#[tokio::test]
async fn sqlite_reads_go_on_while_a_write_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    let writing = store.write().await.unwrap();
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), store.batches()).await;
    assert!(read.is_ok(), "a read waited behind the open write");
    assert!(read.unwrap().unwrap().is_empty());
    drop(writing);
    store.close().await;
}

fn counts(rows_in: i64, accepted: i64, quarantined: i64) -> store::BatchCounts {
    store::BatchCounts {
        rows_in,
        accepted,
        quarantined,
    }
}

/// Warnings from complaints: signals stored once per key and updated by a
/// later run; a draft's edits and moves name the version and state they
/// were decided on, so of many sent at once exactly one wins; issuing a
/// correction supersedes the warning it corrects in the same transaction,
/// or nothing is written.
async fn exercise_warnings(store: &Store) {
    use store::{NewAuditEntry, NewWarning, SignalFilter, SignalRow, WarningEdit, WarningMove};
    let signal = |place: &str, observed: i64| SignalRow {
        id: 0,
        detector: "ears_c2".into(),
        category: "food_safety".into(),
        place_level: "town".into(),
        place: place.into(),
        first_day: "2026-03-20".into(),
        last_day: "2026-03-21".into(),
        observed,
        expected: 0.4,
        statistic: 4.2,
        p_value: None,
        evidence: "{}".into(),
        detected_at: "2026-11-30T00:00:00Z".into(),
    };
    let saved = store
        .save_signals(&[signal("440604010", 3), signal("440604011", 2)])
        .await
        .unwrap();
    assert_eq!((saved.added, saved.updated), (2, 0));
    let saved = store
        .save_signals(&[signal("440604010", 5), signal("440605101", 1)])
        .await
        .unwrap();
    assert_eq!(
        (saved.added, saved.updated),
        (1, 1),
        "the same key is updated"
    );
    let all = store
        .signals(&SignalFilter::default(), 0, 10)
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let first = all
        .rows
        .iter()
        .find(|s| s.place == "440604010")
        .unwrap()
        .clone();
    let signal_id = first.id;
    assert_eq!(first.observed, 5);
    assert_eq!(first.p_value, None);

    let audit = |subject: &'static str| NewAuditEntry {
        actor: "user:a",
        action: "warning_test",
        subject,
        outcome: "ok",
        detail: serde_json::json!({}),
    };
    let draft = move |at: &'static str| NewWarning {
        kind: "consumer_alert",
        signal_id: Some(signal_id),
        supersedes: None,
        recipient_kind: "public",
        recipient: "",
        title: "消费提示",
        body: "正文",
        evidence: "{}",
        actor: "user:a",
        at,
    };
    let ids = at_once(store, move |store, _| async move {
        store
            .create_warning(&draft("2026-11-30T01:00:00Z"), &audit("warning:new"))
            .await
    })
    .await;
    let id = ids[0];
    let undrafted = store
        .signals(
            &SignalFilter {
                undrafted: true,
                ..SignalFilter::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(undrafted.total, 2, "the drafted signal is left out");

    // Twenty edits of version 1 at once: one is saved, the others conflict.
    let mut edits = tokio::task::JoinSet::new();
    for n in 0..20 {
        let store = store.clone();
        edits.spawn(async move {
            let title = format!("标题 {n}");
            store
                .edit_warning(
                    &WarningEdit {
                        id,
                        version: 1,
                        recipient_kind: "public",
                        recipient: "",
                        title: &title,
                        body: "改过的正文",
                        actor: "user:b",
                        at: "2026-11-30T02:00:00Z",
                    },
                    &audit("warning:edit"),
                )
                .await
        });
    }
    let results = edits.join_all().await;
    let saved: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(saved, vec![2], "one edit wins and makes version 2");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StoreError::Conflict(_)))
    );
    let row = store.warning(id).await.unwrap().unwrap();
    assert_eq!((row.version, row.last_editor.as_str()), (2, "user:b"));

    // Twenty approvals at once, then twenty issues: one of each.
    for (from, to) in [("draft", "approved"), ("approved", "sent")] {
        let mut moves = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let store = store.clone();
            moves.spawn(async move {
                store
                    .move_warning(
                        &WarningMove {
                            id,
                            from,
                            version: 2,
                            to,
                            actor: "user:c",
                            at: "2026-11-30T03:00:00Z",
                            reason: "",
                            supersede: None,
                        },
                        &audit("warning:move"),
                    )
                    .await
            });
        }
        let done = moves.join_all().await.iter().filter(|r| r.is_ok()).count();
        assert_eq!(done, 1, "{from} → {to} happens once");
    }
    let row = store.warning(id).await.unwrap().unwrap();
    assert_eq!(row.state, "sent");
    assert_eq!(row.sent_at.as_deref(), Some("2026-11-30T03:00:00Z"));
    let events = store.warning_events(id).await.unwrap();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4], "draft, edit, approve, send");

    // Two corrections: the first issued supersedes the warning; the second
    // then cannot, and is left as it was.
    let mut corrections = Vec::new();
    for _ in 0..2 {
        let mut correction = draft("2026-11-30T04:00:00Z");
        correction.supersedes = Some(id);
        let new = store
            .create_warning(&correction, &audit("warning:correct"))
            .await
            .unwrap();
        store
            .move_warning(
                &WarningMove {
                    id: new,
                    from: "draft",
                    version: 1,
                    to: "approved",
                    actor: "user:c",
                    at: "2026-11-30T04:00:00Z",
                    reason: "",
                    supersede: None,
                },
                &audit("warning:move"),
            )
            .await
            .unwrap();
        corrections.push(new);
    }
    let states: &[&str] = &["sent", "acknowledged"];
    let issue = |new: i64| WarningMove {
        id: new,
        from: "approved",
        version: 1,
        to: "sent",
        actor: "user:a",
        at: "2026-11-30T05:00:00Z",
        reason: "",
        supersede: Some((id, states, "更正")),
    };
    store
        .move_warning(&issue(corrections[0]), &audit("warning:move"))
        .await
        .unwrap();
    assert_eq!(
        store.warning(id).await.unwrap().unwrap().state,
        "superseded"
    );
    assert_eq!(
        store.warning_successor(id).await.unwrap(),
        Some(corrections[0])
    );
    let refused = store
        .move_warning(&issue(corrections[1]), &audit("warning:move"))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.warning(corrections[1]).await.unwrap().unwrap().state,
        "approved",
        "nothing of the refused issue is written"
    );
    let last = store.warning_events(id).await.unwrap();
    assert_eq!(last.last().unwrap().state, "superseded");
    assert_eq!(last.last().unwrap().reason, "更正");

    // The queue's filters.
    let issued = store
        .warnings(
            &store::WarningFilter {
                issued: true,
                ..Default::default()
            },
            0,
            200,
        )
        .await
        .unwrap();
    assert_eq!(issued.total, 2, "the superseded one and its correction");
    let overdue = store
        .warnings(
            &store::WarningFilter {
                kind: Some("consumer_alert".into()),
                overdue_before: Some((
                    "2027-01-01T00:00:00Z".into(),
                    "2027-01-01T00:00:00Z".into(),
                )),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(overdue.total, 0, "a consumer alert is never overdue");
    let by_signal = store
        .warnings(
            &store::WarningFilter {
                signal_id: Some(first.id),
                ..Default::default()
            },
            0,
            1,
        )
        .await
        .unwrap();
    assert_eq!((by_signal.total, by_signal.rows.len()), (102, 1));
    let per_signal = store.warnings_per_signal(&[signal_id, 999]).await.unwrap();
    assert_eq!(
        per_signal.into_iter().collect::<Vec<_>>(),
        [(signal_id, 102)]
    );
    assert!(store.verify_audit().await.unwrap().first_broken.is_none());

    // Links by name: a ticket linked again is replaced, never doubled.
    let link = |ticket: &str, uscc: &str| {
        (
            ticket.to_string(),
            uscc.to_string(),
            0.9,
            "same town".to_string(),
        )
    };
    let many: Vec<_> = (0..1200).map(|n| link(&format!("T{n:04}"), "A")).collect();
    store
        .save_links(&many, "2026-11-30T06:00:00Z")
        .await
        .unwrap();
    store
        .save_links(&[link("T0001", "B")], "2026-11-30T07:00:00Z")
        .await
        .unwrap();
    assert_eq!(store.linked_tickets("A").await.unwrap().len(), 1199);
    assert_eq!(store.linked_tickets("B").await.unwrap(), ["T0001"]);

    // A background job's marker.
    assert_eq!(store.job_marker("detect").await.unwrap(), 0);
    store
        .set_job_marker("detect", 7, "2026-11-30T08:00:00Z")
        .await
        .unwrap();
    store
        .set_job_marker("detect", 9, "2026-11-30T09:00:00Z")
        .await
        .unwrap();
    assert_eq!(store.job_marker("detect").await.unwrap(), 9);
}

#[tokio::test]
async fn warnings_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_warnings(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_on_postgres() {
    let Some(db) = testkit::postgres::fresh("warnings") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_warnings(&store).await;
    store.close().await;
}

/// Evaluation runs keep their history; credit checks saved at once each
/// get their own id and add up by scenario and department.
async fn exercise_public_credit(store: &Store) {
    let run = |as_of: &str| store::EvaluationRunRow {
        id: 0,
        as_of: as_of.into(),
        started_at: "2026-11-30T00:00:00Z".into(),
        finished_at: "2026-11-30T00:01:00Z".into(),
        schemes_json: "[]".into(),
        facts_version: "v1".into(),
        entities: 0,
        withdrawn: 2,
    };
    let row = |uscc: &str, grade: &str, score: f64| store::EntityEvaluationRow {
        run_id: 0,
        uscc: uscc.into(),
        scheme: "general".into(),
        score,
        grade: grade.into(),
        score_grade: grade.into(),
        facts_json: "[1.0, null, \"A\"]".into(),
    };
    let first = store
        .save_evaluation_run(
            &run("2026-01-01"),
            vec![row("91440606722473344C", "good", 80.5)],
        )
        .await
        .unwrap();
    let second = store
        .save_evaluation_run(
            &run("2026-07-01"),
            vec![
                row("91440606722473344C", "excellent", 92.25),
                row("91440604MA4UN7B02Q", "poor", 40.0),
            ],
        )
        .await
        .unwrap();
    assert!(second > first);
    let history = store
        .entity_evaluations("91440606722473344C")
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.run_id, h.grade.as_str()))
            .collect::<Vec<_>>(),
        vec![(second, "excellent"), (first, "good")]
    );
    assert_eq!(history[0].score, 92.25);
    let lines = store
        .entity_evaluation_history("91440606722473344C", 12)
        .await
        .unwrap();
    assert_eq!(
        lines,
        vec![
            (
                second,
                "2026-07-01".into(),
                "general".into(),
                92.25,
                "excellent".into()
            ),
            (
                first,
                "2026-01-01".into(),
                "general".into(),
                80.5,
                "good".into()
            ),
        ]
    );
    assert_eq!(history[0].facts_json, "[1.0, null, \"A\"]");
    let runs = store.evaluation_runs().await.unwrap();
    assert_eq!(runs[0].id, second);
    assert_eq!(
        store.latest_evaluation_run().await.unwrap().map(|r| r.id),
        Some(second)
    );
    assert_eq!((runs[0].entities, runs[0].withdrawn), (2, 2));
    let some = store
        .evaluations_of(
            second,
            &[
                "91440604MA4UN7B02Q".to_string(),
                "911111111111111111".to_string(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(some[0].grade, "poor");
    // One code alone, and the found one after another: every parameter of
    // the statement binds its own argument (on SQLite a `$1` before bare
    // `?`s once bound the run id to the first code).
    for codes in [
        vec!["91440604MA4UN7B02Q".to_string()],
        vec![
            "911111111111111111".to_string(),
            "91440604MA4UN7B02Q".to_string(),
        ],
    ] {
        let found = store.evaluations_of(second, &codes).await.unwrap();
        assert_eq!(found.len(), 1, "{codes:?}");
    }
    // The same for a screening's classes.
    store
        .save_risk_model(&store::RiskModelRow {
            version: "v-test".into(),
            created_at: "2026-11-30T00:00:00Z".into(),
            as_of: "2026-07-01".into(),
            features_version: "v4".into(),
            model_json: "{}".into(),
            report_json: "{}".into(),
        })
        .await
        .unwrap();
    let screening = store
        .save_screening(
            "2026-11-30T00:00:00Z",
            "2026-07-01",
            "v-test",
            "{}",
            vec![store::RiskScoreRow {
                uscc: "91440604MA4UN7B02Q".into(),
                score: 600,
                probability: 0.1,
                class: "B".into(),
                reasons_json: "[]".into(),
            }],
        )
        .await
        .unwrap();
    let classes = store
        .classes_of(screening, &["91440604MA4UN7B02Q".to_string()])
        .await
        .unwrap();
    assert_eq!(
        classes,
        vec![("91440604MA4UN7B02Q".to_string(), "B".to_string())]
    );

    let ids = at_once(store, |store, n| async move {
        store
            .save_credit_check(&store::CreditCheckRow {
                id: 0,
                checked_at: "2026-11-30T00:00:00Z".into(),
                actor: format!("user:u{n}"),
                department: if n % 2 == 0 {
                    "tax".into()
                } else {
                    "samr".into()
                },
                scenario: "government_procurement".into(),
                mode: "one".into(),
                evaluation_run: Some(1),
                entities: 3,
                not_found: 0,
                barred: 1,
                scrutiny: 0,
                incentive: 1,
                clear: 1,
            })
            .await
    })
    .await;
    assert_eq!(ids.len(), 100);
    let statistics = store.credit_check_statistics().await.unwrap();
    assert_eq!(
        statistics,
        vec![
            (
                "government_procurement".into(),
                "samr".into(),
                50,
                150,
                50,
                0,
                50
            ),
            (
                "government_procurement".into(),
                "tax".into(),
                50,
                150,
                50,
                0,
                50
            ),
        ]
    );
    assert_eq!(
        store.credit_checks(Some("tax"), 10, 0).await.unwrap().len(),
        10
    );
}

#[tokio::test]
async fn public_credit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_public_credit(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_credit_on_postgres() {
    let Some(db) = testkit::postgres::fresh("public_credit") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_public_credit(&store).await;
    store.close().await;
}

/// Objections and repairs: one open case of a kind per record however many
/// are sent at once, a move decided once however many officers decide at
/// once, a withdrawal that every event read carries, and a correction
/// that stands or falls with its batch.
async fn exercise_credit_cases(store: &Store) {
    let catalog = Catalog::default_catalog();
    store
        .save_catalog(
            &catalog,
            domain::catalog::DEFAULT_CATALOG_TOML,
            "2026-01-01T00:00:00Z",
        )
        .await
        .unwrap();
    let uscc = "91440606722473344C";
    let mut batch = BatchWriter::begin(
        store,
        "samr",
        "admin_penalty",
        "p.csv",
        "2026-01-01T00:00:00Z",
    )
    .await
    .unwrap();
    let detail = serde_json::json!({"fine_amount": "3.00"});
    for row in 1..=3 {
        batch
            .add_event(&NewEvent {
                uscc,
                item: "admin_penalty",
                event_date: "2025-04-01",
                title: "虚假宣传",
                detail: &detail,
                department: "samr",
                source_row: row,
                publicity_until: Some("2026-04-01"),
            })
            .await
            .unwrap();
    }
    let report = serde_json::json!({});
    let batch_id = batch
        .commit(
            counts(3, 3, 0),
            ("cases", 3),
            &report,
            "2026-01-01T00:00:01Z",
        )
        .await
        .unwrap();
    let case = move |kind: &'static str, row: i64| store::NewCase {
        kind,
        uscc,
        item: "admin_penalty",
        department: "samr",
        batch_id,
        source_row: row,
        record_title: "虚假宣传",
        record_date: "2025-04-01",
        ground: "error",
        statement: "金额有误",
        commitment: "",
        actor: "user:e",
        at: "2026-02-01T00:00:00Z",
        due_on: "2026-02-03",
    };
    let audit = |action: &'static str| store::NewAuditEntry {
        actor: "user:e",
        action,
        subject: uscc,
        outcome: "ok",
        detail: serde_json::json!({}),
    };

    // A hundred objections to one record at once: one is opened.
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let store = store.clone();
        let new = case("objection", 1);
        let entry = audit("submit_objection");
        sends.spawn(async move { store.create_case(&new, &[], &entry).await });
    }
    let results = sends.join_all().await;
    let opened: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(opened.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::Duplicate(_)))),
        "{results:?}"
    );
    let objection = opened[0];
    // Cases of other records, and a repair of the same record, at once:
    // every one opened, with its own id.
    let ids = at_once(store, |store, n| async move {
        let kind = if n % 2 == 0 { "repair" } else { "objection" };
        let document = store::CaseDocument {
            seq: 1,
            file_name: format!("proof-{n}.pdf"),
            content_type: "application/pdf".into(),
            bytes: 10,
            sha256: "00".repeat(32),
        };
        store
            .create_case(
                &store::NewCase {
                    source_row: 100 + n as i64,
                    ..case(kind, 0)
                },
                &[document],
                &audit("submit"),
            )
            .await
    })
    .await;
    assert!(!ids.contains(&objection));
    assert_eq!(store.case_documents(ids[0]).await.unwrap().len(), 1);

    // The record is under objection wherever events are read.
    let events = store.events(uscc).await.unwrap();
    let under: Vec<Option<i64>> = events.iter().map(|e| e.objection).collect();
    assert_eq!(under, vec![Some(objection), None, None]);

    // Twenty officers accept it at once: one move is made.
    let mut moves = tokio::task::JoinSet::new();
    for n in 0..20 {
        let store = store.clone();
        moves.spawn(async move {
            store
                .move_case(
                    &store::CaseMove {
                        id: objection,
                        from: "submitted",
                        version: 1,
                        to: "accepted",
                        open: true,
                        due_on: Some("2026-02-17"),
                        actor: &format!("user:officer{n}"),
                        at: "2026-02-02T00:00:00Z",
                        reasons: "受理",
                        withdraw: None,
                    },
                    &store::NewAuditEntry {
                        actor: "user:officer",
                        action: "objection_accepted",
                        subject: "case",
                        outcome: "ok",
                        detail: serde_json::json!({}),
                    },
                )
                .await
        });
    }
    let results = moves.join_all().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::Conflict(_))))
    );
    let accepted = store.case(objection).await.unwrap().unwrap();
    assert_eq!(
        (accepted.state.as_str(), accepted.version, accepted.open),
        ("accepted", 2, true)
    );
    assert_eq!(accepted.due_on.as_deref(), Some("2026-02-17"));
    assert_eq!(store.case_events(objection).await.unwrap().len(), 2);

    // Overdue: open and due before the day (the hundred others were due
    // on the 3rd, this one on the 17th).
    let overdue = store
        .cases(
            &store::CaseFilter {
                overdue_on: Some("2026-02-04".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(overdue.total, 100);
    let overdue = store
        .cases(
            &store::CaseFilter {
                state: Some("accepted".into()),
                overdue_on: Some("2026-02-18".into()),
                ..Default::default()
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(overdue.total, 1);
    assert_eq!(overdue.rows[0].id, objection);

    // A correction whose batch fails leaves the objection as it was; one
    // that commits closes it and withdraws the original.
    let correct = |version: i64| store::Correction {
        case_id: objection,
        version,
        actor: "user:officer",
        at: "2026-02-03T00:00:00Z",
        reasons: "金额更正",
        audit: store::NewAuditEntry {
            actor: "user:officer",
            action: "objection_corrected",
            subject: "case",
            outcome: "ok",
            detail: serde_json::json!({}),
        },
    };
    let mut stale = BatchWriter::begin(
        store,
        "samr",
        "admin_penalty",
        "c.csv",
        "2026-02-03T00:00:00Z",
    )
    .await
    .unwrap();
    assert!(matches!(
        stale.correct(&correct(1)).await,
        Err(StoreError::Conflict(_))
    ));
    stale.rollback().await.unwrap();
    assert_eq!(
        store.case(objection).await.unwrap().unwrap().state,
        "accepted"
    );
    let mut fixing = BatchWriter::begin(
        store,
        "samr",
        "admin_penalty",
        "c.csv",
        "2026-02-03T00:00:00Z",
    )
    .await
    .unwrap();
    fixing.correct(&correct(2)).await.unwrap();
    let fixed_in = fixing
        .commit(
            counts(1, 1, 0),
            ("correction", 1),
            &report,
            "2026-02-03T00:00:01Z",
        )
        .await
        .unwrap();
    store.flush_audit().await.unwrap();
    let corrected = store.case(objection).await.unwrap().unwrap();
    assert_eq!(
        (
            corrected.state.as_str(),
            corrected.open,
            corrected.correction_batch
        ),
        ("corrected", false, Some(fixed_in))
    );
    assert!(corrected.decided_at.is_some());

    // A repair approved withdraws its record.
    let repair = store
        .create_case(&case("repair", 2), &[], &audit("submit_repair"))
        .await
        .unwrap();
    store
        .move_case(
            &store::CaseMove {
                id: repair,
                from: "submitted",
                version: 1,
                to: "approved",
                open: false,
                due_on: None,
                actor: "user:centre",
                at: "2026-02-04T00:00:00Z",
                reasons: "准予修复",
                withdraw: Some("repaired"),
            },
            &audit("repair_approved"),
        )
        .await
        .unwrap();
    let events = store.events(uscc).await.unwrap();
    let withdrawn: Vec<Option<&str>> = events.iter().map(|e| e.withdrawn.as_deref()).collect();
    assert_eq!(withdrawn, vec![Some("corrected"), Some("repaired"), None]);
    assert_eq!(
        store.withdrawals().await.unwrap(),
        vec![
            ("admin_penalty".to_string(), batch_id, 1),
            ("admin_penalty".to_string(), batch_id, 2)
        ]
    );
    assert_eq!(
        store
            .events_of_items(&["admin_penalty"])
            .await
            .unwrap()
            .len(),
        1
    );
    let counts_by_state = store.case_counts("repair").await.unwrap();
    assert!(counts_by_state.contains(&("approved".to_string(), 1)));
    assert_eq!(store.decided_cases("repair").await.unwrap().len(), 1);
    // Every submission, move and correction is in the audit chain.
    assert!(store.verify_audit().await.unwrap().first_broken.is_none());
}

#[tokio::test]
async fn credit_cases_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(dir.path())).await.unwrap();
    exercise_credit_cases(&store).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credit_cases_on_postgres() {
    let Some(db) = testkit::postgres::fresh("credit_cases") else {
        return;
    };
    let store = Store::open(&db.url).await.unwrap();
    exercise_credit_cases(&store).await;
    store.close().await;
}
