//! Exports for paper filing over HTTP, each file opened with an independent reader.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestApp, start, start_with_storage};

on_both_databases!(
    summary_table_for_units_and_office,
    inspection_material_for_the_recommender,
    bundle_packs_a_folder_per_candidate,
    form_pdf_and_its_verification
);

const CID: &str = "xinjiang-2023";

/// The 新疆 campaign with two recommending units, 昌吉州科协 (`cj-rec`) and 哈密市科协
/// (`hm-rec`): (昌吉 id, its token, 哈密 id, its token).
async fn two_units(app: &TestApp) -> (i64, String, i64, String) {
    app.seed("xinjiang-2023.toml").await;
    let mut out = Vec::new();
    for (name, login) in [("昌吉州科协", "cj-rec"), ("哈密市科协", "hm-rec")] {
        let unit = app
            .store
            .create_unit(CID, name, Role::Recommender, Some("prefecture"))
            .await
            .unwrap();
        let account = app.unit_account(login, Role::Recommender, CID, unit).await;
        out.push((unit, app.token(account).await));
    }
    let (hami, hm) = out.pop().unwrap();
    let (changji, cj) = out.pop().unwrap();
    (changji, cj, hami, hm)
}

/// The sheet's cells as text, row by row.
async fn summary(
    app: &TestApp,
    token: &str,
    label: &str,
) -> Result<(String, Vec<Vec<String>>), StatusCode> {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/campaigns/{CID}/summary.xlsx", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::OK {
        return Err(r.status());
    }
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = r.bytes().await.unwrap().to_vec();
    // Kept to look at (LibreOffice, WPS): test-output/exports/.
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/exports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("summary-{label}.xlsx")), &bytes).unwrap();
    let cells = pingxuan_export::testing::xlsx_cells(bytes, "候选人汇总表");
    Ok((disposition, cells))
}

/// A unit downloads its own candidates (not drafts, not another unit's); the office
/// downloads every candidate that reached it, with the 推荐单位 of each; nobody else
/// gets a table.
async fn summary_table_for_units_and_office(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (changji, cj, hami, hm) = two_units(&app).await;
    let office = app
        .account("xj-office", Role::Organizer, Some(CID), None)
        .await;
    let office = app.token(office).await;

    let candidate = crate::common::xinjiang_candidate;
    let (_, zhang) = candidate(&app, "zhang@x.cn", "张三", changji, true).await;
    candidate(&app, "draft@x.cn", "草稿人", changji, false).await;
    candidate(&app, "li@x.cn", "李四", hami, true).await;

    let (disposition, cells) = summary(&app, &cj, "changji").await.unwrap();
    assert!(
        disposition.starts_with("attachment; filename*=UTF-8''2023%E5%B9%B4"),
        "{disposition}"
    );
    assert_eq!(cells[0][0], "2023年“新疆最美科技工作者”候选人汇总表");
    assert_eq!(cells[1][0], "推荐单位（盖章）：昌吉州科协");
    assert_eq!(cells[2][0], "序号");
    assert_eq!(cells[2][8], "主要成就及事迹简介\n（150字以内）");
    assert_eq!(cells.len(), 4, "one candidate: {cells:?}");
    assert_eq!(cells[3][..3], ["1", "张三", "女"]);
    assert!(!cells[3][8].is_empty(), "the brief from 主要事迹");
    let (_, cells) = summary(&app, &hm, "hami").await.unwrap();
    assert_eq!(cells.len(), 4);
    assert_eq!(cells[3][1], "李四");

    // Nothing has reached the office yet.
    let (_, cells) = summary(&app, &office, "office-empty").await.unwrap();
    assert_eq!(cells[1][0], "推荐单位：全部（0 个推荐单位，0 名候选人）");
    assert_eq!(cells.len(), 3);
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{zhang}/submit"),
            &cj,
            json!({"comment": "同意推荐"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (_, cells) = summary(&app, &office, "office").await.unwrap();
    assert_eq!(cells[1][0], "推荐单位：全部（1 个推荐单位，1 名候选人）");
    assert_eq!(cells[2][9], "推荐单位");
    assert_eq!(cells[3][1], "张三");
    assert_eq!(cells[3][9], "昌吉州科协");
    // Sent on, it is still the unit's candidate.
    let (_, cells) = summary(&app, &cj, "changji-after").await.unwrap();
    assert_eq!(cells[3][1], "张三");

    let outsider = app.applicant_token("nobody@x.cn").await;
    assert_eq!(
        summary(&app, &outsider, "nobody").await.unwrap_err(),
        StatusCode::NOT_FOUND
    );
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/campaigns/nope/summary.xlsx", app.url))
        .bearer_auth(&office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The unit's desk offers it.
    let mut page = app.signed_in("cj-rec").await;
    let desk = page.get("/applications/review").await;
    assert!(
        desk.body
            .contains("href=\"/api/v1/campaigns/xinjiang-2023/summary.xlsx\""),
        "{}",
        desk.body
    );
}

/// The 考察材料 as Word for the recommending unit (and the office), prefilled with the
/// candidate; not for the applicant, and not seen by another unit.
async fn inspection_material_for_the_recommender(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (changji, cj, _, hm) = two_units(&app).await;
    let (me, id) =
        crate::common::xinjiang_candidate(&app, "zhang@x.cn", "张三", changji, true).await;
    let path = format!("/api/v1/applications/{id}/inspection.docx");
    let r = app.fetch(&cj, &path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename*=UTF-8''%E5%BC%A0%E4%B8%89%E5%90%8C%E5%BF%97%E8%80%83%E5%AF%9F%E6%9D%90%E6%96%99.docx",
        "张三同志考察材料.docx"
    );
    let bytes = r.bytes().await.unwrap().to_vec();
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/exports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inspection.docx"), &bytes).unwrap();
    let text = pingxuan_export::testing::docx_text(&bytes);
    assert!(text.contains("张三同志考察材料"), "{text}");
    assert!(text.contains("张三同志在思想政治方面，……"), "{text}");
    assert!(
        text.contains("具备作为2023年“新疆最美科技工作者”候选人的条件。"),
        "{text}"
    );
    assert!(text.contains("推荐单位（盖章）：昌吉州科协"), "{text}");

    assert_eq!(app.fetch(&me, &path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.fetch(&hm, &path).await.status(), StatusCode::NOT_FOUND);
    let mut page = app.signed_in("cj-rec").await;
    let desk = page.get(&format!("/review/{id}")).await;
    assert!(desk.body.contains(&format!(
        "href=\"/api/v1/applications/{id}/inspection.docx\""
    )));
}

/// The unit's bundle, packed in the background: the 汇总表 at the top and a folder per
/// candidate with its 推荐表 PDF and its files named as the notices ask, every byte as
/// stored; read with Python's zipfile (CRCs checked), the PDF with pdftotext.
async fn bundle_packs_a_folder_per_candidate(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (changji, cj, hami, hm) = two_units(&app).await;
    let candidate = crate::common::xinjiang_candidate;
    let (_, zhang) = candidate(&app, "zhang@x.cn", "张三", changji, true).await;
    candidate(&app, "li@x.cn", "李四", hami, true).await;
    let (job, r) = app.export_bundle(&cj, CID).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        (job["done"].as_i64(), job["total"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(
        job["status"]
            .as_str()
            .unwrap()
            .starts_with("已完成：1 名候选人"),
        "{job}"
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.ends_with(".zip")
            && disposition.contains("%E6%8E%A8%E8%8D%90%E6%9D%90%E6%96%99"),
        "推荐材料…zip: {disposition}"
    );
    let bytes = r.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, &bytes).unwrap();
    let listed = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             assert z.testzip() is None\n\
             z.extractall(sys.argv[2])\n\
             print(json.dumps({i.filename: z.read(i).decode('utf-8', 'replace') for i in z.infolist()}))",
        ])
        .arg(&path)
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let files: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert!(
        names.contains(&"2023年“新疆最美科技工作者”候选人汇总表（昌吉州科协）.xlsx"),
        "{names:?}"
    );
    let number = app
        .store
        .get_application(zhang)
        .await
        .unwrap()
        .unwrap()
        .number;
    let folder = format!("01-张三-{number}");
    for file in [
        "张三推荐表.pdf",
        "张三1.jpg",
        "体现推荐人选工作生活的视频.mp4",
        "个人诚信承诺.pdf",
        "推荐报告扫描件.pdf",
    ] {
        assert!(
            names.contains(&format!("{folder}/{file}").as_str()),
            "{file} in {names:?}"
        );
    }
    assert_eq!(
        files[&format!("{folder}/推荐报告扫描件.pdf")],
        "推荐报告扫描件 1",
        "the stored bytes"
    );
    let form = pdf_text(&dir.path().join("out").join(&folder).join("张三推荐表.pdf"));
    for expected in ["张三", "昌吉州科协", &format!("申请书编号：{number}")] {
        assert!(form.contains(expected), "{expected} in {form}");
    }
    assert!(
        !names.iter().any(|n| n.contains("李四")),
        "another unit's candidate: {names:?}"
    );

    // 哈密's bundle has 李四 only; 哈密 cannot see 昌吉's job; an applicant packs nothing.
    let (_, r) = app.export_bundle(&hm, CID).await;
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(names.iter().any(|n| n.starts_with("01-李四-")), "{names:?}");
    assert!(zip.by_index(0).is_ok());
    let theirs = job["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/exports/{theirs}"),
        format!("/api/v1/exports/{theirs}/download"),
    ] {
        assert_eq!(app.fetch(&hm, &path).await.status(), StatusCode::NOT_FOUND);
    }
    let nobody = app.applicant_token("nobody@x.cn").await;
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/exports"),
            &nobody,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A second click while a job waits follows that job instead of queuing another.
    let cj_user = app.store.find_user("cj-rec").await.unwrap().unwrap();
    let waiting = app
        .store
        .create_export_job(
            CID,
            "bundle",
            Some(&[changji]),
            cj_user.id,
            pingxuan_store::testing::for_key,
        )
        .await
        .unwrap();
    let (s, again) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/exports"),
            &cj,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["id"], waiting.public_id.as_str(), "{again}");

    // The trail names who packed and who downloaded.
    let trail = app.store.recent_audit(50).await.unwrap();
    for action in ["export_started", "export_downloaded"] {
        assert!(
            trail.iter().any(|e| e.action == action),
            "{action} in the audit trail"
        );
    }

    // The page shows the job with its download; the review list lists it.
    let mut page = app.signed_in("cj-rec").await;
    let shown = page.get(&format!("/exports/{theirs}")).await;
    assert!(shown.body.contains("下载压缩包（ZIP）"), "{}", shown.body);
    assert!(
        shown
            .body
            .contains(&format!("/api/v1/exports/{theirs}/download"))
    );
    let desk = page.get("/applications/review").await;
    assert!(
        desk.body.contains(&format!("/exports/{theirs}")),
        "{}",
        desk.body
    );
    assert!(desk.body.contains("打包下载推荐材料（ZIP）"));
}

/// On S3-compatible storage (moto) the job keeps its PDFs in the bucket and the ZIP is read
/// from there; when the storage stops answering, the job fails with words for the person,
/// the download says so (409), and the page offers 重新导出.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_on_s3_and_when_storage_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let moto = match pingxuan_blobs::testing::Moto::start_or_skip(tmp.path()) {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(why) => panic!("{why}"),
    };
    let db = TestDb::new(pingxuan_store::testing::Which::Sqlite)
        .await
        .unwrap();
    let app = start_with_storage(db, CaptchaPolicy::Off, &moto.bucket("px-web-exports")).await;
    let (changji, cj, _, _) = two_units(&app).await;
    crate::common::xinjiang_candidate(&app, "zhang@x.cn", "张三", changji, true).await;
    let (job, r) = app.export_bundle(&cj, CID).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut pdf = Vec::new();
    std::io::Read::read_to_end(
        &mut zip
            .by_name(&format!(
                "01-张三-{}/张三推荐表.pdf",
                app.store.get_application(1).await.unwrap().unwrap().number
            ))
            .unwrap(),
        &mut pdf,
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    drop(moto);
    let (job, r) = app.export_bundle(&cj, CID).await;
    assert_eq!(job["state"], "failed", "{job}");
    let status = job["status"].as_str().unwrap();
    assert!(status.starts_with("导出失败：文件存储"), "{status}");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "export_failed", "{body}");
    let mut page = app.signed_in("cj-rec").await;
    let shown = page
        .get(&format!("/exports/{}", job["id"].as_str().unwrap()))
        .await;
    assert!(shown.body.contains("重新导出"), "{}", shown.body);
    assert!(shown.body.contains("导出失败"), "{}", shown.body);
}

/// A PDF's text as pdftotext reads it in raw order, without whitespace.
pub(crate) fn pdf_text(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect()
}

/// The 推荐表 as PDF for those who see the application, read back with pdftotext; the
/// QR link's page says whether a printed copy is the current version, to anyone.
async fn form_pdf_and_its_verification(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (changji, cj, _, hm) = two_units(&app).await;
    let (me, id) =
        crate::common::xinjiang_candidate(&app, "zhang@x.cn", "张三", changji, true).await;
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            &cj,
            json!({"comment": "同意推荐，事迹突出。"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let path = format!("/api/v1/applications/{id}/form.pdf");
    let r = app.fetch(&me, &path).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/pdf");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("form-xinjiang.pdf");
    std::fs::write(&file, &bytes).unwrap();
    // In reading order; the watermark is drawn, not text.
    let flat = pdf_text(&file);
    let number = app.store.get_application(id).await.unwrap().unwrap().number;
    for expected in [
        "2023年“新疆最美科技工作者”申请书".to_owned(),
        "张三".to_owned(),
        "昌吉州科协".to_owned(),
        "同意推荐，事迹突出。".to_owned(),
        format!("申请书编号：{number}"),
    ] {
        assert!(flat.contains(&expected), "{expected} in {flat}");
    }
    assert!(
        !flat.contains("导出于"),
        "the watermark is not text: {flat}"
    );
    assert_eq!(app.fetch(&hm, &path).await.status(), StatusCode::NOT_FOUND);

    // The same form in Word, for the same people.
    let word = format!("/api/v1/applications/{id}/form.docx");
    let r = app.fetch(&cj, &word).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename*=UTF-8''%E5%BC%A0%E4%B8%89%E6%8E%A8%E8%8D%90%E8%A1%A8.docx",
        "张三推荐表.docx"
    );
    let bytes = r.bytes().await.unwrap();
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/exports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("form-xinjiang.docx"), &bytes).unwrap();
    let text = pingxuan_export::testing::docx_text(&bytes);
    for expected in [
        "2023年“新疆最美科技工作者”申请书",
        "张三",
        "昌吉州科协",
        "同意推荐，事迹突出。",
        "（盖　章）　　　　",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert_eq!(app.fetch(&hm, &word).await.status(), StatusCode::NOT_FOUND);
    // Each download is in the trail, by file; refused ones are not.
    let trail = app.store.recent_audit(50).await.unwrap();
    let downloads: Vec<&str> = trail
        .iter()
        .filter(|e| e.action == "export_downloaded" && e.target == format!("application:{id}"))
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        downloads.iter().filter(|d| **d == "张三推荐表.pdf").count(),
        1,
        "{downloads:?}"
    );
    assert_eq!(
        downloads
            .iter()
            .filter(|d| **d == "张三推荐表.docx")
            .count(),
        1,
        "{downloads:?}"
    );

    let version = app
        .store
        .get_application(id)
        .await
        .unwrap()
        .unwrap()
        .form_version;
    let verify = |v: i64, code: String| {
        let url = format!("{}/verify/{id}/{v}/{code}", app.url);
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (s, page) = verify(
        version,
        pingxuan_app::exports::verify_code(&app.state.store, id, version),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("一致：这份纸质推荐表与系统中的记录一致"),
        "{page}"
    );
    assert!(
        page.contains("张*") && !page.contains("张三"),
        "the name is masked"
    );
    let older = version - 1;
    let (_, page) = verify(
        older,
        pingxuan_app::exports::verify_code(&app.state.store, id, older),
    )
    .await;
    assert!(page.contains("不一致：打印后申请书已修改"), "{page}");
    let (s, page) = verify(version, "0123456789abcdef0123".to_owned()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("二维码无效"), "{page}");
}
