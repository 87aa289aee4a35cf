//! pingxuan storage: one schema on SQLite (embedded, the default) and PostgreSQL
//! (chosen by the URL), reached through sqlx's `Any` driver with runtime queries.
//! Portable types only: integers, text; times as unix seconds; flags as 0/1.
//! One module per aggregate.

pub mod accounts;
pub mod applications;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod campaigns;
pub mod cases;
pub mod codes;
pub mod crypto;
pub mod exceptions;
pub mod experts;
pub mod exports;
pub mod leases;
pub mod notices;
pub mod outbox;
pub mod own_thread;
pub mod paper;
pub mod publicity;
pub mod release;
pub mod sessions;
pub mod sheets;
pub mod stages;
pub mod testing;
pub mod tokens;
pub mod units;
pub mod vote_review;
pub mod voters;
pub mod votes;
pub mod winners;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

pub use crypto::Sealer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the string names what was duplicated.
    #[error("已存在：{0}")]
    Duplicate(&'static str),
    #[error("记录不存在")]
    NotFound,
    /// Someone else changed the record since it was read; nothing was written.
    #[error("记录已被他人修改")]
    Stale,
    /// The application is no longer with the applicant.
    #[error("申请书已提交，不能修改")]
    NotEditable,
    /// A quota leaves no room; the words say which and how full.
    #[error("{0}")]
    QuotaFull(String),
    /// The 推荐码 was used or revoked meanwhile.
    #[error("推荐码已被使用或已作废")]
    CodeUsed,
    /// The campaign's results are released: its stages and lists stand as released.
    #[error("评选结果已发布")]
    Released,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to `Duplicate(what)`, keeping other errors.
pub(crate) fn unique_as(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Db(e),
    }
}

/// `n` rows for a multi-row `VALUES`, each opening with the parameters every row shares
/// (`shared`, e.g. `"$1, $2"`, or `""`) and then `cols` of its own, numbered from
/// `$first`: `value_rows("$1", 2, 2, 2)` is `($1, $2, $3), ($1, $4, $5)`.
pub(crate) fn value_rows(shared: &str, n: usize, cols: usize, first: usize) -> String {
    let mut out = String::with_capacity(n * (shared.len() + cols * 6 + 4));
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('(');
        out.push_str(shared);
        for c in 0..cols {
            if c > 0 || !shared.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", first + i * cols + c));
        }
        out.push(')');
    }
    out
}

/// Placeholders of a statement of many rows, numbered in the order of its text with each
/// parameter bound once: `$1, $2 …` on PostgreSQL, `?` on SQLite. SQLite looks a `$N` up
/// by name against every name before it as it prepares, and sqlx each one again as it
/// binds: a batch of 120 votes' 1,300 parameters spent ~10 ms comparing strings, so a vote
/// lane that fell behind — its batches bigger — fell further behind.
pub(crate) struct Marks {
    anonymous: bool,
    next: usize,
}

impl Marks {
    /// Placeholders for a statement on `conn`.
    pub(crate) fn on(conn: &sqlx::AnyConnection) -> Marks {
        Marks {
            anonymous: conn.backend_name() == "SQLite",
            next: 1,
        }
    }

    /// The next parameter's placeholder.
    pub(crate) fn one(&mut self) -> String {
        let mut out = String::new();
        self.push(&mut out);
        out
    }

    fn push(&mut self, out: &mut String) {
        if self.anonymous {
            out.push('?');
        } else {
            out.push('$');
            out.push_str(&self.next.to_string());
        }
        self.next += 1;
    }

    /// `n` rows of `cols` placeholders: `(?, ?), (?, ?)`.
    pub(crate) fn rows(&mut self, n: usize, cols: usize) -> String {
        let mut out = String::with_capacity(n * (cols * 6 + 4));
        for i in 0..n {
            out.push_str(if i == 0 { "(" } else { ", (" });
            for c in 0..cols {
                if c > 0 {
                    out.push_str(", ");
                }
                self.push(&mut out);
            }
            out.push(')');
        }
        out
    }
}

/// Current time in unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database and the key that seals personal data in it.
#[derive(Clone)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
    pub sealer: Sealer,
    /// Parsed campaign files by id, with the revision they were parsed at.
    models: campaigns::ModelCache,
    /// Rounds' votes as scans read them, kept for the next scan (`Store::vote_facts`).
    facts: vote_review::FactsCache,
    /// SQLite's checkpoints, taken off the writers' path while any clone of the store
    /// lives (`Checkpoints`).
    _checkpoints: Option<std::sync::Arc<Checkpoints>>,
    /// SQLite only: the turn of this process's busy writers (the vote lane) and of the
    /// checkpoint that restarts the WAL (`Store::writing`).
    turns: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite only: this process's long reads (a scan's pages) share it, the checkpoint
    /// takes it alone (`Store::reading_long`).
    long_reads: Option<std::sync::Arc<tokio::sync::RwLock<()>>>,
    /// What the vote lane last noted: a long read pauses between its pages while votes
    /// come in fast or the lane is behind (`Store::yield_to_votes`).
    lane: std::sync::Arc<std::sync::Mutex<LaneNote>>,
}

/// The vote lane's note after each batch (`Store::note_vote_batch`).
#[derive(Debug, Clone, Copy)]
struct LaneNote {
    /// The last batch, and how long its oldest vote waited.
    at: std::time::Instant,
    waited: Duration,
    /// The votes of the batches since `since` (a window of about a second), and the votes
    /// a second of the window before.
    since: std::time::Instant,
    votes: u64,
    rate: u64,
}

impl LaneNote {
    /// No vote yet: noted as two seconds ago (`Store::votes_coming_in` is false).
    fn new() -> LaneNote {
        let then = std::time::Instant::now()
            .checked_sub(Duration::from_secs(2))
            .unwrap_or_else(std::time::Instant::now);
        LaneNote {
            at: then,
            waited: Duration::ZERO,
            since: then,
            votes: 0,
            rate: 0,
        }
    }
}

/// Votes a second from which work aside rests while they come in: below it the vote takes
/// a small part of the machine (a tenth of this one's peak), and a scan beside a trickle
/// of votes — a city's vote at night — rested half its time for nothing.
const BUSY_VOTES_A_SECOND: u64 = 500;

/// A lane whose oldest vote waited this long is behind: long reads pause for it.
const LANE_BEHIND: Duration = Duration::from_millis(20);
/// A long read waits for the lane at most this long before each page (besides its rest
/// as long as the page before, itself at most this long), so a scan still ends beside a
/// vote that never lets up.
const YIELD_AT_MOST: Duration = Duration::from_millis(500);

/// How often the WAL is copied back. Each copy ends with a sync of the database file,
/// which writes every page copied since the last; the vote lane's commit, syncing the
/// WAL on the same disk, waited behind it — once a second at 4,675 votes a second (some
/// 20,000 frames), a batch of 25–30 ms. A quarter of a second wrote a quarter as much at
/// a time, but at 5,500 votes a second its sync still took 8–34 ms; at an eighth the
/// restarts' hold (whose sync waits on the same disk) fell from p90 35 ms to 20 ms.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(125);

/// SQLite's WAL copied back into the database every `CHECKPOINT_EVERY` by a thread of its own, in
/// PASSIVE mode, beside the writers: with the automatic checkpoint the commit that
/// crosses 1,000 pages copies them and syncs the database before it returns, and a vote
/// waits on it (the 80%-of-peak run's p99 of 225 ms). The task ends when the last clone
/// of the store is dropped.
struct Checkpoints {
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Checkpoints {
    fn start(
        options: AnyConnectOptions,
        turns: std::sync::Arc<tokio::sync::Mutex<()>>,
        long_reads: std::sync::Arc<tokio::sync::RwLock<()>>,
    ) -> Checkpoints {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        // On a thread of its own with a runtime of its own: on the server's runtime, a
        // RESTART's answer waited behind the requests' tasks to be seen — the lane's turn
        // held 30–60 ms for a statement of a few — a sixth of the restarts at 80% of the
        // vote's peak.
        let task = async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // A connection of the task's own, kept between ticks and opened again after
            // a failure: it never waits on a busy lock, set once, where a pool
            // connection had to be set and set back each time — two more statements in
            // the lane's turn, each a hop to the connection's thread (`checkpoint`).
            let mut own: Option<sqlx::AnyConnection> = None;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {
                        let conn = match own.as_mut() {
                            Some(c) => c,
                            None => match checkpointer(&options).await {
                                Ok(c) => own.insert(c),
                                Err(e) => {
                                    tracing::debug!(error = %e, "WAL checkpointer not opened");
                                    continue;
                                }
                            },
                        };
                        if let Err(e) =
                            checkpoint(conn, &turns, &long_reads, wal_restart_frames()).await
                        {
                            tracing::debug!(error = %e, "WAL checkpoint failed");
                            own = None;
                        }
                    }
                }
            }
        };
        if own_thread::run("pingxuan-checkpoint", move || task).is_err() {
            tracing::error!("no WAL checkpoints: the WAL grows until restarted");
        }
        Checkpoints { _stop: stop }
    }
}

/// The checkpoint task's connection: the pool's database (by its options), no busy wait
/// (`checkpoint` tries the RESTART again itself), and nothing mapped (it reads no pages).
async fn checkpointer(options: &AnyConnectOptions) -> Result<sqlx::AnyConnection> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect_with(options).await?;
    conn.execute(
        "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 0; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA mmap_size = 0;",
    )
    .await?;
    Ok(conn)
}

/// WAL frames past which a checkpoint also restarts the WAL (64 MiB at 4 KiB pages: at
/// 4,675 votes a second about once a second, not at each of the eight checkpoints);
/// `PINGXUAN_SQLITE_WAL_RESTART_FRAMES` sets another (0: never, the benchmark's baseline).
fn wal_restart_frames() -> i64 {
    static FRAMES: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *FRAMES.get_or_init(|| env_number("PINGXUAN_SQLITE_WAL_RESTART_FRAMES", 16384))
}

/// A number from the environment (`KNOWN_VARS` in the binary lists them), else `default`.
fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A RESTART that meets a reader of the WAL's frames is tried again this many times,
/// this long apart, in the lane's turn; then left to the next tick. SQLite's busy
/// handler would sleep 1, 2 and 2 ms for each lock it met, each sleep ending late on a
/// busy machine, where the readers it waits for — a request's read of a fraction of a
/// millisecond, begun before the WAL was all copied — end sooner. (At 80% of the vote's
/// peak 439 of 443 restarts met no reader: their hold, up to 55 ms, is the sync of the
/// database file after the frames they copy, on the disk the lane's commits sync to.)
const RESTART_TRIES: u32 = 20;
const RESTART_AGAIN_AFTER: Duration = Duration::from_micros(100);

/// A copy of the WAL this short leaves little for the RESTART in the lane's turn.
const SHORT_COPY: Duration = Duration::from_millis(4);

/// Whether a copy that `took` this long after one of `last` is worth another: the copies
/// converge while each is clearly shorter than the one before.
fn shrinking(took: Duration, last: Duration) -> bool {
    took.as_nanos() * 4 < last.as_nanos() * 3
}

/// One checkpoint: PASSIVE copies what it can beside readers and writers. Under a
/// steady stream of commits the WAL is then never reset and grows with the round; a
/// reader searches every 4,096-frame segment of its index for each page not in the WAL,
/// and the vote slows as the round goes on. Past `wal_restart_frames` a RESTART follows
/// in the busy writers' turn (`Store::writing`): the vote lane finishes its batch and
/// waits, the RESTART finds the write lock free, copies the few frames committed since
/// the PASSIVE, and tries again while a reader of older frames holds them (readers
/// begun once every frame is copied read the database file, and do not hold it up:
/// `RESTART_TRIES`); the lane then writes from the WAL's beginning. Before, the RESTART
/// took the write lock while the lane was writing: SQLite's busy handler polls (sleeps of 1, 2, 5 … 50, 100 ms), so
/// each side overslept the other's hold — RESTART p50 64 ms, p90 123 ms, every second.
/// A scan's read pauses between its pages meanwhile (`Store::reading_long`): a read
/// holds its snapshot's frames until it ends, and a scan's pages, one after another,
/// would keep PASSIVE from ever copying every frame — the WAL grew to 1.7 GiB under a
/// worker's scan beside a vote at 2,700/s, and every read searched it. Another reader
/// of older frames (an export, another process) leaves the restart to a later tick.
async fn checkpoint(
    conn: &mut sqlx::AnyConnection,
    turns: &tokio::sync::Mutex<()>,
    long_reads: &tokio::sync::RwLock<()>,
    limit: i64,
) -> Result<()> {
    let _long = long_reads.write().await;
    let began = std::time::Instant::now();
    let r = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    let mut last = began.elapsed();
    let (log, copied): (i64, i64) = (r.try_get(1)?, r.try_get(2)?);
    if limit == 0 || log < limit || copied < log {
        return Ok(());
    }
    // Again beside the lane, until one copy is short: the frames the lane committed
    // while the last copied are copied now, so the RESTART in the lane's turn copies —
    // and syncs to the database file — only the last few milliseconds' worth. Each copy
    // takes about as long as the frames it copies took to commit (their sync to the
    // database file the most of it), so they shrink; after one more copy only, the
    // RESTART still held the lane 10 ms at the median and 45 ms at p90 (22,000 frames
    // a second at 4,000 votes a second), and at 80% of its peak a pause of the lane
    // takes about twice as long to work off.
    // A short copy counts only if it copied every frame: one a reader of older frames
    // held back is short too, and leaves its frames to the RESTART. Near the disk's
    // limit the copies stop shrinking — copying a tick's frames takes about as long as
    // committing them — and waiting for a short one skipped the RESTART: 80
    // times in a run at 5,000 votes a second, and the WAL grew to 181 MiB, each read
    // searching it. So the copies stop when one is short, or no shorter than three
    // quarters of the one before, or after eight, and the RESTART follows in any case.
    let mut copies = 1;
    let whole = loop {
        let copying = std::time::Instant::now();
        let r = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *conn)
            .await?;
        copies += 1;
        let took = copying.elapsed();
        let whole = r.try_get::<i64, _>(1)? == r.try_get::<i64, _>(2)?;
        if (whole && took <= SHORT_COPY) || !shrinking(took, last) || copies >= 8 {
            break whole;
        }
        last = took;
    };
    let passive = began.elapsed();
    // A reader of older frames that held back the last copy is a long read (an export,
    // another process): one try, not twenty in the lane's turn every tick while it lasts.
    let tries_at_most = if whole { RESTART_TRIES } else { 1 };
    // In the turn, the one statement: the RESTART, again while a reader holds it up.
    let turn = turns.lock().await;
    let waited = began.elapsed() - passive;
    let mut tries = 0;
    let restarted = loop {
        tries += 1;
        let busy = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *conn)
            .await
            .and_then(|r| r.try_get::<i64, _>(0));
        match busy {
            Ok(1) if tries < tries_at_most => std::thread::sleep(RESTART_AGAIN_AFTER),
            other => break other,
        }
    };
    drop(turn);
    let held = began.elapsed() - passive - waited;
    let busy: i64 = restarted?;
    tracing::debug!(
        log,
        copied,
        busy,
        tries,
        copies,
        passive_ms = passive.as_millis() as u64,
        wait_ms = waited.as_millis() as u64,
        restart_us = held.as_micros() as u64,
        "WAL restarted"
    );
    Ok(())
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// A pool of `connections` set up for this service's durability (see each setting).
///
/// The file is not mapped for reads unless `PINGXUAN_SQLITE_MMAP_BYTES` says. A
/// connection that sees another's commit unmaps the whole file before its read
/// (SQLite's pager) and faults its pages in again: at 3,000 votes a second each vote's read on the pool paid an `munmap` with its TLB shootdown
/// (an interrupt to the other core, dear on a VM), where reading a handful of pages
/// costs a handful of `pread`s.
async fn open_pool(
    options: AnyConnectOptions,
    backend: Backend,
    connections: u32,
) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        // A connection is pinged before it is handed out only where it crosses a network
        // (a PostgreSQL server may have closed it); SQLite's is a file: the ping was one
        // more wait for the connection's thread on every acquire — a vote's read and
        // each batch of votes.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Postgres {
                    // A commit is acknowledged once it is on disk (the default, said
                    // here so a server's setting cannot lose an acknowledged vote).
                    conn.execute("SET synchronous_commit = on").await?;
                }
                if backend == Backend::Sqlite {
                    // Per connection: WAL for concurrent readers, the WAL synced at every commit
                    // (an acknowledged move survives a power cut), a wait instead of SQLITE_BUSY,
                    // enforced foreign keys, and no checkpoint in a commit (`Checkpoints` takes
                    // them beside the writers); a page cache of 32 MiB (the default 2 MiB holds
                    // little of a round's vote indexes), the file read, not mapped
                    // (`PINGXUAN_SQLITE_MMAP_BYTES`), and a WAL grown by a long read (a scan
                    // holding back its reset) cut back to 256 MiB once reset — above what a
                    // second's votes write before a restart (~22,000 frames, 90 MB, at 4,675 votes
                    // a second): at 64 MiB every restart cut the file and the lane's commits grew
                    // it again, each growth a change of its size for the commit's sync to write.
                    static PRAGMAS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                    let pragmas = PRAGMAS.get_or_init(|| {
                        format!(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -32768; \
                             PRAGMA mmap_size = {}; PRAGMA journal_size_limit = 268435456;",
                            // Bytes mapped for reads, none unless set (see the doc above).
                            env_number::<u64>("PINGXUAN_SQLITE_MMAP_BYTES", 0)
                        )
                    });
                    conn.execute(pragmas.as_str()).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

pub fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Other(format!(
            "不支持的数据库地址：{}（应以 sqlite: 或 postgres: 开头）",
            url.split('@').next_back().unwrap_or("")
        )))
    }
}

impl Store {
    /// Connects to the database named by `url`. SQLite files are created when missing.
    pub async fn connect(url: &str, sealer: Sealer) -> Result<Self> {
        Self::open(url, sealer, true).await
    }

    /// Connects beside a server that runs on the same database (a tool, the bench): on
    /// SQLite the server's task takes the checkpoints, two would only wait on each other.
    pub async fn connect_beside(url: &str, sealer: Sealer) -> Result<Self> {
        Self::open(url, sealer, false).await
    }

    async fn open(url: &str, sealer: Sealer, checkpoints: bool) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = open_pool(
            options,
            backend,
            match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            },
        )
        .await?;
        let sqlite = backend == Backend::Sqlite;
        let turns: Option<std::sync::Arc<tokio::sync::Mutex<()>>> = sqlite.then(Default::default);
        let long_reads: Option<std::sync::Arc<tokio::sync::RwLock<()>>> =
            sqlite.then(Default::default);
        Ok(Store {
            _checkpoints: match (&turns, &long_reads) {
                (Some(t), Some(r)) if checkpoints => Some(std::sync::Arc::new(Checkpoints::start(
                    (*pool.connect_options()).clone(),
                    t.clone(),
                    r.clone(),
                ))),
                _ => None,
            },
            turns,
            long_reads,
            pool,
            backend,
            sealer,
            models: Default::default(),
            facts: Default::default(),
            lane: std::sync::Arc::new(std::sync::Mutex::new(LaneNote::new())),
        })
    }

    /// A store over one connection of its own, opened on the calling thread's runtime —
    /// SQLite's connection thread is started by that thread and takes its CPU priority —
    /// for a long read beside the requests (`pingxuan_app::aside`), or the vote lane's
    /// writes (`pingxuan_app::votes::Ballots`: a page cache only its own commits touch).
    /// No checkpoint task; closed by `close`.
    pub async fn detached(&self) -> Result<Store> {
        let options = (*self.pool.connect_options()).clone();
        Ok(Store {
            pool: open_pool(options, self.backend, 1).await?,
            backend: self.backend,
            sealer: self.sealer.clone(),
            models: Default::default(),
            // The scans read aside (`pingxuan_app::aside`) and keep what they read here.
            facts: self.facts.clone(),
            lane: self.lane.clone(),
            _checkpoints: None,
            turns: self.turns.clone(),
            long_reads: self.long_reads.clone(),
        })
    }

    /// A long read's turn on SQLite, held by each page of a scan: the checkpoint that
    /// restarts the WAL takes it alone, so no page's snapshot holds the WAL's frames
    /// while it runs (`checkpoint`). `None` on PostgreSQL.
    pub async fn reading_long(&self) -> Option<tokio::sync::OwnedRwLockReadGuard<()>> {
        match &self.long_reads {
            Some(r) => Some(r.clone().read_owned().await),
            None => None,
        }
    }

    /// Noted by the vote lane after each batch: its `votes` and how long the oldest
    /// waited.
    pub fn note_vote_batch(&self, waited: Duration, votes: usize) {
        let now = std::time::Instant::now();
        let mut note = self.lane.lock().unwrap_or_else(|e| e.into_inner());
        let window = now - note.since;
        if window >= Duration::from_secs(1) {
            note.rate = (note.votes as u128 * 1000 / window.as_millis()) as u64;
            note.since = now;
            note.votes = 0;
        }
        note.votes += votes as u64;
        note.at = now;
        note.waited = waited;
    }

    /// Whether votes are coming in fast on SQLite: the vote lane's last batch within the
    /// last second, at `BUSY_VOTES_A_SECOND` or more (over the last whole window, or in
    /// the one under way). Work aside rests part of the time while they do
    /// (`yield_to_votes`, the scan's computing); PostgreSQL reads and writes in its own
    /// processes: `false`.
    pub fn votes_coming_in(&self) -> bool {
        let note = *self.lane.lock().unwrap_or_else(|e| e.into_inner());
        self.long_reads.is_some()
            && note.at.elapsed() <= Duration::from_secs(1)
            && note.rate.max(note.votes) >= BUSY_VOTES_A_SECOND
    }

    /// Called by a long read before each page, with the time its last page took: while
    /// votes come in fast (`votes_coming_in`) it first rests as
    /// long as that page took, so the read takes at most half of a core; then, while the
    /// vote lane is behind (its last batch, within the last second, had a vote waiting
    /// over 20 ms), waits in steps of 20 ms, at most 500 ms. The reading thread runs at a
    /// lower priority (`aside`), but on two cores its pages still slowed the lane's
    /// statements by half; at 80% of its peak the lane then fell behind and a vote waited
    /// 100–200 ms — at 80% of a peak of 4,956/s the machine had a quarter of its CPU
    /// left, and a scan reading flat out took it and more (a third of the votes in those
    /// seconds over 50 ms). The time it waited.
    pub async fn yield_to_votes(&self, last_page: Duration) -> Duration {
        let mut slept = Duration::ZERO;
        // PostgreSQL reads in its own processes, and its lanes wait on their commits'
        // fsync: nothing here to give way to.
        if self.long_reads.is_none() {
            return slept;
        }
        if self.votes_coming_in() && !last_page.is_zero() {
            let rest = last_page.min(YIELD_AT_MOST);
            tokio::time::sleep(rest).await;
            slept += rest;
        }
        let behind_since = slept;
        loop {
            let LaneNote { at, waited, .. } = *self.lane.lock().unwrap_or_else(|e| e.into_inner());
            if waited < LANE_BEHIND
                || at.elapsed() > Duration::from_secs(1)
                || slept - behind_since >= YIELD_AT_MOST
            {
                return slept;
            }
            tokio::time::sleep(LANE_BEHIND).await;
            slept += LANE_BEHIND;
        }
    }

    /// The busy writers' turn on SQLite, held by the vote lane through each batch, by
    /// the checkpoint that restarts the WAL and by a scan's saving transactions, so none
    /// polls for SQLite's write lock while another holds it (`checkpoint`); `None` on
    /// PostgreSQL, whose writers wait on each other's rows only.
    pub async fn writing(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.turns {
            Some(t) => Some(t.clone().lock_owned().await),
            None => None,
        }
    }

    /// Closes the store's pool (a detached store's, when its reading is done). SQLite's
    /// checkpoint thread keeps its own connection until the last clone is dropped.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Applies the embedded migrations of this backend's tree.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        let converted = self.convert_flags().await?;
        if converted > 0 {
            tracing::info!(
                converted,
                "clusters' flags kept a row a vote are now one row each"
            );
        }
        let chained = self.chain_unchained_audit().await?;
        if chained > 0 {
            tracing::info!(
                chained,
                "audit entries written before the chain are now chained"
            );
        }
        Ok(())
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rows_share_their_head_and_number_the_rest() {
        use super::value_rows;
        assert_eq!(value_rows("$1", 2, 2, 2), "($1, $2, $3), ($1, $4, $5)");
        assert_eq!(value_rows("", 2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(value_rows("$1, $2", 1, 1, 3), "($1, $2, $3)");
    }

    /// Each parameter once, in the order of the text: numbered on PostgreSQL, `?` on SQLite.
    #[test]
    fn marks_number_each_parameter_once_or_leave_it_anonymous() {
        let mut pg = super::Marks {
            anonymous: false,
            next: 1,
        };
        assert_eq!(pg.rows(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(pg.one(), "$5");
        let mut lite = super::Marks {
            anonymous: true,
            next: 1,
        };
        assert_eq!(lite.rows(2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(lite.one(), "?");
    }

    /// The copies before a RESTART go on while each is clearly shorter than the one
    /// before, and stop when one is no shorter than three quarters of it.
    #[test]
    fn copies_go_on_while_they_shrink() {
        use std::time::Duration;
        let ms = Duration::from_millis;
        assert!(super::shrinking(ms(10), Duration::MAX));
        assert!(super::shrinking(ms(20), ms(40)));
        assert!(super::shrinking(ms(29), ms(40)));
        assert!(!super::shrinking(ms(30), ms(40)));
        assert!(!super::shrinking(ms(45), ms(40)));
    }

    /// Votes come in fast while the last whole second, or the one under way, held 500 or
    /// more; a second of a trickle after it ends that.
    #[tokio::test]
    async fn votes_come_in_fast_by_the_second() {
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let store = super::Store::connect(&sqlite_url(&dir, "r.db"), crate::testing::test_sealer())
            .await
            .unwrap();
        assert!(!store.votes_coming_in(), "no vote yet");
        store.note_vote_batch(Duration::ZERO, 400);
        assert!(!store.votes_coming_in(), "400 so far");
        store.note_vote_batch(Duration::ZERO, 200);
        assert!(store.votes_coming_in(), "600 in the second under way");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // The window of 600 ends: ~545 a second, and one vote in the next.
        store.note_vote_batch(Duration::ZERO, 1);
        assert!(store.votes_coming_in(), "the last whole second's rate");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        store.note_vote_batch(Duration::ZERO, 1);
        assert!(!store.votes_coming_in(), "a trickle");
    }

    /// A SQLite database file in `dir`, as a URL.
    fn sqlite_url(dir: &tempfile::TempDir, file: &str) -> String {
        format!("sqlite://{}", dir.path().join(file).display())
    }

    /// Past the limit the checkpoint restarts the WAL in the writers' turn, waiting for
    /// it; under the limit it only copies, without the turn.
    #[tokio::test]
    async fn a_checkpoint_past_the_limit_restarts_the_wal_in_the_writers_turn() {
        use sqlx::Row;
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir, "w.db");
        // Without the store's own checkpoint thread, which would copy meanwhile.
        let store = super::Store::connect_beside(&url, crate::testing::test_sealer())
            .await
            .unwrap();
        let pool = &store.pool;
        sqlx::query("CREATE TABLE w (n INTEGER)")
            .execute(pool)
            .await
            .unwrap();
        let frames = || async {
            let r = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(pool)
                .await
                .unwrap();
            r.try_get::<i64, _>(1).unwrap()
        };
        let commit = |n: i64| async move {
            sqlx::query("INSERT INTO w (n) VALUES (?)")
                .bind(n)
                .execute(pool)
                .await
                .unwrap();
        };
        for n in 0..40 {
            commit(n).await;
        }
        let before = frames().await;
        assert!(before >= 40, "{before}");
        let mut conn = super::checkpointer(&pool.connect_options()).await.unwrap();
        let (turns, long_reads) = (
            store.turns.clone().unwrap(),
            store.long_reads.clone().unwrap(),
        );
        // The lane's turn held: under the limit the checkpoint only copies and does not
        // wait for the turn; past it the restart waits.
        let turn = store.writing().await.unwrap();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            super::checkpoint(&mut conn, &turns, &long_reads, before + 100),
        )
        .await
        .expect("under the limit the checkpoint waited for the turn")
        .unwrap();
        commit(40).await;
        let restarting = {
            let (turns, long_reads) = (turns.clone(), long_reads.clone());
            tokio::spawn(async move { super::checkpoint(&mut conn, &turns, &long_reads, 1).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            !restarting.is_finished(),
            "the restart did not wait for the turn"
        );
        drop(turn);
        restarting.await.unwrap().unwrap();
        commit(41).await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM w")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(n, 42);
    }

    /// A long read goes on at once while the vote lane keeps up, rests as long as its last
    /// page took while votes come in, waits while the lane is behind (also on a store
    /// detached from it), at most half a second however far behind, and not at all once
    /// the votes stop.
    #[tokio::test]
    async fn long_reads_wait_while_the_vote_lane_is_behind() {
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir, "y.db");
        let store = super::Store::connect(&url, crate::testing::test_sealer())
            .await
            .unwrap();
        // A trickle of votes: a page goes on at once, whatever it took.
        store.note_vote_batch(Duration::from_millis(8), 3);
        assert!(!store.votes_coming_in());
        assert_eq!(
            store.yield_to_votes(Duration::from_millis(30)).await,
            Duration::ZERO
        );
        store.note_vote_batch(Duration::from_millis(8), 600);
        assert!(store.votes_coming_in());
        assert_eq!(store.yield_to_votes(Duration::ZERO).await, Duration::ZERO);
        // Votes coming in fast: a page is followed by a rest as long as it took.
        assert_eq!(
            store.yield_to_votes(Duration::from_millis(30)).await,
            Duration::from_millis(30)
        );
        let aside = store.detached().await.unwrap();
        store.note_vote_batch(Duration::from_millis(60), 1);
        let lane = store.clone();
        let caught_up = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(70)).await;
            lane.note_vote_batch(Duration::from_millis(5), 1);
        });
        let waited = aside.yield_to_votes(Duration::ZERO).await;
        caught_up.await.unwrap();
        assert!(
            waited >= Duration::from_millis(60) && waited < Duration::from_millis(400),
            "{waited:?}"
        );
        // Behind and staying behind (noted afresh, as a lane would): half a second at most.
        store.note_vote_batch(Duration::from_secs(3), 1);
        let lane = store.clone();
        let behind = tokio::spawn(async move {
            loop {
                lane.note_vote_batch(Duration::from_secs(3), 1);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        assert_eq!(
            aside.yield_to_votes(Duration::ZERO).await,
            Duration::from_millis(500)
        );
        behind.abort();
        // No vote for over a second: a page goes on at once, whatever it took.
        tokio::time::sleep(Duration::from_millis(1050)).await;
        assert_eq!(
            aside.yield_to_votes(Duration::from_millis(30)).await,
            Duration::ZERO
        );
        aside.close().await;
    }

    /// Every SQLite connection is set up for durability: WAL, the WAL synced at every
    /// commit (FULL, which `kill -9` cannot tell from NORMAL: the page cache survives it),
    /// no checkpoint inside a commit — each connection of the pool, not just the first.
    #[tokio::test]
    async fn every_sqlite_connection_syncs_each_commit() {
        use sqlx::Row;
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir, "p.db");
        let store = super::Store::connect(&url, crate::testing::test_sealer())
            .await
            .unwrap();
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = store.pool.acquire().await.unwrap();
            let read = |q: &'static str| sqlx::query(q);
            let sync: i64 = read("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            let mode: String = read("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            let auto: i64 = read("PRAGMA wal_autocheckpoint")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get(0);
            assert_eq!((sync, mode.as_str(), auto), (2, "wal", 0));
            held.push(conn);
        }
    }

    /// The two migration trees must hold the same files with the same tables and
    /// columns; only the type spellings (and the marked backend-specific blocks) may differ.
    #[test]
    fn migration_trees_in_lockstep() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names = |sub: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir.join(sub))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
        for name in names("sqlite") {
            // Statements only one backend can spell (triggers) sit between
            // `-- backend-specific` and `-- end backend-specific` and are not compared.
            let normal = |sub: &str| {
                let text = std::fs::read_to_string(dir.join(sub).join(&name)).unwrap();
                let mut specific = false;
                text.lines()
                    .filter(|l| {
                        let l = l.trim_start();
                        if l.starts_with("-- backend-specific") {
                            specific = true;
                        } else if l.starts_with("-- end backend-specific") {
                            specific = false;
                            return false;
                        }
                        !specific && !l.starts_with("--")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
                    .replace("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "ID")
                    .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "ID")
                    .replace("BIGINT", "INT")
                    .replace("INTEGER", "INT")
                    .replace("BYTEA", "BLOB")
            };
            assert_eq!(normal("sqlite"), normal("postgres"), "{name} differs");
        }
    }
}
