//! Voters of the public vote, proven by phone (issue 19). Every limit is one conditional
//! statement, so two requests at once cannot both pass: a phone's send updates its row
//! only a minute after the last and under the day's cap; an address's send updates its
//! hour's row only under the cap; a guess marks the code used only while it is unused,
//! unexpired and has tries left, else counts a try down. A code is usable only once the
//! gateway took it (`delivered`), so a failed send leaves nobody half-verified.

use pingxuan_rules::vote::verify::{CODE_TTL, Caps, CodeState, RESEND_AFTER, Sending, TRIES};
use sqlx::Row;

use crate::{Result, Store};

/// A reservation of a send: the code's row, or where the limits stand when refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Code(i64),
    Refused(Sending),
}

/// A phone to verify, as stored.
#[derive(Debug, Clone)]
pub struct Phone<'a> {
    pub campaign_id: &'a str,
    pub lookup: &'a str,
    pub sealed: &'a str,
    pub masked: &'a str,
}

impl Store {
    /// Reserves a send of a code to `phone` from `client_ip` at `now` (Beijing `day`, Unix
    /// `hour`), storing the code's hash undelivered.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve_vote_code(
        &self,
        campaign_id: &str,
        phone_lookup: &str,
        code_hash: &str,
        client_ip: &str,
        now: i64,
        day: &str,
        hour: i64,
        caps: Caps,
    ) -> Result<Reserved> {
        let mut tx = self.begin_write().await?;
        let phone = sqlx::query(
            "INSERT INTO vote_phones (campaign_id, phone_lookup, day, sent_today, last_sent) \
             VALUES ($1, $2, $3, 1, $4) ON CONFLICT (campaign_id, phone_lookup) DO UPDATE SET \
             sent_today = CASE WHEN vote_phones.day = $3 THEN vote_phones.sent_today + 1 ELSE 1 END, \
             day = $3, last_sent = $4 \
             WHERE vote_phones.last_sent <= $5 AND (vote_phones.day <> $3 OR vote_phones.sent_today < $6)",
        )
        .bind(campaign_id)
        .bind(phone_lookup)
        .bind(day)
        .bind(now)
        .bind(now - RESEND_AFTER)
        .bind(i64::from(caps.per_phone_day))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let address = if phone == 1 {
            sqlx::query(
                "INSERT INTO vote_ip_sends (client_ip, hour, sent) VALUES ($1, $2, 1) \
                 ON CONFLICT (client_ip, hour) DO UPDATE SET sent = vote_ip_sends.sent + 1 \
                 WHERE vote_ip_sends.sent < $3",
            )
            .bind(client_ip)
            .bind(hour)
            .bind(i64::from(caps.per_ip_hour))
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        if phone == 0 || address == 0 {
            tx.rollback().await?;
            return Ok(Reserved::Refused(
                self.vote_sending(campaign_id, phone_lookup, client_ip, day, hour)
                    .await?,
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO vote_codes (campaign_id, phone_lookup, code_hash, sent_at, expires_at, \
             tries_left, delivered, client_ip) VALUES ($1, $2, $3, $4, $5, $6, 0, $7) RETURNING id",
        )
        .bind(campaign_id)
        .bind(phone_lookup)
        .bind(code_hash)
        .bind(now)
        .bind(now + CODE_TTL)
        .bind(i64::from(TRIES))
        .bind(client_ip)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(Reserved::Code(id))
    }

    /// Where a phone's and an address's sends stand.
    async fn vote_sending(
        &self,
        campaign_id: &str,
        phone_lookup: &str,
        client_ip: &str,
        day: &str,
        hour: i64,
    ) -> Result<Sending> {
        let phone = sqlx::query(
            "SELECT day, sent_today, last_sent FROM vote_phones \
             WHERE campaign_id = $1 AND phone_lookup = $2",
        )
        .bind(campaign_id)
        .bind(phone_lookup)
        .fetch_optional(&self.pool)
        .await?;
        let ip: Option<i64> =
            sqlx::query("SELECT sent FROM vote_ip_sends WHERE client_ip = $1 AND hour = $2")
                .bind(client_ip)
                .bind(hour)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get(0));
        let (last_sent, sent_today) = match phone {
            Some(r) if r.get::<String, _>(0) == day => (
                Some(r.get::<i64, _>(2)).filter(|t| *t > 0),
                r.get::<i64, _>(1),
            ),
            Some(r) => (Some(r.get::<i64, _>(2)).filter(|t| *t > 0), 0),
            None => (None, 0),
        };
        Ok(Sending {
            last_sent,
            sent_today: sent_today.max(0) as u32,
            ip_this_hour: ip.unwrap_or(0).max(0) as u32,
        })
    }

    /// The gateway took the code: it may now be used.
    pub async fn vote_code_delivered(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE vote_codes SET delivered = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The gateway did not take the code: it stays unusable, and the send is given back
    /// (the voter may ask again at once; the caps count only what was sent).
    /// Only this send is given back: the phone's row still as the reservation at
    /// `sent_at` on `day` left it.
    pub async fn vote_code_failed(
        &self,
        campaign_id: &str,
        phone_lookup: &str,
        client_ip: &str,
        sent_at: i64,
        day: &str,
        hour: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let given_back = sqlx::query(
            "UPDATE vote_phones SET sent_today = sent_today - 1, last_sent = 0 \
             WHERE campaign_id = $1 AND phone_lookup = $2 AND last_sent = $3 AND day = $4 \
             AND sent_today > 0",
        )
        .bind(campaign_id)
        .bind(phone_lookup)
        .bind(sent_at)
        .bind(day)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if given_back == 0 {
            tx.rollback().await?;
            return Ok(());
        }
        sqlx::query(
            "UPDATE vote_ip_sends SET sent = sent - 1 WHERE client_ip = $1 AND hour = $2 AND sent > 0",
        )
        .bind(client_ip)
        .bind(hour)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A guess of the phone's latest delivered code: right, the voter (created on first
    /// proof) signed in with a session whose hash is `session_hash`; wrong or late, the
    /// code's state after the guess counted (`None`: no code was sent).
    pub async fn verify_vote_code(
        &self,
        phone: &Phone<'_>,
        code_hash: &str,
        now: i64,
        session_hash: &str,
        session_expires: i64,
    ) -> Result<std::result::Result<i64, Option<CodeState>>> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query(
            "SELECT id FROM vote_codes WHERE campaign_id = $1 AND phone_lookup = $2 \
             AND delivered = 1 ORDER BY id DESC LIMIT 1",
        )
        .bind(phone.campaign_id)
        .bind(phone.lookup)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.get(0));
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(Err(None));
        };
        let right = sqlx::query(
            "UPDATE vote_codes SET used_at = $3 WHERE id = $1 AND code_hash = $2 \
             AND used_at IS NULL AND expires_at > $3 AND tries_left > 0",
        )
        .bind(id)
        .bind(code_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if right == 1 {
            let voter: i64 = sqlx::query(
                "INSERT INTO vote_voters (campaign_id, phone_lookup, phone_sealed, phone_masked, \
                 verified_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign_id, phone_lookup) \
                 DO UPDATE SET verified_at = $5 RETURNING id",
            )
            .bind(phone.campaign_id)
            .bind(phone.lookup)
            .bind(phone.sealed)
            .bind(phone.masked)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            sqlx::query(
                "INSERT INTO vote_sessions (id_hash, voter_id, campaign_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session_hash)
            .bind(voter)
            .bind(phone.campaign_id)
            .bind(now)
            .bind(session_expires)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Ok(voter));
        }
        sqlx::query(
            "UPDATE vote_codes SET tries_left = tries_left - 1 WHERE id = $1 \
             AND used_at IS NULL AND expires_at > $2 AND tries_left > 0",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("SELECT expires_at, tries_left, used_at FROM vote_codes WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Err(Some(CodeState {
            expires_at: r.get(0),
            tries_left: r.get::<i64, _>(1).max(0) as u32,
            used: r.get::<Option<i64>, _>(2).is_some(),
        })))
    }

    /// The voter a session belongs to, with its campaign, while it lasts.
    pub async fn vote_session(
        &self,
        session_hash: &str,
        now: i64,
    ) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query(
            "SELECT voter_id, campaign_id FROM vote_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(session_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| (r.get(0), r.get(1))))
    }

    /// A voter's masked phone, for the page.
    pub async fn voter_masked_phone(&self, voter_id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT phone_masked FROM vote_voters WHERE id = $1")
                .bind(voter_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get(0)),
        )
    }
}
