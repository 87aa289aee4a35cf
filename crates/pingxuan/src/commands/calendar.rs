//! `pingxuan calendar check|load|list`: the working-day calendar's years.

use std::path::Path;

use anyhow::Context;
use pingxuan_rules::calendar::{WorkCalendar, YearCalendar};

use crate::config::Common;

fn parse(path: &Path) -> anyhow::Result<(YearCalendar, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("calendar.toml");
    let year = YearCalendar::parse(name, &text)?;
    Ok((year, text))
}

fn describe(y: &YearCalendar) -> String {
    let makeup: usize = y.holidays.iter().map(|h| h.makeup_workdays.len()).sum();
    format!(
        "{} 年：{} 个节假日，{makeup} 个调休上班日（{}）",
        y.year,
        y.holidays.len(),
        y.source
    )
}

pub fn check(path: &Path) -> anyhow::Result<bool> {
    let (year, _) = parse(path)?;
    println!("{}", describe(&year));
    Ok(true)
}

pub async fn load(common: &Common, path: &Path) -> anyhow::Result<bool> {
    let (year, text) = parse(path)?;
    let store = common.store().await?;
    let audit = pingxuan_store::audit::Audit::new(
        None,
        "calendar_year_loaded",
        format!("calendar:{}", year.year),
    )
    .detail(year.source.clone());
    store.save_calendar_year(&year, &text, &audit).await?;
    println!("已载入 {}", describe(&year));
    Ok(true)
}

pub async fn list(common: &Common) -> anyhow::Result<bool> {
    let store = common.store().await?;
    let loaded: Vec<i32> = store
        .loaded_calendar_years()
        .await?
        .iter()
        .map(|y| y.year)
        .collect();
    let builtin: Vec<i32> = WorkCalendar::builtin().years().map(|y| y.year).collect();
    for y in store.work_calendar().await?.years() {
        let origin = if loaded.contains(&y.year) {
            "已载入"
        } else if builtin.contains(&y.year) {
            "内置"
        } else {
            ""
        };
        println!("[{origin}] {}", describe(y));
    }
    Ok(true)
}
