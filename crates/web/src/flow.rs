//! The application's flow as the web layer drives it: load an application with its
//! campaign, chain and replayed state; turn posted fields into form values. Shared by
//! the pages and their API twins.

use pingxuan_rules::campaign::{Campaign, FieldKey, FormField};
use pingxuan_rules::form::{FieldValue, FormValues};
use pingxuan_rules::workflow::{Chain, Event, FlowState};
use pingxuan_store::applications::{Application, FlowUpdate, StoredEvent};

use crate::AppState;
use crate::access::Access;
use crate::error::Failure;

pub struct Loaded {
    pub app: Application,
    pub campaign: Campaign,
    pub chain: Chain,
    pub state: FlowState,
    pub events: Vec<StoredEvent>,
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
        .get_campaign(&app.campaign_id)
        .await?
        .ok_or(Failure::NotFound)?
        .model()?;
    let chain = Chain::for_application(&campaign, app.merged);
    let events = state.store.application_events(id).await?;
    let list: Vec<Event> = events.iter().map(|e| e.event).collect();
    let flow = FlowState::replay(&chain, &list)
        .map_err(|e| Failure::Internal(format!("application {id} history does not replay: {e}")))?;
    Ok(Loaded {
        app,
        campaign,
        chain,
        state: flow,
        events,
    })
}

/// Writes an event decided on `loaded`'s state; `Stale` when someone acted meanwhile.
pub async fn record(
    state: &AppState,
    loaded: &Loaded,
    event: Event,
    actor: &Access,
    comment: &str,
    ip: Option<&str>,
) -> Result<FlowState, Failure> {
    let next = loaded
        .state
        .apply(&loaded.chain, event)
        .map_err(|e| Failure::Conflict {
            code: "flow",
            message: e.to_string(),
            field: None,
        })?;
    let update = FlowUpdate {
        holder_level: next.holder() as i64,
        holder_role: loaded.chain.levels[next.holder()].role.as_str().to_owned(),
        state_text: next.text(&loaded.chain),
    };
    state
        .store
        .append_event(
            loaded.app.id,
            loaded.events.len() as i64,
            event,
            actor.user.id,
            comment,
            &update,
        )
        .await?;
    state
        .store
        .audit(
            Some(actor.user.id),
            &format!("application_{}", event.kind()),
            &format!("application:{}", loaded.app.id),
            &update.state_text,
            ip,
        )
        .await?;
    Ok(next)
}

/// The HTML name of a field: `f.deeds`, `f.stories`, `f.resume.when` …
pub fn field_name(key: FieldKey) -> String {
    let name = serde_json::to_value(key)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("f.{name}")
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

/// The level at which `access` sees this application: 0 for its applicant, the
/// recommender's level for the chosen recommending unit, the top level for the
/// campaign's organisers, each once the application has reached that level.
/// `None`: the person may not see it at all.
pub fn viewer_level(access: &Access, l: &Loaded) -> Option<usize> {
    if l.app.applicant_id == access.user.id {
        return Some(0);
    }
    let top = l.chain.top();
    let organizes = access.roles.iter().any(|r| {
        r.role == pingxuan_rules::Role::Organizer
            && r.campaign_id.as_deref() == Some(l.app.campaign_id.as_str())
    });
    if organizes && l.reached() >= top {
        return Some(top);
    }
    let rec_level = l.chain.level_of(pingxuan_rules::Role::Recommender)?;
    let is_recommender = access.roles.iter().any(|r| {
        r.role == pingxuan_rules::Role::Recommender
            && r.campaign_id.as_deref() == Some(l.app.campaign_id.as_str())
            && r.unit_id.is_some()
            && r.unit_id == l.app.recommender_unit_id
    });
    (is_recommender && l.reached() >= rec_level).then_some(rec_level)
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
