//! The API against its own OpenAPI document: schemathesis (from PyPI) generates requests
//! from `/api/openapi.json` — examples, the coverage phase's edge cases and fuzzing, with
//! every check — against the real server, signed in as each role, with a fixed seed and
//! example budget, and must find nothing: no 5xx, no status or content type the document
//! does not declare, no answer that breaks its schema, no schema-valid request refused.
//! `tests/schemathesis.toml` names the operations whose values have rules beyond JSON
//! Schema (from the campaign file or the notices), where a schema-valid value may be
//! refused with 422. Under CI a missing `st` fails the test; elsewhere it is skipped
//! with a note (`scripts/test.sh` installs it).

use pingxuan_rules::Role;
use pingxuan_store::on_both_databases;
use pingxuan_store::testing::TestDb;
use pingxuan_web::CaptchaPolicy;

use crate::common::{start, xinjiang_candidate};

on_both_databases!(schemathesis_finds_nothing);

/// The command, when installed.
fn schemathesis() -> Option<String> {
    let found = std::process::Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("st".to_owned());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "schemathesis (st) is not installed: scripts/test.sh installs it with pip"
    );
    None
}

async fn schemathesis_finds_nothing(db: TestDb) {
    let Some(st) = schemathesis() else {
        eprintln!("schemathesis (st) not installed: the contract test is skipped");
        return;
    };
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    app.seed("dongguan-2023.toml").await;
    let mut callers = Vec::new();
    for (login, role, campaign, unit) in [
        (
            "st-rec",
            Role::Recommender,
            Some("xinjiang-2023"),
            Some("乌鲁木齐市科协"),
        ),
        ("st-office", Role::Organizer, Some("xinjiang-2023"), None),
        ("st-expert", Role::Expert, Some("dongguan-2023"), None),
        ("st-admin", Role::Admin, None, None),
    ] {
        let id = app.account(login, role, campaign, unit).await;
        callers.push((login, app.token(id).await));
    }
    let unit = app.store.list_units("xinjiang-2023").await.unwrap()[0].id;
    // Something to find: applications at the applicant and at the unit.
    let (applicant, _) = xinjiang_candidate(&app, "st-me@x.cn", "测试人员", unit, true).await;
    xinjiang_candidate(&app, "st-other@x.cn", "另一人", unit, false).await;
    callers.insert(0, ("applicant", applicant));
    let schema = format!("{}/api/openapi.json", app.url);
    let mut failed = Vec::new();
    for (who, token) in &callers {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml");
        let mut command = std::process::Command::new(&st);
        command.args([
            "--config-file",
            config,
            "run",
            &schema,
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "20261204",
            "--max-examples",
            "8",
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
            "--request-timeout",
            "20",
            "-H",
            &format!("Authorization: Bearer {token}"),
        ]);
        // On a blocking thread: the server under test runs on this test's runtime.
        let out = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("st ran")
            .expect("st runs");
        if !out.status.success() {
            failed.push(format!(
                "as {who}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
