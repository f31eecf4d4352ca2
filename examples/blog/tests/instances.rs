//! Two blog instances behind one load balancer, sharing one SQLite file and
//! one real `redis-server` (started on a free port of 127.0.0.1), driven
//! over HTTP: a logout on one instance is refused on the other, and so is
//! a refresh token reused on the other. Each instance is configured as the
//! binary is, from `JWT_GUARD_*` settings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jwt_guard::TokenManagerBuilder;
use jwt_guard_test_support::RedisServer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET: &str = "the blog instances' shared secret, 32+ bytes";

/// Starts an instance on a free port: the router of `main.rs`, with the
/// token settings it reads from the environment.
async fn instance(database: &str, redis: &str) -> SocketAddr {
    let env = |name: &str| match name {
        "JWT_GUARD_SECRET" => Some(SECRET.to_owned()),
        "JWT_GUARD_REDIS_URL" => Some(redis.to_owned()),
        _ => None,
    };
    let builder = TokenManagerBuilder::from_env_with(env).unwrap();
    let manager = example_blog::token_settings(builder).build().unwrap();
    let db = example_blog::open(database).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = example_blog::router(db, &manager);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A reply: status, `WWW-Authenticate` (if any) and the JSON body (or
/// `Null`).
#[derive(Debug)]
struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Value,
}

/// One HTTP/1.1 request on a connection of its own.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request += &format!("Authorization: Bearer {token}\r\n");
    }
    if !body.is_empty() {
        request += "Content-Type: application/json\r\n";
    }
    request += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let challenge = lines
        .filter_map(|line| line.split_once(": "))
        .find(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, value)| value.to_owned());
    Reply {
        status,
        challenge,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Waits until `addr` answers `path` with `status`, for at most 10 s: far
/// above the replica's staleness bound, so only a lost revocation fails.
async fn until_status(addr: SocketAddr, path: &str, token: &str, status: u16) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = http(addr, "GET", path, Some(token), None).await;
        if reply.status == status {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never answered {status}: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn tokens(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 200, "{reply:?}");
    (
        reply.body["access_token"].as_str().unwrap().to_owned(),
        reply.body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

const REVOKED: &str =
    r#"Bearer realm="api", error="invalid_token", error_description="token has been revoked""#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_refused_on_the_other() {
    let redis = RedisServer::start();
    let dir = std::env::temp_dir().join(format!("jwt-guard-blog-instances-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let database = format!("sqlite://{}", dir.join("blog.db").display());
    let a = instance(&database, &redis.url()).await;
    let b = instance(&database, &redis.url()).await;

    let credentials = json!({ "username": "bob", "password": "battery-staple" });
    assert_eq!(
        http(a, "POST", "/signup", None, Some(credentials.clone()))
            .await
            .status,
        201
    );
    // Logged in on B, served by both (each once its replica is loaded).
    let (access, refresh) =
        tokens(&http(b, "POST", "/login", None, Some(credentials.clone())).await);
    for addr in [a, b] {
        until_status(addr, "/users/bob", &access, 200).await;
    }

    // Log out on A: B refuses the access token (its replica learns it)
    // and the refresh token (checked in Redis).
    let logout = json!({ "refresh_token": refresh });
    assert_eq!(
        http(a, "POST", "/logout", Some(&access), Some(logout))
            .await
            .status,
        204
    );
    let reply = until_status(b, "/users/bob", &access, 401).await;
    assert_eq!(reply.challenge.as_deref(), Some(REVOKED));
    assert_eq!(
        reply.body,
        json!({ "error": "invalid_token", "message": "token has been revoked" })
    );
    let reply = http(b, "POST", "/refresh", Some(&refresh), None).await;
    assert_eq!(
        (reply.status, reply.challenge.as_deref()),
        (401, Some(REVOKED))
    );

    // A refresh on A, then the spent refresh token replayed on B: refused
    // as a reuse, and the whole login is revoked on both instances.
    let (access, refresh) = tokens(&http(a, "POST", "/login", None, Some(credentials)).await);
    let (refreshed, next) = tokens(&http(a, "POST", "/refresh", Some(&refresh), None).await);
    let reply = http(b, "POST", "/refresh", Some(&refresh), None).await;
    assert_eq!(
        (reply.status, reply.body["message"].as_str()),
        (401, Some("refresh token was already used"))
    );
    let reply = http(a, "POST", "/refresh", Some(&next), None).await;
    assert_eq!(
        (reply.status, reply.challenge.as_deref()),
        (401, Some(REVOKED))
    );
    for token in [&access, &refreshed] {
        until_status(a, "/users/bob", token, 401).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
