use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::start;

on_both_databases!(
    organiser_creates_unit_accounts,
    api_account_rules,
    organiser_imports_units_from_a_list,
    organiser_imports_the_expert_pool
);

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
            .contains("推荐单位（柳州市科学技术协会） · 2024年广西最美科技工作者"),
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

async fn organiser_imports_units_from_a_list(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    app.seed("dongguan-2023.toml").await;
    app.account("gx-org", Role::Organizer, Some("guangxi-2024"), None)
        .await;
    let mut c = app.signed_in("gx-org").await;
    let csrf = c.csrf("/accounts").await;
    let page = c.get("/accounts").await;
    assert!(
        page.body
            .contains("<optgroup label=\"2024年广西最美科技工作者\">"),
        "categories are chosen, not typed: {}",
        page.body
    );
    assert!(page.body.contains(">设区市</option>"), "{}", page.body);

    // A list with mistakes: every problem named with its line, nothing created.
    let bad = "单位名称,单位类型,类别,登录名,联系人,电子邮箱,手机\n柳州市科协,推荐单位,学会,gx-lz,,,\n,所在单位,,gx-x,,,\n";
    let fields = [("csrf", csrf.as_str()), ("campaign", "guangxi-2024")];
    let r = c
        .post_file(
            "/accounts/units/preview",
            &fields,
            ("file", "单位.csv", bad.as_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("第 2 行：类别“学会”不是本活动的推荐单位类别"),
        "{}",
        r.body
    );
    assert!(r.body.contains("第 3 行：单位名称为空"), "{}", r.body);
    assert!(r.body.contains("未创建任何单位"), "{}", r.body);
    assert!(
        app.store
            .list_units("guangxi-2024")
            .await
            .unwrap()
            .is_empty()
    );

    // A file that is no table at all.
    let r = c
        .post_file(
            "/accounts/units/preview",
            &fields,
            ("file", "单位.xlsx", b"not a workbook"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("无法打开表格 单位.xlsx"), "{}", r.body);

    // A good list: previewed first, nothing created until confirmed.
    let good = "\u{feff}单位名称,单位类型,类别,登录名,联系人,电子邮箱,手机\n柳州市科协,推荐单位,设区市,gx-lz,王老师,lz@example.com,13900000001\n广西医科大学,所在单位,,gx-gxmu,,,\n";
    let r = c
        .post_file(
            "/accounts/units/preview",
            &fields,
            ("file", "单位.csv", good.as_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("将在“2024年广西最美科技工作者”中"),
        "{}",
        r.body
    );
    assert!(r.body.contains("创建 2 个单位及其账号"), "{}", r.body);
    assert!(r.body.contains("确认导入 2 个单位"), "{}", r.body);
    assert!(
        app.store
            .list_units("guangxi-2024")
            .await
            .unwrap()
            .is_empty()
    );
    let table = html_escape_decode(&crate::common::input_value(&r.body, "table").unwrap());

    // Only the campaign's organisers may import into it.
    app.account("dg-org", Role::Organizer, Some("dongguan-2023"), None)
        .await;
    let mut other = app.signed_in("dg-org").await;
    let other_csrf = other.csrf("/accounts").await;
    let r = other
        .post_form(
            "/accounts/units/import",
            &[
                ("csrf", other_csrf.as_str()),
                ("campaign", "guangxi-2024"),
                ("file_name", "单位.csv"),
                ("table", table.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let confirm = [
        ("csrf", csrf.as_str()),
        ("campaign", "guangxi-2024"),
        ("file_name", "单位.csv"),
        ("table", table.as_str()),
    ];
    let r = c.post_form("/accounts/units/import", &confirm).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 2 个单位及其账号"), "{}", r.body);
    let password = r
        .body
        .split("<td data-label=\"登录名\">gx-lz</td><td data-label=\"初始密码\"><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let units = app.store.list_units("guangxi-2024").await.unwrap();
    assert_eq!(units.len(), 2);
    assert!(
        units
            .iter()
            .any(|u| u.name == "柳州市科协" && u.category.as_deref() == Some("city"))
    );
    // The account list names the campaign by its title, not its id.
    let page = c.get("/accounts").await;
    assert!(
        page.body
            .contains("<td data-label=\"活动\">2024年广西最美科技工作者</td>"),
        "{}",
        page.body
    );

    let mut unit = app.client();
    let r = unit.login("gx-lz", &password, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Confirming again (F5) creates nothing twice.
    let r = c.post_form("/accounts/units/import", &confirm).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("登录名“gx-lz”已被使用"), "{}", r.body);
    assert_eq!(app.store.list_units("guangxi-2024").await.unwrap().len(), 2);
}

/// The expert pool from a list on the 账号管理 page: an unknown column or a duplicate
/// expert names its line and creates nothing; a good list, previewed and confirmed,
/// creates each expert with an account holding the expert role of the campaign, their
/// 工作单位 and 学科 kept for conflicts and matching.
async fn organiser_imports_the_expert_pool(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    app.account("xj-org", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    let mut c = app.signed_in("xj-org").await;
    let csrf = c.csrf("/accounts").await;
    let page = c.get("/accounts").await;
    assert!(page.body.contains("导入评审专家库"), "{}", page.body);
    let fields = [("csrf", csrf.as_str()), ("campaign", "xinjiang-2023")];
    let preview = "/accounts/experts/preview";

    let bad = "姓名,工作单位,学科/专业领域,电子邮箱,手机,职称\n王专家,新疆大学,化学,wang@example.com,,教授\n";
    let r = c
        .post_file(preview, &fields, ("file", "专家.csv", bad.as_bytes()))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第 1 行有未知的列“职称”"), "{}", r.body);
    assert!(r.body.contains("未创建任何评审专家"), "{}", r.body);
    let twice = "姓名,工作单位,学科/专业领域,电子邮箱,手机\n王专家,新疆大学,化学,wang@example.com,\n王专家,新疆大学,化学,wang@example.com,\n";
    let r = c
        .post_file(preview, &fields, ("file", "专家.csv", twice.as_bytes()))
        .await;
    assert!(
        r.body
            .contains("第 3 行：电子邮箱“wang@example.com”在文件中重复"),
        "{}",
        r.body
    );

    let good = "姓名,工作单位,学科/专业领域,电子邮箱,手机\n王专家,新疆大学,化学、材料科学,wang@example.com,13900000009\n李专家,新疆农业科学院,作物学,li@example.com,\n";
    let r = c
        .post_file(preview, &fields, ("file", "专家.csv", good.as_bytes()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("确认导入 2 位评审专家"), "{}", r.body);
    assert!(r.body.contains("化学、材料科学"), "{}", r.body);
    assert!(app.store.experts("xinjiang-2023").await.unwrap().is_empty());
    let table = html_escape_decode(&crate::common::input_value(&r.body, "table").unwrap());
    let confirm = [
        ("csrf", csrf.as_str()),
        ("campaign", "xinjiang-2023"),
        ("file_name", "专家.csv"),
        ("table", table.as_str()),
    ];
    let r = c.post_form("/accounts/experts/import", &confirm).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 2 位评审专家及其账号"), "{}", r.body);
    let password = r
        .body
        .split("<td data-label=\"登录名\">wang@example.com</td><td data-label=\"初始密码\"><code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let pool = app.store.experts("xinjiang-2023").await.unwrap();
    assert_eq!(pool.len(), 2);
    assert_eq!(pool[0].name, "王专家");
    assert_eq!(pool[0].work_unit, "新疆大学");
    assert_eq!(pool[0].fields, ["化学", "材料科学"]);
    let roles = app.store.roles_of(pool[0].user_id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, Role::Expert);
    assert_eq!(roles[0].campaign_id.as_deref(), Some("xinjiang-2023"));

    // The expert signs in with the e-mail address and the password shown once.
    let mut expert = app.client();
    let r = expert.login("wang@example.com", &password, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Again (F5): nothing twice.
    let r = c.post_form("/accounts/experts/import", &confirm).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("第 2 行：电子邮箱“wang@example.com”已有账号"),
        "{}",
        r.body
    );
    assert_eq!(app.store.experts("xinjiang-2023").await.unwrap().len(), 2);
    // An unknown list kind is not found.
    let r = c
        .post_file(
            "/accounts/judges/preview",
            &fields,
            ("file", "x.csv", good.as_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The few entities askama writes into an attribute.
fn html_escape_decode(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
