//! The experts' score sheets of one stage combined into a value per candidate, and the
//! ranking that decides who advances (issue 17).
//!
//! Everything here is exact and independent of the order of the sheets, so the same
//! sheets give the same ranking whichever database returned them and in whatever order:
//! the mean and the trimmed mean are rationals of integer sums, comparisons
//! cross-multiply, and the z-score's one unavoidable square root is taken in a single
//! fixed formula on exact integer sums and rounded to millionths of a point before
//! anything is added or compared.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// How a stage combines its sheets: the campaign file's `aggregation` (`mean`,
/// `trimmed_mean`, `z_score`), one type for the file and the arithmetic.
pub use crate::campaign::Aggregation as Method;

/// One submitted sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub expert: i64,
    pub candidate: i64,
    /// Points per criterion in the campaign's criterion order, already validated
    /// (0..=max). Only the first `Settings::criteria` count; a missing one counts 0.
    pub points: Vec<u32>,
}

/// A stage's aggregation settings from the campaign file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub method: Method,
    /// Below this many sheets the trimmed mean falls back to the mean, with a note.
    /// Taken as 3 when lower: dropping two of two sheets would leave nothing.
    pub trim_min: usize,
    /// How many criteria a sheet has.
    pub criteria: usize,
}

/// An exact value: a reduced fraction with a positive denominator, so equality is
/// structural and the order (by cross-multiplication) total. Shown with 2 decimals,
/// halves away from zero ("87.33"); `{:.4}` shows 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Score {
    num: i128,
    den: i128,
}

impl Score {
    pub const ZERO: Score = Score { num: 0, den: 1 };

    /// `num / den`, reduced. Panics when `den` is 0.
    pub fn new(num: i128, den: i128) -> Score {
        assert!(den != 0, "a score's denominator is not zero");
        let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()) as i128;
        Score {
            num: num / g,
            den: den / g,
        }
    }

    pub fn numer(self) -> i128 {
        self.num
    }

    pub fn denom(self) -> i128 {
        self.den
    }

    /// Rounded to `places` decimals, halves away from zero, as an integer count of
    /// 10^-places (`87.335` → 8734 for 2 places).
    pub fn rounded(self, places: u32) -> i128 {
        let n = self.num * 10i128.pow(places);
        let (q, r) = (n / self.den, n % self.den);
        if 2 * r.abs() >= self.den {
            q + n.signum()
        } else {
            q
        }
    }

    /// For charts only; never compare these.
    pub fn to_f64(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

impl std::ops::Add for Score {
    type Output = Score;

    fn add(self, o: Score) -> Score {
        Score::new(self.num * o.den + o.num * self.den, self.den * o.den)
    }
}

impl std::ops::Mul for Score {
    type Output = Score;

    fn mul(self, o: Score) -> Score {
        Score::new(self.num * o.num, self.den * o.den)
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Score) -> Ordering {
        // Denominators are positive, so cross-multiplying keeps the order. Totals of
        // 100,000 sheets in millionths stay far inside i128.
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Score) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = f.precision().unwrap_or(2) as u32;
        let r = self.rounded(places);
        let unit = 10u128.pow(places);
        let sign = if r < 0 { "-" } else { "" };
        let a = r.unsigned_abs();
        if places == 0 {
            write!(f, "{sign}{a}")
        } else {
            let width = places as usize;
            write!(f, "{sign}{}.{:0width$}", a / unit, a % unit)
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// One candidate's aggregate in a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub candidate: i64,
    /// Sheets received (all of them, also those a trimmed mean dropped).
    pub sheets: usize,
    pub total: Score,
    /// Per criterion: for the mean and the trimmed mean the same method over the same
    /// sheets as the total (so they add up to it); for the z-score the raw means, used
    /// only as tie keys.
    pub per_criterion: Vec<Score>,
    /// Why the value is not what the method alone would suggest, for the organiser.
    pub note: Option<String>,
}

/// Mapped z-score values are kept in millionths of a point.
const MICRO: i128 = 1_000_000;

/// Each candidate's aggregate, sorted by candidate id; a candidate without a sheet is
/// absent.
///
/// - Mean: the sum of the sheet totals over their count.
/// - Trimmed mean: one lowest and one highest total dropped, the mean of the rest. Among
///   equal totals the lowest dropped is the sheet of the lowest expert id and the
///   highest dropped that of the highest expert id, so the per-criterion values do not
///   depend on the input order either. Fewer than `trim_min` sheets: the mean, with a
///   note.
/// - Z-score: per expert the mean m and population standard deviation s of their totals
///   over all their sheets in `sheets`; M and S the same over all sheets. A sheet of
///   total x counts y = M + S·(x − m)/s; an expert with s = 0 (all totals equal, or a
///   single sheet) says nothing about who is better, so their sheets count y = M (S = 0
///   implies s = 0 for everyone). Each y is rounded to millionths; the candidate's
///   value is the exact mean of its y's, with a note when some counted M.
pub fn aggregate(settings: &Settings, sheets: &[Sheet]) -> Vec<Aggregate> {
    let k = settings.criteria;
    let point = |s: &Sheet, i: usize| i128::from(s.points.get(i).copied().unwrap_or(0));
    let totals: Vec<i128> = sheets
        .iter()
        .map(|s| (0..k).map(|i| point(s, i)).sum())
        .collect();
    let (candidates, slot) = dense(sheets.iter().map(|s| s.candidate));

    let mut count = vec![0usize; candidates.len()];
    let mut sum = vec![0i128; candidates.len()];
    let mut crit = vec![0i128; candidates.len() * k];
    // Sheet indexes of the lowest and highest by (total, expert, points): a total order,
    // so which of several equal sheets is dropped does not depend on input order.
    let mut lo: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut hi: Vec<Option<usize>> = vec![None; candidates.len()];
    let order_key = |i: usize| (totals[i], sheets[i].expert, &sheets[i].points);
    for (i, s) in sheets.iter().enumerate() {
        let c = slot[i];
        count[c] += 1;
        sum[c] += totals[i];
        for (j, acc) in crit[c * k..(c + 1) * k].iter_mut().enumerate() {
            *acc += point(s, j);
        }
        if settings.method == Method::TrimmedMean {
            if lo[c].is_none_or(|l| order_key(i) < order_key(l)) {
                lo[c] = Some(i);
            }
            if hi[c].is_none_or(|h| order_key(i) > order_key(h)) {
                hi[c] = Some(i);
            }
        }
    }

    let z = (settings.method == Method::ZScore)
        .then(|| z_scores(&totals, sheets, &slot, candidates.len()));

    candidates
        .iter()
        .enumerate()
        .map(|(c, &candidate)| {
            let n = count[c];
            let crit = &crit[c * k..(c + 1) * k];
            let mean = |total: i128, crit: &[i128], n: usize| {
                let n = n as i128;
                (
                    Score::new(total, n),
                    crit.iter().map(|&v| Score::new(v, n)).collect::<Vec<_>>(),
                )
            };
            let (total, per_criterion, note) = match settings.method {
                Method::Mean => {
                    let (t, p) = mean(sum[c], crit, n);
                    (t, p, None)
                }
                Method::TrimmedMean => {
                    let min = settings.trim_min.max(3);
                    match (lo[c], hi[c]) {
                        (Some(l), Some(h)) if n >= min => {
                            let kept: Vec<i128> = (0..k)
                                .map(|j| crit[j] - point(&sheets[l], j) - point(&sheets[h], j))
                                .collect();
                            let (t, p) = mean(sum[c] - totals[l] - totals[h], &kept, n - 2);
                            (t, p, None)
                        }
                        _ => {
                            let (t, p) = mean(sum[c], crit, n);
                            let note = format!(
                                "仅 {n} 份评分，少于去掉最高分和最低分所需的 {min} 份，按平均分计"
                            );
                            (t, p, Some(note))
                        }
                    }
                }
                Method::ZScore => {
                    let z = z.as_ref().expect("computed for the z-score");
                    let (_, p) = mean(sum[c], crit, n);
                    let note = (z.flat[c] > 0).then(|| {
                        format!(
                            "其中 {} 份评分出自所评总分全部相同的专家，无法标准化，按本轮平均分 {} 计",
                            z.flat[c], z.stage_mean
                        )
                    });
                    (Score::new(z.sum_micro[c], n as i128 * MICRO), p, note)
                }
            };
            Aggregate {
                candidate,
                sheets: n,
                total,
                per_criterion,
                note,
            }
        })
        .collect()
}

/// The distinct ids in ascending order, and each item's index among them.
fn dense(ids: impl Iterator<Item = i64> + Clone) -> (Vec<i64>, Vec<usize>) {
    let mut distinct: Vec<i64> = ids.clone().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let slot = ids
        .map(|id| distinct.binary_search(&id).expect("collected above"))
        .collect();
    (distinct, slot)
}

struct ZScores {
    /// Per candidate slot: the sum of its sheets' mapped values, in millionths.
    sum_micro: Vec<i128>,
    /// Per candidate slot: how many of its sheets came from an expert of zero spread.
    flat: Vec<usize>,
    stage_mean: Score,
}

fn z_scores(totals: &[i128], sheets: &[Sheet], slot: &[usize], candidates: usize) -> ZScores {
    let (experts, expert) = dense(sheets.iter().map(|s| s.expert));
    let (mut n_e, mut s1_e, mut s2_e) = (
        vec![0i128; experts.len()],
        vec![0i128; experts.len()],
        vec![0i128; experts.len()],
    );
    for (i, &x) in totals.iter().enumerate() {
        let e = expert[i];
        n_e[e] += 1;
        s1_e[e] += x;
        s2_e[e] += x * x;
    }
    let n = totals.len() as i128;
    let t1: i128 = s1_e.iter().sum();
    let t2: i128 = s2_e.iter().sum();
    // With D = N·ΣX² − (ΣX)² (= N²·S²) and D_e = n_e·Σx² − (Σx)² (= n_e²·s²):
    //   y − M = S·(x − m)/s = (n_e·x − Σx)·√(D/D_e) / N.
    // D, D_e and n_e·x − Σx are exact integer sums, the same in any order; the rest is
    // one fixed sequence of IEEE operations (int→float conversion, ÷, √, ×, rounding:
    // each correctly rounded by the standard), so every machine gets the same integer.
    let d = n * t2 - t1 * t1;
    let factor: Vec<Option<f64>> = (0..experts.len())
        .map(|e| {
            let d_e = n_e[e] * s2_e[e] - s1_e[e] * s1_e[e];
            (d_e > 0 && d > 0).then(|| (d as f64 / d_e as f64).sqrt())
        })
        .collect();
    let m_micro = Score::new(t1 * MICRO, n.max(1)).rounded(0);
    let mut sum_micro = vec![0i128; candidates];
    let mut flat = vec![0usize; candidates];
    for (i, &x) in totals.iter().enumerate() {
        let (e, c) = (expert[i], slot[i]);
        match factor[e] {
            Some(f) => {
                let a = (n_e[e] * x - s1_e[e]) as f64;
                // Rounding the deviation on its own keeps y = M exactly for x = m and
                // makes ±a symmetric.
                let dev = (a * f * MICRO as f64 / n as f64).round() as i128;
                sum_micro[c] += m_micro + dev;
            }
            None => {
                sum_micro[c] += m_micro;
                flat[c] += 1;
            }
        }
    }
    ZScores {
        sum_micro,
        flat,
        stage_mean: Score::new(t1, n.max(1)),
    }
}

/// A key that orders candidates of equal total, in the campaign's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieKey {
    /// The aggregate of criterion i (e.g. 工作实绩), higher first.
    Criterion(usize),
    /// The previous stage's rank, lower (better) first; a candidate without one comes
    /// last.
    PreviousRank,
}

/// A candidate's place in a stage's ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub candidate: i64,
    /// 1-based; candidates tied on every key share a rank (the next rank skips).
    pub rank: u32,
    /// `None` when there is no cut, or while the candidate is in a tie across it.
    pub advanced: Option<bool>,
    /// For the organiser, e.g. "第 40 名，晋级；与第 41 名总分相同，按工作实绩排在前".
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ranking {
    /// Best first.
    pub rows: Vec<Ranked>,
    /// Candidates still tied on every key across the cut, in row order: the organiser
    /// must order them (with a reason, recorded elsewhere) and pass that order as
    /// `broken`.
    pub tie_at_cut: Vec<i64>,
}

/// What separated two neighbouring candidates of equal total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decider {
    Total,
    Key(TieKey),
    Organiser,
}

/// Ranks the aggregates: total, higher first; then each of `keys` in order; then, for
/// a group tied on all of these, the organiser's order in `broken` when it lists every
/// member of the group (a partial list leaves the group tied). `criteria_names` name
/// the criteria in the reasons. With `advance = Some(n)` the first n advance; a tied
/// group straddling position n gets `advanced: None` and is listed in `tie_at_cut`.
pub fn rank(
    aggs: &[Aggregate],
    previous_rank: &BTreeMap<i64, u32>,
    keys: &[TieKey],
    criteria_names: &[String],
    advance: Option<usize>,
    broken: &[i64],
) -> Ranking {
    // The first key that tells a and b apart, and how (Less = a first).
    let decide = |a: &Aggregate, b: &Aggregate| -> (Ordering, Decider) {
        let by_total = b.total.cmp(&a.total);
        if by_total != Ordering::Equal {
            return (by_total, Decider::Total);
        }
        for &key in keys {
            let o = match key {
                TieKey::Criterion(i) => b.per_criterion.get(i).cmp(&a.per_criterion.get(i)),
                TieKey::PreviousRank => {
                    let of = |c: &Aggregate| {
                        let r = previous_rank.get(&c.candidate);
                        (r.is_none(), r.copied())
                    };
                    of(a).cmp(&of(b))
                }
            };
            if o != Ordering::Equal {
                return (o, Decider::Key(key));
            }
        }
        (Ordering::Equal, Decider::Organiser)
    };

    let mut order: Vec<&Aggregate> = aggs.iter().collect();
    order.sort_by(|a, b| decide(a, b).0.then(a.candidate.cmp(&b.candidate)));

    let mut position: BTreeMap<i64, usize> = BTreeMap::new();
    for (p, &c) in broken.iter().enumerate() {
        position.entry(c).or_insert(p);
    }
    // Units of rows that share a rank: [start, end).
    let mut units: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && decide(order[start], order[end]).0 == Ordering::Equal {
            end += 1;
        }
        let group = &mut order[start..end];
        if end - start > 1 && group.iter().all(|a| position.contains_key(&a.candidate)) {
            group.sort_by_key(|a| position[&a.candidate]);
            units.extend((start..end).map(|p| (p, p + 1)));
        } else {
            units.push((start, end));
        }
        start = end;
    }

    let rank_of = |(s, _): (usize, usize)| u32::try_from(s + 1).unwrap_or(u32::MAX);
    let key_name = |d: Decider| match d {
        Decider::Key(TieKey::Criterion(i)) => criteria_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("第 {} 项评分", i + 1)),
        Decider::Key(TieKey::PreviousRank) => "上一轮排名".to_owned(),
        Decider::Organiser | Decider::Total => "活动办公室的裁定".to_owned(),
    };
    let mut ranking = Ranking::default();
    for (u, &(s, e)) in units.iter().enumerate() {
        let rank = rank_of((s, e));
        let advanced = advance.and_then(|n| {
            if e <= n {
                Some(true)
            } else if s >= n {
                Some(false)
            } else {
                None
            }
        });
        let mut head = if e - s > 1 {
            format!("第 {rank} 名（{} 人并列）", e - s)
        } else {
            format!("第 {rank} 名")
        };
        match (advance, advanced) {
            (Some(_), Some(true)) => head.push_str("，晋级"),
            (Some(n), Some(false)) => head.push_str(&format!("，未晋级（限 {n} 名）")),
            (Some(n), None) => head.push_str(&format!(
                "，并列跨越晋级线（限 {n} 名），待活动办公室排定先后"
            )),
            (None, _) => {}
        }
        // How this unit was told apart from its neighbours of the same total.
        let mut beside = |other: usize, ahead: bool| {
            let (this, that) = (order[s], order[other]);
            if this.total != that.total {
                return;
            }
            let d = decide(that, this).1;
            let side = if ahead { "后" } else { "前" };
            let at = rank_of(units[if ahead { u - 1 } else { u + 1 }]);
            head.push_str(&format!(
                "；与第 {at} 名总分相同，按{}排在{side}",
                key_name(d)
            ));
        };
        if s > 0 {
            beside(s - 1, true);
        }
        if e < order.len() {
            beside(e, false);
        }
        for a in &order[s..e] {
            if advance.is_some() && advanced.is_none() {
                ranking.tie_at_cut.push(a.candidate);
            }
            ranking.rows.push(Ranked {
                candidate: a.candidate,
                rank,
                advanced,
                reason: head.clone(),
            });
        }
    }
    ranking
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sheet(expert: i64, candidate: i64, points: [u32; 3]) -> Sheet {
        Sheet {
            expert,
            candidate,
            points: points.to_vec(),
        }
    }

    fn sum(a: Score, b: Score) -> Score {
        Score::new(
            a.numer() * b.denom() + b.numer() * a.denom(),
            a.denom() * b.denom(),
        )
    }

    fn settings(method: Method) -> Settings {
        Settings {
            method,
            trim_min: 3,
            criteria: 3,
        }
    }

    /// (candidate, total shown, per criterion shown, note).
    fn shown(aggs: &[Aggregate]) -> Vec<(i64, String, Vec<String>, Option<String>)> {
        aggs.iter()
            .map(|a| {
                (
                    a.candidate,
                    a.total.to_string(),
                    a.per_criterion.iter().map(Score::to_string).collect(),
                    a.note.clone(),
                )
            })
            .collect()
    }

    fn names() -> Vec<String> {
        ["工作实绩", "创新成果", "社会影响"]
            .map(String::from)
            .to_vec()
    }

    /// Criteria 工作实绩 (0–50), 创新成果 (0–30), 社会影响 (0–20); totals out of 100.
    fn panel_of_three() -> Vec<Sheet> {
        vec![
            sheet(101, 1, [45, 27, 18]), // 90
            sheet(102, 1, [42, 25, 17]), // 84
            sheet(103, 1, [44, 26, 15]), // 85
            sheet(101, 2, [40, 24, 16]), // 80
            sheet(102, 2, [43, 26, 17]), // 86
            sheet(103, 2, [41, 25, 17]), // 83
            sheet(101, 3, [46, 28, 18]), // 92
            sheet(102, 3, [38, 22, 15]), // 75
            sheet(103, 3, [44, 27, 18]), // 89
            sheet(101, 4, [39, 20, 14]), // 73
            sheet(102, 4, [40, 22, 16]), // 78
            sheet(103, 4, [38, 21, 15]), // 74
        ]
    }

    #[test]
    fn mean_matches_hand_computed_table() {
        let aggs = aggregate(&settings(Method::Mean), &panel_of_three());
        // 1: (90+84+85)/3 = 259/3 = 86.333…; 工作实绩 131/3, 创新 78/3, 社会 50/3
        // 2: (80+86+83)/3 = 249/3 = 83;      124/3, 75/3, 50/3
        // 3: (92+75+89)/3 = 256/3 = 85.333…; 128/3, 77/3, 51/3
        // 4: (73+78+74)/3 = 225/3 = 75;      117/3, 63/3, 45/3
        assert_eq!(
            shown(&aggs),
            vec![
                (
                    1,
                    "86.33".into(),
                    vec!["43.67".into(), "26.00".into(), "16.67".into()],
                    None
                ),
                (
                    2,
                    "83.00".into(),
                    vec!["41.33".into(), "25.00".into(), "16.67".into()],
                    None
                ),
                (
                    3,
                    "85.33".into(),
                    vec!["42.67".into(), "25.67".into(), "17.00".into()],
                    None
                ),
                (
                    4,
                    "75.00".into(),
                    vec!["39.00".into(), "21.00".into(), "15.00".into()],
                    None
                ),
            ]
        );
        assert_eq!(aggs[0].total, Score::new(259, 3));
        assert_eq!(aggs[1].total, Score::new(83, 1));
        assert!(aggs.iter().all(|a| a.sheets == 3));
    }

    #[test]
    fn trimmed_mean_matches_hand_computed_table() {
        let sheets = vec![
            // 1: 90 84 85 70 95 → drop 70 and 95 → (90+84+85)/3 = 259/3 = 86.33
            sheet(101, 1, [45, 27, 18]),
            sheet(102, 1, [42, 25, 17]),
            sheet(103, 1, [44, 26, 15]),
            sheet(104, 1, [35, 20, 15]),
            sheet(105, 1, [48, 28, 19]),
            // 2: 88 (101) 80 82 60 88 (105) → drop 60 and the 88 of the higher expert id,
            // 105 → (88+80+82)/3 = 250/3 = 83.33; 工作实绩 (44+40+41)/3 = 125/3 = 41.67,
            // 创新 (26+24+25)/3 = 25, 社会 (18+16+16)/3 = 50/3 = 16.67
            sheet(101, 2, [44, 26, 18]),
            sheet(102, 2, [40, 24, 16]),
            sheet(103, 2, [41, 25, 16]),
            sheet(104, 2, [30, 18, 12]),
            sheet(105, 2, [40, 28, 20]),
            // 3: only 2 sheets, 80 and 91 → mean 171/2 = 85.50, with the note
            sheet(101, 3, [40, 24, 16]),
            sheet(102, 3, [46, 27, 18]),
            // 4: exactly 3 sheets, 70 75 90 → 75
            sheet(101, 4, [35, 21, 14]),
            sheet(102, 4, [38, 22, 15]),
            sheet(103, 4, [45, 27, 18]),
        ];
        let aggs = aggregate(&settings(Method::TrimmedMean), &sheets);
        assert_eq!(
            shown(&aggs),
            vec![
                (
                    1,
                    "86.33".into(),
                    vec!["43.67".into(), "26.00".into(), "16.67".into()],
                    None
                ),
                (
                    2,
                    "83.33".into(),
                    vec!["41.67".into(), "25.00".into(), "16.67".into()],
                    None
                ),
                (
                    3,
                    "85.50".into(),
                    vec!["43.00".into(), "25.50".into(), "17.00".into()],
                    Some("仅 2 份评分，少于去掉最高分和最低分所需的 3 份，按平均分计".into())
                ),
                (
                    4,
                    "75.00".into(),
                    vec!["38.00".into(), "22.00".into(), "15.00".into()],
                    None
                ),
            ]
        );
        assert_eq!(aggs[1].total, Score::new(250, 3));
        assert_eq!(aggs[0].sheets, 5);

        // With a higher minimum the 3-sheet candidate falls back too: (70+75+90)/3 = 235/3.
        let strict = Settings {
            trim_min: 4,
            ..settings(Method::TrimmedMean)
        };
        let four = &aggregate(&strict, &sheets)[3];
        assert_eq!(four.total, Score::new(235, 3));
        assert_eq!(
            four.note.as_deref(),
            Some("仅 3 份评分，少于去掉最高分和最低分所需的 4 份，按平均分计")
        );

        // A minimum below 3 is taken as 3: two sheets cannot lose two.
        let loose = Settings {
            trim_min: 1,
            ..settings(Method::TrimmedMean)
        };
        assert_eq!(aggregate(&loose, &sheets)[2].total, Score::new(171, 2));
    }

    #[test]
    fn z_score_matches_hand_computed_table() {
        // Expert 1: 88 76 76 88, m = 82, s = 6; expert 2: 76 80 76 80, m = 78, s = 2;
        // expert 3: 80 80 80 80, s = 0 → every sheet counts M.
        // Stage: sum 960 over 12 → M = 80; deviations² 64 16 16 64 16 0 16 0 0 0 0 0 = 192,
        // 192/12 = 16 → S = 4. y = 80 + 4·z:
        //   expert 1: z = +1 −1 −1 +1 → 84 76 76 84; expert 2: z = −1 +1 −1 +1 → 76 84 76 84.
        let sheets = vec![
            sheet(1, 1, [44, 26, 18]), // 88
            sheet(1, 2, [38, 23, 15]), // 76
            sheet(1, 3, [40, 21, 15]), // 76
            sheet(1, 4, [45, 25, 18]), // 88
            sheet(2, 1, [38, 22, 16]), // 76
            sheet(2, 2, [40, 24, 16]), // 80
            sheet(2, 3, [36, 24, 16]), // 76
            sheet(2, 4, [40, 25, 15]), // 80
            sheet(3, 1, [40, 24, 16]), // 80
            sheet(3, 2, [41, 23, 16]), // 80
            sheet(3, 3, [40, 25, 15]), // 80
            sheet(3, 4, [40, 24, 16]), // 80
        ];
        let aggs = aggregate(&settings(Method::ZScore), &sheets);
        // 1: (84+76+80)/3 = 80; 2: (76+84+80)/3 = 80; 3: (76+76+80)/3 = 232/3 = 77.33;
        // 4: (84+84+80)/3 = 248/3 = 82.67. (Raw means would be 81.33 78.67 77.33 82.67.)
        let totals: Vec<(i64, Score)> = aggs.iter().map(|a| (a.candidate, a.total)).collect();
        assert_eq!(
            totals,
            vec![
                (1, Score::new(80, 1)),
                (2, Score::new(80, 1)),
                (3, Score::new(232, 3)),
                (4, Score::new(248, 3)),
            ]
        );
        assert_eq!(aggs[2].total.to_string(), "77.33");
        // Per criterion: the raw means, e.g. 1: 工作实绩 (44+38+40)/3 = 122/3.
        assert_eq!(aggs[0].per_criterion[0], Score::new(122, 3));
        let note = "其中 1 份评分出自所评总分全部相同的专家，无法标准化，按本轮平均分 80.00 计";
        assert!(aggs.iter().all(|a| a.note.as_deref() == Some(note)));
    }

    #[test]
    fn z_score_uneven_panel_matches_hand_computed_to_two_places() {
        // Expert 1: 80 90 85, m = 85, s = √(50/3) = 4.0825; expert 2: 70 78, m = 74, s = 4.
        // Stage: 403/5 = M = 80.6; ΣX² = 32709, 32709/5 − 80.6² = 45.44, S = 6.7409.
        //   e1: 80.6 + 6.7409·(−5/4.0825) = 72.3441, 88.8559, 80.6
        //   e2: 80.6 ∓ 6.7409 = 73.8591, 87.3409
        // 1: (72.3441+73.8591)/2 = 73.1016; 2: (88.8559+87.3409)/2 = 88.0984; 3: 80.6.
        let sheets = vec![
            sheet(1, 1, [40, 24, 16]),
            sheet(1, 2, [45, 27, 18]),
            sheet(1, 3, [43, 25, 17]),
            sheet(2, 1, [35, 21, 14]),
            sheet(2, 2, [39, 23, 16]),
        ];
        let aggs = aggregate(&settings(Method::ZScore), &sheets);
        let four: Vec<String> = aggs.iter().map(|a| format!("{:.4}", a.total)).collect();
        assert_eq!(four, ["73.1016", "88.0984", "80.6000"]);
        let two: Vec<String> = aggs.iter().map(|a| a.total.to_string()).collect();
        assert_eq!(two, ["73.10", "88.10", "80.60"]);
        // Deviations of ±a are symmetric: the two candidates sit equally far from M.
        assert_eq!(sum(aggs[0].total, aggs[1].total), Score::new(2 * 806, 10));
        assert!(aggs.iter().all(|a| a.note.is_none()));
    }

    #[test]
    fn z_score_with_no_spread_anywhere_is_the_stage_mean() {
        // S = 0: every total 85, so every sheet counts M = 85 and nothing divides by zero.
        let sheets = vec![
            sheet(1, 1, [45, 25, 15]),
            sheet(1, 2, [40, 25, 20]),
            sheet(2, 1, [44, 26, 15]),
        ];
        let aggs = aggregate(&settings(Method::ZScore), &sheets);
        assert!(aggs.iter().all(|a| a.total == Score::new(85, 1)));
        assert_eq!(
            aggs[0].note.as_deref(),
            Some("其中 2 份评分出自所评总分全部相同的专家，无法标准化，按本轮平均分 85.00 计")
        );
    }

    #[test]
    fn a_single_sheet() {
        let one = [sheet(7, 42, [40, 25, 18])];
        let mean = aggregate(&settings(Method::Mean), &one);
        assert_eq!(mean.len(), 1);
        assert_eq!(
            (mean[0].candidate, mean[0].sheets, mean[0].total),
            (42, 1, Score::new(83, 1))
        );
        assert_eq!(mean[0].note, None);
        let trimmed = aggregate(&settings(Method::TrimmedMean), &one);
        assert_eq!(trimmed[0].total, Score::new(83, 1));
        assert_eq!(
            trimmed[0].note.as_deref(),
            Some("仅 1 份评分，少于去掉最高分和最低分所需的 3 份，按平均分计")
        );
        // One sheet: M = 83 and the expert has no spread.
        let z = aggregate(&settings(Method::ZScore), &one);
        assert_eq!(z[0].total, Score::new(83, 1));
        assert_eq!(z[0].per_criterion, [40, 25, 18].map(|v| Score::new(v, 1)));
    }

    #[test]
    fn no_sheets_no_aggregates() {
        for m in [Method::Mean, Method::TrimmedMean, Method::ZScore] {
            assert!(aggregate(&settings(m), &[]).is_empty());
        }
        assert_eq!(
            rank(&[], &BTreeMap::new(), &[], &[], Some(3), &[]),
            Ranking::default()
        );
    }

    #[test]
    fn score_is_exact_and_shows_two_places() {
        assert_eq!(Score::new(4, -6), Score::new(-2, 3));
        assert!(Score::new(1, 3) < Score::new(333_334, 1_000_000));
        assert!(Score::new(1, 3) > Score::new(333_333, 1_000_000));
        assert_eq!(Score::new(87_335, 1000).to_string(), "87.34");
        assert_eq!(Score::new(-87_335, 1000).to_string(), "-87.34");
        assert_eq!(Score::new(87_334, 1000).to_string(), "87.33");
        assert_eq!(Score::new(-1, 1000).to_string(), "0.00");
        assert_eq!(format!("{:.0}", Score::new(5, 2)), "3");
        assert_eq!(Score::ZERO.to_string(), "0.00");
    }

    #[test]
    fn method_reads_the_campaign_keys() {
        for m in [Method::Mean, Method::TrimmedMean, Method::ZScore] {
            let read: Method = serde_json::from_str(&format!("\"{}\"", m.key())).unwrap();
            assert_eq!(read, m);
        }
    }

    fn agg(candidate: i64, total: i128, work: i128) -> Aggregate {
        Aggregate {
            candidate,
            sheets: 3,
            total: Score::new(total, 1),
            per_criterion: vec![Score::new(work, 1), Score::ZERO, Score::ZERO],
            note: None,
        }
    }

    fn keys() -> [TieKey; 2] {
        [TieKey::Criterion(0), TieKey::PreviousRank]
    }

    fn table(r: &Ranking) -> Vec<(i64, u32, Option<bool>, &str)> {
        r.rows
            .iter()
            .map(|x| (x.candidate, x.rank, x.advanced, x.reason.as_str()))
            .collect()
    }

    #[test]
    fn ties_broken_by_work_record_then_previous_rank() {
        let aggs = [
            agg(6, 70, 35),
            agg(5, 85, 42), // no previous rank: after 3 and 4
            agg(4, 85, 42), // previous rank 7
            agg(3, 85, 42), // previous rank 2
            agg(2, 85, 44), // best 工作实绩 among the 85s
            agg(1, 90, 40),
        ];
        let previous = BTreeMap::from([(3, 2), (4, 7), (6, 1)]);
        let r = rank(&aggs, &previous, &keys(), &names(), Some(3), &[]);
        assert_eq!(
            table(&r),
            vec![
                (1, 1, Some(true), "第 1 名，晋级"),
                (
                    2,
                    2,
                    Some(true),
                    "第 2 名，晋级；与第 3 名总分相同，按工作实绩排在前"
                ),
                (
                    3,
                    3,
                    Some(true),
                    "第 3 名，晋级；与第 2 名总分相同，按工作实绩排在后；与第 4 名总分相同，按上一轮排名排在前"
                ),
                (
                    4,
                    4,
                    Some(false),
                    "第 4 名，未晋级（限 3 名）；与第 3 名总分相同，按上一轮排名排在后；与第 5 名总分相同，按上一轮排名排在前"
                ),
                (
                    5,
                    5,
                    Some(false),
                    "第 5 名，未晋级（限 3 名）；与第 4 名总分相同，按上一轮排名排在后"
                ),
                (6, 6, Some(false), "第 6 名，未晋级（限 3 名）"),
            ]
        );
        assert!(r.tie_at_cut.is_empty());
    }

    #[test]
    fn a_tie_across_the_cut_is_reported_then_resolved_by_the_organiser() {
        let aggs = [
            agg(1, 90, 40),
            agg(2, 88, 40),
            agg(3, 85, 40),
            agg(4, 85, 40),
            agg(5, 80, 40),
        ];
        let previous = BTreeMap::from([(3, 2), (4, 2)]);
        let r = rank(&aggs, &previous, &keys(), &names(), Some(3), &[]);
        let cut = "第 3 名（2 人并列），并列跨越晋级线（限 3 名），待活动办公室排定先后";
        assert_eq!(
            table(&r),
            vec![
                (1, 1, Some(true), "第 1 名，晋级"),
                (2, 2, Some(true), "第 2 名，晋级"),
                (3, 3, None, cut),
                (4, 3, None, cut),
                (5, 5, Some(false), "第 5 名，未晋级（限 3 名）"),
            ]
        );
        assert_eq!(r.tie_at_cut, vec![3, 4]);

        // A partial order leaves the tie standing.
        assert_eq!(
            rank(&aggs, &previous, &keys(), &names(), Some(3), &[4]).tie_at_cut,
            vec![3, 4]
        );

        // The organiser puts 4 before 3.
        let r = rank(&aggs, &previous, &keys(), &names(), Some(3), &[4, 3]);
        assert_eq!(
            table(&r)[2..4],
            [
                (
                    4,
                    3,
                    Some(true),
                    "第 3 名，晋级；与第 4 名总分相同，按活动办公室的裁定排在前"
                ),
                (
                    3,
                    4,
                    Some(false),
                    "第 4 名，未晋级（限 3 名）；与第 3 名总分相同，按活动办公室的裁定排在后"
                ),
            ]
        );
        assert!(r.tie_at_cut.is_empty());
    }

    #[test]
    fn a_tie_inside_the_cut_shares_a_rank_and_advances() {
        let aggs = [agg(1, 85, 40), agg(2, 85, 40), agg(3, 80, 40)];
        let r = rank(&aggs, &BTreeMap::new(), &keys(), &names(), Some(2), &[]);
        assert_eq!(
            table(&r),
            vec![
                (1, 1, Some(true), "第 1 名（2 人并列），晋级"),
                (2, 1, Some(true), "第 1 名（2 人并列），晋级"),
                (3, 3, Some(false), "第 3 名，未晋级（限 2 名）"),
            ]
        );
        // Without a cut nobody is marked, and nothing waits for the organiser.
        let r = rank(&aggs, &BTreeMap::new(), &keys(), &names(), None, &[]);
        assert!(r.rows.iter().all(|x| x.advanced.is_none()));
        assert_eq!(r.rows[0].reason, "第 1 名（2 人并列）");
        assert!(r.tie_at_cut.is_empty());
    }

    fn any_sheets() -> impl Strategy<Value = Vec<Sheet>> {
        prop::collection::vec(
            (0i64..6, 0i64..8, 0u32..=50, 0u32..=30, 0u32..=20)
                .prop_map(|(e, c, a, b, d)| sheet(e, c, [a, b, d])),
            0..40,
        )
    }

    proptest! {
        #[test]
        fn shuffled_sheets_give_the_same_ranking(
            (sheets, shuffled) in any_sheets().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            let previous = BTreeMap::from([(0, 1), (1, 2), (2, 3)]);
            for m in [Method::Mean, Method::TrimmedMean, Method::ZScore] {
                let a = aggregate(&settings(m), &sheets);
                let b = aggregate(&settings(m), &shuffled);
                prop_assert_eq!(&a, &b);
                let mut reversed = b.clone();
                reversed.reverse();
                prop_assert_eq!(
                    rank(&a, &previous, &keys(), &names(), Some(3), &[]),
                    rank(&reversed, &previous, &keys(), &names(), Some(3), &[])
                );
            }
        }

        #[test]
        fn means_lie_within_the_totals(sheets in any_sheets()) {
            for m in [Method::Mean, Method::TrimmedMean] {
                for a in aggregate(&settings(m), &sheets) {
                    let totals = sheets.iter().filter(|s| s.candidate == a.candidate)
                        .map(|s| i128::from(s.points.iter().sum::<u32>()));
                    let (lo, hi) = (totals.clone().min().unwrap(), totals.max().unwrap());
                    prop_assert!(Score::new(lo, 1) <= a.total && a.total <= Score::new(hi, 1));
                    let parts = a.per_criterion.iter().fold(Score::ZERO, |acc, &p| sum(acc, p));
                    prop_assert_eq!(parts, a.total);
                }
            }
        }
    }
}
