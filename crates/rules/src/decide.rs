//! One decision for every move on an application's way up the chain (提交, 退回, 收回,
//! 办理, by the applicant or a reviewing level). The caller loads a [`Case`] once —
//! everything a move may depend on — and [`decide`] answers either the [`Outcome`] to
//! write (the event, where the application goes, the note kept, the quota to hold
//! inside the write, the notice) or a [`Refusal`] that lists every problem at once.
//!
//! The order of the checks: whether the move is possible at all, then the deadline
//! (once it has passed nothing else matters; as before the use-case layer), then for
//! the applicant the form's fields in the campaign's order, 我承诺, the recommending
//! unit and the materials; for a reviewing level the co-signature, its materials and its
//! opinion (the order they were checked in before, one at a time); the quota last.
//! Where the first problem used to be the only one, it is still the first: what the
//! API names as `code` and `field` is unchanged, the message now lists them all.

use std::collections::BTreeMap;

use crate::Role;
use crate::campaign::{Campaign, FieldKey, RecommenderCategory, Strictness};
use crate::deadline::{Binding, Extension};
use crate::eligibility::Finding;
use crate::form::{FieldValue, FormValues};
use crate::workflow::{Announcement, Chain, Event, FlowState};

/// What is written with an event: the 修改意见 or the level's opinion, and where the
/// actual employer co-signs (东莞 填表说明10), its name and opinion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub comment: String,
    pub co_signer: String,
    pub co_opinion: String,
}

impl From<&str> for Note {
    fn from(comment: &str) -> Note {
        Note {
            comment: comment.to_owned(),
            ..Note::default()
        }
    }
}

/// The recommending unit an application goes through, and how much of its category's
/// quota it has used.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommender<'a> {
    pub unit_id: i64,
    /// The unit's category in the campaign (设区市, 学会 …); `None` when it has none.
    pub category: Option<&'a RecommenderCategory>,
    /// Applications it has already forwarded (above it now).
    pub forwarded: i64,
    /// Places the organiser granted beyond a “原则上” quota.
    pub granted: u32,
}

/// A recommending unit's quota: forwarded so far, the limit with granted places, and
/// how strict the notice is about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub used: i64,
    pub max: u32,
    pub strictness: Strictness,
}

/// Everything a move on one application may depend on, loaded once.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub campaign: &'a Campaign,
    pub chain: &'a Chain,
    /// Replayed from the stored events.
    pub state: &'a FlowState,
    pub number: &'a str,
    pub form: &'a FormValues,
    /// 我承诺 pressed.
    pub committed: bool,
    /// `None` until the applicant has chosen one.
    pub recommender: Option<Recommender<'a>>,
    /// The recommender's place in this application's chain.
    pub recommender_level: usize,
    /// The register of earlier winners' entry for the candidate's 身份证号码.
    pub register: Option<&'a str>,
    /// Files attached, per material key.
    pub materials: &'a BTreeMap<String, u32>,
    /// The organiser's deadline extensions in the campaign.
    pub extensions: &'a [Extension],
    /// Unix seconds.
    pub now: i64,
    /// Where the selection rounds hold the candidate, in words (see
    /// `selection::stage::holding`): it may not be sent back or taken back meanwhile.
    pub in_selection: Option<&'a str>,
    /// The candidate's latest 公示 by its recommending unit, read for that unit's 提交
    /// where the campaign has `[publicity] unit_publicity`.
    pub unit_publicity: Option<&'a crate::publicity::unit::Record>,
}

impl Case<'_> {
    /// The deadline binding a 提交 from `level`, extensions included.
    pub fn deadline(&self, level: usize) -> Option<Binding> {
        crate::deadline::binding(
            self.campaign,
            self.chain,
            level,
            self.recommender.as_ref().map(|r| r.unit_id),
            self.extensions,
        )
    }

    /// The recommender's category quota; `None` when its category sets none. The one
    /// place a quota is computed: the limit the store holds inside the write comes
    /// from here too.
    pub fn quota(&self) -> Option<Quota> {
        let r = self.recommender.as_ref()?;
        let category = r.category?;
        let max = category.quota_max?;
        let extra = match category.quota_strictness {
            Strictness::InPrinciple => r.granted,
            Strictness::Strict => 0,
        };
        Some(Quota {
            used: r.forwarded,
            max: max + extra,
            strictness: category.quota_strictness,
        })
    }

    /// What the eligibility answers and the register raise.
    pub fn findings(&self) -> Vec<Finding> {
        crate::eligibility::assess(self.campaign, self.form, self.register)
    }

    /// What level `at` must still attach before its 提交.
    pub fn missing_materials(&self, at: usize) -> Vec<String> {
        crate::materials::missing_at(self.campaign, self.chain, at, |key| {
            self.materials.get(key).copied().unwrap_or(0)
        })
    }

    /// The actual employer the applicant named where it differs from the
    /// personnel-relation unit (东莞); empty when not asked.
    pub fn actual_employer(&self) -> &str {
        self.form
            .get(&FieldKey::ActualEmployer)
            .and_then(FieldValue::text)
            .map(str::trim)
            .unwrap_or("")
    }

    fn name(&self) -> &str {
        self.form
            .get(&FieldKey::Name)
            .and_then(FieldValue::text)
            .unwrap_or("")
    }
}

/// What a move writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub event: Event,
    pub next: FlowState,
    pub holder_level: usize,
    pub holder_role: Role,
    /// “推荐单位提交到自治区科协”.
    pub state_text: String,
    /// The note kept with the event (the co-signature only where the level asks one).
    pub note: Note,
    /// The limit to hold again inside the write (the recommender's own 提交), so two
    /// forwards at once cannot both take the last place.
    pub quota_max: Option<u32>,
    /// Whom the move concerns and what they are told.
    pub announcement: Option<Announcement>,
}

impl Outcome {
    /// The audit trail's action: `application_submit`, `application_return` …
    pub fn audit_action(&self) -> String {
        format!("application_{}", self.event.kind())
    }
}

/// Where a problem shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// Beside a field of the 推荐表.
    Field(FieldKey),
    /// Beside an input of the move itself: `comment`, `co_signer`, `co_opinion`,
    /// `materials`.
    Input(&'static str),
    /// Above the form: what stands in the way besides the fields.
    Blocker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable code: `field`, `comment_required`, `co_signature`, `materials_missing`,
    /// `commitment_missing`, `recommender_missing`, `quota_full`.
    pub code: &'static str,
    pub place: Place,
    pub message: String,
}

/// Why a move does not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not possible in the application's state (sent already, not the holder …).
    Flow(String),
    /// Its deadline has passed; the words name the date and whom to ask.
    DeadlinePassed(String),
    /// The recommender's quota is full and nothing else is wrong: the same answer as
    /// when a forward at the same moment took the last place.
    QuotaFull(String),
    /// Everything that stands in the way, in reading order.
    Problems(Vec<Problem>),
}

impl Refusal {
    /// The problems beside the 推荐表's fields, per field.
    pub fn field_problems(&self) -> BTreeMap<FieldKey, Vec<String>> {
        let mut out: BTreeMap<FieldKey, Vec<String>> = BTreeMap::new();
        if let Refusal::Problems(list) = self {
            for p in list {
                if let Place::Field(key) = p.place {
                    out.entry(key).or_default().push(p.message.clone());
                }
            }
        }
        out
    }

    /// What stands in the way besides the fields.
    pub fn blockers(&self) -> Vec<String> {
        match self {
            Refusal::Problems(list) => list
                .iter()
                .filter(|p| p.place == Place::Blocker)
                .map(|p| p.message.clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// “张三的申请书（ZMKJ20241）”, or “申请书（ZMKJ20241）” before a name is typed.
pub fn naming(name: &str, number: &str) -> String {
    if name.trim().is_empty() {
        format!("申请书（{number}）")
    } else {
        format!("{}的申请书（{number}）", name.trim())
    }
}

/// Decides `event` on `case` with the `note` typed for it.
pub fn decide(case: &Case<'_>, event: Event, note: &Note) -> Result<Outcome, Refusal> {
    let next = case
        .state
        .apply(case.chain, event)
        .map_err(|e| Refusal::Flow(e.to_string()))?;
    if let Event::Submit { by } = event
        && let Some(b) = case.deadline(by)
        && let Some(m) =
            crate::deadline::submit_problem(&b, &case.campaign.campaign.office, case.now)
    {
        return Err(Refusal::DeadlinePassed(m));
    }
    let mut problems = Vec::new();
    let mut kept = Note::from(note.comment.trim());
    match event {
        Event::Submit { by: 0 } => applicant_submit(case, &mut problems),
        Event::Submit { by } => {
            if let Some(co) = unit_submit(case, by, note, &mut problems) {
                kept.co_signer = co.0;
                kept.co_opinion = co.1;
            }
            // 东莞 五（一）: “公示无异议后…方可上报”; the record goes up with the opinion.
            if by == case.recommender_level && case.campaign.publicity.unit_publicity {
                match crate::publicity::unit::forward(
                    case.unit_publicity,
                    case.campaign.publicity.unit_working_days,
                    case.now,
                ) {
                    Ok(Some(line)) if kept.comment.is_empty() => kept.comment = line,
                    Ok(Some(line)) => kept.comment = format!("{}\n{line}", kept.comment),
                    Ok(None) => {}
                    Err(message) => problems.push(Problem {
                        code: "publicity_pending",
                        place: Place::Blocker,
                        message,
                    }),
                }
            }
        }
        Event::Return { .. } | Event::Recall { .. } if case.in_selection.is_some() => {
            let held = case.in_selection.unwrap_or_default();
            let what = if matches!(event, Event::Recall { .. }) {
                "收回"
            } else {
                "退回"
            };
            return Err(Refusal::Flow(format!(
                "{}{held}，不能{what}",
                naming(case.name(), case.number)
            )));
        }
        Event::Return { .. } if kept.comment.is_empty() => problems.push(Problem {
            code: "comment_required",
            place: Place::Input("comment"),
            message: "退回时请填写修改意见".to_owned(),
        }),
        _ => {}
    }
    // The quota last, and only for the recommender's own 提交.
    let quota_max = match event {
        Event::Submit { by } if by == case.recommender_level => case.quota().map(|q| {
            if q.used >= i64::from(q.max) {
                problems.push(Problem {
                    code: "quota_full",
                    place: Place::Blocker,
                    message: crate::workflow::quota_full_message(q.used, i64::from(q.max)),
                });
            }
            q.max
        }),
        _ => None,
    };
    match problems.as_slice() {
        [] => {}
        [only] if only.code == "quota_full" => {
            return Err(Refusal::QuotaFull(only.message.clone()));
        }
        _ => return Err(Refusal::Problems(problems)),
    }
    let what = naming(case.name(), case.number);
    let announcement = crate::workflow::announce(
        case.state,
        case.chain,
        event,
        &case.campaign.campaign.short_name,
        case.number,
        &what,
        &kept.comment,
    );
    let holder_level = next.holder();
    Ok(Outcome {
        event,
        holder_role: case.chain.levels[holder_level].role,
        state_text: next.text(case.chain),
        next,
        holder_level,
        note: kept,
        quota_max,
        announcement,
    })
}

/// The applicant's 提交: the form's fields, the 推荐组别 its recommender's category
/// asks for, the eligibility rules that stop a submission, then 我承诺, the
/// recommending unit and the materials.
fn applicant_submit(case: &Case<'_>, problems: &mut Vec<Problem>) {
    let mut fields: Vec<(FieldKey, String)> =
        crate::form::check_submission(case.campaign, case.form)
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect();
    if let Some(r) = &case.recommender
        && let Some(cat) = r.category
        && let Some(group) = &cat.group
        && let Some(m) = crate::form::group_problem(&cat.name, group, case.form)
    {
        fields.push((FieldKey::Group, m));
    }
    for f in case.findings() {
        if f.blocking {
            fields.push((FieldKey::Eligibility, f.message));
        }
    }
    // Top to bottom: the fields in the campaign's order, eligibility at the end.
    let rank = |key: &FieldKey| {
        case.campaign
            .form
            .fields
            .iter()
            .position(|f| f.key == *key)
            .unwrap_or(usize::MAX)
    };
    fields.sort_by_key(|(key, _)| rank(key));
    problems.extend(fields.into_iter().map(|(key, message)| Problem {
        code: "field",
        place: Place::Field(key),
        message,
    }));
    if !case.committed {
        problems.push(Problem {
            code: "commitment_missing",
            place: Place::Blocker,
            message: "请先阅读评选规则并点击“我承诺”".to_owned(),
        });
    }
    if case.recommender.is_none() {
        problems.push(Problem {
            code: "recommender_missing",
            place: Place::Blocker,
            message: "尚未选择推荐单位".to_owned(),
        });
    }
    problems.extend(
        case.missing_materials(0)
            .into_iter()
            .map(|message| Problem {
                code: "materials_missing",
                place: Place::Blocker,
                message,
            }),
    );
}

/// A reviewing level's 提交: the actual employer's co-signature where the campaign asks
/// for one, what it must attach, then its opinion — the order these were checked in
/// before the use-case layer, so the first problem (the API's `code` and `field`) is the
/// one it was; now the others follow it. Returns the co-signature to keep.
fn unit_submit(
    case: &Case<'_>,
    by: usize,
    note: &Note,
    problems: &mut Vec<Problem>,
) -> Option<(String, String)> {
    let level = case
        .campaign
        .levels
        .iter()
        .find(|x| x.key == case.chain.levels[by].key);
    let co_signs = level.is_some_and(|x| x.employer_also_signs);
    if co_signs
        && let Some((field, message)) = crate::workflow::co_signature_problem(
            &note.co_signer,
            &note.co_opinion,
            case.actual_employer(),
        )
    {
        problems.push(Problem {
            code: "co_signature",
            place: Place::Input(field),
            message,
        });
    }
    let missing = case.missing_materials(by);
    if !missing.is_empty() {
        problems.push(Problem {
            code: "materials_missing",
            place: Place::Input("materials"),
            message: format!("材料不全，未提交：{}", missing.join("；")),
        });
    }
    if let Some(label) = level.and_then(|x| x.opinion.as_deref())
        && note.comment.trim().is_empty()
    {
        problems.push(Problem {
            code: "comment_required",
            place: Place::Input("comment"),
            message: format!("提交前请填写{label}"),
        });
    }
    co_signs.then(|| {
        (
            note.co_signer.trim().to_owned(),
            note.co_opinion.trim().to_owned(),
        )
    })
}

/// A move on an application's files: starting an upload of `size` bytes (the
/// server's `ceiling` above every material's own limit), completing one, removing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMove<'a> {
    Begin {
        material: &'a str,
        size: i64,
        ceiling: u64,
        /// Who sent the file, for the materials that ask (`Material::sender`).
        sender: &'a str,
    },
    Complete {
        material: &'a str,
    },
    Remove {
        material: &'a str,
    },
}

/// Why a file move does not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    /// The application is not at the mover's level now (the applicant's only while it
    /// is theirs to edit).
    NotHolding,
    /// The campaign has no such material.
    UnknownMaterial(String),
    /// The material is another level's to attach.
    NotYours,
    /// The size is wrong: `empty` or `too_large`, in words.
    Size { code: &'static str, message: String },
    /// The material already has as many files as it may.
    Full { material: String, message: String },
    /// The material asks who sent the file, and the answer is missing or too long.
    Sender(String),
}

impl FileRefusal {
    /// The words for the person.
    pub fn message(&self) -> String {
        match self {
            FileRefusal::NotHolding => "申请书不在您处，不能上传或删除材料".to_owned(),
            FileRefusal::UnknownMaterial(key) => format!("没有名为 {key} 的材料"),
            FileRefusal::NotYours => "这项材料不由您上传".to_owned(),
            FileRefusal::Size { message, .. }
            | FileRefusal::Full { message, .. }
            | FileRefusal::Sender(message) => message.clone(),
        }
    }
}

/// Whether the chain's level `level` may attach and remove files now: the applicant
/// while the form is theirs to edit, a unit while it holds the application.
pub fn may_change_files(state: &FlowState, level: usize) -> bool {
    if level == 0 {
        state.applicant_may_edit()
    } else {
        state.holder() == level
    }
}

/// The longest sender's name a file keeps (a unit's full name fits many times over).
pub const SENDER_MAX_CHARS: usize = 100;

/// Decides a file move by the chain's level `level` (the one the mover sees the
/// application at): the level must hold the application, the material must be this
/// level's, and a new upload must fit the material's size and count. Returns the
/// material.
pub fn decide_file<'c>(
    case: &Case<'c>,
    level: usize,
    mv: FileMove<'_>,
) -> Result<&'c crate::campaign::Material, FileRefusal> {
    if !may_change_files(case.state, level) {
        return Err(FileRefusal::NotHolding);
    }
    let key = match mv {
        FileMove::Begin { material, .. }
        | FileMove::Complete { material }
        | FileMove::Remove { material } => material,
    };
    let campaign: &'c Campaign = case.campaign;
    let m = campaign
        .materials
        .iter()
        .find(|m| m.key == key)
        .ok_or_else(|| FileRefusal::UnknownMaterial(key.to_owned()))?;
    if crate::materials::holder(campaign, case.chain, m) != Some(level) {
        return Err(FileRefusal::NotYours);
    }
    if let FileMove::Begin {
        size,
        ceiling,
        sender,
        ..
    } = mv
    {
        if let Some(label) = &m.sender {
            let chars = sender.trim().chars().count();
            if chars == 0 {
                return Err(FileRefusal::Sender(format!("请填写{label}")));
            }
            if chars > SENDER_MAX_CHARS {
                return Err(FileRefusal::Sender(format!(
                    "{label}不超过 {SENDER_MAX_CHARS} 字，现有 {chars} 字"
                )));
            }
        }
        if size <= 0 {
            return Err(FileRefusal::Size {
                code: "size",
                message: "文件是空的".to_owned(),
            });
        }
        if let Some(words) = crate::materials::too_large(m, size as u64, ceiling) {
            return Err(FileRefusal::Size {
                code: "too_large",
                message: words,
            });
        }
        let live = case.materials.get(&m.key).copied().unwrap_or(0);
        if let Some(max) = m.max_count
            && live >= max
            && let Some(words) = crate::materials::count_problem(m, live + 1)
        {
            return Err(FileRefusal::Full {
                material: m.key.clone(),
                message: format!("{words}，请先删除不需要的文件"),
            });
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests;
