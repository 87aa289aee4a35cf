//! 消息通知: notices in the app, written in the same transaction as the move that
//! causes them (with their mail in the outbox), so a move never happens unannounced;
//! and the record of deadline reminders already sent.

use pingxuan_rules::Role;
use sqlx::Row;

use crate::{Result, Store, now};

/// A notice to write, and the mail to queue when the person has an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub user_id: i64,
    pub email: Option<String>,
    pub application_id: Option<i64>,
    /// arrival, return, recall, reminder, outcome.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub application_id: Option<i64>,
    pub kind: String,
    pub text: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// An application some level still holds, for the reminder sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub applicant_id: i64,
    pub recommender_unit_id: Option<i64>,
    pub work_unit_id: Option<i64>,
    pub merged: bool,
    pub holder_level: i64,
}

/// A person to tell: (account, e-mail address if any).
pub type Recipient = (i64, Option<String>);

impl Store {
    /// Writes notices and queues their mail inside an open transaction.
    pub(crate) async fn write_notices(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        out: &[Outgoing],
        t: i64,
    ) -> Result<()> {
        for o in out {
            sqlx::query(
                "INSERT INTO notices (user_id, application_id, kind, text, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(o.user_id)
            .bind(o.application_id)
            .bind(o.kind)
            .bind(&o.text)
            .bind(t)
            .execute(&mut **tx)
            .await?;
            if let Some(to) = &o.email {
                sqlx::query(
                    "INSERT INTO mail_outbox (to_addr, subject, body, created_at, next_attempt_at) \
                     VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(to)
                .bind(&o.subject)
                .bind(&o.text)
                .bind(t)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    /// Writes notices (and their mail) outside a move, e.g. reminders.
    pub async fn send_notices(&self, out: &[Outgoing]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::write_notices(&mut tx, out, now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active accounts acting for a level: the campaign's organisers, or the holders
    /// of a unit's role.
    pub async fn level_recipients(
        &self,
        campaign_id: &str,
        role: Role,
        unit_id: Option<i64>,
    ) -> Result<Vec<Recipient>> {
        let rows = sqlx::query(
            "SELECT DISTINCT u.id, u.email_enc FROM roles r JOIN users u ON u.id = r.user_id \
             WHERE u.active = 1 AND r.role = $1 AND r.campaign_id = $2 AND ($3 = 0 OR r.unit_id = $3)",
        )
        .bind(role.as_str())
        .bind(campaign_id)
        .bind(unit_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        self.recipients_of(&rows)
    }

    /// One account as a recipient (the applicant).
    pub async fn user_recipient(&self, user_id: i64) -> Result<Vec<Recipient>> {
        let rows = sqlx::query("SELECT id, email_enc FROM users WHERE id = $1 AND active = 1")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        self.recipients_of(&rows)
    }

    fn recipients_of(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<Recipient>> {
        rows.iter()
            .map(|r| {
                let sealed: Option<String> = r.try_get(1)?;
                Ok((r.try_get(0)?, sealed.and_then(|s| self.sealer.open(&s))))
            })
            .collect()
    }

    /// A person's notices, newest first.
    pub async fn notices_of(&self, user_id: i64, limit: i64) -> Result<Vec<Notice>> {
        let rows = sqlx::query(
            "SELECT id, application_id, kind, text, created_at, read_at FROM notices \
             WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notice {
                    id: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    text: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    read_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn unread_notices(&self, user_id: i64) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM notices WHERE user_id = $1 AND read_at IS NULL")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    pub async fn mark_notices_read(&self, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE notices SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Applications of a campaign that a level below the organiser still holds.
    pub async fn held_applications(&self, campaign_id: &str) -> Result<Vec<Held>> {
        let rows = sqlx::query(
            "SELECT id, number, name, applicant_id, recommender_unit_id, work_unit_id, merged, holder_level \
             FROM applications WHERE campaign_id = $1 AND holder_role <> 'organizer'",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Held {
                    id: r.try_get(0)?,
                    number: r.try_get(1)?,
                    name: r.try_get(2)?,
                    applicant_id: r.try_get(3)?,
                    recommender_unit_id: r.try_get(4)?,
                    work_unit_id: r.try_get(5)?,
                    merged: r.try_get::<i64, _>(6)? != 0,
                    holder_level: r.try_get(7)?,
                })
            })
            .collect()
    }

    /// Records that a reminder goes out; `false` when it already went (so each is sent
    /// once, even with two servers sweeping).
    pub async fn claim_reminder(
        &self,
        application_id: i64,
        level: i64,
        days_before: i64,
        deadline_at: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO reminders_sent (application_id, level, days_before, deadline_at, sent_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(application_id)
        .bind(level)
        .bind(days_before)
        .bind(deadline_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

impl Store {
    /// Records that an expert's reminder for a stage goes out; `false` when it already
    /// went.
    pub async fn claim_stage_reminder(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert_id: i64,
        days_before: i64,
        deadline_at: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO stage_reminders_sent (campaign_id, stage_key, expert_id, days_before, deadline_at, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert_id)
        .bind(days_before)
        .bind(deadline_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
