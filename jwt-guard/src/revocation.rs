//! Step 6 of the order of checks: revocation. The [`RevocationStore`] trait,
//! the [`StoreFuture`] its methods return, and the in-memory store that is
//! the embedded default.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::task::{Context, Poll};
use std::time::SystemTime;

use crate::error::StoreError;
use crate::token::Token;

/// Where revocations are kept, shared by every request of a
/// [`TokenManager`](crate::TokenManager).
///
/// The embedded default is [`MemoryStore`]. A store shared by several
/// instances (such as Redis) implements this trait; the guard does not
/// change. Entries are only needed until `until`: a store should drop them
/// afterwards so it never grows without bound.
///
/// Every method returns a [`StoreFuture`]: [ready](StoreFuture::ready) at
/// once for a store in this process (no allocation on the request path), or
/// [a future](StoreFuture::new) for a store across the network.
///
/// A store that cannot answer must return an error: the request is then
/// refused (500), never let through.
///
/// ```
/// use std::time::SystemTime;
/// use jwt_guard::{RevocationStore, StoreError, StoreFuture, Token};
///
/// /// A store whose backend is down: every request is refused.
/// struct Down;
///
/// impl RevocationStore for Down {
///     fn revoke_token<'a>(&'a self, _: &'a str, _: SystemTime, _: SystemTime) -> StoreFuture<'a, ()> {
///         StoreFuture::new(async { Err(StoreError::new("backend unreachable")) })
///     }
///     fn revoke_subject<'a>(&'a self, _: &'a str, _: SystemTime, _: SystemTime, _: SystemTime) -> StoreFuture<'a, ()> {
///         StoreFuture::ready(Err(StoreError::new("backend unreachable")))
///     }
///     fn is_revoked<'a>(&'a self, _: &'a Token) -> StoreFuture<'a, bool> {
///         StoreFuture::ready(Err(StoreError::new("backend unreachable")))
///     }
/// }
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Revokes the token whose `jti` is given, until `until` (its expiry
    /// plus the leeway). `now` is the manager's clock, for housekeeping.
    fn revoke_token<'a>(
        &'a self,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()>;

    /// Revokes every token of `sub` issued at or before `issued_before`,
    /// remembering this until `until` (when the last such token expires).
    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()>;

    /// Whether this token is revoked: its [`jti`](Token::jti) was revoked,
    /// or its [subject](Token::sub) was revoked at or after its
    /// [precise issue time](Token::issued_at_precise).
    fn is_revoked<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, bool>;
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

/// The in-memory revocation store: the embedded default.
///
/// Revocations live in this process only and are lost on restart; use a
/// shared store when several instances serve the same tokens. Entries are
/// dropped once the tokens they concern have expired.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use jwt_guard::{MemoryStore, RevocationStore, TokenKind, TokenManager};
///
/// let manager = TokenManager::builder().hs256(jwt_guard::generate_secret()).build().unwrap();
/// let (one, two) = (manager.access_token("alice").sign().unwrap(), manager.access_token("alice").sign().unwrap());
/// let one = manager.verify(one.as_str(), TokenKind::Access).await.unwrap();
/// let two = manager.verify(two.as_str(), TokenKind::Access).await.unwrap();
///
/// let store = MemoryStore::new();
/// let now = std::time::SystemTime::now();
/// store.revoke_token(one.jti(), one.expires_at(), now).await.unwrap();
/// assert!(store.is_revoked(&one).await.unwrap());
/// assert!(!store.is_revoked(&two).await.unwrap());
/// # }
/// ```
#[derive(Default)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
}

#[derive(Default)]
struct Tables {
    /// jti → until.
    tokens: HashMap<String, SystemTime>,
    /// sub → (issued_before, until).
    subjects: HashMap<String, (SystemTime, SystemTime)>,
    writes: u32,
}

/// Expired entries are swept every this many writes, so a write costs
/// amortized O(1).
const SWEEP_EVERY: u32 = 64;

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many revocations are held (tokens and subjects), for monitoring.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tables
            .read()
            .map_or(0, |t| t.tokens.len() + t.subjects.len())
    }

    /// Whether no revocation is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self, now: SystemTime, f: impl FnOnce(&mut Tables)) -> Result<(), StoreError> {
        let mut tables = self
            .tables
            .write()
            .map_err(|_| StoreError::new("memory store lock poisoned"))?;
        f(&mut tables);
        tables.writes = tables.writes.wrapping_add(1);
        if tables.writes % SWEEP_EVERY == 0 {
            tables.tokens.retain(|_, until| *until >= now);
            tables.subjects.retain(|_, (_, until)| *until >= now);
        }
        Ok(())
    }
}

impl RevocationStore for MemoryStore {
    fn revoke_token<'a>(
        &'a self,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        StoreFuture::ready(self.write(now, |t| {
            let entry = t.tokens.entry(jti.to_owned()).or_insert(until);
            *entry = (*entry).max(until);
        }))
    }

    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        StoreFuture::ready(self.write(now, |t| {
            let entry = t
                .subjects
                .entry(sub.to_owned())
                .or_insert((issued_before, until));
            entry.0 = entry.0.max(issued_before);
            entry.1 = entry.1.max(until);
        }))
    }

    fn is_revoked<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, bool> {
        let Ok(tables) = self.tables.read() else {
            return StoreFuture::ready(Err(StoreError::new("memory store lock poisoned")));
        };
        let revoked = tables.tokens.contains_key(token.jti())
            || tables
                .subjects
                .get(token.sub())
                .is_some_and(|(before, _)| token.issued_at_precise() <= *before);
        StoreFuture::ready(Ok(revoked))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, TokenKind, TokenManager};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, UNIX_EPOCH};

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[derive(Clone)]
    struct Fixed(Arc<AtomicU64>);

    impl Clock for Fixed {
        fn now(&self) -> SystemTime {
            UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    #[test]
    fn expired_entries_are_swept() {
        let store = MemoryStore::new();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        block(store.revoke_token("old", t0, t0)).unwrap();
        let later = t0 + Duration::from_secs(10);
        for i in 0..SWEEP_EVERY {
            let until = later + Duration::from_secs(60);
            block(store.revoke_token(&format!("j{i}"), until, later)).unwrap();
        }
        assert_eq!(store.len(), SWEEP_EVERY as usize);
    }

    #[test]
    fn subject_cutoff_is_inclusive() {
        let clock = Fixed(Arc::new(AtomicU64::new(1_800_000_000_000)));
        let manager = TokenManager::builder()
            .hs256("a unit test secret of at least 32 bytes")
            .clock(clock.clone())
            .build()
            .unwrap();
        let token = |sub: &str| {
            let issued = manager.access_token(sub).sign().unwrap();
            manager.decode(issued.as_str(), TokenKind::Access).unwrap()
        };
        let alice = token("alice");
        let bob = token("bob");
        let store = MemoryStore::new();
        let at = alice.issued_at_precise();
        let until = at + Duration::from_secs(99);
        block(store.revoke_subject("alice", at, until, at)).unwrap();
        assert!(block(store.is_revoked(&alice)).unwrap());
        assert!(!block(store.is_revoked(&bob)).unwrap());
        clock.0.fetch_add(1, Ordering::SeqCst);
        assert!(!block(store.is_revoked(&token("alice"))).unwrap());
    }
}
