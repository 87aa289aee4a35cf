//! The vote across real server processes: fifty votes at once by one voter for one
//! candidate under a limit of one, split over two `pingxuan serve` on one PostgreSQL
//! (sharing Redis for the edge), store exactly one; a server killed with SIGKILL under
//! `pingxuan loadgen` load loses no acknowledged vote (`loadgen check`), on SQLite and
//! PostgreSQL, and starts again on the same data.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::{TestDb, Which};

#[path = "support/vote_round.rs"]
mod vote_round;
use vote_round::{CID, LOAD_RULES, STAGE, open_vote};

struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server for the vote: codes to `data/sms.txt`, no captcha, loopback trusted as the
/// proxy (loadgen's voters each send from an address of their own), edge limits as given.
async fn serve(data: &Path, db: &TestDb, extra: &[&str]) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--captcha", "off", "--trusted-proxies", "127.0.0.1"])
        .arg("--sms-file")
        .arg(data.join("sms.txt"))
        .args(extra)
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start pingxuan serve");
    let server = Server(child, port);
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let up = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            return server;
        }
        assert!(Instant::now() < until, "server on {port} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn url(s: &Server) -> String {
    format!("http://127.0.0.1:{}", s.1)
}

/// Proves `phone` through `server`, returns the voter's cookie.
async fn prove(http: &reqwest::Client, server: &str, data: &Path, phone: &str) -> String {
    let r = http
        .post(format!("{server}/api/v1/votes/{CID}/codes"))
        .json(&serde_json::json!({ "phone": phone }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let text = std::fs::read_to_string(data.join("sms.txt")).unwrap();
    let code = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{phone}\t")))
        .and_then(|rest| rest.split('\t').next())
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{server}/api/v1/votes/{CID}/session"))
        .json(&serde_json::json!({ "phone": phone, "code": code }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("px_voter="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    format!("px_voter={cookie}")
}

fn redis_url() -> Option<String> {
    let url = std::env::var("PINGXUAN_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let reachable = std::net::TcpStream::connect_timeout(
        &url.trim_start_matches("redis://")
            .trim_end_matches('/')
            .parse()
            .ok()?,
        Duration::from_secs(1),
    )
    .is_ok();
    match reachable {
        true => Some(url),
        false if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("Redis at {url} is required under CI")
        }
        false => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_votes_over_two_servers_store_one() {
    let Some(db) = TestDb::new(Which::Postgres).await else {
        return;
    };
    let store = db.store().await;
    open_vote(&store, 3, "per_candidate = 1\n").await;
    let dir = tempfile::tempdir().unwrap();
    let redis = redis_url();
    // The edge out of the way: the database alone must hold the limit.
    let mut extra: Vec<&str> = vec!["--votes-per-voter-minute", "1000"];
    if let Some(u) = &redis {
        extra.extend(["--redis-url", u.as_str()]);
    }
    let (a, b) = (
        serve(dir.path(), &db, &extra).await,
        serve(dir.path(), &db, &extra).await,
    );
    let http = reqwest::Client::new();
    let cookie = prove(&http, &url(&a), dir.path(), "13700001111").await;
    let sends: Vec<_> = (0..50)
        .map(|i| {
            let (http, cookie) = (http.clone(), cookie.clone());
            let server = if i % 2 == 0 { url(&a) } else { url(&b) };
            tokio::spawn(async move {
                http.post(format!("{server}/api/v1/votes/{CID}/rounds/{STAGE}/votes"))
                    .header("cookie", cookie)
                    .json(
                        &serde_json::json!({ "candidate": 1, "idempotency_key": format!("k{i}") }),
                    )
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for s in sends {
        statuses.push(s.await.unwrap());
    }
    let stored = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(stored, 1, "{statuses:?}");
    // The rest refused by the limit, in the voter's words.
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM votes WHERE campaign_id = $1")
        .bind(CID)
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let tallies = store.vote_tallies(CID, STAGE).await.unwrap();
    assert_eq!(tallies.values().sum::<i64>(), 1);
}

on_both_databases!(a_server_killed_under_load_loses_no_acknowledged_vote);

async fn a_server_killed_under_load_loses_no_acknowledged_vote(db: TestDb) {
    let store = db.store().await;
    open_vote(&store, 10, LOAD_RULES).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let edge = [
        "--votes-per-ip-minute",
        "1000000",
        "--votes-per-voter-minute",
        "1000000",
    ];
    let mut server = serve(data, &db, &edge).await;
    let out = data.join("load");
    let load = tokio::process::Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["loadgen", "run", "--targets", &url(&server)])
        .arg("--sms-file")
        .arg(data.join("sms.txt"))
        .args(["--voters", "20", "--concurrency", "16", "--duration", "5"])
        .arg("--out")
        .arg(&out)
        .env("PINGXUAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until votes are being acknowledged, then kill the server mid-load.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM votes")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        if n > 200 {
            break;
        }
        assert!(Instant::now() < until, "no load reached the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.0.kill().unwrap(); // SIGKILL: no shutdown, no flush
    server.0.wait().unwrap();
    let done = load.wait_with_output().await.unwrap();
    let said =
        String::from_utf8_lossy(&done.stdout).into_owned() + &String::from_utf8_lossy(&done.stderr);
    let receipts = std::fs::read_to_string(out.join("receipts.txt")).unwrap();
    let acknowledged = receipts.lines().count();
    assert!(acknowledged > 100, "{said}");
    assert!(!done.status.success(), "the load saw the server go: {said}");
    // Started again on the same data, it serves; every acknowledged vote is there.
    let again = serve(data, &db, &edge).await;
    let check = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["loadgen", "check", "--receipts"])
        .arg(out.join("receipts.txt"))
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "回执 {acknowledged} 个：已存储 {acknowledged} 个，缺失 0 个"
        )),
        "{text}"
    );
    let round = reqwest::get(format!("{}/api/v1/votes/{CID}/rounds/{STAGE}", url(&again)))
        .await
        .unwrap();
    assert!(round.status().is_success());
    // The live counts agree with the votes kept (nothing half-written by the kill).
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM votes")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    let tallied: i64 = store.vote_tallies(CID, STAGE).await.unwrap().values().sum();
    assert_eq!(stored, tallied);
    assert!(stored as usize >= acknowledged);
}
