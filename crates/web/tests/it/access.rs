//! Who may open what: every page and API route against every kind of account.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::Method;

use crate::common::start;

on_both_databases!(route_role_matrix);

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
    ];
    let guangxi = pingxuan_rules::campaign::SEEDS[0].1.to_owned();
    let mut failures = Vec::new();
    for (col, login) in who.iter().enumerate() {
        let (mut client, token) = if *login == "anonymous" {
            (app.client(), None)
        } else {
            let c = app.signed_in(login).await;
            let uid = app.store.find_user(login).await.unwrap().unwrap().id;
            let (_, token) = app.store.create_api_token(uid, "matrix").await.unwrap();
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
