//! 东莞's 网络投票 through the use case: the stage opens once its rules are set, with the
//! candidates 初选 advanced; votes go through the group-commit writer and its limits hold
//! for fifty at once, also split over two writers (as two servers on one database); the
//! merged ranking reads the live counts with the formula.

use pingxuan_app::votes::{Ballots, Client, Voter};
use pingxuan_rules::selection::stage::Move;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_store::votes::Clock;
use pingxuan_web::CaptchaPolicy;

use crate::common::{TestApp, start};

on_both_databases!(fifty_votes_at_once_store_one_and_the_ranking_merges);

const CID: &str = "dongguan-2023";
const STAGE: &str = "online_vote";

/// 东莞 with its vote set as an organiser would: 公众组 0.6 by share, 专业组 0.4 by top,
/// and `rules` in `[stages.vote]`, open from 2020 to 2099.
pub(crate) fn text(rules: &str) -> String {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "dongguan-2023.toml")
        .unwrap();
    let (voter, expert) = (
        "role = \"voter\"\n# weight 通知未规定\n",
        "role = \"expert\"\n# weight 通知未规定\n",
    );
    assert!(text.contains(voter) && text.contains(expert));
    text.replacen(voter, "role = \"voter\"\nweight = 0.6\nscaling = \"share\"\n", 1)
        .replacen(expert, "role = \"expert\"\nweight = 0.4\nscaling = \"top\"\n", 1)
        .replacen(
            "[[stages]]\nkey = \"panel\"",
            &format!(
                "[stages.vote]\nopens = 2020-01-01T00:00:00+08:00\ncloses = 2099-01-01T00:00:00+08:00\n{rules}\n[[stages]]\nkey = \"panel\""
            ),
            1,
        )
}

/// `n` candidates of 东莞 through 初选 into an open 网络投票 under `rules`; their ids.
pub(crate) async fn open_round(app: &TestApp, n: usize, rules: &str) -> Vec<i64> {
    let desk = crate::stages::dongguan_at_desk(app, n).await;
    crate::stages::seed_text(app, &text(rules)).await;
    let ids: Vec<i64> = desk.iter().map(|(id, _)| *id).collect();
    let office = app.store.find_user("dg-office").await.unwrap().unwrap();
    let office = pingxuan_app::Access::load(&app.store, office.id)
        .await
        .unwrap()
        .unwrap();
    let act = |key: &'static str, mv: Move| {
        let (store, access) = (app.store.clone(), office.clone());
        async move { pingxuan_app::stages::act(&store, &access, CID, key, mv, None).await }
    };
    act(
        "screening",
        Move::Open {
            candidates: ids.clone(),
        },
    )
    .await
    .unwrap();
    for &id in &ids {
        pingxuan_app::stages::screen(&app.store, &office, CID, "screening", id, true, "", None)
            .await
            .unwrap();
    }
    act("screening", Move::Close).await.unwrap();
    act(
        "screening",
        Move::Advance {
            advanced: ids.clone(),
        },
    )
    .await
    .unwrap();
    act(
        STAGE,
        Move::Open {
            candidates: ids.clone(),
        },
    )
    .await
    .unwrap();
    ids
}

async fn fifty_votes_at_once_store_one_and_the_ranking_merges(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let ids = open_round(&app, 3, "per_candidate_per_day = 1").await;
    // Two writers, as two servers on one database.
    let servers = [
        Ballots::start(app.store.clone(), Clock::Database),
        Ballots::start(app.store.clone(), Clock::Database),
    ];
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (ballots, first) = (servers[i % 2].clone(), ids[0]);
            tokio::spawn(async move {
                let client = Client {
                    ip: format!("203.0.113.{i}"),
                    ..Client::default()
                };
                pingxuan_app::votes::cast(&ballots, CID, STAGE, &Voter::Public(1), first, &client)
                    .await
            })
        })
        .collect();
    let mut stored = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(receipt) => stored.push(receipt),
            Err(pingxuan_app::Error::Conflict { code, message, .. }) => {
                assert_eq!(code, "limit_candidate_day");
                assert_eq!(message, "今日已为该候选人投票，请明日 00:00 后再投");
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(stored.len(), 1, "{stored:?}");
    let counted = app.store.count_votes(CID, STAGE).await.unwrap();
    assert_eq!(counted.values().sum::<i64>(), 1);

    // A candidate not in the round; an expert voting in the 专业组.
    let b = &servers[0];
    let e = pingxuan_app::votes::cast(
        b,
        CID,
        STAGE,
        &Voter::Public(2),
        999_999,
        &Client::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            pingxuan_app::Error::Invalid {
                code: "not_in_round",
                ..
            }
        ),
        "{e:?}"
    );
    for (voter, candidate) in [
        (Voter::Public(2), ids[1]),
        (Voter::Public(3), ids[1]),
        (Voter::Public(4), ids[2]),
        (Voter::Expert(77), ids[2]),
        (Voter::Expert(78), ids[2]),
        (Voter::Expert(79), ids[0]),
    ] {
        pingxuan_app::votes::cast(b, CID, STAGE, &voter, candidate, &Client::default())
            .await
            .unwrap();
    }
    // Public 1, 2, 1 of 4 (share); experts 1, 0, 2 of top 2: ids[2] = 0.6/4 + 0.4 = 0.55,
    // ids[1] = 0.6·2/4 = 0.30, ids[0] = 0.6/4 + 0.4/2 = 0.35. (The counts are read for
    // the first time here, so the 2 s cache holds nothing older.)
    let m = pingxuan_app::votes::merged(b, CID, STAGE).await.unwrap();
    assert_eq!(
        m.formula,
        "综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + 专业组票数 ÷ 专业组最高票数 × 0.4"
    );
    let order: Vec<(i64, String)> = m
        .rows
        .iter()
        .map(|r| (r.candidate, pingxuan_rules::vote::decimal(&r.total, 2)))
        .collect();
    assert_eq!(
        order,
        [
            (ids[2], "0.55".to_owned()),
            (ids[0], "0.35".to_owned()),
            (ids[1], "0.30".to_owned())
        ]
    );
    assert_eq!(
        app.store.vote_tallies(CID, STAGE).await.unwrap(),
        app.store.count_votes(CID, STAGE).await.unwrap()
    );
}
