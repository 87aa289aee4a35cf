//! Access decisions in one place. A handler asks `Access` whether the signed-in
//! person may do a thing to a record; the answer comes from their roles.

use pingxuan_rules::Role;
use pingxuan_store::Store;
use pingxuan_store::accounts::{RoleGrant, User};

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct Access {
    pub user: User,
    pub roles: Vec<RoleGrant>,
}

impl Access {
    /// The access of an active account, or `None` when it is gone or disabled.
    pub async fn load(store: &Store, user_id: i64) -> Result<Option<Access>, Error> {
        let Some(user) = store.get_user(user_id).await? else {
            return Ok(None);
        };
        if !user.active {
            return Ok(None);
        }
        let roles = store.roles_of(user_id).await?;
        Ok(Some(Access { user, roles }))
    }

    /// The operator at the server's command line: may do what an admin may, and is
    /// written in the audit trail as nobody (the trail's `user_id` stays empty).
    pub fn operator() -> Access {
        Access {
            user: User {
                id: 0,
                login: "命令行".to_owned(),
                display_name: "命令行操作员".to_owned(),
                email: None,
                mobile: None,
                active: true,
            },
            roles: vec![RoleGrant {
                role: Role::Admin,
                campaign_id: None,
                unit_id: None,
                unit_name: None,
            }],
        }
    }

    /// Who the audit trail names: the account, or nobody for the operator.
    pub fn actor(&self) -> Option<i64> {
        (self.user.id != 0).then_some(self.user.id)
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.role == role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Manages this campaign: an admin, or an organiser scoped to it. An organiser with
    /// no campaign may only create campaigns (and becomes organiser of what they create).
    pub fn organizes(&self, campaign_id: &str) -> bool {
        self.is_admin()
            || self
                .roles
                .iter()
                .any(|r| r.role == Role::Organizer && r.campaign_id.as_deref() == Some(campaign_id))
    }

    /// Sees this campaign on their pages: applicants and admins see every campaign (an
    /// applicant chooses one); units, experts and organisers the campaigns of their roles
    /// (an organiser with no campaign, all).
    pub fn sees_campaign(&self, campaign_id: &str) -> bool {
        self.is_admin()
            || self.has(Role::Applicant)
            || self.roles.iter().any(|r| match r.campaign_id.as_deref() {
                Some(c) => c == campaign_id,
                None => r.role == Role::Organizer,
            })
    }

    /// May load a new campaign file, or replace the file of `existing`.
    pub fn require_campaign_loader(&self, existing: Option<&str>) -> Result<(), Error> {
        let ok = match existing {
            Some(id) => self.organizes(id),
            None => {
                self.is_admin()
                    || self
                        .roles
                        .iter()
                        .any(|r| r.role == Role::Organizer && r.campaign_id.is_none())
            }
        };
        ok.then_some(()).ok_or(Error::Forbidden)
    }

    /// May see campaign management pages at all.
    pub fn manages_campaigns(&self) -> bool {
        self.is_admin() || self.has(Role::Organizer)
    }

    pub fn require_admin(&self) -> Result<(), Error> {
        self.is_admin().then_some(()).ok_or(Error::Forbidden)
    }

    /// Reviews applications at some level (所在单位, 推荐单位 or 活动办公室).
    pub fn reviews(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r.role, Role::WorkUnit | Role::Recommender | Role::Organizer))
    }
}
