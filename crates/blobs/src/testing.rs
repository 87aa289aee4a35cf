//! For tests of any crate: a real S3-compatible server (moto in server mode, from PyPI:
//! `pip install 'moto[server]'`) on a free loopback port, stopped when dropped, and fresh
//! buckets in it opened through the same storage setting a deployment writes.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts moto, its log in `dir`; an error that says how to install it otherwise.
    pub fn start(dir: &Path) -> Result<Moto, String> {
        let port = free_port();
        let log_path = dir.join("moto.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let spawn = |program: &str, pre: &[&str]| {
            Command::new(program)
                .args(pre)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log.try_clone().expect("log file"))
                .spawn()
        };
        let child = spawn("moto_server", &[])
            .or_else(|_| spawn("python3", &["-m", "moto.server"]))
            .map_err(|e| format!("neither `moto_server` nor `python3 -m moto.server` runs: {e}"))?;
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                return Err(format!("moto exited with {status}: {tail}"));
            }
            if try_http(port, "GET", "/").is_ok() {
                return Ok(moto);
            }
            if Instant::now() > deadline {
                return Err("moto did not answer within 30 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts moto, or says why not: `Ok(None)` (with a notice) outside CI, an error
    /// under `CI=true`, where a skipped S3 half would hide a broken setup.
    pub fn start_or_skip(dir: &Path) -> Result<Option<Moto>, String> {
        match Moto::start(dir) {
            Ok(m) => Ok(Some(m)),
            Err(why) if std::env::var("CI").as_deref() == Ok("true") => Err(format!(
                "the S3 tests need moto in server mode: pip install 'moto[server]' \
                 (so that `moto_server` is on PATH). {why}"
            )),
            Err(why) => {
                eprintln!(
                    "notice: S3 tests skipped — moto could not be started ({why}). \
                     Install it with: pip install 'moto[server]'"
                );
                Ok(None)
            }
        }
    }

    /// Creates the bucket `name` (S3 naming: lower case, digits, hyphens, ≤ 63) and returns
    /// the storage setting that opens it, under the prefix `files`.
    pub fn bucket(&self, name: &str) -> String {
        let (status, body) = http(self.port, "PUT", &format!("/{name}"));
        assert_eq!(
            status,
            200,
            "create bucket {name}: {}",
            String::from_utf8_lossy(&body)
        );
        format!(
            "s3://testing:testing@{name}/files?endpoint=http://127.0.0.1:{}&region=us-east-1",
            self.port
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One bodiless HTTP/1.1 request to loopback: (status, body). Enough to create buckets and
/// list what a bucket holds, without an S3 client.
pub fn try_http(port: u16, method: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&raw[..text_end]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    Ok((status, raw[text_end + 4..].to_vec()))
}

/// `try_http` that panics with the request on failure.
pub fn http(port: u16, method: &str, path: &str) -> (u16, Vec<u8>) {
    try_http(port, method, path).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}
