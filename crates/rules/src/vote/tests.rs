use super::*;
use crate::campaign::{Sanction, VoteGroup};
use crate::role::Role;
use time::macros::date;

fn rules(text: &str) -> VoteRules {
    toml::from_str(text).unwrap()
}

fn group(key: &str, name: &str, weight: f64, scaling: Scaling) -> VoteGroup {
    VoteGroup {
        key: key.to_owned(),
        name: name.to_owned(),
        role: if key == "public" {
            Role::Voter
        } else {
            Role::Expert
        },
        weight: Some(weight),
        scaling: Some(scaling),
    }
}

fn stage(tie_keys: &[&str]) -> Stage {
    let mut s: Stage = toml::from_str(
        "key = \"online_vote\"\nname = \"网络投票\"\nkind = \"vote\"\nadvance = 2\n\
         [[groups]]\nkey = \"public\"\nname = \"公众组\"\nrole = \"voter\"\n\
         [[groups]]\nkey = \"experts\"\nname = \"专业组\"\nrole = \"expert\"\n",
    )
    .unwrap();
    s.tie_keys = tie_keys.iter().map(|k| (*k).to_owned()).collect();
    s
}

/// 2023-11-20 09:00 to 2023-11-26 18:00, Beijing time.
const WINDOW: &str = "opens = 2023-11-20T09:00:00+08:00\ncloses = 2023-11-26T18:00:00+08:00\n";

fn unix(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn the_window_says_the_times() {
    let r = rules(WINDOW);
    let e = window(&r, unix("2023-11-20T00:59:59Z")).unwrap_err();
    assert_eq!(e.code, "vote_not_open");
    assert_eq!(
        e.message,
        "投票尚未开始：投票时间为 2023年11月20日 09:00 至 2023年11月26日 18:00"
    );
    assert!(window(&r, unix("2023-11-20T01:00:00Z")).is_ok());
    assert!(window(&r, unix("2023-11-26T09:59:59Z")).is_ok());
    let e = window(&r, unix("2023-11-26T10:00:00Z")).unwrap_err();
    assert_eq!(e.code, "vote_closed");
    assert!(
        e.message.starts_with("投票已于 2023年11月26日 18:00 截止"),
        "{}",
        e.message
    );
    assert_eq!(
        window(&rules(""), 0).unwrap_err().code,
        "vote_not_set",
        "no times, no votes"
    );
}

#[test]
fn the_day_turns_at_midnight_in_beijing() {
    assert_eq!(day(unix("2023-11-20T15:59:59Z")), date!(2023 - 11 - 20));
    assert_eq!(day(unix("2023-11-20T16:00:00Z")), date!(2023 - 11 - 21));
}

#[test]
fn qilu_claims_a_slot_per_candidate_a_day_and_one_of_ten_picks() {
    // 齐鲁 2020: “每个微信号每天仅可为每位候选人投一票，最多可为10人投票”.
    let r = rules("per_candidate_per_day = 1\ncandidates_per_day = 10\n");
    let c = claims(&r, 17, date!(2023 - 11 - 21));
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].scope, "cd:2023-11-21:17");
    assert_eq!((c[0].cap, c[0].pick.as_deref()), (1, None));
    assert_eq!(c[0].refusal, "今日已为该候选人投票，请明日 00:00 后再投");
    assert_eq!(c[1].scope, "pd:2023-11-21");
    assert_eq!((c[1].cap, c[1].pick.as_deref()), (10, Some("d:2023-11-21")));
    // 最美奋斗者 2019: one vote per candidate, at most 200 candidates, in all.
    let r = rules("per_candidate = 1\ncandidates = 200\n");
    assert_eq!(
        rules_text(&r),
        [
            "本轮每人最多可为每位候选人投 1 票",
            "本轮每人最多可为 200 位候选人投票"
        ]
    );
    let c = claims(&r, 17, date!(2023 - 11 - 21));
    assert_eq!(
        c.iter().map(|c| c.scope.as_str()).collect::<Vec<_>>(),
        ["c:17", "p"]
    );
    assert_eq!(
        c[1].refusal,
        "本轮最多可为 200 位候选人投票，您已投了 200 位，不能再为其他候选人投票"
    );
    assert!(claims(&rules(""), 17, date!(2023 - 11 - 21)).is_empty());
    // On the last day (the round closes 2023-11-26 18:00) nobody is told to come back.
    let r = rules(&format!("{WINDOW}per_candidate_per_day = 1\n"));
    assert_eq!(
        claims(&r, 17, date!(2023 - 11 - 25))[0].refusal,
        "今日已为该候选人投票，请明日 00:00 后再投"
    );
    assert_eq!(
        claims(&r, 17, date!(2023 - 11 - 26))[0].refusal,
        "今日已为该候选人投票，投票今日截止，不能再为其投票"
    );
}

#[test]
fn the_rules_read_as_the_page_shows_them() {
    let r = rules("per_candidate_per_day = 1\ncandidates_per_day = 10\nsanction = \"zero\"\n");
    assert_eq!(r.sanction, Some(Sanction::Zero));
    assert_eq!(
        rules_text(&r),
        [
            "每人每天可为每位候选人投 1 票",
            "每人每天最多可为 10 位候选人投票",
            "每天的投票次数于北京时间 00:00 起重新计算"
        ]
    );
}

#[test]
fn weights_are_the_decimals_typed() {
    assert_eq!(exact_weight(0.6), Score::new(3, 5));
    assert_eq!(exact_weight(0.35), Score::new(7, 20));
    assert_eq!(exact_weight(1.0), Score::new(1, 1));
    assert_eq!(exact_weight(0.1) + exact_weight(0.2), exact_weight(0.3));
}

/// The hand-computed table: 公众组 scaled by its 100 valid votes, 专业组 by its top (5),
/// weighted 0.6 and 0.4.
///
/// | 候选人 | 公众组 | ÷100 ×0.6 | 专业组 | ÷5 ×0.4 | 综合 |
/// | 1 | 50 | 0.30 | 2 | 0.16 | 0.46 |
/// | 2 | 30 | 0.18 | 5 | 0.40 | 0.58 |
/// | 3 | 20 | 0.12 | 5 | 0.40 | 0.52 |
/// | 4 |  0 | 0    | 1 | 0.08 | 0.08 |
#[test]
fn the_merged_ranking_matches_the_table() {
    let public = group("public", "公众组", 0.6, Scaling::Share);
    let experts = group("experts", "专业组", 0.4, Scaling::Top);
    let tallies = [
        GroupTally {
            group: &public,
            counts: BTreeMap::from([(1, 50), (2, 30), (3, 20), (99, 1000)]),
        },
        GroupTally {
            group: &experts,
            counts: BTreeMap::from([(1, 2), (2, 5), (3, 5), (4, 1)]),
        },
    ];
    let m = merge(&tallies, &[1, 2, 3, 4]).unwrap();
    assert_eq!(
        m.formula,
        "综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + 专业组票数 ÷ 专业组最高票数 × 0.4"
    );
    assert_eq!(
        m.totals,
        [(100, 50), (13, 5)],
        "candidate 99 is not in the round"
    );
    let table: Vec<(i64, String, String, String)> = m
        .rows
        .iter()
        .map(|r| {
            (
                r.candidate,
                format!("{:.2}", r.parts[0].weighted),
                format!("{:.2}", r.parts[1].weighted),
                format!("{:.2}", r.total),
            )
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        table,
        [
            (2, s("0.18"), s("0.40"), s("0.58")),
            (3, s("0.12"), s("0.40"), s("0.52")),
            (1, s("0.30"), s("0.16"), s("0.46")),
            (4, s("0.00"), s("0.08"), s("0.08")),
        ]
    );
    assert_eq!(m.rows[0].total, Score::new(29, 50), "exact, not 0.58000001");
}

#[test]
fn equal_totals_follow_the_tie_keys_or_wait_for_the_office() {
    use crate::selection::aggregate::rank;
    let public = group("public", "公众组", 0.5, Scaling::Share);
    let experts = group("experts", "专业组", 0.5, Scaling::Share);
    // 1: 30/60 public, 10/40 expert → 3/8; 2: 15/60, 20/40 → 3/8; 3: 15/60, 10/40 → 1/4.
    let tallies = [
        GroupTally {
            group: &public,
            counts: BTreeMap::from([(1, 30), (2, 15), (3, 15)]),
        },
        GroupTally {
            group: &experts,
            counts: BTreeMap::from([(1, 10), (2, 20), (3, 10)]),
        },
    ];
    let m = merge(&tallies, &[1, 2, 3]).unwrap();
    assert_eq!(m.rows[0].total, m.rows[1].total);
    let names = vec![s("公众组票数"), s("专业组票数")];
    let none = rank(&m.aggregates(), &BTreeMap::new(), &[], &names, Some(1), &[]);
    assert_eq!(
        none.tie_at_cut,
        [1, 2],
        "tied across the cut of 1: the office orders"
    );
    let keys = tie_keys(&stage(&["专业组"]));
    let by_experts = rank(
        &m.aggregates(),
        &BTreeMap::new(),
        &keys,
        &names,
        Some(1),
        &[],
    );
    assert!(by_experts.tie_at_cut.is_empty());
    assert_eq!(
        by_experts
            .rows
            .iter()
            .map(|r| (r.candidate, r.rank))
            .collect::<Vec<_>>(),
        [(2, 1), (1, 2), (3, 3)]
    );
    assert_eq!(
        by_experts.rows[0].reason,
        "第 1 名，晋级；与第 2 名总分相同，按专业组票数排在前"
    );
    let previous = BTreeMap::from([(1, 4), (2, 9)]);
    let keys = tie_keys(&stage(&[PREVIOUS_RANK]));
    let by_previous = rank(&m.aggregates(), &previous, &keys, &names, Some(1), &[]);
    assert_eq!(by_previous.rows[0].candidate, 1);
}

#[test]
fn a_merge_waits_for_the_weights_and_scalings() {
    let mut public = group("public", "公众组", 0.6, Scaling::Share);
    public.weight = None;
    let mut experts = group("experts", "专业组", 0.4, Scaling::Top);
    experts.scaling = None;
    let tallies = [
        GroupTally {
            group: &public,
            counts: BTreeMap::new(),
        },
        GroupTally {
            group: &experts,
            counts: BTreeMap::new(),
        },
    ];
    assert_eq!(
        merge(&tallies, &[1]).unwrap_err(),
        NotReady(vec![s("公众组的权重"), s("专业组票数的换算方式")])
    );
}

fn s(x: &str) -> String {
    x.to_owned()
}

#[test]
fn a_round_is_frozen_once_a_minute_after_it_closes() {
    let r = rules(WINDOW);
    let e = may_freeze(&r, false, unix("2023-11-26T10:00:59Z")).unwrap_err();
    assert_eq!(e.code, "vote_still_open");
    assert_eq!(
        e.message,
        "投票截止时间为 2023年11月26日 18:00，截止 1 分钟后方可冻结结果"
    );
    assert!(may_freeze(&r, false, unix("2023-11-26T10:01:00Z")).is_ok());
    assert_eq!(
        may_freeze(&r, true, unix("2023-11-27T00:00:00Z"))
            .unwrap_err()
            .code,
        "vote_frozen"
    );
}

#[test]
fn an_experts_ballot_is_checked_whole() {
    let conflicts = BTreeMap::from([(3, (s("张三"), s("与候选人同一工作单位（东莞理工学院）")))]);
    assert_eq!(
        ballot(&[2, 1, 2], &[1, 2, 3], 2, &conflicts),
        Ok(vec![1, 2])
    );
    assert_eq!(
        ballot(&[], &[1, 2, 3], 2, &conflicts).unwrap_err(),
        ["请至少选择 1 位候选人"]
    );
    assert_eq!(
        ballot(&[1, 2, 3, 9], &[1, 2, 3], 2, &conflicts).unwrap_err(),
        [
            "所选候选人中有人不在本轮名单中，请刷新页面后重新选择",
            "最多可选 2 位候选人，您选了 4 位",
            "张三：与候选人同一工作单位（东莞理工学院），须回避，不能选择"
        ]
    );
}

#[test]
fn the_page_states_the_times_the_sanction_and_its_order() {
    let r = rules(&format!(
        "{WINDOW}sanction = \"zero\"\norder = \"shuffled\"\n"
    ));
    let w = window_text(&r).unwrap();
    assert!(w.ends_with("（北京时间）") && w.contains(" 至 "), "{w}");
    assert!(window_text(&rules("")).is_none());
    let said = integrity_text(&r);
    assert!(said[1].contains("该候选人票数将被清零"), "{said:?}");
    assert!(integrity_text(&rules(""))[1].contains("一律作废"));
    // Each voter has an order of their own, the same on every visit, and it is a
    // permutation of the round.
    let a = shown_order(CardOrder::Shuffled, 40, "device-a");
    let b = shown_order(CardOrder::Shuffled, 40, "device-b");
    assert_eq!(a, shown_order(CardOrder::Shuffled, 40, "device-a"));
    assert_ne!(a, b);
    let mut sorted = a.clone();
    sorted.sort();
    assert_eq!(sorted, (0..40).collect::<Vec<_>>());
    assert_eq!(
        shown_order(CardOrder::Fixed, 5, "device-a"),
        [0, 1, 2, 3, 4]
    );
    // Without a cookie yet (the first visit), the round's order.
    assert_eq!(shown_order(CardOrder::Shuffled, 3, ""), [0, 1, 2]);
}
