//! A 5 GiB 推荐材料 ZIP streamed by the real server over loopback (issue 5: resident memory
//! flat, under 100 MiB growth). The server runs in this process on a fresh SQLite database
//! and a local storage folder holding five candidates' 1 GiB videos; a recommending unit
//! downloads its bundle and the client counts the bytes and drops them. The process's
//! resident high-water mark is reset just before the download (`clear_refs`), so the peak
//! between samples is not missed; the client's share is one piece at a time.
//!
//! `cargo bench -p pingxuan-web --bench bundle`; `PINGXUAN_BENCH_GIB=1` for a smaller one.
//! Exits non-zero when the growth reaches 100 MiB.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use pingxuan_store::accounts::NewUser;
use pingxuan_store::attachments::NewAttachment;
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::{AppState, CaptchaPolicy, WebConfig};

const CID: &str = "xinjiang-2023";

fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").expect("proc status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

async fn json(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() -> std::process::ExitCode {
    let gib: u64 = std::env::var("PINGXUAN_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run(gib))
}

async fn run(gib: u64) -> std::process::ExitCode {
    let db = TestDb::new(Which::Sqlite).await.expect("database");
    let store = db.store().await;
    let (unit, rec) = pingxuan_store::testing::xinjiang_recommender(&store).await;
    let campaign = store.campaign_model(CID).await.unwrap().unwrap();
    let (_, token) = store
        .create_api_token(rec, "bench", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let applicant = store
        .create_user(NewUser {
            login: "me@x.cn".into(),
            display_name: "申报人".into(),
            email: Some("me@x.cn".into()),
            mobile: None,
            password: "Kexie-2024-ok".into(),
        })
        .await
        .unwrap();

    let files = tempfile::tempdir().expect("storage folder");
    let blobs = pingxuan_blobs::Blobs::from_url("", files.path()).unwrap();
    let video = campaign
        .materials
        .iter()
        .find(|m| m.key == "videos")
        .unwrap();
    // One 8 MiB piece of noise, written again and again (shared, not copied).
    let piece = Bytes::from(
        (0..(8u32 << 20))
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect::<Vec<_>>(),
    );
    let started = Instant::now();
    let ids =
        pingxuan_store::testing::held_by_recommender(&store, CID, unit, applicant, gib as usize)
            .await;
    for (n, id) in ids.into_iter().enumerate() {
        let key = format!("bench/{n}.mp4");
        let mut w = blobs.writer(&key).await.unwrap();
        for _ in 0..128 {
            w.write(piece.clone()).await.unwrap();
        }
        w.close().await.unwrap();
        let name = format!("采访{n}.mp4");
        store
            .add_attachment(
                &NewAttachment {
                    application_id: id,
                    material_key: "videos",
                    blob_key: &key,
                    original_name: &name,
                    format: "mp4",
                    content_type: "video/mp4",
                    size: 1 << 30,
                    sha256: "",
                    measured: "{}",
                    uploaded_by: applicant,
                    sender: "",
                },
                video,
                &pingxuan_store::testing::audit(),
            )
            .await
            .unwrap();
    }
    eprintln!(
        "{gib} × 1 GiB stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let mut config = WebConfig::new(&url);
    config.captcha = CaptchaPolicy::Off;
    config.blobs = Some(blobs);
    let state = AppState::new(store.clone(), config);
    pingxuan_workers::start_exports(&state.filing);
    tokio::spawn(pingxuan_web::serve(listener, state, std::future::pending()));

    // The job first (the 汇总表 and a 推荐表 PDF per candidate); the download is measured.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let job = json(
        client
            .post(format!("{url}/api/v1/campaigns/{CID}/exports"))
            .bearer_auth(&token),
    )
    .await;
    let id = job["id"].as_str().expect("a job").to_owned();
    loop {
        let job = json(
            client
                .get(format!("{url}/api/v1/exports/{id}"))
                .bearer_auth(&token),
        )
        .await;
        match job["state"].as_str() {
            Some("done") => break,
            Some("failed") => panic!("export failed: {job}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    eprintln!(
        "packing job done in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let before = status_kib("VmRSS");
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    let started = Instant::now();
    let r = client
        .get(format!("{url}/api/v1/exports/{id}/download"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let mut total: u64 = 0;
    while let Some(piece) = body.next().await {
        total += piece.expect("body piece").len() as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM");
    let growth = peak.saturating_sub(before);
    println!(
        "bundle of {gib} candidates' 1 GiB videos: {:.2} GiB streamed in {secs:.1} s ({:.0} MB/s)",
        total as f64 / (1u64 << 30) as f64,
        total as f64 / 1e6 / secs
    );
    println!(
        "resident memory (server and client in one process): {:.1} MiB before, peak {:.1} MiB: growth {:.1} MiB",
        mib(before),
        mib(peak),
        mib(growth)
    );
    if growth >= 100 << 10 {
        println!("TARGET MISSED: growth {:.1} MiB ≥ 100 MiB", mib(growth));
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
