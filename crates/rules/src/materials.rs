//! Materials (照片, 视频, 扫描件 …): whether an uploaded file, as measured from its content,
//! meets what the campaign asks of that material, and what a level still has to attach
//! before it may 提交. The measuring is done elsewhere (`crates/media`); here only the
//! judgement, in the words the applicant reads (“视频时长 3分12秒，超过 3 分钟上限”).

use crate::campaign::{Campaign, Material, MaterialKind, parse_resolution, parse_size};
use crate::workflow::Chain;

/// What the content of a file turned out to be, with its measurements.
#[derive(Debug, Clone, PartialEq)]
pub enum Measured {
    /// A photo, with its size as shown (EXIF orientation applied).
    Photo {
        width: u32,
        height: u32,
    },
    /// A video: duration and size as played (rotation applied).
    Video {
        duration_ms: u64,
        width: u32,
        height: u32,
    },
    Pdf {
        pages: u32,
    },
    /// Anything the campaign's formats do not name.
    Other,
}

/// An uploaded file as the checks see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload<'a> {
    pub size: u64,
    /// The format by content, as campaign files name them: jpg, png, mp4, mov, pdf …
    pub format: &'a str,
    /// What it is in words, e.g. “PNG 图片”.
    pub format_label: &'a str,
    pub measured: Measured,
}

/// 2-inch ID photos are portrait, about 35×49 mm (小2寸 33×48 mm): width / height between
/// these bounds.
const ID_PHOTO_RATIO: (f64, f64) = (0.64, 0.76);

/// Every way `upload` falls short of `material`, in the applicant's words.
pub fn file_problems(material: &Material, upload: &Upload<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if !material.formats.is_empty() && !material.formats.iter().any(|f| f == upload.format) {
        out.push(format!(
            "{}只接受 {} 格式，此文件为{}",
            material.name,
            format_list(&material.formats),
            upload.format_label
        ));
        return out;
    }
    if let Some(min) = material.min_size.as_deref().and_then(parse_size)
        && upload.size < min
    {
        out.push(format!(
            "文件大小 {}，小于 {} 下限",
            format_size(upload.size),
            format_size(min)
        ));
    }
    out.extend(too_large(material, upload.size, u64::MAX));
    match upload.measured {
        Measured::Video {
            duration_ms,
            width,
            height,
        } => {
            if let Some(max) = material.max_duration_secs
                && duration_ms > u64::from(max) * 1000
            {
                let limit = if max % 60 == 0 {
                    format!("{} 分钟", max / 60)
                } else {
                    format_duration_zh(u64::from(max) * 1000)
                };
                out.push(format!(
                    "视频时长 {}，超过 {limit}上限",
                    format_duration_zh(duration_ms)
                ));
            }
            let allowed: Vec<(u32, u32)> = material
                .resolutions
                .iter()
                .filter_map(|r| parse_resolution(r))
                .collect();
            if !allowed.is_empty() && !allowed.contains(&(width, height)) {
                let words: Vec<String> = allowed.iter().map(|(w, h)| format!("{w}×{h}")).collect();
                out.push(format!(
                    "视频分辨率 {width}×{height}，须为 {}",
                    words.join(" 或 ")
                ));
            }
        }
        Measured::Photo { width, height } if material.kind == MaterialKind::IdPhoto => {
            let ratio = f64::from(width) / f64::from(height.max(1));
            if !(ID_PHOTO_RATIO.0..=ID_PHOTO_RATIO.1).contains(&ratio) {
                out.push(format!(
                    "证件照为 {width}×{height} 像素（宽高比 {ratio:.2}），应为竖向 2 寸照片（宽高比约 0.71，如 413×579 像素）"
                ));
            }
        }
        _ => {}
    }
    out
}

/// Whether a file of `size` bytes is over the material's ceiling, or over the platform's
/// own `ceiling` where that is lower (checked before the upload starts, and again after).
pub fn too_large(material: &Material, size: u64, ceiling: u64) -> Option<String> {
    let max = material
        .max_size
        .as_deref()
        .and_then(parse_size)
        .map_or(ceiling, |m| m.min(ceiling));
    (size > max).then(|| {
        format!(
            "文件大小 {}，超过 {} 上限",
            format_size(size),
            format_size(max)
        )
    })
}

/// Whether `count` files of `material` are too few or too many (“照片须 3～5 张，现有 2 张”).
/// Too few is only a problem when the material is required or a minimum is set.
pub fn count_problem(material: &Material, count: u32) -> Option<String> {
    let unit = unit_word(material.kind);
    let min = material.min_count.unwrap_or(u32::from(material.required));
    let range = match (min, material.max_count) {
        (0, Some(max)) => format!("最多 {max} {unit}"),
        (min, Some(max)) if min == max => format!("须 {min} {unit}"),
        (min, Some(max)) => format!("须 {min}～{max} {unit}"),
        (min, None) => format!("至少 {min} {unit}"),
    };
    let short = count < min;
    let over = material.max_count.is_some_and(|max| count > max);
    (short || over).then(|| format!("{}{range}，现有 {count} {unit}", material.name))
}

/// Where in this application's chain a material is attached: at its own level, or, when
/// that level is left out of the chain, at the next level up that is in it. 广西 六（一）2:
/// when the work unit is itself the recommender, “推荐单位填写推荐意见时，再补盖所在单位公章上传系统”.
pub fn holder(campaign: &Campaign, chain: &Chain, material: &Material) -> Option<usize> {
    let rank = |key: &str| campaign.levels.iter().position(|l| l.key == key);
    let own = rank(&material.level)?;
    chain
        .levels
        .iter()
        .position(|l| rank(&l.key).is_some_and(|r| r >= own))
}

/// What the chain's level `at` must still attach before it may 提交: each material it
/// holds whose count is off, given how many files each material key has.
pub fn missing_at(
    campaign: &Campaign,
    chain: &Chain,
    at: usize,
    count_of: impl Fn(&str) -> u32,
) -> Vec<String> {
    campaign
        .materials
        .iter()
        .filter(|m| holder(campaign, chain, m) == Some(at))
        .filter_map(|m| count_problem(m, count_of(&m.key)))
        .collect()
}

/// What a material asks for, in one line for the page: “JPG，每个不小于 2 MB，须 3～5 张”.
pub fn requirement_text(material: &Material) -> String {
    let mut parts = Vec::new();
    if !material.formats.is_empty() {
        parts.push(format_list(&material.formats));
    }
    if let Some(min) = material.min_size.as_deref().and_then(parse_size) {
        parts.push(format!("每个不小于 {}", format_size(min)));
    }
    if let Some(max) = material.max_size.as_deref().and_then(parse_size) {
        parts.push(format!("每个不超过 {}", format_size(max)));
    }
    if let Some(secs) = material.max_duration_secs {
        parts.push(format!(
            "时长不超过 {}",
            format_duration_zh(u64::from(secs) * 1000)
        ));
    }
    if !material.resolutions.is_empty() {
        parts.push(format!(
            "分辨率 {}",
            material.resolutions.join(" 或 ").replace('x', "×")
        ));
    }
    let unit = unit_word(material.kind);
    let min = material.min_count.unwrap_or(u32::from(material.required));
    match (min, material.max_count) {
        (0, Some(max)) => parts.push(format!("最多 {max} {unit}")),
        (min, Some(max)) if min == max => parts.push(format!("须 {min} {unit}")),
        (min, Some(max)) => parts.push(format!("须 {min}～{max} {unit}")),
        (0, None) => {}
        (min, None) => parts.push(format!("至少 {min} {unit}")),
    }
    parts.join("，")
}

fn unit_word(kind: MaterialKind) -> &'static str {
    match kind {
        MaterialKind::IdPhoto | MaterialKind::Photo => "张",
        MaterialKind::Video => "段",
        _ => "份",
    }
}

fn format_list(formats: &[String]) -> String {
    formats
        .iter()
        .map(|f| f.to_uppercase())
        .collect::<Vec<_>>()
        .join("、")
}

/// A size as people read it on Windows (binary units): “2.4 MB”, “512 KB”.
pub fn format_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KB * KB * KB {
        format!("{:.1} GB", b / (KB * KB * KB))
    } else if b >= KB * KB {
        let mb = b / (KB * KB);
        if (mb - mb.round()).abs() < 0.05 {
            format!("{} MB", mb.round())
        } else {
            format!("{mb:.1} MB")
        }
    } else if b >= KB {
        format!("{} KB", (b / KB).round())
    } else {
        format!("{bytes} 字节")
    }
}

/// A duration as people say it: “3分12秒”, “45秒”, “3分钟”, “1小时2分3秒”. Seconds round up,
/// so a video just over a limit never reads as exactly at it.
pub fn format_duration_zh(ms: u64) -> String {
    let total = ms.div_ceil(1000);
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}秒"),
        (0, m, 0) => format!("{m}分钟"),
        (0, m, s) => format!("{m}分{s}秒"),
        (h, 0, 0) => format!("{h}小时"),
        (h, m, 0) => format!("{h}小时{m}分钟"),
        (h, m, s) => format!("{h}小时{m}分{s}秒"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{SEEDS, load};

    fn seed(name: &str) -> Campaign {
        let (_, text) = SEEDS.iter().find(|(file, _)| file.contains(name)).unwrap();
        load(text).campaign.unwrap()
    }

    fn dongguan() -> Campaign {
        seed("dongguan")
    }

    fn material<'a>(c: &'a Campaign, key: &str) -> &'a Material {
        c.materials.iter().find(|m| m.key == key).unwrap()
    }

    fn video(duration_ms: u64, width: u32, height: u32) -> Upload<'static> {
        Upload {
            size: 80 << 20,
            format: "mp4",
            format_label: "MP4 视频",
            measured: Measured::Video {
                duration_ms,
                width,
                height,
            },
        }
    }

    #[test]
    fn videos_by_duration_and_resolution() {
        let c = dongguan();
        let m = material(&c, "videos");
        assert!(file_problems(m, &video(179_000, 1920, 1080)).is_empty());
        assert!(
            file_problems(m, &video(60_000, 1080, 1920)).is_empty(),
            "portrait"
        );
        assert_eq!(
            file_problems(m, &video(192_000, 1280, 720)),
            [
                "视频时长 3分12秒，超过 3 分钟上限",
                "视频分辨率 1280×720，须为 1920×1080 或 1080×1920"
            ]
        );
        let mut mov = video(10_000, 1920, 1080);
        mov.format = "avi";
        mov.format_label = "AVI 视频";
        assert_eq!(
            file_problems(m, &mov),
            ["体现候选人工作生活的视频只接受 MP4、MOV 格式，此文件为AVI 视频"]
        );
    }

    #[test]
    fn photos_by_format_size_and_shape() {
        let c = dongguan();
        let photos = material(&c, "photos");
        let photo = |size: u64, format: &'static str, label: &'static str, w, h| Upload {
            size,
            format,
            format_label: label,
            measured: Measured::Photo {
                width: w,
                height: h,
            },
        };
        assert!(file_problems(photos, &photo(3 << 20, "jpg", "JPEG 图片", 4000, 3000)).is_empty());
        assert_eq!(
            file_problems(photos, &photo(1_258_291, "jpg", "JPEG 图片", 4000, 3000)),
            ["文件大小 1.2 MB，小于 2 MB 下限"]
        );
        assert_eq!(
            file_problems(photos, &photo(3 << 20, "png", "PNG 图片", 4000, 3000)),
            ["体现先进事迹的生活或工作照片只接受 JPG 格式，此文件为PNG 图片"]
        );
        let id = material(&c, "id_photo");
        assert!(file_problems(id, &photo(200 << 10, "jpg", "JPEG 图片", 413, 579)).is_empty());
        let wide = file_problems(id, &photo(200 << 10, "jpg", "JPEG 图片", 579, 413));
        assert!(wide[0].contains("579×413 像素（宽高比 1.40）"), "{wide:?}");
    }

    #[test]
    fn counts_and_what_is_missing() {
        let c = dongguan();
        assert_eq!(
            count_problem(material(&c, "photos"), 2).unwrap(),
            "体现先进事迹的生活或工作照片须 3～5 张，现有 2 张"
        );
        assert_eq!(count_problem(material(&c, "photos"), 4), None);
        assert_eq!(
            count_problem(material(&c, "photos"), 6).unwrap(),
            "体现先进事迹的生活或工作照片须 3～5 张，现有 6 张"
        );
        assert_eq!(
            count_problem(material(&c, "id_photo"), 0).unwrap(),
            "小2寸正面免冠彩色照片须 1 张，现有 0 张"
        );
        let chain = Chain::for_application(&c, false);
        let missing = missing_at(&c, &chain, 0, |k| if k == "photos" { 3 } else { 0 });
        assert!(
            missing
                .iter()
                .any(|m| m.starts_with("小2寸正面免冠彩色照片")),
            "{missing:?}"
        );
        assert!(
            missing.iter().any(|m| m.contains("视频至少 1 段")),
            "{missing:?}"
        );
        assert!(
            !missing.iter().any(|m| m.contains("生活或工作照片")),
            "{missing:?}"
        );
        let recommender = chain.levels.iter().position(|l| l.key == "recommender");
        assert!(missing_at(&c, &chain, recommender.unwrap(), |_| 1).is_empty());
        assert_eq!(missing_at(&c, &chain, recommender.unwrap(), |_| 0).len(), 3);
    }

    #[test]
    fn a_left_out_level_hands_its_materials_up() {
        let c = seed("guangxi");
        let scan = material(&c, "work_unit_opinion_scan");
        let full = Chain::for_application(&c, false);
        let merged = Chain::for_application(&c, true);
        assert_eq!(
            full.levels[holder(&c, &full, scan).unwrap()].key,
            "work_unit"
        );
        assert_eq!(
            merged.levels[holder(&c, &merged, scan).unwrap()].key,
            "recommender"
        );
        let rec = merged
            .levels
            .iter()
            .position(|l| l.key == "recommender")
            .unwrap();
        let missing = missing_at(&c, &merged, rec, |_| 0);
        assert!(
            missing.iter().any(|m| m.starts_with("所在单位意见")),
            "{missing:?}"
        );
        let rec = full
            .levels
            .iter()
            .position(|l| l.key == "recommender")
            .unwrap();
        let missing = missing_at(&c, &full, rec, |_| 0);
        assert!(
            missing.iter().all(|m| !m.starts_with("所在单位意见")),
            "{missing:?}"
        );
    }

    #[test]
    fn requirements_in_one_line() {
        let c = dongguan();
        assert_eq!(
            requirement_text(material(&c, "photos")),
            "JPG，每个不小于 2 MB，须 3～5 张"
        );
        assert_eq!(
            requirement_text(material(&c, "videos")),
            "MP4、MOV，时长不超过 3分钟，分辨率 1920×1080 或 1080×1920，至少 1 段"
        );
    }

    #[test]
    fn sizes_and_durations_read_as_people_say_them() {
        assert_eq!(format_size(2 << 20), "2 MB");
        assert_eq!(format_size(2_621_440), "2.5 MB");
        assert_eq!(format_size(512 << 10), "512 KB");
        assert_eq!(format_duration_zh(192_000), "3分12秒");
        assert_eq!(format_duration_zh(180_000), "3分钟");
        assert_eq!(format_duration_zh(180_001), "3分1秒");
        assert_eq!(format_duration_zh(3_723_000), "1小时2分3秒");
        assert_eq!(format_duration_zh(3_603_000), "1小时0分3秒");
    }
}
