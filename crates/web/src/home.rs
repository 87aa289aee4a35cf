//! 我的主页.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::error::PageError;
use crate::pages::{Shell, entry_text, format_deadline};

pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub year: i64,
    pub entry: &'static str,
    pub deadline: String,
}

/// The campaigns on the platform, with what an applicant needs to know first.
pub async fn campaign_rows(state: &AppState) -> Result<Vec<CampaignRow>, PageError> {
    let mut rows = Vec::new();
    for stored in state.store.list_campaigns().await? {
        let Some(c) = state.store.campaign_model(&stored.id).await? else {
            continue;
        };
        let deadline = c
            .levels
            .iter()
            .find(|l| l.role == pingxuan_rules::Role::Recommender)
            .and_then(|l| l.deadline.as_ref())
            .map(format_deadline)
            .unwrap_or_else(|| "未设定".to_owned());
        rows.push(CampaignRow {
            id: stored.id.clone(),
            name: c.campaign.name.clone(),
            year: stored.year,
            entry: entry_text(&c),
            deadline,
        });
    }
    Ok(rows)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    /// Right after registering.
    welcome: bool,
    name: String,
    roles: Vec<String>,
    campaigns: Vec<CampaignRow>,
}

pub async fn get_root(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let signed_in = match jar.get(SESSION_COOKIE) {
        Some(c) => state
            .store
            .load_session(c.value())
            .await?
            .is_some_and(|s| s.user_id.is_some()),
        None => false,
    };
    Ok(Redirect::to(if signed_in { "/home" } else { "/login" }).into_response())
}

#[derive(serde::Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    welcome: Option<String>,
}

pub async fn get_home(
    State(state): State<AppState>,
    who: crate::auth::SignedIn,
    axum::extract::Query(q): axum::extract::Query<HomeQuery>,
) -> Result<Response, PageError> {
    let page = HomePage {
        shell: Shell::signed_in(&who, "我的主页", "/home"),
        welcome: q.welcome.is_some(),
        name: who.access.user.display_name.clone(),
        roles: who.access.role_labels(),
        campaigns: campaign_rows(&state).await?,
    };
    Ok(Html(page.render()?).into_response())
}
