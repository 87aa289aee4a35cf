//! The 推荐表 rendered for real and read back with poppler (`pdftotext`, `pdftoppm`): the
//! Chinese text in reading order with the watermark kept out of it, and the page count; the
//! first two pages are kept as images in test-output/pdf/ to look at.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use pingxuan_export::testing::{dongguan, wang};
use pingxuan_pdf::PdfEngine;
use pingxuan_pdf::form::{FormPrint, render};

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
    // Reading order, as a person copying the form gets it: pdftotext's default layout
    // analysis, every field after the one before it and nothing of the watermark between.
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8(text.stdout).unwrap();
    let flat: String = text.split_whitespace().collect();
    let mut from = 0;
    for expected in [
        "第二届东莞“最美科技工作者”推荐表",
        "王五",
        "东莞市卫生健康局",
        "东莞市人民医院副院长",
        "中山大学医学院",
        "#[不是标记]$x$",
        "（1）深夜急救。",
        "个人声明",
        "本人签字",
        "同意推荐。",
        "（盖章）",
    ] {
        let at = flat[from..]
            .find(expected)
            .unwrap_or_else(|| panic!("{expected} after byte {from} in {text}"));
        from += at + expected.len();
    }
    // The watermark is drawn, not written: no extractor reads it into the fields.
    assert!(!flat.contains("导出于"), "{text}");
    assert!(!flat.contains("ZMKJ20231·"), "{text}");
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
