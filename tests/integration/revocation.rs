//! Revoking one token, and every token of a subject.

use std::time::Duration;

use axum::Router;
use jwt_guard::{AuthError, InvalidToken, TokenKind, TokenManager};

use crate::common::*;

/// `/me` for access tokens, `/refresh` for refresh tokens.
fn app(manager: &TokenManager) -> Router {
    refresh_app(manager)
}

#[tokio::test]
async fn a_revoked_token_is_refused_until_it_expires() {
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .leeway(Duration::from_secs(5))
        .build()
        .unwrap();
    let app = app(&m);
    let token = m
        .access_token("alice")
        .ttl(Duration::from_secs(60))
        .sign()
        .unwrap();
    let other = access(&m, "alice");
    revoke(&m, token.as_str(), TokenKind::Access).await;

    get_with(&app, "/me", token.as_str())
        .await
        .refused(InvalidToken::Revoked, &[token.as_str()]);
    // Only that token: another of the same subject still works.
    get_with(&app, "/me", &other).await.assert_ok("alice");
    // Still revoked at the last moment it would have been valid.
    clock.advance(Duration::from_secs(64));
    get_with(&app, "/me", token.as_str())
        .await
        .refused(InvalidToken::Revoked, &[token.as_str()]);
    clock.advance(Duration::from_secs(1));
    get_with(&app, "/me", token.as_str())
        .await
        .refused(InvalidToken::Expired, &[token.as_str()]);
}

#[tokio::test]
async fn revocations_outlast_the_longest_leeway() {
    // With a 5-minute leeway a token is valid until 5 minutes past `exp`:
    // a revocation of it, or of its subject, must be kept that long. The
    // store may forget an entry a minute after the `until` the manager
    // gives it, so that `until` must cover the leeway.
    const DAY: Duration = Duration::from_secs(86_400);
    let clock = TestClock::new();
    let store = RecordingStore::default();
    let m = builder()
        .clock(clock.clone())
        .leeway(Duration::from_secs(300))
        .refresh_ttl(DAY)
        .revocation_store(store.clone())
        .build()
        .unwrap();
    let app = app(&m);
    let token = m
        .access_token("alice")
        .ttl(Duration::from_secs(60))
        .sign()
        .unwrap();
    let refresh = m.refresh_token("bob").sign().unwrap();
    revoke(&m, token.as_str(), TokenKind::Access).await;
    m.revoke_subject("bob").await.unwrap();
    let leeway = Duration::from_secs(300);
    let calls: Vec<Call> = store
        .calls()
        .into_iter()
        .filter(|call| !matches!(call, Call::Lookup(_)))
        .collect();
    let start = refresh.expires_at() - DAY;
    assert_eq!(
        calls,
        [
            Call::Token {
                jti: token.jti().to_owned(),
                until: token.expires_at() + leeway,
            },
            Call::Subject {
                sub: "bob".to_owned(),
                issued_before: start,
                until: start + DAY + leeway + Duration::from_secs(1),
            },
        ]
    );
    // And the guard agrees: in the last second each token is valid, it is
    // refused as revoked.
    clock.advance(Duration::from_secs(60 + 299));
    get_with(&app, "/me", token.as_str())
        .await
        .refused(InvalidToken::Revoked, &[token.as_str()]);
    clock.advance(DAY - Duration::from_secs(60));
    get_with(&app, "/refresh", refresh.as_str())
        .await
        .refused(InvalidToken::Revoked, &[refresh.as_str()]);
    clock.advance(Duration::from_secs(1));
    get_with(&app, "/refresh", refresh.as_str())
        .await
        .refused(InvalidToken::Expired, &[refresh.as_str()]);
}

#[tokio::test]
async fn revoking_a_subject_refuses_earlier_tokens_only() {
    let m = manager();
    let app = app(&m);
    let before = access(&m, "alice");
    let refresh_before = m.refresh_token("alice").sign().unwrap();
    let bob = access(&m, "bob");
    m.revoke_subject("alice").await.unwrap();
    // Issued right after, within the same second: accepted.
    let after = access(&m, "alice");

    get_with(&app, "/me", &before)
        .await
        .refused(InvalidToken::Revoked, &[&before]);
    get_with(&app, "/refresh", refresh_before.as_str())
        .await
        .refused(InvalidToken::Revoked, &[refresh_before.as_str()]);
    get_with(&app, "/me", &after).await.assert_ok("alice");
    get_with(&app, "/me", &bob).await.assert_ok("bob");
}

#[tokio::test]
async fn subject_revocation_holds_with_a_frozen_clock() {
    // Even when the clock does not move at all, a token issued after the
    // revocation is accepted and one issued before is not.
    let clock = TestClock::new();
    let m = builder().clock(clock.clone()).build().unwrap();
    let app = app(&m);
    let before = access(&m, "alice");
    m.revoke_subject("alice").await.unwrap();
    let after = access(&m, "alice");
    get_with(&app, "/me", &before)
        .await
        .refused(InvalidToken::Revoked, &[&before]);
    get_with(&app, "/me", &after).await.assert_ok("alice");
    m.revoke_subject("alice").await.unwrap();
    get_with(&app, "/me", &after)
        .await
        .refused(InvalidToken::Revoked, &[&after]);
}

#[tokio::test]
async fn subject_revocation_outlives_every_token_it_covers() {
    const DAY: Duration = Duration::from_secs(86_400);
    let clock = TestClock::new();
    let store = RecordingStore::default();
    let m = builder()
        .clock(clock.clone())
        .refresh_ttl(90 * DAY)
        .revocation_store(store.clone())
        .build()
        .unwrap();
    let app = app(&m);
    // A "remember me" token, as long as the manager allows, and an ordinary
    // one with a shorter `ttl`.
    let remember = m.refresh_token("alice").sign().unwrap();
    let ordinary = m.refresh_token("alice").ttl(30 * DAY).sign().unwrap();
    assert_eq!(
        (remember.expires_in(), ordinary.expires_in()),
        (90 * 86_400, 30 * 86_400)
    );
    m.revoke_subject("alice").await.unwrap();
    // The cut-off is kept as long as the longest token it covers can be
    // valid: 90 days, the 30-second leeway, and a second for rounding.
    let Call::Subject {
        issued_before,
        until,
        ..
    } = store.calls()[0].clone()
    else {
        panic!("{:?}", store.calls());
    };
    assert_eq!(
        until.duration_since(issued_before).unwrap(),
        90 * DAY + Duration::from_secs(31)
    );
    assert!(until > remember.expires_at() + Duration::from_secs(30));
    // Long after the ordinary lifetime, and in the last second the long
    // one is valid, the revocation holds.
    for at in [31 * DAY, 60 * DAY, 90 * DAY + Duration::from_secs(29)] {
        clock.advance(at - clock.elapsed());
        get_with(&app, "/refresh", remember.as_str())
            .await
            .refused(InvalidToken::Revoked, &[remember.as_str()]);
    }
    // No token can outlive the manager's lifetime for its kind.
    let err = m.refresh_token("alice").ttl(91 * DAY).sign().unwrap_err();
    assert!(
        matches!(
            err,
            jwt_guard::IssueError::TtlTooLong {
                kind: TokenKind::Refresh,
                max_secs: 7_776_000
            }
        ),
        "{err:?}"
    );
    let err = m
        .access_token("alice")
        .ttl(16 * 60 * Duration::from_secs(1))
        .sign()
        .unwrap_err();
    assert!(err.to_string().contains("900"), "{err}");
}

#[tokio::test]
async fn a_token_living_longer_than_the_manager_allows_is_refused() {
    const DAY: Duration = Duration::from_secs(86_400);
    // Issued under a 90-day setting; verified after it was lowered to 30
    // days: the revocations kept would not cover it.
    let clock = TestClock::new();
    let before = builder()
        .clock(clock.clone())
        .refresh_ttl(90 * DAY)
        .build()
        .unwrap();
    let after = builder().clock(clock.clone()).build().unwrap();
    let long = before.refresh_token("alice").sign().unwrap();
    let within = before.refresh_token("alice").ttl(30 * DAY).sign().unwrap();
    let beyond = before
        .refresh_token("alice")
        .ttl(30 * DAY + Duration::from_secs(1))
        .sign()
        .unwrap();
    get_with(&app(&after), "/refresh", long.as_str())
        .await
        .refused(InvalidToken::Lifetime, &[long.as_str()]);
    get_with(&app(&after), "/refresh", beyond.as_str())
        .await
        .refused(InvalidToken::Lifetime, &[beyond.as_str()]);
    get_with(&app(&after), "/refresh", within.as_str())
        .await
        .assert_ok("alice");
    // The same for access tokens, at 15 minutes.
    let long = before
        .access_token("alice")
        .ttl(Duration::from_secs(16 * 60))
        .sign();
    assert!(long.is_err(), "the default access_ttl bounds ttl");
}

#[test]
fn lifetimes_are_bounded_at_build() {
    let year = Duration::from_secs(366 * 86_400);
    for (setting, builder) in [
        ("access_ttl", builder().access_ttl(Duration::MAX)),
        (
            "refresh_ttl",
            builder().refresh_ttl(year + Duration::from_secs(1)),
        ),
        ("access_ttl", builder().access_ttl(Duration::ZERO)),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
    }
    assert!(builder().refresh_ttl(year).access_ttl(year).build().is_ok());
}

/// The failing store's error: in the log, never in the reply.
const BROKEN: &str = "the store is down for maintenance";

#[tokio::test]
async fn a_failing_store_refuses_rather_than_lets_through() {
    let m = builder()
        .revocation_store(FailingStore(BROKEN))
        .build()
        .unwrap();
    let token = access(&m, "alice");
    get_with(&app(&m), "/me", &token)
        .await
        .refused(AuthError::StoreUnavailable, &[&token]);
    // The store's error is for the log, never for the client.
    let reply = get_with(&app(&m), "/me", &token).await;
    reply.assert_no_leak(&[BROKEN]);
    assert!(reply.log.unwrap()[0].contains(BROKEN));
    // Verify with a working manager of the same key to get a `Token`.
    let verified = manager().verify(&token, TokenKind::Access).await.unwrap();
    assert!(m.revoke(&verified).await.is_err());
    assert!(m.revoke_subject("alice").await.is_err());
}

#[tokio::test]
async fn a_custom_store_is_used() {
    // Two managers (two app instances) sharing one store.
    let store = RecordingStore::default();
    let a = builder().revocation_store(store.clone()).build().unwrap();
    let b = builder().revocation_store(store.clone()).build().unwrap();
    let token = access(&a, "alice");
    revoke(&a, &token, TokenKind::Access).await;
    assert_eq!(store.len(), 1);
    get_with(&app(&b), "/me", &token)
        .await
        .refused(InvalidToken::Revoked, &[&token]);
}
