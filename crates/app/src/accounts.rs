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
                Audit::new(
                    Some(access.user.id),
                    "account_created",
                    format!("user:{id}"),
                )
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
