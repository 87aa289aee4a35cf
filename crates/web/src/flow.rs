//! The application's flow as the web layer drives it: load an application with its
//! campaign, chain and replayed state; turn posted fields into form values. Shared by
//! the pages and their API twins.

use std::sync::Arc;

use pingxuan_rules::campaign::{Campaign, FieldKey, FormField};
use pingxuan_rules::form::{FieldValue, FormValues};
use pingxuan_rules::workflow::{Chain, Event, FlowState};
use pingxuan_store::applications::{
    Application, Binding, FlowUpdate, NewApplication, Note, QuotaGuard, StoredEvent,
};
use pingxuan_store::audit::Audit;

use crate::AppState;
use crate::access::Access;
use crate::error::Failure;

pub struct Loaded {
    pub app: Application,
    pub campaign: Arc<Campaign>,
    pub chain: Chain,
    pub state: FlowState,
    pub events: Vec<StoredEvent>,
    /// The organiser's deadline extensions in the campaign.
    pub extensions: Vec<pingxuan_rules::deadline::Extension>,
}

/// Loads an application the caller owns as its applicant; others get “not found”, so
/// the existence of someone else's application is not revealed.
pub async fn load_own(state: &AppState, access: &Access, id: i64) -> Result<Loaded, Failure> {
    let loaded = load(state, id).await?;
    if loaded.app.applicant_id != access.user.id {
        return Err(Failure::NotFound);
    }
    Ok(loaded)
}

pub async fn load(state: &AppState, id: i64) -> Result<Loaded, Failure> {
    let app = state
        .store
        .get_application(id)
        .await?
        .ok_or(Failure::NotFound)?;
    let campaign = state
        .store
        .campaign_model(&app.campaign_id)
        .await?
        .ok_or(Failure::NotFound)?;
    let chain = Chain::for_application(&campaign, app.merged);
    let events = state.store.application_events(id).await?;
    let list: Vec<Event> = events.iter().map(|e| e.event).collect();
    let flow = FlowState::replay(&chain, &list)
        .map_err(|e| Failure::Internal(format!("application {id} history does not replay: {e}")))?;
    let extensions = state
        .store
        .deadline_extensions(&app.campaign_id)
        .await?
        .iter()
        .map(|g| g.extension())
        .collect();
    Ok(Loaded {
        app,
        campaign,
        chain,
        state: flow,
        events,
        extensions,
    })
}

/// A stored campaign's model; 404 when there is no such campaign.
pub async fn campaign_model(state: &AppState, id: &str) -> Result<Arc<Campaign>, Failure> {
    state
        .store
        .campaign_model(id)
        .await?
        .ok_or(Failure::NotFound)
}

/// Where `event` would take the application, or why it cannot happen now (409 `flow`).
fn next_state(l: &Loaded, event: Event) -> Result<FlowState, Failure> {
    l.state
        .apply(&l.chain, event)
        .map_err(|e| Failure::Conflict {
            code: "flow",
            message: e.to_string(),
            field: None,
        })
}

/// A 提交 after its deadline is refused with the date (`Conflict`, code `deadline_passed`).
fn past_deadline(loaded: &Loaded, event: Event) -> Result<(), Failure> {
    if let Event::Submit { by } = event
        && let Some(b) = loaded.deadline(by)
        && let Some(message) = pingxuan_rules::deadline::submit_problem(
            &b,
            &loaded.campaign.campaign.office,
            pingxuan_store::now(),
        )
    {
        return Err(Failure::Conflict {
            code: "deadline_passed",
            message,
            field: None,
        });
    }
    Ok(())
}

/// Writes an event decided on `loaded`'s state; `Stale` when someone acted meanwhile.
/// A 提交 after its deadline is refused with the date.
pub async fn record(
    state: &AppState,
    loaded: &Loaded,
    event: Event,
    actor: &Access,
    note: impl Into<Note>,
    ip: Option<&str>,
) -> Result<FlowState, Failure> {
    let next = next_state(loaded, event)?;
    past_deadline(loaded, event)?;
    // The recommender's own 提交 is counted against its quota again inside the write,
    // so two forwards at once cannot both take the last place.
    let quota = match event {
        Event::Submit { by } if by as i64 == loaded.app.recommender_level => {
            match (
                loaded.app.recommender_unit_id,
                quota_of(state, loaded).await?,
            ) {
                (Some(unit_id), Some((_, max, _))) => Some(QuotaGuard {
                    unit_id,
                    max: i64::from(max),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    let update = FlowUpdate {
        holder_level: next.holder() as i64,
        holder_role: loaded.chain.levels[next.holder()].role.as_str().to_owned(),
        state_text: next.text(&loaded.chain),
        quota,
    };
    let note: Note = note.into();
    let notices = announcements(state, loaded, event, actor, &note.comment).await?;
    let audit = Audit::new(
        Some(actor.user.id),
        format!("application_{}", event.kind()),
        format!("application:{}", loaded.app.id),
    )
    .detail(update.state_text.clone())
    .ip(ip);
    state
        .store
        .append_event_with_notices(
            loaded.app.id,
            loaded.events.len() as i64,
            event,
            actor.user.id,
            note,
            &update,
            &notices,
            &audit,
        )
        .await?;
    Ok(next)
}

/// 我承诺 by the applicant, for the page and the API alike; the store records it and its
/// audit entry once (a second press changes nothing).
pub async fn commit(
    state: &AppState,
    access: &Access,
    id: i64,
    ip: Option<&str>,
) -> Result<(), Failure> {
    load_own(state, access, id).await?;
    let audit = Audit::new(
        Some(access.user.id),
        "application_committed",
        format!("application:{id}"),
    )
    .detail("我承诺")
    .ip(ip);
    state.store.commit_application(id, &audit).await?;
    Ok(())
}

/// The notices a move causes: to the next holder on arrival, to the receiver of a 退回
/// (with the 修改意见) or of a recalled move; never to the person acting.
async fn announcements(
    state: &AppState,
    l: &Loaded,
    event: Event,
    actor: &Access,
    comment: &str,
) -> Result<Vec<pingxuan_store::notices::Outgoing>, Failure> {
    let what = crate::notify::naming(&text_field(&l.app.form, FieldKey::Name), &l.app.number);
    let Some(a) = pingxuan_rules::workflow::announce(
        &l.state,
        &l.chain,
        event,
        &l.campaign.campaign.short_name,
        &l.app.number,
        &what,
        comment,
    ) else {
        return Ok(Vec::new());
    };
    let parties = crate::notify::Parties {
        campaign_id: &l.app.campaign_id,
        applicant_id: l.app.applicant_id,
        work_unit_id: l.app.work_unit_id,
        recommender_unit_id: l.app.recommender_unit_id,
    };
    let to = crate::notify::recipients(&state.store, &l.chain, a.level, parties).await?;
    Ok(crate::notify::outgoing(
        to,
        Some(actor.user.id),
        l.app.id,
        a.kind,
        &a.subject,
        &a.text,
    ))
}

fn text_field(form: &FormValues, key: FieldKey) -> String {
    form.get(&key)
        .and_then(FieldValue::text)
        .unwrap_or("")
        .to_owned()
}

/// The HTML name of a field: `f.deeds`, `f.stories`, `f.resume.when` …
pub fn field_name(key: FieldKey) -> String {
    let name = serde_json::to_value(key)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("f.{name}")
}

/// Reads a posted form: the campaign's fields and, when the campaign asks any, the
/// answers to its eligibility questions (`e.<key>` = 是/否).
pub fn read_form(campaign: &Campaign, pairs: &[(String, String)]) -> FormValues {
    let mut values = form_from_pairs(&campaign.form.fields, pairs);
    let questions = pingxuan_rules::eligibility::questions(campaign);
    if !questions.is_empty() {
        let rows = questions
            .iter()
            .map(|q| {
                let name = format!("e.{}", q.key);
                let answer = pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default();
                (q.key.clone(), answer)
            })
            .filter(|(_, a)| !a.is_empty())
            .collect();
        values.insert(FieldKey::Eligibility, FieldValue::Rows(rows));
    }
    values
}

/// What the eligibility rules and the register of earlier winners raise for this
/// application's stored form.
pub async fn eligibility_findings(
    state: &AppState,
    l: &Loaded,
) -> Result<Vec<pingxuan_rules::eligibility::Finding>, Failure> {
    let id = text_field(&l.app.form, FieldKey::IdNumber);
    let entry = if id.trim().is_empty() {
        None
    } else {
        state.store.winner_entry(&l.app.campaign_id, &id).await?
    };
    Ok(pingxuan_rules::eligibility::assess(
        &l.campaign,
        &l.app.form,
        entry.as_deref(),
    ))
}

/// Reads the campaign's fields from posted name/value pairs.
pub fn form_from_pairs(fields: &[FormField], pairs: &[(String, String)]) -> FormValues {
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let mut values = FormValues::new();
    for f in fields {
        let name = field_name(f.key);
        let value = match f.key {
            FieldKey::Resume => {
                let when = all(&format!("{name}.when"));
                let what = all(&format!("{name}.what"));
                let rows: Vec<(String, String)> = when
                    .into_iter()
                    .zip(what)
                    .filter(|(a, b)| !(a.is_empty() && b.is_empty()))
                    .collect();
                FieldValue::Rows(rows)
            }
            FieldKey::Stories => FieldValue::List(all(&name)),
            _ if f.key.is_choice() && f.multiple => {
                FieldValue::List(all(&name).into_iter().filter(|v| !v.is_empty()).collect())
            }
            _ => FieldValue::Text(all(&name).into_iter().next().unwrap_or_default()),
        };
        values.insert(f.key, value);
    }
    values
}

impl Loaded {
    /// The deadline binding a submission from `level`, extensions included; `None`
    /// when the campaign sets none at or above the level.
    pub fn deadline(&self, level: usize) -> Option<pingxuan_rules::deadline::Binding> {
        pingxuan_rules::deadline::binding(
            &self.campaign,
            &self.chain,
            level,
            self.app.recommender_unit_id,
            &self.extensions,
        )
    }

    /// “提交截止：2024年3月26日 23:59（剩余 3 天）” for `level`, and whether it passed.
    pub fn deadline_line(&self, level: usize) -> Option<(String, bool)> {
        let b = self.deadline(level)?;
        let now = pingxuan_store::now();
        let mut text = format!(
            "提交截止：{}（{}）",
            pingxuan_rules::deadline::format_beijing(b.at),
            pingxuan_rules::deadline::remaining(b.at, now)
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

/// The level at which `access` sees this application: 0 for its applicant; for units,
/// the level of the chain their role matches (所在单位: the application's work unit;
/// 推荐单位: its recommender; 活动办公室: the campaign's organisers), once the
/// application has reached it. `None`: the person may not see it at all.
pub fn viewer_level(access: &Access, l: &Loaded) -> Option<usize> {
    use pingxuan_rules::Role;
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
    l.app
        .form
        .get(&FieldKey::ActualEmployer)
        .and_then(FieldValue::text)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

/// Who acted on each event: the account's display name (a unit's accounts carry the
/// unit's name), by account id.
pub async fn actor_names(
    state: &AppState,
    l: &Loaded,
) -> Result<std::collections::HashMap<i64, String>, Failure> {
    let mut names = std::collections::HashMap::new();
    for actor in l.events.iter().filter_map(|e| e.actor_id) {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(actor) {
            let name = state.store.get_user(actor).await?;
            slot.insert(name.map(|u| u.display_name).unwrap_or_default());
        }
    }
    Ok(names)
}

/// 办理: records that `level` opened what was submitted to it, the first time only.
pub async fn open_if_new(
    state: &AppState,
    access: &Access,
    l: &Loaded,
    level: usize,
    ip: Option<&str>,
) -> Result<(), Failure> {
    if l.state.awaiting_open(level) {
        match record(state, l, Event::Open { by: level }, access, "", ip).await {
            // Someone moved it meanwhile (a recall, another opening): nothing to record,
            // and nothing went wrong for the person opening it.
            Err(Failure::Conflict { code: "stale", .. }) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Loads an application for a unit acting on it; 404 when it may not see it.
pub async fn load_for_unit(
    state: &AppState,
    access: &Access,
    id: i64,
) -> Result<(Loaded, usize), Failure> {
    let l = load(state, id).await?;
    match viewer_level(access, &l) {
        Some(level) if level > 0 => Ok((l, level)),
        _ => Err(Failure::NotFound),
    }
}

/// A unit's category quota as (forwarded so far, limit with granted exceptions,
/// strictness); `None` when the category sets no limit.
pub async fn quota_of(
    state: &AppState,
    l: &Loaded,
) -> Result<Option<(i64, u32, pingxuan_rules::campaign::Strictness)>, Failure> {
    let Some(unit_id) = l.app.recommender_unit_id else {
        return Ok(None);
    };
    let Some(cat) = recommender_category(state, l).await? else {
        return Ok(None);
    };
    let Some(max) = cat.quota_max else {
        return Ok(None);
    };
    let used = state.store.forwarded_by_recommender(unit_id).await?;
    // Places the organiser granted beyond a “原则上” quota.
    let extra = match cat.quota_strictness {
        pingxuan_rules::campaign::Strictness::InPrinciple => {
            u32::try_from(state.store.quota_extra(unit_id).await?).unwrap_or(0)
        }
        pingxuan_rules::campaign::Strictness::Strict => 0,
    };
    Ok(Some((used, max + extra, cat.quota_strictness)))
}

/// The campaign's category of the application's recommending unit (设区市, 学会 …).
pub async fn recommender_category(
    state: &AppState,
    l: &Loaded,
) -> Result<Option<pingxuan_rules::campaign::RecommenderCategory>, Failure> {
    let Some(unit_id) = l.app.recommender_unit_id else {
        return Ok(None);
    };
    let units = state.store.list_units(&l.app.campaign_id).await?;
    let key = units
        .iter()
        .find(|u| u.id == unit_id)
        .and_then(|u| u.category.clone());
    Ok(key.and_then(|k| {
        l.campaign
            .recommender_categories
            .iter()
            .find(|c| c.key == k)
            .cloned()
    }))
}

/// What a reviewing level does to an application it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitAction {
    Submit,
    Return { to: usize },
    Recall,
}

/// A reviewing level's action, with its checks: 修改意见 for a 退回; the level's own
/// opinion, the actual employer's co-signature where the campaign asks for one, and
/// the category quota for a 提交. Refusals are `Invalid` (field `comment`)
/// or `Conflict` (the flow does not allow it, or someone acted meanwhile).
pub async fn unit_act(
    state: &AppState,
    access: &Access,
    l: &Loaded,
    level: usize,
    action: UnitAction,
    note: Note,
    ip: Option<&str>,
) -> Result<FlowState, Failure> {
    let comment = note.comment.trim();
    let event = match action {
        UnitAction::Submit => Event::Submit { by: level },
        UnitAction::Return { to } => Event::Return { by: level, to },
        UnitAction::Recall => Event::Recall { by: level },
    };
    // Whether the move is possible at all comes first: a repeated 提交 hears that it was
    // already sent, not that the quota is now full or something is missing; then the
    // deadline, since nothing else matters once it has passed.
    next_state(l, event)?;
    past_deadline(l, event)?;
    let level_cfg = l
        .campaign
        .levels
        .iter()
        .find(|x| x.key == l.chain.levels[level].key);
    let opinion = level_cfg.and_then(|x| x.opinion.clone());
    // Only a submitting level that the campaign asks for it keeps a co-signature.
    let co_signs =
        matches!(event, Event::Submit { .. }) && level_cfg.is_some_and(|x| x.employer_also_signs);
    if co_signs
        && let Some((field, message)) = pingxuan_rules::workflow::co_signature_problem(
            &note.co_signer,
            &note.co_opinion,
            &actual_employer(l),
        )
    {
        return Err(Failure::invalid("co_signature", message, Some(field)));
    }
    if matches!(event, Event::Submit { .. }) {
        let missing = missing_materials(state, l, level).await?;
        if !missing.is_empty() {
            return Err(Failure::invalid(
                "materials_missing",
                format!("材料不全，未提交：{}", missing.join("；")),
                Some("materials"),
            ));
        }
    }
    let quota = match event {
        Event::Submit { by } if by as i64 == l.app.recommender_level => {
            quota_of(state, l).await?.map(|(used, max, _)| (used, max))
        }
        _ => None,
    };
    if let Some((code, message)) =
        pingxuan_rules::workflow::review_action_problem(event, comment, opinion.as_deref(), quota)
    {
        if code == "quota_full" {
            // The same answer as when a forward at the same moment took the last place.
            return Err(Failure::Conflict {
                code,
                message,
                field: None,
            });
        }
        let field = (code == "comment_required").then_some("comment");
        return Err(Failure::invalid(code, message, field));
    }
    let note = if co_signs {
        Note {
            comment: comment.to_owned(),
            co_signer: note.co_signer.trim().to_owned(),
            co_opinion: note.co_opinion.trim().to_owned(),
        }
    } else {
        Note::from(comment)
    };
    record(state, l, event, access, note, ip).await
}

/// What the chain's level `at` must still attach to this application before its 提交.
async fn missing_materials(
    state: &AppState,
    l: &Loaded,
    at: usize,
) -> Result<Vec<String>, Failure> {
    let files = state.store.attachments_of(l.app.id).await?;
    let count_of = |key: &str| files.iter().filter(|a| a.material_key == key).count() as u32;
    Ok(pingxuan_rules::materials::missing_at(
        &l.campaign,
        &l.chain,
        at,
        count_of,
    ))
}

/// Why an applicant's 提交 was refused: problems per field, and what else is missing.
#[derive(Debug, Default)]
pub struct SubmitRefusal {
    pub errors: std::collections::BTreeMap<FieldKey, Vec<String>>,
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

/// The applicant's 提交 of the stored form: the full check, 我承诺 and the recommender
/// first; `Ok(Err(..))` lists everything that stands in the way.
pub async fn applicant_submit(
    state: &AppState,
    access: &Access,
    l: &Loaded,
    ip: Option<&str>,
) -> Result<Result<FlowState, SubmitRefusal>, Failure> {
    // As for the units: a 提交 that cannot happen, or comes too late, hears only that.
    let event = Event::Submit { by: 0 };
    next_state(l, event)?;
    past_deadline(l, event)?;
    let mut refusal = SubmitRefusal::default();
    for p in pingxuan_rules::form::check_submission(&l.campaign, &l.app.form) {
        refusal.errors.entry(p.field).or_default().push(p.message);
    }
    if let Some(cat) = recommender_category(state, l).await?
        && let Some(group) = &cat.group
        && let Some(m) = pingxuan_rules::form::group_problem(&cat.name, group, &l.app.form)
    {
        refusal.errors.entry(FieldKey::Group).or_default().push(m);
    }
    for f in eligibility_findings(state, l).await? {
        if f.blocking {
            refusal
                .errors
                .entry(FieldKey::Eligibility)
                .or_default()
                .push(f.message);
        }
    }
    if l.app.committed_at.is_none() {
        refusal
            .blockers
            .push("请先阅读评选规则并点击“我承诺”".to_owned());
    }
    if l.app.recommender_unit_id.is_none() {
        refusal.blockers.push("尚未选择推荐单位".to_owned());
    }
    refusal
        .blockers
        .extend(missing_materials(state, l, 0).await?);
    if !refusal.errors.is_empty() || !refusal.blockers.is_empty() {
        return Ok(Err(refusal));
    }
    Ok(Ok(record(state, l, event, access, "", ip).await?))
}

async fn campaign_for_entry(
    state: &AppState,
    campaign_id: &str,
) -> Result<(String, Arc<Campaign>), Failure> {
    let campaign = state
        .store
        .campaign_model(campaign_id)
        .await?
        .ok_or_else(|| {
            Failure::invalid(
                "unknown_campaign",
                format!("活动 {campaign_id} 不存在"),
                Some("campaign"),
            )
        })?;
    Ok((campaign.campaign.id.clone(), campaign))
}

/// Creates the application and records it in the audit trail. Returns (id, number).
async fn start_application(
    state: &AppState,
    access: &Access,
    campaign_id: &str,
    campaign: &Campaign,
    binding: Binding,
    code_id: Option<i64>,
    ip: Option<&str>,
) -> Result<(i64, String), Failure> {
    let chain = Chain::for_application(campaign, binding.merged);
    let first = FlowState::default().text(&chain);
    let new = NewApplication {
        binding,
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
    let (id, number) = state
        .store
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
) -> Binding {
    let chain = Chain::for_application(campaign, merged);
    Binding {
        recommender_unit_id: Some(recommender),
        work_unit_id: work_unit,
        merged,
        recommender_level: chain
            .level_of(pingxuan_rules::Role::Recommender)
            .unwrap_or(1) as i64,
    }
}

/// 我要申请 in a campaign that takes applications directly: a new application bound to
/// the chosen recommending unit. Returns (id, number).
pub async fn create_open_application(
    state: &AppState,
    access: &Access,
    campaign_id: &str,
    recommender: Option<i64>,
    ip: Option<&str>,
) -> Result<(i64, String), Failure> {
    use pingxuan_rules::Role;
    use pingxuan_rules::campaign::EntryMode;
    if !access.has(Role::Applicant) {
        return Err(Failure::Forbidden);
    }
    let (campaign_id, campaign) = campaign_for_entry(state, campaign_id).await?;
    if campaign.entry.mode != EntryMode::Open {
        return Err(Failure::invalid(
            "code_required",
            "本活动不接受个人直接申请，请凭推荐单位发放的推荐码申报",
            Some("code"),
        ));
    }
    let units = state.store.list_units(&campaign_id).await?;
    let unit = recommender
        .and_then(|id| {
            units
                .iter()
                .find(|u| u.id == id && u.kind == Role::Recommender)
        })
        .ok_or_else(|| {
            Failure::invalid(
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
        return Err(Failure::invalid(
            "code_required",
            "本活动需由推荐单位发放推荐码后申报",
            Some("code"),
        ));
    }
    // A work-unit level that merges needs no unit of its own here.
    let merged = campaign.levels.iter().any(|l| l.role == Role::WorkUnit);
    let binding = binding_for(&campaign, unit.id, None, merged);
    start_application(state, access, &campaign_id, &campaign, binding, None, ip).await
}

/// 凭推荐码申报: a new application bound to the code's recommender and work unit.
/// Every refusal names the field `code`. Returns (id, number).
pub async fn create_coded_application(
    state: &AppState,
    access: &Access,
    typed: &str,
    ip: Option<&str>,
) -> Result<(i64, String), Failure> {
    use pingxuan_rules::Role;
    if !access.has(Role::Applicant) {
        return Err(Failure::Forbidden);
    }
    let invalid = |code, message: &str| Failure::invalid(code, message, Some("code"));
    let Some(canonical) = pingxuan_rules::code::normalize(typed) else {
        return Err(invalid(
            "code_malformed",
            "推荐码应为12位字母和数字（如 ABCD-EFGH-JKMN），请核对",
        ));
    };
    let Some(code) = state.store.find_code(&canonical).await? else {
        state
            .store
            .audit(Some(access.user.id), "code_unknown", "", "", ip)
            .await?;
        return Err(invalid("code_unknown", "推荐码不存在，请核对后重新输入"));
    };
    if code.revoked_at.is_some() {
        return Err(invalid("code_revoked", "该推荐码已被推荐单位作废"));
    }
    if code.application_id.is_some() {
        return Err(invalid(
            "code_used",
            "该推荐码已被使用，每个推荐码只能申报一次",
        ));
    }
    let (campaign_id, campaign) = campaign_for_entry(state, &code.campaign_id).await?;
    let binding = binding_for(&campaign, code.unit_id, code.work_unit_id, code.merged);
    start_application(
        state,
        access,
        &campaign_id,
        &campaign,
        binding,
        Some(code.id),
        ip,
    )
    .await
}
