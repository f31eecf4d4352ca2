//! Steps 1 and 2 of the order of checks: where a token is read from (the
//! `Authorization` header, a cookie, the query string), and the CSRF check
//! of a cookie-borne token.

use std::borrow::Cow;
use std::str::FromStr;

use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use cookie::Cookie;

use crate::error::{AuthError, InvalidRequest, InvalidToken};
use crate::kind::TokenKind;

/// Where a token is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme is
    /// case-insensitive.
    Header,
    /// A cookie: by default `__Host-access_token` or `__Host-refresh_token`
    /// (see [`CookieNames`]). On unsafe methods (anything but GET, HEAD,
    /// OPTIONS, TRACE) the `X-CSRF-Token` header must equal the CSRF cookie
    /// (`__Host-csrf_access_token` / `__Host-csrf_refresh_token`), which
    /// [`IssuedToken::cookies`](crate::IssuedToken::cookies) sets to the
    /// token's `jti`. Two cookies of the token's name are a 400.
    Cookie,
    /// The `access_token` query parameter (RFC 6750 §2.3). Query strings end
    /// up in logs: prefer the header.
    Query,
}

/// The error of parsing a [`Location`] from a name other than `header`,
/// `cookie` or `query`.
///
/// ```
/// use jwt_guard::Location;
/// assert_eq!("cookie".parse::<Location>().unwrap(), Location::Cookie);
/// let err = "body".parse::<Location>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown location `body`; expected `header`, `cookie` or `query`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown location `{name}`; expected `header`, `cookie` or `query`")]
pub struct ParseLocationError {
    name: String,
}

impl FromStr for Location {
    type Err = ParseLocationError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "header" => Ok(Self::Header),
            "cookie" => Ok(Self::Cookie),
            "query" => Ok(Self::Query),
            other => Err(ParseLocationError {
                name: other.to_owned(),
            }),
        }
    }
}

/// The header a browser client echoes the CSRF cookie in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The names of the cookies of cookie transport: the token cookies
/// (`HttpOnly`) and the CSRF cookies a page's script reads.
///
/// The defaults carry the `__Host-` prefix, so a browser accepts them only
/// with `Secure`, `Path=/` and no `Domain`, as
/// [`IssuedToken::cookies`](crate::IssuedToken::cookies) sets them: no
/// sibling subdomain can plant or overwrite them.
///
/// ```
/// use jwt_guard::{CookieNames, TokenManager};
///
/// assert_eq!(CookieNames::default().access, "__Host-access_token");
/// let manager = TokenManager::builder()
///     .hs256(jwt_guard::generate_secret())
///     .cookie_names(CookieNames { access: "__Host-session".into(), ..CookieNames::default() })
///     .build()?;
/// # Ok::<(), jwt_guard::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    /// The access token's cookie. Defaults to `__Host-access_token`.
    pub access: Cow<'static, str>,
    /// The refresh token's cookie. Defaults to `__Host-refresh_token`.
    pub refresh: Cow<'static, str>,
    /// The access token's CSRF cookie. Defaults to `__Host-csrf_access_token`.
    pub csrf_access: Cow<'static, str>,
    /// The refresh token's CSRF cookie. Defaults to `__Host-csrf_refresh_token`.
    pub csrf_refresh: Cow<'static, str>,
}

impl Default for CookieNames {
    fn default() -> Self {
        Self {
            access: Cow::Borrowed("__Host-access_token"),
            refresh: Cow::Borrowed("__Host-refresh_token"),
            csrf_access: Cow::Borrowed("__Host-csrf_access_token"),
            csrf_refresh: Cow::Borrowed("__Host-csrf_refresh_token"),
        }
    }
}

impl CookieNames {
    /// The token cookie of `kind`.
    pub(crate) fn token(&self, kind: TokenKind) -> &str {
        match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        }
    }

    /// The CSRF cookie of `kind`.
    pub(crate) fn csrf(&self, kind: TokenKind) -> &str {
        match kind {
            TokenKind::Access => &self.csrf_access,
            TokenKind::Refresh => &self.csrf_refresh,
        }
    }

    /// Every name with the field that sets it, for the checks at build.
    pub(crate) fn all(&self) -> [(&'static str, &str); 4] {
        [
            ("access", &self.access),
            ("refresh", &self.refresh),
            ("csrf_access", &self.csrf_access),
            ("csrf_refresh", &self.csrf_refresh),
        ]
    }
}

/// A token found in a request.
pub(crate) struct Found<'a> {
    pub(crate) token: &'a str,
    /// For a cookie-borne token on an unsafe method: the CSRF value the
    /// client sent, which must also equal the token's `jti`.
    pub(crate) csrf: Option<&'a str>,
}

/// Steps 1 and 2 of the order of checks: find the token in `locations`, in
/// order, and check CSRF for a cookie on an unsafe method.
pub(crate) fn find<'a>(
    parts: &'a Parts,
    locations: &[Location],
    kind: TokenKind,
    cookies: &CookieNames,
) -> Result<Option<Found<'a>>, AuthError> {
    let mut found: Option<Found<'a>> = None;
    let (mut in_header, mut in_query) = (false, false);
    for &location in locations {
        let token = match location {
            Location::Header => {
                let token = from_header(parts)?;
                in_header = token.is_some();
                token
            }
            Location::Query => {
                let token = from_query(parts)?;
                in_query = token.is_some();
                token
            }
            Location::Cookie if found.is_none() => match cookie(parts, cookies.token(kind))? {
                Some(token) => {
                    let csrf = check_csrf(parts, cookies.csrf(kind))?;
                    found = Some(Found { token, csrf });
                    None
                }
                None => None,
            },
            Location::Cookie => None,
        };
        if found.is_none() {
            found = token.map(|token| Found { token, csrf: None });
        }
    }
    if in_header && in_query {
        return Err(InvalidRequest::AmbiguousToken.into());
    }
    Ok(found)
}

fn from_header(parts: &Parts) -> Result<Option<&str>, AuthError> {
    let mut values = parts.headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(InvalidRequest::DuplicateHeader.into());
    }
    let value = value.to_str().map_err(|_| InvalidRequest::BadHeader)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (such as Basic) is no bearer token.
        return Ok(None);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(InvalidRequest::EmptyBearer.into());
    }
    Ok(Some(token))
}

fn from_query(parts: &Parts) -> Result<Option<&str>, AuthError> {
    let Some(query) = parts.uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("access_token=") {
            if found.is_some() {
                return Err(InvalidRequest::AmbiguousToken.into());
            }
            found = Some(value);
        }
    }
    match found {
        Some("") => Err(InvalidRequest::EmptyBearer.into()),
        other => Ok(other),
    }
}

/// The value of the cookie called `name`, across `Cookie` headers; two
/// cookies of that name make the request ambiguous. A pair with bytes
/// beyond ASCII is skipped, not the whole header (an app's own
/// `lang=français` must not hide the token), and never trimmed into one of
/// ours: a sibling domain's `\u{2000}__Host-access_token` is not
/// `__Host-access_token`.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, AuthError> {
    let mut found = None;
    let pairs = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b';'))
        .filter(|pair| pair.is_ascii())
        .filter_map(|pair| std::str::from_utf8(pair).ok());
    for pair in pairs {
        let Ok(cookie) = Cookie::parse(pair) else {
            continue;
        };
        if cookie.name_raw() != Some(name) {
            continue;
        }
        if found.is_some() {
            return Err(InvalidRequest::DuplicateCookie.into());
        }
        found = Some(cookie.value_raw().unwrap_or_default().trim_matches('"'));
    }
    Ok(found.filter(|value| !value.is_empty()))
}

fn check_csrf<'a>(parts: &'a Parts, csrf_cookie: &str) -> Result<Option<&'a str>, AuthError> {
    if matches!(
        parts.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return Ok(None);
    }
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    // Two CSRF cookies match nothing.
    let expected = cookie(parts, csrf_cookie).unwrap_or(None);
    match (sent, expected) {
        (Some(sent), Some(expected)) if constant_time_eq(sent, expected) => Ok(Some(sent)),
        _ => Err(InvalidToken::Csrf.into()),
    }
}

pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
