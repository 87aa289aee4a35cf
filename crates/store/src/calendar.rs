//! Calendar years an organiser loads (a new year's State Council notice), kept beside
//! the built-in years; a loaded year replaces a built-in one of the same number.

use pingxuan_rules::calendar::{WorkCalendar, YearCalendar};
use sqlx::Row;

use crate::audit::Audit;
use crate::{Result, Store, StoreError, now};

impl Store {
    /// Saves a checked year file (replacing an earlier load of the same year), with its
    /// audit entry.
    pub async fn save_calendar_year(
        &self,
        year: &YearCalendar,
        source_toml: &str,
        audit: &Audit,
    ) -> Result<()> {
        let t = now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO calendar_years (year, source_toml, loaded_at) VALUES ($1, $2, $3) \
             ON CONFLICT (year) DO UPDATE SET source_toml = excluded.source_toml, loaded_at = excluded.loaded_at",
        )
        .bind(i64::from(year.year))
        .bind(source_toml)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        self.append_audit(&mut tx, audit, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Years loaded into this database (not the built-in ones).
    pub async fn loaded_calendar_years(&self) -> Result<Vec<YearCalendar>> {
        let rows = sqlx::query("SELECT year, source_toml FROM calendar_years ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let year: i64 = r.try_get(0)?;
                let text: String = r.try_get(1)?;
                YearCalendar::parse(&format!("{year}.toml"), &text)
                    .map_err(|e| StoreError::Other(e.to_string()))
            })
            .collect()
    }

    /// The built-in years with the loaded ones on top.
    pub async fn work_calendar(&self) -> Result<WorkCalendar> {
        let mut cal = WorkCalendar::builtin();
        for y in self.loaded_calendar_years().await? {
            cal.add_year(y);
        }
        Ok(cal)
    }
}
