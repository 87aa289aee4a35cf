//! The applicant's side of the 新疆 manual: 我要申请, 保存, 我承诺, 提交, 收回.

use pingxuan_rules::Role;
use pingxuan_store::applications::{Binding, NewApplication};
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{filled, input_value, start, xinjiang_candidate};

on_both_databases!(
    applicant_apply_save_commit_submit_recall,
    manual_walk_with_the_unit,
    walk_through_the_api,
    search_pages_filters_and_scope,
    quota_holds_under_concurrent_forwards,
    saved_forms_are_normalized_and_audited
);

async fn applicant_apply_save_commit_submit_recall(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    app.seed("guangxi-2024.toml").await;
    app.account(
        "xj-rec",
        Role::Recommender,
        Some("xinjiang-2023"),
        Some("乌鲁木齐市科协"),
    )
    .await;
    app.account("me@example.com", Role::Applicant, None, None)
        .await;
    app.account("other@example.com", Role::Applicant, None, None)
        .await;
    let unit_id = app.store.list_units("xinjiang-2023").await.unwrap()[0]
        .id
        .to_string();

    let mut c = app.signed_in("me@example.com").await;
    let mine = c.get("/applications/mine").await;
    assert!(
        mine.body.contains("乌鲁木齐市科协"),
        "the recommender to pick"
    );
    assert!(
        mine.body.contains("凭推荐码申报"),
        "广西 takes no direct applications"
    );
    let csrf = input_value(&mine.body, "csrf").unwrap();
    let r = c
        .post_form(
            "/applications/new",
            &[("csrf", &csrf), ("campaign", "guangxi-2024")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post_form(
            "/applications/new",
            &[
                ("csrf", &csrf),
                ("campaign", "xinjiang-2023"),
                ("recommender", &unit_id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let path = r.location.unwrap();

    let page = c.get(&path).await;
    assert!(page.body.contains("申请书编号 ZMKJ20231"), "{}", page.body);
    assert!(
        page.body
            .contains("状态：<a href=\"/applications/1/flow\">草稿（未提交）</a>"),
        "a draft reads as one, not as the role: {}",
        page.body
    );

    // A partial draft saves.
    let r = c
        .post_follow(
            &path,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("action", "save"),
                ("f.name", "测试人员"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已保存草稿"));
    // A second tab still on version 1 is refused, and shows what it typed.
    let r = c
        .post_follow(
            &path,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("action", "save"),
                ("f.name", "另一个窗口"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("刚被别人（或您在另一个窗口）修改过"));
    assert!(
        r.body.contains("value=\"另一个窗口\""),
        "nothing typed is lost"
    );

    // Submitting an incomplete form lists every problem and keeps the draft.
    let r = c
        .post_follow(
            &path,
            &[
                ("csrf", &csrf),
                ("version", "2"),
                ("action", "submit"),
                ("f.name", "测试人员"),
                ("f.title", "正高"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请先阅读评选规则并点击“我承诺”"));
    assert!(r.body.contains("请填写主要事迹"));
    assert!(r.body.contains("不能只写“正高”"));
    assert!(
        r.body
            .contains("体现先进事迹的生活或工作照片至少 1 张，现有 0 张"),
        "what is still to attach is listed: {}",
        r.body
    );
    let stored = app.store.get_application(1).await.unwrap().unwrap();
    assert_eq!(stored.form_version, 3, "the draft was saved");
    assert_eq!(stored.holder_level, 0);

    let r = c
        .post_form(&format!("{path}/commit"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(c.get(&path).await.body.contains("承诺。"));

    // Not working in 新疆: refused, the reason beside the questions, the rest saved.
    let mut outside = filled(&csrf, "3", "submit");
    for pair in outside.iter_mut() {
        if pair.0 == "e.work_region" {
            pair.1 = "否";
        }
    }
    let r = c.post_follow(&path, &outside).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let beside = r.body.split("id=\"eligibility\"").nth(1).unwrap_or("");
    // … up to the first field after the questions.
    let beside = beside
        .split("<div class=\"field kind-")
        .next()
        .unwrap_or("");
    assert!(
        beside.contains("推荐人选须为在新疆工作的科技工作者"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"否\" checked"), "the answer stays");

    app.furnish(1).await;
    let r = c.post_follow(&path, &filled(&csrf, "4", "submit")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("已提交，当前状态：申报人提交到推荐单位"),
        "{}",
        r.body
    );
    assert!(r.body.contains(">收回</button>"));
    // The form cannot be changed now.
    let r = c.post_follow(&path, &filled(&csrf, "5", "save")).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("申请书不在申报人处"));

    let list = c.get("/applications/mine").await;
    assert!(
        list.body.contains(">申报人提交到推荐单位</a>"),
        "states without brackets"
    );
    assert!(list.body.contains("测试人员"));

    let r = c
        .post_follow(&format!("{path}/recall"), &[("csrf", &csrf)])
        .await;
    assert!(r.body.contains("已收回，可以继续修改"), "{}", r.body);
    let r = c.post_follow(&path, &filled(&csrf, "5", "submit")).await;
    assert!(r.body.contains("申报人提交到推荐单位"), "{}", r.body);
    let flow = c.get(&format!("{path}/flow")).await;
    assert_eq!(
        flow.body.matches("申报人提交到推荐单位").count(),
        3,
        "two submits and the state line: {}",
        flow.body
    );
    assert!(flow.body.contains("申报人收回"));

    // Someone else's application does not exist for another applicant.
    let mut other = app.signed_in("other@example.com").await;
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    let other_csrf = other.csrf("/applications/mine").await;
    let r = other
        .post_follow(&format!("{path}/recall"), &[("csrf", &other_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = other
        .post_follow(&path, &filled(&other_csrf, "5", "save"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The 新疆 manual's walk across both sides: submit, the unit opens (no recall now),
/// return with 修改意见, the unit recalls its return, return again, fix, resubmit,
/// forward with the unit's opinion, recall by the unit, forward again.
async fn manual_walk_with_the_unit(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let unit = app
        .store
        .create_unit(
            "xinjiang-2023",
            "乌鲁木齐市科协",
            Role::Recommender,
            Some("prefecture"),
        )
        .await
        .unwrap();
    let rec_id = app
        .store
        .create_user(pingxuan_store::accounts::NewUser {
            login: "xj-rec".into(),
            display_name: "乌鲁木齐市科协".into(),
            email: None,
            mobile: None,
            password: crate::common::PASSWORD.into(),
        })
        .await
        .unwrap();
    app.store
        .grant_role(rec_id, Role::Recommender, Some("xinjiang-2023"), Some(unit))
        .await
        .unwrap();
    app.account(
        "other-rec",
        Role::Recommender,
        Some("xinjiang-2023"),
        Some("哈密市科协"),
    )
    .await;
    app.account("me@example.com", Role::Applicant, None, None)
        .await;

    let mut me = app.signed_in("me@example.com").await;
    let csrf = me.csrf("/applications/mine").await;
    let r = me
        .post_form(
            "/applications/new",
            &[
                ("csrf", &csrf),
                ("campaign", "xinjiang-2023"),
                ("recommender", &unit.to_string()),
            ],
        )
        .await;
    let path = r.location.unwrap();
    me.post_form(&format!("{path}/commit"), &[("csrf", &csrf)])
        .await;
    app.furnish(path.rsplit('/').next().unwrap().parse().unwrap())
        .await;
    let r = me.post_follow(&path, &filled(&csrf, "1", "submit")).await;
    assert!(r.body.contains("申报人提交到推荐单位"), "{}", r.body);
    let id = path.trim_start_matches("/applications/");
    let item = format!("/review/{id}");

    let mut rec = app.signed_in("xj-rec").await;
    let list = rec.get("/applications/review").await;
    assert!(
        list.body.contains("测试人员") && list.body.contains("办理"),
        "{}",
        list.body
    );
    let page = rec.get(&item).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("11010519491231002X"),
        "the detail page shows the whole ID to the unit"
    );
    let list = rec.get("/applications/search").await;
    assert!(
        list.body.contains("1101**********002X") && list.body.contains("138****0000"),
        "lists show them masked: {}",
        list.body
    );
    assert!(!list.body.contains("11010519491231002X"));
    assert!(page.body.contains("本单位已推荐 0/3 名"), "{}", page.body);
    let rcsrf = input_value(&page.body, "csrf").unwrap();

    // Opened: the applicant can no longer recall.
    let r = me
        .post_follow(&format!("{path}/recall"), &[("csrf", &csrf)])
        .await;
    assert!(
        r.body.contains("推荐单位已经查看或办理了申请书，不能收回"),
        "{}",
        r.body
    );

    let r = rec
        .post_follow(
            &format!("{item}/return"),
            &[("csrf", &rcsrf), ("comment", "")],
        )
        .await;
    assert!(r.body.contains("退回时请填写修改意见"));
    let r = rec
        .post_follow(
            &format!("{item}/return"),
            &[("csrf", &rcsrf), ("comment", "请补充感人故事")],
        )
        .await;
    assert!(
        r.body.contains("已退回，当前状态：推荐单位退回到申报人"),
        "{}",
        r.body
    );
    let r = rec
        .post_follow(&format!("{item}/recall"), &[("csrf", &rcsrf)])
        .await;
    assert!(
        r.body.contains("已收回，当前状态：申报人提交到推荐单位"),
        "{}",
        r.body
    );
    rec.post_follow(
        &format!("{item}/return"),
        &[("csrf", &rcsrf), ("comment", "请补充感人故事")],
    )
    .await;

    let flow = me.get(&format!("{path}/flow")).await;
    assert!(
        flow.body.contains("请补充感人故事"),
        "the applicant reads the 修改意见"
    );
    let version = app
        .store
        .get_application(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .form_version
        .to_string();
    let mut fixed = filled(&csrf, &version, "submit");
    fixed.push(("f.stories", "第二个感人故事。"));
    let r = me.post_follow(&path, &fixed).await;
    assert!(
        r.body.contains("已提交，当前状态：申报人提交到推荐单位"),
        "{}",
        r.body
    );

    rec.get(&item).await;
    let r = rec
        .post_follow(
            &format!("{item}/submit"),
            &[("csrf", &rcsrf), ("comment", "")],
        )
        .await;
    assert!(r.body.contains("提交前请填写推荐单位意见"));
    let r = rec
        .post_follow(
            &format!("{item}/submit"),
            &[("csrf", &rcsrf), ("comment", "同意推荐。")],
        )
        .await;
    assert!(
        r.body
            .contains("已提交，当前状态：推荐单位提交到自治区科协"),
        "{}",
        r.body
    );
    assert!(r.body.contains("本单位已推荐 1/3 名"));
    let r = rec
        .post_follow(&format!("{item}/recall"), &[("csrf", &rcsrf)])
        .await;
    assert!(
        r.body.contains("已收回，当前状态：申报人提交到推荐单位"),
        "{}",
        r.body
    );
    let r = rec
        .post_follow(
            &format!("{item}/submit"),
            &[("csrf", &rcsrf), ("comment", "同意推荐。")],
        )
        .await;
    assert!(r.body.contains("推荐单位提交到自治区科协"));

    assert!(
        rec.get("/applications/review")
            .await
            .body
            .contains("暂无待审核的申报表")
    );
    assert!(
        rec.get("/applications/review?tab=done")
            .await
            .body
            .contains("测试人员")
    );
    assert!(
        me.get("/applications/mine")
            .await
            .body
            .contains(">推荐单位提交到自治区科协</a>")
    );

    // The organiser's desk: it opens, the unit can no longer recall; it returns the
    // application to the unit with a comment; the unit forwards it again.
    app.account("xj-office", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    app.account("dg-office", Role::Organizer, Some("dongguan-2023"), None)
        .await;
    let mut office = app.signed_in("xj-office").await;
    assert!(
        office
            .get("/applications/review")
            .await
            .body
            .contains("测试人员")
    );
    let page = office.get(&item).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("/submit\""),
        "the top level sends nothing further"
    );
    let ocsrf = input_value(&page.body, "csrf").unwrap();
    let r = rec
        .post_follow(&format!("{item}/recall"), &[("csrf", &rcsrf)])
        .await;
    assert!(
        r.body
            .contains("自治区科协已经查看或办理了申请书，不能收回"),
        "{}",
        r.body
    );
    let r = office
        .post_follow(
            &format!("{item}/return"),
            &[("csrf", &ocsrf), ("comment", "请补充推荐报告"), ("to", "1")],
        )
        .await;
    assert!(
        r.body
            .contains("已退回，当前状态：自治区科协退回到推荐单位"),
        "{}",
        r.body
    );
    assert!(
        rec.get("/applications/review")
            .await
            .body
            .contains("测试人员"),
        "back on the unit's desk"
    );
    assert!(
        office
            .get("/applications/review?tab=done")
            .await
            .body
            .contains("测试人员")
    );
    rec.get(&item).await;
    let r = rec
        .post_follow(
            &format!("{item}/submit"),
            &[("csrf", &rcsrf), ("comment", "已补充推荐报告，同意推荐。")],
        )
        .await;
    assert!(r.body.contains("推荐单位提交到自治区科协"), "{}", r.body);
    let mut dg = app.signed_in("dg-office").await;
    assert_eq!(
        dg.get(&item).await.status,
        StatusCode::NOT_FOUND,
        "another campaign's organiser"
    );

    // Nobody else reaches it: another unit, or the applicant on the unit's page.
    let mut other = app.signed_in("other-rec").await;
    assert_eq!(other.get(&item).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("{path}/flow")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(me.get(&item).await.status, StatusCode::NOT_FOUND);
}

/// The same walk as a script would do it, with personal tokens and JSON.
async fn walk_through_the_api(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let rec_id = app
        .account(
            "xj-rec",
            Role::Recommender,
            Some("xinjiang-2023"),
            Some("乌鲁木齐市科协"),
        )
        .await;
    let office_id = app
        .account("xj-office", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    let me_id = app
        .account("me@example.com", Role::Applicant, None, None)
        .await;
    let other_id = app
        .account("other@example.com", Role::Applicant, None, None)
        .await;
    let unit = app.store.list_units("xinjiang-2023").await.unwrap()[0].id;
    let token = |id: i64| {
        let store = app.store.clone();
        async move {
            store
                .create_api_token(id, "script", pingxuan_store::testing::for_id)
                .await
                .unwrap()
                .1
        }
    };
    let (me, rec, office, other) = (
        token(me_id).await,
        token(rec_id).await,
        token(office_id).await,
        token(other_id).await,
    );
    let http = reqwest::Client::new();
    let call = |method: Method, path: String, token: String, body: serde_json::Value| {
        let req = http
            .request(method, format!("{}{path}", app.url))
            .bearer_auth(token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            (
                status,
                r.json::<serde_json::Value>()
                    .await
                    .unwrap_or(serde_json::Value::Null),
            )
        }
    };

    let (s, j) = call(
        Method::POST,
        "/api/v1/applications".into(),
        me.clone(),
        json!({"campaign": "xinjiang-2023", "recommender": unit}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["number"], "ZMKJ20231");
    let id = j["id"].as_i64().unwrap();
    let at = |action: &str| format!("/api/v1/applications/{id}/{action}");

    let campaign = pingxuan_rules::campaign::load(pingxuan_rules::campaign::SEEDS[2].1)
        .campaign
        .unwrap();
    let pairs: Vec<(String, String)> = filled("", "", "")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let values = pingxuan_web::applications::flow::read_form(&campaign, &pairs);
    let (s, j) = call(
        Method::PUT,
        at("form"),
        me.clone(),
        json!({"version": 1, "values": values}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["form_version"], 2);
    assert_eq!(j["form"]["name"]["text"], "测试人员");
    let (s, j) = call(
        Method::PUT,
        at("form"),
        me.clone(),
        json!({"version": 1, "values": values}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(j["error"]["code"], "stale");

    let (s, j) = call(Method::POST, at("submit"), me.clone(), json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(j["error"]["code"], "incomplete");
    assert!(j["blockers"][0].as_str().unwrap().contains("我承诺"), "{j}");
    assert!(
        j["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b == "体现推荐人选工作生活的视频至少 1 段，现有 0 段"),
        "{j}"
    );
    call(Method::POST, at("commit"), me.clone(), json!({})).await;
    let (_, j) = call(Method::POST, at("submit"), me.clone(), json!({})).await;
    assert_eq!(j["blockers"].as_array().unwrap().len(), 5, "{j}");
    app.furnish(id).await;
    let (s, j) = call(Method::POST, at("submit"), me.clone(), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["state"], "申报人提交到推荐单位");

    let (s, _) = call(
        Method::GET,
        format!("/api/v1/applications/{id}"),
        other.clone(),
        json!(null),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "someone else's application does not exist"
    );
    let (s, j) = call(Method::POST, at("open"), rec.clone(), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["your_level"], "推荐单位");
    let (s, j) = call(Method::POST, at("recall"), me.clone(), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(j["error"]["code"], "flow");
    let (s, j) = call(
        Method::POST,
        at("return"),
        rec.clone(),
        json!({"comment": ""}),
    )
    .await;
    assert_eq!(
        (s, j["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("comment"))
    );
    let (_, j) = call(
        Method::POST,
        at("return"),
        rec.clone(),
        json!({"comment": "请修改"}),
    )
    .await;
    assert_eq!(j["state"], "推荐单位退回到申报人");
    let (_, j) = call(Method::POST, at("submit"), me.clone(), json!({})).await;
    assert_eq!(j["state"], "申报人提交到推荐单位");
    call(Method::POST, at("open"), rec.clone(), json!({})).await;
    let (s, j) = call(
        Method::POST,
        at("submit"),
        rec.clone(),
        json!({"comment": ""}),
    )
    .await;
    assert_eq!(
        (s, j["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("comment"))
    );
    let (_, j) = call(
        Method::POST,
        at("submit"),
        rec.clone(),
        json!({"comment": "同意推荐。"}),
    )
    .await;
    assert_eq!(j["state"], "推荐单位提交到自治区科协");
    let (_, j) = call(Method::POST, at("open"), office.clone(), json!({})).await;
    assert_eq!(j["your_level"], "自治区科协");
    let (_, j) = call(
        Method::POST,
        at("return"),
        office.clone(),
        json!({"comment": "请补充推荐报告", "to": 1}),
    )
    .await;
    assert_eq!(j["state"], "自治区科协退回到推荐单位");
    let kinds: Vec<&str> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "submit", "open", "return", "submit", "open", "submit", "open", "return"
        ]
    );

    let (_, j) = call(
        Method::GET,
        "/api/v1/applications".into(),
        me.clone(),
        json!(null),
    )
    .await;
    assert_eq!(j[0]["state"], "自治区科协退回到推荐单位");
}

/// 查询申报表: 20 a page with the total, search by name or number, the 工作单位 filter
/// (≥4 characters), 当前步骤, sorting; each reviewer sees only their own scope.
async fn search_pages_filters_and_scope(db: TestDb) {
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{FieldValue, FormValues};
    use pingxuan_rules::workflow::Event;
    use pingxuan_store::applications::FlowUpdate;
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    app.account(
        "xj-rec",
        Role::Recommender,
        Some("xinjiang-2023"),
        Some("乌鲁木齐市科协"),
    )
    .await;
    app.account(
        "other-rec",
        Role::Recommender,
        Some("xinjiang-2023"),
        Some("哈密市科协"),
    )
    .await;
    app.account("xj-office", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    let me = app
        .account("me@example.com", Role::Applicant, None, None)
        .await;
    let unit = app
        .store
        .list_units("xinjiang-2023")
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == "乌鲁木齐市科协")
        .unwrap()
        .id;
    for i in 1..=25 {
        let (id, _) = app
            .store
            .create_application(
                &NewApplication::bare("xinjiang-2023", me, "ZMKJ", 2023, "申报人"),
                pingxuan_store::testing::created,
            )
            .await
            .unwrap();
        let mut form = FormValues::new();
        form.insert(FieldKey::Name, FieldValue::Text(format!("申报人{i:02}")));
        let employer = if i % 2 == 0 {
            "新疆大学化学学院"
        } else {
            "新疆农业科学院"
        };
        form.insert(FieldKey::EmployerAndPost, FieldValue::Text(employer.into()));
        app.store.save_application_form(id, 1, &form).await.unwrap();
        app.store
            .set_application_units(
                id,
                &Binding {
                    recommender_unit_id: Some(unit),
                    ..Binding::none()
                },
            )
            .await
            .unwrap();
        let up = FlowUpdate {
            holder_level: 1,
            holder_role: "recommender".into(),
            state_text: "申报人提交到推荐单位".into(),
            quota: None,
            form_version: None,
            selection: None,
        };
        app.store
            .append_event(id, 0, Event::Submit { by: 0 }, me, "", &up)
            .await
            .unwrap();
    }
    let mut rec = app.signed_in("xj-rec").await;
    let r = rec.get("/applications/search").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("1-20 共 25 条"), "{}", r.body);
    assert!(
        r.body.contains("ZMKJ202325") && !r.body.contains("ZMKJ20235<"),
        "number descending"
    );
    let r = rec.get("/applications/search?page=2").await;
    assert!(r.body.contains("21-25 共 25 条") && r.body.contains("上一页"));
    let r = rec.get("/applications/search?q=申报人07").await;
    assert!(r.body.contains("共 1 条") && r.body.contains("申报人07"));
    let r = rec.get("/applications/search?q=zmkj20231").await;
    assert!(
        r.body.contains("共 11 条"),
        "number search ignores case (1, 10–19): {}",
        r.body
    );
    let r = rec.get("/applications/search?employer=新疆大学化学").await;
    assert!(r.body.contains("共 12 条"), "{}", r.body);
    let r = rec.get("/applications/search?employer=新疆").await;
    assert!(
        r.body.contains("工作单位须输入至少 4 个字符，现为 2 个") && r.body.contains("共 25 条")
    );
    let r = rec.get("/applications/search?step=organizer").await;
    assert!(r.body.contains("共 0 条"));
    // Sorted by 工作单位, the page is one run of each employer (the default order alternates).
    let runs = |body: &str| {
        let tbody = body.split("<tbody>").nth(1).unwrap();
        let cells: Vec<&str> = tbody
            .split("data-label=\"工作单位\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        assert_eq!(cells.len(), 20);
        cells.windows(2).filter(|w| w[0] != w[1]).count()
    };
    assert_eq!(
        runs(&rec.get("/applications/search?sort=employer").await.body),
        1
    );
    assert_eq!(runs(&rec.get("/applications/search").await.body), 19);

    let mut other = app.signed_in("other-rec").await;
    assert!(
        other
            .get("/applications/search")
            .await
            .body
            .contains("共 0 条"),
        "another unit sees nothing"
    );
    let mut office = app.signed_in("xj-office").await;
    assert!(
        office
            .get("/applications/search")
            .await
            .body
            .contains("共 25 条")
    );
    let mut applicant = app.signed_in("me@example.com").await;
    assert_eq!(
        applicant.get("/applications/search").await.status,
        StatusCode::FORBIDDEN
    );
}

/// 新疆: each recommending unit forwards at most 3. Five applications reach one unit;
/// four forwards sent at the same moment let exactly three through, the fourth is
/// refused with the count, and so is the fifth afterwards. Nothing is half-written.
async fn quota_holds_under_concurrent_forwards(db: TestDb) {
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
    let mut ids = Vec::new();
    for i in 0..5 {
        let login = format!("p{i}@example.com");
        let (_, id) = xinjiang_candidate(&app, &login, "测试人员", unit, true).await;
        ids.push(id);
    }
    let forward = |id: i64| crate::codes::submit(&app, &rec, id, json!({"comment": "同意推荐"}));
    let (a, b, c, d) = tokio::join!(
        forward(ids[0]),
        forward(ids[1]),
        forward(ids[2]),
        forward(ids[3])
    );
    let results = [a, b, c, d];
    let passed = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused: Vec<_> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .collect();
    assert_eq!(passed, 3, "{results:?}");
    assert_eq!(refused.len(), 1, "{results:?}");
    assert_eq!(refused[0].1["error"]["code"], "quota_full");
    assert!(
        refused[0].1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("本单位推荐名额已满（3/3）"),
        "{}",
        refused[0].1
    );
    let (s, j) = forward(ids[4]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{j}");
    assert!(
        j["error"]["message"].as_str().unwrap().contains("（3/3）"),
        "{j}"
    );
    let mut with_office = Vec::new();
    for id in &ids {
        let a = app.store.get_application(*id).await.unwrap().unwrap();
        if a.state_text == "推荐单位提交到自治区科协" {
            with_office.push(*id);
        } else {
            assert_eq!(a.state_text, "申报人提交到推荐单位");
        }
    }
    assert_eq!(with_office.len(), 3);

    // The lists' API twins: 待审核申报表 by tab, 查询申报表 with filters and the total.
    let office = app
        .account("xj-office", Role::Organizer, Some(cid), None)
        .await;
    let office = app.token(office).await;
    let (s, j) = app
        .call(Method::GET, "/api/v1/review", &rec, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j.as_array().unwrap().len(), 2, "two still wait: {j}");
    let (_, j) = app
        .call(Method::GET, "/api/v1/review?tab=done", &rec, json!({}))
        .await;
    assert_eq!(j.as_array().unwrap().len(), 3, "{j}");
    assert_eq!(j[0]["state"], "推荐单位提交到自治区科协");
    assert!(
        j[0]["id_number_masked"]
            .as_str()
            .unwrap()
            .contains("**********"),
        "{j}"
    );
    let (_, j) = app
        .call(Method::GET, "/api/v1/review", &office, json!({}))
        .await;
    assert_eq!(j.as_array().unwrap().len(), 3, "{j}");
    let (s, j) = app
        .call(
            Method::GET,
            "/api/v1/applications/search?q=%E6%B5%8B%E8%AF%95&step=organizer&sort=moved",
            &office,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["total"], 3, "{j}");
    assert_eq!(j["page_size"], 20);
    let (_, j) = app
        .call(
            Method::GET,
            "/api/v1/applications/search",
            &office,
            json!({}),
        )
        .await;
    assert_eq!(
        j["total"], 5,
        "the office oversees all that was submitted: {j}"
    );
    // 年度, 推荐单位 and 推荐领域 filter; the 推荐单位 and 转交时间 sorts keep the total.
    for (query, total) in [
        ("year=2023", 5),
        ("year=2024", 0),
        (&format!("recommender={unit}&sort=recommender") as &str, 5),
        ("recommender=999999", 0),
        ("field=%E6%9C%8D%E5%8A%A1%E7%A4%BE%E4%BC%9A&sort=moved", 5),
        ("field=%E5%85%B6%E4%BB%96", 0),
    ] {
        let (s, j) = app
            .call(
                Method::GET,
                &format!("/api/v1/applications/search?{query}"),
                &office,
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{query}: {j}");
        assert_eq!(j["total"], total, "{query}: {j}");
    }
    // Forwarded last comes first by 转交时间.
    let (_, j) = app
        .call(
            Method::GET,
            "/api/v1/applications/search?step=organizer&sort=moved",
            &office,
            json!({}),
        )
        .await;
    assert_eq!(j["items"].as_array().unwrap().len(), 3, "{j}");
    let (_, j) = app
        .call(
            Method::GET,
            "/api/v1/applications/search?employer=%E6%96%B0%E7%96%86",
            &rec,
            json!({}),
        )
        .await;
    assert_eq!(j["total"], 5);
    assert!(
        j["employer_hint"].as_str().unwrap().contains("现为 2 个"),
        "{j}"
    );
    let nobody = app.applicant_token("nobody@x.cn").await;
    let (s, _) = app
        .call(
            Method::GET,
            "/api/v1/applications/search",
            &nobody,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Each move names who made it and where it went.
    let (_, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/applications/{}", with_office[0]),
            &office,
            json!({}),
        )
        .await;
    let forward = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "submit" && e["by"] == "推荐单位")
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(forward["actor"], "cj-rec 的名字");
    assert_eq!(forward["to"], "自治区科协");
    assert_eq!(forward["comment"], "同意推荐");
}

/// 保存 through the API: a 身份证号码 typed with a small x is kept with a capital X, and
/// the save has its audit entry.
async fn saved_forms_are_normalized_and_audited(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let unit = app
        .account(
            "xj-rec",
            Role::Recommender,
            Some("xinjiang-2023"),
            Some("乌鲁木齐市科协"),
        )
        .await;
    let _ = unit;
    let unit_id = app.store.list_units("xinjiang-2023").await.unwrap()[0].id;
    let me = app.applicant_token("x@example.com").await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"campaign": "xinjiang-2023", "recommender": unit_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let id = j["id"].as_i64().unwrap();
    let (s, j) = app
        .call(
            Method::PUT,
            &format!("/api/v1/applications/{id}/form"),
            &me,
            json!({"version": 1, "values": {
                "name": {"text": "张三"},
                "id_number": {"text": "11010519491231002x"}
            }}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["form"]["id_number"]["text"], "11010519491231002X", "{j}");
    let saved: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'form_saved' AND target = $1",
    )
    .bind(format!("application:{id}"))
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(saved, 1);

    // On the page a save is answered with a redirect: F5 afterwards does not post again.
    let mut c = app.signed_in("x@example.com").await;
    let path = format!("/applications/{id}");
    let csrf = c.csrf(&path).await;
    let r = c
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("version", "2"),
                ("action", "save"),
                ("f.name", "张三"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location.unwrap();
    assert_eq!(to, format!("{path}?done=saved"));
    assert!(c.get(&to).await.body.contains("已保存草稿"));
    // An edited address is shown plainly, not refused.
    let page = c.get(&format!("{path}?done=bogus")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("已保存草稿"));
}
