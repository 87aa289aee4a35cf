//! `pingxuan experts import --campaign ID FILE`: a campaign's expert pool from a CSV or
//! XLSX list, each expert with an account. The checks and the import are the use case
//! `pingxuan_app::experts`, which the 账号管理 page calls too.

use std::path::Path;

use anyhow::Context;
use pingxuan_app::Access;
use pingxuan_app::experts::{Imported, import as import_experts};

use crate::config::Common;

pub async fn import(common: &Common, campaign_id: &str, path: &Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("experts");
    let table = pingxuan_app::tables::read(name, &bytes)?;
    let store = common.store().await?;
    match import_experts(&store, &Access::operator(), campaign_id, &table, None).await? {
        Imported::Refused(problems) => {
            for p in problems {
                eprintln!("{}：{p}", path.display());
            }
            eprintln!("未导入任何专家。");
            Ok(false)
        }
        Imported::Created(experts) => {
            println!("姓名,工作单位,登录名,初始密码");
            for e in &experts {
                println!("{},{},{},{}", e.name, e.work_unit, e.login, e.password);
            }
            eprintln!(
                "已导入 {} 位评审专家及其账号。初始密码只显示这一次，请分发给各位专家后妥善处理本输出。",
                experts.len()
            );
            Ok(true)
        }
    }
}
