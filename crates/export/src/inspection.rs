//! The 考察材料 (东莞 附件3) as a Word document for the recommending unit to complete: the
//! title “XXX同志考察材料” with the candidate's name, a first paragraph with what the 推荐表
//! already says of them, the five sections of 附件3 opened with their leading words and
//! left for the unit to write, the concluding paragraph with the award's name, and the
//! unit's seal line. Set as official documents are (GB/T 9704): A4, 方正小标宋 二号 title,
//! 仿宋_GB2312 三号 text at a fixed 28-point line, first lines indented two characters.

use docx_rs::{
    AlignmentType, Docx, LineSpacing, LineSpacingType, PageMargin, Paragraph, Run, RunFonts,
    SpecialIndentType,
};
use pingxuan_rules::campaign::{Campaign, FieldKey};
use pingxuan_rules::form::FormValues;

use crate::ExportError;
use pingxuan_rules::form::{employer_and_title, printed};

/// The five sections of 附件3, in order, as their paragraphs begin.
pub const SECTIONS: [&str; 5] = [
    "在思想政治方面，",
    "工作情况与创新业绩方面，",
    "作风学风和个人品德方面，",
    "志愿服务和群众工作能力方面，",
    "廉洁自律和有无违法违纪情况的结论性意见，",
];

/// Where the unit writes (as the notice's own template shows it).
pub const TO_WRITE: &str = "……";

/// The paragraphs of the document, as text, in order; the title first.
pub fn paragraphs(campaign: &Campaign, form: &FormValues, recommender: &str) -> Vec<String> {
    let name = match printed(form, FieldKey::Name) {
        n if n.is_empty() => "XXX".to_owned(),
        n => n,
    };
    let birth = printed(form, FieldKey::BirthMonth);
    let profile: Vec<String> = [
        printed(form, FieldKey::Sex),
        printed(form, FieldKey::Ethnicity),
        if birth.is_empty() {
            birth
        } else {
            format!("{birth}生")
        },
        printed(form, FieldKey::PoliticalStatus),
        employer_and_title(form),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    let mut out = vec![format!("{name}同志考察材料")];
    out.push(if profile.is_empty() {
        format!("{name}同志。")
    } else {
        format!("{name}，{}。", profile.join("，"))
    });
    for (i, lead) in SECTIONS.iter().enumerate() {
        // The first names the candidate, as in the notice: “XXX同志在思想政治方面，……”.
        let who = if i == 0 {
            format!("{name}同志")
        } else {
            String::new()
        };
        out.push(format!("{who}{lead}{TO_WRITE}"));
    }
    out.push(format!(
        "{name}同志政治立场坚定，业务能力突出，科研诚信和道德品质、工作作风和社会形象良好，\
         无重大政治问题和个人问题，具备作为{}候选人的条件。",
        campaign.award()
    ));
    out.push(format!("推荐单位（盖章）：{recommender}"));
    out.push("年    月    日".to_owned());
    out
}

// Sizes in half-points, lengths in twentieths of a point.
const TITLE_SIZE: usize = 44; // 二号
const BODY_SIZE: usize = 32; // 三号
const LINE: i32 = 560; // 28 pt

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new()
        .add_text(text)
        .size(size)
        .fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
}

fn exact_line() -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(LINE)
}

/// A line of an official document below its title.
pub(crate) enum Line<'a> {
    /// Flush left (an addressee: “某某：”).
    Flush(&'a str),
    /// A body paragraph in `font`, its first line indented two characters.
    Body(&'a str, &'a str),
    /// An empty line.
    Blank,
    /// At the right (the seal line, the date).
    Right(&'a str),
}

/// An official document as DOCX bytes (GB/T 9704: A4 with its margins, the title in
/// 方正小标宋 二号, the text in 仿宋_GB2312 三号 at a fixed 28-point line).
pub(crate) fn official(title: &str, lines: &[Line<'_>]) -> Result<Vec<u8>, ExportError> {
    let mut doc = Docx::new()
        .page_size(11906, 16838) // A4
        .page_margin(
            PageMargin::new()
                .top(2098) // 37 mm
                .bottom(1984) // 35 mm
                .left(1588) // 28 mm
                .right(1474) // 26 mm
                .header(851)
                .footer(992),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run(title, "方正小标宋简体", TITLE_SIZE))
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(LINE as u32)),
        );
    for line in lines {
        let p = match line {
            Line::Flush(text) => Paragraph::new().add_run(run(text, "仿宋_GB2312", BODY_SIZE)),
            // Two characters: in twips for every reader, in characters for Word.
            Line::Body(text, font) => Paragraph::new()
                .add_run(run(text, font, BODY_SIZE))
                .indent(None, Some(SpecialIndentType::FirstLine(640)), None, None)
                .first_line_chars(200),
            Line::Blank => Paragraph::new(),
            Line::Right(text) => Paragraph::new()
                .add_run(run(text, "仿宋_GB2312", BODY_SIZE))
                .align(AlignmentType::Right),
        };
        doc = doc.add_paragraph(p.line_spacing(exact_line()));
    }
    crate::pack(doc)
}

/// The document as DOCX bytes.
pub fn docx(
    campaign: &Campaign,
    form: &FormValues,
    recommender: &str,
) -> Result<Vec<u8>, ExportError> {
    let texts = paragraphs(campaign, form, recommender);
    let (title, rest) = texts.split_first().expect("a title");
    let (body, seal) = rest.split_at(rest.len() - 2);
    let mut lines: Vec<Line> = body.iter().map(|p| Line::Body(p, "仿宋_GB2312")).collect();
    // A blank line, then the seal line and the date at the right.
    lines.push(Line::Blank);
    lines.extend(seal.iter().map(|p| Line::Right(p)));
    official(title, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dongguan, wang};

    #[test]
    fn the_notice_s_sections_with_the_candidate() {
        let p = paragraphs(&dongguan(), &wang(), "东莞市卫生健康局");
        assert_eq!(p[0], "王五同志考察材料");
        assert_eq!(
            p[1],
            "王五，男，汉族，1975年3月生，中共党员，东莞市人民医院副院长，主任医师。"
        );
        assert_eq!(p[2], "王五同志在思想政治方面，……");
        assert_eq!(p[6], "廉洁自律和有无违法违纪情况的结论性意见，……");
        assert!(
            p[7].ends_with("具备作为第二届东莞“最美科技工作者”候选人的条件。"),
            "{}",
            p[7]
        );
        assert_eq!(p[8], "推荐单位（盖章）：东莞市卫生健康局");
        assert_eq!(p.len(), 10);
    }

    #[test]
    fn the_document_opens_with_its_text_and_fonts() {
        let bytes = docx(&dongguan(), &wang(), "东莞市卫生健康局").unwrap();
        let xml = crate::testing::docx_part(&bytes, "word/document.xml");
        let text = crate::testing::words(&xml);
        for p in paragraphs(&dongguan(), &wang(), "东莞市卫生健康局") {
            assert!(text.contains(&p), "{p} in {text}");
        }
        assert!(xml.contains("仿宋_GB2312") && xml.contains("方正小标宋简体"));
        assert!(
            xml.contains("w:w=\"11906\"") && xml.contains("w:h=\"16838\""),
            "A4"
        );
        assert!(
            xml.contains("w:firstLine=\"640\""),
            "first lines indented two characters"
        );
    }
}
