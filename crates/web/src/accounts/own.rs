//! 账号与安全: personal data, API tokens, password change.

use crate::auth::{Button, Posted};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_app::accounts;
use pingxuan_rules::idcard::mask_mobile;
use serde::Deserialize;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::{Shell, format_time};

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: String,
    /// “2027-05-22 10:00 前有效” or “已过期”.
    pub expires: String,
}

#[derive(Template)]
#[template(path = "accounts/own.html")]
struct AccountPage {
    shell: Shell,
    csrf: String,
    name: String,
    login: String,
    mobile: String,
    email: String,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    who: &SignedIn,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let u = &who.access.user;
    let tokens = state
        .store
        .list_api_tokens(u.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: format_time(t.created_at),
            last_used: t
                .last_used_at
                .map(format_time)
                .unwrap_or_else(|| "从未使用".to_owned()),
            expires: {
                let at =
                    pingxuan_rules::password::api_token_expires_at(t.created_at, t.last_used_at);
                if at <= pingxuan_store::now() {
                    "已过期".to_owned()
                } else {
                    format!("{} 前有效（连续 90 天未用即失效）", format_time(at))
                }
            },
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = AccountPage {
        shell: Shell::signed_in(who, "账号与安全", "/account"),
        csrf: who.session.csrf_token.clone(),
        name: u.display_name.clone(),
        login: u.login.clone(),
        mobile: u
            .mobile
            .as_deref()
            .map(mask_mobile)
            .unwrap_or_else(|| "未登记".to_owned()),
        email: u.email.clone().unwrap_or_else(|| "未登记".to_owned()),
        tokens,
        new_token,
        notice,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn get_account(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, PageError> {
    render(&state, &who, None, None, None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    /// The current password: a borrowed session alone cannot mint a lasting token.
    #[serde(default)]
    password: String,
}

pub async fn post_token(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<TokenForm>,
) -> Result<Response, PageError> {
    match accounts::create_own_token(
        &state.store,
        &who.access,
        &form.password,
        &form.name,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(token) => render(&state, &who, Some(token), None, None).await,
        Err(e @ pingxuan_app::Error::Invalid { .. }) => {
            render(&state, &who, None, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn post_revoke_token(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    accounts::revoke_own_token(&state.store, &who.access, id, who.ip.as_deref()).await?;
    render(&state, &who, None, Some("令牌已撤销".to_owned()), None).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    password2: String,
}

pub async fn post_password(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<PasswordForm>,
) -> Result<Response, PageError> {
    match accounts::change_password(
        &state.store,
        &who.access,
        &form.current,
        &form.password,
        &form.password2,
        &who.session.id_hash,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(()) => render(&state, &who, None, Some("密码已修改".to_owned()), None).await,
        Err(e @ pingxuan_app::Error::Invalid { .. }) => {
            render(&state, &who, None, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}
