//! The audit trail as a hash chain, on both databases: appended in the move's
//! transaction, never changed, never forked by concurrent writers.

use pingxuan_rules::audit::{GENESIS, Verifier};
use pingxuan_rules::workflow::Event;
use pingxuan_store::applications::{FlowUpdate, NewApplication};
use pingxuan_store::audit::Audit;
use pingxuan_store::testing::TestDb;
use pingxuan_store::{Backend, Store, on_both_databases};

on_both_databases!(
    chain_verifies_and_refuses_changes,
    concurrent_appends_keep_one_chain,
    earlier_entries_are_chained_in_order,
    a_move_without_its_entry_does_not_happen,
);

/// Verifies the whole stored chain the way `pingxuan audit verify` reads an export.
async fn verify(s: &Store) -> (u64, String) {
    let mut v = Verifier::default();
    let mut n = 0;
    let mut after = 0;
    loop {
        let page = s.audit_after(after, 100).await.unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            after = e.id;
            n += 1;
            let line = serde_json::to_string(&e.line()).unwrap();
            v.feed(&line).unwrap_or_else(|b| panic!("{b}: {line}"));
        }
    }
    (n, v.finish(None).unwrap())
}

async fn chain_verifies_and_refuses_changes(db: TestDb) {
    let s = db.store().await;
    assert_eq!(s.audit_head().await.unwrap().hash, GENESIS);
    s.audit(Some(1), "login", "user:1", "", Some("10.1.2.3"))
        .await
        .unwrap();
    let second = s
        .record_audit(
            &Audit::new(Some(1), "account_created", "user:2")
                .detail("身份证 11010519491231002X 手机 13800138000"),
        )
        .await
        .unwrap();
    let (n, head) = verify(&s).await;
    assert_eq!((n, head.as_str()), (2, second.as_str()));
    let stored = s.audit_head().await.unwrap();
    assert_eq!((stored.entries, stored.hash), (2, second));
    // Personal numbers reach the log only as digests.
    let detail = &s.recent_audit(1).await.unwrap()[0].detail;
    assert!(
        !detail.contains("11010519491231002X") && !detail.contains("13800138000"),
        "{detail}"
    );
    assert!(
        detail.contains("身份证号#") && detail.contains("手机号#"),
        "{detail}"
    );

    // The database itself refuses to change or remove an entry.
    for sql in [
        "UPDATE audit_log SET detail = 'x'",
        "UPDATE audit_log SET hash = NULL",
        "DELETE FROM audit_log",
    ] {
        let refused = sqlx::query(sql).execute(&s.pool).await;
        assert!(refused.is_err(), "{sql} must fail");
    }
    if s.backend == Backend::Postgres {
        assert!(
            sqlx::query("TRUNCATE audit_log")
                .execute(&s.pool)
                .await
                .is_err()
        );
    }
    assert_eq!(verify(&s).await.0, 2);
}

async fn concurrent_appends_keep_one_chain(db: TestDb) {
    let s = db.store().await;
    let writers = 8;
    let each = 25;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    s.audit(
                        Some(w),
                        "test",
                        &format!("writer:{w}"),
                        &i.to_string(),
                        None,
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let (n, head) = verify(&s).await;
    assert_eq!(n, (writers * each) as u64);
    assert_eq!(s.audit_head().await.unwrap().hash, head);
}

async fn earlier_entries_are_chained_in_order(db: TestDb) {
    let s = db.store().await;
    // Rows as the server wrote them before the chain (no hashes).
    for (i, action) in ["login", "campaign_loaded", "logout"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(1_700_000_000 + i as i64)
        .bind(Some(7i64))
        .bind(*action)
        .bind("user:7")
        .bind("")
        .bind(None::<String>)
        .execute(&s.pool)
        .await
        .unwrap();
    }
    assert_eq!(s.chain_unchained_audit().await.unwrap(), 3);
    assert_eq!(s.chain_unchained_audit().await.unwrap(), 0, "only once");
    s.audit(None, "after", "", "", None).await.unwrap();
    let (n, _) = verify(&s).await;
    assert_eq!(n, 4);
    let first = &s.audit_after(0, 1).await.unwrap()[0];
    assert_eq!(first.prev_hash.as_deref(), Some(GENESIS));
    assert_eq!(first.action, "login");
    // Once chained, an entry is as fixed as any other.
    assert!(
        sqlx::query("UPDATE audit_log SET action = 'x' WHERE id = $1")
            .bind(first.id)
            .execute(&s.pool)
            .await
            .is_err()
    );
}

async fn a_move_without_its_entry_does_not_happen(db: TestDb) {
    let s = db.store().await;
    let (cid, uid) = pingxuan_store::testing::dongguan_applicant(&s).await;
    let (id, _) = s
        .create_application(
            &NewApplication::bare(&cid, uid, "ZMKJ", 2023, "申报人"),
            |id, number| {
                Audit::new(
                    Some(uid),
                    "application_created",
                    format!("application:{id}"),
                )
                .detail(number)
            },
        )
        .await
        .unwrap();
    let before = s.audit_head().await.unwrap();
    // The log refuses this one kind of entry, as a full disk or a broken log would.
    match s.backend {
        Backend::Sqlite => {
            sqlx::query(
                "CREATE TRIGGER refuse_submit BEFORE INSERT ON audit_log \
                 WHEN NEW.action = 'application_submit' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .execute(&s.pool)
            .await
            .unwrap();
        }
        Backend::Postgres => {
            sqlx::query(
                "CREATE FUNCTION refuse_submit() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.action = 'application_submit' THEN RAISE EXCEPTION 'refused'; END IF; \
                 RETURN NEW; END $$",
            )
            .execute(&s.pool)
            .await
            .unwrap();
            sqlx::query(
                "CREATE TRIGGER refuse_submit BEFORE INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION refuse_submit()",
            )
            .execute(&s.pool)
            .await
            .unwrap();
        }
    }
    let up = FlowUpdate {
        holder_level: 1,
        holder_role: "recommender".into(),
        state_text: "申报人提交到推荐单位".into(),
        quota: None,
        form_version: None,
        selection: None,
    };
    assert!(
        s.append_event(id, 0, Event::Submit { by: 0 }, uid, "", &up)
            .await
            .is_err()
    );
    // Nothing of the move stayed: no event, the applicant still holds it.
    assert!(s.application_events(id).await.unwrap().is_empty());
    let app = s.get_application(id).await.unwrap().unwrap();
    assert_eq!(app.holder_level, 0);
    let (n, head) = verify(&s).await;
    assert_eq!(
        (n as i64, head),
        (before.entries, before.hash),
        "the log ends at the creation"
    );
    assert_eq!(
        s.recent_audit(1).await.unwrap()[0].action,
        "application_created"
    );
}
