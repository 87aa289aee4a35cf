//! Sign-in, sign-out, the image captcha, self-registration and password reset.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use pingxuan_app::accounts::{Registration, register, registration_problems};
use pingxuan_rules::password::check_strength;
use pingxuan_store::accounts::LoginOutcome;
use pingxuan_store::audit::Audit;
use pingxuan_store::sessions::Session;
use pingxuan_store::tokens::ResetError;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Button, Posted, SESSION_COOKIE, Visitor, removal_cookie, session_cookie};
use crate::config::CaptchaPolicy;
use crate::error::{Failure, PageError};
use crate::pages::Shell;

/// Whether the sign-in form shows a captcha to this browser: always, never, or after
/// failures from this browser or (more of them) from its address. `post_login` also
/// asks for it when the account itself failed recently.
fn captcha_needed(state: &AppState, session: &Session, ip: &Option<String>) -> bool {
    match state.config.captcha {
        CaptchaPolicy::Always => true,
        CaptchaPolicy::Off => false,
        CaptchaPolicy::AfterFailures(n) => {
            // A whole office often shares one address: the address needs more failures.
            session.failed_logins >= i64::from(n)
                || state.ip_failures.count(ip.as_deref().unwrap_or("")) >= (n * 5).max(5)
        }
    }
}

fn nonce() -> String {
    format!("{:x}", rand::random::<u32>())
}

/// Refuses a burst of sign-in attempts from one address.
fn throttle(state: &AppState, ip: &Option<String>) -> Result<(), Failure> {
    let key = ip.clone().unwrap_or_default();
    // Forget quiet addresses now and then so the limiter cannot grow without bound.
    if state.auth_limiter.len() > 10_000 {
        state.auth_limiter.retain_recent();
    }
    state
        .auth_limiter
        .check_key(&key)
        .map_err(|_| Failure::TooMany("操作过于频繁，请一分钟后再试".to_owned()))
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    shell: Shell,
    csrf: String,
    login: String,
    error: Option<String>,
    notice: Option<String>,
    captcha: bool,
    captcha_nonce: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    done: Option<String>,
}

pub async fn get_login(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Result<Response, PageError> {
    if visitor.session.user_id.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let notice = match q.done.as_deref() {
        Some("reset") => Some("密码已重设，请用新密码登录。".to_owned()),
        Some("registered") => Some("注册成功，请登录。".to_owned()),
        Some("timeout") => Some("长时间未操作，已自动退出，请重新登录。".to_owned()),
        _ => None,
    };
    let page = LoginPage {
        shell: Shell::public("登录"),
        csrf: visitor.session.csrf_token.clone(),
        login: String::new(),
        error: None,
        notice,
        captcha: captcha_needed(&state, &visitor.session, &visitor.ip),
        captcha_nonce: nonce(),
    };
    Ok((visitor.jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    captcha: Option<String>,
}

pub async fn post_login(
    State(state): State<AppState>,
    visitor: Visitor,
    Posted(form): Posted<LoginForm>,
) -> Result<Response, PageError> {
    throttle(&state, &visitor.ip)?;
    let store = &state.store;
    // The captcha is also required when the account itself has failed recently, so
    // fresh cookies from other addresses do not avoid it.
    let account_failing = match state.config.captcha {
        CaptchaPolicy::AfterFailures(n) => store.recent_failures(&form.login).await? >= n,
        _ => false,
    };
    let retry = |error: String, session: &Session| -> Result<Response, PageError> {
        let page = LoginPage {
            shell: Shell::public("登录"),
            csrf: session.csrf_token.clone(),
            login: form.login.clone(),
            error: Some(error),
            notice: None,
            captcha: account_failing || captcha_needed(&state, session, &visitor.ip),
            captcha_nonce: nonce(),
        };
        Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            visitor.jar.clone(),
            Html(page.render()?),
        )
            .into_response())
    };
    if captcha_needed(&state, &visitor.session, &visitor.ip) || account_failing {
        let guess = form.captcha.as_deref().unwrap_or("").trim();
        // A browser that was shown no captcha (the account failed elsewhere) is asked
        // for one, not told that it typed it wrong.
        if guess.is_empty() {
            return retry(
                "为保护账号安全，请输入图中的验证码后再登录".to_owned(),
                &visitor.session,
            );
        }
        if !store.check_captcha(&visitor.session.id_hash, guess).await? {
            return retry(
                "验证码不正确，请看清新的图片后重新输入".to_owned(),
                &visitor.session,
            );
        }
    }
    let outcome = store.authenticate(&form.login, &form.password).await?;
    let user = match outcome {
        LoginOutcome::Ok(user) => user,
        other => {
            store
                .count_session_failure(&visitor.session.id_hash)
                .await?;
            state.ip_failures.add(visitor.ip.as_deref().unwrap_or(""));
            let mut session = visitor.session.clone();
            session.failed_logins += 1;
            let message = match other {
                LoginOutcome::Locked { secs_left } => format!(
                    "连续输错密码次数过多，账号已锁定，请 {} 分钟后再试或找回密码",
                    (secs_left + 59) / 60
                ),
                LoginOutcome::Inactive => "该账号已停用，请联系活动办公室".to_owned(),
                LoginOutcome::Refused { remaining } => format!(
                    "账号或密码不正确，还可尝试 {remaining} 次，都不正确时账号将锁定 {} 分钟",
                    pingxuan_rules::password::LOCKOUT_SECS / 60
                ),
                LoginOutcome::Ok(_) => unreachable!("handled above"),
            };
            // A digest, not the typed text: it may be a phone number, or a password typed
            // into the wrong box.
            let digest = store
                .sealer
                .lookup(&pingxuan_store::accounts::normalize_login(&form.login));
            store
                .audit(
                    None,
                    "login_failed",
                    &format!("login:{}", &digest[..16]),
                    &message,
                    visitor.ip.as_deref(),
                )
                .await?;
            return retry(message, &session);
        }
    };
    // A new session id at sign-in, so a planted cookie cannot be carried over.
    store.delete_session(&visitor.session.id_hash, None).await?;
    let audit =
        Audit::new(Some(user.id), "login", format!("user:{}", user.id)).ip(visitor.ip.as_deref());
    let (token, _) = store
        .create_session(Some(user.id), visitor.ip.as_deref(), Some(&audit))
        .await?;
    let jar = visitor.jar.add(session_cookie(&state, token));
    Ok((jar, Redirect::to("/home")).into_response())
}

pub async fn post_logout(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    let audit = visitor.session.user_id.map(|uid| {
        Audit::new(Some(uid), "logout", format!("user:{uid}")).ip(visitor.ip.as_deref())
    });
    state
        .store
        .delete_session(&visitor.session.id_hash, audit.as_ref())
        .await?;
    let jar = jar.remove(removal_cookie(&state));
    Ok((jar, Redirect::to("/login")).into_response())
}

/// A fresh captcha image for this session; its answer replaces any earlier one.
pub async fn get_captcha(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    // Not counted with the sign-in attempts: a page that shows the captcha must be able
    // to show its image. An image is cheap, needs a session, and each new one replaces
    // the session's answer, so asking for many gains nothing.
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Err(Failure::NotFound.into());
    };
    let Some(session) = state.store.load_session(cookie.value()).await? else {
        return Err(Failure::NotFound.into());
    };
    let (answer, png) = tokio::task::spawn_blocking(|| {
        use captcha::filters::{Dots, Noise, Wave};
        let mut c = captcha::Captcha::new();
        // Letters that cannot be mistaken for one another.
        c.set_chars(
            &"abcdefghjkmnpqrstuvwxyz23456789"
                .chars()
                .collect::<Vec<_>>(),
        )
        .add_chars(5)
        .apply_filter(Noise::new(0.2))
        .apply_filter(Wave::new(2.0, 8.0))
        .view(200, 70)
        .apply_filter(Dots::new(6));
        (c.chars_as_string(), c.as_png())
    })
    .await
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let png = png.ok_or_else(|| Failure::Internal("captcha rendering failed".to_owned()))?;
    state.store.set_captcha(&session.id_hash, &answer).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    #[serde(default)]
    captcha: Option<String>,
    #[serde(default)]
    pub consent: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/register.html")]
struct RegisterPage {
    shell: Shell,
    csrf: String,
    form: RegisterForm,
    errors: HashMap<&'static str, String>,
    error: Option<String>,
    captcha: bool,
    captcha_nonce: String,
}

pub async fn get_register(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let page = RegisterPage {
        shell: Shell::public("申报人注册"),
        csrf: visitor.session.csrf_token.clone(),
        form: RegisterForm::default(),
        errors: HashMap::new(),
        error: None,
        captcha: state.config.captcha != CaptchaPolicy::Off,
        captcha_nonce: nonce(),
    };
    Ok((visitor.jar, Html(page.render()?)).into_response())
}

pub async fn post_register(
    State(state): State<AppState>,
    visitor: Visitor,
    Posted(form): Posted<RegisterForm>,
) -> Result<Response, PageError> {
    throttle(&state, &visitor.ip)?;
    let captcha = state.config.captcha != CaptchaPolicy::Off;
    let registration = Registration {
        name: &form.name,
        login: &form.login,
        password: &form.password,
        password2: &form.password2,
        consent: form.consent.is_some(),
    };
    let mut errors: HashMap<&'static str, String> =
        registration_problems(&registration).into_iter().collect();
    // Every problem at once, the captcha's too.
    if captcha
        && !state
            .store
            .check_captcha(
                &visitor.session.id_hash,
                form.captcha.as_deref().unwrap_or(""),
            )
            .await?
    {
        errors.insert("captcha", "验证码不正确，请重新输入".to_owned());
    }
    if errors.is_empty() {
        match register(&state.store, &registration, visitor.ip.as_deref()).await? {
            Ok(id) => {
                // Registered and signed in, on a new session id.
                let store = &state.store;
                store.delete_session(&visitor.session.id_hash, None).await?;
                let audit =
                    Audit::new(Some(id), "login", format!("user:{id}")).ip(visitor.ip.as_deref());
                let (token, _) = store
                    .create_session(Some(id), visitor.ip.as_deref(), Some(&audit))
                    .await?;
                let jar = visitor.jar.add(session_cookie(&state, token));
                return Ok((jar, Redirect::to("/home?welcome=1")).into_response());
            }
            Err(problems) => errors.extend(problems),
        }
    }
    let page = RegisterPage {
        shell: Shell::public("申报人注册"),
        csrf: visitor.session.csrf_token.clone(),
        error: Some(format!("有 {} 处需要修改，见下方提示", errors.len())),
        errors,
        form: RegisterForm {
            password: String::new(),
            password2: String::new(),
            ..form
        },
        captcha,
        captcha_nonce: nonce(),
    };
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        visitor.jar,
        Html(page.render()?),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "accounts/forgot.html")]
struct ForgotPage {
    shell: Shell,
    csrf: String,
    sent: bool,
    error: Option<String>,
    ttl_minutes: u64,
}

pub async fn get_forgot(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let page = ForgotPage {
        shell: Shell::public("找回密码"),
        csrf: visitor.session.csrf_token.clone(),
        sent: false,
        error: None,
        ttl_minutes: state.config.reset_link_ttl.as_secs() / 60,
    };
    Ok((visitor.jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct ForgotForm {
    login: String,
}

pub async fn post_forgot(
    State(state): State<AppState>,
    visitor: Visitor,
    Posted(form): Posted<ForgotForm>,
) -> Result<Response, PageError> {
    throttle(&state, &visitor.ip)?;
    // The same answer whether or not the account exists, so the form cannot be used to
    // find out who is registered.
    if let Some(user) = state.store.find_user(&form.login).await?
        && let Some(email) = &user.email
        && user.active
    {
        let ttl = state.config.reset_link_ttl.as_secs() as i64;
        let token = state.store.create_password_reset(user.id, ttl).await?;
        let link = format!("{}/password/reset/{token}", state.config.public_url);
        let body = format!(
            "{}，您好：\n\n有人（希望是您本人）申请重设最美科技工作者评选平台的登录密码。\n请在 {} 分钟内打开下面的链接设置新密码：\n\n{link}\n\n如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n",
            user.display_name,
            ttl / 60
        );
        state
            .store
            .enqueue_mail(email, "重设登录密码", &body)
            .await?;
        state
            .store
            .audit(
                Some(user.id),
                "password_reset_requested",
                &format!("user:{}", user.id),
                "",
                visitor.ip.as_deref(),
            )
            .await?;
    }
    let page = ForgotPage {
        shell: Shell::public("找回密码"),
        csrf: visitor.session.csrf_token.clone(),
        sent: true,
        error: None,
        ttl_minutes: state.config.reset_link_ttl.as_secs() / 60,
    };
    Ok((visitor.jar, Html(page.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "accounts/reset.html")]
struct ResetPage {
    shell: Shell,
    csrf: String,
    token: String,
    fatal: Option<String>,
    error: Option<String>,
}

fn reset_error_text(e: ResetError) -> String {
    match e {
        ResetError::Unknown => "重置链接无效，请确认链接完整，或重新申请".to_owned(),
        ResetError::Expired => "重置链接已过期，请重新申请".to_owned(),
        ResetError::Used => "该重置链接已经使用过，请重新申请".to_owned(),
    }
}

pub async fn get_reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let fatal = state
        .store
        .peek_password_reset(&token)
        .await?
        .err()
        .map(reset_error_text);
    let status = if fatal.is_some() {
        axum::http::StatusCode::GONE
    } else {
        axum::http::StatusCode::OK
    };
    let page = ResetPage {
        shell: Shell::public("设置新密码"),
        csrf: visitor.session.csrf_token.clone(),
        token,
        fatal,
        error: None,
    };
    Ok((status, visitor.jar, Html(page.render()?)).into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
    password2: String,
}

pub async fn post_reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(token): Path<String>,
    Posted(form): Posted<ResetForm>,
) -> Result<Response, PageError> {
    let store = &state.store;
    let render = |fatal: Option<String>, error: Option<String>| -> Result<Response, PageError> {
        let page = ResetPage {
            shell: Shell::public("设置新密码"),
            csrf: visitor.session.csrf_token.clone(),
            token: token.clone(),
            fatal,
            error,
        };
        Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            visitor.jar.clone(),
            Html(page.render()?),
        )
            .into_response())
    };
    let user_id = match store.peek_password_reset(&token).await? {
        Ok(id) => id,
        Err(e) => return render(Some(reset_error_text(e)), None),
    };
    let user = store.get_user(user_id).await?.ok_or(Failure::NotFound)?;
    if let Err(e) = check_strength(&form.password, &user.login) {
        return render(None, Some(e));
    }
    if form.password != form.password2 {
        return render(None, Some("两次输入的密码不一致".to_owned()));
    }
    // Claim the link first: of two uses at once, only one gets through.
    if !store.use_password_reset(&token).await? {
        return render(Some(reset_error_text(ResetError::Used)), None);
    }
    let audit = Audit::new(Some(user_id), "password_reset", format!("user:{user_id}"))
        .ip(visitor.ip.as_deref());
    match store.set_password(user_id, &form.password, &audit).await {
        Ok(()) => {}
        Err(pingxuan_store::StoreError::Duplicate(_)) => {
            store.release_password_reset(&token).await?;
            return render(
                None,
                Some("新密码不能与最近 5 次使用过的密码相同".to_owned()),
            );
        }
        Err(e) => {
            store.release_password_reset(&token).await?;
            return Err(e.into());
        }
    }
    // Whoever may have had the account loses it: sessions, API tokens, other links.
    store.revoke_api_tokens_of(user_id).await?;
    store.close_password_resets_of(user_id).await?;
    store.delete_sessions_of(user_id).await?;
    Ok(Redirect::to("/login?done=reset").into_response())
}
