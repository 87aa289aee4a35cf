//! The count anyone can check (issue 20). At the freeze a round's valid votes form a Merkle
//! tree: one leaf per vote, in the order of (group, candidate, receipt), every node holding
//! its hash and the number of votes below it, its hash committing to both children's. The
//! root therefore fixes every tally, not only the set of votes: a vote's proof yields the
//! leaf's place in the order (the votes left of it, summed from the siblings' counts), and
//! the published tallies, laid end to end in the same order, say whose run that place lies
//! in. A proof that names another candidate, a count changed anywhere, or a sibling changed
//! fails, each at its own step.
//!
//! An odd node at the end of a level goes up unchanged (no duplicated last leaf, whose
//! collisions are a known weakness of some trees).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// A node: its hash and the votes below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub hash: Hash,
    pub count: u64,
}

impl Node {
    /// The hash as the result publishes it.
    pub fn hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// A vote as a leaf: its group, its candidate and its receipt. No phone, no address.
pub fn leaf_hash(group: &str, candidate: i64, receipt: &str) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update((group.len() as u64).to_be_bytes());
    h.update(group.as_bytes());
    h.update(candidate.to_be_bytes());
    h.update((receipt.len() as u64).to_be_bytes());
    h.update(receipt.as_bytes());
    h.finalize().into()
}

fn parent(left: &Node, right: &Node) -> Node {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.hash);
    h.update(left.count.to_be_bytes());
    h.update(right.hash);
    h.update(right.count.to_be_bytes());
    Node {
        hash: h.finalize().into(),
        // A crafted proof's counts cannot overflow: a saturated count matches no root.
        count: left.count.saturating_add(right.count),
    }
}

/// The root of a round without a valid vote.
pub fn empty_root() -> Node {
    Node {
        hash: Sha256::digest(b"pingxuan vote: no valid votes").into(),
        count: 0,
    }
}

/// Every level of the tree, the leaves first.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<Node>>,
}

impl Tree {
    /// The tree over leaf hashes already in `leaf_order`.
    pub fn build(leaves: Vec<Hash>) -> Tree {
        let mut levels = vec![
            leaves
                .into_iter()
                .map(|hash| Node { hash, count: 1 })
                .collect::<Vec<_>>(),
        ];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("a level");
            let up: Vec<Node> = below
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => parent(l, r),
                    [one] => *one,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            levels.push(up);
        }
        Tree { levels }
    }

    /// The tree over votes (group, candidate, receipt), sorted here into the leaves' order
    /// — byte order, never a database's collation.
    pub fn of_votes(votes: &mut [(String, i64, String)]) -> Tree {
        votes.sort_unstable();
        Tree::build(votes.iter().map(|(g, c, r)| leaf_hash(g, *c, r)).collect())
    }

    pub fn root(&self) -> Node {
        self.levels
            .last()
            .and_then(|l| l.first())
            .copied()
            .unwrap_or_else(empty_root)
    }

    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The siblings from leaf `index` up to the root; `None` past the last leaf.
    pub fn proof(&self, index: usize) -> Option<Vec<Step>> {
        if index >= self.len() {
            return None;
        }
        let mut at = index;
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = at ^ 1;
            if let Some(n) = level.get(sibling) {
                path.push(Step {
                    side: if sibling < at {
                        Side::Left
                    } else {
                        Side::Right
                    },
                    hash: hex::encode(n.hash),
                    count: n.count,
                });
            }
            at /= 2;
        }
        Some(path)
    }
}

/// Where a sibling stands beside the node being climbed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

/// One step up: the sibling's side, hash (hex) and count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub side: Side,
    pub hash: String,
    pub count: u64,
}

/// One candidate's valid votes in one group, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub group: String,
    pub candidate: i64,
    pub count: u64,
    /// The candidate's number in the round and name, for people reading the file; labels
    /// only — the root fixes the candidate by id, not by these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A round's published count: the root and every tally (`R.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub campaign: String,
    pub stage: String,
    /// The root's hash, hex.
    pub root: String,
    /// The valid votes, the root's count.
    pub total: u64,
    /// In leaf order: group, then candidate.
    pub tallies: Vec<Tally>,
}

/// One vote's proof (`P.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub campaign: String,
    pub stage: String,
    pub group: String,
    pub candidate: i64,
    pub receipt: String,
    /// From the leaf up.
    pub path: Vec<Step>,
}

/// The first step at which a proof fails, in the checker's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failed {
    #[error("第 1 步：回执证明与结果不属于同一轮投票（证明为 {proof}，结果为 {result}）")]
    OtherRound { proof: String, result: String },
    #[error("第 2 步：结果中各候选人票数之和 {sum} 与总票数 {total} 不符")]
    Sum { sum: u64, total: u64 },
    #[error("第 3 步：证明第 {step} 层的哈希不是 64 位十六进制数")]
    BadHash { step: usize },
    #[error("第 4 步：由回执逐层算出的根哈希 {got} 与公布的根哈希 {root} 不符")]
    Root { got: String, root: String },
    #[error("第 5 步：由证明算出的总票数 {got} 与公布的总票数 {total} 不符")]
    Total { got: u64, total: u64 },
    #[error("第 6 步：这一票位于第 {place} 位，不在所记候选人（{group} {candidate}）的计票范围内")]
    Range {
        place: u64,
        group: String,
        candidate: i64,
    },
}

/// What a checked proof shows: the vote is counted, for whom, at which place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub place: u64,
    pub group: String,
    pub candidate: i64,
    /// The candidate's tally in its group.
    pub tally: u64,
}

/// Checks a vote's proof against the published count, step by step.
pub fn verify(proof: &Proof, result: &Published) -> Result<Counted, Failed> {
    if proof.campaign != result.campaign || proof.stage != result.stage {
        return Err(Failed::OtherRound {
            proof: format!("{}/{}", proof.campaign, proof.stage),
            result: format!("{}/{}", result.campaign, result.stage),
        });
    }
    let sum = result
        .tallies
        .iter()
        .try_fold(0u64, |a, t| a.checked_add(t.count));
    if sum != Some(result.total) {
        return Err(Failed::Sum {
            sum: sum.unwrap_or(u64::MAX),
            total: result.total,
        });
    }
    let mut node = Node {
        hash: leaf_hash(&proof.group, proof.candidate, &proof.receipt),
        count: 1,
    };
    // The votes left of the leaf: what every left sibling holds.
    let mut place = 0u64;
    for (i, step) in proof.path.iter().enumerate() {
        let sibling = Node {
            hash: parse_hash(&step.hash).ok_or(Failed::BadHash { step: i + 1 })?,
            count: step.count,
        };
        node = match step.side {
            Side::Left => {
                place = place.saturating_add(sibling.count);
                parent(&sibling, &node)
            }
            Side::Right => parent(&node, &sibling),
        };
    }
    let got = hex::encode(node.hash);
    if got != result.root {
        return Err(Failed::Root {
            got,
            root: result.root.clone(),
        });
    }
    if node.count != result.total {
        return Err(Failed::Total {
            got: node.count,
            total: result.total,
        });
    }
    // The tallies laid end to end in leaf order: the candidate's run must hold the place.
    let mut tallies: Vec<&Tally> = result.tallies.iter().collect();
    tallies.sort_by(|a, b| (a.group.as_str(), a.candidate).cmp(&(b.group.as_str(), b.candidate)));
    let mut start = 0u64;
    for t in tallies {
        if t.group == proof.group && t.candidate == proof.candidate {
            if (start..start.saturating_add(t.count)).contains(&place) {
                return Ok(Counted {
                    place: place + 1,
                    group: t.group.clone(),
                    candidate: t.candidate,
                    tally: t.count,
                });
            }
            break;
        }
        start = start.saturating_add(t.count);
    }
    Err(Failed::Range {
        place: place + 1,
        group: proof.group.clone(),
        candidate: proof.candidate,
    })
}

fn parse_hash(s: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Votes (group, candidate, receipt) in leaf order, with their tree and published count.
    fn round(votes: &[(&str, i64, &str)]) -> (Vec<(String, i64, String)>, Tree, Published) {
        let mut v: Vec<(String, i64, String)> = votes
            .iter()
            .map(|(g, c, r)| (g.to_string(), *c, r.to_string()))
            .collect();
        v.sort();
        let tree = Tree::build(v.iter().map(|(g, c, r)| leaf_hash(g, *c, r)).collect());
        let mut tallies: Vec<Tally> = Vec::new();
        for (g, c, _) in &v {
            match tallies.last_mut() {
                Some(t) if &t.group == g && t.candidate == *c => t.count += 1,
                _ => tallies.push(Tally {
                    group: g.clone(),
                    candidate: *c,
                    count: 1,
                    number: None,
                    name: None,
                }),
            }
        }
        let root = tree.root();
        let published = Published {
            campaign: "dg".into(),
            stage: "vote".into(),
            root: root.hex(),
            total: root.count,
            tallies,
        };
        (v, tree, published)
    }

    fn proof_of(v: &[(String, i64, String)], tree: &Tree, i: usize) -> Proof {
        Proof {
            campaign: "dg".into(),
            stage: "vote".into(),
            group: v[i].0.clone(),
            candidate: v[i].1,
            receipt: v[i].2.clone(),
            path: tree.proof(i).unwrap(),
        }
    }

    const VOTES: [(&str, i64, &str); 7] = [
        ("public", 2, "R1"),
        ("public", 1, "R2"),
        ("public", 2, "R3"),
        ("experts", 1, "E1"),
        ("public", 3, "R4"),
        ("public", 2, "R5"),
        ("experts", 3, "E2"),
    ];

    #[test]
    fn every_vote_of_an_odd_round_proves_its_place() {
        let (v, tree, published) = round(&VOTES);
        assert_eq!(published.total, 7);
        for i in 0..v.len() {
            let counted = verify(&proof_of(&v, &tree, i), &published).unwrap();
            assert_eq!(counted.place, i as u64 + 1);
            assert_eq!(counted.candidate, v[i].1);
        }
        assert_eq!(tree.proof(7), None);
    }

    #[test]
    fn a_single_vote_is_its_own_root() {
        let (v, tree, published) = round(&[("public", 9, "ONLY")]);
        let p = proof_of(&v, &tree, 0);
        assert!(p.path.is_empty());
        assert_eq!(verify(&p, &published).unwrap().tally, 1);
        let empty = Tree::build(Vec::new());
        assert_eq!(empty.root(), empty_root());
        assert!(empty.is_empty());
    }

    #[test]
    fn another_candidate_count_or_sibling_fails_at_its_step() {
        let (v, tree, published) = round(&VOTES);
        // public/2's second vote.
        let i = v.iter().position(|x| x.2 == "R3").unwrap();
        let good = proof_of(&v, &tree, i);

        // The same receipt claimed for another candidate: its leaf is another hash.
        let mut other = good.clone();
        other.candidate = 3;
        assert!(matches!(
            verify(&other, &published),
            Err(Failed::Root { .. })
        ));

        // Published tallies moved from one candidate to another, the total kept: the
        // vote's place falls outside its candidate's run.
        let mut moved = published.clone();
        for t in &mut moved.tallies {
            if t.group == "public" && t.candidate == 1 {
                t.count += 2;
            }
            if t.group == "public" && t.candidate == 2 {
                t.count -= 2;
            }
        }
        assert!(matches!(
            verify(&good, &moved),
            Err(Failed::Range { place: 5, .. })
        ));

        // Tallies that overflow fail at the sum, not with a panic.
        let mut huge = published.clone();
        huge.tallies[0].count = u64::MAX;
        assert!(matches!(verify(&good, &huge), Err(Failed::Sum { .. })));

        // A tally raised without the total.
        let mut raised = published.clone();
        raised.tallies[0].count += 1;
        assert!(matches!(verify(&good, &raised), Err(Failed::Sum { .. })));

        // Tally and total raised together: the root's count disagrees.
        raised.total += 1;
        assert!(matches!(
            verify(&good, &raised),
            Err(Failed::Total { got: 7, total: 8 })
        ));

        // A sibling's count changed: the hash climbs to another root.
        let mut counted = good.clone();
        counted.path[0].count += 1;
        assert!(matches!(
            verify(&counted, &published),
            Err(Failed::Root { .. })
        ));

        // A sibling's hash changed, or not a hash at all.
        let mut sibling = good.clone();
        sibling.path[1].hash = hex::encode([7u8; 32]);
        assert!(matches!(
            verify(&sibling, &published),
            Err(Failed::Root { .. })
        ));
        sibling.path[1].hash = "xyz".into();
        assert_eq!(
            verify(&sibling, &published),
            Err(Failed::BadHash { step: 2 })
        );

        // Another round's result.
        let mut elsewhere = published.clone();
        elsewhere.stage = "panel".into();
        let e = verify(&good, &elsewhere).unwrap_err();
        assert_eq!(
            e.to_string(),
            "第 1 步：回执证明与结果不属于同一轮投票（证明为 dg/vote，结果为 dg/panel）"
        );
    }

    #[test]
    fn the_files_read_back() {
        let (v, tree, published) = round(&VOTES);
        let p = proof_of(&v, &tree, 3);
        let p2: Proof = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        let r2: Published =
            serde_json::from_str(&serde_json::to_string(&published).unwrap()).unwrap();
        assert!(serde_json::to_string(&p).unwrap().contains("\"side\":\""));
        assert_eq!(verify(&p2, &r2).unwrap().place, 4);
    }
}
