//! 推荐码 as a recommending unit handles them: issue up to its category's quota (with
//! the candidate's work unit where the chain has one), list, revoke while unused.
//! Shared by the 推荐码 page and its API twin.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{Campaign, EntryMode};
use pingxuan_store::audit::Audit;
use pingxuan_store::codes::{Code, NewCode};
use pingxuan_store::units::Unit;

use crate::access::Access;
use crate::error::Error;
use pingxuan_store::Store;

/// One recommending unit of the caller in a campaign that works with codes.
pub struct UnitDesk {
    pub unit: Unit,
    pub campaign: std::sync::Arc<Campaign>,
    /// The category's quota: (lower guidance, limit); `None` when unlimited.
    pub quota: Option<(Option<u32>, u32)>,
    /// Places the organiser granted beyond a “原则上” quota.
    pub extra: u32,
    pub category_name: String,
    /// Whether the chain has a 所在单位 level, and whether it may merge with this unit.
    pub asks_work_unit: bool,
    pub may_merge: bool,
    /// The campaign's work units to choose from: (id, name).
    pub work_units: Vec<(i64, String)>,
    pub codes: Vec<Code>,
}

impl UnitDesk {
    /// Codes that count against the quota: all but the revoked.
    pub fn live(&self) -> i64 {
        self.codes.iter().filter(|c| c.revoked_at.is_none()).count() as i64
    }
}

/// The caller's recommending units in code-entry campaigns, with their codes.
pub async fn desks(store: &Store, access: &Access) -> Result<Vec<UnitDesk>, Error> {
    let mut out = Vec::new();
    for grant in &access.roles {
        let (Role::Recommender, Some(unit_id), Some(campaign_id)) =
            (grant.role, grant.unit_id, grant.campaign_id.as_deref())
        else {
            continue;
        };
        if let Some(desk) = desk(store, campaign_id, unit_id).await? {
            out.push(desk);
        }
    }
    Ok(out)
}

async fn desk(store: &Store, campaign_id: &str, unit_id: i64) -> Result<Option<UnitDesk>, Error> {
    let Some(campaign) = store.campaign_model(campaign_id).await? else {
        return Ok(None);
    };
    if campaign.entry.mode != EntryMode::RecommendationCode {
        return Ok(None);
    }
    let units = store.list_units(campaign_id).await?;
    let Some(unit) = units.iter().find(|u| u.id == unit_id).cloned() else {
        return Ok(None);
    };
    let category = unit
        .category
        .as_deref()
        .and_then(|k| campaign.recommender_categories.iter().find(|c| c.key == k));
    let work_level = campaign.levels.iter().find(|l| l.role == Role::WorkUnit);
    let extra = match category.map(|c| c.quota_strictness) {
        Some(pingxuan_rules::campaign::Strictness::InPrinciple) => {
            u32::try_from(store.quota_extra(unit_id).await?).unwrap_or(0)
        }
        _ => 0,
    };
    let desk = UnitDesk {
        quota: category.and_then(|c| c.quota_max.map(|max| (c.quota_min, max))),
        category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
        extra,
        asks_work_unit: work_level.is_some(),
        may_merge: work_level.is_some_and(|l| l.merge_with_next_when_same_unit),
        work_units: units
            .iter()
            .filter(|u| u.kind == Role::WorkUnit)
            .map(|u| (u.id, u.name.clone()))
            .collect(),
        codes: store.codes_of_unit(unit_id).await?,
        campaign,
        unit,
    };
    Ok(Some(desk))
}

/// The caller's desk for `unit_id`, or 404 when the unit is not theirs.
pub async fn own_desk(store: &Store, access: &Access, unit_id: i64) -> Result<UnitDesk, Error> {
    let grant = access
        .roles
        .iter()
        .find(|g| g.role == Role::Recommender && g.unit_id == Some(unit_id))
        .ok_or(Error::NotFound)?;
    let campaign_id = grant.campaign_id.as_deref().ok_or(Error::NotFound)?;
    desk(store, campaign_id, unit_id)
        .await?
        .ok_or(Error::NotFound)
}

/// Where the candidate works, as the issuer chose it: “本单位” or one of the campaign's
/// work units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkUnitChoice {
    None,
    SameAsRecommender,
    Unit(i64),
}

impl WorkUnitChoice {
    /// From a posted value: "" (none), "self", or a unit id.
    pub fn parse(v: &str) -> WorkUnitChoice {
        match v.trim() {
            "" => WorkUnitChoice::None,
            "self" => WorkUnitChoice::SameAsRecommender,
            id => id
                .parse()
                .map(WorkUnitChoice::Unit)
                .unwrap_or(WorkUnitChoice::None),
        }
    }
}

/// Issues a code for a candidate. Refusals: `work_unit` not chosen or not the
/// campaign's, quota full (409 `quota_full`).
pub async fn issue(
    store: &Store,
    access: &Access,
    unit_id: i64,
    candidate: &str,
    work_unit: WorkUnitChoice,
    ip: Option<&str>,
) -> Result<Code, Error> {
    let desk = own_desk(store, access, unit_id).await?;
    let candidate = candidate.trim();
    if candidate.chars().count() > 50 {
        return Err(Error::invalid(
            "too_long",
            format!("候选人姓名 {} 个字，超过 50 字", candidate.chars().count()),
            Some("candidate"),
        ));
    }
    let (work_unit_id, merged) = if desk.asks_work_unit {
        match work_unit {
            WorkUnitChoice::SameAsRecommender if desk.may_merge => (None, true),
            WorkUnitChoice::Unit(id) if desk.work_units.iter().any(|(w, _)| *w == id) => {
                (Some(id), false)
            }
            _ => {
                return Err(Error::invalid(
                    "work_unit_required",
                    "请选择候选人所在单位（人事关系所在单位）",
                    Some("work_unit"),
                ));
            }
        }
    } else {
        (None, false)
    };
    let new = NewCode {
        campaign_id: &desk.unit.campaign_id,
        unit_id,
        candidate_name: candidate,
        work_unit_id,
        merged,
        issued_by: access.user.id,
    };
    let user = access.user.id;
    let code = store
        .issue_code(&new, desk.quota.map(|(_, max)| (max, desk.extra)), |id| {
            Audit::new(Some(user), "code_issued", format!("unit:{unit_id}"))
                .detail(format!("推荐码#{id} {candidate}"))
                .ip(ip)
        })
        .await?;
    Ok(code)
}

/// Revokes an unused code of one of the caller's units.
pub async fn revoke(
    store: &Store,
    access: &Access,
    code_id: i64,
    ip: Option<&str>,
) -> Result<(), Error> {
    let code = store.get_code(code_id).await?.ok_or(Error::NotFound)?;
    // Only the unit's own accounts see or touch its codes.
    own_desk(store, access, code.unit_id).await?;
    let audit = Audit::new(
        Some(access.user.id),
        "code_revoked",
        format!("unit:{}", code.unit_id),
    )
    .detail(format!("推荐码#{code_id}"))
    .ip(ip);
    store.revoke_code(code_id, code.unit_id, &audit).await?;
    Ok(())
}
