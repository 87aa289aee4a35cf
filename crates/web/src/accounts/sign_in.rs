//! Sign-in, sign-out, the image captcha, self-registration and password reset.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use pingxuan_app::accounts::{Registration, register, registration_problems};
use pingxuan_app::sessions;
use pingxuan_store::sessions::Session;
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
    let attempt = sessions::Attempt {
        login: &form.login,
        password: &form.password,
        session: &visitor.session.id_hash,
        captcha_demanded: captcha_needed(&state, &visitor.session, &visitor.ip),
        captcha_after: match state.config.captcha {
            CaptchaPolicy::AfterFailures(n) => Some(n),
            _ => None,
        },
        captcha: form.captcha.as_deref(),
        ip: visitor.ip.as_deref(),
    };
    match sessions::sign_in(&state.store, &attempt).await? {
        sessions::SignIn::Done { token, .. } => {
            let jar = visitor.jar.add(session_cookie(&state, token));
            Ok((jar, Redirect::to("/home")).into_response())
        }
        sessions::SignIn::Refused {
            message,
            captcha,
            failed,
        } => {
            let mut session = visitor.session.clone();
            if failed {
                state.ip_failures.add(visitor.ip.as_deref().unwrap_or(""));
                session.failed_logins += 1;
            }
            let page = LoginPage {
                shell: Shell::public("登录"),
                csrf: session.csrf_token.clone(),
                login: form.login.clone(),
                error: Some(message),
                notice: None,
                captcha: captcha || captcha_needed(&state, &session, &visitor.ip),
                captcha_nonce: nonce(),
            };
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                visitor.jar,
                Html(page.render()?),
            )
                .into_response())
        }
    }
}

pub async fn post_logout(
    State(state): State<AppState>,
    visitor: Visitor,
    jar: CookieJar,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    sessions::sign_out(
        &state.store,
        &visitor.session.id_hash,
        visitor.session.user_id,
        visitor.ip.as_deref(),
    )
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
    captcha_image(&state, &session).await
}

/// A captcha image whose answer the session keeps (one answer at a time): for the sign-in
/// forms and before a voter's SMS code.
pub(crate) async fn captcha_image(
    state: &AppState,
    session: &Session,
) -> Result<Response, PageError> {
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
                let token = sessions::start_session(
                    &state.store,
                    id,
                    &visitor.session.id_hash,
                    visitor.ip.as_deref(),
                )
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
    sessions::request_reset(
        &state.store,
        &form.login,
        state.config.reset_link_ttl.as_secs() as i64,
        &state.config.public_url,
        visitor.ip.as_deref(),
    )
    .await?;
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
        .map(sessions::reset_link_problem);
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
    match sessions::reset_password(
        &state.store,
        &token,
        &form.password,
        &form.password2,
        visitor.ip.as_deref(),
    )
    .await?
    {
        Ok(()) => {}
        Err(sessions::ResetRefusal::Fatal(m)) => return render(Some(m), None),
        Err(sessions::ResetRefusal::Password(m)) => return render(None, Some(m)),
    }
    Ok(Redirect::to("/login?done=reset").into_response())
}
