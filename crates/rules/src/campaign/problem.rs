//! What reading and checking a campaign file finds: problems placed by line and key
//! path. Shared by the loader and the checks (neither imports the other's findings).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The file cannot be used until it is fixed.
    Error,
    /// A value the notice leaves open that the organiser should settle.
    Warning,
}

/// One finding about a campaign file, placed by line and key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Dotted key path, e.g. `levels[2].deadline`.
    pub key: String,
    /// 1-based line, when the key (or its nearest parent) is in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.severity {
            Severity::Error => "错误",
            Severity::Warning => "提醒",
        };
        match self.line {
            Some(line) => write!(f, "{tag} 第{line}行 {}：{}", self.key, self.message),
            None => write!(f, "{tag} {}：{}", self.key, self.message),
        }
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub fn path_to_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}
