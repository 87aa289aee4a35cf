//! The JSON API under `/api/v1/`, described by the OpenAPI document at
//! `/api/openapi.json` that utoipa builds from these handlers.

pub mod accounts;
pub mod applications;
pub mod campaigns;
pub mod codes;
pub mod input;
pub mod me;
pub mod notices;
pub mod uploads;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pingxuan 评选平台 API",
        description = "最美科技工作者评选平台的 JSON 接口。用账号页面或 `pingxuan token create` 创建的个人令牌认证：`Authorization: Bearer pxt_…`。出错时返回 4xx 和 `{\"error\":{\"code\",\"message\",\"field\"}}`。"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "account", description = "当前账号"), (name = "campaigns", description = "评选活动及其配置文件"), (name = "applications", description = "申请书（推荐表）及其流转：保存、我承诺、提交、退回、收回、办理"), (name = "codes", description = "推荐码：推荐单位发放、作废；候选人凭推荐码申报"), (name = "materials", description = "材料：分片续传上传、按内容检查、附件列表与删除"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("个人 API 令牌（pxt_ 开头）"))
                    .build(),
            ),
        );
    }
}
