//! The release of the final list (issue 18): the organiser's page (`pages.rs`: where the
//! release stands and why not yet, the list with what the gallery will show, the button,
//! the certificates and the workbook of every stage), the public pages (`public.rs`: the
//! gallery a city opens on its phones, each winner's page with the video, the files they
//! show, the page a certificate's QR code leads to) and the JSON twins (`api.rs`).

pub mod api;
pub mod pages;
pub mod public;
