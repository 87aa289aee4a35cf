//! The online vote under load (issue 19): the release binary started as its own
//! process(es), the round prepared in the database (东莞, 40 candidates, 齐鲁-shaped limits
//! every vote takes two slots of), then `pingxuan loadgen` as its own process:
//!
//! 1. `/healthz` flat out — the same server's reference rate;
//! 2. votes flat out for `PINGXUAN_BENCH_PEAK_SECS` (60) — the durable peak (each
//!    acknowledged only once committed:
//!    SQLite WAL `synchronous=FULL`, PostgreSQL `synchronous_commit=on`, `fsync=on`);
//! 3. votes at 80% of that peak for `PINGXUAN_BENCH_SUSTAIN_SECS` (600: ten minutes) —
//!    p50, p99, errors;
//! 4. votes at 80% again, the server killed with SIGKILL halfway, started again, and
//!    `loadgen check` — acknowledged votes missing.
//!
//! On SQLite, on PostgreSQL, and with two servers on one PostgreSQL (and Redis for the
//! edge). Loadgen, servers and PostgreSQL share the machine's two cores.
//!
//! `PINGXUAN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p pingxuan --bench votes`
//! (`PINGXUAN_BENCH_ONLY=sqlite|postgres|two` for one setup).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pingxuan_store::testing::{TestDb, Which};
use serde_json::Value;

#[path = "../tests/support/vote_round.rs"]
mod vote_round;

const BIN: &str = env!("CARGO_BIN_EXE_pingxuan");
const EDGE: [&str; 4] = [
    "--votes-per-ip-minute",
    "100000000",
    "--votes-per-voter-minute",
    "100000000",
];

struct Server(Child);

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

async fn serve_on(data: &Path, db: &str, port: u16, redis: Option<&str>) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--captcha", "off", "--trusted-proxies", "127.0.0.1"])
        .arg("--sms-file")
        .arg(data.join("sms.txt"))
        .args(EDGE)
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", db)
        .env("PINGXUAN_LOG", "error")
        .stdout(Stdio::null());
    if let Some(r) = redis {
        cmd.args(["--redis-url", r]);
    }
    let server = Server(cmd.spawn().expect("start pingxuan serve"));
    let until = Instant::now() + Duration::from_secs(60);
    while !reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < until, "server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

/// `loadgen run` with `args`; its summary.
fn loadgen(targets: &str, data: &Path, out: &Path, args: &[&str]) -> Value {
    let o = Command::new(BIN)
        .args(["loadgen", "run", "--targets", targets])
        .arg("--sms-file")
        .arg(data.join("sms.txt"))
        .arg("--out")
        .arg(out)
        .args(args)
        .env("PINGXUAN_LOG", "error")
        .output()
        .expect("run loadgen");
    eprint!("{}", String::from_utf8_lossy(&o.stderr));
    print!("  {}", String::from_utf8_lossy(&o.stdout));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(0.0)
}

async fn durability(db: &str) -> String {
    if db.starts_with("sqlite") {
        "SQLite WAL, synchronous=FULL".to_owned()
    } else {
        let pool = sqlx::PgPool::connect(db).await.unwrap();
        let s: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&pool)
            .await
            .unwrap();
        let f: String = sqlx::query_scalar("SHOW fsync")
            .fetch_one(&pool)
            .await
            .unwrap();
        format!("PostgreSQL synchronous_commit={s}, fsync={f}")
    }
}

async fn run(
    name: &str,
    which: Which,
    servers: usize,
    redis: Option<&str>,
    (peak_secs, sustain): (u64, u64),
) {
    let Some(db) = TestDb::new(which).await else {
        println!("{name}: skipped (no database)");
        return;
    };
    let store = db.store().await;
    vote_round::open_vote(&store, 40, vote_round::LOAD_RULES).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let ports: Vec<u16> = (0..servers).map(|_| free_port()).collect();
    let mut up = Vec::new();
    for p in &ports {
        up.push(serve_on(&data, &db.url, *p, redis).await);
    }
    let targets = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let out = |k: &str| -> PathBuf { data.join(k) };
    println!("{name} ({}):", durability(&db.url).await);
    let health = loadgen(
        &targets,
        &data,
        &out("healthz"),
        &["--healthz", "--concurrency", "32", "--duration", "10"],
    );
    let peak = loadgen(
        &targets,
        &data,
        &out("peak"),
        &[
            "--voters",
            "500",
            "--concurrency",
            "64",
            "--duration",
            &peak_secs.to_string(),
        ],
    );
    let ratio = f(&peak, "per_second") / f(&health, "per_second");
    let rate = (f(&peak, "per_second") * 0.8).floor();
    let rate_s = rate.to_string();
    let sustained = loadgen(
        &targets,
        &data,
        &out("sustained"),
        &[
            "--voters",
            "500",
            "--concurrency",
            "256",
            "--rate",
            &rate_s,
            "--duration",
            &sustain.to_string(),
        ],
    );
    // Killed halfway through 20 s at 80%, started again, every receipt checked.
    let load = Command::new(BIN)
        .args(["loadgen", "run", "--targets", &targets])
        .arg("--sms-file")
        .arg(data.join("sms.txt"))
        .arg("--out")
        .arg(out("killed"))
        .args([
            "--voters",
            "200",
            "--concurrency",
            "256",
            "--rate",
            &rate_s,
            "--duration",
            "20",
        ])
        .env("PINGXUAN_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let victim = up.remove(0);
    let mut victim = victim;
    victim.0.kill().unwrap();
    victim.0.wait().unwrap();
    drop(victim);
    let load = load.wait_with_output().unwrap();
    let _ = load;
    up.insert(0, serve_on(&data, &db.url, ports[0], redis).await);
    let check = Command::new(BIN)
        .args(["loadgen", "check", "--receipts"])
        .arg(out("killed").join("receipts.txt"))
        .env("PINGXUAN_DATA_DIR", &data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "error")
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&check.stdout).trim().to_owned();
    println!(
        "  => healthz {:.0} req/s; votes peak {:.0}/s (p50 {:.2} ms, p99 {:.2} ms), ratio {ratio:.2}; \
         at 80% ({rate}/s) for {sustain} s: {} acknowledged, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, errors {}, skipped {}; \
         kill -9 at 80%: {checked}",
        f(&health, "per_second"),
        f(&peak, "per_second"),
        f(&peak, "p50_ms"),
        f(&peak, "p99_ms"),
        sustained["acknowledged"],
        f(&sustained, "p50_ms"),
        f(&sustained, "p99_ms"),
        f(&sustained, "max_ms"),
        sustained["errors"],
        sustained["skipped"],
    );
}

fn main() {
    let only = std::env::var("PINGXUAN_BENCH_ONLY").ok();
    let secs = |var: &str, default: u64| -> u64 {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    // The peak flat out for a minute, not 15 s: on a small table it overstates what the
    // server sustains as the round's tables grow (session 16: 80% of a 15-s peak fell
    // behind on SQLite within ten minutes).
    let times = (
        secs("PINGXUAN_BENCH_PEAK_SECS", 60),
        secs("PINGXUAN_BENCH_SUSTAIN_SECS", 600),
    );
    let redis = std::env::var("PINGXUAN_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for (name, which, servers, redis) in [
        ("sqlite", Which::Sqlite, 1, None),
        ("postgres", Which::Postgres, 1, None),
        ("two", Which::Postgres, 2, Some(redis.as_str())),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        rt.block_on(run(name, which, servers, redis, times));
    }
}
