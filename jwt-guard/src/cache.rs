//! The verified-signature cache: tokens whose exact bytes passed the
//! signature check of an asymmetric key, kept until their `exp`, so that a
//! token presented again skips the 15–35 µs of RSA or ECDSA. Only the
//! signature (and the claims' parsing) is skipped: time claims, issuer,
//! audience, kind, revocation and the handler's requirements are checked on
//! every request.
//!
//! An entry is found by a keyed hash of the whole token (SipHash with keys
//! drawn for this process, so nobody can aim collisions), and a hit is
//! confirmed by comparing the whole token, in constant time. The cache is
//! bounded (sharded maps, each with its share of the capacity), and is
//! emptied when a key is retired or rotated out.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::token::Token;
use crate::transport::constant_time_eq;

const SHARDS: usize = 16;

/// The default capacity, in tokens.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

pub(crate) struct SignatureCache {
    shards: [RwLock<Shard>; SHARDS],
    hasher: RandomState,
    per_shard: usize,
    /// Counts [`clear`](Self::clear)s: a token verified with a key that
    /// went away meanwhile is not remembered.
    generation: AtomicU64,
}

/// Entries by the keyed hash of their token; the hash is the map's hash.
type Shard = HashMap<u64, Entry, BuildHasherDefault<Identity>>;

struct Entry {
    /// The verified token, claims parsed.
    token: Token,
    /// When to forget it: its `exp` plus the leeway, in seconds since the
    /// epoch; past it, the token is refused anyway.
    until: u64,
}

impl SignatureCache {
    /// A cache of at most `capacity` tokens (at least one per shard).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| RwLock::default()),
            hasher: RandomState::new(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            generation: AtomicU64::new(0),
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // Bits the maps use least (they take the low bits for the bucket
        // and the top seven as a tag) pick the shard.
        #[allow(clippy::cast_possible_truncation)]
        let index = (hash >> 32) as usize % SHARDS;
        // In range by construction; the first shard stands in otherwise.
        self.shards.get(index).unwrap_or(&self.shards[0])
    }

    /// The token verified before whose bytes are exactly `encoded`, unless
    /// it is past `until` at `now` (seconds since the epoch).
    #[inline]
    pub(crate) fn get(&self, encoded: &str, now: u64) -> Option<Token> {
        let hash = self.hasher.hash_one(encoded.as_bytes());
        let shard = self.shard(hash);
        let expired = {
            let map = shard.read().unwrap_or_else(PoisonError::into_inner);
            let entry = map.get(&hash)?;
            if !constant_time_eq(entry.token.as_str(), encoded) {
                return None;
            }
            if now < entry.until {
                return Some(entry.token.clone());
            }
            true
        };
        if expired {
            let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
            if map.get(&hash).is_some_and(|entry| now >= entry.until) {
                map.remove(&hash);
            }
        }
        None
    }

    /// The generation to give [`insert`](Self::insert), read before the
    /// signature is checked.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Remembers a token whose signature was just verified, until `until`,
    /// unless the cache was cleared since `generation` was read.
    pub(crate) fn insert(&self, token: &Token, until: u64, now: u64, generation: u64) {
        if until <= now {
            return;
        }
        let hash = self.hasher.hash_one(token.as_str().as_bytes());
        let mut map = self
            .shard(hash)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Read under the shard's lock: a `clear` that moved the generation
        // empties this shard after this insert.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if map.len() >= self.per_shard {
            map.retain(|_, entry| now < entry.until);
            if map.len() >= self.per_shard {
                // Full of live tokens: the one that expires first goes.
                let first = map.iter().min_by_key(|(_, e)| e.until).map(|(h, _)| *h);
                if let Some(first) = first {
                    map.remove(&first);
                }
            }
        }
        map.insert(
            hash,
            Entry {
                token: token.clone(),
                until,
            },
        );
    }

    /// Forgets every token: a key that verified some is gone.
    pub(crate) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    /// How many tokens are remembered.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// The hasher of a map whose keys are already keyed hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; this fold is never the hot path.
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::claims::Claims;

    /// A token of `sub` (its bytes are all the cache looks at).
    fn token(sub: &str) -> Token {
        let payload = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"{sub}","jti":"j","iat":1,"exp":2,"type":"access"}}"#
        ));
        let claims = Claims::from_payload(&payload).unwrap();
        Token::new(&format!("h.{payload}.s"), claims)
    }

    fn shard_of(cache: &SignatureCache, token: &Token) -> usize {
        let hash = cache.hasher.hash_one(token.as_str().as_bytes());
        ((hash >> 32) as usize) % SHARDS
    }

    /// `count` tokens that fall in one shard of `cache`.
    fn same_shard(cache: &SignatureCache, count: usize) -> Vec<Token> {
        let first = token("t0");
        let shard = shard_of(cache, &first);
        let mut tokens = vec![first];
        for i in 1.. {
            if tokens.len() == count {
                break;
            }
            let next = token(&format!("t{i}"));
            if shard_of(cache, &next) == shard {
                tokens.push(next);
            }
        }
        tokens
    }

    #[test]
    fn hits_only_the_same_bytes_until_they_expire() {
        let cache = SignatureCache::new(100);
        let alice = token("alice");
        cache.insert(&alice, 10, 0, cache.generation());
        let hit = cache.get(alice.as_str(), 9).unwrap();
        assert!(hit.is_same(&alice));
        assert!(cache.get(token("alicf").as_str(), 9).is_none());
        assert!(cache.get(&format!("{}x", alice.as_str()), 9).is_none());
        // At `until`, forgotten.
        assert!(cache.get(alice.as_str(), 10).is_none());
        assert_eq!(cache.len(), 0);
        // Already past: never stored.
        cache.insert(&alice, 10, 10, cache.generation());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_clear_wins_over_a_verification_that_began_before_it() {
        let cache = SignatureCache::new(100);
        let before = cache.generation();
        cache.insert(&token("a"), 10, 0, before);
        cache.clear();
        assert_eq!(cache.len(), 0);
        cache.insert(&token("b"), 10, 0, before);
        assert_eq!(cache.len(), 0, "verified with keys that changed since");
        cache.insert(&token("b"), 10, 0, cache.generation());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_shard_drops_expired_tokens_then_the_first_to_expire() {
        // Two tokens per shard.
        let cache = SignatureCache::new(2 * SHARDS);
        let [a, b, c, d] = <[Token; 4]>::try_from(same_shard(&cache, 4)).unwrap();
        cache.insert(&a, 20, 0, 0);
        cache.insert(&b, 30, 0, 0);
        // Full of live tokens: `a`, the first to expire, goes.
        cache.insert(&c, 40, 5, 0);
        assert!(cache.get(a.as_str(), 5).is_none());
        assert!(cache.get(b.as_str(), 5).is_some());
        assert!(cache.get(c.as_str(), 5).is_some());
        // At 30 `b` has expired: it goes, and `c` stays.
        cache.insert(&d, 50, 30, 0);
        assert!(cache.get(c.as_str(), 30).is_some());
        assert!(cache.get(d.as_str(), 30).is_some());
        assert_eq!(cache.len(), 2);
    }
}
