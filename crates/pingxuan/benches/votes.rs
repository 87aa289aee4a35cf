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
//!    `loadgen check` — acknowledged votes missing;
//! 5. (issue 20) votes flat out for `PINGXUAN_BENCH_SCAN_SECS` (30) alone, then with the
//!    signals' scan running over the round's votes beside them, scan after scan (the first
//!    reads every vote; the later ones only those cast since, as a server's worker does
//!    between its scans, and compute over all), then alone again — the drop in the
//!    durable rate against the mean of the two alone, and each scan's time;
//! 6. (issue 20) the round frozen (its clusters kept first, as the office would), then
//!    one receipt's proof after another over HTTP — the first (which builds the tree),
//!    then p50 and p99.
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
        .env(
            "PINGXUAN_LOG",
            std::env::var("PINGXUAN_BENCH_SERVER_LOG").unwrap_or_else(|_| "error".to_owned()),
        )
        .stdout(Stdio::null());
    // The servers' logs kept for reading (e.g. `pingxuan_app::votes=debug`: batch times).
    if let Ok(dir) = std::env::var("PINGXUAN_BENCH_LOG_DIR") {
        // Appended: the server started again after the kill keeps the same file.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(Path::new(&dir).join(format!("server-{port}.log")))
            .expect("server log file");
        cmd.stderr(file);
    }
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
    (peak_secs, sustain, scan_secs): (u64, u64, u64),
) {
    let Some(db) = TestDb::new(which).await else {
        println!("{name}: skipped (no database)");
        return;
    };
    let store = db.store().await;
    vote_round::open_vote(&store, 40, vote_round::LOAD_RULES).await;
    // Closed before the servers start: on SQLite its checkpoint task would run beside
    // theirs for the whole bench.
    store.close().await;
    drop(store);
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
    // SQLite's WAL and database sizes every 30 s of the sustained run: a WAL that
    // checkpoints never reset grows with the round.
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = db.url.strip_prefix("sqlite://").map(|path| {
        let (path, on) = (PathBuf::from(path), sampling.clone());
        std::thread::spawn(move || {
            let began = Instant::now();
            let mb = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) / (1 << 20);
            let wal = PathBuf::from(format!("{}-wal", path.display()));
            while on.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(30));
                println!(
                    "    {:>4} s: WAL {} MiB, database {} MiB",
                    began.elapsed().as_secs(),
                    mb(&wal),
                    mb(&path)
                );
            }
        })
    });
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
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    drop(sampler);
    println!("    {}", stalls(&out("sustained").join("timeline.tsv")));
    if let Ok(dir) = std::env::var("PINGXUAN_BENCH_LOG_DIR") {
        let _ = std::fs::copy(
            out("sustained").join("timeline.tsv"),
            Path::new(&dir).join(format!("{name}-sustained-timeline.tsv")),
        );
    }
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
    if !load.status.success() {
        println!("  (the load during the kill ended with {})", load.status);
    }
    up.insert(0, serve_on(&data, &db.url, ports[0], redis).await);
    let check = Command::new(BIN)
        .args(["loadgen", "check", "--receipts"])
        .arg(out("killed").join("receipts.txt"))
        .env("PINGXUAN_DATA_DIR", &data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_LOG", "error")
        .output()
        .unwrap();
    // A check that could not run says why (its exit and its error), not an empty line.
    let checked = match String::from_utf8_lossy(&check.stdout).trim() {
        "" => format!(
            "check failed ({}): {}",
            check.status,
            String::from_utf8_lossy(&check.stderr).trim()
        ),
        said => said.to_owned(),
    };
    let (alone, beside, scans) = scan_beside(&db.url, &data, &targets, scan_secs).await;
    let proofs = proofs_served(&db.url, &data, &targets, &out("sustained")).await;
    println!(
        "  => healthz {:.0} req/s; votes peak {:.0}/s (p50 {:.2} ms, p99 {:.2} ms), ratio {ratio:.2}; \
         at 80% ({rate}/s) for {sustain} s: {} acknowledged, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, errors {}, late {}; \
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
        sustained["late"],
    );
    println!(
        "  => signals beside the vote: flat out alone {alone:.0}/s, with the scan running {beside:.0}/s \
         ({:+.1}%); {scans}; {proofs}",
        (beside / alone - 1.0) * 100.0
    );
}

/// Where the sustained run's slow votes were, from loadgen's second-by-second timeline:
/// how many seconds had any vote over 50 ms, and the worst five.
fn stalls(timeline: &Path) -> String {
    let text = std::fs::read_to_string(timeline).unwrap_or_default();
    let mut rows: Vec<(u64, u64, u64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let v: Vec<&str> = l.split('\t').collect();
            Some((
                v.first()?.parse().ok()?,
                v.get(1)?.parse().ok()?,
                v.get(3)?.parse().ok()?,
                v.get(4)?.parse().ok()?,
            ))
        })
        .collect();
    let seconds = rows.len();
    let slow: u64 = rows.iter().map(|r| r.2).sum();
    let with = rows.iter().filter(|r| r.2 > 0).count();
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    let worst: Vec<String> = rows
        .iter()
        .take(5)
        .filter(|r| r.2 > 0)
        .map(|r| format!("s{} {}/{} over 50 ms, max {:.0} ms", r.0, r.2, r.1, r.3))
        .collect();
    format!(
        "{slow} votes over 50 ms in {with} of {seconds} seconds; worst: {}",
        worst.join("; ")
    )
}

/// The store the servers use (their sealing key from the data folder), for the scan and
/// the freeze the bench runs as the worker and the office would; the servers take the
/// checkpoints.
async fn server_store(db: &str, data: &Path) -> pingxuan_store::Store {
    let key = std::fs::read(data.join("secret.key")).expect("the servers' key");
    pingxuan_store::Store::connect_beside(db, pingxuan_store::Sealer::new(&key))
        .await
        .unwrap()
}

/// Votes flat out alone, then with the signals' scan running over the round beside them
/// (one scan after another, as long as the votes run): both rates and the scans' times.
async fn scan_beside(db: &str, data: &Path, targets: &str, secs: u64) -> (f64, f64, String) {
    let flat = |name: &str| {
        let secs = secs.to_string();
        let out = data.join(name);
        let (targets, data) = (targets.to_owned(), data.to_path_buf());
        std::thread::spawn(move || {
            loadgen(
                &targets,
                &data,
                &out,
                &[
                    "--voters",
                    "500",
                    "--concurrency",
                    "64",
                    "--duration",
                    &secs,
                ],
            )
        })
    };
    let alone = f(&flat("alone").join().unwrap(), "per_second");
    let store = server_store(db, data).await;
    let votes = store
        .vote_facts(vote_round::CID, vote_round::STAGE, true)
        .await
        .map_or(0, |v| v.len());
    let running = flat("beside");
    let mut times = Vec::new();
    while !running.is_finished() {
        let began = Instant::now();
        let found = pingxuan_app::vote_review::scan(
            &store,
            vote_round::CID,
            vote_round::STAGE,
            pingxuan_store::now(),
        )
        .await;
        times.push((
            began.elapsed().as_secs_f64(),
            found.map(|s| s.new + s.updated).ok(),
        ));
    }
    let beside = f(&running.join().unwrap(), "per_second");
    // Alone again after it: the tables grew meanwhile, which is not the scan's doing.
    let alone = (alone + f(&flat("after").join().unwrap(), "per_second")) / 2.0;
    let said: Vec<String> = times
        .iter()
        .map(|(t, c)| {
            format!(
                "{t:.1} s ({} clusters)",
                c.map_or("failed".into(), |c| c.to_string())
            )
        })
        .collect();
    (
        alone,
        beside,
        format!("scans over ~{votes} votes: {}", said.join(", ")),
    )
}

/// Freezes the round (every cluster kept, as an office that found nothing would decide —
/// the load generator's few networks are bursts by design), then asks for one receipt's
/// proof after another over HTTP: the first builds the frozen tree; p50 and p99 of the rest.
async fn proofs_served(db: &str, data: &Path, targets: &str, sent: &Path) -> String {
    let store = server_store(db, data).await;
    let (cid, stage) = (vote_round::CID, vote_round::STAGE);
    sqlx::query(
        "UPDATE vote_clusters SET verdict = 'keep', reason = '基准测试', decided_at = $3 \
         WHERE campaign_id = $1 AND stage_key = $2 AND decided_at IS NULL",
    )
    .bind(cid)
    .bind(stage)
    .bind(pingxuan_store::now())
    .execute(&store.pool)
    .await
    .unwrap();
    let after = store.stage_events(cid).await.unwrap().len() as i64;
    let frozen = store
        .freeze_votes(cid, stage, after, None, |_| {
            pingxuan_store::audit::Audit::new(None, "vote_frozen", format!("campaign:{cid}"))
        })
        .await;
    if let Err(e) = frozen {
        return format!("proofs not measured: the freeze failed ({e})");
    }
    let receipts: Vec<String> = std::fs::read_to_string(sent.join("receipts.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split('\t').next().map(str::to_owned))
        .take(1001)
        .collect();
    let base = targets.split(',').next().unwrap().to_owned();
    let client = reqwest::Client::new();
    let mut ms = Vec::new();
    for code in &receipts {
        let began = Instant::now();
        let r = client
            .get(format!("{base}/tp/{cid}/{stage}/receipt/{code}/proof.json"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "proof of {code}: {}", r.status());
        r.bytes().await.unwrap();
        ms.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    if ms.len() < 2 {
        return "proofs not measured: no receipts".to_owned();
    }
    let first = ms.remove(0);
    ms.sort_by(f64::total_cmp);
    format!(
        "proof over HTTP: first {first:.0} ms (builds the tree of the frozen round), then {} proofs p50 {:.2} ms, p99 {:.2} ms",
        ms.len(),
        ms[ms.len() / 2],
        ms[ms.len() * 99 / 100]
    )
}

fn main() {
    // Each scan's own account of where its time went (read, compute, save).
    tracing_subscriber::fmt()
        .with_env_filter("pingxuan_app::vote_review=info")
        .with_writer(std::io::stderr)
        .init();
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
        secs("PINGXUAN_BENCH_SCAN_SECS", 30),
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
