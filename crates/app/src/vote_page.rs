//! What the public voting page reads (issue 19): the round's candidates as cards — their
//! number in the round, name, unit, 事迹简介, 主要事迹 and the files a card shows —, the
//! times, the rules and the sanction in the voter's words, and the live counts where the
//! campaign shows them. A city opens this page on its phones: the cards are built once a
//! minute (or when the round changes), by one request while the others wait, and the counts
//! come from the 2-second cache; a visit reads no table but, for a proven voter, their session.

use std::sync::Arc;
use std::time::Instant;

use pingxuan_rules::Role;
use pingxuan_rules::campaign::FieldKey;
use pingxuan_rules::form::printed;
use pingxuan_rules::selection::stage::Phase;
use pingxuan_rules::vote;
use pingxuan_store::attachments::Attachment;

use crate::error::{Error, Result};
use crate::votes::{Ballots, Round};
pub use crate::votes::{Card, Deck, Standing, Standings};

/// Cards are built again at most this often (a candidate's files may change).
pub(crate) const CARDS_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// The round's cards, from the cache while the round is unchanged and under a minute old.
pub async fn cards(ballots: &Ballots, campaign_id: &str, stage_key: &str) -> Result<(Round, Deck)> {
    let round = ballots.round(campaign_id, stage_key).await?;
    let key = (campaign_id.to_owned(), stage_key.to_owned());
    let fresh = |round: &Round| {
        ballots
            .decks()
            .lock()
            .unwrap()
            .get(&key)
            .filter(|(at, deck)| at.elapsed() < CARDS_TTL && deck.events == round.events)
            .map(|(_, deck)| deck.clone())
    };
    if let Some(deck) = fresh(&round) {
        return Ok((round, deck));
    }
    let _one = ballots.building().lock().await;
    if let Some(deck) = fresh(&round) {
        return Ok((round, deck));
    }
    let store = ballots.store();
    let rows: std::collections::HashMap<i64, pingxuan_store::applications::DeskRow> = store
        .desk_rows(campaign_id)
        .await?
        .into_iter()
        .filter(|r| round.candidates.contains(&r.id))
        .map(|r| (r.id, r))
        .collect();
    let mut cards = Vec::with_capacity(round.candidates.len());
    for (n, id) in round.candidates.iter().enumerate() {
        // Sent back down the chain after the round opened: not on the page.
        let Some(row) = rows.get(id) else { continue };
        let form = store
            .get_application(*id)
            .await?
            .map(|a| a.form)
            .unwrap_or_default();
        let files = store.attachments_of(*id).await?;
        cards.push(Card {
            number: n + 1,
            id: *id,
            name: row.name.clone(),
            work_unit: row.work_unit.clone(),
            recommender: row.recommender.clone(),
            summary: pingxuan_export::summary::row_of(&form, "").brief,
            deeds: printed(&form, FieldKey::Deeds),
            files: crate::release::gallery_files(&round.campaign, &files),
        });
    }
    let shares = crate::votes::shares(store, campaign_id, stage_key)
        .await?
        .into_iter()
        .map(|(_, code)| code)
        .collect();
    let standings = match round.phase {
        Phase::Closed | Phase::Advanced => standings(store, &round, &cards).await?.map(Arc::new),
        _ => None,
    };
    let deck = Deck {
        events: round.events,
        cards: Arc::new(cards),
        shares: Arc::new(shares),
        standings,
    };
    ballots
        .decks()
        .lock()
        .unwrap()
        .insert(key, (Instant::now(), deck.clone()));
    Ok((round, deck))
}

/// A closed round's result as the stage's page ranks it (read as the office reads it: the
/// frozen count, the tie keys, the office's order of a tie, an objection's removal),
/// without what only the office sees. `None` before the freeze.
async fn standings(
    store: &pingxuan_store::Store,
    round: &Round,
    cards: &[Card],
) -> Result<Option<Standings>> {
    let campaign_id = round.campaign.campaign.id.as_str();
    let stage = round.stage();
    let Some(frozen) = store.frozen_votes(campaign_id, &stage.key).await? else {
        return Ok(None);
    };
    let v = crate::stages::view_plain(store, &crate::Access::operator(), campaign_id, &stage.key)
        .await?;
    let (Some(merged), Some(formula)) = (&v.merged, &v.formula) else {
        return Ok(None);
    };
    let confirmed = v.state().phase == Phase::Advanced;
    let number: std::collections::HashMap<i64, usize> =
        cards.iter().map(|c| (c.id, c.number)).collect();
    let counts: std::collections::HashMap<i64, Vec<u64>> = merged
        .rows
        .iter()
        .map(|r| (r.candidate, r.parts.iter().map(|p| p.count).collect()))
        .collect();
    // The objection's reason stays with the office: the public reads that it was upheld.
    let removed: std::collections::HashSet<i64> = v.removed.iter().map(|(id, _, _)| *id).collect();
    let mut rows: Vec<Standing> = v
        .candidates
        .iter()
        .filter_map(|c| {
            let (rank, total, _) = c.result.as_ref()?;
            Some(Standing {
                rank: *rank,
                number: number.get(&c.id).copied()?,
                name: c.name.clone(),
                work_unit: c.work_unit.clone(),
                counts: counts.get(&c.id).cloned().unwrap_or_default(),
                invalid: stage
                    .groups
                    .iter()
                    .map(|g| {
                        frozen
                            .invalid
                            .get(&(g.key.clone(), c.id))
                            .map_or(0, |n| (*n).max(0) as u64)
                    })
                    .collect(),
                total: total.clone(),
                advanced: confirmed && v.state().advanced.contains(&c.id),
                note: if removed.contains(&c.id) {
                    "经公示异议核实，已移出名单".to_owned()
                } else {
                    String::new()
                },
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.rank, r.number));
    let set_aside = store
        .clusters(campaign_id, &stage.key)
        .await?
        .into_iter()
        .filter(|c| c.decided() && c.voided > 0)
        .map(|c| {
            (
                crate::vote_review::signal_name(&c.signal).to_owned(),
                c.voided,
                c.reason.unwrap_or_default(),
            )
        })
        .collect();
    Ok(Some(Standings {
        root: frozen.root.clone(),
        invalid: frozen.invalid.values().sum(),
        set_aside,
        groups: stage.groups.iter().map(|g| g.name.clone()).collect(),
        formula: formula.clone(),
        rows,
        digest: frozen.digest,
        frozen_at: frozen.frozen_at,
        confirmed,
        advance: stage.advance,
        next: round
            .campaign
            .stages
            .get(round.index + 1)
            .map(|s| s.name.clone()),
    }))
}

/// The voting page: the round, its cards in the voter's order, the words before the first
/// vote, the 公众组's live counts where the campaign shows them.
#[derive(Debug, Clone)]
pub struct Page {
    pub campaign_title: String,
    pub stage_name: String,
    /// 未开始, 投票中, 已截止 — or 已结束 once the round is closed.
    pub status: String,
    pub taking: bool,
    pub window: Option<String>,
    pub rules: Vec<String>,
    pub integrity: Vec<String>,
    pub cards: Vec<Card>,
    /// Votes per card number, while the round shows counts.
    pub counts: Option<std::collections::HashMap<usize, u64>>,
    /// Whether the round has a 专业组 (experts vote on their own page).
    pub experts_vote: bool,
    /// Once frozen: the result.
    pub standings: Option<Arc<Standings>>,
}

/// The page of a round for anyone; `seed` orders a shuffled round for this browser.
pub async fn page(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    seed: &str,
    now: i64,
) -> Result<Page> {
    let (round, deck) = cards(ballots, campaign_id, stage_key).await?;
    let stage = round.stage();
    let rules = stage.vote.clone().unwrap_or_default();
    if round.phase == Phase::Pending && vote::window_text(&rules).is_none() {
        // Nothing to show a voter yet: not even when it will open.
        return Err(Error::NotFound);
    }
    let (status, taking) = match round.phase {
        Phase::Open => {
            let s = vote::status(&rules, now);
            (s.to_owned(), s == "投票中")
        }
        Phase::Pending => ("未开始".to_owned(), false),
        _ => ("已结束".to_owned(), false),
    };
    let order = vote::shown_order(rules.order, deck.cards.len(), seed);
    let cards: Vec<Card> = order.iter().map(|i| deck.cards[*i].clone()).collect();
    let counts = if rules.show_counts && round.phase == Phase::Open {
        let tallies = ballots.tallies(campaign_id, stage_key).await?;
        let public = stage.groups.iter().find(|g| g.role == Role::Voter);
        let of = public.and_then(|g| tallies.get(&g.key));
        Some(
            deck.cards
                .iter()
                .map(|c| {
                    (
                        c.number,
                        of.and_then(|t| t.get(&c.id)).copied().unwrap_or(0),
                    )
                })
                .collect(),
        )
    } else {
        None
    };
    let mut said = vote::rules_text(&rules);
    if said.is_empty() {
        said.push("本轮未设投票次数限制".to_owned());
    }
    Ok(Page {
        campaign_title: round.campaign.campaign.name.clone(),
        stage_name: stage.name.clone(),
        status,
        taking,
        window: vote::window_text(&rules),
        rules: said,
        integrity: vote::integrity_text(&rules),
        cards,
        counts,
        experts_vote: stage.groups.iter().any(|g| g.role == Role::Expert),
        standings: deck.standings.clone(),
    })
}

/// One card of the round by its number.
pub async fn card(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    number: usize,
) -> Result<Card> {
    let (_, deck) = cards(ballots, campaign_id, stage_key).await?;
    deck.cards
        .iter()
        .find(|c| c.number == number)
        .cloned()
        .ok_or(Error::NotFound)
}

/// A file a card shows, for anyone while the round is on the page: the attachment and its
/// role (portrait, photo, video).
pub async fn card_file(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    number: usize,
    file: i64,
) -> Result<(Attachment, String)> {
    let c = card(ballots, campaign_id, stage_key, number).await?;
    let f = c
        .files
        .iter()
        .find(|f| f.seq == file)
        .ok_or(Error::NotFound)?;
    let a = ballots
        .store()
        .attachment_by_id(f.attachment_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((a, f.role.clone()))
}

/// What a vote names: the candidate by number among the round's cards (not one sent back
/// down the chain since), and the share code it came by if it is one of the round's.
pub async fn target(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    number: usize,
    share: &str,
) -> Result<(i64, String)> {
    let (_, deck) = cards(ballots, campaign_id, stage_key).await?;
    let candidate = deck
        .cards
        .iter()
        .find(|c| c.number == number)
        .map(|c| c.id)
        .ok_or_else(|| {
            Error::invalid(
                "not_in_round",
                format!("本轮投票没有 {number} 号候选人"),
                Some("candidate"),
            )
        })?;
    let share = if deck.shares.iter().any(|s| s == share) {
        share.to_owned()
    } else {
        String::new()
    };
    Ok((candidate, share))
}
