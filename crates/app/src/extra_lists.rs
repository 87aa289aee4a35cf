//! Further lists (新疆's 10 全国“最美科技工作者”推荐人选 from the 20), confirmed as a move of
//! their own once `final_list` has drawn them from the confirmed final list.

use pingxuan_store::Store;

use crate::error::Result;

/// Confirms a further list (新疆's 10 全国推荐人选) as drawn now from the confirmed final
/// list: written under the last stage's guard with its audit entry — the list, how it
/// was drawn, the method and the inputs' digest. Undoing the final list undoes it: a
/// confirmation holds only while the last stage stands where it stood.
pub async fn confirm_extra(
    store: &Store,
    access: &crate::Access,
    campaign_id: &str,
    list_key: &str,
    ip: Option<&str>,
) -> Result<()> {
    use crate::error::Error;
    let round = crate::stages::load(store, access, campaign_id).await?;
    let last = round
        .campaign
        .stages
        .len()
        .checked_sub(1)
        .ok_or(Error::NotFound)?;
    let stage = &round.campaign.stages[last];
    let Some(spec) = round
        .campaign
        .final_list
        .extra_lists
        .iter()
        .find(|x| x.key == list_key)
    else {
        return Err(Error::NotFound);
    };
    let v = crate::stages::view_plain(store, access, campaign_id, &stage.key).await?;
    let Some(extra) = v
        .final_draw
        .as_ref()
        .and_then(|d| d.extras.iter().find(|x| x.key == list_key))
    else {
        return Err(Error::conflict(
            "final_not_confirmed",
            format!(
                "“{}”从最终名单产生：请先在“{}”确定晋级名单",
                spec.name, stage.name
            ),
        ));
    };
    if let Some((by, at)) = &extra.confirmed {
        return Err(Error::conflict(
            "already_confirmed",
            format!(
                "“{}”已{}于{}确定",
                extra.name,
                if by.is_empty() {
                    String::new()
                } else {
                    format!("由{by}")
                },
                pingxuan_rules::publicity::day_words(pingxuan_rules::publicity::beijing_day(*at))
            ),
        ));
    }
    let ids = extra
        .outcome
        .clone()
        .map_err(|m| Error::conflict("no_list", m))?;
    let names: Vec<String> = ids
        .iter()
        .filter_map(|id| v.candidates.iter().find(|c| c.id == *id))
        .map(|c| c.name.clone())
        .collect();
    let audit = pingxuan_store::audit::Audit::new(
        access.actor(),
        "extra_list_confirmed",
        format!("campaign:{campaign_id}/extra:{list_key}"),
    )
    .detail(format!(
        "确定“{}” {} 人（{}）：{}；{}",
        extra.name,
        ids.len(),
        names.join("、"),
        extra.how,
        extra.record
    ))
    .ip(ip);
    store
        .confirm_extra_list(
            campaign_id,
            &stage.key,
            round.events[last].len() as i64,
            crate::stages::advanced_at(&round.events[last]),
            list_key,
            &ids,
            &extra.how,
            access.actor(),
            &audit,
        )
        .await
        .map_err(|e| match e {
            pingxuan_store::StoreError::Duplicate(_) => Error::conflict(
                "already_confirmed",
                format!("“{}”刚由他人确定，请刷新页面查看", extra.name),
            ),
            other => crate::error::stale_as(
                "最终名单刚被撤销或重新确定，本次未确定；请刷新页面后核对",
            )(other),
        })
}
