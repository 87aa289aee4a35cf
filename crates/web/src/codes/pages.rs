//! 推荐码 (recommending units, campaigns without individual applications): issue a code
//! for each chosen candidate up to the quota, see which were used by whom, revoke
//! unused ones.

use crate::auth::{Button, Posted};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::code;
use serde::Deserialize;

use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};
use pingxuan_app::codes::{self, UnitDesk, WorkUnitChoice};

pub struct CodeRow {
    pub id: i64,
    pub code: String,
    pub candidate: String,
    pub work_unit: String,
    pub status: String,
    pub unused: bool,
    pub issued: String,
}

pub struct DeskView {
    pub unit_id: i64,
    pub unit_name: String,
    pub campaign_name: String,
    pub quota_line: String,
    pub asks_work_unit: bool,
    pub may_merge: bool,
    pub work_units: Vec<(i64, String)>,
    pub rows: Vec<CodeRow>,
}

fn view(d: UnitDesk) -> DeskView {
    let live = d.live();
    let granted = if d.extra > 0 {
        format!("（活动办公室另批 {} 名）", d.extra)
    } else {
        String::new()
    };
    let quota_line = match d.quota {
        Some((Some(min), max)) if min != max => format!(
            "{}推荐名额 {min}～{max} 名{granted} · 已发放 {live}/{} 个推荐码",
            d.category_name,
            max + d.extra
        ),
        Some((_, max)) => format!(
            "{}推荐名额 {max} 名{granted} · 已发放 {live}/{} 个推荐码",
            d.category_name,
            max + d.extra
        ),
        None => format!("已发放 {live} 个推荐码（本类推荐单位未设名额上限）"),
    };
    let rows = d
        .codes
        .iter()
        .map(|c| CodeRow {
            id: c.id,
            code: code::display(&c.code),
            candidate: c.candidate_name.clone(),
            work_unit: if c.merged {
                "本单位".to_owned()
            } else {
                c.work_unit_name.clone().unwrap_or_default()
            },
            status: match (&c.revoked_at, &c.application_number) {
                (Some(_), _) => "已作废".to_owned(),
                (None, Some(n)) => {
                    let who = c
                        .applicant_name
                        .clone()
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| "（未填写姓名）".to_owned());
                    format!("已使用：{who} {n}")
                }
                (None, None) => "未使用".to_owned(),
            },
            unused: c.revoked_at.is_none() && c.application_id.is_none(),
            issued: format_time(c.issued_at),
        })
        .collect();
    DeskView {
        unit_id: d.unit.id,
        unit_name: d.unit.name,
        campaign_name: d.campaign.campaign.name.clone(),
        quota_line,
        asks_work_unit: d.asks_work_unit,
        may_merge: d.may_merge,
        work_units: d.work_units,
        rows,
    }
}

#[derive(Template)]
#[template(path = "codes/codes.html")]
struct CodesPage {
    shell: Shell,
    csrf: String,
    desks: Vec<DeskView>,
    notice: Option<String>,
    error: Option<(i64, String, String)>,
}

async fn render(
    state: &AppState,
    who: &SignedIn,
    notice: Option<String>,
    error: Option<(i64, Failure)>,
) -> Result<Response, PageError> {
    let desks: Vec<DeskView> = codes::desks(&state.store, &who.access)
        .await?
        .into_iter()
        .map(view)
        .collect();
    let status = match &error {
        Some((_, Failure::Invalid { .. })) => StatusCode::UNPROCESSABLE_ENTITY,
        Some(_) => StatusCode::CONFLICT,
        None => StatusCode::OK,
    };
    let error = error.map(|(unit, f)| {
        let field = match &f {
            Failure::Invalid { field, .. } | Failure::Conflict { field, .. } => {
                field.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        (unit, field, f.message())
    });
    let page = CodesPage {
        shell: Shell::signed_in(who, "推荐码", "/codes"),
        csrf: who.session.csrf_token.clone(),
        desks,
        notice,
        error,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn get_codes(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Response, PageError> {
    if !who.access.has(pingxuan_rules::Role::Recommender) {
        return Err(Failure::Forbidden.into());
    }
    render(&state, &who, None, None).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    unit: i64,
    #[serde(default)]
    candidate: String,
    #[serde(default)]
    work_unit: String,
}

pub async fn post_codes(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<IssueForm>,
) -> Result<Response, PageError> {
    match codes::issue(
        &state.store,
        &who.access,
        form.unit,
        &form.candidate,
        WorkUnitChoice::parse(&form.work_unit),
        who.ip.as_deref(),
    )
    .await
    .map_err(Failure::from)
    {
        Ok(c) => {
            let to = if c.candidate_name.is_empty() {
                "候选人".to_owned()
            } else {
                format!("候选人{}", c.candidate_name)
            };
            let notice = format!(
                "已发放推荐码 {}。请转交{to}：注册登录后在“我的申报表”输入推荐码开始申报。",
                code::display(&c.code)
            );
            render(&state, &who, Some(notice), None).await
        }
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            render(&state, &who, None, Some((form.unit, f))).await
        }
        Err(f) => Err(f.into()),
    }
}

pub async fn post_revoke(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    match codes::revoke(&state.store, &who.access, id, who.ip.as_deref())
        .await
        .map_err(Failure::from)
    {
        Ok(()) => {
            render(
                &state,
                &who,
                Some("推荐码已作废，名额已释放".to_owned()),
                None,
            )
            .await
        }
        Err(f @ Failure::Conflict { .. }) => {
            let unit = state.store.get_code(id).await?.map_or(0, |c| c.unit_id);
            render(&state, &who, None, Some((unit, f))).await
        }
        Err(f) => Err(f.into()),
    }
}
