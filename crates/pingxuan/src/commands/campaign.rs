//! `pingxuan campaign check|load FILE`.

use std::path::Path;

use anyhow::Context;
use pingxuan_rules::campaign::load;

use pingxuan_app::Access;
use pingxuan_app::campaigns::{LoadOutcome, load_campaign};

use crate::config::Common;

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))
}

/// Prints every problem; returns whether the file can be used.
pub fn check(path: &Path) -> anyhow::Result<bool> {
    let report = load(&read(path)?);
    for p in &report.problems {
        println!("{}:{}", path.display(), p);
    }
    let errors = report.errors().count();
    let warnings = report.warnings().count();
    match &report.campaign {
        Some(c) => println!(
            "{}：可以使用（{} 处提醒）— {}，{} 级申报链条，最终 {} 名",
            path.display(),
            warnings,
            c.campaign.name,
            c.levels.len(),
            c.campaign.winners
        ),
        None => println!(
            "{}：有 {errors} 处错误、{warnings} 处提醒，不能使用",
            path.display()
        ),
    }
    Ok(report.is_ok())
}

pub async fn load_file(common: &Common, path: &Path) -> anyhow::Result<bool> {
    let text = read(path)?;
    if !check(path)? {
        return Ok(false);
    }
    let store = common.store().await?;
    match load_campaign(&store, &Access::operator(), &text, None).await? {
        LoadOutcome::Saved(saved) => {
            println!("已载入活动 {}（第 {} 版）", saved.id, saved.revision);
            Ok(true)
        }
        LoadOutcome::Refused(_) => unreachable!("checked above"),
    }
}
