//! The application's way up the chain, as the 新疆 user manual describes it and
//! generalised to any chain a campaign file sets: 提交 (submit upward), 退回 (return
//! downward with 修改意见), 收回 (recall), 办理 (open). Pure: the state is computed from
//! the list of events, so the store only has to keep that list.
//!
//! Recall, per the manual: a sender takes back what it sent until the receiver has
//! opened it; a level takes back a 退回 until the applicant (or lower level) has acted
//! on it. A recall undoes exactly the last effective move, so the state reads as it
//! did before that move.

use crate::Role;
use crate::campaign::Campaign;

/// One level of an application's chain (after merging, see [`Chain::for_application`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLevel {
    /// The campaign file's level key.
    pub key: String,
    /// The name in state texts, e.g. 推荐单位.
    pub name: String,
    pub role: Role,
}

/// The levels one application climbs, applicant first, organiser last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub levels: Vec<ChainLevel>,
}

impl Chain {
    /// The chain for one application. When the campaign merges the work unit's level
    /// with the recommender's and the applicant's work unit is itself the recommender
    /// (广西 六（一）2), the work unit's level is left out.
    pub fn for_application(campaign: &Campaign, work_unit_is_recommender: bool) -> Chain {
        let levels = campaign
            .levels
            .iter()
            .filter(|l| !(work_unit_is_recommender && l.merge_with_next_when_same_unit))
            .map(|l| ChainLevel {
                key: l.key.clone(),
                name: l.name.clone(),
                role: l.role,
            })
            .collect();
        Chain { levels }
    }

    pub fn top(&self) -> usize {
        self.levels.len().saturating_sub(1)
    }

    pub fn name(&self, level: usize) -> &str {
        self.levels
            .get(level)
            .map(|l| l.name.as_str())
            .unwrap_or("")
    }

    /// The level index of the first level with this role.
    pub fn level_of(&self, role: Role) -> Option<usize> {
        self.levels.iter().position(|l| l.role == role)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveKind {
    Submit,
    Return,
}

/// What happened to an application, in order. `by` is the acting level's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// 提交: from a level to the next one up.
    Submit { by: usize },
    /// 退回: from a level down to `to` (the applicant, usually).
    Return { by: usize, to: usize },
    /// 收回 of the last effective move by its sender.
    Recall { by: usize },
    /// 办理: the holder opened the application.
    Open { by: usize },
}

impl Event {
    pub fn kind(self) -> &'static str {
        match self {
            Event::Submit { .. } => "submit",
            Event::Return { .. } => "return",
            Event::Recall { .. } => "recall",
            Event::Open { .. } => "open",
        }
    }

    pub fn by(self) -> usize {
        match self {
            Event::Submit { by }
            | Event::Return { by, .. }
            | Event::Recall { by }
            | Event::Open { by } => by,
        }
    }

    /// Rebuilds an event from its stored parts.
    pub fn from_parts(kind: &str, by: usize, to: Option<usize>) -> Option<Event> {
        Some(match kind {
            "submit" => Event::Submit { by },
            "return" => Event::Return { by, to: to? },
            "recall" => Event::Recall { by },
            "open" => Event::Open { by },
            _ => return None,
        })
    }
}

/// An effective move on the stack, with whether its receiver has opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub kind: MoveKind,
    pub from: usize,
    pub to: usize,
    pub opened: bool,
}

/// Where an application is and how it got there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowState {
    /// Effective moves, oldest first; recalls have removed theirs.
    pub moves: Vec<Move>,
}

/// Why an action is refused, in words for the person trying it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("申请书当前在{holder}处，您不能办理")]
    NotHolder { holder: String },
    #[error("申请书已在{top}，没有更上一级")]
    AtTop { top: String },
    #[error("申报人不能退回申请书")]
    ApplicantCannotReturn,
    #[error("只能退回到下级（{allowed}）")]
    BadReturnTarget { allowed: String },
    #[error("没有可以收回的操作")]
    NothingToRecall,
    #[error("这一步是{sender}做的，只有{sender}可以收回")]
    NotSender { sender: String },
    #[error("{receiver}已经查看或办理了申请书，不能收回，请联系{receiver}退回")]
    AlreadyOpened { receiver: String },
}

/// The state of an application nobody has been sent.
pub const DRAFT: &str = "草稿（未提交）";

impl FlowState {
    /// Replays events into a state; events that would be refused are errors.
    pub fn replay(chain: &Chain, events: &[Event]) -> Result<FlowState, FlowError> {
        let mut s = FlowState::default();
        for e in events {
            s = s.apply(chain, *e)?;
        }
        Ok(s)
    }

    /// The level holding the application (0, the applicant, at the start).
    pub fn holder(&self) -> usize {
        self.moves.last().map_or(0, |m| m.to)
    }

    /// Only the applicant edits the form, and only while holding it.
    pub fn applicant_may_edit(&self) -> bool {
        self.holder() == 0
    }

    /// The state as the manual writes it: 申报人提交到推荐单位, 推荐单位退回到申报人 …;
    /// before anything was sent (or after the applicant took it back), 草稿（未提交）
    /// rather than the manual's bare “申报人”, which reads as a role.
    pub fn text(&self, chain: &Chain) -> String {
        match self.moves.last() {
            None => DRAFT.to_owned(),
            Some(m) => {
                let verb = match m.kind {
                    MoveKind::Submit => "提交到",
                    MoveKind::Return => "退回到",
                };
                format!("{}{verb}{}", chain.name(m.from), chain.name(m.to))
            }
        }
    }

    /// Whether `level` holds a submission it has not opened yet (opening it is then
    /// recorded, which ends the sender's right to recall).
    pub fn awaiting_open(&self, level: usize) -> bool {
        self.moves
            .last()
            .is_some_and(|m| m.kind == MoveKind::Submit && m.to == level && !m.opened)
    }

    /// Whether `level` could recall now (the manual's “收回” link is shown then).
    pub fn can_recall(&self, level: usize) -> bool {
        self.moves
            .last()
            .is_some_and(|m| m.from == level && !m.opened)
    }

    fn check(&self, chain: &Chain, event: Event) -> Result<(), FlowError> {
        let holder = self.holder();
        let not_holder = || FlowError::NotHolder {
            holder: chain.name(holder).to_owned(),
        };
        match event {
            Event::Open { by } => (by == holder).then_some(()).ok_or_else(not_holder),
            Event::Submit { by } => {
                if by != holder {
                    return Err(not_holder());
                }
                if by >= chain.top() {
                    return Err(FlowError::AtTop {
                        top: chain.name(by).to_owned(),
                    });
                }
                Ok(())
            }
            Event::Return { by, to } => {
                if by != holder {
                    return Err(not_holder());
                }
                if by == 0 {
                    return Err(FlowError::ApplicantCannotReturn);
                }
                if to >= by {
                    let allowed: Vec<&str> = (0..by).map(|i| chain.name(i)).collect();
                    return Err(FlowError::BadReturnTarget {
                        allowed: allowed.join("、"),
                    });
                }
                Ok(())
            }
            Event::Recall { by } => {
                let last = self.moves.last().ok_or(FlowError::NothingToRecall)?;
                if last.from != by {
                    return Err(FlowError::NotSender {
                        sender: chain.name(last.from).to_owned(),
                    });
                }
                if last.opened {
                    return Err(FlowError::AlreadyOpened {
                        receiver: chain.name(last.to).to_owned(),
                    });
                }
                Ok(())
            }
        }
    }

    /// The state after `event`, or why it is refused.
    pub fn apply(&self, chain: &Chain, event: Event) -> Result<FlowState, FlowError> {
        self.check(chain, event)?;
        let mut next = self.clone();
        match event {
            Event::Open { .. } => {
                // Opening ends the sender's right to recall a submission. A 退回 stays
                // recallable until the receiver acts on it (manual 二.9), not until it
                // is read.
                if let Some(m) = next.moves.last_mut()
                    && m.kind == MoveKind::Submit
                {
                    m.opened = true;
                }
            }
            Event::Submit { by } => {
                // Acting on what arrived counts as having opened it.
                if let Some(m) = next.moves.last_mut() {
                    m.opened = true;
                }
                next.moves.push(Move {
                    kind: MoveKind::Submit,
                    from: by,
                    to: by + 1,
                    opened: false,
                });
            }
            Event::Return { by, to } => {
                if let Some(m) = next.moves.last_mut() {
                    m.opened = true;
                }
                next.moves.push(Move {
                    kind: MoveKind::Return,
                    from: by,
                    to,
                    opened: false,
                });
            }
            Event::Recall { .. } => {
                next.moves.pop();
            }
        }
        Ok(next)
    }
}

/// Whether a level may have a candidate's 考察材料: it is the recommending unit's to
/// complete (东莞 附件3), so the recommender and the levels above it; never the applicant
/// or the work unit, whom it assesses.
pub fn may_export_inspection(viewer_level: usize, recommender_level: usize) -> bool {
    viewer_level >= recommender_level
}

/// Why a new revision of a campaign file may not replace the old one while the
/// campaign has applications: their stored moves name levels by their place in the
/// chain, so the chain (its levels' keys, roles and merging) must stay as it was.
/// Names, opinions, deadlines and everything else may change.
pub fn chain_change_problem(old: &Campaign, new: &Campaign) -> Option<String> {
    let shape = |c: &Campaign| -> Vec<(String, crate::Role, bool)> {
        c.levels
            .iter()
            .map(|l| (l.key.clone(), l.role, l.merge_with_next_when_same_unit))
            .collect()
    };
    (shape(old) != shape(new)).then(|| {
        let names = |c: &Campaign| {
            c.levels
                .iter()
                .map(|l| l.name.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        };
        format!(
            "本活动已有申请书，申报链条不能再改动（原为 {}，新文件为 {}）；名称、意见、截止时间等其他内容可以修改",
            names(old),
            names(new)
        )
    })
}

/// The refusal of a 提交 beyond the recommender's quota, e.g. 本单位推荐名额已满（2/2）.
pub fn quota_full_message(used: i64, max: i64) -> String {
    format!("本单位推荐名额已满（{used}/{max}），不能再提交")
}

/// Where the actual employer signs beside the personnel-relation unit (东莞 填表说明10):
/// a name needs its opinion and an opinion its name. Returns (field, words).
/// `declared`: the actual employer the applicant named on the form (empty: the same as
/// the personnel-relation unit); when named, its co-signature is required.
pub fn co_signature_problem(
    signer: &str,
    opinion: &str,
    declared: &str,
) -> Option<(&'static str, String)> {
    let declared = declared.trim();
    match (signer.trim().is_empty(), opinion.trim().is_empty()) {
        (false, true) => Some(("co_opinion", "请填写实际就职单位意见".to_owned())),
        (true, false) => Some(("co_signer", "请填写实际就职单位名称".to_owned())),
        (true, true) if !declared.is_empty() => Some((
            "co_signer",
            format!(
                "申报人填写的实际就职单位“{declared}”与人事关系所在单位不一致，须由实际就职单位同时签署意见"
            ),
        )),
        _ => None,
    }
}

/// Whom a move concerns and what they are told: the next holder on arrival, the
/// receiver of a 退回 (with the 修改意见), the receiver of a recalled move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The level told.
    pub level: usize,
    /// arrival, return or recall.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
}

/// What `event`, applied to `before`, announces. `who` names the application:
/// “张三的申请书（ZMKJ20241）”.
pub fn announce(
    before: &FlowState,
    chain: &Chain,
    event: Event,
    campaign: &str,
    number: &str,
    who: &str,
    comment: &str,
) -> Option<Announcement> {
    let name = |l: usize| chain.name(l).to_owned();
    match event {
        Event::Submit { by } => Some(Announcement {
            level: by + 1,
            kind: "arrival",
            subject: format!("【{campaign}】申请书 {number} 待您办理"),
            text: format!(
                "{who}已由{}提交到{}，请登录评选平台在“待审核申报表”中办理。",
                name(by),
                name(by + 1)
            ),
        }),
        Event::Return { by, to } => {
            let text = if to == 0 {
                format!(
                    "您的申请书（{number}）被{}退回，修改意见：{}。请修改后重新提交。",
                    name(by),
                    comment.trim()
                )
            } else {
                format!(
                    "{who}被{}退回到{}，修改意见：{}。",
                    name(by),
                    name(to),
                    comment.trim()
                )
            };
            Some(Announcement {
                level: to,
                kind: "return",
                subject: format!("【{campaign}】申请书 {number} 被退回"),
                text,
            })
        }
        Event::Recall { by } => {
            let last = before.moves.last()?;
            Some(Announcement {
                level: last.to,
                kind: "recall",
                subject: format!("【{campaign}】申请书 {number} 已被收回"),
                text: format!("{}已收回{who}，无需办理。", name(by)),
            })
        }
        Event::Open { .. } => None,
    }
}

/// The level a person acts at on an application, given the chain levels their roles
/// match (`held`) and the chain's top level: the holder's level when they hold it, else
/// the highest level they hold that the application has reached. The office at the top
/// oversees its whole campaign: it sees every application once first submitted (查询申报表
/// lists them), and may act only when the application is with it. `None`: they may not
/// see it.
pub fn acting_level(holder: usize, reached: usize, held: &[usize], top: usize) -> Option<usize> {
    if held.contains(&holder) && holder <= reached {
        return Some(holder);
    }
    let reached_held = held.iter().copied().filter(|l| *l <= reached).max();
    reached_held.or_else(|| (reached > 0 && held.contains(&top)).then_some(top))
}

/// Application numbers as in the manual: prefix + year + sequence (ZMKJ20231).
pub fn application_number(prefix: &str, year: i32, sequence: u64) -> String {
    format!("{prefix}{year}{sequence}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};

    fn chain(file: &str, merged: bool) -> Chain {
        let (_, text) = SEEDS.iter().find(|(n, _)| *n == file).unwrap();
        Chain::for_application(&load(text).campaign.unwrap(), merged)
    }

    #[test]
    fn inspection_is_the_recommenders() {
        let c = chain("dongguan-2023.toml", false);
        let rec = c.level_of(crate::role::Role::Recommender).unwrap();
        assert!(!may_export_inspection(0, rec));
        assert!(!may_export_inspection(rec - 1, rec));
        assert!(may_export_inspection(rec, rec));
        assert!(may_export_inspection(c.top(), rec));
    }

    /// The 新疆 manual's steps: apply, submit, recall, resubmit, return with comment,
    /// fix, forward, recall by the unit, forward again.
    #[test]
    fn xinjiang_manual_walk() {
        let c = chain("xinjiang-2023.toml", false);
        let (app, rec, office) = (0, 1, 2);
        let mut s = FlowState::default();
        assert_eq!(s.text(&c), "草稿（未提交）");
        assert!(s.applicant_may_edit());

        s = s.apply(&c, Event::Submit { by: app }).unwrap();
        assert_eq!(s.text(&c), "申报人提交到推荐单位");
        assert!(!s.applicant_may_edit());
        assert!(s.can_recall(app));
        s = s.apply(&c, Event::Recall { by: app }).unwrap();
        assert_eq!(s.text(&c), "草稿（未提交）");

        s = s.apply(&c, Event::Submit { by: app }).unwrap();
        s = s.apply(&c, Event::Open { by: rec }).unwrap();
        assert_eq!(
            s.apply(&c, Event::Recall { by: app })
                .unwrap_err()
                .to_string(),
            "推荐单位已经查看或办理了申请书，不能收回，请联系推荐单位退回"
        );
        s = s.apply(&c, Event::Return { by: rec, to: app }).unwrap();
        assert_eq!(s.text(&c), "推荐单位退回到申报人");
        assert!(s.applicant_may_edit());
        // The applicant reading the 修改意见 does not stop the unit's recall.
        s = s.apply(&c, Event::Open { by: app }).unwrap();
        assert!(s.can_recall(rec));
        // The unit takes its return back before the applicant acts.
        s = s.apply(&c, Event::Recall { by: rec }).unwrap();
        assert_eq!(s.text(&c), "申报人提交到推荐单位");
        s = s.apply(&c, Event::Return { by: rec, to: app }).unwrap();
        s = s.apply(&c, Event::Submit { by: app }).unwrap();
        assert_eq!(s.text(&c), "申报人提交到推荐单位");
        assert_eq!(
            s.apply(&c, Event::Recall { by: rec }).unwrap_err(),
            FlowError::NotSender {
                sender: "申报人".to_owned()
            }
        );

        s = s.apply(&c, Event::Submit { by: rec }).unwrap();
        assert_eq!(s.text(&c), "推荐单位提交到自治区科协");
        s = s.apply(&c, Event::Recall { by: rec }).unwrap();
        assert_eq!(
            s.text(&c),
            "申报人提交到推荐单位",
            "back to be handled again"
        );
        s = s.apply(&c, Event::Submit { by: rec }).unwrap();
        s = s.apply(&c, Event::Open { by: office }).unwrap();
        assert!(!s.can_recall(rec));
        assert_eq!(
            s.apply(&c, Event::Submit { by: office })
                .unwrap_err()
                .to_string(),
            "申请书已在自治区科协，没有更上一级"
        );
        // The organiser may send it back to the recommender, as the manual says.
        s = s
            .apply(
                &c,
                Event::Return {
                    by: office,
                    to: rec,
                },
            )
            .unwrap();
        assert_eq!(s.text(&c), "自治区科协退回到推荐单位");
    }

    #[test]
    fn only_the_holder_acts() {
        let c = chain("xinjiang-2023.toml", false);
        let s = FlowState::default();
        assert_eq!(
            s.apply(&c, Event::Submit { by: 1 })
                .unwrap_err()
                .to_string(),
            "申请书当前在申报人处，您不能办理"
        );
        assert_eq!(
            s.apply(&c, Event::Return { by: 0, to: 0 }),
            Err(FlowError::ApplicantCannotReturn)
        );
        assert_eq!(
            s.apply(&c, Event::Recall { by: 0 }),
            Err(FlowError::NothingToRecall)
        );
        let s = s.apply(&c, Event::Submit { by: 0 }).unwrap();
        assert!(matches!(
            s.apply(&c, Event::Return { by: 1, to: 1 }),
            Err(FlowError::BadReturnTarget { .. })
        ));
    }

    #[test]
    fn guangxi_chain_merges_when_work_unit_recommends() {
        let full = chain("guangxi-2024.toml", false);
        let names: Vec<&str> = full.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["申报人", "所在单位", "推荐单位", "自治区活动办公室"]
        );
        let merged = chain("guangxi-2024.toml", true);
        let names: Vec<&str> = merged.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["申报人", "推荐单位", "自治区活动办公室"]);
        let s =
            FlowState::replay(&full, &[Event::Submit { by: 0 }, Event::Submit { by: 1 }]).unwrap();
        assert_eq!(s.text(&full), "所在单位提交到推荐单位");
        // 新疆 never merges: its chain has no work-unit level.
        assert_eq!(chain("xinjiang-2023.toml", true).levels.len(), 3);
    }

    #[test]
    fn replay_refuses_an_impossible_history() {
        let c = chain("dongguan-2023.toml", false);
        assert!(
            FlowState::replay(&c, &[Event::Submit { by: 0 }, Event::Submit { by: 0 }]).is_err()
        );
    }

    #[test]
    fn awaiting_open() {
        let c = chain("xinjiang-2023.toml", false);
        let s = FlowState::default()
            .apply(&c, Event::Submit { by: 0 })
            .unwrap();
        assert!(s.awaiting_open(1) && !s.awaiting_open(0));
        let s = s.apply(&c, Event::Open { by: 1 }).unwrap();
        assert!(!s.awaiting_open(1));
        let s = s.apply(&c, Event::Return { by: 1, to: 0 }).unwrap();
        assert!(
            !s.awaiting_open(0),
            "a return is not opened, it is acted on"
        );
    }

    #[test]
    fn announcements_go_to_the_right_level() {
        let c = chain("guangxi-2024.toml", false);
        let who = "张三的申请书（ZMKJ20241）";
        let a = announce(
            &FlowState::default(),
            &c,
            Event::Submit { by: 0 },
            "广西",
            "ZMKJ20241",
            who,
            "",
        )
        .unwrap();
        assert_eq!((a.level, a.kind), (1, "arrival"));
        assert_eq!(
            a.text,
            "张三的申请书（ZMKJ20241）已由申报人提交到所在单位，请登录评选平台在“待审核申报表”中办理。"
        );
        let s = FlowState::replay(&c, &[Event::Submit { by: 0 }, Event::Submit { by: 1 }]).unwrap();
        let r = announce(
            &s,
            &c,
            Event::Return { by: 2, to: 0 },
            "广西",
            "ZMKJ20241",
            who,
            "补充事迹 ",
        )
        .unwrap();
        assert_eq!((r.level, r.kind), (0, "return"));
        assert!(
            r.text.contains("被推荐单位退回，修改意见：补充事迹。"),
            "{}",
            r.text
        );
        let back = announce(
            &s,
            &c,
            Event::Recall { by: 1 },
            "广西",
            "ZMKJ20241",
            who,
            "",
        )
        .unwrap();
        assert_eq!((back.level, back.kind), (2, "recall"));
        assert_eq!(
            announce(&s, &c, Event::Open { by: 2 }, "广西", "n", who, ""),
            None
        );
    }

    #[test]
    fn co_signature_needs_both_parts() {
        assert_eq!(co_signature_problem("", "", ""), None);
        assert_eq!(co_signature_problem("东莞某公司", "同意", ""), None);
        assert_eq!(
            co_signature_problem("东莞某公司", " ", "").unwrap().0,
            "co_opinion"
        );
        assert_eq!(co_signature_problem("", "同意", "").unwrap().0, "co_signer");
        // The applicant named a different actual employer: it must co-sign.
        let (field, words) = co_signature_problem("", "", "东莞某科技公司").unwrap();
        assert_eq!(field, "co_signer");
        assert!(
            words.contains("“东莞某科技公司”与人事关系所在单位不一致"),
            "{words}"
        );
        assert_eq!(
            co_signature_problem("东莞某科技公司", "同意", "东莞某科技公司"),
            None
        );
    }

    #[test]
    fn the_chain_stays_once_applications_exist() {
        let (_, text) = SEEDS
            .iter()
            .find(|(n, _)| *n == "xinjiang-2023.toml")
            .unwrap();
        let old = load(text).campaign.unwrap();
        let mut renamed = old.clone();
        renamed.levels[1].name = "初评单位".to_owned();
        renamed.levels[1].deadline = None;
        assert_eq!(chain_change_problem(&old, &renamed), None);
        let mut shorter = old.clone();
        shorter.levels.remove(1);
        let problem = chain_change_problem(&old, &shorter).unwrap();
        assert!(
            problem.contains("原为 申报人 → 推荐单位 → 自治区科协，新文件为 申报人 → 自治区科协"),
            "{problem}"
        );
    }

    #[test]
    fn acting_level_prefers_the_holder() {
        // Chains of three levels (top = 2) and four (top = 3).
        assert_eq!(acting_level(1, 1, &[2], 2), Some(2), "the office oversees");
        assert_eq!(acting_level(0, 0, &[2], 2), None, "drafts stay private");
        assert_eq!(acting_level(2, 2, &[2], 2), Some(2));
        assert_eq!(acting_level(1, 1, &[2], 3), None, "not yet reached");
        assert_eq!(acting_level(0, 3, &[2], 3), Some(2));
        assert_eq!(acting_level(1, 3, &[1, 3], 3), Some(1));
        assert_eq!(acting_level(2, 3, &[1, 3], 3), Some(3));
        assert_eq!(acting_level(1, 1, &[1, 3], 3), Some(1));
        assert_eq!(
            acting_level(0, 1, &[1, 3], 3),
            Some(1),
            "its own 退回 to recall"
        );
        assert_eq!(acting_level(0, 0, &[], 3), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(application_number("ZMKJ", 2023, 1), "ZMKJ20231");
    }
}
