//! 1,000 推荐表 PDFs, each a different candidate with full-length texts and a real JPEG
//! photo, rendered by as many threads as the machine has cores (issue 5: under 60 s on the
//! 2-core machine). This is the work an export job does for a whole campaign's bundle.
//!
//! `cargo bench -p pingxuan-pdf --bench render`; `PINGXUAN_BENCH_FORMS=100` for fewer.
//! Exits non-zero when 1,000 forms would take 60 s or more.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pingxuan_pdf::PdfEngine;
use pingxuan_pdf::form::{FormPrint, render};
use pingxuan_rules::campaign::{Campaign, FieldKey, SEEDS, load};
use pingxuan_rules::form::{FieldValue, FormValues};

fn dongguan() -> Campaign {
    let (_, text) = SEEDS.iter().find(|(f, _)| f.contains("dongguan")).unwrap();
    load(text).campaign.unwrap()
}

/// A 2-inch photo as a JPEG made by ffmpeg (the size the server passes to the PDF); none
/// when ffmpeg is missing.
fn photo() -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("pingxuan-pdf-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("photo.jpg");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=420x600")
        .args(["-frames:v", "1", "-q:v", "3"])
        .arg(&path)
        .status()
        .is_ok_and(|s| s.success());
    let bytes = if ok { std::fs::read(&path).ok() } else { None };
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

/// Candidate `i`: the limits' worth of text (主要事迹 1,500 字, three 感人故事), a ten-row
/// resume.
fn form(i: usize) -> FormValues {
    let deeds = format!("第{i}号候选人长期扎根科研一线，").repeat(100);
    let mut f: FormValues = [
        (FieldKey::Name, format!("候选人{i:04}")),
        (
            FieldKey::Sex,
            if i.is_multiple_of(2) { "男" } else { "女" }.to_owned(),
        ),
        (FieldKey::Ethnicity, "汉族".to_owned()),
        (
            FieldKey::BirthMonth,
            format!("19{}年{}月", 60 + i % 30, 1 + i % 12),
        ),
        (FieldKey::PoliticalStatus, "中共党员".to_owned()),
        (FieldKey::EmployerAndPost, format!("东莞市第{i}研究所所长")),
        (FieldKey::Title, "研究员".to_owned()),
        (FieldKey::Field, "面向世界科技前沿".to_owned()),
        (FieldKey::Specialty, "材料科学与工程".to_owned()),
        (FieldKey::Deeds, deeds.chars().take(1500).collect()),
        (
            FieldKey::Summary,
            "长期从事新材料研究，成果转化显著。".repeat(8),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, FieldValue::Text(v)))
    .collect();
    f.insert(
        FieldKey::Resume,
        FieldValue::Rows(
            (0..10)
                .map(|y| {
                    (
                        format!("{}.09-{}.07", 1990 + 3 * y, 1993 + 3 * y),
                        format!("第{y}单位 研究人员"),
                    )
                })
                .collect(),
        ),
    );
    f.insert(
        FieldKey::Stories,
        FieldValue::List((1..=3).map(|s| format!("故事{s}：").repeat(60)).collect()),
    );
    f
}

fn main() -> std::process::ExitCode {
    let forms: usize = std::env::var("PINGXUAN_BENCH_FORMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let engine =
        PdfEngine::with_system_fonts().expect("CJK fonts (apt-get install fonts-noto-cjk)");
    let scan = started.elapsed();
    let campaign = dongguan();
    let photo = photo();
    println!(
        "{forms} 推荐表, {threads} threads, photo: {}, font scan {:.2} s",
        photo
            .as_ref()
            .map_or("none (no ffmpeg)".to_owned(), |p| format!(
                "{} KiB JPEG",
                p.len() / 1024
            )),
        scan.as_secs_f64()
    );

    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let slowest = std::sync::Mutex::new(Duration::ZERO);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= forms {
                        break;
                    }
                    let values = form(i);
                    let number = format!("ZMKJ2023{i:04}");
                    let url = format!("https://kx.example.cn/verify/{i}/3/0123456789abcdef0123");
                    let one = Instant::now();
                    let pdf = render(
                        &engine,
                        &FormPrint {
                            campaign: &campaign,
                            form: &values,
                            number: &number,
                            recommender: "东莞市科学技术局",
                            opinions: HashMap::from([
                                ("work_unit".to_owned(), "同意推荐。".to_owned()),
                                ("recommender".to_owned(), "经审核，同意推荐。".to_owned()),
                            ]),
                            photo: photo.clone().map(|p| (p, "jpg")),
                            verify_url: &url,
                            exported_at: "2026-11-26 13:20",
                            filled_on: "2026年11月26日",
                        },
                    )
                    .expect("render");
                    let took = one.elapsed();
                    assert!(pdf.starts_with(b"%PDF"));
                    bytes.fetch_add(pdf.len(), Ordering::Relaxed);
                    let mut worst = slowest.lock().unwrap();
                    *worst = (*worst).max(took);
                }
            });
        }
    });
    let took = started.elapsed().as_secs_f64();
    let per_1000 = took * 1000.0 / forms as f64;
    println!(
        "rendered {forms} in {took:.1} s: {:.1} ms each on average, slowest {:.0} ms, {:.0} KiB per PDF; 1,000 would take {per_1000:.1} s",
        took * 1000.0 / forms as f64,
        slowest.lock().unwrap().as_secs_f64() * 1000.0,
        bytes.load(Ordering::Relaxed) as f64 / 1024.0 / forms as f64,
    );
    if per_1000 >= 60.0 {
        eprintln!("over the target: 1,000 PDFs must take under 60 s");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
