//! An application's case file: everything a move on it may depend on — the record, its
//! campaign, its events, the deadline extensions, its recommender's category and quota
//! use, the register's entry for the candidate and the files attached — read in one
//! store call on one connection (no second connection is ever waited for), so a move
//! loads once.

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

/// The recommending unit's category, its forwarded applications and granted places, and
/// the register's entry for the candidate, in one statement.
const SCALARS: &str = concat!(
    "SELECT (SELECT category FROM units WHERE id = $1), (",
    crate::applications::forwarded_by_recommender!(),
    "), (SELECT CAST(COALESCE(SUM(extra), 0) AS BIGINT) FROM quota_exceptions WHERE unit_id = $1), \
     (SELECT name || ' ' || note FROM earlier_winners WHERE campaign_id = $2 AND id_number_hmac = $3)"
);

impl Store {
    /// One application's case file, read on one connection in five statements (the
    /// record with its campaign's revision, the events with their actors' names, the
    /// campaign's extensions, the unit's and register's facts, the files); `None` when
    /// there is no such application. The move that decides on it is checked again by
    /// its write (the events' sequence, the form's version for an applicant's 提交, the
    /// quota recounted), so the reads need no transaction of their own.
    pub async fn application_file(&self, id: i64) -> Result<Option<ApplicationFile>> {
        let mut c = self.pool.acquire().await?;
        let Some((app, revision)) = self.application_on(&mut c, id).await? else {
            return Ok(None);
        };
        let Some(campaign) = self.model_at(&mut c, &app.campaign_id, revision).await? else {
            return Ok(None);
        };
        let events = crate::applications::events_on(&mut c, id).await?;
        let extensions = crate::exceptions::extensions_on(&mut c, &app.campaign_id)
            .await?
            .iter()
            .map(|g| g.extension())
            .collect();
        let id_number = app
            .form
            .get(&FieldKey::IdNumber)
            .and_then(FieldValue::text)
            .unwrap_or("")
            .trim()
            .to_ascii_uppercase();
        let digest = (!id_number.is_empty()).then(|| self.sealer.lookup(&id_number));
        let row = sqlx::query(SCALARS)
            .bind(app.recommender_unit_id.unwrap_or(0))
            .bind(&app.campaign_id)
            .bind(digest.unwrap_or_default())
            .fetch_one(&mut *c)
            .await?;
        let (category, forwarded, granted) = match app.recommender_unit_id {
            Some(_) => (
                row.try_get::<Option<String>, _>(0)?,
                row.try_get::<i64, _>(1)?,
                row.try_get::<Option<i64>, _>(2)?.unwrap_or(0),
            ),
            None => (None, 0, 0),
        };
        let register = row
            .try_get::<Option<String>, _>(3)?
            .map(|s| s.trim().to_owned());
        let attachments = crate::attachments::attachments_on(&mut c, id).await?;
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
