//! What the integration tests share: the test manager, its secret and keys,
//! and its challenges; the HTTP helpers and the movable clock come from
//! `jwt-guard-test-support`, shared with the examples' tests.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::{AuthError, Token, TokenManager, TokenManagerBuilder, require_token};

pub use jwt_guard_test_support::*;

pub const SECRET: &str = "test secret that is long enough for hs256!";

/// The test manager's settings: HS256 with [`SECRET`], issuer and realm
/// `test`, and a [`TestClock`] that stands still unless a test takes its
/// own clock and moves it, so no test depends on when it runs.
pub fn builder() -> TokenManagerBuilder {
    TokenManager::builder()
        .issuer("test")
        .hs256(SECRET)
        .clock(TestClock::new())
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

/// The body of a test key's PEM file, line by line: what must never be
/// printed or sent.
pub fn key_lines(name: &str) -> Vec<String> {
    String::from_utf8(key(name))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .map(str::to_owned)
        .collect()
}

pub fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[require_token(fresh, sub = "username", scope(admin = true))]
async fn strict(Path(username): Path<String>, token: Token) -> Ran<String> {
    Ran(format!("{username} {}", token.sub()))
}

/// `/strict/{username}`: a handler with a requirement at every step (fresh,
/// `sub`, scope), so a test can fail two checks at once and see which wins,
/// or see that nothing but the token's transport or validity decides.
pub fn strict_app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/strict/{username}", get(strict))
        .layer(manager.layer())
}

#[require_token(refresh)]
async fn refresh(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

/// `/me` for access tokens and `/refresh` for refresh tokens.
pub fn refresh_app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/refresh", get(refresh))
        .layer(manager.layer())
}

/// The realm of the test manager's challenges: its issuer.
pub const REALM: &str = "test";

/// [`Reply::assert_refused`] in the test manager's realm.
pub trait Refused {
    /// Asserts that the request was refused for `expected` and nothing
    /// else, that the handler did not run, and that no part of `secrets`
    /// (and of the test secret) leaked.
    fn refused(&self, expected: impl Into<AuthError>, secrets: &[&str]);
}

impl Refused for Reply {
    #[track_caller]
    fn refused(&self, expected: impl Into<AuthError>, secrets: &[&str]) {
        self.assert_refused(REALM, expected, secrets);
        self.assert_no_leak(&[SECRET]);
    }
}
