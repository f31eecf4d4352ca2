//! The order of checks decides which error a request gets: each test sends
//! a token that fails two checks and expects the earlier one.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, header};
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};
use serde_json::json;

use crate::common::*;

#[require_token(fresh, sub = "username", scope(admin = true))]
async fn strict(Path(username): Path<String>, token: Token) -> String {
    format!("{username} {}", token.sub())
}

fn app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/strict/{username}", get(strict))
        .layer(manager.layer())
}

#[tokio::test]
async fn missing_token_is_401_without_error_code() {
    let m = manager();
    let reply = send(&app(&m), req("/strict/alice", None)).await;
    reply.assert_refused(401, r#"Bearer realm="test""#, None);
    assert_eq!(
        reply.json(),
        json!({"error": "unauthorized", "message": "a bearer token is required"})
    );
    // Another scheme is no bearer token.
    let basic = Request::get("/strict/alice")
        .header(header::AUTHORIZATION, "Basic YWxpY2U6c2VjcmV0")
        .body(Body::empty())
        .unwrap();
    send(&app(&m), basic)
        .await
        .assert_refused(401, r#"Bearer realm="test""#, None);
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    let invalid_request = |d: &str| {
        format!(r#"Bearer realm="test", error="invalid_request", error_description="{d}""#)
    };
    for value in ["Bearer", "Bearer ", "bearer    "] {
        let request = Request::get("/strict/alice")
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        send(&app, request).await.assert_refused(
            400,
            &invalid_request("the Bearer scheme needs a token"),
            None,
        );
    }
    let twice = Request::get("/strict/alice")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(&app, twice).await.assert_refused(
        400,
        &invalid_request("more than one Authorization header"),
        Some(&token),
    );
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let m = manager();
    let token = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let request = Request::get("/strict/alice")
            .header(
                header::AUTHORIZATION,
                format!("{scheme} {}", token.as_str()),
            )
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app(&m), request).await.status, 200, "{scheme}");
    }
}

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
    get_with(&app(&m), "/strict/alice", &forged)
        .await
        .assert_refused(
            401,
            &invalid_token("token signature is invalid"),
            Some(&forged),
        );
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
    get_with(&app(&m), "/strict/alice", refresh.as_str())
        .await
        .assert_refused(
            401,
            &invalid_token("token has expired"),
            Some(refresh.as_str()),
        );
}

#[tokio::test]
async fn kind_before_revocation() {
    let m = manager();
    let refresh = m.refresh_token("alice").sign().unwrap();
    revoke(&m, refresh.as_str(), jwt_guard::TokenKind::Refresh).await;
    get_with(&app(&m), "/strict/alice", refresh.as_str())
        .await
        .assert_refused(
            401,
            &invalid_token("refresh token used where an access token is required"),
            Some(refresh.as_str()),
        );
}

#[tokio::test]
async fn revocation_before_freshness() {
    let m = manager();
    let token = access(&m, "alice");
    revoke(&m, &token, jwt_guard::TokenKind::Access).await;
    get_with(&app(&m), "/strict/alice", &token)
        .await
        .assert_refused(401, &invalid_token("token has been revoked"), Some(&token));
}

#[tokio::test]
async fn freshness_before_sub() {
    let m = manager();
    let token = access(&m, "bob");
    let reply = get_with(&app(&m), "/strict/alice", &token).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.error().0, "insufficient_user_authentication");
}

#[tokio::test]
async fn sub_before_scope() {
    let m = manager();
    let token = m.access_token("bob").fresh(true).sign().unwrap();
    let reply = get_with(&app(&m), "/strict/alice", token.as_str()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.error().1,
        "token `sub` does not match the `username` path parameter"
    );
    assert!(!reply.challenge().unwrap().contains("scope="));
}

#[tokio::test]
async fn scope_last() {
    let m = manager();
    let token = m.access_token("alice").fresh(true).sign().unwrap();
    let reply = get_with(&app(&m), "/strict/alice", token.as_str()).await;
    assert_eq!(reply.status, 403);
    assert!(reply.challenge().unwrap().ends_with(r#"scope="admin""#));
    let good = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    let reply = get_with(&app(&m), "/strict/alice", good.as_str()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "alice alice")
    );
}

#[tokio::test]
async fn registered_claims_are_checked() {
    let clock = TestClock::new();
    let strict = |b: jwt_guard::TokenManagerBuilder| b.clock(clock.clone()).build().unwrap();
    let m = strict(builder().audience("web"));
    let app = app(&m);
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
    let reply = get_with(&self::app(&plain), "/strict/alice", &with_aud).await;
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
    get_with(&app(&now), "/strict/alice", &token)
        .await
        .assert_refused(401, &invalid_token("token is not yet valid"), Some(&token));
    // Within the leeway (30 s by default) it passes the time checks.
    clock.advance(Duration::from_secs(1));
    let reply = get_with(&app(&now), "/strict/alice", &token).await;
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
        let reply = get_with(&app(&m), "/strict/alice", token.as_str()).await;
        assert_eq!(reply.status, 200, "leeway {leeway}");
        clock.advance(Duration::from_secs(1));
        get_with(&app(&m), "/strict/alice", token.as_str())
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
    let app = app(&m);
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
