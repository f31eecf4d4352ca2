//! What the integration tests share: the test manager, its secret and keys,
//! and its challenges; the HTTP helpers and the movable clock come from
//! `jwt-guard-test-support`, shared with the examples' tests.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::{Token, TokenManager, TokenManagerBuilder, require_token};

pub use jwt_guard_test_support::*;

pub const SECRET: &str = "test secret that is long enough for hs256!";

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

#[require_token(fresh, sub = "username", scope(admin = true))]
async fn strict(Path(username): Path<String>, token: Token) -> String {
    format!("{username} {}", token.sub())
}

/// `/strict/{username}`: a handler with a requirement at every step (fresh,
/// `sub`, scope), so a test can fail two checks at once and see which wins,
/// or see that nothing but the token's transport or validity decides.
pub fn strict_app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/strict/{username}", get(strict))
        .layer(manager.layer())
}

/// The challenge of a 401 `invalid_token` refusal by the test manager.
pub fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="test", error="invalid_token", error_description="{description}""#)
}
