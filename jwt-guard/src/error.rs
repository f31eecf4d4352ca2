//! Every error of the crate: [`AuthError`], the reason a request was
//! refused, with its RFC 6750 response; [`ConfigError`] at build time;
//! [`IssueError`] and [`StoreError`].

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::kind::TokenKind;

/// An underlying error kept as the [`source`](StdError::source) of ours.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a request was refused.
///
/// Each variant maps to one row of the failure table: [`status`](Self::status)
/// gives the HTTP status, [`code`](Self::code) the RFC 6750 error code and
/// [`message`](Self::message) a human sentence. None of them ever contains the
/// token, a key or a secret, so all of them are safe to send to the client and
/// to log.
///
/// ```
/// use jwt_guard::{AuthError, InvalidToken};
/// use axum::http::StatusCode;
///
/// let err = AuthError::InvalidToken(InvalidToken::Expired);
/// assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(err.code(), Some("invalid_token"));
/// assert_eq!(err.message(), "token has expired");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token was found where the handler reads one (401, no error code).
    #[error("a bearer token is required")]
    Missing,
    /// The request is malformed: `Bearer` with no token, two `Authorization`
    /// headers, or a token in more than one place (400 `invalid_request`).
    #[error(transparent)]
    InvalidRequest(#[from] InvalidRequest),
    /// The token failed verification (401 `invalid_token`).
    #[error(transparent)]
    InvalidToken(#[from] InvalidToken),
    /// A valid access token that is not fresh, on a `fresh` handler
    /// (401 `insufficient_user_authentication`, RFC 9470).
    #[error("fresh token required")]
    NotFresh,
    /// A valid token that does not meet the handler's requirement
    /// (403 `insufficient_scope`).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The server is misconfigured: no [`TokenManager`](crate::TokenManager)
    /// reachable, or the route lacks a path parameter the handler names (500).
    #[error("server misconfiguration: {0}")]
    Misconfigured(&'static str),
    /// The revocation state is unavailable (the store failed, or its
    /// replica may be stale); the request is refused rather than let
    /// through (503, with `Retry-After`).
    #[error("revocation store unavailable")]
    StoreUnavailable,
    /// A trusted issuer's keys have never been fetched (it is down or
    /// unreachable); the request is refused rather than let through (503,
    /// with `Retry-After`).
    #[error("the issuer's keys are unavailable")]
    IssuerUnavailable,
}

/// What was malformed about the request (400 `invalid_request`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// `Authorization: Bearer` with nothing after the scheme.
    #[error("the Bearer scheme needs a token")]
    EmptyBearer,
    /// More than one `Authorization` header.
    #[error("more than one Authorization header")]
    DuplicateHeader,
    /// A token in more than one place (header and query, or twice in the query).
    #[error("a token was sent in more than one place")]
    AmbiguousToken,
    /// Two cookies carry the token's name.
    #[error("more than one cookie carries the token")]
    DuplicateCookie,
    /// The `Authorization` header is not visible ASCII.
    #[error("the Authorization header is not valid")]
    BadHeader,
}

/// Why a token failed verification (401 `invalid_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidToken {
    /// Not three base64url parts, or a part that does not decode.
    #[error("token is malformed")]
    Malformed,
    /// Longer than the configured bound.
    #[error("token is too large")]
    TooLarge,
    /// A header the verifier refuses (`crit`, `b64`, `zip`, `cty`), or a
    /// header that is not a JSON object.
    #[error("token header is not accepted")]
    Header,
    /// An `alg` other than the one of the configured key.
    #[error("token algorithm is not accepted")]
    Algorithm,
    /// A `kid` that names no configured key.
    #[error("token key id is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("token signature is invalid")]
    Signature,
    /// A refresh token its family has already used: the family is revoked
    /// (RFC 9700 §4.14.2).
    #[error("refresh token was already used")]
    Reused,
    /// A required claim is missing, duplicated or of the wrong JSON type.
    #[error("token claims are malformed")]
    Claims,
    /// `exp` is in the past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token was issued in the future")]
    IssuedInFuture,
    /// `exp` is further from `iat` than the manager's lifetime for the
    /// token's kind: revocations are kept only that long.
    #[error("token lives longer than this server allows")]
    Lifetime,
    /// `iss` is missing or not the configured issuer.
    #[error("token issuer is not accepted")]
    Issuer,
    /// `aud` is missing, not the configured audience, or present while no
    /// audience is configured.
    #[error("token audience is not accepted")]
    Audience,
    /// A token of the other kind.
    #[error("{}", wrong_kind_message(*.expected))]
    WrongKind {
        /// The kind the handler requires.
        expected: TokenKind,
    },
    /// The token, or every token of its subject issued before it, was revoked.
    #[error("token has been revoked")]
    Revoked,
    /// A cookie-borne token on an unsafe method without a matching CSRF header.
    #[error("CSRF token missing or does not match")]
    Csrf,
    /// A cookie-borne token on an unsafe method or a WebSocket upgrade,
    /// from a page of another origin, or without `Origin` and `Referer`.
    #[error("a cookie-borne token is not accepted from this origin")]
    Origin,
}

const fn wrong_kind_message(expected: TokenKind) -> &'static str {
    match expected {
        TokenKind::Access => "refresh token used where an access token is required",
        TokenKind::Refresh => "access token used where a refresh token is required",
    }
}

/// Why a valid token does not meet the handler's requirement
/// (403 `insufficient_scope`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Forbidden {
    /// A claim does not equal the path parameter the handler names.
    #[error("token `{claim}` does not match the `{param}` path parameter")]
    PathMismatch {
        /// The claim, such as `sub`.
        claim: &'static str,
        /// The path parameter, such as `username`.
        param: &'static str,
    },
    /// A claim does not equal the literal the handler names.
    #[error("token claim `{claim}` does not have the required value")]
    ClaimMismatch {
        /// The claim name.
        claim: &'static str,
    },
    /// The token's scope lacks entries the handler requires.
    #[error("token scope lacks {}", quote_list(.missing))]
    Scope {
        /// The missing scope entries, in the order the handler declares them.
        missing: Vec<&'static str>,
    },
}

fn quote_list(items: &[&str]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{item}`");
    }
    out
}

impl AuthError {
    /// The HTTP status of the refusal.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Missing | Self::InvalidToken(_) | Self::NotFresh => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::StoreUnavailable | Self::IssuerUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 / RFC 9470 error code, or `None` where the RFCs give none
    /// (no token at all) or the failure is the server's.
    #[must_use]
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::Missing
            | Self::Misconfigured(_)
            | Self::StoreUnavailable
            | Self::IssuerUnavailable => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::NotFresh => Some("insufficient_user_authentication"),
            Self::Forbidden(_) => Some("insufficient_scope"),
        }
    }

    /// A human sentence saying what was wrong; never the token or a secret.
    #[must_use]
    pub fn message(&self) -> Cow<'static, str> {
        match self {
            Self::InvalidToken(reason) => Cow::Owned(reason.to_string()),
            Self::Misconfigured(_) => {
                // The detail goes to the log, not to the client.
                Cow::Borrowed("the server could not check the request's credentials")
            }
            Self::StoreUnavailable | Self::IssuerUnavailable => {
                Cow::Borrowed("the server cannot check credentials right now; retry shortly")
            }
            other => Cow::Owned(other.to_string()),
        }
    }

    /// The value of the `scope` attribute of the `WWW-Authenticate` header, if
    /// any: the scope entries the token lacks.
    #[must_use]
    pub fn scope(&self) -> Option<String> {
        match self {
            Self::Forbidden(Forbidden::Scope { missing }) => Some(missing.join(" ")),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` header value for this refusal, or `None` for
    /// server errors, which carry no challenge.
    ///
    /// ```
    /// use jwt_guard::AuthError;
    /// assert_eq!(
    ///     AuthError::Missing.www_authenticate("api").unwrap(),
    ///     r#"Bearer realm="api""#,
    /// );
    /// ```
    #[must_use]
    pub fn www_authenticate(&self, realm: &str) -> Option<HeaderValue> {
        if self.status().is_server_error() {
            return None;
        }
        let mut value = String::with_capacity(96);
        value.push_str("Bearer realm=\"");
        push_quoted(&mut value, realm);
        value.push('"');
        if let Some(code) = self.code() {
            value.push_str(", error=\"");
            value.push_str(code);
            value.push('"');
            value.push_str(", error_description=\"");
            push_quoted(&mut value, &self.message());
            value.push('"');
        }
        if let Some(scope) = self.scope() {
            value.push_str(", scope=\"");
            push_quoted(&mut value, &scope);
            value.push('"');
        }
        HeaderValue::from_str(&value).ok()
    }

    /// The default response: status, `WWW-Authenticate` and the JSON body
    /// `{"error": "<code>", "message": "<human text>"}`; a 503 also has
    /// `Retry-After` (in seconds).
    #[must_use]
    pub fn to_response(&self, realm: &str) -> Response {
        let body = serde_json::json!({
            "error": self.code().unwrap_or(match self {
                Self::StoreUnavailable | Self::IssuerUnavailable => "temporarily_unavailable",
                _ if self.status().is_server_error() => "server_error",
                _ => "unauthorized",
            }),
            "message": self.message(),
        });
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(challenge) = self.www_authenticate(realm) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    /// The `Retry-After` of the refusal in seconds, for a refusal that may
    /// pass if retried (503).
    #[must_use]
    pub fn retry_after(&self) -> Option<u32> {
        matches!(self, Self::StoreUnavailable | Self::IssuerUnavailable).then_some(RETRY_AFTER_SECS)
    }
}

/// How long a client should wait before retrying a 503: revocation state
/// comes back within a second or two of the store's return.
const RETRY_AFTER_SECS: u32 = 1;

/// Appends `s` as the inside of an RFC 7230 quoted-string: `"` and `\` are
/// escaped, and anything that is not visible ASCII or a space is dropped so
/// the header value is always valid.
fn push_quoted(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
}

/// An error while building a [`TokenManager`](crate::TokenManager): the
/// setting that is wrong and why. Raised at start-up, never at a request.
///
/// ```
/// use jwt_guard::TokenManager;
/// let err = TokenManager::builder().hs256("too short").build().unwrap_err();
/// assert_eq!(err.setting(), "hs256");
/// assert!(err.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid jwt-guard setting `{setting}`: {reason}")]
pub struct ConfigError {
    setting: Cow<'static, str>,
    reason: Cow<'static, str>,
}

impl ConfigError {
    pub(crate) fn new(
        setting: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            setting: setting.into(),
            reason: reason.into(),
        }
    }

    /// The setting at fault: a builder method name such as `hs256`, or an
    /// environment variable such as `JWT_GUARD_SECRET`.
    #[must_use]
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// Why the setting was refused.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// An error while issuing a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A custom claim uses a name the library sets itself.
    #[error("claim `{0}` is reserved; use the dedicated builder method")]
    ReservedClaim(String),
    /// The scope is neither a JSON object nor a space-delimited string.
    #[error("scope must be a JSON object or a space-delimited string")]
    BadScope,
    /// A claim value could not be serialized.
    #[error("claim `{name}` could not be serialized")]
    Serialize {
        /// The claim name.
        name: String,
        /// The serializer's error.
        source: serde_json::Error,
    },
    /// A [`ttl`](crate::TokenBuilder::ttl) longer than the manager's lifetime
    /// for this kind of token.
    #[error(
        "a {kind} token may live at most {max_secs} seconds, the manager's {kind}_ttl; \
         raise that setting instead"
    )]
    TtlTooLong {
        /// Access or refresh.
        kind: TokenKind,
        /// The manager's lifetime for this kind, in seconds.
        max_secs: u64,
    },
    /// [`family`](crate::TokenBuilder::family) given something else than a
    /// refresh token of the same subject, or on a refresh token's builder.
    #[error("`family` takes a refresh token of the same subject, for an access token")]
    NotFamily,
    /// The manager only verifies: it was built without a signing key.
    #[error("this manager has no signing key: it only verifies")]
    NoSigningKey,
    /// The signature could not be computed; the crypto backend's error is
    /// the [`source`](StdError::source).
    #[error("signing failed")]
    Sign(#[source] BoxError),
}

/// An error from a [`RevocationStore`](crate::RevocationStore): what failed,
/// and the underlying error (a connection error, say) as its
/// [`source`](StdError::source).
///
/// ```
/// use std::error::Error as _;
/// use jwt_guard::StoreError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let err = StoreError::with_source("cannot reach the store", io);
/// assert_eq!(err.to_string(), "revocation store error: cannot reach the store");
/// assert_eq!(err.source().unwrap().to_string(), "refused");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("revocation store error: {message}")]
pub struct StoreError {
    message: Cow<'static, str>,
    #[source]
    source: Option<BoxError>,
}

impl StoreError {
    /// A store error with a message (never put a token or secret in it).
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A store error caused by `source`, which stays reachable through
    /// [`source()`](StdError::source).
    pub fn with_source(message: impl Into<Cow<'static, str>>, source: impl Into<BoxError>) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_quotes_and_lists_missing_scope() {
        let err = AuthError::Forbidden(Forbidden::Scope {
            missing: vec!["posts:write", "admin"],
        });
        let value = err.www_authenticate("my \"api\"").unwrap();
        assert_eq!(
            value,
            "Bearer realm=\"my \\\"api\\\"\", error=\"insufficient_scope\", \
             error_description=\"token scope lacks `posts:write`, `admin`\", \
             scope=\"posts:write admin\""
        );
    }

    #[test]
    fn server_errors_have_no_challenge_and_hide_detail() {
        let err = AuthError::Misconfigured("no TokenManager");
        assert!(err.www_authenticate("api").is_none());
        assert!(!err.message().contains("TokenManager"));
    }
}
