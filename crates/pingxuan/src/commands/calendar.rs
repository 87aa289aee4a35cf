//! `pingxuan calendar check|load|list`: the working-day calendar's years.

use std::path::Path;

use anyhow::Context;
use pingxuan_rules::calendar::{WorkCalendar, YearCalendar};

use crate::config::Common;

fn parse(path: &Path) -> anyhow::Result<(YearCalendar, String)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))?;
    let year = pingxuan_app::calendar::parse(file_name(path), &text)?;
    Ok((year, text))
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("calendar.toml")
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
    let (_, text) = parse(path)?;
    let store = common.store().await?;
    let year = pingxuan_app::calendar::load_year(
        &store,
        &pingxuan_app::Access::operator(),
        file_name(path),
        &text,
        None,
    )
    .await?;
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
