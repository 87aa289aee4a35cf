//! The store on both databases: constraints become clear errors, revisions count up,
//! mail retries, nothing is half-written.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::accounts::{LoginOutcome, NewUser};
use pingxuan_store::applications::{Binding, NewApplication};
use pingxuan_store::codes::NewCode;
use pingxuan_store::testing::TestDb;
use pingxuan_store::{StoreError, on_both_databases};

on_both_databases!(
    accounts_and_roles,
    campaigns_and_units,
    mail_outbox,
    sessions_and_captcha,
    calendar_years,
    application_numbers_and_forms,
    recall_and_open_race,
    parallel_guesses_do_not_pass_the_lockout,
    codes_up_to_the_quota_and_used_once,
    api_tokens_expire,
    search_terms_match_the_migration,
    search_by_part_of_a_text
);

fn user(login: &str) -> NewUser {
    NewUser {
        login: login.to_owned(),
        display_name: "测试".to_owned(),
        email: None,
        mobile: Some("13800000000".to_owned())
            .filter(|_| login.eq_ignore_ascii_case("with-mobile")),
        password: "Kexie-2024-ok".to_owned(),
    }
}

async fn accounts_and_roles(db: TestDb) {
    let s = db.store().await;
    let id = s.create_user(user("With-Mobile")).await.unwrap();
    assert!(matches!(
        s.create_user(user("with-mobile ")).await,
        Err(StoreError::Duplicate(_))
    ));
    // The mobile number finds the account too, and is sealed at rest.
    assert_eq!(s.find_user("13800000000").await.unwrap().unwrap().id, id);
    assert_eq!(
        s.get_user(id).await.unwrap().unwrap().mobile.as_deref(),
        Some("13800000000")
    );
    assert!(matches!(
        s.authenticate("13800000000", "Kexie-2024-ok")
            .await
            .unwrap(),
        LoginOutcome::Ok(_)
    ));

    s.grant_role(id, Role::Organizer, Some("guangxi-2024"), None)
        .await
        .unwrap();
    s.grant_role(id, Role::Expert, Some("dongguan-2023"), None)
        .await
        .unwrap();
    assert!(matches!(
        s.grant_role(id, Role::Organizer, Some("guangxi-2024"), None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    let roles = s.roles_of(id).await.unwrap();
    assert_eq!(roles.len(), 2, "one person, roles in several campaigns");

    s.set_password(id, "Another-pass-7", &pingxuan_store::testing::audit())
        .await
        .unwrap();
    assert!(matches!(
        s.set_password(id, "Kexie-2024-ok", &pingxuan_store::testing::audit())
            .await,
        Err(StoreError::Duplicate(_))
    ));
    s.delete_user(id).await.unwrap();
    assert!(s.roles_of(id).await.unwrap().is_empty());
}

async fn campaigns_and_units(db: TestDb) {
    let s = db.store().await;
    let (_, text) = SEEDS[0];
    let c = load(text).campaign.unwrap();
    assert_eq!(
        s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
            .await
            .unwrap(),
        2
    );
    let stored = s.get_campaign("guangxi-2024").await.unwrap().unwrap();
    assert_eq!(stored.model().unwrap().campaign.winners, 10);
    // The parsed rules are cached per revision: a new file is seen at once.
    let cached = s.campaign_model("guangxi-2024").await.unwrap().unwrap();
    assert_eq!(cached.campaign.winners, 10);
    let renamed = text.replace("short_name = \"", "short_name = \"新");
    let c2 = load(&renamed).campaign.unwrap();
    assert_eq!(
        s.save_campaign(&c2, &renamed, None, pingxuan_store::testing::for_id)
            .await
            .unwrap(),
        3
    );
    let fresh = s.campaign_model("guangxi-2024").await.unwrap().unwrap();
    assert!(fresh.campaign.short_name.starts_with('新'));
    assert!(s.campaign_model("nowhere").await.unwrap().is_none());
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    s.create_unit(
        "guangxi-2024",
        "南宁市科协",
        Role::Recommender,
        Some("city"),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.create_unit("guangxi-2024", "南宁市科协", Role::Recommender, None)
            .await,
        Err(StoreError::Duplicate(_))
    ));
    // The same name as a work unit is a different unit.
    s.create_unit("guangxi-2024", "南宁市科协", Role::WorkUnit, None)
        .await
        .unwrap();
    // A unit of an unknown campaign is refused by the foreign key.
    assert!(
        s.create_unit("nope", "x", Role::WorkUnit, None)
            .await
            .is_err()
    );
    assert_eq!(s.list_units("guangxi-2024").await.unwrap().len(), 2);
}

async fn mail_outbox(db: TestDb) {
    let s = db.store().await;
    let id = s
        .enqueue_mail("a@example.com", "主题", "正文")
        .await
        .unwrap();
    let due = s.due_mail(10).await.unwrap();
    assert_eq!(due.len(), 1);
    s.mark_mail_failed(id, 0, "connection refused")
        .await
        .unwrap();
    assert!(
        s.due_mail(10).await.unwrap().is_empty(),
        "retried later, not at once"
    );
    sqlx::query("UPDATE mail_outbox SET next_attempt_at = 0")
        .execute(&s.pool)
        .await
        .unwrap();
    let due = s.due_mail(10).await.unwrap();
    assert_eq!(due[0].attempts, 1);
    s.mark_mail_sent(id).await.unwrap();
    assert!(s.due_mail(10).await.unwrap().is_empty());

    // Two senders: a mail claimed by one is not handed to the other until the first
    // sent it, failed it, or its lease lapsed.
    let m1 = s.enqueue_mail("b@example.com", "一", "正文").await.unwrap();
    let m2 = s.enqueue_mail("c@example.com", "二", "正文").await.unwrap();
    let first = s.claim_due_mail("one", 1, 300).await.unwrap();
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), [m1]);
    let second = s.claim_due_mail("two", 10, 300).await.unwrap();
    assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), [m2]);
    assert!(s.claim_due_mail("two", 10, 300).await.unwrap().is_empty());
    s.mark_mail_sent(m2).await.unwrap();
    sqlx::query("UPDATE mail_outbox SET lease_until = 0 WHERE id = $1")
        .bind(m1)
        .execute(&s.pool)
        .await
        .unwrap();
    let taken_over = s.claim_due_mail("two", 10, 300).await.unwrap();
    assert_eq!(taken_over.iter().map(|m| m.id).collect::<Vec<_>>(), [m1]);
}

async fn sessions_and_captcha(db: TestDb) {
    let s = db.store().await;
    let (token, session) = s
        .create_session(None, Some("127.0.0.1"), None)
        .await
        .unwrap();
    assert_eq!(
        s.load_session(&token).await.unwrap().unwrap().csrf_token,
        session.csrf_token
    );
    s.set_captcha(&session.id_hash, "AbC12").await.unwrap();
    assert!(s.check_captcha(&session.id_hash, " abc12 ").await.unwrap());
    assert!(
        !s.check_captcha(&session.id_hash, "abc12").await.unwrap(),
        "single use"
    );
    assert!(!s.check_captcha(&session.id_hash, "").await.unwrap());
    s.delete_session(&session.id_hash, None).await.unwrap();
    assert!(s.load_session(&token).await.unwrap().is_none());
}

async fn calendar_years(db: TestDb) {
    use time::macros::date;
    let s = db.store().await;
    let cal = s.work_calendar().await.unwrap();
    assert!(
        cal.is_working_day(date!(2027 - 01 - 04)).is_err(),
        "2027 unknown until loaded"
    );
    let text = "year = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知（测试数据）\"\n\n[[holidays]]\nname = \"元旦\"\nfrom = 2027-01-01\nto = 2027-01-03\nmakeup_workdays = []\n";
    let year = pingxuan_rules::calendar::YearCalendar::parse("2027.toml", text).unwrap();
    s.save_calendar_year(&year, text, &pingxuan_store::testing::audit())
        .await
        .unwrap();
    s.save_calendar_year(&year, text, &pingxuan_store::testing::audit())
        .await
        .unwrap();
    let cal = s.work_calendar().await.unwrap();
    assert_eq!(cal.is_working_day(date!(2027 - 01 - 04)), Ok(true));
    assert_eq!(cal.is_working_day(date!(2027 - 01 - 01)), Ok(false));
    assert_eq!(cal.years().count(), 5);
}

async fn seeded(db: &TestDb) -> (pingxuan_store::Store, i64) {
    let s = db.store().await;
    let (_, text) = SEEDS[2];
    let c = load(text).campaign.unwrap();
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let uid = s.create_user(user("applicant")).await.unwrap();
    (s, uid)
}

async fn application_numbers_and_forms(db: TestDb) {
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{FieldValue, FormValues};
    let (s, uid) = seeded(&db).await;
    let (id1, n1) = s
        .create_application(
            &NewApplication::bare("xinjiang-2023", uid, "ZMKJ", 2023, "申报人"),
            pingxuan_store::testing::created,
        )
        .await
        .unwrap();
    let (_, n2) = s
        .create_application(
            &NewApplication::bare("xinjiang-2023", uid, "ZMKJ", 2023, "申报人"),
            pingxuan_store::testing::created,
        )
        .await
        .unwrap();
    assert_eq!((n1.as_str(), n2.as_str()), ("ZMKJ20231", "ZMKJ20232"));

    let mut form = FormValues::new();
    form.insert(FieldKey::Name, FieldValue::Text("测试人员".into()));
    form.insert(
        FieldKey::IdNumber,
        FieldValue::Text("11010519491231002X".into()),
    );
    form.insert(FieldKey::Mobile, FieldValue::Text("13800000000".into()));
    form.insert(FieldKey::Stories, FieldValue::List(vec!["故事一".into()]));
    let v2 = s.save_application_form(id1, 1, &form).await.unwrap();
    assert_eq!(v2, 2);
    // A second tab still holding version 1 is refused, and the first save stays.
    assert!(matches!(
        s.save_application_form(id1, 1, &FormValues::new()).await,
        Err(StoreError::Stale)
    ));
    let a = s.get_application(id1).await.unwrap().unwrap();
    assert_eq!(a.form, form);
    let raw: String = sqlx::query_scalar(
        "SELECT f.form_json || COALESCE(a.id_number_enc, '') FROM applications a \
         JOIN application_forms f ON f.application_id = a.id WHERE a.id = $1",
    )
    .bind(id1)
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert!(
        !raw.contains("11010519491231002X") && !raw.contains("13800000000"),
        "sealed at rest"
    );

    // A 提交 decided on version 1 is refused once version 2 is saved: the form it checked
    // is not the one it would carry.
    use pingxuan_rules::workflow::Event;
    let mut up = pingxuan_store::applications::FlowUpdate {
        holder_level: 1,
        holder_role: "recommender".into(),
        state_text: "申报人提交到推荐单位".into(),
        quota: None,
        form_version: Some(1),
        selection: None,
    };
    assert!(matches!(
        s.append_event(id1, 0, Event::Submit { by: 0 }, uid, "", &up)
            .await,
        Err(StoreError::Stale)
    ));
    // Decided on version 2, it happens; once submitted, the form cannot be saved.
    up.form_version = Some(2);
    s.append_event(id1, 0, Event::Submit { by: 0 }, uid, "", &up)
        .await
        .unwrap();
    assert!(matches!(
        s.save_application_form(id1, 2, &form).await,
        Err(StoreError::NotEditable)
    ));
    let events = s.application_events(id1).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, Event::Submit { by: 0 });
}

/// The applicant recalls while the unit opens, from the same state, many times over:
/// each time exactly one of them happens, and the stored history replays.
async fn recall_and_open_race(db: TestDb) {
    use pingxuan_rules::workflow::{Chain, Event, FlowState};
    use pingxuan_store::applications::FlowUpdate;
    let (s, uid) = seeded(&db).await;
    let campaign = s
        .get_campaign("xinjiang-2023")
        .await
        .unwrap()
        .unwrap()
        .model()
        .unwrap();
    let chain = Chain::for_application(&campaign, false);
    let mut recalls = 0;
    let mut opens = 0;
    for _ in 0..15 {
        let (id, _) = s
            .create_application(
                &NewApplication::bare("xinjiang-2023", uid, "ZMKJ", 2023, "申报人"),
                pingxuan_store::testing::created,
            )
            .await
            .unwrap();
        let submitted = FlowState::default()
            .apply(&chain, Event::Submit { by: 0 })
            .unwrap();
        let update = |st: &FlowState| FlowUpdate {
            holder_level: st.holder() as i64,
            holder_role: chain.levels[st.holder()].role.as_str().into(),
            state_text: st.text(&chain),
            quota: None,
            form_version: None,
            selection: None,
        };
        s.append_event(id, 0, Event::Submit { by: 0 }, uid, "", &update(&submitted))
            .await
            .unwrap();
        let recall = submitted.apply(&chain, Event::Recall { by: 0 }).unwrap();
        let open = submitted.apply(&chain, Event::Open { by: 1 }).unwrap();
        let (s1, s2) = (s.clone(), s.clone());
        let (u1, u2) = (update(&recall), update(&open));
        let a = tokio::spawn(async move {
            s1.append_event(id, 1, Event::Recall { by: 0 }, uid, "", &u1)
                .await
        });
        let b = tokio::spawn(async move {
            s2.append_event(id, 1, Event::Open { by: 1 }, uid, "", &u2)
                .await
        });
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a.is_ok() != b.is_ok(), "exactly one wins: {a:?} {b:?}");
        assert!(matches!(
            a.as_ref().err().or(b.as_ref().err()),
            Some(StoreError::Stale)
        ));
        if a.is_ok() {
            recalls += 1
        } else {
            opens += 1
        }
        let events: Vec<Event> = s
            .application_events(id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert_eq!(events.len(), 2);
        let replayed = FlowState::replay(&chain, &events).unwrap();
        let stored = s.get_application(id).await.unwrap().unwrap();
        assert_eq!(stored.state_text, replayed.text(&chain));
        assert_eq!(stored.holder_level, replayed.holder() as i64);
    }
    eprintln!("race outcomes: {recalls} recalls, {opens} opens");
}

/// Ten wrong passwords at once: at most four are answered “wrong”, the rest “locked”,
/// and the right password is refused afterwards.
async fn parallel_guesses_do_not_pass_the_lockout(db: TestDb) {
    let s = db.store().await;
    s.create_user(user("target")).await.unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.authenticate("target", "Wrong-guess-1").await.unwrap() })
        })
        .collect();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            LoginOutcome::Refused { .. } => refused += 1,
            LoginOutcome::Locked { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        refused <= 4,
        "{refused} guesses were judged before the lock"
    );
    assert!(matches!(
        s.authenticate("target", "Kexie-2024-ok").await.unwrap(),
        LoginOutcome::Locked { .. }
    ));
}

/// A unit issues codes up to its quota, even when two issuers race for the last place;
/// a code starts exactly one application, even when two people enter it at once.
async fn codes_up_to_the_quota_and_used_once(db: TestDb) {
    let s = db.store().await;
    let (_, text) = SEEDS[1];
    let c = load(text).campaign.unwrap();
    s.save_campaign(&c, text, None, pingxuan_store::testing::for_id)
        .await
        .unwrap();
    let cid = c.campaign.id.as_str();
    let unit = s
        .create_unit(cid, "南宁市科协", Role::Recommender, Some("city"))
        .await
        .unwrap();
    let issuer = s.create_user(user("issuer")).await.unwrap();
    let new = NewCode {
        campaign_id: cid,
        unit_id: unit,
        candidate_name: "张三",
        work_unit_id: None,
        merged: true,
        issued_by: issuer,
    };
    let first = s
        .issue_code(&new, Some((3, 0)), pingxuan_store::testing::for_id)
        .await
        .unwrap();
    assert_eq!(first.code.len(), 12);
    assert!(first.merged && first.application_id.is_none());
    s.issue_code(&new, Some((3, 0)), pingxuan_store::testing::for_id)
        .await
        .unwrap();
    // Two issuers at once for the third and last place: one gets it.
    let (a, b) = tokio::join!(
        s.issue_code(&new, Some((3, 0)), pingxuan_store::testing::for_id),
        s.issue_code(&new, Some((3, 0)), pingxuan_store::testing::for_id)
    );
    assert_eq!(
        usize::from(a.is_ok()) + usize::from(b.is_ok()),
        1,
        "{a:?} {b:?}"
    );
    match s
        .issue_code(&new, Some((3, 0)), pingxuan_store::testing::for_id)
        .await
    {
        Err(StoreError::QuotaFull(m)) => assert!(m.contains("3/3"), "{m}"),
        other => panic!("{other:?}"),
    }
    // An exception granted by the organiser makes room; revoking an unused code too.
    s.issue_code(&new, Some((3, 1)), pingxuan_store::testing::for_id)
        .await
        .unwrap();
    s.revoke_code(first.id, unit, &pingxuan_store::testing::audit())
        .await
        .unwrap();
    assert!(matches!(
        s.revoke_code(first.id, unit, &pingxuan_store::testing::audit())
            .await,
        Err(StoreError::CodeUsed)
    ));
    assert!(matches!(
        s.revoke_code(first.id, unit + 1, &pingxuan_store::testing::audit())
            .await,
        Err(StoreError::NotFound)
    ));
    s.issue_code(&new, Some((3, 1)), pingxuan_store::testing::for_id)
        .await
        .unwrap();
    assert_eq!(s.codes_of_unit(unit).await.unwrap().len(), 5);

    // A revoked code starts nothing; a live one starts one application, once.
    let revoked = s.find_code(&first.code).await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    let live = s.codes_of_unit(unit).await.unwrap()[0].clone();
    let applicant = s.create_user(user("applicant")).await.unwrap();
    let with_code = |code_id| NewApplication {
        binding: Binding {
            recommender_unit_id: Some(unit),
            work_unit_id: None,
            merged: true,
            recommender_level: 1,
        },
        code_id: Some(code_id),
        ..NewApplication::bare(cid, applicant, "ZMKJ", 2024, "申报人")
    };
    assert!(matches!(
        s.create_application(&with_code(first.id), pingxuan_store::testing::created)
            .await,
        Err(StoreError::CodeUsed)
    ));
    let (n1, n2) = (with_code(live.id), with_code(live.id));
    let (x, y) = tokio::join!(
        s.create_application(&n1, pingxuan_store::testing::created),
        s.create_application(&n2, pingxuan_store::testing::created)
    );
    assert_eq!(
        usize::from(x.is_ok()) + usize::from(y.is_ok()),
        1,
        "{x:?} {y:?}"
    );
    let (app_id, number) = x.or(y).unwrap();
    let used = s.get_code(live.id).await.unwrap().unwrap();
    assert_eq!(used.application_id, Some(app_id));
    assert_eq!(used.application_number, Some(number));
    let app = s.get_application(app_id).await.unwrap().unwrap();
    assert_eq!(app.recommender_unit_id, Some(unit));
    assert!(app.merged);
}

/// A token stops working 90 days after its last use, and 180 days after it was made.
async fn api_tokens_expire(db: TestDb) {
    let s = db.store().await;
    let uid = s.create_user(user("scripted")).await.unwrap();
    let (id, token) = s
        .create_api_token(uid, "script", pingxuan_store::testing::for_id)
        .await
        .unwrap();
    assert_eq!(s.user_of_api_token(&token).await.unwrap(), Some(uid));
    let day = 86_400;
    let age = |created: i64, used: i64| {
        let pool = s.pool.clone();
        async move {
            sqlx::query("UPDATE api_tokens SET created_at = $2, last_used_at = $3 WHERE id = $1")
                .bind(id)
                .bind(pingxuan_store::now() - created * day)
                .bind(pingxuan_store::now() - used * day)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    age(100, 89).await;
    assert_eq!(
        s.user_of_api_token(&token).await.unwrap(),
        Some(uid),
        "used lately"
    );
    age(100, 91).await;
    assert_eq!(
        s.user_of_api_token(&token).await.unwrap(),
        None,
        "idle too long"
    );
    age(181, 1).await;
    assert_eq!(s.user_of_api_token(&token).await.unwrap(), None, "too old");
}

/// Applications with the given forms (name, work unit, 推荐领域); `submitted` ones are sent
/// to `unit`, the others stay drafts.
async fn applications_with(
    s: &pingxuan_store::Store,
    uid: i64,
    unit: i64,
    forms: &[(&str, &str, &[&str])],
    submitted: bool,
) -> Vec<i64> {
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{FieldValue, FormValues};
    use pingxuan_rules::workflow::Event;
    use pingxuan_store::applications::FlowUpdate;
    let mut ids = Vec::new();
    for (name, employer, fields) in forms {
        let (id, _) = s
            .create_application(
                &NewApplication::bare("xinjiang-2023", uid, "ZMKJ", 2023, "申报人"),
                pingxuan_store::testing::created,
            )
            .await
            .unwrap();
        let mut form = FormValues::new();
        form.insert(FieldKey::Name, FieldValue::Text((*name).into()));
        form.insert(
            FieldKey::EmployerAndPost,
            FieldValue::Text((*employer).into()),
        );
        form.insert(
            FieldKey::Field,
            FieldValue::List(fields.iter().map(|f| (*f).to_owned()).collect()),
        );
        s.save_application_form(id, 1, &form).await.unwrap();
        if submitted {
            s.set_application_units(
                id,
                &Binding {
                    recommender_unit_id: Some(unit),
                    ..Binding::none()
                },
            )
            .await
            .unwrap();
            let up = FlowUpdate {
                holder_level: 1,
                holder_role: "recommender".into(),
                state_text: "申报人提交到推荐单位".into(),
                quota: None,
                form_version: None,
                selection: None,
            };
            s.append_event(id, 0, Event::Submit { by: 0 }, uid, "", &up)
                .await
                .unwrap();
        }
        ids.push(id);
    }
    ids
}

async fn stored_terms(s: &pingxuan_store::Store) -> Vec<(i64, String, Vec<u8>)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT application_id, kind, term FROM application_terms \
         ORDER BY application_id, kind, term",
    )
    .fetch_all(&s.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

/// The terms the store writes are those migration 0011 computes in SQL for the rows it
/// found, on both databases: case, backslashes, long texts, short work units.
async fn search_terms_match_the_migration(db: TestDb) {
    let (s, uid) = seeded(&db).await;
    let unit = s
        .create_unit("xinjiang-2023", "乌鲁木齐市科协", Role::Recommender, None)
        .await
        .unwrap();
    // 300 different characters: suffixes start within the first 256.
    let long: String = (0..300u32)
        .map(|i| char::from_u32(0x4E00 + i).unwrap())
        .collect();
    let forms: [(&str, &str, &[&str]); 5] = [
        ("王", "科协", &[]),
        (
            "Zhang San 张三",
            "新疆大学化学学院 教授\\研究员",
            &["服务社会", "科技创新"],
        ),
        (
            "阿卜杜热合曼·买买提艾力江·吐尔逊",
            long.as_str(),
            &["面向世界科技前沿"],
        ),
        ("", "", &[]),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "50% _done_", &["100%"]),
    ];
    let ids = applications_with(&s, uid, unit, &forms, false).await;
    // Saved again with another name and work unit: the terms follow.
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{FieldValue, FormValues};
    let mut form = FormValues::new();
    form.insert(FieldKey::Name, FieldValue::Text("Li Si 李四".into()));
    form.insert(
        FieldKey::EmployerAndPost,
        FieldValue::Text("石河子大学".into()),
    );
    s.save_application_form(ids[1], 2, &form).await.unwrap();
    let written = stored_terms(&s).await;
    assert!(written.len() > 300, "{}", written.len());

    let file = match s.backend {
        pingxuan_store::Backend::Sqlite => {
            include_str!("../migrations/sqlite/0011_search_terms.sql")
        }
        pingxuan_store::Backend::Postgres => {
            include_str!("../migrations/postgres/0011_search_terms.sql")
        }
    };
    let at = file.find("INSERT INTO application_terms").unwrap();
    let backfill = &file[at..at + file[at..].find(";\n").unwrap()];
    sqlx::query("DELETE FROM application_terms")
        .execute(&s.pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(backfill))
        .execute(&s.pool)
        .await
        .unwrap();
    assert_eq!(stored_terms(&s).await, written, "migration 0011's backfill");

    assert_eq!(s.rebuild_search_terms().await.unwrap(), 5);
    assert_eq!(stored_terms(&s).await, written, "rebuild_search_terms");
}

/// 查询申报表's text box and 工作单位 through the terms (推荐领域 beside them): parts of 1 and 2
/// characters, the number in any case, long texts, LIKE's wildcards taken literally, totals
/// and pages, drafts and other units' applications left out.
async fn search_by_part_of_a_text(db: TestDb) {
    use pingxuan_store::applications::{SearchFilter, SearchScope, SearchSort};
    let (s, uid) = seeded(&db).await;
    let unit = s
        .create_unit("xinjiang-2023", "乌鲁木齐市科协", Role::Recommender, None)
        .await
        .unwrap();
    let other = s
        .create_unit("xinjiang-2023", "哈密市科协", Role::Recommender, None)
        .await
        .unwrap();
    let long = "中国科学院新疆生态与地理研究所荒漠植物研究中心";
    let mut forms: Vec<(String, &str, &[&str])> = vec![
        (
            "王小明".into(),
            "新疆大学化学学院",
            &["服务社会", "科技创新"],
        ),
        ("李明".into(), long, &["科技创新"]),
        ("Tom Wang".into(), "石河子大学农学院", &["服务社会"]),
        ("50%达标".into(), "新疆大学物理学院", &[]),
    ];
    for i in 0..21 {
        forms.push((
            format!("申报人{i:02}"),
            "塔里木大学动物科学学院",
            &["服务社会"],
        ));
    }
    let forms: Vec<(&str, &str, &[&str])> =
        forms.iter().map(|(n, e, f)| (n.as_str(), *e, *f)).collect();
    let ids = applications_with(&s, uid, unit, &forms, true).await;
    // A draft and another unit's application that would match are never shown here.
    applications_with(&s, uid, unit, &[("王小明", "新疆大学化学学院", &[])], false).await;
    let office = SearchScope {
        campaigns: vec!["xinjiang-2023".into()],
        ..SearchScope::default()
    };
    let mine = SearchScope {
        recommenders: vec![unit],
        ..SearchScope::default()
    };
    let theirs = SearchScope {
        recommenders: vec![other],
        ..SearchScope::default()
    };
    let search = |scope: &SearchScope, f: SearchFilter| {
        let (s, scope) = (s.clone(), scope.clone());
        async move {
            let (total, rows) = s
                .search_applications(&scope, &SearchFilter { page: 1, ..f })
                .await
                .unwrap();
            (total, rows.into_iter().map(|r| r.name).collect::<Vec<_>>())
        }
    };
    let text = |t: &str| SearchFilter {
        text: Some(t.to_owned()),
        ..SearchFilter::default()
    };
    assert_eq!(
        search(&office, text("王")).await,
        (1, vec!["王小明".into()])
    );
    assert_eq!(search(&office, text(" 明 ")).await.0, 2);
    assert_eq!(search(&office, text("小明")).await.0, 1);
    assert_eq!(
        search(&office, text("wang")).await,
        (1, vec!["Tom Wang".into()])
    );
    assert_eq!(search(&office, text("王明")).await.0, 0);
    assert_eq!(
        search(&office, text("%")).await,
        (1, vec!["50%达标".into()])
    );
    assert_eq!(search(&office, text("_")).await.0, 0, "no wildcard");
    assert_eq!(search(&mine, text("王")).await.0, 1);
    assert_eq!(search(&theirs, text("王")).await.0, 0);
    // The number in any case: ZMKJ20231, ZMKJ202310 … ZMKJ202319 (the draft is 26).
    let (total, _) = search(&office, text("zmkj20231")).await;
    assert_eq!(total, 11);
    let (total, names) = search(&office, text(&format!("ZMKJ2023{}", ids[2]))).await;
    assert!(total >= 1 && names.contains(&"Tom Wang".to_owned()));

    let employer = |e: &str| SearchFilter {
        employer: Some(e.to_owned()),
        ..SearchFilter::default()
    };
    assert_eq!(search(&office, employer("大学化学")).await.0, 1);
    assert_eq!(search(&office, employer("新疆大学")).await.0, 2);
    assert_eq!(
        search(&office, employer("大学")).await.0,
        25,
        "under 4: ignored"
    );
    // Longer than a term (16 characters): the candidates are checked whole.
    assert_eq!(search(&office, employer(long)).await.0, 1);
    let near = long.replace("中心", "所");
    assert_eq!(search(&office, employer(&near)).await.0, 0);
    let field = |v: &str| SearchFilter {
        field: Some(v.to_owned()),
        ..SearchFilter::default()
    };
    assert_eq!(search(&office, field("科技创新")).await.0, 2);
    assert_eq!(search(&office, field("服务社会、科技")).await.0, 1);
    let both = SearchFilter {
        text: Some("明".into()),
        employer: Some("新疆大学".into()),
        field: Some("科技创新".into()),
        ..SearchFilter::default()
    };
    assert_eq!(search(&office, both).await, (1, vec!["王小明".into()]));

    // Pages and sorts over the 21 matches of 申报人.
    let page = |p: i64, sort: SearchSort| {
        let s = s.clone();
        let office = office.clone();
        async move {
            let (total, rows) = s
                .search_applications(
                    &office,
                    &SearchFilter {
                        text: Some("申报人".into()),
                        sort,
                        page: p,
                        ..SearchFilter::default()
                    },
                )
                .await
                .unwrap();
            (total, rows.into_iter().map(|r| r.name).collect::<Vec<_>>())
        }
    };
    let (total, first) = page(1, SearchSort::NumberDesc).await;
    assert_eq!((total, first.len()), (21, 20));
    assert_eq!(first[0], "申报人20");
    assert_eq!(
        page(2, SearchSort::NumberDesc).await,
        (21, vec!["申报人00".into()])
    );
    assert_eq!(page(3, SearchSort::NumberDesc).await, (21, vec![]));
    assert_eq!(page(1, SearchSort::Recommender).await.1[0], "申报人20");
    assert_eq!(page(1, SearchSort::MovedAt).await.0, 21);

    // A new name replaces the old one's terms.
    use pingxuan_rules::campaign::FieldKey;
    use pingxuan_rules::form::{FieldValue, FormValues};
    let (draft, _) = s
        .create_application(
            &NewApplication::bare("xinjiang-2023", uid, "ZMKJ", 2023, "申报人"),
            pingxuan_store::testing::created,
        )
        .await
        .unwrap();
    for (version, name) in [(1, "赵一"), (2, "钱二")] {
        let mut form = FormValues::new();
        form.insert(FieldKey::Name, FieldValue::Text(name.into()));
        s.save_application_form(draft, version, &form)
            .await
            .unwrap();
    }
    let mine_drafts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM application_terms WHERE application_id = $1 AND kind = 'q'",
    )
    .bind(draft)
    .fetch_one(&s.pool)
    .await
    .unwrap();
    // 钱二, 二 and the number's suffixes (ZMKJ202327: 10 characters).
    assert_eq!(mine_drafts, 12);
}
