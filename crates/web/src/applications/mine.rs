//! 我的申报表, 待审核申报表 and 查询申报表: the lists of the 新疆 manual. The application
//! workflow fills them; until an application exists they show the empty list with its
//! columns and the campaigns open for application.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

pub struct ListRow {
    pub id: i64,
    pub href: String,
    pub number: String,
    pub name: String,
    pub employer: String,
    pub recommender: String,
    pub state: String,
    pub moved: String,
    /// Masked, as lists show them.
    pub id_masked: String,
    pub mobile_masked: String,
}

impl ListRow {
    /// A list line for an application, linking to `href`.
    pub fn new(a: pingxuan_store::applications::ApplicationRow, href: String) -> ListRow {
        ListRow {
            id: a.id,
            href,
            number: a.number,
            name: if a.name.is_empty() {
                "（未填写）".to_owned()
            } else {
                a.name
            },
            employer: a.employer,
            recommender: a.recommender.unwrap_or_default(),
            state: a.state_text,
            moved: a.moved_at.map(format_time).unwrap_or_default(),
            id_masked: a.id_number_masked,
            mobile_masked: a.mobile_masked,
        }
    }
}

/// A campaign the applicant may start an application in.
pub struct StartOption {
    pub id: String,
    pub name: String,
    pub entry: &'static str,
    pub open: bool,
    pub units: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "applications/mine.html")]
struct ListPage {
    shell: Shell,
    csrf: String,
    heading: &'static str,
    tabs: Vec<(&'static str, &'static str, bool)>,
    search: bool,
    query: String,
    empty_text: &'static str,
    rows: Vec<ListRow>,
    starts: Vec<StartOption>,
    /// Whether some campaign takes applications only with a 推荐码.
    any_coded: bool,
    code: String,
    code_error: String,
}

pub async fn get_mine(State(state): State<AppState>, who: SignedIn) -> Result<Response, PageError> {
    render_mine(&state, &who, String::new(), None).await
}

/// 我的申报表 with what was typed into 推荐码 and why it was refused, if it was.
pub async fn render_mine(
    state: &AppState,
    who: &SignedIn,
    code: String,
    code_error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    if !who.access.has(Role::Applicant) {
        return Err(Failure::Forbidden.into());
    }
    let rows = state
        .store
        .applications_of(who.access.user.id)
        .await?
        .into_iter()
        .map(|a| {
            let href = format!("/applications/{}", a.id);
            ListRow::new(a, href)
        })
        .collect();
    let mut starts = Vec::new();
    for stored in state.store.list_campaigns().await? {
        let Some(c) = state.store.campaign_model(&stored.id).await? else {
            continue;
        };
        let open = c.entry.mode == pingxuan_rules::campaign::EntryMode::Open;
        let units = if open {
            state
                .store
                .list_units(&stored.id)
                .await?
                .into_iter()
                .filter(|u| u.kind == Role::Recommender)
                .map(|u| (u.id, u.name))
                .collect()
        } else {
            Vec::new()
        };
        starts.push(StartOption {
            id: stored.id,
            name: c.campaign.name.clone(),
            entry: crate::pages::entry_text(&c),
            open,
            units,
        });
    }
    let any_coded = starts.iter().any(|s| !s.open);
    let (status, code_error) = match code_error {
        Some((status, e)) => (status, e),
        None => (StatusCode::OK, String::new()),
    };
    let page = ListPage {
        shell: Shell::signed_in(who, "我的申报表", "/applications/mine"),
        any_coded,
        code,
        code_error,
        csrf: who.session.csrf_token.clone(),
        heading: "我的申报表",
        tabs: Vec::new(),
        search: false,
        query: String::new(),
        empty_text: "您还没有申报表",
        rows,
        starts,
    };
    Ok((status, Html(page.render()?)).into_response())
}
