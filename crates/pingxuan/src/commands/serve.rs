//! `pingxuan serve`: the web server and the background workers (mail, export jobs,
//! sweeps).

use std::time::Instant;

use anyhow::Context;
use pingxuan_web::AppState;
use pingxuan_workers::mail::Mailer;

use crate::config::{Common, ServeArgs};

pub async fn run(common: &Common, args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // Listening first: a bad or busy address fails before anything is written (no data
    // folder, no database, no key file made for a server that cannot start).
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| {
            format!(
                "无法监听 {}（地址格式如 127.0.0.1:8080，或端口已被占用）",
                args.listen
            )
        })?;
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
    let mut config = args.web_config(&common.data_dir)?;
    if let Some(url) = &args.redis_url {
        // Keyed by the sealing key, which every server of one installation shares.
        config.edge = pingxuan_limits::Limiter::redis(url)
            .await
            .map_err(anyhow::Error::msg)?
            .with_prefix(&store.sealer.lookup("edge-limits")[..12]);
        tracing::info!("edge request rates counted in Redis, shared by every server");
    }
    let public_url = config.public_url.clone();
    let state = AppState::new(store, config);
    // Background work, safe with several servers on one database: each claims its work
    // with a lease in this server's name.
    pingxuan_workers::start(&state.filing, mailer);
    tracing::info!(address = %listener.local_addr()?, ready_in_ms = started.elapsed().as_millis() as u64, "pingxuan is serving");
    println!("pingxuan 已启动：{public_url}（按 Ctrl+C 停止）");
    pingxuan_web::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
