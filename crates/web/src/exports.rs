//! Exports for paper filing: who may download which list, the records gathered from the
//! store; the files themselves are made by `pingxuan_export`.

use std::collections::BTreeSet;

use pingxuan_export::summary::{SummaryTable, row_of, title_of, xlsx};
use pingxuan_rules::Role;

use crate::AppState;
use crate::access::Access;
use crate::error::Failure;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A file to send as a download.
pub struct Download {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl axum::response::IntoResponse for Download {
    fn into_response(self) -> axum::response::Response {
        use axum::http::header;
        (
            [
                (header::CONTENT_TYPE, self.content_type.to_owned()),
                (header::CONTENT_DISPOSITION, disposition(true, &self.name)),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// The 候选人汇总表 of a campaign as the caller may have it: the organiser's, every
/// candidate at the office with their 推荐单位; a recommending unit's, its own candidates
/// (those that reached it and were not sent back below). Not found for anyone else.
pub async fn summary_table(
    state: &AppState,
    access: &Access,
    campaign_id: &str,
) -> Result<Download, Failure> {
    let campaign = state
        .store
        .campaign_model(campaign_id)
        .await?
        .ok_or(Failure::NotFound)?;
    let title = title_of(&campaign);
    let organiser = access
        .roles
        .iter()
        .any(|r| r.role == Role::Organizer && r.campaign_id.as_deref() == Some(campaign_id));
    let (candidates, unit_line, name, whole) = if organiser {
        let all = state.store.candidates(campaign_id, None).await?;
        let units = all
            .iter()
            .map(|c| c.recommender.as_str())
            .collect::<BTreeSet<_>>()
            .len();
        let line = format!(
            "推荐单位：全部（{units} 个推荐单位，{} 名候选人）",
            all.len()
        );
        (all, line, format!("{title}.xlsx"), true)
    } else {
        let own: Vec<(i64, String)> = access
            .roles
            .iter()
            .filter(|r| {
                r.role == Role::Recommender && r.campaign_id.as_deref() == Some(campaign_id)
            })
            .filter_map(|r| Some((r.unit_id?, r.unit_name.clone().unwrap_or_default())))
            .collect();
        if own.is_empty() {
            return Err(Failure::NotFound);
        }
        let ids: Vec<i64> = own.iter().map(|(id, _)| *id).collect();
        let names = own
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join("、");
        let mine = state.store.candidates(campaign_id, Some(&ids)).await?;
        (
            mine,
            format!("推荐单位（盖章）：{names}"),
            format!("{title}（{names}）.xlsx"),
            false,
        )
    };
    let table = SummaryTable {
        title,
        unit_line,
        rows: candidates
            .iter()
            .map(|c| row_of(&c.form, &c.recommender))
            .collect(),
        with_recommender: whole,
    };
    // Thousands of rows take a moment of CPU: off the request threads.
    let bytes = tokio::task::spawn_blocking(move || xlsx(&table))
        .await
        .map_err(|e| Failure::Internal(format!("summary table: {e}")))?
        .map_err(|e| Failure::Internal(format!("summary table: {e}")))?;
    Ok(Download {
        name,
        content_type: XLSX,
        bytes,
    })
}

/// The 考察材料 of one candidate, prefilled for the recommending unit to complete: for the
/// recommending unit and the levels above it; not for the applicant or the work unit
/// (forbidden), nor for anyone who does not see the application (not found).
pub async fn inspection(state: &AppState, access: &Access, id: i64) -> Result<Download, Failure> {
    let l = crate::flow::load(state, id).await?;
    let level = crate::flow::viewer_level(access, &l).ok_or(Failure::NotFound)?;
    if (level as i64) < l.app.recommender_level {
        return Err(Failure::Forbidden);
    }
    let recommender = match l.app.recommender_unit_id {
        Some(unit) => state
            .store
            .list_units(&l.app.campaign_id)
            .await?
            .into_iter()
            .find(|u| u.id == unit)
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let name = l
        .app
        .form
        .get(&pingxuan_rules::campaign::FieldKey::Name)
        .and_then(pingxuan_rules::form::FieldValue::text)
        .filter(|n| !n.is_empty())
        .unwrap_or(&l.app.number)
        .to_owned();
    let bytes = tokio::task::spawn_blocking(move || {
        pingxuan_export::inspection::docx(&l.campaign, &l.app.form, &recommender)
    })
    .await
    .map_err(|e| Failure::Internal(format!("inspection: {e}")))?
    .map_err(|e| Failure::Internal(format!("inspection: {e}")))?;
    Ok(Download {
        name: format!("{name}同志考察材料.docx"),
        content_type: DOCX,
        bytes,
    })
}

/// `Content-Disposition` naming the file in UTF-8 (RFC 6266), as browsers save it.
pub fn disposition(attachment: bool, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let kind = if attachment { "attachment" } else { "inline" };
    format!("{kind}; filename*=UTF-8''{encoded}")
}
