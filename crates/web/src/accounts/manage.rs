//! 账号管理: organisers and admins create unit, expert and organiser accounts, one at a
//! time or, for units, from a list (CSV or Excel) previewed before anything is created.

use crate::auth::{Posted, PostedFile};
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
use pingxuan_app::units::{self, CreatedUnit, Imported, UnitRow};

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
    /// The recommending-unit categories of each campaign: (campaign title, [(key, name)]).
    categories: Vec<(String, Vec<(String, String)>)>,
    is_admin: bool,
    form: AccountRequest,
    created: Option<(String, String)>,
    error: Option<String>,
    field: String,
    import: ImportView,
}

/// The list import's part of the page: the form, then the preview or its problems,
/// then the accounts created with their initial passwords.
#[derive(Default)]
pub struct ImportView {
    campaign: String,
    campaign_name: String,
    file_name: String,
    /// What the list would create (a preview), with the table to send back to confirm.
    preview: Vec<UnitRow>,
    table_json: String,
    problems: Vec<String>,
    created: Vec<CreatedUnit>,
}

#[derive(Default)]
struct View {
    form: AccountRequest,
    created: Option<(String, String)>,
    failure: Option<Failure>,
    import: ImportView,
}

async fn render(state: &AppState, who: &SignedIn, view: View) -> Result<Response, PageError> {
    let a = &who.access;
    let mut rows = Vec::new();
    let mut campaigns = Vec::new();
    let mut categories = Vec::new();
    let mut titles = std::collections::HashMap::new();
    for c in state.store.list_campaigns().await? {
        let model = c.model()?;
        titles.insert(c.id.clone(), model.campaign.short_name.clone());
        if a.organizes(&c.id) {
            categories.push((
                model.campaign.short_name.clone(),
                model
                    .recommender_categories
                    .iter()
                    .map(|k| (k.key.clone(), k.name.clone()))
                    .collect(),
            ));
            campaigns.push((c.id.clone(), model.campaign.short_name.clone()));
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
            campaign: match h.campaign_id {
                Some(id) => titles.get(&id).cloned().unwrap_or(id),
                None => "全部".to_owned(),
            },
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
    let (mut status, error, field) = match view.failure {
        None => (StatusCode::OK, None, String::new()),
        Some(Failure::Invalid { message, field, .. })
        | Some(Failure::Conflict { message, field, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            field.unwrap_or_default(),
        ),
        Some(other) => return Err(other.into()),
    };
    if !view.import.problems.is_empty() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let page = AccountsPage {
        shell: Shell::signed_in(who, "账号管理", "/accounts"),
        csrf: who.session.csrf_token.clone(),
        rows,
        roles,
        campaigns,
        categories,
        is_admin: a.is_admin(),
        form: view.form,
        created: view.created,
        error,
        field,
        import: view.import,
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
    render(&state, &who, View::default()).await
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
            let view = View {
                created: Some((c.login, c.password)),
                ..View::default()
            };
            render(&state, &who, view).await
        }
        Err(Failure::Forbidden) => Err(Failure::Forbidden.into()),
        // What was typed stays in the form.
        Err(f) => {
            let view = View {
                form: form.request,
                failure: Some(f),
                ..View::default()
            };
            render(&state, &who, view).await
        }
    }
}

/// A campaign's title for the import's words (its id when there is no such campaign).
async fn campaign_title(state: &AppState, id: &str) -> Result<String, PageError> {
    let titles = crate::pages::campaign_titles(&state.store).await?;
    Ok(titles.get(id).cloned().unwrap_or_else(|| id.to_owned()))
}

/// 预览: reads the list and shows what it would create, or every problem; nothing is
/// written.
pub async fn post_units_preview(
    State(state): State<AppState>,
    who: SignedIn,
    posted: PostedFile,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    let campaign = posted.field("campaign").to_owned();
    let mut import = ImportView {
        campaign_name: campaign_title(&state, &campaign).await?,
        campaign: campaign.clone(),
        ..ImportView::default()
    };
    let Some(file) = posted.file else {
        import.problems = vec!["请选择单位名单文件（.xlsx、.xls 或 .csv）".to_owned()];
        return render(
            &state,
            &who,
            View {
                import,
                ..View::default()
            },
        )
        .await;
    };
    import.file_name = file.name.clone();
    let table = match pingxuan_app::tables::read(&file.name, &file.bytes) {
        Ok(t) => t,
        Err(e @ pingxuan_app::Error::Invalid { .. }) => {
            import.problems = vec![e.to_string()];
            return render(
                &state,
                &who,
                View {
                    import,
                    ..View::default()
                },
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    match units::preview(&state.store, &who.access, &campaign, &table).await {
        Ok(Ok(rows)) => {
            import.preview = rows;
            import.table_json = serde_json::to_string(&table)
                .map_err(|e| PageError::from(Failure::Internal(format!("table as JSON: {e}"))))?;
        }
        Ok(Err(problems)) => import.problems = problems,
        Err(pingxuan_app::Error::Invalid { message, .. }) => import.problems = vec![message],
        Err(e) => return Err(e.into()),
    }
    render(
        &state,
        &who,
        View {
            import,
            ..View::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct ImportForm {
    campaign: String,
    file_name: String,
    /// The previewed table, sent back; checked again in full before anything is made.
    table: String,
}

/// 确认导入: creates every unit of the previewed list with its account, or nothing.
pub async fn post_units_import(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<ImportForm>,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    let table: pingxuan_app::tables::Table = serde_json::from_str(&form.table)
        .map_err(|_| Failure::invalid("bad_form", "名单内容有误，请重新上传文件预览", None))?;
    let mut import = ImportView {
        campaign_name: campaign_title(&state, &form.campaign).await?,
        campaign: form.campaign.clone(),
        file_name: form.file_name,
        ..ImportView::default()
    };
    match units::import(
        &state.store,
        &who.access,
        &form.campaign,
        &table,
        who.ip.as_deref(),
    )
    .await?
    {
        Imported::Created(created) => import.created = created,
        Imported::Refused(problems) => import.problems = problems,
    }
    render(
        &state,
        &who,
        View {
            import,
            ..View::default()
        },
    )
    .await
}
