//! 公示, hosted (issue 18): the organiser's console (`pages.rs`: publish the confirmed
//! list, enter objections made by telephone or letter, take each to its outcome), the
//! public pages anyone opens (`public.rs`: the 公示 with its list, dates, how to object
//! and the audit chain's head; the objection form; following one by its number), and
//! their JSON twins (`api.rs`).

pub mod api;
pub mod pages;
pub mod public;
pub mod unit;

/// 13812345678 → 138****5678; a landline keeps its area code and last four.
pub fn masked_phone(p: &str) -> String {
    if p.len() == 11 && !p.contains('-') {
        pingxuan_rules::idcard::mask_mobile(p)
    } else {
        let keep = p.len().min(4);
        let (head, tail) = p.split_at(p.len() - keep);
        match head.split_once('-') {
            Some((area, _)) => format!("{area}-****{tail}"),
            None => format!("****{tail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn phones_are_masked_in_lists() {
        assert_eq!(super::masked_phone("13812345678"), "138****5678");
        assert_eq!(super::masked_phone("0771-5851234"), "0771-****1234");
        assert_eq!(super::masked_phone("22119720"), "****9720");
    }
}
