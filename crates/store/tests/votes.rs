//! Votes under their limits, kept by the database: concurrent transactions for the last
//! slot store exactly one; 齐鲁 2020's and 最美奋斗者 2019's rules at their edges; the day
//! turning at 00:00 Beijing time; a repeated idempotency key; a refused vote in a batch
//! leaving the others stored; a scan's clusters counted only once it publishes them.

use std::sync::Arc;

use pingxuan_rules::campaign::{SEEDS, VoteRules, load};
use pingxuan_store::applications::NewApplication;
use pingxuan_store::testing::TestDb;
use pingxuan_store::vote_review::{Decision, Found, Scanned, SetAside};
use pingxuan_store::votes::{Cast, Clock, NewVote};
use pingxuan_store::{Store, on_both_databases};
use sqlx::Row;

on_both_databases!(
    fifty_transactions_for_one_slot_store_one,
    qilu_at_its_edges_and_the_day_turns_in_beijing,
    zuimei_fendouzhe_at_its_edges,
    a_repeated_key_returns_the_first_receipt,
    a_cap_of_three_holds_under_a_race,
    nothing_lands_after_the_freeze,
    a_refused_vote_does_not_sink_its_batch,
    a_refused_vote_leaves_no_row,
    a_batch_answers_as_its_votes_one_by_one,
    flags_count_once_their_scan_publishes,
    an_unpublished_scans_rows_never_count,
    flags_kept_a_row_a_vote_become_one_row,
    a_slot_taken_meanwhile_is_taken_slot_by_slot,
    a_sparse_cluster_is_read_by_id_and_a_missing_row_sets_nothing_aside,
    a_scan_reads_only_the_votes_cast_since_and_leaves_out_those_set_aside,
    a_batch_casts_under_its_rounds_rules_as_they_stand
);

const CID: &str = "dongguan-2023";
const STAGE: &str = "online_vote";

/// 东莞 seeded and `n` applications to vote for.
async fn round(db: &TestDb, n: usize) -> (Store, Vec<i64>) {
    let s = db.store().await;
    let (_, text) = SEEDS
        .iter()
        .find(|(f, _)| *f == "dongguan-2023.toml")
        .unwrap();
    let c = load(text).campaign.unwrap();
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let applicant = s
        .create_user(pingxuan_store::testing::new_user("voter-test", "测试"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        let new = NewApplication::bare(CID, applicant, "ZMKJ", 2023, "申报人");
        let (id, _) = s
            .create_application(&new, |_, _| pingxuan_store::testing::audit())
            .await
            .unwrap();
        ids.push(id);
    }
    (s, ids)
}

fn rules(text: &str) -> VoteRules {
    toml::from_str(&format!(
        "opens = 2023-11-20T09:00:00+08:00\ncloses = 2023-11-26T18:00:00+08:00\n{text}"
    ))
    .unwrap()
}

fn vote(voter: &str, candidate: i64) -> NewVote {
    NewVote {
        campaign_id: CID.to_owned(),
        stage_key: STAGE.to_owned(),
        group_key: "public".to_owned(),
        voter: voter.to_owned(),
        candidate,
        receipt: format!("R{}", rand_suffix()),
        idempotency: None,
        client_ip: "203.0.113.7".to_owned(),
        client_net: "203.0.113.0/24".to_owned(),
        share: String::new(),
        device: String::new(),
        traits: String::new(),
        user_agent: "test".to_owned(),
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn at(rfc3339: &str) -> Clock {
    Clock::Fixed(
        time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp(),
    )
}

/// Monday 2023-11-20, 12:00 Beijing.
const NOON: &str = "2023-11-20T04:00:00Z";

async fn one(s: &Store, r: &VoteRules, v: NewVote, clock: Clock) -> Cast {
    s.cast_votes(r, &[v], clock).await.unwrap().remove(0)
}

fn refused(c: &Cast) -> &str {
    match c {
        Cast::Refused { code, .. } => code,
        other => panic!("not refused: {other:?}"),
    }
}

/// `n` transactions at once (as `n` servers' batches would be) for one voter's vote for
/// `candidate` under `r`; how many were stored (the others refused by the limit).
async fn race(s: &Store, r: VoteRules, n: usize, voter: &str, candidate: i64) -> usize {
    let r = Arc::new(r);
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (s, r, v) = (s.clone(), r.clone(), vote(voter, candidate));
            tokio::spawn(async move { s.cast_votes(&r, &[v], at(NOON)).await.unwrap().remove(0) })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        match t.await.unwrap() {
            Cast::Stored { .. } => stored += 1,
            c => assert_eq!(refused(&c), "limit_candidate_day"),
        }
    }
    stored
}

async fn fifty_transactions_for_one_slot_store_one(db: TestDb) {
    let (s, ids) = round(&db, 1).await;
    let stored = race(&s, rules("per_candidate_per_day = 1\n"), 50, "p:1", ids[0]).await;
    assert_eq!(stored, 1);
    let counted = s.count_votes(CID, STAGE).await.unwrap();
    assert_eq!(counted.get(&("public".to_owned(), ids[0])), Some(&1));
    assert_eq!(s.vote_tallies(CID, STAGE).await.unwrap(), counted);
}

/// 齐鲁 2020: “每个微信号每天仅可为每位候选人投一票，最多可为10人投票”.
async fn qilu_at_its_edges_and_the_day_turns_in_beijing(db: TestDb) {
    let (s, ids) = round(&db, 11).await;
    let r = rules("per_candidate_per_day = 1\ncandidates_per_day = 10\n");
    let last_second = at("2023-11-20T15:59:59Z");
    for &id in &ids[..10] {
        assert!(matches!(
            one(&s, &r, vote("p:1", id), last_second).await,
            Cast::Stored { ref day, .. } if day == "2023-11-20"
        ));
    }
    // The eleventh person, and a second vote for the first, the same day: refused.
    let c = one(&s, &r, vote("p:1", ids[10]), last_second).await;
    assert_eq!(refused(&c), "limit_candidates_day");
    let c = one(&s, &r, vote("p:1", ids[0]), last_second).await;
    assert_eq!(refused(&c), "limit_candidate_day");
    let Cast::Refused { message, .. } = c else {
        unreachable!()
    };
    assert_eq!(message, "今日已为该候选人投票，请明日 00:00 后再投");
    // Another voter is not held by the first's limits.
    assert!(matches!(
        one(&s, &r, vote("p:2", ids[10]), last_second).await,
        Cast::Stored { .. }
    ));
    // 00:00:00 Beijing (16:00 UTC): a new day, the same ten and the eleventh again.
    let midnight = at("2023-11-20T16:00:00Z");
    for &id in &[ids[0], ids[10]] {
        assert!(matches!(
            one(&s, &r, vote("p:1", id), midnight).await,
            Cast::Stored { ref day, .. } if day == "2023-11-21"
        ));
    }
    let counted = s.count_votes(CID, STAGE).await.unwrap();
    assert_eq!(counted[&("public".to_owned(), ids[0])], 2);
    assert_eq!(counted[&("public".to_owned(), ids[10])], 2);
    assert_eq!(s.vote_tallies(CID, STAGE).await.unwrap(), counted);
}

/// 全国“最美奋斗者” 2019: one vote per candidate, at most 200 candidates, over the round.
async fn zuimei_fendouzhe_at_its_edges(db: TestDb) {
    let (s, ids) = round(&db, 201).await;
    let r = rules("per_candidate = 1\ncandidates = 200\n");
    // Two hundred in two batches of a hundred, on two days.
    let first: Vec<NewVote> = ids[..100].iter().map(|&id| vote("p:9", id)).collect();
    let second: Vec<NewVote> = ids[100..200].iter().map(|&id| vote("p:9", id)).collect();
    for (batch, clock) in [(first, at(NOON)), (second, at("2023-11-21T04:00:00Z"))] {
        let casts = s.cast_votes(&r, &batch, clock).await.unwrap();
        assert!(casts.iter().all(|c| matches!(c, Cast::Stored { .. })));
    }
    let c = one(&s, &r, vote("p:9", ids[200]), at("2023-11-22T04:00:00Z")).await;
    assert_eq!(refused(&c), "limit_candidates");
    let c = one(&s, &r, vote("p:9", ids[0]), at("2023-11-22T04:00:00Z")).await;
    assert_eq!(refused(&c), "limit_candidate");
    // Outside the window: refused with the times.
    let c = one(&s, &r, vote("p:10", ids[0]), at("2023-11-26T10:00:00Z")).await;
    assert_eq!(refused(&c), "vote_closed");
    let total: i64 = s.count_votes(CID, STAGE).await.unwrap().values().sum();
    assert_eq!(total, 200);
}

async fn a_repeated_key_returns_the_first_receipt(db: TestDb) {
    let (s, ids) = round(&db, 2).await;
    let r = rules("");
    let keyed = |candidate: i64| {
        let mut v = vote("p:1", candidate);
        v.idempotency = Some("tap-1".to_owned());
        v
    };
    // The same key from eight transactions at once (a voter's retries reaching two
    // servers): one vote stored, every answer its receipt.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (s, r, v) = (s.clone(), r.clone(), keyed(ids[0]));
            tokio::spawn(async move { s.cast_votes(&r, &[v], at(NOON)).await.unwrap().remove(0) })
        })
        .collect();
    let mut receipts = std::collections::BTreeSet::new();
    for t in tasks {
        match t.await.unwrap() {
            Cast::Stored { receipt, .. } | Cast::Repeated { receipt } => {
                receipts.insert(receipt);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let receipt = receipts.into_iter().next().unwrap();
    let total: i64 = s.count_votes(CID, STAGE).await.unwrap().values().sum();
    assert_eq!(total, 1);
    assert_eq!(
        s.vote_by_receipt(&receipt).await.unwrap(),
        Some((CID.to_owned(), STAGE.to_owned(), ids[0]))
    );
    // The key again for another candidate: refused, not taken as the first vote.
    let c = one(&s, &r, keyed(ids[1]), at(NOON)).await;
    assert_eq!(refused(&c), "idempotency_reused");
}

/// A cap of three taken by twenty transactions at once: exactly three, the others
/// refused after trying the numbers others took.
async fn a_cap_of_three_holds_under_a_race(db: TestDb) {
    let (s, ids) = round(&db, 1).await;
    let stored = race(&s, rules("per_candidate_per_day = 3\n"), 20, "p:5", ids[0]).await;
    assert_eq!(stored, 3);
    assert_eq!(
        s.count_votes(CID, STAGE).await.unwrap()[&("public".to_owned(), ids[0])],
        3
    );
}

async fn a_refused_vote_does_not_sink_its_batch(db: TestDb) {
    let (s, ids) = round(&db, 2).await;
    let r = rules("per_candidate_per_day = 1\n");
    let batch = vec![
        vote("p:1", ids[0]),
        vote("p:1", ids[0]),
        vote("p:1", ids[1]),
        vote("p:2", ids[0]),
    ];
    let casts = s.cast_votes(&r, &batch, at(NOON)).await.unwrap();
    let stored: Vec<bool> = casts
        .iter()
        .map(|c| matches!(c, Cast::Stored { .. }))
        .collect();
    assert_eq!(stored, [true, false, true, true]);
    let counted = s.count_votes(CID, STAGE).await.unwrap();
    assert_eq!(counted[&("public".to_owned(), ids[0])], 2);
    assert_eq!(counted[&("public".to_owned(), ids[1])], 1);
    assert_eq!(s.vote_tallies(CID, STAGE).await.unwrap(), counted);
}

/// A vote a later limit refuses takes back what the earlier ones wrote (slots, picks it
/// made, its row), alone and in a batch; the rows of the votes stored stay.
async fn a_refused_vote_leaves_no_row(db: TestDb) {
    let (s, ids) = round(&db, 3).await;
    let r = rules("per_candidate_per_day = 1\ncandidates_per_day = 3\ncandidates = 2\n");
    let rows = |voter: &'static str| rows_of(&s, voter);
    for &id in &ids[..2] {
        assert!(matches!(
            one(&s, &r, vote("p:1", id), at(NOON)).await,
            Cast::Stored { .. }
        ));
    }
    // The third candidate: a slot of the day's candidates and two picks taken, then the
    // round's two candidates are full. The first again: the candidate's day is full.
    let c = one(&s, &r, vote("p:1", ids[2]), at(NOON)).await;
    assert_eq!(refused(&c), "limit_candidates");
    let c = one(&s, &r, vote("p:1", ids[0]), at(NOON)).await;
    assert_eq!(refused(&c), "limit_candidate_day");
    // Two votes: a slot each of cd, pd and p; a pick each of the day and the round.
    assert_eq!(rows("p:1").await, [2, 6, 4]);
    let batch: Vec<NewVote> = [0, 1, 2, 0].iter().map(|&i| vote("p:2", ids[i])).collect();
    let casts = s.cast_votes(&r, &batch, at(NOON)).await.unwrap();
    let stored: Vec<bool> = casts
        .iter()
        .map(|c| matches!(c, Cast::Stored { .. }))
        .collect();
    assert_eq!(stored, [true, true, false, false]);
    assert_eq!(rows("p:2").await, [2, 6, 4]);
    assert_eq!(
        s.vote_tallies(CID, STAGE).await.unwrap(),
        s.count_votes(CID, STAGE).await.unwrap()
    );
}

/// Six hundred votes over six days of eight voters for five candidates under 齐鲁's
/// limits and a cap on the round's candidates, some sent again with their key: cast in
/// batches of up to
/// forty (planned together), and the same sequence by other voters one vote at a time —
/// the same answers, the same rows, tallies equal to the votes.
async fn a_batch_answers_as_its_votes_one_by_one(db: TestDb) {
    let (s, ids) = round(&db, 5).await;
    let r =
        rules("per_candidate_per_day = 2\nper_day = 6\ncandidates_per_day = 3\ncandidates = 4\n");
    // A fixed sequence from a small generator: (voter, candidate, key, days later).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut seq: Vec<(u64, usize, Option<String>)> = Vec::new();
    for k in 0..600 {
        if k > 0 && next(8) == 0 {
            // A retry of an earlier vote with its key.
            let back = seq[next(seq.len() as u64) as usize].clone();
            if back.2.is_some() {
                seq.push(back);
                continue;
            }
        }
        let key = (next(3) == 0).then(|| format!("k{k}"));
        seq.push((next(8), next(5) as usize, key));
    }
    let as_vote = |prefix: &str, (voter, candidate, key): &(u64, usize, Option<String>)| {
        let mut v = vote(&format!("{prefix}:{voter}"), ids[*candidate]);
        v.idempotency = key.clone();
        v
    };
    // A hundred votes a day from Monday on, at noon.
    let day = |k: usize| at(&format!("2023-11-2{}T04:00:00Z", k / 100));
    let mut together = Vec::new();
    let mut from = 0;
    while from < seq.len() {
        let n = (1 + next(40) as usize).min(100 - from % 100);
        let batch: Vec<NewVote> = seq[from..(from + n).min(seq.len())]
            .iter()
            .map(|v| as_vote("a", v))
            .collect();
        together.extend(s.cast_votes(&r, &batch, day(from)).await.unwrap());
        from += n;
    }
    let mut alone = Vec::new();
    for (k, v) in seq.iter().enumerate() {
        alone.push(one(&s, &r, as_vote("b", v), day(k)).await);
    }
    let kind = |c: &Cast| match c {
        Cast::Stored { .. } => "stored".to_owned(),
        Cast::Repeated { .. } => "repeated".to_owned(),
        Cast::Refused { code, .. } => (*code).to_owned(),
    };
    let mut stored = 0;
    for (k, (a, b)) in together.iter().zip(&alone).enumerate() {
        // A retry of a vote refused earlier in its own batch is tried after the batch's
        // others: refused all the same, perhaps by another limit.
        let both_refused = matches!((a, b), (Cast::Refused { .. }, Cast::Refused { .. }));
        if !(both_refused && seq[k].2.is_some()) {
            assert_eq!(kind(a), kind(b), "vote {k}: {:?}", seq[k]);
        }
        stored += usize::from(matches!(a, Cast::Stored { .. }));
    }
    assert!(stored > 100 && stored < 500, "{stored} stored");
    assert_eq!(rows_of(&s, "a:%").await, rows_of(&s, "b:%").await);
    assert_eq!(
        s.vote_tallies(CID, STAGE).await.unwrap(),
        s.count_votes(CID, STAGE).await.unwrap()
    );
}

/// The rows of the voters `like` names (`p:1`, or `a:%`): votes, slots, picks.
async fn rows_of(s: &Store, like: &str) -> Vec<i64> {
    let mut n = Vec::new();
    for table in ["votes", "vote_slots", "vote_picks"] {
        let q = format!("SELECT COUNT(*) FROM {table} WHERE voter LIKE $1");
        let c: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
            .bind(like)
            .fetch_one(&s.pool)
            .await
            .unwrap();
        n.push(c);
    }
    n
}

/// A hundred votes racing the freeze: every vote stored is in the frozen count, every
/// later one refused — the count is the last word on both databases.
async fn nothing_lands_after_the_freeze(db: TestDb) {
    let (s, ids) = round(&db, 1).await;
    let r = Arc::new(rules(""));
    let casts: Vec<_> = (0..100)
        .map(|i| {
            let (s, r, v) = (s.clone(), r.clone(), vote(&format!("p:{i}"), ids[0]));
            tokio::spawn(async move { s.cast_votes(&r, &[v], at(NOON)).await.unwrap().remove(0) })
        })
        .collect();
    tokio::task::yield_now().await;
    let frozen = s
        .freeze_votes(CID, STAGE, 0, None, |_| pingxuan_store::testing::audit())
        .await
        .unwrap();
    let mut stored = 0;
    for t in casts {
        match t.await.unwrap() {
            Cast::Stored { .. } => stored += 1,
            c => assert_eq!(refused(&c), "vote_closed"),
        }
    }
    assert_eq!(frozen.counts.values().sum::<i64>(), stored);
    assert!(frozen.live_matched);
    assert_eq!(s.count_votes(CID, STAGE).await.unwrap(), frozen.counts);
    // A second freeze is stale.
    assert!(matches!(
        s.freeze_votes(CID, STAGE, 1, None, |_| pingxuan_store::testing::audit())
            .await,
        Err(pingxuan_store::StoreError::Stale)
    ));
}

/// A round of one candidate and `n` votes for it by `n` voters: the store, the
/// candidate, the votes' ids in order.
async fn voted(db: &TestDb, n: usize) -> (Store, Vec<i64>, Vec<i64>) {
    let (s, ids) = round(db, 1).await;
    let votes: Vec<NewVote> = (0..n).map(|i| vote(&format!("p:{i}"), ids[0])).collect();
    s.cast_votes(&rules(""), &votes, at(NOON)).await.unwrap();
    let v = s
        .vote_facts(CID, STAGE, false)
        .await
        .unwrap()
        .iter()
        .map(|f| f.id)
        .collect();
    (s, ids, v)
}

/// One scan's keeping of `found`, as `vote_review::scan` does after its signals.
async fn keep(s: &Store, found: &[(&str, &[i64])]) -> Scanned {
    let found: Vec<Found> = found
        .iter()
        .map(|(key, votes)| Found {
            key: (*key).to_owned(),
            signal: "burst".to_owned(),
            evidence: "测试".to_owned(),
            votes: votes.to_vec(),
        })
        .collect();
    let flags = s.round_flags(CID, STAGE).await.unwrap();
    // Every vote's candidate (a test's clusters may hold votes set aside already).
    let candidate_of = sqlx::query("SELECT id, candidate FROM votes")
        .fetch_all(&s.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    s.save_clusters(CID, STAGE, &found, flags, &candidate_of, 100)
        .await
        .unwrap()
}

async fn reach(s: &Store, key: &str) -> Vec<i64> {
    let (votes, _) = s.cluster_reach(CID, STAGE, key).await.unwrap();
    votes.into_iter().map(|(id, _, _)| id).collect()
}

/// A scan writes a cluster's votes before it publishes them: a row written by a scan that
/// did not publish (a decision came between) is reached by no decision and shown on no
/// page, and the next scan settles it — a decided cluster's new votes become a cluster of
/// their own, rows no cluster counts are removed.
async fn flags_count_once_their_scan_publishes(db: TestDb) {
    let (s, ids, v) = voted(&db, 6).await;
    let first = keep(&s, &[("a", &v[0..3]), ("b", &v[0..2])]).await;
    assert_eq!((first.new, first.updated, first.dropped), (2, 0, 0));
    // A scan that wrote its clusters' votes and never published them.
    unpublished(&s, "a", &v[0..5], i64::MAX / 2).await;
    unpublished(&s, "b", &[v[0], v[1], v[5]], i64::MAX / 2).await;
    assert_eq!(reach(&s, "a").await, v[0..3]);
    let mut targets = s.cluster_targets(CID, STAGE).await.unwrap();
    targets.sort();
    assert_eq!(
        targets,
        vec![("a".to_owned(), ids[0], 3), ("b".to_owned(), ids[0], 2)]
    );
    let set_aside = s
        .apply_decision(
            &Decision {
                campaign_id: CID,
                stage_key: STAGE,
                key: "a",
                verdict: "invalidate",
                reason: "同一网段集中投票",
                by: None,
                confirmed_by: None,
                set_aside: SetAside::Cluster,
                seen: 3,
                generation: cluster(&s, "a").await.generation,
            },
            |_| pingxuan_store::testing::audit(),
            200,
        )
        .await
        .unwrap();
    assert_eq!(set_aside, 3, "the unpublished flags are not set aside");

    let second = keep(&s, &[("a", &v[0..5]), ("b", &v[0..1])]).await;
    assert_eq!((second.new, second.updated, second.dropped), (1, 1, 0));
    // The decided cluster as decided (its votes set aside reach no decision again).
    assert!(reach(&s, "a").await.is_empty());
    let mut targets = s.cluster_targets(CID, STAGE).await.unwrap();
    targets.sort();
    assert_eq!(
        targets,
        vec![
            ("a".to_owned(), ids[0], 3),
            ("a+2".to_owned(), ids[0], 2),
            ("b".to_owned(), ids[0], 1)
        ]
    );
    assert_eq!(reach(&s, "a+2").await, v[3..5]);
    assert!(
        reach(&s, "b").await.is_empty(),
        "its one vote was set aside with a"
    );
    let counts: Vec<(String, i64)> = s
        .clusters(CID, STAGE)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.key, c.votes))
        .collect();
    assert!(counts.contains(&("a+2".to_owned(), 2)) && counts.contains(&("b".to_owned(), 1)));
    assert_eq!(
        member_rows(&s, "b").await,
        [1],
        "one row of b's one vote: the rows no cluster counts are removed"
    );

    // Found again unchanged: the generation stays (an organiser's open form with it).
    let b = cluster(&s, "b").await;
    keep(&s, &[("a", &v[0..5]), ("b", &v[0..1])]).await;
    assert_eq!(cluster(&s, "b").await.generation, b.generation);
    // No longer found: dropped, and its votes' row with it.
    let last = keep(&s, &[("a", &v[0..5])]).await;
    assert_eq!(last.dropped, 1);
    assert!(member_rows(&s, "b").await.is_empty());
    assert_eq!(reach(&s, "a+2").await, v[3..5]);
}

async fn cluster(s: &Store, key: &str) -> pingxuan_store::vote_review::Cluster {
    s.clusters(CID, STAGE)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.key == key)
        .unwrap()
}

/// The votes in each members' row of `key`, counted or not.
async fn member_rows(s: &Store, key: &str) -> Vec<i64> {
    sqlx::query(
        "SELECT votes FROM vote_cluster_members WHERE campaign_id = $1 AND stage_key = $2 \
         AND cluster_key = $3 ORDER BY generation",
    )
    .bind(CID)
    .bind(STAGE)
    .bind(key)
    .fetch_all(&s.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// A members' row of `key` that no cluster counts (a scan that stopped before publishing).
async fn unpublished(s: &Store, key: &str, votes: &[i64], generation: i64) {
    let ids: roaring::RoaringTreemap = votes.iter().map(|&v| v as u64).collect();
    let mut bytes = Vec::new();
    ids.serialize_into(&mut bytes).unwrap();
    sqlx::query(
        "INSERT INTO vote_cluster_members (campaign_id, stage_key, cluster_key, generation, \
         votes, ids, targets) VALUES ($1, $2, $3, $4, $5, $6, '[]')",
    )
    .bind(CID)
    .bind(STAGE)
    .bind(key)
    .bind(generation)
    .bind(votes.len() as i64)
    .bind(bytes)
    .execute(&s.pool)
    .await
    .unwrap();
}

/// A scan that wrote a new cluster's votes and stopped before publishing it leaves a row
/// under a key without a cluster: it counts nowhere, and the next scan removes it.
async fn an_unpublished_scans_rows_never_count(db: TestDb) {
    let (s, ids, v) = voted(&db, 4).await;
    unpublished(&s, "c", &v[0..2], 5).await;
    assert!(s.cluster_targets(CID, STAGE).await.unwrap().is_empty());
    let scanned = keep(&s, &[("c", &v[1..3])]).await;
    assert_eq!(scanned.new, 1);
    assert_eq!(cluster(&s, "c").await.votes, 2);
    assert_eq!(
        s.cluster_targets(CID, STAGE).await.unwrap(),
        vec![("c".to_owned(), ids[0], 2)]
    );
    assert_eq!(reach(&s, "c").await, v[1..3]);
    assert_eq!(member_rows(&s, "c").await, [2]);
}

/// Flags kept a row a vote (before migration 0033) become the cluster's one row at the
/// start: the ones its generation counts, with whom they went to; the rest go.
async fn flags_kept_a_row_a_vote_become_one_row(db: TestDb) {
    let (s, ids, v) = voted(&db, 4).await;
    keep(&s, &[("x", &v[0..1])]).await;
    let generation = cluster(&s, "x").await.generation;
    sqlx::query("DELETE FROM vote_cluster_members")
        .execute(&s.pool)
        .await
        .unwrap();
    assert_eq!(
        s.convert_flags().await.unwrap(),
        0,
        "no flags: nothing to do"
    );
    for (id, g) in [
        (v[0], generation),
        (v[1], generation - 1),
        (v[2], generation + 1),
    ] {
        sqlx::query(
            "INSERT INTO vote_flags (campaign_id, stage_key, cluster_key, generation, vote_id) \
             VALUES ($1, $2, 'x', $3, $4)",
        )
        .bind(CID)
        .bind(STAGE)
        .bind(g)
        .bind(id)
        .execute(&s.pool)
        .await
        .unwrap();
    }
    assert_eq!(s.convert_flags().await.unwrap(), 1);
    assert_eq!(reach(&s, "x").await, v[0..2]);
    assert_eq!(
        s.cluster_targets(CID, STAGE).await.unwrap(),
        vec![("x".to_owned(), ids[0], 2)]
    );
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM vote_flags")
        .fetch_one(&s.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}

/// On PostgreSQL a batch plans from what is committed: a slot another server's transaction
/// holds meanwhile does not insert, and that voter's votes are then taken slot by slot —
/// the limit holds whether the other commits or rolls back. (SQLite's one writer leaves
/// nothing to contest.)
async fn a_slot_taken_meanwhile_is_taken_slot_by_slot(db: TestDb) {
    let (s, ids) = round(&db, 2).await;
    if s.backend != pingxuan_store::Backend::Postgres {
        return;
    }
    let r = Arc::new(rules("per_candidate_per_day = 1\ncandidates_per_day = 5\n"));
    for (voter, commit) in [("p:1", true), ("p:2", false)] {
        // The other server's vote for the first candidate, its slot and pick held.
        let mut other = s.pool.begin().await.unwrap();
        let id: i64 = sqlx::query(
            "INSERT INTO votes (campaign_id, stage_key, group_key, voter, candidate, day, \
             cast_at, receipt, client_ip, client_net, share, device, user_agent) \
             VALUES ($1, $2, 'public', $3, $4, '2023-11-20', 0, $5, '', '', '', '', '') \
             RETURNING id",
        )
        .bind(CID)
        .bind(STAGE)
        .bind(voter)
        .bind(ids[0])
        .bind(format!("OTHER-{voter}"))
        .fetch_one(&mut *other)
        .await
        .unwrap()
        .get(0);
        for (scope, slot) in [
            (format!("cd:2023-11-20:{}", ids[0]), 0),
            ("pd:2023-11-20".to_owned(), 0),
        ] {
            sqlx::query(
                "INSERT INTO vote_slots (campaign_id, stage_key, voter, scope, slot, vote_id) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(CID)
            .bind(STAGE)
            .bind(voter)
            .bind(scope)
            .bind(slot as i64)
            .bind(id)
            .execute(&mut *other)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO vote_picks (campaign_id, stage_key, voter, period, candidate) \
             VALUES ($1, $2, $3, 'd:2023-11-20', $4)",
        )
        .bind(CID)
        .bind(STAGE)
        .bind(voter)
        .bind(ids[0])
        .execute(&mut *other)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO vote_tallies (campaign_id, stage_key, group_key, candidate, votes) \
             VALUES ($1, $2, 'public', $3, 1) ON CONFLICT (campaign_id, stage_key, group_key, \
             candidate) DO UPDATE SET votes = vote_tallies.votes + 1",
        )
        .bind(CID)
        .bind(STAGE)
        .bind(ids[0])
        .execute(&mut *other)
        .await
        .unwrap();
        let batch = vec![vote(voter, ids[0]), vote(voter, ids[1])];
        let task = {
            let (s, r) = (s.clone(), r.clone());
            tokio::spawn(async move { s.cast_votes(&r, &batch, at(NOON)).await.unwrap() })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!task.is_finished(), "the batch waits for the slot held");
        if commit {
            other.commit().await.unwrap();
        } else {
            other.rollback().await.unwrap();
        }
        let casts = task.await.unwrap();
        let stored: Vec<bool> = casts
            .iter()
            .map(|c| matches!(c, Cast::Stored { .. }))
            .collect();
        // Committed: the first candidate's slot of the day is the other's.
        assert_eq!(stored, [!commit, true], "{voter}: {casts:?}");
        let slots: Vec<(String, i64)> = sqlx::query(
            "SELECT scope, COUNT(*) FROM vote_slots WHERE voter = $1 GROUP BY scope ORDER BY scope",
        )
        .bind(voter)
        .fetch_all(&s.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        assert_eq!(
            slots,
            [
                (format!("cd:2023-11-20:{}", ids[0]), 1),
                (format!("cd:2023-11-20:{}", ids[1]), 1),
                ("pd:2023-11-20".to_owned(), 2)
            ],
            "{voter}"
        );
    }
    assert_eq!(
        s.vote_tallies(CID, STAGE).await.unwrap(),
        s.count_votes(CID, STAGE).await.unwrap()
    );
}

/// A cluster of scattered votes is read by id (a burst's as a range), in id order; a
/// cluster whose votes' row is missing sets nothing aside.
async fn a_sparse_cluster_is_read_by_id_and_a_missing_row_sets_nothing_aside(db: TestDb) {
    let (s, _, v) = voted(&db, 20).await;
    let scattered = [v[0], v[9], v[19]];
    keep(&s, &[("s", &scattered), ("d", &v[2..8])]).await;
    assert_eq!(reach(&s, "s").await, scattered);
    assert_eq!(reach(&s, "d").await, v[2..8]);
    let d = cluster(&s, "d").await;
    sqlx::query("DELETE FROM vote_cluster_members WHERE cluster_key = 'd'")
        .execute(&s.pool)
        .await
        .unwrap();
    let decided = s
        .apply_decision(
            &Decision {
                campaign_id: CID,
                stage_key: STAGE,
                key: "d",
                verdict: "invalidate",
                reason: "测试",
                by: None,
                confirmed_by: None,
                set_aside: SetAside::Cluster,
                seen: d.votes,
                generation: d.generation,
            },
            |_| pingxuan_store::testing::audit(),
            200,
        )
        .await;
    assert!(
        matches!(decided, Err(pingxuan_store::StoreError::Stale)),
        "{decided:?}"
    );
    assert!(!cluster(&s, "d").await.decided());
}

/// A round's votes as the scans read them: kept between scans, so the next reads only the
/// votes cast since (on SQLite exactly those; on PostgreSQL, where a batch can commit
/// after a read saw higher ids, everything of the last 10 s again); the votes set aside
/// left out whenever they were set aside; the freeze's whole read from the database; a
/// vote missing from what was kept found by its count; nothing kept once forgotten.
async fn a_scan_reads_only_the_votes_cast_since_and_leaves_out_those_set_aside(db: TestDb) {
    let (s, ids) = round(&db, 1).await;
    let cast = |from: usize, n: usize| {
        let votes: Vec<NewVote> = (from..from + n)
            .map(|i| vote(&format!("p:{i}"), ids[0]))
            .collect();
        let s = s.clone();
        async move { s.cast_votes(&rules(""), &votes, at(NOON)).await.unwrap() }
    };
    let read = |whole: bool| {
        let s = s.clone();
        async move { s.vote_facts(CID, STAGE, whole).await.unwrap() }
    };
    cast(0, 3).await;
    let first = read(false).await;
    assert_eq!(first.len(), 3);
    let v: Vec<i64> = first.iter().map(|f| f.id).collect();
    // Changed behind the store's back (votes never are): a kept vote is not read again.
    sqlx::query("UPDATE votes SET client_net = 'changed' WHERE id = $1")
        .bind(v[0])
        .execute(&s.pool)
        .await
        .unwrap();
    cast(3, 2).await;
    let second = read(false).await;
    let ids_read: Vec<i64> = second.iter().map(|f| f.id).collect();
    assert_eq!(ids_read.len(), 5);
    assert_eq!(ids_read[..3], v[..]);
    assert!(ids_read.windows(2).all(|w| w[0] < w[1]), "in id order");
    let net_of_first = &*second[0].client_net;
    match s.backend {
        pingxuan_store::Backend::Sqlite => assert_eq!(net_of_first, "203.0.113.0/24"),
        pingxuan_store::Backend::Postgres => assert_eq!(net_of_first, "changed"),
    }
    // One network, one text shared by its votes.
    assert!(Arc::ptr_eq(&second[1].client_net, &second[4].client_net));
    assert_eq!(&*second[4].voter, "p:4");

    sqlx::query(
        "INSERT INTO vote_voids (vote_id, campaign_id, stage_key, cluster_key, reason, voided_at) \
         VALUES ($1, $2, $3, 'a', '测试', 1)",
    )
    .bind(v[1])
    .bind(CID)
    .bind(STAGE)
    .execute(&s.pool)
    .await
    .unwrap();
    let third: Vec<i64> = read(false).await.iter().map(|f| f.id).collect();
    assert_eq!(third, [v[0], v[2], ids_read[3], ids_read[4]]);

    let whole = read(true).await;
    assert_eq!(whole.iter().map(|f| f.id).collect::<Vec<_>>(), third);
    assert_eq!(&*whole[0].client_net, "changed");

    // A vote missing from below what was kept (as a PostgreSQL batch that committed after
    // its ids were taken as settled would be): the round is read afresh.
    for sql in [
        "UPDATE votes SET client_net = 'again' WHERE id = $1",
        "DELETE FROM vote_slots WHERE vote_id = $1",
        "DELETE FROM votes WHERE id = $1",
    ] {
        let id = if sql.starts_with("UPDATE") {
            v[0]
        } else {
            v[2]
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&s.pool)
            .await
            .unwrap();
    }
    let fourth = read(false).await;
    assert_eq!(
        fourth.iter().map(|f| f.id).collect::<Vec<_>>(),
        [v[0], ids_read[3], ids_read[4]]
    );
    assert_eq!(&*fourth[0].client_net, "again");

    // Let go of once the round is frozen: the next read starts afresh.
    sqlx::query("UPDATE votes SET client_net = 'last' WHERE id = $1")
        .bind(v[0])
        .execute(&s.pool)
        .await
        .unwrap();
    s.forget_vote_facts(CID, STAGE);
    assert_eq!(&*read(false).await[0].client_net, "last");
}

/// The server's batches take the round's rules from the campaign as it stands when each
/// batch begins (its revision read with the freeze's check): a limit raised, or the
/// window moved, counts from the next batch.
async fn a_batch_casts_under_its_rounds_rules_as_they_stand(db: TestDb) {
    let (s, ids) = round(&db, 2).await;
    let with = |rules: &str| {
        let (_, text) = SEEDS
            .iter()
            .find(|(f, _)| *f == "dongguan-2023.toml")
            .unwrap();
        let text = text.replacen(
            "[[stages]]\nkey = \"panel\"",
            &format!("[stages.vote]\n{rules}\n[[stages]]\nkey = \"panel\""),
            1,
        );
        (load(&text).campaign.unwrap(), text)
    };
    let save = |rules: String| {
        let s = s.clone();
        let (c, text) = with(&rules);
        async move {
            s.save_campaign(&c, &text, None, pingxuan_store::testing::for_id)
                .await
                .unwrap()
        }
    };
    let window = "opens = 2023-11-20T09:00:00+08:00\ncloses = 2023-11-26T18:00:00+08:00\n";
    let cast = |v: NewVote| {
        let s = s.clone();
        async move { s.cast_round_votes(&[v], at(NOON)).await.unwrap().remove(0) }
    };
    // One a day, then raised to two: each time the next batch takes one more, no more.
    for limit in [1, 2] {
        save(format!("{window}per_candidate_per_day = {limit}\n")).await;
        assert!(matches!(
            cast(vote("p:1", ids[0])).await,
            Cast::Stored { .. }
        ));
        assert_eq!(
            refused(&cast(vote("p:1", ids[0])).await),
            "limit_candidate_day"
        );
    }
    // Closed before noon: refused with the window's words, nothing written.
    save(
        "opens = 2023-11-20T09:00:00+08:00\ncloses = 2023-11-20T10:00:00+08:00\nper_candidate_per_day = 2\n"
            .to_owned(),
    )
    .await;
    let c = cast(vote("p:2", ids[1])).await;
    assert!(refused(&c).starts_with("vote_"), "{c:?}");
    let stored: i64 = sqlx::query("SELECT COUNT(*) FROM votes")
        .fetch_one(&s.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 2);
}
