//! `pingxuan serve`: the web server with its mail sender and session sweeper.

use std::time::{Duration, Instant};

use anyhow::Context;
use pingxuan_web::AppState;
use pingxuan_web::mail::{Mailer, run_outbox};

use crate::config::{Common, ServeArgs};

pub async fn run(common: &Common, args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = common.store().await?;
    if args.demo {
        super::demo::run(&store).await?;
    }
    let mailer = match &args.smtp_url {
        Some(url) => Mailer::smtp(url, &args.mail_from).context("SMTP 设置有误")?,
        None => {
            tracing::info!(
                "no SMTP server configured: mail (such as reset links) is written to this log"
            );
            Mailer::Log
        }
    };
    let config = args.web_config(&common.data_dir)?;
    let public_url = config.public_url.clone();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("无法监听 {}", args.listen))?;
    let state = AppState::new(store.clone(), config);
    // Background work, safe with several servers on one database: each claims its work
    // with a lease in this server's name.
    let owner = state.exports.owner.clone();
    tokio::spawn(run_outbox(store.clone(), mailer, owner.clone()));
    tokio::spawn(pingxuan_app::notify::run_reminders(
        store.clone(),
        owner.clone(),
    ));
    tokio::spawn(async move {
        loop {
            if matches!(
                store.try_lease("sweep:sessions", &owner, 500).await,
                Ok(true)
            ) && let Err(e) = store.purge_sessions().await
            {
                tracing::warn!(error = %e, "session sweep failed");
            }
            tokio::time::sleep(Duration::from_secs(600)).await;
        }
    });
    tokio::spawn(pingxuan_web::sweeps::run_sweeper(state.clone()));
    pingxuan_web::jobs::resume(&state).await;
    tracing::info!(address = %listener.local_addr()?, ready_in_ms = started.elapsed().as_millis() as u64, "pingxuan is serving");
    println!("pingxuan 已启动：{public_url}（按 Ctrl+C 停止）");
    pingxuan_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
