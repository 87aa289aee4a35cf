//! The final list: the last stage of a campaign whose `[final]` sets hard rules (新疆:
//! “院士比例不超过10%，45岁以下青年科技工作者不少于20%”) advances the list
//! `rules::selection::final_list` draws from its ranking under those rules, instead of
//! the ranking's top K. Who counts for each rule is read from each candidate's 推荐表 by
//! `rules::selection::indicators`, with its source; every candidate's reason names the
//! rule that placed them, and the advance's audit entry carries the method, a digest of
//! the inputs and the counts.

use std::collections::HashMap;

use pingxuan_rules::campaign::{Campaign, Indicator};
use pingxuan_rules::selection::final_list::{self, Counts, Drawing, Entry, Rule};
use pingxuan_rules::selection::indicators::{self, Reading};
use pingxuan_store::Store;
use sha2::{Digest, Sha256};
use time::Date;

use crate::error::Result;

/// The method, named in the audit entry so a later reader knows how the list was drawn.
pub const METHOD: &str = "final_list/lexicographic-v1";

/// What the draw says.
#[derive(Debug, Clone)]
pub struct FinalDraw {
    /// Who the list takes, best first; else why no list meets the rules.
    pub outcome: std::result::Result<Vec<i64>, String>,
    /// For the advance's audit entry: the method, the inputs' digest, the counts.
    pub record: String,
    /// Each candidate's indicators as read, with their sources.
    pub readings: HashMap<i64, Vec<Reading>>,
    /// Each candidate's reason in the draw (“第 18 名未入选：院士已达上限 2 人”).
    pub reasons: HashMap<i64, String>,
    /// What the panel's own list is checked against, once drawn.
    pub drawing: Option<Drawing>,
    /// Candidates of equal rank the draw split where either could stand on the list:
    /// the office orders them (排定同分先后) before the list can be confirmed.
    pub tied: Vec<i64>,
    /// The campaign's further lists (新疆's 10 全国推荐人选), once the final list is
    /// confirmed.
    pub extras: Vec<Extra>,
}

/// A further list drawn once the final list is confirmed.
#[derive(Debug, Clone)]
pub struct Extra {
    /// The file's key (`[[final.extra_lists]] key`).
    pub key: String,
    pub name: String,
    pub size: u32,
    /// Who it takes, best first; else why no list meets the rules.
    pub outcome: std::result::Result<Vec<i64>, String>,
    /// Each candidate's reason in it, for those it was drawn from, in ranking order.
    pub reasons: Vec<(i64, String)>,
    /// How it was drawn, in words: “从最终名单 20 人中按相同比例（…）确定”.
    pub how: String,
    /// For the confirmation's audit entry: the method and the inputs' digest.
    pub record: String,
    /// Confirmed on the final list as it stands: (by whom, when).
    pub confirmed: Option<(String, i64)>,
}

/// Whether a campaign's stage at `index` draws its list under the final rules: the last
/// stage, when `[final]` has any.
pub fn applies(campaign: &Campaign, index: usize) -> bool {
    index + 1 == campaign.stages.len()
        && !(campaign.final_list.constraints.is_empty() && campaign.final_list.bounds.is_empty())
}

/// Draws the list of `k` from `ranked` — (candidate, place) best first — under the
/// campaign's final rules, each candidate's indicators read from its 推荐表 and the
/// organiser's markings; once the list is `confirmed`, the further lists from it.
pub async fn draw(
    store: &Store,
    campaign: &Campaign,
    k: u32,
    ranked: &[(i64, u32)],
    (age_on, age_set): (Date, bool),
    confirmed: Option<&[i64]>,
) -> Result<FinalDraw> {
    // Fewer candidates than the list's size: all of them, under the shares of that many.
    let k = k.min(ranked.len() as u32);
    let rules = final_list::rules_for(campaign, k);
    if !age_set
        && let Some((_, r)) = rules
            .iter()
            .find(|(i, _)| *i == Counts::Indicator(Indicator::Young))
    {
        return Ok(FinalDraw {
            outcome: Err(format!(
                "年龄计算基准日未设定（活动设置），无法核算“{}”",
                r.words()
            )),
            record: String::new(),
            readings: HashMap::new(),
            reasons: HashMap::new(),
            drawing: None,
            tied: Vec::new(),
            extras: Vec::new(),
        });
    }
    // The indicators the rules count, then those the guidance shows, each read once.
    let shown = indicators::shown(campaign);
    // The organiser's markings in force, which win over the 推荐表.
    let marks: HashMap<(i64, String), Option<bool>> = store
        .marks(&campaign.campaign.id)
        .await?
        .into_iter()
        .map(|m| ((m.application_id, m.indicator), m.value))
        .collect();
    let mark = |id: i64, ind: Indicator| marks.get(&(id, ind.key().to_owned())).copied().flatten();
    let mut entries = Vec::with_capacity(ranked.len());
    let mut all_readings = HashMap::new();
    for &(id, place) in ranked {
        let l = crate::applications::load(store, id).await?;
        let readings: Vec<Reading> = shown
            .iter()
            .map(|&ind| indicators::read(campaign, &l.app.form, ind, age_on, mark(id, ind)))
            .collect();
        let counts_for = rules
            .iter()
            .enumerate()
            .filter(|(_, (who, _))| match who {
                Counts::Indicator(ind) => {
                    readings.iter().any(|r| r.indicator == *ind && r.counts())
                }
                Counts::Group(g) => {
                    match l.app.form.get(&pingxuan_rules::campaign::FieldKey::Group) {
                        // One choice, or several where the form lets several be ticked.
                        Some(pingxuan_rules::form::FieldValue::Text(t)) => t.trim() == g,
                        Some(pingxuan_rules::form::FieldValue::List(l)) => {
                            l.iter().any(|t| t.trim() == g)
                        }
                        _ => false,
                    }
                }
                Counts::Category(key) => l.category.as_deref() == Some(key.as_str()),
            })
            .map(|(j, _)| 1u32 << j)
            .sum();
        all_readings.insert(id, readings);
        entries.push(Entry {
            id,
            place,
            counts_for,
        });
    }
    let plain: Vec<Rule> = rules.iter().map(|(_, r)| r.clone()).collect();
    let digest = inputs_digest(k, &plain, &entries);
    match final_list::draw(&entries, k, &plain) {
        Ok(d) => {
            let reasons = entries
                .iter()
                .zip(d.reasons)
                .map(|(e, r)| (e.id, r))
                .collect();
            let counts: Vec<String> = plain
                .iter()
                .zip(&d.counts)
                .map(|(r, n)| format!("{} {n} 人", r.noun))
                .collect();
            let ids: Vec<i64> = d.chosen.iter().map(|&i| entries[i].id).collect();
            let tied = final_list::ties(&entries, k, &plain, &d.chosen)
                .into_iter()
                .map(|i| entries[i].id)
                .collect();
            let drawing = Drawing {
                k,
                rules: plain.clone(),
                drawn: d.chosen.clone(),
                entries,
            };
            Ok(FinalDraw {
                record: format!(
                    "按名单规则确定（{}；方法 {METHOD}；输入摘要 sha256:{digest}）：{}",
                    plain.iter().map(Rule::words).collect::<Vec<_>>().join("，"),
                    counts.join("，")
                ),
                outcome: Ok(ids),
                readings: all_readings,
                reasons,
                extras: extras(campaign, &drawing, confirmed),
                drawing: Some(drawing),
                tied,
            })
        }
        Err(clash) => Ok(FinalDraw {
            outcome: Err(format!("没有满足名单规则的名单：{}", clash.message)),
            record: String::new(),
            readings: all_readings,
            reasons: HashMap::new(),
            drawing: None,
            tied: Vec::new(),
            extras: Vec::new(),
        }),
    }
}

/// The campaign's further lists, from the confirmed final list (or every ranked
/// candidate) in ranking order, under the same shares on their own size (or none).
fn extras(campaign: &Campaign, drawing: &Drawing, confirmed: Option<&[i64]>) -> Vec<Extra> {
    let Some(list) = confirmed else {
        return Vec::new();
    };
    campaign
        .final_list
        .extra_lists
        .iter()
        .map(|x| {
            let pool: Vec<Entry> = drawing
                .entries
                .iter()
                .filter(|e| !x.from_final || list.contains(&e.id))
                .copied()
                .collect();
            let k = x.size.min(pool.len() as u32);
            // The shares, counted on the further list's own size; the bounds per group
            // are the final list's alone.
            let rules: Vec<Rule> = if x.same_shares {
                final_list::rules_for(campaign, k)
                    .into_iter()
                    .filter(|(who, _)| matches!(who, Counts::Indicator(_)))
                    .map(|(_, r)| r)
                    .collect()
            } else {
                Vec::new()
            };
            let how = format!(
                "从{} {} 人中{}确定",
                if x.from_final {
                    "最终名单"
                } else {
                    "全部排名候选人"
                },
                pool.len(),
                if rules.is_empty() {
                    "按排名".to_owned()
                } else {
                    format!(
                        "按相同比例（{}）",
                        rules.iter().map(Rule::words).collect::<Vec<_>>().join("，")
                    )
                }
            );
            let record = format!(
                "方法 {METHOD}；输入摘要 sha256:{}",
                inputs_digest(k, &rules, &pool)
            );
            match final_list::draw(&pool, k, &rules) {
                Ok(d) => Extra {
                    key: x.key.clone(),
                    record,
                    confirmed: None,
                    name: x.name.clone(),
                    size: x.size,
                    outcome: Ok(d.chosen.iter().map(|&i| pool[i].id).collect()),
                    reasons: pool.iter().zip(d.reasons).map(|(e, r)| (e.id, r)).collect(),
                    how,
                },
                Err(c) => Extra {
                    key: x.key.clone(),
                    record,
                    confirmed: None,
                    name: x.name.clone(),
                    size: x.size,
                    outcome: Err(format!("没有满足规则的名单：{}", c.message)),
                    reasons: Vec::new(),
                    how,
                },
            }
        })
        .collect()
}

/// The ranking's reason with its cut (“第 3 名，晋级”) replaced by the draw's
/// (“第 3 名入选”), other parts (a tie's explanation, a show of hands' counts) kept.
pub fn with_reason(ranking: &str, drawn: &str) -> String {
    let mut replaced = false;
    let parts: Vec<&str> = ranking
        .split('；')
        .map(|part| {
            // “第 3 名，晋级”, “第 23 名（2 人并列），未晋级”: the ranking's heading.
            if !replaced && part.starts_with("第 ") && part.contains('名') {
                replaced = true;
                drawn
            } else {
                part
            }
        })
        .collect();
    if replaced {
        parts.join("；")
    } else {
        drawn.to_owned()
    }
}

/// SHA-256 of the draw's inputs in one canonical text: the size, each rule, each
/// candidate with its place and the rules it counts for.
fn inputs_digest(k: u32, rules: &[Rule], entries: &[Entry]) -> String {
    let mut h = Sha256::new();
    h.update(format!("k={k}\n"));
    for r in rules {
        h.update(format!("rule={}\n", r.words()));
    }
    for e in entries {
        h.update(format!("{}:{}:{:b}\n", e.id, e.place, e.counts_for));
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::with_reason;

    #[test]
    fn the_cut_gives_way_to_the_draw() {
        assert_eq!(with_reason("第 3 名，晋级", "第 3 名入选"), "第 3 名入选");
        assert_eq!(
            with_reason(
                "第 18 名，晋级；与第 19 名总分相同，按工作实绩排在前",
                "第 18 名未入选：院士已达上限 2 人"
            ),
            "第 18 名未入选：院士已达上限 2 人；与第 19 名总分相同，按工作实绩排在前"
        );
        assert_eq!(
            with_reason("同意 2 票，不同意 1 票；第 2 名，晋级", "第 2 名入选"),
            "同意 2 票，不同意 1 票；第 2 名入选"
        );
        assert_eq!(
            with_reason(
                "第 23 名（2 人并列），未晋级",
                "第 23 名入选：需满足 45 岁以下不少于 4 人"
            ),
            "第 23 名入选：需满足 45 岁以下不少于 4 人"
        );
    }
}
