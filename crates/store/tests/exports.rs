//! Export jobs on both databases: queued in order, claimed once, progress, a server
//! stopped mid-job, and expiry.

use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::accounts::NewUser;
use pingxuan_store::exports::JobState;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;

on_both_databases!(export_jobs_queue_and_finish, sweeps_take_turns);

async fn export_jobs_queue_and_finish(db: TestDb) {
    let s = db.store().await;
    let (_, text) = SEEDS[1];
    let c = load(text).campaign.unwrap();
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let cid = c.campaign.id.as_str();
    let uid = s
        .create_user(NewUser {
            login: "rec".to_owned(),
            display_name: "推荐单位".to_owned(),
            email: None,
            mobile: None,
            password: "Kexie-2024-ok".to_owned(),
        })
        .await
        .unwrap();

    let a = s
        .create_export_job(
            cid,
            "bundle",
            Some(&[3, 5]),
            uid,
            pingxuan_store::testing::for_key,
        )
        .await
        .unwrap();
    let b = s
        .create_export_job(cid, "bundle", None, uid, pingxuan_store::testing::for_key)
        .await
        .unwrap();
    assert_eq!(a.state, JobState::Queued);
    assert_eq!(a.unit_ids, Some(vec![3, 5]));
    assert_eq!(b.unit_ids, None);
    assert_eq!(a.public_id.len(), 32);
    assert_eq!(s.export_jobs_ahead(a.id).await.unwrap(), 0);
    assert_eq!(s.export_jobs_ahead(b.id).await.unwrap(), 1);

    // The oldest first, and only once: a second server finds nothing to take while the
    // first holds its lease.
    let claimed = s.claim_export_job("one", 30).await.unwrap().unwrap();
    assert_eq!(claimed.id, a.id);
    assert_eq!(claimed.state, JobState::Running);
    assert!(claimed.started_at.is_some());
    assert!(s.export_job_progress(a.id, "one", 2, 7).await.unwrap());
    let seen = s.export_job(&a.public_id).await.unwrap().unwrap();
    assert_eq!((seen.done, seen.total), (2, 7));
    let other = s.claim_export_job("two", 30).await.unwrap().unwrap();
    assert_eq!(other.id, b.id, "the next job, not the one held");
    assert!(s.claim_export_job("two", 30).await.unwrap().is_none());
    assert!(!s.export_job_progress(a.id, "two", 3, 7).await.unwrap());
    assert!(s.renew_export_lease(a.id, "one", 30).await.unwrap());
    assert!(!s.renew_export_lease(a.id, "two", 30).await.unwrap());

    // Server one stops renewing (it died): once its lease lapses, server two resumes the
    // job from the start, and one can no longer report on it or finish it.
    sqlx::query("UPDATE export_jobs SET lease_until = $2 WHERE id = $1")
        .bind(a.id)
        .bind(pingxuan_store::now() - 1)
        .execute(&s.pool)
        .await
        .unwrap();
    let again = s.claim_export_job("two", 30).await.unwrap().unwrap();
    assert_eq!((again.id, again.done), (a.id, 0));
    assert_eq!(
        (again.claims, again.lease_owner.as_deref()),
        (2, Some("two"))
    );
    assert!(!s.renew_export_lease(a.id, "one", 30).await.unwrap());
    assert!(
        !s.finish_export_job(a.id, "one", "x.zip", "[]", 1)
            .await
            .unwrap()
    );
    assert!(
        s.finish_export_job(a.id, "two", "推荐材料.zip", "[]", 1234)
            .await
            .unwrap()
    );
    let done = s.export_job(&a.public_id).await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!((done.done, done.bytes), (7, 1234));
    assert_eq!(done.file_name, "推荐材料.zip");
    assert!(s.claim_export_job("three", 30).await.unwrap().is_none());

    assert!(!s.fail_export_job(b.id, "one", "x").await.unwrap());
    assert!(
        s.fail_export_job(b.id, "two", "文件存储暂时无法访问")
            .await
            .unwrap()
    );
    let failed = s.export_job(&b.public_id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error, "文件存储暂时无法访问");

    let mine = s.export_jobs_of(uid, cid, 10).await.unwrap();
    assert_eq!(
        mine.iter().map(|j| j.id).collect::<Vec<_>>(),
        [b.id, a.id],
        "newest first"
    );
    let now = pingxuan_store::now();
    assert!(s.expired_export_jobs(now - 60).await.unwrap().is_empty());
    let expired = s.expired_export_jobs(now + 1).await.unwrap();
    assert_eq!(expired.len(), 2);
    s.delete_export_job(a.id).await.unwrap();
    assert!(s.export_job(&a.public_id).await.unwrap().is_none());
}

/// A sweep's lease: one server a round; the holder renews it, another takes it once it
/// lapsed or its owner gave it back.
async fn sweeps_take_turns(db: TestDb) {
    let s = db.store().await;
    assert!(s.try_lease("sweep:files", "one", 60).await.unwrap());
    assert!(!s.try_lease("sweep:files", "two", 60).await.unwrap());
    assert!(
        s.try_lease("sweep:files", "one", 60).await.unwrap(),
        "renewed"
    );
    assert!(
        s.try_lease("sweep:mail", "two", 60).await.unwrap(),
        "another sweep"
    );
    sqlx::query("UPDATE leases SET until_at = 0 WHERE name = 'sweep:files'")
        .execute(&s.pool)
        .await
        .unwrap();
    assert!(s.try_lease("sweep:files", "two", 60).await.unwrap());
    assert!(!s.try_lease("sweep:files", "one", 60).await.unwrap());
    // Given back only by its owner; then the next takes it at once.
    s.release_lease("sweep:files", "one").await.unwrap();
    assert!(!s.try_lease("sweep:files", "one", 60).await.unwrap());
    s.release_lease("sweep:files", "two").await.unwrap();
    assert!(s.try_lease("sweep:files", "one", 60).await.unwrap());
}
