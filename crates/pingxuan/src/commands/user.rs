//! `pingxuan user add` and `pingxuan token create`.

use anyhow::Context;
use clap::Args;
use pingxuan_rules::Role;

use super::{AccountSpec, create_account, generate_password};
use crate::config::Common;

#[derive(Args, Debug)]
pub struct UserAdd {
    /// 登录名（单位账号名、手机号或电子邮箱） / login
    #[arg(long)]
    pub login: String,
    /// 姓名或单位名称 / display name
    #[arg(long)]
    pub name: String,
    /// 角色：organizer、recommender、work_unit、expert、admin（或中文名） / role
    #[arg(long)]
    pub role: Role,
    /// 角色所属的活动，如 guangxi-2024（organizer 不写则可管理所有活动） / campaign
    #[arg(long)]
    pub campaign: Option<String>,
    /// 推荐单位或所在单位的名称（须已用 units import 导入） / unit name
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub mobile: Option<String>,
    /// 初始密码；不写则随机生成并显示一次 / initial password
    #[arg(long)]
    pub password: Option<String>,
}

pub async fn add(common: &Common, a: UserAdd) -> anyhow::Result<()> {
    if !a.role.is_assigned() {
        anyhow::bail!("{}账号由本人在网页上注册，不能用命令行创建", a.role.label());
    }
    if a.role.is_unit() && (a.campaign.is_none() || a.unit.is_none()) {
        anyhow::bail!("{}账号须同时写明 --campaign 和 --unit", a.role.label());
    }
    if matches!(a.role, Role::Expert) && a.campaign.is_none() {
        anyhow::bail!("评审专家账号须写明 --campaign");
    }
    let store = common.store().await?;
    if let Some(c) = &a.campaign
        && store.get_campaign(c).await?.is_none()
    {
        anyhow::bail!("活动 {c} 不存在，请先用 campaign load 载入");
    }
    let unit_id = match (&a.unit, &a.campaign) {
        (Some(name), Some(c)) => {
            let units = store.list_units(c).await?;
            let unit = units
                .iter()
                .find(|u| &u.name == name && u.kind == a.role)
                .with_context(|| {
                    format!(
                        "活动 {c} 中没有名为“{name}”的{}，请先用 units import 导入",
                        a.role.label()
                    )
                })?;
            Some(unit.id)
        }
        _ => None,
    };
    let generated = a.password.is_none();
    let password = a.password.clone().unwrap_or_else(generate_password);
    let id = create_account(
        &store,
        AccountSpec {
            login: &a.login,
            name: &a.name,
            role: a.role,
            campaign: a.campaign.as_deref(),
            unit_id,
            email: a.email.as_deref(),
            mobile: a.mobile.as_deref(),
            password: &password,
        },
    )
    .await?;
    println!("已创建账号 #{id}：{}（{}）", a.login, a.role.label());
    if generated {
        println!("初始密码：{password}（只显示这一次）");
    }
    Ok(())
}

pub async fn create_token(common: &Common, login: &str, name: &str) -> anyhow::Result<()> {
    let store = common.store().await?;
    let user = store
        .find_user(login)
        .await?
        .with_context(|| format!("没有账号 {login}"))?;
    let (id, token) = store
        .create_api_token(user.id, name, |id| {
            pingxuan_store::audit::Audit::new(None, "api_token_created", format!("token:{id}"))
                .detail(format!("{name}（命令行）"))
        })
        .await?;
    println!("{token}");
    eprintln!("已为 {login} 创建令牌 #{id}（{name}）。令牌只显示这一次，请妥善保存。");
    Ok(())
}
