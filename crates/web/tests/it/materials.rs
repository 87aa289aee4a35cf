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

use crate::common::{TestApp, start, start_with_storage};

on_both_databases!(
    upload_check_and_serve,
    a_level_submits_only_with_its_materials
);

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

/// A 3000×2000 photo of noise at the best quality: a real JPEG over 2 MB.
fn photo(dir: &Path) -> Option<PathBuf> {
    ffmpeg(
        dir,
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
    )
}

const CID: &str = "xinjiang-2023";

/// The 新疆 campaign with one recommending unit (account `cj-rec`) and an applicant's
/// new application to it: the API tokens and the application's id.
struct Desk {
    rec: String,
    me: String,
    id: i64,
}

impl Desk {
    async fn new(app: &TestApp) -> Desk {
        app.seed("xinjiang-2023.toml").await;
        let unit = app
            .store
            .create_unit(CID, "昌吉州科协", Role::Recommender, Some("prefecture"))
            .await
            .unwrap();
        let rec = app
            .unit_account("cj-rec", Role::Recommender, CID, unit)
            .await;
        let rec = app.token(rec).await;
        let me = app.applicant_token("me@x.cn").await;
        let (s, j) = app
            .call(
                Method::POST,
                "/api/v1/applications",
                &me,
                json!({"campaign": CID, "recommender": unit}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        Desk {
            rec,
            me,
            id: j["id"].as_i64().unwrap(),
        }
    }
}

/// An upload of `bytes` begun and left after its first part (a dropped connection never
/// resumed): its id.
async fn left_after_one_part(
    app: &TestApp,
    token: &str,
    id: i64,
    material: &str,
    bytes: &[u8],
) -> String {
    let (s, up) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            token,
            json!({"material": material, "name": "半途", "size": bytes.len()}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{up}");
    let uid = up["id"].as_str().unwrap().to_owned();
    let part = up["part_size"].as_u64().unwrap() as usize;
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/uploads/{uid}/parts/0", app.url))
        .bearer_auth(token)
        .body(bytes[..part].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    uid
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
    upload_from(app, token, id, (material, name, bytes), None).await
}

/// The same with who sent the file in, for the materials that ask (市直相关部门意见).
pub(crate) async fn upload_from(
    app: &TestApp,
    token: &str,
    id: i64,
    (material, name, bytes): (&str, &str, &[u8]),
    sender: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let (s, up) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            token,
            json!({"material": material, "name": name, "size": bytes.len(), "sender": sender}),
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
    let Some(photo) = photo(tmp.path()) else {
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
    let Desk { rec, me, id } = Desk::new(&app).await;
    let other = app.applicant_token("other@x.cn").await;
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
    // The photo, and the small copy its preview made (kept for previews and printed forms).
    let (previews, files): (Vec<_>, Vec<_>) = stored
        .iter()
        .partition(|p| p.to_string_lossy().contains("previews/"));
    assert_eq!(files.len(), 1, "{stored:?}");
    assert_eq!(previews.len(), 1, "{stored:?}");
    let name = files[0].file_name().unwrap().to_string_lossy();
    assert!(
        previews[0]
            .to_string_lossy()
            .ends_with(&format!("/{name}.jpg")),
        "{stored:?}"
    );

    // An upload left for a day is swept with its parts.
    let left_id = left_after_one_part(&app, &me, id, "photos", &big).await;
    assert_eq!(
        pingxuan_app::materials::sweep_abandoned(&app.state.store, &app.state.blobs)
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
        pingxuan_app::materials::sweep_abandoned(&app.state.store, &app.state.blobs)
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

/// Each level's 提交 waits for the materials it holds: the applicant's for the applicant,
/// 推荐报告扫描件 and the consultation opinions for the recommender. A refused 提交 says
/// what is missing and keeps the opinion the unit typed.
async fn a_level_submits_only_with_its_materials(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let Desk { rec, me, id } = Desk::new(&app).await;
    crate::common::fill_and_commit(&app, &me, id, "测试人员").await;
    // What each level sees: its materials, what they lack, whether it may change them.
    let materials = |token: String| {
        let app = &app;
        async move {
            let path = format!("/api/v1/applications/{id}/materials");
            app.call(Method::GET, &path, &token, json!(null)).await
        }
    };
    let (s, seen) = materials(me.clone()).await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    let keys: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "photos",
            "videos",
            "integrity_pledge",
            "work_unit_opinion",
            "political_review",
            "deeds_supplement",
            "stories_supplement"
        ]
    );
    assert_eq!(
        seen[0]["count_note"],
        "体现先进事迹的生活或工作照片至少 1 张，现有 0 张"
    );
    assert_eq!(seen[0]["editable"], true);
    assert_eq!(seen[5]["count_note"], "", "optional");
    let (s, _) = materials(rec.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not before it reaches the unit");
    // The recommender's materials do not hold up the applicant.
    app.furnish_level(id, Some(0)).await;
    let (s, j) = crate::codes::submit(&app, &me, id, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{j}");

    let (_, seen) = materials(rec.clone()).await;
    let report = seen
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "recommendation_report")
        .unwrap();
    assert_eq!(report["editable"], true);
    assert_eq!(report["count_note"], "推荐报告扫描件至少 1 份，现有 0 份");
    assert_eq!(seen[0]["key"], "photos");
    assert_eq!(seen[0]["editable"], false, "the applicant's, to see");
    assert_eq!(seen[0]["files"].as_array().unwrap().len(), 1);
    let (s, j) = crate::codes::submit(&app, &rec, id, json!({"comment": "同意推荐"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["code"], "materials_missing");
    assert_eq!(j["error"]["field"], "materials");
    assert_eq!(
        j["error"]["message"],
        "材料不全，未提交：推荐报告扫描件至少 1 份，现有 0 份；\
         征求干部人事管理、纪检监察等部门意见的书面意见至少 1 份，现有 0 份"
    );

    let mut c = app.signed_in("cj-rec").await;
    let page = format!("/review/{id}");
    let csrf = c.csrf(&page).await;
    let opinion = "该同志扎根基层二十年，同意推荐。";
    let r = c
        .post_follow(
            &format!("{page}/submit"),
            &[("csrf", &csrf), ("comment", opinion)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("材料不全，未提交：推荐报告扫描件至少 1 份"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(">{opinion}</textarea>")),
        "the opinion typed is still there: {}",
        r.body
    );
    assert!(
        r.body.contains("推荐报告扫描件至少 1 份，现有 0 份"),
        "beside the material"
    );

    app.furnish_level(id, Some(1)).await;
    let r = c
        .post_follow(
            &format!("{page}/submit"),
            &[("csrf", &csrf), ("comment", opinion)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已提交，当前状态："), "{}", r.body);
}

/// The same server on S3-compatible storage (moto): a video sent in three parts is joined
/// in the bucket and measured there, a photo is previewed from it, both are served in
/// ranges, an abandoned upload's parts are swept from the bucket, and when the storage
/// stops answering, an upload is refused with the words for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn materials_on_s3() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = match pingxuan_blobs::testing::Moto::start_or_skip(tmp.path()) {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(why) => panic!("{why}"),
    };
    // Noise does not compress: ten lossless 1080p frames make a file of several parts.
    let Some(video) = ffmpeg(
        tmp.path(),
        "noise.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "nullsrc=s=1920x1080:r=5,geq=random(1)*255:128:128",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-pix_fmt",
            "yuv420p",
        ],
    ) else {
        return;
    };
    let Some(photo) = photo(tmp.path()) else {
        return;
    };
    let (video, photo) = (std::fs::read(video).unwrap(), std::fs::read(photo).unwrap());
    assert!(
        video.len() > 16 << 20,
        "three parts at least: {}",
        video.len()
    );

    let db = TestDb::new(pingxuan_store::testing::Which::Sqlite)
        .await
        .unwrap();
    let app = start_with_storage(db, CaptchaPolicy::Off, &moto.bucket("px-web-materials")).await;
    let health = reqwest::get(format!("{}/healthz", app.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "storage answers");
    let Desk { me, id, .. } = Desk::new(&app).await;

    let (s, v) = upload(&app, &me, id, "videos", "采访.mp4", &video).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["measured"]["width"], 1920, "{v}");
    let (s, p) = upload(&app, &me, id, "photos", "IMG_0001.JPG", &photo).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");

    let http = reqwest::Client::new();
    let url = |a: &serde_json::Value| format!("{}{}", app.url, a["url"].as_str().unwrap());
    let len = video.len();
    let tail = http
        .get(url(&v))
        .bearer_auth(&me)
        .header("Range", format!("bytes={}-", len - 1000))
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &video[len - 1000..]);
    let whole = http.get(url(&v)).bearer_auth(&me).send().await.unwrap();
    assert_eq!(whole.bytes().await.unwrap().as_ref(), video.as_slice());
    let preview = http
        .get(format!("{}/preview", url(&p)))
        .bearer_auth(&me)
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), StatusCode::OK);
    assert!(preview.bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));

    // An upload left for a day: its part is swept from the bucket.
    let left_id = left_after_one_part(&app, &me, id, "videos", &video).await;
    let listing = || {
        let (status, body) =
            pingxuan_blobs::testing::http(moto.port, "GET", "/px-web-materials?list-type=2");
        assert_eq!(status, 200);
        String::from_utf8(body).unwrap()
    };
    assert!(listing().contains(&left_id), "its part is in the bucket");
    sqlx::query("UPDATE uploads SET updated_at = updated_at - 90000")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        pingxuan_app::materials::sweep_abandoned(&app.state.store, &app.state.blobs)
            .await
            .unwrap(),
        1
    );
    assert!(!listing().contains(&left_id), "its part is gone");

    // The storage stops answering: the upload is refused in words, nothing is attached.
    drop(moto);
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/uploads"),
            &me,
            json!({"material": "photos", "name": "第二张.jpg", "size": photo.len()}),
        )
        .await;
    let refused = if s == StatusCode::CREATED {
        let uid = j["id"].as_str().unwrap();
        let r = http
            .put(format!("{}/api/v1/uploads/{uid}/parts/0", app.url))
            .bearer_auth(&me)
            .body(photo.clone())
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<serde_json::Value>().await.unwrap())
    } else {
        (s, j)
    };
    assert_eq!(refused.0, StatusCode::SERVICE_UNAVAILABLE, "{}", refused.1);
    assert_eq!(
        refused.1["error"]["message"],
        "文件存储暂时无法访问，文件未保存，请稍后再试"
    );
    let health = reqwest::get(format!("{}/healthz", app.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.store.attachments_of(id).await.unwrap().len(), 2);
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
