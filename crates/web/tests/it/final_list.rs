//! The final list under 新疆's rules (“院士比例不超过10%，45岁以下青年科技工作者不少于20%”):
//! the last stage advances the list drawn under them, not its top K; each candidate's
//! reason names the rule; who counts as 院士 or 45 岁以下 is shown with its source; the
//! advance's audit entry has the method and the inputs' digest.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, start, xinjiang_candidate_with, xinjiang_values};

on_both_databases!(
    the_last_stage_draws_its_list_under_the_rules,
    the_organiser_marks_who_counts,
    a_tie_the_draw_splits_is_ordered_by_the_office
);

const CID: &str = "xinjiang-2023";

/// 新疆 with 形式审查 then 集中评选 of 3 (so 院士 at most 0, 45 岁以下 at least 1), ages
/// counted on 2023-09-01.
pub(crate) fn text() -> String {
    text_sized(3, 2)
}

/// The same with a final list of `k` and a further list of `extra`.
pub(crate) fn text_sized(k: u32, extra: u32) -> String {
    let text = crate::stages::screening_text_with_final_rules();
    let (from, to) = (
        text.find("[[stages]]\nkey = \"online_review\"").unwrap(),
        text.find("[[stages]]\nkey = \"panel\"").unwrap(),
    );
    format!("{}{}", &text[..from], &text[to..])
        .replace("advance = 20\n", &format!("advance = {k}\n"))
        .replace("winners = 20\n", &format!("winners = {k}\n"))
        .replace("size = 10\n", &format!("size = {extra}\n"))
        .replace(
            "# age_reference_date：按哪一天计算年龄通知未规定",
            "age_reference_date = 2023-09-01",
        )
}

/// 集中评选 as the office's API shows it.
pub(crate) async fn panel(app: &TestApp, token: &str) -> Value {
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/stages/panel"),
            token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

/// A valid 身份证号码 of someone born on `birth` (yyyymmdd) with the order code `order`
/// (odd for a man, even for a woman).
pub(crate) fn id_number(birth: &str, order: u32) -> String {
    let body = format!("110105{birth}{order:03}");
    format!(
        "{body}{}",
        pingxuan_rules::idcard::check_char(&body).unwrap()
    )
}

/// Five candidates through 形式审查 to a closed 集中评选, ranked 甲院士, 乙, 丙, 丁 (the
/// only one under 45), 戊; their ids and the office's API token.
pub(crate) async fn five_ranked(app: &TestApp) -> (Vec<i64>, String) {
    five_ranked_in(app, &text()).await
}

/// The same with each one's points per criterion from both panel members.
async fn five_ranked_with(app: &TestApp, points: [[u32; 3]; 5]) -> (Vec<i64>, String) {
    five_ranked_from(app, &text(), points).await
}

/// The same five, ranked the same, in the campaign file `text` (a variant of `text()`).
pub(crate) async fn five_ranked_in(app: &TestApp, text: &str) -> (Vec<i64>, String) {
    five_ranked_from(
        app,
        text,
        [
            [30, 30, 40],
            [30, 30, 35],
            [30, 30, 30],
            [30, 30, 25],
            [30, 30, 20],
        ],
    )
    .await
}

async fn five_ranked_from(app: &TestApp, text: &str, points: [[u32; 3]; 5]) -> (Vec<i64>, String) {
    // Ranked as listed: a 院士 first, the only one under 45 fourth.
    let people = [
        ("甲院士".to_owned(), "19491231", "是", points[0]),
        ("乙".to_owned(), "19500101", "否", points[1]),
        ("丙".to_owned(), "19600101", "否", points[2]),
        ("丁".to_owned(), "19850315", "否", points[3]),
        ("戊".to_owned(), "19550101", "否", points[4]),
    ];
    ranked_people(app, text, &people).await
}

/// `people` — (name, birth yyyymmdd, 是否两院院士, points per criterion from both panel
/// members) — each recommended by a unit of its own, through 形式审查 to a closed 集中评选
/// in the campaign file `text`; their ids and the office's API token.
pub(crate) async fn ranked_people(
    app: &TestApp,
    text: &str,
    people: &[(String, &str, &str, [u32; 3])],
) -> (Vec<i64>, String) {
    use pingxuan_rules::selection::stage::Move;
    crate::stages::seed_text(app, text).await;
    let mut ids = Vec::new();
    for (i, (name, birth, academician, _)) in people.iter().enumerate() {
        let unit = app
            .store
            .create_unit(
                CID,
                &format!("第{i}地区科协"),
                Role::Recommender,
                Some("prefecture"),
            )
            .await
            .unwrap();
        let rec = app
            .unit_account(&format!("fl-rec{i}"), Role::Recommender, CID, unit)
            .await;
        let rec = app.token(rec).await;
        let mut values = xinjiang_values(name);
        values["id_number"] = json!({"text": id_number(birth, (i as u32 + 1) * 2)});
        values["birth_month"] = json!({"text": format!("{}年{}月", &birth[..4], &birth[4..6])});
        values["academician"] = json!({"text": academician});
        let (_, id) =
            xinjiang_candidate_with(app, &format!("fl{i}@x.cn"), values, unit, true).await;
        let (s, j) = app
            .call(
                Method::POST,
                &format!("/api/v1/applications/{id}/submit"),
                &rec,
                json!({"comment": "同意推荐"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        ids.push(id);
    }
    let office_id = app
        .account("fl-office", Role::Organizer, Some(CID), None)
        .await;
    let office = pingxuan_app::Access::load(&app.store, office_id)
        .await
        .unwrap()
        .unwrap();
    let token = app.token(office_id).await;
    let act = |key: &'static str, mv: Move| {
        let (store, access) = (app.store.clone(), office.clone());
        async move {
            pingxuan_app::stages::act(&store, &access, CID, key, mv, None)
                .await
                .unwrap()
        }
    };
    act(
        "screening",
        Move::Open {
            candidates: ids.clone(),
        },
    )
    .await;
    for &id in &ids {
        pingxuan_app::stages::screen(&app.store, &office, CID, "screening", id, true, "", None)
            .await
            .unwrap();
    }
    act("screening", Move::Close).await;
    act(
        "screening",
        Move::Advance {
            advanced: ids.clone(),
        },
    )
    .await;
    let table: pingxuan_app::tables::Table = [
        "姓名,工作单位,学科/专业领域,电子邮箱,手机",
        "王专家,新疆大学,作物学,wang@example.com,",
        "李专家,石河子大学,作物学,li-expert@example.com,",
    ]
    .iter()
    .map(|r| r.split(',').map(str::to_owned).collect())
    .collect();
    let _pool = pingxuan_app::experts::import(&app.store, &office, CID, &table, None)
        .await
        .unwrap();
    act(
        "panel",
        Move::Open {
            candidates: ids.clone(),
        },
    )
    .await;
    for member in app.store.experts(CID).await.unwrap() {
        let typed: Vec<(i64, Vec<String>)> = ids
            .iter()
            .zip(people)
            .map(|(id, p)| (*id, p.3.iter().map(u32::to_string).collect()))
            .collect();
        pingxuan_app::stages::key_in(
            &app.store,
            &office,
            CID,
            "panel",
            member.user_id,
            &typed,
            None,
        )
        .await
        .unwrap()
        .unwrap();
    }
    act("panel", Move::Close).await;
    (ids, token)
}

async fn the_last_stage_draws_its_list_under_the_rules(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = five_ranked(&app).await;

    let j = panel(&app, &token).await;
    let list = vec![ids[1], ids[2], ids[3]];
    assert_eq!(j["final_draw"]["list"], json!(list), "{j}");
    assert_eq!(j["outcome"], json!(list));
    let reason = |i: usize| {
        j["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == ids[i])
            .unwrap()["result"]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(reason(0), "第 1 名未入选：院士已达上限 0 人");
    assert_eq!(reason(1), "第 2 名入选");
    assert_eq!(reason(3), "第 4 名入选：需满足 45 岁以下不少于 1 人");
    assert_eq!(reason(4), "第 5 名未入选：名单 3 人已满");
    // Who counts as what, with the source.
    let ding = j["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ids[3])
        .unwrap();
    let texts: Vec<&str> = ding["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"否（推荐表“是否两院院士”）"), "{texts:?}");
    assert!(
        texts.contains(&"38 周岁，属于 45 岁以下（身份证号码）"),
        "{texts:?}"
    );
    // The top three are refused: the list is the drawn one.
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            &token,
            json!({"action": "advance", "candidates": [ids[0], ids[1], ids[2]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/panel/moves"),
            &token,
            json!({"action": "advance", "candidates": list}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let entries = app.store.recent_audit(20).await.unwrap();
    let advanced = entries
        .iter()
        .find(|e| e.action == "stage_advanced")
        .expect("the advance's audit entry");
    assert!(
        advanced
            .detail
            .contains("按名单规则确定（院士不超过 0 人，45 岁以下不少于 1 人；方法 final_list/lexicographic-v1；输入摘要 sha256:"),
        "{}",
        advanced.detail
    );
    assert!(
        advanced.detail.ends_with("院士 0 人，45 岁以下 1 人"),
        "{}",
        advanced.detail
    );
    // The confirmed list gives the further one: 2 of the 3 under the same shares.
    let j = panel(&app, &token).await;
    let extra = &j["final_draw"]["extras"][0];
    assert_eq!(
        (&extra["name"], &extra["list"]),
        (
            &json!("全国“最美科技工作者”推荐人选"),
            &json!([ids[1], ids[3]])
        ),
        "{j}"
    );
    assert_eq!(
        extra["how"],
        "从最终名单 3 人中按相同比例（院士不超过 0 人，45 岁以下不少于 1 人）确定"
    );
    assert_eq!(
        extra["reasons"][1]["reason"],
        "第 3 名未入选：余下 1 个名额须留给 45 岁以下（45 岁以下不少于 1 人，已有 0 人）"
    );
    // Confirmed as a move of its own: the list, how, the method and the digest audited.
    let key = extra["key"].as_str().unwrap().to_owned();
    let confirm = format!("/api/v1/campaigns/{CID}/extra-lists/{key}");
    let (s, e) = app.call(Method::POST, &confirm, &token, Value::Null).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let (s, e) = app.call(Method::POST, &confirm, &token, Value::Null).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "already_confirmed");
    let j = panel(&app, &token).await;
    assert!(
        j["final_draw"]["extras"][0]["confirmed_by"].is_string(),
        "{j}"
    );
    let entries = app.store.recent_audit(5).await.unwrap();
    let confirmed = entries
        .iter()
        .find(|e| e.action == "extra_list_confirmed")
        .expect("the confirmation's audit entry");
    assert!(
        confirmed.detail.starts_with(
            "确定“全国“最美科技工作者”推荐人选” 2 人（乙、丁）：从最终名单 3 人中按相同比例"
        ) && confirmed
            .detail
            .contains("；方法 final_list/lexicographic-v1；输入摘要 sha256:"),
        "{}",
        confirmed.detail
    );
    // 公布 changes nothing of it.
    let moves = format!("/api/v1/campaigns/{CID}/stages/panel/moves");
    let (s, e) = app
        .call(Method::POST, &moves, &token, json!({"action": "publish"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let j = panel(&app, &token).await;
    assert!(
        j["final_draw"]["extras"][0]["confirmed_by"].is_string(),
        "{j}"
    );
    // The panel chooses otherwise after a reversal: a list with the 院士 breaks the
    // rule; 戊 for 丙 needs its reason; with it, the list and the reason are recorded.
    let (s, e) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "revert", "reason": "评审小组复议"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "choose", "candidates": [ids[0], ids[1], ids[3]],
                   "reasons": [{"application_id": ids[0], "reason": "院士"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["message"], "院士 1 人，超过上限 0 人", "{e}");
    let choice = [ids[1], ids[3], ids[4]];
    let (s, e) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "choose", "candidates": choice}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        (&e["error"]["message"], &e["error"]["field"]),
        (
            &json!("第 5 名代替第 3 名入选，请写明理由"),
            &json!("candidates")
        )
    );
    let (s, j) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "choose", "candidates": choice,
                   "reasons": [{"application_id": ids[4], "reason": "长期扎根基层一线"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let advanced: Vec<i64> = j["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["advanced"] == true)
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(advanced, choice, "{j}");
    // The further list confirmed on the old list no longer holds on the new one.
    let j2 = panel(&app, &token).await;
    assert_eq!(
        j2["final_draw"]["extras"][0]["confirmed_by"],
        Value::Null,
        "{j2}"
    );
    let last = j["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["kind"], &last["reason"]),
        (
            &json!("advanced"),
            &json!("评审小组另选名单：第 5 名代替第 3 名，理由：长期扎根基层一线")
        )
    );
    // The page says the rules, the record and each candidate's reading.
    let mut page = app.signed_in("fl-office").await;
    let r = page.get(&format!("/campaigns/{CID}/stages/panel")).await;
    assert_eq!(r.status, StatusCode::OK);
    for needle in [
        "名单规则",
        "<span class=\"tag\">院士不超过 0 人</span>",
        "第 1 名未入选：院士已达上限 0 人",
        "38 周岁，属于 45 岁以下（身份证号码）",
        "评审小组另选名单：第 5 名代替第 3 名，理由：长期扎根基层一线",
        // The notice's leaning, counted on the list, never enforced.
        "聚焦青年科技工作者典型——名单 3 人中基层一线 0 人（3 人未标记），45 岁以下 1 人",
    ] {
        assert!(r.body.contains(needle), "{needle}: {}", r.body);
    }
    // The panel's choice on the page, after another reversal: a swap without its reason
    // is refused beside the boxes as ticked; with it the list is confirmed.
    let (s, e) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "revert", "reason": "再次复议"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let stage = format!("/campaigns/{CID}/stages/panel");
    let r = page.get(&stage).await;
    assert!(r.body.contains("评审小组另选名单</summary>"), "{}", r.body);
    let csrf = page.csrf(&stage).await;
    let (b, d, e5) = (
        format!("in.{}", ids[1]),
        format!("in.{}", ids[3]),
        format!("in.{}", ids[4]),
    );
    let why = format!("why.{}", ids[4]);
    let ticked = [
        ("csrf", csrf.as_str()),
        (b.as_str(), "1"),
        (d.as_str(), "1"),
        (e5.as_str(), "1"),
    ];
    let r = page.post_form(&format!("{stage}/choice"), &ticked).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("第 5 名代替第 3 名入选，请写明理由"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!(
            "name=\"in.{}\" value=\"1\" aria-label=\"戊 入选\" checked",
            ids[4]
        )),
        "{}",
        r.body
    );
    let mut with_reason = ticked.to_vec();
    with_reason.push((why.as_str(), "长期扎根基层一线"));
    let r = page
        .post_follow(&format!("{stage}/choice"), &with_reason)
        .await;
    assert!(r.body.contains("评审小组另选的名单已确定"), "{}", r.body);
}

/// The organiser marks 甲 as no 院士 (the form got it wrong): a reason is needed, the
/// marking wins over the 推荐表 and says so, the list is drawn again; once the list is
/// confirmed the marking is closed; nobody else may mark.
async fn the_organiser_marks_who_counts(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = five_ranked(&app).await;
    let marks = format!("/api/v1/campaigns/{CID}/marks");
    let body = |reason: &str| {
        json!({"application_id": ids[0], "indicator": "academician", "value": false,
               "reason": reason})
    };
    let (s, e) = app.call(Method::POST, &marks, &token, body(" ")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "reason");
    let (s, e) = app
        .call(
            Method::POST,
            &marks,
            &token,
            json!({"application_id": ids[0], "indicator": "elite", "reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let unit = app
        .token(app.store.find_user("fl-rec0").await.unwrap().unwrap().id)
        .await;
    let (s, _) = app.call(Method::POST, &marks, &unit, body("x")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = app
        .call(Method::POST, &marks, &token, body("经核实非两院院士"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let j = panel(&app, &token).await;
    let list = vec![ids[0], ids[1], ids[3]];
    assert_eq!(j["outcome"], json!(list), "{j}");
    let jia = j["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ids[0])
        .unwrap();
    let academician = jia["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["indicator"] == "academician")
        .unwrap();
    assert_eq!(
        (&academician["text"], &academician["source"]),
        (&json!("否（活动办公室标记）"), &json!("organiser"))
    );
    let entries = app.store.recent_audit(5).await.unwrap();
    assert!(
        entries.iter().any(|e| e.action == "indicator_marked"
            && e.detail == "标记甲院士不属于院士，理由：经核实非两院院士"),
        "{entries:#?}"
    );
    let moves = format!("/api/v1/campaigns/{CID}/stages/panel/moves");
    let (s, e) = app
        .call(
            Method::POST,
            &moves,
            &token,
            json!({"action": "advance", "candidates": list}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = app.call(Method::POST, &marks, &token, body("再改")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("最终名单已确定"),
        "{e}"
    );
}

/// 丙 and 戊 equal on every key: the draw takes one of them beside the young 丁, and
/// either could stand, so the office orders them before the list can be confirmed.
async fn a_tie_the_draw_splits_is_ordered_by_the_office(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, token) = five_ranked_with(
        &app,
        [
            [30, 30, 40],
            [30, 30, 35],
            [30, 30, 30],
            [30, 30, 25],
            [30, 30, 30],
        ],
    )
    .await;
    let stage = format!("/api/v1/campaigns/{CID}/stages/panel");
    let j = panel(&app, &token).await;
    assert_eq!(j["outcome"], Value::Null, "{j}");
    let tied: Vec<i64> = j["tied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(tied, [ids[2], ids[4]], "{j}");
    let (s, e) = app
        .call(
            Method::POST,
            &format!("{stage}/moves"),
            &token,
            json!({"action": "advance", "candidates": [ids[1], ids[2], ids[3]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("同分"),
        "{e}"
    );
    let (s, e) = app
        .call(
            Method::POST,
            &format!("{stage}/tie"),
            &token,
            json!({"order": [ids[4], ids[2]], "reason": "评审小组复议，戊事迹更突出"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let j = panel(&app, &token).await;
    assert_eq!(j["outcome"], json!([ids[1], ids[4], ids[3]]), "{j}");
    assert_eq!(j["tied"], json!([]));
}
