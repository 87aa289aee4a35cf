//! `pingxuan user add` and `pingxuan token create`.

use clap::Args;
use pingxuan_app::Access;
use pingxuan_app::accounts::{self, OperatorAccount};
use pingxuan_rules::Role;

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
    /// 电子邮箱，用于找回密码和接收通知 / e-mail
    #[arg(long)]
    pub email: Option<String>,
    /// 手机号码 / mobile number
    #[arg(long)]
    pub mobile: Option<String>,
    /// 初始密码；不写则随机生成并显示一次 / initial password
    #[arg(long)]
    pub password: Option<String>,
}

pub async fn add(common: &Common, a: UserAdd) -> anyhow::Result<()> {
    let store = common.store().await?;
    let created = accounts::add(
        &store,
        &Access::operator(),
        OperatorAccount {
            login: &a.login,
            name: &a.name,
            role: Some(a.role),
            campaign: a.campaign.as_deref(),
            unit: a.unit.as_deref(),
            email: a.email.as_deref(),
            mobile: a.mobile.as_deref(),
            password: a.password.as_deref(),
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("无法创建账号 {}：{e}", a.login))?;
    println!(
        "已创建账号 #{}：{}（{}）",
        created.id,
        created.login,
        a.role.label()
    );
    if a.password.is_none() {
        println!("初始密码：{}（只显示这一次）", created.password);
    }
    Ok(())
}

pub async fn create_token(common: &Common, login: &str, name: &str) -> anyhow::Result<()> {
    let store = common.store().await?;
    let (id, token) = accounts::create_token_for(&store, &Access::operator(), login, name).await?;
    println!("{token}");
    eprintln!("已为 {login} 创建令牌 #{id}（{name}）。令牌只显示这一次，请妥善保存。");
    Ok(())
}
