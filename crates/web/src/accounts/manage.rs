//! 账号管理: organisers and admins create unit, expert and organiser accounts.

use crate::auth::Posted;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;
use serde::Deserialize;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::Shell;
use pingxuan_app::accounts::{AccountRequest, create_account};

pub struct Row {
    pub name: String,
    pub login: String,
    pub role: &'static str,
    pub campaign: String,
    pub unit: String,
}

#[derive(Template)]
#[template(path = "accounts/manage.html")]
struct AccountsPage {
    shell: Shell,
    csrf: String,
    rows: Vec<Row>,
    roles: Vec<(&'static str, &'static str)>,
    campaigns: Vec<(String, String)>,
    is_admin: bool,
    form: AccountRequest,
    created: Option<(String, String)>,
    error: Option<String>,
    field: String,
}

async fn render(
    state: &AppState,
    who: &SignedIn,
    form: AccountRequest,
    created: Option<(String, String)>,
    failure: Option<Failure>,
) -> Result<Response, PageError> {
    let a = &who.access;
    let mut rows = Vec::new();
    let mut campaigns = Vec::new();
    for c in state.store.list_campaigns().await? {
        if a.organizes(&c.id) {
            campaigns.push((c.id.clone(), c.name.clone()));
        }
    }
    let holders = if a.is_admin() {
        state.store.list_role_holders(None).await?
    } else {
        let mut all = Vec::new();
        for (id, _) in &campaigns {
            all.extend(state.store.list_role_holders(Some(id)).await?);
        }
        all
    };
    for h in holders {
        rows.push(Row {
            name: h.display_name,
            login: h.login,
            role: h.role.label(),
            campaign: h.campaign_id.unwrap_or_else(|| "全部".to_owned()),
            unit: h.unit_name.unwrap_or_default(),
        });
    }
    let mut roles = vec![
        ("recommender", Role::Recommender.label()),
        ("work_unit", Role::WorkUnit.label()),
        ("expert", Role::Expert.label()),
    ];
    if a.is_admin() {
        roles.push(("organizer", Role::Organizer.label()));
        roles.push(("admin", Role::Admin.label()));
    }
    let (status, error, field) = match failure {
        None => (StatusCode::OK, None, String::new()),
        Some(Failure::Invalid { message, field, .. })
        | Some(Failure::Conflict { message, field, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            field.unwrap_or_default(),
        ),
        Some(other) => return Err(other.into()),
    };
    let page = AccountsPage {
        shell: Shell::signed_in(who, "账号管理", "/accounts"),
        csrf: who.session.csrf_token.clone(),
        rows,
        roles,
        campaigns,
        is_admin: a.is_admin(),
        form,
        created,
        error,
        field,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn may_manage(who: &SignedIn) -> Result<(), Failure> {
    who.access
        .manages_campaigns()
        .then_some(())
        .ok_or(Failure::Forbidden)
}

pub async fn get_accounts(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    render(&state, &who, AccountRequest::default(), None, None).await
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(flatten)]
    request: AccountRequest,
}

pub async fn post_accounts(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<AccountForm>,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    match create_account(&state.store, &who.access, &form.request, who.ip.as_deref())
        .await
        .map_err(Failure::from)
    {
        Ok(c) => {
            render(
                &state,
                &who,
                AccountRequest::default(),
                Some((c.login, c.password)),
                None,
            )
            .await
        }
        Err(Failure::Forbidden) => Err(Failure::Forbidden.into()),
        // What was typed stays in the form.
        Err(f) => render(&state, &who, form.request, None, Some(f)).await,
    }
}
