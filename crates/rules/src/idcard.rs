//! 居民身份证号码 (GB 11643-1999): 18 characters, ISO 7064 MOD 11-2 check digit, the
//! birth date in digits 7–14, and the sex in the parity of the 17th digit.

use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    normalized: String,
    pub birth_date: Date,
    pub sex: Sex,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("身份证号码应为 18 位，现为 {0} 位")]
    Length(usize),
    #[error("身份证号码前 17 位须为数字，最后一位为数字或 X")]
    Characters,
    #[error("身份证号码中的出生日期 {0} 不存在")]
    BirthDate(String),
    /// A date that exists but no living candidate has (before 1900, or in the future).
    #[error("身份证号码中的出生日期 {0} 不合常理，请核对是否有数字填错")]
    Implausible(String),
    #[error("身份证号码校验位不符（应为 {expected}，填写的是 {given}），请核对是否有数字填错")]
    Checksum { expected: char, given: char },
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character (ISO 7064 MOD 11-2) of a number's first 17 digits; `None`
/// unless given exactly 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(CHECK[(sum % 11) as usize])
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s: String = input
            .trim()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdError::Length(n));
        }
        let chars: Vec<char> = s.chars().collect();
        if !chars[..17].iter().all(char::is_ascii_digit)
            || !(chars[17].is_ascii_digit() || chars[17] == 'X')
        {
            return Err(IdError::Characters);
        }
        let digit = |i: usize| chars[i].to_digit(10).unwrap_or(0);
        let expected = check_char(&s[..17]).ok_or(IdError::Characters)?;
        if expected != chars[17] {
            return Err(IdError::Checksum {
                expected,
                given: chars[17],
            });
        }
        let birth = &s[6..14];
        let year: i32 = birth[..4].parse().unwrap_or(0);
        let month: u8 = birth[4..6].parse().unwrap_or(0);
        let day: u8 = birth[6..8].parse().unwrap_or(0);
        let birth_date = time::Month::try_from(month)
            .ok()
            .and_then(|m| Date::from_calendar_date(year, m, day).ok())
            .ok_or_else(|| IdError::BirthDate(birth.to_owned()))?;
        // The date exists; one before 1900 or after this century's present is a typo.
        if !(1900..=2100).contains(&year) {
            return Err(IdError::Implausible(format!("{year}年{month}月{day}日")));
        }
        let sex = if digit(16) % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(IdNumber {
            normalized: s,
            birth_date,
            sex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// Age in whole years on `day`.
    pub fn age_on(&self, day: Date) -> i32 {
        let b = self.birth_date;
        let mut age = day.year() - b.year();
        if (day.month() as u8, day.day()) < (b.month() as u8, b.day()) {
            age -= 1;
        }
        age
    }
}

/// Masks an ID number for lists: the first 4 and last 4 characters stay.
pub fn mask_id(s: &str) -> String {
    mask(s, 4, 4)
}

/// Masks a mobile number for lists: 138****5678.
pub fn mask_mobile(s: &str) -> String {
    mask(s, 3, 4)
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    // The sample number of GB 11643-1999.
    const SAMPLE: &str = "11010519491231002X";

    #[test]
    fn check_char_of_the_first_seventeen() {
        assert_eq!(check_char(&SAMPLE[..17]), Some('X'));
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100A"), None);
    }

    #[test]
    fn reads_the_standard_sample() {
        let id = IdNumber::parse(SAMPLE).unwrap();
        assert_eq!(id.birth_date, date!(1949 - 12 - 31));
        assert_eq!(id.sex, Sex::Female);
        assert_eq!(id.age_on(date!(2023 - 12 - 30)), 73);
        assert_eq!(id.age_on(date!(2023 - 12 - 31)), 74);
        assert_eq!(
            IdNumber::parse(" 11010519491231002x ").unwrap().as_str(),
            SAMPLE
        );
    }

    #[test]
    fn refuses_bad_numbers_with_reasons() {
        assert_eq!(IdNumber::parse("1234"), Err(IdError::Length(4)));
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdError::Checksum {
                expected: 'X',
                given: '1'
            })
        );
        assert_eq!(
            IdNumber::parse("11010519491231A02X"),
            Err(IdError::Characters)
        );
        // 1949-02-30 does not exist; the check digit is made right so only the date fails.
        let body = "11010519490230002";
        let sum: u32 = body
            .chars()
            .zip(WEIGHTS)
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        let full = format!("{body}{}", CHECK[(sum % 11) as usize]);
        assert!(matches!(IdNumber::parse(&full), Err(IdError::BirthDate(_))));
        // 1880-01-01 exists, but no candidate was born then: asked to check, not told
        // that the date does not exist.
        let body = "11010518800101002";
        let sum: u32 = body
            .chars()
            .zip(WEIGHTS)
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        let full = format!("{body}{}", CHECK[(sum % 11) as usize]);
        assert_eq!(
            IdNumber::parse(&full).unwrap_err().to_string(),
            "身份证号码中的出生日期 1880年1月1日 不合常理，请核对是否有数字填错"
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask_id(SAMPLE), "1101**********002X");
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("123"), "***");
    }
}
