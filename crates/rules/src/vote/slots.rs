//! A batch of votes planned against the slots its voters already hold (issue 19).
//!
//! A batch's transaction reads, in one statement, the next free slot of every limit its
//! votes claim and whether each distinct-candidate pick is already made, then this plan
//! says which slot each vote takes, or which limit refuses it — in the batch's order, so a
//! voter's second vote in the batch sees the first one's slots. The store then writes the
//! planned slots in one statement under their unique keys: the database still decides,
//! and a slot another server took meanwhile does not insert (that voter's votes are then
//! taken slot by slot). A handful of statements a batch instead of three or four a vote.

use std::collections::{HashMap, HashSet};

use super::Claim;

/// One vote of the batch: whose it is, for whom, and its limits (`claims`, in order).
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub voter: &'a str,
    pub candidate: i64,
    pub claims: &'a [Claim],
}

/// A limit of one voter: (voter, scope).
pub type SlotKey = (String, String);
/// A distinct-candidate pick: (voter, period, candidate).
pub type PickKey = (String, String, i64);

/// What the database holds before the batch, for the keys `keys` names.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// The next free slot by (voter, scope); a key not here has none taken (0).
    pub next: HashMap<SlotKey, i64>,
    /// Picks already made, as (voter, period, candidate).
    pub picked: HashSet<PickKey>,
}

/// What one vote of the batch does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Stored: the slots it takes as (scope, slot), and the picks it newly makes (periods).
    Takes {
        slots: Vec<(String, i64)>,
        picks: Vec<String>,
    },
    /// Refused by its first full limit: it takes nothing.
    Refused { code: &'static str, message: String },
}

/// The keys a batch reads before it is planned, each once: (voter, scope) of every slot
/// and (voter, period, candidate) of every pick its votes could make.
pub fn keys(asks: &[Ask<'_>]) -> (Vec<SlotKey>, Vec<PickKey>) {
    let mut slots = Vec::new();
    let mut seen_slots = HashSet::new();
    let mut picks = Vec::new();
    let mut seen_picks = HashSet::new();
    for a in asks {
        for c in a.claims {
            let slot = (a.voter.to_owned(), c.scope.clone());
            if seen_slots.insert(slot.clone()) {
                slots.push(slot);
            }
            if let Some(period) = &c.pick {
                let pick = (a.voter.to_owned(), period.clone(), a.candidate);
                if seen_picks.insert(pick.clone()) {
                    picks.push(pick);
                }
            }
        }
    }
    (slots, picks)
}

/// Plans the batch in its order: each claim of a vote takes the voter's next slot of its
/// scope while it is under the cap — a pick already made (before, or by an earlier vote of
/// the batch) takes none —, and the first full claim refuses the vote, which then takes
/// nothing at all.
pub fn plan<'a>(asks: &[Ask<'a>], held: &Held) -> Vec<Plan> {
    let mut next: HashMap<(&'a str, &'a str), i64> = HashMap::new();
    let mut picked: HashSet<(&'a str, &'a str, i64)> = HashSet::new();
    let mut out = Vec::with_capacity(asks.len());
    'votes: for a in asks {
        let claims: &'a [Claim] = a.claims;
        let mut slots: Vec<(&'a str, i64)> = Vec::new();
        let mut picks: Vec<&'a str> = Vec::new();
        for c in claims {
            if let Some(period) = &c.pick {
                let before =
                    held.picked
                        .contains(&(a.voter.to_owned(), period.clone(), a.candidate));
                if before
                    || picked.contains(&(a.voter, period.as_str(), a.candidate))
                    || picks.contains(&period.as_str())
                {
                    continue;
                }
            }
            let base = *next.entry((a.voter, c.scope.as_str())).or_insert_with(|| {
                held.next
                    .get(&(a.voter.to_owned(), c.scope.clone()))
                    .copied()
                    .unwrap_or(0)
            });
            // Scopes differ between one vote's claims; counted all the same.
            let at = base + slots.iter().filter(|(s, _)| *s == c.scope).count() as i64;
            if at >= i64::from(c.cap) {
                out.push(Plan::Refused {
                    code: c.code,
                    message: c.refusal.clone(),
                });
                continue 'votes;
            }
            slots.push((c.scope.as_str(), at));
            if let Some(period) = &c.pick {
                picks.push(period.as_str());
            }
        }
        // Stored: what it took is the next vote's starting point.
        for &(scope, at) in &slots {
            next.insert((a.voter, scope), at + 1);
        }
        for &period in &picks {
            picked.insert((a.voter, period, a.candidate));
        }
        out.push(Plan::Takes {
            slots: slots.iter().map(|&(s, at)| (s.to_owned(), at)).collect(),
            picks: picks.iter().map(|&p| p.to_owned()).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::VoteRules;
    use crate::vote::claims;
    use time::macros::date;

    fn rules(text: &str) -> VoteRules {
        toml::from_str(text).unwrap()
    }

    fn asks<'a>(votes: &[(&'a str, i64)], claims: &'a [Vec<Claim>]) -> Vec<Ask<'a>> {
        votes
            .iter()
            .zip(claims)
            .map(|(&(voter, candidate), c)| Ask {
                voter,
                candidate,
                claims: c,
            })
            .collect()
    }

    fn codes(plans: &[Plan]) -> Vec<&'static str> {
        plans
            .iter()
            .map(|p| match p {
                Plan::Takes { .. } => "ok",
                Plan::Refused { code, .. } => code,
            })
            .collect()
    }

    /// 齐鲁 2020: one vote a candidate a day, ten candidates a day.
    fn qilu() -> VoteRules {
        rules("per_candidate_per_day = 1\ncandidates_per_day = 10\n")
    }

    #[test]
    fn a_voters_second_vote_in_the_batch_sees_the_first() {
        let r = qilu();
        let day = date!(2026 - 05 - 20);
        let votes = [("p:1", 7), ("p:1", 7), ("p:2", 7), ("p:1", 8)];
        let cs: Vec<Vec<Claim>> = votes.iter().map(|&(_, c)| claims(&r, c, day)).collect();
        let plans = plan(&asks(&votes, &cs), &Held::default());
        assert_eq!(codes(&plans), ["ok", "limit_candidate_day", "ok", "ok"]);
        assert_eq!(
            plans[3],
            Plan::Takes {
                slots: vec![
                    ("cd:2026-05-20:8".to_owned(), 0),
                    ("pd:2026-05-20".to_owned(), 1)
                ],
                picks: vec!["d:2026-05-20".to_owned()],
            }
        );
    }

    #[test]
    fn what_the_database_holds_is_where_the_batch_starts() {
        let r = qilu();
        let day = date!(2026 - 05 - 20);
        let votes = [("p:1", 11), ("p:1", 3), ("p:1", 12)];
        let cs: Vec<Vec<Claim>> = votes.iter().map(|&(_, c)| claims(&r, c, day)).collect();
        let mut held = Held::default();
        // Nine candidates picked today, candidate 3 among them.
        held.next
            .insert(("p:1".to_owned(), "pd:2026-05-20".to_owned()), 9);
        held.picked
            .insert(("p:1".to_owned(), "d:2026-05-20".to_owned(), 3));
        let plans = plan(&asks(&votes, &cs), &held);
        // The tenth candidate takes the last place; candidate 3 already picked takes none
        // but was voted for today (its slot of the day is free here); a twelfth is refused.
        assert_eq!(codes(&plans), ["ok", "ok", "limit_candidates_day"]);
        assert_eq!(
            plans[1],
            Plan::Takes {
                slots: vec![("cd:2026-05-20:3".to_owned(), 0)],
                picks: vec![],
            }
        );
    }

    #[test]
    fn a_refused_vote_takes_nothing_and_frees_its_places_for_the_next() {
        // Three votes a day in all, one a candidate in the round.
        let r = rules("per_day = 3\nper_candidate = 1\n");
        let day = date!(2026 - 05 - 20);
        let votes = [("p:1", 1), ("p:1", 1), ("p:1", 2), ("p:1", 3), ("p:1", 4)];
        let cs: Vec<Vec<Claim>> = votes.iter().map(|&(_, c)| claims(&r, c, day)).collect();
        let plans = plan(&asks(&votes, &cs), &Held::default());
        // The second vote for 1 is refused by the candidate's limit before it takes a
        // place of the day: the day's three go to 1, 2 and 3.
        assert_eq!(
            codes(&plans),
            ["ok", "limit_candidate", "ok", "ok", "limit_day"]
        );
        let days: Vec<i64> = plans
            .iter()
            .filter_map(|p| match p {
                Plan::Takes { slots, .. } => Some(slots[1].1),
                Plan::Refused { .. } => None,
            })
            .collect();
        assert_eq!(days, [0, 1, 2]);
    }

    #[test]
    fn keys_name_each_slot_and_pick_once() {
        let r = qilu();
        let day = date!(2026 - 05 - 20);
        let votes = [("p:1", 7), ("p:1", 7), ("p:2", 7)];
        let cs: Vec<Vec<Claim>> = votes.iter().map(|&(_, c)| claims(&r, c, day)).collect();
        let (slots, picks) = keys(&asks(&votes, &cs));
        assert_eq!(slots.len(), 4);
        assert_eq!(picks.len(), 2);
    }
}
