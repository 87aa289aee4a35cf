//! 审计日志 for administrators.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::{Shell, format_time};

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    entries: Vec<(String, String, String, String, String, String)>,
    /// How many entries the chain holds and its newest hash, to publish and to check an
    /// export against (`pingxuan audit verify FILE --head HASH`).
    count: i64,
    head: String,
}

pub async fn get_audit(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, PageError> {
    who.access.require_admin()?;
    let head = state.store.audit_head().await?;
    let entries = state
        .store
        .recent_audit(500)
        .await?
        .into_iter()
        .map(|e| {
            (
                format_time(e.at),
                e.user_id
                    .map(|u| format!("#{u}"))
                    .unwrap_or_else(|| "—".to_owned()),
                e.action,
                e.target,
                e.detail,
                e.ip.unwrap_or_default(),
            )
        })
        .collect();
    let page = AuditPage {
        shell: Shell::signed_in(&who, "审计日志", "/admin/audit"),
        entries,
        count: head.entries,
        head: head.hash,
    };
    Ok(Html(page.render()?).into_response())
}
