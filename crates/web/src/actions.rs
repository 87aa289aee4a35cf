//! Actions shared by a page and its API twin, so both apply the same checks.

use pingxuan_rules::campaign::{Problem, Severity, load};

use crate::AppState;
use crate::access::Access;
use crate::error::Failure;

pub struct Loaded {
    pub id: String,
    pub revision: i64,
    pub warnings: Vec<Problem>,
}

pub enum LoadOutcome {
    Saved(Loaded),
    /// The file has errors and nothing was saved.
    Refused(Vec<Problem>),
}

/// Checks a campaign file and, when it has no errors and the person may, saves it as a
/// new campaign or a new revision of an existing one.
pub async fn load_campaign(
    state: &AppState,
    access: &Access,
    toml_text: &str,
    ip: Option<&str>,
) -> Result<LoadOutcome, Failure> {
    let report = load(toml_text);
    let Some(campaign) = report.campaign else {
        // Even a refused file may only be checked by those who may load files at all.
        if !access.manages_campaigns() {
            return Err(Failure::Forbidden);
        }
        return Ok(LoadOutcome::Refused(report.problems));
    };
    let id = campaign.campaign.id.clone();
    let existing = state.store.get_campaign(&id).await?;
    access.require_campaign_loader(existing.as_ref().map(|c| c.id.as_str()))?;
    let revision = state
        .store
        .save_campaign(&campaign, toml_text, Some(access.user.id))
        .await?;
    state
        .store
        .audit(
            Some(access.user.id),
            if revision == 1 {
                "campaign_created"
            } else {
                "campaign_replaced"
            },
            &format!("campaign:{id}"),
            &format!("第 {revision} 版"),
            ip,
        )
        .await?;
    Ok(LoadOutcome::Saved(Loaded {
        id,
        revision,
        warnings: report
            .problems
            .into_iter()
            .filter(|p| p.severity == Severity::Warning)
            .collect(),
    }))
}
