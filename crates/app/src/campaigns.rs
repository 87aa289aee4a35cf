//! Campaigns as organisers run them: loading a campaign file (a new campaign or a new
//! revision), extending a deadline, granting a place beyond a “原则上” quota, loading
//! the register of earlier winners; each checked here once for the page and the API.

use pingxuan_rules::campaign::{Problem, Severity, load};
use pingxuan_store::audit::Audit;

use crate::access::Access;
use crate::error::Error;
use pingxuan_store::Store;

pub struct Saved {
    pub id: String,
    pub revision: i64,
    pub warnings: Vec<Problem>,
}

pub enum LoadOutcome {
    Saved(Saved),
    /// The file has errors and nothing was saved.
    Refused(Vec<Problem>),
}

/// Checks a campaign file and, when it has no errors and the person may, saves it as a
/// new campaign or a new revision of an existing one.
pub async fn load_campaign(
    store: &Store,
    access: &Access,
    toml_text: &str,
    ip: Option<&str>,
) -> Result<LoadOutcome, Error> {
    let report = load(toml_text);
    let Some(campaign) = report.campaign else {
        // Even a refused file may only be checked by those who may load files at all.
        if !access.manages_campaigns() {
            return Err(Error::Forbidden);
        }
        return Ok(LoadOutcome::Refused(report.problems));
    };
    let id = campaign.campaign.id.clone();
    let existing = store.get_campaign(&id).await?;
    access.require_campaign_loader(existing.as_ref().map(|c| c.id.as_str()))?;
    if let Some(old) = &existing
        && let Some(problem) =
            pingxuan_rules::workflow::chain_change_problem(&old.model()?, &campaign)
        && store.campaign_has_applications(&id).await?
    {
        return Err(Error::Conflict {
            code: "chain_changed",
            message: problem,
            field: Some("levels".to_owned()),
        });
    }
    let revision = store
        .save_campaign(&campaign, toml_text, access.actor(), |revision| {
            let action = if revision == 1 {
                "campaign_created"
            } else {
                "campaign_replaced"
            };
            Audit::new(access.actor(), action, format!("campaign:{id}"))
                .detail(format!("第 {revision} 版"))
                .ip(ip)
        })
        .await?;
    // Whoever creates a campaign (other than an admin) organises it from now on.
    if revision == 1 && !access.organizes(&id) {
        match store
            .grant_role(
                access.user.id,
                pingxuan_rules::Role::Organizer,
                Some(&id),
                None,
            )
            .await
        {
            Ok(()) | Err(pingxuan_store::StoreError::Duplicate(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(LoadOutcome::Saved(Saved {
        id,
        revision,
        warnings: report
            .problems
            .into_iter()
            .filter(|p| p.severity == Severity::Warning)
            .collect(),
    }))
}

/// What a settings change did.
pub enum SettingsOutcome {
    /// Saved as a new revision, with what changed (empty: nothing did, nothing saved).
    Saved {
        revision: i64,
        changes: Vec<pingxuan_rules::campaign::settings::Change>,
    },
    /// Nothing saved; every problem beside its field.
    Refused(Vec<pingxuan_rules::campaign::settings::Refusal>),
}

/// The organiser sets values on the campaign page (deadlines, the age reference day,
/// 公示 days, vote weights): written into the campaign file as a new revision, checked
/// as any file is, with one audit entry naming each change.
pub async fn change_settings(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    revision: i64,
    typed: &[(String, String)],
    ip: Option<&str>,
) -> Result<SettingsOutcome, Error> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let stored = store
        .get_campaign(campaign_id)
        .await?
        .ok_or(Error::NotFound)?;
    // Changed from a page showing an older revision: refused, not merged over it.
    let stale = || {
        Error::conflict(
            "stale",
            "活动设置刚被别人修改过，您的修改未保存；请刷新页面，看过最新设定后再修改",
        )
    };
    if stored.revision != revision {
        return Err(stale());
    }
    let (text, changes) =
        match pingxuan_rules::campaign::settings::apply(&stored.source_toml, typed) {
            Ok(done) => done,
            Err(refusals) => return Ok(SettingsOutcome::Refused(refusals)),
        };
    if changes.is_empty() {
        return Ok(SettingsOutcome::Saved {
            revision: stored.revision,
            changes,
        });
    }
    // A frozen vote ranks by its stage's settings as they were: they stay.
    if let Some(before) = load(&stored.source_toml).campaign {
        let mut refusals = Vec::new();
        for (i, s) in before.stages.iter().enumerate() {
            if s.kind != pingxuan_rules::campaign::StageKind::Vote
                || store.frozen_votes(campaign_id, &s.key).await?.is_none()
            {
                continue;
            }
            let prefix = format!("stages[{i}].");
            for c in changes.iter().filter(|c| c.key.starts_with(&prefix)) {
                refusals.push(pingxuan_rules::campaign::settings::Refusal {
                    key: c.key.clone(),
                    message: format!(
                        "{}：“{}”的投票结果已冻结，按冻结时的设定排名，不能再修改",
                        c.label, s.name
                    ),
                });
            }
        }
        if !refusals.is_empty() {
            return Ok(SettingsOutcome::Refused(refusals));
        }
    }
    let campaign = load(&text)
        .campaign
        .ok_or_else(|| Error::Internal("settings left a file that does not load".to_owned()))?;
    let detail = changes
        .iter()
        .map(|c| format!("{}：{} → {}", c.label, c.from, c.to))
        .collect::<Vec<_>>()
        .join("；");
    let revision = store
        .save_campaign_over(
            &campaign,
            &text,
            access.actor(),
            Some(revision),
            |revision| {
                Audit::new(
                    access.actor(),
                    "campaign_settings_changed",
                    format!("campaign:{campaign_id}"),
                )
                .detail(format!("第 {revision} 版：{detail}"))
                .ip(ip)
            },
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Stale => stale(),
            other => other.into(),
        })?;
    Ok(SettingsOutcome::Saved { revision, changes })
}

/// Reads a date and time typed in Beijing time: `2024-03-29 23:59`, `2024-03-29T23:59`
/// (a browser's datetime-local) or a date alone, meaning the end of that day.
pub fn parse_beijing(text: &str) -> Option<i64> {
    use time::macros::format_description;
    let t = text.trim().replace('T', " ");
    let offset = time::UtcOffset::from_hms(8, 0, 0).ok()?;
    let with_time = format_description!("[year]-[month]-[day] [hour]:[minute]");
    let with_seconds = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let date_only = format_description!("[year]-[month]-[day]");
    let local = time::PrimitiveDateTime::parse(&t, with_time)
        .or_else(|_| time::PrimitiveDateTime::parse(&t, with_seconds))
        .or_else(|_| {
            time::Date::parse(&t, date_only).map(|d| d.with_hms(23, 59, 59).expect("valid time"))
        })
        .ok()?;
    Some(local.assume_offset(offset).unix_timestamp())
}

fn require_reason(reason: &str) -> Result<(), Error> {
    if reason.trim().is_empty() {
        return Err(Error::invalid(
            "reason_required",
            "请填写理由（将记入审计日志）",
            Some("reason"),
        ));
    }
    Ok(())
}

/// The organiser pushes a level's deadline back, for everyone or one recommending
/// unit's channel. The level must have a deadline and the new one must be later.
#[allow(clippy::too_many_arguments)]
pub async fn extend_deadline(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    level_key: &str,
    unit_id: Option<i64>,
    until_text: &str,
    reason: &str,
    ip: Option<&str>,
) -> Result<i64, Error> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let level = campaign
        .levels
        .iter()
        .find(|l| l.key == level_key && l.deadline.is_some())
        .ok_or_else(|| Error::invalid("unknown_level", "请选择有截止时间的环节", Some("level")))?;
    let base = level
        .deadline
        .as_ref()
        .and_then(|d| pingxuan_rules::campaign::deadline_instant(d).ok())
        .map(|t| t.unix_timestamp())
        .unwrap_or(0);
    let until = parse_beijing(until_text).ok_or_else(|| {
        Error::invalid(
            "bad_time",
            format!(
                "“{}”不是有效的时间，请写成 2024-03-29 23:59",
                until_text.trim()
            ),
            Some("until"),
        )
    })?;
    if until <= base {
        return Err(Error::invalid(
            "not_later",
            format!(
                "延期后的截止时间须晚于原截止时间（{}）",
                pingxuan_rules::deadline::format_beijing(base)
            ),
            Some("until"),
        ));
    }
    if let Some(u) = unit_id {
        let units = store.list_units(campaign_id).await?;
        if !units
            .iter()
            .any(|x| x.id == u && x.kind == pingxuan_rules::Role::Recommender)
        {
            return Err(Error::invalid(
                "unknown_unit",
                "请选择本活动的推荐单位",
                Some("unit"),
            ));
        }
    }
    require_reason(reason)?;
    let audit = Audit::new(
        Some(access.user.id),
        "deadline_extended",
        format!("campaign:{campaign_id}"),
    )
    .detail(format!(
        "{} {} → {}：{}",
        level.name,
        unit_id.map_or("全部".to_owned(), |u| format!("unit:{u}")),
        pingxuan_rules::deadline::format_beijing(until),
        reason.trim()
    ))
    .ip(ip);
    let id = store
        .extend_deadline(
            campaign_id,
            level_key,
            unit_id,
            until,
            reason,
            access.user.id,
            &audit,
        )
        .await?;
    Ok(id)
}

/// The organiser grants a recommending unit places beyond a “原则上” quota; a strict
/// quota admits no exception.
pub async fn grant_quota(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    unit_id: i64,
    extra: i64,
    reason: &str,
    ip: Option<&str>,
) -> Result<i64, Error> {
    use pingxuan_rules::campaign::Strictness;
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    let campaign = crate::applications::campaign_model(store, campaign_id).await?;
    let units = store.list_units(campaign_id).await?;
    let unit = units
        .iter()
        .find(|u| u.id == unit_id && u.kind == pingxuan_rules::Role::Recommender)
        .ok_or_else(|| Error::invalid("unknown_unit", "请选择本活动的推荐单位", Some("unit")))?;
    let category = unit
        .category
        .as_deref()
        .and_then(|k| campaign.recommender_categories.iter().find(|c| c.key == k));
    match category {
        Some(c) if c.quota_max.is_some() && c.quota_strictness == Strictness::InPrinciple => {}
        Some(c) if c.quota_max.is_some() => {
            return Err(Error::invalid(
                "strict_quota",
                format!("{}的名额是硬性规定，不能增加", c.name),
                Some("unit"),
            ));
        }
        _ => {
            return Err(Error::invalid(
                "no_quota",
                format!("{}没有名额限制，无需增加", unit.name),
                Some("unit"),
            ));
        }
    }
    if !(1..=10).contains(&extra) {
        return Err(Error::invalid(
            "bad_extra",
            format!("增加名额须为 1—10 名，现为 {extra}"),
            Some("extra"),
        ));
    }
    require_reason(reason)?;
    let audit = Audit::new(
        Some(access.user.id),
        "quota_granted",
        format!("unit:{unit_id}"),
    )
    .detail(format!("{} +{extra}：{}", unit.name, reason.trim()))
    .ip(ip);
    let id = store
        .grant_quota(campaign_id, unit_id, extra, reason, access.user.id, &audit)
        .await?;
    Ok(id)
}

/// Reads a register of earlier winners pasted from a spreadsheet or sent as CSV: one
/// person a line, 姓名, 身份证号码 and an optional 备注 (e.g. “2022年”), separated by
/// tabs or commas; a header line is skipped. Every line is checked first; one bad line
/// refuses the whole file, with each problem named by its line.
pub fn parse_winners(text: &str) -> Result<Vec<pingxuan_store::winners::Winner>, Vec<String>> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // Cells are trimmed one by one: a leading tab means an empty first cell.
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() || (i == 0 && line.contains("身份证")) {
            continue;
        }
        let cells: Vec<&str> = line
            .split(['\t', ',', '，'])
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        let (name, id) = (
            cells.first().copied().unwrap_or(""),
            cells.get(1).copied().unwrap_or(""),
        );
        if name.is_empty() {
            problems.push(format!("第 {} 行：缺少姓名", i + 1));
            continue;
        }
        if let Err(e) = pingxuan_rules::idcard::IdNumber::parse(id) {
            problems.push(format!("第 {} 行（{name}）：{e}", i + 1));
            continue;
        }
        rows.push(pingxuan_store::winners::Winner {
            name: name.to_owned(),
            id_number: id.to_owned(),
            note: cells.get(2..).map(|c| c.join(" ")).unwrap_or_default(),
        });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push("没有读到任何人员：每行应为 姓名、身份证号码、备注".to_owned());
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// The organiser replaces the campaign's register of earlier winners. Returns how many
/// people it holds now.
pub async fn load_winners(
    store: &Store,
    access: &Access,
    campaign_id: &str,
    text: &str,
    ip: Option<&str>,
) -> Result<usize, Error> {
    if !access.organizes(campaign_id) {
        return Err(Error::Forbidden);
    }
    crate::applications::campaign_model(store, campaign_id).await?;
    let rows = parse_winners(text)
        .map_err(|p| Error::invalid("bad_register", p.join("；"), Some("winners")))?;
    let audit = Audit::new(
        Some(access.user.id),
        "winners_loaded",
        format!("campaign:{campaign_id}"),
    )
    .detail(format!("{} 人", rows.len()))
    .ip(ip);
    store
        .replace_winners(campaign_id, &rows, access.user.id, &audit)
        .await?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winners_from_a_spreadsheet_or_csv() {
        let rows = parse_winners("姓名\t身份证号码\t备注\n张三\t11010519491231002x\t2022年\n\n李四,11010519491231002X,2021年,市级\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].note, "2022年");
        assert_eq!(rows[1].note, "2021年 市级");
        let bad = parse_winners("张三\t110105194912310021\n\t11010519491231002X\n").unwrap_err();
        assert_eq!(bad.len(), 2);
        assert!(bad[0].starts_with("第 1 行（张三）："), "{bad:?}");
        assert_eq!(bad[1], "第 2 行：缺少姓名");
        assert!(parse_winners(" \n").is_err());
    }
}
