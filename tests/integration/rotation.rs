//! Families of tokens (one login and its refreshes), `rotate`, single-use
//! refresh tokens and reuse detection, on the in-memory store. The same on
//! Redis is in `tests/redis`.

use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use jwt_guard::{AuthError, InvalidToken, IssueError, IssuedToken, Token, TokenKind, TokenManager};
use serde_json::json;

use crate::common::*;

/// `/me` for access tokens, `/refresh` for refresh tokens.
fn app(manager: &TokenManager) -> Router {
    refresh_app(manager)
}

fn rotating() -> TokenManager {
    builder().refresh_rotation(true).build().unwrap()
}

/// A login: a refresh token, and a fresh access token of its family.
fn login(manager: &TokenManager, sub: &str) -> (IssuedToken, IssuedToken) {
    let refresh = manager
        .refresh_token(sub)
        .scope(json!({ "admin": true }))
        .claim("tenant", "acme")
        .sign()
        .unwrap();
    let access = manager
        .access_token(sub)
        .fresh(true)
        .family(&refresh)
        .sign()
        .unwrap();
    (access, refresh)
}

async fn verified(manager: &TokenManager, token: &IssuedToken) -> Token {
    manager.verify(token.as_str(), token.kind()).await.unwrap()
}

#[tokio::test]
async fn every_refresh_token_starts_or_continues_a_family() {
    let m = manager();
    let (access, refresh) = login(&m, "alice");
    // A new refresh token starts its own family, named by its jti.
    assert_eq!(refresh.sid(), Some(refresh.jti()));
    assert_eq!(access.sid(), refresh.sid());
    let token = verified(&m, &access).await;
    assert_eq!(token.sid(), refresh.sid());
    assert_eq!(token.claims()["sid"], json!(refresh.jti()));
    // An access token on its own belongs to none.
    let alone = m.access_token("alice").sign().unwrap();
    assert_eq!(alone.sid(), None);
    assert_eq!(verified(&m, &alone).await.sid(), None);
    // `sid` is the manager's: no custom claim may take its name.
    assert!(matches!(
        m.access_token("alice").claim("sid", "mine").sign(),
        Err(IssueError::ReservedClaim(name)) if name == "sid"
    ));
}

#[tokio::test]
async fn rotate_issues_the_next_pair_of_the_family() {
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .refresh_rotation(true)
        .build()
        .unwrap();
    let (_, refresh) = login(&m, "alice");
    // A "remember me for a day" refresh token keeps its own lifetime.
    let day = m
        .refresh_token("alice")
        .ttl(Duration::from_secs(86_400))
        .sign()
        .unwrap();
    clock.advance(Duration::from_secs(10));
    let (access, next) = m.rotate(&verified(&m, &refresh).await).await.unwrap();
    let (access, next) = (verified(&m, &access).await, verified(&m, &next).await);
    for token in [&access, &next] {
        assert_eq!(token.sub(), "alice");
        assert_eq!(token.sid(), refresh.sid());
        assert_eq!(token.claims()["scope"], json!({ "admin": true }));
        assert_eq!(token.claim::<String>("tenant").as_deref(), Some("acme"));
    }
    assert_eq!(
        (access.kind(), access.is_fresh()),
        (TokenKind::Access, false)
    );
    assert_eq!(next.kind(), TokenKind::Refresh);
    assert_ne!(next.jti(), refresh.jti());
    let secs = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let lifetime = |t: &Token| secs(t.expires_at()) - secs(t.issued_at());
    assert_eq!(lifetime(&access), 15 * 60);
    assert_eq!(lifetime(&next), 30 * 86_400);
    let (_, next_day) = m.rotate(&verified(&m, &day).await).await.unwrap();
    assert_eq!(lifetime(&verified(&m, &next_day).await), 86_400);
    // Only refresh tokens rotate.
    assert_eq!(
        m.rotate(&access).await.unwrap_err(),
        AuthError::InvalidToken(InvalidToken::WrongKind {
            expected: TokenKind::Refresh
        })
    );
}

#[tokio::test]
async fn a_refresh_token_is_single_use_and_its_reuse_revokes_the_family() {
    let m = rotating();
    let app = app(&m);
    let (login_access, first) = login(&m, "alice");
    let (_, other_login) = login(&m, "alice");
    let (access, second) = m.rotate(&verified(&m, &first).await).await.unwrap();
    let (latest_access, third) = m.rotate(&verified(&m, &second).await).await.unwrap();
    // Until the reuse, every access token of the family works.
    for token in [&login_access, &access, &latest_access] {
        get_with(&app, "/me", token.as_str())
            .await
            .assert_ok("alice");
    }
    // The first refresh token again, here to a guard: refused as a reuse…
    get_with(&app, "/refresh", first.as_str())
        .await
        .refused(InvalidToken::Reused, &[first.as_str()]);
    // …and the whole family is revoked: the current refresh token and
    // every access token, the login's own included.
    get_with(&app, "/refresh", third.as_str())
        .await
        .refused(InvalidToken::Revoked, &[third.as_str()]);
    for token in [&login_access, &access, &latest_access] {
        get_with(&app, "/me", token.as_str())
            .await
            .refused(InvalidToken::Revoked, &[token.as_str()]);
    }
    // Rotating a token of the revoked family is refused as revoked.
    let third = m.verify(third.as_str(), TokenKind::Refresh).await;
    assert_eq!(third.unwrap_err(), InvalidToken::Revoked.into());
    // Another login of the same user is another family: untouched.
    let other = verified(&m, &other_login).await;
    assert!(m.rotate(&other).await.is_ok());
}

#[tokio::test]
async fn a_reuse_at_rotate_is_refused_and_revokes_the_family() {
    let m = rotating();
    let (_, first) = login(&m, "alice");
    let first = verified(&m, &first).await;
    let (access, second) = m.rotate(&first).await.unwrap();
    assert_eq!(
        m.rotate(&first).await.unwrap_err(),
        InvalidToken::Reused.into()
    );
    for token in [&access, &second] {
        assert_eq!(
            m.verify(token.as_str(), token.kind()).await.unwrap_err(),
            InvalidToken::Revoked.into()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_rotations_of_one_token_exactly_one_succeeds() {
    let m = rotating();
    let (_, refresh) = login(&m, "alice");
    let refresh = verified(&m, &refresh).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (m, refresh) = (m.clone(), refresh.clone());
            tokio::spawn(async move { m.rotate(&refresh).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    // The others were reuses (or met the family they revoked).
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(
                lost,
                AuthError::InvalidToken(InvalidToken::Reused | InvalidToken::Revoked)
            ),
            "{lost:?}"
        );
    }
}

#[tokio::test]
async fn without_rotation_a_refresh_token_stays_valid_until_it_expires() {
    let m = manager();
    let (_, refresh) = login(&m, "alice");
    let refresh = verified(&m, &refresh).await;
    let (_, one) = m.rotate(&refresh).await.unwrap();
    let (_, two) = m.rotate(&refresh).await.unwrap();
    assert_eq!(one.sid(), two.sid());
    assert!(m.verify(refresh.as_str(), TokenKind::Refresh).await.is_ok());
    // The family is still one: a logout ends it all.
    m.revoke_family(&refresh).await.unwrap();
    for token in [&one, &two] {
        assert_eq!(
            m.verify(token.as_str(), TokenKind::Refresh)
                .await
                .unwrap_err(),
            InvalidToken::Revoked.into()
        );
    }
}

#[tokio::test]
async fn a_logout_revokes_the_family_for_as_long_as_its_tokens_live() {
    let store = RecordingStore::default();
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .leeway(Duration::from_secs(5))
        .revocation_store(store.clone())
        .build()
        .unwrap();
    let app = app(&m);
    let (access, refresh) = login(&m, "alice");
    let (other_access, _) = login(&m, "alice");
    clock.advance(Duration::from_secs(100));
    m.revoke_family(&verified(&m, &access).await).await.unwrap();
    get_with(&app, "/me", access.as_str())
        .await
        .refused(InvalidToken::Revoked, &[access.as_str()]);
    get_with(&app, "/refresh", refresh.as_str())
        .await
        .refused(InvalidToken::Revoked, &[refresh.as_str()]);
    get_with(&app, "/me", other_access.as_str())
        .await
        .assert_ok("alice");
    // Kept until every refresh token the family may hold has expired (the
    // family was active until now), and an access token of it, less.
    let now = jwt_guard::Clock::now(&clock);
    let family = store
        .calls()
        .into_iter()
        .find(|call| matches!(call, Call::Family { .. }))
        .unwrap();
    assert_eq!(
        family,
        Call::Family {
            sid: refresh.jti().to_owned(),
            until: now + Duration::from_secs(30 * 86_400 + 5 + 1),
            access_until: now + Duration::from_secs(15 * 60 + 5 + 1),
        }
    );
    // An access token of no family is revoked alone.
    let alone = m.access_token("alice").sign().unwrap();
    m.revoke_family(&verified(&m, &alone).await).await.unwrap();
    get_with(&app, "/me", alone.as_str())
        .await
        .refused(InvalidToken::Revoked, &[alone.as_str()]);
    get_with(&app, "/me", other_access.as_str())
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn a_failing_store_refuses_the_rotation() {
    let good = rotating();
    let (_, refresh) = login(&good, "alice");
    let refresh = verified(&good, &refresh).await;
    let m = builder()
        .refresh_rotation(true)
        .revocation_store(FailingStore("down"))
        .build()
        .unwrap();
    assert_eq!(
        m.rotate(&refresh).await.unwrap_err(),
        AuthError::StoreUnavailable
    );
    assert!(m.revoke_family(&refresh).await.is_err());
}

#[tokio::test]
async fn rotate_checks_the_token_again_and_its_revocation() {
    let clock = TestClock::new();
    let m = builder()
        .clock(clock.clone())
        .refresh_rotation(true)
        .build()
        .unwrap();
    // Verified before its subject was revoked ("log out everywhere"
    // between the guard and the handler): no new pair.
    let (_, refresh) = login(&m, "alice");
    let held = verified(&m, &refresh).await;
    m.revoke_subject("alice").await.unwrap();
    assert_eq!(
        m.rotate(&held).await.unwrap_err(),
        InvalidToken::Revoked.into()
    );
    // Revoked by its jti, the same.
    let (_, refresh) = login(&m, "bob");
    let held = verified(&m, &refresh).await;
    m.revoke(&held).await.unwrap();
    assert_eq!(
        m.rotate(&held).await.unwrap_err(),
        InvalidToken::Revoked.into()
    );
    // Kept past its expiry: verified again, so refused.
    let (_, refresh) = login(&m, "carol");
    let held = verified(&m, &refresh).await;
    clock.advance(Duration::from_secs(31 * 86_400));
    assert_eq!(
        m.rotate(&held).await.unwrap_err(),
        InvalidToken::Expired.into()
    );
    // Verified by another manager (another key): not this one's to rotate.
    let other = TokenManager::builder()
        .issuer("test")
        .hs256("another secret, also at least 32 bytes long")
        .clock(clock.clone())
        .build()
        .unwrap();
    let foreign = other.refresh_token("dave").sign().unwrap();
    let foreign = verified(&other, &foreign).await;
    assert_eq!(
        m.rotate(&foreign).await.unwrap_err(),
        InvalidToken::Signature.into()
    );
}

#[test]
fn family_takes_a_refresh_token_of_the_same_subject() {
    let m = manager();
    let refresh = m.refresh_token("alice").sign().unwrap();
    let access = m.access_token("alice").sign().unwrap();
    for result in [
        m.access_token("bob").family(&refresh).sign(),
        m.access_token("alice").family(&access).sign(),
        m.refresh_token("alice").family(&refresh).sign(),
    ] {
        assert!(matches!(result, Err(IssueError::NotFamily)), "{result:?}");
    }
    assert_eq!(
        IssueError::NotFamily.to_string(),
        "`family` takes a refresh token of the same subject, for an access token"
    );
}

#[tokio::test]
async fn a_family_record_lives_as_long_as_its_refresh_token() {
    let store = RecordingStore::default();
    let m = builder()
        .leeway(Duration::from_secs(5))
        .refresh_rotation(true)
        .revocation_store(store.clone())
        .build()
        .unwrap();
    let (_, refresh) = login(&m, "alice");
    let (_, next) = m.rotate(&verified(&m, &refresh).await).await.unwrap();
    let rotation = store
        .calls()
        .into_iter()
        .find(|call| matches!(call, Call::Rotate { .. }))
        .unwrap();
    assert_eq!(
        rotation,
        Call::Rotate {
            sid: refresh.jti().to_owned(),
            presented: refresh.jti().to_owned(),
            until: next.expires_at() + Duration::from_secs(5 + 1),
        }
    );
}

#[test]
fn issued_tokens_and_their_builders_print_no_token() {
    let m = manager();
    let refresh = m.refresh_token("alice").sign().unwrap();
    let shown = format!("{refresh:?}");
    assert!(
        shown.contains(refresh.jti()) && shown.contains("[redacted]"),
        "{shown}"
    );
    assert!(!shown.contains(refresh.as_str()), "{shown}");
    let builder = format!("{:?}", m.access_token("alice").family(&refresh));
    assert!(
        builder.contains("Access") && builder.contains("alice"),
        "{builder}"
    );
}
