//! Paper filing from `[paper]`: 东莞's with the nomination, by postmark, late or
//! incomplete paper invalid by the notice; 广西-style after the shortlist, the
//! recommenders asked once each; a recommending unit sees its own outstanding items;
//! a marking for someone paper is not due from is refused.

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, start};

on_both_databases!(
    dongguan_paper_is_marked_by_postmark,
    paper_after_the_shortlist_is_asked_for_once
);

async fn paper(app: &TestApp, cid: &str, token: &str) -> Value {
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{cid}/paper"),
            token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

async fn dongguan_paper_is_marked_by_postmark(db: TestDb) {
    const CID: &str = "dongguan-2023";
    let app = start(db, CaptchaPolicy::Off).await;
    let desk = crate::stages::dongguan_at_desk(&app, 3).await;
    let token = |login: &'static str| {
        let app = &app;
        async move {
            let id = app.store.find_user(login).await.unwrap().unwrap().id;
            app.token(id).await
        }
    };
    let office = token("dg-office").await;
    let j = paper(&app, CID, &office).await;
    assert_eq!(j["items"].as_array().unwrap().len(), 5);
    assert_eq!(j["rows"].as_array().unwrap().len(), 3);
    // The deadline (2023-11-03) has long passed: nothing received is incomplete and,
    // by the notice, invalid.
    let first = &j["rows"][0];
    assert_eq!(first["verdict"], "incomplete", "{first}");
    assert!(
        first["verdict_text"]
            .as_str()
            .unwrap()
            .contains("按通知该候选人报送材料无效"),
        "{first}"
    );
    let (a, b) = (desk[0].0, desk[1].0);
    let mark = |body: Value| {
        let (app, office) = (&app, &office);
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/paper/marks"),
                office,
                body,
            )
            .await
        }
    };
    // All five of a: postmarked 11月3日, arrived the 6th — in time.
    for item in 1..=5 {
        let (s, e) = mark(json!({"application_id": a, "item": item,
            "received_on": "2023-11-06", "postmark_on": "2023-11-03"}))
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    }
    // All five of b, one postmarked the 4th: late.
    for item in 1..=5 {
        let postmark = if item == 3 {
            "2023-11-04"
        } else {
            "2023-11-02"
        };
        let (s, e) = mark(json!({"application_id": b, "item": item,
            "received_on": "2023-11-07", "postmark_on": postmark}))
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    }
    let j = paper(&app, CID, &office).await;
    let row = |id: i64| {
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["application_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row(a)["verdict"], "complete", "{}", row(a));
    assert_eq!(row(b)["verdict"], "late");
    assert_eq!(row(b)["items"][2]["late"], true);
    assert_eq!(row(b)["items"][2]["postmark_on"], "2023-11-04");
    // Bad input: a postmark after the arrival; an item the file does not have; a day
    // in the future.
    let (s, e) = mark(json!({"application_id": a, "item": 1,
        "received_on": "2023-11-06", "postmark_on": "2023-11-08"}))
    .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("postmark_on")),
        "{e}"
    );
    let (s, e) = mark(json!({"application_id": a, "item": 6})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["message"], "纸质材料共 5 项，没有第 6 项");
    let (s, e) = mark(json!({"application_id": a, "item": 1, "received_on": "2099-01-01"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // Taken back, the item is outstanding again.
    let (s, _) = mark(json!({"application_id": a, "item": 2, "received": false})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let j = paper(&app, CID, &office).await;
    let a_row = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["application_id"] == a)
        .unwrap();
    assert_eq!(a_row["outstanding"].as_array().unwrap().len(), 1);
    // A recommending unit sees its own two, not the third (another unit's).
    let rec0 = token("dg-rec0").await;
    let mine = paper(&app, CID, &rec0).await;
    let ids: Vec<i64> = mine["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["application_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![a, b]);
    // …and may not mark.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/paper/marks"),
            &rec0,
            json!({"application_id": a, "item": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The page says it in words.
    let mut office_page = app.signed_in("dg-office").await;
    let r = office_page.get(&format!("/campaigns/{CID}/paper")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("以当地邮戳为准"), "{}", r.body);
    assert!(r.body.contains("1 项逾期报送"));
    let mut unit_page = app.signed_in("dg-rec0").await;
    let r = unit_page.get("/paper").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = unit_page.get(&format!("/campaigns/{CID}/paper")).await;
    assert!(r.body.contains("本单位推荐人选的纸质材料"));
    assert!(
        !r.body.contains("paper-mark"),
        "a unit gets no marking form"
    );
}

async fn paper_after_the_shortlist_is_asked_for_once(db: TestDb) {
    const CID: &str = "xinjiang-2023";
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = crate::final_list::five_ranked(&app).await;
    // 新疆's file has no [paper]; this one asks for it after the shortlist, as 广西's.
    let text = app
        .store
        .get_campaign(CID)
        .await
        .unwrap()
        .unwrap()
        .source_toml
        .replace(
            "[publicity]",
            "[paper]\nwhen = \"after_shortlist\"\naddress = \"乌鲁木齐市\"\nitems = [\"推荐表原件1份\", \"廉政鉴定意见原件1份\"]\n\n[publicity]",
        );
    crate::stages::seed_text(&app, &text).await;
    let j = paper(&app, CID, &token).await;
    assert!(j["not_yet"].as_str().unwrap().contains("确定后"), "{j}");
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/paper/requests"),
            &token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    // Someone not on the list: refused in words.
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/paper/marks"),
            &token,
            json!({"application_id": ids[0], "item": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        e["error"]["message"],
        "甲院士不在拟入选名单中，无需报送纸质材料"
    );
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            &token,
            json!({"action": "advance", "candidates": [ids[1], ids[2], ids[3]]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let j = paper(&app, CID, &token).await;
    assert_eq!(j["rows"].as_array().unwrap().len(), 3);
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/paper/requests"),
            &token,
            Value::Null,
        )
        .await;
    assert_eq!((s, j["asked"].as_u64()), (StatusCode::OK, Some(3)), "{j}");
    // Each recommender was told what to send and where.
    let rec = app.store.find_user("fl-rec1").await.unwrap().unwrap().id;
    let notices = app.store.notices_of(rec, 50).await.unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.text.contains("廉政鉴定意见原件1份") && n.text.contains("乌鲁木齐市")),
        "{notices:?}"
    );
    // Once.
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/paper/requests"),
            &token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "paper_requested");
}
