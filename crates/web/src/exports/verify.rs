//! `GET /verify/{id}/{version}/{code}`: where the QR code on a printed 推荐表 leads. Public
//! (whoever holds the paper may check it), so it shows only what the paper already shows,
//! the name masked: whether the link was made here, and whether the form has changed since.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::error::PageError;
use crate::pages::Shell;

#[derive(Template)]
#[template(path = "exports/verify.html")]
struct VerifyPage {
    shell: Shell,
    /// Whether the code is ours; when not, nothing else is shown.
    genuine: bool,
    /// The form is still the version printed.
    current: bool,
    number: String,
    campaign: String,
    name: String,
    printed_version: i64,
    version: i64,
    state_text: String,
}

/// 王五 → 王*, 欧阳娜娜 → 欧***.
fn masked(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

pub async fn get_verify(
    State(state): State<AppState>,
    Path((id, version, code)): Path<(i64, i64, String)>,
) -> Result<Response, PageError> {
    let expected = pingxuan_app::exports::verify_code(&state.store, id, version);
    // Compared in constant time: the code is what makes a link genuine.
    let genuine = expected.len() == code.len()
        && expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    let app = if genuine {
        state.store.get_application(id).await?
    } else {
        None
    };
    let Some(app) = app else {
        let page = VerifyPage {
            shell: Shell::public("推荐表核验"),
            genuine: false,
            current: false,
            number: String::new(),
            campaign: String::new(),
            name: String::new(),
            printed_version: version,
            version: 0,
            state_text: String::new(),
        };
        return Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response());
    };
    let campaign = state
        .store
        .campaign_model(&app.campaign_id)
        .await?
        .map(|c| c.campaign.name.clone())
        .unwrap_or_default();
    let name = app
        .form
        .get(&pingxuan_rules::campaign::FieldKey::Name)
        .and_then(pingxuan_rules::form::FieldValue::text)
        .map(masked)
        .unwrap_or_default();
    let page = VerifyPage {
        shell: Shell::public("推荐表核验"),
        genuine: true,
        current: app.form_version == version,
        number: app.number,
        campaign,
        name,
        printed_version: version,
        version: app.form_version,
        state_text: app.state_text,
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_masked() {
        assert_eq!(super::masked("王五"), "王*");
        assert_eq!(super::masked("欧阳娜娜"), "欧***");
        assert_eq!(super::masked("李"), "李*");
    }
}
