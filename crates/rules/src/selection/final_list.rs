//! The final list under the notice's hard rules (新疆: “院士比例不超过10%，45岁以下青年科技
//! 工作者不少于20%”), drawn exactly.
//!
//! The candidates come ranked (the last stage's ranking, ties already ordered). Of the
//! lists of K that meet every rule, the one drawn is the one that, wherever it differs
//! from another, keeps the better-ranked candidate: nobody is left out for someone ranked
//! below them unless a rule requires it. That is the lexicographic optimum, found by going
//! down the ranking and taking each candidate whose taking still leaves the rules
//! meetable; “still meetable” is a small integer programme over the kinds of candidate
//! (which rules each counts for), solved exactly by a depth-first search with memory.
//! Shares become whole counts so that the share holds: at most 10% of 20 is 2, at least
//! 20% of 20 is 4. Every candidate gets a reason naming the rule that placed them; a list
//! no choice can meet is answered with the smallest set of rules that clash, with counts.

use std::collections::{HashMap, HashSet};

use crate::campaign::{Campaign, ConstraintKind, Indicator};

/// The most rules one list takes (each is a dimension of the search).
pub const MAX_RULES: usize = 8;

/// One ranked candidate: its place in the ranking (1-based, shown in reasons) and the
/// rules it counts for, as bits (bit `j` for rule `j`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub place: u32,
    pub counts_for: u32,
}

/// A hard rule on the list: between `min` and `max` of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Who counts, in words: “院士”, “45 岁以下”.
    pub noun: String,
    pub min: u32,
    pub max: Option<u32>,
}

impl Rule {
    /// The rule in words, with its whole count: “院士不超过 2 人”, “45 岁以下不少于 4 人”.
    pub fn words(&self) -> String {
        match (self.min, self.max) {
            (0, Some(hi)) => format!("{}不超过 {hi} 人", self.noun),
            (lo, None) => format!("{}不少于 {lo} 人", self.noun),
            (lo, Some(hi)) if lo == hi => format!("{}恰为 {lo} 人", self.noun),
            (lo, Some(hi)) => format!("{}为 {lo}～{hi} 人", self.noun),
        }
    }
}

/// Who counts for an indicator, in words (the young with the file's age limit).
pub fn noun(indicator: Indicator, young_max_age: Option<u32>) -> String {
    match indicator {
        Indicator::Academician => "院士".to_owned(),
        Indicator::Young => match young_max_age {
            Some(age) => format!("{age} 岁以下"),
            None => "青年".to_owned(),
        },
        Indicator::Female => "女性".to_owned(),
        Indicator::Grassroots => "基层一线".to_owned(),
    }
}

/// A share of `k` as a whole count that keeps the share: at most `share`·k rounds down,
/// at least rounds up. Shares are read in millionths, so 0.1 of 20 is exactly 2.
pub fn whole_count(kind: ConstraintKind, share: f64, k: u32) -> u32 {
    let ppm = (share * 1_000_000.0).round().clamp(0.0, 1_000_000.0) as u64;
    let scaled = ppm * u64::from(k);
    let count = match kind {
        ConstraintKind::MaxShare => scaled / 1_000_000,
        ConstraintKind::MinShare => scaled.div_ceil(1_000_000),
    };
    count as u32
}

/// Who a rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counts {
    /// Those with an indicator (院士, 45 岁以下 …).
    Indicator(Indicator),
    /// Those whose 推荐组别 is this choice.
    Group(String),
    /// Those recommended by a unit of this category (by key).
    Category(String),
}

/// The campaign file's `[final]` rules on a list of `k`, each with whom it counts (the
/// caller marks who is): the shares as whole counts, then the bounds per 推荐组别 or
/// recommender category as the file gives them.
pub fn rules_for(c: &Campaign, k: u32) -> Vec<(Counts, Rule)> {
    let list = &c.final_list;
    let shares = list.constraints.iter().map(|x| {
        let n = whole_count(x.kind, x.share, k);
        let (min, max) = match x.kind {
            ConstraintKind::MaxShare => (0, Some(n)),
            ConstraintKind::MinShare => (n, None),
        };
        (
            Counts::Indicator(x.indicator),
            Rule {
                noun: noun(x.indicator, list.young_max_age),
                min,
                max,
            },
        )
    });
    let bounds = list.bounds.iter().filter_map(|b| {
        let (counts, noun) = match (&b.group, &b.category) {
            (Some(g), _) => (Counts::Group(g.clone()), format!("推荐组别“{g}”")),
            (None, Some(key)) => {
                let name = c
                    .recommender_categories
                    .iter()
                    .find(|x| &x.key == key)
                    .map_or(key.as_str(), |x| x.name.as_str());
                (Counts::Category(key.clone()), format!("{name}推荐的"))
            }
            (None, None) => return None,
        };
        Some((
            counts,
            Rule {
                noun,
                min: b.min.unwrap_or(0),
                max: b.max,
            },
        ))
    });
    shares.chain(bounds).collect()
}

/// A drawn list: who is on it (indices into the entries, best first) and a reason for
/// every entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub chosen: Vec<usize>,
    /// One per entry, in entry order: “第 23 名入选：需满足 45 岁以下不少于 4 人”.
    pub reasons: Vec<String>,
    /// Each rule's count on the list, in rule order.
    pub counts: Vec<u32>,
}

/// No list meets the rules: the smallest set of clashing rules (indices; empty when the
/// candidates are too few for the list alone) and why, with counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub rules: Vec<usize>,
    pub message: String,
}

/// The kinds of candidate in a pool: how many of each membership pattern.
#[derive(Debug, Clone)]
struct Pool {
    /// (membership bits, how many), patterns with none left out.
    kinds: Vec<(u32, u32)>,
}

impl Pool {
    fn of(entries: &[Entry], mask: u32) -> Pool {
        let mut kinds: Vec<(u32, u32)> = Vec::new();
        for e in entries {
            let bits = e.counts_for & mask;
            match kinds.iter_mut().find(|(b, _)| *b == bits) {
                Some((_, n)) => *n += 1,
                None => kinds.push((bits, 1)),
            }
        }
        kinds.sort_unstable();
        Pool { kinds }
    }

    fn take(&mut self, bits: u32) {
        if let Some(k) = self.kinds.iter_mut().find(|(b, _)| *b == bits) {
            k.1 -= 1;
        }
    }
}

/// Whether `need` more can be taken from `pool` so that, with `have` already counted,
/// every rule in `active` (bits) holds. Exact: a search over how many of each kind.
fn meetable(pool: &Pool, need: u32, have: &[u32], rules: &[Rule], active: u32) -> bool {
    let m = rules.len();
    let live: Vec<usize> = (0..m).filter(|j| active & (1 << j) != 0).collect();
    // Quick refusals before searching: a rule already over, or out of reach.
    for &j in &live {
        if rules[j].max.is_some_and(|hi| have[j] > hi) {
            return false;
        }
    }
    let mut kinds: Vec<(u32, u32)> = pool
        .kinds
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(b, n)| (b & active, n))
        .collect();
    // The kinds that count for the most minimums and the fewest maximums first: the
    // search, taking as many of a kind as it can, then finds a list at once when there
    // is one.
    let weight = |bits: u32| {
        let (mut mins, mut maxes) = (0i32, 0i32);
        for &j in &live {
            if bits & (1 << j) != 0 {
                if rules[j].min > have[j] {
                    mins += 1;
                }
                if rules[j].max.is_some() {
                    maxes += 1;
                }
            }
        }
        (-mins, maxes)
    };
    kinds.sort_by_key(|&(bits, _)| (weight(bits), bits));
    // What the kinds from `t` on can still add to each rule, and in all.
    let mut rest = vec![vec![0u32; m + 1]; kinds.len() + 1];
    for t in (0..kinds.len()).rev() {
        let (bits, n) = kinds[t];
        let mut row = rest[t + 1].clone();
        for (j, r) in row.iter_mut().enumerate() {
            if j == m || bits & (1 << j) != 0 {
                *r += n;
            }
        }
        rest[t] = row;
    }
    let mut search = Search {
        kinds: &kinds,
        rest: &rest,
        rules,
        live: &live,
        failed: HashSet::new(),
    };
    search.go(0, need, &mut have.to_vec())
}

struct Search<'a> {
    kinds: &'a [(u32, u32)],
    rest: &'a [Vec<u32>],
    rules: &'a [Rule],
    live: &'a [usize],
    /// States known to fail: (kind, need, counts clipped to what still matters).
    failed: HashSet<(usize, u32, Vec<u32>)>,
}

impl Search<'_> {
    fn go(&mut self, t: usize, need: u32, have: &mut [u32]) -> bool {
        let m = self.rules.len();
        if need > self.rest[t][m] {
            return false;
        }
        for &j in self.live {
            let r = &self.rules[j];
            if r.max.is_some_and(|hi| have[j] > hi) {
                return false;
            }
            if have[j] + self.rest[t][j].min(need) < r.min {
                return false;
            }
        }
        if need == 0 {
            return true;
        }
        if t == self.kinds.len() {
            return false;
        }
        // Counts past a rule's minimum matter only against its maximum.
        let key: Vec<u32> = self
            .live
            .iter()
            .map(|&j| match self.rules[j].max {
                Some(_) => have[j],
                None => have[j].min(self.rules[j].min),
            })
            .collect();
        if self.failed.contains(&(t, need, key.clone())) {
            return false;
        }
        let (bits, n) = self.kinds[t];
        // The most of this kind first: lists fill up fastest that way.
        for x in (0..=n.min(need)).rev() {
            for &j in self.live {
                if bits & (1 << j) != 0 {
                    have[j] += x;
                }
            }
            let ok = self.go(t + 1, need - x, have);
            for &j in self.live {
                if bits & (1 << j) != 0 {
                    have[j] -= x;
                }
            }
            if ok {
                return true;
            }
        }
        self.failed.insert((t, need, key));
        false
    }
}

/// `head` then `tail`, a space between them where `tail` starts with a digit, as the
/// pages write numbers among Chinese (“需满足 45 岁以下不少于 4 人”).
fn spaced(head: &str, tail: &str) -> String {
    if tail.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{head} {tail}")
    } else {
        format!("{head}{tail}")
    }
}

fn all(rules: &[Rule]) -> u32 {
    (1u32 << rules.len()) - 1
}

fn counts_of(entries: &[Entry], chosen: &[usize], m: usize) -> Vec<u32> {
    (0..m)
        .map(|j| {
            chosen
                .iter()
                .filter(|&&i| entries[i].counts_for & (1 << j) != 0)
                .count() as u32
        })
        .collect()
}

/// Draws the list of `k` from `entries` (best first) under `rules`.
pub fn draw(entries: &[Entry], k: u32, rules: &[Rule]) -> Result<Drawn, Clash> {
    assert!(rules.len() <= MAX_RULES, "at most {MAX_RULES} rules");
    let m = rules.len();
    let every = all(rules);
    let mut pool = Pool::of(entries, every);
    let mut have = vec![0u32; m];
    if !meetable(&pool, k, &have, rules, every) {
        return Err(clash(entries, k, rules));
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(k as usize);
    let mut reasons: Vec<String> = Vec::with_capacity(entries.len());
    // Kinds refused since the last one taken, with why: the pool only shrinks meanwhile,
    // so a kind refused stays refused until someone is taken (10,000 candidates with the
    // young at the bottom are then one search per kind, not one per candidate).
    let mut refused: HashMap<u32, String> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let bits = e.counts_for & every;
        pool.take(bits);
        let place = e.place;
        if chosen.len() as u32 == k {
            reasons.push(format!("第 {place} 名未入选：名单 {k} 人已满"));
            continue;
        }
        if let Some(why) = refused.get(&bits) {
            reasons.push(format!("第 {place} 名未入选：{why}"));
            continue;
        }
        let need = k - chosen.len() as u32 - 1;
        let mut with = have.clone();
        for (j, w) in with.iter_mut().enumerate() {
            if bits & (1 << j) != 0 {
                *w += 1;
            }
        }
        // The plain refusals first, without a search: a maximum reached, or a minimum
        // that needs more places than are left.
        let plain = quick_refusal(need, &have, &with, k - chosen.len() as u32, rules);
        if plain.is_none() && meetable(&pool, need, &with, rules, every) {
            // Taken: plainly in the top k, or because a rule needs them.
            let reason = if i < k as usize {
                format!("第 {place} 名入选")
            } else {
                match (0..m).find(|&j| bits & (1 << j) != 0 && have[j] < rules[j].min) {
                    Some(j) => {
                        format!("第 {place} 名入选：{}", spaced("需满足", &rules[j].words()))
                    }
                    None => format!("第 {place} 名入选：依次递补"),
                }
            };
            reasons.push(reason);
            have = with;
            chosen.push(i);
            refused.clear();
        } else {
            let why = plain.unwrap_or_else(|| {
                why_not(
                    &pool,
                    need,
                    &have,
                    &with,
                    bits,
                    k - chosen.len() as u32,
                    rules,
                )
            });
            reasons.push(format!("第 {place} 名未入选：{why}"));
            refused.insert(bits, why);
        }
    }
    Ok(Drawn {
        counts: counts_of(entries, &chosen, m),
        chosen,
        reasons,
    })
}

/// A refusal seen without searching: taking the candidate (`with` the counts then) goes
/// over a maximum, or leaves fewer places (`need`) than a minimum still lacks.
fn quick_refusal(
    need: u32,
    have: &[u32],
    with: &[u32],
    places: u32,
    rules: &[Rule],
) -> Option<String> {
    let m = rules.len();
    if let Some(j) = (0..m).find(|&j| rules[j].max.is_some_and(|hi| with[j] > hi)) {
        return Some(format!("{}已达上限 {} 人", rules[j].noun, have[j]));
    }
    (0..m)
        .find(|&j| rules[j].min.saturating_sub(with[j]) > need)
        .map(|j| reserved(places, &rules[j], have[j]))
}

/// “余下 3 个名额须留给 45 岁以下（45 岁以下不少于 4 人，已有 1 人）”.
fn reserved(places: u32, rule: &Rule, have: u32) -> String {
    format!(
        "余下 {places} 个名额须{}（{}，已有 {have} 人）",
        spaced("留给", &rule.noun),
        rule.words()
    )
}

/// Why taking a candidate with membership `bits` would break the rules when no plain
/// refusal says: the rule whose dropping would let them in, a minimum first.
fn why_not(
    pool: &Pool,
    need: u32,
    have: &[u32],
    with: &[u32],
    bits: u32,
    places: u32,
    rules: &[Rule],
) -> String {
    let m = rules.len();
    let every = all(rules);
    // The single rule whose dropping would let them in; a minimum first.
    let culprits: Vec<usize> = (0..m)
        .filter(|&j| meetable(pool, need, with, rules, every & !(1 << j)))
        .collect();
    let pick = culprits
        .iter()
        .copied()
        .find(|&j| rules[j].min > 0 && bits & (1 << j) == 0)
        .or_else(|| culprits.first().copied());
    match pick {
        Some(j) if rules[j].min > 0 && bits & (1 << j) == 0 => reserved(places, &rules[j], have[j]),
        Some(j) => format!("入选将使“{}”无法满足", rules[j].words()),
        None => "入选将使名额规则无法同时满足".to_owned(),
    }
}

/// The smallest set of rules no list of `k` from `entries` meets, said with counts.
fn clash(entries: &[Entry], k: u32, rules: &[Rule]) -> Clash {
    let n = entries.len() as u32;
    if n < k {
        return Clash {
            rules: Vec::new(),
            message: format!("名单应为 {k} 人，候选人仅 {n} 人"),
        };
    }
    let m = rules.len();
    let pool = Pool::of(entries, all(rules));
    let zero = vec![0u32; m];
    let mut subsets: Vec<u32> = (1..(1u32 << m)).collect();
    subsets.sort_by_key(|s| (s.count_ones(), *s));
    let set = subsets
        .into_iter()
        .find(|&s| !meetable(&pool, k, &zero, rules, s))
        .unwrap_or(all(rules));
    let idx: Vec<usize> = (0..m).filter(|j| set & (1 << j) != 0).collect();
    let members = |j: usize| {
        entries
            .iter()
            .filter(|e| e.counts_for & (1 << j) != 0)
            .count() as u32
    };
    let message = match idx.as_slice() {
        [j] => {
            let r = &rules[*j];
            let c = members(*j);
            if c < r.min {
                format!("{}至少 {} 人，候选人中仅 {c} 人", r.noun, r.min)
            } else {
                let hi = r.max.unwrap_or(n);
                format!(
                    "{}至多 {hi} 人，其他候选人仅 {} 人，凑不足 {k} 人",
                    r.noun,
                    n - c
                )
            }
        }
        _ => {
            let words: Vec<String> = idx.iter().map(|&j| rules[j].words()).collect();
            let counts: Vec<String> = idx
                .iter()
                .map(|&j| format!("{} {} 人", rules[j].noun, members(j)))
                .collect();
            let both = entries
                .iter()
                .filter(|e| idx.iter().all(|&j| e.counts_for & (1 << j) != 0))
                .count();
            format!(
                "{}不能同时满足：候选人 {n} 人中{}，兼属以上各项的 {both} 人",
                words.join("与"),
                counts.join("、")
            )
        }
    };
    Clash {
        rules: idx,
        message,
    }
}

/// A drawing kept for the panel's own choice: what was drawn from, under which rules,
/// and what it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawing {
    pub entries: Vec<Entry>,
    pub k: u32,
    pub rules: Vec<Rule>,
    /// The drawn list, indices into the entries.
    pub drawn: Vec<usize>,
}

/// The longest reason one swap keeps.
pub const REASON_MAX_CHARS: usize = 500;

impl Drawing {
    /// The panel's own list (candidate ids) with a reason for each candidate it brings
    /// in (`reasons` by candidate id): checked against the hard rules, every swap
    /// reasoned. Returns the swaps in words for the record (empty when the list is the
    /// drawn one), or every problem.
    pub fn choose(
        &self,
        list: &[i64],
        reasons: &std::collections::BTreeMap<i64, String>,
    ) -> Result<String, Vec<String>> {
        let mut problems = Vec::new();
        let mut chosen = Vec::with_capacity(list.len());
        for id in list {
            match self.entries.iter().position(|e| e.id == *id) {
                Some(i) => chosen.push(i),
                None => problems.push(format!("候选人 {id} 不在本阶段的排名中")),
            }
        }
        problems.extend(check(&self.entries, self.k, &self.rules, &chosen));
        let (out, inn) = swaps(&self.drawn, &chosen);
        let mut said = Vec::new();
        for (o, i) in out.iter().zip(&inn) {
            let (o, i) = (&self.entries[*o], &self.entries[*i]);
            let reason = reasons.get(&i.id).map_or("", |r| r.trim());
            let n = reason.chars().count();
            if n == 0 {
                problems.push(format!(
                    "第 {} 名代替第 {} 名入选，请写明理由",
                    i.place, o.place
                ));
            } else if n > REASON_MAX_CHARS {
                problems.push(format!(
                    "第 {} 名入选的理由不超过 {REASON_MAX_CHARS} 字，现有 {n} 字",
                    i.place
                ));
            } else {
                said.push(format!(
                    "第 {} 名代替第 {} 名，理由：{reason}",
                    i.place, o.place
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(if said.is_empty() {
            String::new()
        } else {
            format!("评审小组另选名单：{}", said.join("；"))
        })
    }
}

/// Candidates of equal place (a tie the ranking's keys did not break) that the draw
/// split — some on the list, some not — where one left out could stand in for one taken
/// under the rules: both lists are equally good, so the office orders them. Indices of
/// every member of such groups; `entries` in ranking order.
pub fn ties(entries: &[Entry], k: u32, rules: &[Rule], chosen: &[usize]) -> Vec<usize> {
    let on: HashSet<usize> = chosen.iter().copied().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let mut j = i + 1;
        while j < entries.len() && entries[j].place == entries[i].place {
            j += 1;
        }
        let (inside, outside): (Vec<usize>, Vec<usize>) = (i..j).partition(|x| on.contains(x));
        let either = inside.iter().any(|&a| {
            outside.iter().any(|&b| {
                let swapped: Vec<usize> =
                    chosen.iter().map(|&x| if x == a { b } else { x }).collect();
                check(entries, k, rules, &swapped).is_empty()
            })
        });
        if either {
            out.extend(i..j);
        }
        i = j;
    }
    out
}

/// What breaks the rules in a list the panel chose instead (indices into the entries):
/// its size, a candidate twice or unknown, each rule with its count.
pub fn check(entries: &[Entry], k: u32, rules: &[Rule], chosen: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    if chosen.len() as u32 != k {
        out.push(format!("名单应为 {k} 人，现为 {} 人", chosen.len()));
    }
    let mut seen = HashSet::new();
    for &i in chosen {
        match entries.get(i) {
            None => out.push(format!("第 {} 位不在候选人中", i + 1)),
            Some(e) if !seen.insert(i) => out.push(format!("第 {} 名重复列入", e.place)),
            Some(_) => {}
        }
    }
    let valid: Vec<usize> = seen.into_iter().collect();
    for (j, c) in counts_of(entries, &valid, rules.len())
        .into_iter()
        .enumerate()
    {
        let r = &rules[j];
        if c < r.min {
            out.push(format!("{}仅 {c} 人，应不少于 {} 人", r.noun, r.min));
        }
        if let Some(hi) = r.max
            && c > hi
        {
            out.push(format!("{} {c} 人，超过上限 {hi} 人", r.noun));
        }
    }
    out
}

/// The swaps a chosen list makes against the drawn one: (left out, brought in), each
/// in ranking order; every pair needs the panel's reason.
pub fn swaps(drawn: &[usize], chosen: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut out: Vec<usize> = drawn
        .iter()
        .copied()
        .filter(|i| !chosen.contains(i))
        .collect();
    let mut inn: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| !drawn.contains(i))
        .collect();
    out.sort_unstable();
    inn.sort_unstable();
    (out, inn)
}

#[cfg(test)]
mod tests;
