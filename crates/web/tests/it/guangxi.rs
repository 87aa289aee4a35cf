//! 广西 brought to its decisions through the use cases, for the walk in Chromium: six
//! 设区市 each issue two 推荐码 for their own staff (所在单位即推荐单位, the steps merged),
//! the twelve apply with a full 推荐表, and the 专家多轮评选 is scored by a pool of
//! experts. What the walk looks at (the units' 公示, the list, the objection, paper,
//! release) it does itself.

use pingxuan_rules::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

pub(crate) const CID: &str = "guangxi-2024";
pub(crate) const STAGE: &str = "expert_rounds";

/// A candidate: name, 出生年月日, a man or not, 工作单位及职务.
type Person = (&'static str, &'static str, bool, &'static str);

/// The six cities and their two candidates each.
pub(crate) const CITIES: [(&str, [Person; 2]); 6] = [
    (
        "南宁市科协",
        [
            ("韦海燕", "19780412", false, "南宁市农业科学研究所所长"),
            ("黄志强", "19850923", true, "南宁市第一人民医院心内科主任"),
        ],
    ),
    (
        "柳州市科协",
        [
            (
                "覃丽华",
                "19750130",
                false,
                "柳州市螺蛳粉产业研究院总工程师",
            ),
            ("莫建国", "19690718", true, "柳州钢铁集团技术中心主任"),
        ],
    ),
    (
        "桂林市科协",
        [
            ("蒙晓东", "19820305", true, "桂林市漓江生态研究中心主任"),
            ("陆春梅", "19900611", false, "桂林市农业技术推广站站长"),
        ],
    ),
    (
        "梧州市科协",
        [
            ("罗永红", "19720819", true, "梧州市林业科学研究所副所长"),
            ("梁文博", "19880227", true, "梧州学院电子信息工程学院院长"),
        ],
    ),
    (
        "北海市科协",
        [
            ("农秀英", "19770914", false, "北海市海洋环境监测中心主任"),
            ("蓝天明", "19840506", true, "北海市人民医院急诊科主任"),
        ],
    ),
    (
        "玉林市科协",
        [
            ("廖国栋", "19710121", true, "玉林市中医医院院长"),
            ("甘小雨", "19920808", false, "玉林市畜牧站高级畜牧师"),
        ],
    ),
];

/// One candidate at their city's desk.
pub(crate) struct Candidate {
    pub id: i64,
    pub name: &'static str,
    /// The city's login (`gx-rec0` … `gx-rec5`).
    pub recommender: String,
}

/// 广西 as seeded, with what the notice leaves to the office and a walk needs: three
/// experts per candidate, full marks per criterion (30, 30, 40).
pub(crate) fn text() -> String {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "guangxi-2024.toml")
        .unwrap();
    let criteria = "criteria = [\"思想品质\", \"精神风貌\", \"工作实绩\"]\n";
    assert!(text.contains(criteria));
    text.replace(
        criteria,
        &format!(
            "{criteria}reviewers = 3\nmax_points = {{ \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }}\n"
        ),
    )
}

/// The twelve at their cities' desks (submitted by themselves, each city its own work
/// unit), the deadline extended for all; in the order of `CITIES`.
pub(crate) async fn at_desks(app: &TestApp) -> Vec<Candidate> {
    crate::stages::seed_text(app, &text()).await;
    let office = app
        .account("gx-office", Role::Organizer, Some(CID), None)
        .await;
    let office = app.token(office).await;
    // 3月26日 has passed: the office extends every channel, as it would for a replay.
    crate::codes::extend_every_channel(app, CID, &office).await;
    let mut out = Vec::new();
    for (u, (city, people)) in CITIES.iter().enumerate() {
        let unit = app
            .store
            .create_unit(CID, city, Role::Recommender, Some("city"))
            .await
            .unwrap();
        let login = format!("gx-rec{u}");
        let rec = app
            .token(app.unit_account(&login, Role::Recommender, CID, unit).await)
            .await;
        for (name, birth, man, employer) in people {
            let i = out.len() as u32;
            let (me, id) = crate::codes::apply_with_code(
                app,
                &rec,
                json!({"unit": unit, "candidate_name": name, "work_unit": "self"}),
                &format!("gx{i}@x.cn"),
            )
            .await;
            let mut values = crate::codes::values_for("guangxi-2024.toml", name);
            let order = 2 * (i + 1) + u32::from(*man);
            values["id_number"] = json!({"text": crate::final_list::id_number(birth, order)});
            values["sex"] = json!({"text": if *man { "男" } else { "女" }});
            values["birth_month"] = json!({"text": format!("{}年{}月", &birth[..4], &birth[4..6])});
            values["employer_and_post"] = json!({ "text": employer });
            values["mobile"] = json!({"text": format!("1390771{:04}", 1000 + i)});
            crate::common::fill_and_commit_values(app, &me, id, values).await;
            app.furnish(id).await;
            let (s, j) = crate::codes::submit(app, &me, id, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{j}");
            out.push(Candidate {
                id,
                name,
                recommender: login.clone(),
            });
        }
    }
    out
}

/// A city's 公示 of its candidates, five working days from today, through the API.
pub(crate) async fn unit_publicity(app: &TestApp, city: &[Candidate]) {
    let rec = app
        .store
        .find_user(&city[0].recommender)
        .await
        .unwrap()
        .unwrap();
    let token = app.token(rec.id).await;
    let (s, j) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/unit-publicity"),
            &token,
            json!({
                "candidates": city.iter().map(|c| c.id).collect::<Vec<_>>(),
                "contact": "市科协办公室，0771-5555555",
                "working_days": 5,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
}

/// The city's 提交 of `c` to the office, with its opinion.
pub(crate) async fn forward(app: &TestApp, c: &Candidate) {
    let rec = app.store.find_user(&c.recommender).await.unwrap().unwrap();
    let token = app.token(rec.id).await;
    let (s, j) = crate::codes::submit(app, &token, c.id, json!({"comment": "同意推荐。"})).await;
    assert_eq!(s, StatusCode::OK, "{j}");
}

/// The 专家多轮评选 of `ids`: a pool of five from outside every candidate's unit, three on
/// each candidate, each expert declaring “无” and scoring; `points(i)` is what every
/// expert gives the i-th; closed, ranked, not yet advanced.
pub(crate) async fn scored(app: &TestApp, ids: &[i64], points: impl Fn(usize) -> [u32; 3]) {
    use pingxuan_rules::selection::stage::Move;
    let office = app.store.find_user("gx-office").await.unwrap().unwrap();
    let office = pingxuan_app::Access::load(&app.store, office.id)
        .await
        .unwrap()
        .unwrap();
    crate::common::import_experts(
        app,
        &office,
        CID,
        &[
            "唐专家,广西大学,农学,tang@example.com,",
            "何专家,广西医科大学,临床医学,he@example.com,",
            "周专家,桂林理工大学,环境科学,zhou@example.com,",
            "吴专家,广西科学院,海洋科学,wu@example.com,",
            "郑专家,广西农业科学院,作物学,zheng@example.com,",
        ],
    )
    .await;
    let act = |mv: Move| {
        let (store, access) = (app.store.clone(), office.clone());
        async move {
            pingxuan_app::stages::act(&store, &access, CID, STAGE, mv, None)
                .await
                .unwrap()
        }
    };
    act(Move::Open {
        candidates: ids.to_vec(),
    })
    .await;
    pingxuan_app::stages::assign(&app.store, &office, CID, STAGE, None)
        .await
        .unwrap();
    let rows = app.store.assignments(CID, STAGE).await.unwrap();
    assert_eq!(rows.len(), ids.len() * 3);
    let experts: std::collections::BTreeSet<i64> = rows.iter().map(|a| a.expert_id).collect();
    for expert in experts {
        let access = pingxuan_app::Access::load(&app.store, expert)
            .await
            .unwrap()
            .unwrap();
        let mine: Vec<i64> = rows
            .iter()
            .filter(|a| a.expert_id == expert)
            .map(|a| a.application_id)
            .collect();
        for id in &mine {
            pingxuan_app::reviews::declare(&app.store, &access, CID, STAGE, *id, "无", None)
                .await
                .unwrap();
        }
        for id in &mine {
            let i = ids.iter().position(|x| x == id).unwrap();
            let typed: Vec<String> = points(i).iter().map(u32::to_string).collect();
            pingxuan_app::reviews::save(
                &app.store, &access, CID, STAGE, *id, &typed, "", 0, true, None,
            )
            .await
            .unwrap();
        }
    }
    act(Move::Close).await;
}
