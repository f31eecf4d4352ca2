//! The verified-signature cache under callgrind: instructions per `verify`
//! of one RS256 or ES256 token, with the cache off, cold (emptied before
//! each call) or warm (the same token again), and of an HS256 token for
//! scale. Instruction counts do not move with the machine's load, where
//! times do.
//!
//! ```sh
//! cargo bench --bench cache --no-run
//! for n in 20000 40000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!     target/release/deps/cache-<hash> --alg RS256 --mode warm --verifies $n
//! done
//! # instructions per verify = (total at 40000 − total at 20000) / 20000
//! ```
//!
//! Without arguments (as `cargo bench` runs it), it makes 1000 calls of each
//! kind and prints nothing but their count.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use jwt_guard::{TokenKind, TokenManager};

fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("tests/keys/{name}.pem: {e}"))
}

/// The in-memory revocation store answers at once: one poll finishes.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("nothing here waits"),
    }
}

fn run(alg: &str, mode: &str, verifies: usize) {
    let builder = TokenManager::builder().issuer("bench");
    let builder = match alg {
        "RS256" => builder.rs256_pem(key("rsa-private"), key("rsa-public")),
        "ES256" => builder.es256_pem(key("ec256-private"), key("ec256-public")),
        "HS256" => builder.hs256("a benchmark secret of at least thirty-two bytes"),
        other => panic!("unknown --alg {other}: RS256, ES256 or HS256"),
    };
    let builder = match mode {
        "off" => builder.signature_cache(0),
        "cold" | "warm" => builder,
        other => panic!("unknown --mode {other}: off, cold or warm"),
    };
    let manager = builder.build().unwrap();
    let token = manager
        .access_token("alice")
        .claim("tenant", "acme")
        .sign()
        .unwrap();
    for _ in 0..verifies {
        if mode == "cold" {
            manager.forget_signatures();
        }
        now(manager.verify(black_box(token.as_str()), TokenKind::Access)).unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let verifies = value("--verifies").map_or(1000, |n| n.parse().expect("--verifies N"));
    match (value("--alg"), value("--mode")) {
        (Some(alg), Some(mode)) => run(&alg, &mode, verifies),
        _ => {
            for alg in ["RS256", "ES256"] {
                for mode in ["off", "cold", "warm"] {
                    run(alg, mode, verifies);
                }
            }
            println!("{} verifies of each kind", verifies);
        }
    }
}
