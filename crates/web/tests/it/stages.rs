//! The selection rounds over HTTP: a stage opened with the candidates at the office's
//! desk, 形式审查 per candidate with reasons, closing, advancing and a reversal; who may
//! see and move it.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestApp, start, xinjiang_candidate};

on_both_databases!(
    a_screening_stage_from_desk_to_advance,
    a_review_stage_assigns_experts_around_conflicts,
    experts_declare_score_and_the_stage_ranks,
    a_panel_keyed_from_paper,
    a_panel_votes_by_show_of_hands,
    a_show_of_hands_tied_across_the_cut,
    a_tie_across_the_cut_is_ordered_by_the_office,
    experts_owing_sheets_are_reminded_before_the_deadline
);

const CID: &str = "xinjiang-2023";

/// 新疆 with a 形式审查 first (as 东莞's 初选), so one file covers the chain and the stage.
pub(crate) async fn seed_with_screening(app: &TestApp) {
    seed_text(app, &screening_text()).await;
}

/// The campaign file `seed_with_screening` loads. The final list's rules (院士 ≤10%,
/// 45 岁以下 ≥20%) are `final_list.rs`'s business: these rounds' two candidates of 73
/// could not meet them.
pub(crate) fn screening_text() -> String {
    let text = screening_text_with_final_rules();
    let (from, to) = (
        text.find("[[final.constraints]]").unwrap(),
        text.find("[[final.extra_lists]]").unwrap(),
    );
    format!("{}{}", &text[..from], &text[to..])
}

/// The same with `[final]`'s rules kept.
pub(crate) fn screening_text_with_final_rules() -> String {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "xinjiang-2023.toml")
        .unwrap();
    text
        .replace(
            "key = \"unit_round\"\nname = \"初评\"\nkind = \"unit_round\"\nper_unit_max = 3",
            "key = \"screening\"\nname = \"形式审查\"\nkind = \"screening\"\nadvance = 30",
        )
        // What the organiser sets on 活动设置 before 网上评选 opens.
        .replace(
            "name = \"网上评选\"\nkind = \"review\"\n",
            "name = \"网上评选\"\nkind = \"review\"\nadvance = 25\nreviewers = 2\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\n",
        )
        .replace(
            "name = \"集中评选\"\nkind = \"panel\"\n",
            "name = \"集中评选\"\nkind = \"panel\"\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\n",
        )
}

pub(crate) async fn seed_text(app: &TestApp, text: &str) {
    let report = pingxuan_rules::campaign::load(text);
    let c = report
        .campaign
        .unwrap_or_else(|| panic!("the campaign file does not load: {:?}", report.problems));
    app.store
        .save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
}

/// 东莞 loaded with its office (`dg-office`), 11月3日 extended for every unit, and `n`
/// candidates sent up the whole chain — applicant, 所在单位, 推荐单位 — two per
/// recommending unit (its quota), each with a 推荐码. Returns (application id, the
/// recommending unit's login) in order.
pub(crate) async fn dongguan_at_desk(app: &TestApp, n: usize) -> Vec<(i64, String)> {
    use crate::codes::{fill_and_submit, submit};
    const DG: &str = "dongguan-2023.toml";
    let cid = "dongguan-2023";
    app.seed(DG).await;
    let office = app
        .account("dg-office", Role::Organizer, Some(cid), None)
        .await;
    let office = app.token(office).await;
    crate::codes::extend_every_channel(app, cid, &office).await;
    let mut out = Vec::new();
    for u in 0..n.div_ceil(2) {
        let rec_unit = app
            .store
            .create_unit(
                cid,
                &format!("东莞市第{u}推荐单位"),
                Role::Recommender,
                Some("city_units"),
            )
            .await
            .unwrap();
        let work_unit = app
            .store
            .create_unit(cid, &format!("东莞市第{u}研究院"), Role::WorkUnit, None)
            .await
            .unwrap();
        let rec_login = format!("dg-rec{u}");
        let rec = app
            .token(
                app.unit_account(&rec_login, Role::Recommender, cid, rec_unit)
                    .await,
            )
            .await;
        let work = app
            .token(
                app.unit_account(&format!("dg-work{u}"), Role::WorkUnit, cid, work_unit)
                    .await,
            )
            .await;
        for _ in 0..2 {
            let i = out.len();
            if i == n {
                break;
            }
            let (me, id) = crate::codes::apply_with_code(
                app,
                &rec,
                json!({"unit": rec_unit, "work_unit": work_unit.to_string()}),
                &format!("dg{i}@x.cn"),
            )
            .await;
            fill_and_submit(app, DG, &me, id, &format!("候选人{i:02}")).await;
            for token in [&work, &rec] {
                let (s, j) = submit(app, token, id, json!({"comment": "同意推荐。"})).await;
                assert_eq!(s, StatusCode::OK, "{j}");
            }
            out.push((id, rec_login.clone()));
        }
    }
    out
}

/// Two candidates reach the office through their units.
pub(crate) async fn two_at_desk(app: &TestApp) -> (i64, i64) {
    let ids = at_desk(
        app,
        &[
            ("张三", "zhang@x.cn", "昌吉州科协", "cj-rec"),
            ("李四", "li@x.cn", "哈密市科协", "hm-rec"),
        ],
    )
    .await;
    (ids[0], ids[1])
}

/// Candidates (name, applicant login, unit, unit login) reach the office through their
/// units, each unit new; their ids in order.
pub(crate) async fn at_desk(app: &TestApp, who: &[(&str, &str, &str, &str)]) -> Vec<i64> {
    let mut ids = Vec::new();
    for &(name, login, unit_name, unit_login) in who {
        let unit = app
            .store
            .create_unit(CID, unit_name, Role::Recommender, Some("prefecture"))
            .await
            .unwrap();
        let account = app
            .unit_account(unit_login, Role::Recommender, CID, unit)
            .await;
        let token = app.token(account).await;
        let (_, id) = xinjiang_candidate(app, login, name, unit, true).await;
        let (s, j) = app
            .call(
                Method::POST,
                &format!("/api/v1/applications/{id}/submit"),
                &token,
                json!({"comment": "同意推荐"}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        ids.push(id);
    }
    ids
}

async fn a_screening_stage_from_desk_to_advance(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    seed_with_screening(&app).await;
    let (zhang, li) = two_at_desk(&app).await;
    app.account("xj-office", Role::Organizer, Some(CID), None)
        .await;
    let mut office = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/screening");
    let moves = format!("{stage}/moves");

    let campaign = office.get(&format!("/campaigns/{CID}")).await;
    assert!(
        campaign.body.contains(&format!("href=\"{stage}\"")),
        "{}",
        campaign.body
    );
    assert!(campaign.body.contains("未开始"));

    // Before it opens: who will be in it, with the record's checklist.
    let page = office.get(&stage).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for expected in [
        "张三",
        "李四",
        "昌吉州科协",
        "确认开始（下表 2 人进入本阶段）",
        "材料</strong>：齐全",
        "推荐名额",
    ] {
        assert!(page.body.contains(expected), "{expected} in {}", page.body);
    }
    let csrf = office.csrf(&stage).await;
    let ids = format!("{zhang},{li}");
    // A list that is not the desk's (a stale page) is refused.
    let r = office
        .post_form(
            &moves,
            &[
                ("csrf", &csrf),
                ("action", "open"),
                ("ids", &zhang.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("候选人名单已变化"), "{}", r.body);
    let r = office
        .post_follow(
            &moves,
            &[("csrf", &csrf), ("action", "open"), ("ids", &ids)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("本阶段已开始"), "{}", r.body);
    assert!(r.body.contains("进行中"));
    // Opened twice (F5 on an old form): refused, nothing written.
    let again = office
        .post_form(
            &moves,
            &[("csrf", &csrf), ("action", "open"), ("ids", &ids)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Not closed while a candidate has no conclusion.
    let r = office
        .post_form(&moves, &[("csrf", &csrf), ("action", "close")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("张三（"), "{}", r.body);
    assert!(r.body.contains("尚无形式审查结论"), "{}", r.body);

    // A fail needs its reason; the refusal sits beside the candidate.
    let screen = |id: i64| format!("{stage}/screenings/{id}");
    let r = office
        .post_form(&screen(li), &[("csrf", &csrf), ("conclusion", "fail")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不通过须写明理由"), "{}", r.body);
    let r = office
        .post_follow(
            &screen(li),
            &[
                ("csrf", &csrf),
                ("conclusion", "fail"),
                ("preset", "申报材料不完整"),
                ("reason", "缺单位推荐意见原件"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("申报材料不完整：缺单位推荐意见原件"),
        "{}",
        r.body
    );
    let r = office
        .post_follow(&screen(zhang), &[("csrf", &csrf), ("conclusion", "pass")])
        .await;
    assert!(r.body.contains("通过 1 人"), "{}", r.body);
    assert!(r.body.contains("不通过 1 人"), "{}", r.body);

    // While the stage is open its conclusions may change: the unit reads none yet.
    let mut hami = app.signed_in("hm-rec").await;
    let item = hami.get(&format!("/review/{li}")).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.body);
    assert!(!item.body.contains("评选结论"), "{}", item.body);

    // Closed, then the list confirmed: 张三 alone goes on.
    let r = office
        .post_follow(&moves, &[("csrf", &csrf), ("action", "close")])
        .await;
    assert!(r.body.contains("确认晋级名单（1 人）"), "{}", r.body);
    // Nothing shows to the unit before the office publishes.
    let item = hami.get(&format!("/review/{li}")).await;
    assert!(!item.body.contains("id=\"conclusions\""), "{}", item.body);
    let r = office
        .post_form(
            &screen(zhang),
            &[("csrf", &csrf), ("conclusion", "fail"), ("reason", "迟到")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no conclusion once closed");
    let r = office
        .post_follow(
            &moves,
            &[
                ("csrf", &csrf),
                ("action", "advance"),
                ("ids", &zhang.to_string()),
            ],
        )
        .await;
    assert!(r.body.contains("晋级名单已确定"), "{}", r.body);
    assert!(r.body.contains("晋级 1 人"), "{}", r.body);
    let item = hami.get(&format!("/review/{li}")).await;
    assert!(!item.body.contains("id=\"conclusions\""), "{}", item.body);

    // Published: each candidate and their units read their own outcome, with the
    // reason for a fail, and are told by a notice and mail.
    let r = office
        .post_follow(&moves, &[("csrf", &csrf), ("action", "publish")])
        .await;
    assert!(r.body.contains("结果已公布"), "{}", r.body);
    let r = office
        .post_form(&moves, &[("csrf", &csrf), ("action", "publish")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "published once");
    let failed = "<strong>形式审查</strong>：不通过。理由：申报材料不完整：缺单位推荐意见原件";
    let item = hami.get(&format!("/review/{li}")).await;
    assert!(item.body.contains(failed), "{}", item.body);
    let mut li_self = app.signed_in("li@x.cn").await;
    let own = li_self.get(&format!("/applications/{li}")).await;
    assert!(own.body.contains(failed), "{}", own.body);
    let mut zhang_self = app.signed_in("zhang@x.cn").await;
    let own = zhang_self.get(&format!("/applications/{zhang}")).await;
    assert!(
        own.body
            .contains("<strong>形式审查</strong>：通过，进入“网上评选”"),
        "{}",
        own.body
    );
    assert!(!own.body.contains("缺单位推荐意见原件"), "only their own");
    let notices = li_self.get("/notices").await;
    assert!(notices.body.contains("评选结果"), "{}", notices.body);
    assert!(
        notices.body.contains("李四（编号") && notices.body.contains("不通过。理由"),
        "{}",
        notices.body
    );
    let unit_notices = hami.get("/notices").await;
    assert!(
        unit_notices.body.contains("李四（编号"),
        "{}",
        unit_notices.body
    );
    assert!(
        !unit_notices.body.contains("张三（编号"),
        "a unit hears of its own candidates only: {}",
        unit_notices.body
    );

    // Undone only with a reason; kept in the stage's record and the audit trail.
    let r = office
        .post_form(
            &moves,
            &[("csrf", &csrf), ("action", "revert"), ("reason", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("须写明理由"), "{}", r.body);
    let r = office
        .post_follow(
            &moves,
            &[
                ("csrf", &csrf),
                ("action", "revert"),
                ("reason", "李四材料已补正，重新审查"),
            ],
        )
        .await;
    assert!(
        r.body.contains("撤销晋级名单：李四材料已补正，重新审查"),
        "{}",
        r.body
    );
    assert!(r.body.contains("已结束，待确定晋级名单"), "{}", r.body);
    // What was published shows as under review until published again.
    let own = li_self.get(&format!("/applications/{li}")).await;
    assert!(
        own.body.contains("已公布的结果正在复核") && !own.body.contains(failed),
        "{}",
        own.body
    );
    let audit = app.store.recent_audit(50).await.unwrap();
    for action in [
        "stage_opened",
        "screening_failed",
        "screening_passed",
        "stage_closed",
        "stage_advanced",
        "stage_published",
        "stage_reverted",
    ] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }

    // Units and applicants neither see nor move a stage.
    let mut unit = app.signed_in("cj-rec").await;
    assert_eq!(unit.get(&stage).await.status, StatusCode::FORBIDDEN);
    let unit_csrf = unit.csrf("/account").await;
    let r = unit
        .post_form(&moves, &[("csrf", &unit_csrf), ("action", "close")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut applicant = app.signed_in("zhang@x.cn").await;
    assert_eq!(applicant.get(&stage).await.status, StatusCode::FORBIDDEN);
    // An unknown stage is not found.
    assert_eq!(
        office
            .get(&format!("/campaigns/{CID}/stages/nope"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// 网上评选 after a 形式审查 both candidates passed: the pool imported, the stage opened,
/// experts assigned automatically two per candidate, the expert of the candidates' own
/// institute kept away, the seed shown and audited; a second run is refused.
async fn a_review_stage_assigns_experts_around_conflicts(db: TestDb) {
    use pingxuan_app::Access;
    use pingxuan_rules::selection::stage::Move;
    let app = start(db, CaptchaPolicy::Off).await;
    seed_with_screening(&app).await;
    let (zhang, li) = two_at_desk(&app).await;
    let office_id = app
        .account("xj-office", Role::Organizer, Some(CID), None)
        .await;
    let office_access = Access::load(&app.store, office_id).await.unwrap().unwrap();
    let act = |key: &'static str, mv: Move| {
        let (store, access) = (app.store.clone(), office_access.clone());
        async move {
            pingxuan_app::stages::act(&store, &access, CID, key, mv, None)
                .await
                .unwrap()
        }
    };
    act(
        "screening",
        Move::Open {
            candidates: vec![zhang, li],
        },
    )
    .await;
    for id in [zhang, li] {
        pingxuan_app::stages::screen(
            &app.store,
            &office_access,
            CID,
            "screening",
            id,
            true,
            "",
            None,
        )
        .await
        .unwrap();
    }
    act("screening", Move::Close).await;
    act(
        "screening",
        Move::Advance {
            advanced: vec![zhang, li],
        },
    )
    .await;
    let table: pingxuan_app::tables::Table = [
        "姓名,工作单位,学科/专业领域,电子邮箱,手机",
        "王专家,新疆大学,作物学,wang@example.com,",
        "李专家,新疆农业科学院,作物学,li-expert@example.com,",
        "赵专家,石河子大学,农学,zhao@example.com,",
    ]
    .iter()
    .map(|r| r.split(',').map(str::to_owned).collect())
    .collect();
    assert!(matches!(
        pingxuan_app::experts::import(&app.store, &office_access, CID, &table, None)
            .await
            .unwrap(),
        pingxuan_app::experts::Imported::Created(_)
    ));

    let mut office = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/online_review");
    let page = office.get(&stage).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("每位候选人由 2 位专家评审；专家库现有 3 位专家"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("本阶段开始后分配评审专家"),
        "{}",
        page.body
    );
    let csrf = office.csrf(&stage).await;
    let assign = format!("{stage}/assignments");
    // Not before the stage opens.
    let r = office.post_form(&assign, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let ids = format!("{zhang},{li}");
    let r = office
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &csrf), ("action", "open"), ("ids", &ids)],
        )
        .await;
    assert!(r.body.contains("本阶段已开始"), "{}", r.body);
    let r = office.post_follow(&assign, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("评审专家已分配"), "{}", r.body);
    assert!(r.body.contains("王专家 2 人"), "{}", r.body);
    assert!(r.body.contains("赵专家 2 人"), "{}", r.body);
    assert!(
        !r.body.contains("李专家 "),
        "the candidates' own institute: {}",
        r.body
    );
    assert!(r.body.contains("随机种子 "), "{}", r.body);
    let rows = app.store.assignments(CID, "online_review").await.unwrap();
    assert_eq!(rows.len(), 4);
    let li_expert = app
        .store
        .find_user("li-expert@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(rows.iter().all(|a| a.expert_id != li_expert.id));
    assert!(
        rows.iter()
            .all(|a| a.seed == rows[0].seed && !a.seed.is_empty())
    );
    let audit = app.store.recent_audit(20).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "stage_assigned").unwrap();
    assert!(
        entry.detail.contains("避开利益冲突 2 对"),
        "{}",
        entry.detail
    );
    assert!(
        entry.detail.contains(&format!("随机种子 {}", rows[0].seed)),
        "{}",
        entry.detail
    );
    // Once is enough: a second run changes nothing.
    let r = office.post_form(&assign, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("已分配评审专家"), "{}", r.body);
    assert_eq!(
        app.store
            .assignments(CID, "online_review")
            .await
            .unwrap()
            .len(),
        4
    );
    // 王专家 declares a relation with 李四: nobody else may take it (李专家 is at the
    // institute, 赵专家 is on it already), so the expert is told, and the stage page
    // names the shortfall.
    let wang = app
        .store
        .find_user("wang@example.com")
        .await
        .unwrap()
        .unwrap();
    let wang = pingxuan_app::Access::load(&app.store, wang.id)
        .await
        .unwrap()
        .unwrap();
    let declared = pingxuan_app::reviews::declare(
        &app.store,
        &wang,
        CID,
        "online_review",
        li,
        "同一课题组",
        None,
    )
    .await
    .unwrap();
    assert!(
        matches!(declared, pingxuan_app::reviews::Declared::Alone(_)),
        "{declared:?}"
    );
    assert!(declared.words().contains("暂无其他专家可评审该候选人"));
    let page = office.get(&stage).await;
    assert!(
        page.body.contains("李四只有 1 位评审专家（应为 2 位）"),
        "{}",
        page.body
    );

    // Not for a unit.
    let mut unit = app.signed_in("cj-rec").await;
    let unit_csrf = unit.csrf("/account").await;
    assert_eq!(
        unit.post_form(&assign, &[("csrf", &unit_csrf)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// 网上评选 made ready through the use cases: 形式审查 passed by both candidates, a pool
/// of four (李专家 at the candidates' own institute), the stage opened and assigned.
/// Returns the office's access, the two candidates and each expert's (login, password).
pub(crate) async fn review_ready(app: &TestApp) -> Ready {
    review_ready_with(app, &screening_text()).await
}

/// The office's access, the two candidates, each expert's (name, login, password).
pub(crate) type Ready = (
    pingxuan_app::Access,
    i64,
    i64,
    Vec<(String, String, String)>,
);

async fn review_ready_with(app: &TestApp, text: &str) -> Ready {
    use pingxuan_app::Access;
    use pingxuan_rules::selection::stage::Move;
    seed_text(app, text).await;
    let (zhang, li) = two_at_desk(app).await;
    let office_id = app
        .account("xj-office", Role::Organizer, Some(CID), None)
        .await;
    let office = Access::load(&app.store, office_id).await.unwrap().unwrap();
    let act = |key: &'static str, mv: Move| {
        let (store, access) = (app.store.clone(), office.clone());
        async move {
            pingxuan_app::stages::act(&store, &access, CID, key, mv, None)
                .await
                .unwrap()
        }
    };
    act(
        "screening",
        Move::Open {
            candidates: vec![zhang, li],
        },
    )
    .await;
    for id in [zhang, li] {
        pingxuan_app::stages::screen(&app.store, &office, CID, "screening", id, true, "", None)
            .await
            .unwrap();
    }
    act("screening", Move::Close).await;
    act(
        "screening",
        Move::Advance {
            advanced: vec![zhang, li],
        },
    )
    .await;
    let table: pingxuan_app::tables::Table = [
        "姓名,工作单位,学科/专业领域,电子邮箱,手机",
        "王专家,新疆大学,作物学,wang@example.com,",
        "李专家,新疆农业科学院,作物学,li-expert@example.com,",
        "赵专家,石河子大学,农学,zhao@example.com,",
        "钱专家,新疆师范大学,生物学,qian@example.com,",
    ]
    .iter()
    .map(|r| r.split(',').map(str::to_owned).collect())
    .collect();
    let pingxuan_app::experts::Imported::Created(created) =
        pingxuan_app::experts::import(&app.store, &office, CID, &table, None)
            .await
            .unwrap()
    else {
        panic!("the pool")
    };
    act(
        "online_review",
        Move::Open {
            candidates: vec![zhang, li],
        },
    )
    .await;
    pingxuan_app::stages::assign(&app.store, &office, CID, "online_review", None)
        .await
        .unwrap();
    let logins = created
        .into_iter()
        .map(|e| (e.name, e.login, e.password))
        .collect();
    (office, zhang, li, logins)
}

/// The expert's way: every 回避声明 before any sheet; a declared relation hands the
/// candidate to the expert not yet on it; a sheet refused for points over full marks
/// keeps what was typed, saved as a draft, submitted and locked; others' scores stay
/// hidden until the office closes the stage, which ranks by the aggregate and advances.
async fn experts_declare_score_and_the_stage_ranks(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, li, logins) = review_ready(&app).await;
    let rows = app.store.assignments(CID, "online_review").await.unwrap();
    assert_eq!(rows.len(), 4);
    // The expert on both candidates declares a relation with 李四.
    let on = |name: &str| rows.iter().filter(|a| a.expert_name == name).count();
    let (x_name, x_login, x_password) =
        logins.iter().find(|(n, _, _)| on(n) == 2).cloned().unwrap();
    let mut x = app.client();
    assert_eq!(
        x.login(&x_login, &x_password, None).await.status,
        StatusCode::SEE_OTHER
    );
    let tasks = x.get("/reviews").await;
    assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
    assert!(
        tasks
            .body
            .contains("开始评审前，请对下列每一位候选人填写回避声明"),
        "{}",
        tasks.body
    );
    assert!(
        tasks.body.contains("张三") && tasks.body.contains("李四"),
        "{}",
        tasks.body
    );
    let sheet = |id: i64| format!("/reviews/{CID}/online_review/{id}");
    let r = x.get(&sheet(zhang)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("请先对分配给您的每一位候选人填写回避声明"),
        "{}",
        r.body
    );

    let csrf = x.csrf("/reviews").await;
    let declare = |id: i64| format!("{}/declaration", sheet(id));
    let r = x
        .post_form(&declare(li), &[("csrf", &csrf), ("declaration", " ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("请填写回避声明"), "{}", r.body);
    let r = x
        .post_follow(&declare(li), &[("csrf", &csrf), ("declaration", "导师")])
        .await;
    assert!(r.body.contains("已声明回避"), "{}", r.body);
    assert!(
        !r.body.contains("李四"),
        "no longer this expert's: {}",
        r.body
    );
    let now = app.store.assignments(CID, "online_review").await.unwrap();
    let on_li: Vec<&str> = now
        .iter()
        .filter(|a| a.application_id == li)
        .map(|a| a.expert_name.as_str())
        .collect();
    assert_eq!(on_li.len(), 2, "{now:?}");
    assert!(
        !on_li.contains(&x_name.as_str()) && !on_li.contains(&"李专家"),
        "{on_li:?}"
    );
    let r = x
        .post_follow(&declare(zhang), &[("csrf", &csrf), ("declaration", "无")])
        .await;
    assert!(r.body.contains("已声明无利益关系"), "{}", r.body);

    // The sheet: over full marks refused with what was typed kept; a draft; 提交 locks.
    let page = x.get(&sheet(zhang)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("工作实绩（满分 40）"), "{}", page.body);
    assert!(
        page.body.contains("新疆农业科学院作物研究所所长"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("11010519491231002X"),
        "no 身份证号 for experts"
    );
    let post = format!("{}/sheet", sheet(zhang));
    let r = x
        .post_form(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "0"),
                ("p0", "30"),
                ("p1", "20"),
                ("p2", "45"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("工作实绩满分 40，填写了 45"), "{}", r.body);
    assert!(
        r.body.contains("value=\"45\""),
        "what was typed stays: {}",
        r.body
    );
    let r = x
        .post_follow(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "0"),
                ("p0", "30"),
                ("p1", ""),
                ("p2", "38"),
                ("comment", "事迹突出"),
                ("action", "save"),
            ],
        )
        .await;
    assert!(r.body.contains("评分表已保存为草稿"), "{}", r.body);
    assert!(r.body.contains("value=\"38\""), "{}", r.body);
    let r = x
        .post_form(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("p0", "30"),
                ("p1", ""),
                ("p2", "38"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("未填写“精神风貌”（满分 30）"), "{}", r.body);
    let r = x
        .post_follow(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "1"),
                ("p0", "30"),
                ("p1", "28"),
                ("p2", "38"),
                ("comment", "事迹突出"),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(r.body.contains("评分表已提交"), "{}", r.body);
    assert!(r.body.contains("disabled"), "{}", r.body);
    let r = x
        .post_form(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "2"),
                ("p0", "1"),
                ("p1", "1"),
                ("p2", "1"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("评分表已提交，不能修改"), "{}", r.body);

    // The office sends the submitted sheet back with a reason; the expert corrects it.
    let mut office_page = app.signed_in("xj-office").await;
    let stage_path = format!("/campaigns/{CID}/stages/online_review");
    let page = office_page.get(&stage_path).await;
    assert!(
        page.body.contains(&format!("{x_name}（已提交）")),
        "{}",
        page.body
    );
    let ocsrf = office_page.csrf(&stage_path).await;
    let pair = format!(
        "{}.{zhang}",
        app.store.find_user(&x_login).await.unwrap().unwrap().id
    );
    let reopen = format!("{stage_path}/reopen");
    let r = office_page
        .post_form(
            &reopen,
            &[("csrf", &ocsrf), ("sheet", &pair), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("退回评分表须写明理由"), "{}", r.body);
    let r = office_page
        .post_follow(
            &reopen,
            &[
                ("csrf", &ocsrf),
                ("sheet", &pair),
                ("reason", "精神风貌分数误填"),
            ],
        )
        .await;
    assert!(r.body.contains("评分表已退回"), "{}", r.body);
    let r = x
        .post_follow(
            &post,
            &[
                ("csrf", &csrf),
                ("version", "3"),
                ("p0", "30"),
                ("p1", "26"),
                ("p2", "38"),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(r.body.contains("评分表已提交"), "{}", r.body);

    // Not closed while sheets are owed; no scores shown while open.
    let mut desk = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/online_review");
    let page = desk.get(&stage).await;
    assert!(!page.body.contains("评审结果"), "{}", page.body);
    let ocsrf = desk.csrf(&stage).await;
    let r = desk
        .post_form(
            &format!("{stage}/moves"),
            &[("csrf", &ocsrf), ("action", "close")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("份评分表未提交"), "{}", r.body);

    // The others declare and score through the use cases.
    let now = app.store.assignments(CID, "online_review").await.unwrap();
    for a in now.iter().filter(|a| a.expert_name != x_name) {
        let points = if a.application_id == zhang {
            ["25", "25", "30"]
        } else {
            ["20", "20", "20"]
        };
        let saved = declare_none_and_submit(&app, a, points).await;
        assert!(matches!(
            saved,
            pingxuan_app::reviews::Saved::Done { submitted: true }
        ));
    }
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &ocsrf), ("action", "close")],
        )
        .await;
    assert!(r.body.contains("本阶段已结束"), "{}", r.body);
    // 张三: (94 + 80) / 2 = 87.00; 李四: 60.00 from both.
    assert!(r.body.contains("第 1 名 · 87.00 分"), "{}", r.body);
    assert!(r.body.contains("第 2 名 · 60.00 分"), "{}", r.body);
    assert!(r.body.contains("确认晋级名单（2 人）"), "{}", r.body);
    let ids = format!("{zhang},{li}");
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &ocsrf), ("action", "advance"), ("ids", &ids)],
        )
        .await;
    assert!(r.body.contains("晋级名单已确定"), "{}", r.body);
    assert!(r.body.contains("下载评选结果（Excel"), "{}", r.body);
    // The results for the file: the ranking, then every counted sheet.
    let d = pingxuan_app::stages::results(&app.store, &office, CID, "online_review", None)
        .await
        .unwrap();
    assert_eq!(d.name, "网上评选评选结果.xlsx");
    let cells = pingxuan_export::testing::xlsx_cells(d.bytes.clone(), "评选结果");
    assert_eq!(cells[3][..3], ["1", "ZMKJ20231", "张三"]);
    assert_eq!(cells[3][5], "87.00");
    assert_eq!(cells[3][6], "晋级");
    let detail = pingxuan_export::testing::xlsx_cells(d.bytes, "评分明细");
    assert_eq!(detail.len(), 1 + 4, "four counted sheets: {detail:?}");
    assert!(
        detail
            .iter()
            .any(|r| r[0] == "张三" && r[1] == x_name && r[5] == "94"),
        "{detail:?}"
    );
    let audit = app.store.recent_audit(60).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "export_downloaded"));
    for action in [
        "conflict_declared",
        "conflict_declared_none",
        "sheet_saved",
        "sheet_submitted",
        "sheet_reopened",
    ] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }
}

/// The expert of assignment `a` declares “无” for each of their candidates not yet
/// declared, then submits `points` for `a`'s candidate.
async fn declare_none_and_submit(
    app: &TestApp,
    a: &pingxuan_store::stages::Assignment,
    points: [&str; 3],
) -> pingxuan_app::reviews::Saved {
    let access = pingxuan_app::Access::load(&app.store, a.expert_id)
        .await
        .unwrap()
        .unwrap();
    let task = pingxuan_app::reviews::task(&app.store, &access, CID, "online_review")
        .await
        .unwrap();
    for item in task.items.iter().filter(|i| i.declared.is_none()) {
        pingxuan_app::reviews::declare(
            &app.store,
            &access,
            CID,
            "online_review",
            item.application_id,
            "无",
            None,
        )
        .await
        .unwrap();
    }
    let points: Vec<String> = points.iter().map(|p| (*p).to_owned()).collect();
    pingxuan_app::reviews::save(
        &app.store,
        &access,
        CID,
        "online_review",
        a.application_id,
        &points,
        "",
        0,
        true,
        None,
    )
    .await
    .unwrap()
}

/// 网上评选 finished (every expert declares “无” and submits 20/20/30), both advance, and
/// 集中评选 opens.
pub(crate) async fn panel_open(app: &TestApp, office: &pingxuan_app::Access, zhang: i64, li: i64) {
    use pingxuan_rules::selection::stage::Move;
    for a in app.store.assignments(CID, "online_review").await.unwrap() {
        declare_none_and_submit(app, &a, ["20", "20", "30"]).await;
    }
    for mv in [
        Move::Close,
        Move::Advance {
            advanced: vec![zhang, li],
        },
    ] {
        pingxuan_app::stages::act(&app.store, office, CID, "online_review", mv, None)
            .await
            .unwrap();
    }
    pingxuan_app::stages::act(
        &app.store,
        office,
        CID,
        "panel",
        Move::Open {
            candidates: vec![zhang, li],
        },
        None,
    )
    .await
    .unwrap();
}

/// 新疆 with 集中评选 by show of hands and one place, so the count of 同意 decides.
fn approval_text() -> String {
    screening_text()
        .replace(
            "kind = \"panel\"\nmax_points",
            "kind = \"panel\"\nballot = \"approval\"\nmax_points",
        )
        .replace("advance = 20\n", "advance = 1\n")
        .replace("winners = 20\n", "winners = 1\n")
}

/// 集中评选 by show of hands (`ballot = "approval"`): each member's 同意/不同意 keyed per
/// candidate (a blank named, what was chosen kept), ranked by 同意 count with both
/// counts in the reason, the cut applied; the results export as a table.
async fn a_panel_votes_by_show_of_hands(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, li, _) = review_ready_with(&app, &approval_text()).await;
    panel_open(&app, &office, zhang, li).await;
    let pool = app.store.experts(CID).await.unwrap();
    let (wang, zhao) = (pool[0].user_id.to_string(), pool[2].user_id.to_string());

    let mut desk = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/panel");
    let page = desk.get(&stage).await;
    assert!(page.body.contains("录入表决票"), "{}", page.body);
    assert!(
        page.body.contains("尚未录入评审小组的表决票"),
        "{}",
        page.body
    );
    let csrf = desk.csrf(&stage).await;
    let paper = format!("{stage}/paper");
    let (z, l) = (format!("p.{zhang}.0"), format!("p.{li}.0"));
    let r = desk
        .post_form(
            &paper,
            &[("csrf", &csrf), ("expert", &wang), (&z, "同意"), (&l, "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("李四：未选择同意或不同意"), "{}", r.body);
    assert!(
        r.body
            .contains("<option value=\"同意\" selected>同意</option>"),
        "what was chosen stays: {}",
        r.body
    );
    // 张三 2:0, 李四 1:1: the count decides.
    for (member, on_zhang, on_li) in [(&wang, "同意", "不同意"), (&zhao, "同意", "同意")] {
        let r = desk
            .post_follow(
                &paper,
                &[
                    ("csrf", &csrf),
                    ("expert", member),
                    (&z, on_zhang),
                    (&l, on_li),
                ],
            )
            .await;
        assert!(r.body.contains("已录入这位专家的表决票"), "{}", r.body);
    }
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &csrf), ("action", "close")],
        )
        .await;
    assert!(r.body.contains("第 1 名 · 同意 2 票"), "{}", r.body);
    assert!(
        r.body.contains("同意 2 票，不同意 0 票；第 1 名，晋级"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("同意 1 票，不同意 1 票；第 2 名，未晋级（限 1 名）"),
        "{}",
        r.body
    );
    assert!(r.body.contains("确认晋级名单（1 人）"), "{}", r.body);
    let office_token = app.token(office.user.id).await;
    let xlsx = app
        .fetch(
            &office_token,
            &format!("/api/v1/campaigns/{CID}/stages/panel/results.xlsx"),
        )
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let cells =
        pingxuan_export::testing::xlsx_cells(xlsx.bytes().await.unwrap().to_vec(), "评选结果");
    assert!(cells[2].contains(&"同意票数".to_owned()), "{cells:?}");
    let detail = pingxuan_export::testing::xlsx_cells(
        app.fetch(
            &office_token,
            &format!("/api/v1/campaigns/{CID}/stages/panel/results.xlsx"),
        )
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec(),
        "评分明细",
    );
    assert!(
        detail
            .iter()
            .any(|r| r.contains(&"李四".to_owned()) && r.contains(&"不同意".to_owned())),
        "{detail:?}"
    );
    let audit = app.store.recent_audit(10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "sheets_keyed" && e.detail.contains("李四 不同意")),
        "the ballots are in the audit trail"
    );
}

/// A show of hands tied across the cut (2:0 each, one place) goes to the office, whose
/// order with its reason the ranking then follows.
async fn a_show_of_hands_tied_across_the_cut(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, li, _) = review_ready_with(&app, &approval_text()).await;
    panel_open(&app, &office, zhang, li).await;
    let pool = app.store.experts(CID).await.unwrap();
    let mut desk = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/panel");
    let csrf = desk.csrf(&stage).await;
    let (z, l) = (format!("p.{zhang}.0"), format!("p.{li}.0"));
    for member in [pool[0].user_id, pool[2].user_id] {
        let m = member.to_string();
        let r = desk
            .post_follow(
                &format!("{stage}/paper"),
                &[("csrf", &csrf), ("expert", &m), (&z, "同意"), (&l, "同意")],
            )
            .await;
        assert!(r.body.contains("已录入这位专家的表决票"), "{}", r.body);
    }
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &csrf), ("action", "close")],
        )
        .await;
    assert!(r.body.contains("请排定先后"), "{}", r.body);
    let r = desk
        .post_follow(
            &format!("{stage}/tie"),
            &[
                ("csrf", &csrf),
                (&format!("o.{li}"), "1"),
                (&format!("o.{zhang}"), "2"),
                ("reason", "评审小组复议，李四事迹更突出"),
            ],
        )
        .await;
    assert!(r.body.contains("确认晋级名单（1 人）"), "{}", r.body);
    assert!(
        r.body.contains("同意 2 票，不同意 0 票；第 1 名，晋级"),
        "{}",
        r.body
    );
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[
                ("csrf", &csrf),
                ("action", "advance"),
                ("ids", &li.to_string()),
            ],
        )
        .await;
    assert!(r.body.contains("晋级名单已确定"), "{}", r.body);
}

/// 集中评选 in a room: after 网上评选, the office keys in each panel member's paper sheet
/// for every candidate; a box over full marks names the candidate and keeps what was
/// typed; a member keyed twice is refused; the stage closes once keyed and ranks.
async fn a_panel_keyed_from_paper(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, li, _) = review_ready(&app).await;
    panel_open(&app, &office, zhang, li).await;
    let pool = app.store.experts(CID).await.unwrap();
    let (wang, zhao) = (pool[0].user_id.to_string(), pool[2].user_id.to_string());

    let mut desk = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/panel");
    let page = desk.get(&stage).await;
    assert!(page.body.contains("录入纸质评分表"), "{}", page.body);
    assert!(
        page.body.contains("尚未录入评审小组的纸质评分表"),
        "{}",
        page.body
    );
    let csrf = desk.csrf(&stage).await;
    let paper = format!("{stage}/paper");
    let (z, l) = (zhang.to_string(), li.to_string());
    let box_ = |c: &str, i: usize| format!("p.{c}.{i}");
    let (z0, z1, z2, l0, l1, l2) = (
        box_(&z, 0),
        box_(&z, 1),
        box_(&z, 2),
        box_(&l, 0),
        box_(&l, 1),
        box_(&l, 2),
    );
    let r = desk
        .post_form(
            &paper,
            &[
                ("csrf", &csrf),
                ("expert", &wang),
                (&z0, "30"),
                (&z1, "30"),
                (&z2, "41"),
                (&l0, "20"),
                (&l1, ""),
                (&l2, "20"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("张三：工作实绩满分 40，填写了 41"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("李四：未填写“精神风貌”（满分 30）"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"41\""),
        "what was typed stays: {}",
        r.body
    );
    let wang_sheet = [
        ("csrf", csrf.as_str()),
        ("expert", wang.as_str()),
        (&z0, "30"),
        (&z1, "30"),
        (&z2, "38"),
        (&l0, "20"),
        (&l1, "22"),
        (&l2, "20"),
    ];
    let r = desk.post_follow(&paper, &wang_sheet).await;
    assert!(r.body.contains("已录入这位专家的纸质评分表"), "{}", r.body);
    assert!(r.body.contains("王专家（纸质）2 份"), "{}", r.body);
    // The same member again: refused, nothing doubled.
    let r = desk.post_form(&paper, &wang_sheet).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = desk
        .post_follow(
            &paper,
            &[
                ("csrf", &csrf),
                ("expert", &zhao),
                (&z0, "28"),
                (&z1, "28"),
                (&z2, "36"),
                (&l0, "25"),
                (&l1, "25"),
                (&l2, "35"),
            ],
        )
        .await;
    assert!(r.body.contains("赵专家（纸质）2 份"), "{}", r.body);
    let sheets = app.store.sheets(CID, "panel").await.unwrap();
    assert_eq!(sheets.len(), 4);
    assert!(
        sheets
            .iter()
            .all(|s| s.keyed_by.is_some() && s.submitted_at.is_some())
    );
    let r = desk
        .post_follow(
            &format!("{stage}/moves"),
            &[("csrf", &csrf), ("action", "close")],
        )
        .await;
    assert!(r.body.contains("本阶段已结束"), "{}", r.body);
    // 张三 (98 + 92) / 2 = 95.00; 李四 (62 + 85) / 2 = 73.50.
    assert!(r.body.contains("第 1 名 · 95.00 分"), "{}", r.body);
    assert!(r.body.contains("第 2 名 · 73.50 分"), "{}", r.body);
    let audit = app.store.recent_audit(30).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "sheets_keyed" && e.detail.contains("王专家的纸质评分表 2 份"))
    );
}

/// One winner (the file says so) and two candidates equal on every key after 集中评选:
/// the advance is refused until the office orders them with a reason; the ranking then
/// follows the order and says so.
async fn a_tie_across_the_cut_is_ordered_by_the_office(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let text = screening_text()
        .replace("winners = 20", "winners = 1")
        .replace("kind = \"review\"\nadvance = 25", "kind = \"review\"\nadvance = 2")
        .replace("kind = \"panel\"\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\nadvance = 20", "kind = \"panel\"\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\nadvance = 1")
        // Equal in 网上评选 too, so “上一阶段排名” is read and still leaves them tied.
        .replace(
            "name = \"集中评选\"\nkind = \"panel\"\n",
            "name = \"集中评选\"\nkind = \"panel\"\ntie_keys = [\"工作实绩\", \"上一阶段排名\"]\n",
        );
    let (office, zhang, li, _) = review_ready_with(&app, &text).await;
    panel_open(&app, &office, zhang, li).await;
    let pool = app.store.experts(CID).await.unwrap();
    let mut desk = app.signed_in("xj-office").await;
    let stage = format!("/campaigns/{CID}/stages/panel");
    let csrf = desk.csrf(&stage).await;
    for member in [&pool[0], &pool[2]] {
        let m = member.user_id.to_string();
        let mut form = vec![("csrf".to_owned(), csrf.clone()), ("expert".to_owned(), m)];
        for c in [zhang, li] {
            for (i, p) in ["30", "30", "30"].iter().enumerate() {
                form.push((format!("p.{c}.{i}"), (*p).to_owned()));
            }
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = desk.post_follow(&format!("{stage}/paper"), &pairs).await;
        assert!(r.body.contains("已录入这位专家的纸质评分表"), "{}", r.body);
    }
    let moves = format!("{stage}/moves");
    let r = desk
        .post_follow(&moves, &[("csrf", &csrf), ("action", "close")])
        .await;
    assert!(r.body.contains("下列候选人在晋级线上同分"), "{}", r.body);
    let r = desk
        .post_form(
            &moves,
            &[
                ("csrf", &csrf),
                ("action", "advance"),
                ("ids", &zhang.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("在晋级线上同分，请先确定他们的先后并写明理由"),
        "{}",
        r.body
    );
    let tie = format!("{stage}/tie");
    let (oz, ol) = (format!("o.{zhang}"), format!("o.{li}"));
    let r = desk
        .post_form(
            &tie,
            &[
                ("csrf", &csrf),
                (&oz, "1"),
                (&ol, "1"),
                ("reason", "工作实绩更突出"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("请为同分的 2 名候选人各排一个不同的先后次序"),
        "{}",
        r.body
    );
    let r = desk
        .post_form(&tie, &[("csrf", &csrf), (&oz, "2"), (&ol, "1")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("排定同分先后须写明理由"), "{}", r.body);
    let r = desk
        .post_follow(
            &tie,
            &[
                ("csrf", &csrf),
                (&oz, "2"),
                (&ol, "1"),
                ("reason", "李四基层一线事迹更突出"),
            ],
        )
        .await;
    assert!(r.body.contains("同分先后已排定"), "{}", r.body);
    assert!(r.body.contains("依次为李四、张三"), "{}", r.body);
    assert!(r.body.contains("按活动办公室的裁定排在前"), "{}", r.body);
    assert!(
        r.body.contains("理由：李四基层一线事迹更突出"),
        "{}",
        r.body
    );
    assert!(r.body.contains("确认晋级名单（1 人）"), "{}", r.body);
    let r = desk
        .post_follow(
            &moves,
            &[
                ("csrf", &csrf),
                ("action", "advance"),
                ("ids", &li.to_string()),
            ],
        )
        .await;
    assert!(r.body.contains("晋级名单已确定"), "{}", r.body);
    // Once confirmed, the ranking still follows the office's order.
    assert!(r.body.contains("按活动办公室的裁定排在前"), "{}", r.body);
    assert!(!r.body.contains("待活动办公室排定先后"), "{}", r.body);
    let audit = app.store.recent_audit(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "stage_tie_broken" && e.detail.contains("李四 > 张三"))
    );
}

/// Two days before 网上评选's deadline each expert who owes sheets is told once (a
/// notice, with mail where they have an address); one who has submitted is not.
async fn experts_owing_sheets_are_reminded_before_the_deadline(db: TestDb) {
    let now = pingxuan_store::now();
    let beijing = time::UtcOffset::from_hms(8, 0, 0).unwrap();
    let due = time::OffsetDateTime::from_unix_timestamp(now + 2 * 86_400)
        .unwrap()
        .to_offset(beijing);
    let deadline = format!(
        "{:04}-{:02}-{:02}T23:59:59+08:00",
        due.year(),
        due.month() as u8,
        due.day()
    );
    let text = screening_text().replace(
        "kind = \"review\"\nadvance = 25",
        &format!("kind = \"review\"\ndeadline = {deadline}\nadvance = 25"),
    );
    let app = start(db, CaptchaPolicy::Off).await;
    let (_, zhang, _, _) = review_ready_with(&app, &text).await;
    let rows = app.store.assignments(CID, "online_review").await.unwrap();
    // One expert declares and submits all of theirs first.
    let done = rows[0].expert_id;
    let access = pingxuan_app::Access::load(&app.store, done)
        .await
        .unwrap()
        .unwrap();
    let mine: Vec<i64> = rows
        .iter()
        .filter(|a| a.expert_id == done)
        .map(|a| a.application_id)
        .collect();
    for id in &mine {
        pingxuan_app::reviews::declare(&app.store, &access, CID, "online_review", *id, "无", None)
            .await
            .unwrap();
    }
    for id in &mine {
        let points = vec!["20".to_owned(), "20".to_owned(), "30".to_owned()];
        pingxuan_app::reviews::save(
            &app.store,
            &access,
            CID,
            "online_review",
            *id,
            &points,
            "",
            0,
            true,
            None,
        )
        .await
        .unwrap();
    }
    let owing: std::collections::BTreeSet<i64> = rows
        .iter()
        .map(|a| a.expert_id)
        .filter(|e| *e != done)
        .collect();
    let sent = pingxuan_app::notify::remind_due(&app.store, now)
        .await
        .unwrap();
    assert_eq!(sent, owing.len());
    for e in &owing {
        let notices = app.store.notices_of(*e, 10).await.unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(
            notices[0].text.contains("评分表未提交，评审截止时间为"),
            "{}",
            notices[0].text
        );
        assert!(notices[0].text.contains("剩余 2 天"), "{}", notices[0].text);
    }
    assert!(app.store.notices_of(done, 10).await.unwrap().is_empty());
    // Once only.
    assert_eq!(
        pingxuan_app::notify::remind_due(&app.store, now)
            .await
            .unwrap(),
        0
    );
    let _ = zhang;
}
