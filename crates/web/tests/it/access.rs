//! Who may open what: every page and API route against every kind of account.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::Method;

use crate::common::start;

on_both_databases!(route_role_matrix, application_ownership_matrix);

const OK: u16 = 200;
const LOGIN: u16 = 303;
const NO: u16 = 403;
const UNAUTH: u16 = 401;

async fn route_role_matrix(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    app.seed("dongguan-2023.toml").await;
    app.account("applicant@x.cn", Role::Applicant, None, None)
        .await;
    app.account(
        "gx-rec",
        Role::Recommender,
        Some("guangxi-2024"),
        Some("南宁市科协"),
    )
    .await;
    app.account(
        "gx-work",
        Role::WorkUnit,
        Some("guangxi-2024"),
        Some("广西大学"),
    )
    .await;
    app.account("gx-org", Role::Organizer, Some("guangxi-2024"), None)
        .await;
    app.account("dg-org", Role::Organizer, Some("dongguan-2023"), None)
        .await;
    app.account("expert", Role::Expert, Some("dongguan-2023"), None)
        .await;
    app.account("admin", Role::Admin, None, None).await;

    let who = [
        "anonymous",
        "applicant@x.cn",
        "gx-rec",
        "gx-work",
        "gx-org",
        "dg-org",
        "expert",
        "admin",
    ];
    // One row per route: the expected status for each column of `who`.
    let pages: &[(&str, [u16; 8])] = &[
        ("/home", [LOGIN, OK, OK, OK, OK, OK, OK, OK]),
        ("/account", [LOGIN, OK, OK, OK, OK, OK, OK, OK]),
        ("/notices", [LOGIN, OK, OK, OK, OK, OK, OK, OK]),
        ("/applications/mine", [LOGIN, OK, NO, NO, NO, NO, NO, NO]),
        ("/applications/review", [LOGIN, NO, OK, OK, OK, OK, NO, NO]),
        ("/applications/search", [LOGIN, NO, OK, OK, OK, OK, NO, NO]),
        ("/campaigns", [LOGIN, NO, NO, NO, OK, OK, NO, OK]),
        (
            "/campaigns/guangxi-2024",
            [LOGIN, NO, NO, NO, OK, NO, NO, OK],
        ),
        (
            "/campaigns/dongguan-2023",
            [LOGIN, NO, NO, NO, NO, OK, NO, OK],
        ),
        ("/codes", [LOGIN, NO, OK, NO, NO, NO, NO, NO]),
        ("/accounts", [LOGIN, NO, NO, NO, OK, OK, NO, OK]),
        ("/admin/audit", [LOGIN, NO, NO, NO, NO, NO, NO, OK]),
        // 公示与异议: the campaign's organisers (who objected is theirs alone).
        (
            "/campaigns/guangxi-2024/publicity",
            [LOGIN, NO, NO, NO, OK, NO, NO, OK],
        ),
        // Paper: the office and the campaign's recommending units (their own rows);
        // `/paper` takes a recommending unit to its campaign's page.
        (
            "/campaigns/dongguan-2023/paper",
            [LOGIN, NO, NO, NO, NO, OK, NO, OK],
        ),
        ("/paper", [LOGIN, NO, LOGIN, NO, NO, NO, NO, NO]),
        // 可疑投票核查 of a vote stage: the campaign's organisers.
        (
            "/campaigns/dongguan-2023/stages/online_vote/suspects",
            [LOGIN, NO, NO, NO, NO, OK, NO, OK],
        ),
        // 推荐公示: the recommending unit's own page.
        (
            "/campaigns/guangxi-2024/unit-publicity",
            [LOGIN, NO, OK, NO, NO, NO, NO, NO],
        ),
        ("/unit-publicity", [LOGIN, NO, LOGIN, NO, NO, NO, NO, NO]),
        // Release and the workbook of every stage: the campaign's organisers.
        (
            "/campaigns/guangxi-2024/release",
            [LOGIN, NO, NO, NO, OK, NO, NO, OK],
        ),
        (
            "/campaigns/guangxi-2024/results.xlsx",
            [LOGIN, NO, NO, NO, OK, NO, NO, OK],
        ),
        // A certificate of a campaign not released: nobody's.
        (
            "/campaigns/guangxi-2024/certificates/ZMKJ2024-001",
            [
                LOGIN, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        // The public's pages: anyone, signed in or not.
        ("/gs/follow", [OK, OK, OK, OK, OK, OK, OK, OK]),
        ("/jg/0123456789abcdef0123456789abcdef", [MISSING; 8]),
        (
            "/zs/0123456789abcdef0123456789abcdef/ZMKJ2024-001/0123456789abcdef",
            [MISSING; 8],
        ),
    ];
    let api: &[(Method, &str, [u16; 8])] = &[
        (
            Method::GET,
            "/api/v1/me",
            [UNAUTH, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/notices",
            [UNAUTH, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/campaigns",
            [UNAUTH, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/guangxi-2024",
            [UNAUTH, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/review",
            [UNAUTH, NO, OK, OK, OK, OK, NO, NO],
        ),
        (
            Method::GET,
            "/api/v1/applications/search",
            [UNAUTH, NO, OK, OK, OK, OK, NO, NO],
        ),
        (
            Method::GET,
            "/api/v1/applications",
            [UNAUTH, OK, OK, OK, OK, OK, OK, OK],
        ),
        (
            Method::GET,
            "/api/v1/codes",
            [UNAUTH, NO, OK, NO, NO, NO, NO, NO],
        ),
        // Replacing 广西's file: its organiser and the admin only.
        (
            Method::PUT,
            "/api/v1/campaigns",
            [UNAUTH, NO, NO, NO, OK, NO, NO, OK],
        ),
        (
            Method::POST,
            "/api/v1/campaigns/check",
            [UNAUTH, NO, NO, NO, OK, OK, NO, OK],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/guangxi-2024/publicity",
            [UNAUTH, NO, NO, NO, OK, NO, NO, OK],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/guangxi-2024/release",
            [UNAUTH, NO, NO, NO, OK, NO, NO, OK],
        ),
        // 可疑投票核查: the campaign's organisers.
        (
            Method::GET,
            "/api/v1/campaigns/dongguan-2023/stages/online_vote/suspects",
            [UNAUTH, NO, NO, NO, NO, OK, NO, OK],
        ),
    ];
    let guangxi = pingxuan_rules::campaign::SEEDS[0].1.to_owned();
    let mut failures = Vec::new();
    for (col, login) in who.iter().enumerate() {
        let (mut client, token) = if *login == "anonymous" {
            (app.client(), None)
        } else {
            let c = app.signed_in(login).await;
            let uid = app.store.find_user(login).await.unwrap().unwrap().id;
            let (_, token) = app
                .store
                .create_api_token(uid, "matrix", pingxuan_store::testing::for_id)
                .await
                .unwrap();
            (c, Some(token))
        };
        for (path, expected) in pages {
            let got = client.get(path).await.status.as_u16();
            if got != expected[col] {
                failures.push(format!(
                    "{login} GET {path}: {got}, expected {}",
                    expected[col]
                ));
            }
        }
        let mut api_client = app.client();
        for (method, path, expected) in api {
            let body = (*method != Method::GET).then(|| guangxi.clone());
            let got = api_client
                .api(method.clone(), path, token.as_deref(), body)
                .await
                .status
                .as_u16();
            let expected = expected[col];
            if got != expected {
                failures.push(format!(
                    "{login} {method} {path}: {got}, expected {expected}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const MISSING: u16 = 404;
const CONFLICT: u16 = 409;

/// One application of 广西 (南宁市科协's code, 广西大学 as work unit) that the work unit
/// has forwarded to the recommender, against every kind of account: its applicant,
/// another applicant, its work unit and recommender, another unit of each kind, its
/// campaign's organiser (it oversees the campaign once an application is submitted,
/// acting only when the application reaches it), another campaign's organiser, the admin.
/// Whoever may not see it gets 404, on the pages and in the API alike.
async fn application_ownership_matrix(db: TestDb) {
    use serde_json::json;
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("guangxi-2024.toml").await;
    app.seed("dongguan-2023.toml").await;
    let cid = "guangxi-2024";
    let unit = |name: &'static str, role: Role, cat: Option<&'static str>| {
        let store = app.store.clone();
        async move { store.create_unit(cid, name, role, cat).await.unwrap() }
    };
    let nanning = unit("南宁市科协", Role::Recommender, Some("city")).await;
    let liuzhou = unit("柳州市科协", Role::Recommender, Some("city")).await;
    let gxu = unit("广西大学", Role::WorkUnit, None).await;
    let other_school = unit("广西医科大学", Role::WorkUnit, None).await;
    let mut ids = std::collections::HashMap::new();
    ids.insert(
        "owner@x.cn",
        app.account("owner@x.cn", Role::Applicant, None, None).await,
    );
    ids.insert(
        "other@x.cn",
        app.account("other@x.cn", Role::Applicant, None, None).await,
    );
    ids.insert(
        "gx-work",
        app.unit_account("gx-work", Role::WorkUnit, cid, gxu).await,
    );
    ids.insert(
        "other-work",
        app.unit_account("other-work", Role::WorkUnit, cid, other_school)
            .await,
    );
    ids.insert(
        "gx-rec",
        app.unit_account("gx-rec", Role::Recommender, cid, nanning)
            .await,
    );
    ids.insert(
        "other-rec",
        app.unit_account("other-rec", Role::Recommender, cid, liuzhou)
            .await,
    );
    ids.insert(
        "gx-org",
        app.account("gx-org", Role::Organizer, Some(cid), None)
            .await,
    );
    ids.insert(
        "dg-org",
        app.account("dg-org", Role::Organizer, Some("dongguan-2023"), None)
            .await,
    );
    ids.insert("admin", app.account("admin", Role::Admin, None, None).await);
    app.store
        .extend_deadline(
            cid,
            "recommender",
            None,
            pingxuan_store::now() + 86_400,
            "测试",
            ids["gx-org"],
            &pingxuan_store::testing::audit(),
        )
        .await
        .unwrap();
    let mut tokens = std::collections::HashMap::new();
    for (login, id) in &ids {
        tokens.insert(*login, app.token(*id).await);
    }
    let (_, code) = app
        .call(
            Method::POST,
            "/api/v1/codes",
            &tokens["gx-rec"],
            json!({"unit": nanning, "work_unit": gxu.to_string()}),
        )
        .await;
    let (_, j) = app
        .call(
            Method::POST,
            "/api/v1/applications",
            &tokens["owner@x.cn"],
            json!({"code": code["code"]}),
        )
        .await;
    let id = j["id"].as_i64().unwrap();
    crate::codes::fill(
        &app,
        "guangxi-2024.toml",
        &tokens["owner@x.cn"],
        id,
        "测试人员",
    )
    .await;
    // While it is a draft, nobody but its applicant sees it: not its units, not the office.
    let mut failures = Vec::new();
    for login in ids.keys() {
        let expected = if *login == "owner@x.cn" { OK } else { MISSING };
        let mut client = app.signed_in(login).await;
        for path in [format!("/applications/{id}/flow"), format!("/review/{id}")] {
            let got = client.get(&path).await.status.as_u16();
            let expected = if path.starts_with("/review") {
                MISSING
            } else {
                expected
            };
            if got != expected {
                failures.push(format!(
                    "draft: {login} GET {path}: {got}, expected {expected}"
                ));
            }
        }
        let (got, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/applications/{id}"),
                &tokens[login],
                json!({}),
            )
            .await;
        if got.as_u16() != expected {
            failures.push(format!(
                "draft: {login} API GET: {got}, expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    app.furnish(id).await;
    let (s, _) = crate::codes::submit(&app, &tokens["owner@x.cn"], id, json!({})).await;
    assert_eq!(s.as_u16(), OK);
    let (s, _) =
        crate::codes::submit(&app, &tokens["gx-work"], id, json!({"comment": "同意"})).await;
    assert_eq!(s.as_u16(), OK);
    // The recommender opens it first, so that no recall below can move it.
    let (s, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{id}/open"),
            &tokens["gx-rec"],
            json!({}),
        )
        .await;
    assert_eq!(s.as_u16(), OK);

    let who = [
        "owner@x.cn",
        "other@x.cn",
        "gx-work",
        "other-work",
        "gx-rec",
        "other-rec",
        "gx-org",
        "dg-org",
        "admin",
    ];
    let pages: Vec<(String, [u16; 9])> = vec![
        (
            format!("/applications/{id}"),
            [
                OK, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            format!("/applications/{id}/flow"),
            [OK, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING],
        ),
        (
            format!("/review/{id}"),
            [
                MISSING, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING,
            ],
        ),
    ];
    // Page forms that must not move it: the applicant's save, 我承诺 and 收回 (it is no
    // longer theirs: 409); a unit's 退回 and 提交 when it does not hold it (409) or
    // without the words they need (422), 收回 with nothing to take back (409).
    type FormRow<'a> = (String, Vec<(&'a str, &'a str)>, [u16; 9]);
    let posts: Vec<FormRow> = vec![
        (
            format!("/applications/{id}"),
            vec![("action", "save"), ("version", "2")],
            [
                CONFLICT, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            // 我承诺 again is harmless: the first commitment's time stays.
            format!("/applications/{id}/commit"),
            vec![],
            [
                LOGIN, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            format!("/applications/{id}/recall"),
            vec![],
            [
                CONFLICT, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            format!("/review/{id}/return"),
            vec![("comment", "")],
            [
                MISSING, MISSING, CONFLICT, MISSING, 422, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
        (
            format!("/review/{id}/submit"),
            vec![("comment", "")],
            [
                MISSING, MISSING, CONFLICT, MISSING, 422, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
        (
            format!("/review/{id}/recall"),
            vec![],
            [
                MISSING, MISSING, CONFLICT, MISSING, CONFLICT, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
    ];
    // Reads, then writes that must not reveal or change anything for outsiders. Those
    // who see it get the real answer: an owner's form is no longer editable (409), a
    // 退回 without 修改意见 is refused (422), 办理 shows it (and records the holder's
    // first opening).
    let api: Vec<(Method, String, [u16; 9])> = vec![
        (
            Method::GET,
            format!("/api/v1/applications/{id}"),
            [OK, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING],
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{id}/attachments"),
            [OK, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING],
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{id}/materials"),
            [OK, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING],
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/commit"),
            [
                OK, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/submit"),
            [
                CONFLICT, MISSING, CONFLICT, MISSING, 422, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/recall"),
            [
                CONFLICT, MISSING, CONFLICT, MISSING, CONFLICT, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
        (
            Method::PUT,
            format!("/api/v1/applications/{id}/form"),
            [
                CONFLICT, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING,
            ],
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/return"),
            [
                MISSING, MISSING, CONFLICT, MISSING, 422, MISSING, CONFLICT, MISSING, MISSING,
            ],
        ),
        (
            Method::POST,
            format!("/api/v1/applications/{id}/open"),
            [
                MISSING, MISSING, OK, MISSING, OK, MISSING, OK, MISSING, MISSING,
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (col, login) in who.iter().enumerate() {
        let mut client = app.signed_in(login).await;
        for (path, expected) in &pages {
            let got = client.get(path).await.status.as_u16();
            if got != expected[col] {
                failures.push(format!(
                    "{login} GET {path}: {got}, expected {}",
                    expected[col]
                ));
            }
        }
        let csrf = client.csrf("/account").await;
        for (path, fields, expected) in &posts {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields.iter().copied());
            let got = client.post_form(path, &form).await.status.as_u16();
            if got != expected[col] {
                failures.push(format!(
                    "{login} POST {path}: {got}, expected {}",
                    expected[col]
                ));
            }
        }
        // A forged token is refused on every form, whoever posts it, before anything else.
        for (path, fields, _) in &posts {
            let mut form = vec![("csrf", "forged")];
            form.extend(fields.iter().copied());
            let r = client.post_form(path, &form).await;
            if r.status.as_u16() != 422 || !r.body.contains("页面已过期或来源不明") {
                failures.push(format!(
                    "{login} POST {path} with a forged token: {}, expected 422",
                    r.status
                ));
            }
        }
        for (method, path, expected) in &api {
            let body = if *method == Method::PUT {
                json!({"version": 2, "values": {}})
            } else {
                json!({})
            };
            let (got, j) = app.call(method.clone(), path, &tokens[login], body).await;
            if got.as_u16() != expected[col] {
                failures.push(format!(
                    "{login} {method} {path}: {got} {j}, expected {}",
                    expected[col]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Nothing moved: the recommender still holds it, unopened by anyone else.
    let stored = app.store.get_application(id).await.unwrap().unwrap();
    assert_eq!(stored.state_text, "所在单位提交到推荐单位");
}
