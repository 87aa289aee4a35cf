//! Signing in and out, and a forgotten password: the lockout, the captcha an account's
//! recent failures demand, the audit entries, the new session, the reset link by mail
//! and its single use. The web keeps only what is HTTP (the cookie, the per-address
//! limits kept in memory, the pages).

use pingxuan_store::Store;
use pingxuan_store::accounts::{LoginOutcome, User};
use pingxuan_store::audit::Audit;
use pingxuan_store::tokens::ResetError;

use crate::error::Error;

/// One attempt to sign in from a browser session.
pub struct Attempt<'a> {
    pub login: &'a str,
    pub password: &'a str,
    /// The browser session's id hash (its failures and its captcha answer live there).
    pub session: &'a str,
    /// Whether the web's policy already demands the captcha of this browser or address.
    pub captcha_demanded: bool,
    /// With the policy “after N failures”: N, so an account failing from elsewhere
    /// demands it too (a fresh cookie does not avoid it).
    pub captcha_after: Option<u32>,
    pub captcha: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub enum SignIn {
    /// Signed in on a new session (a planted cookie is not carried over).
    Done { user: User, token: String },
    Refused {
        message: String,
        /// Whether the next try must carry the captcha.
        captcha: bool,
        /// Whether this counted as a failed password (the web counts it per address).
        failed: bool,
    },
}

pub async fn sign_in(store: &Store, a: &Attempt<'_>) -> Result<SignIn, Error> {
    let account_failing = match a.captcha_after {
        Some(n) => store.recent_failures(a.login).await? >= n,
        None => false,
    };
    let captcha = a.captcha_demanded || account_failing;
    if captcha {
        let guess = a.captcha.unwrap_or("").trim();
        // A browser that was shown no captcha (the account failed elsewhere) is asked
        // for one, not told that it typed it wrong.
        if guess.is_empty() {
            return Ok(SignIn::Refused {
                message: "为保护账号安全，请输入图中的验证码后再登录".to_owned(),
                captcha: true,
                failed: false,
            });
        }
        if !store.check_captcha(a.session, guess).await? {
            return Ok(SignIn::Refused {
                message: "验证码不正确，请看清新的图片后重新输入".to_owned(),
                captcha: true,
                failed: false,
            });
        }
    }
    let user = match store.authenticate(a.login, a.password).await? {
        LoginOutcome::Ok(user) => user,
        other => {
            store.count_session_failure(a.session).await?;
            let message = match other {
                LoginOutcome::Locked { secs_left } => format!(
                    "连续输错密码次数过多，账号已锁定，请 {} 分钟后再试或找回密码",
                    (secs_left + 59) / 60
                ),
                LoginOutcome::Inactive => "该账号已停用，请联系活动办公室".to_owned(),
                LoginOutcome::Refused { remaining } => format!(
                    "账号或密码不正确，还可尝试 {remaining} 次，都不正确时账号将锁定 {} 分钟",
                    pingxuan_rules::password::LOCKOUT_SECS / 60
                ),
                LoginOutcome::Ok(_) => unreachable!("handled above"),
            };
            // A digest, not the typed text: it may be a phone number, or a password typed
            // into the wrong box.
            let digest = store
                .sealer
                .lookup(&pingxuan_store::accounts::normalize_login(a.login));
            store
                .audit(
                    None,
                    "login_failed",
                    &format!("login:{}", &digest[..16]),
                    &message,
                    a.ip,
                )
                .await?;
            // The account's failures, this one counted, may now demand the captcha.
            let account_now = match a.captcha_after {
                Some(n) => store.recent_failures(a.login).await? >= n,
                None => false,
            };
            return Ok(SignIn::Refused {
                message,
                captcha: captcha || account_now,
                failed: true,
            });
        }
    };
    store.delete_session(a.session, None).await?;
    let audit = Audit::new(Some(user.id), "login", format!("user:{}", user.id)).ip(a.ip);
    let (token, _) = store
        .create_session(Some(user.id), a.ip, Some(&audit))
        .await?;
    Ok(SignIn::Done { user, token })
}

/// Ends a browser's session, with the account's audit entry when someone was signed in.
pub async fn sign_out(
    store: &Store,
    session: &str,
    user_id: Option<i64>,
    ip: Option<&str>,
) -> Result<(), Error> {
    let audit = user_id.map(|uid| Audit::new(Some(uid), "logout", format!("user:{uid}")).ip(ip));
    store.delete_session(session, audit.as_ref()).await?;
    Ok(())
}

/// A session for an account that has just proved itself (registration), replacing the
/// browser's anonymous one.
pub async fn start_session(
    store: &Store,
    user_id: i64,
    old_session: &str,
    ip: Option<&str>,
) -> Result<String, Error> {
    store.delete_session(old_session, None).await?;
    let audit = Audit::new(Some(user_id), "login", format!("user:{user_id}")).ip(ip);
    let (token, _) = store
        .create_session(Some(user_id), ip, Some(&audit))
        .await?;
    Ok(token)
}

/// 找回密码: a reset link by mail to the account's e-mail, valid `ttl_secs`. Says
/// nothing about whether the account exists (the caller answers the same either way).
pub async fn request_reset(
    store: &Store,
    login: &str,
    ttl_secs: i64,
    public_url: &str,
    ip: Option<&str>,
) -> Result<(), Error> {
    let Some(user) = store.find_user(login).await? else {
        return Ok(());
    };
    let (Some(email), true) = (&user.email, user.active) else {
        return Ok(());
    };
    let token = store.create_password_reset(user.id, ttl_secs).await?;
    let link = format!("{public_url}/password/reset/{token}");
    let body = format!(
        "{}，您好：\n\n有人（希望是您本人）申请重设最美科技工作者评选平台的登录密码。\n请在 {} 分钟内打开下面的链接设置新密码：\n\n{link}\n\n如果不是您本人操作，请忽略本邮件，您的密码不会改变。\n",
        user.display_name,
        ttl_secs / 60
    );
    store.enqueue_mail(email, "重设登录密码", &body).await?;
    store
        .audit(
            Some(user.id),
            "password_reset_requested",
            &format!("user:{}", user.id),
            "",
            ip,
        )
        .await?;
    Ok(())
}

/// Why a reset link does not work, in words.
pub fn reset_link_problem(e: ResetError) -> String {
    match e {
        ResetError::Unknown => "重置链接无效，请确认链接完整，或重新申请".to_owned(),
        ResetError::Expired => "重置链接已过期，请重新申请".to_owned(),
        ResetError::Used => "该重置链接已经使用过，请重新申请".to_owned(),
    }
}

/// A reset that did not happen: the link is unusable (`fatal`), or the new password is
/// refused and the form may be tried again.
pub enum ResetRefusal {
    Fatal(String),
    Password(String),
}

/// Sets a new password through a reset link, once. Whoever may have had the account
/// loses it: its sessions, API tokens and other links end.
pub async fn reset_password(
    store: &Store,
    token: &str,
    password: &str,
    repeated: &str,
    ip: Option<&str>,
) -> Result<Result<(), ResetRefusal>, Error> {
    let user_id = match store.peek_password_reset(token).await? {
        Ok(id) => id,
        Err(e) => return Ok(Err(ResetRefusal::Fatal(reset_link_problem(e)))),
    };
    let user = store.get_user(user_id).await?.ok_or(Error::NotFound)?;
    if let Err(e) = pingxuan_rules::password::check_strength(password, &user.login) {
        return Ok(Err(ResetRefusal::Password(e)));
    }
    if password != repeated {
        return Ok(Err(ResetRefusal::Password(
            "两次输入的密码不一致".to_owned(),
        )));
    }
    // Claim the link first: of two uses at once, only one gets through.
    if !store.use_password_reset(token).await? {
        return Ok(Err(ResetRefusal::Fatal(reset_link_problem(
            ResetError::Used,
        ))));
    }
    let audit = Audit::new(Some(user_id), "password_reset", format!("user:{user_id}")).ip(ip);
    match store.set_password(user_id, password, &audit).await {
        Ok(()) => {}
        Err(pingxuan_store::StoreError::Duplicate(_)) => {
            store.release_password_reset(token).await?;
            return Ok(Err(ResetRefusal::Password(
                "新密码不能与最近 5 次使用过的密码相同".to_owned(),
            )));
        }
        Err(e) => {
            store.release_password_reset(token).await?;
            return Err(e.into());
        }
    }
    store.revoke_api_tokens_of(user_id).await?;
    store.close_password_resets_of(user_id).await?;
    store.delete_sessions_of(user_id).await?;
    Ok(Ok(()))
}
