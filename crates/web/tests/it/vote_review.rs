//! 可疑投票核查 (issue 20) through the API and the page: the signals find a burst from one
//! network and one device for many phones; a decision above the campaign's size waits for
//! a second organiser; invalidating and zeroing set votes aside (kept, with the reason, the
//! live counts lowered), keeping counts them; the freeze waits for every cluster, then
//! counts the valid votes with the Merkle root, and a receipt shows counted with a proof
//! that checks — or invalid with the reason.

use pingxuan_app::votes::{Ballots, Client, Voter};
use pingxuan_rules::Role;
use pingxuan_rules::vote::merkle;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_store::votes::Clock;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::start;
use crate::votes::open_round;

on_both_databases!(
    a_burst_is_set_aside_by_two_organisers_before_the_freeze,
    zeroing_where_the_campaign_says_and_keeping_what_is_not,
    replayed_attacks_are_found_in_the_stored_votes
);

const CID: &str = "dongguan-2023";
const STAGE: &str = "online_vote";
/// Closed in 2025: the freeze may come at once; votes are cast before the close.
const CLOSED: &str = "opens = 2020-01-01T00:00:00+08:00\ncloses = 2025-01-01T00:00:00+08:00\nper_candidate_per_day = 1\n";
const BEFORE_CLOSE: i64 = 1_735_000_000;

/// One vote for `candidate` by a phone voter `voter` from `ip` with its own `device`.
async fn cast(b: &Ballots, voter: i64, candidate: i64, ip: &str, device: &str) -> String {
    pingxuan_app::votes::cast(
        b,
        CID,
        STAGE,
        &Voter::Public(voter),
        candidate,
        &Client {
            ip: ip.to_owned(),
            device: device.to_owned(),
            ..Client::default()
        },
    )
    .await
    .unwrap()
    .code
}

async fn a_burst_is_set_aside_by_two_organisers_before_the_freeze(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, office) = open_round(
        &app,
        3,
        &format!("{CLOSED}sanction = \"invalidate\"\nsecond_above = 30\n"),
        2,
    )
    .await;
    let b = Ballots::start(app.store.clone(), Clock::Fixed(BEFORE_CLOSE));
    // Ten phones, each from its own network.
    let mut ordinary = Vec::new();
    for i in 0..10 {
        ordinary.push(
            cast(
                &b,
                100 + i,
                ids[(i % 2) as usize],
                &format!("10.0.{i}.7"),
                &format!("o{i}"),
            )
            .await,
        );
    }
    // Forty phones from one /24 in the same second, all for the third.
    let mut burst = Vec::new();
    for i in 0..40 {
        burst.push(
            cast(
                &b,
                200 + i,
                ids[2],
                &format!("203.0.113.{}", i + 1),
                &format!("b{i}"),
            )
            .await,
        );
    }
    let token = app.token(office.user.id).await;
    let path = format!("/api/v1/campaigns/{CID}/stages/{STAGE}/suspects");

    // The freeze scans first, then waits for the review.
    let e = pingxuan_app::votes::freeze(&app.store, &office, CID, STAGE, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, pingxuan_app::Error::Conflict { code: "suspects_open", message, .. }
            if message.starts_with("尚有 1 组可疑投票未处理")),
        "{e:?}"
    );
    let (s, r) = app.call(Method::GET, &path, &token, json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["open"], 1);
    let c = &r["clusters"][0];
    assert_eq!(
        (c["signal"].as_str(), c["votes"].as_i64()),
        (Some("burst"), Some(40))
    );
    assert!(
        c["evidence"]
            .as_str()
            .unwrap()
            .starts_with("网段 203.0.113.0/24 在 12月24日"),
        "{c}"
    );
    // Whom it voted for: what a zeroing would reach.
    assert!(c["targets"].as_str().unwrap().ends_with(" 40 票"), "{c}");
    let cluster = c["cluster"].as_str().unwrap().to_owned();
    // A decision made on another scan's cluster (as many votes, others among them) is
    // refused: the generation it read is not the cluster's.
    let generation = c["generation"].as_i64().unwrap();
    let (s, r) = app
        .call(
            Method::POST,
            &path,
            &token,
            json!({ "cluster": cluster, "action": "keep", "seen": 40, "generation": generation - 1 }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["error"]["code"], "cluster_changed");
    // The stage's page says so beside the freeze.
    let mut page = app.signed_in("dg-office").await;
    let stage = page.get(&format!("/campaigns/{CID}/stages/{STAGE}")).await;
    assert!(
        stage.body.contains("1 组待处理，冻结结果前须逐组处理"),
        "{}",
        stage.body
    );

    // No reason: refused beside the box.
    let decide = |action: &'static str, reason: &'static str| json!({ "cluster": cluster, "action": action, "reason": reason });
    let (s, r) = app
        .call(Method::POST, &path, &token, decide("invalidate", " "))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["error"]["field"], "reason");
    // Forty is above the campaign's thirty: a proposal, which its proposer cannot confirm.
    let (s, r) = app
        .call(
            Method::POST,
            &path,
            &token,
            decide("invalidate", "同一网段 1 秒内 40 票，经核实为刷票"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["clusters"][0]["pending"], true);
    assert!(
        r["clusters"][0]["status"]
            .as_str()
            .unwrap()
            .starts_with("待另一位组织者确认"),
        "{r}"
    );
    let (s, r) = app
        .call(Method::POST, &path, &token, decide("confirm", ""))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["error"]["code"], "second_same");
    // Another organiser confirms on the page.
    app.account("dg-office2", Role::Organizer, Some(CID), None)
        .await;
    let mut other = app.signed_in("dg-office2").await;
    let review = other
        .get(&format!("/campaigns/{CID}/stages/{STAGE}/suspects"))
        .await;
    assert!(review.body.contains("同一网段集中投票"), "{}", review.body);
    assert!(review.body.contains("确认这一处理"), "{}", review.body);
    let csrf = other
        .csrf(&format!("/campaigns/{CID}/stages/{STAGE}/suspects"))
        .await;
    let done = other
        .post_follow(
            &format!("/campaigns/{CID}/stages/{STAGE}/suspects"),
            &[
                ("csrf", &csrf),
                ("cluster", &cluster),
                ("action", "confirm"),
            ],
        )
        .await;
    assert!(done.body.contains("已确认，处理生效"), "{}", done.body);
    assert!(done.body.contains("40 票不计入得票"), "{}", done.body);
    // Set aside, not deleted: the live count lowered, the votes still there.
    let live = app.store.vote_tallies(CID, STAGE).await.unwrap();
    assert_eq!(
        live.get(&("public".to_owned(), ids[2]))
            .copied()
            .unwrap_or(0),
        0
    );
    let void = app
        .store
        .receipt_standing(&burst[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        void.void_reason.as_deref(),
        Some("同一网段 1 秒内 40 票，经核实为刷票")
    );

    // The freeze counts the valid votes with the root.
    let frozen = pingxuan_app::votes::freeze(&app.store, &office, CID, STAGE, None)
        .await
        .unwrap();
    assert!(frozen.live_matched);
    assert_eq!(frozen.counts.values().sum::<i64>(), 10);
    assert_eq!(frozen.invalid.values().sum::<i64>(), 40);
    assert_eq!(frozen.valid_votes, Some(10));
    let audit = app.store.recent_audit(10).await.unwrap();
    let said = |action: &str| {
        audit
            .iter()
            .find(|e| e.action == action)
            .map(|e| e.detail.clone())
            .unwrap_or_default()
    };
    assert!(said("vote_cluster_proposed").contains("超过 30 票，待另一位组织者确认"));
    assert!(
        said("vote_cluster_confirmed").contains("40 票不计"),
        "{}",
        said("vote_cluster_confirmed")
    );
    assert!(
        said("vote_frozen").contains("作废 40 票"),
        "{}",
        said("vote_frozen")
    );
    assert!(
        said("vote_frozen").contains(frozen.root.as_deref().unwrap()),
        "{}",
        said("vote_frozen")
    );
    // Nothing is decided after the freeze.
    let (s, r) = app
        .call(Method::POST, &path, &token, decide("keep", ""))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");

    // A receipt: counted with a proof that checks against the published count; a vote set
    // aside shows why; an unknown receipt is not found.
    let published = pingxuan_app::vote_receipts::published(&b, CID, STAGE)
        .await
        .unwrap();
    assert_eq!(published.total, 10);
    for code in &ordinary {
        let pingxuan_app::vote_receipts::ReceiptCheck::Counted(proof) =
            pingxuan_app::vote_receipts::receipt(&app.state.ballots, CID, STAGE, code)
                .await
                .unwrap()
        else {
            panic!("{code} not counted")
        };
        let counted = merkle::verify(&proof, &published).unwrap();
        assert_eq!(counted.tally, 5);
    }
    let pingxuan_app::vote_receipts::ReceiptCheck::Invalid { reason, .. } =
        pingxuan_app::vote_receipts::receipt(&app.state.ballots, CID, STAGE, &burst[7])
            .await
            .unwrap()
    else {
        panic!("a burst vote counted")
    };
    assert_eq!(reason, "同一网段 1 秒内 40 票，经核实为刷票");
    assert!(matches!(
        pingxuan_app::vote_receipts::receipt(&app.state.ballots, CID, STAGE, "NOSUCHRECEIPT").await,
        Err(pingxuan_app::Error::NotFound)
    ));

    // The same for anyone over HTTP: the result with what was set aside and why, the
    // receipt's page, the API, and the two files that check.
    let mut phone = app.client();
    let round = phone.get(&format!("/tp/{CID}/{STAGE}")).await;
    for said in [
        "经核查作废 40 票，不计入得票",
        "同一网段集中投票：40 票。理由：同一网段 1 秒内 40 票，经核实为刷票",
        "（另作废 40 票）",
        frozen.root.as_deref().unwrap(),
    ] {
        assert!(
            round.body.contains(said),
            "{said} missing in {}",
            round.body
        );
    }
    let api = phone
        .get(&format!("/api/v1/votes/{CID}/rounds/{STAGE}"))
        .await
        .json();
    assert_eq!(api["result"]["invalid"], 40);
    assert_eq!(api["result"]["set_aside"][0]["votes"], 40);
    let page = phone
        .get(&format!(
            "/tp/{CID}/{STAGE}/receipt?code={}",
            ordinary[3].to_lowercase()
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("已计入：这一票投给"), "{}", page.body);
    assert!(page.body.contains("计入公众组有效票"), "{}", page.body);
    let page = phone
        .get(&format!("/tp/{CID}/{STAGE}/receipt?code={}", burst[0]))
        .await;
    assert!(
        page.body.contains("未计入")
            && page
                .body
                .contains("理由：同一网段 1 秒内 40 票，经核实为刷票"),
        "{}",
        page.body
    );
    let page = phone
        .get(&format!("/tp/{CID}/{STAGE}/receipt?code=AAAA1111BBBB"))
        .await;
    assert!(page.body.contains("未找到这张回执"), "{}", page.body);
    let api = phone
        .get(&format!(
            "/api/v1/votes/{CID}/rounds/{STAGE}/receipts/{}",
            burst[1]
        ))
        .await
        .json();
    assert_eq!(api["status"], "invalid");
    let missing = phone
        .get(&format!(
            "/api/v1/votes/{CID}/rounds/{STAGE}/receipts/AAAA1111BBBB"
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["code"], "receipt_not_found");
    let proof: merkle::Proof = serde_json::from_str(
        &phone
            .get(&format!(
                "/tp/{CID}/{STAGE}/receipt/{}/proof.json",
                ordinary[0]
            ))
            .await
            .body,
    )
    .unwrap();
    let result: merkle::Published = serde_json::from_str(
        &phone
            .get(&format!("/tp/{CID}/{STAGE}/result.json"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(result.root, frozen.root.clone().unwrap());
    assert_eq!(merkle::verify(&proof, &result).unwrap().tally, 5);
    let api_result = phone
        .get(&format!("/api/v1/votes/{CID}/rounds/{STAGE}/result"))
        .await
        .json();
    assert_eq!(api_result["root"], result.root.as_str());
    // A vote set aside has no proof to give.
    let none = phone
        .get(&format!(
            "/tp/{CID}/{STAGE}/receipt/{}/proof.json",
            burst[0]
        ))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn zeroing_where_the_campaign_says_and_keeping_what_is_not(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (ids, office) = open_round(&app, 3, &format!("{CLOSED}sanction = \"zero\"\n"), 2).await;
    let b = Ballots::start(app.store.clone(), Clock::Fixed(BEFORE_CLOSE));
    // One browser for twelve phones, all for the first; five ordinary votes for it too.
    for i in 0..12 {
        cast(
            &b,
            300 + i,
            ids[0],
            &format!("10.1.{i}.9"),
            "one-shared-browser",
        )
        .await;
    }
    for i in 0..5 {
        cast(
            &b,
            400 + i,
            ids[0],
            &format!("10.2.{i}.9"),
            &format!("own{i}"),
        )
        .await;
    }
    // A works' canteen behind one address: thirty-one in a minute for the second.
    for i in 0..31 {
        cast(&b, 500 + i, ids[1], "198.51.100.20", &format!("canteen{i}")).await;
    }
    let token = app.token(office.user.id).await;
    let path = format!("/api/v1/campaigns/{CID}/stages/{STAGE}/suspects");
    let (s, r) = app
        .call(Method::POST, &format!("{path}/scan"), &token, json!(null))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["open"], 2, "{r}");
    let key_of = |signal: &str| {
        r["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["signal"] == signal)
            .unwrap()["cluster"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (device, canteen) = (key_of("device"), key_of("burst"));
    // Kept without a reason; zeroed with one (the campaign's sanction is zero).
    let (s, r) = app
        .call(
            Method::POST,
            &path,
            &token,
            json!({ "cluster": canteen, "action": "keep" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (s, r) = app
        .call(
            Method::POST,
            &path,
            &token,
            json!({ "cluster": device, "action": "zero", "reason": "一台设备为 12 个手机号投票，按规定清零" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let zeroed = r["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cluster"] == device.as_str())
        .unwrap();
    // Every public vote of the candidate, the five ordinary ones too.
    assert_eq!(zeroed["voided"], 17, "{r}");
    // Decided once.
    let (s, r) = app
        .call(
            Method::POST,
            &path,
            &token,
            json!({ "cluster": canteen, "action": "invalidate", "reason": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["error"]["code"], "cluster_decided");
    let frozen = pingxuan_app::votes::freeze(&app.store, &office, CID, STAGE, None)
        .await
        .unwrap();
    assert!(frozen.live_matched);
    assert_eq!(frozen.counts.get(&("public".to_owned(), ids[0])), None);
    assert_eq!(frozen.counts.get(&("public".to_owned(), ids[1])), Some(&31));
    assert_eq!(
        frozen.invalid.get(&("public".to_owned(), ids[0])),
        Some(&17)
    );
}

/// The five replayed attacks of `signals::synthetic`, mixed into 20,000 ordinary votes,
/// written to the database as votes of the round (their own times, addresses, devices,
/// traits and phones, sealed as the verification seals them), then found by the scan the
/// worker runs: the clusters kept in the database are measured against what was planted.
async fn replayed_attacks_are_found_in_the_stored_votes(db: TestDb) {
    use pingxuan_rules::vote::signals::synthetic;
    use sqlx::Row;
    let app = start(db, CaptchaPolicy::Off).await;
    let rules = format!(
        "{CLOSED}sanction = \"invalidate\"\n\n[stages.vote.signals]\nprefixes = [\"170\"]\n"
    );
    let (ids, _) = open_round(&app, 4, &rules, 2).await;
    let round = synthetic::round(20_000, 11);
    let store = &app.store;

    // The phones, verified as the page verifies them: sealed, with the look-up hash.
    let mut phones: std::collections::BTreeMap<i64, u64> = Default::default();
    for v in &round.votes {
        phones.insert(v.voter, v.phone.unwrap());
    }
    let mut voter_id: std::collections::HashMap<i64, i64> = Default::default();
    let list: Vec<(i64, u64)> = phones.into_iter().collect();
    for chunk in list.chunks(400) {
        let mut sql = String::from(
            "INSERT INTO vote_voters (campaign_id, phone_lookup, phone_sealed, phone_masked, verified_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 4;
            sql.push_str(&format!(
                "{}($1, ${}, ${}, ${}, ${})",
                if i == 0 { "" } else { ", " },
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
        }
        sql.push_str(" RETURNING id, phone_lookup");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(CID);
        for (_, phone) in chunk {
            let plain = format!("{phone:011}");
            q = q
                .bind(store.sealer.lookup(&plain))
                .bind(store.sealer.seal(&plain))
                .bind(format!("{}****{}", &plain[..3], &plain[7..]))
                .bind(BEFORE_CLOSE);
        }
        // RETURNING's order is not promised: each row found again by its look-up hash.
        let by_lookup: std::collections::HashMap<String, i64> = q
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0)))
            .collect();
        for (synthetic, phone) in chunk {
            let lookup = store.sealer.lookup(&format!("{phone:011}"));
            voter_id.insert(*synthetic, by_lookup[&lookup]);
        }
    }

    // The votes, each keeping its synthetic id in its receipt.
    for chunk in round.votes.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO votes (campaign_id, stage_key, group_key, voter, candidate, day, cast_at, \
             receipt, idempotency, client_ip, client_net, share, device, user_agent, traits) VALUES ",
        );
        for i in 0..chunk.len() {
            let p: Vec<String> = (0..9).map(|k| format!("${}", i * 9 + 3 + k)).collect();
            sql.push_str(&format!(
                "{}($1, $2, 'public', {}, {}, {}, {}, {}, NULL, {}, {}, '', {}, 'synthetic', {})",
                if i == 0 { "" } else { ", " },
                p[0],
                p[1],
                p[2],
                p[3],
                p[4],
                p[5],
                p[6],
                p[7],
                p[8]
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(CID).bind(STAGE);
        for v in chunk {
            q = q
                .bind(format!("p:{}", voter_id[&v.voter]))
                .bind(ids[(v.id as usize) % ids.len()])
                .bind(pingxuan_rules::vote::day(v.at).to_string())
                .bind(v.at)
                .bind(format!("SYN-{}", v.id))
                .bind(v.ip.to_string())
                .bind(v.net.to_string())
                .bind(v.device.to_string())
                .bind(v.traits.to_string());
        }
        q.execute(&store.pool).await.unwrap();
    }

    pingxuan_app::vote_review::scan(store, CID, STAGE, BEFORE_CLOSE)
        .await
        .unwrap();
    // The votes every kept cluster holds, by the receipt that names the planted ones.
    let mut held = std::collections::HashSet::new();
    for c in store.clusters(CID, STAGE).await.unwrap() {
        let (votes, _) = store.cluster_reach(CID, STAGE, &c.key).await.unwrap();
        held.extend(votes.into_iter().map(|(id, _, _)| id));
    }
    let flagged: std::collections::HashSet<i64> =
        sqlx::query("SELECT id, receipt FROM votes WHERE campaign_id = $1 AND stage_key = $2")
            .bind(CID)
            .bind(STAGE)
            .fetch_all(&store.pool)
            .await
            .unwrap()
            .iter()
            .filter(|r| held.contains(&r.get::<i64, _>(0)))
            .map(|r| r.get::<String, _>(1)["SYN-".len()..].parse().unwrap())
            .collect();
    let planted = round.planted();
    let hit = flagged.intersection(&planted).count() as f64;
    let (precision, recall) = (hit / flagged.len() as f64, hit / planted.len() as f64);
    println!(
        "{} votes stored, {} clusters kept, {} flagged; precision {precision:.4}, recall {recall:.4}",
        round.votes.len(),
        store.clusters(CID, STAGE).await.unwrap().len(),
        flagged.len()
    );
    assert!(precision >= 0.95, "precision {precision}");
    assert!(recall >= 0.9, "recall {recall}");
    // Every signal kept at least one cluster of its attack.
    let kept: std::collections::HashSet<String> = store
        .clusters(CID, STAGE)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.signal)
        .collect();
    for signal in ["burst", "device", "hour", "run", "prefix", "metronome"] {
        assert!(kept.contains(signal), "{signal} not among {kept:?}");
    }
}
