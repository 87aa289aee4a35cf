//! An application's case file: everything a move on it may depend on — the record, its
//! campaign, its events, the deadline extensions, its recommender's category and quota
//! use, the register's entry for the candidate and the files attached — read in one
//! transaction on one connection, so a move loads once and decides on one view.

use std::sync::Arc;

use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::deadline::Extension;
use pingxuan_rules::form::FieldValue;
use sqlx::Row;

use crate::applications::{Application, StoredEvent};
use crate::attachments::Attachment;
use crate::{Result, Store};

/// What [`Store::application_file`] reads.
#[derive(Debug, Clone)]
pub struct ApplicationFile {
    pub app: Application,
    pub campaign: Arc<Campaign>,
    pub events: Vec<StoredEvent>,
    pub extensions: Vec<Extension>,
    /// The recommending unit's category key in the campaign.
    pub category: Option<String>,
    /// Applications the recommending unit has forwarded so far.
    pub forwarded: i64,
    /// Places the organiser granted the unit beyond a “原则上” quota.
    pub granted: i64,
    /// The register of earlier winners' entry for the candidate's 身份证号码.
    pub register: Option<String>,
    pub attachments: Vec<Attachment>,
}

impl Store {
    /// One application's case file; `None` when there is no such application (or its
    /// campaign is gone).
    pub async fn application_file(&self, id: i64) -> Result<Option<ApplicationFile>> {
        let mut tx = self.pool.begin().await?;
        let Some(app) = self.application_on(&mut tx, id).await? else {
            return Ok(None);
        };
        let Some(campaign) = self.campaign_model_on(&mut tx, &app.campaign_id).await? else {
            return Ok(None);
        };
        let events = crate::applications::events_on(&mut tx, id).await?;
        let extensions = crate::exceptions::extensions_on(&mut tx, &app.campaign_id)
            .await?
            .iter()
            .map(|g| g.extension())
            .collect();
        let (category, forwarded, granted) = match app.recommender_unit_id {
            Some(unit) => {
                let category: Option<String> =
                    sqlx::query("SELECT category FROM units WHERE id = $1")
                        .bind(unit)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get(0))
                        .transpose()?
                        .flatten();
                (
                    category,
                    crate::applications::forwarded_on(&mut tx, unit).await?,
                    crate::exceptions::quota_extra_on(&mut tx, unit).await?,
                )
            }
            None => (None, 0, 0),
        };
        let id_number = app
            .form
            .get(&FieldKey::IdNumber)
            .and_then(FieldValue::text)
            .unwrap_or("")
            .trim()
            .to_owned();
        let register = if id_number.is_empty() {
            None
        } else {
            self.winner_entry_on(&mut tx, &app.campaign_id, &id_number)
                .await?
        };
        let attachments = crate::attachments::attachments_on(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Some(ApplicationFile {
            app,
            campaign,
            events,
            extensions,
            category,
            forwarded,
            granted,
            register,
            attachments,
        }))
    }
}
