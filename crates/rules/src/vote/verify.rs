//! A member of the public proves a phone before voting: the number's form, when a code
//! may be sent (60 s after the last, so many a phone a day and a network an hour), and a
//! code's life (6 digits, valid 5 minutes, 5 tries). The store applies these in single
//! conditional statements so two requests at once cannot both pass; the words come from
//! here.

/// Digits of a code.
pub const CODE_DIGITS: usize = 6;
/// A code is valid this many seconds.
pub const CODE_TTL: i64 = 300;
/// Wrong guesses a code takes before it is spent.
pub const TRIES: u32 = 5;
/// Seconds before a phone may be sent another code.
pub const RESEND_AFTER: i64 = 60;

/// How many codes one phone gets a day and one client address an hour; the operator
/// sets them (`[vote]` in the server's configuration), these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub per_phone_day: u32,
    pub per_ip_hour: u32,
}

impl Default for Caps {
    fn default() -> Self {
        // An address an hour allows for carrier NAT: many phones share one address.
        Caps {
            per_phone_day: 10,
            per_ip_hour: 60,
        }
    }
}

/// A mainland mobile number as typed (spaces, dashes, +86 allowed) → its 11 digits.
pub fn phone(typed: &str) -> Result<String, String> {
    let digits: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits)
        .to_owned();
    let ok = digits.len() == 11
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.starts_with('1')
        && matches!(digits.as_bytes()[1], b'3'..=b'9');
    if ok {
        Ok(digits)
    } else {
        Err("请输入正确的 11 位手机号码（如 13812345678）".to_owned())
    }
}

/// Why no code is sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The last code went out less than a minute ago.
    TooSoon {
        wait: i64,
    },
    PhoneDay {
        cap: u32,
    },
    IpHour {
        cap: u32,
    },
}

impl SendRefusal {
    pub fn code(self) -> &'static str {
        match self {
            SendRefusal::TooSoon { .. } => "code_too_soon",
            SendRefusal::PhoneDay { .. } => "code_phone_day",
            SendRefusal::IpHour { .. } => "code_ip_hour",
        }
    }

    pub fn message(self) -> String {
        match self {
            SendRefusal::TooSoon { wait } => {
                format!("验证码已发送，请 {wait} 秒后再重新获取")
            }
            SendRefusal::PhoneDay { cap } => {
                format!("该手机号今日获取验证码已达 {cap} 次上限，请明日 00:00 后再试")
            }
            SendRefusal::IpHour { .. } => {
                "您所在网络本小时获取验证码的次数过多，请稍后再试".to_owned()
            }
        }
    }
}

/// Where a phone's sending stands, as the store read it after a refused reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sending {
    /// When the last code went out (Unix seconds), whatever the day; `None` when never or
    /// when a failed send was given back.
    pub last_sent: Option<i64>,
    pub sent_today: u32,
    pub ip_this_hour: u32,
}

/// Which limit refused a send at `now`, tightest first; `None` when none does (the
/// reservation lost a race; the caller may try again).
pub fn refusal(s: Sending, caps: Caps, now: i64) -> Option<SendRefusal> {
    if let Some(last) = s.last_sent
        && now - last < RESEND_AFTER
    {
        return Some(SendRefusal::TooSoon {
            wait: RESEND_AFTER - (now - last),
        });
    }
    if s.sent_today >= caps.per_phone_day {
        return Some(SendRefusal::PhoneDay {
            cap: caps.per_phone_day,
        });
    }
    if s.ip_this_hour >= caps.per_ip_hour {
        return Some(SendRefusal::IpHour {
            cap: caps.per_ip_hour,
        });
    }
    None
}

/// A code as stored, for the words after a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeState {
    pub expires_at: i64,
    pub tries_left: u32,
    pub used: bool,
}

/// The answer to a wrong or late guess, from the code's state after the guess was
/// counted; `None` when there is no code for the phone at all.
pub fn wrong(state: Option<CodeState>, now: i64) -> (&'static str, String) {
    match state {
        None => ("code_missing", "请先获取验证码".to_owned()),
        Some(s) if s.used => ("code_used", "该验证码已使用，请重新获取".to_owned()),
        Some(s) if now >= s.expires_at => (
            "code_expired",
            "验证码已过期（5 分钟内有效），请重新获取".to_owned(),
        ),
        Some(s) if s.tries_left == 0 => (
            "code_exhausted",
            "验证码错误次数过多，请重新获取".to_owned(),
        ),
        Some(s) => (
            "code_wrong",
            format!("验证码错误，还可尝试 {} 次", s.tries_left),
        ),
    }
}

/// A code's form before it is looked up: six digits (full-width digits and spaces typed
/// on a phone keyboard accepted).
pub fn typed_code(typed: &str) -> Result<String, String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    if digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err("请输入短信中的 6 位数字验证码".to_owned())
    }
}

/// The text of the message carrying a code.
pub fn sms_text(campaign_short_name: &str, code: &str) -> String {
    format!(
        "【{campaign_short_name}】您的投票验证码为 {code}，5 分钟内有效。如非本人操作，请忽略本短信。"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_as_typed() {
        assert_eq!(phone("138 1234 5678").unwrap(), "13812345678");
        assert_eq!(phone("+86 138-1234-5678").unwrap(), "13812345678");
        for bad in [
            "1381234567",
            "12812345678",
            "23812345678",
            "1381234567a",
            "",
        ] {
            assert_eq!(
                phone(bad).unwrap_err(),
                "请输入正确的 11 位手机号码（如 13812345678）",
                "{bad}"
            );
        }
    }

    #[test]
    fn sends_wait_a_minute_and_stop_at_the_caps() {
        let caps = Caps {
            per_phone_day: 3,
            per_ip_hour: 5,
        };
        let s = |last: Option<i64>, today: u32, ip: u32| Sending {
            last_sent: last,
            sent_today: today,
            ip_this_hour: ip,
        };
        assert_eq!(
            refusal(s(Some(1_000), 1, 1), caps, 1_042),
            Some(SendRefusal::TooSoon { wait: 18 })
        );
        assert_eq!(
            SendRefusal::TooSoon { wait: 18 }.message(),
            "验证码已发送，请 18 秒后再重新获取"
        );
        assert_eq!(refusal(s(Some(1_000), 1, 1), caps, 1_060), None);
        assert_eq!(
            refusal(s(Some(1_000), 3, 1), caps, 2_000),
            Some(SendRefusal::PhoneDay { cap: 3 })
        );
        assert_eq!(
            refusal(s(None, 0, 5), caps, 2_000),
            Some(SendRefusal::IpHour { cap: 5 })
        );
    }

    #[test]
    fn a_wrong_guess_says_what_is_left() {
        let state = |left: u32| {
            Some(CodeState {
                expires_at: 1_300,
                tries_left: left,
                used: false,
            })
        };
        assert_eq!(
            wrong(state(3), 1_000),
            ("code_wrong", "验证码错误，还可尝试 3 次".to_owned())
        );
        assert_eq!(wrong(state(0), 1_000).0, "code_exhausted");
        assert_eq!(wrong(state(3), 1_300).0, "code_expired");
        assert_eq!(wrong(None, 1_000).0, "code_missing");
    }

    #[test]
    fn codes_as_typed_on_a_phone() {
        assert_eq!(typed_code(" 123 456 ").unwrap(), "123456");
        assert_eq!(typed_code("１２３４５６").unwrap(), "123456");
        assert!(typed_code("12345").is_err());
        assert!(typed_code("12345a").is_err());
    }
}
