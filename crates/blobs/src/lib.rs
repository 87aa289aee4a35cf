//! File storage for pingxuan: a local folder by default (`./data/files`), or a bucket of an
//! S3-compatible server when the storage setting says so — one interface, built on OpenDAL
//! (services `fs` and `s3`), async on tokio. Files stream in and out in bounded pieces; nothing
//! here holds a whole file in memory.
//!
//! What this crate gives the upload layer:
//! - [`Blobs::writer`]: a streamed write, visible only once closed (multipart on S3);
//! - resumable uploads: parts under [`upload_part_key`] (`uploads/{id}/{part:06}`), joined by
//!   [`Blobs::compose`], abandoned ones found by [`Blobs::list_prefix`] and removed by
//!   [`Blobs::delete_prefix`];
//! - reads: [`Blobs::stat`], [`Blobs::read_range`] for HTTP Range requests, [`Blobs::reader`]
//!   (tokio `AsyncRead + AsyncSeek`), [`Blobs::blocking_reader`] (`Read + Seek` for the media
//!   checks on a blocking thread);
//! - [`Blobs::check`] for `/healthz`;
//! - [`BlobError`], whose `Display` is a Chinese sentence fit to show a user.
//!
//! Keys are made by callers and checked by [`check_key`].

#![forbid(unsafe_code)]

mod config;
mod error;
mod io;
mod key;
pub mod testing;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use opendal::Operator;
use opendal::layers::{RetryLayer, TimeoutLayer};

pub use error::{BlobError, Cause};
pub use io::{BlobReader, BlobWriter, BlockingBlobReader};
pub use key::{MAX_KEY_LEN, UPLOADS, check_key, check_prefix, upload_part_key, upload_prefix};

use config::Location;

/// Size of the pieces a [`BlobWriter`] sends to storage (the S3 multipart part size). Upload
/// parts of exactly this size let [`Blobs::compose`] copy them inside the S3 server.
pub const WRITE_CHUNK: usize = 8 * 1024 * 1024;

/// Size of the ranged requests behind a [`BlockingBlobReader`].
const BLOCKING_READ_CHUNK: usize = 128 * 1024;

/// Hidden folder (local backend) where files being written wait until they are closed.
const PARTIAL_DIR: &str = ".partial/";
/// Hidden folder for the health probe.
const PROBE_DIR: &str = ".probe/";

/// What a stored file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub size: u64,
    /// When it was last written (the server's clock on S3), if storage says.
    pub last_modified: Option<SystemTime>,
    /// The storage's entity tag, if any (S3: the object's ETag, `"…-N"` after a multipart
    /// upload of N parts). Usable for HTTP `ETag`.
    pub etag: Option<String>,
}

/// One file found by [`Blobs::list_prefix`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// `None` when storage did not say; a sweeper should treat that as old.
    pub last_modified: Option<SystemTime>,
}

/// The bytes of a range, streamed in pieces as storage delivers them.
pub type BlobStream = BoxStream<'static, Result<Bytes, BlobError>>;

/// Where files are kept. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct Blobs {
    op: Operator,
    backend: Backend,
}

/// The backend as shown by `Debug`: no secret is kept here at all.
#[derive(Clone, Debug)]
enum Backend {
    Fs {
        root: PathBuf,
    },
    S3 {
        bucket: String,
        prefix: String,
        endpoint: Option<String>,
        region: String,
        access_key_id: String,
    },
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.backend {
            Backend::Fs { root } => f.debug_struct("Blobs").field("fs", root).finish(),
            Backend::S3 {
                bucket,
                prefix,
                endpoint,
                region,
                access_key_id,
            } => f
                .debug_struct("Blobs")
                .field("s3_bucket", bucket)
                .field("prefix", prefix)
                .field("endpoint", endpoint)
                .field("region", region)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"[redacted]")
                .finish(),
        }
    }
}

impl Blobs {
    /// Opens storage from the setting:
    ///
    /// - empty: the folder `data_dir/files`;
    /// - `file:///absolute/folder`;
    /// - `s3://KEY:SECRET@bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`, key and
    ///   secret percent-encoded, or left out to come from `AWS_ACCESS_KEY_ID` and
    ///   `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` if set). With `endpoint`, path-style
    ///   requests (MinIO, Ceph and the like); without, AWS in virtual-host style. `region`
    ///   defaults to `us-east-1`. Optional `timeout` (seconds; connecting and requests without a
    ///   body, default 10) and `io_timeout` (seconds per body transfer step, default 60); each
    ///   attempt is retried twice. Unknown parameters are refused.
    ///
    /// The local folder is created if missing. Nothing is sent to S3 here; call
    /// [`Blobs::check`] to find out whether the bucket answers. Errors are
    /// [`BlobError::Config`], whose text never contains the secret.
    pub fn from_url(url: &str, data_dir: &Path) -> Result<Blobs, BlobError> {
        let env = |name: &str| std::env::var(name).ok();
        match config::parse(url, data_dir, &env)? {
            Location::Fs { root } => Self::fs(root),
            Location::S3(s3) => Self::s3(s3),
        }
    }

    fn fs(root: PathBuf) -> Result<Blobs, BlobError> {
        let root_str = root.to_str().ok_or_else(|| {
            BlobError::Config(format!("文件夹名不是有效的 UTF-8：{}", root.display()))
        })?;
        let partial = root.join(PARTIAL_DIR);
        let builder = opendal::services::Fs::default()
            .root(root_str)
            .atomic_write_dir(&partial.to_string_lossy());
        let op = Operator::new(builder).map_err(|e| {
            tracing::error!(root = %root.display(), error = ?e, "cannot open the storage folder");
            BlobError::Config(format!(
                "无法创建或打开存储文件夹 {}：{}",
                root.display(),
                e.message()
            ))
        })?;
        Ok(Blobs {
            op,
            backend: Backend::Fs { root },
        })
    }

    fn s3(s3: config::S3Location) -> Result<Blobs, BlobError> {
        let mut builder = opendal::services::S3::default()
            .bucket(&s3.bucket)
            .root(&format!("/{}", s3.prefix))
            .region(&s3.region)
            .access_key_id(&s3.access_key_id)
            .secret_access_key(&s3.secret_access_key)
            // Credentials come from the setting or the two variables read above, nowhere else.
            .disable_config_load()
            .disable_ec2_metadata();
        if let Some(token) = &s3.session_token {
            builder = builder.session_token(token);
        }
        builder = match &s3.endpoint {
            // Path-style (OpenDAL's default) for self-hosted servers.
            Some(endpoint) => builder.endpoint(endpoint),
            None => builder.enable_virtual_host_style(),
        };
        let setup = |e: &dyn std::fmt::Debug, shown: &str| {
            tracing::error!(error = ?e, "cannot set up S3 storage");
            BlobError::Config(format!("S3 存储设置无法使用：{shown}"))
        };
        // Our own HTTP client for this bucket: a host that does not answer fails within the
        // setting's timeout instead of the OS's minutes-long connect timeout.
        let client = reqwest::Client::builder()
            .connect_timeout(s3.timeout)
            .build()
            .map_err(|e| setup(&e, "无法建立 HTTP 客户端"))?;
        let transport = opendal::HttpTransporter::new(
            opendal_http_transport_reqwest::ReqwestTransport::new(client),
        );
        let op = Operator::new(builder).map_err(|e| setup(&e, e.message()))?;
        let ctx = op.base_context().with_http_transport(transport);
        let op = op
            .with_context(ctx)
            // Timeout under retry: each attempt is bounded, then retried twice.
            .layer(
                TimeoutLayer::new()
                    .with_timeout(s3.timeout)
                    .with_io_timeout(s3.io_timeout),
            )
            .layer(
                RetryLayer::new()
                    .with_max_times(2)
                    .with_min_delay(Duration::from_millis(100))
                    .with_max_delay(Duration::from_secs(1))
                    .with_jitter(),
            );
        Ok(Blobs {
            op,
            backend: Backend::S3 {
                bucket: s3.bucket,
                prefix: s3.prefix,
                endpoint: s3.endpoint,
                region: s3.region,
                access_key_id: config::mask(&s3.access_key_id),
            },
        })
    }

    /// `"fs"` or `"s3"`, for logs and the health page.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Fs { .. } => "fs",
            Backend::S3 { .. } => "s3",
        }
    }

    // -----------------------------------------------------------------------------------------
    // Writing

    /// Stores a small file in one go (thumbnails, generated documents). Large ones go through
    /// [`Blobs::writer`].
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        check_key(key)?;
        self.put_unchecked(key, bytes).await
    }

    /// Through a writer, so that a failed write (a full disk) leaves no temporary file.
    async fn put_unchecked(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        let mut w = self.open_writer(key).await?;
        if let Err(e) = w.write(bytes).await {
            if let Err(abort) = w.abort().await {
                tracing::debug!(key, error = ?abort, "abort after failed put");
            }
            return Err(e);
        }
        w.close().await.map(|_| ())
    }

    /// Starts a streamed write of `key` (see [`BlobWriter`]). An existing file under the key is
    /// replaced when the writer closes.
    pub async fn writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        check_key(key)?;
        self.open_writer(key).await
    }

    async fn open_writer(&self, key: &str) -> Result<BlobWriter, BlobError> {
        let w = self
            .op
            .writer_with(key)
            .chunk(WRITE_CHUNK)
            .await
            .map_err(|e| BlobError::from_dal(e, "writer", key))?;
        Ok(BlobWriter::new(w, key.to_string()))
    }

    /// Joins stored parts, in the given order, into `dest`, then deletes the parts. The parts
    /// stream through in bounded pieces (on S3, whole 8 MiB chunks are copied by the server);
    /// `dest` appears only when complete. If anything fails, `dest` is not written and the parts
    /// are kept, so the upload can be tried again. Returns the size of `dest`.
    ///
    /// A part that cannot be deleted afterwards is only logged: `dest` is complete, and the
    /// sweeper ([`Blobs::list_prefix`] + [`Blobs::delete_prefix`]) removes leftovers.
    pub async fn compose(&self, parts: &[String], dest: &str) -> Result<u64, BlobError> {
        check_key(dest)?;
        if parts.is_empty() {
            return Err(BlobError::InvalidKey {
                key: dest.to_string(),
                reason: "compose needs at least one part",
            });
        }
        for part in parts {
            check_key(part)?;
            if part == dest {
                return Err(BlobError::InvalidKey {
                    key: dest.to_string(),
                    reason: "compose destination is one of its parts",
                });
            }
        }
        // Sizes first: a missing part fails before anything is written.
        let mut sizes = Vec::with_capacity(parts.len());
        for part in parts {
            sizes.push(self.stat(part).await?.size);
        }
        let mut w = self.writer(dest).await?;
        for (part, &size) in parts.iter().zip(&sizes) {
            if size == 0 {
                continue;
            }
            if let Err(e) = w.copy_from(part, size).await {
                if let Err(abort) = w.abort().await {
                    tracing::debug!(dest, error = ?abort, "abort after failed compose");
                }
                return Err(e);
            }
        }
        let total = w.close().await?;

        if let Err(e) = self.op.delete_iter(parts.iter().cloned()).await {
            tracing::warn!(dest, error = ?e, "compose: parts not deleted, left to the sweeper");
        } else if let Backend::Fs { .. } = self.backend {
            // Local folders: remove the parts' folders once empty (fails harmlessly otherwise).
            let mut dirs: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.rsplit_once('/').map(|(dir, _)| dir))
                .collect();
            dirs.dedup();
            for dir in dirs {
                let _ = self.op.delete(&format!("{dir}/")).await;
            }
        }
        Ok(total)
    }

    // -----------------------------------------------------------------------------------------
    // Deleting and listing

    /// Deletes one file; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        self.op
            .delete(key)
            .await
            .map_err(|e| BlobError::from_dal(e, "delete", key))
    }

    /// Deletes every file under `prefix` (which ends with `/`, e.g. [`upload_prefix`]). The
    /// empty prefix is refused: this never empties the whole storage.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        check_prefix(prefix)?;
        self.op
            .delete_with(prefix)
            .recursive(true)
            .await
            .map_err(|e| BlobError::from_dal(e, "delete_prefix", prefix))
    }

    /// Every file under `prefix` (ending with `/`, or `""` for all), at any depth, with size and
    /// time — for a sweeper looking for abandoned uploads. The crate's hidden files are left out.
    pub async fn list_prefix(&self, prefix: &str) -> Result<Vec<Listed>, BlobError> {
        if !prefix.is_empty() {
            check_prefix(prefix)?;
        }
        self.list_raw(prefix).await.map(|all| {
            all.into_iter()
                .filter(|l| !key::is_hidden(&l.key))
                .collect()
        })
    }

    async fn list_raw(&self, prefix: &str) -> Result<Vec<Listed>, BlobError> {
        let fail = |e| BlobError::from_dal(e, "list", prefix);
        let mut lister = self
            .op
            .lister_with(if prefix.is_empty() { "/" } else { prefix })
            .recursive(true)
            .await
            .map_err(fail)?;
        let mut out = Vec::new();
        while let Some(entry) = lister.try_next().await.map_err(fail)? {
            let meta = entry.metadata();
            if !meta.is_file() {
                continue;
            }
            out.push(Listed {
                key: entry.path().to_string(),
                size: meta.content_length(),
                last_modified: meta.last_modified().map(SystemTime::from),
            });
        }
        Ok(out)
    }

    /// Local folder only: removes files of writes that never finished (the process died while
    /// writing) older than `older_than`; returns how many. On S3 the equivalent, unfinished
    /// multipart uploads, is the bucket's lifecycle rule `AbortIncompleteMultipartUpload`; this
    /// returns 0 there.
    pub async fn sweep_partial_writes(&self, older_than: Duration) -> Result<usize, BlobError> {
        let Backend::Fs { .. } = self.backend else {
            return Ok(0);
        };
        let cutoff = SystemTime::now() - older_than;
        let mut removed = 0;
        for l in self.list_raw(PARTIAL_DIR).await? {
            if l.last_modified.is_none_or(|t| t < cutoff) {
                self.op
                    .delete(&l.key)
                    .await
                    .map_err(|e| BlobError::from_dal(e, "sweep", &l.key))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    // -----------------------------------------------------------------------------------------
    // Reading

    /// Size, time and tag of a file; [`BlobError::NotFound`] when there is none (or the key is
    /// a folder).
    pub async fn stat(&self, key: &str) -> Result<Meta, BlobError> {
        check_key(key)?;
        let meta = self
            .op
            .stat(key)
            .await
            .map_err(|e| BlobError::from_dal(e, "stat", key))?;
        if !meta.is_file() {
            return Err(BlobError::NotFound {
                key: key.to_string(),
            });
        }
        Ok(Meta {
            size: meta.content_length(),
            last_modified: meta.last_modified().map(SystemTime::from),
            etag: meta.etag().map(str::to_string),
        })
    }

    /// A whole small file in memory (a thumbnail, a probe). Large files are streamed with
    /// [`Blobs::read_range`] or [`Blobs::reader`].
    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        check_key(key)?;
        self.op
            .read(key)
            .await
            .map(|b| b.to_bytes())
            .map_err(|e| BlobError::from_dal(e, "get", key))
    }

    /// The bytes `range` of a file as a stream, for HTTP Range answers (`bytes=a-b` is
    /// `a..b+1`). The range must lie within the file: clamp it with the size from
    /// [`Blobs::stat`] (which the handler needs anyway for `Content-Range`). The first piece is
    /// fetched before this returns, so a missing file is [`BlobError::NotFound`] here rather
    /// than in the middle of an answer. An empty range gives an empty stream without asking
    /// storage.
    pub async fn read_range(&self, key: &str, range: Range<u64>) -> Result<BlobStream, BlobError> {
        check_key(key)?;
        if range.start >= range.end {
            return Ok(stream::empty().boxed());
        }
        let owned = key.to_string();
        let fail = |e| BlobError::from_dal(e, "read", key);
        let mut s = self
            .op
            .reader(key)
            .await
            .map_err(fail)?
            .into_bytes_stream(range)
            .await
            .map_err(fail)?;
        let first = match s.next().await {
            None => return Ok(stream::empty().boxed()),
            Some(Err(e)) => return Err(BlobError::from_io(e, "read", key)),
            Some(Ok(bytes)) => bytes,
        };
        let rest = s.map_err(move |e| BlobError::from_io(e, "read", &owned));
        Ok(stream::once(async move { Ok(first) }).chain(rest).boxed())
    }

    /// A file as tokio `AsyncRead + AsyncBufRead + AsyncSeek` ([`BlobReader`]).
    pub async fn reader(&self, key: &str) -> Result<BlobReader, BlobError> {
        let size = self.stat(key).await?.size;
        let fail = |e| BlobError::from_dal(e, "reader", key);
        let r = self
            .op
            .reader_with(key)
            .content_length_hint(size)
            .await
            .map_err(fail)?
            .into_futures_async_read(0..size)
            .await
            .map_err(fail)?;
        Ok(BlobReader::new(r, size))
    }

    /// A file as a blocking `std::io::Read + Seek` ([`BlockingBlobReader`]) for the media
    /// checks. Open it here (async: a missing file is reported now), then use it inside
    /// `tokio::task::spawn_blocking` — never on a runtime thread.
    ///
    /// Chosen over OpenDAL's `blocking::Operator`: the same adapter (OpenDAL's async reader
    /// driven by `Handle::block_on`), but opening stays async and no extra OpenDAL feature is
    /// needed.
    pub async fn blocking_reader(&self, key: &str) -> Result<BlockingBlobReader, BlobError> {
        let size = self.stat(key).await?.size;
        let fail = |e| BlobError::from_dal(e, "reader", key);
        let r = self
            .op
            .reader_with(key)
            .content_length_hint(size)
            .chunk(BLOCKING_READ_CHUNK)
            .await
            .map_err(fail)?
            .into_futures_async_read(0..size)
            .await
            .map_err(fail)?;
        Ok(BlockingBlobReader::new(
            tokio::runtime::Handle::current(),
            r,
            size,
        ))
    }

    // -----------------------------------------------------------------------------------------
    // Health

    /// Writes, reads back and deletes a tiny hidden file: storage answers, accepts writes and
    /// returns what was written. For `/healthz`.
    pub async fn check(&self) -> Result<(), BlobError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let key = format!("{PROBE_DIR}{}-{nanos}-{n}", std::process::id());
        let body = Bytes::from(format!("pingxuan storage probe {nanos}"));
        self.put_unchecked(&key, body.clone()).await?;
        let back = self
            .op
            .read(&key)
            .await
            .map_err(|e| BlobError::from_dal(e, "check read", &key))?
            .to_bytes();
        let deleted = self.op.delete(&key).await;
        if back != body {
            tracing::error!(%key, "storage probe read back different bytes");
            return Err(BlobError::Other(
                "storage probe read back different bytes".into(),
            ));
        }
        deleted.map_err(|e| BlobError::from_dal(e, "check delete", &key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let blobs = Blobs::from_url(
            "s3://AKIAEXAMPLEKEY:VeryS3cretValue@bucket/p?endpoint=http://127.0.0.1:1",
            Path::new("/nonexistent"),
        )
        .expect("no request is made when opening");
        let shown = format!("{blobs:?}");
        assert!(!shown.contains("VeryS3cretValue"), "{shown}");
        assert!(!shown.contains("AKIAEXAMPLEKEY"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_eq!(blobs.backend_name(), "s3");
    }
}
