//! Step 6 of the order of checks: revocation. The [`RevocationStore`] trait,
//! what its methods are asked ([`Revocation`], [`Rotation`]) and answer
//! ([`TokenStatus`], [`StoreFuture`]), the in-memory store that is the
//! embedded default, and the Redis store (feature `redis`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use crate::error::StoreError;
use crate::kind::TokenKind;
use crate::token::Token;

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreBuilder};

/// Where revocations are kept, shared by every request of a
/// [`TokenManager`](crate::TokenManager).
///
/// The embedded default is [`MemoryStore`]; [`RedisStore`] (feature
/// `redis`) shares revocations between instances. The manager decides what
/// to revoke and for how long; a store keeps it and answers lookups:
///
/// - [`revoke`](Self::revoke) keeps a [`Revocation`] until its `until`, then
///   may drop it, so a store never grows without bound;
/// - [`status`](Self::status) says whether a verified token is revoked, or
///   is a refresh token its family has already used;
/// - [`rotate`](Self::rotate) consumes a refresh token of a family,
///   atomically: of concurrent rotations of one token, one succeeds.
///
/// Every method returns a [`StoreFuture`]: [ready](StoreFuture::ready) at
/// once for a store in this process (no allocation on the request path), or
/// [a future](StoreFuture::new) for a store across the network.
///
/// A store that cannot answer must return an error: the request is then
/// refused (503), never let through.
///
/// ```
/// use jwt_guard::{Revocation, RevocationStore, Rotation, StoreError, StoreFuture, Token, TokenStatus};
///
/// /// A store whose backend is down: every request is refused.
/// struct Down;
///
/// impl RevocationStore for Down {
///     fn revoke<'a>(&'a self, _: &'a Revocation<'a>) -> StoreFuture<'a, ()> {
///         StoreFuture::new(async { Err(StoreError::new("backend unreachable")) })
///     }
///     fn status<'a>(&'a self, _: &'a Token) -> StoreFuture<'a, TokenStatus> {
///         StoreFuture::ready(Err(StoreError::new("backend unreachable")))
///     }
///     fn rotate<'a>(&'a self, _: &'a Rotation<'a>) -> StoreFuture<'a, bool> {
///         StoreFuture::ready(Err(StoreError::new("backend unreachable")))
///     }
/// }
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Keeps `revocation` until its [`until`](Revocation::until).
    fn revoke<'a>(&'a self, revocation: &'a Revocation<'a>) -> StoreFuture<'a, ()>;

    /// Whether this verified token is revoked: its [`jti`](Token::jti) was
    /// revoked, its [subject](Token::sub) was revoked at or after its
    /// [precise issue time](Token::issued_at_precise), or its
    /// [family](Token::sid) was revoked; or, for a refresh token, whether
    /// its family has moved on to a later token ([`TokenStatus::Reused`]).
    fn status<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, TokenStatus>;

    /// Consumes the refresh token [`presented`](Rotation::presented) of
    /// family [`sid`](Rotation::sid): when it is the family's current token
    /// (or the family has no record yet) and is not revoked (by its `jti`,
    /// or its subject since [`issued_at`](Rotation::issued_at)),
    /// [`next`](Rotation::next) becomes the current one and the answer is
    /// `true`. Otherwise (a token already used, or revoked) nothing changes
    /// and the answer is `false`. Atomic, checks and change together: of
    /// concurrent rotations of one token, exactly one answers `true`. One
    /// record per family, kept until [`until`](Rotation::until).
    fn rotate<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, bool>;
}

/// What a [`Revocation`] covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target<'a> {
    /// One token, by its `jti`.
    Token {
        /// The token's `jti`.
        jti: &'a str,
        /// The token's subject.
        sub: &'a str,
        /// Access or refresh.
        kind: TokenKind,
    },
    /// Every token of `sub` issued at or before `issued_before`.
    Subject {
        /// The subject.
        sub: &'a str,
        /// The cut-off, to the millisecond.
        issued_before: SystemTime,
    },
    /// Every token of one family (one login and its refreshes), by `sid`.
    Family {
        /// The family's id, the `sid` claim of its tokens.
        sid: &'a str,
        /// The subject the family belongs to.
        sub: &'a str,
    },
}

/// A revocation, as the manager hands it to [`RevocationStore::revoke`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revocation<'a> {
    /// What is revoked.
    pub target: Target<'a>,
    /// When the last token it covers expires (plus the leeway): the
    /// revocation may be forgotten afterwards.
    pub until: SystemTime,
    /// When the last *access* token it covers expires (plus the leeway). A
    /// store that keeps a replica for access tokens may drop it from the
    /// replica then. Not after [`until`](Self::until).
    pub access_until: SystemTime,
    /// The manager's clock, for housekeeping.
    pub now: SystemTime,
}

impl<'a> Revocation<'a> {
    /// A revocation of `target`, kept until `until`; `access_until` is
    /// capped at `until`.
    #[must_use]
    pub fn new(
        target: Target<'a>,
        until: SystemTime,
        access_until: SystemTime,
        now: SystemTime,
    ) -> Self {
        Self {
            target,
            until,
            access_until: access_until.min(until),
            now,
        }
    }
}

/// A refresh-token rotation, as the manager hands it to
/// [`RevocationStore::rotate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rotation<'a> {
    /// The subject of the family.
    pub sub: &'a str,
    /// The family (`sid`).
    pub sid: &'a str,
    /// The `jti` of the refresh token presented.
    pub presented: &'a str,
    /// The presented token's [precise issue time](Token::issued_at_precise),
    /// for its subject's cut-off.
    pub issued_at: SystemTime,
    /// The `jti` of the refresh token that replaces it.
    pub next: &'a str,
    /// When the family's record may be forgotten: the new refresh token's
    /// expiry plus the leeway.
    pub until: SystemTime,
    /// The manager's clock, for housekeeping.
    pub now: SystemTime,
}

impl<'a> Rotation<'a> {
    /// A rotation from the verified refresh token `presented` to the one
    /// whose `jti` is `next`, keeping the family's record until `until`.
    #[must_use]
    pub fn new(presented: &'a Token, next: &'a str, until: SystemTime, now: SystemTime) -> Self {
        Self {
            sub: presented.sub(),
            sid: presented.family().unwrap_or(presented.jti()),
            presented: presented.jti(),
            issued_at: presented.issued_at_precise(),
            next,
            until,
            now,
        }
    }
}

/// What [`RevocationStore::status`] knows of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenStatus {
    /// Not revoked.
    Valid,
    /// Revoked: by its `jti`, its subject or its family.
    Revoked,
    /// A refresh token its family has already exchanged for a later one:
    /// presenting it again is a reuse, and the manager revokes the family.
    Reused,
}

/// The answer of a [`RevocationStore`] method: ready at once (a store in
/// this process; no allocation) or a boxed future (a store that does I/O).
#[must_use = "a store future does nothing unless awaited"]
pub struct StoreFuture<'a, T>(State<'a, T>);

enum State<'a, T> {
    Ready(Option<Result<T, StoreError>>),
    Pending(Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>),
}

impl<'a, T> StoreFuture<'a, T> {
    /// An answer known at once.
    pub fn ready(result: Result<T, StoreError>) -> Self {
        Self(State::Ready(Some(result)))
    }

    /// An answer that needs I/O.
    pub fn new(future: impl Future<Output = Result<T, StoreError>> + Send + 'a) -> Self {
        Self(State::Pending(Box::pin(future)))
    }
}

impl<T: Unpin> Future for StoreFuture<'_, T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            State::Ready(result) => {
                Poll::Ready(result.take().unwrap_or_else(|| {
                    Err(StoreError::new("store future polled after completion"))
                }))
            }
            State::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for StoreFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreFuture")
    }
}
