use pingxuan_rules::Role;
use pingxuan_rules::campaign::SEEDS;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};

use crate::common::start;

on_both_databases!(
    load_through_the_page,
    load_through_the_api,
    health_and_openapi,
    chain_kept_once_applications_exist,
    settings_on_the_form
);

async fn load_through_the_page(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("boss", Role::Organizer, None, None).await;
    let mut c = app.signed_in("boss").await;
    let csrf = c.csrf("/campaigns").await;
    let (_, text) = SEEDS[1];
    let broken = text.replacen("advance = 30", "advance = 50", 1);
    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", &broken)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("文件有问题，未保存"));
    assert!(
        r.body
            .contains("stages[1].advance：晋级人数 50 不少于上一阶段的 40"),
        "{}",
        r.body
    );
    assert!(r.body.contains("advance = 50"), "the text stays in the box");
    assert!(app.store.list_campaigns().await.unwrap().is_empty());

    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", text)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("已保存活动 dongguan-2023（第 1 版）"));
    assert!(r.body.contains("通知未规定公众组的权重"));
    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", text)])
        .await;
    assert!(r.body.contains("第 2 版"));

    let file = c.get("/campaigns/dongguan-2023/file").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, text, "the file comes back as loaded");
    let page = c.get("/campaigns/dongguan-2023").await;
    assert_eq!(page.status, StatusCode::OK);
    // Creating a campaign made boss its organiser, and only its: others stay closed.
    app.seed("guangxi-2024.toml").await;
    assert_eq!(
        c.get("/campaigns/guangxi-2024").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get("/campaigns/guangxi-2024/file").await.status,
        StatusCode::FORBIDDEN
    );
    for words in [
        "初选（产生 40 名）",
        "网络投票（产生 30 名）",
        "评审小组终选（产生 20 名）",
        "原则上不超过 2 名",
        "3—5 份",
        "单个时长 3 分钟以内",
    ] {
        assert!(page.body.contains(words), "missing {words}");
    }
}

async fn load_through_the_api(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let uid = app.account("boss", Role::Organizer, None, None).await;
    let (_, token) = app
        .store
        .create_api_token(uid, "t", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let mut c = app.client();
    let (_, text) = SEEDS[2];

    let r = c
        .api(
            Method::PUT,
            "/api/v1/campaigns",
            Some(&token),
            Some("[campaign]\nid = 3\n".into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let j = r.json();
    assert_eq!(j["error"]["code"], "invalid_campaign");
    assert!(j["problems"].as_array().unwrap().len() >= 3, "{j}");
    assert_eq!(j["problems"][0]["line"], 2);

    let r = c
        .api(
            Method::PUT,
            "/api/v1/campaigns",
            Some(&token),
            Some(text.to_owned()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["revision"], 1);
    let r = c
        .api(
            Method::PUT,
            "/api/v1/campaigns",
            Some(&token),
            Some(text.to_owned()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["revision"], 2);

    let r = c
        .api(
            Method::GET,
            "/api/v1/campaigns/xinjiang-2023",
            Some(&token),
            None,
        )
        .await;
    let j = r.json();
    assert_eq!(j["rules"]["campaign"]["winners"], 20);
    assert_eq!(j["rules"]["final_list"]["constraints"][0]["share"], 0.1);
    let missing = c
        .api(Method::GET, "/api/v1/campaigns/nope", Some(&token), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["code"], "not_found");
}

async fn health_and_openapi(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let mut c = app.client();
    let h = c.get("/healthz").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["database"], "ok");
    let doc = c.get("/api/openapi.json").await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/me",
        "/api/v1/campaigns",
        "/api/v1/campaigns/{id}",
        "/api/v1/campaigns/check",
        "/api/v1/applications",
        "/api/v1/applications/{id}/submit",
        "/api/v1/applications/{id}/return",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every operation declares the refusals its input can meet.
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let declared = |status: &str| op["responses"].get(status).is_some();
            let what = format!("{method} {path}");
            operations += 1;
            assert!(declared("401"), "{what} lacks 401");
            if op["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                for status in ["400", "415", "422"] {
                    assert!(declared(status), "{what} lacks {status}");
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(declared("404"), "{what} lacks 404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(declared("400"), "{what} lacks 400");
            }
        }
    }
    assert!(operations > 30, "{operations} operations");
    // Closed sets of values are enums.
    let schemas = &doc["components"]["schemas"];
    let values = |schema: &str, field: &str| -> Vec<String> {
        schemas[schema]["properties"][field]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.{field} is not an enum: {}", schemas[schema]))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let roles = values("AccountRequest", "role");
    assert!(roles.contains(&"recommender".to_owned()) && roles.contains(&"推荐单位".to_owned()));
    assert!(
        !roles.contains(&"applicant".to_owned()),
        "applicants register themselves"
    );
    assert_eq!(
        values("EventOut", "kind"),
        ["submit", "return", "recall", "open"]
    );
    assert_eq!(
        values("JobView", "state"),
        ["queued", "running", "done", "failed"]
    );
    assert_eq!(values("CodeOut", "status"), ["unused", "used", "revoked"]);
    assert_eq!(values("ProblemOut", "severity"), ["error", "warning"]);
    assert_eq!(values("RoleOut", "role").len(), 7);
    let missing = c.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("找不到"));
}

/// Once a campaign has an application, a new revision may rename levels or move
/// deadlines but not change the chain its stored moves refer to.
async fn chain_kept_once_applications_exist(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("boss", Role::Organizer, None, None).await;
    let mut c = app.signed_in("boss").await;
    let csrf = c.csrf("/campaigns").await;
    let (_, text) = SEEDS[2];
    assert!(text.contains("id = \"xinjiang-2023\""));
    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", text)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let renamed = text.replacen("name = \"推荐单位\"", "name = \"初评单位\"", 1);
    assert_ne!(renamed, text);
    let me = app.account("me@x.cn", Role::Applicant, None, None).await;
    let unit = app
        .store
        .create_unit(
            "xinjiang-2023",
            "昌吉州科协",
            Role::Recommender,
            Some("prefecture"),
        )
        .await
        .unwrap();
    let token = app.token(me).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &token,
            serde_json::json!({"campaign": "xinjiang-2023", "recommender": unit}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");

    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", &renamed)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("第 2 版"));
    // A 所在单位 level put before the recommender: refused.
    let reshaped = renamed.replacen(
        "[[levels]]\nkey = \"recommender\"",
        "[[levels]]\nkey = \"work_unit\"\nname = \"所在单位\"\nrole = \"work_unit\"\nopinion = \"所在单位意见\"\n\n[[levels]]\nkey = \"recommender\"",
        1,
    );
    assert_ne!(reshaped, renamed);
    let r = c
        .post_form("/campaigns", &[("csrf", &csrf), ("toml", &reshaped)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("本活动已有申请书，申报链条不能再改动"),
        "{}",
        r.body
    );
    let stored = app
        .store
        .get_campaign("xinjiang-2023")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revision, 2);
}

/// 活动设置: the 新疆 office sets the deadline the notice leaves open and the age
/// reference day on the form; the file gets a new revision, the warnings go, and the
/// deadline in force reads the same on the home page, the campaign page and the form.
async fn settings_on_the_form(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    app.seed("guangxi-2024.toml").await;
    app.account("xj-office", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    app.account(
        "xj-rec",
        Role::Recommender,
        Some("xinjiang-2023"),
        Some("乌鲁木齐市科协"),
    )
    .await;
    let mut c = app.signed_in("xj-office").await;
    let page = c.get("/campaigns/xinjiang-2023").await;
    assert!(
        page.body.contains("各级提交截止时间：通知未规定任何一级的截止时间，请活动办公室设定 <a href=\"#s-levels-0-deadline\">去设定</a>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("年龄计算基准日：通知未规定按哪一天计算年龄"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("final.age_reference_date："),
        "no TOML keys in words"
    );
    let home = c.get("/home").await;
    assert!(
        home.body
            .contains("href=\"/campaigns/xinjiang-2023#settings\">截止时间未设定，请设定</a>"),
        "{}",
        home.body
    );
    assert!(
        !home.body.contains("guangxi-2024"),
        "an organiser sees only their campaigns"
    );
    let csrf = crate::common::input_value(&page.body, "csrf").unwrap();

    // A bad value: refused beside its field, what was typed kept, nothing saved.
    let r = c
        .post_form(
            "/campaigns/xinjiang-2023/settings",
            &[
                ("csrf", &csrf),
                ("revision", "1"),
                ("s.levels[1].deadline", "2027-02-03T23:59"),
                ("s.final.age_reference_date", "2026-02-30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("年龄计算基准日：“2026-02-30”不是有效的日期"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"2027-02-03T23:59\""),
        "typed values stay"
    );
    assert_eq!(
        app.store
            .get_campaign("xinjiang-2023")
            .await
            .unwrap()
            .unwrap()
            .revision,
        1
    );

    // Another campaign's organiser may not.
    app.account("gx-office", Role::Organizer, Some("guangxi-2024"), None)
        .await;
    let mut other = app.signed_in("gx-office").await;
    let other_csrf = other.csrf("/home").await;
    let r = other
        .post_form(
            "/campaigns/xinjiang-2023/settings",
            &[
                ("csrf", &other_csrf),
                ("revision", "1"),
                ("s.final.age_reference_date", "2026-12-31"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let good = [
        ("csrf", csrf.as_str()),
        ("revision", "1"),
        ("s.levels[1].deadline", "2027-02-03T23:59"),
        ("s.final.age_reference_date", "2026-12-31"),
    ];
    let r = c
        .post_form("/campaigns/xinjiang-2023/settings", &good)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/campaigns/xinjiang-2023?saved=2#settings")
    );
    let stored = app
        .store
        .get_campaign("xinjiang-2023")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.revision, 2);
    assert!(
        stored
            .source_toml
            .contains("deadline = 2027-02-03T23:59:59+08:00")
    );
    let page = c.get("/campaigns/xinjiang-2023?saved=2").await;
    assert!(page.body.contains("已保存 2 项设置"), "{}", page.body);
    assert!(
        !page.body.contains("通知未规定按哪一天计算年龄"),
        "{}",
        page.body
    );
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'campaign_settings_changed'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        detail,
        "第 2 版：推荐单位提交截止时间：未设定 → 2027年2月3日 24:00；年龄计算基准日：未设定 → 2026-12-31"
    );
    // The form sent again from the old page (F5 on a refused form, a second tab) does
    // not undo a newer revision.
    let r = c
        .post_form("/campaigns/xinjiang-2023/settings", &good)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("活动设置刚被别人修改过"), "{}", r.body);

    // One deadline, one format: the home page, the campaign page and the form.
    let deadline = "2027年2月3日 24:00（";
    let home = c.get("/home").await;
    assert!(
        home.body.contains(&format!("推荐单位提交 {deadline}")),
        "{}",
        home.body
    );
    assert!(page.body.contains(deadline), "{}", page.body);
    let (_, id) = crate::common::xinjiang_candidate(
        &app,
        "a@example.com",
        "张三",
        unit_id(&app).await,
        false,
    )
    .await;
    let mut me = app.signed_in("a@example.com").await;
    let form = me.get(&format!("/applications/{id}")).await;
    assert!(
        form.body.contains(&format!("提交截止：{deadline}")),
        "{}",
        form.body
    );
}

async fn unit_id(app: &crate::common::TestApp) -> i64 {
    app.store
        .list_units("xinjiang-2023")
        .await
        .unwrap()
        .iter()
        .find(|u| u.kind == Role::Recommender)
        .unwrap()
        .id
}
