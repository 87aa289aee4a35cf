//! 东莞's 网络投票 open for load: `n` candidates at the office's desk (written straight to
//! the database, as the stage benches do), 初选 passed and advanced, the vote open from
//! 2020 to 2099 under `rules` with 公众组 0.6 by share and 专业组 0.4 by top. Shared by the
//! vote benchmark and the process tests (the kill test, two servers).

use pingxuan_rules::Role;
use pingxuan_rules::selection::stage::Move;
use pingxuan_store::Store;

pub const CID: &str = "dongguan-2023";
pub const STAGE: &str = "online_vote";

/// 齐鲁's shape (a vote per candidate a day, so many candidates a day) with caps no run
/// reaches: every vote takes its two slots, none is refused.
pub const LOAD_RULES: &str = "per_candidate_per_day = 1000000\ncandidates_per_day = 1000\n";

pub fn campaign_text(rules: &str) -> String {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "dongguan-2023.toml")
        .unwrap();
    text.replacen(
        "role = \"voter\"\n# weight 通知未规定\n",
        "role = \"voter\"\nweight = 0.6\nscaling = \"share\"\n",
        1,
    )
    .replacen(
        "role = \"expert\"\n# weight 通知未规定\n",
        "role = \"expert\"\nweight = 0.4\nscaling = \"top\"\n",
        1,
    )
    .replacen(
        "[[stages]]\nkey = \"panel\"",
        &format!(
            "[stages.vote]\nopens = 2020-01-01T00:00:00+08:00\ncloses = 2099-01-01T00:00:00+08:00\n{rules}\n[[stages]]\nkey = \"panel\""
        ),
        1,
    )
}

pub async fn open_vote(store: &Store, n: usize, rules: &str) {
    let text = campaign_text(rules);
    let c = pingxuan_rules::campaign::load(&text).campaign.unwrap();
    store
        .save_campaign(&c, &text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let mut units = Vec::new();
    for u in 0..4 {
        units.push(
            store
                .create_unit(
                    CID,
                    &format!("东莞市第{u}推荐单位"),
                    Role::Recommender,
                    Some("city_units"),
                )
                .await
                .unwrap(),
        );
    }
    let applicant = store
        .create_user(pingxuan_store::testing::new_user("lg-applicant", "申报人"))
        .await
        .unwrap();
    let now = pingxuan_store::now();
    let deeds = "扎根一线二十年，主持攻关项目十余项，成果在全市推广应用。".repeat(8);
    let mut ids = Vec::new();
    for i in 0..n {
        let name = format!("候选人{i:02}");
        let employer = format!("东莞市第{}研究院", i % 9);
        let form = serde_json::json!({
            "name": {"text": name}, "employer_and_post": {"text": employer},
            "summary": {"text": format!("{name}长期从事科研工作，成绩突出。")},
            "deeds": {"text": deeds}, "field": {"text": "电子信息"}
        })
        .to_string();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO applications (campaign_id, number, applicant_id, recommender_unit_id, merged, \
             recommender_level, name, employer, field, form_version, flow_version, holder_level, \
             holder_role, reached_level, state_text, committed_at, moved_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, 2, $5, $6, '电子信息', 2, 6, 3, 'organizer', 3, '市科协审核中', $7, $7, $7, $7) \
             RETURNING id",
        )
        .bind(CID)
        .bind(format!("DG2023{:04}", i + 1))
        .bind(applicant)
        .bind(units[i % units.len()])
        .bind(&name)
        .bind(&employer)
        .bind(now)
        .fetch_one(&store.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO application_forms (application_id, form_json) VALUES ($1, $2)")
            .bind(id)
            .bind(&form)
            .execute(&store.pool)
            .await
            .unwrap();
        ids.push(id);
    }
    let office = pingxuan_app::Access::operator();
    let act = |key: &'static str, mv: Move| {
        let (store, office) = (store.clone(), office.clone());
        async move {
            pingxuan_app::stages::act(&store, &office, CID, key, mv, None)
                .await
                .unwrap()
        }
    };
    act(
        "screening",
        Move::Open {
            candidates: ids.clone(),
        },
    )
    .await;
    for &id in &ids {
        pingxuan_app::stages::screen(store, &office, CID, "screening", id, true, "", None)
            .await
            .unwrap();
    }
    act("screening", Move::Close).await;
    act(
        "screening",
        Move::Advance {
            advanced: ids.clone(),
        },
    )
    .await;
    act(STAGE, Move::Open { candidates: ids }).await;
}
