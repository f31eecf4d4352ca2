//! What makes a token valid apart from its signature and kind: the size
//! bound and the compact form, the time claims within the leeway, the issuer
//! and the audience. Each refusal is checked with its exact challenge, on the
//! handler with every requirement: validity is decided before any of them.

use std::time::Duration;

use jwt_guard::TokenManager;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn registered_claims_are_checked() {
    let clock = TestClock::new();
    let strict = |b: jwt_guard::TokenManagerBuilder| b.clock(clock.clone()).build().unwrap();
    let m = strict(builder().audience("web"));
    let app = strict_app(&m);
    let good = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    assert_eq!(
        get_with(&app, "/strict/alice", good.as_str()).await.status,
        200
    );

    let cases = [
        (
            strict(builder().issuer("elsewhere").audience("web")),
            "token issuer is not accepted",
        ),
        (
            strict(TokenManager::builder().hs256(SECRET).audience("web")),
            "token issuer is not accepted",
        ),
        (
            strict(builder().audience("mobile")),
            "token audience is not accepted",
        ),
        (strict(builder()), "token audience is not accepted"),
    ];
    for (issuer, description) in cases {
        let token = access(&issuer, "alice");
        get_with(&app, "/strict/alice", &token)
            .await
            .assert_refused(401, &invalid_token(description), Some(&token));
    }
    // A manager without an audience refuses a token that carries one.
    let plain = strict(builder());
    let with_aud = access(&m, "alice");
    let reply = get_with(&strict_app(&plain), "/strict/alice", &with_aud).await;
    reply.assert_refused(
        401,
        &invalid_token("token audience is not accepted"),
        Some(&with_aud),
    );
}

#[tokio::test]
async fn not_yet_valid_and_issued_in_the_future() {
    let clock = TestClock::new();
    let now = builder().clock(clock.clone()).build().unwrap();
    let future_clock = TestClock::new();
    future_clock.advance(Duration::from_secs(31));
    let future = builder().clock(future_clock).build().unwrap();
    let token = access(&future, "alice");
    get_with(&strict_app(&now), "/strict/alice", &token)
        .await
        .assert_refused(401, &invalid_token("token is not yet valid"), Some(&token));
    // Within the leeway (30 s by default) it passes the time checks.
    clock.advance(Duration::from_secs(1));
    let reply = get_with(&strict_app(&now), "/strict/alice", &token).await;
    assert_eq!(reply.error().0, "insufficient_user_authentication");
}

#[tokio::test]
async fn expiry_with_and_without_leeway() {
    for leeway in [0u64, 30] {
        let clock = TestClock::new();
        let m = builder()
            .clock(clock.clone())
            .leeway(Duration::from_secs(leeway))
            .build()
            .unwrap();
        let token = m
            .access_token("alice")
            .fresh(true)
            .scope(json!({"admin": true}))
            .ttl(Duration::from_secs(60))
            .sign()
            .unwrap();
        // The clock starts on a whole second, so exp is exactly 60 s away.
        clock.advance(Duration::from_secs(59 + leeway));
        let reply = get_with(&strict_app(&m), "/strict/alice", token.as_str()).await;
        assert_eq!(reply.status, 200, "leeway {leeway}");
        clock.advance(Duration::from_secs(1));
        get_with(&strict_app(&m), "/strict/alice", token.as_str())
            .await
            .assert_refused(
                401,
                &invalid_token("token has expired"),
                Some(token.as_str()),
            );
    }
}

#[tokio::test]
async fn oversized_and_malformed_tokens() {
    let m = builder().max_token_bytes(1024).build().unwrap();
    let app = strict_app(&m);
    let huge = "a".repeat(1025);
    get_with(&app, "/strict/alice", &huge).await.assert_refused(
        401,
        &invalid_token("token is too large"),
        None,
    );
    for junk in ["abc", "a.b", "a.b.c.d", "..", "e30.e30.", "!!!.e30.e30"] {
        get_with(&app, "/strict/alice", junk).await.assert_refused(
            401,
            &invalid_token("token is malformed"),
            None,
        );
    }
}
