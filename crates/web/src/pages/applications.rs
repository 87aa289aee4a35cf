//! 我的申报表, 待审核申报表 and 查询申报表: the lists of the 新疆 manual. The application
//! workflow fills them; until an application exists they show the empty list with its
//! columns and the campaigns open for application.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;
use serde::Deserialize;

use super::Shell;
use super::home::{CampaignRow, campaign_rows};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};

#[derive(Template)]
#[template(path = "applications.html")]
struct ListPage {
    shell: Shell,
    heading: &'static str,
    tabs: Vec<(&'static str, &'static str, bool)>,
    search: bool,
    query: String,
    empty_text: &'static str,
    campaigns: Vec<CampaignRow>,
}

pub async fn get_mine(State(state): State<AppState>, who: SignedIn) -> Result<Response, PageError> {
    if !who.access.has(Role::Applicant) {
        return Err(Failure::Forbidden.into());
    }
    let page = ListPage {
        shell: Shell::signed_in(&who, "我的申报表", "/applications/mine"),
        heading: "我的申报表",
        tabs: Vec::new(),
        search: false,
        query: String::new(),
        empty_text: "您还没有申报表",
        campaigns: campaign_rows(&state).await?,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    #[serde(default)]
    tab: Option<String>,
}

pub async fn get_review(
    who: SignedIn,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, PageError> {
    if !who.access.reviews() {
        return Err(Failure::Forbidden.into());
    }
    let done = q.tab.as_deref() == Some("done");
    let page = ListPage {
        shell: Shell::signed_in(&who, "待审核申报表", "/applications/review"),
        heading: "待审核申报表",
        tabs: vec![
            ("待审核的", "/applications/review", !done),
            ("已办理的", "/applications/review?tab=done", done),
        ],
        search: false,
        query: String::new(),
        empty_text: if done {
            "暂无已办理的申报表"
        } else {
            "暂无待审核的申报表"
        },
        campaigns: Vec::new(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn get_search(
    who: SignedIn,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    if !who.access.reviews() {
        return Err(Failure::Forbidden.into());
    }
    let page = ListPage {
        shell: Shell::signed_in(&who, "查询申报表", "/applications/search"),
        heading: "查询申报表",
        tabs: Vec::new(),
        search: true,
        query: q.q,
        empty_text: "没有符合条件的申报表",
        campaigns: Vec::new(),
    };
    Ok(Html(page.render()?).into_response())
}
