//! 公示 and their objections (issue 18). A 公示 is written once, with its period and its
//! list as published; an objection keeps its objector sealed and its steps (核查中, then
//! the outcome with the 处理意见) as rows, the last of which holds. An upheld objection
//! takes its candidate off the stage's list (`removals`) and, where the list was
//! confirmed, undoes the confirmation — in the step's own transaction.

use pingxuan_rules::selection::stage::Event;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now, unique_as};

/// An unguessable id for a 公示's public address: 128 random bits in hex.
fn public_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// One person on a 公示, as shown at publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub application_id: i64,
    pub name: String,
    pub work_unit: String,
    pub recommender: String,
    pub field: String,
}

/// A 公示 to write.
#[derive(Debug, Clone)]
pub struct NewPublicity<'a> {
    pub campaign_id: &'a str,
    pub kind: &'a str,
    pub unit_id: Option<i64>,
    pub stage_key: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub contact: &'a str,
    /// Days as `YYYY-MM-DD`.
    pub published_on: String,
    pub first_day: String,
    pub last_day: String,
    pub working_days: i64,
    pub ends_at: i64,
    pub entries: &'a [Entry],
}

/// A 公示 as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publicity {
    pub id: i64,
    pub public_id: String,
    pub campaign_id: String,
    pub kind: String,
    pub unit_id: Option<i64>,
    pub stage_key: String,
    pub title: String,
    pub body: String,
    pub contact: String,
    pub published_on: String,
    pub first_day: String,
    pub last_day: String,
    pub working_days: i64,
    pub ends_at: i64,
    pub published_by: Option<String>,
    pub published_at: i64,
    pub entries: Vec<Entry>,
}

/// An objection to write; the number is the caller's (random), the rest as checked.
#[derive(Debug, Clone)]
pub struct NewObjection<'a> {
    pub number: &'a str,
    pub publicity_id: i64,
    pub application_id: i64,
    pub channel: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub body: &'a str,
    pub received_at: i64,
    pub entered_by: Option<i64>,
    /// (original name, format, size, storage key) of files already in storage.
    pub files: &'a [(String, String, i64, String)],
}

/// One step of an objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub seq: i64,
    pub outcome: String,
    pub opinion: String,
    pub by: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectionFile {
    pub seq: i64,
    pub original_name: String,
    pub format: String,
    pub size: i64,
    pub storage_key: String,
}

/// An objection as stored, the objector opened from the seal: the caller decides who
/// may read which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    pub id: i64,
    pub number: String,
    pub publicity_id: i64,
    pub application_id: i64,
    pub channel: String,
    pub name: String,
    pub phone: String,
    pub body: String,
    pub received_at: i64,
    pub entered_by: Option<String>,
    pub created_at: i64,
    pub steps: Vec<Step>,
    pub files: Vec<ObjectionFile>,
}

/// A candidate taken off a stage's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub stage_key: String,
    pub application_id: i64,
    pub reason: String,
    pub objection_id: Option<i64>,
    pub at: i64,
}

/// What an upheld objection does to the stage, written with its step.
#[derive(Debug, Clone)]
pub struct Removing<'a> {
    pub campaign_id: &'a str,
    pub stage_key: &'a str,
    /// The stage's events the decision saw (the guard), and the campaign's.
    pub stage_events: i64,
    pub campaign_events: i64,
    pub reason: &'a str,
    /// The confirmation undone, when the list was confirmed.
    pub revert: Option<Event>,
}

const PUBLICITY_COLUMNS: &str = "p.id, p.public_id, p.campaign_id, p.kind, p.unit_id, p.stage_key, p.title, \
     p.body, p.contact, p.published_on, p.first_day, p.last_day, p.working_days, p.ends_at, \
     u.display_name, p.published_at";

fn publicity_of(r: &sqlx::any::AnyRow) -> Result<Publicity> {
    Ok(Publicity {
        id: r.try_get(0)?,
        public_id: r.try_get(1)?,
        campaign_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        unit_id: r.try_get(4)?,
        stage_key: r.try_get(5)?,
        title: r.try_get(6)?,
        body: r.try_get(7)?,
        contact: r.try_get(8)?,
        published_on: r.try_get(9)?,
        first_day: r.try_get(10)?,
        last_day: r.try_get(11)?,
        working_days: r.try_get(12)?,
        ends_at: r.try_get(13)?,
        published_by: r.try_get(14)?,
        published_at: r.try_get(15)?,
        entries: Vec::new(),
    })
}

impl Store {
    /// Publishes a 公示 with its list. With `guard` (a stage and the events its decision
    /// saw) it is written only while that stage stands where it stood: the list
    /// published is the list confirmed. Returns the public id.
    pub async fn publish(
        &self,
        p: &NewPublicity<'_>,
        guard: Option<(&str, i64)>,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<String> {
        let t = now();
        let mut tx = match guard {
            Some((stage, after)) => {
                crate::stages::locked_at(self, p.campaign_id, stage, after).await?
            }
            None => self.pool.begin().await?,
        };
        // A unit's 公示 are written one at a time (its row locked), so the check below
        // holds for two published at once.
        if let (Some(unit), "unit") = (p.unit_id, p.kind) {
            sqlx::query("UPDATE units SET category = category WHERE id = $1")
                .bind(unit)
                .execute(&mut *tx)
                .await?;
        }
        // Nobody is published twice on a stage's lists (a second click, a second office
        // worker): checked under the stage's lock.
        // A unit's candidates are on its own 公示 once (`unit_id` bound as the “stage”).
        let same = if p.kind == "unit" {
            Some("q.kind = 'unit' AND q.unit_id = $2")
        } else if guard.is_some() {
            Some("q.stage_key = $2 AND q.kind <> 'unit'")
        } else {
            None
        };
        if let Some(same) = same {
            for e in p.entries {
                let query = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM publicity_entries e JOIN publicities q ON q.id = e.publicity_id \
                     WHERE q.campaign_id = $1 AND {same} AND e.application_id = $3"
                )))
                .bind(p.campaign_id);
                let query = match p.unit_id {
                    Some(unit) if p.kind == "unit" => query.bind(unit),
                    _ => query.bind(p.stage_key),
                };
                let already: i64 = query
                    .bind(e.application_id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if already > 0 {
                    return Err(StoreError::Stale);
                }
            }
        }
        let public = public_id();
        let id: i64 = sqlx::query(
            "INSERT INTO publicities (public_id, campaign_id, kind, unit_id, stage_key, title, body, contact, \
             published_on, first_day, last_day, working_days, ends_at, published_by, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
        )
        .bind(&public)
        .bind(p.campaign_id)
        .bind(p.kind)
        .bind(p.unit_id)
        .bind(p.stage_key)
        .bind(p.title)
        .bind(p.body)
        .bind(p.contact)
        .bind(&p.published_on)
        .bind(&p.first_day)
        .bind(&p.last_day)
        .bind(p.working_days)
        .bind(p.ends_at)
        .bind(by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for (seq, e) in p.entries.iter().enumerate() {
            sqlx::query(
                "INSERT INTO publicity_entries (publicity_id, seq, application_id, name, work_unit, recommender, field) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(seq as i64 + 1)
            .bind(e.application_id)
            .bind(&e.name)
            .bind(&e.work_unit)
            .bind(&e.recommender)
            .bind(&e.field)
            .execute(&mut *tx)
            .await?;
        }
        // The entry names the 公示 by the address it is published at.
        let audit = Audit {
            target: format!("publicity:{public}"),
            ..audit.clone()
        };
        self.append_audit(&mut tx, &audit, t).await?;
        tx.commit().await?;
        Ok(public)
    }

    async fn with_entries(&self, mut list: Vec<Publicity>) -> Result<Vec<Publicity>> {
        for p in &mut list {
            let rows = sqlx::query(
                "SELECT application_id, name, work_unit, recommender, field FROM publicity_entries \
                 WHERE publicity_id = $1 ORDER BY seq",
            )
            .bind(p.id)
            .fetch_all(&self.pool)
            .await?;
            p.entries = rows
                .iter()
                .map(|r| {
                    Ok(Entry {
                        application_id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        work_unit: r.try_get(2)?,
                        recommender: r.try_get(3)?,
                        field: r.try_get(4)?,
                    })
                })
                .collect::<Result<_>>()?;
        }
        Ok(list)
    }

    /// A campaign's 公示, oldest first, with their lists.
    pub async fn publicities(&self, campaign_id: &str) -> Result<Vec<Publicity>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PUBLICITY_COLUMNS} FROM publicities p LEFT JOIN users u ON u.id = p.published_by \
             WHERE p.campaign_id = $1 ORDER BY p.id"
        )))
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        let list = rows.iter().map(publicity_of).collect::<Result<Vec<_>>>()?;
        self.with_entries(list).await
    }

    /// One 公示 by its public id.
    pub async fn publicity(&self, public_id: &str) -> Result<Publicity> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PUBLICITY_COLUMNS} FROM publicities p LEFT JOIN users u ON u.id = p.published_by \
             WHERE p.public_id = $1"
        )))
        .bind(public_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let list = vec![publicity_of(&row)?];
        Ok(self.with_entries(list).await?.remove(0))
    }

    /// One 公示 by its row id, `None` when there is none.
    pub async fn publicity_by_id(&self, id: i64) -> Result<Option<Publicity>> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PUBLICITY_COLUMNS} FROM publicities p LEFT JOIN users u ON u.id = p.published_by \
             WHERE p.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let list = vec![publicity_of(&row)?];
        Ok(self.with_entries(list).await?.pop())
    }

    /// The latest 公示 by a recommending unit that lists `application_id`, with the
    /// objections about that candidate filed on it.
    pub async fn unit_publicity_of(
        &self,
        application_id: i64,
    ) -> Result<Option<(Publicity, Vec<Objection>)>> {
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PUBLICITY_COLUMNS} FROM publicities p LEFT JOIN users u ON u.id = p.published_by \
             WHERE p.kind = 'unit' AND p.id IN \
             (SELECT publicity_id FROM publicity_entries WHERE application_id = $1) \
             ORDER BY p.id DESC LIMIT 1"
        )))
        .bind(application_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let p = publicity_of(&row)?;
        let objections = self
            .objections_where(
                "p.public_id = $1 AND o.application_id = $2",
                &p.public_id,
                Some(application_id),
            )
            .await?;
        Ok(Some((p, objections)))
    }

    /// Files an objection with its files (already in storage) and its audit entry.
    /// A number already taken is `Duplicate("objection")`: the caller draws another.
    pub async fn file_objection(&self, o: &NewObjection<'_>, audit: &Audit) -> Result<i64> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO objections (number, publicity_id, application_id, channel, name_sealed, phone_sealed, \
             phone_lookup, body, received_at, entered_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(o.number)
        .bind(o.publicity_id)
        .bind(o.application_id)
        .bind(o.channel)
        .bind(self.sealer.seal(o.name))
        .bind(self.sealer.seal(o.phone))
        .bind(self.sealer.lookup(o.phone))
        .bind(o.body)
        .bind(o.received_at)
        .bind(o.entered_by)
        .bind(t)
        .fetch_one(&mut *tx)
        .await
        .map_err(unique_as("objection"))?
        .try_get(0)?;
        for (seq, (name, format, size, key)) in o.files.iter().enumerate() {
            sqlx::query(
                "INSERT INTO objection_files (objection_id, seq, original_name, format, size, storage_key) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(seq as i64 + 1)
            .bind(name)
            .bind(format)
            .bind(*size)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Objections matching `clause`, `$1` bound to `value` and, when given, `$2` to `id`.
    async fn objections_where(
        &self,
        clause: &str,
        value: &str,
        id: Option<i64>,
    ) -> Result<Vec<Objection>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT o.id, o.number, o.publicity_id, o.application_id, o.channel, o.name_sealed, o.phone_sealed, \
             o.body, o.received_at, u.display_name, o.created_at \
             FROM objections o JOIN publicities p ON p.id = o.publicity_id \
             LEFT JOIN users u ON u.id = o.entered_by WHERE {clause} ORDER BY o.id"
        )))
        .bind(value);
        let rows = match id {
            Some(id) => rows.bind(id),
            None => rows,
        }
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let open = |i: usize| -> Result<String> {
                let sealed: String = r.try_get(i)?;
                Ok(self.sealer.open(&sealed).unwrap_or_default())
            };
            let id: i64 = r.try_get(0)?;
            let steps = sqlx::query(
                "SELECT s.seq, s.outcome, s.opinion, u.display_name, s.decided_at FROM objection_steps s \
                 LEFT JOIN users u ON u.id = s.decided_by WHERE s.objection_id = $1 ORDER BY s.seq",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|s| {
                Ok(Step {
                    seq: s.try_get(0)?,
                    outcome: s.try_get(1)?,
                    opinion: s.try_get(2)?,
                    by: s.try_get(3)?,
                    at: s.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let files = sqlx::query(
                "SELECT seq, original_name, format, size, storage_key FROM objection_files \
                 WHERE objection_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|f| {
                Ok(ObjectionFile {
                    seq: f.try_get(0)?,
                    original_name: f.try_get(1)?,
                    format: f.try_get(2)?,
                    size: f.try_get(3)?,
                    storage_key: f.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            out.push(Objection {
                id,
                number: r.try_get(1)?,
                publicity_id: r.try_get(2)?,
                application_id: r.try_get(3)?,
                channel: r.try_get(4)?,
                name: open(5)?,
                phone: open(6)?,
                body: r.try_get(7)?,
                received_at: r.try_get(8)?,
                entered_by: r.try_get(9)?,
                created_at: r.try_get(10)?,
                steps,
                files,
            });
        }
        Ok(out)
    }

    /// Every objection to a campaign's 公示, oldest first.
    pub async fn objections(&self, campaign_id: &str) -> Result<Vec<Objection>> {
        self.objections_where("p.campaign_id = $1", campaign_id, None)
            .await
    }

    /// One objection by the number its objector follows it by.
    pub async fn objection_by_number(&self, number: &str) -> Result<Objection> {
        self.objections_where("o.number = $1", number, None)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// One objection of a campaign's 公示 by its id; another campaign's is `NotFound`.
    pub async fn objection_in(&self, campaign_id: &str, id: i64) -> Result<Objection> {
        self.objections_where("p.campaign_id = $1 AND o.id = $2", campaign_id, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Writes an objection's step number `seq` (a step decided on the same view as
    /// another is `Stale`) with its audit entry; an upheld one also takes the candidate
    /// off the stage's list and undoes the list's confirmation, all under the stage's
    /// guard, with the notices to those told of a published outcome.
    #[allow(clippy::too_many_arguments)]
    pub async fn objection_step(
        &self,
        objection_id: i64,
        seq: i64,
        outcome: &str,
        opinion: &str,
        by: Option<i64>,
        removing: Option<(&Removing<'_>, i64)>,
        notices: &[crate::notices::Outgoing],
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = match removing {
            Some((r, _)) => {
                crate::stages::locked_at(self, r.campaign_id, r.stage_key, r.stage_events).await?
            }
            None => self.pool.begin().await?,
        };
        sqlx::query(
            "INSERT INTO objection_steps (objection_id, seq, outcome, opinion, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(objection_id)
        .bind(seq)
        .bind(outcome)
        .bind(opinion)
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await
        .map_err(|e| match unique_as("objection step")(e) {
            StoreError::Duplicate(_) => StoreError::Stale,
            other => other,
        })?;
        if let Some((r, application_id)) = removing {
            sqlx::query(
                "INSERT INTO removals (campaign_id, stage_key, application_id, reason, objection_id, removed_by, removed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.campaign_id)
            .bind(r.stage_key)
            .bind(application_id)
            .bind(r.reason)
            .bind(objection_id)
            .bind(by)
            .bind(t)
            .execute(&mut *tx)
            .await
            .map_err(|e| match unique_as("removal")(e) {
                StoreError::Duplicate(_) => StoreError::Stale,
                other => other,
            })?;
            if let Some(event) = &r.revert {
                crate::stages::insert_event(
                    &mut tx,
                    r.campaign_id,
                    r.stage_key,
                    r.campaign_events + 1,
                    event,
                    by,
                    t,
                )
                .await?;
            }
        }
        Self::write_notices(&mut tx, notices, t).await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The candidates taken off a campaign's lists, oldest first.
    pub async fn removals(&self, campaign_id: &str) -> Result<Vec<Removal>> {
        let rows = sqlx::query(
            "SELECT stage_key, application_id, reason, objection_id, removed_at FROM removals \
             WHERE campaign_id = $1 ORDER BY removed_at, application_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Removal {
                    stage_key: r.try_get(0)?,
                    application_id: r.try_get(1)?,
                    reason: r.try_get(2)?,
                    objection_id: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }
}
