//! The selection rounds through the JSON API only, as a script would run them: 形式审查
//! (a fail needs its reason), 网上评选 with assignment, 回避声明 and sheets (every problem
//! listed, scores hidden while open), results once closed, 集中评选 keyed from paper; who
//! may call what.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, start};
use crate::materials::upload_from;
use crate::stages::{review_ready, screening_text, seed_with_screening, two_at_desk};

on_both_databases!(
    the_rounds_through_the_api,
    the_office_changes_assignments_by_hand,
    the_campaigns_own_short_names_raise_conflicts,
    an_expert_who_is_the_candidate_is_kept_away,
    department_opinions_come_with_their_sender
);

const CID: &str = "xinjiang-2023";

fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

async fn stage(app: &TestApp, token: &str, key: &str) -> Value {
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/stages/{key}"),
            token,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    j
}

async fn mv(app: &TestApp, token: &str, key: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("/api/v1/campaigns/{CID}/stages/{key}/moves"),
        token,
        body,
    )
    .await
}

async fn the_rounds_through_the_api(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    seed_with_screening(&app).await;
    let (zhang, li) = two_at_desk(&app).await;
    let office_id = app
        .account("xj-office", Role::Organizer, Some(CID), None)
        .await;
    let office = app.token(office_id).await;
    let unit = app.store.list_units(CID).await.unwrap()[0].id;
    let rec_id = app
        .unit_account("api-rec", Role::Recommender, CID, unit)
        .await;
    let rec = app.token(rec_id).await;

    // The list, and a unit is not the office.
    let (s, list) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/stages"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["screening", "online_review", "panel"]);
    assert_eq!(list[0]["phase"], "pending");
    assert_eq!(list[0]["kind"], "screening");
    let (s, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/stages/screening"),
            &rec,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, j) = mv(&app, &rec, "screening", json!({"action": "close"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{j}");

    // 形式审查: opened with exactly the list shown; the checklist comes prefilled.
    let pending = stage(&app, &office, "screening").await;
    let mut opens = ids(&pending["opens_with"]);
    opens.sort_unstable();
    assert_eq!(opens, [zhang, li]);
    assert!(
        pending["candidates"][0]["checks"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{pending}"
    );
    let (s, j) = mv(
        &app,
        &office,
        "screening",
        json!({"action": "open", "candidates": [zhang]}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a list other than the one shown: {j}"
    );
    let (s, j) = mv(
        &app,
        &office,
        "screening",
        json!({"action": "open", "candidates": [zhang, li]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["phase"], "open");
    assert_eq!(j["events"][0]["kind"], "opened");
    // The stage holds them: the office may not send one back down the chain.
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/applications/{li}/return"),
            &office,
            json!({"comment": "请补充材料", "to": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已进入评选阶段“形式审查”，不能退回"),
        "{j}"
    );
    let (s, j) = mv(&app, &office, "screening", json!({"action": "sideways"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "action");
    let screen = |app_id: i64, body: Value| {
        let office = office.clone();
        let app = &app;
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/stages/screening/screenings/{app_id}"),
                &office,
                body,
            )
            .await
        }
    };
    let (s, j) = screen(li, json!({"passed": false})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a fail without a reason: {j}"
    );
    assert!(
        j["error"]["message"].as_str().unwrap().contains("理由"),
        "{j}"
    );
    for id in [zhang, li] {
        let (s, j) = screen(id, json!({"passed": true})).await;
        assert_eq!(s, StatusCode::OK, "{j}");
    }
    let (s, j) = mv(&app, &office, "screening", json!({"action": "close"})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let outcome = ids(&j["outcome"]);
    let (s, j) = mv(
        &app,
        &office,
        "screening",
        json!({"action": "advance", "candidates": outcome}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["phase"], "advanced");
    assert_eq!(j["advanced_count"], 2);
    assert_eq!(j["published"], false);
    let (s, j) = mv(&app, &office, "screening", json!({"action": "publish"})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["published"], true);
    assert_eq!(
        j["events"].as_array().unwrap().last().unwrap()["kind"],
        "published"
    );
    // The outcome reads on the application itself.
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/applications/{zhang}"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["outcomes"][0]["stage"], "形式审查", "{j}");
    assert_eq!(j["outcomes"][0]["text"], "通过，进入“网上评选”", "{j}");

    // The pool, then 网上评选: assigned with a recorded seed.
    let table: pingxuan_app::tables::Table = [
        "姓名,工作单位,学科/专业领域,电子邮箱,手机",
        "王专家,新疆大学,作物学,wang@example.com,",
        "赵专家,石河子大学,农学,zhao@example.com,",
        "钱专家,新疆师范大学,生物学,qian@example.com,",
    ]
    .iter()
    .map(|r| r.split(',').map(str::to_owned).collect())
    .collect();
    let office_access = pingxuan_app::Access::load(&app.store, office_id)
        .await
        .unwrap()
        .unwrap();
    let pingxuan_app::experts::Imported::Created(created) =
        pingxuan_app::experts::import(&app.store, &office_access, CID, &table, None)
            .await
            .unwrap()
    else {
        panic!("the pool")
    };
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/online_review/assignments"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "not open yet: {j}");
    let (s, j) = mv(
        &app,
        &office,
        "online_review",
        json!({"action": "open", "candidates": [zhang, li]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/stages/online_review/assignments"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["pairs"], 4, "{j}");
    assert_eq!(j["seed"].as_str().unwrap().len(), 16, "{j}");
    let review = stage(&app, &office, "online_review").await;
    assert_eq!(review["seed"], j["seed"]);
    assert_eq!(review["assignments"].as_array().unwrap().len(), 4);

    // Each expert through 我的评审: declarations first, a sheet refused with every
    // problem, then submitted. One expert's sheet stays with a candidate not theirs.
    let mut experts = Vec::new();
    for e in &created {
        let user = app.store.find_user(&e.login).await.unwrap().unwrap();
        experts.push((user.id, app.token(user.id).await));
    }
    let mut first = true;
    for (expert_id, token) in &experts {
        let (s, tasks) = app
            .call(Method::GET, "/api/v1/reviews", token, Value::Null)
            .await;
        assert_eq!(s, StatusCode::OK, "{tasks}");
        let Some(task) = tasks.as_array().unwrap().first() else {
            continue;
        };
        assert_eq!(task["stage_key"], "online_review");
        let mine: Vec<i64> = task["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["application_id"].as_i64().unwrap())
            .collect();
        let sheet = format!(
            "/api/v1/campaigns/{CID}/stages/online_review/sheets/{}",
            mine[0]
        );
        let (s, j) = app.call(Method::GET, &sheet, token, Value::Null).await;
        assert_eq!(s, StatusCode::CONFLICT, "before the 回避声明: {j}");
        assert_eq!(j["error"]["code"], "declaration_required");
        for id in &mine {
            let (s, j) = app
                .call(
                    Method::POST,
                    &format!("/api/v1/campaigns/{CID}/stages/online_review/declarations/{id}"),
                    token,
                    json!({"declaration": "无"}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{j}");
            assert_eq!(j["outcome"], "none");
        }
        for id in &mine {
            let sheet = format!("/api/v1/campaigns/{CID}/stages/online_review/sheets/{id}");
            let (s, j) = app.call(Method::GET, &sheet, token, Value::Null).await;
            assert_eq!(s, StatusCode::OK, "{j}");
            assert_eq!(j["criteria"][2]["name"], "工作实绩");
            assert_eq!(j["criteria"][2]["max_points"], 40);
            assert!(
                !j["facts"].to_string().contains("身份证"),
                "identity stays out: {j}"
            );
            if first {
                let (s, j) = app
                    .call(
                        Method::PUT,
                        &sheet,
                        token,
                        json!({"points": [31, null, 45], "version": 0, "submit": true}),
                    )
                    .await;
                assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
                let problems: Vec<&str> = j["problems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["message"].as_str().unwrap())
                    .collect();
                assert_eq!(problems.len(), 3, "{j}");
                assert!(
                    problems
                        .iter()
                        .any(|p| p.contains("满分 40") && p.contains("45")),
                    "{j}"
                );
                assert_eq!(j["error"]["field"], "points[0]");
                let (s, j) = app
                    .call(
                        Method::PUT,
                        &sheet,
                        token,
                        json!({"points": [20, null, null], "version": 0}),
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "a draft: {j}");
                assert!(j["sheet"]["submitted_at"].is_null());
                first = false;
            }
            let (_, now) = app.call(Method::GET, &sheet, token, Value::Null).await;
            let version = now["sheet"]["version"].as_i64().unwrap_or(0);
            let total = if *id == zhang { 30 } else { 20 };
            let (s, j) = app
                .call(
                    Method::PUT,
                    &sheet,
                    token,
                    json!({"points": [20, 20, total], "comment": "事迹突出", "version": version, "submit": true}),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{j}");
            assert!(j["sheet"]["submitted_at"].is_i64(), "{j}");
            let (s, j) = app
                .call(
                    Method::PUT,
                    &sheet,
                    token,
                    json!({"points": [30, 30, 40], "version": j["sheet"]["version"], "submit": true}),
                )
                .await;
            assert_eq!(s, StatusCode::CONFLICT, "locked: {j}");
        }
        // Another expert's candidate is not theirs to see.
        let others = review["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["expert_id"].as_i64() != Some(*expert_id))
            .map(|a| a["application_id"].as_i64().unwrap())
            .find(|a| !mine.contains(a));
        if let Some(other) = others {
            let (s, _) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/campaigns/{CID}/stages/online_review/sheets/{other}"),
                    token,
                    Value::Null,
                )
                .await;
            assert_eq!(s, StatusCode::NOT_FOUND);
        }
    }
    // Hidden while open, shown once closed.
    let open = stage(&app, &office, "online_review").await;
    assert!(
        open["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["result"].is_null()),
        "{open}"
    );
    let (s, j) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/stages/online_review/results.xlsx"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{j}");
    let (s, closed) = mv(&app, &office, "online_review", json!({"action": "close"})).await;
    assert_eq!(s, StatusCode::OK, "{closed}");
    let first_place = closed["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["result"]["rank"] == 1)
        .unwrap();
    assert_eq!(first_place["id"], zhang, "{closed}");
    assert_eq!(first_place["result"]["total"], "70.00");
    let r = app
        .fetch(
            &office,
            &format!("/api/v1/campaigns/{CID}/stages/online_review/results.xlsx"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let outcome = ids(&closed["outcome"]);
    let (s, j) = mv(
        &app,
        &office,
        "online_review",
        json!({"action": "advance", "candidates": outcome}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    // A reversal needs its reason, then undoes; advanced again.
    let (s, j) = mv(&app, &office, "online_review", json!({"action": "revert"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "reason");
    let (s, j) = mv(
        &app,
        &office,
        "online_review",
        json!({"action": "revert", "reason": "核对评分表后重新确定"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["phase"], "closed");
    assert_eq!(
        j["events"].as_array().unwrap().last().unwrap()["reason"],
        "核对评分表后重新确定"
    );
    let (s, j) = mv(
        &app,
        &office,
        "online_review",
        json!({"action": "advance", "candidates": ids(&j["outcome"])}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");

    // 集中评选 keyed from paper: every problem named, then written.
    let (s, j) = mv(
        &app,
        &office,
        "panel",
        json!({"action": "open", "candidates": [zhang, li]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let member = experts[0].0;
    let paper = format!("/api/v1/campaigns/{CID}/stages/panel/paper");
    let (s, j) = app
        .call(
            Method::POST,
            &paper,
            &office,
            json!({"expert_id": member, "rows": [
                {"application_id": zhang, "points": [20, 20, 41]},
                {"application_id": li, "points": [20, 20, 30]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(j["problems"][0].as_str().unwrap().contains("张三"), "{j}");
    let (s, j) = app
        .call(
            Method::POST,
            &paper,
            &office,
            json!({"expert_id": member, "rows": [
                {"application_id": zhang, "points": [20, 20, 40]},
                {"application_id": li, "points": [20, 20, 30]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert_eq!(j["sheets"], 2);
    let panel = stage(&app, &office, "panel").await;
    assert_eq!(panel["keyed"][0]["sheets"], 2, "{panel}");
    // An expert is not the office.
    let (s, _) = app
        .call(
            Method::POST,
            &paper,
            &experts[1].1,
            json!({"expert_id": member, "rows": []}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// 手动调整: a conflicted expert is refused with the reason, a removal needs its reason
/// and leaves the candidate short (said so), an eligible expert tops it up; the expert
/// taken off no longer sees the candidate; both changes are in the audit trail.
async fn the_office_changes_assignments_by_hand(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, _li, _) = review_ready(&app).await;
    let token = app.token(office.user.id).await;
    let change = format!("/api/v1/campaigns/{CID}/stages/online_review/assignments/change");
    let pool = app.store.experts(CID).await.unwrap();
    let id_of = |name: &str| pool.iter().find(|e| e.name == name).unwrap().user_id;
    let on_zhang = |v: &Value| -> Vec<i64> {
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["application_id"] == zhang)
            .map(|a| a["expert_id"].as_i64().unwrap())
            .collect()
    };

    // 李专家 works at the candidates' own institute.
    let (s, j) = app
        .call(
            Method::POST,
            &change,
            &token,
            json!({"action": "add", "expert_id": id_of("李专家"), "application_id": zhang}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("不能分配："),
        "{j}"
    );
    assert_eq!(j["error"]["field"], "expert_id");

    let before = stage(&app, &token, "online_review").await;
    let first = on_zhang(&before)[0];
    let (s, j) = app
        .call(
            Method::POST,
            &change,
            &token,
            json!({"action": "remove", "expert_id": first, "application_id": zhang}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["error"]["field"], "reason");
    let (s, after) = app
        .call(
            Method::POST,
            &change,
            &token,
            json!({"action": "remove", "expert_id": first, "application_id": zhang, "reason": "出国访问，无法按期评审"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert!(!on_zhang(&after).contains(&first));
    assert!(
        after["short"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().starts_with("张三只有 1 位评审专家")),
        "{after}"
    );
    let removed = pingxuan_app::Access::load(&app.store, first)
        .await
        .unwrap()
        .unwrap();
    match pingxuan_app::reviews::task(&app.store, &removed, CID, "online_review").await {
        Ok(t) => assert!(
            t.items.iter().all(|i| i.application_id != zhang),
            "the expert taken off no longer has the candidate"
        ),
        Err(e) => assert!(
            matches!(e, pingxuan_app::Error::NotFound),
            "nothing left in the stage is a 404: {e:?}"
        ),
    }

    // Topped up by an eligible expert not on 张三 (and not the one just taken off).
    let eligible = pool
        .iter()
        .map(|e| e.user_id)
        .find(|e| *e != first && *e != id_of("李专家") && !on_zhang(&after).contains(e))
        .unwrap();
    let (s, j) = app
        .call(
            Method::POST,
            &change,
            &token,
            json!({"action": "add", "expert_id": eligible, "application_id": zhang}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    assert!(on_zhang(&j).contains(&eligible));
    assert!(j["short"].as_array().unwrap().is_empty(), "{j}");
    let (s, j) = app
        .call(
            Method::POST,
            &change,
            &token,
            json!({"action": "add", "expert_id": eligible, "application_id": zhang}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "twice: {j}");
    let audit = app.store.recent_audit(20).await.unwrap();
    let ended = audit
        .iter()
        .find(|e| e.action == "assignment_ended")
        .expect("the removal is audited");
    assert!(ended.detail.contains("出国访问"), "{}", ended.detail);
    assert!(audit.iter().any(|e| e.action == "assignment_added"));

    // The page's form does the same.
    let mut page = app.signed_in("xj-office").await;
    let url = format!("/campaigns/{CID}/stages/online_review");
    let csrf = page.csrf(&url).await;
    let r = page
        .post_form(
            &format!("{url}/assignments/change"),
            &[
                ("csrf", &csrf),
                ("action", "add"),
                ("application", &zhang.to_string()),
                ("expert", &id_of("李专家").to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不能分配："), "{}", r.body);
    assert!(r.body.contains("手动调整"), "{}", r.body);
}

/// `[conflicts] aliases` in the campaign file: an expert whose unit is written by a 简称
/// (农科院) is taken for the candidates of 新疆农业科学院 while the file does not name it,
/// and refused as their expert once it does.
async fn the_campaigns_own_short_names_raise_conflicts(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, _li, _) = review_ready(&app).await;
    let table: pingxuan_app::tables::Table = [
        "姓名,工作单位,学科/专业领域,电子邮箱,手机",
        "孙专家,农科院,作物学,sun@example.com,",
    ]
    .iter()
    .map(|r| r.split(',').map(str::to_owned).collect())
    .collect();
    pingxuan_app::experts::import(&app.store, &office, CID, &table, None)
        .await
        .unwrap();
    let sun = app
        .store
        .experts(CID)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.name == "孙专家")
        .unwrap()
        .user_id;
    let token = app.token(office.user.id).await;
    let change = |body: Value| {
        let (app, token) = (&app, token.clone());
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/stages/online_review/assignments/change"),
                &token,
                body,
            )
            .await
        }
    };
    // Without the entry: taken, then taken off again.
    let (s, j) = change(json!({"action": "add", "expert_id": sun, "application_id": zhang})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (s, j) = change(json!({"action": "remove", "expert_id": sun, "application_id": zhang, "reason": "核对专家单位"})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    // With it: refused, with the reason.
    let text = format!(
        "{}\n[conflicts]\naliases = {{ \"农科院\" = \"新疆农业科学院\" }}\n",
        screening_text()
    );
    let c = pingxuan_rules::campaign::load(&text).campaign.unwrap();
    app.store
        .save_campaign(&c, &text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let (s, j) = change(json!({"action": "add", "expert_id": sun, "application_id": zhang})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("不能分配："),
        "{j}"
    );

    // A 简称 equal to its 全称 is refused when the file is checked.
    let bad = format!(
        "{}\n[conflicts]\naliases = {{ \"农科院\" = \"农科院\" }}\n",
        screening_text()
    );
    let report = pingxuan_rules::campaign::load(&bad);
    assert!(report.campaign.is_none());
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("简称“农科院”与全称相同")),
        "{:?}",
        report.problems
    );
}

/// The same person: an expert imported with the mobile a candidate's 推荐表 gives is that
/// candidate, and is never their expert.
async fn an_expert_who_is_the_candidate_is_kept_away(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let (office, zhang, _li, _) = review_ready(&app).await;
    // Every test candidate's form gives 13800000000.
    crate::common::import_experts(
        &app,
        &office,
        CID,
        &[
            "周专家,新疆大学,作物学,zhou@example.com,13800000000",
            "吴专家,新疆大学,作物学,wu@example.com,13900000000",
        ],
    )
    .await;
    let pool = app.store.experts(CID).await.unwrap();
    let id_of = |name: &str| pool.iter().find(|e| e.name == name).unwrap().user_id;
    let token = app.token(office.user.id).await;
    let add = |expert: i64| {
        let (app, token) = (&app, token.clone());
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/campaigns/{CID}/stages/online_review/assignments/change"),
                &token,
                json!({"action": "add", "expert_id": expert, "application_id": zhang}),
            )
            .await
        }
    };
    let (s, j) = add(id_of("周专家")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(
        j["error"]["message"]
            .as_str()
            .unwrap()
            .contains("评审专家即候选人本人"),
        "{j}"
    );
    // Another mobile at the same (unconflicted) unit is taken.
    let (s, j) = add(id_of("吴专家")).await;
    assert_eq!(s, StatusCode::OK, "{j}");
}

/// 东莞 初选 “征求市直相关部门的意见”: the office attaches each department's reply to its
/// candidate with the sender's name; the first stage's page and its API twin list them
/// by sender; no unit sees them or may add one; an upload without its sender is refused
/// at that field before a byte is sent.
async fn department_opinions_come_with_their_sender(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let desk = crate::stages::dongguan_at_desk(&app, 2).await;
    let (a, b) = (desk[0].0, desk[1].0);
    let user = |login: &'static str| {
        let store = app.store.clone();
        async move { store.find_user(login).await.unwrap().unwrap().id }
    };
    let office = app.token(user("dg-office").await).await;
    let rec = app.token(user("dg-rec0").await).await;
    assert_eq!(desk[0].1, "dg-rec0");
    let pdf = pingxuan_media::testing::minimal_pdf(1, false);
    let file = ("department_opinions", "复函.pdf", pdf.as_slice());
    let (s, j) = upload_from(&app, &office, a, file, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(
        (&j["error"]["field"], &j["error"]["message"]),
        (&json!("sender"), &json!("请填写来文单位"))
    );
    let (s, j) = upload_from(&app, &office, a, file, Some(" 东莞市公安局\n")).await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["sender"], "东莞市公安局");
    let police = j["id"].as_str().unwrap().to_owned();
    let (s, j) = upload_from(&app, &office, a, file, Some("国家税务总局东莞市税务局")).await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    // The recommending unit no longer holds the candidate, and the opinions are not
    // theirs to see.
    let (s, j) = upload_from(&app, &rec, a, file, Some("东莞市公安局")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{j}");
    let materials = |token: String| {
        let app = &app;
        async move {
            let (s, j) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/applications/{a}/materials"),
                    &token,
                    Value::Null,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{j}");
            j.as_array()
                .unwrap()
                .iter()
                .map(|m| (m["key"].as_str().unwrap().to_owned(), m.clone()))
                .collect::<Vec<_>>()
        }
    };
    assert!(
        materials(rec.clone())
            .await
            .iter()
            .all(|(k, _)| k != "department_opinions")
    );
    // Nor through the file list, the file's address or the applicant's own view.
    let applicant = app.token(user("dg0@x.cn").await).await;
    for token in [&rec, &applicant] {
        let (s, j) = app
            .call(
                Method::GET,
                &format!("/api/v1/applications/{a}/attachments"),
                token,
                Value::Null,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{j}");
        assert!(
            j.as_array()
                .unwrap()
                .iter()
                .all(|f| f["material"] != "department_opinions"),
            "{j}"
        );
        assert!(
            !j.as_array().unwrap().is_empty(),
            "their own files stay listed"
        );
        let r = app.fetch(token, &format!("/files/{police}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = app.fetch(&office, &format!("/files/{police}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let office_view = materials(office.clone()).await;
    let (_, opinions) = office_view
        .iter()
        .find(|(k, _)| k == "department_opinions")
        .unwrap();
    assert_eq!(opinions["sender_label"], "来文单位");
    assert_eq!(opinions["editable"], true);
    assert_eq!(opinions["files"].as_array().unwrap().len(), 2);
    // The first stage lists them by candidate, before it opens as after.
    let (s, j) = app
        .call(
            Method::GET,
            "/api/v1/campaigns/dongguan-2023/stages/screening",
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let sent = |id: i64| -> Vec<String> {
        j["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["sent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["sender"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(sent(a), ["东莞市公安局", "国家税务总局东莞市税务局"]);
    assert!(sent(b).is_empty());
    let mut page = app.signed_in("dg-office").await;
    let r = page.get("/campaigns/dongguan-2023/stages/screening").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<th>市直相关部门意见</th>"), "{}", r.body);
    assert!(r.body.contains(">东莞市公安局</a>"), "{}", r.body);
    assert!(
        r.body
            .contains(&format!("/review/{a}#material-department_opinions")),
        "{}",
        r.body
    );
    let r = page.get(&format!("/review/{a}")).await;
    assert!(r.body.contains("data-sender"), "{}", r.body);
    assert!(
        r.body
            .contains("<strong class=\"sender\">东莞市公安局</strong>")
    );
    // Who sent it is in the audit trail with the file.
    let entries = app.store.recent_audit(50).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "attachment_added"
                && e.detail.ends_with("复函.pdf（东莞市公安局）")),
        "{entries:#?}"
    );
}
