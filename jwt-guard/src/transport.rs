//! Steps 1 and 2 of the order of checks: where a token is read from (the
//! `Authorization` header, a cookie, the query string), and the origin and
//! CSRF checks of a cookie-borne token.

use std::borrow::Cow;
use std::str::FromStr;

use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER, UPGRADE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
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
    /// OPTIONS, TRACE):
    ///
    /// - the request's `Origin` (or, without one, its `Referer`) must be
    ///   the request's own origin or one of the manager's
    ///   [`allowed_origins`](crate::TokenManagerBuilder::allowed_origins);
    /// - the `X-CSRF-Token` header must equal the CSRF cookie
    ///   (`__Host-csrf_access_token` / `__Host-csrf_refresh_token`), which
    ///   [`IssuedToken::cookies`](crate::IssuedToken::cookies) sets to the
    ///   token's `jti`.
    ///
    /// A WebSocket upgrade (a GET with `Upgrade: websocket`) needs the
    /// allowed origin too: a browser's WebSocket cannot send the CSRF
    /// header. Two cookies of the token's name are a 400.
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

/// What cookie transport is checked against: the cookies' names, and the
/// origins besides the request's own that may send a cookie-borne token.
pub(crate) struct CookiePolicy<'a> {
    pub(crate) names: &'a CookieNames,
    /// Normalized by [`parse_origin`].
    pub(crate) origins: &'a [String],
}

/// Steps 1 and 2 of the order of checks: find the token in `locations`, in
/// order, and for a cookie on an unsafe method or a WebSocket upgrade check
/// the origin, then CSRF.
pub(crate) fn find<'a>(
    parts: &'a Parts,
    locations: &[Location],
    kind: TokenKind,
    cookies: &CookiePolicy<'_>,
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
            Location::Cookie if found.is_none() => {
                match cookie(parts, cookies.names.token(kind))? {
                    Some(token) => {
                        check_origin(parts, cookies.origins)?;
                        let csrf = check_csrf(parts, cookies.names.csrf(kind))?;
                        found = Some(Found { token, csrf });
                        None
                    }
                    None => None,
                }
            }
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

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A WebSocket opening: `Upgrade: websocket` (HTTP/1.1), or a CONNECT
/// (RFC 8441, over HTTP/2), which no page's `fetch` can send.
fn is_websocket(parts: &Parts) -> bool {
    parts.method == Method::CONNECT
        || parts
            .headers
            .get_all(UPGRADE)
            .iter()
            .any(|v| contains_token(v, "websocket"))
}

/// A cookie-borne token on an unsafe method or a WebSocket opening must
/// come from the request's own origin or an allowed one: what the browser
/// says in `Origin`, else in `Referer`. Neither, two `Origin` headers, or
/// `Origin: null` is refused: a browser sends exactly one on such requests.
fn check_origin(parts: &Parts, allowed: &[String]) -> Result<(), AuthError> {
    if is_safe(&parts.method) && !is_websocket(parts) {
        return Ok(());
    }
    let mut origins = parts.headers.get_all(ORIGIN).iter();
    let origin = match (origins.next(), origins.next()) {
        (Some(origin), None) => origin.to_str().ok().and_then(parse_origin),
        (Some(_), Some(_)) => None,
        (None, _) => parts
            .headers
            .get(REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(origin_of_url),
    };
    match origin {
        Some(origin) if allowed.contains(&origin) || is_own_origin(parts, &origin) => Ok(()),
        _ => Err(InvalidToken::Origin.into()),
    }
}

/// Whether a comma-separated header value lists `token`, in any case.
fn contains_token(value: &HeaderValue, token: &str) -> bool {
    value
        .to_str()
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Whether `origin` (normalized) is the request's own: its host and port
/// are those the request was sent to (the URI's authority, over HTTP/2 or
/// in absolute form, else the `Host` header), and its scheme is `https`,
/// or `http` on a loopback host. The server cannot know its own scheme
/// behind a proxy that ends TLS; a page served over plain HTTP on the same
/// host (port 80 where the API is on 443) is another origin, and cookie
/// transport's `Secure` cookies only ever travel over HTTPS or to loopback.
fn is_own_origin(parts: &Parts, origin: &str) -> bool {
    let host = match parts.uri.authority() {
        Some(authority) => Some(authority.as_str()),
        None => parts.headers.get(HOST).and_then(|h| h.to_str().ok()),
    };
    let Some(host) = host else { return false };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    if scheme == "http" && !is_loopback(authority) {
        return false;
    }
    if authority.eq_ignore_ascii_case(host) {
        return true;
    }
    // `Host: example.com:443` for the origin `https://example.com`.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    host.strip_suffix(default_port)
        .is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

/// Whether an origin's `host[:port]` is a loopback host: `localhost`,
/// `127.0.0.0/8` or `[::1]`.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The origin of an absolute `http(s)` URL, normalized.
fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    parse_origin(&format!("{scheme}://{}", &rest[..end]))
}

/// An origin as browsers serialize it, `scheme://host[:port]`: `http` or
/// `https`; a DNS name, an IPv4 address or a bracketed IPv6 address; no
/// user, path, query or fragment. Lowercased, without the scheme's default
/// port. `None` for anything else, `null` included.
pub(crate) fn parse_origin(origin: &str) -> Option<String> {
    let (scheme, authority) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (address, after) = rest.split_once(']')?;
            address.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match after {
                "" => None,
                after => Some(after.strip_prefix(':')?),
            };
            (&authority[..address.len() + 2], port)
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority.as_str(), None),
        },
    };
    let name_ok = host.starts_with('[')
        || (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    let port_ok =
        port.is_none_or(|p| p.parse::<u16>().is_ok() && p.bytes().all(|b| b.is_ascii_digit()));
    if !name_ok || !port_ok {
        return None;
    }
    Some(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

fn check_csrf<'a>(parts: &'a Parts, csrf_cookie: &str) -> Result<Option<&'a str>, AuthError> {
    // A WebSocket opening over HTTP/2 is a CONNECT, which cannot carry the
    // header; its origin was checked.
    if is_safe(&parts.method) || parts.method == Method::CONNECT {
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
