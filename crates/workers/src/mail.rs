//! Sending the mail outbox: through SMTP when a server is configured, otherwise into
//! the log (so a reset link is never lost on a machine without mail).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use pingxuan_store::Store;
use pingxuan_store::outbox::Mail;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    Log,
}

impl Mailer {
    /// From an SMTP URL such as `smtps://user:pass@smtp.example.com` or
    /// `smtp://127.0.0.1:2525` (lettre's URL form) and a sender address.
    pub fn smtp(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let transport = Box::new(transport);
        let from: Mailbox = from.parse()?;
        Ok(Mailer::Smtp { transport, from })
    }

    async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        match self {
            Mailer::Log => {
                tracing::info!(to = %mail.to_addr, subject = %mail.subject, body = %mail.body, "mail (no SMTP server configured)");
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(mail.to_addr.parse()?)
                    .subject(&mail.subject)
                    .body(mail.body.clone())?;
                transport.send(message).await?;
                Ok(())
            }
        }
    }
}

/// Mails one sender claims at a time, and how long it holds them: enough for each to
/// hit the SMTP timeout (20 s) before another server may try them.
const BATCH: i64 = 20;
const LEASE_SECS: i64 = 600;

/// Sends what is due once, claimed in `owner`'s name so that another server's sender
/// does not send the same mail; returns how many went out.
pub async fn deliver_due(store: &Store, mailer: &Mailer, owner: &str) -> anyhow::Result<usize> {
    let mut sent = 0;
    for mail in store.claim_due_mail(owner, BATCH, LEASE_SECS).await? {
        match mailer.send(&mail).await {
            Ok(()) => {
                store.mark_mail_sent(mail.id).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(id = mail.id, error = %e, "mail not sent; will retry");
                store
                    .mark_mail_failed(mail.id, mail.attempts, &e.to_string())
                    .await?;
            }
        }
    }
    Ok(sent)
}

/// Runs for the life of the server, sending due mail every few seconds.
pub async fn run_outbox(store: Store, mailer: Mailer, owner: String) {
    loop {
        if let Err(e) = deliver_due(&store, &mailer, &owner).await {
            tracing::warn!(error = %e, "mail outbox run failed");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
