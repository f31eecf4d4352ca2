//! Steps 1 and 2 of the order of checks: where a token is read from (the
//! `Authorization` header, a cookie, the query string), and the CSRF check
//! of a cookie-borne token.

use std::str::FromStr;

use axum::http::Method;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;

use crate::error::{AuthError, InvalidRequest, InvalidToken};
use crate::kind::TokenKind;

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
    /// cookie, which [`IssuedToken::cookies`](crate::IssuedToken::cookies)
    /// sets to the token's `jti`.
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

pub(crate) const fn token_cookie(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => "access_token_cookie",
        TokenKind::Refresh => "refresh_token_cookie",
    }
}

pub(crate) const fn csrf_cookie(kind: TokenKind) -> &'static str {
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

/// Steps 1 and 2 of the order of checks: find the token in `locations`, in
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
