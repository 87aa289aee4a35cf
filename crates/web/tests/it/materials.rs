//! Materials over HTTP: resumable uploads in parts, checks by content with the measured
//! value in the refusal, files served with Range and 姓名+序号 names, and only to those
//! who may see the application. Real files made by ffmpeg at test time.

use std::path::{Path, PathBuf};
use std::process::Command;

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestApp, start};

on_both_databases!(upload_check_and_serve);

/// Makes a file with ffmpeg; `None` (with a notice) when ffmpeg is missing outside CI.
fn ffmpeg(dir: &Path, name: &str, args: &[&str]) -> Option<PathBuf> {
    let out = dir.join(name);
    let ok = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error"])
        .args(args)
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "ffmpeg failed or is missing (apt-get install ffmpeg)"
        );
        eprintln!("skipping: ffmpeg unavailable");
        return None;
    }
    Some(out)
}

/// Sends `bytes` as one upload through the API: (status, body) of the completion.
async fn upload(
    app: &TestApp,
    token: &str,
    id: i64,
    material: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, serde_json::Value) {
    let (s, up) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            token,
            json!({"material": material, "name": name, "size": bytes.len()}),
        )
        .await;
    if s != StatusCode::CREATED {
        return (s, up);
    }
    let uid = up["id"].as_str().unwrap().to_owned();
    let part = up["part_size"].as_u64().unwrap() as usize;
    let http = reqwest::Client::new();
    for (n, chunk) in bytes.chunks(part).enumerate() {
        let r = http
            .put(format!("{}/api/v1/uploads/{uid}/parts/{n}", app.url))
            .bearer_auth(token)
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    app.call(
        Method::POST,
        &format!("/api/v1/uploads/{uid}/complete"),
        token,
        json!({}),
    )
    .await
}

async fn upload_check_and_serve(db: TestDb) {
    let tmp = tempfile::tempdir().unwrap();
    let Some(photo) = ffmpeg(
        tmp.path(),
        "photo.jpg",
        &[
            "-f",
            "lavfi",
            "-i",
            "nullsrc=s=3000x2000,geq=random(1)*255:128:128",
            "-frames:v",
            "1",
            "-q:v",
            "1",
        ],
    ) else {
        return;
    };
    let Some(small_video) = ffmpeg(
        tmp.path(),
        "small.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=10",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    ) else {
        return;
    };
    let Some(png) = ffmpeg(
        tmp.path(),
        "shot.png",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240",
            "-frames:v",
            "1",
        ],
    ) else {
        return;
    };
    let photo = std::fs::read(photo).unwrap();
    assert!(photo.len() > 2 << 20, "a photo over 2 MB: {}", photo.len());

    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let cid = "xinjiang-2023";
    let unit = app
        .store
        .create_unit(cid, "昌吉州科协", Role::Recommender, Some("prefecture"))
        .await
        .unwrap();
    let rec = app
        .unit_account("cj-rec", Role::Recommender, cid, unit)
        .await;
    let rec = app.token(rec).await;
    let me = app.account("me@x.cn", Role::Applicant, None, None).await;
    let me = app.token(me).await;
    let other = app.account("other@x.cn", Role::Applicant, None, None).await;
    let other = app.token(other).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"campaign": cid, "recommender": unit}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let id = j["id"].as_i64().unwrap();
    let values = crate::codes::values_for("xinjiang-2023.toml", "测试人员");
    app.call(
        Method::PUT,
        &format!("/api/v1/applications/{id}/form"),
        &me,
        json!({"version": 1, "values": values}),
    )
    .await;

    // Checked by content: a PNG named .jpg, a 720p video.
    let (s, j) = upload(
        &app,
        &me,
        id,
        "photos",
        "风采.jpg",
        &std::fs::read(png).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "photos");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("只接受 JPG 格式，此文件为PNG 图片"),
        "{j}"
    );
    let (s, j) = upload(
        &app,
        &me,
        id,
        "videos",
        "采访.mp4",
        &std::fs::read(small_video).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("视频分辨率 1280×720，须为 1920×1080 或 1080×1920"),
        "{j}"
    );
    // Another applicant cannot upload here.
    let (s, _) = upload(&app, &other, id, "photos", "x.jpg", &photo).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A real photo passes and is served whole, in ranges, and as 姓名+序号.
    let (s, a) = upload(&app, &me, id, "photos", "IMG_0001.JPG", &photo).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["format"], "jpg");
    assert_eq!(a["measured"]["width"], 3000);
    assert!(
        a["summary"].as_str().unwrap().starts_with("JPG 3000×2000"),
        "{a}"
    );
    let url = format!("{}{}", app.url, a["url"].as_str().unwrap());
    let http = reqwest::Client::new();
    let whole = http.get(&url).bearer_auth(&me).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), photo.as_slice());
    let part = http
        .get(&url)
        .bearer_auth(&me)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", photo.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &photo[100..200]);
    let download = http
        .get(format!("{url}?download=1"))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename*=UTF-8''%E6%B5%8B%E8%AF%95%E4%BA%BA%E5%91%981.jpg",
        "测试人员1.jpg"
    );
    // The preview is a small upright JPEG.
    let preview = http
        .get(format!("{url}/preview"))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    let small = preview.bytes().await.unwrap();
    assert!(small.starts_with(&[0xFF, 0xD8]) && small.len() < photo.len() / 4);
    // Not for another applicant, nor for the unit before it was submitted to it.
    for token in [&other, &rec] {
        let r = http.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    // Resumable: a part sent twice is refused with where to go on from; an upload left
    // unfinished never shows as an attachment.
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 251) as u8).collect();
    let (s, up) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            &me,
            json!({"material": "photos", "name": "大图.jpg", "size": big.len()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    assert_eq!(up["parts_total"], 2);
    let uid = up["id"].as_str().unwrap();
    let first = 8 << 20;
    let put = |n: u32, body: Vec<u8>| {
        http.put(format!("{}/api/v1/uploads/{uid}/parts/{n}", app.url))
            .bearer_auth(&me)
            .body(body)
            .send()
    };
    assert_eq!(
        put(0, big[..first].to_vec()).await.unwrap().status(),
        StatusCode::OK
    );
    let again = put(0, big[..first].to_vec()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["parts_received"],
        1
    );
    // A short part (a dropped connection) is not counted.
    let short = put(1, big[first..first + 10].to_vec()).await.unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, now) = app
        .call(
            Method::GET,
            &format!("/api/v1/uploads/{uid}"),
            &me,
            json!({}),
        )
        .await;
    assert_eq!(now["parts_received"], 1);
    let (_, files) = app
        .call(
            Method::GET,
            &format!("/api/v1/applications/{id}/attachments"),
            &me,
            json!({}),
        )
        .await;
    assert_eq!(
        files.as_array().unwrap().len(),
        1,
        "only the finished photo: {files}"
    );
    assert_eq!(
        put(1, big[first..].to_vec()).await.unwrap().status(),
        StatusCode::OK
    );
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/uploads/{uid}/complete"),
            &me,
            json!({}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a JPEG by content: {j}"
    );
    // Refused files leave nothing behind in storage but the attached photo.
    let mut stored = Vec::new();
    for entry in walk(app.files.path()) {
        let inside = entry.strip_prefix(app.files.path()).unwrap().to_owned();
        // Hidden folders are the storage's own (partial writes, health probes).
        if !inside
            .to_string_lossy()
            .split('/')
            .any(|s| s.starts_with('.'))
        {
            stored.push(inside);
        }
    }
    assert_eq!(stored.len(), 1, "{stored:?}");

    // An upload left for a day is swept with its parts.
    let (_, left) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            &me,
            json!({"material": "photos", "name": "半途.jpg", "size": big.len()}),
        )
        .await;
    let left_id = left["id"].as_str().unwrap().to_owned();
    let r = http
        .put(format!("{}/api/v1/uploads/{left_id}/parts/0", app.url))
        .bearer_auth(&me)
        .body(big[..first].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        pingxuan_web::uploads::sweep_abandoned(&app.state)
            .await
            .unwrap(),
        0,
        "fresh uploads stay"
    );
    sqlx::query("UPDATE uploads SET updated_at = updated_at - 90000")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        pingxuan_web::uploads::sweep_abandoned(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.store.get_upload(&left_id).await.unwrap(), None);
    assert!(
        !walk(app.files.path())
            .iter()
            .any(|p| p.to_string_lossy().contains(&left_id)),
        "its parts are gone"
    );

    // The applicant removes it while the application is theirs.
    let (s, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/attachments/{}", a["id"].as_str().unwrap()),
            &me,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let r = http.get(&url).bearer_auth(&me).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
