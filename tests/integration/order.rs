//! The order of checks decides which error a request gets: each test sends
//! a token that fails two checks and expects the earlier one.

use std::time::Duration;

use jwt_guard::{AuthError, Forbidden, InvalidToken, TokenKind, TokenManager};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn signature_before_time() {
    // Expired and badly signed: the signature is checked first.
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let other = TokenManager::builder()
        .issuer("test")
        .hs256("another secret that is long enough too!!")
        .clock(clock.clone())
        .build()
        .unwrap();
    let forged = access(&other, "alice");
    clock.advance(Duration::from_secs(3600));
    get_with(&strict_app(&m), "/strict/alice", &forged)
        .await
        .refused(InvalidToken::Signature, &[&forged]);
}

#[tokio::test]
async fn time_before_kind() {
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    let refresh = m
        .refresh_token("alice")
        .ttl(Duration::from_secs(60))
        .sign()
        .unwrap();
    clock.advance(Duration::from_secs(61));
    get_with(&strict_app(&m), "/strict/alice", refresh.as_str())
        .await
        .refused(InvalidToken::Expired, &[refresh.as_str()]);
}

#[tokio::test]
async fn kind_before_revocation() {
    let m = manager();
    let refresh = m.refresh_token("alice").sign().unwrap();
    revoke(&m, refresh.as_str(), TokenKind::Refresh).await;
    get_with(&strict_app(&m), "/strict/alice", refresh.as_str())
        .await
        .refused(
            InvalidToken::WrongKind {
                expected: TokenKind::Access,
            },
            &[refresh.as_str()],
        );
}

#[tokio::test]
async fn revocation_before_freshness() {
    let m = manager();
    let token = access(&m, "alice");
    revoke(&m, &token, TokenKind::Access).await;
    get_with(&strict_app(&m), "/strict/alice", &token)
        .await
        .refused(InvalidToken::Revoked, &[&token]);
}

#[tokio::test]
async fn freshness_before_sub() {
    let m = manager();
    let token = access(&m, "bob");
    get_with(&strict_app(&m), "/strict/alice", &token)
        .await
        .refused(AuthError::NotFresh, &[&token]);
}

#[tokio::test]
async fn sub_before_scope() {
    let m = manager();
    let token = m.access_token("bob").fresh(true).sign().unwrap();
    get_with(&strict_app(&m), "/strict/alice", token.as_str())
        .await
        .refused(
            Forbidden::PathMismatch {
                claim: "sub",
                param: "username",
            },
            &[token.as_str()],
        );
}

#[tokio::test]
async fn scope_last() {
    let m = manager();
    let token = m.access_token("alice").fresh(true).sign().unwrap();
    get_with(&strict_app(&m), "/strict/alice", token.as_str())
        .await
        .refused(
            Forbidden::Scope {
                missing: vec!["admin"],
            },
            &[token.as_str()],
        );
    let good = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    get_with(&strict_app(&m), "/strict/alice", good.as_str())
        .await
        .assert_ok("alice alice");
}
