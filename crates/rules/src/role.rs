//! The roles people hold, per campaign or across the platform.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 申报人 / 候选人: registers on their own.
    Applicant,
    /// 所在单位: the employer holding the personnel relation.
    WorkUnit,
    /// 推荐单位.
    Recommender,
    /// 活动办公室 / 主办单位.
    Organizer,
    /// 评审专家.
    Expert,
    /// 公众 in a public vote.
    Voter,
    /// 系统管理员.
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Applicant,
        Role::WorkUnit,
        Role::Recommender,
        Role::Organizer,
        Role::Expert,
        Role::Voter,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::WorkUnit => "work_unit",
            Role::Recommender => "recommender",
            Role::Organizer => "organizer",
            Role::Expert => "expert",
            Role::Voter => "voter",
            Role::Admin => "admin",
        }
    }

    /// The word users read.
    pub fn label(self) -> &'static str {
        match self {
            Role::Applicant => "申报人",
            Role::WorkUnit => "所在单位",
            Role::Recommender => "推荐单位",
            Role::Organizer => "活动办公室",
            Role::Expert => "评审专家",
            Role::Voter => "公众",
            Role::Admin => "系统管理员",
        }
    }

    /// Roles that belong to a unit account rather than a person.
    pub fn is_unit(self) -> bool {
        matches!(self, Role::WorkUnit | Role::Recommender)
    }

    /// Roles an organiser or admin hands out (applicants and voters register themselves).
    pub fn is_assigned(self) -> bool {
        !matches!(self, Role::Applicant | Role::Voter)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "未知的角色 `{0}`，可用：applicant、work_unit、recommender、organizer、expert、voter、admin（或 申报人、所在单位、推荐单位、活动办公室、评审专家、公众、系统管理员）"
)]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == t || r.label() == t)
            .ok_or_else(|| UnknownRole(t.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_code_and_chinese_names() {
        assert_eq!("recommender".parse::<Role>(), Ok(Role::Recommender));
        assert_eq!("推荐单位".parse::<Role>(), Ok(Role::Recommender));
        assert!(
            "boss"
                .parse::<Role>()
                .unwrap_err()
                .to_string()
                .contains("boss")
        );
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
    }
}
