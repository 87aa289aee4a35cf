//! The 推荐表 set as PDF: the printed form's data (`pingxuan_export::form::data`) as a JSON
//! file the template reads, the verification QR code and the photo as files beside it.

use std::collections::HashMap;

pub use pingxuan_export::form::{FormData, FormPrint, data};
use serde::Serialize;
use typst::foundations::Bytes;

use crate::{PdfEngine, PdfError, qr_svg};

const TEMPLATE: &str = include_str!("../templates/form.typ");

/// What the template reads: the form, and the font families found on this machine.
#[derive(Serialize)]
struct Document<'a> {
    fonts: &'a [String],
    #[serde(flatten)]
    form: FormData,
}

/// The printed 推荐表 as PDF bytes.
pub fn render(engine: &PdfEngine, p: &FormPrint) -> Result<Vec<u8>, PdfError> {
    let d = Document {
        fonts: engine.families(),
        form: data(p),
    };
    let mut files: HashMap<&'static str, Bytes> = HashMap::new();
    files.insert(
        "/data.json",
        Bytes::new(serde_json::to_vec(&d).expect("form data as JSON")),
    );
    files.insert("/qr.svg", Bytes::from_string(qr_svg(p.verify_url)?));
    files.insert(
        "/watermark.svg",
        Bytes::from_string(crate::watermark::svg(
            engine,
            &d.form.watermark,
            "rgb(180,0,0)",
            38.0 / 255.0,
        )),
    );
    if let Some((bytes, format)) = &p.photo {
        // Fixed names: typst decides the format by the extension.
        let name = if *format == "png" {
            "/photo.png"
        } else {
            "/photo.jpg"
        };
        files.insert(name, Bytes::new(bytes.clone()));
    }
    engine.render(TEMPLATE, files)
}
