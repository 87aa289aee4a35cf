//! Applications and their way up the chain: creating one (directly or with a 推荐码),
//! 我承诺, and every move — the applicant's 提交 and 收回, a level's 办理, 退回, 提交 and
//! 收回, the office's 退回. Each move takes the one path:
//!
//! ```text
//! let l = applications::load(store, id).await?;            // one store call: the case file
//! let outcome = decide(&l.case(now), event, &note)?;     // one pure decision (rules)
//! write(store, actor, &l, &outcome, ip).await?;           // one transaction: event, notices, audit
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{Campaign, EntryMode, FieldKey, RecommenderCategory};
use pingxuan_rules::deadline::Binding;
use pingxuan_rules::decide::{Case, Note, Outcome, Place, Quota, Recommender, Refusal, decide};
use pingxuan_rules::eligibility::Finding;
use pingxuan_rules::workflow::{Chain, Event, FlowState};
use pingxuan_store::Store;
use pingxuan_store::applications::{Binding as Units, FlowUpdate, NewApplication, QuotaGuard};
use pingxuan_store::audit::Audit;
use pingxuan_store::cases::ApplicationFile;

use crate::access::Access;
use crate::error::{Error, Result};

/// An application with everything a page shows and a move decides on, loaded once:
/// the store's case file (`l.app`, `l.campaign`, `l.events` … through `Deref`), its
/// chain and replayed state.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: ApplicationFile,
    pub chain: Chain,
    /// Replayed from the events.
    pub state: FlowState,
    /// Files per material key.
    pub materials: BTreeMap<String, u32>,
}

impl std::ops::Deref for Loaded {
    type Target = ApplicationFile;

    fn deref(&self) -> &ApplicationFile {
        &self.file
    }
}

impl Loaded {
    /// The case a decision reads, at `now`.
    pub fn case(&self, now: i64) -> Case<'_> {
        Case {
            campaign: &self.campaign,
            chain: &self.chain,
            state: &self.state,
            number: &self.app.number,
            form: &self.app.form,
            committed: self.app.committed_at.is_some(),
            recommender: self.app.recommender_unit_id.map(|unit_id| Recommender {
                unit_id,
                category: self.recommender_category(),
                forwarded: self.forwarded,
                granted: u32::try_from(self.granted).unwrap_or(0),
            }),
            recommender_level: usize::try_from(self.app.recommender_level).unwrap_or(1),
            register: self.register.as_deref(),
            materials: &self.materials,
            extensions: &self.extensions,
            now,
            in_selection: None,
            unit_publicity: None,
        }
    }

    /// The campaign's category of the application's recommending unit (设区市, 学会 …).
    pub fn recommender_category(&self) -> Option<&RecommenderCategory> {
        let key = self.category.as_deref()?;
        self.campaign
            .recommender_categories
            .iter()
            .find(|c| c.key == key)
    }

    /// The recommender's quota (forwarded, limit with granted places, strictness).
    pub fn quota(&self) -> Option<Quota> {
        self.case(pingxuan_store::now()).quota()
    }

    /// What the eligibility rules and the register raise for the stored form.
    pub fn findings(&self) -> Vec<Finding> {
        self.case(pingxuan_store::now()).findings()
    }

    /// The deadline binding a submission from `level`, extensions included.
    pub fn deadline(&self, level: usize) -> Option<Binding> {
        self.case(pingxuan_store::now()).deadline(level)
    }

    /// “提交截止：2024年3月26日 24:00（剩余 3 天）” for `level`, and whether it passed.
    pub fn deadline_line(&self, level: usize) -> Option<(String, bool)> {
        let b = self.deadline(level)?;
        let now = pingxuan_store::now();
        let mut text = format!(
            "提交截止：{}",
            pingxuan_rules::deadline::in_force_text(b.at, now)
        );
        if b.extended {
            text.push_str("，已延期");
        }
        Some((text, now > b.at))
    }

    /// The highest level the application has reached (levels see it from then on).
    pub fn reached(&self) -> usize {
        self.events
            .iter()
            .filter_map(|e| match e.event {
                Event::Submit { by } => Some(by + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Loads an application's case file in one store call.
pub async fn load(store: &Store, id: i64) -> Result<Loaded> {
    let file = store.application_file(id).await?.ok_or(Error::NotFound)?;
    let chain = Chain::for_application(&file.campaign, file.app.merged);
    let list: Vec<Event> = file.events.iter().map(|e| e.event).collect();
    let state = FlowState::replay(&chain, &list)
        .map_err(|e| Error::Internal(format!("application {id} history does not replay: {e}")))?;
    let mut materials = BTreeMap::new();
    for a in &file.attachments {
        *materials.entry(a.material_key.clone()).or_insert(0) += 1;
    }
    Ok(Loaded {
        file,
        chain,
        state,
        materials,
    })
}

/// Loads an application the caller owns as its applicant; others get “not found”, so
/// the existence of someone else's application is not revealed.
pub async fn load_own(store: &Store, access: &Access, id: i64) -> Result<Loaded> {
    let loaded = load(store, id).await?;
    if loaded.app.applicant_id != access.user.id {
        return Err(Error::NotFound);
    }
    Ok(loaded)
}

/// 保存: the applicant saves the draft while holding it, from the version the edit
/// started from (a stale one is refused); what is stored is normalized as the standards
/// write it; the save has its audit entry. Returns the application as saved.
pub async fn save_form(
    store: &Store,
    access: &Access,
    id: i64,
    version: i64,
    mut values: pingxuan_rules::form::FormValues,
    ip: Option<&str>,
) -> Result<Loaded> {
    load_own(store, access, id).await?;
    pingxuan_rules::form::normalize(&mut values);
    let audit = Audit::new(access.actor(), "form_saved", format!("application:{id}"))
        .detail(format!("第 {} 版", version + 1))
        .ip(ip);
    store
        .save_application_form_audited(id, version, &values, &audit)
        .await?;
    load_own(store, access, id).await
}

/// Loads an application with the level at which `access` sees it; not found for anyone
/// who may not see it.
pub async fn load_seen(store: &Store, access: &Access, id: i64) -> Result<(Loaded, usize)> {
    let l = load(store, id).await?;
    let level = viewer_level(access, &l).ok_or(Error::NotFound)?;
    Ok((l, level))
}

/// Loads an application for a unit acting on it; 404 when it may not see it.
pub async fn load_for_unit(store: &Store, access: &Access, id: i64) -> Result<(Loaded, usize)> {
    match load_seen(store, access, id).await? {
        (l, level) if level > 0 => Ok((l, level)),
        _ => Err(Error::NotFound),
    }
}

/// A stored campaign's model; 404 when there is no such campaign.
pub async fn campaign_model(store: &Store, id: &str) -> Result<Arc<Campaign>> {
    store.campaign_model(id).await?.ok_or(Error::NotFound)
}

/// The level at which `access` sees this application: 0 for its applicant; for units,
/// the level of the chain their role matches (所在单位: the application's work unit;
/// 推荐单位: its recommender; 活动办公室: the campaign's organisers), once the
/// application has reached it. `None`: the person may not see it at all.
pub fn viewer_level(access: &Access, l: &Loaded) -> Option<usize> {
    if l.app.applicant_id == access.user.id {
        return Some(0);
    }
    let campaign = Some(l.app.campaign_id.as_str());
    let held: Vec<usize> = l
        .chain
        .levels
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, level)| {
            access.roles.iter().any(|r| {
                r.role == level.role
                    && r.campaign_id.as_deref() == campaign
                    && match level.role {
                        Role::Organizer => true,
                        Role::Recommender => {
                            r.unit_id.is_some() && r.unit_id == l.app.recommender_unit_id
                        }
                        Role::WorkUnit => r.unit_id.is_some() && r.unit_id == l.app.work_unit_id,
                        _ => false,
                    }
            })
        })
        .map(|(i, _)| i)
        .collect();
    pingxuan_rules::workflow::acting_level(l.state.holder(), l.reached(), &held, l.chain.top())
}

/// The actual employer the applicant named where it differs from the personnel-relation
/// unit (东莞); empty when not asked or the same.
pub fn actual_employer(l: &Loaded) -> String {
    l.case(0).actual_employer().to_owned()
}

/// Who acted on each event: the account's display name (a unit's accounts carry the
/// unit's name), by account id, as the case file read them.
pub fn actor_names(l: &Loaded) -> HashMap<i64, String> {
    l.events
        .iter()
        .filter_map(|e| Some((e.actor_id?, e.actor_name.clone())))
        .collect()
}

/// The HTML and API name of a 推荐表 field: `deeds`, `stories`, `resume` …
pub fn field_key_name(key: FieldKey) -> String {
    serde_json::to_value(key)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A refusal as an error: the flow, the deadline and a full quota alone are conflicts;
/// problems are bad input, every one named in the message, the first one's place as
/// the field.
fn refused(r: Refusal) -> Error {
    match r {
        Refusal::Flow(m) => Error::conflict("flow", m),
        Refusal::DeadlinePassed(m) => Error::conflict("deadline_passed", m),
        Refusal::QuotaFull(m) => Error::conflict("quota_full", m),
        Refusal::Problems(list) => {
            let field = list.first().and_then(|p| match p.place {
                Place::Input(name) => Some(name.to_owned()),
                Place::Field(key) => Some(field_key_name(key)),
                Place::Blocker => None,
            });
            Error::Invalid {
                code: list.first().map_or("invalid", |p| p.code),
                message: list
                    .iter()
                    .map(|p| p.message.as_str())
                    .collect::<Vec<_>>()
                    .join("；"),
                field,
            }
        }
    }
}

/// Writes a decided outcome in one transaction: the event (refused as `stale` when
/// someone acted meanwhile), where the application now is, the notices with their
/// mail, and the audit entry.
async fn write(
    store: &Store,
    actor: &Access,
    l: &Loaded,
    o: &Outcome,
    selection: Option<pingxuan_store::applications::SelectionGuard>,
    ip: Option<&str>,
) -> Result<FlowState> {
    let update = FlowUpdate {
        holder_level: o.holder_level as i64,
        holder_role: o.holder_role.as_str().to_owned(),
        state_text: o.state_text.clone(),
        quota: match (o.quota_max, l.app.recommender_unit_id) {
            (Some(max), Some(unit_id)) => Some(QuotaGuard {
                unit_id,
                max: i64::from(max),
            }),
            _ => None,
        },
        form_version: matches!(o.event, Event::Submit { by: 0 }).then_some(l.app.form_version),
        selection,
    };
    let notices = match &o.announcement {
        Some(a) => {
            let parties = crate::notify::Parties {
                campaign_id: &l.app.campaign_id,
                applicant_id: l.app.applicant_id,
                work_unit_id: l.app.work_unit_id,
                recommender_unit_id: l.app.recommender_unit_id,
            };
            let to = crate::notify::recipients(store, &l.chain, a.level, parties).await?;
            crate::notify::outgoing(
                to,
                Some(actor.user.id),
                l.app.id,
                a.kind,
                &a.subject,
                &a.text,
            )
        }
        None => Vec::new(),
    };
    let audit = Audit::new(
        Some(actor.user.id),
        o.audit_action(),
        format!("application:{}", l.app.id),
    )
    .detail(o.state_text.clone())
    .ip(ip);
    store
        .append_event_with_notices(
            l.app.id,
            l.events.len() as i64,
            o.event,
            actor.user.id,
            o.note.clone(),
            &update,
            &notices,
            &audit,
        )
        .await?;
    Ok(o.next.clone())
}

/// A move on a loaded application: decide, then write. Refusals are errors (see
/// [`refused`]); an applicant's 提交 goes through [`applicant_submit`], which lists
/// its problems per field.
pub async fn act(
    store: &Store,
    actor: &Access,
    l: &Loaded,
    event: Event,
    note: &Note,
    ip: Option<&str>,
) -> Result<FlowState> {
    // The recommending unit's 提交 reads its 公示 of the candidate (东莞 五（一）: 公示无异议后
    // 方可上报) and carries the record up.
    let unit_publicity = match event {
        Event::Submit { by }
            if l.campaign.publicity.unit_publicity
                && i64::try_from(by).ok() == Some(l.app.recommender_level) =>
        {
            unit_record(store, l.app.id).await?
        }
        _ => None,
    };
    let mut case = l.case(pingxuan_store::now());
    case.unit_publicity = unit_publicity.as_ref();
    // While a selection stage holds a candidate at the office, neither the office's
    // 退回 nor a unit's 收回 may take it away: what holds it is read only for those moves.
    // Written under the campaign's selection lock, only if no stage moved meanwhile.
    let (holder, guard) = match event {
        Event::Return { .. } | Event::Recall { .. } if l.state.holder() == l.chain.top() => {
            let (holder, events) = holding(store, &l.campaign, l.app.id).await?;
            let guard = pingxuan_store::applications::SelectionGuard {
                campaign_id: l.campaign.campaign.id.clone(),
                stage_events: events,
            };
            (holder, Some(guard))
        }
        _ => (None, None),
    };
    case.in_selection = holder.as_deref();
    let outcome = decide(&case, event, note).map_err(refused)?;
    write(store, actor, l, &outcome, guard, ip).await
}

/// A candidate's latest 公示 by their recommending unit, as the unit's 提交 reads it: its
/// period as stored and what became of the objections about the candidate.
async fn unit_record(
    store: &Store,
    application_id: i64,
) -> Result<Option<pingxuan_rules::publicity::unit::Record>> {
    use pingxuan_rules::publicity::objection::Outcome;
    let Some((p, objections)) = store.unit_publicity_of(application_id).await? else {
        return Ok(None);
    };
    let outcomes: Vec<Outcome> = objections
        .iter()
        .map(|o| {
            o.steps
                .last()
                .and_then(|s| Outcome::from_key(&s.outcome))
                .unwrap_or(Outcome::Received)
        })
        .collect();
    let count = |o: Outcome| outcomes.iter().filter(|x| **x == o).count();
    Ok(Some(pingxuan_rules::publicity::unit::Record {
        period: pingxuan_rules::publicity::Period::stored(
            &p.published_on,
            &p.first_day,
            &p.last_day,
            p.working_days,
        ),
        objections: outcomes.len(),
        open: outcomes.iter().filter(|o| !o.is_final()).count(),
        upheld: count(Outcome::Upheld),
        rejected: count(Outcome::Rejected),
    }))
}

/// 办理: records that `level` opened what was submitted to it, the first time only.
pub async fn open_if_new(
    store: &Store,
    access: &Access,
    l: &Loaded,
    level: usize,
    ip: Option<&str>,
) -> Result<()> {
    if l.state.awaiting_open(level) {
        match act(
            store,
            access,
            l,
            Event::Open { by: level },
            &Note::default(),
            ip,
        )
        .await
        {
            // Someone moved it meanwhile (a recall, another opening): nothing to record,
            // and nothing went wrong for the person opening it.
            Err(Error::Conflict { code: "stale", .. }) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// What a reviewing level does to an application it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitAction {
    Submit,
    Return { to: usize },
    Recall,
}

/// A reviewing level's move at `level`.
pub async fn unit_act(
    store: &Store,
    access: &Access,
    l: &Loaded,
    level: usize,
    action: UnitAction,
    note: &Note,
    ip: Option<&str>,
) -> Result<FlowState> {
    let event = match action {
        UnitAction::Submit => Event::Submit { by: level },
        UnitAction::Return { to } => Event::Return { by: level, to },
        UnitAction::Recall => Event::Recall { by: level },
    };
    act(store, access, l, event, note, ip).await
}

/// Why an applicant's 提交 was refused: problems per field, and what else is missing.
#[derive(Debug, Default)]
pub struct SubmitRefusal {
    pub errors: BTreeMap<FieldKey, Vec<String>>,
    pub blockers: Vec<String>,
}

impl SubmitRefusal {
    /// “草稿已保存，但还有 N 处需要处理，未提交”, for a page that lists them below.
    pub fn headline(&self) -> String {
        let n: usize = self.errors.values().map(Vec::len).sum::<usize>() + self.blockers.len();
        format!("草稿已保存，但还有 {n} 处需要处理，未提交")
    }

    /// The headline with what stands in the way besides the fields, for the API.
    pub fn summary(&self) -> String {
        let mut message = self.headline();
        if !self.blockers.is_empty() {
            message.push_str(&format!("：{}", self.blockers.join("；")));
        }
        message
    }
}

/// The applicant's 提交 of the stored form; `Ok(Err(..))` lists everything that stands
/// in the way (a move that cannot happen now, or too late, is an error).
pub async fn applicant_submit(
    store: &Store,
    access: &Access,
    l: &Loaded,
    ip: Option<&str>,
) -> Result<std::result::Result<FlowState, SubmitRefusal>> {
    let event = Event::Submit { by: 0 };
    match decide(&l.case(pingxuan_store::now()), event, &Note::default()) {
        Ok(outcome) => Ok(Ok(write(store, access, l, &outcome, None, ip).await?)),
        Err(r @ Refusal::Problems(_)) => Ok(Err(SubmitRefusal {
            errors: r.field_problems(),
            blockers: r.blockers(),
        })),
        Err(r) => Err(refused(r)),
    }
}

/// 我承诺 by the applicant; the store records it and its audit entry once (a second
/// press changes nothing).
pub async fn commit(store: &Store, access: &Access, id: i64, ip: Option<&str>) -> Result<()> {
    load_own(store, access, id).await?;
    let audit = Audit::new(
        Some(access.user.id),
        "application_committed",
        format!("application:{id}"),
    )
    .detail("我承诺")
    .ip(ip);
    store.commit_application(id, &audit).await?;
    Ok(())
}

async fn campaign_for_entry(store: &Store, campaign_id: &str) -> Result<(String, Arc<Campaign>)> {
    let campaign = store.campaign_model(campaign_id).await?.ok_or_else(|| {
        Error::invalid(
            "unknown_campaign",
            format!("活动 {campaign_id} 不存在"),
            Some("campaign"),
        )
    })?;
    Ok((campaign.campaign.id.clone(), campaign))
}

/// Creates the application with its audit entry. Returns (id, number).
async fn start_application(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    campaign: &Campaign,
    units: Units,
    code_id: Option<i64>,
    ip: Option<&str>,
) -> Result<(i64, String)> {
    let chain = Chain::for_application(campaign, units.merged);
    let first = FlowState::default().text(&chain);
    let new = NewApplication {
        binding: units,
        code_id,
        ..NewApplication::bare(
            campaign_id,
            access.user.id,
            &campaign.campaign.number_prefix,
            campaign.campaign.year,
            &first,
        )
    };
    let user = access.user.id;
    let (id, number) = store
        .create_application(&new, |id, number| {
            let detail = match code_id {
                Some(c) => format!("{number} 推荐码#{c}"),
                None => number.to_owned(),
            };
            Audit::new(
                Some(user),
                "application_created",
                format!("application:{id}"),
            )
            .detail(detail)
            .ip(ip)
        })
        .await?;
    Ok((id, number))
}

/// The units an application goes through, and the recommender's place in its chain.
pub fn binding_for(
    campaign: &Campaign,
    recommender: i64,
    work_unit: Option<i64>,
    merged: bool,
) -> Units {
    let chain = Chain::for_application(campaign, merged);
    Units {
        recommender_unit_id: Some(recommender),
        work_unit_id: work_unit,
        merged,
        recommender_level: chain.level_of(Role::Recommender).unwrap_or(1) as i64,
    }
}

/// 我要申请 in a campaign that takes applications directly: a new application bound to
/// the chosen recommending unit. Returns (id, number).
pub async fn create_open_application(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    recommender: Option<i64>,
    ip: Option<&str>,
) -> Result<(i64, String)> {
    if !access.has(Role::Applicant) {
        return Err(Error::Forbidden);
    }
    let (campaign_id, campaign) = campaign_for_entry(store, campaign_id).await?;
    if campaign.entry.mode != EntryMode::Open {
        return Err(Error::invalid(
            "code_required",
            "本活动不接受个人直接申请，请凭推荐单位发放的推荐码申报",
            Some("code"),
        ));
    }
    let units = store.list_units(&campaign_id).await?;
    let unit = recommender
        .and_then(|id| {
            units
                .iter()
                .find(|u| u.id == id && u.kind == Role::Recommender)
        })
        .ok_or_else(|| {
            Error::invalid(
                "recommender_required",
                "请选择推荐单位",
                Some("recommender"),
            )
        })?;
    if campaign
        .levels
        .iter()
        .any(|l| l.role == Role::WorkUnit && !l.merge_with_next_when_same_unit)
    {
        // A chain whose work unit always signs needs codes that name it.
        return Err(Error::invalid(
            "code_required",
            "本活动需由推荐单位发放推荐码后申报",
            Some("code"),
        ));
    }
    // A work-unit level that merges needs no unit of its own here.
    let merged = campaign.levels.iter().any(|l| l.role == Role::WorkUnit);
    let binding = binding_for(&campaign, unit.id, None, merged);
    start_application(store, access, &campaign_id, &campaign, binding, None, ip).await
}

/// 凭推荐码申报: a new application bound to the code's recommender and work unit.
/// Every refusal names the field `code`. Returns (id, number).
pub async fn create_coded_application(
    store: &Store,
    access: &Access,
    typed: &str,
    ip: Option<&str>,
) -> Result<(i64, String)> {
    if !access.has(Role::Applicant) {
        return Err(Error::Forbidden);
    }
    use pingxuan_rules::code::{Lookup, entry_problem};
    let refuse = |found: Lookup| {
        entry_problem(found).map(|(code, message)| Error::invalid(code, message, Some("code")))
    };
    let Some(canonical) = pingxuan_rules::code::normalize(typed) else {
        return Err(refuse(Lookup::Malformed).expect("a malformed code is refused"));
    };
    let Some(code) = store.find_code(&canonical).await? else {
        store
            .audit(Some(access.user.id), "code_unknown", "", "", ip)
            .await?;
        return Err(refuse(Lookup::Unknown).expect("an unknown code is refused"));
    };
    let found = if code.revoked_at.is_some() {
        Lookup::Revoked
    } else if code.application_id.is_some() {
        Lookup::Used
    } else {
        Lookup::Usable
    };
    if let Some(refusal) = refuse(found) {
        return Err(refusal);
    }
    let (campaign_id, campaign) = campaign_for_entry(store, &code.campaign_id).await?;
    let binding = binding_for(&campaign, code.unit_id, code.work_unit_id, code.merged);
    start_application(
        store,
        access,
        &campaign_id,
        &campaign,
        binding,
        Some(code.id),
        ip,
    )
    .await
}

/// Where the selection rounds hold an application now, in words (see
/// `rules::selection::stage::holding`), from the campaign's stage events.
/// Also the campaign's count of stage events it read, for a write to check nothing moved.
pub async fn holding(
    store: &Store,
    campaign: &Campaign,
    application_id: i64,
) -> Result<(Option<String>, i64)> {
    let events = store.stage_events(&campaign.campaign.id).await?;
    let states: Vec<pingxuan_rules::selection::stage::State> = campaign
        .stages
        .iter()
        .map(|s| {
            pingxuan_rules::selection::stage::replay(
                events
                    .iter()
                    .filter(|e| e.stage_key == s.key)
                    .map(|e| &e.event),
            )
        })
        .collect();
    Ok((
        pingxuan_rules::selection::stage::holding(campaign, &states, application_id),
        events.len() as i64,
    ))
}
