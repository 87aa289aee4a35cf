//! 广西's way in and up: the recommender issues 推荐码 up to its quota (with the
//! candidate's work unit, or “本单位” to merge the steps), the candidate applies with a
//! code, the work unit signs its 所在单位意见 before the recommender sees it.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Client, Reply, TestApp, input_value, start};

const GX: &str = "guangxi-2024.toml";

on_both_databases!(
    guangxi_codes_work_unit_and_merge,
    dongguan_co_signature_and_quota_exception,
    notices_on_moves_and_reminders_before_deadlines,
    eligibility_questions_and_the_register
);

/// A complete 推荐表 of a code-entry campaign (广西 or 东莞) as the API takes it.
pub fn values_for(file: &str, name: &str) -> serde_json::Value {
    let (_, text) = SEEDS.iter().find(|(n, _)| *n == file).unwrap();
    let campaign = load(text).campaign.unwrap();
    let (group, field) = if file.starts_with("guangxi") {
        ("地市", "科技服务民生")
    } else {
        ("工", "面向经济主战场")
    };
    let pairs: Vec<(String, String)> = [
        ("f.id_number", "11010519491231002X"),
        ("f.name", name),
        ("f.sex", "女"),
        ("f.ethnicity", "壮族"),
        ("f.birth_month", "1949年12月"),
        ("f.native_place", "广西南宁"),
        ("f.political_status", "中共党员"),
        ("f.education", "研究生"),
        ("f.school", "广西大学"),
        ("f.major", "作物遗传育种"),
        ("f.group", group),
        ("f.specialty", "作物遗传育种"),
        ("f.summary", "培育甘蔗新品种十余个。"),
        ("f.employer_and_post", "广西大学农学院院长"),
        ("f.title", "教授"),
        ("f.mobile", "13800000000"),
        ("f.email", "ceshi@example.com"),
        ("f.address", "南宁市大学东路100号"),
        ("f.postcode", "530004"),
        ("f.field", field),
        ("f.resume.when", "2001.09-2024.03"),
        ("f.resume.what", "广西大学农学院从事甘蔗育种"),
        ("f.deeds", "培育甘蔗新品种，服务蔗农。"),
        ("f.stories", "深夜守在试验田。"),
        ("f.declaration", "已确认"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain(eligible_answers(&campaign))
    .collect();
    serde_json::to_value(pingxuan_web::applications::flow::read_form(
        &campaign, &pairs,
    ))
    .unwrap()
}

/// The answers of an eligible candidate: works in the region, none of the rest.
pub fn eligible_answers(campaign: &pingxuan_rules::campaign::Campaign) -> Vec<(String, String)> {
    pingxuan_rules::eligibility::questions(campaign)
        .into_iter()
        .map(|q| {
            let a = if q.key == "work_region" { "是" } else { "否" };
            (format!("e.{}", q.key), a.to_owned())
        })
        .collect()
}

/// The office extends every recommending unit's deadline to 2099 (a replay of a campaign
/// whose dates have passed).
pub(crate) async fn extend_every_channel(app: &TestApp, campaign_id: &str, office: &str) {
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{campaign_id}/extensions"),
            office,
            json!({"level": "recommender", "until": "2099-01-01", "reason": "系统演练统一延期"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
}

/// A recommending unit issues a 推荐码 (`issue` as `POST /api/v1/codes` takes it) and a new
/// applicant `login` starts an application with it: (applicant's token, application id).
pub(crate) async fn apply_with_code(
    app: &TestApp,
    recommender: &str,
    issue: serde_json::Value,
    login: &str,
) -> (String, i64) {
    let (s, code) = app
        .call(Method::POST, "/api/v1/codes", recommender, issue)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{code}");
    let me = app.applicant_token(login).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"code": code["code"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    (me, j["id"].as_i64().unwrap())
}

/// Fills and commits an application through the API (the form at version 1).
pub async fn fill(app: &TestApp, file: &str, token: &str, id: i64, name: &str) {
    let at = |a: &str| format!("/api/v1/applications/{id}/{a}");
    let (s, j) = app
        .call(
            Method::PUT,
            &at("form"),
            token,
            json!({"version": 1, "values": values_for(file, name)}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    app.call(Method::POST, &at("commit"), token, json!({}))
        .await;
}

/// 提交 through the API, as the applicant or a unit: (status, body).
pub async fn submit(
    app: &TestApp,
    token: &str,
    id: i64,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let path = format!("/api/v1/applications/{id}/submit");
    app.call(Method::POST, &path, token, body).await
}

/// Fills, commits, attaches the required materials and submits; returns the state.
pub async fn fill_and_submit(
    app: &TestApp,
    file: &str,
    token: &str,
    id: i64,
    name: &str,
) -> String {
    fill(app, file, token, id, name).await;
    app.furnish(id).await;
    let (s, j) = submit(app, token, id, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j["state"].as_str().unwrap().to_owned()
}

/// The organiser's 延期 form on the campaign page.
async fn extend(c: &mut Client, csrf: &str, unit: &str, until: &str, reason: &str) -> Reply {
    let form = [
        ("csrf", csrf),
        ("level", "recommender"),
        ("unit", unit),
        ("until", until),
        ("reason", reason),
    ];
    c.post_form("/campaigns/guangxi-2024/extensions", &form)
        .await
}

async fn guangxi_codes_work_unit_and_merge(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    let cid = "guangxi-2024";
    let nanning = app
        .store
        .create_unit(cid, "南宁市科协", Role::Recommender, Some("city"))
        .await
        .unwrap();
    let gxu = app
        .store
        .create_unit(cid, "广西大学", Role::WorkUnit, None)
        .await
        .unwrap();
    let rec_id = app
        .unit_account("gx-rec", Role::Recommender, cid, nanning)
        .await;
    let work_id = app.unit_account("gx-work", Role::WorkUnit, cid, gxu).await;
    app.account(
        "other-rec",
        Role::Recommender,
        Some(cid),
        Some("柳州市科协"),
    )
    .await;
    app.account("gx-org", Role::Organizer, Some(cid), None)
        .await;
    let me_id = app
        .account("me@example.com", Role::Applicant, None, None)
        .await;
    let two_id = app
        .account("two@example.com", Role::Applicant, None, None)
        .await;

    // The recommender's 推荐码 page: the quota, the work unit to choose.
    let mut rec = app.signed_in("gx-rec").await;
    let page = rec.get("/codes").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("设区市推荐名额 2～3 名 · 已发放 0/3 个推荐码"),
        "{}",
        page.body
    );
    assert!(page.body.contains("本单位（所在单位即推荐单位）"));
    let csrf = input_value(&page.body, "csrf").unwrap();
    let unit = nanning.to_string();
    let r = rec
        .post_form(
            "/codes",
            &[("csrf", &csrf), ("unit", &unit), ("candidate", "张三")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请选择候选人所在单位"), "{}", r.body);
    let gxu_s = gxu.to_string();
    let r = rec
        .post_form(
            "/codes",
            &[
                ("csrf", &csrf),
                ("unit", &unit),
                ("candidate", "张三"),
                ("work_unit", &gxu_s),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("请转交候选人张三"), "{}", r.body);
    let rec_token = app.token(rec_id).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/codes",
            &rec_token,
            json!({"unit": nanning, "candidate_name": "李四", "work_unit": "self"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["merged"], true);
    let (s, third) = app
        .call(
            Method::POST,
            "/api/v1/codes",
            &rec_token,
            json!({"unit": nanning, "work_unit": "self"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let r = rec
        .post_form(
            "/codes",
            &[("csrf", &csrf), ("unit", &unit), ("work_unit", "self")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("本单位推荐名额已满（3/3）"), "{}", r.body);
    // Another unit's account cannot issue for 南宁 or revoke its codes.
    let mut other = app.signed_in("other-rec").await;
    let ocsrf = other.csrf("/codes").await;
    let r = other
        .post_form(
            "/codes",
            &[("csrf", &ocsrf), ("unit", &unit), ("work_unit", "self")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let third_id = third["id"].as_i64().unwrap();
    let r = other
        .post_form(&format!("/codes/{third_id}/revoke"), &[("csrf", &ocsrf)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = rec
        .post_form(&format!("/codes/{third_id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert!(r.body.contains("推荐码已作废"), "{}", r.body);

    let (_, codes) = app
        .call(Method::GET, "/api/v1/codes", &rec_token, json!(null))
        .await;
    let code_of = |name: &str| {
        codes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["candidate_name"] == name)
            .unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (zhang, li) = (code_of("张三"), code_of("李四"));
    let revoked = third["code"].as_str().unwrap().to_owned();

    // The candidate applies with the code, typed carelessly.
    let mut me = app.signed_in("me@example.com").await;
    let mine = me.get("/applications/mine").await;
    assert!(mine.body.contains("凭推荐码申报"));
    let mcsrf = input_value(&mine.body, "csrf").unwrap();
    let r = me
        .post_form("/applications/new", &[("csrf", &mcsrf), ("code", "ABC")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("推荐码应为12位"), "{}", r.body);
    assert!(r.body.contains("value=\"ABC\""), "what was typed stays");
    let r = me
        .post_form("/applications/new", &[("csrf", &mcsrf), ("code", &revoked)])
        .await;
    assert!(r.body.contains("该推荐码已被推荐单位作废"), "{}", r.body);
    let typed = format!(" {} ", zhang.to_lowercase().replace('-', " "));
    let r = me
        .post_form("/applications/new", &[("csrf", &mcsrf), ("code", &typed)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id: i64 = r
        .location
        .unwrap()
        .trim_start_matches("/applications/")
        .parse()
        .unwrap();
    // A code starts one application only.
    let two = app.token(two_id).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &two,
            json!({"code": zhang}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["code"], "code_used");
    assert_eq!(j["error"]["field"], "code");

    let me_token = app.token(me_id).await;
    // 3月26日24时 has long passed: 申报 too is refused, with the date.
    fill(&app, GX, &me_token, id, "测试人员").await;
    let (s, j) = submit(&app, &me_token, id, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{j}");
    assert_eq!(j["error"]["code"], "deadline_passed");
    assert_eq!(
        j["error"]["message"],
        "推荐单位提交截止时间为2024年3月26日 24:00，已截止，不能再提交；如需延期请联系自治区活动办公室"
    );
    let page = me.get(&format!("/applications/{id}")).await;
    assert!(
        page.body
            .contains("提交截止：2024年3月26日 24:00（已截止）"),
        "{}",
        page.body
    );
    // The organiser extends 南宁's channel; a reason is required.
    let mut org = app.signed_in("gx-org").await;
    let ocsrf = org.csrf("/campaigns/guangxi-2024").await;
    let r = extend(&mut org, &ocsrf, &unit, "2099-12-31T23:59", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请填写理由"), "{}", r.body);
    let r = extend(&mut org, &ocsrf, &unit, "2024-03-20T12:00", "系统维护").await;
    assert!(
        r.body.contains("须晚于原截止时间（2024年3月26日 24:00）"),
        "{}",
        r.body
    );
    let r = extend(
        &mut org,
        &ocsrf,
        &unit,
        "2099-12-31T23:59",
        "受系统维护影响延期",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("受系统维护影响延期") && r.body.contains("南宁市科协"));
    // In time now, but the photos are missing: the campaign's counts, what there is.
    let (s, j) = submit(&app, &me_token, id, json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(
        j["blockers"],
        json!([
            "小2寸正面免冠彩色照片须 1 张，现有 0 张",
            "体现先进事迹的生活或工作照片须 2～3 张，现有 0 张"
        ])
    );
    app.furnish(id).await;
    let (s, j) = submit(&app, &me_token, id, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["state"], "申报人提交到所在单位");

    // The recommender does not see it before the work unit has signed.
    assert_eq!(
        rec.get(&format!("/review/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !rec.get("/applications/review")
            .await
            .body
            .contains("测试人员")
    );
    let mut work = app.signed_in("gx-work").await;
    let list = work.get("/applications/review").await;
    assert!(list.body.contains("测试人员"), "{}", list.body);
    let page = work.get(&format!("/review/{id}")).await;
    assert!(page.body.contains("所在单位意见"), "{}", page.body);
    let wcsrf = input_value(&page.body, "csrf").unwrap();
    let r = work
        .post_follow(
            &format!("/review/{id}/submit"),
            &[("csrf", &wcsrf), ("comment", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("提交前请填写所在单位意见"));
    let r = work
        .post_follow(
            &format!("/review/{id}/submit"),
            &[("csrf", &wcsrf), ("comment", "同意推荐，政治表现良好。")],
        )
        .await;
    assert!(r.body.contains("所在单位提交到推荐单位"), "{}", r.body);

    // Now the recommender has it, with the quota of forwarded candidates.
    let page = rec.get(&format!("/review/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("本单位已推荐 0/3 名"), "{}", page.body);
    let r = rec
        .post_follow(
            &format!("/review/{id}/submit"),
            &[("csrf", &csrf), ("comment", "同意推荐。")],
        )
        .await;
    assert!(
        r.body.contains("推荐单位提交到自治区活动办公室"),
        "{}",
        r.body
    );
    let work_token = app.token(work_id).await;
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/applications/{id}"),
            &work_token,
            json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(j["your_level"], "所在单位");

    // 李四's code names the recommender as the work unit: the steps merge.
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &two,
            json!({"code": li}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let merged_id = j["id"].as_i64().unwrap();
    let state = fill_and_submit(&app, GX, &two, merged_id, "李四").await;
    assert_eq!(state, "申报人提交到推荐单位");
    assert_eq!(
        work.get(&format!("/review/{merged_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        rec.get(&format!("/review/{merged_id}")).await.status,
        StatusCode::OK
    );

    let page = rec.get("/codes").await;
    assert!(
        page.body.contains("已使用：测试人员 ZMKJ20241"),
        "{}",
        page.body
    );
    assert!(page.body.contains("已作废"));
    assert!(page.body.contains("已发放 2/3 个推荐码"), "{}", page.body);
}

/// 东莞: the work unit always signs first (no merging), the actual employer co-signs
/// where it differs, the “原则上 2 名” quota yields to an exception granted with a
/// reason, and the organiser extends the deadline for everyone through the API.
async fn dongguan_co_signature_and_quota_exception(db: TestDb) {
    const DG: &str = "dongguan-2023.toml";
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed(DG).await;
    let cid = "dongguan-2023";
    let rec_unit = app
        .store
        .create_unit(
            cid,
            "东莞市卫生健康局",
            Role::Recommender,
            Some("city_units"),
        )
        .await
        .unwrap();
    let hospital = app
        .store
        .create_unit(cid, "东莞市人民医院", Role::WorkUnit, None)
        .await
        .unwrap();
    let rec = app
        .token(
            app.unit_account("dg-rec", Role::Recommender, cid, rec_unit)
                .await,
        )
        .await;
    let work = app
        .token(
            app.unit_account("dg-work", Role::WorkUnit, cid, hospital)
                .await,
        )
        .await;
    let org_id = app
        .account("dg-org", Role::Organizer, Some(cid), None)
        .await;
    let org = app.token(org_id).await;
    let other_org = app
        .token(
            app.account("gx-org", Role::Organizer, Some("guangxi-2024"), None)
                .await,
        )
        .await;

    let issue = |work_unit: serde_json::Value| {
        app.call(
            Method::POST,
            "/api/v1/codes",
            &rec,
            json!({"unit": rec_unit, "work_unit": work_unit}),
        )
    };
    // No merging in 东莞: “本单位” is refused, the work unit must be named.
    let (s, j) = issue(json!("self")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "work_unit");
    let (s, first) = issue(json!(hospital.to_string())).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    issue(json!(hospital.to_string())).await;
    let (s, j) = issue(json!(hospital.to_string())).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(j["error"]["code"], "quota_full");
    // The organiser grants one more place, with a reason; others may not.
    let app = &app;
    let grant = |token: String, body: serde_json::Value| {
        let path = format!("/api/v1/campaigns/{cid}/quota-exceptions");
        async move { app.call(Method::POST, &path, &token, body).await }
    };
    let (s, _) = grant(
        other_org.clone(),
        json!({"unit": rec_unit, "extra": 1, "reason": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, j) = grant(
        org.clone(),
        json!({"unit": rec_unit, "extra": 1, "reason": " "}),
    )
    .await;
    assert_eq!(
        (s, j["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("reason"))
    );
    let (s, j) = grant(
        org.clone(),
        json!({"unit": rec_unit, "extra": 1, "reason": "候选人数量多、质量高，经研究同意"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let (s, _) = issue(json!(hospital.to_string())).await;
    assert_eq!(s, StatusCode::CREATED, "the granted place");
    let mut page = app.signed_in("dg-rec").await;
    let codes = page.get("/codes").await;
    assert!(
        codes
            .body
            .contains("（活动办公室另批 1 名） · 已发放 3/3 个推荐码"),
        "{}",
        codes.body
    );

    // The candidate applies; 11月3日 has passed until the organiser extends it.
    let me_id = app
        .account("me@example.com", Role::Applicant, None, None)
        .await;
    let me = app.token(me_id).await;
    let (s, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"code": first["code"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let id = j["id"].as_i64().unwrap();
    fill(app, DG, &me, id, "王五").await;
    // 王五 works at a company other than the hospital holding the personnel relation.
    let mut values = values_for(DG, "王五");
    values["actual_employer"] = json!({"text": "东莞某科技公司"});
    let (s, j) = app
        .call(
            Method::PUT,
            &format!("/api/v1/applications/{id}/form"),
            &me,
            json!({"version": 2, "values": values}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = submit(app, &me, id, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2023年11月3日"),
        "{j}"
    );
    let path = format!("/api/v1/campaigns/{cid}/extensions");
    let (s, j) = app
        .call(
            Method::POST,
            &path,
            &org,
            json!({"level": "applicant", "until": "2099-01-01", "reason": "延期"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the applicant's level has no deadline of its own: {j}"
    );
    let (s, j) = app
        .call(
            Method::POST,
            &path,
            &org,
            json!({"level": "recommender", "until": "2099-01-01", "reason": "统一延期"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    app.furnish(id).await;
    let (s, j) = submit(app, &me, id, json!({})).await;
    assert_eq!(
        (s, j["state"].clone()),
        (StatusCode::OK, json!("申报人提交到所在单位"))
    );

    // The work unit signs; the actual employer the applicant named must co-sign, with
    // both its name and its opinion.
    let (s, j) = submit(app, &work, id, json!({"comment": "同意推荐。"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "co_signer");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("实际就职单位“东莞某科技公司”与人事关系所在单位不一致"),
        "{j}"
    );
    let mut work_page = app.signed_in("dg-work").await;
    let desk = work_page.get(&format!("/review/{id}")).await;
    assert!(
        desk.body
            .contains("name=\"co_signer\" value=\"东莞某科技公司\""),
        "the named employer is filled in: {}",
        desk.body
    );
    let (s, j) = submit(
        app,
        &work,
        id,
        json!({"comment": "同意推荐。", "co_signer": "东莞某科技公司"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(j["error"]["field"], "co_opinion");
    let (s, j) = submit(
        app,
        &work,
        id,
        json!({"comment": "同意推荐。", "co_signer": "东莞某科技公司", "co_opinion": "情况属实，同意推荐。"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["state"], "所在单位提交到推荐单位");
    // The recommender reads both opinions before writing its own.
    let mut rec_page = app.signed_in("dg-rec").await;
    let item = rec_page.get(&format!("/review/{id}")).await;
    assert!(item.body.contains("所在单位意见"), "{}", item.body);
    assert!(
        item.body
            .contains("实际就职单位（东莞某科技公司）意见：情况属实，同意推荐。"),
        "{}",
        item.body
    );
    assert!(
        !item.body.contains("name=\"co_signer\""),
        "only the work unit co-signs"
    );
    let (s, j) = submit(app, &rec, id, json!({"comment": "同意推荐。"})).await;
    assert_eq!(
        (s, j["state"].clone()),
        (StatusCode::OK, json!("推荐单位提交到东莞市科协"))
    );
    let flow = rec_page.get(&format!("/applications/{id}/flow")).await;
    assert!(
        flow.body.contains("dg-work 的名字"),
        "who acted: {}",
        flow.body
    );
}

/// Arrival tells the next holder, a 退回 tells the applicant with the 修改意见 (in the
/// app and by mail); reminders go 3 days and 1 day before the deadline to whoever still
/// holds an unfinished application, once each, re-armed by an extension.
async fn notices_on_moves_and_reminders_before_deadlines(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    let cid = "guangxi-2024";
    let unit = app
        .store
        .create_unit(cid, "南宁市科协", Role::Recommender, Some("city"))
        .await
        .unwrap();
    let rec_id = app
        .unit_account("gx-rec", Role::Recommender, cid, unit)
        .await;
    let rec = app.token(rec_id).await;
    let org_id = app
        .account("gx-org", Role::Organizer, Some(cid), None)
        .await;
    let me_id = app
        .account("me@example.com", Role::Applicant, None, None)
        .await;
    let me = app.token(me_id).await;
    let now = pingxuan_store::now();
    app.store
        .extend_deadline(
            cid,
            "recommender",
            None,
            now + 2 * 86_400 + 600,
            "测试",
            org_id,
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();

    let (_, code) = app
        .call(
            Method::POST,
            "/api/v1/codes",
            &rec,
            json!({"unit": unit, "work_unit": "self"}),
        )
        .await;
    let (_, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"code": code["code"]}),
        )
        .await;
    let id = j["id"].as_i64().unwrap();
    fill(&app, GX, &me, id, "测试人员").await;

    // The applicant still holds it 2 days before the deadline: the 3-day reminder.
    let sweep = |at: i64| pingxuan_app::notify::remind_due(&app.store, at);
    assert_eq!(sweep(now).await.unwrap(), 1);
    assert_eq!(sweep(now).await.unwrap(), 0, "sent once");
    let notices = app.store.notices_of(me_id, 10).await.unwrap();
    assert_eq!(notices[0].kind, "reminder");
    assert!(
        notices[0]
            .text
            .starts_with("测试人员的申请书（ZMKJ20241）尚在申报人处未提交，推荐单位提交截止时间为"),
        "{}",
        notices[0].text
    );
    let mail = app.store.mail_to("me@example.com").await.unwrap();
    assert!(mail[0].subject.contains("提交截止提醒"), "{:?}", mail[0]);
    // A day before: the 1-day reminder.
    assert_eq!(sweep(now + 86_400 + 700).await.unwrap(), 1);
    assert_eq!(sweep(now + 86_400 + 800).await.unwrap(), 0);

    // Submitting tells the recommender; the applicant is not told of their own move.
    app.furnish(id).await;
    let (s, _) = submit(&app, &me, id, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let arrived = app.store.notices_of(rec_id, 10).await.unwrap();
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].kind, "arrival");
    assert!(
        arrived[0].text.contains("已由申报人提交到推荐单位"),
        "{}",
        arrived[0].text
    );
    assert_eq!(app.store.notices_of(me_id, 10).await.unwrap().len(), 2);
    let mut rec_page = app.signed_in("gx-rec").await;
    let home = rec_page.get("/home").await;
    assert!(home.body.contains("1 条未读"), "the menu shows the count");
    let page = rec_page.get("/notices").await;
    assert!(page.body.contains("待办理") && page.body.contains(&format!("/review/{id}")));
    assert!(
        !rec_page.get("/home").await.body.contains("条未读"),
        "read now"
    );

    // A 退回 reaches the applicant with the 修改意见, in the app and by mail.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/return"),
            &rec,
            json!({"comment": "请补充感人故事"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let back = &app.store.notices_of(me_id, 10).await.unwrap()[0];
    assert_eq!(back.kind, "return");
    assert!(
        back.text
            .contains("被推荐单位退回，修改意见：请补充感人故事"),
        "{}",
        back.text
    );
    let mail = app.store.mail_to("me@example.com").await.unwrap();
    assert!(mail[0].subject.contains("被退回") && mail[0].body.contains("请补充感人故事"));
    let (_, list) = app
        .call(Method::GET, "/api/v1/notices", &me, json!(null))
        .await;
    assert_eq!(list[0]["kind"], "return");
}

/// The eligibility questions stop an ineligible candidate with the reason; the
/// register of earlier winners, loaded by the organiser, stops a 东莞 winner of an
/// earlier year (matched on the 身份证号码) even when the form says otherwise.
async fn eligibility_questions_and_the_register(db: TestDb) {
    const DG: &str = "dongguan-2023.toml";
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed(DG).await;
    let cid = "dongguan-2023";
    let unit = app
        .store
        .create_unit(
            cid,
            "东莞市卫生健康局",
            Role::Recommender,
            Some("city_units"),
        )
        .await
        .unwrap();
    let hospital = app
        .store
        .create_unit(cid, "东莞市人民医院", Role::WorkUnit, None)
        .await
        .unwrap();
    let rec = app
        .token(
            app.unit_account("dg-rec", Role::Recommender, cid, unit)
                .await,
        )
        .await;
    let org_id = app
        .account("dg-org", Role::Organizer, Some(cid), None)
        .await;
    let org = app.token(org_id).await;
    app.store
        .extend_deadline(
            cid,
            "recommender",
            None,
            pingxuan_store::now() + 86_400 * 30,
            "测试",
            org_id,
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();
    let me = app
        .token(
            app.account("me@example.com", Role::Applicant, None, None)
                .await,
        )
        .await;
    let (_, code) = app
        .call(
            Method::POST,
            "/api/v1/codes",
            &rec,
            json!({"unit": unit, "work_unit": hospital.to_string()}),
        )
        .await;
    let (_, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &me,
            json!({"code": code["code"]}),
        )
        .await;
    let id = j["id"].as_i64().unwrap();

    // Retired: not eligible, whatever else is in order.
    let mut values = values_for(DG, "王五");
    values["eligibility"]["rows"][3][1] = json!("是");
    let form = format!("/api/v1/applications/{id}/form");
    let (s, j) = app
        .call(
            Method::PUT,
            &form,
            &me,
            json!({"version": 1, "values": values}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    app.call(
        Method::POST,
        &format!("/api/v1/applications/{id}/commit"),
        &me,
        json!({}),
    )
    .await;
    let (s, j) = submit(&app, &me, id, json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(
        j["problems"]["eligibility"][0], "离退休科技人员不在推荐范围内",
        "{j}"
    );

    // The organiser loads the register; a bad line refuses the whole file.
    let winners = |body: &str| {
        reqwest::Client::new()
            .put(format!("{}/api/v1/campaigns/{cid}/winners", app.url))
            .bearer_auth(&org)
            .body(body.to_owned())
            .send()
    };
    let r = winners("姓名,身份证号码,备注\n张三,110105194912310021,2022年\n")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("第 2 行（张三）"),
        "{body}"
    );
    let r = winners("王五,11010519491231002x,2022年\n").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["count"], 1);

    // Now even an all-clear form is stopped by the register.
    let (s, j) = app
        .call(
            Method::PUT,
            &form,
            &me,
            json!({"version": 2, "values": values_for(DG, "王五")}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = submit(&app, &me, id, json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        j["problems"]["eligibility"][0],
        "经核对往年获奖名单（王五 2022年），往年获评东莞“最美科技工作者”的，不再推荐"
    );
    let mut org_page = app.signed_in("dg-org").await;
    let page = org_page.get("/campaigns/dongguan-2023").await;
    assert!(page.body.contains("已载入 1 人"), "{}", page.body);
}
