//! The 推荐表 rendered for real and read back with poppler (`pdftotext`, `pdftoppm`): the
//! Chinese text in reading order with the watermark kept out of it, and the page count; the
//! first two pages are kept as images in test-output/pdf/ to look at. A winner's
//! certificate the same way, its QR code read back from the page's image with `zbarimg`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use pingxuan_export::testing::{dongguan, wang};
use pingxuan_pdf::PdfEngine;
use pingxuan_pdf::form::{FormPrint, render};
use pingxuan_rules::release::certificate;

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

#[test]
fn a_certificate_reads_back_with_its_serial_and_check_link() {
    let Some(engine) = engine() else { return };
    let c = certificate(
        "2024年广西“最美科技工作者”",
        "欧阳娜娜",
        &[
            "广西壮族自治区科学技术协会".to_owned(),
            "中共广西壮族自治区委员会宣传部".to_owned(),
        ],
        time::macros::date!(2024 - 06 - 18),
        "ZMKJ2024-003",
    );
    let url = "http://127.0.0.1:8080/zs/ZMKJ2024-003/0123456789abcdef";
    let pdf = pingxuan_pdf::certificate::render(&engine, &c, url).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/pdf");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("certificate.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils)");
    let flat: String = String::from_utf8(text.stdout)
        .unwrap()
        .split_whitespace()
        .collect();
    for expected in [
        "荣誉证书",
        "欧阳娜娜同志：",
        "荣获2024年广西“最美科技工作者”称号。",
        "特发此证，以资鼓励。",
        "证书编号：ZMKJ2024-003",
        "广西壮族自治区科学技术协会",
        "二〇二四年六月十八日",
    ] {
        // Letter-spacing may split the heading's characters: compare without spaces.
        assert!(flat.contains(expected), "{expected} not in {flat}");
    }
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(info.contains("Pages:           1"), "{info}");
    assert!(info.contains("841.89 x 595.276"), "landscape A4: {info}");
    let png = dir.join("certificate");
    let made = Command::new("pdftoppm")
        .args(["-r", "110", "-png", "-singlefile"])
        .arg(&path)
        .arg(&png)
        .status()
        .unwrap();
    assert!(made.success());
    // The QR code leads to the check page.
    let read = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(dir.join("certificate.png"))
        .output()
        .expect("zbarimg (apt-get install zbar-tools)");
    assert_eq!(String::from_utf8(read.stdout).unwrap().trim(), url);
}
