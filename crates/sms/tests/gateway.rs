//! The `http` provider against a loopback gateway that records what it receives and can
//! answer as a gateway that sent, refused, or hangs; `console` writing its file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use pingxuan_sms::{Console, Gateway, Http, Message, Sms, SmsError};

#[derive(Clone, Default)]
struct Recorded {
    requests: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

fn record(rec: &Recorded, h: HeaderMap, b: String) {
    rec.requests.lock().unwrap().push((h, b));
}

/// A gateway on a random loopback port: `/ok` sends, `/refuse` answers 200 without the
/// success text, `/down` answers 503, `/hang` never answers in time.
async fn gateway() -> (String, Recorded) {
    let rec = Recorded::default();
    let app = axum::Router::new()
        .route(
            "/ok",
            post(
                |State(r): State<Recorded>, h: HeaderMap, b: String| async move {
                    record(&r, h, b);
                    (StatusCode::OK, r#"{"code":0,"msg":"sent"}"#)
                },
            ),
        )
        .route(
            "/refuse",
            post(
                |State(r): State<Recorded>, h: HeaderMap, b: String| async move {
                    record(&r, h, b);
                    (StatusCode::OK, r#"{"code":1001,"msg":"余额不足"}"#)
                },
            ),
        )
        .route(
            "/down",
            post(
                |State(r): State<Recorded>, h: HeaderMap, b: String| async move {
                    record(&r, h, b);
                    (StatusCode::SERVICE_UNAVAILABLE, "down")
                },
            ),
        )
        .route(
            "/hang",
            post(
                |State(r): State<Recorded>, h: HeaderMap, b: String| async move {
                    record(&r, h, b);
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "too late"
                },
            ),
        )
        .with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rec)
}

fn configured(url: &str, path: &str) -> Gateway {
    Gateway::from_toml(&format!(
        r#"
url = "{url}{path}"
body = '{{"mobile":"{{phone}}","content":"{{text}}"}}'
secret = "shared-secret"
success_contains = '"code":0'
timeout_secs = 1
[headers]
X-App-Id = "pingxuan"
"#
    ))
    .unwrap()
}

const MESSAGE: Message<'static> = Message {
    phone: "13812345678",
    text: "【东莞最美科技工作者】您的投票验证码为 123456，5 分钟内有效。",
    code: "123456",
};

#[tokio::test]
async fn the_gateway_gets_the_configured_request() {
    let (url, rec) = gateway().await;
    Http::new(configured(&url, "/ok"))
        .send(&MESSAGE)
        .await
        .unwrap();
    let requests = rec.requests.lock().unwrap();
    let (headers, body) = &requests[0];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["mobile"], "13812345678");
    assert_eq!(json["content"], MESSAGE.text);
    assert_eq!(headers["x-app-id"], "pingxuan");
    assert_eq!(headers["content-type"], "application/json");
    // The signature is the HMAC of the body under the shared secret.
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"shared-secret").unwrap();
    mac.update(body.as_bytes());
    assert_eq!(
        headers["x-signature"].to_str().unwrap(),
        hex::encode(mac.finalize().into_bytes())
    );
}

#[tokio::test]
async fn a_refusal_a_failure_and_a_hang_are_errors() {
    let (url, _) = gateway().await;
    let e = Http::new(configured(&url, "/refuse"))
        .send(&MESSAGE)
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Refused { status: 200, .. }), "{e}");
    let e = Http::new(configured(&url, "/down"))
        .send(&MESSAGE)
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Refused { status: 503, .. }), "{e}");
    let started = std::time::Instant::now();
    let e = Http::new(configured(&url, "/hang"))
        .send(&MESSAGE)
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Timeout(_)), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout holds"
    );
    // Nobody listening.
    let e = Http::new(configured("http://127.0.0.1:9", "/"))
        .send(&MESSAGE)
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::Unreachable(_)), "{e}");
}

#[tokio::test]
async fn console_appends_the_codes_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sms.log");
    let console = Console {
        file: Some(file.clone()),
    };
    console.send(&MESSAGE).await.unwrap();
    console.send(&MESSAGE).await.unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.starts_with("13812345678\t123456\t【"));
}

#[test]
fn settings_name_the_provider() {
    assert!(pingxuan_sms::from_setting("console", None).is_ok());
    assert!(
        pingxuan_sms::from_setting("carrier-pigeon", None)
            .err()
            .unwrap()
            .contains("console 或 http:")
    );
    assert!(Gateway::from_toml("url = \"ftp://x\"\nbody = \"\"").is_err());
}

#[test]
fn form_bodies_escape_their_values() {
    let g = Gateway::from_toml(
        "url = \"http://127.0.0.1:1/\"\nbody = \"to={phone}&msg={text}\"\ncontent_type = \"application/x-www-form-urlencoded\"",
    )
    .unwrap();
    let m = Message {
        phone: "13812345678",
        text: "码 1&2+3",
        code: "123456",
    };
    assert_eq!(g.body_for(&m), "to=13812345678&msg=%E7%A0%81+1%262%2B3");
}
