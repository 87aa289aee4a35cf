//! Benchmark of the speed targets: with 10,000 applications and 100,000 moves in
//! the database, 查询申报表 with a filter and a sort, and opening an application, each
//! measured as the server's time to answer over loopback HTTP (p50, p95), on SQLite and
//! on PostgreSQL. Run: `cargo bench -p pingxuan-web --bench workflow` (PostgreSQL when
//! `PINGXUAN_TEST_DATABASE_URL` is set). Not a test: it prints figures for BENCHMARKS.md.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_rules::workflow::{Chain, Event, FlowState};
use pingxuan_store::Store;
use pingxuan_store::accounts::NewUser;
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::{AppState, CaptchaPolicy, WebConfig};

const APPLICATIONS: usize = 10_000;
const UNITS: usize = 50;
const PASSWORD: &str = "Kexie-2024-ok";
const SAMPLES: usize = 300;

/// Valid histories of 6, 10 and 14 moves in 新疆's chain (申报人, 推荐单位, 自治区科协):
/// on average 10 a application, 100,000 in all.
fn history(len: usize) -> Vec<Event> {
    use Event::*;
    let all = [
        Submit { by: 0 },
        Open { by: 1 },
        Return { by: 1, to: 0 },
        Submit { by: 0 },
        Open { by: 1 },
        Submit { by: 1 },
        Open { by: 2 },
        Return { by: 2, to: 1 },
        Submit { by: 1 },
        Open { by: 2 },
        Return { by: 2, to: 0 },
        Submit { by: 0 },
        Open { by: 1 },
        Submit { by: 1 },
    ];
    all[..len].to_vec()
}

const EMPLOYERS: [&str; 8] = [
    "新疆农业科学院作物研究所",
    "新疆大学化学学院",
    "新疆医科大学第一附属医院",
    "中国科学院新疆生态与地理研究所",
    "石河子大学农学院",
    "新疆维吾尔自治区人民医院",
    "塔里木大学动物科学学院",
    "新疆油田公司勘探开发研究院",
];

async fn seed(store: &Store) -> (i64, Vec<i64>) {
    let (_, text) = SEEDS
        .iter()
        .find(|(n, _)| *n == "xinjiang-2023.toml")
        .unwrap();
    let campaign = load(text).campaign.unwrap();
    store
        .save_campaign(&campaign, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let mut units = Vec::new();
    for u in 0..UNITS {
        units.push(
            store
                .create_unit(
                    "xinjiang-2023",
                    &format!("推荐单位{u:02}"),
                    Role::Recommender,
                    Some("prefecture"),
                )
                .await
                .unwrap(),
        );
    }
    let user = |login: &str| NewUser {
        login: login.to_owned(),
        display_name: login.to_owned(),
        email: None,
        mobile: None,
        password: PASSWORD.to_owned(),
    };
    let applicant = store.create_user(user("applicant")).await.unwrap();
    let office = store.create_user(user("office")).await.unwrap();
    store
        .grant_role(office, Role::Organizer, Some("xinjiang-2023"), None)
        .await
        .unwrap();

    let chain = Chain::for_application(&campaign, false);
    let deeds = "扎根南疆三十年，培育棉花新品种十余个，推广面积累计超过一千万亩。".repeat(20);
    let base = pingxuan_store::now() - 86_400 * 30;
    let mut tx = store.pool.begin().await.unwrap();
    for chunk in (0..APPLICATIONS).collect::<Vec<_>>().chunks(250) {
        // Explicit ids, so the events can name them (PostgreSQL must be told).
        let overriding = match store.backend {
            pingxuan_store::Backend::Postgres => "OVERRIDING SYSTEM VALUE",
            pingxuan_store::Backend::Sqlite => "",
        };
        let mut apps = format!(
            "INSERT INTO applications (id, campaign_id, number, applicant_id, recommender_unit_id, merged, \
             recommender_level, name, employer, field, form_version, flow_version, holder_level, \
             holder_role, reached_level, state_text, committed_at, moved_at, created_at, updated_at) {overriding} VALUES ",
        );
        let mut events = String::from(
            "INSERT INTO application_events (application_id, seq, kind, by_level, to_level, actor_id, comment, at) VALUES ",
        );
        let mut forms =
            String::from("INSERT INTO application_forms (application_id, form_json) VALUES ");
        let mut first_event = true;
        for (k, &i) in chunk.iter().enumerate() {
            let id = i as i64 + 1;
            let list = history([6, 10, 14][i % 3]);
            let state = FlowState::replay(&chain, &list).unwrap();
            let reached = list
                .iter()
                .filter_map(|e| match e {
                    Event::Submit { by } => Some(by + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let employer = format!("{}{}", EMPLOYERS[i % EMPLOYERS.len()], i % 97);
            let name = format!("申报人{i:05}");
            let form = serde_json::json!({
                "name": {"text": name}, "employer_and_post": {"text": employer},
                "deeds": {"text": deeds}, "stories": {"list": ["一个感人的故事。"]},
                "field": {"text": "服务社会"}
            })
            .to_string()
            .replace('\'', "''");
            let at = base + i as i64 * 60;
            if k > 0 {
                apps.push(',');
            }
            apps.push_str(&format!(
                "({id}, 'xinjiang-2023', 'ZMKJ2023{id}', {applicant}, {unit}, 0, 1, '{name}', '{employer}', '服务社会', \
                 2, {n}, {holder}, '{role}', {reached}, '{text}', {at}, {moved}, {at}, {moved})",
                unit = units[i % UNITS],
                n = list.len(),
                holder = state.holder(),
                role = chain.levels[state.holder()].role.as_str(),
                text = state.text(&chain),
                moved = at + list.len() as i64 * 600,
            ));
            forms.push_str(&format!("{}({id}, '{form}')", if k > 0 { "," } else { "" }));
            for (s, e) in list.iter().enumerate() {
                let to = match e {
                    Event::Submit { by } => (by + 1).to_string(),
                    Event::Return { to, .. } => to.to_string(),
                    _ => "NULL".to_owned(),
                };
                let actor = if e.by() == 0 { applicant } else { office };
                if !first_event {
                    events.push(',');
                }
                first_event = false;
                events.push_str(&format!(
                    "({id}, {seq}, '{kind}', {by}, {to}, {actor}, '{comment}', {t})",
                    seq = s + 1,
                    kind = e.kind(),
                    by = e.by(),
                    comment = if matches!(e, Event::Return { .. }) {
                        "请补充材料"
                    } else {
                        ""
                    },
                    t = at + s as i64 * 600,
                ));
            }
        }
        sqlx::query(sqlx::AssertSqlSafe(apps))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(forms))
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(events))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // The search terms of the name, number and work unit (application_terms), as the store
    // writes them when an application is created and its form saved.
    store.rebuild_search_terms().await.unwrap();
    if store.backend == pingxuan_store::Backend::Postgres {
        // Identity columns were given explicit ids; move the sequence past them. VACUUM
        // sets the visibility map, as autovacuum would, so counts read the index alone.
        sqlx::query("SELECT setval(pg_get_serial_sequence('applications', 'id'), (SELECT MAX(id) FROM applications))")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("VACUUM ANALYZE")
            .execute(&store.pool)
            .await
            .unwrap();
    } else {
        sqlx::query("ANALYZE").execute(&store.pool).await.unwrap();
    }
    (office, units)
}

struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Session {
    async fn sign_in(base: &str, login: &str) -> Session {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = http.get(format!("{base}/login")).send().await.unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|v| {
                v.to_str()
                    .ok()?
                    .strip_prefix("px_session=")?
                    .split(';')
                    .next()
                    .map(str::to_owned)
            })
            .unwrap();
        let body = page.text().await.unwrap();
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = &body[at..at + body[at..].find('"').unwrap()];
        let r = http
            .post(format!("{base}/login"))
            .header("cookie", format!("px_session={cookie}"))
            .form(&[("csrf", csrf), ("login", login), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .find_map(|v| {
                v.to_str()
                    .ok()?
                    .strip_prefix("px_session=")?
                    .split(';')
                    .next()
                    .map(str::to_owned)
            })
            .unwrap_or(cookie);
        assert_eq!(r.status(), 303, "sign-in failed");
        Session {
            http,
            base: base.to_owned(),
            cookie,
        }
    }

    async fn time(&self, path: &str) -> Duration {
        let started = Instant::now();
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("px_session={}", self.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let body = r.text().await.unwrap();
        let took = started.elapsed();
        assert!(body.len() > 1000);
        took
    }
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} requests)",
        ms(v[v.len() / 2]),
        ms(v[v.len() * 95 / 100]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

async fn run(which: Which) {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (set PINGXUAN_TEST_DATABASE_URL)");
        return;
    };
    let store = db.store().await;
    let started = Instant::now();
    let (_, units) = seed(&store).await;
    let events: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM application_events")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    println!(
        "{which:?}: seeded {APPLICATIONS} applications and {events} moves in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let mut config = WebConfig::new(&base);
    config.captcha = CaptchaPolicy::Off;
    config.auth_requests_per_minute = 1000;
    let state = AppState::new(store.clone(), config);
    tokio::spawn(pingxuan_web::serve(listener, state, std::future::pending()));
    let office = Session::sign_in(&base, "office").await;

    let queries = [
        (
            "工作单位 filter, sorted by 转交时间",
            "/applications/search?employer=%E6%96%B0%E7%96%86%E5%A4%A7%E5%AD%A6%E5%8C%96%E5%AD%A6&sort=moved",
        ),
        (
            "当前步骤 filter, sorted by 工作单位",
            "/applications/search?step=organizer&sort=employer",
        ),
        (
            "name search, sorted by 编号",
            "/applications/search?q=%E7%94%B3%E6%8A%A5%E4%BA%BA0123",
        ),
        (
            "推荐单位 filter, page 3, sorted by 推荐单位",
            "/applications/search?recommender=UNIT&sort=recommender&page=3",
        ),
    ];
    for (label, path) in queries {
        let path = path.replace("UNIT", &units[7].to_string());
        for _ in 0..20 {
            office.time(&path).await;
        }
        let mut samples = Vec::new();
        for _ in 0..SAMPLES {
            samples.push(office.time(&path).await);
        }
        println!("{which:?}: 查询申报表 — {label}: {}", summary(samples));
    }
    // Opening: applications already opened by the office (histories of 10 and 14 moves
    // end with the office holding or having held them).
    let ids: Vec<usize> = (0..APPLICATIONS)
        .filter(|i| i % 3 != 0)
        .step_by(7)
        .take(SAMPLES)
        .collect();
    for id in ids.iter().take(20) {
        office.time(&format!("/review/{}", id + 1)).await;
    }
    let mut samples = Vec::new();
    for id in &ids {
        samples.push(office.time(&format!("/review/{}", id + 1)).await);
    }
    println!(
        "{which:?}: 办理 (open an application with its 10–14 moves): {}",
        summary(samples)
    );
    if std::env::var("PINGXUAN_BENCH_KEEP").is_ok() {
        // Keep the database to inspect query plans (EXPLAIN) afterwards.
        println!("{which:?}: kept {}", db.url);
        std::mem::forget(db);
    }
}

#[tokio::main]
async fn main() {
    let only = std::env::var("PINGXUAN_BENCH_ONLY").unwrap_or_default();
    if only != "postgres" {
        run(Which::Sqlite).await;
    }
    if only != "sqlite" {
        run(Which::Postgres).await;
    }
}
