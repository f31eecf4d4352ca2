//! Step 6 of the order of checks: revocation. The [`RevocationStore`] trait,
//! the [`StoreFuture`] its methods return, and the in-memory store that is
//! the embedded default.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher as _, RandomState};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

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
/// dropped once the tokens they concern have expired: each write purges a
/// few expired entries (the earliest first), so the purge costs amortized
/// O(1) per write and never scans the store. The store is split in shards,
/// each behind its own lock, so a write holds up only the readers of one
/// shard, and only briefly.
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
pub struct MemoryStore {
    hasher: RandomState,
    /// jti → until.
    tokens: Shards<SystemTime>,
    /// sub → (issued_before, until).
    subjects: Shards<(SystemTime, SystemTime)>,
}

/// How many shards each table is split in.
const SHARDS: usize = 64;

/// How long an entry is kept past its expiry: a clock stepped forward (by
/// NTP, say) and back again must not bring a revoked token back to life.
pub(crate) const PURGE_MARGIN: Duration = Duration::from_secs(60);

/// How many expired entries a write purges at most: more than the one it
/// may add, so expired entries drain faster than they can pile up.
const PURGE_PER_WRITE: usize = 2;

type Shards<V> = [RwLock<Table<V>>; SHARDS];

/// One shard: the entries, and when each expires, earliest first.
struct Table<V> {
    entries: HashMap<Arc<str>, V>,
    expiry: BinaryHeap<Reverse<(SystemTime, Arc<str>)>>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            expiry: BinaryHeap::new(),
        }
    }
}

/// What every entry knows: until when it must be kept.
trait Expiring {
    fn until(&self) -> SystemTime;
}

impl Expiring for SystemTime {
    fn until(&self) -> SystemTime {
        *self
    }
}

impl Expiring for (SystemTime, SystemTime) {
    fn until(&self) -> SystemTime {
        self.1
    }
}

impl<V: Expiring> Table<V> {
    /// Inserts `value` under `key`, or merges it into the entry there, then
    /// purges a few expired entries. The expiry queue holds each key once:
    /// an entry extended since it was queued is queued again, at its new
    /// expiry, when its old one comes up; so neither the table nor the
    /// queue grows past the live entries, however often a key is revoked.
    fn upsert(&mut self, key: &str, value: V, merge: impl FnOnce(&mut V, V), now: SystemTime) {
        match self.entries.get_mut(key) {
            Some(entry) => merge(entry, value),
            None => {
                let key: Arc<str> = Arc::from(key);
                self.expiry.push(Reverse((value.until(), Arc::clone(&key))));
                self.entries.insert(key, value);
            }
        }
        let Some(horizon) = now.checked_sub(PURGE_MARGIN) else {
            return;
        };
        for _ in 0..PURGE_PER_WRITE {
            match self.expiry.peek() {
                Some(Reverse((until, _))) if *until < horizon => {}
                _ => break,
            }
            let Some(Reverse((_, key))) = self.expiry.pop() else {
                break;
            };
            match self.entries.get(&key).map(Expiring::until) {
                Some(until) if until < horizon => {
                    self.entries.remove(&key);
                }
                Some(until) => self.expiry.push(Reverse((until, key))),
                None => {}
            }
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            hasher: RandomState::new(),
            tokens: std::array::from_fn(|_| RwLock::default()),
            subjects: std::array::from_fn(|_| RwLock::default()),
        }
    }
}

const POISONED: &str = "memory store lock poisoned";

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many revocations are held (tokens and subjects), for monitoring.
    #[must_use]
    pub fn len(&self) -> usize {
        fn count<V>(shards: &Shards<V>) -> usize {
            shards
                .iter()
                .map(|shard| shard.read().map_or(0, |t| t.entries.len()))
                .sum()
        }
        count(&self.tokens) + count(&self.subjects)
    }

    /// Whether no revocation is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard<'s, V>(&self, shards: &'s Shards<V>, key: &str) -> &'s RwLock<Table<V>> {
        #[allow(clippy::cast_possible_truncation)]
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        // In range by construction; the first shard stands in otherwise.
        shards.get(index).unwrap_or(&shards[0])
    }
}

impl RevocationStore for MemoryStore {
    fn revoke_token<'a>(
        &'a self,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        let result = self.shard(&self.tokens, jti).write().map(|mut table| {
            table.upsert(jti, until, |entry, until| *entry = (*entry).max(until), now);
        });
        StoreFuture::ready(result.map_err(|_| StoreError::new(POISONED)))
    }

    fn revoke_subject<'a>(
        &'a self,
        sub: &'a str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'a, ()> {
        let result = self.shard(&self.subjects, sub).write().map(|mut table| {
            let merge = |entry: &mut (SystemTime, SystemTime), (before, until)| {
                entry.0 = entry.0.max(before);
                entry.1 = entry.1.max(until);
            };
            table.upsert(sub, (issued_before, until), merge, now);
        });
        StoreFuture::ready(result.map_err(|_| StoreError::new(POISONED)))
    }

    fn is_revoked<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, bool> {
        let (Ok(tokens), Ok(subjects)) = (
            self.shard(&self.tokens, token.jti()).read(),
            self.shard(&self.subjects, token.sub()).read(),
        ) else {
            return StoreFuture::ready(Err(StoreError::new(POISONED)));
        };
        let revoked = tokens.entries.contains_key(token.jti())
            || subjects
                .entries
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
    fn revocations_spread_over_the_shards_and_are_counted() {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        assert_eq!(format!("{store:?}"), "MemoryStore { entries: 0 }");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..640 {
            block(store.revoke_token(&format!("jti-{i}"), t0, t0)).unwrap();
        }
        block(store.revoke_subject("alice", t0, t0, t0)).unwrap();
        assert!(!store.is_empty());
        assert_eq!(store.len(), 641);
        assert_eq!(format!("{store:?}"), "MemoryStore { entries: 641 }");
        // A lock per shard: ten entries a shard on average, none left empty
        // but by the rarest chance.
        let used = store
            .tokens
            .iter()
            .filter(|shard| !shard.read().unwrap().entries.is_empty())
            .count();
        assert!(used > SHARDS / 2, "{used} of {SHARDS} shards used");
        assert_eq!(
            format!("{:?}", store.revoke_token("x", t0, t0)),
            "StoreFuture"
        );
    }

    #[test]
    fn expired_entries_are_purged_by_later_writes() {
        let store = MemoryStore::new();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..100 {
            block(store.revoke_token(&format!("old{i}"), t0, t0)).unwrap();
        }
        block(store.revoke_subject("gone", t0, t0, t0)).unwrap();
        // Revoked again for longer: kept past its first expiry.
        block(store.revoke_token("old0", t0 + Duration::from_secs(3600), t0)).unwrap();
        assert_eq!(store.len(), 101);
        // Expired, but within the purge margin (a clock stepped forward may
        // step back): kept.
        let soon = t0 + PURGE_MARGIN - Duration::from_secs(1);
        for i in 0..1000 {
            block(store.revoke_token(&format!("soon{i}"), soon + PURGE_MARGIN * 9, soon)).unwrap();
        }
        assert_eq!(store.len(), 101 + 1000);
        // Expired for longer than the purge margin.
        let later = t0 + PURGE_MARGIN + Duration::from_secs(10);
        let until = later + Duration::from_secs(60);
        for i in 0..1000 {
            block(store.revoke_token(&format!("new{i}"), until, later)).unwrap();
        }
        // (Enough writes that every shard gets some, whatever the hash.)
        for i in 0..1000 {
            block(store.revoke_subject(&format!("sub{i}"), later, until, later)).unwrap();
        }
        // Each write purged up to two expired entries of its shard: every
        // expired one is gone, the extended one and the live ones are kept.
        assert_eq!(store.len(), 1 + 1000 + 1000 + 1000);
    }

    #[test]
    fn repeated_revocations_of_one_key_queue_it_once() {
        let store = MemoryStore::new();
        let queued = || -> usize {
            store
                .subjects
                .iter()
                .map(|shard| shard.read().unwrap().expiry.len())
                .sum()
        };
        let holds = |sub: &str| {
            store
                .shard(&store.subjects, sub)
                .read()
                .unwrap()
                .entries
                .contains_key(sub)
        };
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_000_000 + secs);
        // "Log out everywhere" pressed ten thousand times, each press keeping
        // the cut-off a little longer: one entry, queued once.
        for i in 0..10_000 {
            let now = at(0) + Duration::from_millis(i);
            block(store.revoke_subject("alice", now, now + Duration::from_secs(60), now)).unwrap();
        }
        assert_eq!((store.len(), queued()), (1, 1));
        // Past its first expiry (and the margin), before its last: queued
        // again and kept. (Enough writes that every shard gets some,
        // whatever the hash.)
        let margin = PURGE_MARGIN.as_secs();
        for i in 0..1000 {
            let now = at(65 + margin);
            block(store.revoke_subject(&format!("s{i}"), now, at(100), now)).unwrap();
        }
        assert!(holds("alice"));
        assert_eq!((store.len(), queued()), (1001, 1001));
        // Past its last: gone.
        for i in 0..4000 {
            let now = at(200 + margin);
            block(store.revoke_subject(&format!("t{i}"), now, now, now)).unwrap();
        }
        assert!(!holds("alice"));
        assert_eq!(store.len(), queued());
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
