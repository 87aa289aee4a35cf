//! A real server on a random port over a fresh database, and a small client that keeps
//! the session cookie and the CSRF token the way a browser would.

use std::net::SocketAddr;

use pingxuan_rules::Role;
use pingxuan_rules::campaign::SEEDS;
use pingxuan_store::Store;
use pingxuan_store::accounts::NewUser;
use pingxuan_store::crypto::token_hash;
use pingxuan_store::testing::TestDb;
use pingxuan_web::{AppState, CaptchaPolicy, WebConfig};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use sqlx::Row;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "Kexie-2024-ok";

pub struct TestApp {
    pub url: String,
    pub store: Store,
    /// Uploaded files of this test (local storage).
    pub files: tempfile::TempDir,
    /// The server's state, for calling its background jobs directly.
    pub state: AppState,
    _shutdown: oneshot::Sender<()>,
    _db: TestDb,
}

pub async fn start(db: TestDb, captcha: CaptchaPolicy) -> TestApp {
    start_with_storage(db, captcha, "").await
}

/// `start` with the uploaded files where the storage setting says (`""`: a temporary
/// local folder, `s3://…`: a bucket).
pub async fn start_with_storage(db: TestDb, captcha: CaptchaPolicy, storage: &str) -> TestApp {
    start_tuned(db, captcha, storage, |_| {}).await
}

/// `start_with_storage` with settings changed by `tune` before the server starts.
pub async fn start_tuned(
    db: TestDb,
    captcha: CaptchaPolicy,
    storage: &str,
    tune: impl FnOnce(&mut WebConfig),
) -> TestApp {
    let store = db.store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    let mut config = WebConfig::new(&url);
    config.captcha = captcha;
    config.auth_requests_per_minute = 1000;
    let files = tempfile::tempdir().unwrap();
    config.blobs = Some(pingxuan_blobs::Blobs::from_url(storage, files.path()).unwrap());
    // Voters' codes go to the log and a file the tests read, as `--sms-file` does.
    config.sms = pingxuan_web::config::SmsProvider(std::sync::Arc::new(pingxuan_sms::Console {
        file: Some(files.path().join("sms.txt")),
    }));
    tune(&mut config);
    let state = AppState::new(store.clone(), config);
    // As `pingxuan serve` does: the export jobs run beside the server.
    pingxuan_workers::start_exports(&state.filing);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(pingxuan_web::serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    TestApp {
        url,
        store,
        files,
        state,
        _shutdown: tx,
        _db: db,
    }
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client {
            base: self.url.clone(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    /// Loads a seed campaign straight into the store.
    pub async fn seed(&self, file: &str) {
        let (_, text) = SEEDS.iter().find(|(n, _)| *n == file).unwrap();
        let c = pingxuan_rules::campaign::load(text).campaign.unwrap();
        self.store
            .save_campaign(&c, text, None, pingxuan_store::testing::for_id)
            .await
            .unwrap();
    }

    /// Creates an account holding one role, returns its id.
    pub async fn account(
        &self,
        login: &str,
        role: Role,
        campaign: Option<&str>,
        unit: Option<&str>,
    ) -> i64 {
        let id = self
            .store
            .create_user(NewUser {
                login: login.to_owned(),
                display_name: format!("{login} 的名字"),
                email: login.contains('@').then(|| login.to_owned()),
                mobile: None,
                password: PASSWORD.to_owned(),
            })
            .await
            .unwrap();
        let unit_id = match (unit, campaign) {
            (Some(name), Some(c)) => {
                Some(self.store.create_unit(c, name, role, None).await.unwrap())
            }
            _ => None,
        };
        self.store
            .grant_role(id, role, campaign, unit_id)
            .await
            .unwrap();
        id
    }

    /// Attaches what the campaign requires of every level of the application's chain
    /// (the fewest files each material asks for), so a test about the way up the chain
    /// can 提交 at each level. The files are stored as written by the store, not measured:
    /// uploading and checking real files is `materials.rs`'s business.
    pub async fn furnish(&self, application_id: i64) {
        self.furnish_level(application_id, None).await;
    }

    /// Attaches what the chain's level `at` must (every level's when `None`).
    pub async fn furnish_level(&self, application_id: i64, at: Option<usize>) {
        let l = pingxuan_web::applications::flow::load(&self.state.store, application_id)
            .await
            .unwrap();
        let have = self.store.attachments_of(application_id).await.unwrap();
        for m in &l.campaign.materials {
            let Some(level) = pingxuan_rules::materials::holder(&l.campaign, &l.chain, m) else {
                continue;
            };
            if at.is_some_and(|at| at != level) {
                continue;
            }
            let need = m.min_count.unwrap_or(u32::from(m.required)) as usize;
            let present = have.iter().filter(|a| a.material_key == m.key).count();
            for n in present..need {
                let format = m.formats.first().map_or("pdf", String::as_str);
                let name = format!("{}-{n}.{format}", m.key);
                let blob_key = format!("furnished/{application_id}/{name}");
                self.state
                    .blobs
                    .put(&blob_key, format!("{} {level}", m.name).into_bytes().into())
                    .await
                    .unwrap();
                let new = pingxuan_store::attachments::NewAttachment {
                    application_id,
                    material_key: &m.key,
                    blob_key: &blob_key,
                    original_name: &name,
                    format,
                    content_type: "application/octet-stream",
                    size: 1,
                    sha256: "",
                    measured: "{}",
                    uploaded_by: l.app.applicant_id,
                    sender: "",
                };
                self.store
                    .add_attachment(&new, m, &pingxuan_store::testing::audit())
                    .await
                    .unwrap();
            }
        }
    }

    /// Creates an account holding `role` for an existing unit, returns its id.
    pub async fn unit_account(&self, login: &str, role: Role, campaign: &str, unit: i64) -> i64 {
        let id = self
            .store
            .create_user(NewUser {
                login: login.to_owned(),
                display_name: format!("{login} 的名字"),
                email: None,
                mobile: None,
                password: PASSWORD.to_owned(),
            })
            .await
            .unwrap();
        self.store
            .grant_role(id, role, Some(campaign), Some(unit))
            .await
            .unwrap();
        id
    }

    /// The last verification code the server sent to `phone` (the console provider's file).
    pub fn sms_code(&self, phone: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.files.path().join("sms.txt")).unwrap_or_default();
        text.lines()
            .rev()
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, f.next()?))
            })
            .find(|(p, _)| *p == phone)
            .map(|(_, c)| c.to_owned())
    }

    /// A personal API token for the account.
    /// A new applicant account's API token.
    pub async fn applicant_token(&self, login: &str) -> String {
        let id = self.account(login, Role::Applicant, None, None).await;
        self.token(id).await
    }

    pub async fn token(&self, user_id: i64) -> String {
        self.store
            .create_api_token(user_id, "test", pingxuan_store::testing::for_id)
            .await
            .unwrap()
            .1
    }

    /// A JSON API call with a bearer token: (status, body as JSON or null).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let json = r
            .json::<serde_json::Value>()
            .await
            .unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// A GET with a bearer token, the response as it came (downloads).
    pub async fn fetch(&self, token: &str, path: &str) -> reqwest::Response {
        reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Packs the caller's 推荐材料 as a background job, waits for it (a minute at most) and
    /// returns the job as last seen and the download's response.
    pub async fn export_bundle(
        &self,
        token: &str,
        campaign: &str,
    ) -> (serde_json::Value, reqwest::Response) {
        let (s, job) = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/campaigns/{campaign}/exports"),
                token,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{job}");
        let id = job["id"].as_str().unwrap().to_owned();
        let started = std::time::Instant::now();
        let job = loop {
            let (s, job) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/exports/{id}"),
                    token,
                    serde_json::Value::Null,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{job}");
            match job["state"].as_str().unwrap() {
                "done" | "failed" => break job,
                _ => {
                    assert!(
                        started.elapsed().as_secs() < 60,
                        "export still running: {job}"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        };
        let r = self
            .fetch(token, &format!("/api/v1/exports/{id}/download"))
            .await;
        (job, r)
    }

    /// A client signed in as `login`.
    pub async fn signed_in(&self, login: &str) -> Client {
        let mut c = self.client();
        c.get("/login").await;
        let r = c.login(login, PASSWORD, None).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "login of {login} failed: {}",
            r.body
        );
        c
    }

    /// The captcha answer the server holds for a client's session (what a person reads
    /// off the image).
    pub async fn captcha_answer(&self, client: &Client) -> Option<String> {
        self.captcha_answer_of(client.cookie.as_deref().unwrap())
            .await
    }

    /// The same, for a session cookie's value (a real browser's).
    pub async fn captcha_answer_of(&self, cookie: &str) -> Option<String> {
        let hash = token_hash(cookie);
        sqlx::query("SELECT captcha_answer FROM sessions WHERE id_hash = $1")
            .bind(hash)
            .fetch_one(&self.store.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub cookie: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The value of `<input name="NAME" value="...">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

impl Client {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", format!("px_session={c}")),
            None => req,
        };
        let resp = req.send().await.unwrap();
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("px_session=") {
                let value = rest.split(';').next().unwrap();
                self.cookie = (!value.is_empty()).then(|| value.to_owned());
            }
        }
        Reply {
            status: resp.status(),
            location: resp
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Posts a form and, when it is answered with a redirect (a move that happened),
    /// follows it as a browser does: the page after the move.
    pub async fn post_follow(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let r = self.post_form(path, form).await;
        match (r.status, &r.location) {
            (StatusCode::SEE_OTHER, Some(to)) => {
                let to = to.clone();
                self.get(&to).await
            }
            _ => r,
        }
    }

    /// A form with one file, sent as `multipart/form-data` as a browser sends it.
    pub async fn post_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Reply {
        let boundary = "----pingxuan-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        let (field, name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    /// The CSRF token of the current session, read from a page's form.
    pub async fn csrf(&mut self, page: &str) -> String {
        let r = self.get(page).await;
        input_value(&r.body, "csrf").unwrap_or_else(|| panic!("no csrf on {page}: {}", r.body))
    }

    pub async fn login(&mut self, login: &str, password: &str, captcha: Option<&str>) -> Reply {
        let csrf = self.csrf("/login").await;
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("login", login),
            ("password", password),
        ];
        if let Some(c) = captcha {
            form.push(("captcha", c));
        }
        self.post_form("/login", &form).await
    }

    pub async fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/toml").body(b);
        }
        self.send(req).await
    }
}

// The 新疆 推荐表 filled in as the page and the API send it, shared by the tests and
// the moves bench.

/// The complete 新疆 推荐表 as the API takes it, with the name replaced.
pub fn xinjiang_values(name: &str) -> serde_json::Value {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "xinjiang-2023.toml")
        .unwrap();
    let campaign = pingxuan_rules::campaign::load(text).campaign.unwrap();
    let pairs: Vec<(String, String)> = filled("", "", "")
        .into_iter()
        .map(|(k, v)| {
            let v = if k == "f.name" { name } else { v };
            (k.to_owned(), v.to_owned())
        })
        .collect();
    serde_json::to_value(pingxuan_web::applications::flow::read_form(
        &campaign, &pairs,
    ))
    .unwrap()
}

/// A new applicant `login` with a 新疆 application of `name` to `unit`, filled and committed;
/// with its materials and submitted when `submit`. Returns (token, application id).
pub async fn xinjiang_candidate(
    app: &TestApp,
    login: &str,
    name: &str,
    unit: i64,
    submit: bool,
) -> (String, i64) {
    xinjiang_candidate_with(app, login, xinjiang_values(name), unit, submit).await
}

/// The same with the 推荐表's `values` as given (a 院士, someone young …).
pub async fn xinjiang_candidate_with(
    app: &TestApp,
    login: &str,
    values: serde_json::Value,
    unit: i64,
    submit: bool,
) -> (String, i64) {
    let me = app.applicant_token(login).await;
    let (s, j) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/applications",
            &me,
            serde_json::json!({"campaign": "xinjiang-2023", "recommender": unit}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let id = j["id"].as_i64().unwrap();
    fill_and_commit_values(app, &me, id, values).await;
    let at = |a: &str| format!("/api/v1/applications/{id}/{a}");
    if submit {
        app.furnish(id).await;
        let (s, j) = app
            .call(
                reqwest::Method::POST,
                &at("submit"),
                &me,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
    }
    (me, id)
}

/// Stores the complete 新疆 form of `name` into a new application (version 1) and
/// commits it.
pub async fn fill_and_commit(app: &TestApp, token: &str, id: i64, name: &str) {
    fill_and_commit_values(app, token, id, xinjiang_values(name)).await;
}

/// Stores `values` as the form of a new application (version 1) and commits it.
pub async fn fill_and_commit_values(
    app: &TestApp,
    token: &str,
    id: i64,
    values: serde_json::Value,
) {
    let at = |a: &str| format!("/api/v1/applications/{id}/{a}");
    let (s, j) = app
        .call(
            reqwest::Method::PUT,
            &at("form"),
            token,
            serde_json::json!({"version": 1, "values": values}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = app
        .call(
            reqwest::Method::POST,
            &at("commit"),
            token,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
}

/// A complete 新疆 推荐表 as the page posts it.
pub fn filled<'a>(csrf: &'a str, version: &'a str, action: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("version", version),
        ("action", action),
        ("f.id_number", "11010519491231002X"),
        ("f.name", "测试人员"),
        ("f.sex", "女"),
        ("f.ethnicity", "汉族"),
        ("f.birth_month", "1949年12月"),
        ("f.native_place", "新疆乌鲁木齐"),
        ("f.political_status", "中共党员"),
        ("f.education", "研究生"),
        ("f.degree", "博士"),
        ("f.school", "新疆大学"),
        ("f.major", "作物学"),
        ("f.employer_and_post", "新疆农业科学院作物研究所所长"),
        ("f.duties", "主持棉花育种研究"),
        ("f.title", "研究员"),
        ("f.office_phone", "0991-6386020"),
        ("f.mobile", "13800000000"),
        ("f.email", "ceshi@example.com"),
        ("f.address", "乌鲁木齐市南昌路403号"),
        ("f.postcode", "830091"),
        ("f.field", "服务社会"),
        ("f.academician", "否"),
        ("f.deeds", "扎根南疆三十年，培育棉花新品种十余个。"),
        ("f.stories", "一个感人的故事。"),
        ("e.work_region", "是"),
        ("e.active_military", "否"),
        ("e.civil_servant_bureau_level", "否"),
        ("e.national_honours", "否"),
        ("e.earlier_winner", "否"),
    ]
}

/// Imports experts into `campaign`'s pool as the office: `rows` of “姓名,工作单位,学科/专业领域,
/// 电子邮箱,手机” under that header.
pub async fn import_experts(
    app: &TestApp,
    office: &pingxuan_app::Access,
    campaign: &str,
    rows: &[&str],
) -> pingxuan_app::experts::Imported {
    let table: pingxuan_app::tables::Table =
        std::iter::once("姓名,工作单位,学科/专业领域,电子邮箱,手机")
            .chain(rows.iter().copied())
            .map(|r| r.split(',').map(str::to_owned).collect())
            .collect();
    pingxuan_app::experts::import(&app.store, office, campaign, &table, None)
        .await
        .unwrap()
}

/// The access of the account `login` (an office, an expert), as a use case takes it.
pub async fn access_of(app: &TestApp, login: &str) -> pingxuan_app::Access {
    let user = app.store.find_user(login).await.unwrap().unwrap();
    pingxuan_app::Access::load(&app.store, user.id)
        .await
        .unwrap()
        .unwrap()
}

/// Experts imported into `campaign`'s pool by `office` (rows as `import_experts` takes
/// them); their account ids in the rows' order.
pub async fn pool_of(app: &TestApp, office: &str, campaign: &str, rows: &[&str]) -> Vec<i64> {
    let office = access_of(app, office).await;
    import_experts(app, &office, campaign, rows).await;
    let pool = app.store.experts(campaign).await.unwrap();
    rows.iter()
        .map(|r| {
            let name = r.split(',').next().unwrap();
            pool.iter().find(|e| e.name == name).unwrap().user_id
        })
        .collect()
}
