//! The selection rounds: each stage's events (opened, closed, advanced, reverted) and the
//! 形式审查 conclusions. Written with their audit entries in one transaction; never
//! edited — a later event or conclusion supersedes, the earlier stays.

use pingxuan_rules::selection::stage::Event;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now, unique_as};

/// A stored stage event, with who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEvent {
    pub stage_key: String,
    pub seq: i64,
    pub event: Event,
    pub actor: Option<String>,
    pub at: i64,
}

/// One 形式审查 conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screening {
    pub application_id: i64,
    pub passed: bool,
    pub reason: String,
    pub by: Option<String>,
    pub at: i64,
}

fn event_of(kind: &str, ids: &str, reason: String) -> Result<Event> {
    let list = || -> Result<Vec<i64>> {
        serde_json::from_str(ids).map_err(|e| StoreError::Other(format!("stage event list: {e}")))
    };
    Ok(match kind {
        "opened" => Event::Opened {
            candidates: list()?,
        },
        "closed" => Event::Closed,
        "advanced" => Event::Advanced {
            advanced: list()?,
            note: reason,
        },
        "reverted" => Event::Reverted { reason },
        "published" => Event::Published,
        other => return Err(StoreError::Other(format!("stage event kind {other}"))),
    })
}

/// Opens a transaction holding the campaign's selection lock: every write that depends
/// on where a stage stands (its events, conclusions, assignments, sheets, tie-breaks)
/// takes it first, so the count of events it then reads cannot change before it commits.
/// A no-op update of the campaign's row is a row lock on PostgreSQL (under READ
/// COMMITTED a read-then-write guard alone lets a close slip between) and the database's
/// write lock on SQLite, the same statement on both. After the campaign's release it
/// refuses (`Released`): nothing in the selection moves once the results are out.
pub(crate) async fn locked(
    store: &Store,
    campaign_id: &str,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = store.pool.begin().await?;
    let found = sqlx::query("UPDATE campaigns SET revision = revision WHERE id = $1")
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
    if found.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    // Once released, the stages and their lists stand as released.
    let released: i64 = sqlx::query("SELECT COUNT(*) FROM releases WHERE campaign_id = $1")
        .bind(campaign_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if released > 0 {
        return Err(StoreError::Released);
    }
    Ok(tx)
}

/// [`locked`], then refuses (`Stale`) unless the stage still has the `after` events the
/// decision saw: the one guard of every write that depends on where a stage stands.
pub(crate) async fn locked_at(
    store: &Store,
    campaign_id: &str,
    stage_key: &str,
    after: i64,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = locked(store, campaign_id).await?;
    let events: i64 =
        sqlx::query("SELECT COUNT(*) FROM stage_events WHERE campaign_id = $1 AND stage_key = $2")
            .bind(campaign_id)
            .bind(stage_key)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
    if events != after {
        return Err(StoreError::Stale);
    }
    Ok(tx)
}

/// Writes a stage's event number `seq` inside a transaction holding the campaign's
/// selection lock; a second event with the same number is `Stale`.
pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    campaign_id: &str,
    stage_key: &str,
    seq: i64,
    event: &Event,
    actor: Option<i64>,
    t: i64,
) -> Result<()> {
    let (ids, reason) = match event {
        Event::Opened { candidates } => (candidates.as_slice(), ""),
        Event::Advanced { advanced, note } => (advanced.as_slice(), note.as_str()),
        Event::Closed | Event::Published => (&[][..], ""),
        Event::Reverted { reason } => (&[][..], reason.as_str()),
    };
    let ids = serde_json::to_string(ids).expect("ids as JSON");
    sqlx::query(
        "INSERT INTO stage_events (campaign_id, stage_key, seq, kind, candidates, reason, actor_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(campaign_id)
    .bind(stage_key)
    .bind(seq)
    .bind(event.key())
    .bind(ids)
    .bind(reason)
    .bind(actor)
    .bind(t)
    .execute(&mut **tx)
    .await
    .map_err(|e| match unique_as("stage")(e) {
        StoreError::Duplicate(_) => StoreError::Stale,
        other => other,
    })?;
    Ok(())
}

impl Store {
    /// Every stage event of a campaign, by stage and in order.
    pub async fn stage_events(&self, campaign_id: &str) -> Result<Vec<StageEvent>> {
        let rows = sqlx::query(
            "SELECT e.stage_key, e.seq, e.kind, e.candidates, e.reason, u.display_name, e.at \
             FROM stage_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.campaign_id = $1 ORDER BY e.stage_key, e.seq",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(2)?;
                let ids: String = r.try_get(3)?;
                Ok(StageEvent {
                    stage_key: r.try_get(0)?,
                    seq: r.try_get(1)?,
                    event: event_of(&kind, &ids, r.try_get(4)?)?,
                    actor: r.try_get(5)?,
                    at: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Appends a stage's event after `after` events of the whole campaign (the count the
    /// decision saw), with its audit entry and the notices it causes; `Stale` when any
    /// stage of the campaign moved meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn append_stage_event(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        event: &Event,
        actor: Option<i64>,
        audit: &Audit,
        notices: &[crate::notices::Outgoing],
    ) -> Result<()> {
        let t = now();
        let mut tx = locked(self, campaign_id).await?;
        // A list confirmed on a view read before an upheld objection took someone off it
        // does not stand: the removal is checked under the same lock.
        if let Event::Advanced { advanced, .. } = event {
            for id in advanced {
                let removed: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM removals WHERE campaign_id = $1 AND stage_key = $2 AND application_id = $3",
                )
                .bind(campaign_id)
                .bind(stage_key)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                if removed > 0 {
                    return Err(StoreError::Stale);
                }
            }
        }
        insert_event(&mut tx, campaign_id, stage_key, after + 1, event, actor, t).await?;
        self.append_audit(&mut tx, audit, t).await?;
        Self::write_notices(&mut tx, notices, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest 形式审查 conclusion of each candidate of a stage.
    pub async fn screenings(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<Screening>> {
        let rows = sqlx::query(
            "SELECT s.application_id, s.passed, s.reason, u.display_name, s.decided_at \
             FROM screening_decisions s LEFT JOIN users u ON u.id = s.decided_by \
             WHERE s.campaign_id = $1 AND s.stage_key = $2 ORDER BY s.application_id, s.id",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Screening> = Vec::new();
        for r in &rows {
            let s = Screening {
                application_id: r.try_get(0)?,
                passed: r.try_get::<i64, _>(1)? != 0,
                reason: r.try_get(2)?,
                by: r.try_get(3)?,
                at: r.try_get(4)?,
            };
            // Ordered by candidate, then by row: the last row of a candidate counts.
            match out.last_mut() {
                Some(last) if last.application_id == s.application_id => *last = s,
                _ => out.push(s),
            }
        }
        Ok(out)
    }

    /// Records a 形式审查 conclusion with its audit entry, only while the stage is still
    /// as the decision saw it (`after` events): a stage closed meanwhile refuses (`Stale`).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_screening(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        application_id: i64,
        passed: bool,
        reason: &str,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, stage_key, after).await?;
        sqlx::query(
            "INSERT INTO screening_decisions (campaign_id, stage_key, application_id, passed, reason, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(application_id)
        .bind(i64::from(passed))
        .bind(reason)
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A seed as it is kept and shown: 16 hexadecimal digits. In decimal a seed can look
/// like a 身份证号 and be scrubbed from the audit trail.
pub fn seed_text(seed: u64) -> String {
    format!("{seed:016x}")
}

/// Inserts one live assignment inside a stage write. A live pair already there (two
/// writers at once) is `Stale`: the one that came second is refused whole.
pub(crate) struct NewPair<'a> {
    pub campaign_id: &'a str,
    pub stage_key: &'a str,
    pub expert_id: i64,
    pub application_id: i64,
    /// The seed of an automatic choice, or none for the organiser's own pair.
    pub seed: Option<u64>,
    pub by: Option<i64>,
    pub at: i64,
}

pub(crate) async fn insert_pair(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    p: &NewPair<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO assignments (campaign_id, stage_key, expert_id, application_id, seed, assigned_by, assigned_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.campaign_id)
    .bind(p.stage_key)
    .bind(p.expert_id)
    .bind(p.application_id)
    .bind(p.seed.map(seed_text).unwrap_or_default())
    .bind(p.by)
    .bind(p.at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match unique_as("assignment")(e) {
        StoreError::Duplicate(_) => StoreError::Stale,
        other => other,
    })?;
    Ok(())
}

/// A live assignment of an expert to a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub expert_id: i64,
    pub expert_name: String,
    pub application_id: i64,
    /// The seed of the automatic run that made it; empty for the organiser's own.
    pub seed: String,
    pub at: i64,
}

impl Store {
    /// The live assignments of a stage, by candidate then expert.
    pub async fn assignments(&self, campaign_id: &str, stage_key: &str) -> Result<Vec<Assignment>> {
        self.assignments_where(campaign_id, stage_key, None).await
    }

    /// One expert's live assignments in a stage, by candidate.
    pub async fn assignments_of(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert_id: i64,
    ) -> Result<Vec<Assignment>> {
        self.assignments_where(campaign_id, stage_key, Some(expert_id))
            .await
    }

    async fn assignments_where(
        &self,
        campaign_id: &str,
        stage_key: &str,
        expert: Option<i64>,
    ) -> Result<Vec<Assignment>> {
        // 0: every expert's (as `level_recipients` reads every unit).
        let rows = sqlx::query(
            "SELECT a.expert_id, u.display_name, a.application_id, a.seed, a.assigned_at \
             FROM assignments a JOIN users u ON u.id = a.expert_id \
             WHERE a.campaign_id = $1 AND a.stage_key = $2 AND a.ended_at IS NULL \
             AND ($3 = 0 OR a.expert_id = $3) ORDER BY a.application_id, a.expert_id",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(expert.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Assignment {
                    expert_id: r.try_get(0)?,
                    expert_name: r.try_get(1)?,
                    application_id: r.try_get(2)?,
                    seed: r.try_get(3)?,
                    at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Writes a stage's automatic assignment (expert, application pairs) with its seed
    /// and audit entry, only while the stage has the events the decision saw and no live
    /// assignment yet; `Stale` otherwise, with nothing written.
    #[allow(clippy::too_many_arguments)]
    pub async fn assign_experts(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        pairs: &[(i64, i64)],
        seed: u64,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, stage_key, after).await?;
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) FROM assignments WHERE campaign_id = $1 AND stage_key = $2 AND ended_at IS NULL",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if live != 0 {
            return Err(StoreError::Stale);
        }
        // Two runs at once: the second meets the first's rows.
        for &(expert_id, application_id) in pairs {
            let pair = NewPair {
                campaign_id,
                stage_key,
                expert_id,
                application_id,
                seed: Some(seed),
                by,
                at: t,
            };
            insert_pair(&mut tx, &pair).await?;
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An organiser's change to a review stage's assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentChange {
    /// A new live pair, marked as the organiser's (no seed).
    Add { expert_id: i64, application_id: i64 },
    /// The live pair ended, with why.
    End {
        expert_id: i64,
        application_id: i64,
        reason: String,
    },
}

impl Store {
    /// Writes the organiser's change with its audit entry, only while the stage has the
    /// events the decision saw: `Stale` when it moved, a pair added twice at once, or a
    /// pair to end that another change ended first.
    pub async fn change_assignment(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        change: &AssignmentChange,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, stage_key, after).await?;
        match change {
            AssignmentChange::Add {
                expert_id,
                application_id,
            } => {
                let pair = NewPair {
                    campaign_id,
                    stage_key,
                    expert_id: *expert_id,
                    application_id: *application_id,
                    seed: None,
                    by,
                    at: t,
                };
                insert_pair(&mut tx, &pair).await?;
            }
            AssignmentChange::End {
                expert_id,
                application_id,
                reason,
            } => {
                let ended = sqlx::query(
                    "UPDATE assignments SET ended_at = $1, ended_reason = $2 \
                     WHERE campaign_id = $3 AND stage_key = $4 AND expert_id = $5 \
                     AND application_id = $6 AND ended_at IS NULL",
                )
                .bind(t)
                .bind(reason)
                .bind(campaign_id)
                .bind(stage_key)
                .bind(expert_id)
                .bind(application_id)
                .execute(&mut *tx)
                .await?;
                if ended.rows_affected() != 1 {
                    return Err(StoreError::Stale);
                }
            }
        }
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The organiser's order for a tie across the cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieBreak {
    pub order: Vec<i64>,
    pub reason: String,
    pub by: Option<String>,
    pub at: i64,
}

impl Store {
    /// The latest tie-break made while the stage had `after` events (this closing).
    pub async fn tie_break(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
    ) -> Result<Option<TieBreak>> {
        let row = sqlx::query(
            "SELECT t.order_ids, t.reason, u.display_name, t.decided_at FROM tie_breaks t \
             LEFT JOIN users u ON u.id = t.decided_by \
             WHERE t.campaign_id = $1 AND t.stage_key = $2 AND t.after = $3 ORDER BY t.id DESC LIMIT 1",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(after)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let ids: String = r.try_get(0)?;
            Ok(TieBreak {
                order: serde_json::from_str(&ids)
                    .map_err(|e| StoreError::Other(format!("tie break: {e}")))?,
                reason: r.try_get(1)?,
                by: r.try_get(2)?,
                at: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// Records the organiser's order for a tie with its audit entry, only while the
    /// stage has the events the decision saw.
    #[allow(clippy::too_many_arguments)]
    pub async fn break_tie(
        &self,
        campaign_id: &str,
        stage_key: &str,
        after: i64,
        order: &[i64],
        reason: &str,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, stage_key, after).await?;
        sqlx::query(
            "INSERT INTO tie_breaks (campaign_id, stage_key, after, order_ids, reason, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(campaign_id)
        .bind(stage_key)
        .bind(after)
        .bind(serde_json::to_string(order).expect("ids as JSON"))
        .bind(reason)
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The organiser's marking of one candidate's indicator (院士, 基层一线 …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub application_id: i64,
    /// The indicator's key: academician, young, female, grassroots.
    pub indicator: String,
    /// `None`: back to what the 推荐表 says.
    pub value: Option<bool>,
    pub reason: String,
    pub by: Option<String>,
    pub at: i64,
}

impl Store {
    /// The marking in force for each candidate and indicator of a campaign (the latest).
    pub async fn marks(&self, campaign_id: &str) -> Result<Vec<Mark>> {
        let rows = sqlx::query(
            "SELECT m.application_id, m.indicator, m.value, m.reason, u.display_name, m.marked_at \
             FROM indicator_marks m LEFT JOIN users u ON u.id = m.marked_by \
             WHERE m.campaign_id = $1 ORDER BY m.application_id, m.indicator, m.id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Mark> = Vec::new();
        for r in &rows {
            let m = Mark {
                application_id: r.try_get(0)?,
                indicator: r.try_get(1)?,
                value: r.try_get::<Option<i64>, _>(2)?.map(|v| v != 0),
                reason: r.try_get(3)?,
                by: r.try_get(4)?,
                at: r.try_get(5)?,
            };
            // Ordered by candidate and indicator, then by row: the last row counts.
            match out.last_mut() {
                Some(last)
                    if last.application_id == m.application_id && last.indicator == m.indicator =>
                {
                    *last = m
                }
                _ => out.push(m),
            }
        }
        Ok(out)
    }

    /// Records a marking with its audit entry, only while the campaign's last stage has
    /// the events the decision saw (a list confirmed meanwhile refuses: `Stale`).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_mark(
        &self,
        campaign_id: &str,
        last_stage: &str,
        after: i64,
        application_id: i64,
        indicator: &str,
        value: Option<bool>,
        reason: &str,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, last_stage, after).await?;
        sqlx::query(
            "INSERT INTO indicator_marks (campaign_id, application_id, indicator, value, reason, marked_by, marked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(campaign_id)
        .bind(application_id)
        .bind(indicator)
        .bind(value.map(i64::from))
        .bind(reason)
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A further list as confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedExtra {
    pub list_key: String,
    /// The last stage's events up to the final list's confirmation it was drawn from:
    /// it holds while that confirmation does.
    pub stage_events: i64,
    pub candidates: Vec<i64>,
    pub how: String,
    pub by: Option<String>,
    pub at: i64,
}

impl Store {
    /// Records a further list drawn from the final list as it stands (`stage_events` of
    /// `stage_key`, the guard), kept with `anchor` — the events up to the list's last
    /// confirmation, which it holds on —, with its audit entry; confirmed already on that
    /// confirmation is `Duplicate`.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_extra_list(
        &self,
        campaign_id: &str,
        stage_key: &str,
        stage_events: i64,
        anchor: i64,
        list_key: &str,
        candidates: &[i64],
        how: &str,
        by: Option<i64>,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = locked_at(self, campaign_id, stage_key, stage_events).await?;
        sqlx::query(
            "INSERT INTO extra_lists (campaign_id, list_key, stage_key, stage_events, candidates, how, confirmed_by, confirmed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(campaign_id)
        .bind(list_key)
        .bind(stage_key)
        .bind(anchor)
        .bind(serde_json::to_string(candidates).expect("ids as JSON"))
        .bind(how)
        .bind(by)
        .bind(t)
        .execute(&mut *tx)
        .await
        .map_err(crate::unique_as("附加名单"))?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A campaign's confirmed further lists, oldest first.
    pub async fn extra_lists(&self, campaign_id: &str) -> Result<Vec<ConfirmedExtra>> {
        let rows = sqlx::query(
            "SELECT x.list_key, x.stage_events, x.candidates, x.how, u.display_name, x.confirmed_at \
             FROM extra_lists x LEFT JOIN users u ON u.id = x.confirmed_by \
             WHERE x.campaign_id = $1 ORDER BY x.id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let ids: String = r.try_get(2)?;
                Ok(ConfirmedExtra {
                    list_key: r.try_get(0)?,
                    stage_events: r.try_get(1)?,
                    candidates: serde_json::from_str(&ids)
                        .map_err(|e| StoreError::Other(format!("extra list ids: {e}")))?,
                    how: r.try_get(3)?,
                    by: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect()
    }
}
