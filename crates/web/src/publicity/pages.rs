//! The organiser's 公示 console (`/campaigns/{id}/publicity`): what may be published
//! and why not, the publish form with the drafted notice, the 公示 published, the
//! changes to the list after an upheld objection, the objections with who made them,
//! and the forms to enter one and to take one to its outcome. Every move is a form
//! answered with a redirect; a refused one shows the page again with the reason.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use pingxuan_app::publicity::{self as actions, Filer, Overview, PublishForm};
use pingxuan_rules::calendar::{day_text, parse_day};
use pingxuan_rules::publicity::objection::{Channel, Outcome};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Posted, PostedFiles, SignedIn};
use crate::error::{Failure, PageError};
use crate::pages::{Shell, format_time};

/// (name, work unit, recommender).
type Person = (String, String, String);

pub struct PublicityRow {
    pub public_id: String,
    pub title: String,
    pub kind: &'static str,
    pub period: String,
    pub status: &'static str,
    pub names: String,
}

pub struct ObjectionRow {
    pub id: i64,
    pub number: String,
    pub publicity: String,
    pub candidate: String,
    pub objector: String,
    pub phone: String,
    pub channel: &'static str,
    pub received: String,
    pub text: String,
    /// (seq, name, size in words).
    pub files: Vec<(i64, String, String)>,
    pub outcome: &'static str,
    pub settled: bool,
    pub opinion: String,
    /// Each step: “核查中 · 王主任 2024-04-29 10:00 · 意见”.
    pub steps: Vec<String>,
    /// The outcomes that may follow: (key, words).
    pub next: Vec<(&'static str, &'static str)>,
    pub still_listed: bool,
}

#[derive(Template)]
#[template(path = "publicity/console.html")]
struct ConsolePage {
    shell: Shell,
    csrf: String,
    campaign_id: String,
    /// The console's path under the campaign (the shared objection forms post there).
    base: &'static str,
    campaign_title: String,
    /// What the campaign file says of the final 公示.
    rule: String,
    blocked: Option<String>,
    /// The proposal: kind in words, stage, (name, work unit, recommender) of each.
    proposal: Option<(&'static str, String, Vec<Person>)>,
    title: String,
    body: String,
    contact: String,
    days: u32,
    today: String,
    /// Where the count of working days starts, in words.
    start: &'static str,
    publicities: Vec<PublicityRow>,
    /// (entries as “公示标题 — 姓名”, value `publicity:application`).
    targets: Vec<(String, String)>,
    removed: Vec<(String, String)>,
    added: Vec<(String, String)>,
    objections: Vec<ObjectionRow>,
    done: Option<&'static str>,
    error: Option<(String, String)>,
    /// Which form the error belongs to: publish, enter, or an objection's id.
    error_at: String,
    /// The objection whose full telephone the office asked to see, and the number.
    revealed: Option<(i64, String)>,
    /// The 登记异议 form as typed, after a refusal.
    entered: Entered,
}

impl ConsolePage {
    fn field_error(&self, at: &str, field: &str) -> Option<&str> {
        field_error(&self.error, &self.error_at, at, field)
    }

    fn form_error(&self, at: &str) -> Option<&str> {
        form_error(&self.error, &self.error_at, at)
    }
}

/// The fields the console's forms show a refusal beside; any other refusal shows above
/// the form it came from.
const FIELDS: [&str; 12] = [
    "title",
    "body",
    "contact",
    "working_days",
    "published_on",
    "name",
    "phone",
    "text",
    "candidate",
    "files",
    "opinion",
    "received_on",
];

/// A console's refusal as its page shows it: the status, the form it came from, and
/// (field, message).
pub(crate) fn refusal(
    error: Option<(String, Failure)>,
) -> (axum::http::StatusCode, String, Option<(String, String)>) {
    match error {
        None => (axum::http::StatusCode::OK, String::new(), None),
        Some((at, f)) => (
            f.status(),
            at,
            Some((f.field().unwrap_or_default(), f.message())),
        ),
    }
}

/// A console's refusal beside `field` of the form `at` (publish, enter, an objection).
pub(crate) fn field_error<'a>(
    error: &'a Option<(String, String)>,
    error_at: &str,
    at: &str,
    field: &str,
) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|(f, _)| error_at == at && f == field)
        .map(|(_, m)| m.as_str())
}

/// A console's refusal of the form `at` that belongs to none of its fields.
pub(crate) fn form_error<'a>(
    error: &'a Option<(String, String)>,
    error_at: &str,
    at: &str,
) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|(f, _)| error_at == at && !FIELDS.contains(&f.as_str()))
        .map(|(_, m)| m.as_str())
}

/// Typed values kept after a refusal.
#[derive(Default)]
struct Typed {
    title: Option<String>,
    body: Option<String>,
    contact: Option<String>,
    days: Option<u32>,
    /// The office's entry of an objection, as typed, kept after a refusal.
    enter: Entered,
}

/// The 登记异议 form's boxes as typed.
#[derive(Default)]
pub struct Entered {
    pub target: String,
    pub channel: String,
    pub received_on: String,
    pub name: String,
    pub phone: String,
    pub text: String,
}

fn render(
    who: &SignedIn,
    o: Overview,
    done: Option<&str>,
    error: Option<(String, Failure)>,
    typed: Typed,
) -> Result<Response, PageError> {
    render_with(who, o, done, error, typed, None)
}

fn render_with(
    who: &SignedIn,
    o: Overview,
    done: Option<&str>,
    error: Option<(String, Failure)>,
    typed: Typed,
    revealed: Option<(i64, String)>,
) -> Result<Response, PageError> {
    let now = pingxuan_store::now();
    let draft = actions::draft(&o);
    let p = &o.campaign.publicity;
    let rule = if p.final_publicity {
        match p.final_working_days {
            Some(d) => format!("活动方案要求最终名单公示 {d} 个工作日，公示无异议后公布结果。"),
            None => {
                "活动方案要求最终名单经公示无异议后公布结果，公示天数未规定，由活动办公室确定。"
                    .to_owned()
            }
        }
    } else {
        "活动方案未要求对最终名单公示；如需公示，可在此发布。".to_owned()
    };
    let publicities = o
        .publicities
        .iter()
        .map(|p| PublicityRow {
            public_id: p.public_id.clone(),
            title: p.title.clone(),
            kind: pingxuan_rules::publicity::Kind::from_key(&p.kind).map_or("公示", |k| k.text()),
            period: actions::period_of(p).text(),
            status: actions::status_text(p, now),
            names: p
                .entries
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect();
    let targets = o
        .publicities
        .iter()
        .filter(|p| p.kind != pingxuan_rules::publicity::Kind::Unit.key())
        .flat_map(|p| {
            p.entries.iter().map(move |e| {
                (
                    format!("{} — {}", p.title, e.name),
                    format!("{}:{}", p.public_id, e.application_id),
                )
            })
        })
        .collect();
    let objections = objection_rows(&o.objections, false);
    let (status, error_at, error) = refusal(error);
    let page = ConsolePage {
        shell: Shell::signed_in(who, "公示与异议", ""),
        csrf: who.session.csrf_token.clone(),
        campaign_id: o.campaign.campaign.id.clone(),
        base: "publicity",
        campaign_title: o.campaign.campaign.name.clone(),
        rule,
        blocked: o.blocked.clone(),
        proposal: o.proposal.as_ref().map(|p| {
            (
                p.kind.text(),
                p.stage_name.clone(),
                p.entries
                    .iter()
                    .map(|e| (e.name.clone(), e.work_unit.clone(), e.recommender.clone()))
                    .collect(),
            )
        }),
        title: typed
            .title
            .or_else(|| draft.as_ref().map(|d| d.title.clone()))
            .unwrap_or_default(),
        body: typed
            .body
            .or_else(|| draft.as_ref().map(|d| d.body.clone()))
            .unwrap_or_default(),
        contact: typed.contact.unwrap_or_else(|| o.contact.clone()),
        days: typed.days.unwrap_or(o.days),
        today: day_text(actions::today()),
        start: match o.campaign.publicity.start {
            pingxuan_rules::campaign::PublicityStart::NextWorkingDay => {
                "从发布次日起的第一个工作日起算"
            }
            pingxuan_rules::campaign::PublicityStart::SameDay => {
                "发布当日为工作日的从当日起算"
            }
        },
        publicities,
        targets,
        removed: o.changes.removed.clone(),
        added: o.changes.added.clone(),
        objections,
        done: done.and_then(|d| match d {
            "published" => Some("公示已发布，公示页面的地址见下方列表，可转发或打印张贴"),
            "entered" => Some("异议已登记"),
            "decided" => Some("处理结果已保存，异议人凭编号可查询处理意见"),
            "upheld" => Some(
                "异议成立：被异议人已移出名单；已确定的晋级名单随之撤销，请到评选阶段页面核对重新产生的名单并确定",
            ),
            _ => None,
        }),
        error,
        error_at,
        revealed,
        entered: typed.enter,
    };
    Ok((status, Html(page.render().map_err(Failure::from)?)).into_response())
}

/// `?done=…`: what a move just did, said once on the page it lands on.
#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    pub(super) done: Option<String>,
}

/// `GET /campaigns/{id}/publicity`.
pub async fn get_console(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let o = actions::overview(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?;
    render(&who, o, q.done.as_deref(), None, Typed::default())
}

async fn again(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    at: &str,
    e: pingxuan_app::Error,
    typed: Typed,
) -> Result<Response, PageError> {
    let o = actions::overview(&state.store, &who.access, id)
        .await
        .map_err(Failure::from)?;
    render(who, o, None, Some((at.to_owned(), Failure::from(e))), typed)
}

pub(crate) fn refusable(e: &pingxuan_app::Error) -> bool {
    matches!(
        e,
        pingxuan_app::Error::Invalid { .. } | pingxuan_app::Error::Conflict { .. }
    )
}

#[derive(Deserialize)]
pub struct PublishFields {
    title: String,
    body: String,
    contact: String,
    working_days: String,
    #[serde(default)]
    published_on: String,
}

/// `POST /campaigns/{id}/publicity`: publish what the console proposes.
pub async fn post_publish(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Posted(f): Posted<PublishFields>,
) -> Result<Response, PageError> {
    let typed = || Typed {
        title: Some(f.title.clone()),
        body: Some(f.body.clone()),
        contact: Some(f.contact.clone()),
        days: f.working_days.trim().parse().ok(),
        enter: Entered::default(),
    };
    let Ok(days) = f.working_days.trim().parse::<u32>() else {
        let e = pingxuan_app::Error::invalid(
            "working_days",
            format!("公示天数应为 1～30 的整数，填写的是“{}”", f.working_days),
            Some("working_days"),
        );
        return again(&state, &who, &id, "publish", e, typed()).await;
    };
    let published_on = if f.published_on.trim().is_empty() {
        None
    } else {
        match parse_day(&f.published_on) {
            Some(d) => Some(d),
            None => {
                let e = pingxuan_app::Error::invalid(
                    "published_on",
                    format!("发布日期“{}”无效，应写作 2024-04-25", f.published_on),
                    Some("published_on"),
                );
                return again(&state, &who, &id, "publish", e, typed()).await;
            }
        }
    };
    let form = PublishForm {
        title: f.title.clone(),
        body: f.body.clone(),
        contact: f.contact.clone(),
        working_days: days,
        published_on,
    };
    match actions::publish(&state.store, &who.access, &id, &form, who.ip.as_deref()).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/publicity?done=published")).into_response())
        }
        Err(e) if refusable(&e) => again(&state, &who, &id, "publish", e, typed()).await,
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `POST /campaigns/{id}/publicity/objections`: the office enters an objection made by
/// telephone, letter or visit, with the day it reached it and any scanned letter.
pub async fn post_enter(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    posted: PostedFiles,
) -> Result<Response, PageError> {
    let (result, entered) = enter(&state, &who, &id, posted).await;
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/publicity?done=entered")).into_response())
        }
        Err(e) if refusable(&e) => {
            let typed = Typed {
                enter: entered,
                ..Typed::default()
            };
            again(&state, &who, &id, "enter", e, typed).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct StepFields {
    pub(crate) outcome: String,
    #[serde(default)]
    pub(crate) opinion: String,
}

/// `POST /campaigns/{id}/publicity/objections/{oid}`: 核查中, or an outcome with its
/// 处理意见.
pub async fn post_step(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, oid)): Path<(String, i64)>,
    Posted(f): Posted<StepFields>,
) -> Result<Response, PageError> {
    match actions::decide(
        &state.store,
        &who.access,
        &id,
        oid,
        &f.outcome,
        &f.opinion,
        who.ip.as_deref(),
    )
    .await
    {
        Ok(Outcome::Upheld) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/publicity?done=upheld")).into_response())
        }
        Ok(_) => {
            Ok(Redirect::to(&format!("/campaigns/{id}/publicity?done=decided")).into_response())
        }
        Err(e) if refusable(&e) => {
            again(&state, &who, &id, &oid.to_string(), e, Typed::default()).await
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// `GET /campaigns/{id}/publicity/objections/{oid}/files/{seq}`: a file sent with an
/// objection, for the organiser.
pub async fn get_file(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, oid, seq)): Path<(String, i64, i64)>,
) -> Result<Response, PageError> {
    let (name, format, key) = actions::objection_file(&state.store, &who.access, &id, oid, seq)
        .await
        .map_err(Failure::from)?;
    let bytes = state
        .blobs
        .get(&key)
        .await
        .map_err(|e| Failure::from(pingxuan_app::Error::from(e)))?;
    let content_type = match format.as_str() {
        "pdf" => "application/pdf",
        "jpg" => "image/jpeg",
        "png" => "image/png",
        _ => "application/octet-stream",
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                crate::exports::disposition(true, &name),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /campaigns/{id}/publicity/objections/{oid}/contact`: the objector's full
/// telephone shown beside their objection, the look recorded in the audit trail.
pub async fn post_contact(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, oid)): Path<(String, i64)>,
    Posted(_): Posted<crate::auth::Button>,
) -> Result<Response, PageError> {
    let (_, phone) =
        actions::objector_contact(&state.store, &who.access, &id, oid, who.ip.as_deref())
            .await
            .map_err(Failure::from)?;
    let o = actions::overview(&state.store, &who.access, &id)
        .await
        .map_err(Failure::from)?;
    render_with(&who, o, None, None, Typed::default(), Some((oid, phone)))
}

/// The objections as a console lists them. The organiser sees who objected and acts on
/// its own 公示's; a unit (`for_unit`) acts on its own and never sees who.
pub(crate) fn objection_rows(list: &[actions::ObjectionView], for_unit: bool) -> Vec<ObjectionRow> {
    list.iter()
        .map(|v| {
            let obj = &v.objection;
            // The organiser does not act on a unit's 公示 (the unit does), nor a unit on
            // the organiser's.
            let next: Vec<(&'static str, &'static str)> = if v.outcome.is_final() || !v.handled {
                Vec::new()
            } else {
                [
                    Outcome::Checking,
                    Outcome::Rejected,
                    Outcome::Unfounded,
                    Outcome::Upheld,
                ]
                .into_iter()
                .filter(|n| !(*n == Outcome::Checking && v.outcome == Outcome::Checking))
                .map(|n| (n.key(), n.text()))
                .collect()
            };
            ObjectionRow {
                id: obj.id,
                number: actions::number_text(&obj.number),
                publicity: v.publicity_title.clone(),
                candidate: v.candidate.clone(),
                objector: if for_unit {
                    "实名反映（反映人信息仅活动办公室可见）".to_owned()
                } else {
                    obj.name.clone()
                },
                phone: if for_unit {
                    String::new()
                } else {
                    super::masked_phone(&obj.phone)
                },
                channel: v.channel.text(),
                // A call or a letter is known by its day, not by a time of day.
                received: if v.channel == Channel::Online {
                    format_time(obj.received_at)
                } else {
                    pingxuan_rules::publicity::day_words(pingxuan_rules::publicity::beijing_day(
                        obj.received_at,
                    ))
                },
                text: obj.body.clone(),
                files: obj
                    .files
                    .iter()
                    .map(|f| {
                        (
                            f.seq,
                            f.original_name.clone(),
                            pingxuan_rules::materials::format_size(f.size as u64),
                        )
                    })
                    .collect(),
                outcome: v.outcome.text(),
                settled: v.outcome.is_final(),
                opinion: v.opinion.clone(),
                steps: obj
                    .steps
                    .iter()
                    .map(|s| {
                        let o = Outcome::from_key(&s.outcome).map_or("", |o| o.text());
                        let mut line = format!(
                            "{o} · {} {}",
                            s.by.clone().unwrap_or_default(),
                            format_time(s.at)
                        );
                        if !s.opinion.is_empty() {
                            line.push_str(" · ");
                            line.push_str(&s.opinion);
                        }
                        line
                    })
                    .collect(),
                next,
                still_listed: v.still_listed,
            }
        })
        .collect()
}

/// Enters an objection made by telephone, letter or visit from a console's form (the
/// organiser's or a unit's): the number, or the refusal with the boxes as typed.
pub(crate) async fn enter(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    posted: PostedFiles,
) -> (Result<String, pingxuan_app::Error>, Entered) {
    let target = posted.field("target").to_owned();
    let channel = Channel::from_key(posted.field("channel"));
    let received = parse_day(posted.field("received_on"));
    let entered = Entered {
        target: target.clone(),
        channel: posted.field("channel").to_owned(),
        received_on: posted.field("received_on").to_owned(),
        name: posted.field("name").to_owned(),
        phone: posted.field("phone").to_owned(),
        text: posted.field("text").to_owned(),
    };
    let mut form = super::public::form_of(&posted);
    let (public_id, candidate) = target.split_once(':').unwrap_or(("", ""));
    form.candidate = candidate.parse().ok();
    let public_id = public_id.to_owned();
    let files = super::public::files_of(posted);
    let refused =
        |code, message: &str, field| pingxuan_app::Error::invalid(code, message, Some(field));
    let result = match (channel, received) {
        (None, _) | (Some(Channel::Online), _) => Err(refused(
            "channel",
            "请选择异议的来源：电话、来信或来访",
            "channel",
        )),
        (_, None) => Err(refused(
            "received_on",
            "请填写收到异议的日期（来信以邮戳日期为准），写作 2024-04-28",
            "received_on",
        )),
        (Some(channel), Some(received_on)) => {
            // The 公示 must be this campaign's.
            match state.store.publicity(&public_id).await {
                Ok(p) if p.campaign_id == *id => {
                    actions::object(
                        &state.store,
                        &state.blobs,
                        &public_id,
                        Filer::Office {
                            access: &who.access,
                            channel,
                            received_on,
                        },
                        &form,
                        &files,
                        who.ip.as_deref(),
                    )
                    .await
                }
                Ok(_) | Err(pingxuan_store::StoreError::NotFound) => Err(refused(
                    "candidate_required",
                    "请选择异议针对的公示对象",
                    "candidate",
                )),
                Err(e) => Err(e.into()),
            }
        }
    };
    (result, entered)
}
