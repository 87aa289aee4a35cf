//! Exports over HTTP: a made file sent as a download, and a finished bundle streamed
//! as one ZIP while it is written. What may be exported and how the files are made is
//! `pingxuan_app::exports`.

pub mod jobs;
pub mod verify;

use pingxuan_app::exports::{Download, Part};
use pingxuan_store::exports::ExportJob;

use crate::error::Failure;

/// Sends a made file as a download, named in UTF-8.
pub fn send(d: Download) -> axum::response::Response {
    {
        use axum::http::header;
        use axum::response::IntoResponse;
        (
            [
                (header::CONTENT_TYPE, d.content_type.to_owned()),
                (header::CONTENT_DISPOSITION, disposition(true, &d.name)),
            ],
            d.bytes,
        )
            .into_response()
    }
}

/// `Content-Disposition` naming the file in UTF-8 (RFC 6266), as browsers save it.
pub fn disposition(attachment: bool, name: &str) -> String {
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let kind = if attachment { "attachment" } else { "inline" };
    format!("{kind}; filename*=UTF-8''{encoded}")
}

/// What the bundle streams through: the ZIP writer's output gathered into pieces of this
/// size, at most `PIECES` of them waiting for the network.
const PIECE: usize = 256 << 10;
const PIECES: usize = 4;

/// A `Write` on a blocking thread that hands the response body its pieces through a bounded
/// channel: when the network is slow, the writer waits instead of piling up memory.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buf: bytes::BytesMut,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let piece = self.buf.split().freeze();
        self.tx.blocking_send(Ok(piece)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was closed")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

/// A finished bundle as one ZIP streamed as it is written (never built in memory or on
/// disk): the files the job listed, read from the storage one after another.
pub fn stream_bundle(
    blobs: &pingxuan_blobs::Blobs,
    job: &ExportJob,
) -> Result<axum::response::Response, Failure> {
    use pingxuan_export::bundle::Entry;
    let parts: Vec<Part> = serde_json::from_str(&job.manifest)
        .map_err(|e| Failure::Internal(format!("export manifest: {e}")))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(PIECES);
    let blobs = blobs.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let sink = ChannelWriter {
            tx: tx.clone(),
            buf: bytes::BytesMut::with_capacity(PIECE),
        };
        let entries = parts.into_iter().map(|Part { path, key, size }| {
            let (blobs, handle) = (blobs.clone(), handle.clone());
            Entry {
                path,
                size,
                open: Box::new(move || {
                    let reader = handle
                        .block_on(blobs.blocking_reader(&key))
                        .map_err(std::io::Error::other)?;
                    Ok(Box::new(reader) as Box<dyn std::io::Read>)
                }),
            }
        });
        if let Err(e) = pingxuan_export::bundle::write(sink, entries) {
            // The response has begun: breaking the body tells the browser the download failed.
            tracing::warn!(error = %e, "bundle stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    use axum::http::header;
    use axum::response::IntoResponse;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                disposition(true, &job.file_name),
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}
