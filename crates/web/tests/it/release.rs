//! Release of the final list: refused with every reason while the list is unconfirmed,
//! a name on it has not been through 公示, a 公示 runs or an objection is open; once
//! released, the gallery anyone opens (the portrait, the video by ranges), certificates
//! whose QR link checks on a public page, the workbook of every stage, notices to the
//! winners, and the stages frozen.

use std::process::Command;

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, start};

on_both_databases!(the_list_is_released_once_nothing_stands_in_the_way);

const CID: &str = "xinjiang-2023";

async fn release(app: &TestApp, token: &str) -> Value {
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/release"),
            token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

/// A real JPEG of `w`×`h` made with ffmpeg, `None` outside CI without ffmpeg.
pub(crate) fn jpeg(w: u32, h: u32) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.jpg");
    let ok = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!("color=c=0xb3261e:s={w}x{h}"))
        .args(["-frames:v", "1"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "ffmpeg");
        return None;
    }
    Some(std::fs::read(out).unwrap())
}

/// Takes off the placeholders `TestApp::furnish` attached to `material` of `id`.
pub(crate) async fn strip(app: &TestApp, id: i64, material: &str) {
    for a in app.store.attachments_of(id).await.unwrap() {
        if a.material_key == material && a.blob_key.starts_with("furnished/") {
            app.store
                .remove_attachment(a.id, &pingxuan_store::testing::audit())
                .await
                .unwrap();
        }
    }
}

/// A real two-second H.264 MP4 (moov first, so a browser plays it while it loads).
pub(crate) fn mp4() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v.mp4");
    let ok = Command::new("ffmpeg")
        .args([
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=25",
        ])
        .args([
            "-t",
            "2",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-movflags",
            "+faststart",
        ])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg with libx264");
    std::fs::read(out).unwrap()
}

/// Attaches a file of `material` to `id` straight through the store, in place of the
/// placeholders `TestApp::furnish` put there (bytes that are no photo).
pub(crate) async fn attach(app: &TestApp, id: i64, material: &str, format: &str, bytes: Vec<u8>) {
    strip(app, id, material).await;
    let application = app.store.get_application(id).await.unwrap().unwrap();
    let campaign = app
        .store
        .campaign_model(&application.campaign_id)
        .await
        .unwrap()
        .unwrap();
    let m = campaign
        .materials
        .iter()
        .find(|m| m.key == material)
        .unwrap();
    // One blob per file: a second photo must not overwrite the first.
    let n = app
        .store
        .attachments_of(id)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.material_key == material)
        .count();
    let key = format!("released/{id}/{material}-{n}.{format}");
    let size = bytes.len() as i64;
    app.state.blobs.put(&key, bytes.into()).await.unwrap();
    let applicant = application.applicant_id;
    let new = pingxuan_store::attachments::NewAttachment {
        application_id: id,
        material_key: material,
        blob_key: &key,
        original_name: &format!("{material}.{format}"),
        format,
        content_type: if format == "jpg" {
            "image/jpeg"
        } else {
            "video/mp4"
        },
        size,
        sha256: "",
        measured: "{}",
        uploaded_by: applicant,
        sender: "",
    };
    app.store
        .add_attachment(&new, m, &pingxuan_store::testing::audit())
        .await
        .unwrap();
}

async fn the_list_is_released_once_nothing_stands_in_the_way(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    // 新疆 with a final 公示, as 广西 holds one (“经公示无异议后公布遴选结果”).
    let text =
        crate::final_list::text().replace("final_publicity = false", "final_publicity = true");
    let (ids, token) = crate::final_list::five_ranked_in(&app, &text).await;
    crate::publicity::calendar_for_today(&app).await;
    let release_path = format!("/api/v1/campaigns/{CID}/release");
    let post = || app.call(Method::POST, &release_path, &token, Value::Null);

    // Before the list is confirmed: refused, saying where.
    let (s, e) = post().await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "not_ready");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("最终名单尚未确定：请先在“集中评选”确定晋级名单"),
        "{e}"
    );
    let list = vec![ids[1], ids[2], ids[3]];
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            &token,
            json!({"action": "advance", "candidates": list}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let r = release(&app, &token).await;
    assert_eq!(
        r["blockers"],
        json!(["乙、丙、丁 尚未公示：按通知须经公示无异议后公布结果"]),
        "{r}"
    );
    let serials: Vec<&str> = r["winners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials, ["ZMKJ2023-001", "ZMKJ2023-002", "ZMKJ2023-003"]);
    assert_eq!(r["winners"][0]["name"], "乙");

    // 乙's portrait, a photo of their work and a video; the others have none.
    let Some(portrait) = jpeg(300, 400) else {
        return;
    };
    attach(&app, ids[1], "photos", "jpg", portrait.clone()).await;
    attach(&app, ids[1], "photos", "jpg", jpeg(640, 480).unwrap()).await;
    let video: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    attach(&app, ids[1], "videos", "mp4", video.clone()).await;
    strip(&app, ids[2], "photos").await;
    let r = release(&app, &token).await;
    assert_eq!(
        r["winners"][0]["shows"],
        json!(["portrait", "photo", "video"])
    );
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "丙没有照片，公开展示页将只显示文字"),
        "{r}"
    );

    // The 公示 published: refused while it runs, with its dates.
    let (s, p) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            &token,
            json!({"working_days": 5, "contact": "自治区科协调研宣传部，0991-6386020"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let public_id = p["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/gs/")
        .to_owned();
    let today = pingxuan_app::publicity::today();
    let (s, o) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/objections"),
            &token,
            json!({"public_id": public_id, "application_id": ids[2],
                "channel": "letter", "received_on": today.to_string(), "name": "某单位",
                "phone": "0991-1234567",
                "text": "该同志推荐表中所列的省部级奖励与事实不符，请核查。"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let r = release(&app, &token).await;
    let blockers: Vec<&str> = r["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert_eq!(blockers.len(), 2, "{r}");
    assert!(
        blockers[0].contains("公示期为") && blockers[0].contains("尚未结束"),
        "{r}"
    );
    assert!(
        blockers[1].starts_with("异议 ") && blockers[1].contains("尚未办结"),
        "{r}"
    );
    let (s, e) = post().await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("；异议 "),
        "{e}"
    );

    // The objection found unfounded, the period over (moved back in the store: the test
    // cannot wait five working days): released.
    let oid = {
        let (_, o) = app
            .call(
                Method::GET,
                &format!("/api/v1/campaigns/{CID}/publicity"),
                &token,
                Value::Null,
            )
            .await;
        o["objections"][0]["id"].as_i64().unwrap()
    };
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/objections/{oid}/steps"),
            &token,
            json!({"outcome": "unfounded", "opinion": "经核查，所列奖励属实，异议不成立。"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    crate::publicity::end_every_publicity(&app).await;
    assert_eq!(release(&app, &token).await["blockers"], json!([]));
    let (s, r) = post().await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["released"], true);
    assert_eq!(r["released_on"], today.to_string());
    let gallery = r["gallery"].as_str().unwrap().to_owned();
    // Once only; and the stages stand still.
    let (s, e) = post().await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "released");
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            &token,
            json!({"action": "revert", "reason": "重新评审"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "released", "{e}");

    // The audit entry names every winner with the serial; the winners are told.
    let entries = app.store.recent_audit(1000).await.unwrap();
    let released = entries
        .iter()
        .find(|e| e.action == "results_released")
        .expect("the release's audit entry");
    assert!(
        released
            .detail
            .contains("ZMKJ2023-001 乙、ZMKJ2023-002 丙、ZMKJ2023-003 丁"),
        "{}",
        released.detail
    );
    let yi = app.store.get_application(ids[1]).await.unwrap().unwrap();
    let notices = app.store.notices_of(yi.applicant_id, 50).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.kind == "release" && n.text.contains("证书编号 ZMKJ2023-001")),
        "{notices:?}"
    );

    // The gallery, for anyone: no session, the list in order, 乙's portrait and video.
    let mut public = app.client();
    let page = public.get(&gallery).await;
    assert_eq!(page.status, StatusCode::OK);
    let at = |w: &str| {
        page.body
            .find(w)
            .unwrap_or_else(|| panic!("{w}: {}", page.body))
    };
    assert!(at("乙") < at("丙") && at("丙") < at("丁"));
    assert!(page.body.contains("链头"));
    assert!(
        page.body.contains(&format!("{gallery}/1/1/small")),
        "{}",
        page.body
    );
    assert!(public.cookie.is_none(), "no session for the public");
    let small = reqwest::get(format!("{}{gallery}/1/1/small", app.url))
        .await
        .unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(small.headers()["content-type"], "image/jpeg");
    let winner = public.get(&format!("{gallery}/1")).await;
    assert!(winner.body.contains("<video"), "{}", winner.body);
    // The video seeks: a range of it.
    let part = reqwest::Client::new()
        .get(format!("{}{gallery}/1/3", app.url))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/4096");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &video[100..200]);
    // Nothing beyond what was released.
    assert_eq!(
        public.get(&format!("{gallery}/4")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        public.get(&format!("{gallery}/1/9")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        public
            .get("/jg/00000000000000000000000000000000")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The certificate: the office downloads it; its words and its QR link check.
    let mut office = app.client();
    office.login("fl-office", PASSWORD, None).await;
    let console = office.get(&format!("/campaigns/{CID}/release")).await;
    assert!(console.body.contains("已发布"), "{}", console.body);
    let pdf = office
        .http
        .get(format!(
            "{}/campaigns/{CID}/certificates/ZMKJ2023-001",
            app.url
        ))
        .header(
            "cookie",
            format!("px_session={}", office.cookie.clone().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf.bytes().await.unwrap()).unwrap();
    let flat = crate::exports::pdf_text(&path);
    for words in [
        "乙同志：",
        "荣获2023年“新疆最美科技工作者”称号。",
        "证书编号：ZMKJ2023-001",
    ] {
        assert!(flat.contains(words), "{words}: {flat}");
    }
    let release_id = gallery.trim_start_matches("/jg/");
    let check = pingxuan_app::release::check_url(&app.store, "", release_id, "ZMKJ2023-001");
    let page = public.get(&check).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("真实有效") && page.body.contains("乙"),
        "{}",
        page.body
    );
    let forged = check.replace("/ZMKJ2023-001/", "/ZMKJ2023-002/");
    let page = public.get(&forged).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("未找到这张证书"));

    // 乙 downloads their own from the application's page; 甲 (not on the list) finds none.
    let mut yi_client = app.client();
    yi_client.login("fl1@x.cn", PASSWORD, None).await;
    let own = yi_client.get(&format!("/applications/{}", ids[1])).await;
    assert!(
        own.body.contains("下载荣誉证书（ZMKJ2023-001）"),
        "{}",
        own.body
    );
    let theirs = yi_client
        .get(&format!("/campaigns/{CID}/certificates/ZMKJ2023-002"))
        .await;
    assert_eq!(
        theirs.status,
        StatusCode::NOT_FOUND,
        "someone else's certificate"
    );

    // Every stage in one workbook.
    let book = office
        .http
        .get(format!("{}/campaigns/{CID}/results.xlsx", app.url))
        .header(
            "cookie",
            format!("px_session={}", office.cookie.clone().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(book.status(), StatusCode::OK);
    let bytes = book.bytes().await.unwrap().to_vec();
    let names = pingxuan_export::testing::xlsx_sheet_names(bytes.clone());
    assert_eq!(names, ["1 形式审查", "2 集中评选", "2 集中评选 评分明细"]);
    let screening = pingxuan_export::testing::xlsx_cells(bytes.clone(), "1 形式审查");
    assert_eq!(screening[2][5], "审查结论");
    assert_eq!(screening[3][5], "合格");
    let panel = pingxuan_export::testing::xlsx_cells(bytes.clone(), "2 集中评选");
    let yi_row = panel
        .iter()
        .find(|r| r.get(2).is_some_and(|n| n == "乙"))
        .unwrap();
    assert_eq!(yi_row[6], "晋级");
    let jia = panel
        .iter()
        .find(|r| r.get(2).is_some_and(|n| n == "甲院士"))
        .unwrap();
    assert_eq!(jia[6], "未晋级");
    let sheets = pingxuan_export::testing::xlsx_cells(bytes, "2 集中评选 评分明细");
    assert_eq!(
        sheets.len(),
        1 + 5 * 2,
        "five candidates, two panel members"
    );

    // The audit trail, the list's entries in it, exported as `pingxuan audit export`
    // writes it, verifies as `pingxuan audit verify` checks it, to the published head.
    let head = app.store.audit_head().await.unwrap();
    let mut verifier = pingxuan_rules::audit::Verifier::default();
    let (mut after, mut actions) = (0, Vec::new());
    loop {
        let page = app.store.audit_after(after, 1000).await.unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            verifier
                .feed(&serde_json::to_string(&e.line()).unwrap())
                .unwrap();
            actions.push(e.action.clone());
            after = e.id;
        }
    }
    assert_eq!(verifier.finish(Some(&head.hash)).unwrap(), head.hash);
    for action in [
        "stage_advanced",
        "publicity_published",
        "objection_filed",
        "objection_unfounded",
        "results_released",
        "export_downloaded",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}
