use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::campaign::{SEEDS, load};

/// Entries ranked 1…n, each counting for the rules whose bits `of(place)` gives.
fn ranked(n: u32, mut of: impl FnMut(u32) -> u32) -> Vec<Entry> {
    (1..=n)
        .map(|place| Entry {
            id: i64::from(place) * 10,
            place,
            counts_for: of(place),
        })
        .collect()
}

fn xinjiang_rules(k: u32) -> Vec<Rule> {
    let src = SEEDS
        .iter()
        .find(|(n, _)| n.starts_with("xinjiang"))
        .unwrap()
        .1;
    let c = load(src).campaign.unwrap();
    let rules = rules_for(&c, k);
    assert_eq!(
        rules.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>(),
        [
            Counts::Indicator(Indicator::Academician),
            Counts::Indicator(Indicator::Young)
        ]
    );
    rules.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn shares_become_counts_that_keep_the_share() {
    use ConstraintKind::{MaxShare, MinShare};
    assert_eq!(whole_count(MaxShare, 0.10, 20), 2);
    assert_eq!(whole_count(MinShare, 0.20, 20), 4);
    assert_eq!(whole_count(MaxShare, 0.10, 10), 1);
    assert_eq!(whole_count(MinShare, 0.20, 10), 2);
    // 10% of 15 is 1.5: at most 1; 20% of 12 is 2.4: at least 3.
    assert_eq!(whole_count(MaxShare, 0.10, 15), 1);
    assert_eq!(whole_count(MinShare, 0.20, 12), 3);
    // 0.1 is not exact in binary; 0.3 of 10 must still be 3, not 2 or 4.
    assert_eq!(whole_count(MaxShare, 0.3, 10), 3);
    assert_eq!(whole_count(MinShare, 0.3, 10), 3);
    let rules = xinjiang_rules(20);
    assert_eq!(rules[0].words(), "院士不超过 2 人");
    assert_eq!(rules[1].words(), "45 岁以下不少于 4 人");
    // The 10 national nominees under the same shares.
    let ten = xinjiang_rules(10);
    assert_eq!(
        (ten[0].words(), ten[1].words()),
        (
            "院士不超过 1 人".to_owned(),
            "45 岁以下不少于 2 人".to_owned()
        )
    );
}

/// 新疆's 20 of 30: 院士 at places 1, 2, 5 and 18; the young at 3, 23, 26 and 28. The
/// third and fourth 院士 give way, three places are kept for the young from 20 on, and
/// every reason names its rule.
#[test]
fn xinjiang_twenty_under_its_shares() {
    let rules = xinjiang_rules(20);
    let (acad, young) = (1, 2);
    let entries = ranked(30, |p| match p {
        1 | 2 | 5 | 18 => acad,
        3 | 23 | 26 | 28 => young,
        _ => 0,
    });
    let d = draw(&entries, 20, &rules).unwrap();
    let places: Vec<u32> = d.chosen.iter().map(|&i| entries[i].place).collect();
    let mut expected: Vec<u32> = (1..=19).filter(|p| *p != 5 && *p != 18).collect();
    expected.extend([23, 26, 28]);
    assert_eq!(places, expected);
    assert_eq!(d.counts, [2, 4]);
    let reason = |place: usize| d.reasons[place - 1].as_str();
    assert_eq!(reason(1), "第 1 名入选");
    assert_eq!(reason(5), "第 5 名未入选：院士已达上限 2 人");
    assert_eq!(reason(18), "第 18 名未入选：院士已达上限 2 人");
    assert_eq!(
        reason(20),
        "第 20 名未入选：余下 3 个名额须留给 45 岁以下（45 岁以下不少于 4 人，已有 1 人）"
    );
    assert_eq!(reason(23), "第 23 名入选：需满足 45 岁以下不少于 4 人");
    assert_eq!(reason(29), "第 29 名未入选：名单 20 人已满");
    assert!(check(&entries, 20, &rules, &d.chosen).is_empty());
}

/// A candidate taken only because better-ranked ones were held back by a maximum.
#[test]
fn a_place_freed_by_a_maximum_is_filled_in_order() {
    let rules = vec![Rule {
        noun: "院士".to_owned(),
        min: 0,
        max: Some(1),
    }];
    let entries = ranked(5, |p| u32::from(p <= 2));
    let d = draw(&entries, 3, &rules).unwrap();
    assert_eq!(d.chosen, [0, 2, 3]);
    assert_eq!(d.reasons[3], "第 4 名入选：依次递补");
}

#[test]
fn rules_no_list_meets_are_named_with_counts() {
    let rules = xinjiang_rules(20);
    let entries = ranked(30, |p| if [3, 9, 27].contains(&p) { 2 } else { 0 });
    let c = draw(&entries, 20, &rules).unwrap_err();
    assert_eq!(c.rules, [1]);
    assert_eq!(c.message, "45 岁以下至少 4 人，候选人中仅 3 人");
    // Too many 院士 to fill 20 without them.
    let entries = ranked(21, |p| if p <= 4 { 1 } else { 0 });
    let c = draw(&entries, 20, &rules[..1]).unwrap_err();
    assert_eq!(c.message, "院士至多 2 人，其他候选人仅 17 人，凑不足 20 人");
    // Each rule alone can be met, the two together cannot: both named.
    let pair = vec![
        Rule {
            noun: "女性".to_owned(),
            min: 3,
            max: None,
        },
        Rule {
            noun: "院士".to_owned(),
            min: 0,
            max: Some(1),
        },
    ];
    // Six candidates for 4 places; the only women are the three 院士.
    let entries = ranked(6, |p| if p <= 3 { 0b11 } else { 0 });
    let c = draw(&entries, 4, &pair).unwrap_err();
    assert_eq!(c.rules, [0, 1]);
    assert_eq!(
        c.message,
        "女性不少于 3 人与院士不超过 1 人不能同时满足：候选人 6 人中女性 3 人、院士 3 人，兼属以上各项的 3 人"
    );
    let c = draw(&ranked(3, |_| 0), 4, &[]).unwrap_err();
    assert_eq!(
        (c.rules.len(), c.message.as_str()),
        (0, "名单应为 4 人，候选人仅 3 人")
    );
}

/// 新疆's 20 of 30 with three 院士 (places 1, 2, 5) and the young at 3, 23, 26, 28.
fn thirty_drawn() -> (Vec<Rule>, Vec<Entry>, Drawn) {
    let rules = xinjiang_rules(20);
    let entries = ranked(30, |p| match p {
        1 | 2 | 5 => 1,
        3 | 23 | 26 | 28 => 2,
        _ => 0,
    });
    let d = draw(&entries, 20, &rules).unwrap();
    (rules, entries, d)
}

#[test]
fn a_chosen_list_is_checked_and_its_swaps_listed() {
    let (rules, entries, d) = thirty_drawn();
    // The panel brings in the third 院士 for the 17th and leaves out a young one.
    let mut chosen = d.chosen.clone();
    let at = |place: u32| entries.iter().position(|e| e.place == place).unwrap();
    chosen.retain(|&i| i != at(17) && i != at(28));
    chosen.push(at(5));
    chosen.push(at(20));
    assert_eq!(
        check(&entries, 20, &rules, &chosen),
        [
            "院士 3 人，超过上限 2 人",
            "45 岁以下仅 3 人，应不少于 4 人"
        ]
    );
    assert_eq!(
        swaps(&d.chosen, &chosen),
        (vec![at(17), at(28)], vec![at(5), at(20)])
    );
    chosen.pop();
    chosen.push(at(5));
    assert!(
        check(&entries, 20, &rules, &chosen).contains(&"第 5 名重复列入".to_owned()),
        "{:?}",
        check(&entries, 20, &rules, &chosen)
    );
}

/// The best list by exhaustive search: of the lists of `k` meeting every rule, the one
/// whose sorted indices come first.
fn brute(entries: &[Entry], k: u32, rules: &[Rule], active: u32) -> Option<Vec<usize>> {
    let n = entries.len();
    let mut best: Option<Vec<usize>> = None;
    for set in 0u32..(1 << n) {
        if set.count_ones() != k {
            continue;
        }
        let list: Vec<usize> = (0..n).filter(|i| set & (1 << i) != 0).collect();
        let counts = counts_of(entries, &list, rules.len());
        let ok = rules.iter().enumerate().all(|(j, r)| {
            active & (1 << j) == 0 || (counts[j] >= r.min && r.max.is_none_or(|hi| counts[j] <= hi))
        });
        if ok && best.as_ref().is_none_or(|b| list < *b) {
            best = Some(list);
        }
    }
    best
}

/// Thousands of random small instances, infeasible ones included: the drawn list is the
/// exhaustive search's, meets the rules, and a clash names a smallest infeasible set.
#[test]
fn equals_exhaustive_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(20261206);
    let mut below = |n: u32| rng.next_u32() % n.max(1);
    let (mut drawn, mut clashed) = (0, 0);
    for _ in 0..4000 {
        let n = below(11);
        let k = below(n + 2);
        let m = below(4) as usize;
        let rules: Vec<Rule> = (0..m)
            .map(|j| {
                let min = below(4);
                let max = (below(3) > 0).then(|| min + below(k + 1));
                Rule {
                    noun: format!("第{j}类"),
                    min: if below(3) == 0 { 0 } else { min },
                    max,
                }
            })
            .collect();
        let entries = ranked(n, |_| below(1 << m));
        let every = if m == 0 { 0 } else { (1 << m) - 1 };
        let expected = brute(&entries, k, &rules, every);
        match (draw(&entries, k, &rules), expected) {
            (Ok(d), Some(best)) => {
                drawn += 1;
                assert_eq!(d.chosen, best, "{entries:?} k={k} {rules:?}");
                assert!(check(&entries, k, &rules, &d.chosen).is_empty());
                assert_eq!(d.reasons.len(), entries.len());
                for (i, r) in d.reasons.iter().enumerate() {
                    assert_eq!(r.contains("未入选"), !d.chosen.contains(&i), "{r}");
                }
            }
            (Err(c), None) => {
                clashed += 1;
                let set: u32 = c.rules.iter().map(|j| 1 << j).sum();
                if n < k {
                    assert!(c.rules.is_empty());
                    continue;
                }
                assert!(brute(&entries, k, &rules, set).is_none(), "{c:?}");
                for smaller in 0..(1u32 << m) {
                    if smaller.count_ones() < set.count_ones() {
                        assert!(
                            brute(&entries, k, &rules, smaller).is_some(),
                            "{c:?} is not the smallest: {smaller:b}"
                        );
                    }
                }
            }
            (got, want) => panic!("{entries:?} k={k} {rules:?}: {got:?} vs {want:?}"),
        }
    }
    assert!(
        drawn > 1000 && clashed > 200,
        "{drawn} drawn, {clashed} clashed"
    );
}

/// The panel's own list: the hard rules hold, each candidate brought in has a reason,
/// and the record says who replaced whom and why.
#[test]
fn the_panels_own_list() {
    let (rules, entries, d) = thirty_drawn();
    let drawing = Drawing {
        entries: entries.clone(),
        k: 20,
        rules: rules.clone(),
        drawn: d.chosen.clone(),
    };
    let id = |place: u32| i64::from(place) * 10;
    let drawn: Vec<i64> = d.chosen.iter().map(|&i| entries[i].id).collect();
    let none = std::collections::BTreeMap::new();
    assert_eq!(drawing.choose(&drawn, &none), Ok(String::new()));
    // The 19th for the 17th: no reason given, then one.
    let mut list: Vec<i64> = drawn.iter().copied().filter(|x| *x != id(17)).collect();
    list.push(id(19));
    assert_eq!(
        drawing.choose(&list, &none),
        Err(vec!["第 19 名代替第 17 名入选，请写明理由".to_owned()])
    );
    let why = std::collections::BTreeMap::from([(id(19), "事迹更具代表性".to_owned())]);
    assert_eq!(
        drawing.choose(&list, &why),
        Ok("评审小组另选名单：第 19 名代替第 17 名，理由：事迹更具代表性".to_owned())
    );
    // The third 院士 for the 17th breaks the rule, whatever the reason.
    let mut over: Vec<i64> = drawn.iter().copied().filter(|x| *x != id(17)).collect();
    over.push(id(5));
    let why = std::collections::BTreeMap::from([(id(5), "院士".to_owned())]);
    assert_eq!(
        drawing.choose(&over, &why),
        Err(vec!["院士 3 人，超过上限 2 人".to_owned()])
    );
    assert_eq!(
        drawing.choose(&[999], &none).unwrap_err()[0],
        "候选人 999 不在本阶段的排名中"
    );
}

/// Equals the draw splits: a tie when either could stand on the list, none when the
/// rules decide between them.
#[test]
fn ties_the_draw_splits() {
    let rules = vec![Rule {
        noun: "45 岁以下".to_owned(),
        min: 1,
        max: None,
    }];
    // Places 1, 2, 2, 4 for a list of 2; the young one is fourth: the pair at 2 compete
    // for the one place left besides the young.
    let tied = |young: u32| {
        let entries: Vec<Entry> = [1, 2, 2, 4]
            .iter()
            .enumerate()
            .map(|(i, &place)| Entry {
                id: i as i64,
                place,
                counts_for: u32::from(i as u32 == young),
            })
            .collect();
        let d = draw(&entries, 3, &rules).unwrap();
        (d.chosen.clone(), ties(&entries, 3, &rules, &d.chosen))
    };
    // The young one is last: one of the pair gives way, either could: a tie.
    assert_eq!(tied(3), (vec![0, 1, 3], vec![1, 2]));
    // The young one is in the pair: the rule takes them, no tie to order.
    let (chosen, ties_found) = tied(2);
    assert_eq!(chosen, vec![0, 1, 2]);
    assert!(ties_found.is_empty());
    // Nothing split: no tie.
    let entries: Vec<Entry> = [1, 2, 2, 4]
        .iter()
        .enumerate()
        .map(|(i, &place)| Entry {
            id: i as i64,
            place,
            counts_for: 0,
        })
        .collect();
    assert!(ties(&entries, 3, &[], &[0, 1, 2]).is_empty());
}

/// 广西 with bounds per 推荐组别 and per recommender category (a campaign that balances
/// its groups writes them in `[final]`): the rules in words, the list drawn under them,
/// and a file whose bound names no choice of the form refused by `campaign check`.
#[test]
fn bounds_per_group_and_category() {
    let src = SEEDS
        .iter()
        .find(|(n, _)| n.starts_with("guangxi"))
        .unwrap()
        .1;
    let text = format!(
        "{src}\n[[final.bounds]]\ngroup = \"地市\"\nmin = 2\nlabel = \"地市组不少于 2 名\"\n\n\
         [[final.bounds]]\ncategory = \"society\"\nmax = 1\nlabel = \"学会推荐的不超过 1 名\"\n"
    );
    let c = load(&text).campaign.unwrap();
    let rules = rules_for(&c, 10);
    assert_eq!(
        rules
            .iter()
            .map(|(i, r)| (i.clone(), r.words()))
            .collect::<Vec<_>>(),
        [
            (
                Counts::Group("地市".into()),
                "推荐组别“地市”不少于 2 人".to_owned()
            ),
            (
                Counts::Category("society".into()),
                "自治区级学会、高校科协、企业（园区）科协推荐的不超过 1 人".to_owned()
            ),
        ]
    );
    let plain: Vec<Rule> = rules.into_iter().map(|(_, r)| r).collect();
    // 地市 at places 11 and 14; 学会 at 1, 2 and 3.
    let entries = ranked(15, |p| match p {
        11 | 14 => 1,
        1..=3 => 2,
        _ => 0,
    });
    let d = draw(&entries, 10, &plain).unwrap();
    let places: Vec<u32> = d.chosen.iter().map(|&i| entries[i].place).collect();
    assert_eq!(places, [1, 4, 5, 6, 7, 8, 9, 10, 11, 14]);
    assert_eq!(
        d.reasons[1],
        "第 2 名未入选：自治区级学会、高校科协、企业（园区）科协推荐的已达上限 1 人"
    );
    assert_eq!(
        d.reasons[13],
        "第 14 名入选：需满足推荐组别“地市”不少于 2 人"
    );
    // A bound on a group the form does not offer is the file's mistake.
    let wrong = text.replace("group = \"地市\"", "group = \"市县\"");
    let report = load(&wrong);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("推荐组别“市县”不在推荐表的选项中")),
        "{:?}",
        report.problems
    );
}
