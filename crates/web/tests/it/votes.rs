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
use reqwest::StatusCode;

use crate::common::{TestApp, start};

on_both_databases!(
    fifty_votes_at_once_store_one_and_the_ranking_merges,
    a_frozen_round_ranks_and_its_first_go_on,
    an_experts_ballot_is_checked_whole_and_final
);

const CID: &str = "dongguan-2023";
const STAGE: &str = "online_vote";

/// 东莞 with its vote set as an organiser would: 公众组 0.6 by share, 专业组 0.4 by top,
/// `rules` in `[stages.vote]` (with its times), `advance` going on.
pub(crate) fn text(rules: &str, advance: u32) -> String {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "dongguan-2023.toml")
        .unwrap();
    let (voter, expert) = (
        "role = \"voter\"\n# weight 通知未规定\n",
        "role = \"expert\"\n# weight 通知未规定\n",
    );
    assert!(text.contains(voter) && text.contains(expert));
    text.replacen(
        voter,
        "role = \"voter\"\nweight = 0.6\nscaling = \"share\"\n",
        1,
    )
    .replacen(
        expert,
        "role = \"expert\"\nweight = 0.4\nscaling = \"top\"\n",
        1,
    )
    // The panel (the last stage, the winners) keeps fewer than the vote sends on.
    .replacen(
        "kind = \"panel\"\nadvance = 20\n",
        &format!("kind = \"panel\"\nadvance = {}\n", (advance - 1).min(20)),
        1,
    )
    .replacen(
        "winners = 20\n",
        &format!("winners = {}\n", (advance - 1).min(20)),
        1,
    )
    .replacen(
        "kind = \"vote\"\nadvance = 30\n",
        &format!("kind = \"vote\"\nadvance = {advance}\n"),
        1,
    )
    .replacen(
        "[[stages]]\nkey = \"panel\"",
        &format!("[stages.vote]\n{rules}\n[[stages]]\nkey = \"panel\""),
        1,
    )
}

/// Open from 2020 to 2099.
pub(crate) const ALWAYS: &str =
    "opens = 2020-01-01T00:00:00+08:00\ncloses = 2099-01-01T00:00:00+08:00\n";

/// `n` candidates of 东莞 through 初选 into an open 网络投票 under `rules`, `advance` of
/// them to go on; their ids and the office's access.
pub(crate) async fn open_round(
    app: &TestApp,
    n: usize,
    rules: &str,
    advance: u32,
) -> (Vec<i64>, pingxuan_app::Access) {
    let desk = crate::stages::dongguan_at_desk(app, n).await;
    crate::stages::seed_text(app, &text(rules, advance)).await;
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
    (ids, office)
}

/// Five votes cast at `at` (before the close): 公众组 2, 1, 0 and, on two experts'
/// ballots, 专业组 0, 1, 1 for `ids`.
pub(crate) async fn cast_five(app: &TestApp, ids: &[i64], at: i64) {
    let b = Ballots::start(app.store.clone(), Clock::Fixed(at));
    for (voter, candidate) in [
        (Voter::Public(1), ids[0]),
        (Voter::Public(2), ids[0]),
        (Voter::Public(3), ids[1]),
    ] {
        pingxuan_app::votes::cast(&b, CID, STAGE, &voter, candidate, &Client::default())
            .await
            .unwrap();
    }
    let rules = app.store.campaign_model(CID).await.unwrap().unwrap().stages[1]
        .vote
        .clone()
        .unwrap();
    let experts = crate::common::pool_of(
        app,
        "dg-office",
        CID,
        &[
            "甲专家,东莞理工学院,材料科学,jia@example.com,",
            "乙专家,松山湖实验室,电子信息,yi@example.com,",
        ],
    )
    .await;
    for (expert, candidate) in experts.into_iter().zip([ids[1], ids[2]]) {
        let chosen = [(candidate, pingxuan_app::votes::new_receipt())];
        let refused = app
            .store
            .cast_ballot(
                &rules,
                CID,
                STAGE,
                "experts",
                expert,
                &chosen,
                Clock::Fixed(at),
            )
            .await
            .unwrap();
        assert_eq!(refused, None);
    }
}

async fn fifty_votes_at_once_store_one_and_the_ranking_merges(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, _) = open_round(&app, 3, &format!("{ALWAYS}per_candidate_per_day = 1"), 30).await;
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
    ] {
        pingxuan_app::votes::cast(b, CID, STAGE, &voter, candidate, &Client::default())
            .await
            .unwrap();
    }
    // Experts vote on their ballots, never vote by vote.
    let e = pingxuan_app::votes::cast(b, CID, STAGE, &Voter::Expert(1), ids[2], &Client::default())
        .await
        .unwrap_err();
    assert!(matches!(e, pingxuan_app::Error::Forbidden), "{e:?}");
    let pool = crate::common::pool_of(
        &app,
        "dg-office",
        CID,
        &[
            "甲专家,东莞理工学院,材料科学,jia@example.com,",
            "乙专家,松山湖实验室,电子信息,yi@example.com,",
            "丙专家,东莞市人民医院,临床医学,bing@example.com,",
        ],
    )
    .await;
    for (id, candidate) in pool.into_iter().zip([ids[2], ids[2], ids[0]]) {
        let expert = pingxuan_app::Access::load(&app.store, id)
            .await
            .unwrap()
            .unwrap();
        pingxuan_app::votes::submit_ballot(&app.store, &expert, CID, STAGE, &[candidate])
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
        .map(|r| (r.candidate, format!("{:.2}", r.total)))
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

/// Voting closed on 2025-01-01 (the votes cast before it, on a fixed clock): the office
/// freezes the count, the stage closes with it and ranks by the merged score; two tied
/// across the cut of 2 wait for the office's order, then the first two go on.
async fn a_frozen_round_ranks_and_its_first_go_on(db: TestDb) {
    use pingxuan_app::votes::freeze;
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, office) = open_round(
        &app,
        3,
        "opens = 2020-01-01T00:00:00+08:00\ncloses = 2025-01-01T00:00:00+08:00\nper_candidate_per_day = 1",
        2,
    )
    .await;
    let before_close = 1_735_000_000; // 2024-12-24, Beijing
    cast_five(&app, &ids, before_close).await;
    // Public 2, 1, 0 of 3 (share); experts 0, 1, 1 of top 1: ids[1] = 0.2 + 0.4 = 0.6,
    // ids[0] = 0.4, ids[2] = 0.4 — the last two tied across the cut of 2.
    let frozen = freeze(&app.store, &office, CID, STAGE, None).await.unwrap();
    assert!(frozen.live_matched);
    assert_eq!(frozen.counts.values().sum::<i64>(), 5);
    let e = freeze(&app.store, &office, CID, STAGE, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            pingxuan_app::Error::Conflict {
                code: "stage_state",
                ..
            }
        ),
        "{e:?}"
    );
    let audit = app.store.recent_audit(5).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "vote_frozen").unwrap();
    assert!(
        entry
            .detail
            .starts_with("冻结“网络投票”投票结果：逐票清点有效票公众组 3 票、专业组 2 票，与实时计数一致；作废 0 票；清点摘要 sha256:"),
        "{}",
        entry.detail
    );
    // A vote after the freeze: the round is over.
    let late = Ballots::start(app.store.clone(), Clock::Database);
    let e = pingxuan_app::votes::cast(
        &late,
        CID,
        STAGE,
        &Voter::Public(9),
        ids[2],
        &Client::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            pingxuan_app::Error::Conflict {
                code: "vote_closed",
                ..
            }
        ),
        "{e:?}"
    );

    // The weights the frozen round ranks by stay as they were.
    let revision = app.store.get_campaign(CID).await.unwrap().unwrap().revision;
    let changed = pingxuan_app::campaigns::change_settings(
        &app.store,
        &office,
        CID,
        revision,
        &[
            ("stages[1].groups[0].weight".to_owned(), "0.5".to_owned()),
            ("stages[1].groups[1].weight".to_owned(), "0.5".to_owned()),
        ],
        None,
    )
    .await
    .unwrap();
    let pingxuan_app::campaigns::SettingsOutcome::Refused(refusals) = changed else {
        panic!("a frozen round's weights changed")
    };
    assert_eq!(
        refusals[0].message,
        "网络投票：公众组权重：“网络投票”的投票结果已冻结，按冻结时的设定排名，不能再修改"
    );
    // A batch that missed the news (a cache, a clock before the close) is refused by the
    // store itself: the frozen count is the last word.
    let rules = pingxuan_rules::campaign::load(&text(
        "opens = 2020-01-01T00:00:00+08:00\ncloses = 2025-01-01T00:00:00+08:00",
        2,
    ))
    .campaign
    .unwrap()
    .stages[1]
        .vote
        .clone()
        .unwrap();
    let stale = pingxuan_store::votes::NewVote {
        campaign_id: CID.to_owned(),
        stage_key: STAGE.to_owned(),
        group_key: "public".to_owned(),
        voter: "p:99".to_owned(),
        candidate: ids[2],
        receipt: pingxuan_app::votes::new_receipt(),
        idempotency: None,
        client_ip: String::new(),
        client_net: String::new(),
        share: String::new(),
        device: String::new(),
        traits: String::new(),
        user_agent: String::new(),
    };
    let casts = app
        .store
        .cast_votes(&rules, &[stale], Clock::Fixed(before_close))
        .await
        .unwrap();
    assert!(
        matches!(
            &casts[0],
            pingxuan_store::votes::Cast::Refused {
                code: "vote_closed",
                ..
            }
        ),
        "{casts:?}"
    );
    let v = pingxuan_app::stages::view_plain(&app.store, &office, CID, STAGE)
        .await
        .unwrap();
    assert_eq!(v.outcome, None, "tied across the cut");
    let result = |id: i64| {
        v.candidates
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .result
            .clone()
            .unwrap()
    };
    let (rank, score, reason) = result(ids[1]);
    assert_eq!((rank, score.as_str()), (1, "0.6000"));
    assert!(reason.starts_with("公众组 1 票，专业组 1 票；"), "{reason}");
    assert_eq!(v.tied_ids.len(), 2);
    let name_of = |id: i64| {
        v.candidates
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .name
            .clone()
    };

    // The public reads the frozen result on the voting page: the formula, each candidate's
    // votes per group and merged score, ranked, the count's digest; nobody goes on yet.
    let mut anyone = app.client();
    let page = anyone.get(&format!("/tp/{CID}/{STAGE}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let result = {
        let (from, to) = (
            page.body.find("id=\"result\"").expect("a result section"),
            page.body.find("id=\"rules\"").unwrap(),
        );
        page.body[from..to].to_owned()
    };
    for said in [
        "投票结果",
        "结果已于",
        "冻结，此后不再变动；进入“评审小组终选”的名单由活动办公室确认后公布",
        "综合得分 = 公众组票数 ÷ 公众组有效票总数 × 0.6 + 专业组票数 ÷ 专业组最高票数 × 0.4（公众组有效票 3 票、最高 2 票；专业组有效票 2 票、最高 1 票）",
        "公众组 1 票 · 专业组 1 票 · 综合得分 <b>0.6000</b>",
        "公众组 2 票 · 专业组 0 票 · 综合得分 <b>0.4000</b>",
        "公众组 0 票 · 专业组 1 票 · 综合得分 <b>0.4000</b>",
        frozen.digest.as_str(),
    ] {
        assert!(result.contains(said), "{said} missing in {result}");
    }
    assert!(
        result.find(&name_of(ids[1])).unwrap() < result.find(&name_of(ids[0])).unwrap(),
        "{result}"
    );
    assert!(!result.contains("class=\"tag\""), "{result}");
    let api = anyone
        .get(&format!("/api/v1/votes/{CID}/rounds/{STAGE}"))
        .await
        .json();
    assert_eq!(
        api["result"]["groups"],
        serde_json::json!(["公众组", "专业组"])
    );
    assert_eq!(api["result"]["rows"][0]["votes"], serde_json::json!([1, 1]));
    assert_eq!(api["result"]["rows"][0]["score"], "0.6000");
    assert_eq!(api["result"]["rows"][1]["rank"], 2);
    assert_eq!(api["result"]["confirmed"], false);
    // The office's workbook: the ranking by 综合得分, and the count with each part.
    let office_token = app.token(office.user.id).await;
    let xlsx = app
        .fetch(
            &office_token,
            &format!("/api/v1/campaigns/{CID}/stages/{STAGE}/results.xlsx"),
        )
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let cells = pingxuan_export::testing::xlsx_cells(bytes.clone(), "评选结果");
    assert_eq!(cells[2][5], "综合得分");
    assert_eq!(
        (
            cells[3][0].as_str(),
            cells[3][2].clone(),
            cells[3][5].as_str()
        ),
        ("1", name_of(ids[1]), "0.6000")
    );
    assert!(cells[1][0].starts_with("综合得分 = "), "{cells:?}");
    let detail = pingxuan_export::testing::xlsx_cells(bytes, "计票明细");
    assert_eq!(
        detail[0],
        [
            "候选人",
            "编号",
            "公众组票数",
            "公众组换算",
            "公众组得分",
            "专业组票数",
            "专业组换算",
            "专业组得分",
            "综合得分"
        ]
    );
    // By hand: 1 of 3 public votes is 0.3333, × 0.6 = 0.2000; 1 of the top 1 expert
    // votes is 1, × 0.4 = 0.4000; together 0.6000.
    assert_eq!(
        detail[1][2..],
        ["1", "0.3333", "0.2000", "1", "1.0000", "0.4000", "0.6000"]
    );
    assert_eq!(detail[1][0], name_of(ids[1]));
    assert_eq!(
        detail[2][2..]
            .iter()
            .chain(&detail[3][2..])
            .filter(|c| *c == "0.4000")
            .count(),
        4,
        "{detail:?}"
    );

    pingxuan_app::stages::break_tie(
        &app.store,
        &office,
        CID,
        STAGE,
        &[ids[2], ids[0]],
        "专业组投票优先，评审小组会议决定",
        None,
    )
    .await
    .unwrap();
    let v = pingxuan_app::stages::view_plain(&app.store, &office, CID, STAGE)
        .await
        .unwrap();
    let mut two = vec![ids[1], ids[2]];
    two.sort_unstable();
    let mut outcome = v.outcome.clone().unwrap();
    outcome.sort_unstable();
    assert_eq!(outcome, two);
    pingxuan_app::stages::act(
        &app.store,
        &office,
        CID,
        STAGE,
        Move::Advance {
            advanced: two.clone(),
        },
        None,
    )
    .await
    .unwrap();
    // Once advanced (and the page's 2-second round cache has turned), it says who goes on.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let page = anyone.get(&format!("/tp/{CID}/{STAGE}")).await;
    assert!(
        page.body.contains("以下前 2 位候选人进入“评审小组终选”。"),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("class=\"tag\">晋级<").count(), 2);
    let api = anyone
        .get(&format!("/api/v1/votes/{CID}/rounds/{STAGE}"))
        .await
        .json();
    assert_eq!(api["result"]["confirmed"], true);
    assert_eq!(api["result"]["rows"][1]["name"], name_of(ids[2]).as_str());
    assert_eq!(api["result"]["rows"][1]["advanced"], true);
    assert_eq!(api["result"]["rows"][2]["advanced"], false);
    // The panel would open with the two.
    let panel = pingxuan_app::stages::view_plain(&app.store, &office, CID, "panel")
        .await
        .unwrap();
    let mut waiting: Vec<i64> = panel.candidates.iter().map(|c| c.id).collect();
    waiting.sort_unstable();
    assert_eq!(waiting, two);
}

/// The 专业组: an expert at a recommending unit cannot choose its candidates; a ballot
/// over the size is refused whole; a submitted ballot is final; only the pool votes.
async fn an_experts_ballot_is_checked_whole_and_final(db: TestDb) {
    use pingxuan_app::votes::{ballot_view, submit_ballot};
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, office) = open_round(&app, 3, ALWAYS, 2).await;
    crate::common::import_experts(
        &app,
        &office,
        CID,
        &[
            "陈专家,东莞市第0推荐单位,材料科学,chen@example.com,",
            "林专家,东莞理工学院,电子信息,lin@example.com,",
        ],
    )
    .await;
    let pool = app.store.experts(CID).await.unwrap();
    let expert = |name: &str| {
        let id = pool.iter().find(|e| e.name == name).unwrap().user_id;
        let store = app.store.clone();
        async move {
            pingxuan_app::Access::load(&store, id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (chen, lin) = (expert("陈专家").await, expert("林专家").await);
    // 陈专家 works at the unit that recommended the first two.
    let v = ballot_view(&app.store, &chen, CID, STAGE).await.unwrap();
    assert_eq!(v.size, 2);
    let conflicted: Vec<i64> = v
        .lines
        .iter()
        .filter(|l| l.conflict.is_some())
        .map(|l| l.id)
        .collect();
    assert_eq!(conflicted, [ids[0], ids[1]]);
    let refused = |e: pingxuan_app::Error| match e {
        pingxuan_app::Error::Invalid { code, message, .. }
        | pingxuan_app::Error::Conflict { code, message, .. } => (code, message),
        other => panic!("{other:?}"),
    };
    let (code, message) = refused(
        submit_ballot(&app.store, &chen, CID, STAGE, &[ids[0]])
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ballot_invalid");
    assert!(
        message
            .ends_with("评审专家所在单位为候选人的推荐单位（东莞市第0推荐单位），须回避，不能选择"),
        "{message}"
    );
    let (_, message) = refused(
        submit_ballot(&app.store, &lin, CID, STAGE, &ids)
            .await
            .unwrap_err(),
    );
    assert_eq!(message, "最多可选 2 位候选人，您选了 3 位");
    let receipts = submit_ballot(&app.store, &lin, CID, STAGE, &[ids[2], ids[0]])
        .await
        .unwrap();
    assert_eq!(receipts.len(), 2);
    let (code, message) = refused(
        submit_ballot(&app.store, &lin, CID, STAGE, &[ids[1]])
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, message.as_str()),
        ("ballot_submitted", "您的专业组投票已提交，不能更改")
    );
    let v = ballot_view(&app.store, &lin, CID, STAGE).await.unwrap();
    let mut mine = vec![ids[0], ids[2]];
    mine.sort_unstable();
    assert_eq!(v.submitted, Some(mine));
    submit_ballot(&app.store, &chen, CID, STAGE, &[ids[2]])
        .await
        .unwrap();
    let counts = app.store.count_votes(CID, STAGE).await.unwrap();
    assert_eq!(counts[&("experts".to_owned(), ids[2])], 2);
    assert_eq!(counts[&("experts".to_owned(), ids[0])], 1);
    assert_eq!(app.store.vote_tallies(CID, STAGE).await.unwrap(), counts);
    // The office is not of the pool.
    assert!(matches!(
        submit_ballot(&app.store, &office, CID, STAGE, &[ids[2]]).await,
        Err(pingxuan_app::Error::Forbidden)
    ));
}
