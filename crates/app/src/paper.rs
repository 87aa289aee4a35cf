//! Paper filing from `[paper]` (issue 18): who paper is due from (东莞: every nomination
//! at the office's desk; 广西: the confirmed final list, whose recommenders the office
//! asks, once each, with the items, the address and the deadline), the office's marking
//! of each item received with its dates, and each candidate's paper judged by
//! `rules::paper` — outstanding, late, and what the notice makes of it. A recommending
//! unit sees its own candidates' paper and what is still outstanding.

use std::collections::{HashMap, HashSet};

use pingxuan_rules::Role;
use pingxuan_rules::calendar::{day_text, parse_day};
use pingxuan_rules::campaign::{Campaign, Paper, PaperWhen};
use pingxuan_rules::paper::{self, Filing, Mark};
use pingxuan_rules::publicity::day_words as words;
use pingxuan_rules::selection::stage::Phase;
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::paper::PaperMark;
use time::Date;

use crate::access::Access;
use crate::error::{Error, Result};

/// One candidate's paper.
#[derive(Debug, Clone)]
pub struct PaperRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub recommender: String,
    pub recommender_unit_id: Option<i64>,
    pub filing: Filing,
    /// Per item, the latest marking's words (“2023年11月6日收到，邮戳 2023年11月3日 · 王主任”).
    pub marked: Vec<Option<String>>,
    /// When the recommender was asked for it (after the shortlist).
    pub requested_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PaperOverview {
    pub campaign: std::sync::Arc<Campaign>,
    pub paper: Paper,
    /// Whether the caller is the office (marks, asks) or a unit (reads its own).
    pub office: bool,
    pub rows: Vec<PaperRow>,
    /// Why nobody owes paper yet (广西 before the shortlist).
    pub not_yet: Option<String>,
    /// Candidates whose recommenders have not been asked yet (after the shortlist).
    pub to_request: Vec<i64>,
}

/// The campaign's `[paper]`, or a refusal in words.
fn paper_of(c: &Campaign) -> Result<Paper> {
    c.paper.clone().ok_or_else(|| {
        Error::conflict(
            "no_paper",
            "本活动方案没有纸质材料报送的要求（配置文件无 [paper]）",
        )
    })
}

/// Who paper is due from now, with their desk rows: every nomination at the office's
/// desk (东莞), or the confirmed final list less those an upheld objection took off (广西).
async fn due(
    store: &Store,
    campaign: &Campaign,
    paper: &Paper,
) -> Result<(Vec<pingxuan_store::applications::DeskRow>, Option<String>)> {
    let desk = store.desk_rows(&campaign.campaign.id).await?;
    match paper.when {
        PaperWhen::WithNomination => Ok((desk, None)),
        PaperWhen::AfterShortlist => {
            let Some(last) = campaign.stages.last() else {
                return Ok((Vec::new(), Some("本活动没有评选阶段".to_owned())));
            };
            let events = store.stage_events(&campaign.campaign.id).await?;
            let mine: Vec<&pingxuan_rules::selection::stage::Event> = events
                .iter()
                .filter(|e| e.stage_key == last.key)
                .map(|e| &e.event)
                .collect();
            let state = pingxuan_rules::selection::stage::replay(mine.iter().copied());
            // While the list is confirmed again (an upheld objection undid it), paper is
            // still due from the last confirmed list, less those taken off.
            let last_list: Option<Vec<i64>> = if state.phase == Phase::Advanced {
                Some(state.advanced.clone())
            } else {
                mine.iter().rev().find_map(|e| match e {
                    pingxuan_rules::selection::stage::Event::Advanced { advanced, .. } => {
                        Some(advanced.clone())
                    }
                    _ => None,
                })
            };
            if !paper::due_now(paper, last_list.is_some()) {
                return Ok((
                    Vec::new(),
                    Some(format!(
                        "拟入选名单（“{}”的晋级名单）确定后，才通知其推荐单位报送纸质材料",
                        last.name
                    )),
                ));
            }
            let removed: HashSet<i64> = store
                .removals(&campaign.campaign.id)
                .await?
                .into_iter()
                .filter(|r| r.stage_key == last.key)
                .map(|r| r.application_id)
                .collect();
            let listed: HashSet<i64> = last_list
                .unwrap_or_default()
                .into_iter()
                .filter(|id| !removed.contains(id))
                .collect();
            Ok((
                desk.into_iter()
                    .filter(|r| listed.contains(&r.id))
                    .collect(),
                None,
            ))
        }
    }
}

fn marks_of(all: &[PaperMark], id: i64) -> Vec<Mark> {
    all.iter()
        .filter(|m| m.application_id == id)
        .filter_map(|m| {
            Some(Mark {
                item: usize::try_from(m.item).ok()?,
                received: m.received,
                received_on: parse_day(&m.received_on)?,
                postmark_on: m.postmark_on.as_deref().and_then(parse_day),
            })
        })
        .collect()
}

/// The campaign's paper: for the office every candidate it is due from, for a
/// recommending unit its own.
pub async fn overview(store: &Store, access: &Access, campaign_id: &str) -> Result<PaperOverview> {
    let office = access.organizes(campaign_id);
    let own_units: HashSet<i64> = access
        .roles
        .iter()
        .filter(|r| r.role == Role::Recommender && r.campaign_id.as_deref() == Some(campaign_id))
        .filter_map(|r| r.unit_id)
        .collect();
    if !office && own_units.is_empty() {
        return Err(Error::Forbidden);
    }
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let paper = paper_of(&campaign)?;
    let (rows, not_yet) = due(store, &campaign, &paper).await?;
    let marks = store.paper_marks(campaign_id).await?;
    let requested: HashMap<i64, i64> = store
        .paper_requests(campaign_id)
        .await?
        .into_iter()
        .collect();
    let now = pingxuan_store::now();
    let rows: Vec<PaperRow> = rows
        .into_iter()
        .filter(|r| {
            office
                || r.recommender_unit_id
                    .is_some_and(|u| own_units.contains(&u))
        })
        .map(|r| {
            let mine = marks_of(&marks, r.id);
            let marked = (0..paper.items.len())
                .map(|i| {
                    marks
                        .iter()
                        .rev()
                        .find(|m| m.application_id == r.id && m.item == i as i64)
                        .map(|m| {
                            let by = m.by.clone().unwrap_or_default();
                            match (m.received, parse_day(&m.received_on)) {
                                (false, _) => format!("收到登记已撤销 · {by}"),
                                (true, Some(on)) => {
                                    let mut s = format!("{}收到", words(on));
                                    if let Some(p) = m.postmark_on.as_deref().and_then(parse_day) {
                                        s.push_str(&format!("，邮戳 {}", words(p)));
                                    }
                                    format!("{s} · {by}")
                                }
                                (true, None) => by,
                            }
                        })
                })
                .collect();
            PaperRow {
                filing: paper::judge(&paper, &mine, now),
                marked,
                requested_at: requested.get(&r.id).copied(),
                id: r.id,
                number: r.number,
                name: r.name,
                recommender: r.recommender,
                recommender_unit_id: r.recommender_unit_id,
            }
        })
        .collect();
    let to_request = if paper.when == PaperWhen::AfterShortlist && office {
        rows.iter()
            .filter(|r| r.requested_at.is_none())
            .map(|r| r.id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(PaperOverview {
        campaign,
        paper,
        office,
        rows,
        not_yet,
        to_request,
    })
}

/// What the office types for one item.
#[derive(Debug, Clone)]
pub struct MarkForm {
    pub application_id: i64,
    /// 1-based, as the page numbers the items.
    pub item: usize,
    /// `false` takes an earlier marking back.
    pub received: bool,
    pub received_on: Option<Date>,
    pub postmark_on: Option<Date>,
}

/// The office marks one item of a candidate's paper: decided by `rules::paper`, written
/// with its audit entry.
pub async fn mark(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    form: &MarkForm,
    ip: Option<&str>,
) -> Result<()> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let paper = paper_of(&campaign)?;
    let (rows, _) = due(store, &campaign, &paper).await?;
    let row = rows.iter().find(|r| r.id == form.application_id);
    // Named in the refusal too: someone at the desk not on the list, by their name.
    let name = match row {
        Some(r) => r.name.clone(),
        None => store
            .desk_rows(campaign_id)
            .await?
            .into_iter()
            .find(|r| r.id == form.application_id)
            .map(|r| r.name)
            .ok_or(Error::NotFound)?,
    };
    let today = crate::publicity::today();
    let received_on = form.received_on.unwrap_or(today);
    let item = form.item.checked_sub(1).unwrap_or(usize::MAX);
    paper::decide_mark(
        &paper,
        &name,
        row.is_some(),
        &Mark {
            item,
            received: form.received,
            received_on,
            postmark_on: form.postmark_on,
        },
        today,
    )
    .map_err(|r| Error::invalid(r.code, r.message, Some(r.field)))?;
    let what = &paper.items[item];
    let detail = if form.received {
        let mut s = format!("{name}的纸质材料“{what}”{}收到", words(received_on));
        if let Some(p) = form.postmark_on {
            s.push_str(&format!("，邮戳 {}", words(p)));
        }
        s
    } else {
        format!("撤销{name}的纸质材料“{what}”的收到登记")
    };
    let audit = Audit::new(
        access.actor(),
        "paper_marked",
        format!("application:{}", form.application_id),
    )
    .detail(detail)
    .ip(ip);
    store
        .mark_paper(
            campaign_id,
            &PaperMark {
                application_id: form.application_id,
                item: item as i64,
                received: form.received,
                received_on: day_text(received_on),
                postmark_on: form.postmark_on.map(day_text),
                by: None,
                at: 0,
            },
            access.actor(),
            &audit,
        )
        .await?;
    Ok(())
}

/// After the shortlist, the office asks the recommenders of those on the list who have
/// not been asked yet to send their paper: a notice to each with the items, the address
/// and the deadline, the request and the audit entry in one transaction. Returns how
/// many were asked.
pub async fn request(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    ip: Option<&str>,
) -> Result<usize> {
    let o = overview(store, access, campaign_id).await?;
    if !o.office {
        return Err(Error::Forbidden);
    }
    if o.paper.when != PaperWhen::AfterShortlist {
        return Err(Error::conflict(
            "paper_with_nomination",
            "本活动的纸质材料随推荐一并报送，无需另行通知",
        ));
    }
    if let Some(why) = &o.not_yet {
        return Err(Error::conflict("paper_not_due", why.clone()));
    }
    if o.to_request.is_empty() {
        return Err(Error::conflict(
            "paper_requested",
            "名单中各人选的推荐单位均已通知",
        ));
    }
    let p = &o.paper;
    let items: String = p
        .items
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    let address = p
        .address
        .as_deref()
        .map(|a| format!("\n寄送地址：{a}"))
        .unwrap_or_default();
    let deadline = p
        .deadline
        .as_ref()
        .and_then(|d| pingxuan_rules::campaign::deadline_instant(d).ok())
        .map(|t| {
            format!(
                "\n截止时间：{}",
                words(pingxuan_rules::publicity::beijing_day(t.unix_timestamp()))
            )
        })
        .unwrap_or_default();
    let mut notices = Vec::new();
    let mut units: HashMap<i64, Vec<pingxuan_store::notices::Recipient>> = HashMap::new();
    let asked: Vec<&PaperRow> = o
        .rows
        .iter()
        .filter(|r| o.to_request.contains(&r.id))
        .collect();
    for r in &asked {
        let Some(u) = r.recommender_unit_id else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(e) = units.entry(u) {
            e.insert(
                store
                    .level_recipients(campaign_id, Role::Recommender, Some(u))
                    .await?,
            );
        }
        let text = format!(
            "{}（编号 {}）已列入{}拟入选名单，请报送以下纸质材料：\n{items}{address}{deadline}\n报送情况可在 /campaigns/{campaign_id}/paper 查看。",
            r.name,
            r.number,
            o.campaign.award()
        );
        notices.extend(crate::notify::outgoing(
            units[&u].clone(),
            access.actor(),
            r.id,
            "paper",
            "请报送纸质材料",
            &text,
        ));
    }
    let audit = Audit::new(
        access.actor(),
        "paper_requested",
        format!("campaign:{campaign_id}"),
    )
    .detail(format!(
        "通知推荐单位报送纸质材料：{}",
        asked
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    ))
    .ip(ip);
    let ids: Vec<i64> = asked.iter().map(|r| r.id).collect();
    store
        .request_paper(campaign_id, &ids, access.actor(), &notices, &audit)
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Duplicate(_) => Error::conflict(
                "paper_requested",
                "刚有人发出了同样的通知，请刷新页面后查看",
            ),
            other => other.into(),
        })?;
    Ok(ids.len())
}
