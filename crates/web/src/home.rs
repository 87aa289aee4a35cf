//! 我的主页.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::error::PageError;
use crate::pages::{Shell, entry_text};

pub struct CampaignRow {
    pub id: String,
    pub name: String,
    pub year: i64,
    pub entry: &'static str,
    /// The deadline in force for applicants (extensions for everyone included), in the
    /// one format: “推荐单位提交 2027年2月3日 24:00（剩余 59 天）”; empty when unset.
    pub deadline: String,
    /// No deadline set yet, and this person may set it.
    pub set_deadline: bool,
}

/// The campaigns this person sees, with what an applicant needs to know first.
pub async fn campaign_rows(
    state: &AppState,
    access: &pingxuan_app::Access,
) -> Result<Vec<CampaignRow>, PageError> {
    let mut rows = Vec::new();
    let now = pingxuan_store::now();
    for stored in state.store.list_campaigns().await? {
        if !access.sees_campaign(&stored.id) {
            continue;
        }
        let Some(c) = state.store.campaign_model(&stored.id).await? else {
            continue;
        };
        let extensions: Vec<_> = state
            .store
            .deadline_extensions(&stored.id)
            .await?
            .iter()
            .map(|g| g.extension())
            .collect();
        let chain = pingxuan_rules::workflow::Chain::for_application(&c, false);
        let deadline = pingxuan_rules::deadline::binding(&c, &chain, 0, None, &extensions)
            .map(|b| {
                format!(
                    "{}提交 {}",
                    b.level_name,
                    pingxuan_rules::deadline::in_force_text(b.at, now)
                )
            })
            .unwrap_or_default();
        rows.push(CampaignRow {
            set_deadline: deadline.is_empty() && access.organizes(&stored.id),
            id: stored.id.clone(),
            name: c.campaign.name.clone(),
            year: stored.year,
            entry: entry_text(&c),
            deadline,
        });
    }
    Ok(rows)
}

/// The person's roles in words, each campaign by its title: “推荐单位（柳州市科协） ·
/// 2024年广西最美科技工作者”.
async fn role_labels(
    state: &AppState,
    access: &pingxuan_app::Access,
) -> Result<Vec<String>, PageError> {
    let titles = crate::pages::campaign_titles(&state.store).await?;
    Ok(access
        .roles
        .iter()
        .map(|r| {
            let mut s = r.role.label().to_owned();
            if let Some(u) = &r.unit_name {
                s.push_str(&format!("（{u}）"));
            }
            if let Some(c) = &r.campaign_id {
                s.push_str(&format!(" · {}", titles.get(c).unwrap_or(c)));
            }
            s
        })
        .collect())
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
        roles: role_labels(&state, &who.access).await?,
        campaigns: campaign_rows(&state, &who.access).await?,
    };
    Ok(Html(page.render()?).into_response())
}
