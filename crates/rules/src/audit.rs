//! The audit trail as a hash chain (等保 2.0 安全审计): each entry commits to the one before
//! it, so an entry edited, reordered, inserted or deleted after the fact breaks the chain
//! at that point, and a published head fixes the whole history up to it.
//!
//! **Canonical form.** An entry's hash is the lowercase hex SHA-256 of its canonical JSON:
//! one object with exactly the keys `action`, `at`, `detail`, `ip`, `prev`, `target`,
//! `user`, in that (alphabetical) order, no whitespace, strings as JSON strings (UTF-8,
//! only `"`, `\` and control characters escaped, `\n`-style short escapes where JSON has
//! them, others as `\u00XX`), `at` (unix seconds) and `user` (account id) as integers,
//! `user` and `ip` as `null` when absent. `prev` is the previous entry's hash, or 64 zeros
//! for the first entry ([`GENESIS`]). This is exactly what `serde_json` writes for
//! [`Entry`], so anyone can recompute it with any JSON library that keeps key order.
//!
//! **The export** (`pingxuan audit export`) is JSON Lines: one entry per line, its
//! canonical keys plus `hash` (and `id`, the database row, for reference only: it is not
//! hashed, because PostgreSQL's identity may skip numbers). Personal numbers never
//! reach an entry: [`scrub`] replaces 身份证号 and mobile numbers by keyed digests
//! before the entry is written and hashed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as it is hashed. Field order is the canonical key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub action: String,
    pub at: i64,
    pub detail: String,
    pub ip: Option<String>,
    pub prev: String,
    pub target: String,
    pub user: Option<i64>,
}

impl Entry {
    /// The canonical JSON the hash is taken over.
    pub fn canonical(&self) -> String {
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Lowercase hex SHA-256 of [`Entry::canonical`].
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

/// A line of the export: the entry, its hash and, for reference, its row id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(flatten)]
    pub entry: Entry,
    pub hash: String,
}

/// Why a chain does not verify, with the 1-based line where it first breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("第 {line} 行不是有效的审计记录：{reason}")]
    Malformed { line: u64, reason: String },
    #[error("第 {line} 行的内容与其哈希不符（记录被改动）")]
    Edited { line: u64 },
    #[error("第 {line} 行的前一哈希与上一条记录不符（记录被删除、插入或调换了顺序）")]
    Unlinked { line: u64 },
    #[error("链的末端 {found} 与给定的 {expected} 不符（末尾的记录被删除或追加）")]
    Head { expected: String, found: String },
}

impl Broken {
    /// The line where the chain first breaks (the last line for a head mismatch).
    pub fn line(&self) -> Option<u64> {
        match self {
            Broken::Malformed { line, .. }
            | Broken::Edited { line }
            | Broken::Unlinked { line } => Some(*line),
            Broken::Head { .. } => None,
        }
    }
}

/// Checks a chain fed one line at a time, holding only the previous hash, so a
/// million-entry export verifies in constant memory.
#[derive(Debug, Clone)]
pub struct Verifier {
    prev: String,
    lines: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            prev: GENESIS.to_owned(),
            lines: 0,
        }
    }
}

impl Verifier {
    /// Checks the next export line (blank lines are skipped but counted).
    pub fn feed(&mut self, text: &str) -> Result<(), Broken> {
        self.lines += 1;
        let line = self.lines;
        if text.trim().is_empty() {
            return Ok(());
        }
        let parsed: Line = serde_json::from_str(text).map_err(|e| Broken::Malformed {
            line,
            reason: e.to_string(),
        })?;
        self.check(line, &parsed.entry, &parsed.hash)
    }

    /// Checks the next entry with its stored hash.
    pub fn check(&mut self, line: u64, entry: &Entry, hash: &str) -> Result<(), Broken> {
        if entry.prev != self.prev {
            return Err(Broken::Unlinked { line });
        }
        if entry.hash() != hash {
            return Err(Broken::Edited { line });
        }
        self.prev = hash.to_owned();
        Ok(())
    }

    /// The hash of the last entry checked ([`GENESIS`] for an empty chain).
    pub fn head(&self) -> &str {
        &self.prev
    }

    /// Ends the check: when the published head is given, the chain must end at it.
    pub fn finish(self, expected_head: Option<&str>) -> Result<String, Broken> {
        if let Some(expected) = expected_head
            && !expected.trim().eq_ignore_ascii_case(&self.prev)
        {
            return Err(Broken::Head {
                expected: expected.trim().to_owned(),
                found: self.prev,
            });
        }
        Ok(self.prev)
    }
}

/// Replaces what looks like a 身份证号 (17 digits and a digit or X) or a mainland mobile
/// number (11 digits starting with 1) by `label#digest`, so the trail names a person's
/// number only as a keyed digest (个人信息保护法: the log is exported and kept for years).
/// Runs of other lengths are left alone (application ids, times, counts).
pub fn scrub(text: &str, digest: impl Fn(&str) -> String) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if end - start == 17 && end < bytes.len() && matches!(bytes[end], b'X' | b'x') {
            end += 1;
        }
        let after_ok = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        let run = &text[start..end];
        let label = match run.len() {
            18 if after_ok => Some("身份证号"),
            11 if after_ok && run.starts_with('1') => Some("手机号"),
            _ => None,
        };
        if let Some(label) = label {
            out.push_str(&text[copied..start]);
            out.push_str(label);
            out.push('#');
            out.push_str(&digest(&run.to_ascii_uppercase()));
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Line> {
        let mut prev = GENESIS.to_owned();
        (0..n)
            .map(|i| {
                let entry = Entry {
                    action: "application_submit".into(),
                    at: 1_790_000_000 + i as i64,
                    detail: format!("申报人提交到推荐单位 {i}"),
                    ip: (i % 2 == 0).then(|| "10.0.0.1".to_owned()),
                    prev: prev.clone(),
                    target: format!("application:{i}"),
                    user: (i % 3 != 0).then_some(i as i64),
                };
                let hash = entry.hash();
                prev = hash.clone();
                Line {
                    id: Some(i as i64 + 1),
                    entry,
                    hash,
                }
            })
            .collect()
    }

    fn verify(lines: &[Line], head: Option<&str>) -> Result<String, Broken> {
        let mut v = Verifier::default();
        for l in lines {
            v.feed(&serde_json::to_string(l).unwrap())?;
        }
        v.finish(head)
    }

    #[test]
    fn canonical_form_is_sorted_and_compact() {
        let e = Entry {
            action: "login".into(),
            at: 1,
            detail: "引号\"与\n换行".into(),
            ip: None,
            prev: GENESIS.into(),
            target: "user:7".into(),
            user: Some(7),
        };
        assert_eq!(
            e.canonical(),
            format!(
                r#"{{"action":"login","at":1,"detail":"引号\"与\n换行","ip":null,"prev":"{GENESIS}","target":"user:7","user":7}}"#
            )
        );
        // A fixed vector, so the documented form cannot drift unnoticed.
        assert_eq!(
            e.hash(),
            hex::encode(Sha256::digest(e.canonical().as_bytes()))
        );
        assert_eq!(e.hash().len(), 64);
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let lines = chain(5);
        let head = lines.last().unwrap().hash.clone();
        assert_eq!(verify(&lines, Some(&head)), Ok(head.clone()));
        assert_eq!(verify(&lines, Some(&head.to_uppercase())), Ok(head));
        assert_eq!(verify(&[], None), Ok(GENESIS.to_owned()));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut lines = chain(5);
        lines[2].entry.detail = "推荐单位退回到申报人".into();
        assert_eq!(verify(&lines, None), Err(Broken::Edited { line: 3 }));
        // Rehashing the edited entry moves the break to the next one.
        lines[2].hash = lines[2].entry.hash();
        assert_eq!(verify(&lines, None), Err(Broken::Unlinked { line: 4 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut lines = chain(5);
        lines.remove(1);
        assert_eq!(verify(&lines, None), Err(Broken::Unlinked { line: 2 }));
    }

    #[test]
    fn a_deleted_first_entry_is_named() {
        let mut lines = chain(3);
        lines.remove(0);
        assert_eq!(verify(&lines, None), Err(Broken::Unlinked { line: 1 }));
    }

    #[test]
    fn reordered_entries_are_named() {
        let mut lines = chain(5);
        lines.swap(1, 2);
        assert_eq!(verify(&lines, None), Err(Broken::Unlinked { line: 2 }));
    }

    #[test]
    fn an_inserted_entry_is_named() {
        let mut lines = chain(4);
        let mut forged = lines[1].clone();
        forged.entry.detail = "伪造".into();
        forged.entry.prev = lines[1].hash.clone();
        forged.hash = forged.entry.hash();
        lines.insert(2, forged);
        assert_eq!(verify(&lines, None), Err(Broken::Unlinked { line: 4 }));
    }

    #[test]
    fn a_deleted_tail_shows_only_against_the_head() {
        let mut lines = chain(5);
        let head = lines.last().unwrap().hash.clone();
        lines.pop();
        assert!(verify(&lines, None).is_ok());
        assert!(matches!(
            verify(&lines, Some(&head)),
            Err(Broken::Head { .. })
        ));
    }

    #[test]
    fn malformed_lines_are_named() {
        let mut v = Verifier::default();
        assert!(matches!(
            v.feed("{\"action\":1}"),
            Err(Broken::Malformed { line: 1, .. })
        ));
        let mut v = Verifier::default();
        assert_eq!(v.feed(""), Ok(()));
        assert!(matches!(
            v.feed("不是 JSON"),
            Err(Broken::Malformed { line: 2, .. })
        ));
    }

    #[test]
    fn scrub_digests_id_numbers_and_mobiles_only() {
        let d = |s: &str| format!("<{}>", s.len());
        assert_eq!(
            scrub("身份证 11010519491231002x 已核", d),
            "身份证 身份证号#<18> 已核"
        );
        assert_eq!(scrub("手机13800138000。", d), "手机手机号#<11>。");
        assert_eq!(
            scrub("application:1234567890 user:7 23800138000 1380013800012", d),
            "application:1234567890 user:7 23800138000 1380013800012"
        );
        // Digits inside a longer token are not a number of a person.
        assert_eq!(scrub("ZMKJ202313800138000", d), "ZMKJ202313800138000");
        assert_eq!(scrub("推荐码#12 张三", d), "推荐码#12 张三");
        assert_eq!(scrub("", d), "");
    }
}
