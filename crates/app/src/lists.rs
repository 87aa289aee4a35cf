//! The reviewing levels' lists, shared by the pages and their API twins: 待审核申报表
//! (待审核的 / 已办理的) and 查询申报表 (search, filters, sorts, pages). What a person sees is
//! decided here once: a unit what was sent to it, an organiser what was submitted in
//! the campaigns it organises.

use pingxuan_rules::Role;
use pingxuan_store::Store;
use pingxuan_store::applications::{ApplicationRow, SearchFilter, SearchScope, SearchSort};
use serde::Deserialize;

use crate::access::Access;
use crate::error::Error;

/// 待审核申报表: what waits for the person's units and campaigns (`done`: what they
/// have already handled).
pub async fn review_queue(
    store: &Store,
    access: &Access,
    done: bool,
) -> Result<Vec<ApplicationRow>, Error> {
    if !access.reviews() {
        return Err(Error::Forbidden);
    }
    let mut rows = Vec::new();
    for grant in &access.roles {
        match (grant.role, grant.unit_id, grant.campaign_id.as_deref()) {
            (Role::Recommender | Role::WorkUnit, Some(unit), _) => {
                rows.extend(store.applications_for_unit(grant.role, unit, !done).await?)
            }
            (Role::Organizer, _, Some(campaign)) => rows.extend(
                store
                    .applications_for_organizer(campaign, !done, access.user.id)
                    .await?,
            ),
            _ => {}
        }
    }
    Ok(rows)
}

/// 查询申报表's query string, for the page and the API alike.
#[derive(Deserialize, Default, Clone)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SearchQuery {
    /// 姓名 or 申请书编号 (a part of either).
    #[serde(default)]
    pub q: String,
    /// 年度, e.g. 2024.
    #[serde(default)]
    pub year: String,
    /// 工作单位, at least 4 characters.
    #[serde(default)]
    pub employer: String,
    /// 当前步骤: applicant, work_unit, recommender or organizer.
    #[serde(default)]
    pub step: String,
    /// 推荐单位 (unit id).
    #[serde(default)]
    pub recommender: String,
    /// 推荐领域, one of the campaign's choices.
    #[serde(default)]
    pub field: String,
    /// number (编号从高到低, the default), moved (转交时间), employer or recommender.
    #[serde(default)]
    pub sort: String,
    /// From 1; 20 a page.
    #[serde(default)]
    pub page: Option<i64>,
}

/// Fewer characters than this in 工作单位 do not filter (the manual: 至少4个字符).
pub const EMPLOYER_MIN_CHARS: usize = 4;

impl SearchQuery {
    /// Why the 工作单位 filter was not applied, if it was too short.
    pub fn employer_hint(&self) -> Option<String> {
        let n = self.employer.trim().chars().count();
        (n > 0 && n < EMPLOYER_MIN_CHARS).then(|| {
            format!("工作单位须输入至少 {EMPLOYER_MIN_CHARS} 个字符，现为 {n} 个，未按工作单位筛选")
        })
    }

    /// The page asked for, from 1; one far past any list (a typed or generated number
    /// up to `i64::MAX`) is read as the last page it can name, which shows nothing,
    /// instead of overflowing the arithmetic of offsets.
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).clamp(1, 10_000_000)
    }

    pub fn filter(&self) -> SearchFilter {
        SearchFilter {
            text: Some(self.q.clone()),
            year: self.year.parse().ok(),
            employer: Some(self.employer.clone()),
            step: Some(self.step.clone()),
            recommender: self.recommender.parse().ok(),
            field: Some(self.field.clone()),
            sort: match self.sort.as_str() {
                "moved" => SearchSort::MovedAt,
                "employer" => SearchSort::Employer,
                "recommender" => SearchSort::Recommender,
                _ => SearchSort::NumberDesc,
            },
            page: self.page(),
        }
    }
}

/// Whose applications a person may search: their work units', their recommending
/// units' and their campaigns' (as organiser).
pub fn search_scope(access: &Access) -> SearchScope {
    let units = |role: Role| -> Vec<i64> {
        access
            .roles
            .iter()
            .filter(|r| r.role == role)
            .filter_map(|r| r.unit_id)
            .collect()
    };
    SearchScope {
        work_units: units(Role::WorkUnit),
        recommenders: units(Role::Recommender),
        campaigns: access
            .roles
            .iter()
            .filter(|r| r.role == Role::Organizer)
            .filter_map(|r| r.campaign_id.clone())
            .collect(),
    }
}

/// 查询申报表: (total, this page's rows).
pub async fn search(
    store: &Store,
    access: &Access,
    q: &SearchQuery,
) -> Result<(i64, Vec<ApplicationRow>), Error> {
    if !access.reviews() {
        return Err(Error::Forbidden);
    }
    Ok(store
        .search_applications(&search_scope(access), &q.filter())
        .await?)
}
