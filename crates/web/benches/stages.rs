//! The selection rounds' speed targets (issue 17), on SQLite and PostgreSQL, through the
//! real server on loopback:
//!
//! - an expert's 提交 of a sheet with 50 experts at work at once: each of 50 experts
//!   submits their sheets one after the other with a pause between (uniform 0–1 s, a
//!   person reading the next 推荐表), all 50 at the same time; p50/p95/p99 of the 提交
//!   request. The same 50 without pauses (each sends the next as soon as the last is
//!   answered) give the stage's write throughput and the latency when saturated.
//! - a stage's results page for 1,000 candidates (the office's 网上评选 page once closed:
//!   ranking, reasons, experts per candidate): p50/p95 of 50 requests after 5 warm-ups.
//!
//! The stage: 1,000 candidates at the office's desk (written straight to the database),
//! 200 experts imported as the office does, five per candidate assigned by the stage's
//! own 自动分配, every other sheet written through the store.
//!
//! `PINGXUAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p pingxuan-web --bench stages`
//! (`PINGXUAN_BENCH_ONLY=sqlite|postgres` for one database)

#[allow(dead_code)]
#[path = "../tests/it/common.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pingxuan_app::Access;
use pingxuan_rules::Role;
use pingxuan_rules::campaign::SEEDS;
use pingxuan_rules::selection::stage::Move;
use pingxuan_store::Store;
use pingxuan_store::sheets::SheetWrite;
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;
use serde_json::json;

const CID: &str = "xinjiang-2023";
const CANDIDATES: usize = 1_000;
const EXPERTS: usize = 200;
const AT_WORK: usize = 50;
const FIELDS: [&str; 8] = [
    "作物学",
    "化学",
    "临床医学",
    "生态学",
    "农学",
    "公共卫生",
    "畜牧学",
    "石油工程",
];

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let only = std::env::var("PINGXUAN_BENCH_ONLY").ok();
    for which in [Which::Sqlite, Which::Postgres] {
        let name = format!("{which:?}").to_lowercase();
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        rt.block_on(run(which));
    }
}

/// 新疆 with what the organiser sets before 网上评选 opens: 100 advance, five experts a
/// candidate, full marks.
fn campaign_text() -> String {
    let (_, text) = SEEDS
        .iter()
        .find(|(n, _)| *n == "xinjiang-2023.toml")
        .unwrap();
    text.replace(
        "name = \"网上评选\"\nkind = \"review\"\n",
        "name = \"网上评选\"\nkind = \"review\"\nadvance = 100\nreviewers = 5\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\n",
    )
    .replace(
        "name = \"集中评选\"\nkind = \"panel\"\n",
        "name = \"集中评选\"\nkind = \"panel\"\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\n",
    )
}

/// 1,000 applications at the office's desk, across 50 recommending units.
async fn seed_desk(store: &Store) {
    let text = campaign_text();
    let c = pingxuan_rules::campaign::load(&text).campaign.unwrap();
    store
        .save_campaign(&c, &text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let mut units = Vec::new();
    for u in 0..50 {
        units.push(
            store
                .create_unit(
                    CID,
                    &format!("推荐单位{u:02}"),
                    Role::Recommender,
                    Some("prefecture"),
                )
                .await
                .unwrap(),
        );
    }
    let applicant = store
        .create_user(pingxuan_store::testing::new_user("applicant", "申报人"))
        .await
        .unwrap();
    let deeds = "扎根南疆三十年，培育棉花新品种十余个，推广面积累计超过一千万亩。".repeat(20);
    let now = pingxuan_store::now();
    let overriding = match store.backend {
        pingxuan_store::Backend::Postgres => "OVERRIDING SYSTEM VALUE",
        pingxuan_store::Backend::Sqlite => "",
    };
    let mut tx = store.pool.begin().await.unwrap();
    for chunk in (0..CANDIDATES).collect::<Vec<_>>().chunks(250) {
        let mut apps = format!(
            "INSERT INTO applications (id, campaign_id, number, applicant_id, recommender_unit_id, merged, \
             recommender_level, name, employer, field, form_version, flow_version, holder_level, \
             holder_role, reached_level, state_text, committed_at, moved_at, created_at, updated_at) {overriding} VALUES ",
        );
        let mut forms =
            String::from("INSERT INTO application_forms (application_id, form_json) VALUES ");
        for (k, &i) in chunk.iter().enumerate() {
            let id = i as i64 + 1;
            let name = format!("候选人{i:04}");
            let employer = format!("新疆第{}研究所", i % 300);
            let field = FIELDS[i % FIELDS.len()];
            let form = json!({
                "name": {"text": name}, "employer_and_post": {"text": employer},
                "deeds": {"text": deeds}, "field": {"text": field}
            })
            .to_string();
            let sep = if k > 0 { "," } else { "" };
            apps.push_str(&format!(
                "{sep}({id}, '{CID}', 'ZMKJ2023{id:04}', {applicant}, {unit}, 0, 1, '{name}', '{employer}', '{field}', \
                 2, 6, 2, 'organizer', 2, '自治区科协审核中', {now}, {now}, {now}, {now})",
                unit = units[i % units.len()],
            ));
            forms.push_str(&format!("{sep}({id}, '{form}')"));
        }
        sqlx::query(sqlx::AssertSqlSafe(apps))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(forms))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    if store.backend == pingxuan_store::Backend::Postgres {
        sqlx::query("SELECT setval(pg_get_serial_sequence('applications', 'id'), (SELECT MAX(id) FROM applications))")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("VACUUM ANALYZE")
            .execute(&store.pool)
            .await
            .unwrap();
    }
}

struct Stats {
    p50: Duration,
    p95: Duration,
    p99: Duration,
    per_sec: f64,
    failed: usize,
}

fn stats(mut times: Vec<Duration>, elapsed: Duration, failed: usize) -> Stats {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        failed,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Each expert submits their sheets in turn, all experts at once, pausing up to
/// `pause_ms` between sheets (0: none).
async fn submit_all(
    base: &str,
    experts: &[(String, Vec<i64>)],
    pause_ms: u64,
    points: [u32; 3],
) -> Stats {
    let started = Instant::now();
    let tasks: Vec<_> = experts
        .iter()
        .enumerate()
        .map(|(k, (token, items))| {
            let (base, token, items) = (base.to_owned(), token.clone(), items.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut seen = Vec::new();
                let mut failed = 0;
                // A fixed pseudo-random pause per expert and sheet, the same every run.
                let mut x = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                for id in items {
                    if pause_ms > 0 {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        tokio::time::sleep(Duration::from_millis(x % pause_ms)).await;
                    }
                    let url =
                        format!("{base}/api/v1/campaigns/{CID}/stages/online_review/sheets/{id}");
                    let t = Instant::now();
                    let r = http
                        .put(&url)
                        .bearer_auth(&token)
                        .json(
                            &json!({"points": points, "comment": "", "version": 0, "submit": true}),
                        )
                        .send()
                        .await
                        .unwrap();
                    let ok = r.status() == StatusCode::OK;
                    let _ = r.bytes().await;
                    seen.push(t.elapsed());
                    if !ok {
                        failed += 1;
                    }
                }
                (seen, failed)
            })
        })
        .collect();
    let mut times = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (s, f) = t.await.unwrap();
        times.extend(s);
        failed += f;
    }
    stats(times, started.elapsed(), failed)
}

async fn run(which: Which) {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (PINGXUAN_TEST_DATABASE_URL not set)");
        return;
    };
    let app = common::start(db, CaptchaPolicy::Off).await;
    let t = Instant::now();
    seed_desk(&app.store).await;
    let office_id = app
        .account("office", Role::Organizer, Some(CID), None)
        .await;
    let office = Access::load(&app.store, office_id).await.unwrap().unwrap();
    let act = |key: &'static str, mv: Move| {
        let (store, access) = (app.store.clone(), office.clone());
        async move {
            pingxuan_app::stages::act(&store, &access, CID, key, mv, None)
                .await
                .unwrap()
        }
    };
    let desk: Vec<i64> = (1..=CANDIDATES as i64).collect();
    act(
        "unit_round",
        Move::Open {
            candidates: desk.clone(),
        },
    )
    .await;
    act("unit_round", Move::Close).await;
    act(
        "unit_round",
        Move::Advance {
            advanced: desk.clone(),
        },
    )
    .await;
    let mut table: pingxuan_app::tables::Table = vec![
        ["姓名", "工作单位", "学科/专业领域", "电子邮箱", "手机"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for e in 0..EXPERTS {
        table.push(vec![
            format!("专家{e:03}"),
            format!("新疆大学第{e}学院"),
            FIELDS[e % FIELDS.len()].to_owned(),
            format!("expert{e:03}@example.com"),
            String::new(),
        ]);
    }
    let pingxuan_app::experts::Imported::Created(created) =
        pingxuan_app::experts::import(&app.store, &office, CID, &table, None)
            .await
            .unwrap()
    else {
        panic!("the pool")
    };
    act(
        "online_review",
        Move::Open {
            candidates: desk.clone(),
        },
    )
    .await;
    let done = pingxuan_app::stages::assign(&app.store, &office, CID, "online_review", None)
        .await
        .unwrap();
    let assignments = app.store.assignments(CID, "online_review").await.unwrap();
    println!(
        "{which:?}: seeded in {:.1} s: {CANDIDATES} candidates, {EXPERTS} experts, {} pairs",
        t.elapsed().as_secs_f64(),
        done.pairs
    );

    // Fifty experts at work: their 回避声明 filed, their sheets left to the timed part;
    // everyone else's sheets written through the store.
    let mut at_work = Vec::new();
    for e in created.iter().take(AT_WORK) {
        let user = app.store.find_user(&e.login).await.unwrap().unwrap();
        let items: Vec<i64> = assignments
            .iter()
            .filter(|a| a.expert_id == user.id)
            .map(|a| a.application_id)
            .collect();
        for id in &items {
            app.store
                .declare(
                    CID,
                    "online_review",
                    1,
                    user.id,
                    *id,
                    "",
                    None,
                    &pingxuan_store::testing::audit(),
                )
                .await
                .unwrap();
        }
        at_work.push((user.id, app.token(user.id).await, items));
    }
    let busy: Vec<i64> = at_work.iter().map(|(id, ..)| *id).collect();
    let t = Instant::now();
    let store = Arc::new(app.store.clone());
    for (n, a) in assignments
        .iter()
        .filter(|a| !busy.contains(&a.expert_id))
        .enumerate()
    {
        let p = (a.application_id as u32 * 7 + a.expert_id as u32 + n as u32) % 11;
        let points = [Some(20 + p % 10), Some(18 + p % 12), Some(25 + p % 15)];
        store
            .save_sheet(
                &SheetWrite {
                    campaign_id: CID,
                    stage_key: "online_review",
                    expert_id: a.expert_id,
                    application_id: a.application_id,
                    points: &points,
                    comment: "",
                    version: 0,
                    submit: true,
                    keyed_by: None,
                    after: 1,
                },
                &pingxuan_store::testing::audit(),
            )
            .await
            .unwrap();
    }
    println!(
        "{which:?}: other sheets written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Half of each expert's sheets with pauses, the other half without.
    let (paced, rushed): (Vec<_>, Vec<_>) = at_work
        .iter()
        .map(|(_, token, items)| {
            let half = items.len() / 2;
            (
                (token.clone(), items[..half].to_vec()),
                (token.clone(), items[half..].to_vec()),
            )
        })
        .unzip();
    let s = submit_all(&app.url, &paced, 1000, [24, 25, 33]).await;
    println!(
        "{which:?}: 提交 by {AT_WORK} experts at work (pauses 0–1 s): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {:.0}/s, {} not 200",
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        s.per_sec,
        s.failed
    );
    let s = submit_all(&app.url, &rushed, 0, [26, 27, 35]).await;
    println!(
        "{which:?}: 提交 by {AT_WORK} experts without pauses (saturated): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {:.0}/s, {} not 200",
        ms(s.p50),
        ms(s.p95),
        ms(s.p99),
        s.per_sec,
        s.failed
    );

    act("online_review", Move::Close).await;
    let mut page = app.signed_in("office").await;
    let url = format!("/campaigns/{CID}/stages/online_review");
    for _ in 0..5 {
        let r = page.get(&url).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("第 1 名"), "ranked");
    }
    let mut times = Vec::new();
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let r = page.get(&url).await;
        times.push(t.elapsed());
        bytes = r.body.len();
    }
    let s = stats(times, started.elapsed(), 0);
    println!(
        "{which:?}: results page, {CANDIDATES} candidates closed and ranked ({} KiB): p50 {:.1} ms, p95 {:.1} ms",
        bytes / 1024,
        ms(s.p50),
        ms(s.p95)
    );
}
