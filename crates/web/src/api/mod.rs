//! The JSON API under `/api/v1/`, described by the OpenAPI document at
//! `/api/openapi.json` that utoipa builds from these handlers.

pub mod input;

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
    tags((name = "account", description = "当前账号"), (name = "campaigns", description = "评选活动及其配置文件"), (name = "applications", description = "申请书（推荐表）及其流转：保存、我承诺、提交、退回、收回、办理"), (name = "codes", description = "推荐码：推荐单位发放、作废；候选人凭推荐码申报"), (name = "materials", description = "材料：分片续传上传、按内容检查、附件列表与删除"), (name = "stages", description = "评选阶段（活动办公室）：开始、形式审查、分配评审专家、录入纸质评分表、结束、排定同分、确定或撤销晋级名单、评选结果"), (name = "reviews", description = "我的评审（评审专家）：回避声明、评分表的保存与提交"), (name = "publicity", description = "公示与异议：活动办公室发布最终名单的公示，推荐单位发布本单位推荐人选的公示（unit-publicity）；各自登记电话和来信异议、处理本方公示的异议（异议人信息仅活动办公室可见）；公众在 /gs/ 页面查看公示、提出异议、凭编号查询"), (name = "paper", description = "纸质材料报送：活动办公室逐项登记收到（含邮戳日期），通知拟入选人选的推荐单位报送；推荐单位查看尚缺的材料"), (name = "release", description = "评选结果发布（活动办公室）：名单确定、公示期满、异议办结后发布，生成证书编号；公众在 /jg/ 页面查看入选者，扫证书二维码在 /zs/ 核验"))
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

/// Declares on every operation the refusals the shared extractors and checks make, so
/// the document tells what the server answers: 401 without a valid token or session
/// (every operation needs one), 403 when the caller's roles do not allow it (`Access`),
/// 409 for a change the record's state does not allow now (every write),
/// 400/415/422 for a JSON body (`input::ApiJson`), 404 for an id in the path or the body
/// that names nothing the caller may see (`input::ApiPath`, the use cases), 400 for a bad
/// query (`input::ApiQuery`). A status the operation declares itself is kept.
pub fn declare_refusals(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let refusal = |words: &str| {
        ResponseBuilder::new()
            .description(words)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for (i, op) in operations.into_iter().enumerate() {
            let Some(op) = op else { continue };
            // GET is the first of `operations`; every other method writes.
            let writes = i > 0;
            let takes_json = op.request_body.as_ref().is_some_and(|b| match b {
                RefOr::T(b) => b.content.contains_key("application/json"),
                RefOr::Ref(_) => false,
            });
            let params = op.parameters.as_deref().unwrap_or_default();
            let located = |at: ParameterIn| {
                params.iter().any(|p| match p {
                    RefOr::T(p) => p.parameter_in == at,
                    RefOr::Ref(_) => false,
                })
            };
            let mut add = vec![
                ("401", "未登录、令牌无效或会话已过期"),
                ("403", "当前账号的角色无权进行此操作"),
            ];
            if writes {
                add.push(("409", "记录当前的状态不允许这一操作（或刚被别人修改过）"));
            }
            if takes_json || located(ParameterIn::Path) {
                add.push(("404", "路径或内容中的编号没有对应的、您可查看的记录"));
            }
            if takes_json {
                add.push(("400", "提交的内容不是有效的 JSON"));
                add.push((
                    "415",
                    "提交的内容不是 JSON（Content-Type: application/json）",
                ));
                add.push(("422", "字段缺失或格式不对，field 指明是哪一项"));
                add.push(("413", "提交的内容过大"));
            }
            if located(ParameterIn::Query) {
                add.push(("400", "查询参数有误"));
            }
            for (status, words) in add {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(refusal(words)));
            }
        }
    }
}

/// A string schema whose values are a closed set (for `#[schema(schema_with = …)]`).
fn one_of(values: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// The kinds of an application's events.
pub(crate) fn event_kinds() -> utoipa::openapi::Object {
    one_of(&["submit", "return", "recall", "open"])
}

/// A campaign file problem's severity.
pub(crate) fn severities() -> utoipa::openapi::Object {
    one_of(&["error", "warning"])
}

/// A 推荐码's status.
pub(crate) fn code_statuses() -> utoipa::openapi::Object {
    one_of(&["unused", "used", "revoked"])
}

/// Every role, by key.
pub(crate) fn role_keys() -> utoipa::openapi::Object {
    let keys: Vec<&str> = pingxuan_rules::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    one_of(&keys)
}

/// A stage's kind, as the campaign file names it.
pub(crate) fn stage_kinds() -> utoipa::openapi::Object {
    one_of(&["unit_round", "screening", "vote", "review", "panel"])
}

/// Where a stage stands.
pub(crate) fn stage_phases() -> utoipa::openapi::Object {
    one_of(&["pending", "open", "closed", "advanced"])
}

/// A stage's stored events.
pub(crate) fn stage_event_kinds() -> utoipa::openapi::Object {
    one_of(&["opened", "closed", "advanced", "reverted", "published"])
}

/// The moves on a stage.
pub(crate) fn stage_moves() -> utoipa::openapi::Object {
    one_of(&["open", "close", "advance", "choose", "revert", "publish"])
}

/// What a 回避声明 did.
pub(crate) fn declaration_outcomes() -> utoipa::openapi::Object {
    one_of(&["none", "declared", "alone"])
}

/// An organiser's change to an assignment.
pub(crate) fn change_actions() -> utoipa::openapi::Object {
    one_of(&["add", "remove"])
}
