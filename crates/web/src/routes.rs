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

use crate::api::{self, ApiDoc};
use crate::pages::{
    account, accounts, admin, application, applications, auth, campaigns, codes, home, notices,
    review, search,
};
use crate::{AppState, health, statics};

pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::me::get_me))
        .routes(routes!(api::notices::list))
        .routes(routes!(api::accounts::post_account))
        .routes(routes!(
            api::applications::list_mine,
            api::applications::create
        ))
        .routes(routes!(api::applications::search))
        .routes(routes!(api::applications::review_queue))
        .routes(routes!(api::applications::get_one))
        .routes(routes!(api::applications::put_form))
        .routes(routes!(api::applications::commit))
        .routes(routes!(api::applications::submit))
        .routes(routes!(api::applications::return_back))
        .routes(routes!(api::applications::recall))
        .routes(routes!(api::applications::open))
        .routes(routes!(api::uploads::begin))
        .routes(routes!(api::uploads::list))
        .routes(routes!(api::uploads::materials))
        .routes(routes!(api::uploads::status, api::uploads::cancel))
        .routes(routes!(api::uploads::put_part))
        .routes(routes!(api::uploads::complete))
        .routes(routes!(api::uploads::remove))
        .routes(routes!(api::codes::list, api::codes::issue))
        .routes(routes!(api::codes::revoke))
        .routes(routes!(
            api::campaigns::list_campaigns,
            api::campaigns::put_campaign
        ))
        .routes(routes!(api::campaigns::get_campaign))
        .routes(routes!(api::campaigns::summary_xlsx))
        .routes(routes!(api::campaigns::start_export))
        .routes(routes!(api::campaigns::get_export))
        .routes(routes!(api::campaigns::download_export))
        .routes(routes!(api::applications::inspection_docx))
        .routes(routes!(api::applications::form_pdf))
        .routes(routes!(api::applications::form_docx))
        .routes(routes!(api::campaigns::check_campaign))
        .routes(routes!(api::campaigns::post_extension))
        .routes(routes!(api::campaigns::post_quota))
        .routes(routes!(api::campaigns::put_winners))
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
        .route("/notices", get(notices::get_notices))
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
            post(crate::pages::exports::post_start),
        )
        .route("/exports/{job}", get(crate::pages::exports::get_job))
        .route("/applications/search", get(search::get_search))
        .route("/codes", get(codes::get_codes).post(codes::post_codes))
        .route("/codes/{id}/revoke", post(codes::post_revoke))
        .route(
            "/campaigns",
            get(campaigns::get_campaigns).post(campaigns::post_campaigns),
        )
        .route("/campaigns/{id}", get(campaigns::get_campaign))
        .route("/campaigns/{id}/file", get(campaigns::get_campaign_file))
        .route(
            "/campaigns/{id}/extensions",
            post(campaigns::post_extension),
        )
        .route(
            "/campaigns/{id}/quota-exceptions",
            post(campaigns::post_quota),
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
        .route("/admin/audit", get(admin::get_audit));

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
        .route("/files/{file}", get(api::uploads::get_file))
        .route("/verify/{id}/{version}/{code}", get(crate::pages::verify::get_verify))
        .route("/files/{file}/preview", get(api::uploads::get_preview))
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
