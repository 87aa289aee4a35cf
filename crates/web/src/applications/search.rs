//! 查询申报表 (新疆 manual 二.11): search by name or number, filter by 年度, 工作单位,
//! 当前步骤, 推荐单位 and 推荐领域, sort as the manual lists, 20 a page with the total. Who
//! sees what is decided in `crate::lists`, shared with the API.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use pingxuan_rules::Role;
use pingxuan_store::applications::PAGE_SIZE;

use crate::AppState;
use crate::applications::lists::SearchQuery;
use crate::applications::mine::ListRow;
use crate::auth::SignedIn;
use crate::error::PageError;
use crate::pages::Shell;

/// A link to the same search with another sort or page.
trait Link {
    fn link(&self, sort: &str, page: i64) -> String;
}

impl Link for SearchQuery {
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
#[template(path = "applications/search.html")]
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
    let (total, found) = crate::applications::lists::search(&state.store, &who.access, &q).await?;
    // 推荐单位 and 推荐领域 to choose from: those of every campaign the person reviews in.
    let mut campaigns: Vec<String> = who
        .access
        .roles
        .iter()
        .filter_map(|r| r.campaign_id.clone())
        .collect();
    campaigns.sort();
    campaigns.dedup();
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
    let employer_hint = q.employer_hint().unwrap_or_default();
    let page = q.page();
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
