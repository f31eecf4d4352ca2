//! Guarded handlers alongside other extractors, `Token` without the
//! attribute, the manager as an extractor, and which check answers for
//! which `Token`: one per request, never another requirement's.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{Request, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use jwt_guard::{AuthError, InvalidToken, Token, TokenKind, TokenManager, require_token};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::common::*;

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(Deserialize)]
struct Page {
    page: u32,
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

/// Docs and attributes survive the expansion.
#[require_token(sub = "username")]
#[allow(clippy::unused_async)]
async fn everything(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, u32)>,
    Query(page): Query<Page>,
    token: Token,
    Json(post): Json<NewPost>,
) -> Ran<Json<Value>> {
    Ran(Json(json!({
        "greeting": state.greeting,
        "user": username,
        "id": id,
        "page": page.page,
        "sub": token.sub(),
        "title": post.title,
    })))
}

#[require_token]
#[axum::debug_handler(state = AppState)]
async fn debugged(State(state): State<AppState>, token: Token) -> Ran<String> {
    Ran(format!("{} {}", state.greeting, token.sub()))
}

/// No attribute: `Token` verifies by itself, as a bare `#[require_token]`.
async fn plain(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

async fn maybe(token: Option<Token>) -> Ran<String> {
    Ran(token.map_or_else(|| "nobody".to_owned(), |t| t.sub().to_owned()))
}

async fn login(manager: TokenManager) -> Ran<String> {
    Ran(manager.access_token("new").sign().unwrap().into_string())
}

/// A refresh token where an access token is required.
const ACCESS_EXPECTED: InvalidToken = InvalidToken::WrongKind {
    expected: TokenKind::Access,
};

fn app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/users/{username}/posts/{id}", post(everything))
        .route("/debugged", get(debugged))
        .route("/plain", get(plain))
        .route("/maybe", get(maybe))
        .route("/login", post(login))
        .with_state(AppState { greeting: "hi" })
        .layer(manager.layer())
}

#[tokio::test]
async fn works_beside_state_path_query_and_json() {
    let m = manager();
    let token = access(&m, "alice");
    let request = Request::post("/users/alice/posts/7?page=2")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"title":"Hello"}"#))
        .unwrap();
    let reply = send(&app(&m), request).await;
    assert!(reply.ran() && reply.status == 200, "{reply:?}");
    assert_eq!(
        reply.json(),
        json!({"greeting": "hi", "user": "alice", "id": 7, "page": 2, "sub": "alice", "title": "Hello"})
    );
}

#[tokio::test]
async fn works_with_debug_handler() {
    let m = manager();
    get_with(&app(&m), "/debugged", &access(&m, "alice"))
        .await
        .assert_ok("hi alice");
    send(&app(&m), req("/debugged", None))
        .await
        .refused(AuthError::Missing, &[]);
}

#[tokio::test]
async fn token_alone_requires_a_valid_access_token() {
    let m = manager();
    let app = app(&m);
    get_with(&app, "/plain", &access(&m, "alice"))
        .await
        .assert_ok("alice");
    send(&app, req("/plain", None))
        .await
        .refused(AuthError::Missing, &[]);
    let refresh = m.refresh_token("alice").sign().unwrap();
    get_with(&app, "/plain", refresh.as_str())
        .await
        .refused(ACCESS_EXPECTED, &[refresh.as_str()]);

    send(&app, req("/maybe", None)).await.assert_ok("nobody");
    get_with(&app, "/maybe", &access(&m, "bob"))
        .await
        .assert_ok("bob");
    let mut bad = access(&m, "bob");
    bad.push('A');
    get_with(&app, "/maybe", &bad)
        .await
        .refused(InvalidToken::Signature, &[&bad]);
}

#[tokio::test]
async fn the_manager_is_an_extractor() {
    let m = manager();
    let request = Request::post("/login").body(Body::empty()).unwrap();
    let reply = send(&app(&m), request).await;
    assert!(reply.ran() && reply.status == 200, "{reply:?}");
    let token = m.verify(&reply.text, TokenKind::Access).await.unwrap();
    assert_eq!(token.sub(), "new");
}

#[tokio::test]
async fn token_exposes_its_claims() {
    let m = manager();
    let issued = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .claim("tenant", "acme")
        .claim("offset", -5)
        .claim("quote", "say \"hi\"")
        .sign()
        .unwrap();
    let token = m.verify(issued.as_str(), TokenKind::Access).await.unwrap();
    assert_eq!(token.sub(), "alice");
    assert_eq!(token.jti(), issued.jti());
    assert!(token.is_fresh());
    assert_eq!(token.as_str(), issued.as_str());
    assert_eq!(token.expires_at(), issued.expires_at());
    assert_eq!(token.scope().unwrap().get("admin"), Some(&json!(true)));
    assert_eq!(token.claim::<String>("tenant").as_deref(), Some("acme"));
    assert_eq!(token.claim::<u64>("tenant"), None);
    assert_eq!(token.claim::<i64>("offset"), Some(-5));
    assert_eq!(
        token.claim::<String>("quote").as_deref(),
        Some("say \"hi\"")
    );
    let all = token.claims();
    for name in [
        "iss", "sub", "iat", "nbf", "exp", "jti", "type", "fresh", "scope", "tenant", "offset",
        "quote",
    ] {
        assert!(all.contains_key(name), "{name} missing from {all:?}");
    }
    assert_eq!(all["type"], "access");
    assert_eq!(all["scope"], json!({"admin": true}));
    // jti is a time-ordered UUIDv7.
    assert_eq!(token.jti().as_bytes()[14], b'7');
}

#[require_token(refresh)]
async fn forward_refresh(
    axum::Extension(next): axum::Extension<Router>,
    request: Request<Body>,
) -> axum::response::Response {
    forward(next, request).await
}

#[require_token]
async fn forward_access(
    axum::Extension(next): axum::Extension<Router>,
    request: Request<Body>,
) -> axum::response::Response {
    forward(next, request).await
}

#[require_token(location(query))]
async fn forward_query(
    axum::Extension(next): axum::Extension<Router>,
    request: Request<Body>,
) -> axum::response::Response {
    forward(next, request).await
}

/// Passes the request, extensions and all, on to `/plain` of `next`.
async fn forward(next: Router, mut request: Request<Body>) -> axum::response::Response {
    use tower::ServiceExt as _;
    *request.uri_mut() = "/plain".parse().unwrap();
    next.oneshot(request).await.unwrap()
}

/// A middleware that checks for a refresh token before the route does.
#[require_token(refresh)]
async fn refresh_gate(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    next.run(request).await
}

/// A middleware that checks the token before the route does.
async fn checked_first(
    _token: Token,
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    next.run(request).await
}

#[tokio::test]
async fn a_verification_answers_only_for_its_manager_and_requirement() {
    let outer = manager();
    let inner = TokenManager::builder()
        .issuer("test")
        .hs256("another secret, for the nested router's manager")
        .clock(TestClock::new())
        .build()
        .unwrap();
    // The middleware checks under the outer manager; the nested router's
    // handler runs under its own.
    let app = Router::new()
        .nest(
            "/inner",
            Router::new()
                .route("/plain", get(plain))
                .layer(inner.layer()),
        )
        .route("/outer", get(plain))
        .layer(axum::middleware::from_fn(checked_first))
        .layer(outer.layer());
    let outer_token = access(&outer, "alice");
    get_with(&app, "/outer", &outer_token)
        .await
        .assert_ok("alice");
    get_with(&app, "/inner/plain", &outer_token)
        .await
        .refused(InvalidToken::Signature, &[&outer_token]);

    // A guard's verification answers for its own handler's `Token`, not for
    // a handler on another route the request is passed on to.
    let next: Router = Router::new().route("/plain", get(plain));
    let app = Router::new()
        .route("/forward-refresh", get(forward_refresh))
        .route("/forward-query", get(forward_query))
        .route("/forward-access", get(forward_access))
        .layer(axum::Extension(next))
        .layer(outer.layer());
    let refresh = outer.refresh_token("alice").sign().unwrap();
    get_with(&app, "/forward-refresh", refresh.as_str())
        .await
        .refused(ACCESS_EXPECTED, &[refresh.as_str()]);
    // No token where the manager looks.
    send(
        &app,
        req(&format!("/forward-query?access_token={outer_token}"), None),
    )
    .await
    .refused(AuthError::Missing, &[&outer_token]);
    // The control: an access token from the manager's locations, forwarded.
    get_with(&app, "/forward-access", &outer_token)
        .await
        .assert_ok("alice");
    // Passed on to a fallback, or to a handler service, where the route
    // stays the guard's own.
    let fallback: Router = Router::new().fallback(plain);
    let app = Router::new()
        .route("/forward-refresh", get(forward_refresh))
        .layer(axum::Extension(fallback))
        .layer(outer.layer());
    get_with(&app, "/forward-refresh", refresh.as_str())
        .await
        .refused(ACCESS_EXPECTED, &[refresh.as_str()]);
    // A refresh-token check in a middleware does not answer for the route's
    // own `Token`.
    let app = Router::new()
        .route("/plain", get(plain))
        .layer(axum::middleware::from_fn(refresh_gate))
        .layer(outer.layer());
    get_with(&app, "/plain", refresh.as_str())
        .await
        .refused(ACCESS_EXPECTED, &[refresh.as_str()]);
}

#[require_token(sub = "username")]
async fn own(Path(username): Path<String>, token: Token) -> Ran<String> {
    Ran(format!("{username} {}", token.sub()))
}

#[tokio::test]
async fn a_request_is_checked_once() {
    // The guard's check serves its handler's `Token`, and a check in a
    // middleware serves a later bare `Token`: one revocation lookup per
    // request, not one per extractor.
    let store = RecordingStore::default();
    let m = builder().revocation_store(store.clone()).build().unwrap();
    let token = access(&m, "alice");
    let app = Router::new()
        .route("/users/{username}", get(own))
        .layer(m.layer());
    get_with(&app, "/users/alice", &token)
        .await
        .assert_ok("alice alice");
    assert_eq!(store.lookups(), 1);
    let app = Router::new()
        .route("/plain", get(plain))
        .layer(axum::middleware::from_fn(checked_first))
        .layer(m.layer());
    get_with(&app, "/plain", &token).await.assert_ok("alice");
    assert_eq!(store.lookups(), 2);
}

/// A middleware that lets requests without a token through.
#[require_token(optional)]
async fn optional_gate(
    request: Request<Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    next.run(request).await
}

#[tokio::test]
async fn an_optional_check_does_not_answer_for_a_required_token() {
    // The middleware found no token; the handler's `Token` requires one.
    let m = manager();
    let app = Router::new()
        .route("/plain", get(plain))
        .route("/maybe", get(maybe))
        .layer(axum::middleware::from_fn(optional_gate))
        .layer(m.layer());
    send(&app, req("/plain", None))
        .await
        .refused(AuthError::Missing, &[]);
    send(&app, req("/maybe", None)).await.assert_ok("nobody");
    get_with(&app, "/plain", &access(&m, "alice"))
        .await
        .assert_ok("alice");
}
