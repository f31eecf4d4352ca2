//! The API's OpenAPI document, served at `/openapi.json`, and Swagger UI at
//! `/docs`, whose Authorize button logs in through `/token`.

use axum::Router;
use jwt_guard::openapi::SecuritySchemes;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{accounts, live, posts, session};

/// jwt-guard's schemes, with the OAuth2 password flow of `/token`.
const SECURITY: SecuritySchemes = SecuritySchemes::password_flow("/token");

/// Every route of the API. The guarded ones carry their security
/// requirement and refusals, written by `#[require_token]`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jwt-guard blog",
        description = "A mini-blog guarded by jwt-guard. Authorize with a username and \
                       password (the OAuth2 password flow of `/token`), then try the guarded \
                       routes."
    ),
    paths(
        accounts::signup,
        accounts::login,
        accounts::token,
        accounts::refresh,
        accounts::logout,
        accounts::profile,
        accounts::change_password,
        accounts::delete_account,
        accounts::all_users,
        posts::list,
        posts::show,
        posts::create,
        posts::update,
        posts::remove,
        session::create,
        session::show,
        session::refresh,
        session::log_out,
        live::live,
    ),
    modifiers(&SECURITY)
)]
pub struct ApiDoc;

/// `/docs` (Swagger UI, from the files the crate ships, under a content
/// security policy) and `/openapi.json`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::from(
        SwaggerUi::new("/docs")
            .url("/openapi.json", ApiDoc::openapi())
            .config(Config::default().validator_url("none")),
    )
    .layer(axum::middleware::map_response(crate::page::docs_policy))
}
