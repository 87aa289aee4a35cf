//! A score sheet's checks: points within each criterion's full marks, every criterion
//! filled at 提交 (a draft may leave boxes empty), and who may open which candidate.

use crate::campaign::Stage;

/// A problem with one box, or with the sheet (`criterion` None).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub criterion: Option<usize>,
    pub message: String,
}

/// Reads what was typed into each criterion's box: empty is `None`; anything else must
/// be a whole number of points.
pub fn read(stage: &Stage, typed: &[String]) -> Result<Vec<Option<u32>>, Vec<Problem>> {
    let mut out = Vec::with_capacity(stage.criteria.len());
    let mut problems = Vec::new();
    for (i, name) in stage.criteria.iter().enumerate() {
        let t = typed.get(i).map(|s| s.trim()).unwrap_or("");
        if t.is_empty() {
            out.push(None);
            continue;
        }
        match t.parse::<u32>() {
            Ok(p) => out.push(Some(p)),
            Err(_) => {
                out.push(None);
                problems.push(Problem {
                    criterion: Some(i),
                    message: format!("“{name}”须填写整数分，填写了“{t}”"),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Checks points against full marks; at 提交 every criterion must be filled. Every
/// problem at once, in the criteria's order.
pub fn check(stage: &Stage, points: &[Option<u32>], submit: bool) -> Result<(), Vec<Problem>> {
    let Some(max) = stage.points() else {
        return Err(vec![Problem {
            criterion: None,
            message: format!("“{}”的各项满分尚未设定，暂不能评分", stage.name),
        }]);
    };
    let mut problems = Vec::new();
    for (i, (name, max)) in stage.criteria.iter().zip(&max).enumerate() {
        match points.get(i).copied().flatten() {
            Some(p) if p > *max => problems.push(Problem {
                criterion: Some(i),
                message: format!("{name}满分 {max}，填写了 {p}"),
            }),
            Some(_) => {}
            None if submit => problems.push(Problem {
                criterion: Some(i),
                message: format!("未填写“{name}”（满分 {max}）"),
            }),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The total of a complete sheet.
pub fn total(points: &[Option<u32>]) -> u32 {
    points.iter().flatten().sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};

    fn stage() -> Stage {
        let (_, text) = SEEDS.iter().find(|(f, _)| f.contains("xinjiang")).unwrap();
        let text = text.replace(
            "name = \"网上评选\"\nkind = \"review\"\n",
            "name = \"网上评选\"\nkind = \"review\"\nmax_points = { \"思想品质\" = 30, \"精神风貌\" = 30, \"工作实绩\" = 40 }\n",
        );
        load(&text).campaign.unwrap().stages[1].clone()
    }

    #[test]
    fn points_over_full_marks_and_empty_boxes_at_submit_are_named() {
        let s = stage();
        assert_eq!(
            check(&s, &[Some(30), Some(20), Some(45)], false).unwrap_err(),
            [Problem {
                criterion: Some(2),
                message: "工作实绩满分 40，填写了 45".into()
            }]
        );
        // A draft may leave boxes empty; 提交 names each of them.
        assert!(check(&s, &[Some(30), None, None], false).is_ok());
        let all = check(&s, &[Some(31), None, Some(40)], true).unwrap_err();
        assert_eq!(
            all.iter().map(|p| p.message.as_str()).collect::<Vec<_>>(),
            ["思想品质满分 30，填写了 31", "未填写“精神风貌”（满分 30）"]
        );
        assert!(check(&s, &[Some(30), Some(30), Some(40)], true).is_ok());
        assert_eq!(total(&[Some(30), Some(30), Some(40)]), 100);
    }

    #[test]
    fn typed_boxes_are_read() {
        let s = stage();
        let typed = ["28".to_owned(), " ".to_owned(), "3.5".to_owned()];
        let p = read(&s, &typed).unwrap_err();
        assert_eq!(p[0].message, "“工作实绩”须填写整数分，填写了“3.5”");
        assert_eq!(
            read(&s, &["28".to_owned(), String::new()]).unwrap(),
            [Some(28), None, None]
        );
    }

    #[test]
    fn no_points_set_means_no_scoring() {
        let (_, text) = SEEDS.iter().find(|(f, _)| f.contains("xinjiang")).unwrap();
        let s = load(text).campaign.unwrap().stages[1].clone();
        assert!(
            check(&s, &[Some(1)], false).unwrap_err()[0]
                .message
                .contains("各项满分尚未设定")
        );
    }
}

/// The office reopens a submitted sheet so its expert can correct it: only while the
/// stage is open, only a submitted sheet, with a reason (the expert reads it).
pub fn decide_reopen(
    phase: super::stage::Phase,
    submitted: bool,
    reason: &str,
) -> Result<String, super::stage::Refusal> {
    use super::stage::{Phase, Refusal};
    let refuse = |code, m: &str| Refusal {
        code,
        problems: vec![m.to_owned()],
    };
    if phase != Phase::Open {
        return Err(refuse("stage_state", "本阶段已结束，评分表不能再退回修改"));
    }
    if !submitted {
        return Err(refuse(
            "not_submitted",
            "这份评分表尚未提交，专家可直接修改",
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(refuse("reason_required", "退回评分表须写明理由"));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod reopen_tests {
    use super::*;
    use crate::selection::stage::Phase;

    #[test]
    fn only_a_submitted_sheet_of_an_open_stage_with_a_reason() {
        assert_eq!(
            decide_reopen(Phase::Open, true, " 分数录错 ").unwrap(),
            "分数录错"
        );
        let code = |r: Result<String, crate::selection::stage::Refusal>| r.unwrap_err().code;
        assert_eq!(code(decide_reopen(Phase::Closed, true, "x")), "stage_state");
        assert_eq!(
            code(decide_reopen(Phase::Open, false, "x")),
            "not_submitted"
        );
        assert_eq!(
            code(decide_reopen(Phase::Open, true, " ")),
            "reason_required"
        );
    }
}
