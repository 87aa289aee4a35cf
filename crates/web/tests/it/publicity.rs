//! 公示, hosted: the confirmed final list published for its working days; the public page
//! with its list, its period and the audit chain's head; an objection typed there with
//! a file checked by content, refused in words beside the field, followed by its number;
//! the office entering a letter; an upheld objection taking the candidate off the list,
//! undoing its confirmation, the list drawn again with each change shown, and the
//! newcomer published in a 递补公示 of their own.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, input_value, start};

on_both_databases!(
    an_upheld_objection_changes_the_list_and_the_newcomer_is_published,
    what_cannot_be_published_or_objected_is_said
);

const CID: &str = "xinjiang-2023";

/// The calendar must reach past a 公示 published today: a year the State Council has
/// not announced yet is loaded without holidays (test only).
pub(crate) async fn calendar_for_today(app: &TestApp) {
    let year = pingxuan_app::publicity::today().year() + 1;
    let text = format!("year = {year}\nsource = \"测试：{year} 年按无节假日计\"\nholidays = []\n");
    let cal = pingxuan_rules::calendar::YearCalendar::parse("test.toml", &text).unwrap();
    if app
        .store
        .work_calendar()
        .await
        .unwrap()
        .is_working_day(time::Date::from_calendar_date(year, time::Month::January, 5).unwrap())
        .is_err()
    {
        app.store
            .save_calendar_year(
                &cal,
                &text,
                &pingxuan_store::audit::Audit::new(None, "calendar_year_loaded", "calendar"),
            )
            .await
            .unwrap();
    }
}

/// Moves every 公示 back so that its period ended yesterday (a test cannot wait five
/// working days): published 9 days ago, counted from 8 days ago to 2 days ago.
pub(crate) async fn end_every_publicity(app: &TestApp) {
    let today = pingxuan_app::publicity::today();
    let day = |d: i64| (today - time::Duration::days(d)).to_string();
    sqlx::query(
        "UPDATE publicities SET published_on = $1, first_day = $2, last_day = $3, ends_at = $4",
    )
    .bind(day(9))
    .bind(day(8))
    .bind(day(2))
    .bind(pingxuan_store::now() - 86_400)
    .execute(&app.store.pool)
    .await
    .unwrap();
}

async fn overview(app: &TestApp, token: &str) -> Value {
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

async fn advance(app: &TestApp, token: &str, list: &[i64]) {
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            token,
            json!({"action": "advance", "candidates": list}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
}

const FACTS: &str = "该同志推荐表中所列的省部级奖励与事实不符，附获奖公告截图为证，请核查。";

async fn an_upheld_objection_changes_the_list_and_the_newcomer_is_published(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = crate::final_list::five_ranked(&app).await;
    calendar_for_today(&app).await;
    // Before the list is confirmed there is nothing to publish, and the page says why.
    let o = overview(&app, &token).await;
    assert_eq!(o["proposal"], Value::Null);
    assert!(
        o["blocked"].as_str().unwrap().contains("最终名单尚未确定"),
        "{o}"
    );
    // 乙, 丙, 丁 under the rules (no 院士, one under 45).
    let list = vec![ids[1], ids[2], ids[3]];
    advance(&app, &token, &list).await;
    let o = overview(&app, &token).await;
    assert_eq!(o["proposal"]["kind"], "final", "{o}");
    assert_eq!(o["proposal"]["application_ids"], json!(list));
    let title = o["proposal"]["title"].as_str().unwrap().to_owned();
    assert_eq!(title, "2023年“新疆最美科技工作者”拟入选人选公示");
    let (s, p) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            &token,
            json!({"working_days": 5, "contact": "自治区科协调研宣传部，0991-6386020"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let url = p["url"].as_str().unwrap().to_owned();
    let o = overview(&app, &token).await;
    assert_eq!(o["proposal"], Value::Null);
    assert_eq!(o["publicities"][0]["status"], "公示中");
    assert_eq!(o["publicities"][0]["working_days"], 5);

    // Anyone reads it: the list, the period, how to object, the chain's head.
    let mut public = app.client();
    let page = public.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    for words in [
        "乙",
        "丙",
        "丁",
        "公示期：",
        "个工作日",
        "0991-6386020",
        "链头",
        "提出异议",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    let head = app.store.audit_head().await.unwrap();
    assert!(
        page.body.contains(&head.hash),
        "the page shows the chain's head"
    );
    assert!(
        input_value(&page.body, "csrf").is_none(),
        "no session for the public"
    );
    let yi = ids[1].to_string();
    // A file that is not a PDF, JPG or PNG: refused beside the files, the text kept.
    let r = public
        .post_file(
            &url,
            &[
                ("candidate", &yi),
                ("name", "王五"),
                ("phone", "13812345678"),
                ("text", FACTS),
            ],
            ("files", "证明.docx", b"PK\x03\x04 not really a document"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("只接受 PDF、JPG 或 PNG 文件"), "{}", r.body);
    assert!(r.body.contains(FACTS), "what was typed is kept");
    // Anonymous: refused, said beside the name.
    let r = public
        .post_file(
            &url,
            &[
                ("candidate", &yi),
                ("name", " "),
                ("phone", "13812345678"),
                ("text", FACTS),
            ],
            (
                "files",
                "a.pdf",
                &pingxuan_media::testing::minimal_pdf(1, false),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("匿名异议不予受理"), "{}", r.body);
    assert_eq!(app.store.objections(CID).await.unwrap().len(), 0);
    // Named, with a PDF: taken, and a number to follow it by.
    let r = public
        .post_file(
            &url,
            &[
                ("candidate", &yi),
                ("name", "王五"),
                ("phone", "138 1234 5678"),
                ("text", FACTS),
            ],
            (
                "files",
                "获奖公告.pdf",
                &pingxuan_media::testing::minimal_pdf(2, false),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let follow = r.location.unwrap();
    let number = follow
        .split("number=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let page = public.get(&follow).await;
    assert!(page.body.contains("您的异议已收到"), "{}", page.body);
    assert!(page.body.contains("已收到，待处理"));
    assert!(
        !page.body.contains("王五"),
        "the follow page never shows who"
    );

    // The office sees who objected (the phone masked) and the file.
    let o = overview(&app, &token).await;
    let obj = &o["objections"][0];
    assert_eq!(obj["objector"], "王五");
    assert_eq!(obj["phone"], "138****5678");
    assert_eq!(obj["candidate"], "乙");
    assert_eq!(obj["files"], json!(["获奖公告.pdf"]));
    assert_eq!(obj["outcome"], "received");
    let oid = obj["id"].as_i64().unwrap();
    // To call back, the office asks for the full number; the look is audited.
    let (s, c) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/objections/{oid}/contact"),
            &token,
            Value::Null,
        )
        .await;
    assert_eq!(
        (s, c["phone"].as_str()),
        (StatusCode::OK, Some("13812345678")),
        "{c}"
    );
    let looked = app.store.recent_audit(1).await.unwrap();
    assert_eq!(looked[0].action, "objection_contact_viewed");
    assert!(!looked[0].detail.contains("13812345678"));
    let step = |outcome: &'static str, opinion: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/objections/{oid}/steps"),
                token,
                json!({"outcome": outcome, "opinion": opinion}),
            )
            .await
        }
    };
    let (s, e) = step("upheld", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "opinion");
    let (s, j) = step("checking", "").await;
    assert_eq!(
        (s, j["outcome_text"].as_str()),
        (StatusCode::OK, Some("核查中"))
    );
    let (s, j) = step("upheld", "经核查，所列省部级奖励与事实不符。").await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, e) = step("unfounded", "改判").await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "objection_settled");

    // 乙 leaves: the confirmation is undone, the list drawn again without 乙 — 戊 comes
    // in — each change with its reason.
    let stage = crate::final_list::panel(&app, &token).await;
    assert_eq!(stage["phase"], "closed", "{stage}");
    let new_list = vec![ids[2], ids[3], ids[4]];
    assert_eq!(stage["outcome"], json!(new_list), "{stage}");
    let o = overview(&app, &token).await;
    assert_eq!(o["removed"][0]["name"], "乙");
    assert!(
        o["removed"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("异议经核查成立"),
        "{o}"
    );
    assert_eq!(o["added"][0]["name"], "戊", "{o}");
    assert!(o["blocked"].as_str().unwrap().contains("名单有变化"), "{o}");
    // A list confirmed on a view read before the removal (two office workers at once)
    // does not stand: the store refuses it under the lock.
    let events = app.store.stage_events(CID).await.unwrap();
    let stale = app
        .store
        .append_stage_event(
            CID,
            "panel",
            events.len() as i64,
            &pingxuan_rules::selection::stage::Event::Advanced {
                advanced: list.clone(),
                note: String::new(),
            },
            None,
            &pingxuan_store::testing::audit(),
            &[],
        )
        .await;
    assert!(
        matches!(stale, Err(pingxuan_store::StoreError::Stale)),
        "{stale:?}"
    );
    // The objector reads the outcome with the 处理意见.
    let page = public.get(&format!("/gs/follow?number={number}")).await;
    assert!(
        page.body
            .contains("异议成立。处理意见：经核查，所列省部级奖励与事实不符。"),
        "{}",
        page.body
    );
    // The public page marks 乙 and takes no objection to 乙 any more.
    let page = public.get(&url).await;
    assert!(page.body.contains("经核查已不再列入名单"));
    // Confirmed again, 戊 alone is published in a 递补公示.
    advance(&app, &token, &new_list).await;
    let o = overview(&app, &token).await;
    assert_eq!(o["proposal"]["kind"], "supplement", "{o}");
    assert_eq!(o["proposal"]["application_ids"], json!([ids[4]]));
    let (s, p) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            &token,
            json!({"working_days": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let page = public.get(p["url"].as_str().unwrap()).await;
    assert!(page.body.contains("递补人选公示") && page.body.contains("戊"));
    // Every step is in the audit trail.
    let actions: Vec<String> = app
        .store
        .audit_after(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "publicity_published",
        "objection_filed",
        "objection_checking",
        "objection_upheld",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    // While a 公示 runs, what comes after waits for it.
    let unsettled = pingxuan_app::publicity::unsettled(&app.store, CID)
        .await
        .unwrap();
    assert!(
        unsettled.iter().any(|w| w.contains("尚未结束")),
        "{unsettled:?}"
    );
}

async fn what_cannot_be_published_or_objected_is_said(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = crate::final_list::five_ranked(&app).await;
    calendar_for_today(&app).await;
    let publish = |body: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/publicity"),
                token,
                body,
            )
            .await
        }
    };
    let (s, e) = publish(json!({"working_days": 5})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "nothing_to_publish");
    advance(&app, &token, &[ids[1], ids[2], ids[3]]).await;
    let contact = "自治区科协调研宣传部，0991-6386020";
    let (s, e) = publish(json!({"working_days": 5})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "contact", "新疆's file gives none");
    let (s, e) = publish(json!({"working_days": 0, "contact": contact})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "working_days");
    // Dated 50 days back: before the list was confirmed (today).
    let back = pingxuan_app::publicity::today() - time::Duration::days(50);
    let (s, e) =
        publish(json!({"working_days": 5, "published_on": back.to_string(), "contact": contact}))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "published_on", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("名单确定之日"),
        "{e}"
    );
    let (s, p) = publish(json!({"working_days": 5, "contact": contact})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let public_id = p["public_id"].as_str().unwrap().to_owned();
    // Nothing is left to publish.
    let (s, _) = publish(json!({"working_days": 5})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // A second click that read the same proposal: the store refuses the same people
    // twice under the stage's lock.
    let published = app.store.publicity(&public_id).await.unwrap();
    let panel_events = app
        .store
        .stage_events(CID)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.stage_key == "panel")
        .count() as i64;
    let twice = app
        .store
        .publish(
            &pingxuan_store::publicity::NewPublicity {
                campaign_id: CID,
                kind: "final",
                unit_id: None,
                stage_key: "panel",
                title: &published.title,
                body: &published.body,
                contact: &published.contact,
                published_on: published.published_on.clone(),
                first_day: published.first_day.clone(),
                last_day: published.last_day.clone(),
                working_days: published.working_days,
                ends_at: published.ends_at,
                entries: &published.entries,
            },
            Some(("panel", panel_events)),
            None,
            &pingxuan_store::testing::audit(),
        )
        .await;
    assert!(
        matches!(twice, Err(pingxuan_store::StoreError::Stale)),
        "{twice:?}"
    );
    // A letter postmarked before the 公示 went up is not an objection to it.
    let enter = |received_on: String, application_id: i64| {
        let (app, token, public_id) = (&app, &token, &public_id);
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/objections"),
                token,
                json!({"public_id": public_id, "application_id": application_id,
                    "channel": "letter", "received_on": received_on, "name": "某单位",
                    "phone": "0991-1234567", "text": FACTS}),
            )
            .await
        }
    };
    let today = pingxuan_app::publicity::today();
    let (s, e) = enter((today - time::Duration::days(1)).to_string(), ids[2]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "objection_late");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("此前的反映不作为对本次公示的异议"),
        "{e}"
    );
    // Someone not on the list.
    let (s, e) = enter(today.to_string(), ids[0]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "candidate");
    let (s, j) = enter(today.to_string(), ids[2]).await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let o = overview(&app, &token).await;
    assert_eq!(o["objections"][0]["channel"], "letter");
    assert_eq!(o["objections"][0]["phone"], "0991-****4567");
    // Others may not read or move it: a unit, and an organiser of another campaign.
    let unit = app
        .store
        .create_unit(CID, "某地区科协", Role::Recommender, Some("prefecture"))
        .await
        .unwrap();
    let rec = app
        .unit_account("pub-rec", Role::Recommender, CID, unit)
        .await;
    let rec = app.token(rec).await;
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            &rec,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let oid = o["objections"][0]["id"].as_i64().unwrap();
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/objections/{oid}/steps"),
            &rec,
            json!({"outcome": "checking"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // On the console, a refused entry comes back with everything typed.
    let mut console = app.signed_in("fl-office").await;
    let csrf = console.csrf(&format!("/campaigns/{CID}/publicity")).await;
    let target = format!("{public_id}:{}", ids[3]);
    let r = console
        .post_file(
            &format!("/campaigns/{CID}/publicity/objections"),
            &[
                ("csrf", &csrf),
                ("target", &target),
                ("channel", "visit"),
                ("received_on", &today.to_string()),
                ("name", "来访的赵六"),
                ("phone", ""),
                ("text", FACTS),
            ],
            (
                "files",
                "信.pdf",
                &pingxuan_media::testing::minimal_pdf(1, false),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("请留下联系电话"), "{}", r.body);
    for kept in ["来访的赵六", FACTS, "value=\"visit\" selected"] {
        assert!(r.body.contains(kept), "{kept}: {}", r.body);
    }
    // A number that is not ours reads as not found, the same as a wrong one.
    let mut public = app.client();
    let r = public.get("/gs/follow?number=ZZZZ-ZZZZ").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("没有找到编号为"));
    // An unknown 公示.
    let r = public.get("/gs/00000000000000000000000000000000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
