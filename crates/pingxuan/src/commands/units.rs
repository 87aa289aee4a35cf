//! `pingxuan units import --campaign ID FILE`: recommending units and work units from a
//! CSV or XLSX list, each with its account. The checks and the import are the use case
//! `pingxuan_app::units`, which the 账号管理 page calls too.

use std::path::Path;

use anyhow::Context;
use pingxuan_app::Access;
use pingxuan_app::units::{Imported, import as import_units};

use crate::config::Common;

pub async fn import(common: &Common, campaign_id: &str, path: &Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("units");
    let table = pingxuan_app::tables::read(name, &bytes)?;
    let store = common.store().await?;
    match import_units(&store, &Access::operator(), campaign_id, &table, None).await? {
        Imported::Refused(problems) => {
            for p in problems {
                eprintln!("{}：{p}", path.display());
            }
            eprintln!("未导入任何单位。");
            Ok(false)
        }
        Imported::Created(units) => {
            println!("单位名称,单位类型,登录名,初始密码");
            for u in &units {
                println!("{},{},{},{}", u.name, u.kind.label(), u.login, u.password);
            }
            eprintln!(
                "已导入 {} 个单位及其账号。初始密码只显示这一次，请分发给各单位后妥善处理本输出。",
                units.len()
            );
            Ok(true)
        }
    }
}
