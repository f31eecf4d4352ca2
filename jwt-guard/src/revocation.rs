//! Revocation: the [`RevocationStore`] trait and the in-memory store that is
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

/// A boxed, sendable future, as the [`RevocationStore`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where revocations are kept, shared by every request of a
/// [`TokenManager`](crate::TokenManager).
///
/// The embedded default is [`MemoryStore`]. A store shared by several
/// instances (such as Redis) implements this trait; the guard does not
/// change. Entries are only needed until `until`: a store should drop them
/// afterwards so it never grows without bound.
///
/// A store that cannot answer must return an error: the request is then
/// refused (500), never let through.
pub trait RevocationStore: Send + Sync + 'static {
    /// Revokes the token whose `jti` is given, until `until` (its expiry
    /// plus the leeway). `now` is the manager's clock, for housekeeping.
    fn revoke_token<'a>(
        &'a self,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Revokes every token of `sub` issued at or before `issued_before`,
    /// remembering this until `until` (when the last such token expires).
    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether this token is revoked: its [`jti`](Token::jti) was revoked,
    /// or its [subject](Token::sub) was revoked at or after its
    /// [precise issue time](Token::issued_at_precise).
    fn is_revoked<'a>(&'a self, token: &'a Token) -> Lookup<'a>;
}

/// The answer of [`RevocationStore::is_revoked`]: ready at once (an
/// in-process store, no allocation) or a future (a networked store).
#[must_use = "a lookup does nothing unless awaited"]
pub struct Lookup<'a>(LookupState<'a>);

enum LookupState<'a> {
    Ready(Option<Result<bool, StoreError>>),
    Pending(BoxFuture<'a, Result<bool, StoreError>>),
}

impl<'a> Lookup<'a> {
    /// An answer known at once.
    pub fn ready(result: Result<bool, StoreError>) -> Self {
        Self(LookupState::Ready(Some(result)))
    }

    /// An answer that needs I/O.
    pub fn pending(future: impl Future<Output = Result<bool, StoreError>> + Send + 'a) -> Self {
        Self(LookupState::Pending(Box::pin(future)))
    }
}

impl Future for Lookup<'_> {
    type Output = Result<bool, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            LookupState::Ready(result) => Poll::Ready(
                result
                    .take()
                    .unwrap_or_else(|| Err(StoreError::new("lookup polled after completion"))),
            ),
            LookupState::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for Lookup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lookup")
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
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.write(now, |t| {
            let entry = t.tokens.entry(jti.to_owned()).or_insert(until);
            *entry = (*entry).max(until);
        });
        Box::pin(std::future::ready(result))
    }

    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let result = self.write(now, |t| {
            let entry = t
                .subjects
                .entry(sub.to_owned())
                .or_insert((issued_before, until));
            entry.0 = entry.0.max(issued_before);
            entry.1 = entry.1.max(until);
        });
        Box::pin(std::future::ready(result))
    }

    fn is_revoked<'a>(&'a self, token: &'a Token) -> Lookup<'a> {
        let Ok(tables) = self.tables.read() else {
            return Lookup::ready(Err(StoreError::new("memory store lock poisoned")));
        };
        let revoked = tables.tokens.contains_key(token.jti())
            || tables
                .subjects
                .get(token.sub())
                .is_some_and(|(before, _)| token.issued_at_precise() <= *before);
        Lookup::ready(Ok(revoked))
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
