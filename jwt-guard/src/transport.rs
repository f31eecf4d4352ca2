//! Where a token is read from: the `Authorization` header, a cookie (with a
//! CSRF check), or the query string; and the cookie helpers.

use std::str::FromStr;

use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::AppendHeaders;

use crate::claims::TokenKind;
use crate::error::{AuthError, ConfigError, InvalidRequest, InvalidToken};
use crate::manager::IssuedToken;

/// Where a token is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Location {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1). The scheme is
    /// case-insensitive.
    Header,
    /// A cookie: `access_token_cookie` or `refresh_token_cookie`. On unsafe
    /// methods (anything but GET, HEAD, OPTIONS, TRACE) the `X-CSRF-Token`
    /// header must equal the `csrf_access_token` / `csrf_refresh_token`
    /// cookie, which [`IssuedToken::cookies`] sets to the token's `jti`.
    Cookie,
    /// The `access_token` query parameter (RFC 6750 §2.3). Query strings end
    /// up in logs: prefer the header.
    Query,
}

impl FromStr for Location {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "header" => Ok(Self::Header),
            "cookie" => Ok(Self::Cookie),
            "query" => Ok(Self::Query),
            other => Err(ConfigError::new(
                "locations",
                format!("unknown location `{other}`; expected `header`, `cookie` or `query`"),
            )),
        }
    }
}

/// The header a browser client echoes the CSRF cookie in.
pub const CSRF_HEADER: &str = "x-csrf-token";

const fn token_cookie(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access_token_cookie",
        TokenKind::Refresh => "refresh_token_cookie",
    }
}

const fn csrf_cookie(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "csrf_access_token",
        TokenKind::Refresh => "csrf_refresh_token",
    }
}

/// A token found in a request.
pub(crate) struct Found<'a> {
    pub(crate) token: &'a str,
    /// For a cookie-borne token on an unsafe method: the CSRF value the
    /// client sent, which must also equal the token's `jti`.
    pub(crate) csrf: Option<&'a str>,
}

/// Step 1 and 2 of the order of checks: find the token in `locations`, in
/// order, and check CSRF for a cookie on an unsafe method.
pub(crate) fn find<'a>(
    parts: &'a Parts,
    locations: &[Location],
    kind: TokenKind,
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
            Location::Cookie if found.is_none() => match cookie(parts, token_cookie(kind)) {
                Some(token) => {
                    let csrf = check_csrf(parts, kind)?;
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

/// The value of the first cookie called `name`, across `Cookie` headers.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value.trim_matches('"'))
        })
        .filter(|value| !value.is_empty())
}

fn check_csrf(parts: &Parts, kind: TokenKind) -> Result<Option<&str>, AuthError> {
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
    match (sent, cookie(parts, csrf_cookie(kind))) {
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

fn set_cookie(name: &str, value: &str, attributes: &str, max_age: u64) -> HeaderValue {
    let cookie =
        format!("{name}={value}; Path=/; Secure; SameSite=Strict{attributes}; Max-Age={max_age}");
    // Tokens, jtis and our names are visible ASCII; an empty value stands in
    // should that ever not hold, and the cookie is then simply not usable.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl IssuedToken {
    /// `Set-Cookie` headers for cookie transport: the token in an
    /// `HttpOnly` cookie, and its CSRF value (the `jti`) in a cookie the
    /// page's script reads and echoes in the `X-CSRF-Token` header. Both are
    /// `Secure; SameSite=Strict; Path=/` and expire with the token.
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
        AppendHeaders([
            (
                SET_COOKIE,
                set_cookie(
                    token_cookie(self.kind()),
                    self.as_str(),
                    "; HttpOnly",
                    max_age,
                ),
            ),
            (
                SET_COOKIE,
                set_cookie(csrf_cookie(self.kind()), self.jti(), "", max_age),
            ),
        ])
    }
}

/// `Set-Cookie` headers that clear every cookie [`IssuedToken::cookies`]
/// sets, for a logout response.
pub fn clear_cookies() -> AppendHeaders<[(HeaderName, HeaderValue); 4]> {
    let clear = |name: &str, attributes: &str| (SET_COOKIE, set_cookie(name, "", attributes, 0));
    AppendHeaders([
        clear(token_cookie(TokenKind::Access), "; HttpOnly"),
        clear(csrf_cookie(TokenKind::Access), ""),
        clear(token_cookie(TokenKind::Refresh), "; HttpOnly"),
        clear(csrf_cookie(TokenKind::Refresh), ""),
    ])
}
