//! [`Token`]: a token that passed verification, and what a handler reads of
//! it. (Its extractors live with the rest of the pipeline, in the guard.)

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::claims::{Claims, Scope};
use crate::kind::TokenKind;

/// A verified token: its signature, lifetime, issuer, audience, kind and
/// revocation have been checked, and the handler's requirement met.
///
/// Take it as a handler parameter after `#[require_token]` (or
/// `Option<Token>` after `#[require_token(optional)]`): it is the token that
/// handler's own guard accepted. The attribute recognizes the parameter by
/// the type name `Token` (by any path) and checks at compile time that it
/// is this type. Used without the attribute (in a middleware, say), `Token`
/// reuses an earlier check of the request only when that one asked at least
/// as much, and otherwise verifies on its own, requiring a valid access
/// token as a bare `#[require_token]` does. Cheap to clone.
///
/// ```
/// use jwt_guard::{Token, require_token};
///
/// #[require_token]
/// async fn me(token: Token) -> String {
///     format!("{} (fresh: {})", token.sub(), token.is_fresh())
/// }
/// ```
#[derive(Clone)]
pub struct Token {
    inner: Arc<Inner>,
}

struct Inner {
    encoded: Box<str>,
    claims: Claims,
}

impl Token {
    pub(crate) fn new(encoded: &str, claims: Claims) -> Self {
        Self {
            inner: Arc::new(Inner {
                encoded: encoded.into(),
                claims,
            }),
        }
    }

    /// Whether `other` is this very token (a clone of it), not one parsed
    /// again from the same bytes.
    #[cfg(test)]
    pub(crate) fn is_same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn parsed(&self) -> &Claims {
        &self.inner.claims
    }

    /// The subject (`sub`).
    #[must_use]
    pub fn sub(&self) -> &str {
        &self.parsed().sub
    }

    /// The unique id (`jti`); empty for a token of a
    /// [trusted issuer](crate::TokenManagerBuilder::trust_issuer) that
    /// carries none.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.parsed().jti
    }

    /// The family (`sid`): the login session this token belongs to. Every
    /// refresh token has one, and so has each access token issued with
    /// [`family`](crate::TokenBuilder::family) or by
    /// [`rotate`](crate::TokenManager::rotate).
    /// [`revoke_family`](crate::TokenManager::revoke_family) revokes them all.
    #[must_use]
    pub fn sid(&self) -> Option<&str> {
        self.parsed().sid.as_deref()
    }

    /// The family a [store](crate::RevocationStore) files this token under:
    /// its `sid`, or for a refresh token without one (issued before
    /// families), its `jti`, a family of one. `None` for an access token of
    /// no family.
    #[must_use]
    pub fn family(&self) -> Option<&str> {
        let claims = self.parsed();
        match (&claims.sid, claims.kind) {
            (Some(sid), _) => Some(sid),
            (None, TokenKind::Refresh) => Some(&claims.jti),
            (None, TokenKind::Access) => None,
        }
    }

    /// The issuer whose keys verified this token, when it is a
    /// [trusted issuer](crate::TokenManagerBuilder::trust_issuer) and not
    /// the manager itself: its `iss`.
    ///
    /// A `sub` is unique only within its issuer. A manager that trusts
    /// several issuers, or one issuer besides its own accounts, should key
    /// its users by issuer and subject, not by `sub` alone.
    #[must_use]
    pub fn trusted_issuer(&self) -> Option<&str> {
        let claims = self.parsed();
        claims.origin.and(claims.iss.as_deref())
    }

    /// Access or refresh (`type`).
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.parsed().kind
    }

    /// Whether this access token was issued by a real login (`fresh`).
    /// Never for a token of a
    /// [trusted issuer](crate::TokenManagerBuilder::trust_issuer).
    #[must_use]
    pub fn is_fresh(&self) -> bool {
        self.parsed().fresh
    }

    /// The issue time (`iat`), in whole seconds.
    #[must_use]
    pub fn issued_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.parsed().iat)
    }

    /// The expiry (`exp`).
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.parsed().exp)
    }

    /// The issue time to the millisecond, as subject revocation compares it:
    /// from the time-ordered `jti` when it agrees with `iat`, else the first
    /// millisecond of `iat`'s second, the earliest the token can have been
    /// issued (so revocation errs on the side of refusing).
    #[must_use]
    pub fn issued_at_precise(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.issued_at_ms())
    }

    fn issued_at_ms(&self) -> u64 {
        let claims = self.parsed();
        let coarse = claims.iat.saturating_mul(1000);
        let Ok(uuid) = uuid::Uuid::try_parse(&claims.jti) else {
            return coarse;
        };
        match uuid.get_timestamp().map(|ts| ts.to_unix()) {
            Some((secs, nanos)) if uuid.get_version_num() == 7 && secs == claims.iat => {
                secs * 1000 + u64::from(nanos / 1_000_000)
            }
            _ => coarse,
        }
    }

    /// The `scope` claim, if any.
    #[must_use]
    pub fn scope(&self) -> Option<&Scope> {
        self.parsed().scope.as_ref()
    }

    /// A claim deserialized as `T`; `None` when it is absent or not a `T`.
    ///
    /// ```
    /// # use jwt_guard::Token;
    /// # fn f(token: Token) {
    /// let tenant: Option<String> = token.claim("tenant");
    /// # }
    /// ```
    #[must_use]
    pub fn claim<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_value(self.parsed().get(name)?).ok()
    }

    /// Every claim, registered ones included, as a JSON object.
    #[must_use]
    pub fn claims(&self) -> Map<String, Value> {
        self.parsed().to_map()
    }

    /// The encoded token, as received.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.inner.encoded
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let claims = self.parsed();
        f.debug_struct("Token")
            .field("sub", &claims.sub)
            .field("jti", &claims.jti)
            .field("kind", &claims.kind)
            .field("fresh", &claims.fresh)
            .field("exp", &claims.exp)
            .finish_non_exhaustive()
    }
}
