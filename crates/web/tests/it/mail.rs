//! Mail through a real SMTP conversation: a failing server delays mail and loses
//! nothing; once the server answers, the queued mail goes out with its words.

use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;
use pingxuan_web::mail::{Mailer, deliver_due};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::start;

on_both_databases!(failing_server_delays_and_loses_nothing);

/// A minimal SMTP server that accepts every message and hands back what it received.
async fn smtp_sink() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = sock.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut data = None::<String>;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap_or_default()).ok();
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, rx)
}

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
