//! The OpenAPI document of guarded handlers (feature `utoipa`): what
//! `#[require_token]` writes into the `#[utoipa::path]` below it, what it
//! leaves to the handler's own declarations, the rule of the attributes'
//! order, and the schemes of `jwt_guard::openapi::SecuritySchemes`.

use axum::Router;
use axum::extract::Path;
use axum::http::Method;
use axum::routing::{delete, get, post};
use jwt_guard::openapi::SecuritySchemes;
use jwt_guard::{AuthError, Token, TokenManager, require_token};
use jwt_guard_test_support::{Ran, me, req, request, send};
use serde_json::{Value, json};
use utoipa::OpenApi;

#[require_token]
#[utoipa::path(get, path = "/me", responses((status = 200, description = "Who you are")))]
async fn plain(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(scope("posts:write", "posts:read"))]
#[utoipa::path(post, path = "/posts", responses((status = 201, description = "Created")))]
async fn scoped() -> Ran<&'static str> {
    Ran("created")
}

#[require_token(optional)]
#[utoipa::path(get, path = "/feed")]
async fn optional(token: Option<Token>) -> Ran<String> {
    Ran(token.map_or_else(|| "anonymous".to_owned(), |t| t.sub().to_owned()))
}

#[require_token(
    fresh,
    sub = "username",
    scope(admin = true),
    claims(team = "core"),
    override(root = true)
)]
#[utoipa::path(
    delete,
    path = "/users/{username}",
    params(("username" = String, Path, description = "Whose account")),
    responses((status = 204, description = "Deleted"))
)]
async fn checked(Path(username): Path<String>) -> Ran<String> {
    Ran(username)
}

#[require_token(refresh)]
#[utoipa::path(post, path = "/refresh", responses((status = 200, description = "A new pair")))]
async fn refresh() -> Ran<&'static str> {
    Ran("refreshed")
}

#[require_token(location(cookie, query), scope("live"))]
#[utoipa::path(get, path = "/live")]
async fn by_cookie_or_query() -> Ran<&'static str> {
    Ran("live")
}

#[require_token(refresh, location(cookie, header))]
#[utoipa::path(post, path = "/session/refresh")]
async fn refresh_by_cookie() -> Ran<&'static str> {
    Ran("refreshed")
}

/// Inside `cfg_attr` (which the compiler expands before the attribute runs),
/// with a top-level type whose generics hold a comma.
#[require_token(scope("posts:read"))]
#[cfg_attr(all(), utoipa::path(
    put,
    path = "/settings",
    request_body = std::collections::BTreeMap<String, String>,
    responses((status = 204, description = "Saved"))
))]
async fn in_cfg_attr() -> Ran<&'static str> {
    Ran("saved")
}

/// Declares its own security and its own 401: both are kept.
#[require_token(scope("reports"))]
#[utoipa::path(
    get,
    path = "/reports",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Reports"),
        (status = axum::http::StatusCode::UNAUTHORIZED, description = "Our own words")
    )
)]
async fn own_declarations() -> Ran<&'static str> {
    Ran("reports")
}

/// The wrong order: `#[utoipa::path]` expands first, before the guard can
/// write into it.
#[utoipa::path(get, path = "/wrong-order", responses((status = 200, description = "OK")))]
#[require_token(scope("posts:write"))]
async fn wrong_order() -> Ran<&'static str> {
    Ran("ran")
}

const SECURITY: SecuritySchemes = SecuritySchemes::password_flow("/token");

#[derive(OpenApi)]
#[openapi(
    paths(
        plain,
        scoped,
        optional,
        checked,
        refresh,
        own_declarations,
        wrong_order,
        by_cookie_or_query,
        refresh_by_cookie,
        in_cfg_attr
    ),
    modifiers(&SECURITY)
)]
struct ApiDoc;

/// The document as JSON, as `/openapi.json` serves it.
fn document() -> Value {
    let json = ApiDoc::openapi().to_json().unwrap();
    serde_json::from_str(&json).unwrap()
}

fn operation(path: &str, method: &str) -> Value {
    document()["paths"][path][method].clone()
}

const ERROR_BODY: &str = "#/components/schemas/AuthError";

#[test]
fn a_guarded_operation_requires_the_bearer_or_oauth2_scheme_and_documents_401() {
    let op = operation("/me", "get");
    assert_eq!(op["security"], json!([{ "bearer": [] }, { "oauth2": [] }]));
    let unauthorized = &op["responses"]["401"];
    assert!(
        unauthorized["description"]
            .as_str()
            .unwrap()
            .starts_with("The token is missing (where required), malformed, expired, revoked"),
        "{unauthorized}"
    );
    assert_eq!(
        unauthorized["content"]["application/json"]["schema"]["$ref"],
        ERROR_BODY
    );
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
    // Its own responses stay, and nothing asks for 403.
    assert_eq!(op["responses"]["200"]["description"], "Who you are");
    assert!(op["responses"].get("403").is_none(), "{op}");
}

#[test]
fn oauth2_scopes_come_from_scope_strings_and_need_403() {
    let op = operation("/posts", "post");
    let scopes = json!(["posts:write", "posts:read"]);
    assert_eq!(
        op["security"],
        json!([{ "bearer": scopes }, { "oauth2": scopes }])
    );
    let forbidden = op["responses"]["403"]["description"].as_str().unwrap();
    assert!(
        forbidden.contains("the scope `posts:write`, the scope `posts:read`"),
        "{forbidden}"
    );
    assert_eq!(
        op["responses"]["403"]["content"]["application/json"]["schema"]["$ref"],
        ERROR_BODY
    );
    assert_eq!(op["responses"]["201"]["description"], "Created");
}

#[test]
fn an_optional_token_allows_anonymous_calls() {
    let op = operation("/feed", "get");
    assert_eq!(
        op["security"],
        json!([{}, { "bearer": [] }, { "oauth2": [] }])
    );
    assert!(op["responses"]["401"].is_object());
}

#[test]
fn each_check_is_named_in_the_refusals() {
    let op = operation("/users/{username}", "delete");
    assert_eq!(op["security"], json!([{ "bearer": [] }, { "oauth2": [] }]));
    let unauthorized = op["responses"]["401"]["description"].as_str().unwrap();
    assert!(
        unauthorized.contains("or is not fresh: log in again"),
        "{unauthorized}"
    );
    let forbidden = op["responses"]["403"]["description"].as_str().unwrap();
    assert!(
        forbidden.contains(
            "`sub` equal to the `username` path parameter, `admin` in its scope, the claim `team` \
             (unless its scope holds `root`, which stands for all of it)"
        ),
        "{forbidden}"
    );
    assert_eq!(op["parameters"][0]["name"], "username");
    let refresh = operation("/refresh", "post");
    // What the OAuth2 flow keeps is an access token.
    assert_eq!(refresh["security"], json!([{ "bearer": [] }]));
    let unauthorized = refresh["responses"]["401"]["description"].as_str().unwrap();
    assert!(
        unauthorized.contains("or is not a refresh token"),
        "{unauthorized}"
    );
}

#[test]
fn a_handlers_own_security_and_responses_are_kept() {
    let op = operation("/reports", "get");
    assert_eq!(op["security"], json!([{ "api_key": [] }]));
    assert_eq!(op["responses"]["401"]["description"], "Our own words");
    // What it does not declare is still added.
    assert!(
        op["responses"]["403"]["description"]
            .as_str()
            .unwrap()
            .contains("the scope `reports`")
    );
}

#[test]
fn a_path_inside_cfg_attr_is_documented_too() {
    let op = operation("/settings", "put");
    let scopes = json!(["posts:read"]);
    assert_eq!(
        op["security"],
        json!([{ "bearer": scopes }, { "oauth2": scopes }])
    );
    assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object());
    assert_eq!(op["responses"]["204"]["description"], "Saved");
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["type"],
        "object"
    );
}

#[test]
fn each_location_is_a_scheme() {
    assert_eq!(
        operation("/live", "get")["security"],
        json!([{ "cookie": ["live"] }, { "query": ["live"] }])
    );
    assert_eq!(
        operation("/session/refresh", "post")["security"],
        json!([{ "refresh_cookie": [] }, { "bearer": [] }])
    );
    let doc = document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        (
            &schemes["cookie"]["type"],
            &schemes["cookie"]["in"],
            &schemes["cookie"]["name"]
        ),
        (
            &json!("apiKey"),
            &json!("cookie"),
            &json!("__Host-access_token")
        )
    );
    assert_eq!(schemes["refresh_cookie"]["name"], "__Host-refresh_token");
    assert_eq!(
        (&schemes["query"]["in"], &schemes["query"]["name"]),
        (&json!("query"), &json!("access_token"))
    );
    assert!(
        schemes["cookie"]["description"]
            .as_str()
            .unwrap()
            .contains("X-CSRF-Token")
    );
}

#[test]
fn schemes_no_operation_names_are_left_out() {
    #[derive(OpenApi)]
    #[openapi(paths(plain), modifiers(&SECURITY))]
    struct HeaderOnly;
    let doc = serde_json::to_value(HeaderOnly::openapi()).unwrap();
    let mut names: Vec<&String> = doc["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["bearer", "oauth2"]);
    assert_eq!(
        doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["scopes"],
        json!({})
    );
}

#[tokio::test]
async fn require_token_goes_above_utoipa_path() {
    // Below `#[utoipa::path]`, the attribute still guards the handler…
    let manager = TokenManager::builder()
        .hs256("an openapi test secret of 32 bytes!!")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/wrong-order", get(wrong_order))
        .route("/me", get(me))
        .layer(manager.layer());
    send(&app, req("/wrong-order", None))
        .await
        .assert_refused("api", AuthError::Missing, &[]);
    // …but cannot document it: utoipa has already expanded.
    let op = operation("/wrong-order", "get");
    assert!(op.get("security").is_none(), "{op}");
    assert!(op["responses"].get("401").is_none(), "{op}");
}

#[test]
fn the_schemes_are_a_bearer_jwt_and_the_password_flow_with_every_scope() {
    let doc = document();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        (
            &schemes["bearer"]["type"],
            &schemes["bearer"]["scheme"],
            &schemes["bearer"]["bearerFormat"]
        ),
        (&json!("http"), &json!("bearer"), &json!("JWT"))
    );
    assert_eq!(schemes["oauth2"]["type"], "oauth2");
    let flow = &schemes["oauth2"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/token");
    let mut scopes: Vec<&str> = flow["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    scopes.sort_unstable();
    // The wrong-order handler's scope is not required by the document.
    assert_eq!(scopes, ["posts:read", "posts:write"]);
    // The names the attribute writes are the schemes' names.
    use jwt_guard::openapi::{BEARER, COOKIE, OAUTH2, QUERY, REFRESH_COOKIE};
    assert_eq!(
        [BEARER, OAUTH2, COOKIE, REFRESH_COOKIE, QUERY],
        ["bearer", "oauth2", "cookie", "refresh_cookie", "query"]
    );
    let body = &doc["components"]["schemas"]["AuthError"];
    assert_eq!(body["required"], json!(["error", "message"]));
    assert_eq!(body["properties"]["error"]["type"], "string");
}

#[tokio::test]
async fn documented_handlers_run_as_before() {
    let manager = TokenManager::builder()
        .hs256("an openapi test secret of 32 bytes!!")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/me", get(plain))
        .route("/feed", get(optional))
        .route("/posts", post(scoped))
        .route("/users/{username}", delete(checked))
        .route("/refresh", post(refresh))
        .route("/reports", get(own_declarations))
        .route("/live", get(by_cookie_or_query))
        .route("/session/refresh", post(refresh_by_cookie))
        .route("/settings", axum::routing::put(in_cfg_attr))
        .layer(manager.layer());
    let token = manager.access_token("alice").sign().unwrap();
    send(&app, req("/me", Some(token.as_str())))
        .await
        .assert_ok("alice");
    send(&app, req("/feed", None)).await.assert_ok("anonymous");
    let writer = manager
        .access_token("alice")
        .scope("posts:write posts:read")
        .sign()
        .unwrap();
    let post = request(Method::POST, "/posts", Some(writer.as_str()), None);
    send(&app, post).await.assert_ok("created");
    // The documented refusal, as documented.
    let post = request(Method::POST, "/posts", Some(token.as_str()), None);
    let reply = send(&app, post).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.error().0, "insufficient_scope");
    for (method, path) in [
        (Method::DELETE, "/users/alice"),
        (Method::POST, "/refresh"),
        (Method::GET, "/reports"),
        (Method::GET, "/live"),
        (Method::POST, "/session/refresh"),
        (Method::PUT, "/settings"),
    ] {
        let reply = send(&app, request(method, path, None, None)).await;
        reply.assert_refused("api", AuthError::Missing, &[]);
    }
}
