//! `pingxuan` — 最美科技工作者评选平台的服务程序与管理命令。

mod commands;
mod config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use config::{Common, ServeArgs};

#[derive(Parser)]
#[command(
    name = "pingxuan",
    version,
    about = "最美科技工作者评选平台 / pingxuan, the platform for 最美科技工作者 campaigns",
    long_about = "最美科技工作者评选平台：申报、逐级审核推荐、专家评审、投票、公示与导出。\n\
                  不带参数的设置默认使用 ./data 下的 SQLite 数据库和本地文件存储。"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动网页服务（默认 127.0.0.1:8080） / run the web server
    Serve(ServeArgs),
    /// 创建或升级数据库结构 / create or upgrade the database
    Migrate,
    /// 活动配置文件：检查或载入 / campaign files
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// 工作日历（节假日与调休）：检查、载入新的年份、列出 / working-day calendar years
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// 账号管理 / accounts
    #[command(subcommand)]
    User(UserCommand),
    /// 推荐单位和所在单位 / units
    #[command(subcommand)]
    Units(UnitsCommand),
    /// 评审专家库 / the expert pool
    #[command(subcommand)]
    Experts(ExpertsCommand),
    /// 个人 API 令牌 / API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// 载入三个示例活动和演示账号，并显示登录信息 / load seed campaigns and demo accounts
    Demo,
    /// 审计日志：导出（JSON Lines）与离线校验哈希链 / the audit trail: export and verify
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 网络投票压测（只允许本机）：验证投票人后按设定速率投票，记录回执与延迟；核对回执
    /// / load on the online vote (this machine only), and the check of its receipts
    #[command(subcommand)]
    Loadgen(LoadgenCommand),
    /// 网络投票：离线核对一张选票的回执证明 / the online vote: check a receipt's proof offline
    #[command(subcommand)]
    Vote(VoteCommand),
}

#[derive(Subcommand)]
enum VoteCommand {
    /// 用结果页下载的回执证明（P.json）和计票结果（R.json）逐步核对这一票已计入；不需要数据库。
    /// 退出码：0 已计入，1 校验未通过（指出第一步未通过的原因），2 文件无法读取或格式有误
    /// / check that a vote is counted: exit 0 counted, 1 a step failed, 2 a file is malformed
    Verify {
        /// 回执证明文件 / the receipt's proof
        #[arg(long)]
        proof: PathBuf,
        /// 公布的计票结果文件 / the round's published count
        #[arg(long)]
        result: PathBuf,
    },
}

#[derive(Subcommand)]
enum LoadgenCommand {
    /// 验证投票人并投票（或只请求 /healthz），写出回执、延迟直方图和汇总 / prove voters, then vote
    Run(commands::loadgen::RunArgs),
    /// 逐个核对回执已存入数据库（--database-url） / confirm each receipt is stored
    Check(commands::loadgen::CheckArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 按链的顺序导出全部审计记录，每行一条 JSON（身份证号、手机号只以摘要出现）
    /// / write the whole trail as JSON Lines
    Export {
        /// 输出文件；省略或为 - 时写到标准输出 / output file (default: stdout)
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// 离线校验导出的文件：逐条重算哈希，指出第一条有问题的记录；不需要数据库
    /// / check an export offline and name the first bad entry
    Verify {
        /// 导出的 JSON Lines 文件（- 为标准输入） / the exported file
        file: PathBuf,
        /// 公布的链末端哈希（如 /admin/audit 页所示）；给出时链必须止于此
        /// / the published head the chain must end at
        #[arg(long)]
        head: Option<String>,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// 检查活动配置文件，逐条列出问题（行号和键） / check a campaign file
    Check { file: PathBuf },
    /// 检查并载入（同一标识的活动会被替换为新版本） / check and load a campaign file
    Load { file: PathBuf },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// 检查一年的节假日文件（格式同 calendar/2024.toml） / check a year file
    Check { file: PathBuf },
    /// 载入一年的节假日安排（国务院办公厅通知），同一年份会被替换 / load a year
    Load { file: PathBuf },
    /// 列出已知的年份 / list the known years
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// 创建活动办公室、单位、专家或管理员账号 / create an organiser, unit, expert or admin account
    Add(commands::user::UserAdd),
}

#[derive(Subcommand)]
enum UnitsCommand {
    /// 从 CSV 或 XLSX 导入单位及其账号（列：单位名称、单位类型、类别、登录名、联系人、电子邮箱、手机）
    /// / import units with their accounts
    Import {
        /// 活动标识，如 guangxi-2024 / campaign id
        #[arg(long)]
        campaign: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExpertsCommand {
    /// 从 CSV 或 XLSX 导入评审专家及其账号（列：姓名、工作单位、学科/专业领域、电子邮箱、手机；以电子邮箱登录）
    /// / import experts with their accounts
    Import {
        /// 活动标识，如 xinjiang-2023 / campaign id
        #[arg(long)]
        campaign: String,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// 为账号创建个人 API 令牌并输出 / create a personal API token
    Create {
        login: String,
        /// 令牌用途 / what the token is for
        #[arg(long, default_value = "命令行创建")]
        name: String,
    },
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let common = cli.common;
    match cli.command {
        Command::Serve(args) => commands::serve::run(&common, args).await.map(|()| true),
        Command::Migrate => {
            common.store().await?;
            println!("数据库已是最新结构：{}", redact(&common.database_url()));
            Ok(true)
        }
        Command::Campaign(CampaignCommand::Check { file }) => commands::campaign::check(&file),
        Command::Campaign(CampaignCommand::Load { file }) => {
            commands::campaign::load_file(&common, &file).await
        }
        Command::Calendar(CalendarCommand::Check { file }) => commands::calendar::check(&file),
        Command::Calendar(CalendarCommand::Load { file }) => {
            commands::calendar::load(&common, &file).await
        }
        Command::Calendar(CalendarCommand::List) => commands::calendar::list(&common).await,
        Command::User(UserCommand::Add(a)) => commands::user::add(&common, a).await.map(|()| true),
        Command::Units(UnitsCommand::Import { campaign, file }) => {
            commands::units::import(&common, &campaign, &file).await
        }
        Command::Experts(ExpertsCommand::Import { campaign, file }) => {
            commands::experts::import(&common, &campaign, &file).await
        }
        Command::Token(TokenCommand::Create { login, name }) => {
            commands::user::create_token(&common, &login, &name)
                .await
                .map(|()| true)
        }
        Command::Audit(AuditCommand::Export { out }) => {
            commands::audit::export(&common, out.as_deref()).await
        }
        Command::Audit(AuditCommand::Verify { file, head }) => {
            commands::audit::verify(&file, head.as_deref())
        }
        Command::Loadgen(LoadgenCommand::Run(args)) => commands::loadgen::run(args).await,
        Command::Loadgen(LoadgenCommand::Check(args)) => {
            commands::loadgen::check(&common, &args).await
        }
        Command::Vote(VoteCommand::Verify { proof, result }) => {
            commands::vote::verify(&proof, &result)
        }
        Command::Demo => {
            let store = common.store().await?;
            commands::demo::run(&store).await.map(|()| true)
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PINGXUAN_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    config::warn_unknown_vars();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("无法启动：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.downcast_ref::<commands::vote::Malformed>().is_some() => {
            eprintln!("错误：{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}
