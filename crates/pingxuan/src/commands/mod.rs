pub mod campaign;
pub mod demo;
pub mod serve;
pub mod units;
pub mod user;

use pingxuan_rules::Role;
use pingxuan_store::Store;
use pingxuan_store::accounts::NewUser;

/// A random initial password that meets the policy (12 characters, four classes).
pub fn generate_password() -> String {
    use rand::seq::IndexedRandom;
    let mut rng = rand::rng();
    let lower: Vec<char> = "abcdefghjkmnpqrstuvwxyz".chars().collect();
    let upper: Vec<char> = "ABCDEFGHJKLMNPQRSTUVWXYZ".chars().collect();
    let digit: Vec<char> = "23456789".chars().collect();
    let symbol: Vec<char> = "!#%+-=?@".chars().collect();
    let mut s = String::new();
    for set in [
        &upper, &lower, &lower, &lower, &digit, &digit, &symbol, &lower, &upper, &lower, &digit,
        &lower,
    ] {
        s.push(*set.choose(&mut rng).expect("non-empty set"));
    }
    s
}

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

/// Creates an account with one role. The account is removed again when the role
/// cannot be granted, so nothing half-created remains.
pub async fn create_account(store: &Store, spec: AccountSpec<'_>) -> anyhow::Result<i64> {
    pingxuan_rules::password::check_strength(spec.password, spec.login)
        .map_err(|e| anyhow::anyhow!("密码不符合要求：{e}"))?;
    let id = store
        .create_user(NewUser {
            login: spec.login.to_owned(),
            display_name: spec.name.to_owned(),
            email: spec.email.map(str::to_owned),
            mobile: spec.mobile.map(str::to_owned),
            password: spec.password.to_owned(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("无法创建账号 {}：{e}", spec.login))?;
    if let Err(e) = store
        .grant_role(id, spec.role, spec.campaign, spec.unit_id)
        .await
    {
        sqlx_delete_user(store, id).await?;
        anyhow::bail!("无法授予角色：{e}");
    }
    store
        .audit(
            None,
            "account_created",
            &format!("user:{id}"),
            &format!("{} 由命令行创建", spec.role.label()),
            None,
        )
        .await?;
    Ok(id)
}

async fn sqlx_delete_user(store: &Store, id: i64) -> anyhow::Result<()> {
    store.delete_user(id).await?;
    Ok(())
}
