//! Every refusal is logged as a `tracing` event, never with the token. (Its
//! own binary: it installs the process-wide subscriber.)

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};
use tower::ServiceExt as _;

const SECRET: &str = "a logging test secret of at least 32 bytes";

/// Collects log lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[require_token(scope(admin = true))]
async fn admin(token: Token) -> String {
    token.sub().to_owned()
}

async fn status(app: &Router, token: Option<&str>) -> u16 {
    let mut request = Request::get("/admin");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Body::empty()).unwrap();
    app.clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_refusal_is_logged_without_the_token() {
    let lines = Lines::default();
    let writer = lines.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let manager = TokenManager::builder().hs256(SECRET).build().unwrap();
    let app = Router::new()
        .route("/admin", get(admin))
        .layer(manager.layer());
    let mut bad = manager.access_token("alice").sign().unwrap().into_string();
    bad.push('A');
    let user = manager.access_token("bob").sign().unwrap().into_string();
    assert_eq!(status(&app, Some(&bad)).await, 401);
    assert_eq!(status(&app, None).await, 401);
    assert_eq!(status(&app, Some(&user)).await, 403);
    let unmanaged = Router::new().route("/admin", get(admin));
    assert_eq!(status(&unmanaged, Some(&user)).await, 500);

    let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "request refused status=401 code=\"invalid_token\" reason=token signature is invalid",
        "request refused: no token status=401",
        "request refused status=403 code=\"insufficient_scope\" reason=token scope lacks `admin`",
        "ERROR jwt_guard: request refused: server misconfiguration status=500 detail=\"no TokenManager",
    ] {
        assert!(log.contains(expected), "{expected:?} not in:\n{log}");
    }
    for token in [&bad, &user] {
        for part in token.split('.') {
            assert!(!log.contains(part), "the log holds a token: {log}");
        }
    }
    assert!(!log.contains(SECRET));
}
