//! 推荐码: what a recommender hands to a candidate it has chosen (广西 accepts no
//! individual applications; 中国科协's own system works the same way). A code is 12
//! characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown in groups of
//! four; typing it with spaces, dashes or small letters still works.

/// The characters a code is made of: digits 2–9 and letters without I, L, O.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const LENGTH: usize = 12;

/// The canonical form of what someone typed, or `None` when it cannot be a code.
pub fn normalize(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '－')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == LENGTH && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
}

/// A code in groups of four for reading aloud and copying: `ABCD-EFGH-JKMN`.
pub fn display(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code from `LENGTH` draws in `0..ALPHABET.len()` (the caller supplies randomness).
pub fn from_indices(indices: &[usize; LENGTH]) -> String {
    indices
        .iter()
        .map(|i| ALPHABET[i % ALPHABET.len()] as char)
        .collect()
}

/// Why a recommender may not issue another code: its live codes (unused or used, not
/// revoked) already fill the quota. `extra` is what the organiser granted beyond a
/// “原则上” quota.
pub fn issue_problem(live: i64, quota_max: Option<u32>, extra: u32) -> Option<String> {
    let max = i64::from(quota_max? + extra);
    (live >= max).then(|| {
        format!(
            "本单位推荐名额已满（{live}/{max}），不能再发放推荐码；可作废未使用的推荐码后重新发放"
        )
    })
}

/// What a 推荐码 typed by a candidate turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Not 12 characters of the alphabet, whatever the spacing.
    Malformed,
    /// Well formed, but no recommender issued it.
    Unknown,
    Revoked,
    /// It already opened an application.
    Used,
    Usable,
}

/// Why a typed 推荐码 cannot open an application: a stable code and the words, all
/// beside the field `code`; `None` when it can.
pub fn entry_problem(found: Lookup) -> Option<(&'static str, &'static str)> {
    match found {
        Lookup::Malformed => Some((
            "code_malformed",
            "推荐码应为12位字母和数字（如 ABCD-EFGH-JKMN），请核对",
        )),
        Lookup::Unknown => Some(("code_unknown", "推荐码不存在，请核对后重新输入")),
        Lookup::Revoked => Some(("code_revoked", "该推荐码已被推荐单位作废")),
        Lookup::Used => Some(("code_used", "该推荐码已被使用，每个推荐码只能申报一次")),
        Lookup::Usable => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_refusals() {
        let rows = [
            (Lookup::Malformed, Some("code_malformed")),
            (Lookup::Unknown, Some("code_unknown")),
            (Lookup::Revoked, Some("code_revoked")),
            (Lookup::Used, Some("code_used")),
            (Lookup::Usable, None),
        ];
        for (found, code) in rows {
            assert_eq!(entry_problem(found).map(|p| p.0), code, "{found:?}");
        }
        assert!(
            entry_problem(Lookup::Used)
                .unwrap()
                .1
                .contains("只能申报一次")
        );
        // What the page and the API check first: the typed form.
        assert!(normalize("abcd efgh jkmn").is_some());
        assert!(
            normalize("ABCD-EFGH-JKM0").is_none(),
            "0 is not in the alphabet"
        );
    }

    #[test]
    fn typed_codes_are_read_forgivingly() {
        let code = from_indices(&[0, 1, 2, 3, 8, 9, 10, 11, 28, 29, 30, 31]);
        assert_eq!(code, "2345ABCDXYZ2");
        assert_eq!(display(&code), "2345-ABCD-XYZ2");
        assert_eq!(
            normalize(" 2345-abcd xyz2 ").as_deref(),
            Some("2345ABCDXYZ2")
        );
        assert_eq!(
            normalize("2345－ABCD－XYZ2").as_deref(),
            Some("2345ABCDXYZ2")
        );
        assert_eq!(normalize("2345ABCDXYZ"), None, "too short");
        assert_eq!(normalize("2345ABCDXYZO"), None, "O is not in the alphabet");
        assert_eq!(normalize("张三"), None);
    }

    #[test]
    fn quota_limits_issuing() {
        assert_eq!(issue_problem(5, None, 0), None, "no quota, no limit");
        assert_eq!(issue_problem(2, Some(3), 0), None);
        assert_eq!(
            issue_problem(3, Some(3), 0).unwrap(),
            "本单位推荐名额已满（3/3），不能再发放推荐码；可作废未使用的推荐码后重新发放"
        );
        assert_eq!(issue_problem(2, Some(2), 1), None, "an exception adds room");
    }
}
