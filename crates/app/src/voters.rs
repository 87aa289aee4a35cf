//! A member of the public proves a phone before voting (issue 19): phone → (the image
//! captcha, checked by the web layer) → a 6-digit code by SMS → a voter's session for the
//! campaign. The limits are `rules::vote::verify`'s, kept by the store in single
//! conditional statements; the SMS goes through the configured provider, and a failed
//! or hanging gateway leaves no usable code and gives the send back.

use pingxuan_rules::idcard::mask_mobile;
use pingxuan_rules::vote::verify::{self, Caps};
use pingxuan_sms::{Message, Sms};
use pingxuan_store::Store;
use pingxuan_store::voters::{Phone, Reserved};

use crate::error::{Error, Result};

/// A voter's session lasts 24 hours from the proof; then the phone is proven again.
pub const SESSION_SECS: i64 = 24 * 3600;

/// The campaign's public name for the message, refusing a campaign without a vote.
async fn voting_campaign(store: &Store, campaign_id: &str) -> Result<String> {
    let c = crate::applications::campaign_model(store, campaign_id).await?;
    if !c
        .stages
        .iter()
        .any(|s| s.kind == pingxuan_rules::campaign::StageKind::Vote)
    {
        return Err(Error::NotFound);
    }
    Ok(c.campaign.short_name.clone())
}

/// Codes go out only while a vote of the campaign takes votes (an SMS costs money): a
/// vote stage open and within its times; else the refusal with the times.
async fn taking_votes(store: &Store, campaign_id: &str, now: i64) -> Result<()> {
    let c = crate::applications::campaign_model(store, campaign_id).await?;
    let events = store.stage_events(campaign_id).await?;
    let mut refusal = None;
    for (i, s) in c.stages.iter().enumerate() {
        if s.kind != pingxuan_rules::campaign::StageKind::Vote {
            continue;
        }
        let round = crate::votes::round_of(c.clone(), i, &events);
        let window = pingxuan_rules::vote::window(&s.vote.clone().unwrap_or_default(), now);
        match (round.phase, window) {
            (pingxuan_rules::selection::stage::Phase::Open, Ok(())) => return Ok(()),
            (pingxuan_rules::selection::stage::Phase::Open, Err(r)) => refusal = Some(r),
            _ => {}
        }
    }
    Err(match refusal {
        Some(r) => Error::conflict(r.code, r.message),
        None => Error::conflict("vote_not_open", "投票尚未开始或已经结束，暂不能获取验证码"),
    })
}

fn phone_of(typed: &str) -> Result<String> {
    verify::phone(typed).map_err(|m| Error::invalid("phone_invalid", m, Some("phone")))
}

/// The code's hash: keyed by the sealing key and bound to the phone, so a table read
/// gives away neither.
fn code_hash(store: &Store, lookup: &str, code: &str) -> String {
    store.sealer.lookup(&format!("vote-code:{lookup}:{code}"))
}

/// Sends a code to the phone typed, within the limits; the gateway's failure is said
/// as “短信发送失败，请稍后重试” and keeps nothing usable.
pub async fn send_code(
    store: &Store,
    sms: &dyn Sms,
    caps: Caps,
    campaign_id: &str,
    typed_phone: &str,
    client_ip: &str,
    now: i64,
) -> Result<()> {
    let short_name = voting_campaign(store, campaign_id).await?;
    let phone = phone_of(typed_phone)?;
    taking_votes(store, campaign_id, now).await?;
    let lookup = store.sealer.lookup(&phone);
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let day = pingxuan_rules::vote::day(now).to_string();
    let hour = now.div_euclid(3600);
    let id = match store
        .reserve_vote_code(
            campaign_id,
            &lookup,
            &code_hash(store, &lookup, &code),
            client_ip,
            now,
            &day,
            hour,
            caps,
        )
        .await?
    {
        Reserved::Code(id) => id,
        Reserved::Refused(sending) => {
            let r = verify::refusal(sending, caps, now).unwrap_or(verify::SendRefusal::TooSoon {
                wait: verify::RESEND_AFTER,
            });
            return Err(Error::Conflict {
                code: r.code(),
                message: r.message(),
                field: Some("phone".to_owned()),
            });
        }
    };
    let text = verify::sms_text(&short_name, &code);
    let message = Message {
        phone: &phone,
        text: &text,
        code: &code,
    };
    match sms.send(&message).await {
        Ok(()) => {
            store.vote_code_delivered(id).await?;
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "verification code not sent");
            // The code stays unusable either way. The send is given back only when the
            // gateway surely sent nothing; after a timeout it may have (no free resends).
            if !matches!(e, pingxuan_sms::SmsError::Timeout(_)) {
                store
                    .vote_code_failed(campaign_id, &lookup, client_ip, now, &day, hour)
                    .await?;
            }
            Err(Error::conflict("sms_failed", "短信发送失败，请稍后重试"))
        }
    }
}

/// A signed-in voter: the session's secret for the cookie, the voter, the phone masked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub session: String,
    pub voter_id: i64,
    pub masked: String,
}

/// Checks the code typed for the phone; right, the voter is signed in for the campaign.
pub async fn verify(
    store: &Store,
    campaign_id: &str,
    typed_phone: &str,
    typed_code: &str,
    now: i64,
) -> Result<Verified> {
    voting_campaign(store, campaign_id).await?;
    let phone = phone_of(typed_phone)?;
    let code = verify::typed_code(typed_code)
        .map_err(|m| Error::invalid("code_invalid", m, Some("code")))?;
    let lookup = store.sealer.lookup(&phone);
    let masked = mask_mobile(&phone);
    let session = pingxuan_store::crypto::new_token();
    let p = Phone {
        campaign_id,
        lookup: &lookup,
        sealed: &store.sealer.seal(&phone),
        masked: &masked,
    };
    match store
        .verify_vote_code(
            &p,
            &code_hash(store, &lookup, &code),
            now,
            &pingxuan_store::crypto::token_hash(&session),
            now + SESSION_SECS,
        )
        .await?
    {
        Ok(voter_id) => Ok(Verified {
            session,
            voter_id,
            masked,
        }),
        Err(state) => {
            let (code, message) = verify::wrong(state, now);
            Err(Error::invalid(code, message, Some("code")))
        }
    }
}

/// The voter of a session cookie, for `campaign_id`.
pub async fn voter_of(
    store: &Store,
    campaign_id: &str,
    session: &str,
    now: i64,
) -> Result<Option<i64>> {
    Ok(store
        .vote_session(&pingxuan_store::crypto::token_hash(session), now)
        .await?
        .filter(|(_, c)| c == campaign_id)
        .map(|(v, _)| v))
}
