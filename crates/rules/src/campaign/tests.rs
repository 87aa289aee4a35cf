use super::*;
use crate::Role;

fn seed(name: &str) -> Campaign {
    let (_, src) = SEEDS.iter().find(|(n, _)| *n == name).unwrap();
    let report = load(src);
    let errors: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    report.campaign.unwrap()
}

fn warnings(name: &str) -> Vec<Problem> {
    let (_, src) = SEEDS.iter().find(|(n, _)| *n == name).unwrap();
    load(src).warnings().cloned().collect()
}

fn stage_sizes(c: &Campaign) -> Vec<Option<u32>> {
    c.stages.iter().map(|s| s.advance).collect()
}

#[test]
fn guangxi_2024() {
    let c = seed("guangxi-2024.toml");
    assert_eq!(c.campaign.winners, 10);
    assert_eq!(c.campaign.organizers.len(), 6);
    assert_eq!(c.entry.mode, EntryMode::RecommendationCode);
    let chain: Vec<Role> = c.levels.iter().map(|l| l.role).collect();
    assert_eq!(
        chain,
        [
            Role::Applicant,
            Role::WorkUnit,
            Role::Recommender,
            Role::Organizer
        ]
    );
    assert!(c.levels[1].merge_with_next_when_same_unit);
    let deadline = deadline_instant(c.levels[2].deadline.as_ref().unwrap()).unwrap();
    assert_eq!(deadline.to_string(), "2024-03-26 23:59:59.0 +08:00:00");
    let quotas: Vec<(Option<u32>, Option<u32>)> = c
        .recommender_categories
        .iter()
        .map(|r| (r.quota_min, r.quota_max))
        .collect();
    assert_eq!(
        quotas,
        [(Some(2), Some(3)), (Some(1), Some(2)), (Some(1), Some(2))]
    );
    assert_eq!(c.recommender_categories[0].group.as_deref(), Some("地市"));
    let photos = c.materials.iter().find(|m| m.key == "photos").unwrap();
    assert_eq!((photos.min_count, photos.max_count), (Some(2), Some(3)));
    assert_eq!(
        parse_size(photos.min_size.as_deref().unwrap()),
        Some(2 << 20)
    );
    let deeds = c
        .form
        .fields
        .iter()
        .find(|f| f.key == FieldKey::Deeds)
        .unwrap();
    assert_eq!((deeds.about_chars, deeds.max_chars), (Some(1500), None));
    let stories = c
        .form
        .fields
        .iter()
        .find(|f| f.key == FieldKey::Stories)
        .unwrap();
    assert_eq!(
        (stories.max_items, stories.max_chars),
        (Some(2), Some(1000))
    );
    assert_eq!(stage_sizes(&c), [Some(10)]);
    assert_eq!(c.publicity.unit_working_days, Some(5));
    assert_eq!(c.paper.as_ref().unwrap().when, PaperWhen::AfterShortlist);
    assert_eq!(c.eligibility.exclusions.len(), 5);
    assert_eq!(
        c.eligibility.prior_titles[0].strictness,
        Strictness::InPrinciple
    );
    // What the notice leaves open is flagged for the organiser.
    let w: Vec<String> = warnings("guangxi-2024.toml")
        .iter()
        .map(|p| p.key.clone())
        .collect();
    assert!(
        w.contains(&"publicity.final_working_days".to_owned()),
        "{w:?}"
    );
    assert!(w.contains(&"final.young_max_age".to_owned()), "{w:?}");
}

#[test]
fn dongguan_2023() {
    let c = seed("dongguan-2023.toml");
    assert_eq!(c.award(), "第二届东莞“最美科技工作者”");
    assert_eq!(
        seed("guangxi-2024.toml").award(),
        "2024年广西“最美科技工作者”"
    );
    assert_eq!(c.campaign.winners, 20);
    assert_eq!(stage_sizes(&c), [Some(40), Some(30), Some(20)]);
    let vote = &c.stages[1];
    assert_eq!(vote.kind, StageKind::Vote);
    let groups: Vec<(&str, Role, Option<f64>)> = vote
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.role, g.weight))
        .collect();
    assert_eq!(
        groups,
        [
            ("公众组", Role::Voter, None),
            ("专业组", Role::Expert, None)
        ]
    );
    assert_eq!(c.stages[2].criteria, ["思想品质", "精神风貌", "工作实绩"]);
    assert!(
        c.recommender_categories
            .iter()
            .all(|r| r.quota_max == Some(2) && r.quota_strictness == Strictness::InPrinciple)
    );
    assert!(c.levels[1].employer_also_signs);
    let photos = c.materials.iter().find(|m| m.key == "photos").unwrap();
    assert_eq!((photos.min_count, photos.max_count), (Some(3), Some(5)));
    let video = c
        .materials
        .iter()
        .find(|m| m.kind == MaterialKind::Video)
        .unwrap();
    assert_eq!(video.max_duration_secs, Some(180));
    assert_eq!(
        video
            .resolutions
            .iter()
            .map(|r| parse_resolution(r).unwrap())
            .collect::<Vec<_>>(),
        [(1920, 1080), (1080, 1920)]
    );
    let summary = c
        .form
        .fields
        .iter()
        .find(|f| f.key == FieldKey::Summary)
        .unwrap();
    assert_eq!(summary.max_chars, Some(150));
    let deeds = c
        .form
        .fields
        .iter()
        .find(|f| f.key == FieldKey::Deeds)
        .unwrap();
    assert_eq!(deeds.about_chars, Some(2000));
    let paper = c.paper.as_ref().unwrap();
    assert_eq!(paper.when, PaperWhen::WithNomination);
    assert!(paper.postmark_counts && paper.word_and_pdf);
    let earlier = c
        .eligibility
        .prior_titles
        .iter()
        .find(|r| r.register)
        .unwrap();
    assert_eq!(earlier.strictness, Strictness::Strict);
    assert_eq!(c.eligibility.nationality.as_deref(), Some("中国"));
    // 初选's 市直相关部门意见: the office's files, each with who sent it; no unit owes them.
    let opinions = c
        .materials
        .iter()
        .find(|m| m.key == "department_opinions")
        .unwrap();
    assert_eq!(
        (
            opinions.level.as_str(),
            opinions.sender.as_deref(),
            opinions.required
        ),
        ("office", Some("来文单位"), false)
    );
    let src = SEEDS
        .iter()
        .find(|(n, _)| *n == "dongguan-2023.toml")
        .unwrap()
        .1;
    let blank = load(&src.replacen("sender = \"来文单位\"", "sender = \" \"", 1));
    let keys: Vec<&str> = blank.errors().map(|p| p.key.as_str()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with(".sender"), "{keys:?}");
    // Vote weights are not in the notice: warned, not invented.
    let w = warnings("dongguan-2023.toml");
    assert_eq!(
        w.iter().filter(|p| p.key.ends_with(".weight")).count(),
        2,
        "{w:#?}"
    );
}

#[test]
fn xinjiang_2023() {
    let c = seed("xinjiang-2023.toml");
    assert_eq!(c.campaign.winners, 20);
    assert_eq!(c.entry.mode, EntryMode::Open);
    let chain: Vec<&str> = c.levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(chain, ["申报人", "推荐单位", "自治区科协"]);
    assert!(
        c.recommender_categories
            .iter()
            .all(|r| r.quota_max == Some(3))
    );
    assert_eq!(c.stages[0].per_unit_max, Some(3));
    assert_eq!(stage_sizes(&c), [None, None, Some(20)]);
    let fl = &c.final_list;
    assert_eq!(fl.young_max_age, Some(45));
    let shares: Vec<(ConstraintKind, Indicator, f64)> = fl
        .constraints
        .iter()
        .map(|x| (x.kind, x.indicator, x.share))
        .collect();
    assert_eq!(
        shares,
        [
            (ConstraintKind::MaxShare, Indicator::Academician, 0.10),
            (ConstraintKind::MinShare, Indicator::Young, 0.20)
        ]
    );
    assert_eq!(fl.extra_lists[0].size, 10);
    // The notice is silent: from the 20, under the same shares.
    assert!(fl.extra_lists[0].from_final && fl.extra_lists[0].same_shares);
    assert!(
        c.form
            .fields
            .iter()
            .any(|f| f.key == FieldKey::Academician && f.required)
    );
    let supplements: Vec<Option<FieldKey>> = c
        .materials
        .iter()
        .filter(|m| m.kind == MaterialKind::Supplement)
        .map(|m| m.attached_to)
        .collect();
    assert_eq!(
        supplements,
        [Some(FieldKey::Deeds), Some(FieldKey::Stories)]
    );
    assert!(c.paper.is_none());
    let w: Vec<String> = warnings("xinjiang-2023.toml")
        .iter()
        .map(|p| p.key.clone())
        .collect();
    assert!(w.contains(&"final.age_reference_date".to_owned()), "{w:?}");
    assert!(
        w.contains(&"publicity.unit_working_days".to_owned()),
        "{w:?}"
    );
    assert!(w.contains(&"levels".to_owned()), "no deadlines: {w:?}");
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let (_, src) = SEEDS[0];
    let broken = src
        .replacen(
            "quota_min = 2\nquota_max = 3",
            "quota_min = 4\nquota_max = 3",
            1,
        )
        .replacen("kind = \"review\"", "kind = \"lottery\"", 1)
        .replacen(
            "role = \"work_unit\"",
            "role = \"work_unit\"\ndeadlin = 1",
            1,
        )
        .replacen("min_size = \"2MB\"", "min_size = \"two megabytes\"", 1);
    let report = load(&broken);
    assert!(report.campaign.is_none());
    let errors: Vec<&Problem> = report.errors().collect();
    let line_of = |needle: &str| broken.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let find = |key: &str| {
        errors
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no error at {key}: {errors:#?}"))
    };
    let e = find("levels[1]");
    assert_eq!(e.line, Some(line_of("deadlin = 1")));
    assert!(e.message.contains("不认识的键 `deadlin`"), "{}", e.message);
    let e = find("stages[0]");
    assert_eq!(e.line, Some(line_of("\"lottery\"")));
    assert!(e.message.contains("`lottery`"), "{}", e.message);
    // Sections that failed to decode hide later semantic checks, but decoding errors in
    // different sections are all reported at once.
    assert_eq!(errors.len(), 2, "{errors:#?}");

    // Once those are fixed the semantic problems appear, each on its own line.
    let fixed = broken
        .replacen("\ndeadlin = 1", "", 1)
        .replacen("\"lottery\"", "\"review\"", 1);
    let report = load(&fixed);
    let errors: Vec<&Problem> = report.errors().collect();
    let keys: Vec<&str> = errors.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "recommender_categories[0].quota_min",
            "materials[1].min_size"
        ],
        "{errors:#?}"
    );
    let line_of = |needle: &str| fixed.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert_eq!(errors[0].line, Some(line_of("quota_min = 4")));
    assert!(errors[0].message.contains("名额下限 4 大于上限 3"));
    assert_eq!(errors[1].line, Some(line_of("two megabytes")));
    assert!(
        errors[1].to_string().starts_with("错误 第"),
        "{}",
        errors[1]
    );
}

#[test]
fn syntax_and_missing_sections() {
    let report = load("[campaign]\nid = \"x\"\nname = \n");
    assert!(report.campaign.is_none());
    let e = report.errors().next().unwrap();
    assert_eq!(e.line, Some(3));
    assert!(e.message.starts_with("TOML 语法错误"));

    let report = load("[campaign]\nid = \"x\"\n[surprise]\n");
    let msgs: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("不认识的部分 `surprise`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("缺少必填的键 `name`")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("缺少 [form] 部分")),
        "{msgs:#?}"
    );
}

#[test]
fn chain_rules() {
    let (_, src) = SEEDS[2];
    // The organiser's level moved before the recommender: both ends are wrong.
    let broken = src.replacen("role = \"organizer\"", "role = \"expert\"", 1);
    let report = load(&broken);
    let msgs: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("最后一级必须是活动办公室")),
        "{msgs:#?}"
    );
}
