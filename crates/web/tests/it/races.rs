//! Issue #3: moves sent at the same moment resolve to one outcome, never both. Each race
//! is run over fresh 新疆 applications (申报人 → 推荐单位 → 自治区科协) through the JSON API,
//! and judged by the stored events, not only by the status codes.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{Campaign, SEEDS, load};
use pingxuan_rules::workflow::{Chain, Event, FlowState};
use pingxuan_store::applications::Application;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, start};

on_both_databases!(
    applicant_recall_and_unit_open_at_once,
    unit_recall_of_return_and_resubmit_at_once,
    two_tabs_save_the_same_version,
    double_forward_by_the_unit
);

const XJ: &str = "xinjiang-2023.toml";
const CID: &str = "xinjiang-2023";
/// How many fresh applications each race is run on, per database.
const RUNS: usize = 12;

fn campaign() -> Campaign {
    let (_, text) = SEEDS.iter().find(|(n, _)| *n == XJ).unwrap();
    load(text).campaign.unwrap()
}

/// One 新疆 campaign with an applicant and a recommending unit.
struct Desk {
    app: TestApp,
    /// The applicant's API token.
    me: String,
    /// The recommending unit's API token.
    rec: String,
    unit: i64,
}

/// `category` puts the unit under a quota (`prefecture`: 3 places); `None` sets none.
async fn desk(db: TestDb, category: Option<&str>) -> Desk {
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed(XJ).await;
    let unit = app
        .store
        .create_unit(CID, "昌吉州科协", Role::Recommender, category)
        .await
        .unwrap();
    let rec = app
        .unit_account("cj-rec", Role::Recommender, CID, unit)
        .await;
    let rec = app.token(rec).await;
    let me = app.applicant_token("me@example.com").await;
    Desk { app, me, rec, unit }
}

impl Desk {
    async fn post(&self, token: &str, id: i64, action: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/api/v1/applications/{id}/{action}");
        self.app.call(Method::POST, &path, token, body).await
    }

    /// A new application, filled, committed (form version 2) and with its materials
    /// attached, not yet submitted.
    async fn filled(&self) -> i64 {
        let (s, j) = self
            .app
            .call(
                Method::POST,
                "/api/v1/applications",
                &self.me,
                json!({"campaign": CID, "recommender": self.unit}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        let id = j["id"].as_i64().unwrap();
        let (s, j) = self
            .app
            .call(
                Method::PUT,
                &format!("/api/v1/applications/{id}/form"),
                &self.me,
                json!({"version": 1, "values": crate::common::xinjiang_values("测试人员")}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let (s, j) = self.post(&self.me, id, "commit", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        self.app.furnish(id).await;
        id
    }

    /// A new application submitted by the applicant to the unit.
    async fn submitted(&self) -> i64 {
        let id = self.filled().await;
        let (s, j) = self.post(&self.me, id, "submit", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(j["state"], "申报人提交到推荐单位");
        id
    }

    /// The stored application and the kinds of its stored events, after checking that
    /// the events replay, are numbered 1..n without a gap, and that the columns the
    /// lists read (state text, holder, flow version) agree with them.
    async fn stored(&self, id: i64) -> (Application, Vec<&'static str>) {
        let a = self.app.store.get_application(id).await.unwrap().unwrap();
        let events = self.app.store.application_events(id).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (1..=events.len() as i64).collect();
        assert_eq!(seqs, expected, "application {id}: event numbers");
        let chain = Chain::for_application(&campaign(), a.merged);
        let list: Vec<Event> = events.iter().map(|e| e.event).collect();
        let state = FlowState::replay(&chain, &list)
            .unwrap_or_else(|e| panic!("application {id} does not replay ({e}): {list:?}"));
        assert_eq!(a.state_text, state.text(&chain), "application {id}");
        assert_eq!(a.holder_level, state.holder() as i64, "application {id}");
        assert_eq!(a.flow_version, events.len() as i64, "application {id}");
        (a, list.iter().map(|e| e.kind()).collect())
    }

    /// The application as its applicant reads it through the API.
    async fn as_applicant(&self, id: i64) -> Value {
        let (s, j) = self
            .app
            .call(
                Method::GET,
                &format!("/api/v1/applications/{id}"),
                &self.me,
                json!(null),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        j
    }
}

fn code(j: &Value) -> &str {
    j["error"]["code"].as_str().unwrap_or("")
}

/// 收回 vs 办理: the applicant recalls its submission while the unit opens it. Either
/// the recall went through (back with the applicant, no open recorded after it) or the
/// open was recorded and the recall refused — never a recall and an open both.
async fn applicant_recall_and_unit_open_at_once(db: TestDb) {
    let d = desk(db, None).await;
    let (mut recalled, mut opened) = (0, 0);
    let mut answers = Vec::new();
    for run in 0..RUNS {
        let id = d.submitted().await;
        let recall = d.post(&d.me, id, "recall", json!({}));
        let open = d.post(&d.rec, id, "open", json!({}));
        // Alternate which request is sent first.
        let ((rs, rj), (os, oj)) = if run % 2 == 0 {
            tokio::join!(recall, open)
        } else {
            let (o, r) = tokio::join!(open, recall);
            (r, o)
        };
        let (a, kinds) = d.stored(id).await;
        let mine = d.as_applicant(id).await;
        answers.push(format!(
            "recall {rs} {}, open {os} {}",
            code(&rj),
            code(&oj)
        ));
        match rs {
            StatusCode::OK => {
                recalled += 1;
                assert_eq!(kinds, ["submit", "recall"], "run {run}: {oj}");
                assert_eq!(a.state_text, "草稿（未提交）");
                assert_eq!(a.holder_level, 0);
                assert_eq!(rj["state"], "草稿（未提交）", "{rj}");
                assert_eq!(mine["state"], "草稿（未提交）");
                assert_eq!(mine["editable"], true);
                // The open recorded nothing: it came after the recall (200 with the
                // recalled state), lost the race (409 stale), or no longer saw it (404).
                match os {
                    StatusCode::OK => assert_eq!(oj["state"], "草稿（未提交）", "run {run}: {oj}"),
                    StatusCode::CONFLICT => assert_eq!(code(&oj), "stale", "run {run}: {oj}"),
                    StatusCode::NOT_FOUND => {}
                    other => panic!("run {run}: open answered {other}: {oj}"),
                }
            }
            StatusCode::CONFLICT => {
                opened += 1;
                assert!(
                    matches!(code(&rj), "flow" | "stale"),
                    "run {run}: recall refused with {rj}"
                );
                if code(&rj) == "flow" {
                    assert!(
                        rj["error"]["message"]
                            .as_str()
                            .unwrap()
                            .contains("推荐单位已经查看或办理了申请书，不能收回"),
                        "{rj}"
                    );
                }
                assert_eq!(os, StatusCode::OK, "run {run}: the open won: {oj}");
                assert_eq!(oj["state"], "申报人提交到推荐单位", "{oj}");
                assert_eq!(kinds, ["submit", "open"], "run {run}");
                assert_eq!(a.state_text, "申报人提交到推荐单位");
                assert_eq!(a.holder_level, 1);
                assert_eq!(mine["state"], "申报人提交到推荐单位");
                assert_eq!(mine["editable"], false);
                assert_eq!(mine["can_recall"], false);
            }
            other => panic!("run {run}: recall answered {other}: {rj}"),
        }
    }
    println!(
        "收回 vs 办理: {recalled} recalled, {opened} opened, of {RUNS}; answers: {answers:#?}"
    );
}

/// 收回 of a 退回 vs the applicant's resubmit: the unit takes back its 退回 while the
/// applicant submits again. Either the recall went through (back on the unit's desk as
/// the opened submission, the applicant's submit refused) or the resubmit did (a new
/// unopened submission the applicant may still recall, the unit's recall refused).
async fn unit_recall_of_return_and_resubmit_at_once(db: TestDb) {
    let d = desk(db, None).await;
    let (mut recalled, mut resubmitted) = (0, 0);
    let mut answers = Vec::new();
    for run in 0..RUNS {
        let id = d.submitted().await;
        let (s, j) = d.post(&d.rec, id, "open", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let (s, j) = d
            .post(&d.rec, id, "return", json!({"comment": "请补充"}))
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert_eq!(j["state"], "推荐单位退回到申报人");
        let recall = d.post(&d.rec, id, "recall", json!({}));
        let submit = d.post(&d.me, id, "submit", json!({}));
        let ((rs, rj), (ss, sj)) = if run % 2 == 0 {
            tokio::join!(recall, submit)
        } else {
            let (s, r) = tokio::join!(submit, recall);
            (r, s)
        };
        let (a, kinds) = d.stored(id).await;
        let mine = d.as_applicant(id).await;
        answers.push(format!(
            "recall {rs} {}, submit {ss} {}",
            code(&rj),
            code(&sj)
        ));
        // Both outcomes read 申报人提交到推荐单位; the events and who may recall differ.
        assert_eq!(a.state_text, "申报人提交到推荐单位", "run {run}");
        assert_eq!(a.holder_level, 1, "run {run}");
        match (rs, ss) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                recalled += 1;
                assert!(
                    matches!(code(&sj), "flow" | "stale"),
                    "run {run}: submit refused with {sj}"
                );
                assert_eq!(rj["state"], "申报人提交到推荐单位", "{rj}");
                assert_eq!(kinds, ["submit", "open", "return", "recall"], "run {run}");
                assert_eq!(mine["can_recall"], false, "the unit had opened it");
                assert_eq!(mine["editable"], false);
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                resubmitted += 1;
                assert!(
                    matches!(code(&rj), "flow" | "stale"),
                    "run {run}: recall refused with {rj}"
                );
                assert_eq!(sj["state"], "申报人提交到推荐单位", "{sj}");
                assert_eq!(kinds, ["submit", "open", "return", "submit"], "run {run}");
                assert_eq!(mine["can_recall"], true, "a fresh, unopened submission");
            }
            _ => panic!("run {run}: recall {rs} {rj}, submit {ss} {sj}, events {kinds:?}"),
        }
    }
    println!(
        "收回退回 vs 重新提交: {recalled} recalled, {resubmitted} resubmitted, of {RUNS}; answers: {answers:#?}"
    );
}

/// Two tabs save the same form version at once: one is saved, the other refused as
/// stale, and the stored form is the winner's.
async fn two_tabs_save_the_same_version(db: TestDb) {
    let d = desk(db, None).await;
    let (mut first, mut second) = (0, 0);
    for run in 0..RUNS / 2 {
        let id = d.filled().await;
        let path = format!("/api/v1/applications/{id}/form");
        let save = |name: &'static str| {
            d.app.call(
                Method::PUT,
                &path,
                &d.me,
                json!({"version": 2, "values": crate::common::xinjiang_values(name)}),
            )
        };
        let ((s1, j1), (s2, j2)) = tokio::join!(save("第一个窗口"), save("第二个窗口"));
        let (winner, loser) = match (s1, s2) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                first += 1;
                (("第一个窗口", &j1), &j2)
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                second += 1;
                (("第二个窗口", &j2), &j1)
            }
            _ => panic!("run {run}: {s1} {j1} / {s2} {j2}"),
        };
        assert_eq!(code(loser), "stale", "run {run}: {loser}");
        assert_eq!(winner.1["form_version"], 3, "{}", winner.1);
        assert_eq!(winner.1["form"]["name"]["text"], winner.0);
        let a = d.app.store.get_application(id).await.unwrap().unwrap();
        assert_eq!(a.form_version, 3, "run {run}: saved once");
        let mine = d.as_applicant(id).await;
        assert_eq!(mine["form"]["name"]["text"], winner.0, "run {run}");
        assert_eq!(mine["form_version"], 3);
        // The list's name column is written by the same save as the form.
        let (_, list) = d
            .app
            .call(Method::GET, "/api/v1/applications", &d.me, json!(null))
            .await;
        let line = list
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("{list}"));
        assert_eq!(line["name"], winner.0, "run {run}: {line}");
    }
    println!(
        "两个窗口同时保存: first tab won {first}, second tab won {second}, of {}",
        RUNS / 2
    );
}

/// The unit's 提交 sent twice at once (a double click): one forward, one refusal, one
/// forward event, and one place of the quota taken.
async fn double_forward_by_the_unit(db: TestDb) {
    // 昌吉州科协 as a prefecture: 3 places, so three double forwards must use exactly three.
    let d = desk(db, Some("prefecture")).await;
    let mut refusals = Vec::new();
    for run in 0..3 {
        let id = d.submitted().await;
        let (s, j) = d.post(&d.rec, id, "open", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
        let forward = || d.post(&d.rec, id, "submit", json!({"comment": "同意推荐"}));
        let ((s1, j1), (s2, j2)) = tokio::join!(forward(), forward());
        let (won, lost) = match (s1, s2) {
            (StatusCode::OK, StatusCode::CONFLICT) => (&j1, &j2),
            (StatusCode::CONFLICT, StatusCode::OK) => (&j2, &j1),
            _ => panic!("run {run}: {s1} {j1} / {s2} {j2}"),
        };
        assert_eq!(won["state"], "推荐单位提交到自治区科协", "{won}");
        // The twin loses on the flow (stale, or no longer the holder); on the last
        // place the store's quota count, which runs before its flow check, refuses it
        // first with 名额已满 (3/3) although its own twin took that place.
        let last_place = run == 2;
        assert!(
            matches!(code(lost), "flow" | "stale") || (last_place && code(lost) == "quota_full"),
            "run {run}: refused with {lost}"
        );
        refusals.push(code(lost).to_owned());
        let (a, kinds) = d.stored(id).await;
        assert_eq!(kinds, ["submit", "open", "submit"], "run {run}");
        assert_eq!(a.state_text, "推荐单位提交到自治区科协");
        assert_eq!(a.holder_level, 2);
        let events = d.app.store.application_events(id).await.unwrap();
        let forwards: Vec<_> = events
            .iter()
            .filter(|e| e.event == Event::Submit { by: 1 })
            .collect();
        assert_eq!(forwards.len(), 1, "run {run}");
        assert_eq!(forwards[0].comment, "同意推荐");
    }
    assert_eq!(
        d.app.store.forwarded_by_recommender(d.unit).await.unwrap(),
        3,
        "each double forward took one place"
    );
    // The quota still has no room left for a fourth.
    let id = d.submitted().await;
    let (s, j) = d
        .post(&d.rec, id, "submit", json!({"comment": "同意推荐"}))
        .await;
    assert_eq!((s, code(&j)), (StatusCode::CONFLICT, "quota_full"), "{j}");
    println!("重复提交: the second answer was {refusals:?}");
}
