//! The working-day calendar (holidays and 调休 make-up days), needed to count 公示's
//! 5 个工作日: a year's file from the State Council's notice, loaded by an admin.

use pingxuan_rules::calendar::YearCalendar;
use pingxuan_store::Store;
use pingxuan_store::audit::Audit;

use crate::access::Access;
use crate::error::Error;

/// Reads a year's file (`2025.toml`), refusing it in words when it does not hold.
pub fn parse(file_name: &str, text: &str) -> Result<YearCalendar, Error> {
    YearCalendar::parse(file_name, text)
        .map_err(|e| Error::invalid("bad_calendar", e.to_string(), Some("file")))
}

/// Loads a year, replacing that year's earlier file.
pub async fn load_year(
    store: &Store,
    access: &Access,
    file_name: &str,
    text: &str,
    ip: Option<&str>,
) -> Result<YearCalendar, Error> {
    access.require_admin()?;
    let year = parse(file_name, text)?;
    let audit = Audit::new(
        access.actor(),
        "calendar_year_loaded",
        format!("calendar:{}", year.year),
    )
    .detail(year.source.clone())
    .ip(ip);
    store.save_calendar_year(&year, text, &audit).await?;
    Ok(year)
}
