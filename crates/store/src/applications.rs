//! Applications and their events. The form is saved with a version (a stale save is
//! refused, never silently overwritten); the flow is a list of events whose sequence
//! numbers the database keeps unique, so two people acting on the same state at once
//! resolve to one outcome. 身份证号 and mobile are sealed outside the form's JSON.

use std::collections::BTreeSet;

use pingxuan_rules::Role;
use pingxuan_rules::campaign::FieldKey;
use pingxuan_rules::form::{FieldValue, FormValues};
use pingxuan_rules::workflow::Event;
use sqlx::Row;

use crate::audit::Audit;
use crate::{Backend, Result, Store, StoreError, now};

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

/// One candidate for the paper lists (汇总表, bundles): the form and the recommending unit.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub number: String,
    pub form: FormValues,
    pub recommender: String,
    /// Who is told of the candidate's outcomes: the applicant and the two units.
    pub applicant_id: i64,
    pub work_unit_id: Option<i64>,
    pub recommender_unit_id: Option<i64>,
}

/// A candidate at the organiser's desk, as a selection stage lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskRow {
    pub id: i64,
    pub number: String,
    pub name: String,
    /// 工作单位及职务.
    pub work_unit: String,
    /// 推荐领域 (a list joined by 、).
    pub field: String,
    pub recommender: String,
    pub applicant_id: i64,
    pub work_unit_id: Option<i64>,
    pub recommender_unit_id: Option<i64>,
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
    /// The acting account's display name (a unit's accounts carry the unit's name);
    /// empty when the account is gone.
    pub actor_name: String,
}

pub use pingxuan_rules::decide::Note;

/// How many applications a recommending unit (`$1`) has forwarded: they are above it
/// now. One text for the case file's count and the write's recount, so the decided
/// quota and its re-check cannot drift apart.
macro_rules! forwarded_by_recommender {
    () => {
        "SELECT COUNT(*) FROM applications WHERE recommender_unit_id = $1 \
         AND holder_role NOT IN ('applicant', 'work_unit', 'recommender')"
    };
}
pub(crate) use forwarded_by_recommender;

const FORWARDED_BY_RECOMMENDER: &str = forwarded_by_recommender!();
/// The same, leaving out one application (the one being forwarded).
const FORWARDED_BY_RECOMMENDER_BUT: &str = concat!(forwarded_by_recommender!(), " AND id <> $2");

/// Where an application is after an event, written with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlowUpdate {
    pub holder_level: i64,
    pub holder_role: String,
    pub state_text: String,
    /// A recommender's 提交 counted against its quota inside the same transaction.
    pub quota: Option<QuotaGuard>,
    /// The form version the move was decided on: a save that slipped in between makes
    /// the move `Stale`, so an applicant's 提交 never carries a form it did not check.
    /// `None`: the move does not depend on the form.
    pub form_version: Option<i64>,
    /// A move that depends on where the selection rounds stand (the office's 退回, a
    /// unit's 收回 at the office): written under the campaign's selection lock, only while
    /// the campaign still has the stage events the decision saw.
    pub selection: Option<SelectionGuard>,
}

/// The campaign and its count of stage events when a move was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionGuard {
    pub campaign_id: String,
    pub stage_events: i64,
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
    /// `audit` names the entry from the new application's id, written in the same transaction.
    pub async fn create_application(
        &self,
        new: &NewApplication<'_>,
        audit: impl FnOnce(i64, &str) -> Audit + Send,
    ) -> Result<(i64, String)> {
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
        Self::write_terms(&mut tx, id, &search_terms("", &number, "")).await?;
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
        self.append_audit(&mut tx, &audit(id, &number), t).await?;
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

    /// Records 我承诺 (the applicant read the rules and committed), once, with its audit
    /// entry; a repeated 我承诺 changes nothing and records nothing.
    pub async fn commit_application(&self, id: i64, audit: &Audit) -> Result<i64> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE applications SET committed_at = $2 WHERE id = $1 AND committed_at IS NULL",
        )
        .bind(id)
        .bind(t)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            self.append_audit(&mut tx, audit, t).await?;
        }
        tx.commit().await?;
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

    /// The candidates of a campaign for its paper lists, oldest first: with `recommenders`,
    /// the applications of those units that have reached them and not been sent back below
    /// (held by them or sent on); without, those at the organiser's desk, by recommending
    /// unit. The forms come without the sealed 身份证号 and mobile, which no list prints.
    pub async fn candidates(
        &self,
        campaign_id: &str,
        recommenders: Option<&[i64]>,
    ) -> Result<Vec<Candidate>> {
        match recommenders {
            Some([]) => Ok(Vec::new()),
            Some(units) => {
                let filter = format!(
                    "a.recommender_unit_id IN ({}) AND a.holder_level >= a.recommender_level",
                    marks(units.len())
                );
                self.candidate_rows(campaign_id, &filter, "a.id", units)
                    .await
            }
            None => {
                self.candidate_rows(
                    campaign_id,
                    "a.holder_role = 'organizer'",
                    "u.name, a.id",
                    &[],
                )
                .await
            }
        }
    }

    /// The candidates at the organiser's desk as a selection stage lists them: the record's
    /// own name, 工作单位及职务 and 推荐领域 columns (kept with every save of the form), not
    /// the form, so a stage of 1,000 reads 1,000 narrow rows.
    pub async fn desk_rows(&self, campaign_id: &str) -> Result<Vec<DeskRow>> {
        self.desk_rows_where(campaign_id, "a.holder_role = 'organizer'", None)
            .await
    }

    /// The candidates at a recommending unit's own desk (theirs to 公示 and send up), in
    /// the same narrow rows.
    pub async fn unit_desk_rows(&self, campaign_id: &str, unit_id: i64) -> Result<Vec<DeskRow>> {
        self.desk_rows_where(
            campaign_id,
            "a.holder_role = 'recommender' AND a.recommender_unit_id = $2",
            Some(unit_id),
        )
        .await
    }

    async fn desk_rows_where(
        &self,
        campaign_id: &str,
        clause: &str,
        unit_id: Option<i64>,
    ) -> Result<Vec<DeskRow>> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.number, a.name, a.employer, a.field, COALESCE(u.name, ''), \
             a.applicant_id, a.work_unit_id, a.recommender_unit_id \
             FROM applications a LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE a.campaign_id = $1 AND {clause} ORDER BY u.name, a.id"
        )))
        .bind(campaign_id);
        let rows = match unit_id {
            Some(u) => query.bind(u),
            None => query,
        }
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeskRow {
                    id: r.try_get(0)?,
                    number: r.try_get(1)?,
                    name: r.try_get(2)?,
                    work_unit: r.try_get(3)?,
                    field: r.try_get(4)?,
                    recommender: r.try_get(5)?,
                    applicant_id: r.try_get(6)?,
                    work_unit_id: r.try_get(7)?,
                    recommender_unit_id: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// Those of `ids` still at the organiser's desk, by id (an expert's assigned candidates).
    pub async fn desk_candidates(&self, campaign_id: &str, ids: &[i64]) -> Result<Vec<Candidate>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let filter = format!(
            "a.holder_role = 'organizer' AND a.id IN ({})",
            marks(ids.len())
        );
        self.candidate_rows(campaign_id, &filter, "a.id", ids).await
    }

    async fn candidate_rows(
        &self,
        campaign_id: &str,
        filter: &str,
        order: &str,
        binds: &[i64],
    ) -> Result<Vec<Candidate>> {
        let sql = format!(
            "SELECT a.id, a.number, f.form_json, COALESCE(u.name, '') AS unit, \
             a.applicant_id, a.work_unit_id, a.recommender_unit_id \
             FROM applications a JOIN application_forms f ON f.application_id = a.id \
             LEFT JOIN units u ON u.id = a.recommender_unit_id \
             WHERE a.campaign_id = $1 AND {filter} ORDER BY {order}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(campaign_id);
        for id in binds {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                let json: String = r.try_get(2)?;
                let form: FormValues = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Other(format!("application {id} form: {e}")))?;
                Ok(Candidate {
                    id,
                    number: r.try_get(1)?,
                    form,
                    recommender: r.try_get(3)?,
                    applicant_id: r.try_get(4)?,
                    work_unit_id: r.try_get(5)?,
                    recommender_unit_id: r.try_get(6)?,
                })
            })
            .collect()
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
        let mut c = self.pool.acquire().await?;
        Ok(self.application_on(&mut c, id).await?.map(|(a, _)| a))
    }

    /// An application with its campaign file's current revision.
    pub(crate) async fn application_on(
        &self,
        c: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Option<(Application, i64)>> {
        let row = sqlx::query(
            "SELECT a.*, f.form_json, c.revision AS campaign_revision FROM applications a \
             JOIN application_forms f ON f.application_id = a.id \
             JOIN campaigns c ON c.id = a.campaign_id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *c)
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
        Ok(Some((
            Application {
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
            },
            r.try_get("campaign_revision")?,
        )))
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
        self.save_form(id, expected_version, form, None).await
    }

    /// Saves the draft with its audit entry in the same transaction.
    pub async fn save_application_form_audited(
        &self,
        id: i64,
        expected_version: i64,
        form: &FormValues,
        audit: &Audit,
    ) -> Result<i64> {
        self.save_form(id, expected_version, form, Some(audit))
            .await
    }

    async fn save_form(
        &self,
        id: i64,
        expected_version: i64,
        form: &FormValues,
        audit: Option<&Audit>,
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
        let name = text_of(form, FieldKey::Name);
        let employer = text_of(form, FieldKey::EmployerAndPost);
        let field = match form.get(&FieldKey::Field) {
            Some(FieldValue::List(v)) => v.join("、"),
            Some(v) => v.text().unwrap_or("").to_owned(),
            None => String::new(),
        };
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE applications SET form_version = form_version + 1, \
             name = $3, employer = $4, field = $5, id_number_enc = $6, id_number_hmac = $7, \
             mobile_enc = $8, updated_at = $9 \
             WHERE id = $1 AND form_version = $2 AND holder_level = 0 RETURNING number",
        )
        .bind(id)
        .bind(expected_version)
        .bind(&name)
        .bind(&employer)
        .bind(&field)
        .bind(sealed[0].as_deref().map(|v| self.sealer.seal(v)))
        .bind(id_hmac)
        .bind(sealed[1].as_deref().map(|v| self.sealer.seal(v)))
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = updated {
            let number: String = row.try_get(0)?;
            sqlx::query("UPDATE application_forms SET form_json = $2 WHERE application_id = $1")
                .bind(id)
                .bind(&json)
                .execute(&mut *tx)
                .await?;
            let terms = search_terms(&name, &number, &employer);
            Self::refresh_terms(&mut tx, id, &terms).await?;
            if let Some(a) = audit {
                self.append_audit(&mut tx, a, now()).await?;
            }
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
        let mut c = self.pool.acquire().await?;
        events_on(&mut c, id).await
    }
}

pub(crate) async fn events_on(c: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<StoredEvent>> {
    let rows = sqlx::query(
            "SELECT e.seq, e.kind, e.by_level, e.to_level, e.actor_id, e.comment, e.at, e.co_signer, e.co_opinion, \
             COALESCE(u.display_name, '') FROM application_events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.application_id = $1 ORDER BY e.seq",
        )
        .bind(id)
        .fetch_all(&mut *c)
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
                actor_name: r.try_get(9)?,
            })
        })
        .collect()
}

impl Store {
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
        let audit = Audit::new(
            Some(actor_id),
            format!("application_{}", event.kind()),
            format!("application:{id}"),
        )
        .detail(update.state_text.clone());
        self.append_event_with_notices(id, expected_seq, event, actor_id, note, update, &[], &audit)
            .await
    }

    /// [`Store::append_event`], writing the notices the move causes (and queueing their
    /// mail) and its audit entry in the same transaction: the move, its announcement and
    /// its record happen together or not at all.
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
        audit: &Audit,
    ) -> Result<i64> {
        let note: Note = note.into();
        let t = now();
        let seq = expected_seq + 1;
        let to = match event {
            Event::Submit { by } => Some(by as i64 + 1),
            Event::Return { to, .. } => Some(to as i64),
            _ => None,
        };
        let mut tx = match &update.selection {
            Some(g) => {
                let mut tx = crate::stages::locked(self, &g.campaign_id).await?;
                let events: i64 =
                    sqlx::query("SELECT COUNT(*) FROM stage_events WHERE campaign_id = $1")
                        .bind(&g.campaign_id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                if events != g.stage_events {
                    return Err(StoreError::Stale);
                }
                tx
            }
            None => self.pool.begin().await?,
        };
        if let Some(q) = update.quota {
            // Two forwards of different applications at once: the unit's row is written
            // first so they queue (row lock on PostgreSQL, write lock on SQLite), and the
            // second counts the first.
            sqlx::query("UPDATE units SET category = category WHERE id = $1")
                .bind(q.unit_id)
                .execute(&mut *tx)
                .await?;
        }
        let form_guard = if update.form_version.is_some() {
            " AND form_version = $9"
        } else {
            ""
        };
        let mut moved = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE applications SET flow_version = $3, holder_level = $4, state_text = $5, \
             moved_at = CASE WHEN $6 = 1 THEN $7 ELSE moved_at END, updated_at = $7, holder_role = $8, \
             reached_level = CASE WHEN $4 > reached_level THEN $4 ELSE reached_level END \
             WHERE id = $1 AND flow_version = $2{form_guard}",
        )))
        .bind(id)
        .bind(expected_seq)
        .bind(seq)
        .bind(update.holder_level)
        .bind(&update.state_text)
        .bind(i64::from(!matches!(event, Event::Open { .. })))
        .bind(t)
        .bind(&update.holder_role);
        if let Some(v) = update.form_version {
            moved = moved.bind(v);
        }
        let moved = moved.execute(&mut *tx).await?.rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Err(StoreError::Stale);
        }
        // Counted after the version check, so a repeated forward of the same application
        // is told it was already moved, not that the quota is full.
        if let Some(q) = update.quota {
            let used: i64 = sqlx::query(FORWARDED_BY_RECOMMENDER_BUT)
                .bind(q.unit_id)
                .bind(id)
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
        self.append_audit(&mut tx, audit, t).await?;
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
    Bytes(Vec<u8>),
}

impl Store {
    /// 查询申报表: one page of matching applications and the total.
    ///
    /// Without a text to look for, the total counts from a narrow index and the page is read
    /// in the order of the sort's index. A part of the name or number, or of the work unit,
    /// is found in `application_terms` (see `search_terms`): the rows are read from the
    /// matching terms only, never by looking at every row of the campaign.
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
        if let Some(y) = f.year {
            let p = next(Bind::Int(y), &mut binds);
            conds.push(format!(
                "a.campaign_id IN (SELECT id FROM campaigns WHERE year = {p})"
            ));
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
            // Several 推荐领域 are stored joined with 、. The filter is one of the campaign's
            // few choices and matches a large share of it: checked on the rows, not looked up.
            let p = next(Bind::Text(format!("%{v}%")), &mut binds);
            conds.push(format!("a.field LIKE {p}"));
        }
        // The texts to look for, the most selective first: the rows are found from its terms.
        let texts = [
            (
                TermKind::Text,
                f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()),
            ),
            (
                TermKind::Employer,
                f.employer
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| e.chars().count() >= 4),
            ),
        ];
        // With a text, the rows are read from the first text's terms (by primary key) and
        // the others are checked on them; `from` says how.
        let mut from: Option<String> = None;
        for (kind, query) in texts {
            let Some(query) = query else { continue };
            let (lo, hi, longer) = term_range(query);
            let (lo, hi) = (
                next(Bind::Bytes(lo), &mut binds),
                next(Bind::Bytes(hi), &mut binds),
            );
            let terms = |distinct: &str| {
                format!(
                    "SELECT {distinct}t.application_id FROM application_terms t \
                     WHERE t.kind = '{}' AND t.term >= {lo} AND t.term < {hi}",
                    kind.code()
                )
            };
            if from.is_some() {
                conds.push(format!("a.id IN ({})", terms("")));
            } else {
                from = Some(match self.backend {
                    // An array, not a semi-join: PostgreSQL then reads the candidates by
                    // primary key whatever it guesses about the range's size. As a join it
                    // read the whole table (hash join) or walked it in id order (merge join).
                    Backend::Postgres => {
                        conds.push(format!("a.id = ANY(ARRAY({}))", terms("")));
                        "applications a".to_owned()
                    }
                    // CROSS JOIN keeps this order: without ANALYZE's statistics SQLite
                    // preferred the campaign's index and checked every row against the list.
                    Backend::Sqlite => {
                        conds.push("a.id = hit.application_id".to_owned());
                        format!("({}) hit CROSS JOIN applications a", terms("DISTINCT "))
                    }
                });
            }
            if longer {
                // Terms keep 16 characters: the candidates of a longer text are checked whole.
                let p = next(Bind::Text(format!("%{}%", escape_like(query))), &mut binds);
                let like = |col: &str| format!("UPPER({col}) LIKE UPPER({p}) ESCAPE '\\'");
                conds.push(match kind {
                    TermKind::Text => format!("({} OR {})", like("a.name"), like("a.number")),
                    TermKind::Employer => like("a.employer"),
                });
            }
        }
        let filter = conds.join(" AND ");
        let order = match f.sort {
            SearchSort::NumberDesc => "a.id DESC",
            SearchSort::MovedAt => "a.moved_at DESC, a.id DESC",
            SearchSort::Employer => "a.employer, a.id DESC",
            SearchSort::Recommender => "u.name, a.id DESC",
        };
        let units = "LEFT JOIN units u ON u.id = a.recommender_unit_id";
        let bind_all = |sql: String, binds: &[Bind]| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in binds {
                q = match b {
                    Bind::Int(i) => q.bind(*i),
                    Bind::Text(t) => q.bind(t.clone()),
                    Bind::Bytes(v) => q.bind(v.clone()),
                };
            }
            q
        };
        let offset = (f.page.max(1) - 1).saturating_mul(PAGE_SIZE);
        let columns = "a.id, a.campaign_id, a.number, a.name, a.employer, a.state_text, a.moved_at, \
                       u.name AS unit, a.id_number_enc, a.mobile_enc";
        let Some(from) = from else {
            // The total needs no join: it counts from a narrow index alone.
            let count = format!("SELECT COUNT(*) FROM applications a WHERE {filter}");
            let total: i64 = bind_all(count, &binds)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
            let sql = format!(
                "SELECT {columns} FROM applications a {units} WHERE {filter} \
                 ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
            );
            let rows = bind_all(sql, &binds).fetch_all(&self.pool).await?;
            return Ok((
                total,
                rows.iter().map(|r| self.row_of(r)).collect::<Result<_>>()?,
            ));
        };
        // One pass over the candidates gives the total and this page's ids (the sort's
        // columns only), then the page's rows are read by id.
        let join = if f.sort == SearchSort::Recommender {
            units
        } else {
            ""
        };
        let hits = bind_all(
            format!(
                "SELECT a.id, COUNT(*) OVER () FROM {from} {join} WHERE {filter} \
                 ORDER BY {order} LIMIT {PAGE_SIZE} OFFSET {offset}"
            ),
            &binds,
        )
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = hits.first() else {
            // Past the last page the total is counted on its own.
            let total: i64 = if offset == 0 {
                0
            } else {
                bind_all(
                    format!("SELECT COUNT(*) FROM {from} WHERE {filter}"),
                    &binds,
                )
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?
            };
            return Ok((total, Vec::new()));
        };
        let total: i64 = first.try_get(1)?;
        let ids = hits
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<Vec<i64>, _>>()?;
        let ps = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {columns} FROM applications a {units} WHERE a.id IN ({ps}) ORDER BY {order}"
        )));
        for id in &ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok((
            total,
            rows.iter().map(|r| self.row_of(r)).collect::<Result<_>>()?,
        ))
    }

    /// Writes every application's search terms again from its columns: for rows written
    /// without the store (the benchmark's seeding), or to repair the table.
    pub async fn rebuild_search_terms(&self) -> Result<u64> {
        let apps = sqlx::query("SELECT id, name, number, employer FROM applications")
            .fetch_all(&self.pool)
            .await?;
        let mut rows = Vec::new();
        for r in &apps {
            let id: i64 = r.try_get(0)?;
            let (name, number, employer): (String, String, String) =
                (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            rows.extend(
                search_terms(&name, &number, &employer)
                    .into_iter()
                    .map(|(kind, term)| (id, kind, term)),
            );
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM application_terms")
            .execute(&mut *tx)
            .await?;
        Self::insert_terms(&mut tx, &rows).await?;
        tx.commit().await?;
        Ok(apps.len() as u64)
    }

    /// Writes an application's terms (a new application: its number's).
    async fn write_terms(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: i64,
        terms: &BTreeSet<(&'static str, Vec<u8>)>,
    ) -> Result<()> {
        let rows: Vec<_> = terms
            .iter()
            .map(|(kind, term)| (id, *kind, term.clone()))
            .collect();
        Self::insert_terms(tx, &rows).await
    }

    /// Replaces an application's terms if they differ from `terms` (a save that leaves the
    /// name and work unit as they were writes nothing here).
    async fn refresh_terms(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: i64,
        terms: &BTreeSet<(&'static str, Vec<u8>)>,
    ) -> Result<()> {
        let stored =
            sqlx::query("SELECT kind, term FROM application_terms WHERE application_id = $1")
                .bind(id)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<Vec<u8>, _>(1)?)))
                .collect::<Result<BTreeSet<_>>>()?;
        let same = stored.len() == terms.len()
            && stored
                .iter()
                .zip(terms)
                .all(|((k, t), (kind, term))| k == kind && t == term);
        if same {
            return Ok(());
        }
        sqlx::query("DELETE FROM application_terms WHERE application_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Self::write_terms(tx, id, terms).await
    }

    async fn insert_terms(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        rows: &[(i64, &'static str, Vec<u8>)],
    ) -> Result<()> {
        // 300 rows (900 parameters) a statement.
        for chunk in rows.chunks(300) {
            let values = crate::value_rows("", chunk.len(), 3, 1);
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO application_terms (application_id, kind, term) VALUES {values}"
            )));
            for (id, kind, term) in chunk {
                q = q.bind(*id).bind(*kind).bind(term.clone());
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// What a search term was taken from: the name or the number (the text box finds either),
/// or the work unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    Text,
    Employer,
}

impl TermKind {
    fn code(self) -> &'static str {
        match self {
            TermKind::Text => "q",
            TermKind::Employer => "e",
        }
    }

    /// The shortest text a search looks for (the 工作单位 filter needs 4 characters).
    fn shortest(self) -> usize {
        match self {
            TermKind::Employer => 4,
            TermKind::Text => 1,
        }
    }
}

/// A term keeps this many characters of its suffix.
const TERM_CHARS: usize = 16;
/// Suffixes start within this many characters of a text.
const TERM_STARTS: usize = 256;

/// How texts are compared: ASCII letters in upper case (numbers and names are found
/// whatever their case), a backslash as its full-width form ＼ (PostgreSQL's cast to bytea
/// in migration 0011 reads a backslash as an escape).
fn fold(text: &str) -> Vec<char> {
    text.chars()
        .map(|c| match c {
            '\\' => '＼',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// An application's search terms, (kind, term): every suffix of its folded name and number
/// (`q`) and of its work unit (`e`, 4 characters and more), cut to [`TERM_CHARS`]
/// characters, as UTF-8 bytes. A part of a text is the start of one of its
/// suffixes, so "contains" is one range of `application_terms`' primary key
/// ([`term_range`]). Migration 0011 computes the same in SQL for the rows it found.
fn search_terms(name: &str, number: &str, employer: &str) -> BTreeSet<(&'static str, Vec<u8>)> {
    let mut terms = BTreeSet::new();
    for (kind, text) in [
        (TermKind::Text, name),
        (TermKind::Text, number),
        (TermKind::Employer, employer),
    ] {
        let chars = fold(text);
        let starts = (chars.len() + 1)
            .saturating_sub(kind.shortest())
            .min(TERM_STARTS);
        for i in 0..starts {
            let end = chars.len().min(i + TERM_CHARS);
            terms.insert((
                kind.code(),
                chars[i..end].iter().collect::<String>().into_bytes(),
            ));
        }
    }
    terms
}

/// The terms that begin with `query` (folded): `lo <= term < hi`, where `hi` is `lo` with its
/// last byte raised by one (UTF-8 has no 0xFF byte). `true` when the query is longer than a
/// term, so that its candidates must still be checked.
fn term_range(query: &str) -> (Vec<u8>, Vec<u8>, bool) {
    let chars = fold(query);
    let lo = chars[..chars.len().min(TERM_CHARS)]
        .iter()
        .collect::<String>()
        .into_bytes();
    let mut hi = lo.clone();
    if let Some(b) = hi.last_mut() {
        *b += 1;
    }
    (lo, hi, chars.len() > TERM_CHARS)
}

/// `text` as a LIKE pattern's literal part (with `ESCAPE '\'`).
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `$2, $3, …` for `n` values bound after the campaign.
fn marks(n: usize) -> String {
    (0..n)
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_is_the_start_of_a_term() {
        let terms = search_terms("王小明", "ZMKJ202312", "新疆大学化学学院");
        let finds = |kind: TermKind, query: &str| {
            let (lo, hi, _) = term_range(query);
            terms
                .iter()
                .any(|(k, t)| *k == kind.code() && *t >= lo && *t < hi)
        };
        for part in ["王", "小", "明", "王小", "小明", "王小明"] {
            assert!(finds(TermKind::Text, part), "{part}");
        }
        for part in ["zmkj", "ZMKJ202312", "2023", "12", "2", "j2023"] {
            assert!(finds(TermKind::Text, part), "{part}");
        }
        assert!(!finds(TermKind::Text, "王明"));
        assert!(!finds(TermKind::Text, "ZMKJ2023123"));
        assert!(finds(TermKind::Employer, "大学化学"));
        assert!(finds(TermKind::Employer, "新疆大学化学学院"));
        assert!(!finds(TermKind::Employer, "大学化工"));
        // The work unit keeps suffixes of 4 characters and more: a shorter filter is ignored.
        assert!(!finds(TermKind::Employer, "学院"));
        assert!(!finds(TermKind::Text, "大学化学"), "kinds are apart");
    }

    #[test]
    fn long_texts_are_cut() {
        let long = "中国科学院新疆生态与地理研究所荒漠植物研究中心";
        let terms = search_terms("", "", long);
        assert_eq!(terms.len(), long.chars().count() - 3);
        assert!(
            terms
                .iter()
                .all(|(_, t)| String::from_utf8_lossy(t).chars().count() <= TERM_CHARS)
        );
        let (lo, _, longer) = term_range(long);
        assert!(longer && terms.iter().any(|(_, t)| *t == lo));
        let (lo, hi, longer) = term_range("a\\b");
        assert!(!longer);
        assert_eq!(lo, "A＼B".as_bytes());
        assert_eq!(hi.len(), lo.len());
        assert!(hi > lo);
        assert_eq!(escape_like("5%_\\"), "5\\%\\_\\\\");
    }
}
