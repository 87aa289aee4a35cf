//! PDFs set by typst used as a library: the 推荐表 laid out like the notices' 样表, with a
//! diagonal watermark (campaign, application number, export time) and, on every page, a QR
//! code linking to the page that tells whether a printed form matches the record.
//!
//! One `PdfEngine` is built at start-up (the fonts are scanned once) and shared; each render
//! is CPU work for a blocking thread. The record reaches the document only as a JSON file
//! the markup reads (`json("/data.json")`), so nothing a person typed is ever read as
//! markup. Notes on the typst API: `docs/notes/typst-pdf.md`.

use std::collections::HashMap;
use std::path::PathBuf;

use typst::diag::{FileError, FileResult, PackageError, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook, FontVariant};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_kit::fonts::FontStore;
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

pub mod certificate;
pub mod form;
mod watermark;

/// Where Debian puts the fonts we use: fonts-noto-cjk (Noto Serif/Sans CJK SC, the forms'
/// 宋体 and 黑体 look) and fonts-wqy-microhei (the smaller fallback).
pub const FONT_DIRS: [&str; 2] = [
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/wqy",
];

/// The families the form asks for, best first; only those found are named to typst.
const FAMILIES: [&str; 3] = [
    "Noto Serif CJK SC",
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
];

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "没有找到中文字体（查找了 {0}）。请安装 Debian 软件包 fonts-noto-cjk（或 fonts-wqy-microhei）：apt-get install fonts-noto-cjk"
    )]
    NoCjkFont(String),
    #[error("推荐表排版失败：{0}")]
    Typeset(String),
    #[error("二维码：{0}")]
    Qr(String),
}

/// Fonts and the standard library, built once and shared by every render.
pub struct PdfEngine {
    library: LazyHash<Library>,
    fonts: FontStore,
    families: Vec<String>,
}

impl PdfEngine {
    /// Scans the folders for fonts; an error naming the Debian package when none of them
    /// holds a Chinese font.
    pub fn new(font_dirs: &[PathBuf]) -> Result<PdfEngine, PdfError> {
        let mut fonts = FontStore::new();
        for dir in font_dirs {
            fonts.extend(typst_kit::fonts::scan(dir));
        }
        let book = fonts.book();
        if book
            .select_fallback(None, FontVariant::default(), "推")
            .is_none()
        {
            return Err(PdfError::NoCjkFont(format!("{font_dirs:?}")));
        }
        let families = FAMILIES
            .iter()
            .filter(|f| book.contains_family(&f.to_lowercase()))
            .map(|f| (*f).to_owned())
            .collect();
        Ok(PdfEngine {
            library: LazyHash::new(Library::default()),
            fonts,
            families,
        })
    }

    /// The engine over Debian's font folders.
    pub fn with_system_fonts() -> Result<PdfEngine, PdfError> {
        PdfEngine::new(&FONT_DIRS.map(PathBuf::from))
    }

    /// The font families the documents will be set in, best first.
    pub fn families(&self) -> &[String] {
        &self.families
    }

    /// Compiles `template` with the given virtual files (fixed names such as "/data.json",
    /// "/photo.jpg", "/qr.svg": typst keeps every path it sees for good).
    pub fn render(
        &self,
        template: &str,
        files: HashMap<&'static str, Bytes>,
    ) -> Result<Vec<u8>, PdfError> {
        let world = FormWorld {
            engine: self,
            main: Source::new(project_id("/main.typ"), template.to_owned()),
            files,
        };
        let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
        // Bound typst's global memo cache in a long-running server.
        typst::comemo::evict(10);
        let doc = output.map_err(|errs| PdfError::Typeset(join(&world, &errs)))?;
        // A missing font is only a warning to typst, and the PDF would show boxes.
        if let Some(w) = warnings
            .iter()
            .find(|w| w.message.contains("unknown font family"))
        {
            return Err(PdfError::Typeset(describe(&world, w)));
        }
        typst_pdf::pdf(&doc, &PdfOptions::default())
            .map_err(|errs| PdfError::Typeset(join(&world, &errs)))
    }
}

fn project_id(path: &str) -> FileId {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new(path).expect("a valid virtual path"),
    )
    .intern()
}

struct FormWorld<'a> {
    engine: &'a PdfEngine,
    main: Source,
    files: HashMap<&'static str, Bytes>,
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.engine.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.engine.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(id.vpath().get_with_slash().into()))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        match id.root() {
            VirtualRoot::Project => self
                .files
                .get(id.vpath().get_with_slash())
                .cloned()
                .ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into())),
            VirtualRoot::Package(spec) => {
                Err(FileError::Package(PackageError::NotFound(spec.clone())))
            }
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.engine.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Dates come formatted in the data; the markup never asks for today.
        None
    }
}

fn join(world: &FormWorld, diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| describe(world, d))
        .collect::<Vec<_>>()
        .join("; ")
}

/// “main.typ:12:5: message (hint: …)”.
fn describe(world: &FormWorld, d: &SourceDiagnostic) -> String {
    let mut s = String::new();
    if d.span.id() == Some(world.main.id())
        && let Some((line, col)) = world
            .range(d.span)
            .and_then(|r| world.main.lines().byte_to_line_column(r.start))
    {
        s.push_str(&format!("main.typ:{}:{}: ", line + 1, col + 1));
    }
    s.push_str(&d.message);
    for hint in &d.hints {
        s.push_str(&format!(" (hint: {})", hint.v));
    }
    s
}

/// The link as a QR code, in SVG.
pub fn qr_svg(text: &str) -> Result<String, PdfError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| PdfError::Qr(e.to_string()))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}
