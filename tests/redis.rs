//! The Redis store against real `redis-server` processes, each test with
//! servers of its own on free ports of 127.0.0.1 (see
//! `jwt_guard_test_support::RedisServer`): several managers stand for
//! several app instances sharing one Redis, or one Redis Cluster of three
//! primaries. `redis-server` must be installed: a missing one fails these
//! tests, never skips them (`.ci/run` installs it).
//!
//! This file is its own test binary: it sets the process-wide `tracing`
//! subscriber to read what the store's background task logs.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jwt_guard::{
    AuthError, InvalidToken, IssuedToken, RedisStore, Token, TokenKind, TokenManager,
    TokenManagerBuilder,
};
use jwt_guard_test_support::{Lines, RedisCluster, RedisServer, get_with, me_app};

const SECRET: &str = "the redis test secret, at least 32 bytes";
const REALM: &str = "api";
/// How long a revocation may take to reach another instance before a test
/// gives up: far above the staleness bound, so only a lost revocation
/// fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// What the store's background task logged, for every test of this binary.
fn log() -> &'static Lines {
    static LOG: OnceLock<Lines> = OnceLock::new();
    LOG.get_or_init(|| {
        let lines = Lines::default();
        let writer = lines.clone();
        tracing_subscriber::fmt()
            .with_env_filter("jwt_guard=info")
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        lines
    })
}

async fn store(urls: &[String], staleness: Duration) -> RedisStore {
    log();
    RedisStore::builder(urls.iter().cloned())
        .max_staleness(staleness)
        .connect()
        .await
        .unwrap()
}

/// An app instance: a manager on the shared Redis, with single-use
/// refresh tokens.
fn instance(store: &RedisStore) -> TokenManager {
    TokenManager::builder()
        .hs256(SECRET)
        .refresh_rotation(true)
        .revocation_store(store.clone())
        .build()
        .unwrap()
}

async fn verified(manager: &TokenManager, token: &IssuedToken) -> Token {
    manager.verify(token.as_str(), token.kind()).await.unwrap()
}

/// Waits until `done` holds, for at most [`PATIENCE`].
async fn eventually<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = Instant::now() + PATIENCE;
    while !done().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether `manager` refuses `token` as revoked.
async fn revoked(manager: &TokenManager, token: &IssuedToken) -> bool {
    manager.verify(token.as_str(), token.kind()).await.err() == Some(InvalidToken::Revoked.into())
}

fn unix_ms(time: SystemTime) -> u64 {
    u64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// A login: a refresh token and a fresh access token of its family.
fn login(manager: &TokenManager, sub: &str) -> (IssuedToken, IssuedToken) {
    let refresh = manager.refresh_token(sub).sign().unwrap();
    let access = manager
        .access_token(sub)
        .fresh(true)
        .family(&refresh)
        .sign()
        .unwrap();
    (access, refresh)
}

/// Revoke on one instance, refused on the other: a token, a subject and a
/// family; access tokens through the other's replica, refresh tokens
/// through Redis itself.
async fn revocations_reach_every_instance(urls: &[String]) {
    let (a, b) = (
        store(urls, Duration::from_secs(1)).await,
        store(urls, Duration::from_secs(1)).await,
    );
    let (one, two) = (instance(&a), instance(&b));
    let app = me_app(&two);

    // One access token.
    let token = one.access_token("alice").sign().unwrap();
    let other = one.access_token("alice").sign().unwrap();
    get_with(&app, "/me", token.as_str())
        .await
        .assert_ok("alice");
    one.revoke(&verified(&one, &token).await).await.unwrap();
    // The instance that revoked refuses at once.
    assert!(revoked(&one, &token).await);
    eventually("a revoked token is refused on the other instance", || {
        revoked(&two, &token)
    })
    .await;
    get_with(&app, "/me", token.as_str()).await.assert_refused(
        REALM,
        InvalidToken::Revoked,
        &[token.as_str()],
    );
    get_with(&app, "/me", other.as_str())
        .await
        .assert_ok("alice");

    // One refresh token: Redis answers, so the other instance refuses it
    // as soon as the revocation returns.
    let refresh = one.refresh_token("alice").sign().unwrap();
    one.revoke(&verified(&one, &refresh).await).await.unwrap();
    assert!(revoked(&two, &refresh).await);

    // A subject: every token of bob issued before, access and refresh.
    let (bob_access, bob_refresh) = login(&two, "bob");
    one.revoke_subject("bob").await.unwrap();
    assert!(revoked(&two, &bob_refresh).await);
    eventually("a subject's revocation reaches the other instance", || {
        revoked(&two, &bob_access)
    })
    .await;
    // A later login passes. (The cut-off is inclusive, to the millisecond:
    // a token another instance issued in the very millisecond of the
    // cut-off is revoked too, erring on the side of refusing.)
    tokio::time::sleep(Duration::from_millis(2)).await;
    let (after, _) = login(&two, "bob");
    get_with(&app, "/me", after.as_str()).await.assert_ok("bob");

    // A family: a logout on one instance ends the session on the other.
    let (carol_access, carol_refresh) = login(&one, "carol");
    let (carol_other, _) = login(&one, "carol");
    one.revoke_family(&verified(&one, &carol_access).await)
        .await
        .unwrap();
    assert!(revoked(&two, &carol_refresh).await);
    eventually("a family's revocation reaches the other instance", || {
        revoked(&two, &carol_access)
    })
    .await;
    get_with(&app, "/me", carol_other.as_str())
        .await
        .assert_ok("carol");

    // A new instance loads every earlier revocation when it starts.
    let late = instance(&store(urls, Duration::from_secs(1)).await);
    for token in [&token, &bob_access, &carol_access, &refresh, &bob_refresh] {
        assert!(revoked(&late, token).await, "{token:?}");
    }
    assert_eq!(
        late.verify(other.as_str(), TokenKind::Access)
            .await
            .unwrap()
            .sub(),
        "alice"
    );
}

/// Rotation across instances: one rotation of a token wins, wherever it
/// is made; a reuse on one instance revokes the family on all.
async fn rotation_is_single_use_across_instances(urls: &[String]) {
    let (a, b) = (
        store(urls, Duration::from_secs(1)).await,
        store(urls, Duration::from_secs(1)).await,
    );
    let (one, two) = (instance(&a), instance(&b));

    // Sixteen concurrent rotations of one refresh token, half on each
    // instance: exactly one succeeds.
    let (_, refresh) = login(&one, "alice");
    let presented = verified(&one, &refresh).await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let manager = if i % 2 == 0 { one.clone() } else { two.clone() };
            let presented = presented.clone();
            tokio::spawn(async move { manager.rotate(&presented).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(AuthError::InvalidToken(InvalidToken::Reused | InvalidToken::Revoked)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);

    // A rotation on one instance, the old token reused on the other: the
    // reuse is refused and the family is revoked everywhere.
    let (login_access, refresh) = login(&one, "bob");
    let (access, next) = one.rotate(&verified(&one, &refresh).await).await.unwrap();
    assert_eq!(
        two.verify(refresh.as_str(), TokenKind::Refresh).await.err(),
        Some(InvalidToken::Reused.into())
    );
    assert!(revoked(&one, &next).await);
    for token in [&login_access, &access] {
        eventually("a reused family is revoked on the other instance", || {
            revoked(&one, token)
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_every_instance_on_one_redis() {
    let redis = RedisServer::start();
    revocations_reach_every_instance(&[redis.url()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_single_use_across_instances_on_one_redis() {
    let redis = RedisServer::start();
    rotation_is_single_use_across_instances(&[redis.url()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_on_a_three_primary_cluster() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    revocations_reach_every_instance(&urls).await;
    rotation_is_single_use_across_instances(&urls).await;
    // Many subjects: their keys spread over the primaries (each subject's
    // keys in one slot, by its hash tag).
    let manager = instance(&store(&urls, Duration::from_secs(1)).await);
    for i in 0..30 {
        manager.revoke_subject(&format!("user-{i}")).await.unwrap();
    }
    let holding = cluster
        .nodes()
        .iter()
        .filter(|node| node.command(&["DBSIZE"]) != "0")
        .count();
    assert!(holding >= 2, "every key on one node");
}

/// Entries expire in Redis with the tokens they concern, and the stream
/// forgets what no access token needs any more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_expire_with_their_tokens() {
    let redis = RedisServer::start();
    let manager = TokenManagerBuilder::default()
        .hs256(SECRET)
        .leeway(Duration::from_secs(5))
        .revocation_store(store(&[redis.url()], Duration::from_secs(1)).await)
        .build()
        .unwrap();
    // An entry so old no access token can need it.
    redis.command(&[
        "XADD",
        "jwt-guard:revocations",
        "1-1",
        "k",
        "t",
        "v",
        "x",
        "b",
        "0",
        "u",
        "1",
    ]);
    let refresh = manager
        .refresh_token("alice")
        .ttl(Duration::from_secs(3600))
        .sign()
        .unwrap();
    let verified = verified(&manager, &refresh).await;
    manager.revoke(&verified).await.unwrap();
    let key = format!("jwt-guard:{{alice}}:t:{}", refresh.jti());
    // Kept until the token expires, plus the leeway, plus a minute for
    // clocks that differ.
    let expires = unix_ms(refresh.expires_at() + Duration::from_secs(5 + 60));
    assert_eq!(redis.command(&["PEXPIRETIME", &key]), expires.to_string());

    let access = manager
        .access_token("alice")
        .ttl(Duration::from_secs(60))
        .sign()
        .unwrap();
    manager
        .revoke(&verified_access(&manager, &access).await)
        .await
        .unwrap();
    // The old entry is trimmed; the new one says until when it matters.
    let entries = redis.command(&["XRANGE", "jwt-guard:{revocations}", "-", "+"]);
    let fields: Vec<&str> = entries.lines().collect();
    assert_eq!(fields.len(), 1 + 8, "{entries}");
    assert_eq!(&fields[1..5], ["k", "t", "v", access.jti()]);
    let until = unix_ms(access.expires_at() + Duration::from_secs(5));
    assert_eq!(fields[8], until.to_string());

    // A subject's cut-off is kept as long as its longest token lives, and
    // a later cut-off replaces it, never an earlier one.
    manager.revoke_subject("bob").await.unwrap();
    let first: u64 = redis
        .command(&["GET", "jwt-guard:{bob}:s"])
        .parse()
        .unwrap();
    let kept = redis.command(&["PEXPIRETIME", "jwt-guard:{bob}:s"]);
    let now = unix_ms(SystemTime::now());
    let month = 30 * 86_400 * 1000;
    let kept: u64 = kept.parse().unwrap();
    // The cut-off covers refresh tokens (30 days, the leeway, a second),
    // plus a minute for clocks that differ.
    assert!(
        kept > now + month + 60_000 && kept < now + month + 120_000,
        "{kept}"
    );
    manager.revoke_subject("bob").await.unwrap();
    let second: u64 = redis
        .command(&["GET", "jwt-guard:{bob}:s"])
        .parse()
        .unwrap();
    assert!(second >= first);

    // A short-lived token's revocation never trims the subject's entry,
    // which access tokens need for another 15 minutes: a new instance
    // still loads it.
    let brief = manager
        .access_token("carol")
        .ttl(Duration::from_secs(1))
        .sign()
        .unwrap();
    let bob = manager.access_token("bob").sign().unwrap();
    tokio::time::sleep(Duration::from_millis(2)).await;
    manager.revoke_subject("bob").await.unwrap();
    manager
        .revoke(&verified_access(&manager, &brief).await)
        .await
        .unwrap();
    let entries = redis.command(&["XRANGE", "jwt-guard:{revocations}", "-", "+"]);
    assert!(entries.lines().any(|field| field == "bob"), "{entries}");
    let late = instance(&store(&[redis.url()], Duration::from_secs(1)).await);
    assert!(revoked(&late, &bob).await);
}

async fn verified_access(manager: &TokenManager, token: &IssuedToken) -> Token {
    manager
        .verify(token.as_str(), TokenKind::Access)
        .await
        .unwrap()
}

/// Redis down, or the replica's stream cut: guarded requests fail closed
/// (503), revocations return an error, and once Redis is back every
/// earlier revocation still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_closed_and_loses_nothing() {
    let mut redis = RedisServer::start();
    let urls = [redis.url()];
    let (a, b) = (
        store(&urls, Duration::from_millis(200)).await,
        store(&urls, Duration::from_millis(200)).await,
    );
    let (one, two) = (instance(&a), instance(&b));
    let app = me_app(&one);
    let (revoked_access, revoked_refresh) = login(&two, "alice");
    two.revoke_family(&verified(&two, &revoked_access).await)
        .await
        .unwrap();
    let good = two.access_token("alice").sign().unwrap();
    let good_refresh = two.refresh_token("alice").sign().unwrap();
    eventually("the revocation reaches the first instance", || {
        revoked(&one, &revoked_access)
    })
    .await;

    // The stream cut while Redis stays up: the replica reconnects and
    // resumes where it stopped, and a revocation made meanwhile arrives.
    let _ = log().take();
    let clients = redis.command(&["CLIENT", "LIST"]);
    let ids: Vec<&str> = clients
        .lines()
        .filter(|line| line.contains("name=jwt-guard-replica"))
        .filter_map(|line| line.split(' ').next()?.strip_prefix("id="))
        .collect();
    assert_eq!(ids.len(), 2, "{clients}");
    for id in &ids {
        redis.command(&["CLIENT", "KILL", "ID", id]);
    }
    let cut = two.access_token("alice").sign().unwrap();
    two.revoke(&verified_access(&two, &cut).await)
        .await
        .unwrap();
    eventually("a revocation made while the stream was cut arrives", || {
        revoked(&one, &cut)
    })
    .await;
    get_with(&app, "/me", good.as_str())
        .await
        .assert_ok("alice");

    // Redis up but not answering (paused): once the replica is staler
    // than its bound, guarded requests are refused, 503 with Retry-After,
    // and pass again when Redis answers.
    redis.command(&["CLIENT", "PAUSE", "3000", "ALL"]);
    eventually("a stale replica refuses", || async { !a.is_current() }).await;
    get_with(&app, "/me", good.as_str()).await.assert_refused(
        REALM,
        AuthError::StoreUnavailable,
        &[good.as_str()],
    );
    eventually("the replica catches up after the pause", || async {
        a.is_current()
    })
    .await;
    get_with(&app, "/me", good.as_str())
        .await
        .assert_ok("alice");

    // Redis killed: refused, and a revocation returns an error.
    let _ = log().take();
    redis.kill();
    eventually("the replica knows Redis is gone", || async {
        !a.is_current()
    })
    .await;
    get_with(&app, "/me", good.as_str()).await.assert_refused(
        REALM,
        AuthError::StoreUnavailable,
        &[good.as_str()],
    );
    assert_eq!(
        one.verify(good_refresh.as_str(), TokenKind::Refresh)
            .await
            .err(),
        Some(AuthError::StoreUnavailable)
    );
    // (Such a revocation already holds on the instance that tried it, which
    // refuses rather than forgets; a retry makes it hold everywhere.)
    let during = one.access_token("eve").sign().unwrap();
    let during = without_redis(&during).await;
    assert!(one.revoke(&during).await.is_err());
    assert!(one.revoke_subject("eve").await.is_err());
    // Each instance logged the loss once, however often it has tried to
    // reconnect since.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lost = log().take();
    let errors = lost
        .iter()
        .filter(|line| line.contains("ERROR") && line.contains("revocation replica lost Redis"))
        .count();
    assert_eq!(errors, 2, "{lost:#?}");

    // Back: every earlier revocation holds, on both instances, and valid
    // tokens pass again.
    redis.restart();
    eventually("the replica catches up after the restart", || async {
        a.is_current() && b.is_current()
    })
    .await;
    get_with(&app, "/me", good.as_str())
        .await
        .assert_ok("alice");
    for manager in [&one, &two] {
        // The command connection reconnects on first use.
        eventually("the command connection is back", || async {
            manager
                .verify(good_refresh.as_str(), TokenKind::Refresh)
                .await
                .is_ok()
        })
        .await;
        assert!(revoked(manager, &revoked_access).await);
        assert!(revoked(manager, &revoked_refresh).await);
        assert!(revoked(manager, &cut).await);
    }
    let back = log().take();
    let caught_up = back
        .iter()
        .filter(|line| line.contains("INFO") && line.contains("caught up with Redis"))
        .count();
    assert_eq!(caught_up, 2, "{back:#?}");
    // A fresh instance on the restarted Redis loads them too.
    let fresh = instance(&store(&urls, Duration::from_millis(200)).await);
    assert!(revoked(&fresh, &revoked_access).await);
    assert!(revoked(&fresh, &cut).await);
}

/// A token verified by a manager on the in-memory store, for calls that
/// must not depend on Redis.
async fn without_redis(token: &IssuedToken) -> Token {
    let manager = TokenManager::builder().hs256(SECRET).build().unwrap();
    manager
        .verify(token.as_str(), TokenKind::Access)
        .await
        .unwrap()
}

/// `connect` fails at start-up, naming the setting, when Redis cannot be
/// reached or a setting is wrong.
#[tokio::test]
async fn bad_settings_fail_at_start_up() {
    // Nothing listens on port 1.
    let err = RedisStore::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert_eq!(err.setting(), "url", "{err}");
    let err = RedisStore::connect("https://127.0.0.1/").await.unwrap_err();
    assert_eq!(err.setting(), "url", "{err}");
    for (builder, setting) in [
        (
            RedisStore::builder(["redis://127.0.0.1:1/"]).max_staleness(Duration::from_secs(61)),
            "max_staleness",
        ),
        (
            RedisStore::builder(["redis://127.0.0.1:1/"]).prefix("a{b}"),
            "prefix",
        ),
        (RedisStore::builder(Vec::<String>::new()), "url"),
    ] {
        let err = builder.connect().await.unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
    }
    // A password in the URL never shows in Debug.
    let store = RedisStore::builder(["redis://:hunter2-secret@127.0.0.1:1/"])
        .connect_lazy()
        .unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!store.is_current());
}

/// A RESP3 connection reads the same stream (a map, not an array).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resp3_connection_follows_the_stream_too() {
    let redis = RedisServer::start();
    let resp3 = format!("{}?protocol=resp3", redis.url());
    let one = instance(&store(&[redis.url()], Duration::from_secs(1)).await);
    let two = instance(&store(std::slice::from_ref(&resp3), Duration::from_secs(1)).await);
    // Two entries at once, then one.
    let tokens: Vec<IssuedToken> = (0..3)
        .map(|_| one.access_token("alice").sign().unwrap())
        .collect();
    for token in &tokens[..2] {
        one.revoke(&verified(&one, token).await).await.unwrap();
    }
    let late = instance(&store(&[resp3], Duration::from_secs(1)).await);
    for token in &tokens[..2] {
        eventually("a revocation reaches a RESP3 instance", || {
            revoked(&two, token)
        })
        .await;
        assert!(revoked(&late, token).await);
    }
    one.revoke(&verified(&one, &tokens[2]).await).await.unwrap();
    eventually("a later revocation reaches it too", || {
        revoked(&two, &tokens[2])
    })
    .await;
}

/// An idle replica stays current: with nothing to read, the follower still
/// hears from Redis well within the bound, so requests pass; and a dropped
/// store stops following.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_replica_stays_current_and_a_dropped_store_stops() {
    let redis = RedisServer::start();
    let bound = Duration::from_millis(200);
    let store = store(&[redis.url()], bound).await;
    let manager = instance(&store);
    let token = manager.access_token("alice").sign().unwrap();
    for _ in 0..5 {
        tokio::time::sleep(bound * 2).await;
        assert!(store.is_current());
        get_with(&me_app(&manager), "/me", token.as_str())
            .await
            .assert_ok("alice");
    }
    let followers = || {
        redis
            .command(&["CLIENT", "LIST"])
            .lines()
            .filter(|line| line.contains("name=jwt-guard-replica"))
            .count()
    };
    assert_eq!(followers(), 1);
    drop((manager, store));
    let deadline = Instant::now() + PATIENCE;
    while followers() != 0 {
        assert!(Instant::now() < deadline, "the follower outlived its store");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A new instance has read every revocation when `connect` returns, however
/// many the stream holds (more than one read takes); and a family's record
/// is kept a minute past its newest refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_loads_everything_before_it_serves() {
    let redis = RedisServer::start();
    let one = TokenManagerBuilder::default()
        .hs256(SECRET)
        .leeway(Duration::from_secs(5))
        .refresh_rotation(true)
        .revocation_store(store(&[redis.url()], Duration::from_secs(1)).await)
        .build()
        .unwrap();
    let tokens: Vec<IssuedToken> = (0..1500)
        .map(|_| one.access_token("alice").sign().unwrap())
        .collect();
    for token in &tokens {
        one.revoke(&verified_access(&one, token).await)
            .await
            .unwrap();
    }
    // An entry whose tokens have all expired: not loaded.
    redis.command(&[
        "XADD",
        "jwt-guard:{revocations}",
        "*",
        "k",
        "t",
        "v",
        "gone",
        "b",
        "0",
        "u",
        "1",
    ]);
    let late_store = store(&[redis.url()], Duration::from_secs(1)).await;
    assert_eq!(late_store.replica_len(), 1500);
    let late = instance(&late_store);
    // No waiting: the last entry is there already.
    assert!(revoked(&late, tokens.last().unwrap()).await);
    assert!(revoked(&late, &tokens[0]).await);

    let (_, refresh) = login(&one, "bob");
    let (_, next) = one.rotate(&verified(&one, &refresh).await).await.unwrap();
    let key = format!("jwt-guard:{{bob}}:f:{}", refresh.jti());
    let kept = unix_ms(next.expires_at() + Duration::from_secs(5 + 1 + 60));
    assert_eq!(redis.command(&["PEXPIRETIME", &key]), kept.to_string());
    assert_eq!(redis.command(&["GET", &key]), format!("={}", next.jti()));
}
