//! [`TokenManager`]: the keys, validation and revocation store of one
//! deployment, built once ([`builder`]); it issues tokens ([`issue`]),
//! verifies them (steps 3 to 6 of the order of checks) and revokes them.
//! Handlers reach it through [`TokenManager::layer`] or
//! [`TokenManager::install`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::SignatureCache;
use crate::claims::{Claims, Validation, unix_ms};
use crate::error::IssueError;
use crate::error::{AuthError, ConfigError, InvalidToken, StoreError};
use crate::keys::{self, Keys};
use crate::kind::TokenKind;
use crate::revocation::{MemoryStore, Revocation, RevocationStore, Rotation, Target, TokenStatus};
use crate::token::Token;
use crate::transport::{CookieNames, Location};

pub(crate) mod builder;
pub(crate) mod issue;
pub(crate) mod publish;

pub(crate) use builder::ErrorHandler;
use builder::TokenManagerBuilder;
use issue::{IssuedToken, TokenBuilder};

/// The time source of a [`TokenManager`]. The default is the system clock;
/// tests supply their own to move time without sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock, the default [`Clock`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Issues, verifies and revokes tokens. Cheap to clone (one `Arc`).
///
/// Build one at start-up with [`TokenManager::builder`] or
/// [`TokenManager::from_env`]; reach it from handlers with
/// [`layer`](Self::layer) (per router) or [`install`](Self::install)
/// (process-wide). It is also an extractor, for login handlers:
///
/// ```
/// use axum::{Json, Router, routing::post};
/// use jwt_guard::TokenManager;
/// use serde_json::{Value, json};
///
/// async fn login(manager: TokenManager) -> Result<Json<Value>, String> {
///     // (check the password first)
///     let access = manager.access_token("alice").fresh(true).sign().map_err(|e| e.to_string())?;
///     Ok(Json(json!({ "access_token": access.as_str(), "token_type": "Bearer" })))
/// }
///
/// let manager = TokenManager::builder().hs256(jwt_guard::generate_secret()).build()?;
/// let app: Router = Router::new().route("/login", post(login)).layer(manager.layer());
/// # Ok::<(), jwt_guard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    /// Tokens whose asymmetric signature was verified already.
    cache: Option<Arc<SignatureCache>>,
    /// Other issuers whose tokens are accepted.
    #[cfg(feature = "remote")]
    remote: Option<crate::remote::Remote>,
    /// The longest an accepted access token may live, in seconds: this
    /// manager's, or a trusted issuer's.
    longest_access_ttl: u64,
    /// The registered-claim checks, and the lifetimes issuing is bound by.
    validation: Validation,
    locations: Vec<Location>,
    cookie_names: Arc<CookieNames>,
    /// Origins besides the request's own that may send a cookie-borne
    /// token, normalized.
    allowed_origins: Box<[String]>,
    realm: String,
    max_token_bytes: usize,
    store: Arc<dyn RevocationStore>,
    clock: Arc<dyn Clock>,
    error_handler: Option<ErrorHandler>,
    /// Single-use refresh tokens, with reuse detection.
    refresh_rotation: bool,
    /// Tokens are issued strictly after the latest subject revocation of
    /// this process, in milliseconds since the epoch…
    issue_floor_ms: AtomicU64,
    /// …and a subject revocation covers every token issued before it, even
    /// when the clock has not moved since.
    last_issued_ms: AtomicU64,
}

static GLOBAL: OnceLock<TokenManager> = OnceLock::new();

impl TokenManager {
    /// A builder with every default (see [`TokenManagerBuilder`]).
    pub fn builder() -> TokenManagerBuilder {
        TokenManagerBuilder::default()
    }

    /// A manager configured from `JWT_GUARD_*` environment variables (see
    /// [`TokenManagerBuilder::from_env_with`] for the table).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable at fault, or `key` when no
    /// secret or key file is set.
    pub fn from_env() -> Result<Self, ConfigError> {
        TokenManagerBuilder::from_env()?.build()
    }

    /// Assembles a manager from settings `build` has checked and keys it
    /// has prepared.
    pub(crate) fn from_builder(
        builder: TokenManagerBuilder,
        keys: Keys,
        cache: Option<Arc<SignatureCache>>,
        #[cfg(feature = "remote")] remote: Option<crate::remote::Remote>,
    ) -> Self {
        #[cfg(feature = "remote")]
        let remote_ttl = remote
            .as_ref()
            .map_or(0, crate::remote::Remote::longest_lifetime);
        #[cfg(not(feature = "remote"))]
        let remote_ttl = 0;
        let realm = builder
            .realm
            .or_else(|| builder.issuer.clone())
            .unwrap_or_else(|| "api".to_owned());
        Self {
            inner: Arc::new(Inner {
                keys,
                cache,
                #[cfg(feature = "remote")]
                remote,
                longest_access_ttl: builder.access_ttl.as_secs().max(1).max(remote_ttl),
                validation: Validation {
                    issuer: builder.issuer,
                    audience: builder.audience,
                    leeway: builder.leeway.as_secs(),
                    access_ttl: builder.access_ttl.as_secs().max(1),
                    refresh_ttl: builder.refresh_ttl.as_secs().max(1),
                },
                locations: builder.locations,
                cookie_names: Arc::new(builder.cookie_names),
                allowed_origins: builder
                    .allowed_origins
                    .iter()
                    .filter_map(|origin| crate::transport::parse_origin(origin))
                    .collect(),
                realm,
                max_token_bytes: builder.max_token_bytes,
                store: builder
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryStore::new())),
                clock: builder.clock,
                error_handler: builder.error_handler,
                refresh_rotation: builder.refresh_rotation,
                issue_floor_ms: AtomicU64::new(0),
                last_issued_ms: AtomicU64::new(0),
            }),
        }
    }

    /// Makes this manager the process-wide default, used by guarded handlers
    /// of routers without [`layer`](Self::layer).
    ///
    /// # Errors
    /// When a manager is installed already.
    pub fn install(self) -> Result<(), ConfigError> {
        GLOBAL.set(self).map_err(|_| {
            ConfigError::new(
                "install",
                "a TokenManager is already installed in this process",
            )
        })
    }

    /// The process-wide manager, if one was [installed](Self::install).
    #[must_use]
    pub fn installed() -> Option<&'static Self> {
        GLOBAL.get()
    }

    /// A layer that hands this manager to every guarded handler of a router;
    /// it wins over the [installed](Self::install) one.
    pub fn layer(&self) -> axum::Extension<Self> {
        axum::Extension(self.clone())
    }

    pub(crate) fn locations(&self) -> &[Location] {
        &self.inner.locations
    }

    pub(crate) fn cookie_policy(&self) -> crate::transport::CookiePolicy<'_> {
        crate::transport::CookiePolicy {
            names: &self.inner.cookie_names,
            origins: &self.inner.allowed_origins,
        }
    }

    /// The realm of this manager's `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// Whether `other` is this very manager (a clone of it), not merely one
    /// configured alike.
    pub(crate) fn is(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The application's replacement for the RFC 6750 refusal, if any.
    pub(crate) fn error_handler(&self) -> Option<&ErrorHandler> {
        self.inner.error_handler.as_ref()
    }

    fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// Starts an access token for `sub`. Access tokens are not fresh unless
    /// [`fresh(true)`](TokenBuilder::fresh) is set (do so on a real login).
    pub fn access_token(&self, sub: impl Into<String>) -> TokenBuilder<'_> {
        TokenBuilder::new(self, TokenKind::Access, sub.into())
    }

    /// Starts a refresh token for `sub`.
    pub fn refresh_token(&self, sub: impl Into<String>) -> TokenBuilder<'_> {
        TokenBuilder::new(self, TokenKind::Refresh, sub.into())
    }

    /// Verifies an encoded token as a token of `kind`: size, header,
    /// algorithm, signature, `exp`/`nbf`/`iat` with the leeway, `iss`, `aud`,
    /// kind, and revocation. The handler's own requirements (freshness,
    /// scope…) are the guard's, not checked here.
    ///
    /// # Errors
    /// The [`AuthError`] a guarded handler would answer with.
    pub async fn verify(&self, encoded: &str, kind: TokenKind) -> Result<Token, AuthError> {
        let token = self.decode(encoded, kind).await?;
        self.check_revocation(&token).await?;
        Ok(token)
    }

    /// Steps 3 to 5 of the order of checks: everything but revocation.
    /// A token whose exact bytes passed an asymmetric signature check
    /// before comes from the cache; the rest is checked every time.
    pub(crate) async fn decode(&self, encoded: &str, kind: TokenKind) -> Result<Token, AuthError> {
        let inner = &*self.inner;
        if encoded.len() > inner.max_token_bytes {
            return Err(InvalidToken::TooLarge.into());
        }
        let now = unix_ms(self.now()) / 1000;
        let cached = inner
            .cache
            .as_ref()
            .and_then(|cache| cache.get(encoded, now));
        let (token, remember) = match cached {
            Some(token) => (token, None),
            None => self.verify_signature(encoded).await?,
        };
        let validation = match token.parsed().origin {
            None => &inner.validation,
            #[cfg(feature = "remote")]
            Some(origin) => inner
                .remote
                .as_ref()
                .and_then(|remote| remote.validation(origin))
                .ok_or(InvalidToken::Issuer)?,
            #[cfg(not(feature = "remote"))]
            Some(_) => return Err(InvalidToken::Issuer.into()),
        };
        token.parsed().validate(validation, now, kind)?;
        // Remembered once valid: a token refused for its claims takes no room.
        if let (Some(cache), Some(generation)) = (&inner.cache, remember) {
            let until = token.parsed().exp.saturating_add(validation.leeway);
            cache.insert(&token, until, now, generation);
        }
        Ok(token)
    }

    /// Step 3 and the parsing of the claims: the signature, by the key the
    /// header names among the keys of the token's issuer (this manager's,
    /// or the trusted issuer its `iss` names), with the cache's generation
    /// read before the check when the token is worth remembering.
    async fn verify_signature(&self, encoded: &str) -> Result<(Token, Option<u64>), AuthError> {
        let inner = &*self.inner;
        let generation = inner.cache.as_ref().map(|cache| cache.generation());
        #[cfg(feature = "remote")]
        let (claims, asymmetric) = match inner
            .remote
            .as_ref()
            .and_then(|remote| Some((remote, remote.issuer_of(encoded)?)))
        {
            Some((remote, origin)) => (remote.verify(origin, encoded).await?, true),
            None => self.verify_own(encoded)?,
        };
        #[cfg(not(feature = "remote"))]
        let (claims, asymmetric) = self.verify_own(encoded)?;
        let remember = generation.filter(|_| asymmetric);
        Ok((Token::new(encoded, claims), remember))
    }

    /// A token of this manager's keys: its claims, and whether its key is
    /// asymmetric.
    fn verify_own(&self, encoded: &str) -> Result<(Claims, bool), InvalidToken> {
        let (payload, key) = keys::verify(self.inner.keys.verifying(), encoded)?;
        Ok((Claims::from_payload(payload)?, key.is_asymmetric()))
    }

    /// Stops accepting tokens signed by the key `kid`, now, in this
    /// process (a key that leaked, say); restart without it to retire it
    /// for good. Signatures remembered by the cache are forgotten. Returns
    /// `false` when no key that only verifies has this `kid`: the signing
    /// key cannot be retired, only replaced.
    pub fn retire_key(&self, kid: &str) -> bool {
        let retired = self.inner.keys.retire(kid);
        if retired && let Some(cache) = &self.inner.cache {
            cache.clear();
        }
        retired
    }

    /// Empties the verified-signature cache (benchmarks measure a token's
    /// first sight with it).
    #[doc(hidden)]
    pub fn forget_signatures(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// How many verified signatures the cache remembers (0 when it is off).
    #[doc(hidden)]
    pub fn cached_signatures(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, |cache| cache.len())
    }

    /// Step 6: a revoked token, or a token of a subject or family revoked
    /// after it was issued, is refused; so is a refresh token its family
    /// has already used, and presenting it revokes the family.
    pub(crate) async fn check_revocation(&self, token: &Token) -> Result<(), AuthError> {
        let failed = |error: StoreError| {
            // The one event of this refusal: the guard does not log it
            // again. `verify` callers answer as they choose, so no status.
            tracing::error!(target: "jwt_guard", %error, "token refused: revocation store failed");
            AuthError::StoreUnavailable
        };
        match self.inner.store.status(token).await.map_err(failed)? {
            TokenStatus::Valid => Ok(()),
            TokenStatus::Revoked => Err(InvalidToken::Revoked.into()),
            TokenStatus::Reused => {
                self.revoke_family(token).await.map_err(failed)?;
                // The one event of this refusal, as for a store failure.
                tracing::warn!(
                    target: "jwt_guard",
                    status = 401,
                    sub = token.sub(),
                    sid = token.family(),
                    "token refused: refresh token reused, its family is revoked"
                );
                Err(InvalidToken::Reused.into())
            }
        }
    }

    /// Seconds to add to an expiry: the leeway, and one more for the
    /// millisecond parts that whole-second claims drop.
    fn grace(&self) -> Duration {
        Duration::from_secs(self.inner.validation.leeway + 1)
    }

    /// How long past `from` the last token of `kind` issued by then may be
    /// accepted.
    fn horizon(&self, from: SystemTime, kind: TokenKind) -> SystemTime {
        let lifetime = match kind {
            TokenKind::Access => self.inner.longest_access_ttl,
            TokenKind::Refresh => self.inner.validation.refresh_ttl,
        };
        from + Duration::from_secs(lifetime) + self.grace()
    }

    /// Revokes this token until it would have expired (plus the leeway).
    ///
    /// # Errors
    /// When the revocation store fails: the token is then not revoked.
    /// When the token has no `jti` (another issuer's may not): revoke its
    /// subject instead.
    pub async fn revoke(&self, token: &Token) -> Result<(), StoreError> {
        if token.jti().is_empty() {
            // Another issuer's token without a `jti`: nothing names it alone.
            return Err(StoreError::new(
                "this token has no `jti`: revoke its subject (or family) instead",
            ));
        }
        let now = self.now();
        let until = token.expires_at() + Duration::from_secs(self.inner.validation.leeway);
        let access_until = match token.kind() {
            TokenKind::Access => until,
            TokenKind::Refresh => now,
        };
        let target = Target::Token {
            jti: token.jti(),
            sub: token.sub(),
            kind: token.kind(),
        };
        let revocation = Revocation::new(target, until, access_until, now);
        self.inner.store.revoke(&revocation).await
    }

    /// Revokes every token of `sub` issued before this call; tokens issued
    /// after it, even within the same second, stay valid.
    ///
    /// # Errors
    /// When the revocation store fails: nothing is then revoked.
    pub async fn revoke_subject(&self, sub: &str) -> Result<(), StoreError> {
        let inner = &*self.inner;
        let now = self.now();
        let cutoff_ms = unix_ms(now)
            .max(inner.issue_floor_ms.load(Ordering::Acquire))
            .max(inner.last_issued_ms.load(Ordering::Acquire));
        // Tokens issued from here on get a later issue time than the cutoff.
        inner.issue_floor_ms.fetch_max(cutoff_ms, Ordering::AcqRel);
        let cutoff = UNIX_EPOCH + Duration::from_millis(cutoff_ms);
        let until = self
            .horizon(cutoff, TokenKind::Access)
            .max(self.horizon(cutoff, TokenKind::Refresh));
        let target = Target::Subject {
            sub,
            issued_before: cutoff,
        };
        let revocation =
            Revocation::new(target, until, self.horizon(cutoff, TokenKind::Access), now);
        inner.store.revoke(&revocation).await
    }

    /// Revokes the family of this token: the login session it belongs to,
    /// every refresh token of it and every access token issued with it
    /// ([`Token::sid`]). A logout that ends the session. An access token
    /// that belongs to no family is revoked alone.
    ///
    /// # Errors
    /// When the revocation store fails: nothing is then revoked.
    pub async fn revoke_family(&self, token: &Token) -> Result<(), StoreError> {
        let Some(sid) = token.family() else {
            return self.revoke(token).await;
        };
        let now = self.now();
        // Every token of the family was issued by now, so expires by then
        // (a verified token's lifetime is at most the manager's, or a
        // trusted issuer's for an access token).
        let until = self
            .horizon(now, TokenKind::Refresh)
            .max(self.horizon(now, TokenKind::Access));
        let target = Target::Family {
            sid,
            sub: token.sub(),
        };
        let revocation = Revocation::new(target, until, self.horizon(now, TokenKind::Access), now);
        self.inner.store.revoke(&revocation).await
    }

    /// Exchanges a verified refresh token for the next pair of its family:
    /// a new access token (not fresh) and a new refresh token, both with the
    /// presented token's subject, scope and custom claims; the refresh
    /// token keeps the presented one's lifetime (at most
    /// [`refresh_ttl`](crate::TokenManagerBuilder::refresh_ttl)).
    ///
    /// With [`refresh_rotation`](crate::TokenManagerBuilder::refresh_rotation)
    /// on, refresh tokens are single-use (RFC 9700 §4.14.2): this consumes
    /// the presented one atomically (of concurrent rotations of one token,
    /// one succeeds), and presenting a consumed one again, here or to any
    /// guard, revokes its whole family and is refused. Without it, the
    /// presented token stays valid until it expires.
    ///
    /// A reuse cannot be told from a theft, so a client that sends its
    /// refresh token twice (two tabs refreshing at once, a retry after a
    /// lost response) ends its own session: the winner's new pair is
    /// revoked with the family. Refresh from one place.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use jwt_guard::{AuthError, InvalidToken, TokenKind, TokenManager};
    ///
    /// let manager = TokenManager::builder()
    ///     .hs256(jwt_guard::generate_secret())
    ///     .refresh_rotation(true)
    ///     .build()
    ///     .unwrap();
    /// let login = manager.refresh_token("alice").sign().unwrap();
    /// let first = manager.verify(login.as_str(), TokenKind::Refresh).await.unwrap();
    /// let (access, refresh) = manager.rotate(&first).await.unwrap();
    ///
    /// // The first refresh token is spent: using it again revokes the family.
    /// assert_eq!(
    ///     manager.rotate(&first).await.unwrap_err(),
    ///     AuthError::InvalidToken(InvalidToken::Reused),
    /// );
    /// assert!(manager.verify(refresh.as_str(), TokenKind::Refresh).await.is_err());
    /// assert!(manager.verify(access.as_str(), TokenKind::Access).await.is_err());
    /// # }
    /// ```
    ///
    /// # Errors
    /// The [`InvalidToken`] that verifying `refresh` with this manager now
    /// gives (an expired token, one of another key, [`WrongKind`] for an
    /// access token);
    /// [`InvalidToken::Reused`] for a refresh token already used (its family
    /// is then revoked) and [`InvalidToken::Revoked`] for a revoked one;
    /// [`AuthError::StoreUnavailable`] when the store fails.
    ///
    /// [`WrongKind`]: InvalidToken::WrongKind
    pub async fn rotate(&self, refresh: &Token) -> Result<(IssuedToken, IssuedToken), AuthError> {
        // Checked again by this manager, now: a `Token` may have been kept
        // past its expiry, or verified by another manager.
        let refresh = &self.decode(refresh.as_str(), TokenKind::Refresh).await?;
        let signing_failed = |error: IssueError| {
            tracing::error!(target: "jwt_guard", %error, "refresh refused: signing failed");
            AuthError::Misconfigured("signing failed")
        };
        let access = TokenBuilder::following(self, TokenKind::Access, refresh)
            .sign()
            .map_err(signing_failed)?;
        let next = TokenBuilder::following(self, TokenKind::Refresh, refresh)
            .sign()
            .map_err(signing_failed)?;
        if !self.inner.refresh_rotation {
            return Ok((access, next));
        }
        let rotation = Rotation::new(
            refresh,
            next.jti(),
            next.expires_at() + self.grace(),
            self.now(),
        );
        let rotated = self.inner.store.rotate(&rotation).await.map_err(|error| {
            tracing::error!(target: "jwt_guard", %error, "refresh refused: revocation store failed");
            AuthError::StoreUnavailable
        })?;
        if rotated {
            return Ok((access, next));
        }
        // Already used, or its family revoked: the status says which, and a
        // reuse revokes the family.
        self.check_revocation(refresh).await?;
        Err(InvalidToken::Reused.into())
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let mut debug = f.debug_struct("TokenManager");
        debug
            .field("keys", &inner.keys)
            .field("issuer", &inner.validation.issuer)
            .field("audience", &inner.validation.audience)
            .field("access_ttl_secs", &inner.validation.access_ttl)
            .field("refresh_ttl_secs", &inner.validation.refresh_ttl)
            .field("leeway_secs", &inner.validation.leeway)
            .field("locations", &inner.locations)
            .field("allowed_origins", &inner.allowed_origins)
            .field("realm", &inner.realm)
            .field("refresh_rotation", &inner.refresh_rotation);
        #[cfg(feature = "remote")]
        if let Some(remote) = &inner.remote {
            debug.field("trusted_issuers", remote);
        }
        debug.finish_non_exhaustive()
    }
}
