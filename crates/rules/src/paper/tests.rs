use time::macros::{date, datetime};

use super::*;
use crate::campaign::SEEDS;

fn paper(id: &str) -> Paper {
    let (_, text) = SEEDS.iter().find(|(f, _)| f.starts_with(id)).unwrap();
    crate::campaign::load(text).campaign.unwrap().paper.unwrap()
}

fn received(item: usize, on: Date, postmark: Option<Date>) -> Mark {
    Mark {
        item,
        received: true,
        received_on: on,
        postmark_on: postmark,
    }
}

#[test]
fn dongguan_counts_by_postmark_and_voids_late_paper() {
    let p = paper("dongguan");
    assert_eq!(p.items.len(), 5);
    let before = datetime!(2023-11-01 10:00 +08:00).unix_timestamp();
    // The deadline and the post's days after it.
    let after = datetime!(2023-11-14 00:00 +08:00).unix_timestamp();
    let in_the_post = datetime!(2023-11-06 00:00 +08:00).unix_timestamp();
    assert_eq!(judge(&p, &[], in_the_post).verdict, Verdict::Waiting);
    // Nothing yet, before the deadline: waiting, with the date.
    let f = judge(&p, &[], before);
    assert_eq!(f.verdict, Verdict::Waiting);
    assert_eq!(f.text, "尚缺 5 项，截止 2023年11月3日（以当地邮戳为准）");
    // Postmarked on the 3rd, arrived on the 6th: in time.
    let all: Vec<Mark> = (0..5)
        .map(|i| received(i, date!(2023 - 11 - 06), Some(date!(2023 - 11 - 03))))
        .collect();
    assert_eq!(judge(&p, &all, after).verdict, Verdict::Complete);
    // One postmarked on the 4th: late, and by the notice invalid.
    let mut late = all.clone();
    late[2] = received(2, date!(2023 - 11 - 07), Some(date!(2023 - 11 - 04)));
    let f = judge(&p, &late, after);
    assert_eq!(f.verdict, Verdict::Late);
    assert_eq!(
        f.text,
        "1 项逾期报送（截止 2023年11月3日（以当地邮戳为准）），按通知该候选人报送材料无效"
    );
    // Late and missing: both said.
    let f = judge(&p, &late[..3], after);
    assert!(f.text.starts_with("1 项逾期报送，另缺 2 项"), "{}", f.text);
    // Two missing after the deadline: incomplete, invalid.
    let f = judge(&p, &all[..3], after);
    assert_eq!(f.verdict, Verdict::Incomplete);
    assert_eq!(f.outstanding, p.items[3..].to_vec());
    assert!(
        f.text
            .contains("仍缺 2 项，材料不完整，按通知该候选人报送材料无效")
    );
    // A marking taken back counts as missing again.
    let mut back = all.clone();
    back.push(Mark {
        received: false,
        ..all[0]
    });
    assert_eq!(
        judge(&p, &back, before).outstanding,
        vec![p.items[0].clone()]
    );
}

#[test]
fn guangxi_has_no_deadline_and_is_due_after_the_shortlist() {
    let p = paper("guangxi");
    assert!(!due_now(&p, false));
    assert!(due_now(&p, true));
    assert!(due_now(&paper("dongguan"), false));
    let f = judge(&p, &[received(0, date!(2024 - 06 - 01), None)], 0);
    assert_eq!(f.verdict, Verdict::Waiting);
    assert_eq!(f.text, "尚缺 2 项");
}

#[test]
fn a_parcel_after_the_deadline_needs_its_postmark() {
    let p = paper("dongguan");
    let today = date!(2023 - 11 - 20);
    let r = decide_mark(
        &p,
        "张三",
        true,
        &received(0, date!(2023 - 11 - 06), None),
        today,
    )
    .unwrap_err();
    assert_eq!((r.code, r.field), ("postmark_required", "postmark_on"));
    // Handed in by the deadline: no postmark needed; taken back: none either.
    assert!(
        decide_mark(
            &p,
            "张三",
            true,
            &received(0, date!(2023 - 11 - 03), None),
            today
        )
        .is_ok()
    );
    let back = Mark {
        received: false,
        ..received(0, today, None)
    };
    assert!(decide_mark(&p, "张三", true, &back, today).is_ok());
}

#[test]
fn markings_are_checked() {
    let p = paper("guangxi");
    let today = date!(2024 - 06 - 10);
    let ok = |due, item, on, postmark| {
        decide_mark(&p, "张三", due, &received(item, on, postmark), today)
    };
    assert_eq!(ok(true, 0, today, Some(date!(2024 - 06 - 08))), Ok(()));
    let r = ok(false, 0, today, None).unwrap_err();
    assert_eq!(
        (r.code, r.message.as_str()),
        ("paper_not_due", "张三不在拟入选名单中，无需报送纸质材料")
    );
    assert_eq!(ok(true, 3, today, None).unwrap_err().field, "item");
    assert_eq!(
        ok(true, 0, date!(2024 - 06 - 11), None)
            .unwrap_err()
            .message,
        "收到日期2024年6月11日晚于今天（2024年6月10日）"
    );
    assert_eq!(
        ok(true, 0, date!(2024 - 06 - 09), Some(today))
            .unwrap_err()
            .field,
        "postmark_on"
    );
}
