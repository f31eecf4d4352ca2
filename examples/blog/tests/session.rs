//! The page's side of the blog over plain HTTP: the cookie session (log in,
//! write with the CSRF header, refresh, log out), the origin check on
//! cookie-borne tokens, and the live WebSocket with a cookie or a query
//! token, on a server listening on 127.0.0.1.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::StreamExt as _;
use jwt_guard::{AuthError, InvalidToken, TokenManager};
use jwt_guard_test_support::{Reply, send};

mod common;
use common::serve;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{self, Message};

const REALM: &str = "api";
const HOST: &str = "blog.test";
const ORIGIN: &str = "https://blog.test";

async fn blog(access_ttl: Duration) -> (Router, TokenManager) {
    let manager = example_blog::token_settings(
        TokenManager::builder()
            .hs256("the blog test secret, at least 32 bytes")
            .access_ttl(access_ttl),
    )
    .build()
    .unwrap();
    let db = example_blog::open("sqlite::memory:").await.unwrap();
    (example_blog::router(db, &manager), manager)
}

/// A browser's cookie jar, as far as these tests need one.
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    /// Takes in the `Set-Cookie` headers of a reply: set, or cleared by
    /// `Max-Age=0`.
    fn store(&mut self, reply: &Reply) {
        for value in reply.headers.get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, cookie) = pair.split_once('=').unwrap();
            self.0.retain(|(n, _)| n != name);
            if !attributes.contains("Max-Age=0") {
                self.0.push((name.to_owned(), cookie.to_owned()));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<_> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names
    }
}

/// A request as the page's script sends it: the jar's cookies, the CSRF
/// header from the CSRF cookie of `kind` (`access` or `refresh`), and the
/// browser's `Host` and `Origin`.
fn from_page(
    method: Method,
    uri: &str,
    jar: &Jar,
    kind: &str,
    origin: &str,
    body: Option<Value>,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, origin)
        .header(header::COOKIE, jar.header());
    if let Some(csrf) = jar.get(&format!("__Host-csrf_{kind}_token")) {
        request = request.header("x-csrf-token", csrf);
    }
    match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap()
}

/// The page's request that writes `post` as alice.
fn alice_writes(jar: &Jar, origin: &str, post: Value) -> Request<Body> {
    from_page(
        Method::POST,
        "/users/alice/posts",
        jar,
        "access",
        origin,
        Some(post),
    )
}

async fn sign_up_and_log_in(app: &Router, username: &str) -> Jar {
    let credentials = json!({ "username": username, "password": "correct-horse" });
    let signup = Request::post("/signup")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(credentials.to_string()))
        .unwrap();
    assert_eq!(send(app, signup).await.status, StatusCode::CREATED);
    let mut jar = Jar::default();
    let reply = send(
        app,
        from_page(
            Method::POST,
            "/session",
            &jar,
            "access",
            ORIGIN,
            Some(credentials),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["username"], username);
    jar.store(&reply);
    jar
}

#[tokio::test]
async fn the_pages_cookie_session_logs_in_writes_refreshes_and_logs_out() {
    let (app, _) = blog(Duration::from_secs(900)).await;
    let mut jar = sign_up_and_log_in(&app, "alice").await;
    assert_eq!(
        jar.names(),
        [
            "__Host-access_token",
            "__Host-csrf_access_token",
            "__Host-csrf_refresh_token",
            "__Host-refresh_token"
        ]
    );
    let who = send(
        &app,
        from_page(Method::GET, "/session", &jar, "access", ORIGIN, None),
    )
    .await;
    assert_eq!(who.json(), json!({ "username": "alice" }));

    // A post, with the CSRF header from the CSRF cookie.
    let post = json!({ "title": "From the page", "body": "cookies" });
    let reply = send(&app, alice_writes(&jar, ORIGIN, post.clone())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    // Without the CSRF header, refused.
    let mut no_csrf = alice_writes(&jar, ORIGIN, post.clone());
    no_csrf.headers_mut().remove("x-csrf-token");
    let token = jar.get("__Host-access_token").unwrap().to_owned();
    send(&app, no_csrf)
        .await
        .assert_refused(REALM, InvalidToken::Csrf, &[&token]);
    // From another origin, refused even with the CSRF value.
    send(&app, alice_writes(&jar, "https://blog.test:8080", post))
        .await
        .assert_refused(REALM, InvalidToken::Origin, &[&token]);
    assert_eq!(common::post_titles(&app, "alice").await, ["From the page"]);

    // Refresh: new cookies, the old refresh token used up.
    let old_refresh = jar.get("__Host-refresh_token").unwrap().to_owned();
    let reply = send(
        &app,
        from_page(
            Method::POST,
            "/session/refresh",
            &jar,
            "refresh",
            ORIGIN,
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    jar.store(&reply);
    assert_ne!(jar.get("__Host-refresh_token").unwrap(), old_refresh);
    assert_ne!(jar.get("__Host-access_token").unwrap(), token);
    // The access token's CSRF value does not stand for the refresh token's.
    let mut crossed = jar.clone();
    let access_csrf = crossed.get("__Host-csrf_access_token").unwrap().to_owned();
    crossed.0.retain(|(n, _)| n != "__Host-csrf_refresh_token");
    crossed
        .0
        .push(("__Host-csrf_refresh_token".into(), access_csrf));
    let refresh_token = crossed.get("__Host-refresh_token").unwrap().to_owned();
    send(
        &app,
        from_page(
            Method::POST,
            "/session/refresh",
            &crossed,
            "refresh",
            ORIGIN,
            None,
        ),
    )
    .await
    .assert_refused(REALM, InvalidToken::Csrf, &[&refresh_token]);

    // Log out: cookies cleared, the login's tokens revoked.
    let before = jar.clone();
    let reply = send(
        &app,
        from_page(Method::DELETE, "/session", &jar, "access", ORIGIN, None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    jar.store(&reply);
    assert!(jar.names().is_empty(), "{:?}", jar.names());
    let refreshed_access = before.get("__Host-access_token").unwrap().to_owned();
    send(
        &app,
        from_page(Method::GET, "/session", &before, "access", ORIGIN, None),
    )
    .await
    .assert_refused(REALM, InvalidToken::Revoked, &[&refreshed_access]);
    let spent_refresh = before.get("__Host-refresh_token").unwrap().to_owned();
    send(
        &app,
        from_page(
            Method::POST,
            "/session/refresh",
            &before,
            "refresh",
            ORIGIN,
            None,
        ),
    )
    .await
    .assert_refused(REALM, InvalidToken::Revoked, &[&spent_refresh]);
    send(
        &app,
        from_page(Method::GET, "/session", &jar, "access", ORIGIN, None),
    )
    .await
    .assert_refused(REALM, AuthError::Missing, &[]);
}

#[tokio::test]
async fn the_page_is_served_with_its_script_and_policy() {
    let (app, _) = blog(Duration::from_secs(900)).await;
    let page = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(page.text.contains(r#"<script src="/app.js"></script>"#));
    let script = send(&app, Request::get("/app.js").body(Body::empty()).unwrap()).await;
    assert_eq!(
        script.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(script.text.contains("X-CSRF-Token"));
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/live{query}` with `headers`; the refusal's status and
/// `WWW-Authenticate` when the handshake is refused (its body may arrive
/// after the client stops reading).
async fn open(
    addr: SocketAddr,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, (StatusCode, String)> {
    let mut request = format!("ws://{addr}/live{query}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            Err((status, challenge.to_owned()))
        }
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// The next text message, within ten seconds.
async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("no message within ten seconds")
            .expect("the socket closed")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn the_live_feed_takes_a_cookie_from_the_page_or_a_query_token() {
    let (app, manager) = blog(Duration::from_secs(900)).await;
    let jar = sign_up_and_log_in(&app, "alice").await;
    let addr = serve(app.clone()).await;
    let own_origin = format!("http://{addr}");

    // The page: its cookie, from its own origin.
    let mut page = open(
        addr,
        "",
        &[("cookie", &jar.header()), ("origin", &own_origin)],
    )
    .await
    .expect("the page's socket is accepted");
    // Another client: the access token in the query string, no Origin.
    let token = manager.access_token("bob").sign().unwrap();
    let mut client = open(addr, &format!("?access_token={}", token.as_str()), &[])
        .await
        .expect("the query token's socket is accepted");

    let post = json!({ "title": "Live", "body": "now" });
    let reply = send(&app, alice_writes(&jar, ORIGIN, post)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    for socket in [&mut page, &mut client] {
        let post = next_text(socket).await;
        assert_eq!(
            (&post["author"], &post["title"]),
            (&json!("alice"), &json!("Live"))
        );
    }
    page.close(None).await.unwrap();
    client.close(None).await.unwrap();
}

#[tokio::test]
async fn the_live_feed_refuses_no_token_and_a_foreign_origin() {
    let (app, _) = blog(Duration::from_secs(900)).await;
    let jar = sign_up_and_log_in(&app, "alice").await;
    let addr = serve(app).await;

    let refused = open(addr, "", &[]).await.expect_err("refused");
    assert_eq!(
        refused,
        (
            StatusCode::UNAUTHORIZED,
            format!(r#"Bearer realm="{REALM}""#)
        )
    );
    // The page's cookie, sent by a page of another origin (a WebSocket is
    // not bound by CORS: the server must check).
    for origin in ["http://127.0.0.1:1", "http://evil.test"] {
        let refused = open(addr, "", &[("cookie", &jar.header()), ("origin", origin)])
            .await
            .expect_err("refused");
        assert_eq!(
            refused,
            (
                StatusCode::UNAUTHORIZED,
                format!(
                    r#"Bearer realm="{REALM}", error="invalid_token", error_description="a cookie-borne token is not accepted from this origin""#
                )
            )
        );
    }
    // A cookie without any Origin: no browser opens a socket that way.
    let (status, challenge) = open(addr, "", &[("cookie", &jar.header())])
        .await
        .expect_err("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains("a cookie-borne token is not accepted from this origin"),
        "{challenge}"
    );
    // A forged query token.
    let (status, challenge) = open(addr, "?access_token=e30.e30.e30", &[])
        .await
        .expect_err("refused");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn the_live_feed_closes_when_its_token_expires() {
    let (app, manager) = blog(Duration::from_secs(1)).await;
    let addr = serve(app).await;
    let token = manager.access_token("alice").sign().unwrap();
    let mut socket = open(addr, &format!("?access_token={}", token.as_str()), &[])
        .await
        .expect("accepted");
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("closed within ten seconds")
        .expect("a close frame")
        .unwrap();
    let Message::Close(Some(frame)) = message else {
        panic!("expected a close frame, got {message:?}");
    };
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1008, "token expired")
    );
}
