//! Property tests: no input makes the verifier panic or pass.

use std::future::Future;

use jwt_guard::{TokenKind, TokenManager};
use proptest::prelude::*;

use crate::common::*;

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn refused(manager: &TokenManager, token: &str) -> bool {
    block_on(manager.verify(token, TokenKind::Access)).is_err()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_pass(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let manager = manager();
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(refused(&manager, &text));
    }

    #[test]
    fn arbitrary_three_part_tokens_never_pass(
        header in "[A-Za-z0-9_-]{0,60}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_-]{0,90}",
    ) {
        let manager = manager();
        let token = format!("{header}.{payload}.{signature}");
        prop_assert!(refused(&manager, &token));
    }

    #[test]
    fn any_single_byte_change_is_refused(index in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        let manager = manager();
        let genuine = access(&manager, "alice");
        let mut bytes = genuine.clone().into_bytes();
        let at = index.index(bytes.len());
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let tampered = String::from_utf8(bytes).unwrap();
        prop_assert!(refused(&manager, &tampered), "accepted a change at {} to {:?}", at, byte as char);
        prop_assert!(!refused(&manager, &genuine));
    }
}
