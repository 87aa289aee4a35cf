//! A recommending unit's own 公示: published from its page with the notice drafted in
//! its name; the unit's 提交 waits while it runs, while an objection is open, and for
//! good once one is upheld; the record goes up in the opinion; the unit handles the
//! objections without seeing who made them, the organiser sees who and cannot decide them.

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, input_value, start, xinjiang_candidate_with, xinjiang_values};

on_both_databases!(a_units_submission_waits_for_its_publicity);

const CID: &str = "xinjiang-2023";
const PAGE: &str = "/campaigns/xinjiang-2023/unit-publicity";

async fn a_units_submission_waits_for_its_publicity(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    // 新疆 with the 5 working days 广西 and 东莞 ask of a unit's 公示.
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| *n == "xinjiang-2023.toml")
        .unwrap();
    let text = text.replace(
        "unit_publicity = true\n",
        "unit_publicity = true\nunit_working_days = 5\n",
    );
    crate::stages::seed_text(&app, &text).await;
    crate::publicity::calendar_for_today(&app).await;
    let unit = app
        .store
        .create_unit(CID, "昌吉州科协", Role::Recommender, Some("prefecture"))
        .await
        .unwrap();
    let rec_id = app
        .unit_account("cj-rec", Role::Recommender, CID, unit)
        .await;
    let rec = app.token(rec_id).await;
    let (_, a) = xinjiang_candidate_with(&app, "a@x.cn", xinjiang_values("张三"), unit, true).await;
    let (_, b) = xinjiang_candidate_with(&app, "b@x.cn", xinjiang_values("李四"), unit, true).await;

    // The unit's page: both waiting, the notice drafted in its name.
    let mut web = app.client();
    web.login("cj-rec", PASSWORD, None).await;
    let page = web.get(PAGE).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for words in [
        "张三",
        "李四",
        "尚未公示",
        "昌吉州科协关于推荐2023年“新疆最美科技工作者”候选人的公示",
        "拟推荐以下 2 人",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    let csrf = input_value(&page.body, "csrf").unwrap();
    let title = "昌吉州科协关于推荐2023年“新疆最美科技工作者”候选人的公示";
    let body = "经昌吉州科协研究，拟推荐以下 2 人为候选人，现予以公示。";
    let (a_s, b_s) = (a.to_string(), b.to_string());
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("title", title),
        ("body", body),
        ("contact", "昌吉州科协办公室，0994-2345678"),
        ("working_days", "5"),
        ("published_on", ""),
    ];
    // Nobody chosen: said beside the list, what was typed kept.
    let r = web.post_form(PAGE, &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("请勾选要公示的候选人"), "{}", r.body);
    assert!(r.body.contains("0994-2345678"));
    form.push(("candidates", &a_s));
    form.push(("candidates", &b_s));
    // Fewer days than the notice asks: refused beside the days.
    form[4] = ("working_days", "3");
    let r = web.post_form(PAGE, &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("按通知须公示满 5 个工作日，填写的是 3"),
        "{}",
        r.body
    );
    form[4] = ("working_days", "5");
    let r = web.post_follow(PAGE, &form).await;
    assert!(r.body.contains("公示已发布"), "{}", r.body);
    assert!(r.body.contains("公示中"), "{}", r.body);
    // Published once: a second time is refused.
    let again = web.post_form(PAGE, &form).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("已在“"), "{}", again.body);
    let p = app.store.publicities(CID).await.unwrap().remove(0);
    assert_eq!((p.kind.as_str(), p.unit_id), ("unit", Some(unit)));

    // While it runs, the unit's 提交 waits, with the dates.
    let submit = |id: i64| {
        let (app, rec) = (&app, &rec);
        async move {
            app.call(
                Method::POST,
                &format!("/api/v1/applications/{id}/submit"),
                rec,
                json!({"comment": "同意推荐。"}),
            )
            .await
        }
    };
    let (s, e) = submit(a).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "publicity_pending");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("按通知须公示期满、无异议后方可上报"),
        "{e}"
    );

    // Someone objects to 李四 on the public page.
    let mut public = app.client();
    let r = public
        .post_file(
            &format!("/gs/{}", p.public_id),
            &[
                ("candidate", &b_s),
                ("name", "王五"),
                ("phone", "13812345678"),
                ("text", "李四推荐表中所列的获奖情况与事实不符，请核查。"),
            ],
            (
                "files",
                "evidence.pdf",
                &pingxuan_media::testing::minimal_pdf(1, false),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The unit sees the objection, not who made it; the organiser sees who.
    let page = web.get(PAGE).await;
    assert!(
        page.body.contains("实名反映（反映人信息仅活动办公室可见）"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("王五") && !page.body.contains("138****"),
        "{}",
        page.body
    );
    let office_id = app
        .account("cj-office", Role::Organizer, Some(CID), None)
        .await;
    let office = app.token(office_id).await;
    let (s, o) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/publicity"),
            &office,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(o["objections"][0]["objector"], "王五", "{o}");
    let oid = o["objections"][0]["id"].as_i64().unwrap();
    // The organiser may call the objector back; the unit may not see the number.
    let contact = format!("/api/v1/campaigns/{CID}/objections/{oid}/contact");
    let (s, c) = app.call(Method::POST, &contact, &office, Value::Null).await;
    assert_eq!(
        (s, c["phone"].as_str()),
        (StatusCode::OK, Some("13812345678")),
        "{c}"
    );
    let (s, _) = app.call(Method::POST, &contact, &rec, Value::Null).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The unit's API twin shows the same, without who objected; its publish is checked
    // the same way.
    let (s, u) = app
        .call(
            Method::GET,
            &format!("/api/v1/campaigns/{CID}/unit-publicity"),
            &rec,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["objections"][0]["objector"], "", "{u}");
    assert_eq!(u["objections"][0]["phone"], "", "{u}");
    assert_eq!(u["candidates"][1]["publicity"], title, "{u}");
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/unit-publicity"),
            &rec,
            json!({"candidates": [a], "contact": "0994-2345678", "working_days": 5}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "already_published");
    // The unit decides it; the organiser may not.
    let (s, e) = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{CID}/objections/{oid}/steps"),
            &office,
            json!({"outcome": "checking"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let csrf = input_value(&page.body, "csrf").unwrap();
    let step = format!("{PAGE}/objections/{oid}");
    let r = web
        .post_follow(
            &step,
            &[("csrf", &csrf), ("outcome", "checking"), ("opinion", "")],
        )
        .await;
    assert!(r.body.contains("处理结果已保存"), "{}", r.body);

    // The period over (moved back in the store: the test cannot wait five working days).
    let today = pingxuan_app::publicity::today();
    let day = |d: i64| (today - time::Duration::days(d)).to_string();
    crate::publicity::end_every_publicity(&app).await;
    // 张三 goes up with the record in the opinion.
    let (s, j) = submit(a).await;
    assert_eq!(s, StatusCode::OK, "{j}");
    let (_, record) = app
        .call(
            Method::GET,
            &format!("/api/v1/applications/{a}"),
            &rec,
            Value::Null,
        )
        .await;
    let events = record["events"].as_array().unwrap();
    let comment = events.last().unwrap()["comment"].as_str().unwrap();
    assert!(comment.starts_with("同意推荐。\n公示情况："), "{comment}");
    assert!(
        comment.ends_with("（5 个工作日）在推荐单位公示，无异议"),
        "{comment}"
    );
    // A letter about 张三, received during the period and entered now: it cannot be upheld
    // while 张三 is already sent up.
    let r = web
        .post_file(
            &format!("{PAGE}/objections"),
            &[
                ("csrf", &csrf),
                ("target", &format!("{}:{a}", p.public_id)),
                ("channel", "letter"),
                ("received_on", &day(4)),
                ("name", "某单位"),
                ("phone", "0994-1234567"),
                ("text", "张三推荐表中所列的论文与事实不符，请核查。"),
            ],
            (
                "files",
                "letter.pdf",
                &pingxuan_media::testing::minimal_pdf(1, false),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let letter = app
        .store
        .objections(CID)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.application_id == a)
        .unwrap()
        .id;
    let r = web
        .post_form(
            &format!("{PAGE}/objections/{letter}"),
            &[
                ("csrf", &csrf),
                ("outcome", "upheld"),
                ("opinion", "经核查属实。"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body
            .contains("张三已由本单位上报；如异议成立，请先收回该申请"),
        "{}",
        r.body
    );
    // 李四 waits for the objection, then is held for good once it is upheld.
    let (s, e) = submit(b).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        e["error"]["message"],
        "公示期间收到的异议尚有 1 项未办结，办结后方可上报"
    );
    let r = web
        .post_follow(
            &step,
            &[
                ("csrf", &csrf),
                ("outcome", "upheld"),
                ("opinion", "经核查，所列获奖情况与事实不符，不予推荐。"),
            ],
        )
        .await;
    assert!(r.body.contains("处理结果已保存"), "{}", r.body);
    let (s, e) = submit(b).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        e["error"]["message"],
        "公示期间对该候选人的异议经核查成立，不能上报"
    );
    // The objector reads the 处理意见 by number; a unit's 公示 changes no stage.
    assert!(app.store.removals(CID).await.unwrap().is_empty());
    // The 推荐工作情况简要报告, drafted from the record.
    let docx = web
        .http
        .get(format!("{}{PAGE}/report.docx", app.url))
        .header(
            "cookie",
            format!("px_session={}", web.cookie.clone().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(docx.status(), StatusCode::OK);
    let text = pingxuan_export::testing::docx_text(&docx.bytes().await.unwrap());
    for words in [
        "昌吉州科协关于推荐2023年“新疆最美科技工作者”候选人工作情况的报告",
        "1. 张三，",
        "对张三、李四进行公示",
        "公示期间收到异议 2 项，其中经核查成立 1 项（李四不再推荐）、尚在办理 1 项。",
        "昌吉州科协（盖章）",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(!text.contains("2. 李四"), "{text}");
    // An applicant has no such page.
    let mut applicant = app.client();
    applicant.login("a@x.cn", PASSWORD, None).await;
    assert_eq!(applicant.get(PAGE).await.status, StatusCode::FORBIDDEN);
}
