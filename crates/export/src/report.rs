//! The 推荐工作情况简要报告 (广西 六（二）: “报告内容包括推荐工作程序、推荐候选人、公示情况等”) as a
//! Word document the recommending unit edits, stamps and mails: drafted from what the
//! platform recorded — the candidates it sends, its 公示 with their dates and what came
//! of each objection — with the parts only the unit knows left for it to write. Set as
//! the 考察材料 is (GB/T 9704).

use crate::ExportError;
use crate::inspection::{Line, TO_WRITE, official};

/// A candidate the unit recommends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recommended {
    pub name: String,
    /// 工作单位及职务.
    pub work_unit: String,
}

/// One 公示 the unit published, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// “2024年4月25日”.
    pub published_on: String,
    pub title: String,
    /// “2024年4月26日至2024年5月6日（5 个工作日）”.
    pub period: String,
    pub names: Vec<String>,
    /// Objections received; of those not taken up (不予受理), still open, and upheld
    /// (with whom they concerned).
    pub objections: usize,
    pub rejected: usize,
    pub open: usize,
    pub upheld: Vec<String>,
}

impl Held {
    /// What came of the objections, in words.
    fn outcome(&self) -> String {
        let n = self.objections;
        if n == 0 {
            return "公示期间未收到异议".to_owned();
        }
        let upheld = self.upheld.len();
        let unfounded = n.saturating_sub(self.rejected + self.open + upheld);
        if unfounded == n {
            return format!("公示期间收到异议 {n} 项，经核查均不成立");
        }
        let parts: Vec<String> = [
            (self.rejected, "不予受理 {} 项".to_owned()),
            (unfounded, "经核查不成立 {} 项".to_owned()),
            (
                upheld,
                format!("经核查成立 {{}} 项（{}不再推荐）", self.upheld.join("、")),
            ),
            (self.open, "尚在办理 {} 项".to_owned()),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, words)| words.replacen("{}", &count.to_string(), 1))
        .collect();
        format!("公示期间收到异议 {n} 项，其中{}", parts.join("、"))
    }
}

/// What the report is drafted from.
#[derive(Debug, Clone)]
pub struct Report {
    pub award: String,
    pub unit: String,
    /// The office it is addressed to.
    pub office: String,
    /// The notice's title.
    pub notice: String,
    pub recommended: Vec<Recommended>,
    pub publicities: Vec<Held>,
}

/// The report's paragraphs, the title first, then the addressee, the body (headings
/// “一、…” among it), and the signature and date last.
pub fn paragraphs(r: &Report) -> Vec<String> {
    let mut out = vec![
        format!("{}关于推荐{}候选人工作情况的报告", r.unit, r.award),
        format!("{}：", r.office),
        format!(
            "根据{}要求，{}认真组织开展推荐工作，现将有关情况报告如下。",
            cite(&r.notice),
            r.unit
        ),
        "一、推荐工作程序".to_owned(),
        format!(
            "{}按照通知要求，{TO_WRITE}（请写明宣传发动、组织推荐、审核把关、集体研究等程序）。经研究，确定推荐 {} 名候选人。",
            r.unit,
            r.recommended.len()
        ),
        "二、推荐候选人".to_owned(),
    ];
    if r.recommended.is_empty() {
        out.push(format!("{TO_WRITE}（本单位尚无推荐的候选人）"));
    }
    for (n, c) in r.recommended.iter().enumerate() {
        out.push(if c.work_unit.is_empty() {
            format!("{}. {}。", n + 1, c.name)
        } else {
            format!("{}. {}，{}。", n + 1, c.name, c.work_unit)
        });
    }
    out.push("三、公示情况".to_owned());
    if r.publicities.is_empty() {
        out.push(format!(
            "{TO_WRITE}（本单位未在评选平台发布公示的，请写明公示的时间、范围、方式和结果）"
        ));
    }
    for p in &r.publicities {
        out.push(format!(
            "本单位于{}发布《{}》，对{}进行公示，公示期为{}。{}。在候选人所在单位的公示情况：{TO_WRITE}",
            p.published_on,
            p.title,
            p.names.join("、"),
            p.period,
            p.outcome()
        ));
    }
    out.push("特此报告。".to_owned());
    out.push(format!("{}（盖章）", r.unit));
    out.push("年    月    日".to_owned());
    out
}

/// A notice as a document cites it: the issuers before the title in 《》 (a title within
/// it in 〈〉), the date or number after it — “自治区科协等六部门《关于开展…的通知》（2024年3月11日）”.
pub fn cite(source: &str) -> String {
    let source = source.trim();
    let (main, after) = match source.rfind('（') {
        Some(at) if source.ends_with('）') => source.split_at(at),
        _ => (source, ""),
    };
    let (issuers, title) = match main.find("关于") {
        Some(at) => main.split_at(at),
        None => ("", main),
    };
    let title = title.replace('《', "〈").replace('》', "〉");
    format!("{}《{title}》{after}", issuers.trim())
}

/// The report as DOCX bytes.
pub fn docx(r: &Report) -> Result<Vec<u8>, ExportError> {
    let texts = paragraphs(r);
    let (title, rest) = texts.split_first().expect("a title");
    let (addressee, rest) = rest.split_first().expect("an addressee");
    let (body, seal) = rest.split_at(rest.len() - 2);
    let mut lines = vec![Line::Flush(addressee)];
    for p in body {
        // The section headings in 黑体, as official documents set their first level.
        let heading = ["一、", "二、", "三、"].iter().any(|h| p.starts_with(h));
        lines.push(Line::Body(p, if heading { "黑体" } else { "仿宋_GB2312" }));
    }
    lines.push(Line::Blank);
    lines.extend(seal.iter().map(|p| Line::Right(p)));
    official(title, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            award: "2024年广西“最美科技工作者”".into(),
            unit: "南宁市科协".into(),
            office: "自治区“最美科技工作者”选树宣传活动办公室".into(),
            notice: "关于开展2024年广西“最美科技工作者”选树宣传活动的通知".into(),
            recommended: vec![Recommended {
                name: "张三".into(),
                work_unit: "广西大学教授".into(),
            }],
            publicities: vec![Held {
                published_on: "2024年4月25日".into(),
                title: "南宁市科协关于推荐2024年广西“最美科技工作者”候选人的公示".into(),
                period: "2024年4月26日至2024年5月6日（5 个工作日）".into(),
                names: vec!["张三".into(), "李四".into()],
                objections: 2,
                rejected: 1,
                open: 0,
                upheld: vec!["李四".into()],
            }],
        }
    }

    #[test]
    fn the_report_says_what_was_recorded() {
        let p = paragraphs(&report());
        assert_eq!(
            p[0],
            "南宁市科协关于推荐2024年广西“最美科技工作者”候选人工作情况的报告"
        );
        assert_eq!(p[1], "自治区“最美科技工作者”选树宣传活动办公室：");
        assert!(p[2].starts_with("根据《关于开展2024年广西"), "{}", p[2]);
        assert!(p[4].ends_with("经研究，确定推荐 1 名候选人。"), "{}", p[4]);
        assert_eq!(p[6], "1. 张三，广西大学教授。");
        assert_eq!(p[7], "三、公示情况");
        assert_eq!(
            p[8],
            "本单位于2024年4月25日发布《南宁市科协关于推荐2024年广西“最美科技工作者”候选人的公示》，对张三、李四进行公示，公示期为2024年4月26日至2024年5月6日（5 个工作日）。公示期间收到异议 2 项，其中不予受理 1 项、经核查成立 1 项（李四不再推荐）。在候选人所在单位的公示情况：……"
        );
        assert_eq!(p[p.len() - 2], "南宁市科协（盖章）");
    }

    #[test]
    fn notices_are_cited_as_documents_cite_them() {
        assert_eq!(
            cite(
                "自治区党委宣传部 自治区科协等六部门关于开展2024年广西“最美科技工作者”选树宣传活动的通知（2024年3月11日）"
            ),
            "自治区党委宣传部 自治区科协等六部门《关于开展2024年广西“最美科技工作者”选树宣传活动的通知》（2024年3月11日）"
        );
        assert_eq!(
            cite("关于印发《第二届东莞“最美科技工作者”学习宣传工作方案》的通知（2023年9月26日）"),
            "《关于印发〈第二届东莞“最美科技工作者”学习宣传工作方案〉的通知》（2023年9月26日）"
        );
        assert_eq!(cite("某通知"), "《某通知》");
    }

    #[test]
    fn without_a_publicity_here_the_unit_writes_its_own() {
        let r = Report {
            publicities: vec![],
            ..report()
        };
        let p = paragraphs(&r);
        assert!(
            p[8].contains("请写明公示的时间、范围、方式和结果"),
            "{}",
            p[8]
        );
    }

    #[test]
    fn the_document_reads_back() {
        let bytes = docx(&report()).unwrap();
        let text = crate::testing::docx_text(&bytes);
        for p in paragraphs(&report()) {
            assert!(text.contains(&p), "{p} in {text}");
        }
        let xml = crate::testing::docx_part(&bytes, "word/document.xml");
        assert!(xml.contains("黑体"), "headings in 黑体");
    }
}
