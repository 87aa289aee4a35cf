//! A member of the public proves a phone: the number's form; a code by SMS, not again
//! within a minute, so many a phone a day and an address an hour; wrong guesses counted
//! down to none; a late code refused; the right one signs the voter in; a gateway that
//! refuses or hangs keeps no usable code and gives the send back.

use std::sync::{Arc, Mutex};

use pingxuan_app::Error;
use pingxuan_app::voters::{send_code, verify, voter_of};
use pingxuan_rules::vote::verify::Caps;
use pingxuan_sms::{Message, Sms, SmsError};
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;

use crate::common::start;

on_both_databases!(a_phone_is_proven_within_its_limits);

const CID: &str = "dongguan-2023";

/// An SMS provider that keeps what it sends, or fails when told to.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<(String, String)>>,
    failing: Mutex<bool>,
}

impl Sms for Outbox {
    fn send<'a>(
        &'a self,
        m: &'a Message<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SmsError>> + Send + 'a>>
    {
        Box::pin(async move {
            if *self.failing.lock().unwrap() {
                return Err(SmsError::Unreachable("test gateway down".to_owned()));
            }
            self.sent
                .lock()
                .unwrap()
                .push((m.phone.to_owned(), m.code.to_owned()));
            Ok(())
        })
    }
}

impl Outbox {
    fn last_code(&self) -> String {
        self.sent.lock().unwrap().last().unwrap().1.clone()
    }
}

fn refused(e: Error) -> (&'static str, String) {
    match e {
        Error::Conflict { code, message, .. } | Error::Invalid { code, message, .. } => {
            (code, message)
        }
        other => panic!("{other:?}"),
    }
}

async fn a_phone_is_proven_within_its_limits(db: TestDb) {
    let app = start(db, CaptchaPolicy::Off).await;
    // Codes go out only while the vote takes votes.
    crate::votes::open_round(&app, 1, crate::votes::ALWAYS, 30).await;
    app.seed("xinjiang-2023.toml").await;
    let store = &app.store;
    let sms = Arc::new(Outbox::default());
    let caps = Caps {
        per_phone_day: 4,
        per_ip_hour: 4,
    };
    let t0 = 1_700_000_000; // 2023-11-15 06:13:20 Beijing
    let send = |phone: &'static str, ip: &'static str, now: i64| {
        let sms = sms.clone();
        async move { send_code(store, sms.as_ref(), caps, CID, phone, ip, now).await }
    };

    let (code, message) = refused(send("1381234567", "198.51.100.1", t0).await.unwrap_err());
    assert_eq!(code, "phone_invalid");
    assert_eq!(message, "请输入正确的 11 位手机号码（如 13812345678）");
    send("138 1234 5678", "198.51.100.1", t0).await.unwrap();
    assert_eq!(sms.sent.lock().unwrap()[0].0, "13812345678");
    let first = sms.last_code();
    assert_eq!(first.len(), 6);
    // Again within the minute: refused with the seconds to wait.
    let (code, message) = refused(
        send("13812345678", "198.51.100.1", t0 + 42)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_too_soon");
    assert_eq!(message, "验证码已发送，请 18 秒后再重新获取");

    // Wrong guesses count down; the fifth spends the code.
    let wrong = if first == "000000" {
        "111111"
    } else {
        "000000"
    };
    for left in (1..=4).rev() {
        let (code, message) = refused(
            verify(store, CID, "13812345678", wrong, t0 + 10)
                .await
                .unwrap_err(),
        );
        assert_eq!(code, "code_wrong");
        assert_eq!(message, format!("验证码错误，还可尝试 {left} 次"));
    }
    let (code, _) = refused(
        verify(store, CID, "13812345678", wrong, t0 + 10)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_exhausted");
    let (code, _) = refused(
        verify(store, CID, "13812345678", &first, t0 + 10)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_exhausted", "a spent code stays spent");

    // A new code after the minute; five minutes later it is too late.
    send("13812345678", "198.51.100.1", t0 + 60).await.unwrap();
    let second = sms.last_code();
    let (code, message) = refused(
        verify(store, CID, "13812345678", &second, t0 + 60 + 300)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, message.as_str()),
        ("code_expired", "验证码已过期（5 分钟内有效），请重新获取")
    );
    // The gateway down: refused in words, nothing usable, the send given back (no wait).
    *sms.failing.lock().unwrap() = true;
    let (code, message) = refused(
        send("13812345678", "198.51.100.1", t0 + 120)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (code, message.as_str()),
        ("sms_failed", "短信发送失败，请稍后重试")
    );
    *sms.failing.lock().unwrap() = false;
    send("13812345678", "198.51.100.1", t0 + 121).await.unwrap();
    let third = sms.last_code();
    let v = verify(store, CID, "138-1234-5678", &third, t0 + 130)
        .await
        .unwrap();
    assert_eq!(v.masked, "138****5678");
    assert_eq!(
        voter_of(store, CID, &v.session, t0 + 131).await.unwrap(),
        Some(v.voter_id)
    );
    assert_eq!(
        voter_of(store, "xinjiang-2023", &v.session, t0 + 131)
            .await
            .unwrap(),
        None
    );
    let (code, _) = refused(
        verify(store, CID, "13812345678", &third, t0 + 140)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_used");
    // The same phone proven again is the same voter.
    send("13812345678", "198.51.100.2", t0 + 200).await.unwrap();
    let again = verify(store, CID, "13812345678", &sms.last_code(), t0 + 201)
        .await
        .unwrap();
    assert_eq!(again.voter_id, v.voter_id);
    // The day's cap of 4 sends reached (the failed one not counted).
    let (code, message) = refused(
        send("13812345678", "198.51.100.3", t0 + 300)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_phone_day");
    assert_eq!(
        message,
        "该手机号今日获取验证码已达 4 次上限，请明日 00:00 后再试"
    );
    // An address's hour: 4 sends from one address, then refused for a fifth phone.
    for phone in ["13900000001", "13900000002", "13900000003", "13900000004"] {
        send(phone, "203.0.113.9", t0 + 400).await.unwrap();
    }
    let (code, _) = refused(
        send("13900000005", "203.0.113.9", t0 + 401)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "code_ip_hour");
    // After the vote has closed no code goes out (an SMS costs money).
    let (code, message) = refused(
        send("13900000007", "10.0.0.7", 4_200_000_000)
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "vote_closed");
    assert!(message.starts_with("投票已于 2099年1月1日"), "{message}");
    // A code for a campaign without a vote: not found.
    assert!(matches!(
        send_code(
            store,
            sms.as_ref(),
            caps,
            "xinjiang-2023",
            "13900000009",
            "10.0.0.1",
            t0
        )
        .await,
        Err(Error::NotFound)
    ));
}
