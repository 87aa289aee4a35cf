//! Test databases: every test gets its own migrated database — a fresh SQLite file, or
//! a fresh PostgreSQL database on the server named by `PINGXUAN_TEST_DATABASE_URL`,
//! dropped when the test ends. Under `CI=true` a missing or unreachable PostgreSQL
//! fails the test instead of skipping it.

use sqlx::{AnyConnection, Connection, Executor};

use crate::{Sealer, Store};

pub const TEST_DATABASE_URL_VAR: &str = "PINGXUAN_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Sqlite,
    Postgres,
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The key tests seal personal data with.
pub fn test_sealer() -> Sealer {
    Sealer::new(b"pingxuan test key, never used in production!")
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh database, or `None` when PostgreSQL is not configured outside CI.
    pub async fn new(which: Which) -> Option<TestDb> {
        let suffix = format!("{:016x}", rand::random::<u64>());
        match which {
            Which::Sqlite => {
                let path = std::env::temp_dir().join(format!("pingxuan-test-{suffix}.db"));
                Some(TestDb {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                })
            }
            Which::Postgres => {
                let admin_url = match std::env::var(TEST_DATABASE_URL_VAR) {
                    Ok(u) if !u.is_empty() => u,
                    _ if in_ci() => panic!(
                        "CI=true but {TEST_DATABASE_URL_VAR} is not set: the PostgreSQL tests must run"
                    ),
                    _ => {
                        eprintln!("skipping PostgreSQL test: {TEST_DATABASE_URL_VAR} is not set");
                        return None;
                    }
                };
                sqlx::any::install_default_drivers();
                let name = format!("pingxuan_test_{suffix}");
                let mut conn = AnyConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot reach the PostgreSQL named by {TEST_DATABASE_URL_VAR}: {e}")
                    });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("CREATE DATABASE for a test");
                let _ = conn.close().await;
                Some(TestDb {
                    url: with_database(&admin_url, &name),
                    cleanup: Cleanup::Database { admin_url, name },
                })
            }
        }
    }

    /// A connected, migrated store on this database.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url, test_sealer())
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; a thread with its own runtime can block.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime for dropping a test database");
                    rt.block_on(async {
                        if let Ok(mut conn) = AnyConnection::connect(&admin_url).await {
                            let _ = conn
                                .execute(sqlx::AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                )))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Runs each listed `async fn name(db: TestDb)` once on SQLite and once on PostgreSQL,
/// as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::testing::TestDb::new($crate::testing::Which::Sqlite).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::testing::TestDb::new($crate::testing::Which::Postgres).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}

/// A test account with a valid password.
pub fn new_user(login: &str, name: &str) -> crate::accounts::NewUser {
    crate::accounts::NewUser {
        login: login.to_owned(),
        display_name: name.to_owned(),
        email: None,
        mobile: None,
        password: "Kexie-2024-ok".to_owned(),
    }
}

/// The 东莞 seed campaign loaded and an applicant account: (campaign id, applicant).
pub async fn dongguan_applicant(store: &Store) -> (String, i64) {
    let (_, text) = pingxuan_rules::campaign::SEEDS[1];
    let c = pingxuan_rules::campaign::load(text)
        .campaign
        .expect("the 东莞 seed");
    store
        .save_campaign(&c, text, None, for_id)
        .await
        .expect("campaign");
    let uid = store
        .create_user(new_user("me", "测试"))
        .await
        .expect("applicant");
    (c.campaign.id.clone(), uid)
}

/// The 新疆 seed campaign loaded with one recommending unit (昌吉州科协) and its account
/// `cj-rec`: (unit, account).
pub async fn xinjiang_recommender(store: &Store) -> (i64, i64) {
    let (_, text) = pingxuan_rules::campaign::SEEDS
        .iter()
        .find(|(n, _)| n.starts_with("xinjiang"))
        .expect("the 新疆 seed");
    let c = pingxuan_rules::campaign::load(text)
        .campaign
        .expect("the 新疆 seed");
    store
        .save_campaign(&c, text, None, for_id)
        .await
        .expect("campaign");
    let cid = c.campaign.id.as_str();
    let role = pingxuan_rules::Role::Recommender;
    let unit = store
        .create_unit(cid, "昌吉州科协", role, Some("prefecture"))
        .await
        .expect("unit");
    let rec = store
        .create_user(new_user("cj-rec", "昌吉州科协"))
        .await
        .expect("account");
    store
        .grant_role(rec, role, Some(cid), Some(unit))
        .await
        .expect("role");
    (unit, rec)
}

/// `n` applications of campaign `cid` by `applicant`, recommended by `unit` and submitted
/// to it, as the flow would leave them (holder level 1), written straight to the store for
/// tests and benches that need candidates at a recommending unit's desk; their ids.
pub async fn held_by_recommender(
    store: &Store,
    cid: &str,
    unit: i64,
    applicant: i64,
    n: usize,
) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let new = crate::applications::NewApplication {
            binding: crate::applications::Binding {
                recommender_unit_id: Some(unit),
                work_unit_id: None,
                merged: false,
                recommender_level: 1,
            },
            ..crate::applications::NewApplication::bare(
                cid,
                applicant,
                "ZMKJ",
                2023,
                "申报人提交到推荐单位",
            )
        };
        let (id, _) = store
            .create_application(&new, created)
            .await
            .expect("application");
        sqlx::query(
            "UPDATE applications SET holder_level = 1, holder_role = 'recommender', \
             reached_level = 1 WHERE id = $1",
        )
        .bind(id)
        .execute(&store.pool)
        .await
        .expect("submitted to the unit");
        ids.push(id);
    }
    ids
}

/// An audit entry for store calls made straight from tests and benches.
pub fn audit() -> crate::audit::Audit {
    crate::audit::Audit::new(None, "test", "test")
}

/// [`audit`] for [`Store::create_application`].
pub fn created(_id: i64, _number: &str) -> crate::audit::Audit {
    audit()
}

/// [`audit`] for store calls that name their entry from a new row's id
/// ([`Store::issue_code`], [`Store::save_campaign`], [`Store::create_account`] …).
pub fn for_id(_id: i64) -> crate::audit::Audit {
    audit()
}

/// [`audit`] for [`Store::create_export_job`] (named from the job's public id).
pub fn for_key(_key: &str) -> crate::audit::Audit {
    audit()
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(super::with_database("postgres://h", "x"), "postgres://h/x");
    }
}
