//! OpenAPI through [utoipa](https://docs.rs/utoipa) (feature `utoipa`).
//!
//! Write `#[require_token(..)]` **above** `#[utoipa::path(..)]`: the
//! attribute then adds to the path what the guard enforces, with no second
//! declaration by hand:
//!
//! - its security requirement: one alternative per scheme the token may
//!   come by, with the strings of `scope("..")` as OAuth2 scopes, and an
//!   empty requirement first when the token is `optional`. The header is
//!   the [`BEARER`] or the [`OAUTH2`] scheme (a refresh token's, [`BEARER`]
//!   alone: what the OAuth2 flow keeps is an access token); `location(cookie)` is
//!   [`COOKIE`] (or [`REFRESH_COOKIE`]) and `location(query)` is [`QUERY`].
//!   Without `location(..)`, the manager's locations apply, which the
//!   macro cannot see: the header's schemes stand for them. A path that
//!   declares `security(..)` keeps its own.
//! - its refusals: 401, and 403 when the token must hold a scope, a claim
//!   or a path parameter, each with an [`AuthErrorBody`] and the
//!   `WWW-Authenticate` header. A response the path declares for either
//!   status is kept.
//!
//! Attribute macros expand from the outside in, so `#[require_token]` can
//! only rewrite what is below it: a `#[utoipa::path]` above it has already
//! been expanded, and its operation is documented without security. The
//! attribute is found as `#[utoipa::path]` (or `#[::utoipa::path]`); a
//! `#[cfg_attr(.., utoipa::path(..))]` works too, as the compiler expands
//! it first.
//!
//! Not documented: the 400 of a malformed request and the 503 of an
//! unavailable revocation store, which any guarded operation may answer.
//! The cookie schemes name the default [`CookieNames`].
//! The feature rewrites every `#[utoipa::path]` below a `#[require_token]`
//! in the build, whose crates must then use utoipa 5.
//!
//! [`SecuritySchemes`] adds the two schemes to the document: an HTTP bearer
//! JWT, and the OAuth2 password flow of the app's token endpoint, which is
//! what Swagger UI's Authorize button logs in with.
//!
//! ```
//! use axum::Json;
//! use jwt_guard::{Token, require_token};
//! use utoipa::OpenApi;
//!
//! /// Writes a post.
//! #[require_token(scope("posts:write"))]
//! #[utoipa::path(post, path = "/posts", responses((status = 201, description = "Created")))]
//! async fn create(token: Token) -> Json<String> {
//!     Json(token.sub().to_owned())
//! }
//!
//! const SECURITY: jwt_guard::openapi::SecuritySchemes =
//!     jwt_guard::openapi::SecuritySchemes::password_flow("/token");
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(create), modifiers(&SECURITY))]
//! struct ApiDoc;
//!
//! let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
//! let operation = &doc["paths"]["/posts"]["post"];
//! assert_eq!(
//!     operation["security"],
//!     serde_json::json!([{ "bearer": ["posts:write"] }, { "oauth2": ["posts:write"] }])
//! );
//! assert!(operation["responses"]["401"].is_object());
//! assert!(operation["responses"]["403"].is_object());
//! let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"];
//! assert_eq!(flow["tokenUrl"], "/token");
//! assert!(flow["scopes"]["posts:write"].is_string());
//! ```

use std::collections::BTreeSet;

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes,
    SecurityScheme,
};
use utoipa::{Modify, ToSchema};

use crate::transport::CookieNames;

/// The name of the HTTP bearer scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";

/// The name of the OAuth2 password-flow scheme in
/// `components.securitySchemes`.
pub const OAUTH2: &str = "oauth2";

/// The name of the scheme of an access token in a cookie
/// (`location(cookie)`): an API key in the `__Host-access_token` cookie.
pub const COOKIE: &str = "cookie";

/// The name of the scheme of a refresh token in a cookie
/// (`refresh, location(cookie)`): an API key in the `__Host-refresh_token`
/// cookie.
pub const REFRESH_COOKIE: &str = "refresh_cookie";

/// The name of the scheme of a token in the query string
/// (`location(query)`): an API key in the `access_token` parameter.
pub const QUERY: &str = "query";

/// The JSON body of every refusal: `{"error": "<code>", "message": "<text>"}`
/// (see [`AuthError::to_response`](crate::AuthError::to_response)), as an
/// OpenAPI schema named `AuthError`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ToSchema)]
#[schema(as = AuthError)]
pub struct AuthErrorBody {
    /// The RFC 6750 error code (`invalid_request`, `invalid_token`,
    /// `insufficient_scope`), `insufficient_user_authentication` for a
    /// token that is not fresh, or `unauthorized` when no token was sent.
    #[schema(example = "invalid_token")]
    pub error: String,
    /// What was wrong, for people; never the token.
    #[schema(example = "token has expired")]
    pub message: String,
}

/// A [`Modify`] that adds jwt-guard's security schemes to a document:
/// [`BEARER`], an HTTP bearer JWT, and [`OAUTH2`], the OAuth2 password flow
/// of the app's token endpoint, listing every OAuth2 scope the document's
/// operations require; and [`COOKIE`], [`REFRESH_COOKIE`] and [`QUERY`]
/// when an operation names them. The cookie schemes name the default
/// [`CookieNames`].
///
/// ```
/// use jwt_guard::openapi::SecuritySchemes;
/// use utoipa::OpenApi;
///
/// // `modifiers(..)` takes the name of a value.
/// const SECURITY: SecuritySchemes = SecuritySchemes::password_flow("/token");
///
/// #[derive(OpenApi)]
/// #[openapi(modifiers(&SECURITY))]
/// struct ApiDoc;
///
/// let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
/// let schemes = &doc["components"]["securitySchemes"];
/// assert_eq!(schemes["bearer"]["scheme"], "bearer");
/// assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
/// assert_eq!(schemes["oauth2"]["flows"]["password"]["tokenUrl"], "/token");
/// ```
#[derive(Debug, Clone)]
pub struct SecuritySchemes {
    token_url: &'static str,
}

impl SecuritySchemes {
    /// The schemes, with the OAuth2 password flow posting to `token_url`
    /// (RFC 6749 §4.3: a form of `grant_type=password`, `username` and
    /// `password`, answered with `access_token`).
    #[must_use]
    pub const fn password_flow(token_url: &'static str) -> Self {
        Self { token_url }
    }
}

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let (schemes, scopes) = requirements(openapi);
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token in the `Authorization: Bearer` header.",
            ))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(bearer));
        let password = Password::new(
            self.token_url,
            Scopes::from_iter(
                scopes
                    .into_iter()
                    .map(|scope| (scope, "Required by the operations that list it.".to_owned())),
            ),
        );
        components.add_security_scheme(
            OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(password)],
                "Log in with a username and password; the access token is then sent as a \
                 bearer token.",
            )),
        );
        let names = CookieNames::default();
        let csrf = "On unsafe methods the `X-CSRF-Token` header must equal the CSRF cookie, \
                    and the page must be of the API's own origin or an allowed one.";
        let keys = [
            (
                COOKIE,
                ApiKey::Cookie(ApiKeyValue::with_description(
                    names.access.to_string(),
                    format!("The access token in a cookie. {csrf}"),
                )),
            ),
            (
                REFRESH_COOKIE,
                ApiKey::Cookie(ApiKeyValue::with_description(
                    names.refresh.to_string(),
                    format!("The refresh token in a cookie. {csrf}"),
                )),
            ),
            (
                QUERY,
                ApiKey::Query(ApiKeyValue::with_description(
                    "access_token",
                    "The access token in the query string (RFC 6750 §2.3).",
                )),
            ),
        ];
        for (name, key) in keys {
            if schemes.contains(name) {
                components.add_security_scheme(name, SecurityScheme::ApiKey(key));
            }
        }
    }
}

/// The schemes the operations of `openapi` name, and every OAuth2 scope
/// they require.
fn requirements(openapi: &OpenApi) -> (BTreeSet<String>, BTreeSet<String>) {
    let Ok(paths) = serde_json::to_value(&openapi.paths) else {
        return (BTreeSet::new(), BTreeSet::new());
    };
    let operations = paths
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| item.as_object())
        .flat_map(|item| item.values());
    let (mut schemes, mut scopes) = (BTreeSet::new(), BTreeSet::new());
    for operation in operations {
        let requirements = operation["security"].as_array().into_iter().flatten();
        for requirement in requirements.filter_map(|r| r.as_object()) {
            schemes.extend(requirement.keys().cloned());
            let listed = requirement.get(OAUTH2).and_then(|s| s.as_array());
            scopes.extend(
                listed
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str())
                    .map(str::to_owned),
            );
        }
    }
    (schemes, scopes)
}
