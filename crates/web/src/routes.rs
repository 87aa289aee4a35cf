//! Every route of the server, in one place.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::{
    api as accounts_api, manage as accounts, me, own as account, sign_in as auth,
};
use crate::api::{self, ApiDoc};
use crate::applications::{
    api as applications_api, form as application, mine as applications, review, search,
};
use crate::publicity::api as publicity_api;
use crate::reviews::api as reviews_api;
use crate::stages::api as stages_api;
use crate::votes::api as votes_api;
use crate::{AppState, admin, codes, health, home, notices, statics};
use crate::{campaigns, materials};

pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::get_me))
        .routes(routes!(notices::api::list))
        .routes(routes!(accounts_api::post_account))
        .routes(routes!(
            applications_api::list_mine,
            applications_api::create
        ))
        .routes(routes!(applications_api::search))
        .routes(routes!(applications_api::review_queue))
        .routes(routes!(applications_api::get_one))
        .routes(routes!(applications_api::put_form))
        .routes(routes!(applications_api::commit))
        .routes(routes!(applications_api::submit))
        .routes(routes!(applications_api::return_back))
        .routes(routes!(applications_api::recall))
        .routes(routes!(applications_api::open))
        .routes(routes!(materials::api::begin))
        .routes(routes!(materials::api::list))
        .routes(routes!(materials::api::materials))
        .routes(routes!(materials::api::status, materials::api::cancel))
        .routes(routes!(materials::api::put_part))
        .routes(routes!(materials::api::complete))
        .routes(routes!(materials::api::remove))
        .routes(routes!(codes::api::list, codes::api::issue))
        .routes(routes!(codes::api::revoke))
        .routes(routes!(
            campaigns::api::list_campaigns,
            campaigns::api::put_campaign
        ))
        .routes(routes!(campaigns::api::get_campaign))
        .routes(routes!(campaigns::api::summary_xlsx))
        .routes(routes!(campaigns::api::start_export))
        .routes(routes!(campaigns::api::get_export))
        .routes(routes!(campaigns::api::download_export))
        .routes(routes!(applications_api::inspection_docx))
        .routes(routes!(applications_api::form_pdf))
        .routes(routes!(applications_api::form_docx))
        .routes(routes!(campaigns::api::check_campaign))
        .routes(routes!(campaigns::api::post_extension))
        .routes(routes!(campaigns::api::post_quota))
        .routes(routes!(campaigns::api::put_winners))
        .routes(routes!(
            publicity_api::get_overview,
            publicity_api::post_publish
        ))
        .routes(routes!(publicity_api::post_objection))
        .routes(routes!(publicity_api::get_unit, publicity_api::post_unit))
        .routes(routes!(
            crate::release::api::get_release,
            crate::release::api::post_release
        ))
        .routes(routes!(crate::paper::api::get_paper))
        .routes(routes!(crate::paper::api::post_mark))
        .routes(routes!(crate::paper::api::post_request))
        .routes(routes!(publicity_api::post_step))
        .routes(routes!(publicity_api::post_contact))
        .routes(routes!(stages_api::list))
        .routes(routes!(stages_api::get_one))
        .routes(routes!(stages_api::post_move))
        .routes(routes!(stages_api::post_screening))
        .routes(routes!(stages_api::post_assign))
        .routes(routes!(stages_api::post_change))
        .routes(routes!(stages_api::post_paper))
        .routes(routes!(stages_api::post_mark))
        .routes(routes!(stages_api::post_tie))
        .routes(routes!(stages_api::post_reopen))
        .routes(routes!(stages_api::results_xlsx))
        .routes(routes!(stages_api::post_extra))
        .routes(routes!(votes_api::get_round))
        .routes(routes!(votes_api::post_code))
        .routes(routes!(votes_api::post_session))
        .routes(routes!(votes_api::post_vote))
        .routes(routes!(votes_api::get_ballot, votes_api::post_ballot))
        .routes(routes!(
            crate::votes::review::api_review,
            crate::votes::review::api_decision
        ))
        .routes(routes!(crate::votes::review::api_scan))
        .routes(routes!(votes_api::get_receipt))
        .routes(routes!(votes_api::get_result))
        .routes(routes!(reviews_api::tasks))
        .routes(routes!(reviews_api::post_declaration))
        .routes(routes!(reviews_api::get_sheet, reviews_api::put_sheet))
        .split_for_parts();
    let mut openapi = openapi;
    api::declare_refusals(&mut openapi);
    let openapi_json = openapi.to_json().expect("the OpenAPI document serialises");

    let pages = Router::new()
        .route("/", get(home::get_root))
        .route("/login", get(auth::get_login).post(auth::post_login))
        .route("/logout", post(auth::post_logout))
        .route("/captcha.png", get(auth::get_captcha))
        .route(
            "/register",
            get(auth::get_register).post(auth::post_register),
        )
        .route(
            "/password/forgot",
            get(auth::get_forgot).post(auth::post_forgot),
        )
        .route(
            "/password/reset/{token}",
            get(auth::get_reset).post(auth::post_reset),
        )
        .route("/home", get(home::get_home))
        .route("/notices", get(notices::pages::get_notices))
        .route("/applications/mine", get(applications::get_mine))
        .route("/applications/new", post(application::post_new))
        .route(
            "/applications/{id}",
            get(application::get_application).post(application::post_application),
        )
        .route("/applications/{id}/commit", post(application::post_commit))
        .route("/applications/{id}/recall", post(application::post_recall))
        .route("/applications/{id}/flow", get(application::get_flow))
        .route("/applications/review", get(review::get_review))
        .route("/review/{id}", get(review::get_item))
        .route("/review/{id}/return", post(review::post_return))
        .route("/review/{id}/submit", post(review::post_submit))
        .route("/review/{id}/recall", post(review::post_recall))
        .route(
            "/campaigns/{id}/exports",
            post(crate::exports::jobs::post_start),
        )
        .route("/exports/{job}", get(crate::exports::jobs::get_job))
        .route("/applications/search", get(search::get_search))
        .route(
            "/codes",
            get(codes::pages::get_codes).post(codes::pages::post_codes),
        )
        .route("/codes/{id}/revoke", post(codes::pages::post_revoke))
        .route(
            "/campaigns",
            get(campaigns::pages::get_campaigns).post(campaigns::pages::post_campaigns),
        )
        .route("/campaigns/{id}", get(campaigns::pages::get_campaign))
        .route(
            "/campaigns/{id}/file",
            get(campaigns::pages::get_campaign_file),
        )
        .route(
            "/campaigns/{id}/settings",
            post(campaigns::pages::post_settings),
        )
        .route("/reviews", get(crate::reviews::pages::get_tasks))
        .route(
            "/reviews/{campaign}/{key}/{app}",
            get(crate::reviews::pages::get_sheet),
        )
        .route(
            "/reviews/{campaign}/{key}/{app}/declaration",
            post(crate::reviews::pages::post_declaration),
        )
        .route(
            "/reviews/{campaign}/{key}/{app}/sheet",
            post(crate::reviews::pages::post_sheet),
        )
        .route(
            "/campaigns/{id}/stages/{key}",
            get(crate::stages::pages::get_stage),
        )
        .route(
            "/campaigns/{id}/stages/{key}/moves",
            post(crate::stages::pages::post_move),
        )
        .route(
            "/campaigns/{id}/stages/{key}/reopen",
            post(crate::stages::pages::post_reopen),
        )
        .route(
            "/campaigns/{id}/stages/{key}/results.xlsx",
            get(crate::stages::pages::get_results),
        )
        .route(
            "/campaigns/{id}/stages/{key}/tie",
            post(crate::stages::pages::post_tie),
        )
        .route(
            "/campaigns/{id}/stages/{key}/suspects",
            get(crate::votes::review::get_review).post(crate::votes::review::post_decision),
        )
        .route(
            "/campaigns/{id}/stages/{key}/suspects/scan",
            post(crate::votes::review::post_scan),
        )
        .route(
            "/campaigns/{id}/stages/{key}/paper",
            post(crate::stages::pages::post_paper),
        )
        .route(
            "/campaigns/{id}/stages/{key}/choice",
            post(crate::stages::pages::post_choice),
        )
        .route(
            "/campaigns/{id}/stages/{key}/marks",
            post(crate::stages::pages::post_mark),
        )
        .route(
            "/campaigns/{id}/stages/{key}/assignments",
            post(crate::stages::pages::post_assign),
        )
        .route(
            "/campaigns/{id}/stages/{key}/assignments/change",
            post(crate::stages::pages::post_change),
        )
        .route(
            "/campaigns/{id}/stages/{key}/screenings/{app}",
            post(crate::stages::pages::post_screen),
        )
        .route(
            "/campaigns/{id}/extensions",
            post(campaigns::pages::post_extension),
        )
        .route(
            "/campaigns/{id}/quota-exceptions",
            post(campaigns::pages::post_quota),
        )
        .route("/account", get(account::get_account))
        .route("/account/tokens", post(account::post_token))
        .route(
            "/account/tokens/{id}/revoke",
            post(account::post_revoke_token),
        )
        .route("/account/password", post(account::post_password))
        .route(
            "/accounts",
            get(accounts::get_accounts).post(accounts::post_accounts),
        )
        .route(
            "/accounts/{kind}/preview",
            post(accounts::post_list_preview).layer(DefaultBodyLimit::max(
                crate::auth::MAX_LIST_FILE + 64 * 1024,
            )),
        )
        .route("/accounts/{kind}/import", post(accounts::post_list_import))
        .route("/admin/audit", get(admin::get_audit))
        .route(
            "/campaigns/{id}/publicity",
            get(crate::publicity::pages::get_console).post(crate::publicity::pages::post_publish),
        )
        .route(
            "/campaigns/{id}/publicity/objections",
            post(crate::publicity::pages::post_enter).layer(DefaultBodyLimit::max(
                pingxuan_app::publicity::MAX_TOTAL_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/campaigns/{id}/release",
            get(crate::release::pages::get_console).post(crate::release::pages::post_release),
        )
        .route(
            "/campaigns/{id}/certificates/{serial}",
            get(crate::release::pages::get_certificate),
        )
        .route(
            "/campaigns/{id}/results.xlsx",
            get(crate::release::pages::get_workbook),
        )
        .route("/unit-publicity", get(crate::publicity::unit::get_mine))
        .route(
            "/campaigns/{id}/unit-publicity",
            get(crate::publicity::unit::get_unit).post(crate::publicity::unit::post_publish),
        )
        .route(
            "/campaigns/{id}/unit-publicity/objections",
            post(crate::publicity::unit::post_enter).layer(DefaultBodyLimit::max(
                pingxuan_app::publicity::MAX_TOTAL_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/campaigns/{id}/unit-publicity/report.docx",
            get(crate::publicity::unit::get_report),
        )
        .route(
            "/campaigns/{id}/unit-publicity/objections/{oid}",
            post(crate::publicity::unit::post_step),
        )
        .route(
            "/campaigns/{id}/extra-lists/{list}",
            post(crate::stages::pages::post_extra),
        )
        .route("/paper", get(crate::paper::pages::get_mine))
        .route("/campaigns/{id}/paper", get(crate::paper::pages::get_paper))
        .route(
            "/campaigns/{id}/paper/marks",
            post(crate::paper::pages::post_mark),
        )
        .route(
            "/campaigns/{id}/paper/requests",
            post(crate::paper::pages::post_request),
        )
        .route(
            "/campaigns/{id}/publicity/objections/{oid}",
            post(crate::publicity::pages::post_step),
        )
        .route(
            "/campaigns/{id}/publicity/objections/{oid}/contact",
            post(crate::publicity::pages::post_contact),
        )
        .route(
            "/campaigns/{id}/publicity/objections/{oid}/files/{seq}",
            get(crate::publicity::pages::get_file),
        );

    let max_body = state.config.max_body_bytes;
    // Under https, browsers are told to stay on https (HSTS).
    let hsts = state
        .config
        .cookie_secure
        .then(|| HeaderValue::from_static("max-age=31536000"));
    Router::new()
        .merge(pages)
        .merge(api_router)
        .route(
            "/api/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .route("/files/{file}", get(materials::api::get_file))
        .route("/verify/{id}/{version}/{code}", get(crate::exports::verify::get_verify))
        // 公示 and objections: public, signed in or not.
        .route("/gs/follow", get(crate::publicity::public::get_follow))
        .route(
            "/gs/{id}",
            get(crate::publicity::public::get_publicity)
                .post(crate::publicity::public::post_objection)
                .layer(DefaultBodyLimit::max(
                    pingxuan_app::publicity::MAX_TOTAL_BYTES + 64 * 1024,
                )),
        )
        // The released list: public, signed in or not.
        .route("/jg/{id}", get(crate::release::public::get_gallery))
        .route("/jg/{id}/{n}", get(crate::release::public::get_winner))
        .route("/jg/{id}/{n}/{file}", get(crate::release::public::get_file))
        .route("/jg/{id}/{n}/{file}/small", get(crate::release::public::get_small))
        // The online vote: the public's pages, and the 专业组 expert's ballot.
        .route("/tp/captcha.png", get(crate::votes::pages::get_captcha))
        // The voting page goes to phones on 4G: its HTML gzipped (a fifth of the bytes).
        .route(
            "/tp/{campaign}/{stage}",
            get(crate::votes::pages::get_round)
                .layer(tower_http::compression::CompressionLayer::new()),
        )
        .route(
            "/tp/{campaign}/{stage}/ballot",
            get(crate::votes::ballot::get_ballot).post(crate::votes::ballot::post_ballot),
        )
        // Once frozen: 回执查询, a counted vote's proof and the round's published count.
        .route("/tp/{campaign}/{stage}/receipt", get(crate::votes::pages::get_receipt))
        .route(
            "/tp/{campaign}/{stage}/receipt/{code}/proof.json",
            get(crate::votes::pages::get_proof),
        )
        .route(
            "/tp/{campaign}/{stage}/result.json",
            get(crate::votes::pages::get_result_file),
        )
        .route(
            "/tp/{campaign}/{stage}/{n}",
            get(crate::votes::pages::get_candidate)
                .layer(tower_http::compression::CompressionLayer::new()),
        )
        .route("/tp/{campaign}/{stage}/{n}/{file}", get(crate::votes::pages::get_file))
        .route(
            "/tp/{campaign}/{stage}/{n}/{file}/small",
            get(crate::votes::pages::get_small),
        )
        .route("/zs/{release}/{serial}/{code}", get(crate::release::public::get_check))
        .route("/files/{file}/preview", get(materials::api::get_preview))
        .route("/healthz", get(health::get_healthz))
        .route("/static/{file}", get(statics::get_static))
        .fallback(statics::not_found)
        .method_not_allowed_fallback(statics::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &axum::response::Response| hsts.clone(),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
