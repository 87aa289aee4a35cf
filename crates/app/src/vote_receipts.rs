//! 回执查询 (issue 20): a receipt's standing once its round is frozen — counted, with its
//! inclusion proof from the frozen round's tree (built once from the valid votes, checked
//! against the root the freeze published, kept in `Ballots`), or set aside with the
//! reason — and one not-found for every other receipt, before the freeze too; and the
//! round's published count (`R.json`) the proofs are checked against.

use std::collections::HashMap;

use pingxuan_rules::vote::merkle::{self, Proof, Published, Tally};
use pingxuan_store::Store;

use crate::error::{Error, Result};
use crate::votes::{Ballots, CountTree};

/// What a receipt shows its voter once the round is frozen.
#[derive(Debug, Clone)]
pub enum ReceiptCheck {
    /// Counted, with the proof that checks against `published`.
    Counted(Proof),
    /// Set aside by the office, with the reason.
    Invalid { candidate: i64, reason: String },
}

/// A receipt's standing in a frozen round. A receipt of another round, one never issued
/// and one mistyped get the same not-found, so receipts cannot be probed.
pub async fn receipt(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    code: &str,
) -> Result<ReceiptCheck> {
    let store = ballots.store();
    // Before the freeze no receipt says anything: a decision is published with the result.
    if store.frozen_votes(campaign_id, stage_key).await?.is_none() {
        return Err(Error::NotFound);
    }
    let code = crate::votes::receipt_as_typed(code);
    let standing = store
        .receipt_standing(&code)
        .await?
        .filter(|s| s.campaign_id == campaign_id && s.stage_key == stage_key)
        .ok_or(Error::NotFound)?;
    if let Some(reason) = standing.void_reason {
        return Ok(ReceiptCheck::Invalid {
            candidate: standing.candidate,
            reason,
        });
    }
    let tree = count_tree(ballots, campaign_id, stage_key).await?;
    let leaf = (standing.group_key, standing.candidate, code);
    let at = tree
        .leaves
        .binary_search(&leaf)
        .map_err(|_| Error::Internal(format!("receipt {} not among the leaves", leaf.2)))?;
    Ok(ReceiptCheck::Counted(Proof {
        campaign: campaign_id.to_owned(),
        stage: stage_key.to_owned(),
        group: leaf.0,
        candidate: leaf.1,
        receipt: leaf.2,
        path: tree.tree.proof(at).unwrap_or_default(),
    }))
}

/// The frozen round's tree, built once from its valid votes (the freeze built the same).
async fn count_tree(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
) -> Result<std::sync::Arc<CountTree>> {
    let key = (campaign_id.to_owned(), stage_key.to_owned());
    let cached = || {
        ballots
            .trees()
            .lock()
            .unwrap()
            .get(&key)
            .map(|(_, t)| t.clone())
    };
    if let Some(t) = cached() {
        return Ok(t);
    }
    // One build at a time: a city looking its receipts up at once waits for the first.
    let _one = ballots.building().lock().await;
    if let Some(t) = cached() {
        return Ok(t);
    }
    let store = ballots.store();
    let Some(frozen) = store.frozen_votes(campaign_id, stage_key).await? else {
        return Err(Error::NotFound);
    };
    let mut leaves = store.valid_leaves(campaign_id, stage_key).await?;
    let built = tokio::task::spawn_blocking(move || {
        let tree = merkle::Tree::of_votes(&mut leaves);
        CountTree { leaves, tree }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    // The votes as they stand must give the root the freeze published.
    if frozen.root.as_deref() != Some(built.tree.root().hex().as_str()) {
        return Err(Error::Internal(format!(
            "the votes of {campaign_id}/{stage_key} no longer give the frozen root"
        )));
    }
    let built = std::sync::Arc::new(built);
    ballots
        .trees()
        .lock()
        .unwrap()
        .insert(key, (std::time::Instant::now(), built.clone()));
    Ok(built)
}

/// A receipt as its voter reads it: the candidate by number and name in the round, the
/// group, and counted (with its proof) or set aside (with the reason).
#[derive(Debug, Clone)]
pub struct ReceiptView {
    pub number: Option<usize>,
    pub name: String,
    pub group: String,
    pub check: ReceiptCheck,
}

/// `receipt` with the candidate's card and the group's name.
pub async fn receipt_view(
    ballots: &Ballots,
    campaign_id: &str,
    stage_key: &str,
    code: &str,
) -> Result<ReceiptView> {
    let check = receipt(ballots, campaign_id, stage_key, code).await?;
    let (round, deck) = crate::vote_page::cards(ballots, campaign_id, stage_key).await?;
    let (candidate, group) = match &check {
        ReceiptCheck::Counted(p) => (p.candidate, Some(p.group.clone())),
        ReceiptCheck::Invalid { candidate, .. } => (*candidate, None),
    };
    let card = deck.cards.iter().find(|c| c.id == candidate);
    let stage = round.stage();
    let group = group
        .and_then(|g| stage.groups.iter().find(|x| x.key == g))
        .or_else(|| {
            stage
                .groups
                .iter()
                .find(|g| g.role == pingxuan_rules::Role::Voter)
        })
        .map(|g| g.name.clone())
        .unwrap_or_default();
    Ok(ReceiptView {
        number: card.map(|c| c.number),
        name: card.map(|c| c.name.clone()).unwrap_or_default(),
        group,
        check,
    })
}

/// The round's published count (`R.json`): the root and every valid tally, in leaf order.
/// Not found before the freeze, nor for a round frozen before roots were kept. Read once
/// per round and server (a city looking its receipts up reads it with each).
pub async fn published(ballots: &Ballots, campaign_id: &str, stage_key: &str) -> Result<Published> {
    let key = (campaign_id.to_owned(), stage_key.to_owned());
    if let Some((_, p)) = ballots.published().lock().unwrap().get(&key) {
        return Ok(Published::clone(p));
    }
    let p = count_of(ballots.store(), campaign_id, stage_key).await?;
    ballots.published().lock().unwrap().insert(
        key,
        (std::time::Instant::now(), std::sync::Arc::new(p.clone())),
    );
    Ok(p)
}

async fn count_of(store: &Store, campaign_id: &str, stage_key: &str) -> Result<Published> {
    let f = store
        .frozen_votes(campaign_id, stage_key)
        .await?
        .ok_or(Error::NotFound)?;
    let (Some(root), Some(total)) = (f.root, f.valid_votes) else {
        return Err(Error::NotFound);
    };
    // Labels for people reading the file: the card's number in the round and the name.
    let round = crate::votes::load_round(store, campaign_id, stage_key).await?;
    let names: HashMap<i64, String> = store
        .desk_rows(campaign_id)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let number = |id: i64| {
        round
            .candidates
            .iter()
            .position(|c| *c == id)
            .map(|n| n as u32 + 1)
    };
    Ok(Published {
        campaign: campaign_id.to_owned(),
        stage: stage_key.to_owned(),
        root,
        total: total as u64,
        // `Counts` is ordered by (group, candidate): the leaves' order.
        tallies: f
            .counts
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((group, candidate), n)| Tally {
                group: group.clone(),
                candidate: *candidate,
                count: *n as u64,
                number: number(*candidate),
                name: names.get(candidate).cloned(),
            })
            .collect(),
    })
}
