//! `pingxuan audit export|verify`: the audit trail as JSON Lines, and its offline check.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use pingxuan_rules::audit::Verifier;

use crate::config::Common;

/// Rows read per query while exporting.
const PAGE: i64 = 5000;

/// Writes every entry in chain order, one JSON object per line (`-` or no file: stdout),
/// then says on stderr how many and the head to check the file against.
pub async fn export(common: &Common, out: Option<&Path>) -> anyhow::Result<bool> {
    let store = common.store().await?;
    // The head first: entries appended while exporting come after it and are left out,
    // so the file ends exactly at the head printed.
    let head = store.audit_head().await?;
    let mut sink: Box<dyn Write> = match out {
        Some(p) if p != Path::new("-") => {
            Box::new(std::fs::File::create(p).with_context(|| format!("无法写入 {}", p.display()))?)
        }
        _ => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::new(&mut sink);
    let (mut after, mut written) = (0, 0i64);
    'pages: while written < head.entries {
        let page = store.audit_after(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for e in page {
            serde_json::to_writer(&mut w, &e.line())?;
            w.write_all(b"\n")?;
            after = e.id;
            written += 1;
            if e.hash.as_deref() == Some(head.hash.as_str()) {
                break 'pages;
            }
        }
    }
    w.flush()?;
    eprintln!("已导出 {written} 条审计记录，链末端哈希 {}", head.hash);
    Ok(true)
}

/// Checks an export offline; names the first line that breaks the chain. Exit 0 when
/// the chain holds (and ends at `head` when given), 1 when it does not.
pub fn verify(file: &Path, head: Option<&str>) -> anyhow::Result<bool> {
    let reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(file).with_context(|| format!("无法读取 {}", file.display()))?,
        ))
    };
    let mut v = Verifier::default();
    let mut entries = 0u64;
    for line in reader.lines() {
        let line = line.with_context(|| format!("无法读取 {}", file.display()))?;
        if let Err(broken) = v.feed(&line) {
            println!("校验失败：{broken}");
            return Ok(false);
        }
        if !line.trim().is_empty() {
            entries += 1;
        }
    }
    match v.finish(head) {
        Ok(head) => {
            println!("校验通过：{entries} 条审计记录，链末端哈希 {head}");
            Ok(true)
        }
        Err(broken) => {
            println!("校验失败：{broken}");
            Ok(false)
        }
    }
}
