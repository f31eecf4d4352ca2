//! Every refusal is logged as a `tracing` event, never with the token.
//!
//! This file must stay its own test binary, with this one test: it sets the
//! process-wide `tracing` subscriber, which can be set only once, and reads
//! every event of the process, so any other test in the same binary would
//! fail to set it or write into its log.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};
use jwt_guard_test_support::status;

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
    assert_eq!(status(&app, "/admin", Some(&bad)).await, 401);
    assert_eq!(status(&app, "/admin", None).await, 401);
    assert_eq!(status(&app, "/admin", Some(&user)).await, 403);
    let unmanaged = Router::new().route("/admin", get(admin));
    assert_eq!(status(&unmanaged, "/admin", Some(&user)).await, 500);

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
