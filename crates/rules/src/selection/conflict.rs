//! Conflicts of interest (利益冲突) between review experts and candidates (issue 17).
//!
//! Found before any assignment: the expert is the candidate, works at the candidate's
//! 工作单位, or works at the unit that recommended the candidate (推荐单位). Unit names are
//! compared after [`normalize_org`], which folds the ways the same name gets typed
//! (full-width letters, spaces, 有限公司 forms, a few 简称). Then declared: before an
//! expert opens a candidate they file a 回避声明 for it (“无” or the relation, checked by
//! [`declaration`]; the app stores it with its time), and a declared relation is added
//! here as [`Reason::Declared`], after which `assign::reassign` gives the candidate
//! another expert. The organiser may add a conflict by hand ([`Reason::Manual`]).

use std::collections::HashMap;

/// The built-in 简称 → 全称 table. Kept to a few national bodies whose short names are
/// unambiguous and common on forms; anything local goes in the organiser's additions
/// ([`Aliases::with`]) rather than here, where a wrong guess would raise (or hide) a
/// conflict in every campaign.
const BUILT_IN: &[(&str, &str)] = &[
    ("中科院", "中国科学院"),
    ("社科院", "中国社会科学院"),
    ("工程院", "中国工程院"),
];

/// Legal-form endings dropped from a unit's name, longest first so that 股份有限公司 is
/// not cut to …股份. A bare 公司 is kept: units are often named after a parent body
/// (“XX研究院” and its spin-off “XX研究院公司” are different employers), so dropping it
/// would equate units that are not the same.
const LEGAL_FORMS: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "股份公司"];

/// 简称 → 全称, both kept folded (see [`normalize_org`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aliases {
    map: HashMap<String, String>,
}

impl Default for Aliases {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Aliases {
    /// The built-in table only.
    pub fn builtin() -> Self {
        let mut a = Self {
            map: HashMap::new(),
        };
        for (short, full) in BUILT_IN {
            a.add(short, full);
        }
        a
    }

    /// The built-in table extended by the organiser's pairs (简称, 全称); a pair of theirs
    /// replaces a built-in one with the same 简称.
    pub fn with(additions: &[(&str, &str)]) -> Self {
        let mut a = Self::builtin();
        for (short, full) in additions {
            a.add(short, full);
        }
        a
    }

    /// Adds (or replaces) one pair. Blank names are ignored.
    pub fn add(&mut self, short: &str, full: &str) {
        let (short, full) = (fold(short), fold(full));
        if !short.is_empty() && !full.is_empty() && short != full {
            self.map.insert(short, full);
        }
    }

    /// One lookup, not a chain: a 全称 is not itself looked up again, so a table with a
    /// cycle cannot loop.
    fn resolve(&self, folded: String) -> String {
        match self.map.get(&folded) {
            Some(full) => full.clone(),
            None => folded,
        }
    }
}

/// The form of a unit's name that is compared: full-width ASCII and the ideographic space
/// to half width, all whitespace removed, ASCII lowercased, （）【】〔〕 to (), trailing
/// legal forms (股份有限公司, 有限责任公司, 有限公司, 股份公司) removed repeatedly, then a
/// 简称 replaced by its 全称. Two units are the same when these are equal, and only then:
/// a sub-unit (中国科学院新疆理化技术研究所) is not its parent (中国科学院), because
/// institutes of one academy or colleges of one university are different employers;
/// where the organiser sees a conflict there, they add it by hand.
pub fn normalize_org(name: &str, aliases: &Aliases) -> String {
    aliases.resolve(fold(name))
}

/// [`normalize_org`] without the alias table.
fn fold(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for ch in name.chars() {
        let ch = match ch {
            // Full-width forms of ASCII sit at a fixed offset (this includes （ and ）).
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch),
            '【' | '〔' => '(',
            '】' | '〕' => ')',
            _ => ch,
        };
        // U+3000 is whitespace too; zero-width ones come in with pasted text.
        if ch.is_whitespace() || matches!(ch, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}') {
            continue;
        }
        s.push(ch.to_ascii_lowercase());
    }
    'strip: loop {
        for form in LEGAL_FORMS {
            // Never strip a name down to nothing: “有限公司” alone stays as it is.
            if s.len() > form.len() && s.ends_with(form) {
                s.truncate(s.len() - form.len());
                continue 'strip;
            }
        }
        break s;
    }
}

/// A review expert as conflicts see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expert {
    pub id: i64,
    /// An opaque key of the person (e.g. a digest of the 身份证号 or of the account):
    /// equal keys are the same person.
    pub person: Option<String>,
    /// 工作单位.
    pub work_unit: String,
}

/// A candidate as conflicts see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    /// Same kind of key as [`Expert::person`].
    pub person: Option<String>,
    /// 工作单位.
    pub work_unit: String,
    /// 推荐单位: the unit that recommended the candidate.
    pub recommender: String,
}

/// Why an expert may not review a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The expert is the candidate.
    SamePerson,
    /// Same 工作单位; the candidate's unit as written.
    SameWorkUnit(String),
    /// The expert works at the candidate's 推荐单位; that unit as written.
    ExpertAtRecommender(String),
    /// The expert's own 回避声明: the relation in their words.
    Declared(String),
    /// Set by the organiser, with their note.
    Manual(String),
}

impl Reason {
    /// The reason as shown to the organiser and the expert.
    pub fn text(&self) -> String {
        match self {
            Reason::SamePerson => "评审专家即候选人本人".to_owned(),
            Reason::SameWorkUnit(unit) => format!("与候选人同一工作单位（{unit}）"),
            Reason::ExpertAtRecommender(unit) => {
                format!("评审专家所在单位为候选人的推荐单位（{unit}）")
            }
            Reason::Declared(relation) => format!("本人声明回避：{relation}"),
            Reason::Manual(note) => format!("活动办公室指定回避：{note}"),
        }
    }
}

/// The conflicted (expert, candidate) pairs with their reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conflicts {
    pairs: HashMap<(i64, i64), Vec<Reason>>,
}

impl Conflicts {
    /// No conflicts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the expert may not review the candidate.
    pub fn is_conflicted(&self, expert: i64, candidate: i64) -> bool {
        self.pairs.contains_key(&(expert, candidate))
    }

    /// The reasons for a pair, in the order found (empty when there is no conflict).
    pub fn reasons(&self, expert: i64, candidate: i64) -> &[Reason] {
        self.pairs
            .get(&(expert, candidate))
            .map_or(&[], |r| r.as_slice())
    }

    /// The reasons joined for display, `None` when there is no conflict.
    pub fn text(&self, expert: i64, candidate: i64) -> Option<String> {
        let reasons = self.reasons(expert, candidate);
        (!reasons.is_empty()).then(|| {
            reasons
                .iter()
                .map(Reason::text)
                .collect::<Vec<_>>()
                .join("；")
        })
    }

    /// Records a reason for a pair (a declared or manual one, typically); a reason the pair
    /// already has is not repeated.
    pub fn add(&mut self, expert: i64, candidate: i64, reason: Reason) {
        let reasons = self.pairs.entry((expert, candidate)).or_default();
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    /// Records an expert's 回避声明 for a candidate: a relation becomes a conflict, “无”
    /// changes nothing. Returns whether the pair is now conflicted.
    pub fn declare(&mut self, expert: i64, candidate: i64, declaration: &Declaration) -> bool {
        if let Declaration::Relation(relation) = declaration {
            self.add(expert, candidate, Reason::Declared(relation.clone()));
        }
        self.is_conflicted(expert, candidate)
    }

    /// How many pairs are conflicted.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The conflicted pairs, sorted.
    pub fn pairs(&self) -> Vec<(i64, i64)> {
        let mut v: Vec<_> = self.pairs.keys().copied().collect();
        v.sort_unstable();
        v
    }
}

/// Every conflict the records show: same person, same 工作单位, expert at the candidate's
/// 推荐单位 (names compared by [`normalize_org`]; blank names never match). Experts are
/// indexed by normalised unit and by person key, so the cost is one lookup per candidate
/// and name plus one entry per conflict, not a comparison of every pair.
pub fn find(experts: &[Expert], candidates: &[Candidate], aliases: &Aliases) -> Conflicts {
    let mut by_unit: HashMap<String, Vec<i64>> = HashMap::new();
    let mut by_person: HashMap<&str, Vec<i64>> = HashMap::new();
    for e in experts {
        let unit = normalize_org(&e.work_unit, aliases);
        if !unit.is_empty() {
            by_unit.entry(unit).or_default().push(e.id);
        }
        if let Some(p) = e.person.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            by_person.entry(p).or_default().push(e.id);
        }
    }
    let mut out = Conflicts::new();
    for c in candidates {
        if let Some(p) = c.person.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            for &e in by_person.get(p).into_iter().flatten() {
                out.add(e, c.id, Reason::SamePerson);
            }
        }
        let unit = normalize_org(&c.work_unit, aliases);
        for ids in leading_units(&unit, &by_unit) {
            for &e in ids {
                out.add(e, c.id, Reason::SameWorkUnit(c.work_unit.trim().to_owned()));
            }
        }
        let recommender = normalize_org(&c.recommender, aliases);
        // A unit recommending its own staff is already the same-unit conflict; saying it
        // twice would only lengthen the text.
        if recommender != unit
            && let Some(ids) = by_unit.get(&recommender)
        {
            for &e in ids {
                out.add(
                    e,
                    c.id,
                    Reason::ExpertAtRecommender(c.recommender.trim().to_owned()),
                );
            }
        }
    }
    out
}

/// The shortest unit name that may begin a longer one, in characters: shorter heads
/// (“新疆”) name a region, not an employer.
const MIN_LEADING: usize = 4;

/// The experts' units that the candidate's 工作单位 is or begins with. A candidate's unit
/// often arrives with the post (工作单位及职务: “新疆农业科学院作物研究所所长”); an expert
/// of “新疆农业科学院” works there too, and a false conflict only avoids a pair, while a
/// missed one would let a colleague score the candidate.
fn leading_units<'a>(unit: &str, by_unit: &'a HashMap<String, Vec<i64>>) -> Vec<&'a Vec<i64>> {
    let mut ends: Vec<usize> = unit
        .char_indices()
        .map(|(i, _)| i)
        .skip(MIN_LEADING)
        .collect();
    ends.push(unit.len());
    ends.iter()
        .filter_map(|&end| by_unit.get(&unit[..end]))
        .collect()
}

/// An expert's 回避声明 for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declaration {
    /// “无”: no relation.
    None,
    /// The relation, in the expert's words (导师、合作者、亲属…).
    Relation(String),
}

/// The longest relation text accepted, in characters.
pub const DECLARATION_MAX_CHARS: usize = 200;

/// Checks what the expert typed: “无” (spaces and a closing 。 allowed) is no relation;
/// blank is refused; anything else is the relation, at most [`DECLARATION_MAX_CHARS`]
/// characters.
pub fn declaration(text: &str) -> Result<Declaration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("请填写回避声明：无利益关系填“无”，否则写明关系".to_owned());
    }
    let bare = t.trim_end_matches(['。', '.', '．']).trim_end();
    if matches!(bare, "无" | "無") {
        return Ok(Declaration::None);
    }
    let n = t.chars().count();
    if n > DECLARATION_MAX_CHARS {
        return Err(format!(
            "回避声明不能超过 {DECLARATION_MAX_CHARS} 字，现有 {n} 字"
        ));
    }
    Ok(Declaration::Relation(t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize_org(s, &Aliases::default())
    }

    #[test]
    fn normalizes_width_spaces_case_and_brackets() {
        assert_eq!(n(" 新疆 大学 "), "新疆大学");
        assert_eq!(n("新疆\u{3000}大学"), "新疆大学");
        assert_eq!(n("ＡＢＣ科技"), "abc科技");
        assert_eq!(n("Xinjiang  University"), "xinjianguniversity");
        assert_eq!(
            n("新疆医科大学（第一附属医院）"),
            "新疆医科大学(第一附属医院)"
        );
        assert_eq!(
            n("新疆医科大学【第一附属医院】"),
            n("新疆医科大学(第一附属医院)")
        );
        assert_eq!(n("   "), "");
    }

    #[test]
    fn strips_legal_forms_but_not_a_bare_gongsi() {
        assert_eq!(n("新疆金风科技股份有限公司"), "新疆金风科技");
        assert_eq!(n("新疆金风科技有限公司"), "新疆金风科技");
        assert_eq!(n("新疆金风科技有限责任公司"), "新疆金风科技");
        assert_eq!(n("新疆金风科技股份公司"), "新疆金风科技");
        assert_eq!(n("新疆金风科技 有限 公司"), "新疆金风科技");
        // Repeatedly: a doubled ending typed by mistake.
        assert_eq!(n("某某有限公司有限公司"), "某某");
        assert_eq!(n("某某研究院公司"), "某某研究院公司");
        assert_ne!(n("某某研究院公司"), n("某某研究院"));
        assert_eq!(n("有限公司"), "有限公司");
    }

    #[test]
    fn aliases_built_in_and_organisers() {
        assert_eq!(n("中科院"), "中国科学院");
        assert_eq!(n(" 中 科 院 "), "中国科学院");
        assert_eq!(n("社科院"), "中国社会科学院");
        assert_eq!(n("工程院"), "中国工程院");
        assert_eq!(n("新疆大学"), "新疆大学");
        // Exact names only: an institute is not its academy.
        assert_eq!(n("中科院新疆理化所"), "中科院新疆理化所");
        let a = Aliases::with(&[("新大", "新疆大学"), ("新疆农大", "新疆农业大学")]);
        assert_eq!(normalize_org("新大", &a), "新疆大学");
        assert_eq!(normalize_org("新疆农大", &a), "新疆农业大学");
        assert_eq!(normalize_org("中科院", &a), "中国科学院");
        assert_eq!(normalize_org("新大", &Aliases::builtin()), "新大");
    }

    fn expert(id: i64, person: Option<&str>, unit: &str) -> Expert {
        Expert {
            id,
            person: person.map(str::to_owned),
            work_unit: unit.to_owned(),
        }
    }

    fn candidate(id: i64, person: Option<&str>, unit: &str, recommender: &str) -> Candidate {
        Candidate {
            id,
            person: person.map(str::to_owned),
            work_unit: unit.to_owned(),
            recommender: recommender.to_owned(),
        }
    }

    #[test]
    fn finds_same_person_same_unit_and_recommender() {
        let experts = [
            expert(1, Some("p-a"), "新疆大学"),
            expert(2, None, "中国科学院"),
            expert(3, Some("p-c"), "新疆维吾尔自治区科学技术协会"),
            expert(4, None, "新疆金风科技有限公司"),
        ];
        let candidates = [
            candidate(10, Some("p-a"), "新疆大学 ", "新疆大学"),
            candidate(11, None, "中科院", "新疆维吾尔自治区科学技术协会"),
            candidate(12, None, "新疆金风科技股份有限公司", "乌鲁木齐市科协"),
            candidate(13, Some("p-z"), "石河子大学", "石河子市科协"),
        ];
        let c = find(&experts, &candidates, &Aliases::default());
        assert_eq!(
            c.reasons(1, 10),
            [Reason::SamePerson, Reason::SameWorkUnit("新疆大学".into())]
        );
        assert_eq!(c.reasons(2, 11), [Reason::SameWorkUnit("中科院".into())]);
        assert_eq!(
            c.reasons(3, 11),
            [Reason::ExpertAtRecommender(
                "新疆维吾尔自治区科学技术协会".into()
            )]
        );
        assert!(c.is_conflicted(4, 12));
        assert_eq!(c.len(), 4);
        assert!(!c.is_conflicted(1, 13));
        assert_eq!(c.pairs(), vec![(1, 10), (2, 11), (3, 11), (4, 12)]);
        assert_eq!(
            c.text(1, 10).unwrap(),
            "评审专家即候选人本人；与候选人同一工作单位（新疆大学）"
        );
        assert_eq!(c.text(1, 13), None);
    }

    #[test]
    fn blank_units_and_persons_never_match() {
        let experts = [expert(1, Some(" "), " "), expert(2, None, "")];
        let candidates = [candidate(10, Some(""), "", "　")];
        assert!(find(&experts, &candidates, &Aliases::default()).is_empty());
    }

    #[test]
    fn find_agrees_with_comparing_every_pair() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let units = [
            "新疆大学",
            "新疆大学 ",
            "中科院",
            "中国科学院",
            "石河子大学有限公司",
        ];
        let pick = |rng: &mut rand_chacha::ChaCha8Rng| units[(rng.next_u32() % 5) as usize];
        let experts: Vec<_> = (0..30)
            .map(|i| expert(i, Some(&format!("p{}", i % 7)), pick(&mut rng)))
            .collect();
        let candidates: Vec<_> = (100..160)
            .map(|i| {
                let (u, r) = (pick(&mut rng), pick(&mut rng));
                candidate(i, Some(&format!("p{}", i % 11)), u, r)
            })
            .collect();
        let a = Aliases::default();
        let found = find(&experts, &candidates, &a);
        for e in &experts {
            for c in &candidates {
                let eu = normalize_org(&e.work_unit, &a);
                let cu = normalize_org(&c.work_unit, &a);
                let naive = e.person == c.person
                    || (cu.starts_with(&eu) && (eu == cu || eu.chars().count() >= MIN_LEADING))
                    || eu == normalize_org(&c.recommender, &a);
                assert_eq!(found.is_conflicted(e.id, c.id), naive, "{e:?} {c:?}");
            }
        }
    }

    #[test]
    fn a_unit_followed_by_the_post_is_the_same_unit() {
        let a = Aliases::default();
        let experts = [
            expert(1, None, "新疆农业科学院"),
            expert(2, None, "新疆"),
            expert(3, None, "新疆大学"),
        ];
        let candidates = [candidate(
            10,
            None,
            "新疆农业科学院作物研究所所长",
            "昌吉州科协",
        )];
        let found = find(&experts, &candidates, &a);
        assert!(found.is_conflicted(1, 10));
        assert!(!found.is_conflicted(2, 10), "a region is no employer");
        assert!(!found.is_conflicted(3, 10));
    }

    #[test]
    fn reason_texts() {
        assert_eq!(Reason::SamePerson.text(), "评审专家即候选人本人");
        assert_eq!(
            Reason::SameWorkUnit("新疆大学".into()).text(),
            "与候选人同一工作单位（新疆大学）"
        );
        assert_eq!(
            Reason::ExpertAtRecommender("昌吉州科协".into()).text(),
            "评审专家所在单位为候选人的推荐单位（昌吉州科协）"
        );
        assert_eq!(Reason::Declared("导师".into()).text(), "本人声明回避：导师");
        assert_eq!(
            Reason::Manual("近三年合作发表论文".into()).text(),
            "活动办公室指定回避：近三年合作发表论文"
        );
    }

    #[test]
    fn declaration_is_checked() {
        assert_eq!(declaration("无"), Ok(Declaration::None));
        assert_eq!(declaration(" 无 "), Ok(Declaration::None));
        assert_eq!(declaration("无。"), Ok(Declaration::None));
        assert_eq!(declaration("\u{3000}无\u{3000}"), Ok(Declaration::None));
        assert_eq!(
            declaration(""),
            Err("请填写回避声明：无利益关系填“无”，否则写明关系".to_owned())
        );
        assert!(declaration("  ").is_err());
        assert_eq!(
            declaration(" 博士生导师 "),
            Ok(Declaration::Relation("博士生导师".into()))
        );
        assert_eq!(
            declaration("无直接关系，但曾合作"),
            Ok(Declaration::Relation("无直接关系，但曾合作".into()))
        );
        let long = "合".repeat(201);
        assert_eq!(
            declaration(&long),
            Err("回避声明不能超过 200 字，现有 201 字".to_owned())
        );
        assert!(declaration(&"合".repeat(200)).is_ok());
    }

    #[test]
    fn a_declared_relation_becomes_a_conflict() {
        let mut c = Conflicts::new();
        assert!(!c.declare(1, 10, &Declaration::None));
        assert!(c.is_empty());
        assert!(c.declare(1, 10, &Declaration::Relation("导师".into())));
        assert!(c.declare(1, 10, &Declaration::Relation("导师".into())));
        assert_eq!(c.reasons(1, 10), [Reason::Declared("导师".into())]);
        c.add(1, 10, Reason::Manual("同一课题组".into()));
        assert_eq!(
            c.text(1, 10).unwrap(),
            "本人声明回避：导师；活动办公室指定回避：同一课题组"
        );
    }
}
