//! The unit's side (新疆 manual 二): 待审核申报表 with its two tabs, and 办理 — read the
//! application, write 修改意见 and 退回, or write the unit's opinion and 提交 upward;
//! 收回 until the receiver opens it.

use crate::auth::Posted;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_rules::form::FieldValue;
use pingxuan_rules::workflow::MoveKind;
use serde::Deserialize;

use crate::AppState;
use crate::applications::flow::{self, Loaded, UnitAction};
use crate::applications::mine::ListRow;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};
use crate::pages::Shell;

#[derive(Template)]
#[template(path = "applications/review_list.html")]
struct ReviewList {
    shell: Shell,
    done: bool,
    rows: Vec<ListRow>,
    /// The lists this account may export, one per campaign.
    exports: Vec<ExportCard>,
    csrf: String,
}

/// One campaign's exports on the review list: the 汇总表 link, the 打包 form, and the
/// caller's recent packing jobs.
struct ExportCard {
    campaign_id: String,
    name: String,
    recent: Vec<pingxuan_app::jobs::JobView>,
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    #[serde(default)]
    tab: Option<String>,
}

pub async fn get_review(
    State(state): State<AppState>,
    who: SignedIn,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, PageError> {
    let done = q.tab.as_deref() == Some("done");
    let rows = crate::applications::lists::review_queue(&state.store, &who.access, done)
        .await?
        .into_iter()
        .map(|a| {
            let href = format!("/review/{}", a.id);
            ListRow::new(a, href)
        })
        .collect();
    let mut exports = Vec::new();
    for id in pingxuan_app::exports::campaigns_to_export(&who.access) {
        if let Some(c) = state.store.campaign_model(id).await? {
            exports.push(ExportCard {
                campaign_id: id.to_owned(),
                name: c.campaign.name.clone(),
                recent: pingxuan_app::jobs::recent(&state.filing, &who.access, id).await?,
            });
        }
    }
    let page = ReviewList {
        shell: Shell::signed_in(&who, "待审核申报表", "/applications/review"),
        done,
        rows,
        exports,
        csrf: who.session.csrf_token.clone(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "applications/review.html")]
struct ReviewPage {
    shell: Shell,
    csrf: String,
    id: i64,
    number: String,
    campaign_name: String,
    state_text: String,
    holding: bool,
    /// The materials attached below and at this level; this level's own can be added
    /// while it holds the application.
    materials: Vec<crate::materials::MaterialView>,
    /// Whether any of them can be changed here (the upload hint is shown once).
    materials_editable: bool,
    /// The 考察材料 to download (the recommending unit and above).
    inspection: bool,
    /// Whether this level sends upward (the top level does not).
    can_submit: bool,
    /// Levels a 退回 may go to: (index, name), the applicant first.
    return_to: Vec<(usize, String)>,
    /// Why recall is still possible, when it is.
    recall_hint: Option<String>,
    /// Where the selection rounds hold the candidate, in words: no 退回 or 收回 meanwhile.
    in_selection: Option<String>,
    opinion_label: String,
    opinion_guidance: String,
    /// 东莞: the actual employer may sign beside the work unit.
    /// The actual employer the applicant named (东莞), prefilled as the co-signer.
    actual_employer: String,
    co_signs: bool,
    /// What the levels below wrote when they forwarded it: (level, opinion, when).
    opinions: Vec<(String, String, String)>,
    /// The field a refusal concerns, to mark it.
    error_field: String,
    /// The applicant's answers to the eligibility questions, and what they and the
    /// register of earlier winners raise.
    eligibility: Vec<(String, String)>,
    flags: Vec<String>,
    quota: String,
    /// “提交截止：…” and whether it has passed.
    deadline: Option<(String, bool)>,
    facts: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
    /// What the unit typed into the form a refusal answers, shown again so nothing is lost.
    typed: Typed,
    /// The published outcomes of the stages it was in.
    conclusions: Vec<pingxuan_app::stages::Conclusion>,
}

/// The text of a refused 提交 or 退回, put back into the form it came from.
#[derive(Default)]
struct Typed {
    opinion: String,
    co_signer: Option<String>,
    co_opinion: String,
    return_comment: String,
}

impl Typed {
    fn from(form: &ActForm, action: UnitAction) -> Typed {
        match action {
            UnitAction::Submit => Typed {
                opinion: form.comment.clone(),
                co_signer: Some(form.co_signer.clone()),
                co_opinion: form.co_opinion.clone(),
                return_comment: String::new(),
            },
            UnitAction::Return { .. } => Typed {
                return_comment: form.comment.clone(),
                ..Typed::default()
            },
            UnitAction::Recall => Typed::default(),
        }
    }
}

fn value_text(v: &FieldValue) -> String {
    match v {
        FieldValue::Text(t) => t.clone(),
        FieldValue::List(items) => items
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n"),
        FieldValue::Rows(rows) => rows
            .iter()
            .map(|(a, b)| format!("{a}　{b}"))
            .collect::<Vec<_>>()
            .join("\n"),
        FieldValue::Flag(b) => if *b { "是" } else { "否" }.to_owned(),
    }
}

/// The opinions written by the levels below `level` on the submissions that still
/// stand (a recalled or returned-and-resubmitted one is superseded by the later one).
fn opinions_below(l: &Loaded, level: usize) -> Vec<(String, String, String)> {
    let mut latest: std::collections::BTreeMap<usize, (String, String)> = Default::default();
    for e in &l.events {
        if let pingxuan_rules::workflow::Event::Submit { by } = e.event
            && by > 0
            && by < level
        {
            let mut text = e.comment.clone();
            if !e.co_signer.is_empty() {
                text.push_str(&format!(
                    "\n实际就职单位（{}）意见：{}",
                    e.co_signer, e.co_opinion
                ));
            }
            latest.insert(by, (text, crate::pages::format_time(e.at)));
        }
    }
    latest
        .into_iter()
        .map(|(by, (text, at))| {
            let label = l
                .campaign
                .levels
                .iter()
                .find(|x| x.key == l.chain.levels[by].key)
                .and_then(|x| x.opinion.clone())
                .unwrap_or_else(|| format!("{}意见", l.chain.name(by)));
            (label, text, at)
        })
        .collect()
}

async fn render(
    state: &AppState,
    who: &SignedIn,
    l: &Loaded,
    level: usize,
    notice: Option<String>,
    error: Option<(String, StatusCode, String)>,
    typed: Typed,
) -> Result<Response, PageError> {
    let level_cfg = l
        .campaign
        .levels
        .iter()
        .find(|x| x.key == l.chain.levels[level].key);
    let facts = l
        .campaign
        .form
        .fields
        .iter()
        .map(|f| {
            // The detail page shows 身份证号码 and the mobile whole: this unit is entitled.
            let v = l.app.form.get(&f.key).map(value_text).unwrap_or_default();
            (f.label.clone(), v)
        })
        .collect();
    // The recommender's own count; other levels see it in the opinions below.
    let quota = match l.quota() {
        Some(pingxuan_rules::decide::Quota { used, max, .. })
            if level as i64 == l.app.recommender_level =>
        {
            format!("本单位已推荐 {used}/{max} 名")
        }
        _ => String::new(),
    };
    let (error, status, error_field) = match error {
        Some((e, s, f)) => (Some(e), s, f),
        None => (None, StatusCode::OK, String::new()),
    };
    let materials = crate::materials::material_views(l, &l.attachments, level);
    let conclusions =
        pingxuan_app::stages::conclusions_for(&state.store, &l.campaign, l.app.id).await?;
    let in_selection = if l.state.holder() == l.chain.top() {
        pingxuan_app::applications::holding(&state.store, &l.campaign, l.app.id)
            .await?
            .0
    } else {
        None
    };
    let page = ReviewPage {
        conclusions,
        shell: Shell::signed_in(who, "办理申报表", "/applications/review"),
        csrf: who.session.csrf_token.clone(),
        id: l.app.id,
        number: l.app.number.clone(),
        campaign_name: l.campaign.campaign.name.clone(),
        state_text: l.state.text(&l.chain),
        holding: l.state.holder() == level,
        materials_editable: materials.iter().any(|m| m.editable),
        inspection: pingxuan_rules::workflow::may_export_inspection(
            level,
            l.app.recommender_level as usize,
        ),
        materials,
        can_submit: level < l.chain.top(),
        // The applicant first: only the applicant can change the form.
        return_to: (0..level)
            .map(|i| (i, l.chain.name(i).to_owned()))
            .collect(),
        recall_hint: l
            .state
            .moves
            .last()
            .filter(|_| l.state.can_recall(level) && in_selection.is_none())
            .map(|m| match m.kind {
                MoveKind::Return => format!("{}尚未重新提交，可以收回退回", l.chain.name(m.to)),
                MoveKind::Submit => format!("{}尚未办理，可以收回", l.chain.name(m.to)),
            }),
        opinion_label: level_cfg
            .and_then(|x| x.opinion.clone())
            .unwrap_or_else(|| "意见".to_owned()),
        opinion_guidance: level_cfg
            .and_then(|x| x.opinion_guidance.clone())
            .unwrap_or_default(),
        eligibility: {
            let given = pingxuan_rules::eligibility::answers(&l.app.form);
            pingxuan_rules::eligibility::questions(&l.campaign)
                .into_iter()
                .map(|q| {
                    let a = given
                        .iter()
                        .find(|(k, _)| *k == q.key)
                        .map(|(_, a)| a.clone())
                        .unwrap_or_else(|| "未回答".to_owned());
                    (q.text, a)
                })
                .collect()
        },
        flags: l.findings().into_iter().map(|f| f.message).collect(),
        co_signs: level_cfg.is_some_and(|x| x.employer_also_signs),
        actual_employer: flow::actual_employer(l),
        opinions: opinions_below(l, level),
        error_field,
        quota,
        deadline: if level < l.chain.top() {
            l.deadline_line(level)
        } else {
            None
        },
        facts,
        notice,
        error,
        typed,
        in_selection,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// 办理: opening the application is recorded (it ends the sender's right to recall).
/// What a move just did, carried by the redirect after it (`?done=submitted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Saved,
    Submitted,
    Returned,
    Recalled,
}

impl Done {
    const ALL: [Done; 4] = [Done::Saved, Done::Submitted, Done::Returned, Done::Recalled];

    /// Its key in the address.
    fn key(self) -> &'static str {
        match self {
            Done::Saved => "saved",
            Done::Submitted => "submitted",
            Done::Returned => "returned",
            Done::Recalled => "recalled",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Done::Saved => "已保存草稿",
            Done::Submitted => "已提交",
            Done::Returned => "已退回",
            Done::Recalled => "已收回",
        }
    }
}

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// The query after a move; an unknown `done` (an edited address) is ignored, not refused.
#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

impl DoneQuery {
    pub fn done(&self) -> Option<Done> {
        let key = self.done.as_deref()?;
        Done::ALL.into_iter().find(|d| d.key() == key)
    }
}

pub async fn get_item(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, PageError> {
    let (mut l, level) = flow::load_for_unit(&state.store, &who.access, id).await?;
    if l.state.awaiting_open(level) {
        match flow::open_if_new(&state.store, &who.access, &l, level, who.ip.as_deref()).await {
            // Someone acted at the same moment (the sender recalled): show what is now.
            Ok(()) | Err(pingxuan_app::Error::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        l = flow::load_for_unit(&state.store, &who.access, id).await?.0;
    }
    let notice = q
        .done()
        .map(|d| format!("{}，当前状态：{}", d.words(), l.state.text(&l.chain)));
    render(&state, &who, &l, level, notice, None, Typed::default()).await
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    co_signer: String,
    #[serde(default)]
    co_opinion: String,
    /// For 退回: the level sent back to (the applicant when absent).
    #[serde(default)]
    to: Option<usize>,
}

async fn act(
    state: &AppState,
    who: &SignedIn,
    id: i64,
    form: &ActForm,
    action: UnitAction,
    done: Done,
) -> Result<Response, PageError> {
    let (l, level) = flow::load_for_unit(&state.store, &who.access, id).await?;
    let outcome = flow::unit_act(
        &state.store,
        &who.access,
        &l,
        level,
        action,
        &pingxuan_store::applications::Note {
            comment: form.comment.clone(),
            co_signer: form.co_signer.clone(),
            co_opinion: form.co_opinion.clone(),
        },
        who.ip.as_deref(),
    )
    .await;
    match outcome.map_err(Failure::from) {
        // Answered with a redirect, so F5 does not send the move again; the page says
        // what was done.
        Ok(_) => Ok(Redirect::to(&format!("/review/{id}?done={done}")).into_response()),
        Err(f @ (Failure::Invalid { .. } | Failure::Conflict { .. })) => {
            let status = match f {
                Failure::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::CONFLICT,
            };
            let field = match &f {
                Failure::Invalid { field, .. } => field.clone().unwrap_or_default(),
                _ => String::new(),
            };
            render(
                state,
                who,
                &l,
                level,
                None,
                Some((f.message(), status, field)),
                Typed::from(form, action),
            )
            .await
        }
        Err(f) => Err(f.into()),
    }
}

/// 退回 to the applicant with 修改意见.
pub async fn post_return(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Posted(form): Posted<ActForm>,
) -> Result<Response, PageError> {
    let to = form.to.unwrap_or(0);
    act(
        &state,
        &who,
        id,
        &form,
        UnitAction::Return { to },
        Done::Returned,
    )
    .await
}

/// 提交 upward with this level's opinion.
pub async fn post_submit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Posted(form): Posted<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &who, id, &form, UnitAction::Submit, Done::Submitted).await
}

/// 收回 this level's last move (a submission not yet opened, or a 退回 not yet acted on).
pub async fn post_recall(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Posted(form): Posted<ActForm>,
) -> Result<Response, PageError> {
    act(&state, &who, id, &form, UnitAction::Recall, Done::Recalled).await
}
