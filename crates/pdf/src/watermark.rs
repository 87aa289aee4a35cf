//! The watermark as drawn shapes, not text. A text watermark is read back by `pdftotext`
//! and every other extractor: its rotated characters land between the form's rows, so
//! copying a 推荐表 or reading it aloud interleaved “第二届东莞…” with the fields. The
//! marks are the glyphs' outlines in one small SVG that typst embeds once per document
//! and every page reuses; a watermark has no business being text.

use std::fmt::Write;

use typst::text::{Font, FontVariant};

use crate::PdfEngine;

/// Points per line of the mark (as the text version: 12 pt, leading 1.3).
const SIZE: f64 = 12.0;
const LEADING: f64 = 1.3;

/// The lines, centred on each other, as an SVG of glyph outlines in `fill` (CSS colour)
/// at `opacity`. Width and height are in points, so typst places it at its natural size.
/// A character no font has is left out (the mark is decoration; the record is the text).
pub fn svg(engine: &PdfEngine, lines: &[String], fill: &str, opacity: f64) -> String {
    // The fonts the marks need: the form's first family, and a fallback for a
    // character it lacks; each parsed once.
    let mut fonts: Vec<Font> = engine
        .families()
        .first()
        .and_then(|f| engine.select(f))
        .or_else(|| engine.fallback('推'))
        .into_iter()
        .collect();
    let has = |f: &Font, c: char| face(f).is_some_and(|face| face.glyph_index(c).is_some());
    let mut picks: Vec<Vec<(usize, char)>> = Vec::new();
    for line in lines {
        let mut row = Vec::new();
        for c in line.chars() {
            let at = match fonts.iter().position(|f| has(f, c)) {
                Some(i) => Some(i),
                None => engine.fallback(c).map(|f| {
                    fonts.push(f);
                    fonts.len() - 1
                }),
            };
            if let Some(i) = at {
                row.push((i, c));
            }
        }
        picks.push(row);
    }
    let faces: Vec<Option<ttf_parser::Face>> = fonts.iter().map(face).collect();
    // Each glyph with its face and its x within the line, in points.
    let laid: Vec<Vec<(&ttf_parser::Face, ttf_parser::GlyphId, f64)>> = picks
        .iter()
        .map(|row| {
            let mut x = 0.0;
            row.iter()
                .filter_map(|&(i, c)| {
                    let face = faces[i].as_ref()?;
                    let glyph = face.glyph_index(c)?;
                    let at = x;
                    x += advance(face, glyph);
                    Some((face, glyph, at))
                })
                .collect()
        })
        .collect();
    let widths: Vec<f64> = laid
        .iter()
        .map(|glyphs| {
            glyphs
                .last()
                .map_or(0.0, |(face, glyph, at)| at + advance(face, *glyph))
        })
        .collect();
    let width = widths.iter().copied().fold(0.0, f64::max).max(1.0);
    let height = SIZE * LEADING * lines.len().max(1) as f64;
    let mut d = String::new();
    for (row, glyphs) in laid.iter().enumerate() {
        let left = (width - widths[row]) / 2.0;
        // The baseline 0.88 em below the line's top, as CJK faces set it.
        let baseline = SIZE * LEADING * row as f64 + SIZE * (LEADING - 1.0) / 2.0 + SIZE * 0.88;
        for (face, glyph, at) in glyphs {
            let mut pen = Pen {
                d: &mut d,
                x: left + at,
                y: baseline,
                scale: SIZE / f64::from(face.units_per_em()),
            };
            face.outline_glyph(*glyph, &mut pen);
        }
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2}pt" height="{height:.2}pt" viewBox="0 0 {width:.2} {height:.2}"><path fill="{fill}" fill-opacity="{opacity:.3}" d="{d}"/></svg>"#
    )
}

fn face(f: &Font) -> Option<ttf_parser::Face<'_>> {
    ttf_parser::Face::parse(f.data().as_slice(), f.index()).ok()
}

/// A glyph's advance in points.
fn advance(face: &ttf_parser::Face, glyph: ttf_parser::GlyphId) -> f64 {
    f64::from(face.glyph_hor_advance(glyph).unwrap_or(0)) * SIZE / f64::from(face.units_per_em())
}

/// Writes one glyph's outline as SVG path commands, font units turned into points
/// (y grows downwards in SVG, upwards in fonts).
struct Pen<'a> {
    d: &'a mut String,
    x: f64,
    y: f64,
    scale: f64,
}

impl Pen<'_> {
    fn point(&mut self, x: f32, y: f32) {
        let px = self.x + f64::from(x) * self.scale;
        let py = self.y - f64::from(y) * self.scale;
        let _ = write!(self.d, "{px:.2} {py:.2} ");
    }
}

impl ttf_parser::OutlineBuilder for Pen<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.d.push('M');
        self.point(x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.d.push('L');
        self.point(x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.d.push('Q');
        self.point(x1, y1);
        self.point(x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.d.push('C');
        self.point(x1, y1);
        self.point(x2, y2);
        self.point(x, y);
    }
    fn close(&mut self) {
        self.d.push('Z');
    }
}

impl PdfEngine {
    /// The regular face of a family, by name.
    fn select(&self, family: &str) -> Option<Font> {
        let book = self.fonts.book();
        let index = book.select(&family.to_lowercase(), FontVariant::default())?;
        self.fonts.font(index)
    }

    /// Some face that has `c`.
    fn fallback(&self, c: char) -> Option<Font> {
        let book = self.fonts.book();
        let index = book.select_fallback(None, FontVariant::default(), &c.to_string())?;
        self.fonts.font(index)
    }
}
