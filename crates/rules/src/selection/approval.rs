//! A panel's show of hands (`ballot = "approval"`): each member says 同意 or 不同意 for
//! every candidate, and the candidates are ranked by how many agreed. The counts go
//! through the same ranking as scores, so ties follow the stage's keys (the criteria
//! do not apply to a vote; the previous stage's rank does) and a tie across the cut goes
//! to the organiser.

use std::collections::BTreeMap;

use super::aggregate::{self, Aggregate, Ranking, Score, TieKey};

/// One member's word on one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ballot {
    pub member: i64,
    pub candidate: i64,
    pub agree: bool,
}

/// Reads a ballot box as typed or chosen: 同意 / 不同意 (or 1 / 0).
pub fn read(typed: &str) -> Result<bool, String> {
    match typed.trim() {
        "同意" | "1" => Ok(true),
        "不同意" | "0" => Ok(false),
        "" => Err("未选择同意或不同意".to_owned()),
        other => Err(format!("应为“同意”或“不同意”，填写了“{other}”")),
    }
}

/// The tally per candidate, sorted by candidate: the total is the number of 同意, the
/// note says both counts. A member's second ballot on the same candidate is not counted
/// twice (the store keeps one per member and candidate; this holds without it too).
pub fn tally(ballots: &[Ballot]) -> Vec<Aggregate> {
    let mut seen: BTreeMap<(i64, i64), bool> = BTreeMap::new();
    for b in ballots {
        seen.entry((b.candidate, b.member)).or_insert(b.agree);
    }
    let mut counts: BTreeMap<i64, (i128, i128)> = BTreeMap::new();
    for ((candidate, _), agree) in seen {
        let c = counts.entry(candidate).or_default();
        if agree {
            c.0 += 1;
        } else {
            c.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(candidate, (yes, no))| Aggregate {
            candidate,
            sheets: (yes + no) as usize,
            total: Score::new(yes, 1),
            per_criterion: vec![Score::new(yes, 1)],
            note: Some(format!("同意 {yes} 票，不同意 {no} 票")),
        })
        .collect()
}

/// Ranks a tally by 同意 count: the scores' ranking, said in votes. Only the previous
/// stage's rank breaks ties before the organiser (a vote has no criteria).
pub fn rank(
    tallies: &[Aggregate],
    previous_rank: &BTreeMap<i64, u32>,
    use_previous_rank: bool,
    advance: Option<usize>,
    broken: &[i64],
) -> Ranking {
    let keys: &[TieKey] = if use_previous_rank {
        &[TieKey::PreviousRank]
    } else {
        &[]
    };
    let mut ranking = aggregate::rank(tallies, previous_rank, keys, &[], advance, broken);
    for row in &mut ranking.rows {
        row.reason = row.reason.replace("总分相同", "同意票数相同");
    }
    ranking
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(member: i64, candidate: i64, agree: bool) -> Ballot {
        Ballot {
            member,
            candidate,
            agree,
        }
    }

    #[test]
    fn boxes_read_as_agree_or_not() {
        assert_eq!(read(" 同意 "), Ok(true));
        assert_eq!(read("0"), Ok(false));
        assert_eq!(read("").unwrap_err(), "未选择同意或不同意");
        assert_eq!(
            read("弃权").unwrap_err(),
            "应为“同意”或“不同意”，填写了“弃权”"
        );
    }

    /// Five members on four candidates, by hand:
    ///
    /// | candidate | 同意 | 不同意 | rank |
    /// |-----------|------|--------|------|
    /// | 10        | 5    | 0      | 1    |
    /// | 11        | 3    | 2      | 2 (previous rank 1) |
    /// | 12        | 3    | 2      | 3 (previous rank 4) |
    /// | 13        | 1    | 4      | 4    |
    #[test]
    fn a_show_of_hands_ranks_by_agreement_and_ties_follow_the_previous_rank() {
        let votes = [
            (10, [true, true, true, true, true]),
            (11, [true, true, true, false, false]),
            (12, [false, true, true, true, false]),
            (13, [false, false, false, true, false]),
        ];
        let mut ballots = Vec::new();
        for (c, row) in votes {
            for (m, agree) in row.into_iter().enumerate() {
                ballots.push(b(m as i64 + 1, c, agree));
            }
        }
        // Input order does not matter, nor a repeated ballot.
        ballots.reverse();
        ballots.push(b(1, 13, true));
        let t = tally(&ballots);
        let yes: Vec<(i64, String)> = t
            .iter()
            .map(|a| (a.candidate, a.note.clone().unwrap()))
            .collect();
        assert_eq!(
            yes,
            [
                (10, "同意 5 票，不同意 0 票".to_owned()),
                (11, "同意 3 票，不同意 2 票".to_owned()),
                (12, "同意 3 票，不同意 2 票".to_owned()),
                (13, "同意 1 票，不同意 4 票".to_owned()),
            ]
        );
        let previous = BTreeMap::from([(10, 2), (11, 1), (12, 4), (13, 3)]);
        let r = rank(&t, &previous, true, Some(2), &[]);
        let order: Vec<(i64, u32, Option<bool>)> = r
            .rows
            .iter()
            .map(|x| (x.candidate, x.rank, x.advanced))
            .collect();
        assert_eq!(
            order,
            [
                (10, 1, Some(true)),
                (11, 2, Some(true)),
                (12, 3, Some(false)),
                (13, 4, Some(false)),
            ]
        );
        assert!(r.tie_at_cut.is_empty());
        assert_eq!(
            r.rows[1].reason,
            "第 2 名，晋级；与第 3 名同意票数相同，按上一轮排名排在前"
        );

        // Without the previous rank the tie crosses the cut and goes to the organiser.
        let r = rank(&t, &previous, false, Some(2), &[]);
        assert_eq!(r.tie_at_cut, [11, 12]);
        let r = rank(&t, &previous, false, Some(2), &[12, 11]);
        assert!(r.tie_at_cut.is_empty());
        assert_eq!(r.rows[1].candidate, 12);
        assert_eq!(r.rows[1].advanced, Some(true));
    }
}
