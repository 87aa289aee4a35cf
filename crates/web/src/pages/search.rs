//! 查询申报表 (新疆 manual 二.11): search by name or number, filter by 年度, 工作单位 and
//! 当前步骤 (organisers also by 推荐单位 and 推荐领域), sort as the manual lists, 20 a page with the total. A recommending unit
//! sees what was sent to it; an organiser what was submitted in their campaigns.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;
use pingxuan_store::applications::{PAGE_SIZE, SearchFilter, SearchScope, SearchSort};
use serde::Deserialize;

use super::Shell;
use super::applications::ListRow;
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::{Failure, PageError};

#[derive(Deserialize, Default, Clone)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    employer: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    recommender: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<i64>,
}

impl SearchQuery {
    fn link(&self, sort: &str, page: i64) -> String {
        let pairs = [
            ("q", self.q.as_str()),
            ("year", self.year.as_str()),
            ("employer", self.employer.as_str()),
            ("step", self.step.as_str()),
            ("recommender", self.recommender.as_str()),
            ("field", self.field.as_str()),
            ("sort", sort),
            ("page", &page.to_string()),
        ];
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "/applications/search?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    year: String,
    employer: String,
    employer_hint: String,
    step: String,
    recommender: String,
    field: String,
    sort: String,
    years: Vec<i64>,
    /// The organiser's filters: 推荐单位 (id, name) and 推荐领域.
    recommenders: Vec<(String, String)>,
    fields: Vec<String>,
    steps: Vec<(&'static str, &'static str)>,
    sorts: Vec<(&'static str, String, bool)>,
    rows: Vec<ListRow>,
    total: i64,
    range: String,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn get_search(
    State(state): State<AppState>,
    who: SignedIn,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    if !who.access.reviews() {
        return Err(Failure::Forbidden.into());
    }
    let campaigns: Vec<String> = who
        .access
        .roles
        .iter()
        .filter(|r| r.role == Role::Organizer)
        .filter_map(|r| r.campaign_id.clone())
        .collect();
    let units = |role: Role| -> Vec<i64> {
        who.access
            .roles
            .iter()
            .filter(|r| r.role == role)
            .filter_map(|r| r.unit_id)
            .collect()
    };
    let scope = SearchScope {
        work_units: units(Role::WorkUnit),
        recommenders: units(Role::Recommender),
        campaigns: campaigns.clone(),
    };
    // Organisers filter by 推荐单位 and 推荐领域 across the campaigns they organise.
    let mut recommenders = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for id in &campaigns {
        for u in state.store.list_units(id).await? {
            if u.kind == Role::Recommender {
                recommenders.push((u.id.to_string(), u.name));
            }
        }
        if let Some(model) = state.store.campaign_model(id).await?
            && let Some(f) = model
                .form
                .fields
                .iter()
                .find(|f| f.key == pingxuan_rules::campaign::FieldKey::Field)
        {
            for choice in &f.choices {
                if !fields.contains(choice) {
                    fields.push(choice.clone());
                }
            }
        }
    }
    let employer_chars = q.employer.trim().chars().count();
    let employer_hint = if employer_chars > 0 && employer_chars < 4 {
        format!("工作单位须输入至少 4 个字符，现为 {employer_chars} 个，未按工作单位筛选")
    } else {
        String::new()
    };
    let sort = match q.sort.as_str() {
        "moved" => SearchSort::MovedAt,
        "employer" => SearchSort::Employer,
        "recommender" => SearchSort::Recommender,
        _ => SearchSort::NumberDesc,
    };
    let page = q.page.unwrap_or(1).max(1);
    let filter = SearchFilter {
        text: Some(q.q.clone()),
        year: q.year.parse().ok(),
        employer: Some(q.employer.clone()),
        step: Some(q.step.clone()),
        recommender: q.recommender.parse().ok(),
        field: Some(q.field.clone()),
        sort,
        page,
    };
    let (total, found) = state.store.search_applications(&scope, &filter).await?;
    let mut years: Vec<i64> = state
        .store
        .list_campaigns()
        .await?
        .iter()
        .map(|c| c.year)
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    let rows: Vec<ListRow> = found
        .into_iter()
        .map(|a| {
            let href = format!("/review/{}", a.id);
            ListRow::new(a, href)
        })
        .collect();
    let first = (page - 1) * PAGE_SIZE + 1;
    let range = if rows.is_empty() {
        String::new()
    } else {
        format!("{first}-{}", first + rows.len() as i64 - 1)
    };
    let sort_key = if q.sort.is_empty() {
        "number"
    } else {
        q.sort.as_str()
    };
    let page_obj = SearchPage {
        shell: Shell::signed_in(&who, "查询申报表", "/applications/search"),
        sorts: [
            ("申请书编号从高到低", "number"),
            ("转交时间", "moved"),
            ("工作单位", "employer"),
            ("推荐单位", "recommender"),
        ]
        .into_iter()
        .map(|(label, key)| (label, q.link(key, 1), key == sort_key))
        .collect(),
        prev: (page > 1).then(|| q.link(sort_key, page - 1)),
        next: (page * PAGE_SIZE < total).then(|| q.link(sort_key, page + 1)),
        q: q.q.clone(),
        year: q.year.clone(),
        employer: q.employer.clone(),
        employer_hint,
        step: q.step.clone(),
        recommender: q.recommender.clone(),
        field: q.field.clone(),
        recommenders,
        fields,
        sort: q.sort.clone(),
        years,
        steps: vec![
            ("applicant", "申报人"),
            ("work_unit", "所在单位"),
            ("recommender", "推荐单位"),
            ("organizer", "活动办公室"),
        ],
        rows,
        total,
        range,
    };
    Ok(Html(page_obj.render()?).into_response())
}
