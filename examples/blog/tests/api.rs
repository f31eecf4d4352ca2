//! End-to-end tests of the blog example, through its real router on an
//! in-memory SQLite database.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use jwt_guard::{AuthError, Forbidden, InvalidToken, TokenKind, TokenManager};
use jwt_guard_test_support::{Reply, TestClock, request, send};
use serde_json::json;

/// The realm of the test manager's challenges: it has no issuer.
const REALM: &str = "api";

struct Blog {
    app: Router,
}

impl Blog {
    async fn new() -> Self {
        let manager = example_blog::token_settings(
            TokenManager::builder()
                .hs256("the blog test secret, at least 32 bytes")
                .clock(TestClock::new()),
        )
        .build()
        .unwrap();
        let db = example_blog::open("sqlite::memory:").await.unwrap();
        Self {
            app: example_blog::router(db, &manager),
        }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        self.raw(request(method, uri, token, body.as_ref())).await
    }

    async fn raw(&self, request: Request<Body>) -> Reply {
        send(&self.app, request).await
    }

    async fn signup(&self, username: &str, password: &str) -> Reply {
        let body = json!({ "username": username, "password": password });
        self.send(Method::POST, "/signup", None, Some(body)).await
    }

    /// Logs in; returns (access, refresh).
    async fn login(&self, username: &str, password: &str) -> (String, String) {
        let body = json!({ "username": username, "password": password });
        let reply = self.send(Method::POST, "/login", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let json = reply.json();
        assert_eq!(json["token_type"], "Bearer");
        (
            json["access_token"].as_str().unwrap().to_owned(),
            json["refresh_token"].as_str().unwrap().to_owned(),
        )
    }
}

/// The JSON error body's `error` code.
fn error_code(reply: &Reply) -> String {
    reply.error().0
}

#[tokio::test]
async fn signup_login_post_refresh_fresh_action_logout() {
    let blog = Blog::new().await;
    let reply = blog.signup("alice", "correct-horse").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.json()["is_admin"],
        true,
        "the first account is the admin"
    );
    let reply = blog.signup("bob", "battery-staple").await;
    assert_eq!(
        (reply.status, &reply.json()["is_admin"]),
        (StatusCode::CREATED, &json!(false))
    );

    // Log in and write a post.
    let (access, refresh) = blog.login("bob", "battery-staple").await;
    let post = json!({ "title": "Hello", "body": "My first post" });
    let reply = blog
        .send(Method::POST, "/users/bob/posts", Some(&access), Some(post))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json()["author"], "bob");
    let id = reply.json()["id"].as_i64().unwrap();
    let reply = blog.send(Method::GET, "/posts", None, None).await;
    assert_eq!(reply.json()[0]["title"], "Hello");

    // Refresh: a new pair of the same family.
    let reply = blog
        .send(Method::POST, "/refresh", Some(&refresh), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let refreshed = reply.json()["access_token"].as_str().unwrap().to_owned();
    let next_refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    // An access token is no refresh token.
    blog.send(Method::POST, "/refresh", Some(&access), None)
        .await
        .assert_refused(
            REALM,
            InvalidToken::WrongKind {
                expected: TokenKind::Refresh,
            },
            &[&access],
        );

    // The refreshed token edits posts but is not fresh.
    let change = json!({ "title": "Hello again" });
    let reply = blog
        .send(
            Method::PUT,
            &format!("/users/bob/posts/{id}"),
            Some(&refreshed),
            Some(change),
        )
        .await;
    assert_eq!(
        (reply.status, &reply.json()["title"]),
        (StatusCode::OK, &json!("Hello again"))
    );
    let password = json!({ "new_password": "new-password-1" });
    blog.send(
        Method::PUT,
        "/users/bob/password",
        Some(&refreshed),
        Some(password.clone()),
    )
    .await
    .assert_refused(REALM, AuthError::NotFresh, &[&refreshed]);

    // The used refresh token works once: presenting it again is a reuse,
    // refused, and it revokes the whole login: the refresh token that
    // replaced it, the refreshed access token and the login's own.
    blog.send(Method::POST, "/refresh", Some(&refresh), None)
        .await
        .assert_refused(REALM, InvalidToken::Reused, &[&refresh]);
    blog.send(Method::POST, "/refresh", Some(&next_refresh), None)
        .await
        .assert_refused(REALM, InvalidToken::Revoked, &[&next_refresh]);
    for revoked in [&access, &refreshed] {
        blog.send(Method::GET, "/users/bob", Some(revoked), None)
            .await
            .assert_refused(REALM, InvalidToken::Revoked, &[revoked]);
    }

    // A fresh login may change it; every older token is then revoked.
    let (fresh, _) = blog.login("bob", "battery-staple").await;
    let reply = blog
        .send(
            Method::PUT,
            "/users/bob/password",
            Some(&fresh),
            Some(password),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    for old in [&access, &refreshed, &fresh] {
        blog.send(Method::GET, "/users/bob", Some(old), None)
            .await
            .assert_refused(REALM, InvalidToken::Revoked, &[old]);
    }
    let reply = blog
        .send(
            Method::POST,
            "/login",
            None,
            Some(json!({"username": "bob", "password": "battery-staple"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Log out: the token is refused afterwards.
    let (access, refresh) = blog.login("bob", "new-password-1").await;
    let reply = blog
        .send(Method::GET, "/users/bob", Some(&access), None)
        .await;
    assert_eq!(
        (reply.status, &reply.json()["posts"]),
        (StatusCode::OK, &json!(1))
    );
    let reply = blog
        .send(
            Method::POST,
            "/logout",
            Some(&access),
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    blog.send(Method::GET, "/users/bob", Some(&access), None)
        .await
        .assert_refused(REALM, InvalidToken::Revoked, &[&access]);
    blog.send(Method::POST, "/refresh", Some(&refresh), None)
        .await
        .assert_refused(REALM, InvalidToken::Revoked, &[&refresh]);
}

#[tokio::test]
async fn users_act_on_their_own_resources_and_admins_on_any() {
    let blog = Blog::new().await;
    blog.signup("alice", "correct-horse").await;
    blog.signup("bob", "battery-staple").await;
    blog.signup("carol", "carol-password").await;
    let (admin, _) = blog.login("alice", "correct-horse").await;
    let (bob, _) = blog.login("bob", "battery-staple").await;
    let (carol, _) = blog.login("carol", "carol-password").await;

    let post = json!({ "title": "Bob's", "body": "" });
    let reply = blog
        .send(
            Method::POST,
            "/users/bob/posts",
            Some(&bob),
            Some(post.clone()),
        )
        .await;
    let id = reply.json()["id"].as_i64().unwrap();

    // Carol may not write, edit or delete as bob.
    let not_bob = || Forbidden::PathMismatch {
        claim: "sub",
        param: "username",
    };
    blog.send(
        Method::POST,
        "/users/bob/posts",
        Some(&carol),
        Some(post.clone()),
    )
    .await
    .assert_refused(REALM, not_bob(), &[&carol]);
    let uri = format!("/users/bob/posts/{id}");
    blog.send(Method::DELETE, &uri, Some(&carol), None)
        .await
        .assert_refused(REALM, not_bob(), &[&carol]);
    // Nor reach bob's post through her own path.
    let reply = blog
        .send(
            Method::DELETE,
            &format!("/users/carol/posts/{id}"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    blog.send(Method::GET, "/users/bob", Some(&carol), None)
        .await
        .assert_refused(REALM, not_bob(), &[&carol]);
    blog.send(Method::GET, "/admin/users", Some(&carol), None)
        .await
        .assert_refused(
            REALM,
            Forbidden::Scope {
                missing: vec!["admin"],
            },
            &[&carol],
        );

    // The admin may do all of it.
    let reply = blog
        .send(Method::GET, "/admin/users", Some(&admin), None)
        .await;
    assert_eq!(reply.json().as_array().unwrap().len(), 3);
    let reply = blog
        .send(Method::GET, "/users/bob", Some(&admin), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = blog
        .send(Method::POST, "/users/bob/posts", Some(&admin), Some(post))
        .await;
    assert_eq!(
        (reply.status, &reply.json()["author"]),
        (StatusCode::CREATED, &json!("bob"))
    );
    let reply = blog.send(Method::DELETE, &uri, Some(&admin), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    // …but not change another user's password: that handler has no override.
    blog.send(
        Method::PUT,
        "/users/bob/password",
        Some(&admin),
        Some(json!({"new_password": "hijacked-1"})),
    )
    .await
    .assert_refused(REALM, not_bob(), &[&admin]);

    // Deleting an account needs a fresh token; the admin's login is fresh.
    let reply = blog
        .send(Method::DELETE, "/users/carol", Some(&admin), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    blog.send(Method::GET, "/users/carol", Some(&carol), None)
        .await
        .assert_refused(REALM, InvalidToken::Revoked, &[&carol]);
    let reply = blog
        .send(Method::DELETE, "/users/bob", Some(&bob), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = blog
        .send(Method::GET, "/admin/users", Some(&admin), None)
        .await;
    assert_eq!(reply.json().as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn oauth2_token_endpoint() {
    let blog = Blog::new().await;
    blog.signup("alice", "correct-horse").await;
    let form = |body: &'static str| {
        Request::post("/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let reply = blog
        .raw(form(
            "grant_type=password&username=alice&password=correct-horse",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let access = reply.json()["access_token"].as_str().unwrap().to_owned();
    let reply = blog
        .send(Method::GET, "/admin/users", Some(&access), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = blog
        .raw(form("username=alice&password=wrong-password"))
        .await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let reply = blog
        .raw(form(
            "grant_type=client_credentials&username=alice&password=correct-horse",
        ))
        .await;
    assert_eq!(error_code(&reply), "unsupported_grant_type");
    let reply = blog.raw(form("username=alice")).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_error() {
    let blog = Blog::new().await;
    for (username, password, message) in [
        ("al", "long-enough", "username must be"),
        ("Alice", "long-enough", "username must be"),
        ("alice", "short", "password must be"),
    ] {
        let reply = blog.signup(username, password).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&reply), "invalid_input");
        assert!(
            reply.json()["message"]
                .as_str()
                .unwrap()
                .starts_with(message)
        );
    }
    assert_eq!(
        blog.signup("alice", "correct-horse").await.status,
        StatusCode::CREATED
    );
    let reply = blog.signup("alice", "another-pass").await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (StatusCode::CONFLICT, "username_taken")
    );

    // Broken and missing bodies.
    let broken = Request::post("/signup")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"username\":"))
        .unwrap();
    let reply = blog.raw(broken).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    let untyped = Request::post("/signup").body(Body::from("{}")).unwrap();
    let reply = blog.raw(untyped).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = blog
        .send(
            Method::POST,
            "/signup",
            None,
            Some(json!({"username": "x"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&reply), "invalid_input");

    // Unknown users and wrong passwords look the same.
    for (username, password) in [("alice", "wrong-password"), ("nobody", "wrong-password")] {
        let body = json!({ "username": username, "password": password });
        let reply = blog.send(Method::POST, "/login", None, Some(body)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.json()["message"], "wrong username or password");
    }

    let (access, _) = blog.login("alice", "correct-horse").await;
    let reply = blog
        .send(
            Method::POST,
            "/users/alice/posts",
            Some(&access),
            Some(json!({"title": " ", "body": ""})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = blog.send(Method::GET, "/posts/999", None, None).await;
    assert_eq!(
        (reply.status, error_code(&reply).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let reply = blog.send(Method::GET, "/posts?page=0", None, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = blog.send(Method::GET, "/posts/abc", None, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // No token at all: the guard's 401, before any body is read.
    blog.send(Method::POST, "/users/alice/posts", None, Some(json!({})))
        .await
        .assert_refused(REALM, AuthError::Missing, &[]);
}

#[tokio::test]
async fn the_database_file_is_created_and_migrated_once() {
    let path = std::env::temp_dir().join(format!("jwt-guard-blog-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}", path.display());
    let db = example_blog::open(&url).await.unwrap();
    sqlx::query("INSERT INTO users (username, password_hash) VALUES ('x', 'y')")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    // Reopening keeps the data and does not migrate twice.
    let db = example_blog::open(&url).await.unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 1);
    db.close().await;
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn the_blog_publishes_its_public_keys() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/keys");
    let read = |name: &str| std::fs::read(format!("{keys}/{name}.pem")).unwrap();
    let manager = TokenManager::builder()
        .es256_pem(read("ec256-private"), read("ec256-public"))
        .key_id("blog-1")
        .clock(TestClock::new())
        .build()
        .unwrap();
    let db = example_blog::open("sqlite::memory:").await.unwrap();
    let app = example_blog::router(db, &manager);
    let reply = send(
        &app,
        request(Method::GET, "/.well-known/jwks.json", None, None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/jwk-set+json"
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "public, max-age=300");
    let jwks = reply.json();
    assert_eq!(jwks["keys"][0]["kid"], "blog-1");
    assert_eq!(jwks["keys"][0]["crv"], "P-256");

    // With the HMAC secret of the default set-up, nothing is published.
    let blog = Blog::new().await;
    let reply = blog
        .send(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(reply.json(), json!({ "keys": [] }));
}

#[tokio::test]
async fn the_api_is_documented_at_openapi_json_with_swagger_ui_at_docs() {
    let blog = Blog::new().await;
    let reply = blog.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    // Every route of the API is documented.
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort_unstable();
    assert_eq!(
        documented,
        [
            "DELETE /session",
            "DELETE /users/{username}",
            "DELETE /users/{username}/posts/{id}",
            "GET /admin/users",
            "GET /live",
            "GET /posts",
            "GET /posts/{id}",
            "GET /session",
            "GET /users/{username}",
            "POST /login",
            "POST /logout",
            "POST /refresh",
            "POST /session",
            "POST /session/refresh",
            "POST /signup",
            "POST /token",
            "POST /users/{username}/posts",
            "PUT /users/{username}/password",
            "PUT /users/{username}/posts/{id}",
        ]
    );
    // Guarded routes carry what their attribute enforces; open ones nothing.
    let create = &doc["paths"]["/users/{username}/posts"]["post"];
    assert_eq!(
        create["security"],
        json!([{ "bearer": [] }, { "oauth2": [] }])
    );
    let forbidden = create["responses"]["403"]["description"].as_str().unwrap();
    assert!(
        forbidden.contains("`sub` equal to the `username` path parameter"),
        "{forbidden}"
    );
    assert!(create["responses"]["401"].is_object());
    assert!(doc["paths"]["/posts"]["get"].get("security").is_none());
    assert_eq!(
        doc["paths"]["/live"]["get"]["security"],
        json!([{ "cookie": [] }, { "query": [] }])
    );
    // Swagger UI's Authorize button logs in through `/token`.
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/token");

    // Swagger UI, from the files the crate ships.
    let reply = blog.send(Method::GET, "/docs", None, None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/docs/");
    let reply = blog.send(Method::GET, "/docs/", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains(r#"<div id="swagger-ui"></div>"#));
    // It shares the page's origin, and so its cookies: its own scripts only.
    let policy = reply.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let reply = blog
        .send(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert!(
        reply.text.contains(r#""url": "/openapi.json""#),
        "{}",
        reply.text
    );
    let reply = blog
        .send(Method::GET, "/docs/swagger-ui-bundle.js", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.len() > 100_000);
}
