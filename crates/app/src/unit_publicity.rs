//! A recommending unit's own 公示 of its candidates (issue 18; 广西 三（二）, 东莞 五（一）,
//! 新疆's 初评): the unit picks candidates at its desk, the platform drafts the notice in
//! the unit's name, the 公示 goes up on a public page like the organiser's, objections
//! come to the unit (who objected stays with the organiser), and the unit's 提交 of each
//! candidate waits for its 公示 and carries the record upward (`rules::publicity::unit`).

use std::collections::HashSet;
use std::sync::Arc;

use pingxuan_rules::Role;
use pingxuan_rules::calendar::day_text;
use pingxuan_rules::campaign::Campaign;
use pingxuan_rules::publicity::{self, Draft, Kind};
use pingxuan_store::Store;
use pingxuan_store::applications::DeskRow;
use pingxuan_store::publicity::{Entry, NewPublicity, Publicity};

use crate::access::Access;
use crate::error::{Error, Result};
use crate::publicity::{ObjectionView, period_of};

/// Working days a unit's 公示 runs where the campaign file gives none (新疆 leaves it to
/// the unit): the 5 the other notices ask.
pub const DEFAULT_DAYS: u32 = 5;

/// A candidate at the unit's desk and the unit's 公示 that lists them, if any.
#[derive(Debug, Clone)]
pub struct DeskCandidate {
    pub row: DeskRow,
    /// (title, period in words, whether it is over) of the latest 公示 listing them.
    pub publicity: Option<(String, String, bool)>,
}

/// The unit's page.
#[derive(Debug, Clone)]
pub struct UnitOverview {
    pub campaign: Arc<Campaign>,
    pub unit_id: i64,
    pub unit_name: String,
    pub candidates: Vec<DeskCandidate>,
    pub publicities: Vec<Publicity>,
    pub objections: Vec<ObjectionView>,
    pub days: u32,
    pub contact: String,
}

/// The recommending unit the caller acts for in the campaign, or Forbidden.
fn unit_of(access: &Access, campaign_id: &str) -> Result<i64> {
    access
        .roles
        .iter()
        .find(|r| r.role == Role::Recommender && r.campaign_id.as_deref() == Some(campaign_id))
        .and_then(|r| r.unit_id)
        .ok_or(Error::Forbidden)
}

/// The unit's own 公示, its candidates at the desk and the objections it handles.
pub async fn overview(store: &Store, access: &Access, campaign_id: &str) -> Result<UnitOverview> {
    let unit_id = unit_of(access, campaign_id)?;
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    if !campaign.publicity.unit_publicity {
        return Err(Error::conflict(
            "no_unit_publicity",
            "本活动方案没有推荐单位公示的要求（配置文件 [publicity] unit_publicity）",
        ));
    }
    let unit_name = store
        .list_units(campaign_id)
        .await?
        .into_iter()
        .find(|u| u.id == unit_id)
        .map(|u| u.name)
        .unwrap_or_default();
    let publicities: Vec<Publicity> = store
        .publicities(campaign_id)
        .await?
        .into_iter()
        .filter(|p| p.kind == Kind::Unit.key() && p.unit_id == Some(unit_id))
        .collect();
    let now = pingxuan_store::now();
    let candidates = store
        .unit_desk_rows(campaign_id, unit_id)
        .await?
        .into_iter()
        .map(|row| {
            let publicity = publicities
                .iter()
                .rev()
                .find(|p| p.entries.iter().any(|e| e.application_id == row.id))
                .map(|p| {
                    let period = period_of(p);
                    (p.title.clone(), period.text(), period.is_over(now))
                });
            DeskCandidate { row, publicity }
        })
        .collect();
    let ids: HashSet<i64> = publicities.iter().map(|p| p.id).collect();
    let mine = store
        .objections(campaign_id)
        .await?
        .into_iter()
        .filter(|o| ids.contains(&o.publicity_id))
        .collect();
    // A unit's 公示 takes nobody off a stage's list.
    let objections = crate::publicity::objection_views(access, mine, &publicities, &HashSet::new());
    Ok(UnitOverview {
        days: campaign.publicity.unit_working_days.unwrap_or(DEFAULT_DAYS),
        contact: publicities
            .last()
            .map(|p| p.contact.clone())
            .unwrap_or_default(),
        campaign,
        unit_id,
        unit_name,
        candidates,
        publicities,
        objections,
    })
}

/// The notice drafted for `count` candidates, in the unit's name.
pub fn draft(o: &UnitOverview, count: usize) -> Draft {
    publicity::draft(
        Kind::Unit,
        o.campaign.award(),
        &o.unit_name,
        count,
        &o.contact,
    )
}

/// What the unit fills in to publish.
#[derive(Debug, Clone, Default)]
pub struct UnitPublishForm {
    pub candidates: Vec<i64>,
    /// Title, text, contact, days and the day it went up (today unless it was put up on
    /// the unit's board first), as the organiser's.
    pub notice: crate::publicity::PublishForm,
}

/// Publishes the unit's 公示 of the candidates chosen at its desk, each once.
pub async fn publish(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    form: &UnitPublishForm,
    ip: Option<&str>,
) -> Result<String> {
    let o = overview(store, access, campaign_id).await?;
    if form.candidates.is_empty() {
        return Err(Error::invalid(
            "candidates_required",
            "请勾选要公示的候选人",
            Some("candidates"),
        ));
    }
    let mut entries = Vec::new();
    for id in &form.candidates {
        let Some(c) = o.candidates.iter().find(|c| c.row.id == *id) else {
            return Err(Error::invalid(
                "not_at_desk",
                "所选候选人不在本单位待上报的申请中，请刷新页面后重选",
                Some("candidates"),
            ));
        };
        if let Some((title, ..)) = &c.publicity {
            return Err(Error::invalid(
                "already_published",
                format!("{}已在“{title}”中公示，不再重复公示", c.row.name),
                Some("candidates"),
            ));
        }
        entries.push(Entry {
            application_id: c.row.id,
            name: c.row.name.clone(),
            work_unit: c.row.work_unit.clone(),
            recommender: o.unit_name.clone(),
            field: c.row.field.clone(),
        });
    }
    let (title, body, contact, period) = crate::publicity::checked_notice(
        store,
        &o.campaign,
        &form.notice,
        o.campaign.publicity.unit_working_days,
        None,
    )
    .await?;
    let audit = crate::publicity::published_audit(
        access,
        &o.unit_name,
        title,
        Kind::Unit,
        &entries,
        &period,
        ip,
    );
    store
        .publish(
            &NewPublicity {
                campaign_id,
                kind: Kind::Unit.key(),
                unit_id: Some(o.unit_id),
                stage_key: "",
                title,
                body,
                contact,
                published_on: day_text(period.published),
                first_day: day_text(period.first),
                last_day: day_text(period.last),
                working_days: i64::from(period.working_days),
                ends_at: period.ends_at(),
                entries: &entries,
            },
            None,
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "所选候选人刚已在本单位的公示中发布，本次未发布；请刷新页面后核对",
        ))
}

/// The 推荐工作情况简要报告 as Word, drafted from the unit's record: the candidates it
/// recommends (those an upheld objection stopped are named under 公示情况 instead), each
/// 公示 with its dates and what came of its objections. For the unit; audited.
pub async fn report(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    ip: Option<&str>,
) -> Result<crate::exports::Download> {
    use pingxuan_export::report::{Held, Recommended, Report};
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{employer_and_title, printed};
    use pingxuan_rules::publicity::objection::Outcome;
    let o = overview(store, access, campaign_id).await?;
    let upheld: Vec<&ObjectionView> = o
        .objections
        .iter()
        .filter(|v| v.outcome == Outcome::Upheld)
        .collect();
    let recommended = store
        .candidates(campaign_id, Some(&[o.unit_id]))
        .await?
        .into_iter()
        .filter(|c| !upheld.iter().any(|v| v.objection.application_id == c.id))
        .map(|c| Recommended {
            name: printed(&c.form, FieldKey::Name),
            work_unit: employer_and_title(&c.form),
        })
        .collect();
    let publicities = o
        .publicities
        .iter()
        .map(|p| {
            let period = period_of(p);
            let mine: Vec<&ObjectionView> = o
                .objections
                .iter()
                .filter(|v| v.objection.publicity_id == p.id)
                .collect();
            let mut stopped: Vec<String> = upheld
                .iter()
                .filter(|v| v.objection.publicity_id == p.id)
                .map(|v| v.candidate.clone())
                .collect();
            stopped.sort();
            stopped.dedup();
            Held {
                published_on: publicity::day_words(period.published),
                title: p.title.clone(),
                period: period.text(),
                names: p.entries.iter().map(|e| e.name.clone()).collect(),
                objections: mine.len(),
                rejected: mine
                    .iter()
                    .filter(|v| v.outcome == Outcome::Rejected)
                    .count(),
                open: mine.iter().filter(|v| !v.outcome.is_final()).count(),
                upheld: stopped,
            }
        })
        .collect();
    let r = Report {
        award: o.campaign.award().to_owned(),
        unit: o.unit_name.clone(),
        office: o.campaign.campaign.office.clone(),
        notice: o.campaign.campaign.source.clone(),
        recommended,
        publicities,
    };
    let bytes = pingxuan_export::report::docx(&r).map_err(|e| Error::Internal(e.to_string()))?;
    crate::exports::Download {
        name: format!("{}推荐工作情况报告.docx", o.unit_name),
        content_type: crate::exports::DOCX,
        bytes,
    }
    .audited(
        store,
        access,
        ip,
        &format!("campaign:{campaign_id}/unit:{}/report", o.unit_id),
    )
    .await
}
