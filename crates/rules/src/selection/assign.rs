//! Assigning review experts to candidates for a `review` stage (issue 17).
//!
//! Each candidate wants `r` experts; experts' loads should be even; an expert whose
//! 学科 contains the candidate's 推荐领域 is preferred. Solved as HotCRP's autoassigner and
//! the openreview-matcher solve it, as a min-cost max-flow:
//!
//! ```text
//! source ══(convex)══▶ candidate ──(1, 学科 cost)──▶ expert ══(convex)══▶ sink
//! ```
//!
//! * source → candidate: capacity `r` less the pairs already fixed for it;
//! * candidate → expert: capacity 1, cost 0 when the expert's 学科 contain the candidate's
//!   推荐领域 (or the candidate has none), else 1; absent when the pair is conflicted or
//!   already fixed, so no flow can ever put an expert on a conflicted candidate;
//! * expert → sink: capacity the expert's remaining room (unlimited without a capacity
//!   override);
//! * both convex arcs price their units by the total they bring the node to, fixed pairs
//!   included: the unit that makes an expert's load (or a candidate's number of experts)
//!   `k` costs `W·k`. This is the spec's “⌊T/E⌋ units at 0, one more at a penalty” made
//!   exact for every level, so that balance also holds when it cannot be perfect.
//!
//! **Priorities.** A *maximum* flow is found first whatever the costs: every candidate
//! gets as many experts as the conflicts and capacities allow (without capacity overrides,
//! exactly `min(r, experts not conflicted with it)`, fixed pairs counting). Among maximum
//! flows the cost is minimised, and `W = min(experts, candidates) + 1` makes balance
//! outrank 学科 match: a change of assignment is a cycle in the residual network; it moves
//! at most one unit of load from one expert to another (and of experts from one candidate
//! to another), and it can lose at most one 学科 match per expert it passes, so at most
//! `W − 1`, while moving a unit from level `a` down to level `b ≤ a − 2` gains `W` or more.
//!
//! **Balance, precisely** (what the property tests check). The result admits no *exchange
//! chain* from an expert A to an expert B with room and `load(B) ≤ load(A) − 2`: no
//! sequence “B takes one of X₁'s candidates, X₁ takes one of X₂'s, …, Xₖ takes one of A's”
//! that respects the conflicts. That is the optimality condition of the flow. Without
//! capacity overrides every candidate's number of experts is fixed by the maximum, so the
//! loads are then the most even possible (the largest as small as it can be, the smallest
//! as large): with `T` pairs in all and `E` experts, every load is ⌊T/E⌋ or ⌈T/E⌉
//! whenever *any* assignment of the same size achieves that, and always when there are
//! also no conflicts or fixed pairs. When it cannot be achieved it is not faked, and the
//! loads show it: an expert conflicted with all but two candidates reviews at most two
//! (their share goes to the others, as evenly as the chains allow), fixed pairs stay where
//! they are, and a capacity override caps an expert. When capacity overrides leave too few
//! places, the short candidates are even in the same sense (no chain gives a short
//! candidate an expert of one with two or more above it), and a chain that changes both a
//! candidate's count and an expert's load trades one evenness against the other at equal
//! weight.
//!
//! **Ties.** Equal-cost choices are broken by a seeded order: candidates, experts and each
//! candidate's list of experts are shuffled by a ChaCha8 stream from the seed (with our
//! own Fisher–Yates over `next_u64`, so the order depends on ChaCha's specified stream
//! only, not on a `rand` version), and the flow takes arcs in that order. The same pool
//! and seed give exactly the same pairs; the seed is returned to be recorded.
//!
//! **Speed.** The flow is the primal–dual method: a Dijkstra on reduced costs updates the
//! node potentials, then a Dinic blocking flow saturates the zero-reduced-cost subgraph;
//! costs are small integers, so the phases are a few per level of load (1,000 candidates ×
//! 200 experts with r = 5, loads of 25: 75 phases), not one per unit of flow.

use std::collections::{HashMap, HashSet};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::conflict::Conflicts;

/// A review expert as the assignment sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expert {
    pub id: i64,
    /// The most candidates this expert reviews in the stage (fixed pairs included), when
    /// the organiser set one; otherwise only balance limits the load.
    pub capacity: Option<u32>,
    /// The expert's 学科 / fields, as the campaign names them.
    pub fields: Vec<String>,
}

/// A candidate as the assignment sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    /// 推荐领域 / 学科, when the campaign has it.
    pub field: Option<String>,
}

/// The result of [`assign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// (expert, candidate), sorted: the fixed pairs kept and the new ones.
    pub pairs: Vec<(i64, i64)>,
    /// The seed the ties were broken with.
    pub seed: u64,
    /// Candidates left with fewer than `r` experts, sorted by candidate.
    pub short: Vec<Short>,
    /// Fixed pairs that were not kept, sorted.
    pub dropped: Vec<Dropped>,
}

/// A candidate left short of `r`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub candidate: i64,
    pub got: u32,
    pub want: u32,
    /// Why, in Chinese, for the organiser.
    pub why: String,
}

/// A fixed pair that could not be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub expert: i64,
    pub candidate: i64,
    pub why: String,
}

/// Assigns `r` experts to every candidate (see the module documentation).
///
/// `fixed` are pairs that already exist and stay (e.g. score sheets already opened): they
/// count toward the candidate's `r` and the expert's load. A fixed pair that is now
/// conflicted, or names an expert or a candidate not in the lists, is not kept and is
/// listed in [`Assignment::dropped`]. Ids are expected to be unique; a repeated expert or
/// candidate is ignored after its first appearance.
pub fn assign(
    experts: &[Expert],
    candidates: &[Candidate],
    r: u32,
    conflicts: &Conflicts,
    seed: u64,
    fixed: &[(i64, i64)],
) -> Assignment {
    // Sorted by id first, so the panel depends on the pool and the seed, not on the
    // order the caller happened to list them in.
    let experts = unique(experts, |e| e.id);
    let candidates = unique(candidates, |c| c.id);
    let (ne, nc) = (experts.len(), candidates.len());
    let e_index: HashMap<i64, usize> = experts.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let c_index: HashMap<i64, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();

    // The fixed pairs kept.
    let mut fixed: Vec<(i64, i64)> = fixed.to_vec();
    fixed.sort_unstable();
    fixed.dedup();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let mut fixed_e = vec![0u32; ne];
    let mut fixed_c = vec![0u32; nc];
    let mut is_fixed = HashSet::new();
    for (e, c) in fixed {
        let why = match (e_index.get(&e), c_index.get(&c)) {
            (None, _) => Some("专家不在本轮评审专家名单中".to_owned()),
            (_, None) => Some("候选人不在本轮候选人名单中".to_owned()),
            _ => conflicts.text(e, c).map(|t| format!("存在利益冲突：{t}")),
        };
        match why {
            Some(why) => dropped.push(Dropped {
                expert: e,
                candidate: c,
                why,
            }),
            None => {
                let (ei, ci) = (e_index[&e], c_index[&c]);
                fixed_e[ei] += 1;
                fixed_c[ci] += 1;
                is_fixed.insert((ei, ci));
                kept.push((e, c));
            }
        }
    }

    // Room left per expert, counting fixed pairs.
    let room: Vec<u32> = experts
        .iter()
        .zip(&fixed_e)
        .map(|(e, &f)| e.capacity.map_or(nc as u32, |cap| cap.saturating_sub(f)))
        .collect();

    // 学科 as small integers, each expert's as a sorted list.
    let mut field_ids: HashMap<&str, u32> = HashMap::new();
    let e_fields: Vec<Vec<u32>> = experts
        .iter()
        .map(|e| {
            let mut v: Vec<u32> = e.fields.iter().map(|f| intern(&mut field_ids, f)).collect();
            v.sort_unstable();
            v
        })
        .collect();
    let c_field: Vec<Option<u32>> = candidates
        .iter()
        .map(|c| c.field.as_deref().map(|f| intern(&mut field_ids, f)))
        .collect();
    let mismatch = |ei: usize, ci: usize| -> i64 {
        match c_field[ci] {
            Some(f) if e_fields[ei].binary_search(&f).is_err() => 1,
            _ => 0,
        }
    };

    // The seeded order.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut e_order: Vec<usize> = (0..ne).collect();
    shuffle(&mut e_order, &mut rng);
    let mut c_order: Vec<usize> = (0..nc).collect();
    shuffle(&mut c_order, &mut rng);
    let mut e_node = vec![0usize; ne];
    for (pos, &ei) in e_order.iter().enumerate() {
        e_node[ei] = 1 + nc + pos;
    }

    // The network: source 0, candidates 1..=nc in seeded order, experts after, sink last.
    let (source, sink) = (0, nc + ne + 1);
    let mut net = flow::Network::new(nc + ne + 2);
    let w = ne.min(nc) as i64 + 1;
    let mut conflicted = vec![0u32; nc];
    let mut pair_arcs: Vec<(usize, usize, usize)> = Vec::new();
    let mut per_candidate = e_order.clone();
    for (pos, &ci) in c_order.iter().enumerate() {
        let cid = candidates[ci].id;
        let need = r.saturating_sub(fixed_c[ci]);
        shuffle(&mut per_candidate, &mut rng);
        for &ei in &per_candidate {
            if conflicts.is_conflicted(experts[ei].id, cid) {
                conflicted[ci] += 1;
            } else if need > 0 && room[ei] > 0 && !is_fixed.contains(&(ei, ci)) {
                let arc = net.arc(1 + pos, e_node[ei], 1, mismatch(ei, ci));
                pair_arcs.push((arc, ei, ci));
            }
        }
        if need > 0 {
            // Convex like the experts' arcs: when capacities leave too few places, they
            // are spread over the candidates rather than filling some and starving others.
            let base = w * (fixed_c[ci] as i64 + 1);
            net.convex_arc(source, 1 + pos, need as i64, base, w);
        }
    }
    for &ei in &e_order {
        if room[ei] > 0 {
            let base = w * (fixed_e[ei] as i64 + 1);
            net.convex_arc(e_node[ei], sink, room[ei] as i64, base, w);
        }
    }
    net.min_cost_max_flow(source, sink);

    let mut pairs = kept;
    let mut load = fixed_e;
    let mut on = fixed_c;
    for &(arc, ei, ci) in &pair_arcs {
        if net.flow(arc) > 0 {
            pairs.push((experts[ei].id, candidates[ci].id));
            load[ei] += 1;
            on[ci] += 1;
        }
    }
    pairs.sort_unstable();

    let mut short = Vec::new();
    for (ci, c) in candidates.iter().enumerate() {
        if on[ci] >= r {
            continue;
        }
        // A maximum flow leaves no eligible expert with room off a short candidate, so
        // the ones not on it and not conflicted are exactly the full ones.
        let full = (0..ne)
            .filter(|&ei| {
                load[ei] >= experts[ei].capacity.unwrap_or(u32::MAX)
                    && !conflicts.is_conflicted(experts[ei].id, c.id)
                    && pairs.binary_search(&(experts[ei].id, c.id)).is_err()
            })
            .count() as u32;
        short.push(Short {
            candidate: c.id,
            got: on[ci],
            want: r,
            why: why_short(ne as u32, r, conflicted[ci], full),
        });
    }
    short.sort_unstable_by_key(|s| s.candidate);
    dropped.sort_unstable_by_key(|d| (d.expert, d.candidate));
    Assignment {
        pairs,
        seed,
        short,
        dropped,
    }
}

/// Why a candidate got fewer than `r` experts, from the pool's size, the experts
/// conflicted with it and the eligible ones already at their capacity.
fn why_short(experts: u32, r: u32, conflicted: u32, full: u32) -> String {
    if experts == 0 {
        return "本轮没有评审专家".to_owned();
    }
    let mut parts = Vec::new();
    if experts < r {
        parts.push(format!("专家人数 {experts} 少于每位候选人所需的 {r} 位"));
        if conflicted > 0 {
            parts.push(format!("其中 {conflicted} 位与其存在利益冲突"));
        }
    } else if conflicted > 0 {
        parts.push(format!(
            "可评审的专家只有 {} 位：另 {conflicted} 位与其存在利益冲突",
            experts - conflicted
        ));
    }
    if full > 0 {
        parts.push(format!("其余 {full} 位可评审的专家已达评审数量上限"));
    }
    if parts.is_empty() {
        // Not reached by a maximum flow; said plainly rather than left blank.
        return "可评审的专家不足".to_owned();
    }
    parts.join("，")
}

/// The load of each expert in `pairs`, in the order of `experts`.
pub fn loads(pairs: &[(i64, i64)], experts: &[Expert]) -> Vec<u32> {
    let mut count: HashMap<i64, u32> = HashMap::new();
    for &(e, _) in pairs {
        *count.entry(e).or_default() += 1;
    }
    experts
        .iter()
        .map(|e| count.get(&e.id).copied().unwrap_or(0))
        .collect()
}

/// The result of [`reassign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The pair taken away.
    pub removed: (i64, i64),
    /// The pair given instead.
    pub added: (i64, i64),
    /// The whole assignment after the change, sorted.
    pub pairs: Vec<(i64, i64)>,
    /// The smallest and largest load among the experts afterwards.
    pub loads: (u32, u32),
}

/// After a declared (or newly found) conflict: takes `candidate` from `expert` and gives it
/// one other expert who is not conflicted with it, not already on it and below their
/// capacity. The least loaded such expert is chosen, so the loads stay within one whenever
/// one change can keep them so; among equally loaded ones, one whose 学科 match comes
/// first, then the order seeded by `seed` (record it with the change). Other pairs are
/// left alone: their sheets may be open. `Err` says why nobody can take it.
pub fn reassign(
    current: &[(i64, i64)],
    expert: i64,
    candidate: i64,
    experts: &[Expert],
    candidates: &[Candidate],
    conflicts: &Conflicts,
    seed: u64,
) -> Result<Replacement, String> {
    let removed = (expert, candidate);
    if !current.contains(&removed) {
        return Err("该专家未被分配评审此候选人".to_owned());
    }
    let mut pairs: Vec<(i64, i64)> = current.iter().copied().filter(|&p| p != removed).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let experts = unique(experts, |e| e.id);
    let field = candidates
        .iter()
        .find(|c| c.id == candidate)
        .and_then(|c| c.field.as_deref())
        .map(str::trim);
    let load = loads(&pairs, &experts);

    let mut order: Vec<usize> = (0..experts.len()).collect();
    shuffle(&mut order, &mut ChaCha8Rng::seed_from_u64(seed));
    let (mut others, mut in_conflict, mut on_it, mut full) = (0, 0, 0, 0);
    let mut best: Option<(u32, bool, usize)> = None;
    for (rank, &ei) in order.iter().enumerate() {
        let e = &experts[ei];
        if e.id == expert {
            continue;
        }
        others += 1;
        if conflicts.is_conflicted(e.id, candidate) {
            in_conflict += 1;
        } else if pairs.binary_search(&(e.id, candidate)).is_ok() {
            on_it += 1;
        } else if load[ei] >= e.capacity.unwrap_or(u32::MAX) {
            full += 1;
        } else {
            let mismatch = field.is_some_and(|f| !e.fields.iter().any(|x| x.trim() == f));
            let key = (load[ei], mismatch, rank);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
    }
    let Some((_, _, rank)) = best else {
        if others == 0 {
            return Err("没有其他评审专家可替换".to_owned());
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (in_conflict, "与其存在利益冲突"),
            (on_it, "已在评审此候选人"),
            (full, "已达评审数量上限"),
        ] {
            if n > 0 {
                parts.push(format!("{n} 位{what}"));
            }
        }
        return Err(format!(
            "没有可替换的专家：其余 {others} 位专家中，{}",
            parts.join("，")
        ));
    };
    let added = (experts[order[rank]].id, candidate);
    pairs.push(added);
    pairs.sort_unstable();
    let after = loads(&pairs, &experts);
    Ok(Replacement {
        removed,
        added,
        pairs,
        loads: spread(&after),
    })
}

/// What [`check_manual`] reports about an accepted pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// The expert's load with the new pair.
    pub load: u32,
    /// The smallest and largest load among the experts in the assignment afterwards (a
    /// manual change may leave them more than one apart; it is shown, not refused).
    pub min: u32,
    pub max: u32,
}

/// Checks an organiser's manual addition of `add` = (expert, candidate) to `current`: a
/// conflicted pair is refused with its reasons, and so is a pair already there.
pub fn check_manual(
    current: &[(i64, i64)],
    add: (i64, i64),
    conflicts: &Conflicts,
) -> Result<Spread, String> {
    if let Some(reasons) = conflicts.text(add.0, add.1) {
        return Err(format!("不能分配：{reasons}"));
    }
    if current.contains(&add) {
        return Err("该专家已分配此候选人".to_owned());
    }
    let mut count: HashMap<i64, u32> = HashMap::new();
    for &(e, _) in current.iter().chain([&add]) {
        *count.entry(e).or_default() += 1;
    }
    let (min, max) = spread(&count.values().copied().collect::<Vec<_>>());
    Ok(Spread {
        load: count[&add.0],
        min,
        max,
    })
}

/// Checks an organiser's manual removal of `pair` = (expert, candidate) from `current`:
/// it must be there, and the reason is written (the expert's sheet for it stops counting).
/// Returns the reason, trimmed.
pub fn check_removal(
    current: &[(i64, i64)],
    pair: (i64, i64),
    reason: &str,
) -> Result<String, String> {
    if !current.contains(&pair) {
        return Err("该专家未分配此候选人".to_owned());
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("取消分配须写明理由".to_owned());
    }
    if reason.chars().count() > 200 {
        return Err(format!(
            "理由最多 200 字，现为 {} 字",
            reason.chars().count()
        ));
    }
    Ok(reason.to_owned())
}

fn spread(loads: &[u32]) -> (u32, u32) {
    let min = loads.iter().copied().min().unwrap_or(0);
    let max = loads.iter().copied().max().unwrap_or(0);
    (min, max)
}

/// A small integer for a 学科 name (spaces around it ignored).
fn intern<'a>(ids: &mut HashMap<&'a str, u32>, name: &'a str) -> u32 {
    let next = ids.len() as u32;
    *ids.entry(name.trim()).or_insert(next)
}

/// The first of each id, sorted by id.
fn unique<T: Clone>(items: &[T], id: impl Fn(&T) -> i64) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut v: Vec<T> = items
        .iter()
        .filter(|x| seen.insert(id(x)))
        .cloned()
        .collect();
    v.sort_by_key(|x| id(x));
    v
}

/// Fisher–Yates over ChaCha's raw stream, so the order is fixed by the seed alone.
fn shuffle<T>(v: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, below(rng, i as u64 + 1) as usize);
    }
}

/// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-and-reject.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// Min-cost max-flow by the primal–dual method with blocking flows.
///
/// Arcs have a non-negative cost per unit; a *convex* arc's `k`-th unit (from 0) costs
/// `base + slope·k`, which is how an expert's load is priced without one arc per unit.
/// Each phase runs Dijkstra on reduced costs `cost + π(u) − π(v)` (never negative), adds
/// the distances to the potentials π, then pushes a Dinic blocking flow through the arcs
/// whose reduced cost is now 0 until none is left. Pushing along zero-reduced-cost arcs
/// keeps every residual reduced cost non-negative (a convex arc's next unit costs more,
/// its reverse costs exactly the negated last price), so the flow is min-cost for its
/// value at every step, and each phase strictly lengthens the shortest path.
mod flow {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    pub(super) struct Network {
        nodes: usize,
        tail: Vec<u32>,
        head: Vec<u32>,
        cap: Vec<i64>,
        flow: Vec<i64>,
        base: Vec<i64>,
        slope: Vec<i64>,
        /// Half-arcs leaving each node, built on first use: half `2a` is arc `a`
        /// forward, `2a + 1` its reverse; `out_to` is where each half goes.
        start: Vec<usize>,
        out: Vec<u32>,
        out_to: Vec<u32>,
    }

    impl Network {
        pub(super) fn new(nodes: usize) -> Self {
            Self {
                nodes,
                tail: Vec::new(),
                head: Vec::new(),
                cap: Vec::new(),
                flow: Vec::new(),
                base: Vec::new(),
                slope: Vec::new(),
                start: Vec::new(),
                out: Vec::new(),
                out_to: Vec::new(),
            }
        }

        /// An arc of `cap` units at `cost` each; returns its index.
        pub(super) fn arc(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
            self.convex_arc(from, to, cap, cost, 0)
        }

        /// An arc whose `k`-th unit (from 0) costs `base + slope·k`.
        pub(super) fn convex_arc(
            &mut self,
            from: usize,
            to: usize,
            cap: i64,
            base: i64,
            slope: i64,
        ) -> usize {
            // Non-negative costs let the first Dijkstra run with zero potentials.
            assert!(base >= 0 && slope >= 0 && cap >= 0);
            assert!(from < self.nodes && to < self.nodes);
            self.tail.push(from as u32);
            self.head.push(to as u32);
            self.cap.push(cap);
            self.flow.push(0);
            self.base.push(base);
            self.slope.push(slope);
            self.head.len() - 1
        }

        pub(super) fn flow(&self, arc: usize) -> i64 {
            self.flow[arc]
        }

        /// The total cost of the current flow.
        pub(super) fn cost(&self) -> i64 {
            (0..self.flow.len())
                .map(|a| {
                    let f = self.flow[a];
                    f * self.base[a] + self.slope[a] * f * (f - 1) / 2
                })
                .sum()
        }

        fn build(&mut self) {
            let halves = 2 * self.head.len();
            let mut start = vec![0usize; self.nodes + 1];
            for a in 0..self.head.len() {
                start[self.tail[a] as usize + 1] += 1;
                start[self.head[a] as usize + 1] += 1;
            }
            for v in 0..self.nodes {
                start[v + 1] += start[v];
            }
            let mut next = start.clone();
            self.out = vec![0; halves];
            self.out_to = vec![0; halves];
            for a in 0..self.head.len() {
                let (u, v) = (self.tail[a] as usize, self.head[a] as usize);
                self.out[next[u]] = 2 * a as u32;
                self.out_to[next[u]] = v as u32;
                next[u] += 1;
                self.out[next[v]] = 2 * a as u32 + 1;
                self.out_to[next[v]] = u as u32;
                next[v] += 1;
            }
            self.start = start;
        }

        /// What a half-arc offers now: (units at the current price, price per unit).
        #[inline]
        fn offer(&self, half: u32) -> (i64, i64) {
            let a = (half >> 1) as usize;
            let f = self.flow[a];
            let slope = self.slope[a];
            if half & 1 == 0 {
                let room = self.cap[a] - f;
                if room <= 0 {
                    return (0, 0);
                }
                let units = if slope == 0 { room } else { 1 };
                (units, self.base[a] + slope * f)
            } else {
                if f <= 0 {
                    return (0, 0);
                }
                let units = if slope == 0 { f } else { 1 };
                (units, -(self.base[a] + slope * (f - 1)))
            }
        }

        fn push(&mut self, half: u32, units: i64) {
            let a = (half >> 1) as usize;
            if half & 1 == 0 {
                self.flow[a] += units;
            } else {
                self.flow[a] -= units;
            }
        }

        /// Sends as much flow as possible from `s` to `t` at the least cost; returns the
        /// amount and its cost.
        pub(super) fn min_cost_max_flow(&mut self, s: usize, t: usize) -> (i64, i64) {
            self.build();
            let n = self.nodes;
            let mut pi = vec![0i64; n];
            let mut dist = vec![i64::MAX; n];
            let mut done = vec![false; n];
            let mut heap = BinaryHeap::new();
            let mut scratch = Scratch {
                level: vec![u32::MAX; n],
                it: vec![0; n],
                queue: Vec::with_capacity(n),
                path: Vec::new(),
            };
            let mut total = 0;
            if s == t {
                return (0, 0);
            }
            loop {
                // Dijkstra on reduced costs, stopped once the sink is settled: nodes not
                // settled by then are at least as far, and count as the sink's distance.
                dist.fill(i64::MAX);
                done.fill(false);
                dist[s] = 0;
                heap.push(Reverse((0i64, s)));
                while let Some(Reverse((d, u))) = heap.pop() {
                    if done[u] {
                        continue;
                    }
                    done[u] = true;
                    if u == t {
                        break;
                    }
                    for i in self.start[u]..self.start[u + 1] {
                        let (units, price) = self.offer(self.out[i]);
                        if units == 0 {
                            continue;
                        }
                        let v = self.out_to[i] as usize;
                        let nd = d + price + pi[u] - pi[v];
                        debug_assert!(price + pi[u] - pi[v] >= 0, "negative reduced cost");
                        if nd < dist[v] {
                            dist[v] = nd;
                            heap.push(Reverse((nd, v)));
                        }
                    }
                }
                heap.clear();
                if !done[t] {
                    break;
                }
                let dt = dist[t];
                for v in 0..n {
                    pi[v] += if done[v] { dist[v] } else { dt };
                }
                let pushed = self.blocking_flows(s, t, &pi, &mut scratch);
                debug_assert!(pushed > 0, "a shortest path has zero reduced cost");
                total += pushed;
            }
            (total, self.cost())
        }

        /// Dinic on the arcs of zero reduced cost, until no path of them is left.
        fn blocking_flows(&mut self, s: usize, t: usize, pi: &[i64], sc: &mut Scratch) -> i64 {
            let admissible = |net: &Self, i: usize, u: usize, v: usize| {
                let (units, price) = net.offer(net.out[i]);
                units > 0 && price + pi[u] - pi[v] == 0
            };
            let mut pushed = 0;
            loop {
                sc.level.fill(u32::MAX);
                sc.level[s] = 0;
                sc.queue.clear();
                sc.queue.push(s);
                let mut qi = 0;
                while qi < sc.queue.len() {
                    let u = sc.queue[qi];
                    qi += 1;
                    for i in self.start[u]..self.start[u + 1] {
                        let v = self.out_to[i] as usize;
                        if sc.level[v] == u32::MAX && admissible(self, i, u, v) {
                            sc.level[v] = sc.level[u] + 1;
                            sc.queue.push(v);
                        }
                    }
                }
                if sc.level[t] == u32::MAX {
                    return pushed;
                }
                sc.it.copy_from_slice(&self.start[..self.nodes]);
                // Walk from the source along level-increasing admissible halves, each
                // node resuming at its current half; retreat from dead ends.
                loop {
                    sc.path.clear();
                    let mut u = s;
                    while u != t {
                        let mut next = None;
                        while sc.it[u] < self.start[u + 1] {
                            let i = sc.it[u];
                            let v = self.out_to[i] as usize;
                            if sc.level[v] == sc.level[u] + 1 && admissible(self, i, u, v) {
                                next = Some((i, v));
                                break;
                            }
                            sc.it[u] += 1;
                        }
                        match next {
                            Some((i, v)) => {
                                sc.path.push((u, i));
                                u = v;
                            }
                            None => {
                                sc.level[u] = u32::MAX;
                                match sc.path.pop() {
                                    Some((prev, _)) => {
                                        sc.it[prev] += 1;
                                        u = prev;
                                    }
                                    None => break,
                                }
                            }
                        }
                    }
                    if u != t {
                        break;
                    }
                    let units = sc
                        .path
                        .iter()
                        .map(|&(_, i)| self.offer(self.out[i]).0)
                        .min()
                        .unwrap_or(0);
                    for k in 0..sc.path.len() {
                        let i = sc.path[k].1;
                        self.push(self.out[i], units);
                    }
                    pushed += units;
                }
            }
        }
    }

    struct Scratch {
        level: Vec<u32>,
        it: Vec<usize>,
        queue: Vec<usize>,
        path: Vec<(usize, usize)>,
    }

    #[cfg(test)]
    mod tests {
        use super::Network;
        use rand::{RngCore, SeedableRng};

        #[test]
        fn known_small_network() {
            // Three units must pass; 1→2 carries one, so the cost is forced: 10.
            let mut n = Network::new(4);
            n.arc(0, 1, 2, 1);
            n.arc(0, 2, 1, 2);
            n.arc(1, 2, 1, 1);
            n.arc(1, 3, 1, 3);
            n.arc(2, 3, 2, 1);
            assert_eq!(n.min_cost_max_flow(0, 3), (3, 10));
        }

        #[test]
        fn reroutes_through_a_reverse_arc() {
            // Workers 1, 2; jobs 3, 4. The cheapest first pair (1–3) must be undone for
            // the optimum 1–4 + 2–3 = 3 (not 1–3 + 2–4 = 101).
            let mut n = Network::new(6);
            n.arc(0, 1, 1, 0);
            n.arc(0, 2, 1, 0);
            let a13 = n.arc(1, 3, 1, 1);
            let a14 = n.arc(1, 4, 1, 2);
            let a23 = n.arc(2, 3, 1, 1);
            n.arc(2, 4, 1, 100);
            n.arc(3, 5, 1, 0);
            n.arc(4, 5, 1, 0);
            assert_eq!(n.min_cost_max_flow(0, 5), (2, 3));
            assert_eq!((n.flow(a13), n.flow(a14), n.flow(a23)), (0, 1, 1));
        }

        #[test]
        fn maximum_flow_comes_before_cost() {
            let mut n = Network::new(3);
            n.arc(0, 1, 5, 0);
            n.arc(1, 2, 1, 0);
            n.arc(1, 2, 3, 1000);
            assert_eq!(n.min_cost_max_flow(0, 2), (4, 3000));
        }

        #[test]
        fn unreachable_sink_and_empty_network() {
            let mut n = Network::new(3);
            n.arc(0, 1, 5, 0);
            assert_eq!(n.min_cost_max_flow(0, 2), (0, 0));
            assert_eq!(Network::new(2).min_cost_max_flow(0, 1), (0, 0));
        }

        #[test]
        fn convex_arcs_price_each_unit() {
            // One arc, units cost 1, 3, 5: three units cost 9.
            let mut n = Network::new(2);
            n.convex_arc(0, 1, 3, 1, 2);
            assert_eq!(n.min_cost_max_flow(0, 1), (3, 9));
            // Four units over two convex sinks split 2 + 2 (cost 0+1 twice = 2), and 3 + 1
            // when one sink takes only one (0+1+2 + 0 = 3).
            for (cap2, cost, split) in [(4, 2, (2, 2)), (1, 3, (3, 1))] {
                let mut n = Network::new(4);
                n.arc(0, 1, 4, 0);
                n.arc(1, 2, 4, 0);
                let e1 = n.convex_arc(2, 3, 4, 0, 1);
                let e2 = n.convex_arc(1, 3, cap2, 0, 1);
                assert_eq!(n.min_cost_max_flow(0, 3), (4, cost));
                assert_eq!((n.flow(e1), n.flow(e2)), split);
            }
        }

        /// Tiny candidate/expert pools against every subset of their pairs.
        #[test]
        fn agrees_with_brute_force_on_tiny_pools() {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
            let mut rand = |n: u32| rng.next_u32() % n;
            for _ in 0..400 {
                let (nc, ne) = (1 + rand(3) as usize, 1 + rand(3) as usize);
                let need: Vec<i64> = (0..nc).map(|_| rand(3) as i64).collect();
                let cap: Vec<i64> = (0..ne).map(|_| rand(4) as i64).collect();
                let w = 1 + rand(4) as i64;
                let mut pairs = Vec::new();
                for c in 0..nc {
                    for e in 0..ne {
                        if rand(4) > 0 {
                            pairs.push((c, e, rand(3) as i64));
                        }
                    }
                }
                let mut best = (0i64, 0i64); // (flow, −cost) maximised
                for mask in 0u32..1 << pairs.len() {
                    let mut on_c = vec![0i64; nc];
                    let mut on_e = vec![0i64; ne];
                    let mut cost = 0;
                    for (k, &(c, e, m)) in pairs.iter().enumerate() {
                        if mask >> k & 1 == 1 {
                            on_c[c] += 1;
                            on_e[e] += 1;
                            cost += m;
                        }
                    }
                    if (0..nc).any(|c| on_c[c] > need[c]) || (0..ne).any(|e| on_e[e] > cap[e]) {
                        continue;
                    }
                    cost += on_e.iter().map(|&l| w * l * (l - 1) / 2).sum::<i64>();
                    best = best.max((mask.count_ones() as i64, -cost));
                }
                let (s, t) = (0, nc + ne + 1);
                let mut n = Network::new(nc + ne + 2);
                for (c, &k) in need.iter().enumerate() {
                    n.arc(s, 1 + c, k, 0);
                }
                for &(c, e, m) in &pairs {
                    n.arc(1 + c, 1 + nc + e, 1, m);
                }
                for (e, &k) in cap.iter().enumerate() {
                    n.convex_arc(1 + nc + e, t, k, 0, w);
                }
                assert_eq!(n.min_cost_max_flow(s, t), (best.0, -best.1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet, VecDeque};

    use proptest::prelude::*;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::selection::conflict::{Declaration, Reason};

    const SUBJECTS: [&str; 5] = ["数学", "物理学", "化学", "生物学", "医学"];

    fn expert(id: i64, fields: &[&str]) -> Expert {
        Expert {
            id,
            capacity: None,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    fn candidate(id: i64, field: Option<&str>) -> Candidate {
        Candidate {
            id,
            field: field.map(str::to_owned),
        }
    }

    fn plain(ne: i64, nc: i64) -> (Vec<Expert>, Vec<Candidate>) {
        (
            (1..=ne).map(|i| expert(1000 + i, &[])).collect(),
            (1..=nc).map(|i| candidate(i, None)).collect(),
        )
    }

    fn manual(pairs: &[(i64, i64)]) -> Conflicts {
        let mut c = Conflicts::new();
        for &(e, k) in pairs {
            c.add(e, k, Reason::Manual("测试".into()));
        }
        c
    }

    #[test]
    fn without_conflicts_every_candidate_gets_r_and_loads_are_even() {
        let (experts, candidates) = plain(7, 30);
        let a = assign(&experts, &candidates, 3, &Conflicts::new(), 9, &[]);
        assert_eq!(a.pairs.len(), 90);
        assert!(a.short.is_empty() && a.dropped.is_empty());
        assert_eq!(a.seed, 9);
        let l = loads(&a.pairs, &experts);
        assert_eq!(spread(&l), (12, 13), "{l:?}");
    }

    #[test]
    fn no_experts_or_too_few_are_named() {
        let (_, candidates) = plain(0, 2);
        let a = assign(&[], &candidates, 5, &Conflicts::new(), 1, &[]);
        assert_eq!(a.short.len(), 2);
        assert_eq!(a.short[0].why, "本轮没有评审专家");
        let (experts, candidates) = plain(4, 3);
        let a = assign(&experts, &candidates, 5, &Conflicts::new(), 1, &[]);
        assert_eq!(a.pairs.len(), 12);
        assert_eq!(
            a.short[0],
            Short {
                candidate: 1,
                got: 4,
                want: 5,
                why: "专家人数 4 少于每位候选人所需的 5 位".into()
            }
        );
        let a = assign(&experts, &candidates, 5, &manual(&[(1001, 2)]), 1, &[]);
        assert_eq!(
            a.short[1].why,
            "专家人数 4 少于每位候选人所需的 5 位，其中 1 位与其存在利益冲突"
        );
        assert_eq!(a.short[1].got, 3);
    }

    #[test]
    fn conflicts_leave_a_candidate_short_with_why() {
        let (experts, candidates) = plain(5, 4);
        let conflicts = manual(&[(1001, 3), (1004, 3)]);
        let a = assign(&experts, &candidates, 5, &conflicts, 3, &[]);
        assert!(!a.pairs.contains(&(1001, 3)) && !a.pairs.contains(&(1004, 3)));
        assert_eq!(
            a.short,
            vec![Short {
                candidate: 3,
                got: 3,
                want: 5,
                why: "可评审的专家只有 3 位：另 2 位与其存在利益冲突".into()
            }]
        );
    }

    #[test]
    fn capacity_overrides_are_kept_and_named() {
        let (mut experts, candidates) = plain(3, 2);
        for e in &mut experts {
            e.capacity = Some(1);
        }
        let a = assign(&experts, &candidates, 3, &Conflicts::new(), 4, &[]);
        assert_eq!(a.pairs.len(), 3);
        assert_eq!(loads(&a.pairs, &experts), vec![1, 1, 1]);
        let total: u32 = a.short.iter().map(|s| s.got).sum();
        assert_eq!(total, 3);
        for s in &a.short {
            assert_eq!(
                s.why,
                format!("其余 {} 位可评审的专家已达评审数量上限", 3 - s.got)
            );
        }
    }

    #[test]
    fn an_expert_conflicted_with_most_candidates_cannot_be_balanced() {
        // 1001 may review only candidate 1; the other two share the rest evenly.
        let (experts, candidates) = plain(3, 9);
        let conflicts = manual(&(2..=9).map(|c| (1001, c)).collect::<Vec<_>>());
        let a = assign(&experts, &candidates, 1, &conflicts, 2, &[]);
        assert!(a.short.is_empty());
        assert_eq!(loads(&a.pairs, &experts), vec![1, 4, 4]);
    }

    #[test]
    fn fields_are_matched_when_balance_allows() {
        let experts = [expert(1, &["数学"]), expert(2, &["物理学", "化学"])];
        let candidates = [
            candidate(10, Some("化学")),
            candidate(11, Some("数学")),
            candidate(12, Some(" 物理学 ")),
            candidate(13, Some("数学")),
        ];
        for seed in 0..20 {
            let a = assign(&experts, &candidates, 1, &Conflicts::new(), seed, &[]);
            assert_eq!(a.pairs, vec![(1, 11), (1, 13), (2, 10), (2, 12)]);
        }
    }

    #[test]
    fn balance_comes_before_fields() {
        let experts = [expert(1, &["数学"]), expert(2, &["物理学"])];
        let candidates: Vec<_> = (10..14).map(|i| candidate(i, Some("数学"))).collect();
        let a = assign(&experts, &candidates, 1, &Conflicts::new(), 0, &[]);
        assert_eq!(loads(&a.pairs, &experts), vec![2, 2]);
    }

    #[test]
    fn fixed_pairs_are_kept_and_counted_conflicted_ones_dropped() {
        let (experts, candidates) = plain(4, 4);
        let conflicts = manual(&[(1002, 2)]);
        let fixed = [
            (1001, 1),
            (1001, 1),
            (1001, 2),
            (1002, 2),
            (9999, 1),
            (1003, 99),
        ];
        let a = assign(&experts, &candidates, 2, &conflicts, 5, &fixed);
        assert!(a.pairs.contains(&(1001, 1)) && a.pairs.contains(&(1001, 2)));
        assert!(!a.pairs.contains(&(1002, 2)));
        assert_eq!(a.pairs.len(), 8);
        assert_eq!(loads(&a.pairs, &experts), vec![2, 2, 2, 2]);
        let dropped: Vec<_> = a.dropped.iter().map(|d| (d.expert, d.candidate)).collect();
        assert_eq!(dropped, vec![(1002, 2), (1003, 99), (9999, 1)]);
        assert_eq!(a.dropped[0].why, "存在利益冲突：活动办公室指定回避：测试");
        assert_eq!(a.dropped[1].why, "候选人不在本轮候选人名单中");
        assert_eq!(a.dropped[2].why, "专家不在本轮评审专家名单中");
    }

    #[test]
    fn same_seed_same_panel_other_seed_differs_input_order_does_not_matter() {
        let (experts, candidates) = plain(20, 60);
        let conflicts = manual(&[(1003, 7), (1010, 7), (1011, 30)]);
        let a = assign(&experts, &candidates, 3, &conflicts, 42, &[]);
        let b = assign(&experts, &candidates, 3, &conflicts, 42, &[]);
        assert_eq!(a, b);
        let (mut re, mut rc) = (experts.clone(), candidates.clone());
        re.reverse();
        rc.reverse();
        assert_eq!(assign(&re, &rc, 3, &conflicts, 42, &[]), a);
        let c = assign(&experts, &candidates, 3, &conflicts, 43, &[]);
        assert_ne!(a.pairs, c.pairs);
        assert_eq!(c.seed, 43);
    }

    #[test]
    fn a_declared_conflict_reassigns() {
        let experts = [
            expert(1, &["数学"]),
            expert(2, &["数学"]),
            expert(3, &["化学"]),
            expert(4, &["数学"]),
        ];
        let candidates: Vec<_> = (10..14).map(|i| candidate(i, Some("数学"))).collect();
        let mut conflicts = Conflicts::new();
        let a = assign(&experts, &candidates, 2, &conflicts, 7, &[]);
        let (e, c) = a.pairs[0];
        conflicts.declare(e, c, &Declaration::Relation("导师".into()));
        let r = reassign(&a.pairs, e, c, &experts, &candidates, &conflicts, 7).unwrap();
        assert_eq!(r.removed, (e, c));
        assert!(!r.pairs.contains(&(e, c)));
        assert!(r.pairs.contains(&r.added));
        assert_eq!(r.added.1, c);
        assert_ne!(r.added.0, e);
        assert!(!conflicts.is_conflicted(r.added.0, c));
        assert_eq!(r.pairs.len(), a.pairs.len());
        // Loads were 2 each; the new expert had 2 like the others, so now 1..3 at most.
        assert!(r.loads.1 - r.loads.0 <= 2);
        assert!(reassign(&a.pairs, e, 99, &experts, &candidates, &conflicts, 7).is_err());
    }

    #[test]
    fn reassign_prefers_the_least_loaded_then_the_field() {
        let experts = [
            expert(1, &["数学"]),
            expert(2, &["化学"]),
            expert(3, &["数学"]),
            expert(4, &["数学"]),
        ];
        let candidates = [candidate(10, Some("数学")), candidate(11, None)];
        let current = [(1, 10), (4, 11), (4, 10)];
        // 2 and 3 are least loaded (0); 3 matches 数学.
        for seed in 0..10 {
            let r = reassign(
                &current,
                1,
                10,
                &experts,
                &candidates,
                &manual(&[(1, 10)]),
                seed,
            )
            .unwrap();
            assert_eq!(r.added, (3, 10));
            assert_eq!(r.pairs, vec![(3, 10), (4, 10), (4, 11)]);
            assert_eq!(r.loads, (0, 2));
        }
    }

    #[test]
    fn reassign_without_anyone_eligible_says_why() {
        let mut experts = vec![
            expert(1, &[]),
            expert(2, &[]),
            expert(3, &[]),
            expert(4, &[]),
        ];
        experts[3].capacity = Some(1);
        let candidates = [candidate(10, None), candidate(11, None)];
        let current = [(1, 10), (2, 10), (4, 11)];
        let err = reassign(
            &current,
            1,
            10,
            &experts,
            &candidates,
            &manual(&[(3, 10)]),
            0,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "没有可替换的专家：其余 3 位专家中，1 位与其存在利益冲突，1 位已在评审此候选人，1 位已达评审数量上限"
        );
        let err = reassign(
            &[(1, 10)],
            1,
            10,
            &experts[..1],
            &candidates,
            &Conflicts::new(),
            0,
        )
        .unwrap_err();
        assert_eq!(err, "没有其他评审专家可替换");
    }

    #[test]
    fn manual_changes_pass_the_same_checks() {
        let mut conflicts = Conflicts::new();
        conflicts.add(1, 10, Reason::SameWorkUnit("新疆大学".into()));
        let current = [(1, 11), (2, 10), (2, 11)];
        assert_eq!(
            check_manual(&current, (1, 10), &conflicts),
            Err("不能分配：与候选人同一工作单位（新疆大学）".into())
        );
        assert_eq!(
            check_manual(&current, (2, 10), &conflicts),
            Err("该专家已分配此候选人".into())
        );
        assert_eq!(
            check_manual(&current, (2, 12), &conflicts),
            Ok(Spread {
                load: 3,
                min: 1,
                max: 3
            })
        );
        assert_eq!(
            check_manual(&[], (3, 12), &conflicts),
            Ok(Spread {
                load: 1,
                min: 1,
                max: 1
            })
        );
    }

    #[test]
    fn the_seeded_shuffle_is_fixed_by_the_seed() {
        // ChaCha8's stream is specified, so this order is the same on every machine and
        // dependency version; a change here would change recorded panels.
        let mut v: Vec<u32> = (0..10).collect();
        shuffle(&mut v, &mut ChaCha8Rng::seed_from_u64(2024));
        let mut w: Vec<u32> = (0..10).collect();
        shuffle(&mut w, &mut ChaCha8Rng::seed_from_u64(2024));
        assert_eq!(v, w);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = [0u32; 3];
        for _ in 0..3000 {
            seen[below(&mut rng, 3) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (900..1100).contains(&n)), "{seen:?}");
    }

    /// A random pool: experts with 0–2 of five 学科 (and, with `caps`, a third of them
    /// capped at 0–7), candidates with a 学科 three times in four, each pair conflicted
    /// with probability `rate`%, and with `fixed` about 2% of pairs fixed beforehand (some
    /// of them conflicted, plus one naming an unknown expert).
    struct Pool {
        experts: Vec<Expert>,
        candidates: Vec<Candidate>,
        conflicts: Conflicts,
        fixed: Vec<(i64, i64)>,
    }

    fn pool(ne: usize, nc: usize, rate: u32, seed: u64, caps: bool, fixed: bool) -> Pool {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rand = move |n: u32| rng.next_u32() % n;
        let experts: Vec<Expert> = (0..ne as i64)
            .map(|i| Expert {
                id: 1000 + i,
                capacity: (caps && rand(3) == 0).then(|| rand(8)),
                fields: (0..rand(3))
                    .map(|_| SUBJECTS[rand(5) as usize].to_owned())
                    .collect(),
            })
            .collect();
        let candidates: Vec<Candidate> = (0..nc as i64)
            .map(|i| candidate(i, (rand(4) > 0).then(|| SUBJECTS[rand(5) as usize])))
            .collect();
        let mut conflicts = Conflicts::new();
        let mut pairs = Vec::new();
        for e in &experts {
            for c in &candidates {
                if rand(100) < rate {
                    conflicts.add(e.id, c.id, Reason::Manual("随机".into()));
                }
                if fixed && rand(50) == 0 {
                    pairs.push((e.id, c.id));
                }
            }
        }
        if fixed {
            pairs.push((1, 0));
        }
        Pool {
            experts,
            candidates,
            conflicts,
            fixed: pairs,
        }
    }

    /// Every property the assignment promises, checked on one result.
    fn check(p: &Pool, r: u32, a: &Assignment) {
        let (ne, nc) = (p.experts.len(), p.candidates.len());
        let ei: HashMap<i64, usize> = p
            .experts
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        let ci: HashMap<i64, usize> = p
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        // Sorted, no duplicate, nothing conflicted, only known people.
        assert!(
            a.pairs.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicate"
        );
        for &(e, c) in &a.pairs {
            assert!(
                !p.conflicts.is_conflicted(e, c),
                "conflicted pair ({e}, {c})"
            );
            assert!(ei.contains_key(&e) && ci.contains_key(&c));
        }
        // Fixed pairs: kept unless conflicted or unknown, and then listed as dropped.
        let kept: HashSet<(i64, i64)> = p
            .fixed
            .iter()
            .copied()
            .filter(|&(e, c)| {
                ei.contains_key(&e) && ci.contains_key(&c) && !p.conflicts.is_conflicted(e, c)
            })
            .collect();
        for f in &kept {
            assert!(a.pairs.binary_search(f).is_ok(), "fixed pair {f:?} kept");
        }
        let mut dropped: Vec<_> = p
            .fixed
            .iter()
            .copied()
            .filter(|f| !kept.contains(f))
            .collect();
        dropped.sort_unstable();
        dropped.dedup();
        let listed: Vec<_> = a.dropped.iter().map(|d| (d.expert, d.candidate)).collect();
        assert_eq!(listed, dropped);

        let mut load = vec![0u32; ne];
        let mut got = vec![0u32; nc];
        let mut fixed_c = vec![0u32; nc];
        let mut new_c = vec![0u32; nc];
        let mut assigned: HashSet<(usize, usize)> = HashSet::new();
        let mut movable: HashSet<(usize, usize)> = HashSet::new();
        for &(e, c) in &a.pairs {
            let (e, c) = (ei[&e], ci[&c]);
            load[e] += 1;
            got[c] += 1;
            assigned.insert((e, c));
            if kept.contains(&(p.experts[e].id, p.candidates[c].id)) {
                fixed_c[c] += 1;
            } else {
                new_c[c] += 1;
                movable.insert((e, c));
            }
        }
        let cap = |e: usize| p.experts[e].capacity.unwrap_or(u32::MAX);
        let fixed_e = |e: usize| kept.iter().filter(|f| f.0 == p.experts[e].id).count() as u32;
        for (e, &l) in load.iter().enumerate() {
            assert!(l <= cap(e).max(fixed_e(e)), "capacity of {e}");
        }
        // Short candidates: exactly those below r, with the count and a reason.
        let short: HashMap<i64, &Short> = a.short.iter().map(|s| (s.candidate, s)).collect();
        assert!(a.short.windows(2).all(|w| w[0].candidate < w[1].candidate));
        for (c, cand) in p.candidates.iter().enumerate() {
            let eligible = p
                .experts
                .iter()
                .filter(|e| !p.conflicts.is_conflicted(e.id, cand.id))
                .count() as u32;
            if got[c] < r {
                let s = short.get(&cand.id).expect("a short candidate is named");
                assert_eq!((s.got, s.want), (got[c], r));
                assert!(!s.why.is_empty());
                let conflicted = ne as u32 - eligible;
                if conflicted > 0 {
                    assert!(
                        s.why.contains(&format!("{conflicted} 位与其存在利益冲突")),
                        "{}",
                        s.why
                    );
                }
            } else {
                assert!(!short.contains_key(&cand.id));
            }
            if p.experts.iter().all(|e| e.capacity.is_none()) {
                // Unlimited loads: each candidate gets all it may have, up to r.
                assert_eq!(got[c], fixed_c[c].max(r.min(eligible)), "candidate {c}");
            }
        }

        // The residual network of the flow, without the sink: s → c while c is below r,
        // c → s when c has a new pair, c → e for an eligible pair not made (when e could
        // take any at all), e → c for a new pair.
        let s = nc + ne;
        let mut adj = vec![Vec::new(); nc + ne + 1];
        for c in 0..nc {
            if got[c] < r {
                adj[s].push(c);
            }
            if new_c[c] > 0 {
                adj[c].push(s);
            }
            for e in 0..ne {
                let (eid, cid) = (p.experts[e].id, p.candidates[c].id);
                let room_at_start = cap(e) > fixed_e(e);
                if got[c] < r.max(fixed_c[c]) || new_c[c] > 0 {
                    // (Candidates fixed up to r have no arcs at all.)
                    if fixed_c[c] < r
                        && room_at_start
                        && !p.conflicts.is_conflicted(eid, cid)
                        && !assigned.contains(&(e, c))
                    {
                        adj[c].push(nc + e);
                    }
                }
                if movable.contains(&(e, c)) {
                    adj[nc + e].push(c);
                }
            }
        }
        // `through_s`: whether a chain may pass through the source, i.e. change which
        // candidates are short.
        let reach = |from: usize, through_s: bool| {
            let mut seen = vec![false; nc + ne + 1];
            let mut q = VecDeque::from([from]);
            seen[from] = true;
            while let Some(u) = q.pop_front() {
                for &v in &adj[u] {
                    if !seen[v] && (through_s || v != s) {
                        seen[v] = true;
                        q.push_back(v);
                    }
                }
            }
            seen
        };
        let room = |e: usize| load[e] < cap(e);
        // Maximum: no augmenting path from a short candidate to an expert with room.
        let from_s = reach(s, true);
        for e in 0..ne {
            assert!(
                !(from_s[nc + e] && room(e)),
                "augmenting path to expert {e}"
            );
        }
        // Balanced: no exchange chain (leaving every candidate's count as it is) from an
        // expert to one with room two or more below.
        for a_ in 0..ne {
            if !movable.iter().any(|&(e, _)| e == a_) {
                continue;
            }
            let seen = reach(nc + a_, false);
            for b in 0..ne {
                if b != a_ && seen[nc + b] && room(b) {
                    assert!(
                        load[a_] <= load[b] + 1,
                        "chain from {a_} ({}) to {b} ({})",
                        load[a_],
                        load[b]
                    );
                }
            }
        }
        // Short candidates even: no chain (leaving every load as it is) gives a short
        // candidate one of the experts of a candidate two or more above it.
        for c1 in (0..nc).filter(|&c| got[c] < r) {
            let seen = reach(c1, false);
            for c2 in 0..nc {
                if c2 != c1 && seen[c2] && new_c[c2] > 0 {
                    assert!(got[c2] <= got[c1] + 1, "chain from {c2} to short {c1}");
                }
            }
        }
        // The corollary without conflicts, caps or fixed pairs: loads within one.
        if p.conflicts.is_empty()
            && p.fixed.is_empty()
            && p.experts.iter().all(|e| e.capacity.is_none())
        {
            let (lo, hi) = spread(&load);
            assert!(hi - lo <= 1, "loads {lo}..{hi}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn prop_assignments_keep_their_promises(
            ne in 1usize..40,
            nc in 0usize..120,
            r in 1u32..6,
            rate in prop_oneof![Just(0u32), 0u32..30],
            caps in any::<bool>(),
            fixed in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let p = pool(ne, nc, rate, seed, caps, fixed);
            let a = assign(&p.experts, &p.candidates, r, &p.conflicts, seed, &p.fixed);
            check(&p, r, &a);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn prop_same_pool_and_seed_same_panel(
            ne in 1usize..40,
            nc in 0usize..120,
            r in 1u32..6,
            rate in 0u32..30,
            seed in any::<u64>(),
        ) {
            let p = pool(ne, nc, rate, seed, true, true);
            let a = assign(&p.experts, &p.candidates, r, &p.conflicts, seed, &p.fixed);
            let mut experts = p.experts.clone();
            experts.reverse();
            let b = assign(&experts, &p.candidates, r, &p.conflicts, seed, &p.fixed);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn prop_a_declared_conflict_reassigns(
            ne in 1usize..40,
            nc in 1usize..120,
            r in 1u32..6,
            rate in 0u32..30,
            pick in any::<prop::sample::Index>(),
            seed in any::<u64>(),
        ) {
            let mut p = pool(ne, nc, rate, seed, false, false);
            let a = assign(&p.experts, &p.candidates, r, &p.conflicts, seed, &[]);
            prop_assume!(!a.pairs.is_empty());
            let (e, c) = a.pairs[pick.index(a.pairs.len())];
            p.conflicts.declare(e, c, &Declaration::Relation("亲属".into()));
            let before = loads(&a.pairs, &p.experts);
            match reassign(&a.pairs, e, c, &p.experts, &p.candidates, &p.conflicts, seed) {
                Ok(rep) => {
                    prop_assert!(!rep.pairs.contains(&(e, c)));
                    prop_assert_eq!(rep.added.1, c);
                    prop_assert_ne!(rep.added.0, e);
                    prop_assert!(!p.conflicts.is_conflicted(rep.added.0, c));
                    prop_assert!(!a.pairs.contains(&rep.added));
                    prop_assert_eq!(rep.pairs.len(), a.pairs.len());
                    prop_assert!(rep.pairs.windows(2).all(|w| w[0] < w[1]));
                    // The least loaded of those who could take it.
                    let ix = |id: i64| p.experts.iter().position(|x| x.id == id).unwrap();
                    let took = before[ix(rep.added.0)];
                    for (i, x) in p.experts.iter().enumerate() {
                        if x.id != e && !p.conflicts.is_conflicted(x.id, c) && !a.pairs.contains(&(x.id, c)) {
                            prop_assert!(took <= before[i]);
                        }
                    }
                }
                Err(why) => {
                    prop_assert!(why.starts_with("没有"));
                    for x in &p.experts {
                        prop_assert!(x.id == e || p.conflicts.is_conflicted(x.id, c) || a.pairs.contains(&(x.id, c)));
                    }
                }
            }
        }
    }

    #[test]
    fn a_manual_removal_needs_the_pair_and_a_reason() {
        let current = [(1, 10), (2, 10)];
        assert_eq!(
            check_removal(&current, (3, 10), "换人").unwrap_err(),
            "该专家未分配此候选人"
        );
        assert_eq!(
            check_removal(&current, (1, 10), "  ").unwrap_err(),
            "取消分配须写明理由"
        );
        assert_eq!(check_removal(&current, (1, 10), " 出差 ").unwrap(), "出差");
        assert!(
            check_removal(&current, (1, 10), &"长".repeat(201))
                .unwrap_err()
                .contains("现为 201 字")
        );
    }
}
