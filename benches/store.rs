//! The in-memory revocation store under churn: the latency of `status`
//! with a million live revocations, on a quiet store and while a writer
//! thread revokes new tokens as fast as it can (each write also purges the
//! entries that expired), side by side in one run.
//!
//! `cargo bench --bench store [-- --entries N --seconds S]`; bounded by
//! both: each phase stops after S seconds (default 3) or 5 M reads. The
//! latencies include one `Instant::now()` pair (some 20–40 ns). See
//! BENCHMARKS.md for results.

#![allow(
    missing_docs,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jwt_guard::{
    MemoryStore, Revocation, RevocationStore, Target, Token, TokenKind, TokenManager, TokenStatus,
};

const MAX_READS: usize = 5_000_000;

/// Polls a future that needs no waiting (the memory store's are ready).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the memory store never waits"),
    }
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a whole number"))
}

struct Latencies {
    nanos: Vec<u32>,
}

impl Latencies {
    fn percentile(&self, p: f64) -> u32 {
        let i = ((self.nanos.len() - 1) as f64 * p).round() as usize;
        self.nanos[i]
    }
}

/// Reads `tokens` round-robin until `deadline` or `MAX_READS`.
fn read(store: &MemoryStore, tokens: &[Token], deadline: Instant) -> Latencies {
    let mut nanos = Vec::with_capacity(MAX_READS);
    let mut revoked = 0usize;
    for token in tokens.iter().cycle() {
        if nanos.len() == MAX_READS || (nanos.len() % 4096 == 0 && Instant::now() >= deadline) {
            break;
        }
        let start = Instant::now();
        let answer = ready(store.status(black_box(token))).unwrap() == TokenStatus::Revoked;
        nanos.push(start.elapsed().as_nanos().min(u128::from(u32::MAX)) as u32);
        revoked += usize::from(answer);
    }
    // Half the tokens are revoked, and stay so: the reads were real.
    assert_eq!(revoked * 2, nanos.len() - nanos.len() % 2, "wrong answers");
    nanos.sort_unstable();
    Latencies { nanos }
}

/// Revokes an access token's `jti` until `until`.
fn revoke(store: &MemoryStore, jti: &str, until: SystemTime, now: SystemTime) {
    let target = Target::Token {
        jti,
        sub: "bench",
        kind: TokenKind::Access,
    };
    ready(store.revoke(&Revocation::new(target, until, until, now))).unwrap();
}

fn main() {
    let entries = arg("--entries", 1_000_000);
    let seconds = arg("--seconds", 3);
    let t0 = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let ms = Duration::from_millis;

    // Tokens to look up: every second one revoked for the whole run.
    let manager = TokenManager::builder()
        .hs256("a benchmark secret of at least thirty-two bytes")
        .build()
        .unwrap();
    let tokens: Vec<Token> = (0..256)
        .map(|i| {
            let issued = manager.access_token(format!("user{i}")).sign().unwrap();
            ready(manager.verify(issued.as_str(), TokenKind::Access)).unwrap()
        })
        .collect();
    let store = Arc::new(MemoryStore::new());
    let forever = t0 + Duration::from_secs(1 << 40);
    for token in tokens.iter().step_by(2) {
        revoke(&store, token.jti(), forever, t0);
    }
    // A million live revocations, expiring one per millisecond from t0.
    let filled = Instant::now();
    for i in 0..entries {
        revoke(&store, &format!("jti-{i}"), t0 + ms(i), t0);
    }
    println!(
        "filled {} entries in {:.1} s",
        store.len(),
        filled.elapsed().as_secs_f64()
    );

    let phase = || Instant::now() + Duration::from_secs(seconds);
    let quiet = read(&store, &tokens, phase());

    // The writer: at step k the clock reads t0 + 1 min + k ms (the store
    // keeps an entry a minute past its expiry); it revokes one new token
    // that lives `entries` ms, so one entry becomes purgeable per write and
    // the store stays at its size while purges go on.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let (store, stop, writes) = (store.clone(), stop.clone(), writes.clone());
        std::thread::spawn(move || {
            let mut k = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let now: SystemTime = t0 + ms(60_000 + k);
                let jti = format!("new-{k}");
                revoke(&store, &jti, now + ms(entries), now);
                k += 1;
            }
            writes.store(k, Ordering::Relaxed);
        })
    };
    let started = Instant::now();
    let churn = read(&store, &tokens, phase());
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let written = writes.load(Ordering::Relaxed);

    println!("status latency (ns), {} live entries:", store.len());
    println!(
        "{:<8} {:>10} {:>7} {:>7} {:>7} {:>8} {:>9}",
        "phase", "reads", "p50", "p99", "p99.9", "max", "writes/s"
    );
    for (name, latencies, rate) in [
        ("quiet", &quiet, 0.0),
        ("churn", &churn, written as f64 / elapsed),
    ] {
        println!(
            "{:<8} {:>10} {:>7} {:>7} {:>7} {:>8} {:>9.0}",
            name,
            latencies.nanos.len(),
            latencies.percentile(0.50),
            latencies.percentile(0.99),
            latencies.percentile(0.999),
            latencies.nanos.last().copied().unwrap_or(0),
            rate,
        );
    }
    println!(
        "p99 churn / quiet: {:.2}",
        f64::from(churn.percentile(0.99)) / f64::from(quiet.percentile(0.99))
    );
}
