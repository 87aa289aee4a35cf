//! Account policies required by 等保 2.0 level 3: password strength, lockout after
//! failed sign-ins, idle session timeout.

/// Minimum password length.
pub const MIN_LENGTH: usize = 8;
/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_SECS: i64 = 15 * 60;
/// A session unused for this long must sign in again.
pub const IDLE_TIMEOUT_SECS: i64 = 30 * 60;
/// A session ends after this long whatever the activity.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;
/// How many earlier passwords may not be reused.
pub const HISTORY: usize = 5;

/// A personal API token lasts at most this long after it is made (等保: credentials
/// are renewed periodically) …
pub const API_TOKEN_MAX_AGE_SECS: i64 = 180 * 86_400;
/// … and lapses sooner when unused for this long.
pub const API_TOKEN_IDLE_SECS: i64 = 90 * 86_400;

/// When a token made at `created` and last used at `last_used` stops working.
pub fn api_token_expires_at(created: i64, last_used: Option<i64>) -> i64 {
    let idle_from = last_used.unwrap_or(created).max(created);
    (created + API_TOKEN_MAX_AGE_SECS).min(idle_from + API_TOKEN_IDLE_SECS)
}

const COMMON: &[&str] = &[
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "abc12345",
    "11111111",
    "88888888",
    "a1234567",
    "admin123",
    "password1",
    "iloveyou",
    "woaini1314",
    "1qaz2wsx",
    "qwertyui",
    "p@ssw0rd",
    "passw0rd",
    "zxcvbnm1",
];

/// Why a password is refused, in words for the person choosing it.
pub fn check_strength(password: &str, login: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(format!("密码至少 {MIN_LENGTH} 位，现为 {len} 位"));
    }
    if len > 128 {
        return Err("密码不能超过 128 位".to_owned());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if classes < 3 {
        return Err("密码须包含大写字母、小写字母、数字、符号中的至少三类".to_owned());
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower == *c) {
        return Err("这个密码太常见，请换一个".to_owned());
    }
    let login = login.trim().to_lowercase();
    if login.chars().count() >= 4 && lower.contains(&login) {
        return Err("密码不能包含登录名".to_owned());
    }
    Ok(())
}

/// Whether an account with `failures` consecutive failures, the last at `last_failure`,
/// is locked at `now` (all unix seconds). Returns the seconds left.
pub fn locked_for(failures: u32, last_failure: Option<i64>, now: i64) -> Option<i64> {
    let last = last_failure?;
    if failures < MAX_FAILURES {
        return None;
    }
    let left = last + LOCKOUT_SECS - now;
    (left > 0).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_tokens_lapse_when_old_or_unused() {
        let day = 86_400;
        assert_eq!(api_token_expires_at(0, None), 90 * day, "never used");
        assert_eq!(api_token_expires_at(0, Some(60 * day)), 150 * day);
        assert_eq!(
            api_token_expires_at(0, Some(170 * day)),
            180 * day,
            "at most 180 days"
        );
    }

    #[test]
    fn strength() {
        assert!(
            check_strength("Abc123", "x")
                .unwrap_err()
                .contains("现为 6 位")
        );
        assert!(
            check_strength("abcdefgh1", "x")
                .unwrap_err()
                .contains("三类")
        );
        assert!(check_strength("Kexie2024a", "x").is_ok());
        assert!(
            check_strength("Password1", "x")
                .unwrap_err()
                .contains("常见")
        );
        assert!(
            check_strength("P@ssw0rd", "x")
                .unwrap_err()
                .contains("常见")
        );
        assert!(
            check_strength("Zhang2024san!", "zhang2024")
                .unwrap_err()
                .contains("登录名")
        );
        assert!(check_strength("科协Kx2024!", "someone").is_ok());
    }

    #[test]
    fn lockout() {
        assert_eq!(locked_for(4, Some(100), 101), None);
        assert_eq!(locked_for(5, Some(100), 101), Some(LOCKOUT_SECS - 1));
        assert_eq!(locked_for(5, Some(100), 100 + LOCKOUT_SECS), None);
        assert_eq!(locked_for(9, None, 0), None);
    }
}
