//! What the integration tests share: the test manager, its secret and keys,
//! and its challenges; the HTTP helpers and the movable clock come from
//! `jwt-guard-test-support`, shared with the examples' tests.

use jwt_guard::{TokenManager, TokenManagerBuilder};

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

/// The challenge of a 401 `invalid_token` refusal by the test manager.
pub fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="test", error="invalid_token", error_description="{description}""#)
}
