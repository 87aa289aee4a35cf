//! One application as its applicant sees it: 我要申请, the form (保存, 提交), 我承诺,
//! 收回, and the flow behind the state text.

use std::collections::BTreeMap;

use crate::auth::{Button, Posted};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_rules::campaign::{FieldKey, FormField};
use pingxuan_rules::form::{FieldValue, FormValues};
use pingxuan_rules::workflow::Event;
use serde::Deserialize;

use crate::AppState;
use crate::applications::flow::{self, Loaded, field_name};
use crate::applications::review::{Done, DoneQuery};
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

#[derive(Deserialize)]
pub struct NewForm {
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    recommender: Option<i64>,
    /// 推荐码, for campaigns that take no individual applications.
    #[serde(default)]
    code: Option<String>,
}

/// 我要申请: with a 推荐码, an application bound to the code's recommender; in an open
/// campaign, one bound to the chosen recommender. A refused code is shown beside the
/// box with what was typed.
pub async fn post_new(
    State(state): State<AppState>,
    who: SignedIn,
    Posted(form): Posted<NewForm>,
) -> Result<Response, PageError> {
    let created = match form.code.as_deref() {
        Some(code) => {
            flow::create_coded_application(&state.store, &who.access, code, who.ip.as_deref()).await
        }
        None => {
            flow::create_open_application(
                &state.store,
                &who.access,
                &form.campaign,
                form.recommender,
                who.ip.as_deref(),
            )
            .await
        }
    };
    match created.map_err(Failure::from) {
        Ok((id, _)) => Ok(Redirect::to(&format!("/applications/{id}")).into_response()),
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) if form.code.is_some() => {
            let status = match f {
                Failure::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let typed = form.code.clone().unwrap_or_default();
            crate::applications::mine::render_mine(&state, &who, typed, Some((status, f.message())))
                .await
        }
        Err(f) => Err(f.into()),
    }
}

/// One field as the form shows it.
pub struct FieldView {
    pub name: String,
    pub label: String,
    pub required: bool,
    pub hint: String,
    /// input, textarea, select, checks, parts, rows, declaration
    pub kind: &'static str,
    pub value: String,
    pub values: Vec<String>,
    pub rows: Vec<(String, String)>,
    pub choices: Vec<String>,
    pub max_chars: Option<u32>,
    pub about_chars: Option<u32>,
    pub errors: Vec<String>,
}

fn view_of(
    f: &FormField,
    value: Option<&FieldValue>,
    errors: Vec<String>,
    declaration: &str,
) -> FieldView {
    let text = value.and_then(FieldValue::text).unwrap_or("").to_owned();
    let (kind, choices): (&'static str, Vec<String>) = match f.key {
        FieldKey::Sex => ("select", vec!["男".into(), "女".into()]),
        FieldKey::Academician => ("select", vec!["否".into(), "是".into()]),
        FieldKey::Declaration => ("declaration", vec![declaration.to_owned()]),
        FieldKey::Resume => ("rows", Vec::new()),
        FieldKey::Stories => ("parts", Vec::new()),
        FieldKey::Deeds | FieldKey::Summary | FieldKey::Duties | FieldKey::Specialty => {
            ("textarea", Vec::new())
        }
        k if k.is_choice() && f.multiple => ("checks", f.choices.clone()),
        k if k.is_choice() => ("select", f.choices.clone()),
        _ => ("input", Vec::new()),
    };
    let values = match value {
        Some(FieldValue::List(v)) => v.clone(),
        _ => Vec::new(),
    };
    let mut rows = match value {
        Some(FieldValue::Rows(r)) => r.clone(),
        _ => Vec::new(),
    };
    let mut parts = values.clone();
    if kind == "rows" {
        rows.extend(std::iter::repeat_n((String::new(), String::new()), 3));
    }
    if kind == "parts" {
        let n = f.max_items.unwrap_or(2).max(1) as usize;
        parts.resize(n.max(parts.len()), String::new());
    }
    FieldView {
        name: field_name(f.key),
        label: f.label.clone(),
        required: f.required,
        hint: f.hint.clone().unwrap_or_default(),
        kind,
        value: text,
        values: if kind == "parts" { parts } else { values },
        rows,
        choices,
        max_chars: f.max_chars,
        about_chars: f.about_chars,
        errors,
    }
}

#[derive(Template)]
#[template(path = "applications/form.html")]
struct ApplicationPage {
    shell: Shell,
    csrf: String,
    id: i64,
    number: String,
    campaign_name: String,
    state_text: String,
    editable: bool,
    can_recall: bool,
    /// The level the applicant submits to (推荐单位, or 所在单位 where it signs first).
    receiver: String,
    /// “提交截止：…” while the applicant holds it, and whether it has passed.
    deadline: Option<(String, bool)>,
    committed: Option<String>,
    rules: Vec<String>,
    version: i64,
    fields: Vec<FieldView>,
    /// 资格确认: (input name, question, answer), and the problems found.
    questions: Vec<(String, String, String)>,
    eligibility_errors: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<String>,
    /// The applicant's materials (照片, 视频 …) and what is attached.
    materials: Vec<crate::materials::MaterialView>,
    /// Whether any of them can be changed here (the upload hint is shown once).
    materials_editable: bool,
    conclusions: Vec<pingxuan_app::stages::Conclusion>,
    /// (campaign, serial) of the certificate, once the list is released with them on it.
    certificate: Option<(String, String)>,
}

/// What the applicant reads before pressing 我承诺: the campaign's conditions.
fn rules_text(l: &Loaded) -> Vec<String> {
    let c = &l.campaign;
    let mut out = Vec::new();
    if let Some(note) = &c.eligibility.work_region_note {
        out.push(format!("推荐人选为{note}。"));
    }
    if let Some(n) = &c.eligibility.nationality {
        out.push(format!("须为{n}籍。"));
    }
    if !c.eligibility.exclusions.is_empty() {
        let list: Vec<&str> = c
            .eligibility
            .exclusions
            .iter()
            .map(|r| r.label.as_str())
            .collect();
        out.push(format!("不包括：{}。", list.join("、")));
    }
    for r in &c.eligibility.prior_titles {
        let how = match r.strictness {
            pingxuan_rules::campaign::Strictness::InPrinciple => "原则上不再推荐",
            pingxuan_rules::campaign::Strictness::Strict => "不再推荐",
        };
        out.push(format!("{}的，{how}。", r.label));
    }
    if let Some(d) = &c.form.declaration {
        out.push(d.clone());
    }
    out
}

/// The message a page shows after an action, and its status.
struct Said {
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
    /// What else stands in the way, listed under the error with the field problems.
    blockers: Vec<String>,
    /// The selection rounds' published outcomes for this application.
    conclusions: Vec<pingxuan_app::stages::Conclusion>,
    certificate: Option<(String, String)>,
}

impl Said {
    fn nothing() -> Said {
        Said {
            notice: None,
            error: None,
            status: StatusCode::OK,
            blockers: Vec::new(),
            conclusions: Vec::new(),
            certificate: None,
        }
    }
    fn notice(text: impl Into<String>) -> Said {
        Said {
            notice: Some(text.into()),
            error: None,
            status: StatusCode::OK,
            blockers: Vec::new(),
            conclusions: Vec::new(),
            certificate: None,
        }
    }
    fn error(text: impl Into<String>, status: StatusCode) -> Said {
        Said {
            notice: None,
            error: Some(text.into()),
            status,
            blockers: Vec::new(),
            conclusions: Vec::new(),
            certificate: None,
        }
    }
}

/// Renders the application; `form` shows what was just typed instead of what is stored.
async fn render(
    who: &SignedIn,
    l: &Loaded,
    form: Option<&FormValues>,
    errors: BTreeMap<FieldKey, Vec<String>>,
    said: Said,
) -> Result<Response, PageError> {
    let values = form.unwrap_or(&l.app.form);
    let declaration = l.campaign.form.declaration.clone().unwrap_or_default();
    let fields = l
        .campaign
        .form
        .fields
        .iter()
        .map(|f| {
            view_of(
                f,
                values.get(&f.key),
                errors.get(&f.key).cloned().unwrap_or_default(),
                &declaration,
            )
        })
        .collect();
    let problems: Vec<String> = said
        .blockers
        .iter()
        .chain(errors.values().flatten())
        .cloned()
        .collect();
    let given = pingxuan_rules::eligibility::answers(values);
    let questions = pingxuan_rules::eligibility::questions(&l.campaign)
        .into_iter()
        .map(|q| {
            let answer = given
                .iter()
                .find(|(k, _)| *k == q.key)
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
            (format!("e.{}", q.key), q.text, answer)
        })
        .collect();
    let eligibility_errors = errors
        .get(&FieldKey::Eligibility)
        .cloned()
        .unwrap_or_default();
    let materials = crate::materials::material_views(l, &l.attachments, 0);
    let page = ApplicationPage {
        shell: Shell::signed_in(who, "我的申报表", "/applications/mine"),
        csrf: who.session.csrf_token.clone(),
        id: l.app.id,
        number: l.app.number.clone(),
        campaign_name: l.campaign.campaign.name.clone(),
        state_text: l.state.text(&l.chain),
        editable: l.state.applicant_may_edit(),
        can_recall: l.state.can_recall(0),
        receiver: l.chain.name(1).to_owned(),
        deadline: l
            .state
            .applicant_may_edit()
            .then(|| l.deadline_line(0))
            .flatten(),
        committed: l.app.committed_at.map(format_time),
        rules: rules_text(l),
        version: l.app.form_version,
        fields,
        questions,
        eligibility_errors,
        notice: said.notice,
        error: said.error,
        problems,
        materials_editable: materials.iter().any(|m| m.editable),
        materials,
        conclusions: said.conclusions.clone(),
        certificate: said.certificate.clone(),
    };
    Ok((said.status, Html(page.render()?)).into_response())
}

pub async fn get_application(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, PageError> {
    let l = flow::load_own(&state.store, &who.access, id).await?;
    let mut said = match q.done() {
        None => Said::nothing(),
        Some(Done::Saved) => Said::notice("已保存草稿"),
        Some(Done::Recalled) => Said::notice(format!(
            "已收回，可以继续修改，当前状态：{}",
            l.state.text(&l.chain)
        )),
        Some(d) => Said::notice(format!(
            "{}，当前状态：{}",
            d.words(),
            l.state.text(&l.chain)
        )),
    };
    said.conclusions = pingxuan_app::stages::conclusions_for(&state.store, &l.campaign, l.app.id)
        .await
        .map_err(Failure::from)?;
    said.certificate =
        pingxuan_app::release::certificate_of(&state.store, &l.app.campaign_id, l.app.id)
            .await
            .map_err(Failure::from)?
            .map(|serial| (l.app.campaign_id.clone(), serial));
    render(&who, &l, None, BTreeMap::new(), said).await
}

/// Records the applicant's move and shows the application as it now stands.
async fn act(
    state: &AppState,
    who: &SignedIn,
    l: &Loaded,
    event: Event,
    done: Done,
) -> Result<Response, PageError> {
    let said = match flow::act(
        &state.store,
        &who.access,
        l,
        event,
        &Default::default(),
        who.ip.as_deref(),
    )
    .await
    {
        Ok(_) => {
            let to = format!("/applications/{}?done={done}", l.app.id);
            return Ok(Redirect::to(&to).into_response());
        }
        Err(f) => Said::error(Failure::from(f).message(), StatusCode::CONFLICT),
    };
    let l = flow::load_own(&state.store, &who.access, l.app.id).await?;
    render(who, &l, None, BTreeMap::new(), said).await
}

/// 保存 or 提交 the form. What was typed is shown again whatever happens.
pub async fn post_application(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Posted(pairs): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let l = flow::load_own(&state.store, &who.access, id).await?;
    let form = flow::read_form(&l.campaign, &pairs);
    let version: i64 = get("version").parse().unwrap_or(0);
    let saved = flow::save_form(
        &state.store,
        &who.access,
        id,
        version,
        form.clone(),
        who.ip.as_deref(),
    )
    .await;
    let l = match saved {
        Ok(l) => l,
        Err(e @ (pingxuan_app::Error::Conflict { .. } | pingxuan_app::Error::Invalid { .. })) => {
            let said = Said::error(Failure::from(e).message(), StatusCode::CONFLICT);
            return render(&who, &l, Some(&form), BTreeMap::new(), said).await;
        }
        Err(e) => return Err(e.into()),
    };
    // A move that happened is answered with a redirect, so F5 does not send it again.
    let done = |d: Done| Ok(Redirect::to(&format!("/applications/{id}?done={d}")).into_response());
    if get("action") != "submit" {
        return done(Done::Saved);
    }
    match flow::applicant_submit(&state.store, &who.access, &l, who.ip.as_deref())
        .await
        .map_err(Failure::from)
    {
        Ok(Ok(_)) => done(Done::Submitted),
        Ok(Err(refusal)) => {
            let said = Said {
                blockers: refusal.blockers.clone(),
                ..Said::error(refusal.headline(), StatusCode::UNPROCESSABLE_ENTITY)
            };
            render(&who, &l, None, refusal.errors, said).await
        }
        Err(f @ Failure::Conflict { .. }) => {
            render(
                &who,
                &l,
                None,
                BTreeMap::new(),
                Said::error(f.message(), StatusCode::CONFLICT),
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}

/// 我承诺.
pub async fn post_commit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    flow::commit(&state.store, &who.access, id, who.ip.as_deref()).await?;
    Ok(Redirect::to(&format!("/applications/{id}")).into_response())
}

/// 收回 what the applicant submitted, until the unit opens it.
pub async fn post_recall(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _: Posted<Button>,
) -> Result<Response, PageError> {
    let l = flow::load_own(&state.store, &who.access, id).await?;
    act(&state, &who, &l, Event::Recall { by: 0 }, Done::Recalled).await
}

#[derive(Template)]
#[template(path = "applications/flow.html")]
struct FlowPage {
    shell: Shell,
    back: String,
    number: String,
    state_text: String,
    /// (when, what, who, what they wrote).
    steps: Vec<(String, String, String, String)>,
}

/// The whole flow behind the state text (the manual: click the state to see it).
pub async fn get_flow(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    // The applicant and the units it has reached may follow the flow.
    let l = flow::load(&state.store, id).await?;
    if flow::viewer_level(&who.access, &l).is_none() {
        return Err(Failure::NotFound.into());
    }
    let c = &l.chain;
    let names = flow::actor_names(&l);
    let steps = l
        .events
        .iter()
        .map(|e| {
            let what = match e.event {
                Event::Submit { by } => format!("{}提交到{}", c.name(by), c.name(by + 1)),
                Event::Return { by, to } => format!("{}退回到{}", c.name(by), c.name(to)),
                Event::Recall { by } => format!("{}收回", c.name(by)),
                Event::Open { by } => format!("{}办理（查看）", c.name(by)),
            };
            let mut said = e.comment.clone();
            if !e.co_signer.is_empty() {
                said.push_str(&format!(
                    "\n实际就职单位（{}）意见：{}",
                    e.co_signer, e.co_opinion
                ));
            }
            let who = e
                .actor_id
                .and_then(|a| names.get(&a).cloned())
                .unwrap_or_default();
            (format_time(e.at), what, who, said)
        })
        .collect();
    let page = FlowPage {
        shell: Shell::signed_in(&who, "流程记录", "/applications/mine"),
        back: if l.app.applicant_id == who.access.user.id {
            format!("/applications/{id}")
        } else {
            format!("/review/{id}")
        },
        number: l.app.number.clone(),
        state_text: l.state.text(c),
        steps,
    };
    Ok(Html(page.render()?).into_response())
}
