//! The organiser's markings for the final list's rules: who counts as 院士, 青年, 女性 or
//! 基层一线 where the 推荐表 does not say or says wrong, each with a reason, before the
//! final list is confirmed (the draw in `final_list` reads them).

use pingxuan_store::Store;

use crate::error::Result;

/// The organiser marks a candidate's indicator (基层一线, which no 推荐表 asks; a 院士
/// the form got wrong) or, with `value` `None`, returns it to the 推荐表: before the
/// final list is confirmed, with a reason, its audit entry in the same transaction.
#[allow(clippy::too_many_arguments)]
pub async fn mark(
    store: &Store,
    access: &crate::access::Access,
    campaign_id: &str,
    application_id: i64,
    indicator: &str,
    value: Option<bool>,
    reason: &str,
    ip: Option<&str>,
) -> Result<()> {
    use crate::error::Error;
    use pingxuan_rules::selection::indicators::{MarkRefusal, decide_mark};
    use pingxuan_rules::selection::stage::Phase;
    let round = crate::stages::load(store, access, campaign_id).await?;
    let last = round
        .campaign
        .stages
        .len()
        .checked_sub(1)
        .ok_or(Error::NotFound)?;
    let Some(ind) = pingxuan_rules::campaign::Indicator::from_key(indicator) else {
        return Err(Error::invalid(
            "indicator",
            "标记的类别应为 academician（院士）、young（青年）、female（女性）或 grassroots（基层一线）",
            Some("indicator"),
        ));
    };
    let desk = store.desk_rows(campaign_id).await?;
    let row = desk.iter().find(|r| r.id == application_id);
    let confirmed = round.states[last].phase == Phase::Advanced;
    let reason = decide_mark(confirmed, row.is_some(), reason).map_err(|r| match r {
        MarkRefusal::Reason(words) => Error::invalid("reason", words, Some("reason")),
        MarkRefusal::Unknown => Error::NotFound,
        MarkRefusal::Confirmed => Error::conflict("list_confirmed", r.message()),
    })?;
    let name = row.map(|r| r.name.clone()).unwrap_or_default();
    let noun =
        pingxuan_rules::selection::final_list::noun(ind, round.campaign.final_list.young_max_age);
    let what = match value {
        Some(true) => format!("属于{noun}"),
        Some(false) => format!("不属于{noun}"),
        None => format!("{noun}恢复按推荐表"),
    };
    let audit = pingxuan_store::audit::Audit::new(
        access.actor(),
        "indicator_marked",
        format!("application:{application_id}"),
    )
    .detail(format!("标记{name}{what}，理由：{reason}"))
    .ip(ip);
    let stage = &round.campaign.stages[last].key;
    store
        .record_mark(
            campaign_id,
            stage,
            round.events[last].len() as i64,
            application_id,
            ind.key(),
            value,
            &reason,
            access.actor(),
            &audit,
        )
        .await
        .map_err(crate::error::stale_as(
            "最终名单刚被确定或撤销，您的标记未保存；请刷新页面后再操作",
        ))?;
    Ok(())
}
