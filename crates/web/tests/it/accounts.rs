use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::start;

on_both_databases!(organiser_creates_unit_accounts, api_account_rules);

async fn organiser_creates_unit_accounts(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    app.account("gx-org", Role::Organizer, Some("guangxi-2024"), None)
        .await;
    let mut c = app.signed_in("gx-org").await;
    let csrf = c.csrf("/accounts").await;
    let form = |category: &'static str| {
        vec![
            ("role", "recommender"),
            ("campaign", "guangxi-2024"),
            ("name", "柳州市科协"),
            ("login", "gx-liuzhou"),
            ("unit", "柳州市科学技术协会"),
            ("category", category),
            ("email", ""),
        ]
    };
    let mut missing = form("");
    missing.push(("csrf", &csrf));
    let r = c.post_form("/accounts", &missing).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("新的推荐单位须选择类别：设区市、"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"gx-liuzhou\""), "typed values stay");

    let mut good = form("设区市");
    good.push(("csrf", &csrf));
    let r = c.post_form("/accounts", &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let password = r
        .body
        .split("<pre class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        r.body.contains("柳州市科学技术协会"),
        "listed with its unit"
    );
    let units = app.store.list_units("guangxi-2024").await.unwrap();
    assert_eq!(units[0].category.as_deref(), Some("city"));

    let mut unit = app.client();
    let r = unit.login("gx-liuzhou", &password, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let home = unit.get("/home").await;
    assert!(
        home.body
            .contains("推荐单位（柳州市科学技术协会） · guangxi-2024"),
        "{}",
        home.body
    );
    assert!(home.body.contains("待审核申报表"));

    let r = c.post_form("/accounts", &good).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("登录名“gx-liuzhou”已被使用"));
}

async fn api_account_rules(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    app.seed("dongguan-2023.toml").await;
    let org = app
        .account("gx-org", Role::Organizer, Some("guangxi-2024"), None)
        .await;
    let admin = app.account("root", Role::Admin, None, None).await;
    let (_, org_token) = app
        .store
        .create_api_token(org, "t", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let (_, admin_token) = app
        .store
        .create_api_token(admin, "t", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let post = |token: &str, body: serde_json::Value| {
        client
            .post(format!("{}/api/v1/accounts", app.url))
            .bearer_auth(token.to_owned())
            .json(&body)
            .send()
    };
    // An organiser cannot create organisers, nor accounts of another campaign.
    let r = post(
        &org_token,
        json!({"login": "o2", "name": "x", "role": "organizer", "campaign": "guangxi-2024"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        &org_token,
        json!({"login": "e1", "name": "x", "role": "expert", "campaign": "dongguan-2023"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        &org_token,
        json!({"login": "e1", "name": "专家甲", "role": "expert", "campaign": "guangxi-2024"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(
        &org_token,
        json!({"login": "a1", "name": "x", "role": "applicant", "campaign": "guangxi-2024"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"]["field"], "role");
    let r = post(
        &admin_token,
        json!({"login": "w1", "name": "广西大学", "role": "所在单位", "campaign": "guangxi-2024"}),
    )
    .await
    .unwrap();
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"]["field"], "unit", "{j}");
    let r = post(
        &admin_token,
        json!({"login": "boss", "name": "总办", "role": "organizer"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["password"].as_str().unwrap().len(), 12);
    let r = post(
        &admin_token,
        json!({"login": "boss", "name": "总办", "role": "organizer"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
}
