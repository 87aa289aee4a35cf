//! SQL statements per move (issue 15): an applicant's 提交 and a recommending unit's
//! 提交 (the 新疆 chain) sent through the JSON API of the real server, each counted from
//! sqlx's statement events (target `sqlx::query`: every statement, BEGIN/COMMIT and
//! savepoints included), on SQLite and PostgreSQL. The request's whole cost is counted:
//! the caller's token and roles, the load of the case, the decision's reads, the write
//! with its notices and audit entry, and the answer's reads. The baseline the use-case
//! layer is measured against.
//!
//! Then the same moves under load: 200 applications 提交 by their applicants, then
//! forwarded by the unit (opened first, not measured), each from 8 concurrent clients,
//! as moves/s with p50/p99, beside the same server's `/healthz` requests/s from 8
//! clients in the same run (the ratio is what the use-case layer should not worsen);
//! any answer but 200 (a lock error would be a 5xx) is counted and printed.
//!
//! `PINGXUAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p pingxuan-web --bench moves`
//! (`PINGXUAN_BENCH_COUNTS_ONLY=1 … --profile dev` for the statement counts alone)

#[allow(dead_code)]
#[path = "../tests/it/common.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use pingxuan_rules::Role;
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Counts sqlx's statement events.
struct Counter;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() {
    tracing_subscriber::registry().with(Counter).init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for which in [Which::Sqlite, Which::Postgres] {
        rt.block_on(run(which));
    }
}

/// Statements issued while `f` runs (nothing else touches the database meanwhile).
async fn counted<T>(f: impl std::future::Future<Output = T>) -> (T, u64) {
    let before = STATEMENTS.load(Ordering::Relaxed);
    let out = f.await;
    (out, STATEMENTS.load(Ordering::Relaxed) - before)
}

async fn run(which: Which) {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (PINGXUAN_TEST_DATABASE_URL not set)");
        return;
    };
    let app = common::start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let rec = app
        .account(
            "xj-rec",
            Role::Recommender,
            Some("xinjiang-2023"),
            Some("乌鲁木齐市科协"),
        )
        .await;
    let rec = app.token(rec).await;
    let unit = app.store.list_units("xinjiang-2023").await.unwrap()[0].id;

    let mut applicant = Vec::new();
    let mut forward = Vec::new();
    for n in 0..5 {
        let (me, id) =
            common::xinjiang_candidate(&app, &format!("me{n}@x.cn"), "测试人员", unit, false).await;
        app.furnish(id).await;
        let at = |a: &str| format!("/api/v1/applications/{id}/{a}");
        let ((s, j), n) = counted(app.call(Method::POST, &at("submit"), &me, json!({}))).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        applicant.push(n);
        let (s, j) = app.call(Method::POST, &at("open"), &rec, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let ((s, j), n) = counted(app.call(
            Method::POST,
            &at("submit"),
            &rec,
            json!({"comment": "同意推荐。"}),
        ))
        .await;
        // A forward a quota refuses is reported apart, not counted as a move.
        if s == StatusCode::OK {
            forward.push(n);
        } else {
            println!(
                "{which:?}: unit 提交 refused ({s}, {} statements): {}",
                n, j["error"]["message"]
            );
        }
    }
    println!(
        "{which:?}: applicant 提交 {applicant:?} statements; unit 提交 {forward:?} statements"
    );
    // The counts alone (the dev build serves for them; the load wants a release build).
    if std::env::var_os("PINGXUAN_BENCH_COUNTS_ONLY").is_some() {
        return;
    }

    let n = 200;
    let mut ready = Vec::with_capacity(n);
    for i in 0..n {
        let (me, id) =
            common::xinjiang_candidate(&app, &format!("load{i}@x.cn"), "测试人员", unit, false)
                .await;
        app.furnish(id).await;
        ready.push((me, id));
    }
    let submit = |id: i64| format!("/api/v1/applications/{id}/submit");
    let moves = |token: &str, body: serde_json::Value| {
        ready
            .iter()
            .map(|(me, id)| {
                let t = if token.is_empty() {
                    me.clone()
                } else {
                    token.to_owned()
                };
                (Method::POST, submit(*id), t, body.clone())
            })
            .collect::<Vec<_>>()
    };
    let up = timed(&app.url, moves("", json!({}))).await;
    for (_, id) in &ready {
        let at = format!("/api/v1/applications/{id}/open");
        let (s, j) = app.call(Method::POST, &at, &rec, json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
    }
    let forward = timed(&app.url, moves(&rec, json!({"comment": "同意推荐。"}))).await;
    let health = timed(
        &app.url,
        (0..2000)
            .map(|_| {
                (
                    Method::GET,
                    "/healthz".to_owned(),
                    String::new(),
                    serde_json::Value::Null,
                )
            })
            .collect(),
    )
    .await;
    for (what, s) in [("applicant 提交", &up), ("unit 提交", &forward)] {
        println!(
            "{which:?}: {what} × {n}, 8 clients: {:.0} moves/s (p50 {:.1} ms, p99 {:.1} ms), \
             {} not 200{}; /healthz {:.0} req/s (p50 {:.1} ms) → ratio {:.3}",
            s.per_sec,
            ms(s.p50),
            ms(s.p99),
            s.failed.len(),
            s.failed
                .first()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default(),
            health.per_sec,
            ms(health.p50),
            s.per_sec / health.per_sec
        );
    }
}

#[path = "shared/load.rs"]
mod load;
use load::{ms, timed};
