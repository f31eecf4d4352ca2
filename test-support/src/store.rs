//! Revocation stores for tests: one that always fails, and one that
//! records what the manager asks of a [`MemoryStore`].

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use jwt_guard::{
    MemoryStore, Revocation, RevocationStore, Rotation, StoreError, StoreFuture, Target, Token,
    TokenStatus,
};

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
    fn revoke<'a>(&'a self, _: &'a Revocation<'a>) -> StoreFuture<'a, ()> {
        self.fail()
    }

    fn status<'a>(&'a self, _: &'a Token) -> StoreFuture<'a, TokenStatus> {
        self.fail()
    }

    fn rotate<'a>(&'a self, _: &'a Rotation<'a>) -> StoreFuture<'a, bool> {
        self.fail()
    }
}

/// One call a [`RecordingStore`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A token revoked by its `jti`.
    Token {
        /// The revoked `jti`.
        jti: String,
        /// Until when it is kept.
        until: SystemTime,
    },
    /// A subject revoked up to a cut-off.
    Subject {
        /// The revoked subject.
        sub: String,
        /// Tokens issued at or before this are revoked.
        issued_before: SystemTime,
        /// Until when the cut-off is kept.
        until: SystemTime,
    },
    /// A family revoked.
    Family {
        /// The family's `sid`.
        sid: String,
        /// Until when it is kept.
        until: SystemTime,
        /// Until when access tokens of it may be valid.
        access_until: SystemTime,
    },
    /// `status(token)`, with the token's `jti`.
    Lookup(String),
    /// `rotate`: the family, the `jti` presented, and until when the
    /// family's record is kept.
    Rotate {
        /// The family's `sid`.
        sid: String,
        /// The refresh token presented.
        presented: String,
        /// Until when the family's record is kept.
        until: SystemTime,
    },
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
    fn revoke<'a>(&'a self, revocation: &'a Revocation<'a>) -> StoreFuture<'a, ()> {
        let until = revocation.until;
        self.record(match revocation.target {
            Target::Token { jti, .. } => Call::Token {
                jti: jti.to_owned(),
                until,
            },
            Target::Subject { sub, issued_before } => Call::Subject {
                sub: sub.to_owned(),
                issued_before,
                until,
            },
            Target::Family { sid, .. } => Call::Family {
                sid: sid.to_owned(),
                until,
                access_until: revocation.access_until,
            },
            other => panic!("a target this store does not know: {other:?}"),
        });
        self.store.revoke(revocation)
    }

    fn status<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, TokenStatus> {
        self.record(Call::Lookup(token.jti().to_owned()));
        self.store.status(token)
    }

    fn rotate<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, bool> {
        self.record(Call::Rotate {
            sid: rotation.sid.to_owned(),
            presented: rotation.presented.to_owned(),
            until: rotation.until,
        });
        self.store.rotate(rotation)
    }
}
