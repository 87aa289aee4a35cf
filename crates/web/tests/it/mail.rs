//! Mail through a real SMTP conversation: a failing server delays mail and loses
//! nothing; once the server answers, the queued mail goes out with its words.

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use pingxuan_web::testing::smtp_sink;
use pingxuan_workers::mail::{Mailer, deliver_due};

use crate::common::start;

on_both_databases!(failing_server_delays_and_loses_nothing);

async fn failing_server_delays_and_loses_nothing(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    let id = app
        .store
        .enqueue_mail(
            "ceshi@example.com",
            "申请书已退回",
            "修改意见：请补充第二个感人故事",
        )
        .await
        .unwrap();
    // Nothing listens on this port: the attempt fails, the mail stays queued.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let from = "最美科技工作者评选平台 <noreply@example.com>";
    let dead = Mailer::smtp(&format!("smtp://127.0.0.1:{dead_port}"), from).unwrap();
    assert_eq!(deliver_due(&app.store, &dead, "test").await.unwrap(), 0);
    let queued = app.store.mail_to("ceshi@example.com").await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].attempts, 1);
    assert!(
        queued[0].body.contains("请补充第二个感人故事"),
        "kept for the next try"
    );
    // The next try waits (1 minute after the first failure).
    assert!(app.store.due_mail(10).await.unwrap().is_empty());

    sqlx::query("UPDATE mail_outbox SET next_attempt_at = 0 WHERE id = $1")
        .bind(id)
        .execute(&app.store.pool)
        .await
        .unwrap();
    let (port, mut received) = smtp_sink().await;
    let live = Mailer::smtp(&format!("smtp://127.0.0.1:{port}"), from).unwrap();
    assert_eq!(deliver_due(&app.store, &live, "test").await.unwrap(), 1);
    let message = received.recv().await.unwrap();
    assert!(message.contains("To: ceshi@example.com"), "{message}");
    assert!(
        message.contains("Subject: =?utf-8?"),
        "a Chinese subject is encoded: {message}"
    );
    let sent = app.store.mail_to("ceshi@example.com").await.unwrap();
    assert_eq!(sent[0].attempts, 2);
    assert_eq!(sent[0].body, "", "the body is not kept once sent");
    assert!(app.store.due_mail(10).await.unwrap().is_empty());
}
