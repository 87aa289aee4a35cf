//! Export jobs in the pages: 打包下载 on the review list starts one (a form with the CSRF
//! token), and `/exports/{job}` shows how far it got, refreshed by `export.js` (or, without
//! scripts, by the page reloading itself), with the download once it is done.

use crate::auth::{Button, Posted};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::Shell;
use pingxuan_app::jobs::JobView;

/// 打包下载推荐材料: starts the job and goes to its page.
pub async fn post_start(
    State(state): State<AppState>,
    who: SignedIn,
    Path(campaign): Path<String>,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    let job =
        pingxuan_app::jobs::start_bundle(&state.filing, &who.access, &campaign, who.ip.as_deref())
            .await?;
    Ok(Redirect::to(&format!("/exports/{}", job.id)).into_response())
}

#[derive(Template)]
#[template(path = "exports/job.html")]
struct JobPage {
    shell: Shell,
    job: JobView,
    campaign: String,
    /// Whether the job is still to finish (the page keeps refreshing).
    pending: bool,
    csrf: String,
    keep_days: i64,
}

pub async fn get_job(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let job = pingxuan_app::jobs::view(&state.filing, &who.access, &id).await?;
    let campaign = state
        .store
        .campaign_model(&job.campaign_id)
        .await?
        .map(|c| c.campaign.name.clone())
        .unwrap_or_default();
    let page = JobPage {
        shell: Shell::signed_in(&who, "推荐材料打包", "/applications/review"),
        pending: matches!(job.state.as_str(), "queued" | "running"),
        job,
        campaign,
        csrf: who.session.csrf_token.clone(),
        keep_days: pingxuan_app::jobs::KEEP_DAYS,
    };
    Ok(Html(page.render()?).into_response())
}
