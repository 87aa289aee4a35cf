//! 账号管理: organisers and admins create unit, expert and organiser accounts, one at a
//! time or, for units and the expert pool, from a list (CSV or Excel) previewed before
//! anything is created.

use crate::auth::{Posted, PostedFile};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;
use serde::Deserialize;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::Shell;
use pingxuan_app::accounts::{AccountRequest, create_account};
use pingxuan_app::{experts, units};

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
    /// The two list imports, units then experts.
    imports: Vec<ImportView>,
}

/// Which list an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListKind {
    #[default]
    Units,
    Experts,
}

impl ListKind {
    fn parse(s: &str) -> Result<ListKind, Failure> {
        match s {
            "units" => Ok(ListKind::Units),
            "experts" => Ok(ListKind::Experts),
            _ => Err(Failure::NotFound),
        }
    }
}

/// A list import's part of the page: the form, then the preview or its problems, then
/// the accounts created with their initial passwords.
#[derive(Default)]
pub struct ImportView {
    kind: ListKind,
    /// `units` or `experts`, in the form's address and the section's anchor.
    path: &'static str,
    title: &'static str,
    hint: &'static str,
    /// What one row is called: 单位, 评审专家.
    noun: &'static str,
    measure: &'static str,
    campaign: String,
    campaign_name: String,
    file_name: String,
    /// What the list would create (a preview), with the table to send back to confirm.
    preview_heads: Vec<&'static str>,
    preview: Vec<Vec<String>>,
    table_json: String,
    problems: Vec<String>,
    /// Created accounts, the initial password last.
    created_heads: Vec<&'static str>,
    created: Vec<Vec<String>>,
}

impl ImportView {
    fn of(kind: ListKind) -> ImportView {
        match kind {
            ListKind::Units => ImportView {
                kind,
                path: "units",
                title: "批量导入单位",
                hint: "上传单位名单（Excel 或 CSV），第一行为列名：单位名称、单位类型（推荐单位或所在单位）、类别（推荐单位必填，用本活动的推荐单位类别）、登录名、联系人、电子邮箱、手机。先预览，确认后才创建；名单中有任何问题时一个也不创建。",
                noun: "单位",
                measure: "个",
                preview_heads: vec![
                    "行",
                    "单位名称",
                    "单位类型",
                    "类别",
                    "登录名",
                    "联系人",
                    "电子邮箱",
                    "手机",
                ],
                created_heads: vec!["单位名称", "单位类型", "登录名", "初始密码"],
                ..ImportView::default()
            },
            ListKind::Experts => ImportView {
                kind,
                path: "experts",
                title: "导入评审专家库",
                hint: "上传专家名单（Excel 或 CSV），第一行为列名：姓名、工作单位、学科/专业领域（多个用顿号分隔）、电子邮箱、手机。专家以电子邮箱登录，只能评审本活动分配给他的候选人；工作单位用于回避同单位的候选人。先预览，确认后才创建；有任何问题时一个也不创建。",
                noun: "评审专家",
                measure: "位",
                preview_heads: vec![
                    "行",
                    "姓名",
                    "工作单位",
                    "学科/专业领域",
                    "电子邮箱（登录名）",
                    "手机",
                ],
                created_heads: vec!["姓名", "工作单位", "登录名", "初始密码"],
                ..ImportView::default()
            },
        }
    }

    fn units_preview(&mut self, rows: Vec<units::UnitRow>) {
        self.preview = rows
            .into_iter()
            .map(|r| {
                vec![
                    r.line.to_string(),
                    r.name,
                    r.kind.label().to_owned(),
                    r.category_name.unwrap_or_default(),
                    r.login,
                    r.contact,
                    r.email.unwrap_or_default(),
                    r.mobile.unwrap_or_default(),
                ]
            })
            .collect();
    }

    fn experts_preview(&mut self, rows: Vec<experts::ExpertRow>) {
        self.preview = rows
            .into_iter()
            .map(|r| {
                vec![
                    r.line.to_string(),
                    r.name,
                    r.work_unit,
                    r.fields.join("、"),
                    r.email,
                    r.mobile.unwrap_or_default(),
                ]
            })
            .collect();
    }
}

#[derive(Default)]
struct View {
    form: AccountRequest,
    created: Option<(String, String)>,
    failure: Option<Failure>,
    import: ImportView,
}

async fn render(state: &AppState, who: &SignedIn, mut view: View) -> Result<Response, PageError> {
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
    // Both imports show; the one the request was about carries its outcome.
    let imports = [ListKind::Units, ListKind::Experts]
        .into_iter()
        .map(|k| {
            if k == view.import.kind && !view.import.path.is_empty() {
                std::mem::take(&mut view.import)
            } else {
                ImportView::of(k)
            }
        })
        .collect();
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
        imports,
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

/// 预览: reads the list (`units` or `experts`) and shows what it would create, or every
/// problem; nothing is written.
pub async fn post_list_preview(
    State(state): State<AppState>,
    who: SignedIn,
    Path(kind): Path<String>,
    posted: PostedFile,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    let kind = ListKind::parse(&kind)?;
    let campaign = posted.field("campaign").to_owned();
    let mut import = ImportView {
        campaign_name: campaign_title(&state, &campaign).await?,
        campaign: campaign.clone(),
        ..ImportView::of(kind)
    };
    let show = |import: ImportView| View {
        import,
        ..View::default()
    };
    let Some(file) = posted.file else {
        import.problems = vec![format!(
            "请选择{}名单文件（.xlsx、.xls 或 .csv）",
            import.noun
        )];
        return render(&state, &who, show(import)).await;
    };
    import.file_name = file.name.clone();
    let table = match pingxuan_app::tables::read(&file.name, &file.bytes) {
        Ok(t) => t,
        Err(e @ pingxuan_app::Error::Invalid { .. }) => {
            import.problems = vec![e.to_string()];
            return render(&state, &who, show(import)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let checked = match kind {
        ListKind::Units => units::preview(&state.store, &who.access, &campaign, &table)
            .await
            .map(|r| r.map(|rows| import.units_preview(rows))),
        ListKind::Experts => experts::preview(&state.store, &who.access, &campaign, &table)
            .await
            .map(|r| r.map(|rows| import.experts_preview(rows))),
    };
    match checked {
        Ok(Ok(())) => {
            import.table_json = serde_json::to_string(&table)
                .map_err(|e| PageError::from(Failure::Internal(format!("table as JSON: {e}"))))?;
        }
        Ok(Err(problems)) => import.problems = problems,
        Err(pingxuan_app::Error::Invalid { message, .. }) => import.problems = vec![message],
        Err(e) => return Err(e.into()),
    }
    render(&state, &who, show(import)).await
}

#[derive(Deserialize)]
pub struct ImportForm {
    campaign: String,
    file_name: String,
    /// The previewed table, sent back; checked again in full before anything is made.
    table: String,
}

/// 确认导入: creates every unit or expert of the previewed list with its account, or
/// nothing.
pub async fn post_list_import(
    State(state): State<AppState>,
    who: SignedIn,
    Path(kind): Path<String>,
    Posted(form): Posted<ImportForm>,
) -> Result<Response, PageError> {
    may_manage(&who)?;
    let kind = ListKind::parse(&kind)?;
    let table: pingxuan_app::tables::Table = serde_json::from_str(&form.table)
        .map_err(|_| Failure::invalid("bad_form", "名单内容有误，请重新上传文件预览", None))?;
    let mut import = ImportView {
        campaign_name: campaign_title(&state, &form.campaign).await?,
        campaign: form.campaign.clone(),
        file_name: form.file_name,
        ..ImportView::of(kind)
    };
    let (store, access, ip) = (&state.store, &who.access, who.ip.as_deref());
    match kind {
        ListKind::Units => match units::import(store, access, &form.campaign, &table, ip).await? {
            units::Imported::Created(created) => {
                import.created = created
                    .into_iter()
                    .map(|u| vec![u.name, u.kind.label().to_owned(), u.login, u.password])
                    .collect();
            }
            units::Imported::Refused(problems) => import.problems = problems,
        },
        ListKind::Experts => {
            match experts::import(store, access, &form.campaign, &table, ip).await? {
                experts::Imported::Created(created) => {
                    import.created = created
                        .into_iter()
                        .map(|e| vec![e.name, e.work_unit, e.login, e.password])
                        .collect();
                }
                experts::Imported::Refused(problems) => import.problems = problems,
            }
        }
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
