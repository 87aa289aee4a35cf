use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::StatusCode;

use crate::common::{PASSWORD, input_value, start};

on_both_databases!(
    register_login_logout,
    register_refuses_bad_input_and_duplicates,
    lockout_after_five_failures,
    captcha_always,
    captcha_after_failures,
    password_reset_by_mail,
    csrf_is_required,
    api_tokens,
    idle_session_expires,
    password_change_ends_other_sessions,
);

async fn register_login_logout(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let mut c = app.client();
    let csrf = c.csrf("/register").await;
    let r = c
        .post_form(
            "/register",
            &[
                ("csrf", &csrf),
                ("name", "李四"),
                ("login", "13912345678"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/home?welcome=1"));
    // Registered and signed in at once.
    let home = c.get("/home?welcome=1").await;
    assert!(home.body.contains("注册成功，您已登录"), "{}", home.body);
    let csrf = c.csrf("/home").await;
    c.post_form("/logout", &[("csrf", &csrf)]).await;
    // The mobile number is sealed at rest.
    let raw: Vec<String> = sqlx::query_scalar("SELECT mobile_enc FROM users")
        .fetch_all(&app.store.pool)
        .await
        .unwrap();
    assert!(!raw[0].contains("13912345678"));

    let r = c.login("13912345678", PASSWORD, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/home"));
    let home = c.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("李四，您好"));
    assert!(home.body.contains("我的申报表"));
    assert!(
        !home.body.contains("待审核申报表"),
        "applicants do not review"
    );
    let mine = c.get("/applications/mine").await;
    assert!(mine.body.contains("您还没有申报表"));
    let account = c.get("/account").await;
    assert!(
        account.body.contains("139****5678"),
        "mobile masked on the account page"
    );

    let csrf = input_value(&home.body, "csrf").unwrap();
    let r = c.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.location.as_deref(), Some("/login"));
    assert_eq!(c.get("/home").await.location.as_deref(), Some("/login"));
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&app.store.pool)
        .await
        .unwrap();
    // Registering signs in (and out, above), then the person signs in again.
    assert_eq!(actions, ["register", "login", "logout", "login", "logout"]);
}

async fn register_refuses_bad_input_and_duplicates(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let mut c = app.client();
    let csrf = c.csrf("/register").await;
    let r = c
        .post_form(
            "/register",
            &[
                ("csrf", &csrf),
                ("name", "王五"),
                ("login", "12345"),
                ("password", "short"),
                ("password2", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("“12345”不是有效的手机号或电子邮箱"),
        "{}",
        r.body
    );
    assert!(r.body.contains("密码至少 8 位，现为 5 位"));
    assert!(r.body.contains("请阅读并同意"));
    // What was typed stays (except passwords).
    assert!(r.body.contains("value=\"王五\""));

    app.account("taken@example.com", Role::Applicant, None, None)
        .await;
    let r = c
        .post_form(
            "/register",
            &[
                ("csrf", &csrf),
                ("name", "王五"),
                ("login", "Taken@Example.com"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
                ("consent", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("该手机号或电子邮箱已注册"), "{}", r.body);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(users, 1, "nothing half-created");
}

async fn lockout_after_five_failures(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("unit-a", Role::Admin, None, None).await;
    let mut c = app.client();
    for i in 1..=4 {
        let r = c.login("unit-a", "Wrong-pass-1", None).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
        assert!(
            r.body
                .contains(&format!("账号或密码不正确，还可尝试 {} 次", 5 - i)),
            "{}",
            r.body
        );
    }
    let r = c.login("unit-a", "Wrong-pass-1", None).await;
    assert!(r.body.contains("账号已锁定"), "{}", r.body);
    // Locked: even the right password is refused now.
    let r = c.login("unit-a", PASSWORD, None).await;
    assert!(
        r.body.contains("账号已锁定，请 15 分钟后再试"),
        "{}",
        r.body
    );
    // The audit trail keeps a digest of what was typed, not the text itself.
    let targets: Vec<String> =
        sqlx::query_scalar("SELECT target FROM audit_log WHERE action = 'login_failed'")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("login:") && !t.contains("unit-a"))
    );
    // An unknown login gets the same words, tries left and lock as a wrong password, so
    // a refusal does not tell whether the account exists.
    for i in 1..=4 {
        let r = c.login("nobody", "Wrong-pass-1", None).await;
        assert!(
            r.body
                .contains(&format!("账号或密码不正确，还可尝试 {} 次", 5 - i)),
            "{}",
            r.body
        );
    }
    let r = c.login("nobody", "Wrong-pass-1", None).await;
    assert!(r.body.contains("账号已锁定"), "{}", r.body);
}

async fn captcha_always(db: TestDb) {
    let app = start(db, CaptchaPolicy::Always).await;
    app.account("exp", Role::Admin, None, None).await;
    let mut c = app.client();
    let page = c.get("/login").await;
    assert!(page.body.contains("/captcha.png"));
    let img = c.get("/captcha.png").await;
    assert_eq!(img.status, StatusCode::OK);
    let answer = app.captcha_answer(&c).await.unwrap();
    assert_eq!(answer.len(), 5);
    let r = c.login("exp", PASSWORD, Some("wrong")).await;
    assert!(r.body.contains("验证码不正确"), "{}", r.body);
    // A captcha can be tried once: the right answer to the old image no longer works.
    let r = c.login("exp", PASSWORD, Some(&answer)).await;
    assert!(r.body.contains("验证码不正确"));
    c.get("/captcha.png").await;
    let answer = app.captcha_answer(&c).await.unwrap();
    let r = c.login("exp", PASSWORD, Some(&answer.to_uppercase())).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn captcha_after_failures(db: TestDb) {
    let app = start(db, CaptchaPolicy::AfterFailures(1)).await;
    app.account("exp", Role::Admin, None, None).await;
    let mut c = app.client();
    assert!(!c.get("/login").await.body.contains("/captcha.png"));
    let r = c.login("exp", "Wrong-pass-1", None).await;
    assert!(
        r.body.contains("/captcha.png"),
        "captcha appears after a failure"
    );
    let r = c.login("exp", PASSWORD, None).await;
    assert!(r.body.contains("请输入图中的验证码"), "{}", r.body);
    let r = c.login("exp", PASSWORD, Some("wrong")).await;
    assert!(r.body.contains("验证码不正确"), "{}", r.body);
    // A fresh browser gets no pass: the account's recent failure asks for the captcha,
    // and the page shows the image to read (and asks for it, not “typed wrong”).
    let mut fresh = app.client();
    let r = fresh.login("exp", PASSWORD, None).await;
    assert!(
        r.body.contains("请输入图中的验证码") && r.body.contains("/captcha.png"),
        "{}",
        r.body
    );
    // The image loads however often the sign-in limit was hit.
    for _ in 0..30 {
        assert_eq!(fresh.get("/captcha.png").await.status, StatusCode::OK);
    }
    fresh.get("/captcha.png").await;
    let answer = app.captcha_answer(&fresh).await.unwrap();
    let r = fresh.login("exp", PASSWORD, Some(&answer)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

async fn password_reset_by_mail(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let uid = app
        .account("zhang@example.com", Role::Applicant, None, None)
        .await;
    let mut c = app.client();
    let csrf = c.csrf("/password/forgot").await;
    let r = c
        .post_form(
            "/password/forgot",
            &[("csrf", &csrf), ("login", "zhang@example.com")],
        )
        .await;
    assert!(r.body.contains("重置密码的链接已发送"));
    // An unknown account gets the same answer, and no mail.
    let r2 = c
        .post_form(
            "/password/forgot",
            &[("csrf", &csrf), ("login", "nobody@example.com")],
        )
        .await;
    assert!(r2.body.contains("重置密码的链接已发送"));
    let mail = app.store.mail_to("zhang@example.com").await.unwrap();
    assert_eq!(mail.len(), 1);
    let link = mail[0]
        .body
        .lines()
        .find(|l| l.contains("/password/reset/"))
        .unwrap()
        .trim()
        .to_owned();
    let path = link.strip_prefix(&app.url).unwrap().to_owned();

    let page = c.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    // The old password is refused as reused.
    let r = c
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert!(
        r.body.contains("不能与最近 5 次使用过的密码相同"),
        "{}",
        r.body
    );
    let (_, token) = app
        .store
        .create_api_token(uid, "before reset", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let r = c
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("password", "Brand-new-42"),
                ("password2", "Brand-new-42"),
            ],
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/login?done=reset"),
        "{}",
        r.body
    );
    assert_eq!(
        app.store.user_of_api_token(&token).await.unwrap(),
        None,
        "tokens revoked by a reset"
    );
    // The sent mail no longer holds the link.
    pingxuan_workers::mail::deliver_due(&app.store, &pingxuan_workers::mail::Mailer::Log, "test")
        .await
        .unwrap();
    assert!(
        app.store.mail_to("zhang@example.com").await.unwrap()[0]
            .body
            .is_empty()
    );
    // Used once only.
    let again = c.get(&path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("已经使用过"));
    assert_eq!(
        c.login("zhang@example.com", "Brand-new-42", None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // An expired link says so.
    let token = app.store.create_password_reset(uid, -1).await.unwrap();
    let r = c.get(&format!("/password/reset/{token}")).await;
    assert!(r.body.contains("重置链接已过期"), "{}", r.body);
    assert!(
        c.get("/password/reset/not-a-token")
            .await
            .body
            .contains("重置链接无效")
    );
}

async fn csrf_is_required(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("a@example.com", Role::Admin, None, None).await;
    let mut c = app.client();
    c.get("/login").await;
    let r = c
        .post_form(
            "/login",
            &[
                ("csrf", "forged"),
                ("login", "a@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("页面已过期或来源不明"));
    let mut c = app.signed_in("a@example.com").await;
    let r = c
        .post_form("/account/tokens", &[("csrf", "forged"), ("name", "x")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The API refuses a session without the CSRF header for writes.
    let r = c
        .api(
            reqwest::Method::PUT,
            "/api/v1/campaigns",
            None,
            Some("x".into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["code"], "csrf");
}

async fn api_tokens(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("org@example.com", Role::Organizer, None, None)
        .await;
    let mut c = app.signed_in("org@example.com").await;
    let csrf = c.csrf("/account").await;
    let r = c
        .post_form(
            "/account/tokens",
            &[("csrf", &csrf), ("name", "对接脚本"), ("password", "wrong")],
        )
        .await;
    assert!(r.body.contains("创建令牌须输入当前密码"), "{}", r.body);
    let r = c
        .post_form(
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "对接脚本"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let token = r
        .body
        .split("<pre class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("pxt_"));
    let mut anon = app.client();
    let me = anon
        .api(reqwest::Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["roles"][0]["role"], "organizer");
    let none = anon
        .api(reqwest::Method::GET, "/api/v1/me", None, None)
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["error"]["code"], "signed_out");
    let bad = anon
        .api(reqwest::Method::GET, "/api/v1/me", Some("pxt_forged"), None)
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    // Revoked tokens stop working.
    let list = app
        .store
        .list_api_tokens(me.json()["id"].as_i64().unwrap())
        .await
        .unwrap();
    let r = c
        .post_form(
            &format!("/account/tokens/{}/revoke", list[0].id),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(r.body.contains("令牌已撤销"));
    let me = anon
        .api(reqwest::Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

async fn idle_session_expires(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("a@example.com", Role::Applicant, None, None)
        .await;
    let mut c = app.signed_in("a@example.com").await;
    assert_eq!(c.get("/home").await.status, StatusCode::OK);
    let idle = pingxuan_rules::password::IDLE_TIMEOUT_SECS + 1;
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - $1")
        .bind(idle)
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        c.get("/home").await.location.as_deref(),
        Some("/login?done=timeout")
    );
    assert!(
        c.get("/login?done=timeout")
            .await
            .body
            .contains("长时间未操作，已自动退出")
    );
}

async fn password_change_ends_other_sessions(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    app.account("a@example.com", Role::Applicant, None, None)
        .await;
    let mut laptop = app.signed_in("a@example.com").await;
    let mut phone = app.signed_in("a@example.com").await;
    let csrf = laptop.csrf("/account").await;
    let r = laptop
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("password", "Brand-new-42"),
                ("password2", "Brand-new-42"),
            ],
        )
        .await;
    assert!(r.body.contains("密码已修改"), "{}", r.body);
    assert_eq!(
        laptop.get("/home").await.status,
        StatusCode::OK,
        "this browser stays signed in"
    );
    assert_ne!(
        phone.get("/home").await.status,
        StatusCode::OK,
        "the other one is signed out"
    );
}
