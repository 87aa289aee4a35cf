//! Chain appends from 8 concurrent writers (issue 15): each append its own transaction,
//! on a fresh PostgreSQL database (`PINGXUAN_TEST_DATABASE_URL`) and on SQLite; the chain
//! is verified afterwards. Entries/s.
//!
//! `cargo bench -p pingxuan-store --bench audit_append`.

use std::process::ExitCode;
use std::time::Instant;

use pingxuan_rules::audit::Verifier;
use pingxuan_store::testing::{TestDb, Which};

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut ok = true;
    for which in [Which::Postgres, Which::Sqlite] {
        ok &= rt.block_on(appends(which));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// 8 writers appending at once; entries/s and whether the chain verifies.
async fn appends(which: Which) -> bool {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (PINGXUAN_TEST_DATABASE_URL not set)");
        return true;
    };
    let store = db.store().await;
    let writers = 8;
    let each = 250;
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let s = store.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    s.audit(
                        Some(w),
                        "application_submit",
                        &format!("application:{i}"),
                        "推荐单位提交到自治区科协",
                        Some("10.0.0.1"),
                    )
                    .await
                    .expect("append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }
    let took = started.elapsed().as_secs_f64();
    let total = writers * each;
    let mut v = Verifier::default();
    let mut after = 0;
    let mut seen = 0;
    loop {
        let page = store.audit_after(after, 5000).await.expect("read");
        if page.is_empty() {
            break;
        }
        for e in page {
            after = e.id;
            seen += 1;
            if let Err(b) = v.check(seen, &e.chained(), e.hash.as_deref().unwrap_or("")) {
                println!("{which:?}: chain broken: {b}");
                return false;
            }
        }
    }
    println!(
        "{which:?}: {total} appends from {writers} writers in {took:.2} s = {:.0} entries/s; chain of {seen} verifies",
        total as f64 / took
    );
    seen == total as u64
}
