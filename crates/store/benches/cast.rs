//! The vote's batch path alone (issue 19): 60,000 votes of 500 voters for 40 candidates
//! under the load rules (a candidate's slot of the day and a pick of the day's candidates:
//! two slots a vote), cast in batches of 30 by two lanes at once as the server's `Ballots`
//! do, on SQLite (WAL, `synchronous=FULL`) and on PostgreSQL when configured. Votes/s and
//! the batch's time (p50, p99) — no HTTP, no load generator: the store's own cost.
//!
//! `cargo bench -p pingxuan-store --bench cast`.

use std::time::{Duration, Instant};

use pingxuan_rules::campaign::{SEEDS, VoteRules, load};
use pingxuan_store::applications::NewApplication;
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_store::votes::{Cast, Clock, NewVote};

const CID: &str = "dongguan-2023";
const VOTES: usize = 60_000;
const BATCH: usize = 30;
const VOTERS: usize = 500;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for which in [Which::Sqlite, Which::Postgres] {
        rt.block_on(cast(which));
    }
}

async fn cast(which: Which) {
    let Some(db) = TestDb::new(which).await else {
        println!("{which:?}: skipped (PINGXUAN_TEST_DATABASE_URL not set)");
        return;
    };
    let s = db.store().await;
    let (_, text) = SEEDS
        .iter()
        .find(|(f, _)| *f == "dongguan-2023.toml")
        .expect("东莞");
    let c = load(text).campaign.expect("campaign");
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .expect("campaign saved");
    let applicant = s
        .create_user(pingxuan_store::testing::new_user("cast-bench", "测试"))
        .await
        .expect("user");
    let mut candidates = Vec::new();
    for _ in 0..40 {
        let new = NewApplication::bare(CID, applicant, "ZMKJ", 2023, "申报人");
        let (id, _) = s
            .create_application(&new, |_, _| pingxuan_store::testing::audit())
            .await
            .expect("application");
        candidates.push(id);
    }
    let rules: VoteRules = toml::from_str(
        "opens = 2023-11-20T09:00:00+08:00\ncloses = 2023-11-26T18:00:00+08:00\n\
         per_candidate_per_day = 1000000\ncandidates_per_day = 1000\n",
    )
    .expect("rules");
    // Monday noon, Beijing.
    let clock = Clock::Fixed(1_700_452_800);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let votes: Vec<NewVote> = (0..VOTES)
        .map(|i| {
            let r = next();
            NewVote {
                campaign_id: CID.to_owned(),
                stage_key: "online_vote".to_owned(),
                group_key: "public".to_owned(),
                voter: format!("p:{}", r % VOTERS as u64),
                candidate: candidates[(r >> 20) as usize % candidates.len()],
                // As the server makes them: the second first, then random.
                receipt: format!("{:05}-{:016X}", i / 3_000, next()),
                idempotency: Some(format!("k{i}")),
                client_ip: "203.0.113.7".to_owned(),
                client_net: "203.0.113.0/24".to_owned(),
                share: String::new(),
                device: format!("{:016x}", r % 997),
                traits: String::new(),
                user_agent: "bench".to_owned(),
            }
        })
        .collect();
    // Two lanes by voter, as the server's: one server never has two batches of one voter
    // under way.
    let lanes: Vec<Vec<Vec<NewVote>>> = (0..2)
        .map(|lane| {
            let mine: Vec<NewVote> = votes
                .iter()
                .filter(|v| v.voter[2..].parse::<usize>().expect("p:{n}") % 2 == lane)
                .cloned()
                .collect();
            mine.chunks(BATCH).map(<[NewVote]>::to_vec).collect()
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = lanes
        .into_iter()
        .map(|batches| {
            let (s, rules) = (s.clone(), rules.clone());
            tokio::spawn(async move {
                let mut took = Vec::new();
                let mut stored = 0;
                for b in batches {
                    let t = Instant::now();
                    let out = s.cast_votes(&rules, &b, clock).await.expect("batch");
                    took.push(t.elapsed());
                    stored += out
                        .iter()
                        .filter(|c| matches!(c, Cast::Stored { .. }))
                        .count();
                }
                (took, stored)
            })
        })
        .collect();
    let mut took: Vec<Duration> = Vec::new();
    let mut stored = 0;
    for t in tasks {
        let (t, n) = t.await.expect("lane");
        took.extend(t);
        stored += n;
    }
    let secs = started.elapsed().as_secs_f64();
    took.sort();
    let at = |q: f64| took[((took.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "{which:?}: {stored} of {VOTES} votes stored in {secs:.2} s = {:.0} votes/s; \
         batches of {BATCH}: p50 {:.2} ms, p99 {:.2} ms",
        stored as f64 / secs,
        at(0.5),
        at(0.99)
    );
}
