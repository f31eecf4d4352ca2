//! A revocation store that always fails.

use std::time::SystemTime;

use jwt_guard::{RevocationStore, StoreError, StoreFuture, Token};

/// A [`RevocationStore`] whose every call fails with `message`: the
/// revocation state is unknown, so a guarded request must be refused.
#[derive(Debug, Clone, Copy)]
pub struct FailingStore(pub &'static str);

impl FailingStore {
    fn fail<T>(&self) -> StoreFuture<'_, T> {
        let message = self.0;
        StoreFuture::new(async move { Err(StoreError::new(message)) })
    }
}

impl RevocationStore for FailingStore {
    fn revoke_token<'a>(&'a self, _: &'a str, _: SystemTime, _: SystemTime) -> StoreFuture<'a, ()> {
        self.fail()
    }

    fn revoke_subject<'a>(
        &'a self,
        _: &'a str,
        _: SystemTime,
        _: SystemTime,
        _: SystemTime,
    ) -> StoreFuture<'a, ()> {
        self.fail()
    }

    fn is_revoked<'a>(&'a self, _: &'a Token) -> StoreFuture<'a, bool> {
        self.fail()
    }
}
