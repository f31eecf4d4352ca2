//! The Redis store: how fast a revocation reaches another instance, and
//! what a guarded request's revocation lookup costs on it against the
//! in-memory store.
//!
//! ```sh
//! cargo bench --features redis --bench redis                      # propagation, 1000 revocations
//! cargo bench --features redis --bench redis -- --revocations 5000
//! # Instructions per lookup (start-up cancelled by two run lengths):
//! valgrind --tool=callgrind target/release/deps/redis-<hash> --lookups 100000 --store redis
//! ```
//!
//! Propagation: two stores stand for two instances, each with its own
//! connections to one `redis-server` that the bench starts on a free port
//! of 127.0.0.1 (and stops). For each revocation the bench takes the time
//! from `revoke()` returning on the first (Redis has acknowledged it) to
//! the second refusing the token, polling its replica. Bounded by
//! `--revocations` and two minutes.
//!
//! Lookups: `--lookups N --store memory|redis` verifies one token N times
//! through `TokenManager::verify` (signature, claims and the store's
//! revocation status), for callgrind.

use std::time::{Duration, Instant};

use jwt_guard::{MemoryStore, RedisStore, TokenKind, TokenManager};
use jwt_guard_test_support::RedisServer;

const SECRET: &str = "a redis bench secret of at least 32 bytes";
const LIMIT: Duration = Duration::from_secs(120);

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).cloned()
}

fn manager(store: RedisStore) -> TokenManager {
    TokenManager::builder()
        .hs256(SECRET)
        .revocation_store(store)
        .build()
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn propagation(url: &str, count: usize) {
    let (a, b) = (
        RedisStore::connect(url).await.unwrap(),
        RedisStore::connect(url).await.unwrap(),
    );
    let (one, two) = (manager(a), manager(b));
    let deadline = Instant::now() + LIMIT;
    let mut acknowledged = Vec::with_capacity(count);
    let mut called = Vec::with_capacity(count);
    for _ in 0..count {
        if Instant::now() > deadline {
            break;
        }
        let issued = one.access_token("alice").sign().unwrap();
        let token = two
            .verify(issued.as_str(), TokenKind::Access)
            .await
            .unwrap();
        let start = Instant::now();
        one.revoke(&token).await.unwrap();
        let returned = Instant::now();
        while two.verify(issued.as_str(), TokenKind::Access).await.is_ok() {
            tokio::task::yield_now().await;
            assert!(Instant::now() < deadline, "a revocation never arrived");
        }
        let refused = Instant::now();
        acknowledged.push(refused - returned);
        called.push(refused - start);
    }
    acknowledged.sort_unstable();
    called.sort_unstable();
    println!(
        "propagation to another instance over loopback, {} revocations:",
        called.len()
    );
    println!("| measured from | p50 | p99 | max |");
    println!("|---|---|---|---|");
    for (name, times) in [
        ("`revoke()` returning", &acknowledged),
        ("`revoke()` called", &called),
    ] {
        println!(
            "| {name} | {:.0} µs | {:.0} µs | {:.0} µs |",
            percentile(times, 0.5).as_secs_f64() * 1e6,
            percentile(times, 0.99).as_secs_f64() * 1e6,
            times.last().unwrap().as_secs_f64() * 1e6,
        );
    }
}

async fn lookups(url: &str, store: &str, count: usize) {
    let builder = TokenManager::builder().hs256(SECRET);
    let manager = match store {
        "memory" => builder
            .revocation_store(MemoryStore::new())
            .build()
            .unwrap(),
        "redis" => builder
            .revocation_store(RedisStore::connect(url).await.unwrap())
            .build()
            .unwrap(),
        other => panic!("unknown store `{other}`: memory or redis"),
    };
    let issued = manager.access_token("alice").sign().unwrap();
    let mut valid = 0;
    for _ in 0..count {
        valid += usize::from(
            manager
                .verify(issued.as_str(), TokenKind::Access)
                .await
                .is_ok(),
        );
    }
    assert_eq!(valid, count);
    println!("{count} verifications on the {store} store");
}

fn main() {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(count) = arg("--lookups") {
        let store = arg("--store").unwrap_or_else(|| "redis".to_owned());
        runtime.block_on(lookups(&redis.url(), &store, count.parse().unwrap()));
        return;
    }
    let count = arg("--revocations").map_or(1000, |n| n.parse().unwrap());
    runtime.block_on(propagation(&redis.url(), count));
}
