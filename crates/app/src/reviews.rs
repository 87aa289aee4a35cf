//! The expert's side of a review stage (我的评审): the candidates assigned to them, a
//! 回避声明 for every one of them before any is opened (a declared relation hands the
//! candidate to another eligible expert), and a score sheet per candidate — saved as a
//! draft, submitted once, then locked. Each move: one decision in
//! `pingxuan_rules::selection`, one transaction with its audit entry.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{FieldKey, Stage};
use pingxuan_rules::form::FieldValue;
use pingxuan_rules::selection::conflict::{self, Declaration};
use pingxuan_rules::selection::sheet;
use pingxuan_rules::selection::stage::Phase;
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::sheets::{Sheet, SheetWrite};

use crate::access::Access;
use crate::error::{Error, Result};
use crate::stages::{self, StageView};

/// One assigned candidate as the expert's list shows it.
#[derive(Debug, Clone)]
pub struct Item {
    pub application_id: i64,
    pub number: String,
    pub name: String,
    pub work_unit: String,
    /// “无”, the relation declared, or `None` before the 回避声明.
    pub declared: Option<String>,
    pub sheet: Option<Sheet>,
}

/// A stage's assignments for one expert.
#[derive(Debug, Clone)]
pub struct Task {
    pub campaign_id: String,
    pub campaign_name: String,
    pub stage: Stage,
    pub phase: Phase,
    /// The stage's events when `phase` was read: writes check it has not moved since.
    pub events: i64,
    pub items: Vec<Item>,
}

impl Task {
    /// Every assigned candidate has its 回避声明.
    pub fn declared(&self) -> bool {
        self.items.iter().all(|i| i.declared.is_some())
    }
}

fn is_expert(access: &Access, campaign_id: &str) -> bool {
    access
        .roles
        .iter()
        .any(|r| r.role == Role::Expert && r.campaign_id.as_deref() == Some(campaign_id))
}

/// A stage's view as the store gives it, for an expert: the organiser's view is loaded
/// as the operator, since the expert is entitled to their own part of it only.
async fn stage_of(store: &Store, campaign_id: &str, key: &str) -> Result<StageView> {
    stages::view_plain(store, &Access::operator(), campaign_id, key).await
}

/// The expert's tasks in every campaign, each stage with its candidates.
pub async fn tasks(store: &Store, access: &Access) -> Result<Vec<Task>> {
    let me = access.user.id;
    let mut keys: Vec<(String, String)> = store
        .tasks_of(me)
        .await?
        .into_iter()
        .map(|t| (t.campaign_id, t.stage_key))
        .collect();
    keys.dedup();
    let mut out = Vec::new();
    for (campaign_id, key) in keys {
        if !is_expert(access, &campaign_id) {
            continue;
        }
        out.push(task(store, access, &campaign_id, &key).await?);
    }
    Ok(out)
}

/// One stage's task for the expert; 404 for a stage they have nothing in. Reads only
/// the expert's own part — their assignments, declarations, sheets and candidates —
/// so a 提交 costs the same in a stage of 1,000 candidates as in one of ten.
pub async fn task(store: &Store, access: &Access, campaign_id: &str, key: &str) -> Result<Task> {
    if !is_expert(access, campaign_id) {
        return Err(Error::NotFound);
    }
    let me = access.user.id;
    let round = stages::load(store, &Access::operator(), campaign_id).await?;
    let index = round.index(key).ok_or(Error::NotFound)?;
    let mine: Vec<i64> = store
        .assignments_of(campaign_id, key, me)
        .await?
        .iter()
        .map(|a| a.application_id)
        .collect();
    // Sent back down the chain after the stage opened: no longer the stage's to judge.
    let rows = store.desk_candidates(campaign_id, &mine).await?;
    if rows.is_empty() {
        return Err(Error::NotFound);
    }
    let declared = store.declarations_of(campaign_id, key, me).await?;
    let sheets = store.sheets_of(campaign_id, key, me).await?;
    let text = |row: &pingxuan_store::applications::Candidate, key: FieldKey| {
        row.form
            .get(&key)
            .and_then(FieldValue::text)
            .unwrap_or("")
            .to_owned()
    };
    let items = rows
        .iter()
        .map(|row| Item {
            application_id: row.id,
            number: row.number.clone(),
            name: text(row, FieldKey::Name),
            work_unit: text(row, FieldKey::EmployerAndPost),
            declared: declared
                .iter()
                .find(|d| d.application_id == row.id)
                .map(|d| {
                    if d.relation.is_empty() {
                        "无".to_owned()
                    } else {
                        d.relation.clone()
                    }
                }),
            sheet: sheets.iter().find(|s| s.application_id == row.id).cloned(),
        })
        .collect();
    Ok(Task {
        campaign_id: campaign_id.to_owned(),
        campaign_name: round.campaign.campaign.name.clone(),
        stage: round.campaign.stages[index].clone(),
        phase: round.states[index].phase,
        events: round.events[index].len() as i64,
        items,
    })
}

/// What a 回避声明 did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    /// “无”: the expert may open the candidate once every one has a declaration.
    NoRelation,
    /// A relation: the candidate went to another eligible expert.
    Reassigned,
    /// A relation, and no other expert could take the candidate: why.
    Alone(String),
}

impl Declared {
    pub fn key(&self) -> &'static str {
        match self {
            Declared::NoRelation => "none",
            Declared::Reassigned => "declared",
            Declared::Alone(_) => "alone",
        }
    }

    /// The words for the person who declared.
    pub fn words(&self) -> String {
        match self {
            Declared::NoRelation => "已声明无利益关系".to_owned(),
            Declared::Reassigned => "已声明回避，该候选人已改由其他专家评审".to_owned(),
            Declared::Alone(why) => format!("已声明回避；暂无其他专家可评审该候选人（{why}）"),
        }
    }
}

/// Files the expert's 回避声明 for one assigned candidate. “无” lets them open it once
/// every candidate has one; a relation ends the assignment and gives the candidate to
/// another eligible expert in the same transaction (or leaves it short, said so).
pub async fn declare(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    application_id: i64,
    typed: &str,
    ip: Option<&str>,
) -> Result<Declared> {
    let t = task(store, access, campaign_id, key).await?;
    let me = access.user.id;
    let item = t
        .items
        .iter()
        .find(|i| i.application_id == application_id)
        .ok_or(Error::NotFound)?;
    if t.phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!("“{}”{}，不能再填写回避声明", t.stage.name, t.phase.text()),
        ));
    }
    if item.declared.is_some() {
        return Err(Error::conflict("declared", "已填写过对该候选人的回避声明"));
    }
    let declaration = conflict::declaration(typed)
        .map_err(|m| Error::invalid("bad_declaration", m, Some("declaration")))?;
    let target = format!("application:{}", item.number);
    match declaration {
        Declaration::None => {
            let audit = Audit::new(access.actor(), "conflict_declared_none", target)
                .detail(format!(
                    "“{}”回避声明：与 {} 无利益关系",
                    t.stage.name, item.name
                ))
                .ip(ip);
            store
                .declare(
                    campaign_id,
                    key,
                    t.events,
                    me,
                    application_id,
                    "",
                    None,
                    &audit,
                )
                .await?;
            Ok(Declared::NoRelation)
        }
        Declaration::Relation(relation) => {
            let v = stage_of(store, campaign_id, key).await?;
            let mut panel = stages::panel(store, campaign_id, key, &v).await?;
            panel.conflicts.add(
                me,
                application_id,
                conflict::Reason::Declared(relation.clone()),
            );
            let current: Vec<(i64, i64)> = v
                .assignments
                .iter()
                .map(|a| (a.expert_id, a.application_id))
                .collect();
            let seed = rand::random::<u64>();
            let replacement = pingxuan_rules::selection::assign::reassign(
                &current,
                me,
                application_id,
                &panel.experts,
                &panel.candidates,
                &panel.conflicts,
                seed,
            );
            let (other, declared) = match &replacement {
                Ok(r) => (Some((r.added.0, seed)), Declared::Reassigned),
                Err(why) => (None, Declared::Alone(why.to_string())),
            };
            let names = store.experts(campaign_id).await?;
            let name_of = |id: i64| {
                names
                    .iter()
                    .find(|e| e.user_id == id)
                    .map_or_else(|| id.to_string(), |e| e.name.clone())
            };
            let audit = Audit::new(access.actor(), "conflict_declared", target)
                .detail(format!(
                    "“{}”回避声明：与 {} 的关系为“{relation}”；{}",
                    t.stage.name,
                    item.name,
                    match &replacement {
                        Ok(r) => format!(
                            "改由{}评审（随机种子 {}）",
                            name_of(r.added.0),
                            pingxuan_store::stages::seed_text(seed)
                        ),
                        Err(why) => format!("无人可接替：{why}"),
                    }
                ))
                .ip(ip);
            store
                .declare(
                    campaign_id,
                    key,
                    t.events,
                    me,
                    application_id,
                    &relation,
                    other,
                    &audit,
                )
                .await
                .map_err(|e| match e {
                    pingxuan_store::StoreError::Stale => {
                        Error::conflict("stale", "分配刚被调整过，请刷新页面后再填写")
                    }
                    other => other.into(),
                })?;
            Ok(declared)
        }
    }
}

/// What the sheet page shows: the candidate's facts (身份证号 and mobile left out), the
/// criteria with full marks, the expert's sheet.
#[derive(Debug, Clone)]
pub struct SheetView {
    pub task: Task,
    pub item: Item,
    pub facts: Vec<(String, String)>,
    /// (criterion, full marks).
    pub criteria: Vec<(String, u32)>,
}

/// Opens one assigned candidate's sheet: only once every assigned candidate has its
/// 回避声明, and never one the expert declared a relation with (it is no longer theirs).
pub async fn open(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    application_id: i64,
) -> Result<SheetView> {
    let (task, item) = opened(store, access, campaign_id, key, application_id).await?;
    let l = crate::applications::load(store, application_id).await?;
    let facts = l
        .campaign
        .form
        .fields
        .iter()
        // Identity and contact details are not what an expert judges by.
        .filter(|f| {
            !matches!(
                f.key,
                FieldKey::IdNumber
                    | FieldKey::Mobile
                    | FieldKey::Email
                    | FieldKey::OfficePhone
                    | FieldKey::Address
                    | FieldKey::Postcode
            )
        })
        .filter_map(|f| {
            let shown = match l.app.form.get(&f.key)? {
                FieldValue::Rows(rows) => rows
                    .iter()
                    .map(|(when, what)| format!("{when} {what}"))
                    .collect::<Vec<_>>()
                    .join("；"),
                other => other.display(),
            };
            (!shown.is_empty()).then(|| (f.label.clone(), shown))
        })
        .collect();
    let criteria = task
        .stage
        .criteria
        .iter()
        .map(|c| {
            (
                c.clone(),
                task.stage.max_points.get(c).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(SheetView {
        task,
        item,
        facts,
        criteria,
    })
}

/// The expert's task and the one assigned candidate they may open: 404 for one not
/// theirs, refused until every assigned candidate has its 回避声明.
async fn opened(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    application_id: i64,
) -> Result<(Task, Item)> {
    let task = task(store, access, campaign_id, key).await?;
    let item = task
        .items
        .iter()
        .find(|i| i.application_id == application_id)
        .cloned()
        .ok_or(Error::NotFound)?;
    if !task.declared() {
        return Err(Error::conflict(
            "declaration_required",
            "请先对分配给您的每一位候选人填写回避声明，再开始评审",
        ));
    }
    Ok((task, item))
}

/// A refused save: every problem, by criterion.
#[derive(Debug, Clone)]
pub enum Saved {
    Done { submitted: bool },
    Refused(Vec<sheet::Problem>),
}

/// Saves the expert's sheet (a draft, or 提交 which locks it), over the version the page
/// showed; the draft is kept whatever 提交 finds wrong.
#[allow(clippy::too_many_arguments)]
pub async fn save(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    key: &str,
    application_id: i64,
    typed: &[String],
    comment: &str,
    version: i64,
    submit: bool,
    ip: Option<&str>,
) -> Result<Saved> {
    // The sheet needs no case file: the task and the item carry what the checks read.
    let (task, item) = opened(store, access, campaign_id, key, application_id).await?;
    if task.phase != Phase::Open {
        return Err(Error::conflict(
            "stage_state",
            format!("“{}”{}，不能再评分", task.stage.name, task.phase.text()),
        ));
    }
    if item
        .sheet
        .as_ref()
        .is_some_and(|s| s.submitted_at.is_some())
    {
        return Err(Error::conflict(
            "sheet_locked",
            "评分表已提交，不能修改；如需修改请联系活动办公室",
        ));
    }
    let points = match sheet::read(&task.stage, typed) {
        Ok(p) => p,
        Err(problems) => return Ok(Saved::Refused(problems)),
    };
    if let Err(problems) = sheet::check(&task.stage, &points, submit) {
        // A draft with points over full marks is not kept either: the numbers are wrong.
        return Ok(Saved::Refused(problems));
    }
    let comment = comment.trim();
    if comment.chars().count() > 1000 {
        return Ok(Saved::Refused(vec![sheet::Problem {
            criterion: None,
            message: format!("评审意见最多 1000 字，现为 {} 字", comment.chars().count()),
        }]));
    }
    // The count read with the phase above: a close since then refuses the save.
    let after = task.events;
    let audit = Audit::new(
        access.actor(),
        if submit {
            "sheet_submitted"
        } else {
            "sheet_saved"
        },
        format!("application:{}", item.number),
    )
    .detail(if submit {
        format!(
            "“{}”评分表提交，总分 {}",
            task.stage.name,
            sheet::total(&points)
        )
    } else {
        format!("“{}”评分表保存草稿", task.stage.name)
    })
    .ip(ip);
    store
        .save_sheet(
            &SheetWrite {
                campaign_id,
                stage_key: key,
                expert_id: access.user.id,
                application_id,
                points: &points,
                comment,
                version,
                submit,
                keyed_by: None,
                after,
            },
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "评分表刚在别处保存过（或本阶段已结束），您的修改未保存；请刷新页面后再填写",
        ))?;
    Ok(Saved::Done { submitted: submit })
}
