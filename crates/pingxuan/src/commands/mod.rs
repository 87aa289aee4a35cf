pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod demo;
pub mod serve;
pub mod units;
pub mod user;

use pingxuan_rules::Role;
use pingxuan_store::Store;
use pingxuan_store::accounts::NewUser;

pub use pingxuan_store::crypto::new_password as generate_password;

pub struct AccountSpec<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub campaign: Option<&'a str>,
    pub unit_id: Option<i64>,
    pub email: Option<&'a str>,
    pub mobile: Option<&'a str>,
    pub password: &'a str,
}

/// Creates an account with one role (nothing half-created when the role fails).
pub async fn create_account(store: &Store, spec: AccountSpec<'_>) -> anyhow::Result<i64> {
    pingxuan_rules::password::check_strength(spec.password, spec.login)
        .map_err(|e| anyhow::anyhow!("密码不符合要求：{e}"))?;
    let id = store
        .create_account(
            NewUser {
                login: spec.login.to_owned(),
                display_name: spec.name.to_owned(),
                email: spec.email.map(str::to_owned),
                mobile: spec.mobile.map(str::to_owned),
                password: spec.password.to_owned(),
            },
            spec.role,
            spec.campaign,
            spec.unit_id,
            |id| {
                pingxuan_store::audit::Audit::new(None, "account_created", format!("user:{id}"))
                    .detail(format!("{} 由命令行创建", spec.role.label()))
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("无法创建账号 {}：{e}", spec.login))?;
    Ok(id)
}
