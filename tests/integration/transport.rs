//! Where tokens are read: the `Authorization` header (its scheme, a missing
//! or doubled token), cookies with their origin and CSRF checks, the query
//! string; and that a refused request never reaches the body.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::{FromRequest, Request as AxumRequest, State};
use axum::http::{Method, Request, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use jwt_guard::{
    AuthError, InvalidRequest, InvalidToken, Location, Token, TokenManager, require_token,
};
use serde_json::{Value, json};

use crate::common::*;

#[require_token(location(query))]
async fn query_only(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(location(cookie))]
async fn cookie_only(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(refresh, location(cookie))]
async fn cookie_refresh(token: Token) -> Ran<String> {
    Ran(format!("refresh {}", token.sub()))
}

/// Counts how often a body extractor runs.
#[derive(Clone, Default)]
struct Reads(Arc<AtomicUsize>);

struct CountedJson(Value);

impl FromRequest<Reads> for CountedJson {
    type Rejection = axum::response::Response;

    async fn from_request(req: AxumRequest, state: &Reads) -> Result<Self, Self::Rejection> {
        state.0.fetch_add(1, Ordering::SeqCst);
        let Json(value) = Json::<Value>::from_request(req, state)
            .await
            .map_err(axum::response::IntoResponse::into_response)?;
        Ok(Self(value))
    }
}

#[require_token]
async fn create(State(_reads): State<Reads>, CountedJson(body): CountedJson) -> Ran<String> {
    Ran(body["title"].as_str().unwrap_or_default().to_owned())
}

fn app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/h", get(me).post(me))
        .route("/q", get(query_only).post(query_only))
        .route("/c", get(cookie_only).post(cookie_only))
        .route("/refresh", post(cookie_refresh))
        .layer(manager.layer())
}

/// A request with `cookies` from a page of the server's own origin.
fn with_cookies(method: &str, uri: &str, cookies: &str, csrf: Option<&str>) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "api.test")
        .header(header::ORIGIN, "https://api.test")
        .header(header::COOKIE, cookies);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn missing_token_is_401_without_error_code() {
    let m = manager();
    let reply = send(&strict_app(&m), req("/strict/alice", None)).await;
    reply.refused(AuthError::Missing, &[]);
    assert_eq!(
        (reply.challenge(), reply.json()),
        (
            Some(r#"Bearer realm="test""#),
            json!({"error": "unauthorized", "message": "a bearer token is required"})
        )
    );
    // Another scheme is no bearer token.
    let basic = Request::get("/strict/alice")
        .header(header::AUTHORIZATION, "Basic YWxpY2U6c2VjcmV0")
        .body(Body::empty())
        .unwrap();
    send(&strict_app(&m), basic)
        .await
        .refused(AuthError::Missing, &["YWxpY2U6c2VjcmV0"]);
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let m = manager();
    let app = strict_app(&m);
    let token = access(&m, "alice");
    for value in ["Bearer", "Bearer ", "bearer    "] {
        let request = Request::get("/strict/alice")
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        send(&app, request)
            .await
            .refused(InvalidRequest::EmptyBearer, &[]);
    }
    let twice = Request::get("/strict/alice")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(&app, twice)
        .await
        .refused(InvalidRequest::DuplicateHeader, &[&token]);
}

#[tokio::test]
async fn the_scheme_is_case_insensitive() {
    let m = manager();
    let token = m
        .access_token("alice")
        .fresh(true)
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let request = Request::get("/strict/alice")
            .header(
                header::AUTHORIZATION,
                format!("{scheme} {}", token.as_str()),
            )
            .body(Body::empty())
            .unwrap();
        send(&strict_app(&m), request)
            .await
            .assert_ok("alice alice");
    }
}

#[tokio::test]
async fn query_location_reads_access_token_parameter() {
    let m = manager();
    let token = access(&m, "alice");
    send(&app(&m), req(&format!("/q?x=1&access_token={token}"), None))
        .await
        .assert_ok("alice");
    // Not read where the handler does not look.
    send(&app(&m), req(&format!("/h?access_token={token}"), None))
        .await
        .refused(AuthError::Missing, &[&token]);
    // Twice in the query is ambiguous.
    let reply = send(
        &app(&m),
        req(
            &format!("/q?access_token={token}&access_token={token}"),
            None,
        ),
    )
    .await;
    reply.refused(InvalidRequest::AmbiguousToken, &[&token]);
}

#[tokio::test]
async fn header_and_query_together_is_400() {
    let m = builder()
        .locations([Location::Header, Location::Query])
        .build()
        .unwrap();
    let token = access(&m, "alice");
    send(
        &app(&m),
        req(&format!("/h?access_token={token}"), Some(&token)),
    )
    .await
    .refused(InvalidRequest::AmbiguousToken, &[&token]);
    send(&app(&m), req(&format!("/h?access_token={token}"), None))
        .await
        .assert_ok("alice");
    send(&app(&m), req("/h", Some(&token)))
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn a_handlers_locations_replace_the_managers() {
    // The manager reads the header and the query; `location(query)` reads
    // only the query, `location(cookie)` only the cookie.
    let m = builder()
        .locations([Location::Header, Location::Query])
        .build()
        .unwrap();
    let routes = app(&m);
    let token = access(&m, "alice");
    let cookie = format!("__Host-access_token={token}");
    send(&routes, req("/q", Some(&token)))
        .await
        .refused(AuthError::Missing, &[&token]);
    send(&routes, with_cookies("GET", "/q", &cookie, None))
        .await
        .refused(AuthError::Missing, &[&token]);
    send(&routes, req(&format!("/q?access_token={token}"), None))
        .await
        .assert_ok("alice");
    for request in [
        req("/c", Some(&token)),
        req(&format!("/c?access_token={token}"), None),
    ] {
        send(&routes, request)
            .await
            .refused(AuthError::Missing, &[&token]);
    }
    send(&routes, with_cookies("GET", "/c", &cookie, None))
        .await
        .assert_ok("alice");
    // A cookie-only manager: an unannotated handler reads the cookie alone.
    let m = builder().locations([Location::Cookie]).build().unwrap();
    let token = access(&m, "alice");
    send(&app(&m), req("/h", Some(&token)))
        .await
        .refused(AuthError::Missing, &[&token]);
    let cookie = format!("__Host-access_token={token}");
    send(&app(&m), with_cookies("GET", "/h", &cookie, None))
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn the_managers_order_decides_which_location_wins() {
    // A cookie and a header, each with a token: the first of the manager's
    // locations that holds one wins.
    for (locations, winner) in [
        ([Location::Cookie, Location::Header], "alice"),
        ([Location::Header, Location::Cookie], "bob"),
    ] {
        let m = builder().locations(locations).build().unwrap();
        let (alice, bob) = (access(&m, "alice"), access(&m, "bob"));
        let request = Request::get("/h")
            .header(header::COOKIE, format!("__Host-access_token={alice}"))
            .header(header::AUTHORIZATION, format!("Bearer {bob}"))
            .body(Body::empty())
            .unwrap();
        send(&app(&m), request).await.assert_ok(winner);
    }
}

#[tokio::test]
async fn cookie_transport_with_csrf() {
    let m = manager();
    let app = app(&m);
    let issued = m.access_token("alice").sign().unwrap();
    // What `cookies()` sets is what the guard reads.
    let set: Vec<String> = {
        use axum::response::IntoResponse;
        let response = (issued.cookies(), "ok").into_response();
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(set.len(), 2);
    assert!(set[0].starts_with(&format!("__Host-access_token={};", issued.as_str())));
    assert!(
        set[0].contains("HttpOnly")
            && set[0].contains("Secure")
            && set[0].contains("SameSite=Strict")
    );
    assert!(set[1].starts_with(&format!("__Host-csrf_access_token={};", issued.jti())));
    assert!(!set[1].contains("HttpOnly"));

    let cookies = format!(
        "__Host-access_token={}; __Host-csrf_access_token={}",
        issued.as_str(),
        issued.jti()
    );
    // Safe methods need no CSRF header.
    send(&app, with_cookies("GET", "/c", &cookies, None))
        .await
        .assert_ok("alice");
    // Unsafe methods need the header to match the cookie…
    send(
        &app,
        with_cookies("POST", "/c", &cookies, Some(issued.jti())),
    )
    .await
    .assert_ok("alice");
    for csrf in [None, Some("wrong"), Some("")] {
        send(&app, with_cookies("POST", "/c", &cookies, csrf))
            .await
            .refused(InvalidToken::Csrf, &[issued.as_str()]);
    }
    // …and the token itself: a CSRF pair planted beside a stolen cookie fails.
    let planted = format!(
        "__Host-access_token={}; __Host-csrf_access_token=planted",
        issued.as_str()
    );
    send(&app, with_cookies("POST", "/c", &planted, Some("planted")))
        .await
        .refused(InvalidToken::Csrf, &[issued.as_str()]);
    // The manager's default locations do not include cookies.
    send(&app, with_cookies("GET", "/h", &cookies, None))
        .await
        .refused(AuthError::Missing, &[issued.as_str()]);
}

#[tokio::test]
async fn the_csrf_header_must_match_both_the_cookie_and_the_token() {
    // Double submit: the header must equal the CSRF cookie (a page of
    // another origin cannot read it) and the token's own `jti` (a planted
    // pair does not fit a stolen token). Each case below fails one
    // comparison alone, or fails it by a length or by two differences
    // that cancel out under XOR.
    let m = manager();
    let app = app(&m);
    let issued = m.access_token("alice").sign().unwrap();
    let jti = issued.jti();
    let token = format!("__Host-access_token={}", issued.as_str());
    let pair = |csrf: &str| format!("{token}; __Host-csrf_access_token={csrf}");
    let mut twice_flipped = jti.as_bytes().to_vec();
    twice_flipped[0] ^= 1;
    twice_flipped[1] ^= 1;
    let twice_flipped = String::from_utf8(twice_flipped).unwrap();
    let mut once_flipped = jti.as_bytes().to_vec();
    once_flipped[0] ^= 1;
    let once_flipped = String::from_utf8(once_flipped).unwrap();
    for (cookies, header) in [
        // The token's `jti`, but no CSRF cookie, or another one.
        (token.clone(), jti),
        (pair("another-value"), jti),
        // Cookie and header agree, but not with the token.
        (pair(&jti[..8]), &jti[..8]),
        (pair(&once_flipped), &once_flipped),
        (pair(&twice_flipped), &twice_flipped),
    ] {
        send(&app, with_cookies("POST", "/c", &cookies, Some(header)))
            .await
            .refused(InvalidToken::Csrf, &[issued.as_str()]);
    }
    // The control: all three agree.
    send(&app, with_cookies("POST", "/c", &pair(jti), Some(jti)))
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn refresh_cookie_has_its_own_csrf_pair() {
    let m = manager();
    let refresh = m.refresh_token("alice").sign().unwrap();
    let cookies = format!(
        "__Host-refresh_token={}; __Host-csrf_refresh_token={}",
        refresh.as_str(),
        refresh.jti()
    );
    send(
        &app(&m),
        with_cookies("POST", "/refresh", &cookies, Some(refresh.jti())),
    )
    .await
    .assert_ok("refresh alice");
    // The access token's CSRF pair does not stand for the refresh token's.
    let access_pair = format!(
        "__Host-refresh_token={}; __Host-csrf_access_token={}",
        refresh.as_str(),
        refresh.jti()
    );
    send(
        &app(&m),
        with_cookies("POST", "/refresh", &access_pair, Some(refresh.jti())),
    )
    .await
    .refused(InvalidToken::Csrf, &[refresh.as_str()]);
    let cleared = {
        use axum::response::IntoResponse;
        m.clear_cookies().into_response()
    };
    let values: Vec<_> = cleared
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .collect();
    assert_eq!(values.len(), 4);
    assert!(
        values
            .iter()
            .all(|v| v.to_str().unwrap().contains("Max-Age=0"))
    );
}

/// The `Set-Cookie` values of `response`, split into `(name, value)` and
/// attributes.
fn set_cookies(response: axum::response::Response) -> Vec<(String, String, Vec<String>)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| {
            let mut parts = v.to_str().unwrap().split("; ");
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            (
                name.to_owned(),
                value.to_owned(),
                parts.map(str::to_owned).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn cookies_keep_the_host_prefix_rules() {
    use axum::response::IntoResponse as _;
    let m = manager();
    let access = m.access_token("alice").sign().unwrap();
    let refresh = m.refresh_token("alice").sign().unwrap();
    let max_age = |issued: &jwt_guard::IssuedToken| format!("Max-Age={}", issued.expires_in());
    for (issued, names) in [
        (&access, ["__Host-access_token", "__Host-csrf_access_token"]),
        (
            &refresh,
            ["__Host-refresh_token", "__Host-csrf_refresh_token"],
        ),
    ] {
        let cookies = set_cookies(issued.cookies().into_response());
        let got: Vec<&str> = cookies.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(got, names);
        assert_eq!(cookies[0].1, issued.as_str());
        assert_eq!(cookies[1].1, issued.jti());
        for (i, (name, _, attributes)) in cookies.iter().enumerate() {
            // `__Host-`: Secure, Path=/, and no Domain (RFC 6265bis §4.1.3.2).
            assert!(
                attributes.contains(&"Secure".to_owned()),
                "{name}: {attributes:?}"
            );
            assert!(
                attributes.contains(&"Path=/".to_owned()),
                "{name}: {attributes:?}"
            );
            assert!(
                !attributes.iter().any(|a| a.starts_with("Domain")),
                "{name}"
            );
            assert!(attributes.contains(&"SameSite=Strict".to_owned()), "{name}");
            assert!(
                attributes.contains(&max_age(issued)),
                "{name}: {attributes:?}"
            );
            // Scripts read the CSRF cookie, never the token's.
            assert_eq!(
                attributes.contains(&"HttpOnly".to_owned()),
                i == 0,
                "{name}"
            );
        }
    }
    // Clearing keeps the attributes, or a `__Host-` cookie would not be replaced.
    let cleared = set_cookies(m.clear_cookies().into_response());
    let names: Vec<&str> = cleared.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "__Host-access_token",
            "__Host-csrf_access_token",
            "__Host-refresh_token",
            "__Host-csrf_refresh_token"
        ]
    );
    for (name, value, attributes) in &cleared {
        assert!(value.is_empty(), "{name}");
        for wanted in ["Secure", "Path=/", "Max-Age=0"] {
            assert!(
                attributes.contains(&wanted.to_owned()),
                "{name}: {attributes:?}"
            );
        }
        assert!(
            !attributes.iter().any(|a| a.starts_with("Domain")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn cookie_names_are_configurable_and_checked() {
    use axum::response::IntoResponse as _;
    let names = jwt_guard::CookieNames {
        access: "__Host-session".into(),
        csrf_access: "__Host-session_csrf".into(),
        ..jwt_guard::CookieNames::default()
    };
    let m = builder().cookie_names(names).build().unwrap();
    let issued = m.access_token("alice").sign().unwrap();
    let cookies = set_cookies(issued.cookies().into_response());
    assert_eq!(
        (cookies[0].0.as_str(), cookies[1].0.as_str()),
        ("__Host-session", "__Host-session_csrf")
    );
    let app = app(&m);
    let custom = format!("__Host-session={}", issued.as_str());
    send(&app, with_cookies("GET", "/c", &custom, None))
        .await
        .assert_ok("alice");
    let default = format!("__Host-access_token={}", issued.as_str());
    send(&app, with_cookies("GET", "/c", &default, None))
        .await
        .refused(AuthError::Missing, &[issued.as_str()]);

    for (names, needle) in [
        (
            jwt_guard::CookieNames {
                access: "my session".into(),
                ..jwt_guard::CookieNames::default()
            },
            "`access` is not a cookie name",
        ),
        (
            jwt_guard::CookieNames {
                refresh: "".into(),
                ..jwt_guard::CookieNames::default()
            },
            "`refresh` is not a cookie name",
        ),
        (
            jwt_guard::CookieNames {
                csrf_refresh: "__Host-access_token".into(),
                ..jwt_guard::CookieNames::default()
            },
            "`csrf_refresh` repeats the name `__Host-access_token`",
        ),
    ] {
        let err = builder().cookie_names(names).build().unwrap_err();
        assert_eq!(err.setting(), "cookie_names");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

#[tokio::test]
async fn two_token_cookies_are_a_bad_request() {
    let m = manager();
    let app = app(&m);
    let alice = m.access_token("alice").sign().unwrap();
    let mallory = m.access_token("mallory").sign().unwrap();
    for cookies in [
        format!(
            "__Host-access_token={}; __Host-access_token={}",
            alice.as_str(),
            mallory.as_str()
        ),
        format!(
            "__Host-access_token={0}; __Host-access_token={0}",
            alice.as_str()
        ),
    ] {
        send(&app, with_cookies("GET", "/c", &cookies, None))
            .await
            .refused(
                InvalidRequest::DuplicateCookie,
                &[alice.as_str(), mallory.as_str()],
            );
    }
    // Two `Cookie` headers are one cookie list (RFC 9113 §8.2.3).
    let request = Request::get("/c")
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", alice.as_str()),
        )
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", mallory.as_str()),
        )
        .body(Body::empty())
        .unwrap();
    send(&app, request).await.refused(
        InvalidRequest::DuplicateCookie,
        &[alice.as_str(), mallory.as_str()],
    );
    // A pair beyond ASCII is skipped, not the whole header; and a name that
    // only trims to the token's (a sibling domain's cookie, which a browser
    // never took for `__Host-`) is not the token's.
    let header = format!(
        "lang=fran\u{e7}ais; \u{2000}__Host-access_token={}; __Host-access_token={}",
        mallory.as_str(),
        alice.as_str()
    );
    let request = Request::get("/c")
        .header(
            header::COOKIE,
            axum::http::HeaderValue::from_bytes(header.as_bytes()).unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    send(&app, request).await.assert_ok("alice");
    let planted_only = format!("\u{2000}__Host-access_token={}", mallory.as_str());
    let request = Request::get("/c")
        .header(
            header::COOKIE,
            axum::http::HeaderValue::from_bytes(planted_only.as_bytes()).unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    send(&app, request)
        .await
        .refused(AuthError::Missing, &[mallory.as_str()]);
    // The control: one token cookie beside other cookies is read.
    let cookies = format!(
        "theme=dark; __Host-access_token={}; lang=en",
        alice.as_str()
    );
    send(&app, with_cookies("GET", "/c", &cookies, None))
        .await
        .assert_ok("alice");
}

#[tokio::test]
async fn a_refused_request_never_reads_the_body() {
    let m = manager();
    let reads = Reads::default();
    let app = Router::new()
        .route("/posts", post(create))
        .with_state(reads.clone())
        .layer(m.layer());
    let post =
        |token: Option<&str>| request(Method::POST, "/posts", token, Some(&json!({"title": "hi"})));
    send(&app, post(None))
        .await
        .refused(AuthError::Missing, &[]);
    send(&app, post(Some("!!!.e30.e30")))
        .await
        .refused(InvalidToken::Malformed, &[]);
    assert_eq!(reads.0.load(Ordering::SeqCst), 0);
    send(&app, post(Some(&access(&m, "alice"))))
        .await
        .assert_ok("hi");
    assert_eq!(reads.0.load(Ordering::SeqCst), 1);
}

/// A request carrying alice's cookie-borne token with its CSRF header, and
/// `headers` (`Host`, `Origin`, `Referer`, `Upgrade`) as given.
fn cookie_request(
    m: &TokenManager,
    method: &str,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (Request<Body>, String) {
    let issued = m.access_token("alice").sign().unwrap();
    let mut request = Request::builder().method(method).uri(uri).header(
        header::COOKIE,
        format!(
            "__Host-access_token={}; __Host-csrf_access_token={}",
            issued.as_str(),
            issued.jti()
        ),
    );
    request = request.header("x-csrf-token", issued.jti());
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    (request.body(Body::empty()).unwrap(), issued.into_string())
}

#[tokio::test]
async fn cookie_tokens_on_unsafe_methods_need_the_requests_own_origin() {
    use header::{HOST, ORIGIN, REFERER};
    let m = manager();
    let app = app(&m);
    let accepted: &[&[(header::HeaderName, &str)]] = &[
        &[(HOST, "api.test"), (ORIGIN, "https://api.test")],
        &[(HOST, "api.test:443"), (ORIGIN, "https://api.test")],
        &[(HOST, "api.test"), (ORIGIN, "https://api.test:443")],
        &[(HOST, "API.test:8443"), (ORIGIN, "https://api.test:8443")],
        // Plain HTTP on a loopback host: development.
        &[(HOST, "127.0.0.1:3000"), (ORIGIN, "http://127.0.0.1:3000")],
        &[(HOST, "localhost:3000"), (ORIGIN, "http://localhost:3000")],
        &[(HOST, "[::1]:3000"), (ORIGIN, "http://[::1]:3000")],
        &[(HOST, "[::1]"), (ORIGIN, "http://[::1]")],
        // Without `Origin`, the `Referer`'s origin.
        &[
            (HOST, "api.test"),
            (REFERER, "https://api.test/posts?page=2"),
        ],
    ];
    for headers in accepted {
        let (request, _) = cookie_request(&m, "POST", "/c", headers);
        send(&app, request).await.assert_ok("alice");
    }
    let refused: &[&[(header::HeaderName, &str)]] = &[
        &[(HOST, "api.test"), (ORIGIN, "https://evil.test")],
        &[(HOST, "api.test"), (ORIGIN, "https://api.test.evil.test")],
        &[(HOST, "api.test"), (ORIGIN, "https://api.test.")],
        &[(HOST, "api.test"), (ORIGIN, "https://api.test:8443")],
        &[(HOST, "api.test:8443"), (ORIGIN, "https://api.test")],
        // The same host over plain HTTP is another origin (port 80, and a
        // network attacker's page), but on loopback.
        &[(HOST, "api.test"), (ORIGIN, "http://api.test")],
        &[(HOST, "api.test:80"), (ORIGIN, "http://api.test")],
        &[(HOST, "api.test"), (ORIGIN, "null")],
        &[(HOST, "api.test"), (ORIGIN, "")],
        &[(HOST, "api.test"), (REFERER, "https://evil.test/api.test")],
        &[(HOST, "api.test"), (REFERER, "https://api.test@evil.test/")],
        &[(HOST, "api.test"), (REFERER, "/relative")],
        // `Origin` wins over `Referer`.
        &[
            (HOST, "api.test"),
            (ORIGIN, "https://evil.test"),
            (REFERER, "https://api.test/"),
        ],
        // Two `Origin` headers: no browser sends them.
        &[
            (HOST, "api.test"),
            (ORIGIN, "https://api.test"),
            (ORIGIN, "https://evil.test"),
        ],
        // Neither: every browser sends one of them on such a request.
        &[(HOST, "api.test")],
        &[(ORIGIN, "https://api.test")],
    ];
    for headers in refused {
        let (request, token) = cookie_request(&m, "POST", "/c", headers);
        send(&app, request)
            .await
            .refused(InvalidToken::Origin, &[&token]);
    }
    // Over HTTP/2 (or in absolute form) the host is the URI's authority,
    // whatever `Host` says.
    let app_any = Router::new()
        .route("/c", axum::routing::any(cookie_only))
        .layer(m.layer());
    let (request, _) = cookie_request(
        &m,
        "DELETE",
        "https://api.test/c",
        &[(ORIGIN, "https://api.test")],
    );
    send(&app_any, request).await.assert_ok("alice");
    let (request, token) = cookie_request(
        &m,
        "DELETE",
        "https://api.test/c",
        &[(HOST, "evil.test"), (ORIGIN, "https://evil.test")],
    );
    send(&app_any, request)
        .await
        .refused(InvalidToken::Origin, &[&token]);
    // Any method but the safe four, a custom one included.
    let (request, token) = cookie_request(
        &m,
        "PROPFIND",
        "/c",
        &[(HOST, "api.test"), (ORIGIN, "https://evil.test")],
    );
    send(&app_any, request)
        .await
        .refused(InvalidToken::Origin, &[&token]);
    // Safe methods need no origin.
    let (request, _) = cookie_request(&m, "GET", "/c", &[(ORIGIN, "https://evil.test")]);
    send(&app, request).await.assert_ok("alice");
    // The origin is checked before the CSRF header: a foreign page is told
    // so even without one.
    let issued = m.access_token("alice").sign().unwrap();
    let request = Request::post("/c")
        .header(HOST, "api.test")
        .header(ORIGIN, "https://evil.test")
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", issued.as_str()),
        )
        .body(Body::empty())
        .unwrap();
    send(&app, request)
        .await
        .refused(InvalidToken::Origin, &[issued.as_str()]);
}

#[tokio::test]
async fn header_and_query_tokens_need_no_origin() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    let header_borne = Request::post("/h")
        .header(header::HOST, "api.test")
        .header(header::ORIGIN, "https://evil.test")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(&app, header_borne).await.assert_ok("alice");
    let query_borne = Request::post(format!("/q?access_token={token}"))
        .header(header::HOST, "api.test")
        .header(header::ORIGIN, "https://evil.test")
        .body(Body::empty())
        .unwrap();
    send(&app, query_borne).await.assert_ok("alice");
}

#[tokio::test]
async fn a_websocket_upgrade_with_a_cookie_needs_an_allowed_origin() {
    use header::{HOST, ORIGIN, UPGRADE};
    let m = manager();
    let app = app(&m);
    for upgrade in ["websocket", "WebSocket", "h2c, websocket"] {
        let (request, token) = cookie_request(
            &m,
            "GET",
            "/c",
            &[
                (HOST, "api.test"),
                (ORIGIN, "https://evil.test"),
                (UPGRADE, upgrade),
            ],
        );
        send(&app, request)
            .await
            .refused(InvalidToken::Origin, &[&token]);
        let (request, _) = cookie_request(
            &m,
            "GET",
            "/c",
            &[
                (HOST, "api.test"),
                (ORIGIN, "https://api.test"),
                (UPGRADE, upgrade),
            ],
        );
        send(&app, request).await.assert_ok("alice");
    }
    // A HEAD that asks for the upgrade is checked as well.
    let app_any = Router::new()
        .route("/c", axum::routing::any(cookie_only))
        .layer(m.layer());
    let (request, token) = cookie_request(
        &m,
        "HEAD",
        "/c",
        &[
            (HOST, "api.test"),
            (ORIGIN, "https://evil.test"),
            (UPGRADE, "websocket"),
        ],
    );
    // (A HEAD answer has no body: its status and challenge tell.)
    let reply = send(&app_any, request).await;
    assert_eq!(reply.status, 401);
    let challenge = reply.challenge().unwrap();
    assert!(
        challenge.ends_with(
            r#"error_description="a cookie-borne token is not accepted from this origin""#
        ),
        "{challenge}"
    );
    reply.assert_no_leak(&[&token]);
    // Over HTTP/2 a WebSocket opens with CONNECT (RFC 8441): the origin is
    // checked, and no CSRF header is asked, which a browser's WebSocket
    // cannot send.
    let issued = m.access_token("alice").sign().unwrap();
    let connect = |origin: &str| {
        Request::builder()
            .method(Method::CONNECT)
            .uri("https://api.test/c")
            .header(header::ORIGIN, origin)
            .header(
                header::COOKIE,
                format!("__Host-access_token={}", issued.as_str()),
            )
            .body(Body::empty())
            .unwrap()
    };
    // (A 2xx answer to CONNECT has no body.)
    let reply = send(&app_any, connect("https://api.test")).await;
    assert_eq!(
        (reply.status.as_u16(), reply.ran()),
        (200, true),
        "{reply:?}"
    );
    send(&app_any, connect("https://evil.test"))
        .await
        .refused(InvalidToken::Origin, &[issued.as_str()]);
    // Another upgrade is a plain GET.
    let (request, _) = cookie_request(
        &m,
        "GET",
        "/c",
        &[
            (HOST, "api.test"),
            (ORIGIN, "https://evil.test"),
            (UPGRADE, "h2c"),
        ],
    );
    send(&app, request).await.assert_ok("alice");
}

#[tokio::test]
async fn allowed_origins_add_front_ends_of_other_hosts() {
    use header::{HOST, ORIGIN};
    let m = builder()
        .allowed_origins(["https://app.example.com", "HTTP://LOCALHOST:5173"])
        .allowed_origins(["https://admin.example.com:443", "http://[::1]:8080"])
        .build()
        .unwrap();
    let app = app(&m);
    for origin in [
        "https://app.example.com",
        "http://localhost:5173",
        "https://admin.example.com",
        "http://[::1]:8080",
        // The request's own origin stays allowed.
        "https://api.test",
    ] {
        let (request, _) = cookie_request(&m, "PUT", "/c", &[(HOST, "api.test"), (ORIGIN, origin)]);
        let app = Router::new()
            .route("/c", axum::routing::put(cookie_only))
            .layer(m.layer());
        send(&app, request).await.assert_ok("alice");
    }
    for origin in [
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://other.example.com",
        "http://localhost:5174",
    ] {
        let (request, token) =
            cookie_request(&m, "POST", "/c", &[(HOST, "api.test"), (ORIGIN, origin)]);
        send(&app, request)
            .await
            .refused(InvalidToken::Origin, &[&token]);
    }
}

#[test]
fn allowed_origins_are_checked_at_build() {
    for origin in [
        "https://app.example.com/",
        "https://app.example.com/login",
        "app.example.com",
        "*",
        "null",
        "ftp://app.example.com",
        "https://user@app.example.com",
        "https://app.example.com:port",
        "https://app.example.com:65536",
        "https://app.example.com:+80",
        "https://app.example.com:",
        "https://",
        "https://a:1:2",
        "https://]x[",
        "https://::1",
        "https://[::1",
        "https://[zz::1]",
        "https://[::1]x",
        "https://caf\u{e9}.example",
    ] {
        let err = builder().allowed_origins([origin]).build().unwrap_err();
        assert_eq!(err.setting(), "allowed_origins", "{origin}");
        assert!(
            err.to_string().contains("write `scheme://host[:port]`"),
            "{err}"
        );
    }
    let lookup = |origins: &'static str| {
        move |name: &str| match name {
            "JWT_GUARD_SECRET" => Some("a secret of at least thirty-two bytes!!".to_owned()),
            "JWT_GUARD_ALLOWED_ORIGINS" => Some(origins.to_owned()),
            _ => None,
        }
    };
    let err =
        jwt_guard::TokenManagerBuilder::from_env_with(lookup("https://a.test, https://b.test/"))
            .and_then(jwt_guard::TokenManagerBuilder::build)
            .unwrap_err();
    assert_eq!(err.setting(), "JWT_GUARD_ALLOWED_ORIGINS");
    let m = jwt_guard::TokenManagerBuilder::from_env_with(lookup("https://a.test, https://b.test"))
        .and_then(jwt_guard::TokenManagerBuilder::build)
        .unwrap();
    assert!(
        format!("{m:?}").contains(r#"allowed_origins: ["https://a.test", "https://b.test"]"#),
        "{m:?}"
    );
}
