//! Applications and their events. The form is saved with a version (a stale save is
//! refused, never silently overwritten); the flow is a list of events whose sequence
//! numbers the database keeps unique, so two people acting on the same state at once
//! resolve to one outcome. 身份证号 and mobile are sealed outside the form's JSON.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::FieldKey;
use pingxuan_rules::form::{FieldValue, FormValues};
use pingxuan_rules::workflow::Event;
use sqlx::Row;

use crate::{Result, Store, StoreError, now};

/// The form fields kept in their own sealed columns instead of the JSON.
const SEALED: [FieldKey; 2] = [FieldKey::IdNumber, FieldKey::Mobile];

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: i64,
    pub campaign_id: String,
    pub number: String,
    pub applicant_id: i64,
    pub recommender_unit_id: Option<i64>,
    pub work_unit_id: Option<i64>,
    /// The work unit's level is merged into the recommender's (广西, same unit).
    pub merged: bool,
    pub recommender_level: i64,
    pub form: FormValues,
    pub form_version: i64,
    /// How many events the flow has.
    pub flow_version: i64,
    pub holder_level: i64,
    pub state_text: String,
    pub committed_at: Option<i64>,
    pub moved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which units an application goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub recommender_unit_id: Option<i64>,
    pub work_unit_id: Option<i64>,
    /// The work unit's level is merged into the recommender's (广西, same unit).
    pub merged: bool,
    /// The recommender's index in the application's chain.
    pub recommender_level: i64,
}

impl Binding {
    /// Not bound to any unit yet; the recommender is the first level after the applicant.
    pub fn none() -> Binding {
        Binding {
            recommender_unit_id: None,
            work_unit_id: None,
            merged: false,
            recommender_level: 1,
        }
    }
}

/// What a new application starts with.
#[derive(Debug, Clone)]
pub struct NewApplication<'a> {
    pub campaign_id: &'a str,
    pub applicant_id: i64,
    pub number_prefix: &'a str,
    pub year: i32,
    pub state_text: &'a str,
    pub binding: Binding,
    /// The 推荐码 it starts from, used up with it.
    pub code_id: Option<i64>,
}

impl<'a> NewApplication<'a> {
    /// An application bound to no unit and started without a code.
    pub fn bare(
        campaign_id: &'a str,
        applicant_id: i64,
        number_prefix: &'a str,
        year: i32,
        state_text: &'a str,
    ) -> Self {
        NewApplication {
            campaign_id,
            applicant_id,
            number_prefix,
            year,
            state_text,
            binding: Binding::none(),
            code_id: None,
        }
    }
}

/// A line of an application list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub id: i64,
    pub campaign_id: String,
    pub number: String,
    pub name: String,
    pub employer: String,
    pub state_text: String,
    pub moved_at: Option<i64>,
    pub recommender: Option<String>,
    /// 身份证号码 and mobile as lists show them: 1101**********1234, 138****0000.
    pub id_number_masked: String,
    pub mobile_masked: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event: Event,
    pub actor_id: Option<i64>,
    pub comment: String,
    /// The actual employer signing beside the work unit (东莞), and its opinion.
    pub co_signer: String,
    pub co_opinion: String,
    pub at: i64,
}

/// What is written with an event: the 修改意见 or the level's opinion, and where the
/// actual employer co-signs (东莞 填表说明10), its name and opinion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub comment: String,
    pub co_signer: String,
    pub co_opinion: String,
}

impl From<&str> for Note {
    fn from(comment: &str) -> Note {
        Note {
            comment: comment.to_owned(),
            ..Note::default()
        }
    }
}

/// How many applications a recommending unit has forwarded (they are above it now).
const FORWARDED_BY_RECOMMENDER: &str = "SELECT COUNT(*) FROM applications WHERE recommender_unit_id = $1 \
     AND holder_role NOT IN ('applicant', 'work_unit', 'recommender')";

/// Where an application is after an event, written with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlowUpdate {
    pub holder_level: i64,
    pub holder_role: String,
    pub state_text: String,
    /// A recommender's 提交 counted against its quota inside the same transaction.
    pub quota: Option<QuotaGuard>,
}

/// The recommending unit whose forwarded applications may not exceed `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaGuard {
    pub unit_id: i64,
    pub max: i64,
}

fn text_of(form: &FormValues, key: FieldKey) -> String {
    form.get(&key)
        .and_then(FieldValue::text)
        .unwrap_or("")
        .to_owned()
}

impl Store {
    /// Starts an application with the next number of its campaign (never reused). When
    /// it starts from a 推荐码, the code is used up in the same transaction: two people
    /// entering one code get one application between them (the other gets `CodeUsed`).
    pub async fn create_application(&self, new: &NewApplication<'_>) -> Result<(i64, String)> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let n: i64 = sqlx::query(
            "INSERT INTO campaign_counters (campaign_id, last_number) VALUES ($1, 1) \
             ON CONFLICT (campaign_id) DO UPDATE SET last_number = campaign_counters.last_number + 1 \
             RETURNING last_number",
        )
        .bind(new.campaign_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let number =
            pingxuan_rules::workflow::application_number(new.number_prefix, new.year, n as u64);
        let id: i64 = sqlx::query(
            "INSERT INTO applications (campaign_id, number, applicant_id, state_text, recommender_unit_id, \
             work_unit_id, merged, recommender_level, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(new.campaign_id)
        .bind(&number)
        .bind(new.applicant_id)
        .bind(new.state_text)
        .bind(new.binding.recommender_unit_id)
        .bind(new.binding.work_unit_id)
        .bind(i64::from(new.binding.merged))
        .bind(new.binding.recommender_level)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        sqlx::query("INSERT INTO application_forms (application_id) VALUES ($1)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(code_id) = new.code_id {
            let used = sqlx::query(
                "UPDATE recommendation_codes SET application_id = $2, used_at = $3 \
                 WHERE id = $1 AND application_id IS NULL AND revoked_at IS NULL",
            )
            .bind(code_id)
            .bind(id)
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if used != 1 {
                tx.rollback().await?;
                return Err(StoreError::CodeUsed);
            }
        }
        tx.commit().await?;
        Ok((id, number))
    }

    /// Changes the recommender (open application, 新疆) while the applicant holds it.
    pub async fn set_application_units(&self, id: i64, binding: &Binding) -> Result<()> {
        let n = sqlx::query(
            "UPDATE applications SET recommender_unit_id = $2, work_unit_id = $3, merged = $4, \
             recommender_level = $5, updated_at = $6 WHERE id = $1 AND holder_level = 0",
        )
        .bind(id)
        .bind(binding.recommender_unit_id)
        .bind(binding.work_unit_id)
        .bind(i64::from(binding.merged))
        .bind(binding.recommender_level)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::NotEditable)
        }
    }

    /// Records 我承诺 (the applicant read the rules and committed), once.
    pub async fn commit_application(&self, id: i64) -> Result<i64> {
        let t = now();
        sqlx::query(
            "UPDATE applications SET committed_at = $2 WHERE id = $1 AND committed_at IS NULL",
        )
        .bind(id)
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok(t)
    }

    /// An applicant's applications, newest first: (id, campaign, number, name, state, moved_at).
    pub async fn applications_of(&self, applicant_id: i64) -> Result<Vec<ApplicationRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, u.name AS unit, \
             a.id_number_enc, a.mobile_enc \
             FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE a.applicant_id = $1 ORDER BY a.id DESC",
        )
        .bind(applicant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.row_of(r)).collect()
    }

    /// Applications that have reached a unit acting as `role` (所在单位 or 推荐单位):
    /// those it holds now (`holding = true`, 待审核的) or those it has passed on or
    /// returned (已办理的).
    pub async fn applications_for_unit(
        &self,
        role: Role,
        unit_id: i64,
        holding: bool,
    ) -> Result<Vec<ApplicationRow>> {
        let reached = match role {
            Role::WorkUnit => "a.work_unit_id = $1 AND a.merged = 0 AND a.reached_level >= 1",
            _ => "a.recommender_unit_id = $1 AND a.reached_level >= a.recommender_level",
        };
        let sql = format!(
            "SELECT a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, u.name AS unit, \
             a.id_number_enc, a.mobile_enc \
             FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE {reached} AND ((a.holder_role = $2) = ($3 = 1)) ORDER BY a.moved_at DESC, a.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(unit_id)
            .bind(role.as_str())
            .bind(i64::from(holding))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.row_of(r)).collect()
    }

    /// A campaign's applications at the organiser's desk now (`holding`), or those the
    /// person `actor_id` acted on that have since moved on (已办理的).
    pub async fn applications_for_organizer(
        &self,
        campaign_id: &str,
        holding: bool,
        actor_id: i64,
    ) -> Result<Vec<ApplicationRow>> {
        let sql = if holding {
            "SELECT a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, u.name AS unit, \
             a.id_number_enc, a.mobile_enc \
             FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE a.campaign_id = $1 AND a.holder_role = 'organizer' AND $2 = $2 \
             ORDER BY a.moved_at DESC, a.id DESC"
        } else {
            "SELECT a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, u.name AS unit, \
             a.id_number_enc, a.mobile_enc \
             FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE a.campaign_id = $1 AND a.holder_role <> 'organizer' AND EXISTS \
             (SELECT 1 FROM application_events e WHERE e.application_id = a.id AND e.actor_id = $2) \
             ORDER BY a.moved_at DESC, a.id DESC"
        };
        let rows = sqlx::query(sql)
            .bind(campaign_id)
            .bind(actor_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.row_of(r)).collect()
    }

    /// How many of a recommending unit's applications it has sent on and not had back.
    pub async fn forwarded_by_recommender(&self, unit_id: i64) -> Result<i64> {
        let n: i64 = sqlx::query(FORWARDED_BY_RECOMMENDER)
            .bind(unit_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(n)
    }

    /// Whether any application (a draft included) exists in the campaign.
    pub async fn campaign_has_applications(&self, campaign_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 FROM applications WHERE campaign_id = $1 LIMIT 1")
            .bind(campaign_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn get_application(&self, id: i64) -> Result<Option<Application>> {
        let row = sqlx::query(
            "SELECT a.*, f.form_json FROM applications a \
             JOIN application_forms f ON f.application_id = a.id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let json: String = r.try_get("form_json")?;
        let mut form: FormValues = serde_json::from_str(&json)
            .map_err(|e| StoreError::Other(format!("application {id} form: {e}")))?;
        for (key, col) in [
            (FieldKey::IdNumber, "id_number_enc"),
            (FieldKey::Mobile, "mobile_enc"),
        ] {
            let sealed: Option<String> = r.try_get(col)?;
            if let Some(v) = sealed.and_then(|s| self.sealer.open(&s)) {
                form.insert(key, FieldValue::Text(v));
            }
        }
        Ok(Some(Application {
            id,
            campaign_id: r.try_get("campaign_id")?,
            number: r.try_get("number")?,
            applicant_id: r.try_get("applicant_id")?,
            recommender_unit_id: r.try_get("recommender_unit_id")?,
            work_unit_id: r.try_get("work_unit_id")?,
            merged: r.try_get::<i64, _>("merged")? != 0,
            recommender_level: r.try_get("recommender_level")?,
            form,
            form_version: r.try_get("form_version")?,
            flow_version: r.try_get("flow_version")?,
            holder_level: r.try_get("holder_level")?,
            state_text: r.try_get("state_text")?,
            committed_at: r.try_get("committed_at")?,
            moved_at: r.try_get("moved_at")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        }))
    }

    /// Saves the form if nobody saved since `expected_version` and the applicant holds
    /// the application. Returns the new version; `Stale` when another tab or device
    /// saved first, `NotEditable` when the application has moved on.
    pub async fn save_application_form(
        &self,
        id: i64,
        expected_version: i64,
        form: &FormValues,
    ) -> Result<i64> {
        let mut rest = form.clone();
        let mut sealed = [None, None];
        for (i, key) in SEALED.iter().enumerate() {
            if let Some(v) = rest.remove(key) {
                sealed[i] = v.text().filter(|t| !t.is_empty()).map(str::to_owned);
            }
        }
        let id_hmac = sealed[0]
            .as_deref()
            .map(|v| self.sealer.lookup(&v.to_ascii_uppercase()));
        let json = serde_json::to_string(&rest).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE applications SET form_version = form_version + 1, \
             name = $3, employer = $4, field = $5, id_number_enc = $6, id_number_hmac = $7, \
             mobile_enc = $8, updated_at = $9 \
             WHERE id = $1 AND form_version = $2 AND holder_level = 0",
        )
        .bind(id)
        .bind(expected_version)
        .bind(text_of(form, FieldKey::Name))
        .bind(text_of(form, FieldKey::EmployerAndPost))
        .bind(match form.get(&FieldKey::Field) {
            Some(FieldValue::List(v)) => v.join("、"),
            Some(v) => v.text().unwrap_or("").to_owned(),
            None => String::new(),
        })
        .bind(sealed[0].as_deref().map(|v| self.sealer.seal(v)))
        .bind(id_hmac)
        .bind(sealed[1].as_deref().map(|v| self.sealer.seal(v)))
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            sqlx::query("UPDATE application_forms SET form_json = $2 WHERE application_id = $1")
                .bind(id)
                .bind(&json)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(expected_version + 1);
        }
        tx.rollback().await?;
        match self.get_application(id).await? {
            None => Err(StoreError::NotFound),
            Some(a) if a.holder_level != 0 => Err(StoreError::NotEditable),
            Some(_) => Err(StoreError::Stale),
        }
    }

    pub async fn application_events(&self, id: i64) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT seq, kind, by_level, to_level, actor_id, comment, at, co_signer, co_opinion FROM application_events \
             WHERE application_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(1)?;
                let by: i64 = r.try_get(2)?;
                let to: Option<i64> = r.try_get(3)?;
                let event = Event::from_parts(&kind, by as usize, to.map(|t| t as usize))
                    .ok_or_else(|| StoreError::Other(format!("unknown event kind {kind}")))?;
                Ok(StoredEvent {
                    seq: r.try_get(0)?,
                    event,
                    actor_id: r.try_get(4)?,
                    comment: r.try_get(5)?,
                    at: r.try_get(6)?,
                    co_signer: r.try_get(7)?,
                    co_opinion: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// Appends an event computed from the state after `expected_seq` events. When
    /// someone else acted in between, nothing is written and `Stale` comes back: the
    /// caller reloads and decides again from the new state.
    pub async fn append_event(
        &self,
        id: i64,
        expected_seq: i64,
        event: Event,
        actor_id: i64,
        note: impl Into<Note>,
        update: &FlowUpdate,
    ) -> Result<i64> {
        self.append_event_with_notices(id, expected_seq, event, actor_id, note, update, &[])
            .await
    }

    /// [`Store::append_event`], writing the notices the move causes (and queueing their
    /// mail) in the same transaction: the move and its announcement happen together.
    #[allow(clippy::too_many_arguments)]
    pub async fn append_event_with_notices(
        &self,
        id: i64,
        expected_seq: i64,
        event: Event,
        actor_id: i64,
        note: impl Into<Note>,
        update: &FlowUpdate,
        notices: &[crate::notices::Outgoing],
    ) -> Result<i64> {
        let note: Note = note.into();
        let t = now();
        let seq = expected_seq + 1;
        let to = match event {
            Event::Submit { by } => Some(by as i64 + 1),
            Event::Return { to, .. } => Some(to as i64),
            _ => None,
        };
        let mut tx = self.pool.begin().await?;
        if let Some(q) = update.quota {
            // Two forwards of different applications at once: the unit's row is written
            // first so they queue (row lock on PostgreSQL, write lock on SQLite), and the
            // second counts the first.
            sqlx::query("UPDATE units SET category = category WHERE id = $1")
                .bind(q.unit_id)
                .execute(&mut *tx)
                .await?;
            let used: i64 = sqlx::query(FORWARDED_BY_RECOMMENDER)
                .bind(q.unit_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if used >= q.max {
                tx.rollback().await?;
                return Err(StoreError::QuotaFull(
                    pingxuan_rules::workflow::quota_full_message(used, q.max),
                ));
            }
        }
        let moved = sqlx::query(
            "UPDATE applications SET flow_version = $3, holder_level = $4, state_text = $5, \
             moved_at = CASE WHEN $6 = 1 THEN $7 ELSE moved_at END, updated_at = $7, holder_role = $8, \
             reached_level = CASE WHEN $4 > reached_level THEN $4 ELSE reached_level END \
             WHERE id = $1 AND flow_version = $2",
        )
        .bind(id)
        .bind(expected_seq)
        .bind(seq)
        .bind(update.holder_level)
        .bind(&update.state_text)
        .bind(i64::from(!matches!(event, Event::Open { .. })))
        .bind(t)
        .bind(&update.holder_role)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        let inserted = sqlx::query(
            "INSERT INTO application_events (application_id, seq, kind, by_level, to_level, actor_id, comment, at, \
             co_signer, co_opinion) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(seq)
        .bind(event.kind())
        .bind(event.by() as i64)
        .bind(to)
        .bind(actor_id)
        .bind(&note.comment)
        .bind(t)
        .bind(&note.co_signer)
        .bind(&note.co_opinion)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                tx.rollback().await?;
                return Err(StoreError::Stale);
            }
            Err(e) => return Err(e.into()),
        }
        Self::write_notices(&mut tx, notices, t).await?;
        tx.commit().await?;
        Ok(seq)
    }
}

impl Store {
    /// Rows selected as `id, campaign_id, number, name, employer, state_text, moved_at,
    /// unit, id_number_enc, mobile_enc`; the sealed numbers come out masked, as lists show them.
    fn row_of(&self, r: &sqlx::any::AnyRow) -> Result<ApplicationRow> {
        let masked = |i: usize, mask: fn(&str) -> String| -> Result<String> {
            let sealed: Option<String> = r.try_get(i)?;
            Ok(sealed
                .and_then(|s| self.sealer.open(&s))
                .map(|v| mask(&v))
                .unwrap_or_default())
        };
        Ok(ApplicationRow {
            id: r.try_get(0)?,
            campaign_id: r.try_get(1)?,
            number: r.try_get(2)?,
            name: r.try_get(3)?,
            employer: r.try_get(4)?,
            state_text: r.try_get(5)?,
            moved_at: r.try_get(6)?,
            recommender: r.try_get(7)?,
            id_number_masked: masked(8, pingxuan_rules::idcard::mask_id)?,
            mobile_masked: masked(9, pingxuan_rules::idcard::mask_mobile)?,
        })
    }
}

/// Who a 查询申报表 search covers: what reached these work units or recommending
/// units, and what was submitted in these campaigns (the organiser's view).
#[derive(Debug, Clone, Default)]
pub struct SearchScope {
    pub work_units: Vec<i64>,
    pub recommenders: Vec<i64>,
    pub campaigns: Vec<String>,
}

/// The orders of the manual's list: 申请书编号从高到低, 转交时间, 工作单位, 推荐单位.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchSort {
    #[default]
    NumberDesc,
    MovedAt,
    Employer,
    Recommender,
}

#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Part of the name or of the number.
    pub text: Option<String>,
    pub year: Option<i64>,
    /// Part of the work unit (at least 4 characters, as the manual asks).
    pub employer: Option<String>,
    /// The holding level's role (当前步骤).
    pub step: Option<String>,
    /// The recommending unit (推荐单位).
    pub recommender: Option<i64>,
    /// The 推荐领域.
    pub field: Option<String>,
    pub sort: SearchSort,
    /// 1-based page of 20.
    pub page: i64,
}

pub const PAGE_SIZE: i64 = 20;

enum Bind {
    Int(i64),
    Text(String),
}

impl Store {
    /// 查询申报表: one page of matching applications and the total.
    pub async fn search_applications(
        &self,
        scope: &SearchScope,
        f: &SearchFilter,
    ) -> Result<(i64, Vec<ApplicationRow>)> {
        let mut binds: Vec<Bind> = Vec::new();
        let next = |b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            format!("${}", binds.len())
        };
        let mut conds = vec!["a.reached_level > 0".to_owned()];
        let mut within = Vec::new();
        let list = |ids: Vec<Bind>, binds: &mut Vec<Bind>| {
            ids.into_iter()
                .map(|b| next(b, binds))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !scope.work_units.is_empty() {
            let ps = list(
                scope.work_units.iter().map(|i| Bind::Int(*i)).collect(),
                &mut binds,
            );
            within.push(format!("(a.work_unit_id IN ({ps}) AND a.merged = 0)"));
        }
        if !scope.recommenders.is_empty() {
            let ps = list(
                scope.recommenders.iter().map(|i| Bind::Int(*i)).collect(),
                &mut binds,
            );
            within.push(format!(
                "(a.recommender_unit_id IN ({ps}) AND a.reached_level >= a.recommender_level)"
            ));
        }
        if !scope.campaigns.is_empty() {
            let ps = list(
                scope
                    .campaigns
                    .iter()
                    .map(|i| Bind::Text(i.clone()))
                    .collect(),
                &mut binds,
            );
            within.push(format!("a.campaign_id IN ({ps})"));
        }
        if within.is_empty() {
            return Ok((0, Vec::new()));
        }
        conds.push(format!("({})", within.join(" OR ")));
        if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let p = next(Bind::Text(format!("%{t}%")), &mut binds);
            conds.push(format!(
                "(a.name LIKE {p} OR UPPER(a.number) LIKE UPPER({p}))"
            ));
        }
        if let Some(y) = f.year {
            let p = next(Bind::Int(y), &mut binds);
            conds.push(format!(
                "a.campaign_id IN (SELECT id FROM campaigns WHERE year = {p})"
            ));
        }
        if let Some(e) = f
            .employer
            .as_deref()
            .map(str::trim)
            .filter(|e| e.chars().count() >= 4)
        {
            let p = next(Bind::Text(format!("%{e}%")), &mut binds);
            conds.push(format!("a.employer LIKE {p}"));
        }
        if let Some(s) = f.step.as_deref().filter(|s| !s.is_empty()) {
            let p = next(Bind::Text(s.to_owned()), &mut binds);
            conds.push(format!("a.holder_role = {p}"));
        }
        if let Some(r) = f.recommender {
            let p = next(Bind::Int(r), &mut binds);
            conds.push(format!("a.recommender_unit_id = {p}"));
        }
        if let Some(v) = f.field.as_deref().filter(|v| !v.is_empty()) {
            // Several 推荐领域 are stored joined with 、.
            let p = next(Bind::Text(format!("%{v}%")), &mut binds);
            conds.push(format!("a.field LIKE {p}"));
        }
        // The total needs no join: it counts from `applications_search` alone.
        let filter = conds.join(" AND ");
        let from = format!(
            "FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id WHERE {filter}"
        );
        let order = match f.sort {
            SearchSort::NumberDesc => "a.id DESC",
            SearchSort::MovedAt => "a.moved_at DESC, a.id DESC",
            SearchSort::Employer => "a.employer, a.id DESC",
            SearchSort::Recommender => "u.name, a.id DESC",
        };
        let bind_all = |sql: String, binds: &[Bind]| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in binds {
                q = match b {
                    Bind::Int(i) => q.bind(*i),
                    Bind::Text(t) => q.bind(t.clone()),
                };
            }
            q
        };
        let total: i64 = bind_all(
            format!("SELECT COUNT(*) FROM applications a WHERE {filter}"),
            &binds,
        )
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let offset = (f.page.max(1) - 1) * PAGE_SIZE;
        let sql = format!(
            "SELECT a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, u.name AS unit, \
             a.id_number_enc, a.mobile_enc \
             {from} ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
        );
        let rows = bind_all(sql, &binds).fetch_all(&self.pool).await?;
        Ok((
            total,
            rows.iter().map(|r| self.row_of(r)).collect::<Result<_>>()?,
        ))
    }
}
