//! Arbitrary bytes as a token: the verifier must never panic, and never
//! accept (the fuzzer cannot forge an HMAC).
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use jwt_guard::{TokenKind, TokenManager};
use libfuzzer_sys::fuzz_target;

fn manager() -> &'static TokenManager {
    static MANAGER: OnceLock<TokenManager> = OnceLock::new();
    MANAGER.get_or_init(|| {
        TokenManager::builder()
            .issuer("fuzz")
            .hs256("a fuzzing secret of at least thirty-two bytes")
            .build()
            .expect("valid settings")
    })
}

/// The in-memory store answers at once, so one poll finishes the future.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("verification never waits on the memory store"),
    }
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    for kind in [TokenKind::Access, TokenKind::Refresh] {
        assert!(
            now(manager().verify(&token, kind)).is_err(),
            "accepted {token:?}"
        );
    }
});
