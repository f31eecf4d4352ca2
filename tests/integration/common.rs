//! Shared helpers: managers, a movable clock, requests and responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use jwt_guard::{Clock, TokenManager, TokenManagerBuilder};
use serde_json::Value;
use tower::ServiceExt as _;

pub const SECRET: &str = "test secret that is long enough for hs256!";

/// A clock tests move by hand, shared by its clones.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    /// Starts at a fixed, recent time.
    pub fn new() -> Self {
        Self(Arc::new(AtomicU64::new(1_800_000_000_000)))
    }

    pub fn advance(&self, by: Duration) {
        self.0
            .fetch_add(u64::try_from(by.as_millis()).unwrap(), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
}

pub fn builder() -> TokenManagerBuilder {
    TokenManager::builder().issuer("test").hs256(SECRET)
}

pub fn manager() -> TokenManager {
    builder().build().unwrap()
}

pub fn access(manager: &TokenManager, sub: &str) -> String {
    manager.access_token(sub).sign().unwrap().into_string()
}

/// A builder method that takes a PEM key pair, such as `rs256_pem`.
pub type Setter = fn(TokenManagerBuilder, Vec<u8>, Vec<u8>) -> TokenManagerBuilder;

/// Verifies `encoded` as a token of `kind` and revokes it.
pub async fn revoke(manager: &TokenManager, encoded: &str, kind: jwt_guard::TokenKind) {
    let token = manager.verify(encoded, kind).await.unwrap();
    manager.revoke(&token).await.unwrap();
}

pub fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub fn challenge(&self) -> Option<&str> {
        self.headers
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap())
    }

    /// The JSON error body's `error` and `message`.
    pub fn error(&self) -> (String, String) {
        let json = self.json();
        (
            json["error"].as_str().unwrap().to_owned(),
            json["message"].as_str().unwrap().to_owned(),
        )
    }

    /// Asserts a refusal: status, challenge, and a JSON body that echoes
    /// nothing of the token.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, challenge: &str, token: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.challenge(), Some(challenge), "{self:?}");
        let (code, message) = self.error();
        assert!(!code.is_empty() && !message.is_empty());
        if let Some(token) = token {
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(
                    !self.text.contains(part),
                    "body echoes the token: {}",
                    self.text
                );
            }
        }
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub fn req(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

pub async fn get_with(app: &Router, uri: &str, token: &str) -> Reply {
    send(app, req(uri, Some(token))).await
}

pub fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="test", error="invalid_token", error_description="{description}""#)
}
