//! [`TokenManager`]: issues, verifies, refreshes and revokes tokens; reached by
//! handlers through [`TokenManager::layer`] or [`TokenManager::install`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::{NoContext, Timestamp, Uuid};

use crate::claims::{Claims, RESERVED, Scope, TokenKind};
use crate::config::{ErrorHandler, TokenManagerBuilder};
use crate::error::{AuthError, ConfigError, InvalidToken, IssueError, StoreError};
use crate::keys::Keys;
use crate::revocation::{MemoryStore, RevocationStore};
use crate::token::Token;
use crate::transport::Location;

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
    issuer: Option<String>,
    audience: Option<String>,
    access_ttl: u64,
    refresh_ttl: u64,
    leeway: u64,
    locations: Vec<Location>,
    realm: String,
    max_token_bytes: usize,
    store: Arc<dyn RevocationStore>,
    clock: Arc<dyn Clock>,
    error_handler: Option<ErrorHandler>,
    /// Tokens are issued strictly after the latest subject revocation of
    /// this process, in milliseconds since the epoch…
    issue_floor_ms: AtomicU64,
    /// …and a subject revocation covers every token issued before it, even
    /// when the clock has not moved since.
    last_issued_ms: AtomicU64,
}

static GLOBAL: OnceLock<TokenManager> = OnceLock::new();

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn from_unix_secs(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

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
    pub(crate) fn from_builder(builder: TokenManagerBuilder, keys: Keys) -> Self {
        let realm = builder
            .realm
            .or_else(|| builder.issuer.clone())
            .unwrap_or_else(|| "api".to_owned());
        Self {
            inner: Arc::new(Inner {
                keys,
                issuer: builder.issuer,
                audience: builder.audience,
                access_ttl: builder.access_ttl.as_secs().max(1),
                refresh_ttl: builder.refresh_ttl.as_secs().max(1),
                leeway: builder.leeway.as_secs(),
                locations: builder.locations,
                realm,
                max_token_bytes: builder.max_token_bytes,
                store: builder
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryStore::new())),
                clock: builder.clock,
                error_handler: builder.error_handler,
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

    pub(crate) fn from_parts(parts: &Parts) -> Option<Self> {
        parts
            .extensions
            .get::<Self>()
            .or_else(|| GLOBAL.get())
            .cloned()
    }

    pub(crate) fn locations(&self) -> &[Location] {
        &self.inner.locations
    }

    /// The realm of this manager's `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.inner.realm
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
        let token = self.decode(encoded, kind)?;
        self.check_revocation(&token).await?;
        Ok(token)
    }

    /// Steps 3 to 5 of the order of checks: everything but revocation.
    pub(crate) fn decode(&self, encoded: &str, kind: TokenKind) -> Result<Token, AuthError> {
        let inner = &*self.inner;
        if encoded.len() > inner.max_token_bytes {
            return Err(InvalidToken::TooLarge.into());
        }
        let payload = inner.keys.verify(encoded)?;
        // Ours fit on the stack; a larger (still bounded) payload goes to the heap.
        let mut stack = [0u8; 1536];
        let heap;
        let json = match crate::keys::decode_into(payload, &mut stack) {
            Ok(len) => stack.get(..len).ok_or(InvalidToken::Malformed)?,
            Err(_) => {
                heap = URL_SAFE_NO_PAD
                    .decode(payload)
                    .map_err(|_| InvalidToken::Malformed)?;
                heap.as_slice()
            }
        };
        let claims: Claims = serde_json::from_slice(json).map_err(|_| InvalidToken::Claims)?;

        let now = unix_ms(self.now()) / 1000;
        let leeway = inner.leeway;
        if now >= claims.exp.saturating_add(leeway) {
            return Err(InvalidToken::Expired.into());
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(InvalidToken::NotYetValid.into());
        }
        if claims.iat > now.saturating_add(leeway) {
            return Err(InvalidToken::IssuedInFuture.into());
        }
        if let Some(issuer) = &inner.issuer
            && claims.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(InvalidToken::Issuer.into());
        }
        match (&inner.audience, &claims.aud) {
            (Some(expected), Some(aud)) if aud.contains(expected) => {}
            (None, None) => {}
            _ => return Err(InvalidToken::Audience.into()),
        }
        if claims.kind != kind {
            return Err(InvalidToken::WrongKind { expected: kind }.into());
        }
        Ok(Token::new(encoded, claims))
    }

    /// Step 6: a revoked token, or a token of a subject revoked after it was
    /// issued, is refused.
    pub(crate) async fn check_revocation(&self, token: &Token) -> Result<(), AuthError> {
        match self.inner.store.is_revoked(token).await {
            Ok(false) => Ok(()),
            Ok(true) => Err(InvalidToken::Revoked.into()),
            Err(error) => {
                tracing::error!(target: "jwt_guard", %error, "revocation store failed; request refused");
                Err(AuthError::StoreUnavailable)
            }
        }
    }

    /// Revokes this token until it would have expired (plus the leeway).
    ///
    /// # Errors
    /// When the revocation store fails.
    pub async fn revoke(&self, token: &Token) -> Result<(), StoreError> {
        let until = token.expires_at() + Duration::from_secs(self.inner.leeway);
        self.inner
            .store
            .revoke_token(token.jti(), until, self.now())
            .await
    }

    /// Revokes every token of `sub` issued before this call; tokens issued
    /// after it, even within the same second, stay valid.
    ///
    /// # Errors
    /// When the revocation store fails.
    pub async fn revoke_subject(&self, sub: &str) -> Result<(), StoreError> {
        let inner = &*self.inner;
        let now = self.now();
        let cutoff_ms = unix_ms(now)
            .max(inner.issue_floor_ms.load(Ordering::Acquire))
            .max(inner.last_issued_ms.load(Ordering::Acquire));
        // Tokens issued from here on get a later issue time than the cutoff.
        inner.issue_floor_ms.fetch_max(cutoff_ms, Ordering::AcqRel);
        let longest = inner.access_ttl.max(inner.refresh_ttl) + inner.leeway + 1;
        let cutoff = UNIX_EPOCH + Duration::from_millis(cutoff_ms);
        inner
            .store
            .revoke_subject(sub, cutoff, cutoff + Duration::from_secs(longest), now)
            .await
    }

    /// The response to a refusal: the [error handler](TokenManagerBuilder::error_handler)'s,
    /// or the RFC 6750 default. Logs the refusal (never the token).
    pub(crate) fn reject(&self, error: &AuthError) -> Response {
        log_refusal(error);
        match &self.inner.error_handler {
            Some(handler) => handler(error),
            None => error.to_response(&self.inner.realm),
        }
    }

    fn sign(&self, builder: TokenBuilder<'_>) -> Result<IssuedToken, IssueError> {
        #[derive(Serialize)]
        struct Payload<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            iss: Option<&'a str>,
            sub: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            aud: Option<&'a str>,
            iat: u64,
            nbf: u64,
            exp: u64,
            jti: &'a str,
            #[serde(rename = "type")]
            kind: TokenKind,
            #[serde(skip_serializing_if = "Option::is_none")]
            fresh: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            scope: Option<&'a Value>,
            #[serde(flatten)]
            extra: &'a Map<String, Value>,
        }
        if let Some(error) = builder.error {
            return Err(error);
        }
        let inner = &*self.inner;
        let floor = inner.issue_floor_ms.load(Ordering::Acquire);
        let issued_ms = unix_ms(self.now()).max(floor.saturating_add(1));
        inner.last_issued_ms.fetch_max(issued_ms, Ordering::AcqRel);
        let iat = issued_ms / 1000;
        let ttl = builder.ttl.map_or(
            match builder.kind {
                TokenKind::Access => inner.access_ttl,
                TokenKind::Refresh => inner.refresh_ttl,
            },
            |ttl| ttl.as_secs().max(1),
        );
        let exp = iat.saturating_add(ttl);
        // A time-ordered jti carries the sub-second issue time that subject
        // revocation needs; `iat` stays in whole seconds.
        let subsec_nanos = u32::try_from(issued_ms % 1000).unwrap_or(0) * 1_000_000;
        let jti = Uuid::new_v7(Timestamp::from_unix(NoContext, iat, subsec_nanos)).to_string();
        let payload = Payload {
            iss: inner.issuer.as_deref(),
            sub: &builder.sub,
            aud: inner.audience.as_deref(),
            iat,
            nbf: iat,
            exp,
            jti: &jti,
            kind: builder.kind,
            fresh: (builder.kind == TokenKind::Access).then_some(builder.fresh),
            scope: builder.scope.as_ref(),
            extra: &builder.claims,
        };
        let json = serde_json::to_vec(&payload).map_err(|source| IssueError::Serialize {
            name: "claims".into(),
            source,
        })?;
        let header = inner.keys.header_b64();
        let mut token = String::with_capacity(header.len() + json.len() * 4 / 3 + 400);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&json, &mut token);
        let signature = inner.keys.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&signature);
        Ok(IssuedToken {
            token,
            jti,
            kind: builder.kind,
            issued_at: UNIX_EPOCH + Duration::from_millis(issued_ms),
            expires_at: from_unix_secs(exp),
        })
    }
}

pub(crate) fn log_refusal(error: &AuthError) {
    let status = error.status().as_u16();
    match error {
        AuthError::Misconfigured(detail) => {
            tracing::error!(target: "jwt_guard", status, detail, "request refused: server misconfiguration");
        }
        AuthError::StoreUnavailable => {
            tracing::error!(target: "jwt_guard", status, "request refused: revocation store unavailable");
        }
        AuthError::Missing => {
            tracing::debug!(target: "jwt_guard", status, "request refused: no token");
        }
        _ => {
            tracing::info!(target: "jwt_guard", status, code = error.code(), reason = %error, "request refused");
        }
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("TokenManager")
            .field("keys", &inner.keys)
            .field("issuer", &inner.issuer)
            .field("audience", &inner.audience)
            .field("access_ttl_secs", &inner.access_ttl)
            .field("refresh_ttl_secs", &inner.refresh_ttl)
            .field("leeway_secs", &inner.leeway)
            .field("locations", &inner.locations)
            .field("realm", &inner.realm)
            .finish_non_exhaustive()
    }
}

/// Extracts the manager given by [`TokenManager::layer`], or the installed
/// one; refuses with 500 when there is none.
impl<S: Send + Sync> FromRequestParts<S> for TokenManager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts).ok_or_else(crate::guard::no_manager)
    }
}

/// A token being issued; finish it with [`sign`](Self::sign).
#[must_use = "a token builder does nothing until `sign` is called"]
pub struct TokenBuilder<'m> {
    manager: &'m TokenManager,
    kind: TokenKind,
    sub: String,
    fresh: bool,
    scope: Option<Value>,
    claims: Map<String, Value>,
    ttl: Option<Duration>,
    error: Option<IssueError>,
}

impl<'m> TokenBuilder<'m> {
    fn new(manager: &'m TokenManager, kind: TokenKind, sub: String) -> Self {
        Self {
            manager,
            kind,
            sub,
            fresh: false,
            scope: None,
            claims: Map::new(),
            ttl: None,
            error: None,
        }
    }

    /// The `scope` claim: a JSON object (`json!({"admin": true})`) or an
    /// OAuth2 space-delimited string (`"posts:read posts:write"`).
    pub fn scope(mut self, scope: impl Into<Value>) -> Self {
        let scope = scope.into();
        if Scope::from_value(scope.clone()).is_none() {
            self.error.get_or_insert(IssueError::BadScope);
        }
        self.scope = Some(scope);
        self
    }

    /// A custom top-level claim. Names the library sets itself (`sub`,
    /// `exp`, `type`, `scope`…) are refused by [`sign`](Self::sign).
    pub fn claim(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        let name = name.into();
        if RESERVED.contains(&name.as_str()) {
            self.error.get_or_insert(IssueError::ReservedClaim(name));
            return self;
        }
        match serde_json::to_value(value) {
            Ok(value) => {
                self.claims.insert(name, value);
            }
            Err(source) => {
                self.error
                    .get_or_insert(IssueError::Serialize { name, source });
            }
        }
        self
    }

    /// Whether this access token is fresh: issued by a real login rather
    /// than a refresh. Defaults to `false`; refresh tokens are never fresh.
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }

    /// A lifetime for this token instead of the manager's.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Signs the token.
    ///
    /// # Errors
    /// An [`IssueError`] for a reserved or unserializable claim, a scope of
    /// the wrong type, or a failed signature.
    pub fn sign(self) -> Result<IssuedToken, IssueError> {
        self.manager.sign(self)
    }
}

impl fmt::Debug for TokenBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("kind", &self.kind)
            .field("sub", &self.sub)
            .finish_non_exhaustive()
    }
}

/// A freshly signed token.
#[derive(Clone)]
pub struct IssuedToken {
    token: String,
    jti: String,
    kind: TokenKind,
    issued_at: SystemTime,
    expires_at: SystemTime,
}

impl IssuedToken {
    /// The encoded token, to send to the client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The encoded token.
    #[must_use]
    pub fn into_string(self) -> String {
        self.token
    }

    /// Its unique id (`jti`), a UUIDv7.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// Access or refresh.
    #[must_use]
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// When it was issued, to the millisecond.
    #[must_use]
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When it expires (`exp`).
    #[must_use]
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// Seconds from `iat` to `exp`, as OAuth2's `expires_in`.
    #[must_use]
    pub fn expires_in(&self) -> u64 {
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        secs(self.expires_at).saturating_sub(secs(self.issued_at))
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("kind", &self.kind)
            .field("jti", &self.jti)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}
