//! A winner's certificate as PDF: the words of `pingxuan_rules::release::certificate` as
//! the JSON file the template reads, the check link as a QR code beside them.

use std::collections::HashMap;

pub use pingxuan_rules::release::Certificate;
use serde::Serialize;
use typst::foundations::Bytes;

use crate::{PdfEngine, PdfError, qr_svg};

const TEMPLATE: &str = include_str!("../templates/certificate.typ");

#[derive(Serialize)]
struct Document<'a> {
    fonts: &'a [String],
    #[serde(flatten)]
    certificate: &'a Certificate,
}

/// The certificate as PDF bytes, its QR code leading to `check_url`.
pub fn render(engine: &PdfEngine, c: &Certificate, check_url: &str) -> Result<Vec<u8>, PdfError> {
    let d = Document {
        fonts: engine.families(),
        certificate: c,
    };
    let mut files: HashMap<&'static str, Bytes> = HashMap::new();
    files.insert(
        "/data.json",
        Bytes::new(serde_json::to_vec(&d).expect("certificate as JSON")),
    );
    files.insert("/qr.svg", Bytes::from_string(qr_svg(check_url)?));
    engine.render(TEMPLATE, files)
}
