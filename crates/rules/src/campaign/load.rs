//! Reading a campaign file: parse once with spans, deserialize each section and each
//! array item on its own so that one mistake does not hide the others, then run the
//! semantic checks. Every problem carries its line and key path.

use serde::Deserialize;
use serde::de::IntoDeserializer;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::check::check;
use super::model::*;
use super::problem::{Problem, Seg, Severity, path_to_string};

/// The outcome of reading a campaign file.
#[derive(Debug, Clone)]
pub struct Report {
    /// Present when the file has no errors (warnings allowed).
    pub campaign: Option<Campaign>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    pub fn is_ok(&self) -> bool {
        self.campaign.is_some()
    }
}

/// Maps key paths and byte offsets to lines of the source.
pub struct Locator<'a> {
    src: &'a str,
    root: &'a Spanned<DeTable<'a>>,
}

impl<'a> Locator<'a> {
    pub fn line_of_offset(&self, offset: usize) -> usize {
        let end = offset.min(self.src.len());
        self.src.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The line of the deepest part of `path` present in the file.
    pub fn line_of(&self, path: &[Seg]) -> Option<usize> {
        let mut span: Option<std::ops::Range<usize>> = None;
        let mut table: Option<&DeTable<'_>> = Some(self.root.get_ref());
        let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
        for seg in path {
            let value = match seg {
                Seg::Key(k) => table.and_then(|t| {
                    t.iter()
                        .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                        .map(|(key, v)| (key.span(), v))
                }),
                Seg::Index(i) => array.and_then(|a| a.get(*i)).map(|v| (v.span(), v)),
            };
            let Some((s, v)) = value else { break };
            span = Some(s);
            table = v.get_ref().as_table();
            array = v.get_ref().as_array().map(|a| a.as_ref());
        }
        span.map(|s| self.line_of_offset(s.start))
    }
}

/// Turns serde's English messages into plain Chinese.
fn translate(message: &str) -> String {
    let message = message.trim();
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, p)| p.to_owned())
            .collect()
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("缺少必填的键 {}", rest);
    }
    if message.starts_with("unknown field") {
        let q = quoted(message);
        if let Some((first, allowed)) = q.split_first() {
            return format!("不认识的键 `{first}`，此处可用的键：{}", allowed.join("、"));
        }
    }
    if message.starts_with("unknown variant") {
        let q = quoted(message);
        if let Some((first, allowed)) = q.split_first() {
            return format!("取值 `{first}` 无效，可选：{}", allowed.join("、"));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        return format!("类型不对：{}", rest.replace(", expected", "，应为"));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        return format!("取值无效：{}", rest.replace(", expected", "，应为"));
    }
    message.to_owned()
}

struct Reader<'a> {
    loc: Locator<'a>,
    problems: Vec<Problem>,
}

impl<'a> Reader<'a> {
    fn error_at(&mut self, path: &[Seg], line: Option<usize>, message: String) {
        self.problems.push(Problem {
            severity: Severity::Error,
            key: path_to_string(path),
            line: line.or_else(|| self.loc.line_of(path)),
            message,
        });
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &mut self,
        value: &Spanned<DeValue<'a>>,
        path: &[Seg],
    ) -> Option<T> {
        match T::deserialize(value.clone().into_deserializer()) {
            Ok(v) => Some(v),
            Err(e) => {
                let line = e.span().map(|s| self.loc.line_of_offset(s.start));
                self.error_at(path, line, translate(e.message()));
                None
            }
        }
    }

    fn section<T: for<'de> Deserialize<'de>>(
        &mut self,
        root: &'a DeTable<'a>,
        name: &str,
        required: bool,
    ) -> Option<Option<T>> {
        let path = [Seg::Key(name.to_owned())];
        match find(root, name) {
            Some(v) => self.decode(v, &path).map(Some),
            None if required => {
                self.error_at(&[], Some(1), format!("缺少 [{name}] 部分"));
                None
            }
            None => Some(None),
        }
    }

    fn list<T: for<'de> Deserialize<'de>>(
        &mut self,
        root: &'a DeTable<'a>,
        name: &str,
    ) -> Option<Vec<T>> {
        let Some(v) = find(root, name) else {
            return Some(Vec::new());
        };
        let Some(items) = v.get_ref().as_array() else {
            self.error_at(
                &[Seg::Key(name.to_owned())],
                None,
                format!("应写成 [[{name}]] 表格数组"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = [Seg::Key(name.to_owned()), Seg::Index(i)];
            match self.decode(item, &path) {
                Some(t) => out.push(t),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

fn find<'a>(table: &'a DeTable<'a>, name: &str) -> Option<&'a Spanned<DeValue<'a>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == name)
        .map(|(_, v)| v)
}

const SECTIONS: &[&str] = &[
    "campaign",
    "entry",
    "levels",
    "recommender_categories",
    "form",
    "materials",
    "eligibility",
    "guidance",
    "stages",
    "final",
    "publicity",
    "paper",
    "conflicts",
];

/// Reads and checks a campaign file, reporting every problem found.
pub fn load(src: &str) -> Report {
    let (root, syntax_errors) = DeTable::parse_recoverable(src);
    let loc = Locator { src, root: &root };
    let mut r = Reader {
        loc,
        problems: Vec::new(),
    };
    if !syntax_errors.is_empty() {
        for e in syntax_errors {
            let line = e.span().map(|s| r.loc.line_of_offset(s.start));
            r.error_at(&[], line, format!("TOML 语法错误：{}", e.message().trim()));
        }
        return Report {
            campaign: None,
            problems: r.problems,
        };
    }
    let table = root.get_ref();
    for (key, _) in table.iter() {
        let name = key.get_ref().as_ref();
        if !SECTIONS.contains(&name) {
            let line = r.loc.line_of_offset(key.span().start);
            r.error_at(
                &[Seg::Key(name.to_owned())],
                Some(line),
                format!("不认识的部分 `{name}`，可用的部分：{}", SECTIONS.join("、")),
            );
        }
    }

    let meta = r.section::<Meta>(table, "campaign", true).flatten();
    let entry = r.section::<Entry>(table, "entry", true).flatten();
    let levels = r.list::<Level>(table, "levels");
    let categories = r.list::<RecommenderCategory>(table, "recommender_categories");
    let form = r.section::<Form>(table, "form", true).flatten();
    let materials = r.list::<Material>(table, "materials");
    let eligibility = r.section::<Eligibility>(table, "eligibility", false);
    let guidance = r.list::<Guidance>(table, "guidance");
    let stages = r.list::<Stage>(table, "stages");
    let final_list = r.section::<FinalList>(table, "final", false);
    let publicity = r.section::<Publicity>(table, "publicity", false);
    let paper = r.section::<Paper>(table, "paper", false);
    let conflicts = r.section::<Conflicts>(table, "conflicts", false);

    let campaign = match (
        meta,
        entry,
        levels,
        categories,
        form,
        materials,
        eligibility,
        guidance,
        stages,
        final_list,
        publicity,
        paper,
        conflicts,
    ) {
        (
            Some(campaign),
            Some(entry),
            Some(levels),
            Some(recommender_categories),
            Some(form),
            Some(materials),
            Some(eligibility),
            Some(guidance),
            Some(stages),
            Some(final_list),
            Some(publicity),
            Some(paper),
            Some(conflicts),
        ) => Some(Campaign {
            campaign,
            entry,
            levels,
            recommender_categories,
            form,
            materials,
            eligibility: eligibility.unwrap_or_default(),
            guidance,
            stages,
            final_list: final_list.unwrap_or_default(),
            publicity: publicity.unwrap_or_default(),
            paper,
            conflicts: conflicts.unwrap_or_default(),
        }),
        _ => None,
    };

    let Some(campaign) = campaign else {
        return Report {
            campaign: None,
            problems: r.problems,
        };
    };

    for (severity, path, message) in check(&campaign) {
        let line = r.loc.line_of(&path);
        r.problems.push(Problem {
            severity,
            key: path_to_string(&path),
            line,
            message,
        });
    }
    r.problems.sort_by_key(|p| (p.severity, p.line));
    let has_errors = r.problems.iter().any(|p| p.severity == Severity::Error);
    Report {
        campaign: (!has_errors).then_some(campaign),
        problems: r.problems,
    }
}
