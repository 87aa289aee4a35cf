//! The public 公示 page under load (issue 18): a 公示 of 20 published, then its page
//! `/gs/{id}` requested by 8 concurrent clients (no session, as the public opens it),
//! beside the same server's `/healthz` from 8 clients in the same run: requests/s of
//! each and their ratio, p50/p99, any answer but 200 counted.
//!
//! `PINGXUAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p pingxuan-web --bench publicity`

#[allow(dead_code)]
#[path = "../tests/it/common.rs"]
mod common;

use pingxuan_store::publicity::{Entry, NewPublicity};
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::CaptchaPolicy;
use reqwest::Method;

const REQUESTS: usize = 4_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for which in [Which::Sqlite, Which::Postgres] {
        rt.block_on(run(which));
    }
}

async fn run(which: Which) {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (PINGXUAN_TEST_DATABASE_URL not set)");
        return;
    };
    let app = common::start(db, CaptchaPolicy::Off).await;
    let (unit, applicant) = pingxuan_store::testing::xinjiang_recommender(&app.store).await;
    let ids = pingxuan_store::testing::held_by_recommender(
        &app.store,
        "xinjiang-2023",
        unit,
        applicant,
        20,
    )
    .await;
    let entries: Vec<Entry> = ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Entry {
            application_id: id,
            name: format!("候选人{i:02}"),
            work_unit: format!("新疆第{i}研究所所长"),
            recommender: "乌鲁木齐市科协".to_owned(),
            field: "服务社会".to_owned(),
        })
        .collect();
    let today = pingxuan_app::publicity::today();
    let public_id = app
        .store
        .publish(
            &NewPublicity {
                campaign_id: "xinjiang-2023",
                kind: "final",
                unit_id: None,
                stage_key: "panel",
                title: "2023年“新疆最美科技工作者”拟入选人选公示",
                body: &"公示期间，任何单位和个人对公示对象有异议的，可在本页在线提出。".repeat(4),
                contact: "自治区科协调研宣传部，0991-6386020",
                published_on: pingxuan_rules::calendar::day_text(today),
                first_day: pingxuan_rules::calendar::day_text(today),
                last_day: pingxuan_rules::calendar::day_text(today + time::Duration::days(7)),
                working_days: 5,
                ends_at: pingxuan_store::now() + 7 * 86_400,
                entries: &entries,
            },
            None,
            None,
            &pingxuan_store::testing::audit(),
        )
        .await
        .expect("published");
    let page = format!("/gs/{public_id}");
    // Warm both paths once.
    for path in [page.as_str(), "/healthz"] {
        let r = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let size = reqwest::get(format!("{}{page}", app.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let get = |path: &str| {
        (0..REQUESTS)
            .map(|_| {
                (
                    Method::GET,
                    path.to_owned(),
                    String::new(),
                    serde_json::Value::Null,
                )
            })
            .collect::<Vec<_>>()
    };
    let public = timed(&app.url, get(&page)).await;
    let health = timed(&app.url, get("/healthz")).await;
    println!(
        "{which:?}: 公示 page ({size} bytes, 20 people) × {REQUESTS}, 8 clients: {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), {} not 200; \
         /healthz {:.0} req/s (p50 {:.2} ms) → ratio {:.3}",
        public.per_sec,
        ms(public.p50),
        ms(public.p99),
        public.failed.len(),
        health.per_sec,
        ms(health.p50),
        public.per_sec / health.per_sec
    );
}

#[path = "shared/load.rs"]
mod load;
use load::{ms, timed};
