//! [`MemoryStore`]: revocations in this process, the embedded default, and
//! the local replica of the Redis store.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use super::{Revocation, RevocationStore, Rotation, StoreFuture, Target, TokenStatus};
use crate::error::StoreError;
use crate::kind::TokenKind;
use crate::token::Token;

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
/// use jwt_guard::{MemoryStore, TokenKind, TokenManager};
///
/// let manager = TokenManager::builder()
///     .hs256(jwt_guard::generate_secret())
///     .revocation_store(MemoryStore::new()) // the default
///     .build()
///     .unwrap();
/// let (one, two) = (manager.access_token("alice").sign().unwrap(), manager.access_token("alice").sign().unwrap());
/// let verified = manager.verify(one.as_str(), TokenKind::Access).await.unwrap();
/// manager.revoke(&verified).await.unwrap();
/// assert!(manager.verify(one.as_str(), TokenKind::Access).await.is_err());
/// assert!(manager.verify(two.as_str(), TokenKind::Access).await.is_ok());
/// # }
/// ```
pub struct MemoryStore {
    hasher: RandomState,
    /// jti → until.
    tokens: Shards<SystemTime>,
    /// sub → (issued_before, until).
    subjects: Shards<(SystemTime, SystemTime)>,
    /// sid → (the family's current refresh token, or revoked; until).
    families: Shards<(Family, SystemTime)>,
}

/// Where a family of refresh tokens stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Family {
    /// The `jti` of the one refresh token of the family that may be used.
    Current(Box<str>),
    /// Every token of the family is revoked.
    Revoked,
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

impl<T> Expiring for (T, SystemTime) {
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
            families: std::array::from_fn(|_| RwLock::default()),
        }
    }
}

const POISONED: &str = "memory store lock poisoned";

fn poisoned<T>(_: T) -> StoreError {
    StoreError::new(POISONED)
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are held (revoked tokens, revoked subjects, and
    /// families of refresh tokens), for monitoring.
    #[must_use]
    pub fn len(&self) -> usize {
        fn count<V>(shards: &Shards<V>) -> usize {
            shards
                .iter()
                .map(|shard| shard.read().map_or(0, |t| t.entries.len()))
                .sum()
        }
        count(&self.tokens) + count(&self.subjects) + count(&self.families)
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

impl MemoryStore {
    pub(super) fn revoke_now(&self, revocation: &Revocation<'_>) -> Result<(), StoreError> {
        let (until, now) = (revocation.until, revocation.now);
        match revocation.target {
            Target::Token { jti, .. } => {
                let mut table = self.shard(&self.tokens, jti).write().map_err(poisoned)?;
                table.upsert(jti, until, |entry, until| *entry = (*entry).max(until), now);
            }
            Target::Subject { sub, issued_before } => {
                let mut table = self.shard(&self.subjects, sub).write().map_err(poisoned)?;
                let merge = |entry: &mut (SystemTime, SystemTime), (before, until)| {
                    entry.0 = entry.0.max(before);
                    entry.1 = entry.1.max(until);
                };
                table.upsert(sub, (issued_before, until), merge, now);
            }
            Target::Family { sid, .. } => {
                let mut table = self.shard(&self.families, sid).write().map_err(poisoned)?;
                let merge = |entry: &mut (Family, SystemTime), (_, until)| {
                    entry.0 = Family::Revoked;
                    entry.1 = entry.1.max(until);
                };
                table.upsert(sid, (Family::Revoked, until), merge, now);
            }
        }
        Ok(())
    }

    /// Whether the token `jti` of `sub`, issued at `issued_at`, is revoked
    /// by its `jti` or by its subject's cut-off.
    fn revoked(&self, jti: &str, sub: &str, issued_at: SystemTime) -> Result<bool, StoreError> {
        let by_jti = self
            .shard(&self.tokens, jti)
            .read()
            .map_err(poisoned)?
            .entries
            .contains_key(jti);
        Ok(by_jti
            || self
                .shard(&self.subjects, sub)
                .read()
                .map_err(poisoned)?
                .entries
                .get(sub)
                .is_some_and(|(before, _)| issued_at <= *before))
    }

    fn status_now(&self, token: &Token) -> Result<TokenStatus, StoreError> {
        if self.revoked(token.jti(), token.sub(), token.issued_at_precise())? {
            return Ok(TokenStatus::Revoked);
        }
        let Some(sid) = token.family() else {
            return Ok(TokenStatus::Valid);
        };
        let families = self.shard(&self.families, sid).read().map_err(poisoned)?;
        Ok(match families.entries.get(sid) {
            Some((Family::Revoked, _)) => TokenStatus::Revoked,
            Some((Family::Current(current), _))
                if token.kind() == TokenKind::Refresh && **current != *token.jti() =>
            {
                TokenStatus::Reused
            }
            _ => TokenStatus::Valid,
        })
    }

    fn rotate_now(&self, rotation: &Rotation<'_>) -> Result<bool, StoreError> {
        // Revoked by its jti or its subject: no rotation. (A revocation
        // between these reads and the family's lock is no revocation of a
        // token the family has not issued yet: the subject's cut-off is
        // before the next token's issue time, and the jti is the old one.)
        if self.revoked(rotation.presented, rotation.sub, rotation.issued_at)? {
            return Ok(false);
        }
        let mut table = self
            .shard(&self.families, rotation.sid)
            .write()
            .map_err(poisoned)?;
        let consumable = match table.entries.get(rotation.sid) {
            Some((Family::Current(current), _)) => **current == *rotation.presented,
            Some((Family::Revoked, _)) => false,
            None => true,
        };
        if consumable {
            let merge = |entry: &mut (Family, SystemTime), (next, until)| {
                entry.0 = next;
                entry.1 = entry.1.max(until);
            };
            let next = (Family::Current(rotation.next.into()), rotation.until);
            table.upsert(rotation.sid, next, merge, rotation.now);
        }
        Ok(consumable)
    }
}

impl RevocationStore for MemoryStore {
    fn revoke<'a>(&'a self, revocation: &'a Revocation<'a>) -> StoreFuture<'a, ()> {
        StoreFuture::ready(self.revoke_now(revocation))
    }

    fn status<'a>(&'a self, token: &'a Token) -> StoreFuture<'a, TokenStatus> {
        StoreFuture::ready(self.status_now(token))
    }

    fn rotate<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, bool> {
        StoreFuture::ready(self.rotate_now(rotation))
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

    fn revoke_token(
        store: &MemoryStore,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'static, ()> {
        let target = Target::Token {
            jti,
            sub: "s",
            kind: TokenKind::Access,
        };
        StoreFuture::ready(store.revoke_now(&Revocation::new(target, until, until, now)))
    }

    fn revoke_subject(
        store: &MemoryStore,
        sub: &str,
        issued_before: SystemTime,
        until: SystemTime,
        now: SystemTime,
    ) -> StoreFuture<'static, ()> {
        let target = Target::Subject { sub, issued_before };
        StoreFuture::ready(store.revoke_now(&Revocation::new(target, until, until, now)))
    }

    fn is_revoked(store: &MemoryStore, token: &Token) -> bool {
        store.status_now(token).unwrap() == TokenStatus::Revoked
    }

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
            block(revoke_token(&store, &format!("jti-{i}"), t0, t0)).unwrap();
        }
        block(revoke_subject(&store, "alice", t0, t0, t0)).unwrap();
        let family = Target::Family {
            sid: "s1",
            sub: "bob",
        };
        store
            .revoke_now(&Revocation::new(family, t0, t0, t0))
            .unwrap();
        assert!(!store.is_empty());
        assert_eq!(store.len(), 642);
        assert_eq!(format!("{store:?}"), "MemoryStore { entries: 642 }");
        // A lock per shard: ten entries a shard on average, none left empty
        // but by the rarest chance.
        let used = store
            .tokens
            .iter()
            .filter(|shard| !shard.read().unwrap().entries.is_empty())
            .count();
        assert!(used > SHARDS / 2, "{used} of {SHARDS} shards used");
        assert_eq!(
            format!("{:?}", revoke_token(&store, "x", t0, t0)),
            "StoreFuture"
        );
    }

    #[test]
    fn expired_entries_are_purged_by_later_writes() {
        let store = MemoryStore::new();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..100 {
            block(revoke_token(&store, &format!("old{i}"), t0, t0)).unwrap();
        }
        block(revoke_subject(&store, "gone", t0, t0, t0)).unwrap();
        // Revoked again for longer: kept past its first expiry.
        block(revoke_token(
            &store,
            "old0",
            t0 + Duration::from_secs(3600),
            t0,
        ))
        .unwrap();
        assert_eq!(store.len(), 101);
        // Expired, but within the purge margin (a clock stepped forward may
        // step back): kept.
        let soon = t0 + PURGE_MARGIN - Duration::from_secs(1);
        for i in 0..1000 {
            block(revoke_token(
                &store,
                &format!("soon{i}"),
                soon + PURGE_MARGIN * 9,
                soon,
            ))
            .unwrap();
        }
        assert_eq!(store.len(), 101 + 1000);
        // Expired for longer than the purge margin.
        let later = t0 + PURGE_MARGIN + Duration::from_secs(10);
        let until = later + Duration::from_secs(60);
        for i in 0..1000 {
            block(revoke_token(&store, &format!("new{i}"), until, later)).unwrap();
        }
        // (Enough writes that every shard gets some, whatever the hash.)
        for i in 0..1000 {
            block(revoke_subject(
                &store,
                &format!("sub{i}"),
                later,
                until,
                later,
            ))
            .unwrap();
        }
        // Each write purged up to two expired entries of its shard: every
        // expired one is gone, the extended one and the live ones are kept.
        assert_eq!(store.len(), 1 + 1000 + 1000 + 1000);
    }

    #[test]
    fn an_entry_is_kept_until_the_purge_margin_has_passed_whole() {
        let store = MemoryStore::new();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        block(revoke_token(&store, "edge", t0, t0)).unwrap();
        // Exactly the margin past its expiry: still kept, however many
        // writes come (enough that every shard gets some).
        let now = t0 + PURGE_MARGIN;
        for i in 0..2000 {
            block(revoke_token(
                &store,
                &format!("w{i}"),
                now + PURGE_MARGIN,
                now,
            ))
            .unwrap();
        }
        assert_eq!(store.len(), 2001);
        // A millisecond more: purged.
        let now = now + Duration::from_millis(1);
        for i in 0..2000 {
            block(revoke_token(
                &store,
                &format!("x{i}"),
                now + PURGE_MARGIN,
                now,
            ))
            .unwrap();
        }
        assert_eq!(store.len(), 4000);
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
            block(revoke_subject(
                &store,
                "alice",
                now,
                now + Duration::from_secs(60),
                now,
            ))
            .unwrap();
        }
        assert_eq!((store.len(), queued()), (1, 1));
        // Past its first expiry (and the margin), before its last: queued
        // again and kept. (Enough writes that every shard gets some,
        // whatever the hash.)
        let margin = PURGE_MARGIN.as_secs();
        for i in 0..1000 {
            let now = at(65 + margin);
            block(revoke_subject(&store, &format!("s{i}"), now, at(100), now)).unwrap();
        }
        assert!(holds("alice"));
        assert_eq!((store.len(), queued()), (1001, 1001));
        // Past its last: gone.
        for i in 0..4000 {
            let now = at(200 + margin);
            block(revoke_subject(&store, &format!("t{i}"), now, now, now)).unwrap();
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
            block(manager.decode(issued.as_str(), TokenKind::Access)).unwrap()
        };
        let alice = token("alice");
        let bob = token("bob");
        let store = MemoryStore::new();
        let at = alice.issued_at_precise();
        let until = at + Duration::from_secs(99);
        block(revoke_subject(&store, "alice", at, until, at)).unwrap();
        assert!(is_revoked(&store, &alice));
        assert!(!is_revoked(&store, &bob));
        clock.0.fetch_add(1, Ordering::SeqCst);
        assert!(!is_revoked(&store, &token("alice")));
    }
}
