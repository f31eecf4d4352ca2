//! Every form of the attribute: its success and its refusal.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};
use serde::Deserialize;
use serde_json::json;

use crate::common::*;

#[require_token(refresh)]
async fn refresh(token: Token) -> String {
    format!("{} {}", token.sub(), token.kind())
}

#[require_token(fresh)]
async fn fresh(token: Token) -> String {
    format!("fresh {}", token.is_fresh())
}

#[require_token(optional)]
async fn optional(token: Option<Token>) -> String {
    token.map_or_else(|| "anonymous".to_owned(), |t| t.sub().to_owned())
}

#[require_token(sub = "username")]
async fn by_sub(Path(username): Path<String>) -> String {
    format!("profile of {username}")
}

#[derive(Deserialize)]
struct PostPath {
    username: String,
    id: u32,
}

#[require_token(sub = "username")]
async fn by_sub_struct(Path(path): Path<PostPath>) -> String {
    format!("post {} of {}", path.id, path.username)
}

#[require_token(path(org = "org_id", sub = "user"))]
async fn by_path(Path((org_id, user)): Path<(String, String)>) -> String {
    format!("{user}@{org_id}")
}

#[require_token(scope(admin = true))]
async fn scope_map() -> &'static str {
    "admin"
}

#[require_token(scope(level = 3, team = "core"))]
async fn scope_values() -> &'static str {
    "level 3 core"
}

#[require_token(scope("posts:read", "posts:write"))]
async fn scope_strings() -> &'static str {
    "writer"
}

#[require_token(claims(tenant = "acme"))]
async fn claims() -> &'static str {
    "acme"
}

#[require_token(sub = "username", override(admin = true))]
async fn overridable(Path(username): Path<String>, token: Token) -> String {
    format!("{} acts on {username}", token.sub())
}

#[require_token(scope("posts:write"), override(role = "root"))]
async fn scope_override() -> &'static str {
    "written"
}

pub fn app(manager: &TokenManager) -> Router {
    Router::new()
        // The bare form, `#[require_token]`, is the shared `me`.
        .route("/bare", get(me))
        .route("/refresh", get(refresh))
        .route("/fresh", get(fresh))
        .route("/optional", get(optional))
        .route("/users/{username}", get(by_sub))
        .route("/users/{username}/posts/{id}", get(by_sub_struct))
        .route("/orgs/{org_id}/users/{user}", get(by_path))
        .route("/admin", get(scope_map))
        .route("/values", get(scope_values))
        .route("/write", get(scope_strings))
        .route("/tenant", get(claims))
        .route("/act/{username}", get(overridable))
        .route("/root-write", get(scope_override))
        .layer(manager.layer())
}

const FORBIDDEN: &str = r#"Bearer realm="test", error="insufficient_scope""#;

fn forbidden(description: &str) -> String {
    format!(r#"{FORBIDDEN}, error_description="{description}""#)
}

// The bare form accepting an access token is
// `algorithms::every_family_round_trips`: the same `me` handler, the same HS256
// manager, the same answer, and every other algorithm family besides.

#[tokio::test]
async fn refresh_accepts_only_refresh_tokens() {
    let m = manager();
    let app = app(&m);
    let refresh = m.refresh_token("alice").sign().unwrap();
    let reply = get_with(&app, "/refresh", refresh.as_str()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "alice refresh")
    );

    let token = access(&m, "alice");
    let reply = get_with(&app, "/refresh", &token).await;
    reply.assert_refused(
        401,
        &invalid_token("access token used where a refresh token is required"),
        Some(&token),
    );
    let reply = get_with(&app, "/bare", refresh.as_str()).await;
    reply.assert_refused(
        401,
        &invalid_token("refresh token used where an access token is required"),
        Some(refresh.as_str()),
    );
}

#[tokio::test]
async fn fresh_requires_a_fresh_access_token() {
    let m = manager();
    let app = app(&m);
    let fresh = m.access_token("alice").fresh(true).sign().unwrap();
    let reply = get_with(&app, "/fresh", fresh.as_str()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "fresh true")
    );

    let stale = access(&m, "alice");
    let reply = get_with(&app, "/fresh", &stale).await;
    reply.assert_refused(
        401,
        r#"Bearer realm="test", error="insufficient_user_authentication", error_description="fresh token required""#,
        Some(&stale),
    );
    assert_eq!(reply.error().0, "insufficient_user_authentication");
}

#[tokio::test]
async fn optional_runs_without_a_token_but_refuses_a_bad_one() {
    let m = manager();
    let app = app(&m);
    let reply = send(&app, req("/optional", None)).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "anonymous")
    );
    let reply = get_with(&app, "/optional", &access(&m, "bob")).await;
    assert_eq!((reply.status.as_u16(), reply.text.as_str()), (200, "bob"));

    let mut bad = access(&m, "bob");
    bad.push('x');
    let reply = get_with(&app, "/optional", &bad).await;
    reply.assert_refused(
        401,
        &invalid_token("token signature is invalid"),
        Some(&bad),
    );
}

#[tokio::test]
async fn sub_must_equal_the_path_parameter() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    let reply = get_with(&app, "/users/alice", &token).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "profile of alice")
    );

    let reply = get_with(&app, "/users/bob", &token).await;
    reply.assert_refused(
        403,
        &forbidden("token `sub` does not match the `username` path parameter"),
        Some(&token),
    );
    // Percent-decoding happens before the comparison, and case matters.
    let reply = get_with(&app, "/users/%61lice", &token).await;
    assert_eq!(reply.status, 200);
    let reply = get_with(&app, "/users/Alice", &token).await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn sub_may_name_a_field_of_a_path_struct() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    let reply = get_with(&app, "/users/alice/posts/7", &token).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "post 7 of alice")
    );
    let reply = get_with(&app, "/users/bob/posts/7", &token).await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn path_matches_any_claim() {
    let m = manager();
    let app = app(&m);
    let token = m.access_token("alice").claim("org", "acme").sign().unwrap();
    let reply = get_with(&app, "/orgs/acme/users/alice", token.as_str()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "alice@acme")
    );
    let reply = get_with(&app, "/orgs/other/users/alice", token.as_str()).await;
    reply.assert_refused(
        403,
        &forbidden("token `org` does not match the `org_id` path parameter"),
        Some(token.as_str()),
    );
    // A numeric claim matches its canonical decimal form only.
    let numeric = m.access_token("alice").claim("org", 42).sign().unwrap();
    let reply = get_with(&app, "/orgs/42/users/alice", numeric.as_str()).await;
    assert_eq!(reply.status, 200);
    let reply = get_with(&app, "/orgs/042/users/alice", numeric.as_str()).await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn scope_map_must_hold_the_values() {
    let m = manager();
    let app = app(&m);
    let admin = m
        .access_token("a")
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    assert_eq!(get_with(&app, "/admin", admin.as_str()).await.status, 200);

    for scope in [
        json!({"admin": false}),
        json!({"admin": "true"}),
        json!({"admin": 1}),
        json!({}),
    ] {
        let token = m.access_token("a").scope(scope).sign().unwrap();
        let reply = get_with(&app, "/admin", token.as_str()).await;
        reply.assert_refused(
            403,
            &format!(
                "{}, scope=\"admin\"",
                forbidden("token scope lacks `admin`")
            ),
            Some(token.as_str()),
        );
    }
    let none = access(&m, "a");
    assert_eq!(get_with(&app, "/admin", &none).await.status, 403);

    let values = m
        .access_token("a")
        .scope(json!({"level": 3, "team": "core"}))
        .sign()
        .unwrap();
    assert_eq!(get_with(&app, "/values", values.as_str()).await.status, 200);
    // 3.0 is the number 3 (RFC 8259 §6); 3.5 is not.
    let same = m
        .access_token("a")
        .scope(json!({"level": 3.0, "team": "core"}))
        .sign()
        .unwrap();
    assert_eq!(get_with(&app, "/values", same.as_str()).await.status, 200);
    let wrong = m
        .access_token("a")
        .scope(json!({"level": 3.5, "team": "core"}))
        .sign()
        .unwrap();
    let reply = get_with(&app, "/values", wrong.as_str()).await;
    assert_eq!(reply.status, 403);
    assert!(reply.challenge().unwrap().ends_with("scope=\"level\""));
}

#[tokio::test]
async fn scope_string_must_hold_every_entry() {
    let m = manager();
    let app = app(&m);
    let writer = m
        .access_token("a")
        .scope("posts:read posts:write")
        .sign()
        .unwrap();
    assert_eq!(get_with(&app, "/write", writer.as_str()).await.status, 200);

    let reader = m.access_token("a").scope("posts:read").sign().unwrap();
    let reply = get_with(&app, "/write", reader.as_str()).await;
    reply.assert_refused(
        403,
        &format!(
            "{}, scope=\"posts:write\"",
            forbidden("token scope lacks `posts:write`")
        ),
        Some(reader.as_str()),
    );
    assert_eq!(reply.json()["error"], "insufficient_scope");
}

#[tokio::test]
async fn claims_must_equal_the_literals() {
    let m = manager();
    let app = app(&m);
    let acme = m.access_token("a").claim("tenant", "acme").sign().unwrap();
    assert_eq!(get_with(&app, "/tenant", acme.as_str()).await.status, 200);
    for other in [json!("globex"), json!(["acme"]), json!(null)] {
        let token = m.access_token("a").claim("tenant", other).sign().unwrap();
        let reply = get_with(&app, "/tenant", token.as_str()).await;
        reply.assert_refused(
            403,
            &forbidden("token claim `tenant` does not have the required value"),
            Some(token.as_str()),
        );
    }
    let missing = access(&m, "a");
    assert_eq!(get_with(&app, "/tenant", &missing).await.status, 403);
}

#[tokio::test]
async fn override_skips_the_requirement_but_not_validity() {
    let m = manager();
    let app = app(&m);
    let admin = m
        .access_token("root")
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    let reply = get_with(&app, "/act/alice", admin.as_str()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.text.as_str()),
        (200, "root acts on alice")
    );

    let alice = access(&m, "alice");
    assert_eq!(get_with(&app, "/act/alice", &alice).await.status, 200);
    assert_eq!(get_with(&app, "/act/bob", &alice).await.status, 403);

    // Found among top-level claims when the scope map lacks it.
    let claim = m.access_token("x").claim("role", "root").sign().unwrap();
    assert_eq!(
        get_with(&app, "/root-write", claim.as_str()).await.status,
        200
    );

    // An override never rescues an invalid token: a refresh token is refused.
    let refresh = m
        .refresh_token("root")
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    let reply = get_with(&app, "/act/alice", refresh.as_str()).await;
    assert_eq!(reply.status, 401);
}
