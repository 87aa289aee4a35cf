//! The store on both databases: constraints become clear errors, revisions count up,
//! mail retries, nothing is half-written.

use pingxuan_rules::Role;
use pingxuan_rules::campaign::{SEEDS, load};
use pingxuan_store::accounts::{LoginOutcome, NewUser};
use pingxuan_store::testing::TestDb;
use pingxuan_store::{StoreError, on_both_databases};

on_both_databases!(
    accounts_and_roles,
    campaigns_and_units,
    mail_outbox,
    sessions_and_captcha,
    calendar_years
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
        Err(StoreError::Duplicate("登录名"))
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

    s.set_password(id, "Another-pass-7").await.unwrap();
    assert!(matches!(
        s.set_password(id, "Kexie-2024-ok").await,
        Err(StoreError::Duplicate(_))
    ));
    s.delete_user(id).await.unwrap();
    assert!(s.roles_of(id).await.unwrap().is_empty());
}

async fn campaigns_and_units(db: TestDb) {
    let s = db.store().await;
    let (_, text) = SEEDS[0];
    let c = load(text).campaign.unwrap();
    assert_eq!(s.save_campaign(&c, text, None).await.unwrap(), 1);
    assert_eq!(s.save_campaign(&c, text, None).await.unwrap(), 2);
    let stored = s.get_campaign("guangxi-2024").await.unwrap().unwrap();
    assert_eq!(stored.model().unwrap().campaign.winners, 10);
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
}

async fn sessions_and_captcha(db: TestDb) {
    let s = db.store().await;
    let (token, session) = s.create_session(None, Some("127.0.0.1")).await.unwrap();
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
    s.delete_session(&session.id_hash).await.unwrap();
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
    s.save_calendar_year(&year, text).await.unwrap();
    s.save_calendar_year(&year, text).await.unwrap();
    let cal = s.work_calendar().await.unwrap();
    assert_eq!(cal.is_working_day(date!(2027 - 01 - 04)), Ok(true));
    assert_eq!(cal.is_working_day(date!(2027 - 01 - 01)), Ok(false));
    assert_eq!(cal.years().count(), 5);
}
