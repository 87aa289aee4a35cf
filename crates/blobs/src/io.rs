//! Streaming writes and reads: [`BlobWriter`] (pieces in, multipart on S3), [`BlobReader`]
//! (tokio `AsyncRead + AsyncSeek`) and [`BlockingBlobReader`] (`std::io::Read + Seek` for the
//! media checks, used on a blocking thread).

use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{AsyncReadExt, AsyncSeekExt};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncSeek, ReadBuf};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

use crate::BlobError;

/// A file being written piece by piece. Nothing is visible under the key until [`close`]
/// succeeds: the local folder writes to a hidden temporary file renamed at the end, S3 runs a
/// multipart upload completed at the end.
///
/// Dropped without `close` or `abort` (a handler cancelled by a dropped connection), it aborts
/// in a background task, so no half-written file and no pending multipart upload is left.
///
/// [`close`]: BlobWriter::close
pub struct BlobWriter {
    inner: Option<opendal::Writer>,
    key: String,
    written: u64,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("key", &self.key)
            .field("written", &self.written)
            .field("open", &self.inner.is_some())
            .finish()
    }
}

impl BlobWriter {
    pub(crate) fn new(inner: opendal::Writer, key: String) -> Self {
        BlobWriter {
            inner: Some(inner),
            key,
            written: 0,
        }
    }

    fn open(&mut self) -> Result<&mut opendal::Writer, BlobError> {
        self.inner.as_mut().ok_or_else(|| {
            BlobError::Other("the writer was already closed or aborted after an error".into())
        })
    }

    /// Appends bytes. Pieces are gathered into 8 MiB chunks before they go to storage, so at
    /// most about one chunk per writer is held in memory.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), BlobError> {
        let len = bytes.len() as u64;
        let res = self.open()?.write(bytes).await;
        match res {
            Ok(()) => {
                self.written += len;
                Ok(())
            }
            Err(e) => Err(BlobError::from_dal(e, "write", &self.key)),
        }
    }

    /// Appends a whole stored file (`src` is an already checked key). On S3 whole 8 MiB chunks
    /// are copied inside the server (UploadPartCopy); the rest streams through in bounded pieces.
    pub(crate) async fn copy_from(&mut self, src: &str, size: u64) -> Result<(), BlobError> {
        let res = self.open()?.copy_from(src, 0..size).await;
        match res {
            Ok(()) => {
                self.written += size;
                Ok(())
            }
            Err(e) => Err(BlobError::from_dal(e, "compose", src)),
        }
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Finishes the file and makes it visible under its key; returns its size. On failure the
    /// partial data is removed.
    pub async fn close(mut self) -> Result<u64, BlobError> {
        let mut w = self.open_take()?;
        match w.close().await {
            Ok(_) => Ok(self.written),
            Err(e) => {
                let err = BlobError::from_dal(e, "close", &self.key);
                if let Err(e) = w.abort().await {
                    tracing::debug!(key = %self.key, error = ?e, "abort after failed close");
                }
                Err(err)
            }
        }
    }

    /// Gives up the file: nothing appears under the key and the partial data is removed.
    pub async fn abort(mut self) -> Result<(), BlobError> {
        let mut w = self.open_take()?;
        w.abort()
            .await
            .map_err(|e| BlobError::from_dal(e, "abort", &self.key))
    }

    fn open_take(&mut self) -> Result<opendal::Writer, BlobError> {
        self.inner.take().ok_or_else(|| {
            BlobError::Other("the writer was already closed or aborted after an error".into())
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        let Some(mut w) = self.inner.take() else {
            return;
        };
        let key = std::mem::take(&mut self.key);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(e) = w.abort().await {
                        tracing::warn!(%key, error = ?e, "abort of a dropped writer failed");
                    }
                });
            }
            Err(_) => tracing::warn!(%key, "writer dropped outside a runtime: not aborted"),
        }
    }
}

/// A stored file read asynchronously with tokio's `AsyncRead`, `AsyncBufRead` and `AsyncSeek`.
/// A seek far away starts a new request from there; nothing before it is read.
pub struct BlobReader {
    inner: Compat<opendal::FuturesAsyncReader>,
    size: u64,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("size", &self.size)
            .finish()
    }
}

impl BlobReader {
    pub(crate) fn new(inner: opendal::FuturesAsyncReader, size: u64) -> Self {
        BlobReader {
            inner: inner.compat(),
            size,
        }
    }

    /// The file's size when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl AsyncRead for BlobReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncBufRead for BlobReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.inner).consume(amt)
    }
}

impl AsyncSeek for BlobReader {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pin::new(&mut self.inner).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut self.inner).poll_complete(cx)
    }
}

/// A stored file as a blocking `std::io::Read + Seek`, for checks that take one (the media
/// probes). Open it with [`crate::Blobs::blocking_reader`] (async), then move it into
/// `tokio::task::spawn_blocking`: every `read`/`seek` drives the async reader with the
/// runtime's `Handle::block_on`, which **panics on a runtime worker thread** — never call it
/// from async code directly.
///
/// Reads go to storage in 128 KiB ranged requests, so a probe that seeks past a video's
/// `mdat` fetches little more than the bytes it looks at.
pub struct BlockingBlobReader {
    handle: tokio::runtime::Handle,
    inner: Option<opendal::FuturesAsyncReader>,
    size: u64,
}

impl std::fmt::Debug for BlockingBlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingBlobReader")
            .field("size", &self.size)
            .finish()
    }
}

impl BlockingBlobReader {
    pub(crate) fn new(
        handle: tokio::runtime::Handle,
        inner: opendal::FuturesAsyncReader,
        size: u64,
    ) -> Self {
        BlockingBlobReader {
            handle,
            inner: Some(inner),
            size,
        }
    }

    /// The file's size when it was opened.
    pub fn size(&self) -> u64 {
        self.size
    }

    fn inner(&mut self) -> io::Result<&mut opendal::FuturesAsyncReader> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("reader already dropped"))
    }
}

impl Read for BlockingBlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let handle = self.handle.clone();
        let r = self.inner()?;
        handle.block_on(r.read(buf))
    }
}

impl Seek for BlockingBlobReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let handle = self.handle.clone();
        let r = self.inner()?;
        handle.block_on(r.seek(pos))
    }
}

impl Drop for BlockingBlobReader {
    fn drop(&mut self) {
        // The reader may hold a tokio file or an HTTP body; drop it inside the runtime's context.
        if let Some(r) = self.inner.take() {
            let _guard = self.handle.enter();
            drop(r);
        }
    }
}
