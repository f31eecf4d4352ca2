//! Revocation stores for tests: one that always fails, and one that
//! records what the manager asks of a [`MemoryStore`].

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use jwt_guard::{MemoryStore, RevocationStore, StoreError, StoreFuture, Token};

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

/// One call a [`RecordingStore`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `revoke_token(jti, until)`.
    Token {
        /// The revoked `jti`.
        jti: String,
        /// Until when it is kept.
        until: SystemTime,
    },
    /// `revoke_subject(sub, issued_before, until)`.
    Subject {
        /// The revoked subject.
        sub: String,
        /// Tokens issued at or before this are revoked.
        issued_before: SystemTime,
        /// Until when the cut-off is kept.
        until: SystemTime,
    },
    /// `is_revoked(token)`, with the token's `jti`.
    Lookup(String),
}

/// A [`MemoryStore`] that records every call, shared by its clones: give
/// one clone to `TokenManagerBuilder::revocation_store` (or to two
/// managers, as two app instances) and read [`calls`](Self::calls) from
/// another.
#[derive(Debug, Clone, Default)]
pub struct RecordingStore {
    store: Arc<MemoryStore>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl RecordingStore {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// How many revocation lookups were made.
    pub fn lookups(&self) -> usize {
        self.calls()
            .iter()
            .filter(|call| matches!(call, Call::Lookup(_)))
            .count()
    }

    /// How many entries the underlying store holds.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the underlying store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record(&self, call: Call) {
        self.calls.lock().unwrap().push(call);
    }
}

impl RevocationStore for RecordingStore {
    fn revoke_token<'a>(
        &'a self,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        self.record(Call::Token {
            jti: jti.to_owned(),
            until,
        });
        self.store.revoke_token(jti, until, now)
    }

    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        self.record(Call::Subject {
            sub: sub.to_owned(),
            issued_before,
            until,
        });
        self.store.revoke_subject(sub, issued_before, until, now)
    }

    fn is_revoked<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, bool> {
        self.record(Call::Lookup(token.jti().to_owned()));
        self.store.is_revoked(token)
    }
}
