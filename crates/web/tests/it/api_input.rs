//! The API refuses bad input in its own words: a body that is not JSON, broken JSON, a
//! missing or mistyped field, a path that names nothing, a method a path does not answer,
//! a bad query — each a 4xx with `{"error":{"code","message","field"}}` in Chinese, never
//! the framework's English plain text or an HTML page.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::start;

on_both_databases!(bad_requests_get_chinese_json_errors);

type Case<'a> = (
    Option<&'a str>,
    &'a str,
    StatusCode,
    &'a str,
    Option<&'a str>,
    &'a str,
);

/// Sends `body` as it is, with `content_type` when given: (status, content type, JSON).
async fn raw(
    url: &str,
    method: reqwest::Method,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, String, Value) {
    let mut r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .body(body.to_owned());
    if let Some(t) = content_type {
        r = r.header("content-type", t);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} not JSON: {text}"));
    (status, kind, json)
}

fn error(v: &Value) -> (&str, &str, Option<&str>) {
    let e = &v["error"];
    (
        e["code"].as_str().unwrap_or_default(),
        e["message"].as_str().unwrap_or_default(),
        e["field"].as_str(),
    )
}

async fn bad_requests_get_chinese_json_errors(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let organiser = app
        .account("office@x.cn", Role::Organizer, Some("xinjiang-2023"), None)
        .await;
    let token = app.token(organiser).await;
    let extensions = format!("{}/api/v1/campaigns/xinjiang-2023/extensions", app.url);
    let post = reqwest::Method::POST;

    // (Content-Type, body, status, code, field, words in the message)
    let cases: [Case; 6] = [
        (
            Some("text/plain"),
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
            "请以 JSON 格式提交",
        ),
        (
            None,
            "level=x",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
            "请以 JSON 格式提交",
        ),
        (
            Some("application/json"),
            "{\"level\": ",
            StatusCode::BAD_REQUEST,
            "bad_json",
            None,
            "不是有效的 JSON（第 1 行",
        ),
        (
            Some("application/json"),
            "{\"level\":\"recommender\",\"reason\":\"延期\"}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("until"),
            "缺少必填项 until",
        ),
        (
            Some("application/json"),
            "{\"level\":\"recommender\",\"until\":\"2027-01-01\",\"reason\":\"延期\",\"unit\":\"昌吉\"}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            Some("unit"),
            "unit 应为整数，收到的是文本",
        ),
        (
            Some("application/json; charset=utf-8"),
            "[]",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            None,
            "应为对象",
        ),
    ];
    for (content_type, body, status, code, field, words) in cases {
        let (got, kind, json) = raw(&extensions, post.clone(), &token, content_type, body).await;
        assert_eq!(got, status, "{body}: {json}");
        assert!(kind.starts_with("application/json"), "{body}: {kind}");
        let (c, m, f) = error(&json);
        assert_eq!((c, f), (code, field), "{body}: {json}");
        assert!(m.contains(words), "{body}: {m}");
    }
    // Nothing of the refused requests was written.
    assert!(
        app.store
            .deadline_extensions("xinjiang-2023")
            .await
            .unwrap()
            .is_empty()
    );

    // Paths and methods no route answers, a path that names nothing, a bad query.
    let get = reqwest::Method::GET;
    let (status, kind, json) = raw(
        &format!("{}/api/v1/no-such-thing", app.url),
        get.clone(),
        &token,
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(kind.starts_with("application/json"), "{kind}");
    assert_eq!(error(&json).0, "no_such_api");
    assert!(
        error(&json)
            .1
            .contains("没有这个接口：/api/v1/no-such-thing")
    );

    let (status, _, json) = raw(
        &format!("{}/api/v1/applications/12345", app.url),
        reqwest::Method::DELETE,
        &token,
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{json}");
    assert_eq!(error(&json).0, "method_not_allowed");
    assert!(error(&json).1.contains("不支持 DELETE 请求"), "{json}");

    let (status, _, json) = raw(
        &format!("{}/api/v1/applications/abc", app.url),
        get.clone(),
        &token,
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(error(&json).0, "not_found");

    let (status, _, json) = raw(
        &format!("{}/api/v1/applications/search?page=abc", app.url),
        get.clone(),
        &token,
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let (code, message, field) = error(&json);
    assert_eq!((code, field), ("bad_query", Some("page")), "{json}");
    assert!(message.contains("page 应为整数"), "{message}");

    // A page far past the end (fuzzing found one that overflowed the offset and closed
    // the connection) is an empty page, on the API and on the page alike.
    let (status, _, json) = raw(
        &format!(
            "{}/api/v1/applications/search?page=9223372036854775806",
            app.url
        ),
        get.clone(),
        &token,
        None,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(0), "{json}");

    // Pages keep their Chinese page for a path no route has.
    let page = reqwest::get(format!("{}/no-such-page", app.url))
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.text().await.unwrap().contains("找不到页面"));
}
