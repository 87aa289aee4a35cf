//! Accounts made by organisers and admins: unit, expert, organiser and admin accounts
//! with an initial password shown once, each with its audit entry.

use pingxuan_store::Store;
use pingxuan_store::audit::Audit;

use crate::access::Access;
use crate::error::Error;

/// An account an organiser or admin asks to create.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountRequest {
    /// 登录名（单位账号名、手机号或电子邮箱）：1–64 个字符，不含空格.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\S{1,64}$"))]
    pub login: String,
    /// 姓名或单位名称（60 字以内）.
    #[cfg_attr(feature = "openapi", schema(pattern = r"\S", max_length = 60))]
    pub name: String,
    /// The role, by key or by its Chinese name; applicants and voters register themselves.
    #[cfg_attr(feature = "openapi", schema(schema_with = assignable_roles))]
    pub role: String,
    /// The campaign the role belongs to (not for admin).
    #[serde(default)]
    pub campaign: Option<String>,
    /// For unit roles: the unit's name; created in the campaign when new.
    #[serde(default)]
    pub unit: Option<String>,
    /// For a new recommending unit: its category (key or name from the campaign).
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

pub struct CreatedAccount {
    pub id: i64,
    pub login: String,
    /// The initial password, shown once.
    pub password: String,
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Creates a unit, expert, organiser or admin account. Admins may create any of them;
/// an organiser may create unit and expert accounts for the campaigns they organise.
pub async fn create_account(
    store: &Store,
    access: &Access,
    req: &AccountRequest,
    ip: Option<&str>,
) -> Result<CreatedAccount, Error> {
    use pingxuan_rules::Role;
    use pingxuan_store::accounts::NewUser;

    let role: Role = req
        .role
        .parse()
        .map_err(|e: pingxuan_rules::role::UnknownRole| {
            Error::invalid("invalid_role", e.to_string(), Some("role"))
        })?;
    if !role.is_assigned() {
        return Err(Error::invalid(
            "invalid_role",
            format!("{}由本人在网页上注册，不由他人创建", role.label()),
            Some("role"),
        ));
    }
    let campaign = blank(&req.campaign);
    let allowed = access.is_admin()
        || (matches!(role, Role::WorkUnit | Role::Recommender | Role::Expert)
            && campaign.is_some_and(|c| access.organizes(c)));
    if !allowed {
        return Err(Error::Forbidden);
    }
    let login = req.login.trim();
    if login.is_empty() || login.chars().count() > 64 || login.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            "invalid_login",
            "登录名须为 1–64 个字符，不含空格",
            Some("login"),
        ));
    }
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::invalid(
            "invalid_name",
            "请填写姓名或单位名称（60 字以内）",
            Some("name"),
        ));
    }
    let email = blank(&req.email);
    if let Some(e) = email
        && !matches!(
            pingxuan_rules::form::parse_contact(e),
            Some(pingxuan_rules::form::Contact::Email(_))
        )
    {
        return Err(Error::invalid(
            "invalid_email",
            format!("“{e}”不是有效的电子邮箱"),
            Some("email"),
        ));
    }
    if role != Role::Admin && role != Role::Organizer && campaign.is_none() {
        return Err(Error::invalid(
            "campaign_required",
            format!("{}账号须属于一个活动", role.label()),
            Some("campaign"),
        ));
    }
    let stored = match campaign {
        Some(c) => Some(store.get_campaign(c).await?.ok_or_else(|| {
            Error::invalid(
                "unknown_campaign",
                format!("活动 {c} 不存在"),
                Some("campaign"),
            )
        })?),
        None => None,
    };
    if store.find_user(login).await?.is_some() {
        return Err(Error::Conflict {
            code: "duplicate",
            message: format!("登录名“{login}”已被使用"),
            field: Some("login".to_owned()),
        });
    }
    let unit_id = if role.is_unit() {
        let (Some(c), Some(stored)) = (campaign, &stored) else {
            unreachable!("unit roles have a campaign, checked above")
        };
        let unit_name = blank(&req.unit).ok_or_else(|| {
            Error::invalid(
                "unit_required",
                format!("{}账号须填写单位名称", role.label()),
                Some("unit"),
            )
        })?;
        let existing = store.list_units(c).await?;
        match existing
            .iter()
            .find(|u| u.name == unit_name && u.kind == role)
        {
            Some(u) => Some(u.id),
            None => {
                let model = stored.model()?;
                let category = match (role, blank(&req.category)) {
                    (Role::Recommender, None) => {
                        return Err(Error::invalid(
                            "category_required",
                            format!(
                                "新的推荐单位须选择类别：{}",
                                model
                                    .recommender_categories
                                    .iter()
                                    .map(|c| c.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join("、")
                            ),
                            Some("category"),
                        ));
                    }
                    (Role::Recommender, Some(given)) => Some(
                        model
                            .recommender_categories
                            .iter()
                            .find(|c| c.key == given || c.name == given)
                            .map(|c| c.key.clone())
                            .ok_or_else(|| {
                                Error::invalid(
                                    "unknown_category",
                                    format!("“{given}”不是本活动的推荐单位类别"),
                                    Some("category"),
                                )
                            })?,
                    ),
                    _ => None,
                };
                Some(
                    store
                        .create_unit(c, unit_name, role, category.as_deref())
                        .await?,
                )
            }
        }
    } else {
        None
    };
    let password = pingxuan_store::crypto::new_password();
    let id = store
        .create_account(
            NewUser {
                login: login.to_owned(),
                display_name: name.to_owned(),
                email: email.map(str::to_owned),
                mobile: None,
                password: password.clone(),
            },
            role,
            campaign,
            unit_id,
            |id| {
                let detail = format!(
                    "{}{}",
                    role.label(),
                    campaign.map(|c| format!(" · {c}")).unwrap_or_default()
                );
                Audit::new(access.actor(), "account_created", format!("user:{id}"))
                    .detail(detail)
                    .ip(ip)
            },
        )
        .await?;
    Ok(CreatedAccount {
        id,
        login: login.to_owned(),
        password,
    })
}

/// An account the operator creates at the command line, with a password of their
/// choosing or a generated one, for a unit that already exists.
#[derive(Debug, Clone, Default)]
pub struct OperatorAccount<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub role: Option<pingxuan_rules::Role>,
    pub campaign: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub email: Option<&'a str>,
    pub mobile: Option<&'a str>,
    /// `None`: generated, and shown once.
    pub password: Option<&'a str>,
}

/// Creates any assigned account; only an admin (or the operator) may.
pub async fn add(
    store: &Store,
    access: &Access,
    spec: OperatorAccount<'_>,
    ip: Option<&str>,
) -> Result<CreatedAccount, Error> {
    use pingxuan_rules::Role;
    use pingxuan_store::accounts::NewUser;

    access.require_admin()?;
    let role = spec
        .role
        .ok_or_else(|| Error::invalid("invalid_role", "请写明角色", Some("role")))?;
    if !role.is_assigned() {
        return Err(Error::invalid(
            "invalid_role",
            format!("{}账号由本人在网页上注册，不由他人创建", role.label()),
            Some("role"),
        ));
    }
    if role.is_unit() && (spec.campaign.is_none() || spec.unit.is_none()) {
        return Err(Error::invalid(
            "unit_required",
            format!("{}账号须同时写明活动和单位", role.label()),
            Some("unit"),
        ));
    }
    if role == Role::Expert && spec.campaign.is_none() {
        return Err(Error::invalid(
            "campaign_required",
            "评审专家账号须写明活动",
            Some("campaign"),
        ));
    }
    if let Some(c) = spec.campaign
        && store.get_campaign(c).await?.is_none()
    {
        return Err(Error::invalid(
            "unknown_campaign",
            format!("活动 {c} 不存在，请先载入活动文件"),
            Some("campaign"),
        ));
    }
    let unit_id = match (spec.unit, spec.campaign) {
        (Some(name), Some(c)) => {
            let units = store.list_units(c).await?;
            let unit = units
                .iter()
                .find(|u| u.name == name && u.kind == role)
                .ok_or_else(|| {
                    Error::invalid(
                        "unknown_unit",
                        format!(
                            "活动 {c} 中没有名为“{name}”的{}，请先导入单位",
                            role.label()
                        ),
                        Some("unit"),
                    )
                })?;
            Some(unit.id)
        }
        _ => None,
    };
    let password = match spec.password {
        Some(p) => {
            pingxuan_rules::password::check_strength(p, spec.login).map_err(|e| {
                Error::invalid(
                    "weak_password",
                    format!("密码不符合要求：{e}"),
                    Some("password"),
                )
            })?;
            p.to_owned()
        }
        None => pingxuan_store::crypto::new_password(),
    };
    let actor = access.actor();
    let id = store
        .create_account(
            NewUser {
                login: spec.login.to_owned(),
                display_name: spec.name.to_owned(),
                email: spec.email.map(str::to_owned),
                mobile: spec.mobile.map(str::to_owned),
                password: password.clone(),
            },
            role,
            spec.campaign,
            unit_id,
            |id| {
                let by = if actor.is_none() {
                    "，命令行创建"
                } else {
                    ""
                };
                Audit::new(actor, "account_created", format!("user:{id}"))
                    .detail(format!(
                        "{}{}{by}",
                        role.label(),
                        spec.campaign.map(|c| format!(" · {c}")).unwrap_or_default()
                    ))
                    .ip(ip)
            },
        )
        .await?;
    Ok(CreatedAccount {
        id,
        login: spec.login.to_owned(),
        password,
    })
}

fn token_name(name: &str) -> Result<&str, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::invalid(
            "invalid_name",
            "请填写令牌用途（60 字以内）",
            Some("name"),
        ));
    }
    Ok(name)
}

/// A personal API token for the signed-in person, who confirms with their password: a
/// borrowed session alone cannot mint a lasting token. Returns the token, shown once.
pub async fn create_own_token(
    store: &Store,
    access: &Access,
    current_password: &str,
    name: &str,
    ip: Option<&str>,
) -> Result<String, Error> {
    use pingxuan_store::accounts::LoginOutcome;
    if !matches!(
        store
            .authenticate(&access.user.login, current_password)
            .await?,
        LoginOutcome::Ok(_)
    ) {
        return Err(Error::invalid(
            "wrong_password",
            "创建令牌须输入当前密码，密码不正确",
            Some("password"),
        ));
    }
    let name = token_name(name)?;
    let actor = access.actor();
    let (_, token) = store
        .create_api_token(access.user.id, name, |id| {
            Audit::new(actor, "api_token_created", format!("token:{id}"))
                .detail(name)
                .ip(ip)
        })
        .await?;
    Ok(token)
}

/// A token for someone else's account, made by an admin or the operator.
pub async fn create_token_for(
    store: &Store,
    access: &Access,
    login: &str,
    name: &str,
) -> Result<(i64, String), Error> {
    access.require_admin()?;
    let name = token_name(name)?;
    let user = store.find_user(login).await?.ok_or_else(|| {
        Error::invalid("unknown_login", format!("没有账号 {login}"), Some("login"))
    })?;
    let actor = access.actor();
    let by = if actor.is_none() {
        "（命令行）"
    } else {
        ""
    };
    Ok(store
        .create_api_token(user.id, name, |id| {
            Audit::new(actor, "api_token_created", format!("token:{id}"))
                .detail(format!("{name}{by}"))
        })
        .await?)
}

pub async fn revoke_own_token(
    store: &Store,
    access: &Access,
    token_id: i64,
    ip: Option<&str>,
) -> Result<(), Error> {
    let audit = Audit::new(
        access.actor(),
        "api_token_revoked",
        format!("token:{token_id}"),
    )
    .ip(ip);
    Ok(store
        .revoke_api_token(access.user.id, token_id, &audit)
        .await?)
}

/// The signed-in person changes their password; every other session of theirs ends.
pub async fn change_password(
    store: &Store,
    access: &Access,
    current: &str,
    new: &str,
    repeated: &str,
    keep_session: &str,
    ip: Option<&str>,
) -> Result<(), Error> {
    use pingxuan_store::accounts::LoginOutcome;
    let u = &access.user;
    match store.authenticate(&u.login, current).await? {
        LoginOutcome::Ok(_) => {}
        LoginOutcome::Locked { .. } => {
            return Err(Error::invalid(
                "locked",
                "当前密码错误次数过多，账号已锁定，请稍后再试",
                Some("current"),
            ));
        }
        _ => {
            return Err(Error::invalid(
                "wrong_password",
                "当前密码不正确",
                Some("current"),
            ));
        }
    }
    pingxuan_rules::password::check_strength(new, &u.login)
        .map_err(|e| Error::invalid("weak_password", e, Some("password")))?;
    if new != repeated {
        return Err(Error::invalid(
            "mismatch",
            "两次输入的新密码不一致",
            Some("password2"),
        ));
    }
    let audit = Audit::new(access.actor(), "password_changed", format!("user:{}", u.id)).ip(ip);
    match store.set_password(u.id, new, &audit).await {
        Ok(()) => {}
        Err(pingxuan_store::StoreError::Duplicate(_)) => {
            return Err(Error::invalid(
                "reused_password",
                "新密码不能与最近 5 次使用过的密码相同",
                Some("password"),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // Other browsers signed in as this person must sign in again.
    store.delete_other_sessions(u.id, keep_session).await?;
    Ok(())
}

/// An admin (or the operator) gives an account a new generated password, shown once.
pub async fn reset_password(
    store: &Store,
    access: &Access,
    login: &str,
    reason: &str,
    ip: Option<&str>,
) -> Result<String, Error> {
    access.require_admin()?;
    let user = store.find_user(login).await?.ok_or_else(|| {
        Error::invalid("unknown_login", format!("没有账号 {login}"), Some("login"))
    })?;
    let password = pingxuan_store::crypto::new_password();
    let audit = Audit::new(
        access.actor(),
        "password_changed",
        format!("user:{}", user.id),
    )
    .detail(reason)
    .ip(ip);
    store.set_password(user.id, &password, &audit).await?;
    Ok(password)
}

/// What a person types to register as an applicant.
#[derive(Debug, Clone, Default)]
pub struct Registration<'a> {
    pub name: &'a str,
    /// A mobile number or an e-mail address; it becomes the login.
    pub login: &'a str,
    pub password: &'a str,
    pub password2: &'a str,
    /// Agreed to how personal information is collected and used (个人信息保护法).
    pub consent: bool,
}

/// Every problem with a registration at once, by the field it sits beside.
pub fn registration_problems(r: &Registration<'_>) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let name = r.name.trim();
    if name.is_empty() {
        problems.push(("name", "请填写姓名".to_owned()));
    } else if name.chars().count() > 50 {
        problems.push((
            "name",
            format!("姓名最多 50 个字，现为 {} 个字", name.chars().count()),
        ));
    }
    if pingxuan_rules::form::parse_contact(r.login).is_none() {
        problems.push((
            "login",
            format!("“{}”不是有效的手机号或电子邮箱", r.login.trim()),
        ));
    }
    if let Err(e) = pingxuan_rules::password::check_strength(r.password, r.login) {
        problems.push(("password", e));
    } else if r.password != r.password2 {
        problems.push(("password2", "两次输入的密码不一致".to_owned()));
    }
    if !r.consent {
        problems.push(("consent", "请阅读并同意个人信息的收集和使用说明".to_owned()));
    }
    problems
}

/// Registers an applicant; their own account writes the audit entry. Returns the new
/// account's id, or every problem by field.
pub async fn register(
    store: &Store,
    r: &Registration<'_>,
    ip: Option<&str>,
) -> Result<Result<i64, Vec<(&'static str, String)>>, Error> {
    use pingxuan_rules::form::{Contact, parse_contact};
    use pingxuan_store::accounts::NewUser;

    let problems = registration_problems(r);
    let Some(contact) = parse_contact(r.login).filter(|_| problems.is_empty()) else {
        return Ok(Err(problems));
    };
    let (email, mobile) = match contact {
        Contact::Mobile(m) => (None, Some(m)),
        Contact::Email(e) => (Some(e), None),
    };
    let login = email.clone().or(mobile.clone()).unwrap_or_default();
    let created = store
        .create_account(
            NewUser {
                login,
                display_name: r.name.trim().to_owned(),
                email,
                mobile,
                password: r.password.to_owned(),
            },
            pingxuan_rules::Role::Applicant,
            None,
            None,
            |id| Audit::new(Some(id), "register", format!("user:{id}")).ip(ip),
        )
        .await;
    match created {
        Ok(id) => Ok(Ok(id)),
        Err(pingxuan_store::StoreError::Duplicate(_)) => Ok(Err(vec![(
            "login",
            "该手机号或电子邮箱已注册，可直接登录或找回密码".to_owned(),
        )])),
        Err(e) => Err(e.into()),
    }
}

/// The roles an account can be created with, by key and by name, as a closed set.
#[cfg(feature = "openapi")]
fn assignable_roles() -> utoipa::openapi::Object {
    use pingxuan_rules::Role;
    let mut values = Vec::new();
    for role in [
        Role::WorkUnit,
        Role::Recommender,
        Role::Organizer,
        Role::Expert,
        Role::Admin,
    ] {
        values.push(role.as_str().to_owned());
        values.push(role.label().to_owned());
    }
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values))
        .build()
}
