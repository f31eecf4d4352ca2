//! Every kind of refusal is logged as exactly one `tracing` event, never
//! with the token or the secret.
//!
//! This file must stay its own test binary, with this one test: it sets the
//! process-wide `tracing` subscriber, which can be set only once, and reads
//! every event of the process, so any other test in the same binary would
//! fail to set it or write into its log.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::{get, post};
use jwt_guard::{Token, TokenManager, TokenManagerBuilder, require_token};
use jwt_guard_test_support::{FailingStore, Lines, Ran, Reply, read, req};
use tower::ServiceExt as _;

const SECRET: &str = "a logging test secret of at least 32 bytes";
/// The failing store's error, which the log carries.
const DOWN: &str = "the store is down";

#[require_token(scope(admin = true))]
async fn admin(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(fresh)]
async fn fresh(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(location(cookie))]
async fn cookie(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

/// Sends `request` to `app` with the process-wide subscriber: the test
/// support's `send` sets one of its own for each request.
async fn send(app: &Router, request: Request<Body>) -> Reply {
    read(app.clone().oneshot(request).await.unwrap()).await
}

fn builder() -> TokenManagerBuilder {
    TokenManager::builder().hs256(SECRET)
}

#[tokio::test]
async fn every_refusal_is_logged_once_without_the_token() {
    let lines = Lines::default();
    let writer = lines.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let manager = builder().build().unwrap();
    let app = Router::new()
        .route("/admin", get(admin))
        .route("/fresh", get(fresh))
        .route("/cookie", post(cookie))
        .layer(manager.layer());
    let mut bad = manager.access_token("alice").sign().unwrap().into_string();
    bad.push('A');
    let user = manager.access_token("bob").sign().unwrap();
    let tokens = [bad.clone(), user.as_str().to_owned()];
    let twice = Request::get("/admin")
        .header(header::AUTHORIZATION, format!("Bearer {}", user.as_str()))
        .header(header::AUTHORIZATION, format!("Bearer {}", user.as_str()))
        .body(Body::empty())
        .unwrap();
    let no_csrf = Request::post("/cookie")
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", user.as_str()),
        )
        .header(header::HOST, "api.test")
        .header(header::ORIGIN, "https://api.test")
        .body(Body::empty())
        .unwrap();
    let unmanaged = Router::new().route("/admin", get(admin));
    let failing = builder()
        .revocation_store(FailingStore(DOWN))
        .build()
        .unwrap();
    let failing_app = Router::new()
        .route("/admin", get(admin))
        .layer(failing.layer());

    let cases = [
        (
            send(&app, req("/admin", Some(&bad))).await.status,
            "INFO jwt_guard: request refused status=401 code=\"invalid_token\" reason=token signature is invalid",
        ),
        (
            send(&app, req("/admin", None)).await.status,
            "DEBUG jwt_guard: request refused: no token status=401",
        ),
        (
            send(&app, req("/admin", Some(user.as_str()))).await.status,
            "INFO jwt_guard: request refused status=403 code=\"insufficient_scope\" reason=token scope lacks `admin`",
        ),
        (
            send(&app, req("/fresh", Some(user.as_str()))).await.status,
            "INFO jwt_guard: request refused status=401 code=\"insufficient_user_authentication\" reason=fresh token required",
        ),
        (
            send(&app, twice).await.status,
            "INFO jwt_guard: request refused status=400 code=\"invalid_request\" reason=more than one Authorization header",
        ),
        (
            send(&app, no_csrf).await.status,
            "INFO jwt_guard: request refused status=401 code=\"invalid_token\" reason=CSRF token missing or does not match",
        ),
        (
            send(&unmanaged, req("/admin", Some(user.as_str())))
                .await
                .status,
            "ERROR jwt_guard: request refused: server misconfiguration status=500 detail=\"no TokenManager",
        ),
        (
            send(&failing_app, req("/admin", Some(user.as_str())))
                .await
                .status,
            "ERROR jwt_guard: token refused: revocation store failed error=revocation store error: the store is down",
        ),
    ];
    // Each request above wrote its event before the next was sent; read
    // them back in order, one request at a time.
    let log = lines.take();
    assert_eq!(
        log.len(),
        cases.len(),
        "one event per refusal:\n{}",
        log.join("\n")
    );
    for ((status, expected), line) in cases.iter().zip(&log) {
        assert!(
            line.contains(expected),
            "{status}: {expected:?} not in {line:?}"
        );
        for token in &tokens {
            for part in token.split('.') {
                assert!(!line.contains(part), "the log holds a token: {line}");
            }
        }
        assert!(!line.contains(SECRET));
    }
}
