//! What makes a token valid apart from its signature and kind: the size
//! bounds and the compact form, the time claims within the leeway, the
//! issuer and the audience. Each check is reached by a token that only it
//! can refuse, beside a control that the same token without the one change
//! is accepted.

use std::time::Duration;

use jwt_guard::{InvalidToken, TokenManager};
use serde_json::json;

use crate::common::*;
use crate::forge::*;

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
    get_with(&app, "/strict/alice", good.as_str())
        .await
        .assert_ok("alice alice");

    let cases = [
        (
            strict(builder().issuer("elsewhere").audience("web")),
            InvalidToken::Issuer,
        ),
        (
            strict(TokenManager::builder().hs256(SECRET).audience("web")),
            InvalidToken::Issuer,
        ),
        (strict(builder().audience("mobile")), InvalidToken::Audience),
        (strict(builder()), InvalidToken::Audience),
    ];
    for (issuer, reason) in cases {
        let token = access(&issuer, "alice");
        get_with(&app, "/strict/alice", &token)
            .await
            .refused(reason, &[&token]);
    }
    // A manager without an audience refuses a token that carries one.
    let plain = strict(builder());
    let with_aud = access(&m, "alice");
    get_with(&strict_app(&plain), "/strict/alice", &with_aud)
        .await
        .refused(InvalidToken::Audience, &[&with_aud]);
}

#[tokio::test]
async fn not_yet_valid_within_and_beyond_the_leeway() {
    let clock = TestClock::new();
    let now = builder().clock(clock.clone()).build().unwrap();
    let future_clock = TestClock::new();
    future_clock.advance(Duration::from_secs(31));
    let future = builder().clock(future_clock).build().unwrap();
    let token = access(&future, "alice");
    get_with(&me_app(&now), "/me", &token)
        .await
        .refused(InvalidToken::NotYetValid, &[&token]);
    // Within the leeway (30 s by default) it is valid.
    clock.advance(Duration::from_secs(1));
    get_with(&me_app(&now), "/me", &token)
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn issued_in_the_future_is_refused_by_iat_alone() {
    // The library sets `nbf` to `iat`, so the `nbf` check would answer
    // first: these tokens have no `nbf`, or one earlier than `iat`, so only
    // the `iat` check can refuse them. The leeway is 30 s.
    let app = me_app(&manager());
    let now = now();
    let iat = |iat: u64| format!(r#""iat":{iat}"#);
    let at_now = iat(now);
    for nbf in [None, Some(now - 60)] {
        let with = |issued: u64| {
            let mut claims: serde_json::Value =
                serde_json::from_str(&claims_text(&[(&at_now, &iat(issued))])).unwrap();
            match nbf {
                Some(nbf) => claims["nbf"] = json!(nbf),
                None => {
                    claims.as_object_mut().unwrap().remove("nbf");
                }
            }
            genuine_hs(HS_HEADER, &claims.to_string())
        };
        get_with(&app, "/me", &with(now + 30))
            .await
            .assert_ok("alice");
        let future = with(now + 31);
        get_with(&app, "/me", &future)
            .await
            .refused(InvalidToken::IssuedInFuture, &[&future]);
    }
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
            .ttl(Duration::from_secs(60))
            .sign()
            .unwrap();
        // The clock starts on a whole second, so exp is exactly 60 s away.
        clock.advance(Duration::from_secs(59 + leeway));
        get_with(&me_app(&m), "/me", token.as_str())
            .await
            .assert_ok("alice");
        clock.advance(Duration::from_secs(1));
        get_with(&me_app(&m), "/me", token.as_str())
            .await
            .refused(InvalidToken::Expired, &[token.as_str()]);
    }
}

#[tokio::test]
async fn the_token_size_bound_is_exact() {
    let genuine = access(&manager(), "alice");
    let bound = |bytes: usize| me_app(&builder().max_token_bytes(bytes).build().unwrap());
    get_with(&bound(genuine.len()), "/me", &genuine)
        .await
        .assert_ok("alice");
    get_with(&bound(genuine.len() - 1), "/me", &genuine)
        .await
        .refused(InvalidToken::TooLarge, &[&genuine]);
}

/// An HS256 header of exactly `bytes` bytes, padded with a member the
/// verifier skips.
fn header_of(bytes: usize) -> String {
    let empty = r#"{"alg":"HS256","pad":""}"#;
    let header = format!(
        r#"{{"alg":"HS256","pad":"{}"}}"#,
        "x".repeat(bytes - empty.len())
    );
    assert_eq!(header.len(), bytes);
    header
}

#[tokio::test]
async fn the_header_size_bound_is_exact() {
    // 512 decoded bytes are accepted, 513 refused before they are parsed;
    // both tokens are far below `max_token_bytes`.
    let app = me_app(&manager());
    let payload = claims("alice").to_string();
    let largest = genuine_hs(&header_of(512), &payload);
    assert!(largest.len() < 2048);
    get_with(&app, "/me", &largest).await.assert_ok("alice");
    let over = genuine_hs(&header_of(513), &payload);
    get_with(&app, "/me", &over)
        .await
        .refused(InvalidToken::TooLarge, &[&over]);
}

#[tokio::test]
async fn the_signature_size_bound_is_exact() {
    // An RSA-8192 signature is 1024 bytes, the largest accepted: one byte
    // less fails the signature check, one byte more the size check.
    let m = TokenManager::builder()
        .issuer("test")
        .rs256_pem(key("rsa8192-private"), key("rsa8192-public"))
        .clock(TestClock::new())
        .build()
        .unwrap();
    let app = me_app(&m);
    let genuine = access(&m, "alice");
    let signature = signature_bytes(&genuine);
    assert_eq!(signature.len(), 1024);
    get_with(&app, "/me", &genuine).await.assert_ok("alice");
    let shorter = with_signature(&genuine, &b64(&signature[..1023]));
    get_with(&app, "/me", &shorter)
        .await
        .refused(InvalidToken::Signature, &[&shorter]);
    let longer = with_signature(&genuine, &b64([signature.as_slice(), &[0]].concat()));
    assert!(longer.len() < 8192);
    get_with(&app, "/me", &longer)
        .await
        .refused(InvalidToken::TooLarge, &[&longer]);
}

#[tokio::test]
async fn malformed_tokens() {
    let app = strict_app(&manager());
    // Among them, one empty part at a time: the header, the payload, the
    // signature.
    for junk in [
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        ".e30.e30",
        "e30..e30",
        "e30.e30.",
        "!!!.e30.e30",
    ] {
        get_with(&app, "/strict/alice", junk)
            .await
            .refused(InvalidToken::Malformed, &[]);
    }
}

#[tokio::test]
async fn a_token_of_any_size_within_the_bound_is_read() {
    // Payloads of up to 1536 bytes are decoded on the stack, larger ones on
    // the heap: every size on both sides of that line is read alike.
    let m = manager();
    let app = me_app(&m);
    let mut sizes = Vec::new();
    for pad in 1350..1400 {
        let token = m
            .access_token("alice")
            .claim("pad", "x".repeat(pad))
            .sign()
            .unwrap();
        let payload = token.as_str().split('.').nth(1).unwrap();
        sizes.push(payload.len() * 3 / 4);
        get_with(&app, "/me", token.as_str())
            .await
            .assert_ok("alice");
    }
    for size in 1534..=1538 {
        assert!(
            sizes.contains(&size),
            "no payload of {size} bytes in {sizes:?}"
        );
    }
}
