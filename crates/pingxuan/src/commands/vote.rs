//! `pingxuan vote verify`: a voter's receipt proof checked against a round's published
//! count, offline — no database, no server, only the two files the result page gives.

use std::path::Path;

use pingxuan_rules::vote::merkle::{self, Proof, Published};

/// A file that cannot be read or is not what it claims: exit code 2, apart from a proof
/// that fails (1).
#[derive(Debug)]
pub struct Malformed(pub String);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

fn read<T: serde::de::DeserializeOwned>(file: &Path, what: &str) -> Result<T, Malformed> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Malformed(format!("无法读取{what} {}：{e}", file.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Malformed(format!(
            "{what} {} 格式有误（第 {} 行第 {} 列）：{e}",
            file.display(),
            e.line(),
            e.column()
        ))
    })
}

/// Checks `proof` against `result` step by step; prints what was counted, or the first
/// step that fails. `Ok(true)` counted, `Ok(false)` failed, `Err(Malformed)` unreadable.
pub fn verify(proof: &Path, result: &Path) -> anyhow::Result<bool> {
    let p: Proof = read(proof, "回执证明文件")?;
    let r: Published = read(result, "结果文件")?;
    match merkle::verify(&p, &r) {
        Ok(c) => {
            // The result file's labels, when it has them: “07 号 张三（编号 12）”.
            let label = r
                .tallies
                .iter()
                .find(|t| t.group == c.group && t.candidate == c.candidate)
                .map(|t| match (t.number, &t.name) {
                    (Some(n), Some(name)) => format!("{n:02} 号 {name}（编号 {}）", c.candidate),
                    (None, Some(name)) => format!("{name}（编号 {}）", c.candidate),
                    _ => format!("编号 {}", c.candidate),
                })
                .unwrap_or_else(|| format!("编号 {}", c.candidate));
            println!(
                "已计入：回执 {} 为 {} 组候选人 {label} 的一票（该候选人共 {} 票，本票在全部 {} 张有效票中位列第 {} 位），根哈希 {}",
                p.receipt, c.group, c.tally, r.total, c.place, r.root
            );
            Ok(true)
        }
        Err(e) => {
            println!("校验未通过：{e}");
            Ok(false)
        }
    }
}
