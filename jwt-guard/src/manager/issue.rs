//! Issuing: [`TokenBuilder`] (claims, scope, lifetime, freshness), the
//! signed [`IssuedToken`], and the cookie helpers of cookie transport.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, HeaderValue};
use axum::response::AppendHeaders;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::{NoContext, Timestamp, Uuid};

use super::TokenManager;
use crate::claims::unix_ms;
use crate::claims::{RESERVED, Scope};
use crate::error::IssueError;
use crate::kind::TokenKind;
use crate::token::Token;
use crate::transport::CookieNames;

impl TokenManager {
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
            #[serde(skip_serializing_if = "Option::is_none")]
            sid: Option<&'a str>,
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
        let max_ttl = inner.validation.lifetime(builder.kind);
        let ttl = match builder.ttl {
            None => max_ttl,
            Some(ttl) if ttl.as_secs() <= max_ttl => ttl.as_secs().max(1),
            Some(_) => {
                return Err(IssueError::TtlTooLong {
                    kind: builder.kind,
                    max_secs: max_ttl,
                });
            }
        };
        let exp = iat.saturating_add(ttl);
        // A time-ordered jti carries the sub-second issue time that subject
        // revocation needs; `iat` stays in whole seconds.
        let subsec_nanos = u32::try_from(issued_ms % 1000).unwrap_or(0) * 1_000_000;
        let jti = Uuid::new_v7(Timestamp::from_unix(NoContext, iat, subsec_nanos)).to_string();
        // Every refresh token belongs to a family; a new one starts its own.
        let sid = match (builder.sid, builder.kind) {
            (Some(sid), _) => Some(sid),
            (None, TokenKind::Refresh) => Some(jti.clone()),
            (None, TokenKind::Access) => None,
        };
        let payload = Payload {
            iss: inner.validation.issuer.as_deref(),
            sub: &builder.sub,
            aud: inner.validation.audience.as_deref(),
            iat,
            nbf: iat,
            exp,
            jti: &jti,
            kind: builder.kind,
            fresh: (builder.kind == TokenKind::Access).then_some(builder.fresh),
            scope: builder.scope.as_ref(),
            sid: sid.as_deref(),
            extra: &builder.claims,
        };
        let json = serde_json::to_vec(&payload).map_err(|source| IssueError::Serialize {
            name: "claims".into(),
            source,
        })?;
        let header = inner.keys.header_b64()?;
        let mut token = String::with_capacity(header.len() + json.len() * 4 / 3 + 400);
        token.push_str(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&json, &mut token);
        let signature = inner.keys.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&signature);
        Ok(IssuedToken {
            token,
            sub: builder.sub,
            jti,
            sid,
            kind: builder.kind,
            issued_at: UNIX_EPOCH + Duration::from_millis(issued_ms),
            expires_at: UNIX_EPOCH + Duration::from_secs(exp),
            cookie_names: Arc::clone(&inner.cookie_names),
        })
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
    sid: Option<String>,
    error: Option<IssueError>,
}

impl<'m> TokenBuilder<'m> {
    pub(super) fn new(manager: &'m TokenManager, kind: TokenKind, sub: String) -> Self {
        Self {
            manager,
            kind,
            sub,
            fresh: false,
            scope: None,
            claims: Map::new(),
            ttl: None,
            sid: None,
            error: None,
        }
    }

    /// The token that follows `refresh` in its family: same subject, scope,
    /// custom claims and family; a refresh token keeps its lifetime (within
    /// the manager's bound).
    pub(super) fn following(manager: &'m TokenManager, kind: TokenKind, refresh: &Token) -> Self {
        let claims = refresh.parsed();
        let mut builder = Self::new(manager, kind, claims.sub.clone());
        builder.scope = claims.scope.as_ref().map(Scope::to_value);
        builder.claims.clone_from(&claims.extra);
        builder.sid = Some(refresh.family().unwrap_or(&claims.jti).to_owned());
        if kind == TokenKind::Refresh {
            let lifetime = claims.exp.saturating_sub(claims.iat);
            let max = manager.inner.validation.lifetime(TokenKind::Refresh);
            builder.ttl = Some(Duration::from_secs(lifetime.clamp(1, max)));
        }
        builder
    }

    /// Puts this token in the family of `refresh`, as a login does with
    /// its access token: revoking the family
    /// ([`revoke_family`](TokenManager::revoke_family)), or a reuse of one
    /// of its refresh tokens, then revokes this token too.
    ///
    /// ```
    /// # fn f(manager: jwt_guard::TokenManager) -> Result<(), jwt_guard::IssueError> {
    /// let refresh = manager.refresh_token("alice").sign()?;
    /// let access = manager.access_token("alice").fresh(true).family(&refresh).sign()?;
    /// assert_eq!(access.sid(), refresh.sid());
    /// # Ok(()) }
    /// ```
    ///
    /// `refresh` must be a refresh token of the same subject, and this an
    /// access token; [`sign`](Self::sign) fails otherwise.
    pub fn family(mut self, refresh: &IssuedToken) -> Self {
        if self.kind != TokenKind::Access
            || refresh.kind != TokenKind::Refresh
            || refresh.sub != self.sub
        {
            self.error.get_or_insert(IssueError::NotFamily);
            return self;
        }
        self.sid.clone_from(&refresh.sid);
        self
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

    /// A lifetime for this token instead of the manager's, at most the
    /// manager's lifetime for its kind ([`access_ttl`] or [`refresh_ttl`]):
    /// revocations are kept for that long, so no token may outlive it. For
    /// a long "remember me" refresh token, raise `refresh_ttl` and give the
    /// ordinary ones a shorter `ttl`.
    ///
    /// [`access_ttl`]: crate::TokenManagerBuilder::access_ttl
    /// [`refresh_ttl`]: crate::TokenManagerBuilder::refresh_ttl
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
    sub: String,
    jti: String,
    sid: Option<String>,
    kind: TokenKind,
    issued_at: SystemTime,
    expires_at: SystemTime,
    cookie_names: Arc<CookieNames>,
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

    /// Its family (`sid`): every refresh token has one, an access token
    /// when issued with [`family`](TokenBuilder::family).
    #[must_use]
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
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

/// One `Set-Cookie` header: `Secure; Path=/; SameSite=Strict`, no `Domain`
/// (what a `__Host-` name requires), expiring after `max_age` seconds.
fn set_cookie(name: &str, value: &str, http_only: bool, max_age: u64) -> (HeaderName, HeaderValue) {
    let cookie = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(http_only)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .build();
    // Tokens, jtis and checked names are visible ASCII; an empty value stands
    // in should that ever not hold, and the cookie is then simply not usable.
    let value =
        HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""));
    (SET_COOKIE, value)
}

impl IssuedToken {
    /// `Set-Cookie` headers for cookie transport: the token in an
    /// `HttpOnly` cookie, and its CSRF value (the `jti`) in a cookie the
    /// page's script reads and echoes in the `X-CSRF-Token` header. Both are
    /// `Secure; Path=/; SameSite=Strict`, without `Domain`, named by the
    /// manager's [`CookieNames`] (`__Host-` by default), and expire with
    /// the token.
    ///
    /// ```
    /// use axum::{Json, response::IntoResponse};
    /// # fn f(manager: jwt_guard::TokenManager) -> impl IntoResponse {
    /// let access = manager.access_token("alice").sign().unwrap();
    /// (access.cookies(), Json(serde_json::json!({ "ok": true })))
    /// # }
    /// ```
    pub fn cookies(&self) -> AppendHeaders<[(HeaderName, HeaderValue); 2]> {
        let max_age = self.expires_in();
        let names = &self.cookie_names;
        AppendHeaders([
            set_cookie(names.token(self.kind), self.as_str(), true, max_age),
            set_cookie(names.csrf(self.kind), self.jti(), false, max_age),
        ])
    }
}

impl TokenManager {
    /// `Set-Cookie` headers that clear every cookie
    /// [`IssuedToken::cookies`] sets, for a logout response.
    ///
    /// ```
    /// use axum::{http::StatusCode, response::IntoResponse};
    /// # fn f(manager: jwt_guard::TokenManager) -> impl IntoResponse {
    /// (manager.clear_cookies(), StatusCode::NO_CONTENT)
    /// # }
    /// ```
    pub fn clear_cookies(&self) -> AppendHeaders<[(HeaderName, HeaderValue); 4]> {
        let names = &self.inner.cookie_names;
        AppendHeaders([
            set_cookie(names.token(TokenKind::Access), "", true, 0),
            set_cookie(names.csrf(TokenKind::Access), "", false, 0),
            set_cookie(names.token(TokenKind::Refresh), "", true, 0),
            set_cookie(names.csrf(TokenKind::Refresh), "", false, 0),
        ])
    }
}
