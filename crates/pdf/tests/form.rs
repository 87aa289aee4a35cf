//! The 推荐表 rendered for real and read back with poppler (`pdftotext`, `pdftoppm`): the
//! Chinese text, the watermark and the page count; the first two pages are kept as images
//! in test-output/pdf/ to look at.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use pingxuan_pdf::PdfEngine;
use pingxuan_pdf::form::{FormPrint, render};
use pingxuan_rules::campaign::{Campaign, FieldKey, SEEDS, load};
use pingxuan_rules::form::{FieldValue, FormValues};

fn dongguan() -> Campaign {
    let (_, text) = SEEDS.iter().find(|(f, _)| f.contains("dongguan")).unwrap();
    load(text).campaign.unwrap()
}

fn wang() -> FormValues {
    let mut f: FormValues = [
        (FieldKey::Name, "王五"),
        (FieldKey::Sex, "男"),
        (FieldKey::Ethnicity, "汉族"),
        (FieldKey::BirthMonth, "1975年3月"),
        (FieldKey::PoliticalStatus, "中共党员"),
        (FieldKey::EmployerAndPost, "东莞市人民医院副院长"),
        (FieldKey::Title, "主任医师"),
        (FieldKey::Field, "面向人民生命健康"),
        (
            FieldKey::Deeds,
            "扎根临床三十年，#[不是标记] $x$ 救治危重病人三千余例。",
        ),
        (FieldKey::Summary, "长期从事心血管疾病救治。"),
    ]
    .into_iter()
    .map(|(k, v)| (k, FieldValue::Text(v.to_owned())))
    .collect();
    f.insert(
        FieldKey::Resume,
        FieldValue::Rows(vec![
            ("1993.09-1998.07".into(), "中山大学医学院 学生".into()),
            ("1998.07-至今".into(), "东莞市人民医院 医生、副院长".into()),
        ]),
    );
    f.insert(
        FieldKey::Stories,
        FieldValue::List(vec!["深夜急救。".into(), "下乡义诊。".into()]),
    );
    f
}

fn engine() -> Option<PdfEngine> {
    match PdfEngine::with_system_fonts() {
        Ok(e) => Some(e),
        Err(e) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{e}");
            eprintln!("skipping: {e}");
            None
        }
    }
}

#[test]
fn the_form_prints_with_its_watermark_and_reads_back() {
    let Some(engine) = engine() else { return };
    let campaign = dongguan();
    let form = wang();
    let print = FormPrint {
        campaign: &campaign,
        form: &form,
        number: "ZMKJ20231",
        recommender: "东莞市卫生健康局",
        opinions: HashMap::from([("work_unit".to_owned(), "同意推荐。".to_owned())]),
        photo: None,
        verify_url: "http://127.0.0.1:8080/verify/ZMKJ20231/2/abcdef",
        exported_at: "2026-11-26 13:20",
        filled_on: "2026年11月26日",
    };
    let pdf = render(&engine, &print).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/pdf");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("form-dongguan.pdf");
    std::fs::write(&path, &pdf).unwrap();
    // Raw order: the rotated watermark comes out as one run (a character a line).
    let text = Command::new("pdftotext")
        .args(["-raw"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8(text.stdout).unwrap();
    let flat: String = text.split_whitespace().collect();
    for expected in [
        "第二届东莞“最美科技工作者”推荐表",
        "王五",
        "东莞市卫生健康局",
        "东莞市人民医院副院长",
        "#[不是标记]$x$",
        "（1）深夜急救。",
        "中山大学医学院",
        "个人声明",
        "本人签字",
        "同意推荐。",
        "（盖章）",
        "第二届东莞“最美科技工作者”·ZMKJ20231·导出于2026-11-2613:20",
    ] {
        assert!(flat.contains(expected), "{expected} in {text}");
    }
    let pages = Command::new("pdftoppm")
        .args(["-r", "60", "-png", "-f", "1", "-l", "2"])
        .arg(&path)
        .arg(dir.join("form-dongguan"))
        .status()
        .unwrap();
    assert!(pages.success());
}

#[test]
fn a_missing_font_folder_is_named() {
    let err = PdfEngine::new(&[PathBuf::from("/nonexistent")])
        .err()
        .unwrap();
    assert!(err.to_string().contains("fonts-noto-cjk"), "{err}");
}
