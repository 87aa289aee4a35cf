//! The vote over HTTP, as a voter's phone does it: the page with its rules and cards
//! (search, a candidate's page), the phone proven (the captcha first where the server
//! asks, the code from the `console` provider's file), votes with receipts, a retried
//! request answered with the first receipt, the limits in the voter's words, refusals
//! as JSON at their field; a vote from another site refused; the expert's ballot page.

use std::collections::BTreeMap;

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, start};
use crate::votes::{ALWAYS, open_round};

on_both_databases!(
    a_voter_proves_a_phone_and_votes_through_the_page,
    the_captcha_comes_before_the_sms,
    an_expert_submits_the_ballot_on_the_page,
    the_edge_refuses_a_flood_and_trusts_only_its_proxies
);

const CID: &str = "dongguan-2023";
const STAGE: &str = "online_vote";

/// A phone's browser: keeps its cookies as WeChat's browser does.
pub(crate) struct Phone {
    base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    /// Sent as `Origin` on writes (a page of ours, unless a test says otherwise).
    pub origin: String,
    /// Sent as `X-Forwarded-For`, as a proxy in front would.
    pub forwarded: Option<String>,
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The refusal's (code, message, field).
    pub fn refusal(&self) -> (String, String, Option<String>) {
        let j = self.json();
        let e = &j["error"];
        (
            e["code"].as_str().unwrap_or_default().to_owned(),
            e["message"].as_str().unwrap_or_default().to_owned(),
            e["field"].as_str().map(str::to_owned),
        )
    }
}

impl Phone {
    pub fn new(app: &TestApp) -> Phone {
        Phone {
            base: app.url.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            origin: app.url.clone(),
            forwarded: None,
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let req = match &self.forwarded {
            Some(f) => req.header("x-forwarded-for", f),
            None => req,
        };
        let req = req.header("cookie", cookie.join("; ")).header(
            "user-agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50",
        );
        let r = req.send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Answer {
            status: r.status(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", self.origin.clone())
            .json(&body);
        self.send(req).await
    }

    /// Proves `phone` with the code the console provider wrote (captcha off).
    pub async fn prove(&mut self, app: &TestApp, phone: &str) {
        let r = self
            .post(
                &format!("/api/v1/votes/{CID}/codes"),
                json!({"phone": phone}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let code = app.sms_code(phone).unwrap();
        let r = self
            .post(
                &format!("/api/v1/votes/{CID}/session"),
                json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    pub async fn vote(&mut self, n: usize, key: &str) -> Answer {
        self.post(
            &format!("/api/v1/votes/{CID}/rounds/{STAGE}/votes"),
            json!({"candidate": n, "idempotency_key": key}),
        )
        .await
    }
}

async fn a_voter_proves_a_phone_and_votes_through_the_page(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let rules =
        format!("{ALWAYS}per_candidate_per_day = 1\nshow_counts = true\nsanction = \"zero\"\n");
    let (ids, _) = open_round(&app, 3, &rules, 2).await;
    // The office hands out the page and each recommending unit's own link.
    let mut office = app.signed_in("dg-office").await;
    let stage_page = office
        .get(&format!("/campaigns/{CID}/stages/{STAGE}"))
        .await
        .body;
    assert!(
        stage_page.contains("各推荐单位的分享链接（2 个"),
        "{stage_page}"
    );
    let link = format!("/tp/{CID}/{STAGE}?s=");
    let at = stage_page.find(&format!("href=\"{link}")).unwrap() + 6;
    let unit_link = stage_page[at..at + link.len() + 8].to_owned();
    let unit_code = unit_link[link.len()..].to_owned();
    assert!(
        unit_code.bytes().all(|b| b.is_ascii_hexdigit()),
        "{unit_link}"
    );
    let mut phone = Phone::new(&app);
    phone.get(&unit_link).await;
    assert_eq!(phone.cookies["px_share"], unit_code);

    // The page: rules and sanction before the cards, each card numbered; a device cookie.
    let page = phone.get(&format!("/tp/{CID}/{STAGE}?s={unit_code}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    let share_attr = format!("data-share=\"{unit_code}\"");
    for said in [
        "投票规则",
        "每人每天可为每位候选人投 1 票",
        "该候选人票数将被清零",
        "投票中",
        "共 3 位候选人",
        "1 号",
        "候选人00",
        "候选人02",
        share_attr.as_str(),
    ] {
        assert!(html.contains(said), "{said} missing in {html}");
    }
    assert!(html.find("投票规则").unwrap() < html.find("候选人00").unwrap());
    assert_eq!(phone.cookies["px_device"].len(), 32);
    assert_eq!(phone.cookies["px_share"], unit_code);
    assert!(
        !phone.cookies.contains_key("px_session"),
        "a visit opens no session"
    );
    // Search by name and by number.
    let found = phone
        .get(&format!("/tp/{CID}/{STAGE}?q=候选人01"))
        .await
        .body;
    assert!(
        found.contains("找到 1 位") && found.contains("候选人01") && !found.contains("候选人02")
    );
    let found = phone.get(&format!("/tp/{CID}/{STAGE}?q=3")).await.body;
    assert!(
        found.contains("候选人02") && !found.contains("候选人00"),
        "{found}"
    );
    // A candidate's page.
    let one = phone.get(&format!("/tp/{CID}/{STAGE}/2")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.contains("候选人01") && one.body.contains("2 号"));
    assert_eq!(
        phone.get(&format!("/tp/{CID}/{STAGE}/9")).await.status,
        StatusCode::NOT_FOUND
    );

    // Voting first asks for the phone.
    let r = phone.vote(1, "k1").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.refusal().0, "voter_unverified");
    // A malformed phone, at its field.
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/codes"),
            json!({"phone": "1381234"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, message, field) = r.refusal();
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("phone_invalid", Some("phone"))
    );
    assert!(message.contains("手机号码"), "{message}");
    // The code, then a wrong guess counted down, then the right one.
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/codes"),
            json!({"phone": "138 1234 5678"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("138****5678")
    );
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/codes"),
            json!({"phone": "13812345678"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a second code within the minute"
    );
    let right = app.sms_code("13812345678").unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/session"),
            json!({"phone": "13812345678", "code": wrong}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, message, field) = r.refusal();
    assert_eq!(field.as_deref(), Some("code"));
    assert!(message.contains("还可尝试 4 次"), "{message}");
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/session"),
            json!({"phone": "13812345678", "code": right}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["phone"], "138****5678");
    assert!(phone.cookies.contains_key("px_voter"));
    assert!(
        phone
            .get(&format!("/tp/{CID}/{STAGE}"))
            .await
            .body
            .contains("已验证手机 <b>138****5678</b>")
    );

    // A vote and its receipt; the same request again, the same receipt.
    let r = phone.vote(1, "k1").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let receipt = r.json()["receipt"].as_str().unwrap().to_owned();
    assert_eq!(receipt.len(), 19);
    let again = phone.vote(1, "k1").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["receipt"], receipt.as_str());
    assert_eq!(again.json()["repeated"], true);
    // The day's limit, in the voter's words.
    let r = phone.vote(1, "k2").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.refusal().1, "今日已为该候选人投票，请明日 00:00 后再投");
    // Someone not in the round, at its field.
    let r = phone.vote(9, "k3").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.refusal().2.as_deref(), Some("candidate"));
    // Another site cannot vote in this browser's name.
    phone.origin = "https://evil.example".to_owned();
    let r = phone.vote(2, "k4").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.refusal().0, "csrf");
    phone.origin = app.url.clone();
    assert_eq!(phone.vote(2, "k5").await.status, StatusCode::CREATED);

    // What the vote kept: the share link it came by, the hashed device, the address.
    let row = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT share, device, client_ip, user_agent FROM votes WHERE receipt = $1",
    )
    .bind(&receipt)
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(row.0, unit_code, "the unit's link is kept with the vote");
    assert_eq!(row.1.len(), 32);
    assert_ne!(
        row.1, phone.cookies["px_device"],
        "the device is kept hashed"
    );
    assert_eq!(row.2, "127.0.0.1");
    assert!(row.3.contains("MicroMessenger"));

    // A share code that is none of the round's units' is not kept.
    let r = phone
        .post(
            &format!("/api/v1/votes/{CID}/rounds/{STAGE}/votes"),
            json!({"candidate": 3, "idempotency_key": "k6", "share": "forged1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let kept: String = sqlx::query_scalar("SELECT share FROM votes WHERE idempotency = $1")
        .bind("k6")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(kept, "");

    // The counts show (the round says so), at most 2 s old.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = phone
        .get(&format!("/api/v1/votes/{CID}/rounds/{STAGE}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let j = r.json();
    assert_eq!(j["voter"], "138****5678");
    assert_eq!(j["taking"], true);
    let votes: Vec<(u64, u64)> = j["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["number"].as_u64().unwrap(), c["votes"].as_u64().unwrap()))
        .collect();
    assert_eq!(votes, [(1, 1), (2, 1), (3, 1)]);
    let stored = app.store.vote_tallies(CID, STAGE).await.unwrap();
    assert_eq!(stored.values().sum::<i64>(), 3);
    assert!(stored.keys().any(|(_, c)| *c == ids[0]));
}

async fn the_captcha_comes_before_the_sms(db: TestDb) {
    let app = start(db, CaptchaPolicy::Always).await;
    open_round(&app, 2, ALWAYS, 2).await;
    let mut phone = Phone::new(&app);
    let codes = format!("/api/v1/votes/{CID}/codes");
    let r = phone.post(&codes, json!({"phone": "13912345678"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.refusal().2.as_deref(), Some("captcha"));
    // The image opens a session that keeps its answer.
    let img = phone.get("/tp/captcha.png").await;
    assert_eq!(img.status, StatusCode::OK);
    let session = phone.cookies["px_session"].clone();
    let answer = app.captcha_answer_of(&session).await.unwrap();
    let r = phone
        .post(&codes, json!({"phone": "13912345678", "captcha": "zzzzz"}))
        .await;
    assert_eq!(r.refusal().1, "图片验证码不正确，请看清后重新输入");
    assert!(app.sms_code("13912345678").is_none(), "no SMS went out");
    // A wrong guess spends the image: its answer no longer works.
    let r = phone
        .post(&codes, json!({"phone": "13912345678", "captcha": answer}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    phone.get("/tp/captcha.png").await;
    let answer = app.captcha_answer_of(&session).await.unwrap();
    let r = phone
        .post(
            &codes,
            json!({"phone": "13912345678", "captcha": answer.to_uppercase()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(app.sms_code("13912345678").is_some());
}

async fn an_expert_submits_the_ballot_on_the_page(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, office) = open_round(&app, 3, ALWAYS, 2).await;
    crate::common::import_experts(
        &app,
        &office,
        CID,
        &[
            "陈专家,东莞市第0推荐单位,材料科学,chen@example.com,",
            "林专家,东莞理工学院,电子信息,lin@example.com,",
        ],
    )
    .await;
    let pool = app.store.experts(CID).await.unwrap();
    // Imported experts set their password by their invitation; here, directly.
    let login = |name: &str| {
        let id = pool.iter().find(|e| e.name == name).unwrap().user_id;
        let store = app.store.clone();
        async move {
            store
                .set_password(
                    id,
                    crate::common::PASSWORD,
                    &pingxuan_store::testing::audit(),
                )
                .await
                .unwrap();
            store.get_user(id).await.unwrap().unwrap().login
        }
    };
    let mut chen = app.signed_in(&login("陈专家").await).await;
    let path = format!("/tp/{CID}/{STAGE}/ballot");
    assert!(chen.get("/reviews").await.body.contains("进入专业组投票"));
    let page = chen.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("不超过 <b>2</b> 人"), "{}", page.body);
    assert!(page.body.contains("须回避："), "the conflicts are marked");
    let csrf = crate::common::input_value(&page.body, "csrf").unwrap();
    // A conflicted candidate is refused with the reason; nothing is stored.
    let (a, c) = (ids[0].to_string(), ids[2].to_string());
    let r = chen
        .post_form(&path, &[("csrf", &csrf), ("c", &a), ("c", &c)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("须回避，不能选择"), "{}", r.body);
    let r = chen.post_follow(&path, &[("csrf", &csrf), ("c", &c)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("专业组投票已提交，不能更改"), "{}", r.body);
    let r = chen.post_form(&path, &[("csrf", &csrf), ("c", &c)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The public page's API is no way around it: an expert votes only on the ballot.
    let token = app
        .token(pool.iter().find(|e| e.name == "林专家").unwrap().user_id)
        .await;
    let (s, j) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/votes/{CID}/rounds/{STAGE}/ballot"),
            &token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["size"], 2);
    assert_eq!(j["candidates"].as_array().unwrap().len(), 3);
    let (s, j) = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/votes/{CID}/rounds/{STAGE}/ballot"),
            &token,
            json!({"candidates": [ids[1], ids[2]]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["receipts"].as_array().unwrap().len(), 2);
    // Someone outside the pool has no ballot.
    let stranger = app.applicant_token("passer-by@x.cn").await;
    let (s, _) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/votes/{CID}/rounds/{STAGE}/ballot"),
            &stranger,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn the_edge_refuses_a_flood_and_trusts_only_its_proxies(db: TestDb) {
    let app = crate::common::start_tuned(db, CaptchaPolicy::Off, "", |c| {
        c.edge_rates.votes_per_voter = 3;
        c.edge_rates.votes_per_ip = 4;
        c.trusted_proxies = pingxuan_web::config::parse_proxies("127.0.0.1").unwrap();
    })
    .await;
    open_round(&app, 3, ALWAYS, 2).await;
    // Behind our proxy, each phone has its own address.
    let mut a = Phone::new(&app);
    a.forwarded = Some("203.0.113.1".to_owned());
    a.prove(&app, "13800000001").await;
    let mut b = Phone::new(&app);
    b.forwarded = Some("203.0.113.1".to_owned());
    b.prove(&app, "13800000002").await;
    // The edge counts in fixed minutes: the flood below must fall inside one.
    let second = pingxuan_store::now().rem_euclid(60);
    if second > 40 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    for n in 0..3 {
        let r = a.vote(1, &format!("a{n}")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // The voter's fourth in the minute is refused before the database is asked.
    let r = a.vote(1, "a3").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.refusal().1.starts_with("操作过于频繁，请 "), "{}", r.body);
    // Others behind the same address (carrier NAT) share its allowance: four a minute
    // here, all spent above (a refused request counts too).
    assert_eq!(b.vote(2, "b0").await.status, StatusCode::TOO_MANY_REQUESTS);
    // From another address, the same phone votes again.
    b.forwarded = Some("203.0.113.2".to_owned());
    assert_eq!(b.vote(2, "b1").await.status, StatusCode::CREATED);
    let ip: String = sqlx::query_scalar("SELECT client_ip FROM votes WHERE idempotency = $1")
        .bind("b1")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(ip, "203.0.113.2", "the address our proxy named");
}
