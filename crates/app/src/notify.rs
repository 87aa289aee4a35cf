//! Who is told what: the accounts acting for a level of an application, the notices a
//! move causes, and the reminder sweep before deadlines. Notices and their mail are
//! written with the move (see `store::notices`), so they are never lost.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::Campaign;
use pingxuan_rules::workflow::Chain;
use pingxuan_store::Store;
use pingxuan_store::notices::{Outgoing, Recipient};

/// The units and people an application goes through.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    pub campaign_id: &'a str,
    pub applicant_id: i64,
    pub work_unit_id: Option<i64>,
    pub recommender_unit_id: Option<i64>,
}

/// The active accounts acting for `level` of `chain`.
pub async fn recipients(
    store: &Store,
    chain: &Chain,
    level: usize,
    p: Parties<'_>,
) -> pingxuan_store::Result<Vec<Recipient>> {
    let Some(l) = chain.levels.get(level) else {
        return Ok(Vec::new());
    };
    match l.role {
        Role::Applicant => store.user_recipient(p.applicant_id).await,
        Role::Organizer => {
            store
                .level_recipients(p.campaign_id, Role::Organizer, None)
                .await
        }
        Role::WorkUnit => match p.work_unit_id {
            Some(u) => {
                store
                    .level_recipients(p.campaign_id, Role::WorkUnit, Some(u))
                    .await
            }
            None => Ok(Vec::new()),
        },
        Role::Recommender => match p.recommender_unit_id {
            Some(u) => {
                store
                    .level_recipients(p.campaign_id, Role::Recommender, Some(u))
                    .await
            }
            None => Ok(Vec::new()),
        },
        _ => Ok(Vec::new()),
    }
}

/// One notice per recipient, leaving out the person who acted.
pub fn outgoing(
    to: Vec<Recipient>,
    actor: Option<i64>,
    application_id: i64,
    kind: &'static str,
    subject: &str,
    text: &str,
) -> Vec<Outgoing> {
    to.into_iter()
        .filter(|(id, _)| Some(*id) != actor)
        .map(|(user_id, email)| Outgoing {
            user_id,
            email,
            application_id: Some(application_id),
            kind,
            subject: subject.to_owned(),
            text: text.to_owned(),
        })
        .collect()
}

/// Days before a deadline when whoever holds an unfinished application is reminded.
pub const REMINDER_DAYS: [i64; 2] = [3, 1];

/// Sends the reminders that are due now — to whoever holds an unfinished application
/// before a level's deadline, and to experts who owe sheets before a stage's — and
/// returns how many notices went out.
pub async fn remind_due(store: &Store, now: i64) -> pingxuan_store::Result<usize> {
    let mut sent = remind_experts_due(store, now).await?;
    for stored in store.list_campaigns().await? {
        let Ok(campaign) = stored.model() else {
            continue;
        };
        if campaign.levels.iter().all(|l| l.deadline.is_none()) {
            continue;
        }
        let extensions: Vec<_> = store
            .deadline_extensions(&stored.id)
            .await?
            .iter()
            .map(|g| g.extension())
            .collect();
        for held in store.held_applications(&stored.id).await? {
            sent += remind_one(store, &campaign, &stored.id, &held, &extensions, now).await?;
        }
    }
    Ok(sent)
}

async fn remind_one(
    store: &Store,
    campaign: &Campaign,
    campaign_id: &str,
    held: &pingxuan_store::notices::Held,
    extensions: &[pingxuan_rules::deadline::Extension],
    now: i64,
) -> pingxuan_store::Result<usize> {
    let chain = Chain::for_application(campaign, held.merged);
    let level = held.holder_level as usize;
    let Some(b) = pingxuan_rules::deadline::binding(
        campaign,
        &chain,
        level,
        held.recommender_unit_id,
        extensions,
    ) else {
        return Ok(0);
    };
    let Some(days) = pingxuan_rules::deadline::reminder_due(b.at, now, &REMINDER_DAYS) else {
        return Ok(0);
    };
    if !store
        .claim_reminder(held.id, level as i64, days, b.at)
        .await?
    {
        return Ok(0);
    }
    let parties = Parties {
        campaign_id,
        applicant_id: held.applicant_id,
        work_unit_id: held.work_unit_id,
        recommender_unit_id: held.recommender_unit_id,
    };
    let to = recipients(store, &chain, level, parties).await?;
    let what = pingxuan_rules::decide::naming(&held.name, &held.number);
    let text = format!(
        "{what}尚在{}处未提交，{}提交截止时间为{}，请抓紧办理。",
        chain.name(level),
        b.level_name,
        pingxuan_rules::deadline::in_force_text(b.at, now)
    );
    let subject = format!(
        "【{}】申请书 {} 提交截止提醒",
        campaign.campaign.short_name, held.number
    );
    let out = outgoing(to, None, held.id, "reminder", &subject, &text);
    store.send_notices(&out).await?;
    Ok(out.len())
}

/// Experts who still owe sheets in an open review stage, 3 days and 1 day before its
/// deadline: one notice each (with its mail), each sent once.
async fn remind_experts_due(store: &Store, now: i64) -> pingxuan_store::Result<usize> {
    use pingxuan_rules::campaign::StageKind;
    use pingxuan_rules::selection::stage::{self, Phase};
    let mut sent = 0;
    for stored in store.list_campaigns().await? {
        let Ok(campaign) = stored.model() else {
            continue;
        };
        let due: Vec<_> = campaign
            .stages
            .iter()
            .filter(|s| s.kind == StageKind::Review)
            .filter_map(|s| {
                let at = pingxuan_rules::campaign::deadline_instant(s.deadline.as_ref()?)
                    .ok()?
                    .unix_timestamp();
                let days = pingxuan_rules::deadline::reminder_due(at, now, &REMINDER_DAYS)?;
                Some((s, at, days))
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        let events = store.stage_events(&stored.id).await?;
        for (s, at, days) in due {
            let state = stage::replay(
                events
                    .iter()
                    .filter(|e| e.stage_key == s.key)
                    .map(|e| &e.event),
            );
            if state.phase != Phase::Open {
                continue;
            }
            let sheets = store.sheets(&stored.id, &s.key).await?;
            let mut owing: Vec<(i64, usize)> = Vec::new();
            for a in store.assignments(&stored.id, &s.key).await? {
                let done = sheets.iter().any(|x| {
                    x.expert_id == a.expert_id
                        && x.application_id == a.application_id
                        && x.submitted_at.is_some()
                });
                if done {
                    continue;
                }
                match owing.iter_mut().find(|(e, _)| *e == a.expert_id) {
                    Some((_, k)) => *k += 1,
                    None => owing.push((a.expert_id, 1)),
                }
            }
            for (expert, k) in owing {
                if !store
                    .claim_stage_reminder(&stored.id, &s.key, expert, days, at)
                    .await?
                {
                    continue;
                }
                let text = format!(
                    "您在“{}”尚有 {k} 份评分表未提交，评审截止时间为{}，请抓紧评审（我的评审）。",
                    s.name,
                    pingxuan_rules::deadline::in_force_text(at, now)
                );
                let subject = format!("【{}】{}评审截止提醒", campaign.campaign.short_name, s.name);
                let out: Vec<Outgoing> = store
                    .user_recipient(expert)
                    .await?
                    .into_iter()
                    .map(|(user_id, email)| Outgoing {
                        user_id,
                        email,
                        application_id: None,
                        kind: "reminder",
                        subject: subject.clone(),
                        text: text.clone(),
                    })
                    .collect();
                store.send_notices(&out).await?;
                sent += out.len();
            }
        }
    }
    Ok(sent)
}
