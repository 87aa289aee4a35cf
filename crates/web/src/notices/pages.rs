//! 消息通知: what arrived, was returned or recalled, and deadline reminders, newest
//! first. Opening the page marks them read.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::{Shell, format_time};

pub struct NoticeRow {
    pub when: String,
    pub kind: &'static str,
    pub text: String,
    pub href: Option<String>,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "notices/notices.html")]
struct NoticesPage {
    shell: Shell,
    rows: Vec<NoticeRow>,
}

/// The label of a notice's kind.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "arrival" => "待办理",
        "return" => "退回",
        "recall" => "收回",
        "reminder" => "截止提醒",
        "outcome" => "评选结果",
        _ => "通知",
    }
}

pub async fn get_notices(
    State(state): State<AppState>,
    mut who: SignedIn,
) -> Result<Response, PageError> {
    let me = who.access.user.id;
    let notices = state.store.notices_of(me, 100).await?;
    let mut rows = Vec::new();
    for n in notices {
        // Link to where the person acts on it: their own form, or the review page.
        let href = match n.application_id {
            Some(id) => match state.store.get_application(id).await? {
                Some(a) if a.applicant_id == me => Some(format!("/applications/{id}")),
                Some(_) => Some(format!("/review/{id}")),
                None => None,
            },
            None => None,
        };
        rows.push(NoticeRow {
            when: format_time(n.created_at),
            kind: kind_label(&n.kind),
            text: n.text,
            href,
            unread: n.read_at.is_none(),
        });
    }
    state.store.mark_notices_read(me).await?;
    who.unread = 0;
    let page = NoticesPage {
        shell: Shell::signed_in(&who, "消息通知", "/notices"),
        rows,
    };
    Ok(Html(page.render()?).into_response())
}
