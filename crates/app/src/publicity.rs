//! 公示, hosted (issue 18): the organiser publishes the confirmed final list for the days
//! it sets, on the working-day calendar; anyone reads it on a public page and objects
//! there (实名, telephone, facts, files checked by content), getting a number to follow
//! it by; the organiser enters objections made by telephone, letter or visit, takes each
//! to its outcome with a 处理意见, and an upheld one takes the candidate off the list and
//! undoes its confirmation in the same transaction. The list drawn again shows each
//! change against the 公示; those it brings in get a 递补公示 of their own.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use pingxuan_rules::calendar::day_text;
use pingxuan_rules::publicity::objection::{self, Channel, Filing, Outcome};
use pingxuan_rules::publicity::{self, Kind, Period};
use pingxuan_rules::selection::stage::{Event, Phase};
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;
use pingxuan_store::publicity::{
    Entry, NewObjection, NewPublicity, Objection, Publicity, Removing,
};
use time::{Date, Duration};

use crate::access::Access;
use crate::error::{Error, Result};

/// Files an objection may carry, each and together.
pub const MAX_FILES: usize = 5;
pub const MAX_FILE_BYTES: usize = 10 << 20;
pub const MAX_TOTAL_BYTES: usize = 20 << 20;
/// How far back the organiser may date a 公示 already put up elsewhere (the 科协's
/// website, a notice board) that the platform now hosts too.
pub const BACKDATE_DAYS: i64 = 60;

/// Today in Beijing.
pub fn today() -> Date {
    publicity::beijing_day(pingxuan_store::now())
}

/// A 公示's period, read back from its stored days.
pub fn period_of(p: &Publicity) -> Period {
    Period::stored(&p.published_on, &p.first_day, &p.last_day, p.working_days)
}

/// Where a 公示 stands at `now`, in words.
pub fn status_text(p: &Publicity, now: i64) -> &'static str {
    if period_of(p).is_over(now) {
        "公示期已结束"
    } else {
        "公示中"
    }
}

/// Who handles a 公示's objections: the organiser the final list's and the 递补's, the
/// recommending unit its own (the organiser alone sees who objected to either).
pub(crate) fn handles(access: &Access, p: &Publicity) -> bool {
    match p.unit_id {
        Some(unit) if p.kind == Kind::Unit.key() => access.roles.iter().any(|r| {
            r.role == pingxuan_rules::Role::Recommender
                && r.campaign_id.as_deref() == Some(p.campaign_id.as_str())
                && r.unit_id == Some(unit)
        }),
        _ => access.organizes(&p.campaign_id),
    }
}

/// What the organiser may publish now.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub kind: Kind,
    pub stage_key: String,
    pub stage_name: String,
    pub entries: Vec<Entry>,
    /// The stage's events the proposal was read at (the publish's guard).
    pub stage_events: i64,
    /// The day (Beijing) the list was confirmed: a 公示 is not dated before it.
    pub confirmed_on: Date,
}

/// The list against the 公示 in force: who an upheld objection took off, who the list
/// drawn again brings in (with the ranking's reason), once the stage stands apart from
/// what was published.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub removed: Vec<(String, String)>,
    pub added: Vec<(String, String)>,
}

/// An objection as the organiser sees it, the objector included.
#[derive(Debug, Clone)]
pub struct ObjectionView {
    pub objection: Objection,
    /// On a recommending unit's own 公示: the unit handles it, nothing leaves the list.
    pub unit: bool,
    /// The viewer handles it (the organiser the final list's, a unit its own 公示's).
    pub handled: bool,
    pub publicity_title: String,
    pub candidate: String,
    pub outcome: Outcome,
    pub opinion: String,
    pub channel: Channel,
    pub still_listed: bool,
}

/// The organiser's page: the 公示 published, what may be published next and why not,
/// the objections, the changes to the list.
#[derive(Debug, Clone)]
pub struct Overview {
    pub campaign: std::sync::Arc<pingxuan_rules::campaign::Campaign>,
    pub publicities: Vec<Publicity>,
    pub proposal: Option<Proposal>,
    /// Why nothing can be published now, in words.
    pub blocked: Option<String>,
    pub objections: Vec<ObjectionView>,
    pub changes: Changes,
    /// Working days the form suggests (the file's, else 5 as the other 公示 of the
    /// notices run).
    pub days: u32,
    pub contact: String,
}

/// Objections as a console lists them, from the 公示 already read: whom each concerns,
/// where it stands, whether the viewer handles it, whether its candidate is still listed
/// (`removed`: those an upheld objection took off).
pub(crate) fn objection_views(
    access: &Access,
    objections: Vec<Objection>,
    publicities: &[Publicity],
    removed: &HashSet<i64>,
) -> Vec<ObjectionView> {
    let titles: HashMap<i64, &Publicity> = publicities.iter().map(|p| (p.id, p)).collect();
    objections
        .into_iter()
        .map(|o| {
            let (outcome, opinion) = outcome_of(&o);
            let p = titles.get(&o.publicity_id);
            let candidate = p
                .and_then(|p| {
                    p.entries
                        .iter()
                        .find(|e| e.application_id == o.application_id)
                })
                .map(|e| e.name.clone())
                .unwrap_or_default();
            ObjectionView {
                handled: p.is_some_and(|p| handles(access, p)),
                unit: p.is_some_and(|p| p.kind == Kind::Unit.key()),
                publicity_title: p.map(|p| p.title.clone()).unwrap_or_default(),
                candidate,
                outcome,
                opinion,
                channel: Channel::from_key(&o.channel).unwrap_or(Channel::Online),
                still_listed: !removed.contains(&o.application_id),
                objection: o,
            }
        })
        .collect()
}

/// The day a 公示 goes up: the one typed, else today; not in the future, at most
/// `BACKDATE_DAYS` back (for one put up elsewhere first) and, for the final list, not
/// before the day it was `confirmed`.
pub(crate) fn published_day(typed: Option<Date>, confirmed: Option<Date>) -> Result<Date> {
    let today = today();
    let day = typed.unwrap_or(today);
    let back = today - Duration::days(BACKDATE_DAYS);
    let earliest = confirmed.map_or(back, |c| c.max(back));
    if day > today || day < earliest {
        let message = match confirmed {
            Some(c) => format!(
                "发布日期应在名单确定之日（{}）至今天（{}）之间，且不早于 {BACKDATE_DAYS} 天前",
                day_text(c),
                day_text(today)
            ),
            None => format!(
                "发布日期应在今天（{}）及此前 {BACKDATE_DAYS} 天之内",
                day_text(today)
            ),
        };
        return Err(Error::invalid(
            "published_on",
            message,
            Some("published_on"),
        ));
    }
    Ok(day)
}

/// The stage whose list the final 公示 shows: the last one.
fn final_stage(c: &pingxuan_rules::campaign::Campaign) -> Result<usize> {
    c.stages.len().checked_sub(1).ok_or(Error::NotFound)
}

fn outcome_of(o: &Objection) -> (Outcome, String) {
    o.steps
        .last()
        .map(|s| {
            (
                Outcome::from_key(&s.outcome).unwrap_or(Outcome::Received),
                s.opinion.clone(),
            )
        })
        .unwrap_or((Outcome::Received, String::new()))
}

/// Who is on the final list in force after the 公示 so far: every entry of the final
/// and 递补 公示 of the stage, less those taken off.
fn listed(publicities: &[Publicity], stage_key: &str, removed: &HashSet<i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = publicities
        .iter()
        .filter(|p| p.kind != Kind::Unit.key() && p.stage_key == stage_key)
        .flat_map(|p| p.entries.iter().map(|e| e.application_id))
        .filter(|id| !removed.contains(id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The organiser's view of a campaign's 公示.
pub async fn overview(store: &Store, access: &Access, campaign_id: &str) -> Result<Overview> {
    let round = crate::stages::load(store, access, campaign_id).await?;
    let last = final_stage(&round.campaign)?;
    let stage = &round.campaign.stages[last];
    let v = crate::stages::view_plain(store, access, campaign_id, &stage.key).await?;
    let publicities = store.publicities(campaign_id).await?;
    let removed: HashSet<i64> = v.removed.iter().map(|(id, ..)| *id).collect();
    let on_list = listed(&publicities, &stage.key, &removed);
    let state = v.state();
    let name_of: HashMap<i64, &crate::stages::Candidate> =
        v.candidates.iter().map(|c| (c.id, c)).collect();
    // What the list stands at: confirmed, else what the stage would advance now.
    let current: Vec<i64> = if state.phase == Phase::Advanced {
        state.advanced.clone()
    } else {
        v.outcome.clone().unwrap_or_default()
    };
    let published_any = publicities
        .iter()
        .any(|p| p.kind != Kind::Unit.key() && p.stage_key == stage.key);
    let mut changes = Changes::default();
    let settled = state.phase == Phase::Advanced || v.outcome.is_some();
    if published_any {
        changes.removed = v
            .removed
            .iter()
            .map(|(_, name, reason)| (name.clone(), reason.clone()))
            .collect();
        // Those the list drawn again (or the panel's own) no longer takes, with why.
        if settled {
            changes.removed.extend(
                on_list
                    .iter()
                    .filter(|id| !current.contains(id))
                    .filter_map(|id| name_of.get(id))
                    .map(|c| {
                        let why = c.result.as_ref().map(|r| r.2.clone()).unwrap_or_default();
                        (c.name.clone(), why)
                    }),
            );
        }
        changes.added = current
            .iter()
            .filter(|id| !on_list.contains(id))
            .filter_map(|id| name_of.get(id))
            .map(|c| {
                let why = c.result.as_ref().map(|r| r.2.clone()).unwrap_or_default();
                (c.name.clone(), why)
            })
            .collect();
    }
    let (proposal, blocked) = if state.phase != Phase::Advanced {
        (
            None,
            Some(if published_any {
                format!(
                    "名单有变化，尚待在“{}”重新确定晋级名单；确定后可发布递补人选公示",
                    stage.name
                )
            } else {
                format!("最终名单尚未确定：请先在“{}”确定晋级名单", stage.name)
            }),
        )
    } else {
        let newcomers: Vec<Entry> = state
            .advanced
            .iter()
            .filter(|id| !on_list.contains(id))
            .filter_map(|id| name_of.get(id))
            .map(|c| Entry {
                application_id: c.id,
                name: c.name.clone(),
                work_unit: c.work_unit.clone(),
                recommender: c.recommender.clone(),
                field: c.field.clone(),
            })
            .collect();
        if newcomers.is_empty() {
            (None, None)
        } else {
            (
                Some(Proposal {
                    kind: if published_any {
                        Kind::Supplement
                    } else {
                        Kind::Final
                    },
                    stage_key: stage.key.clone(),
                    stage_name: stage.name.clone(),
                    entries: newcomers,
                    stage_events: round.events[last].len() as i64,
                    confirmed_on: round.events[last]
                        .iter()
                        .rev()
                        .find(|e| matches!(e.event, Event::Advanced { .. }))
                        .map_or_else(today, |e| publicity::beijing_day(e.at)),
                }),
                None,
            )
        }
    };
    let objections = objection_views(
        access,
        store.objections(campaign_id).await?,
        &publicities,
        &removed,
    );
    let p = &round.campaign.publicity;
    Ok(Overview {
        days: p.final_working_days.unwrap_or(5),
        // What the office gave on its last 公示 (not a unit's), else the campaign file's.
        contact: publicities
            .iter()
            .rev()
            .find(|p| p.unit_id.is_none())
            .map(|p| p.contact.clone())
            .or_else(|| p.contact.clone())
            .unwrap_or_default(),
        campaign: round.campaign.clone(),
        publicities,
        proposal,
        blocked,
        objections,
        changes,
    })
}

/// The drafted notice for the proposal, as the publish form first shows it.
pub fn draft(o: &Overview) -> Option<publicity::Draft> {
    let p = o.proposal.as_ref()?;
    Some(publicity::draft(
        p.kind,
        o.campaign.award(),
        &o.campaign.campaign.office,
        p.entries.len(),
        &o.contact,
    ))
}

/// What the organiser (and, with its candidates, a unit) fills in to publish.
#[derive(Debug, Clone, Default)]
pub struct PublishForm {
    pub title: String,
    pub body: String,
    pub contact: String,
    pub working_days: u32,
    /// The day it went up; today unless it was put up elsewhere first.
    pub published_on: Option<Date>,
}

/// Publishes what the overview proposes (the final list, or those brought in after an
/// upheld objection) under the stage's guard: the list published is the list confirmed.
pub async fn publish(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    form: &PublishForm,
    ip: Option<&str>,
) -> Result<String> {
    let o = overview(store, access, campaign_id).await?;
    let Some(p) = &o.proposal else {
        return Err(Error::conflict(
            "nothing_to_publish",
            o.blocked
                .clone()
                .unwrap_or_else(|| "名单中的人选均已公示，没有需要公示的人选".to_owned()),
        ));
    };
    let (title, body, contact, period) =
        checked_notice(store, &o.campaign, form, None, Some(p.confirmed_on)).await?;
    let audit = published_audit(access, "", title, p.kind, &p.entries, &period, ip);
    store
        .publish(
            &NewPublicity {
                campaign_id,
                kind: p.kind.key(),
                unit_id: None,
                stage_key: &p.stage_key,
                title,
                body,
                contact,
                published_on: day_text(period.published),
                first_day: day_text(period.first),
                last_day: day_text(period.last),
                working_days: i64::from(period.working_days),
                ends_at: period.ends_at(),
                entries: &p.entries,
            },
            Some((&p.stage_key, p.stage_events)),
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "名单刚被撤销、重新确定或已由他人发布公示，本次未发布；请刷新页面后核对",
        ))
}

/// A 公示's notice as typed, checked: its title, text and contact trimmed, at least
/// `min_days` working days (a unit's 公示: 广西, 东莞 “公示满5个工作日”; fewer does not
/// count), and its period from the day it went up (not before `since`, the list's
/// confirmation).
pub(crate) async fn checked_notice<'f>(
    store: &Store,
    campaign: &pingxuan_rules::campaign::Campaign,
    form: &'f PublishForm,
    min_days: Option<u32>,
    since: Option<Date>,
) -> Result<(&'f str, &'f str, &'f str, Period)> {
    let (title, body, contact) = (form.title.trim(), form.body.trim(), form.contact.trim());
    publicity::check_notice(title, body, contact, form.working_days).map_err(|p| invalid_of(&p))?;
    if let Some(days) = min_days
        && form.working_days < days
    {
        return Err(Error::invalid(
            "working_days",
            format!(
                "按通知须公示满 {days} 个工作日，填写的是 {}",
                form.working_days
            ),
            Some("working_days"),
        ));
    }
    let published_on = published_day(form.published_on, since)?;
    let period = period_from(store, campaign, published_on, form.working_days).await?;
    Ok((title, body, contact, period))
}

/// The audit entry of a 公示 published (by `by`, a unit's name, or the office when empty).
pub(crate) fn published_audit(
    access: &Access,
    by: &str,
    title: &str,
    kind: Kind,
    entries: &[Entry],
    period: &Period,
    ip: Option<&str>,
) -> Audit {
    Audit::new(access.actor(), "publicity_published", "")
        .detail(format!(
            "{by}发布“{title}”（{}）：{} 人（{}），公示期{}",
            kind.text(),
            entries.len(),
            entries
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            period.text()
        ))
        .ip(ip)
}

/// The period of a 公示 published on `published_on` for `days` working days, on the
/// stored calendar and the campaign's `[publicity] start`; refused at the date's field
/// when a year is missing from the calendar or the period would already be over.
pub(crate) async fn period_from(
    store: &Store,
    campaign: &pingxuan_rules::campaign::Campaign,
    published_on: Date,
    days: u32,
) -> Result<Period> {
    let cal = store.work_calendar().await?;
    let period = publicity::period(&cal, published_on, days, campaign.publicity.start.into())
        .map_err(|e| {
            Error::invalid("calendar_year_missing", e.to_string(), Some("published_on"))
        })?;
    if period.is_over(pingxuan_store::now()) {
        return Err(Error::invalid(
            "period_over",
            format!("按此发布日期，公示期{}已经结束", period.text()),
            Some("published_on"),
        ));
    }
    Ok(period)
}

/// A 公示 as anyone reads it.
#[derive(Debug, Clone)]
pub struct PublicView {
    pub publicity: Publicity,
    pub period: Period,
    pub status: &'static str,
    /// Whether objections are taken now, else why not.
    pub open: std::result::Result<(), String>,
    /// Entries taken off the list after an upheld objection.
    pub removed: HashSet<i64>,
    pub audit_entries: i64,
    pub audit_head: String,
}

/// A 公示 by its public id, for anyone.
pub async fn public_view(store: &Store, public_id: &str) -> Result<PublicView> {
    let p = store.publicity(public_id).await?;
    let period = period_of(&p);
    let now = pingxuan_store::now();
    let mut removed: HashSet<i64> = store
        .removals(&p.campaign_id)
        .await?
        .into_iter()
        .filter(|r| r.stage_key == p.stage_key)
        .map(|r| r.application_id)
        .collect();
    // Once the list is confirmed again, whoever it no longer takes is marked too.
    if p.kind != Kind::Unit.key() {
        let events = store.stage_events(&p.campaign_id).await?;
        let state = pingxuan_rules::selection::stage::replay(
            events
                .iter()
                .filter(|e| e.stage_key == p.stage_key)
                .map(|e| &e.event),
        );
        if state.phase == Phase::Advanced {
            removed.extend(
                p.entries
                    .iter()
                    .map(|e| e.application_id)
                    .filter(|id| !state.advanced.contains(id)),
            );
        }
    }
    let head = store.audit_head().await?;
    Ok(PublicView {
        status: status_text(&p, now),
        open: period.objection_in_time(now),
        period,
        publicity: p,
        removed,
        audit_entries: head.entries,
        audit_head: head.hash,
    })
}

/// An objection as filed: typed online, or written down by the office.
#[derive(Debug, Clone, Default)]
pub struct ObjectionForm {
    pub name: String,
    pub phone: String,
    pub text: String,
    pub candidate: Option<i64>,
}

/// A file sent with an objection.
#[derive(Debug, Clone)]
pub struct SentFile {
    pub name: String,
    pub bytes: Bytes,
}

fn invalid_of(p: &objection::Problem) -> Error {
    Error::invalid(p.code, p.message.clone(), Some(p.field))
}

/// The number an objector follows theirs by: eight characters without look-alikes,
/// shown as two groups of four.
fn new_number() -> String {
    let alphabet = pingxuan_rules::code::ALPHABET;
    (0..8)
        .map(|_| alphabet[rand::random_range(0..alphabet.len())] as char)
        .collect()
}

/// “7KQ2-M9XA”.
pub fn number_text(n: &str) -> String {
    if n.len() == 8 {
        format!("{}-{}", &n[..4], &n[4..])
    } else {
        n.to_owned()
    }
}

/// Reads a number as typed: spaces and dashes dropped, small letters made capital.
pub fn read_number(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Checks each file by its content (PDF, JPG or PNG, as materials are) and keeps it in
/// storage; returns (name, format, size, key) for the row. A refused file leaves
/// nothing behind.
async fn keep_files(
    blobs: &pingxuan_blobs::Blobs,
    files: &[SentFile],
) -> Result<Vec<(String, String, i64, String)>> {
    if files.len() > MAX_FILES {
        return Err(Error::invalid(
            "too_many_files",
            format!("附件 {} 份，最多 {MAX_FILES} 份", files.len()),
            Some("files"),
        ));
    }
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > MAX_TOTAL_BYTES {
        return Err(Error::invalid(
            "files_too_large",
            format!(
                "附件合计 {}，超过 {} 上限",
                pingxuan_rules::materials::format_size(total as u64),
                pingxuan_rules::materials::format_size(MAX_TOTAL_BYTES as u64)
            ),
            Some("files"),
        ));
    }
    let mut measured = Vec::with_capacity(files.len());
    for f in files {
        let name = f.name.trim();
        if f.bytes.len() > MAX_FILE_BYTES {
            return Err(Error::invalid(
                "file_too_large",
                format!(
                    "附件“{name}”大小 {}，超过 {} 上限",
                    pingxuan_rules::materials::format_size(f.bytes.len() as u64),
                    pingxuan_rules::materials::format_size(MAX_FILE_BYTES as u64)
                ),
                Some("files"),
            ));
        }
        let bytes = f.bytes.clone();
        let m = tokio::task::spawn_blocking(move || {
            crate::materials::measure(std::io::Cursor::new(bytes))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| Error::Internal(e.to_string()))?;
        match m {
            Ok(m) if matches!(m.format, "pdf" | "jpg" | "png") => measured.push(m.format),
            Ok(m) => {
                return Err(Error::invalid(
                    "file_format",
                    format!("附件“{name}”是 {}，只接受 PDF、JPG 或 PNG 文件", m.label),
                    Some("files"),
                ));
            }
            Err(words) => {
                return Err(Error::invalid(
                    "file_damaged",
                    format!("附件“{name}”无法读取：{words}"),
                    Some("files"),
                ));
            }
        }
    }
    let folder = hex::encode(rand::random::<[u8; 16]>());
    let mut kept = Vec::with_capacity(files.len());
    for (i, (f, format)) in files.iter().zip(measured).enumerate() {
        let key = format!("objections/{folder}/{}.{format}", i + 1);
        if let Err(e) = blobs.put(&key, f.bytes.clone()).await {
            let _ = blobs.delete_prefix(&format!("objections/{folder}/")).await;
            return Err(e.into());
        }
        kept.push((
            f.name.trim().to_owned(),
            format.to_owned(),
            f.bytes.len() as i64,
            key,
        ));
    }
    Ok(kept)
}

/// Who files: anyone online, or the office entering a call, a letter or a visit with
/// the day it reached it.
#[derive(Debug, Clone, Copy)]
pub enum Filer<'a> {
    Public,
    Office {
        access: &'a Access,
        channel: Channel,
        received_on: Date,
    },
}

/// Files an objection to the 公示 `public_id`: checked by the rules (in time, 实名,
/// telephone, facts, about someone on the list), its files checked and kept, then the
/// row and its audit entry in one transaction. Returns the number to follow it by.
pub async fn object(
    store: &Store,
    blobs: &pingxuan_blobs::Blobs,
    public_id: &str,
    filer: Filer<'_>,
    form: &ObjectionForm,
    files: &[SentFile],
    ip: Option<&str>,
) -> Result<String> {
    let p = store.publicity(public_id).await?;
    let (channel, received, entered_by) = match filer {
        Filer::Public => (Channel::Online, pingxuan_store::now(), None),
        Filer::Office {
            access,
            channel,
            received_on,
        } => {
            if !handles(access, &p) {
                return Err(Error::Forbidden);
            }
            if received_on > today() {
                return Err(Error::invalid(
                    "received_on",
                    format!("收到日期{}晚于今天", day_text(received_on)),
                    Some("received_on"),
                ));
            }
            (channel, objection::received_on(received_on), access.actor())
        }
    };
    let removed: HashSet<i64> = store
        .removals(&p.campaign_id)
        .await?
        .into_iter()
        .filter(|r| r.stage_key == p.stage_key)
        .map(|r| r.application_id)
        .collect();
    let on_list: Vec<i64> = p
        .entries
        .iter()
        .map(|e| e.application_id)
        .filter(|id| !removed.contains(id))
        .collect();
    let filed = objection::check(
        &Filing {
            name: &form.name,
            phone: &form.phone,
            text: &form.text,
            candidate: form.candidate,
        },
        &period_of(&p),
        received,
        &on_list,
    )
    .map_err(|problems| {
        let mut e = invalid_of(&problems[0]);
        // The office types the day the objection reached it; the public, nothing.
        if let (Error::Invalid { field, .. }, Filer::Office { .. }) = (&mut e, filer)
            && field.as_deref() == Some("received")
        {
            *field = Some("received_on".to_owned());
        }
        e
    })?;
    let kept = keep_files(blobs, files).await?;
    let candidate = p
        .entries
        .iter()
        .find(|e| e.application_id == filed.candidate)
        .map(|e| e.name.clone())
        .unwrap_or_default();
    // A number already taken (one in 10^12) is drawn again.
    for _ in 0..3 {
        let number = new_number();
        let audit = Audit::new(
            entered_by,
            "objection_filed",
            format!("publicity:{}", p.public_id),
        )
        .detail(format!(
            "收到对“{}”中{candidate}的异议（编号 {}，{}，附件 {} 份）",
            p.title,
            number_text(&number),
            channel.text(),
            kept.len()
        ))
        .ip(ip);
        let row = NewObjection {
            number: &number,
            publicity_id: p.id,
            application_id: filed.candidate,
            channel: channel.key(),
            name: &filed.name,
            phone: &filed.phone,
            body: &filed.text,
            received_at: received,
            entered_by,
            files: &kept,
        };
        match store.file_objection(&row, &audit).await {
            Ok(_) => return Ok(number),
            Err(pingxuan_store::StoreError::Duplicate(_)) => continue,
            Err(e) => {
                for (.., key) in &kept {
                    let _ = blobs.delete(key).await;
                }
                return Err(e.into());
            }
        }
    }
    Err(Error::Internal(
        "objection number collided three times".into(),
    ))
}

/// What an objector reads by their number: the 公示, whom it concerns, where it stands
/// and the 处理意见 — never who objected.
#[derive(Debug, Clone)]
pub struct Follow {
    pub number: String,
    pub publicity_title: String,
    pub public_id: String,
    pub candidate: String,
    pub received: Date,
    pub outcome: Outcome,
    pub opinion: String,
    pub text: String,
}

/// An objection by its number, for whoever holds the number.
pub async fn follow(store: &Store, number: &str) -> Result<Follow> {
    let number = read_number(number);
    if number.len() != 8 {
        return Err(Error::NotFound);
    }
    let o = store.objection_by_number(&number).await?;
    let (outcome, opinion) = outcome_of(&o);
    let p = store
        .publicity_by_id(o.publicity_id)
        .await?
        .ok_or(Error::NotFound)?;
    let candidate = p
        .entries
        .iter()
        .find(|e| e.application_id == o.application_id)
        .map(|e| e.name.clone())
        .unwrap_or_default();
    let received = publicity::beijing_day(o.received_at);
    Ok(Follow {
        number: number_text(&o.number),
        publicity_title: p.title.clone(),
        public_id: p.public_id.clone(),
        candidate,
        received,
        text: objection::follow_text(received, outcome, &opinion),
        outcome,
        opinion,
    })
}

/// One objection of the campaign as the organiser sees it, read alone (not the whole
/// overview): whom it concerns, where it stands, whether they are still listed.
pub(crate) async fn objection_view(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    objection_id: i64,
) -> Result<ObjectionView> {
    if !access.sees_campaign(campaign_id) {
        return Err(Error::Forbidden);
    }
    let o = store.objection_in(campaign_id, objection_id).await?;
    let p = store
        .publicity_by_id(o.publicity_id)
        .await?
        .ok_or(Error::NotFound)?;
    // The organiser reads every objection (who made it included); only who handles the
    // 公示 takes one a step.
    let handled = handles(access, &p);
    if !handled && !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let still_listed = !store
        .removals(campaign_id)
        .await?
        .iter()
        .any(|r| r.stage_key == p.stage_key && r.application_id == o.application_id);
    let (outcome, opinion) = outcome_of(&o);
    Ok(ObjectionView {
        handled,
        unit: p.kind == Kind::Unit.key(),
        publicity_title: p.title.clone(),
        candidate: p
            .entries
            .iter()
            .find(|e| e.application_id == o.application_id)
            .map(|e| e.name.clone())
            .unwrap_or_default(),
        outcome,
        opinion,
        channel: Channel::from_key(&o.channel).unwrap_or(Channel::Online),
        still_listed,
        objection: o,
    })
}

/// The organiser takes an objection a step: 核查中, or an outcome with its 处理意见.
/// Upholding takes the candidate off the stage's list and, where the list was confirmed,
/// undoes the confirmation (its reason naming the objection) — one transaction under
/// the stage's guard, with the audit entry.
pub async fn decide(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    objection_id: i64,
    next: &str,
    opinion: &str,
    ip: Option<&str>,
) -> Result<Outcome> {
    let view = &objection_view(store, access, campaign_id, objection_id).await?;
    if !view.handled {
        return Err(Error::Forbidden);
    }
    let next = Outcome::from_key(next).ok_or_else(|| {
        Error::invalid(
            "outcome_invalid",
            "处理结果应为 checking（核查中）、rejected（不予受理）、unfounded（异议不成立）或 upheld（异议成立）",
            Some("outcome"),
        )
    })?;
    let opinion = objection::decide(view.outcome, next, opinion).map_err(|r| match r.field {
        Some(f) => Error::invalid(r.code, r.message, Some(f)),
        None => Error::conflict(r.code, r.message),
    })?;
    let number = number_text(&view.objection.number);
    let who = &view.candidate;
    // A unit's objection upheld after it sent the candidate up would change nothing the
    // office sees: the unit takes the candidate back (收回) first.
    if view.unit
        && next == Outcome::Upheld
        && store
            .get_application(view.objection.application_id)
            .await?
            .is_some_and(|a| a.holder_level > a.recommender_level)
    {
        return Err(Error::conflict(
            "already_forwarded",
            format!("{who}已由本单位上报；如异议成立，请先收回该申请，再认定异议成立"),
        ));
    }
    let audit = Audit::new(
        access.actor(),
        format!("objection_{}", next.key()),
        format!("objection:{}", view.objection.id),
    )
    .detail(format!(
        "异议 {number}（{who}）：{}{}",
        next.text(),
        if opinion.is_empty() {
            String::new()
        } else {
            format!("，处理意见：{opinion}")
        }
    ))
    .ip(ip);
    let seq = view.objection.steps.len() as i64 + 1;
    // Upheld about someone still on the list: they leave it, and a confirmed list is
    // undone — those told of a published outcome learn it is under review again.
    let mut notices = Vec::new();
    // A unit's own 公示 changes no stage: the upheld objection holds the unit's 提交.
    let removing = if next == Outcome::Upheld && view.still_listed && !view.unit {
        let round = crate::stages::load(store, access, campaign_id).await?;
        let last = final_stage(&round.campaign)?;
        let stage = &round.campaign.stages[last];
        let reason = format!("公示期间异议经核查成立（异议编号 {number}），移出名单");
        let state = &round.states[last];
        let revert = (state.phase == Phase::Advanced).then(|| Event::Reverted {
            reason: format!("{who}{reason}，名单需重新确定"),
        });
        if revert.is_some() && state.published {
            let v = crate::stages::view_plain(store, access, campaign_id, &stage.key).await?;
            notices = crate::stages::outcome_notices(store, &v, true).await?;
        }
        Some((
            stage.key.clone(),
            round.events[last].len() as i64,
            round.events.iter().map(Vec::len).sum::<usize>() as i64,
            reason,
            revert,
        ))
    } else {
        None
    };
    let removing = removing.as_ref().map(
        |(stage_key, stage_events, campaign_events, reason, revert)| {
            (
                Removing {
                    campaign_id,
                    stage_key,
                    stage_events: *stage_events,
                    campaign_events: *campaign_events,
                    reason,
                    revert: revert.clone(),
                },
                view.objection.application_id,
            )
        },
    );
    store
        .objection_step(
            objection_id,
            seq,
            next.key(),
            &opinion,
            access.actor(),
            removing.as_ref().map(|(r, id)| (r, *id)),
            &notices,
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "该异议或名单刚被别人处理过，您的操作未执行；请刷新页面后再操作",
        ))?;
    Ok(next)
}

/// The objector's full telephone, for the organiser to call back: lists show it masked;
/// each look is an audit entry of its own (who looked at whose number, never the number).
pub async fn objector_contact(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    objection_id: i64,
    ip: Option<&str>,
) -> Result<(String, String)> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let o = objection_view(store, access, campaign_id, objection_id)
        .await?
        .objection;
    let audit = Audit::new(
        access.actor(),
        "objection_contact_viewed",
        format!("objection:{}", o.id),
    )
    .detail(format!(
        "查看异议 {} 的异议人联系电话",
        number_text(&o.number)
    ))
    .ip(ip);
    store.record_audit(&audit).await?;
    Ok((o.name, o.phone))
}

/// A file of an objection, for the organiser: (name, format, storage key).
pub async fn objection_file(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    objection_id: i64,
    seq: i64,
) -> Result<(String, String, String)> {
    let o = objection_view(store, access, campaign_id, objection_id)
        .await?
        .objection;
    let f = o
        .files
        .into_iter()
        .find(|f| f.seq == seq)
        .ok_or(Error::NotFound)?;
    Ok((f.original_name, f.format, f.storage_key))
}

/// Whether any 公示 of the campaign still runs or any objection is unsettled, in words:
/// what stands before the release.
pub async fn unsettled(store: &Store, campaign_id: &str) -> Result<Vec<String>> {
    let now = pingxuan_store::now();
    let mut out = Vec::new();
    // The units' own 公示 came before their 提交: what they left is theirs.
    let publicities: Vec<Publicity> = store
        .publicities(campaign_id)
        .await?
        .into_iter()
        .filter(|p| p.kind != Kind::Unit.key())
        .collect();
    for p in &publicities {
        if !period_of(p).is_over(now) {
            out.push(format!(
                "“{}”公示期为{}，尚未结束",
                p.title,
                period_of(p).text()
            ));
        }
    }
    for o in store.objections(campaign_id).await? {
        if !publicities.iter().any(|p| p.id == o.publicity_id) {
            continue;
        }
        let (outcome, _) = outcome_of(&o);
        if !outcome.is_final() {
            out.push(format!(
                "异议 {} 尚未办结（{}）",
                number_text(&o.number),
                outcome.text()
            ));
        }
    }
    Ok(out)
}
