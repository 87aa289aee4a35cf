//! The decision over the seed campaigns, table by table: every refusal the integration
//! tests meet through the server is met here in microseconds.

use super::*;
use crate::campaign::{SEEDS, load};

fn seed(file: &str) -> Campaign {
    let (_, text) = SEEDS.iter().find(|(n, _)| *n == file).unwrap();
    load(text).campaign.unwrap()
}

/// A complete 新疆 form, as the integration tests fill it.
fn xinjiang_form() -> FormValues {
    let text = |s: &str| FieldValue::Text(s.to_owned());
    let mut f = FormValues::new();
    for (key, v) in [
        (FieldKey::IdNumber, "11010519491231002X"),
        (FieldKey::Name, "测试人员"),
        (FieldKey::Sex, "女"),
        (FieldKey::Ethnicity, "汉族"),
        (FieldKey::BirthMonth, "1949年12月"),
        (FieldKey::NativePlace, "新疆乌鲁木齐"),
        (FieldKey::PoliticalStatus, "中共党员"),
        (FieldKey::Education, "研究生"),
        (FieldKey::Degree, "博士"),
        (FieldKey::School, "新疆大学"),
        (FieldKey::Major, "作物学"),
        (FieldKey::EmployerAndPost, "新疆农业科学院作物研究所所长"),
        (FieldKey::Duties, "主持棉花育种研究"),
        (FieldKey::Title, "研究员"),
        (FieldKey::OfficePhone, "0991-6386020"),
        (FieldKey::Mobile, "13800000000"),
        (FieldKey::Email, "ceshi@example.com"),
        (FieldKey::Address, "乌鲁木齐市南昌路403号"),
        (FieldKey::Postcode, "830091"),
        (FieldKey::Field, "服务社会"),
        (FieldKey::Academician, "否"),
        (FieldKey::Deeds, "扎根南疆三十年，培育棉花新品种十余个。"),
    ] {
        f.insert(key, text(v));
    }
    f.insert(
        FieldKey::Stories,
        FieldValue::List(vec!["一个感人的故事。".to_owned()]),
    );
    f.insert(FieldKey::Resume, FieldValue::Rows(Vec::new()));
    f.insert(
        FieldKey::Eligibility,
        FieldValue::Rows(
            [
                ("work_region", "是"),
                ("active_military", "否"),
                ("civil_servant_bureau_level", "否"),
                ("national_honours", "否"),
                ("earlier_winner", "否"),
            ]
            .iter()
            .map(|(k, a)| (k.to_string(), a.to_string()))
            .collect(),
        ),
    );
    f
}

/// One application's facts, owned, so a test changes one thing and decides.
struct Fixture {
    campaign: Campaign,
    chain: Chain,
    state: FlowState,
    form: FormValues,
    committed: bool,
    /// (unit id, category key, forwarded, granted); `None`: no recommender chosen.
    recommender: Option<(i64, String, i64, u32)>,
    register: Option<String>,
    materials: BTreeMap<String, u32>,
    extensions: Vec<Extension>,
    now: i64,
    in_selection: Option<&'static str>,
    unit_publicity: Option<crate::publicity::unit::Record>,
}

impl Fixture {
    /// A complete application in `file`, every material attached, at the applicant.
    fn new(file: &str, merged: bool) -> Fixture {
        let campaign = seed(file);
        let chain = Chain::for_application(&campaign, merged);
        let materials = campaign
            .materials
            .iter()
            .map(|m| (m.key.clone(), m.min_count.unwrap_or(1)))
            .collect();
        let category = campaign.recommender_categories[0].key.clone();
        Fixture {
            form: xinjiang_form(),
            campaign,
            chain,
            state: FlowState::default(),
            committed: true,
            recommender: Some((7, category, 0, 0)),
            register: None,
            materials,
            extensions: Vec::new(),
            // 2023-01-01, before every seed's deadline.
            now: 1_672_531_200,
            in_selection: None,
            unit_publicity: None,
        }
    }

    fn decide(&self, event: Event, note: &Note) -> Result<Outcome, Refusal> {
        let recommender = self
            .recommender
            .as_ref()
            .map(|(id, key, used, granted)| Recommender {
                unit_id: *id,
                category: self
                    .campaign
                    .recommender_categories
                    .iter()
                    .find(|c| c.key == *key),
                forwarded: *used,
                granted: *granted,
            });
        let case = Case {
            campaign: &self.campaign,
            chain: &self.chain,
            state: &self.state,
            number: "ZMKJ20231",
            form: &self.form,
            committed: self.committed,
            recommender,
            recommender_level: self.chain.level_of(Role::Recommender).unwrap(),
            register: self.register.as_deref(),
            materials: &self.materials,
            extensions: &self.extensions,
            now: self.now,
            in_selection: self.in_selection,
            unit_publicity: self.unit_publicity.as_ref(),
        };
        decide(&case, event, note)
    }

    /// Applies `events` as if they had been decided and written.
    fn moved(mut self, events: &[Event]) -> Fixture {
        for e in events {
            self.state = self.state.apply(&self.chain, *e).unwrap();
        }
        self
    }
}

fn problems(r: Result<Outcome, Refusal>) -> Vec<(&'static str, Place, String)> {
    match r {
        Err(Refusal::Problems(list)) => list
            .into_iter()
            .map(|p| (p.code, p.place, p.message))
            .collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

fn codes(r: Result<Outcome, Refusal>) -> Vec<&'static str> {
    problems(r).into_iter().map(|p| p.0).collect()
}

const SUBMIT_0: Event = Event::Submit { by: 0 };
const NONE: Note = Note {
    comment: String::new(),
    co_signer: String::new(),
    co_opinion: String::new(),
};

fn said(comment: &str) -> Note {
    Note::from(comment)
}

#[test]
fn a_complete_application_goes_up_with_its_notice() {
    let f = Fixture::new("xinjiang-2023.toml", false);
    let o = f.decide(SUBMIT_0, &NONE).unwrap();
    assert_eq!(o.state_text, "申报人提交到推荐单位");
    assert_eq!((o.holder_level, o.holder_role), (1, Role::Recommender));
    assert_eq!(o.quota_max, None, "the applicant's 提交 takes no place");
    assert_eq!(o.audit_action(), "application_submit");
    let a = o.announcement.unwrap();
    assert_eq!((a.level, a.kind), (1, "arrival"));
    assert!(
        a.text.contains("测试人员的申请书（ZMKJ20231）"),
        "{}",
        a.text
    );
}

/// An applicant's 提交 lists everything at once, fields first in the form's order,
/// then 我承诺, the recommending unit and each missing material.
#[test]
fn the_applicants_refusal_lists_everything_in_reading_order() {
    let mut f = Fixture::new("xinjiang-2023.toml", false);
    f.form.remove(&FieldKey::Email);
    f.form
        .insert(FieldKey::Mobile, FieldValue::Text("1380000".to_owned()));
    f.committed = false;
    f.recommender = None;
    f.materials.remove("videos");
    let got = problems(f.decide(SUBMIT_0, &NONE));
    let places: Vec<Place> = got.iter().map(|p| p.1).collect();
    assert_eq!(
        places,
        [
            Place::Field(FieldKey::Mobile),
            Place::Field(FieldKey::Email),
            Place::Blocker,
            Place::Blocker,
            Place::Blocker
        ],
        "{got:?}"
    );
    let codes: Vec<&str> = got.iter().map(|p| p.0).collect();
    assert_eq!(
        codes,
        [
            "field",
            "field",
            "commitment_missing",
            "recommender_missing",
            "materials_missing"
        ]
    );
    assert_eq!(got[2].2, "请先阅读评选规则并点击“我承诺”");
    assert_eq!(got[3].2, "尚未选择推荐单位");
    assert!(
        got[4].2.starts_with("体现推荐人选工作生活的视频"),
        "{}",
        got[4].2
    );
    let refusal = f.decide(SUBMIT_0, &NONE).unwrap_err();
    assert_eq!(refusal.field_problems().len(), 2);
    assert_eq!(refusal.blockers().len(), 3);
}

/// 新疆 四: eligibility answers that raise a strict rule, and a hit in the register of
/// earlier winners, stop the 提交 beside the eligibility questions.
#[test]
fn eligibility_and_the_register_stop_a_submission() {
    let mut f = Fixture::new("xinjiang-2023.toml", false);
    f.register = Some("2022年 新疆最美科技工作者".to_owned());
    let got = problems(f.decide(SUBMIT_0, &NONE));
    assert!(
        got.iter()
            .all(|p| p.1 == Place::Field(FieldKey::Eligibility)),
        "{got:?}"
    );
    assert!(!got.is_empty());
    let mut f = Fixture::new("xinjiang-2023.toml", false);
    if let Some(FieldValue::Rows(rows)) = f.form.get_mut(&FieldKey::Eligibility) {
        rows.retain(|(k, _)| k != "work_region");
    }
    let got = problems(f.decide(SUBMIT_0, &NONE));
    assert!(got[0].2.starts_with("请回答资格问题"), "{got:?}");
}

/// 新疆 使用手册 一.9/10 and 二.9/10: a sender recalls until the receiver opens; the
/// opened move cannot be recalled, and the words say whom to ask.
#[test]
fn the_manuals_recall_rules() {
    let f = Fixture::new("xinjiang-2023.toml", false).moved(&[SUBMIT_0]);
    let o = f.decide(Event::Recall { by: 0 }, &NONE).unwrap();
    assert_eq!(o.state_text, "草稿（未提交）");
    let f = f.moved(&[Event::Open { by: 1 }]);
    assert_eq!(
        f.decide(Event::Recall { by: 0 }, &NONE),
        Err(Refusal::Flow(
            "推荐单位已经查看或办理了申请书，不能收回，请联系推荐单位退回".to_owned()
        ))
    );
    // 二.9: the unit recalls its 提交 before the office opens it, and its 退回 before the
    // applicant submits again.
    let f = f.moved(&[Event::Submit { by: 1 }]);
    let o = f.decide(Event::Recall { by: 1 }, &NONE).unwrap();
    assert_eq!(o.state_text, "申报人提交到推荐单位");
    let f = Fixture::new("xinjiang-2023.toml", false).moved(&[
        SUBMIT_0,
        Event::Open { by: 1 },
        Event::Return { by: 1, to: 0 },
    ]);
    let o = f.decide(Event::Recall { by: 1 }, &NONE).unwrap();
    assert_eq!(o.state_text, "申报人提交到推荐单位");
    // 二.10: once the applicant has submitted again, the 退回 cannot be recalled.
    let f = f.moved(&[SUBMIT_0]);
    assert!(matches!(
        f.decide(Event::Recall { by: 1 }, &NONE),
        Err(Refusal::Flow(_))
    ));
    // 一.6: a second 提交 hears that it was sent, whatever else is wrong.
    let mut f = Fixture::new("xinjiang-2023.toml", false).moved(&[SUBMIT_0]);
    f.committed = false;
    assert!(matches!(
        f.decide(SUBMIT_0, &NONE),
        Err(Refusal::Flow(m)) if m.contains("推荐单位")
    ));
}

/// 退回 needs 修改意见; the applicant is told them.
#[test]
fn a_return_needs_its_comment() {
    let f = Fixture::new("xinjiang-2023.toml", false).moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    let back = Event::Return { by: 1, to: 0 };
    assert_eq!(
        problems(f.decide(back, &said("  "))),
        [(
            "comment_required",
            Place::Input("comment"),
            "退回时请填写修改意见".to_owned()
        )]
    );
    let o = f.decide(back, &said(" 请补充主要事迹 ")).unwrap();
    assert_eq!(o.note, said("请补充主要事迹"));
    let a = o.announcement.unwrap();
    assert_eq!((a.level, a.kind), (0, "return"));
    assert!(a.text.contains("修改意见：请补充主要事迹"), "{}", a.text);
}

/// A unit's 提交 that lacks both its opinion and its scans names both, the scans first
/// (as they were checked before); a full quota is named with them.
#[test]
fn a_units_refusal_names_every_kind() {
    let mut f = Fixture::new("xinjiang-2023.toml", false).moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    f.materials.remove("recommendation_report");
    f.recommender.as_mut().unwrap().2 = 3;
    let got = problems(f.decide(Event::Submit { by: 1 }, &NONE));
    assert_eq!(
        got.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(),
        [
            ("materials_missing", Place::Input("materials")),
            ("comment_required", Place::Input("comment")),
            ("quota_full", Place::Blocker),
        ]
    );
    assert!(got[0].2.starts_with("材料不全，未提交："), "{}", got[0].2);
    assert_eq!(got[1].2, "提交前请填写推荐单位意见");
}

/// The quota, table by table: (campaign, category strictness, forwarded, granted) →
/// refused as full or not. 新疆: 3 a unit, strict; 东莞 五（一）: “原则上” 2, and the
/// organiser's granted places count only there.
#[test]
fn quotas_with_their_exceptions() {
    let rows: [(&str, i64, u32, bool); 6] = [
        ("xinjiang-2023.toml", 2, 0, false),
        ("xinjiang-2023.toml", 3, 0, true),
        ("xinjiang-2023.toml", 3, 1, true),
        ("dongguan-2023.toml", 1, 0, false),
        ("dongguan-2023.toml", 2, 0, true),
        ("dongguan-2023.toml", 2, 1, false),
    ];
    for (file, used, granted, full) in rows {
        let mut f = Fixture::new(file, false);
        let level = f.chain.level_of(Role::Recommender).unwrap();
        let mut path = vec![SUBMIT_0];
        for by in 1..=level {
            if by < level {
                path.extend([Event::Open { by }, Event::Submit { by }]);
            } else {
                path.push(Event::Open { by });
            }
        }
        f = f.moved(&path);
        let entry = f.recommender.as_mut().unwrap();
        entry.2 = used;
        entry.3 = granted;
        let got = f.decide(Event::Submit { by: level }, &said("同意推荐"));
        match got {
            Err(Refusal::QuotaFull(m)) => {
                assert!(full, "{file} {used}+{granted}: {m}");
                let max = used.to_string();
                assert_eq!(m, format!("本单位推荐名额已满（{used}/{max}），不能再提交"));
            }
            Ok(o) => {
                assert!(!full, "{file} {used}+{granted} should be full");
                assert!(o.quota_max.is_some(), "the write holds the quota again");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

/// Deadlines with extensions (广西 六（一）: the recommender's 3月26日 binds the
/// applicant too); once passed, only that is said.
#[test]
fn deadlines_with_extensions() {
    let late = 1_711_500_000; // 2024-03-27 08:40 Beijing
    let mut f = Fixture::new("guangxi-2024.toml", false);
    f.now = late;
    f.committed = false;
    assert_eq!(
        f.decide(SUBMIT_0, &NONE),
        Err(Refusal::DeadlinePassed(
            "推荐单位提交截止时间为2024年3月26日 24:00，已截止，不能再提交；如需延期请联系自治区活动办公室"
                .to_owned()
        ))
    );
    let until = late + 86_400;
    // Another unit's channel does not help.
    f.extensions = vec![Extension {
        level_key: "recommender".to_owned(),
        unit_id: Some(8),
        until,
    }];
    assert!(matches!(
        f.decide(SUBMIT_0, &NONE),
        Err(Refusal::DeadlinePassed(_))
    ));
    // Its own channel, or everyone's, does.
    for unit in [Some(7), None] {
        f.extensions[0].unit_id = unit;
        assert!(
            codes(f.decide(SUBMIT_0, &NONE)).contains(&"commitment_missing"),
            "{unit:?}"
        );
    }
    // A recall is not a 提交: no deadline.
    let f = Fixture {
        now: late,
        ..Fixture::new("guangxi-2024.toml", false)
    }
    .moved(&[Event::Submit { by: 0 }]);
    assert!(f.decide(Event::Recall { by: 0 }, &NONE).is_ok());
}

/// 东莞 填表说明10: where the applicant names an actual employer, the work unit's 提交
/// needs its name and opinion; the recommender's co-signature fields are dropped.
#[test]
fn dongguan_co_signature() {
    let mut f = Fixture::new("dongguan-2023.toml", false).moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    f.form.insert(
        FieldKey::ActualEmployer,
        FieldValue::Text("东莞某科技公司".to_owned()),
    );
    let submit = Event::Submit { by: 1 };
    let rows: [(&str, &str, &str); 3] = [
        ("", "", "co_signer"),
        ("东莞某科技公司", "", "co_opinion"),
        ("", "情况属实", "co_signer"),
    ];
    for (signer, opinion, place) in rows {
        let note = Note {
            comment: "同意推荐。".to_owned(),
            co_signer: signer.to_owned(),
            co_opinion: opinion.to_owned(),
        };
        let got = problems(f.decide(submit, &note));
        assert_eq!(
            (got[0].0, got[0].1),
            ("co_signature", Place::Input(place)),
            "{signer}/{opinion}"
        );
    }
    let note = Note {
        comment: "同意推荐。".to_owned(),
        co_signer: " 东莞某科技公司 ".to_owned(),
        co_opinion: "情况属实，同意推荐。".to_owned(),
    };
    let o = f.decide(submit, &note).unwrap();
    assert_eq!(o.note.co_signer, "东莞某科技公司");
    assert_eq!(o.state_text, "所在单位提交到推荐单位");
    // The recommender does not co-sign: what it sends is not kept.
    let f = f.moved(&[submit, Event::Open { by: 2 }]);
    let o = f.decide(Event::Submit { by: 2 }, &note).unwrap();
    assert_eq!(o.note, said("同意推荐。"));
}

/// 东莞 五（一）: “公示满5个工作日，公示无异议后加盖推荐单位公章方可上报” — the recommender's
/// 提交 waits for its 公示 and carries the record up in its opinion; the work unit's does not.
#[test]
fn a_unit_publicity_holds_the_recommenders_submission() {
    use crate::publicity::{Period, unit::Record};
    let mut f = Fixture::new("dongguan-2023.toml", false).moved(&[
        SUBMIT_0,
        Event::Submit { by: 1 },
        Event::Open { by: 2 },
    ]);
    let period = Period {
        published: time::macros::date!(2023 - 10 - 09),
        first: time::macros::date!(2023 - 10 - 10),
        last: time::macros::date!(2023 - 10 - 16),
        working_days: 5,
    };
    f.now = period.ends_at() - 60;
    f.unit_publicity = Some(Record {
        period,
        objections: 0,
        open: 0,
        upheld: 0,
        rejected: 0,
    });
    let submit = Event::Submit { by: 2 };
    assert_eq!(
        problems(f.decide(submit, &said("同意推荐。"))),
        [(
            "publicity_pending",
            Place::Blocker,
            "该候选人的公示期为2023年10月10日至2023年10月16日（5 个工作日），至2023年10月16日 24:00 止；按通知须公示期满、无异议后方可上报".to_owned()
        )]
    );
    f.now = period.ends_at();
    let o = f.decide(submit, &said("同意推荐。")).unwrap();
    assert_eq!(
        o.note.comment,
        "同意推荐。\n公示情况：2023年10月10日至2023年10月16日（5 个工作日）在推荐单位公示，无异议"
    );
    // Without a 公示 held here, nothing is added and nothing held.
    f.unit_publicity = None;
    assert_eq!(
        f.decide(submit, &said("同意推荐。")).unwrap().note,
        said("同意推荐。")
    );
}

/// 广西 六（一）2: when the work unit is itself the recommender its level is left out,
/// and its stamped opinion falls to the recommender's 提交.
#[test]
fn guangxi_merged_chain() {
    let mut f = Fixture::new("guangxi-2024.toml", true);
    assert_eq!(f.chain.levels.len(), 3);
    f.materials.remove("work_unit_opinion_scan");
    let f = f.moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    let got = problems(f.decide(Event::Submit { by: 1 }, &said("同意推荐")));
    assert_eq!(got.len(), 1);
    assert!(
        got[0].2.contains("所在单位意见（盖章扫描件）"),
        "{}",
        got[0].2
    );
    // Unmerged, the work unit attaches it and the recommender is not asked.
    let mut f = Fixture::new("guangxi-2024.toml", false);
    f.materials.remove("work_unit_opinion_scan");
    let f = f.moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    assert_eq!(
        codes(f.decide(Event::Submit { by: 1 }, &said("同意推荐"))),
        ["materials_missing"]
    );
}

/// 办理 is only possible once, by the holder.
#[test]
fn opening() {
    let f = Fixture::new("xinjiang-2023.toml", false).moved(&[SUBMIT_0]);
    let o = f.decide(Event::Open { by: 1 }, &NONE).unwrap();
    assert_eq!(o.announcement, None);
    assert!(matches!(
        f.decide(Event::Open { by: 2 }, &NONE),
        Err(Refusal::Flow(_))
    ));
}

/// The office returns to the recommending unit with its 修改意见, and writes no opinion
/// of its own; the unit is told.
#[test]
fn the_office_returns_to_the_unit() {
    let f = Fixture::new("xinjiang-2023.toml", false).moved(&[
        SUBMIT_0,
        Event::Open { by: 1 },
        Event::Submit { by: 1 },
        Event::Open { by: 2 },
    ]);
    let o = f
        .decide(Event::Return { by: 2, to: 1 }, &said("请补充推荐报告"))
        .unwrap();
    assert_eq!(o.state_text, "自治区科协退回到推荐单位");
    assert_eq!(
        o.announcement.map(|a| (a.level, a.kind)),
        Some((1, "return"))
    );
    assert!(matches!(
        f.decide(Event::Submit { by: 2 }, &NONE),
        Err(Refusal::Flow(_))
    ));
}

/// Once a selection stage holds the candidate, the office may not send it back: the
/// refusal names the stage.
#[test]
fn no_return_while_a_stage_holds_the_candidate() {
    let mut f = Fixture::new("xinjiang-2023.toml", false).moved(&[
        SUBMIT_0,
        Event::Open { by: 1 },
        Event::Submit { by: 1 },
        Event::Open { by: 2 },
    ]);
    f.in_selection = Some("已进入评选阶段“网上评选”");
    match f.decide(Event::Return { by: 2, to: 1 }, &said("请补充推荐报告")) {
        Err(Refusal::Flow(m)) => assert!(m.contains("已进入评选阶段“网上评选”，不能退回"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Nor may the unit take back what the office has not opened yet.
    let mut f = Fixture::new("xinjiang-2023.toml", false).moved(&[
        SUBMIT_0,
        Event::Open { by: 1 },
        Event::Submit { by: 1 },
    ]);
    assert!(f.decide(Event::Recall { by: 1 }, &NONE).is_ok());
    f.in_selection = Some("已进入评选阶段“形式审查”");
    match f.decide(Event::Recall { by: 1 }, &NONE) {
        Err(Refusal::Flow(m)) => assert!(m.contains("已进入评选阶段“形式审查”，不能收回"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// File moves, table by table: who may attach or remove which material when, and
/// what a new upload must fit (东莞: 照片 3～5 张, the ID photo one).
#[test]
fn file_moves() {
    let f = Fixture::new("dongguan-2023.toml", false);
    let begin = |material, size| FileMove::Begin {
        material,
        size,
        ceiling: 1 << 30,
        sender: "",
    };
    let decide = |f: &Fixture, level, mv| {
        let recommender = f.recommender.as_ref().map(|(id, _, _, _)| Recommender {
            unit_id: *id,
            category: None,
            forwarded: 0,
            granted: 0,
        });
        let case = Case {
            campaign: &f.campaign,
            chain: &f.chain,
            state: &f.state,
            number: "DG1",
            form: &f.form,
            committed: true,
            recommender,
            recommender_level: 2,
            register: None,
            materials: &f.materials,
            extensions: &f.extensions,
            now: f.now,
            in_selection: None,
            unit_publicity: None,
        };
        decide_file(&case, level, mv).map(|m| m.key.clone())
    };
    // The applicant's own photos while the form is theirs; a material they do not have.
    let full = f.materials["photos"];
    assert_eq!(full, 3);
    assert_eq!(
        decide(&f, 0, begin("photos", 1000)),
        Ok("photos".to_owned())
    );
    assert_eq!(
        decide(&f, 0, begin("nothing", 1000)),
        Err(FileRefusal::UnknownMaterial("nothing".to_owned()))
    );
    assert_eq!(
        decide(&f, 0, begin("photos", 0)).unwrap_err().message(),
        "文件是空的"
    );
    assert!(matches!(
        decide(&f, 0, begin("photos", 2 << 30)),
        Err(FileRefusal::Size {
            code: "too_large",
            ..
        })
    ));
    let mut five = Fixture::new("dongguan-2023.toml", false);
    five.materials.insert("photos".to_owned(), 5);
    assert!(matches!(
        decide(&five, 0, begin("photos", 1000)),
        Err(FileRefusal::Full { material, message }) if material == "photos" && message.ends_with("请先删除不需要的文件")
    ));
    // Removing needs no room.
    assert!(decide(&five, 0, FileMove::Remove { material: "photos" }).is_ok());
    // Once submitted the applicant's files are fixed; the holding unit attaches its own,
    // not the applicant's.
    let f = f.moved(&[SUBMIT_0, Event::Open { by: 1 }]);
    assert_eq!(
        decide(&f, 0, FileMove::Remove { material: "photos" }),
        Err(FileRefusal::NotHolding)
    );
    assert_eq!(
        decide(&f, 1, FileMove::Complete { material: "photos" }),
        Err(FileRefusal::NotYours)
    );
    assert_eq!(
        decide(&f, 2, begin("inspection_opinion", 1000)),
        Err(FileRefusal::NotHolding),
        "the recommender before it holds the application"
    );
    // 市直相关部门意见: the office attaches them once it holds the candidate, each with
    // who sent it; no unit may.
    let f = f.moved(&[Event::Submit { by: 1 }, Event::Submit { by: 2 }]);
    let office = f.chain.top();
    let from = |sender| FileMove::Begin {
        material: "department_opinions",
        size: 1000,
        ceiling: 1 << 30,
        sender,
    };
    assert_eq!(
        decide(&f, office, from("东莞市公安局")),
        Ok("department_opinions".to_owned())
    );
    assert_eq!(
        decide(&f, office, from("  ")).unwrap_err().message(),
        "请填写来文单位"
    );
    let long = "局".repeat(101);
    assert_eq!(
        decide(&f, office, from(&long)).unwrap_err().message(),
        "来文单位不超过 100 字，现有 101 字"
    );
    assert_eq!(
        decide(&f, 2, from("东莞市公安局")),
        Err(FileRefusal::NotHolding)
    );
    let back = f.moved(&[Event::Return { by: office, to: 2 }]);
    assert_eq!(
        decide(&back, 2, from("东莞市公安局")),
        Err(FileRefusal::NotYours),
        "the recommender holds it again, but the opinions are the office's"
    );
    // Materials that do not ask take no sender.
    assert_eq!(
        decide(&back, 2, begin("inspection_opinion", 1000)),
        Ok("inspection_opinion".to_owned())
    );
}
