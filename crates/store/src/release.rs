//! The release of a campaign's final list (issue 18): written once, under the last
//! stage's guard (the list released is the list confirmed), with each winner's serial,
//! the words and the files the public gallery shows. After it, `stages::locked`
//! refuses every write that would move a stage.

use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now, unique_as};

/// A file the gallery shows of a winner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    pub seq: i64,
    /// portrait, photo or video.
    pub role: String,
    pub attachment_id: i64,
}

/// One winner as released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseEntry {
    pub seq: i64,
    pub application_id: i64,
    pub serial: String,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub field: String,
    /// 事迹简介.
    pub summary: String,
    pub files: Vec<ReleaseFile>,
}

/// A release to write.
#[derive(Debug, Clone)]
pub struct NewRelease<'a> {
    pub campaign_id: &'a str,
    pub stage_key: &'a str,
    /// The stage's events the decision saw.
    pub stage_events: i64,
    pub title: &'a str,
    /// `YYYY-MM-DD`, Beijing.
    pub released_on: String,
    pub entries: &'a [ReleaseEntry],
}

/// A release as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: i64,
    pub public_id: String,
    pub campaign_id: String,
    pub stage_key: String,
    pub title: String,
    pub released_on: String,
    pub released_by: Option<String>,
    pub released_at: i64,
    pub entries: Vec<ReleaseEntry>,
}

impl Store {
    /// Writes the release with its audit entry, under the stage's guard; a second release
    /// of the campaign is `Duplicate("release")`; one after the list moved, or with a 公示
    /// running or an objection open by now, `Stale`.
    pub async fn release(
        &self,
        r: &NewRelease<'_>,
        by: Option<i64>,
        notices: &[crate::notices::Outgoing],
        audit: &Audit,
    ) -> Result<String> {
        let t = now();
        let mut tx = crate::stages::locked_at(self, r.campaign_id, r.stage_key, r.stage_events)
            .await
            .map_err(|e| match e {
                // A release between the read and the lock: the same answer as a second one.
                StoreError::Released => StoreError::Duplicate("release"),
                other => other,
            })?;
        // What the decision read, read again under the lock: no 公示 of the organiser's
        // still running, no objection to one still open (a letter entered meanwhile).
        let running: i64 = sqlx::query(
            "SELECT COUNT(*) FROM publicities WHERE campaign_id = $1 AND kind <> 'unit' AND ends_at > $2",
        )
        .bind(r.campaign_id)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) FROM objections o JOIN publicities p ON p.id = o.publicity_id \
             WHERE p.campaign_id = $1 AND p.kind <> 'unit' AND NOT EXISTS \
             (SELECT 1 FROM objection_steps s WHERE s.objection_id = o.id \
              AND s.outcome IN ('rejected', 'unfounded', 'upheld'))",
        )
        .bind(r.campaign_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if running > 0 || open > 0 {
            return Err(StoreError::Stale);
        }
        let public = hex::encode(rand::random::<[u8; 16]>());
        let id: i64 = sqlx::query(
            "INSERT INTO releases (public_id, campaign_id, stage_key, title, released_on, released_by, released_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&public)
        .bind(r.campaign_id)
        .bind(r.stage_key)
        .bind(r.title)
        .bind(&r.released_on)
        .bind(by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as("release"))?
        .try_get(0)?;
        for e in r.entries {
            sqlx::query(
                "INSERT INTO release_entries (release_id, seq, application_id, serial, name, work_unit, recommender, field, summary) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id)
            .bind(e.seq)
            .bind(e.application_id)
            .bind(&e.serial)
            .bind(&e.name)
            .bind(&e.work_unit)
            .bind(&e.recommender)
            .bind(&e.field)
            .bind(&e.summary)
            .execute(&mut *tx)
            .await
            .map_err(unique_as("certificate serial"))?;
            for f in &e.files {
                sqlx::query(
                    "INSERT INTO release_files (release_id, entry_seq, seq, role, attachment_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(e.seq)
                .bind(f.seq)
                .bind(&f.role)
                .bind(f.attachment_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        Self::write_notices(&mut tx, notices, t).await?;
        let audit = Audit {
            target: format!("release:{public}"),
            ..audit.clone()
        };
        self.append_audit(&mut tx, &audit, t).await?;
        tx.commit().await?;
        Ok(public)
    }

    async fn release_where(&self, column: &str, value: &str) -> Result<Option<Release>> {
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.public_id, r.campaign_id, r.stage_key, r.title, r.released_on, u.display_name, r.released_at \
             FROM releases r LEFT JOIN users u ON u.id = r.released_by WHERE r.{column} = $1"
        )))
        .bind(value)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = r.try_get(0)?;
        let files = sqlx::query(
            "SELECT entry_seq, seq, role, attachment_id FROM release_files WHERE release_id = $1 \
             ORDER BY entry_seq, seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let files: Vec<(i64, ReleaseFile)> = files
            .iter()
            .map(|f| {
                Ok((
                    f.try_get(0)?,
                    ReleaseFile {
                        seq: f.try_get(1)?,
                        role: f.try_get(2)?,
                        attachment_id: f.try_get(3)?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        let entries = sqlx::query(
            "SELECT seq, application_id, serial, name, work_unit, recommender, field, summary \
             FROM release_entries WHERE release_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|e| {
            let seq: i64 = e.try_get(0)?;
            Ok(ReleaseEntry {
                seq,
                application_id: e.try_get(1)?,
                serial: e.try_get(2)?,
                name: e.try_get(3)?,
                work_unit: e.try_get(4)?,
                recommender: e.try_get(5)?,
                field: e.try_get(6)?,
                summary: e.try_get(7)?,
                files: files
                    .iter()
                    .filter(|(s, _)| *s == seq)
                    .map(|(_, f)| f.clone())
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(Release {
            id,
            public_id: r.try_get(1)?,
            campaign_id: r.try_get(2)?,
            stage_key: r.try_get(3)?,
            title: r.try_get(4)?,
            released_on: r.try_get(5)?,
            released_by: r.try_get(6)?,
            released_at: r.try_get(7)?,
            entries,
        }))
    }

    /// A campaign's release, if it has been released.
    pub async fn release_of(&self, campaign_id: &str) -> Result<Option<Release>> {
        self.release_where("campaign_id", campaign_id).await
    }

    /// A release by the id in its public address.
    pub async fn release_by_public_id(&self, public_id: &str) -> Result<Release> {
        self.release_where("public_id", public_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One attachment by its row id, live or not (a released file is shown as released).
    pub async fn attachment_by_id(
        &self,
        id: i64,
    ) -> Result<Option<crate::attachments::Attachment>> {
        crate::attachments::attachment_by_id(&self.pool, id).await
    }
}
