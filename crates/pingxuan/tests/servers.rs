//! Two `pingxuan serve` processes on one PostgreSQL (never skipped under CI): an export
//! job runs on one server only, is not taken back when a second server starts, and is
//! resumed by the other server once the first is killed mid-job; a queued mail is sent
//! once although both servers' senders look at the outbox.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pingxuan_store::Store;
use pingxuan_store::exports::{ExportJob, JobState};
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::testing::smtp_sink;

const CID: &str = "xinjiang-2023";
/// Candidates in each bundle: enough 推荐表 PDFs that a job is still running while the
/// test starts or kills a server.
const CANDIDATES: usize = 40;
const MAILS: usize = 30;

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

async fn serve(data: &Path, db: &TestDb, smtp: u16) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pingxuan"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("PINGXUAN_DATA_DIR", data)
        .env("PINGXUAN_DATABASE_URL", &db.url)
        .env("PINGXUAN_JOB_LEASE_SECS", "3")
        .env("PINGXUAN_SMTP_URL", format!("smtp://127.0.0.1:{smtp}"))
        .env("PINGXUAN_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start pingxuan serve");
    let server = Server(child);
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

/// The 新疆 campaign with one recommending unit holding `CANDIDATES` applications;
/// returns the unit and its account.
async fn seed(store: &Store) -> (i64, i64) {
    let (unit, rec) = pingxuan_store::testing::xinjiang_recommender(store).await;
    let applicant = store
        .create_user(pingxuan_store::testing::new_user("applicant", "申报人"))
        .await
        .unwrap();
    pingxuan_store::testing::held_by_recommender(store, CID, unit, applicant, CANDIDATES).await;
    (unit, rec)
}

async fn job_when(
    store: &Store,
    public_id: &str,
    what: &str,
    ready: impl Fn(&ExportJob) -> bool,
) -> ExportJob {
    let until = Instant::now() + Duration::from_secs(180);
    loop {
        let job = store.export_job(public_id).await.unwrap().unwrap();
        if ready(&job) {
            return job;
        }
        assert!(job.state != JobState::Failed, "job failed: {}", job.error);
        assert!(Instant::now() < until, "job never {what}: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server process holding a job (owner names start with the process id).
fn pid_of(owner: &str) -> u32 {
    owner.split('-').next().unwrap().parse().unwrap()
}

/// Every candidate's 推荐表 is in the finished ZIP exactly once.
fn assert_one_form_each(job: &ExportJob) {
    let parts: Vec<serde_json::Value> = serde_json::from_str(&job.manifest).unwrap();
    let mut forms: HashMap<String, usize> = HashMap::new();
    for p in &parts {
        let path = p["path"].as_str().unwrap().to_owned();
        if path.ends_with("推荐表.pdf") {
            *forms.entry(path).or_default() += 1;
        }
    }
    assert_eq!(forms.len(), CANDIDATES, "{forms:?}");
    assert!(forms.values().all(|n| *n == 1), "{forms:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_jobs_and_mail() {
    let Some(db) = TestDb::new(Which::Postgres).await else {
        return;
    };
    let store = db.store().await;
    let (unit, rec) = seed(&store).await;
    for n in 0..MAILS {
        store
            .enqueue_mail("ceshi@example.com", &format!("第{n}封"), "正文")
            .await
            .unwrap();
    }
    let (smtp, mut received) = smtp_sink().await;
    let dir = tempfile::tempdir().unwrap();

    // A job running on the first server is not taken back when a second one starts.
    let first = store
        .create_export_job(
            CID,
            "bundle",
            Some(&[unit]),
            rec,
            pingxuan_store::testing::for_key,
        )
        .await
        .unwrap();
    let mut a = Some(serve(dir.path(), &db, smtp).await);
    let running = job_when(&store, &first.public_id, "started", |j| {
        j.state == JobState::Running && j.done >= 1
    })
    .await;
    let owner = running.lease_owner.clone().unwrap();
    let mut b = Some(serve(dir.path(), &db, smtp).await);
    let done = job_when(&store, &first.public_id, "finished", |j| {
        j.state == JobState::Done
    })
    .await;
    assert_eq!(done.claims, 1, "run once: {done:?}");
    assert_eq!(done.lease_owner.as_deref(), Some(owner.as_str()));
    assert_one_form_each(&done);

    // The server running a job is killed mid-job: the other resumes it after its lease.
    let second = store
        .create_export_job(
            CID,
            "bundle",
            Some(&[unit]),
            rec,
            pingxuan_store::testing::for_key,
        )
        .await
        .unwrap();
    let running = job_when(&store, &second.public_id, "started", |j| {
        j.state == JobState::Running && j.done >= 2
    })
    .await;
    let holder = pid_of(running.lease_owner.as_deref().unwrap());
    let a_pid = a.as_ref().unwrap().0.id();
    let killed = if holder == a_pid { a.take() } else { b.take() };
    assert_eq!(killed.as_ref().unwrap().0.id(), holder);
    drop(killed);
    let done = job_when(&store, &second.public_id, "finished after the kill", |j| {
        j.state == JobState::Done
    })
    .await;
    assert_eq!(done.claims, 2, "{done:?}");
    assert_ne!(pid_of(done.lease_owner.as_deref().unwrap()), holder);
    assert_one_form_each(&done);

    // Every queued mail went out once, though both senders watched the outbox.
    let until = Instant::now() + Duration::from_secs(60);
    let mut subjects: HashMap<String, usize> = HashMap::new();
    while subjects.values().sum::<usize>() < MAILS {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(Some(message)) = tokio::time::timeout(left, received.recv()).await else {
            panic!("only {} of {MAILS} mails arrived", subjects.len());
        };
        let subject = message
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned();
        *subjects.entry(subject).or_default() += 1;
    }
    // A second copy would come within a sender's round (every 5 s): wait one out.
    tokio::time::sleep(Duration::from_secs(6)).await;
    while let Ok(message) = received.try_recv() {
        let subject = message
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_owned();
        *subjects.entry(subject).or_default() += 1;
    }
    assert_eq!(subjects.len(), MAILS, "{subjects:?}");
    assert!(subjects.values().all(|n| *n == 1), "{subjects:?}");
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
    drop((a, b));
}
