//! Every form of the attribute: its success and its refusal.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::{
    AuthError, Forbidden, InvalidToken, Token, TokenKind, TokenManager, require_token,
};
use serde::Deserialize;
use serde_json::json;

use crate::common::*;

#[require_token(refresh)]
async fn refresh(token: Token) -> Ran<String> {
    Ran(format!("{} {}", token.sub(), token.kind()))
}

#[require_token(fresh)]
async fn fresh(token: Token) -> Ran<String> {
    Ran(format!("fresh {}", token.is_fresh()))
}

#[require_token(optional)]
async fn optional(token: Option<Token>) -> Ran<String> {
    Ran(token.map_or_else(|| "anonymous".to_owned(), |t| t.sub().to_owned()))
}

#[require_token(sub = "username")]
async fn by_sub(Path(username): Path<String>) -> Ran<String> {
    Ran(format!("profile of {username}"))
}

#[derive(Deserialize)]
struct PostPath {
    username: String,
    id: u32,
}

#[require_token(sub = "username")]
async fn by_sub_struct(Path(path): Path<PostPath>) -> Ran<String> {
    Ran(format!("post {} of {}", path.id, path.username))
}

#[require_token(path(org = "org_id", sub = "user"))]
async fn by_path(Path((org_id, user)): Path<(String, String)>) -> Ran<String> {
    Ran(format!("{user}@{org_id}"))
}

#[require_token(scope(admin = true))]
async fn scope_map() -> Ran<&'static str> {
    Ran("admin")
}

#[require_token(scope(level = 3, team = "core"))]
async fn scope_values() -> Ran<&'static str> {
    Ran("level 3 core")
}

#[require_token(scope("posts:read", "posts:write"))]
async fn scope_strings() -> Ran<&'static str> {
    Ran("writer")
}

#[require_token(claims(tenant = "acme"))]
async fn claims() -> Ran<&'static str> {
    Ran("acme")
}

#[require_token(sub = "username", override(admin = true))]
async fn overridable(Path(username): Path<String>, token: Token) -> Ran<String> {
    Ran(format!("{} acts on {username}", token.sub()))
}

#[require_token(scope("posts:write"), override(role = "root"))]
async fn scope_override() -> Ran<&'static str> {
    Ran("written")
}

#[require_token(claims(level = 3, verified = true))]
async fn typed_claims() -> Ran<&'static str> {
    Ran("level 3, verified")
}

#[require_token(fresh, sub = "username", override(admin = true))]
async fn fresh_override(Path(username): Path<String>) -> Ran<String> {
    Ran(format!("fresh act on {username}"))
}

#[require_token(sub = "username", override(admin = true, team = "core"))]
async fn team_override(Path(username): Path<String>) -> Ran<String> {
    Ran(format!("team act on {username}"))
}

#[require_token(path(org = "org"), claims(tenant = "acme"), override(admin = true))]
async fn billing(Path(org): Path<String>) -> Ran<String> {
    Ran(format!("billing of {org}"))
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
        .route("/typed", get(typed_claims))
        .route("/act/{username}", get(overridable))
        .route("/fresh-act/{username}", get(fresh_override))
        .route("/team-act/{username}", get(team_override))
        .route("/orgs/{org}/billing", get(billing))
        .route("/root-write", get(scope_override))
        .layer(manager.layer())
}

fn path_mismatch(claim: &'static str, param: &'static str) -> Forbidden {
    Forbidden::PathMismatch { claim, param }
}

fn scope_lacks(missing: &[&'static str]) -> Forbidden {
    Forbidden::Scope {
        missing: missing.to_vec(),
    }
}

// The bare form accepting an access token is
// `algorithms::every_family_round_trips`: the same `me` handler, the same HS256
// manager, the same answer, and every other algorithm family besides.

#[tokio::test]
async fn refresh_accepts_only_refresh_tokens() {
    let m = manager();
    let app = app(&m);
    let refresh = m.refresh_token("alice").sign().unwrap();
    get_with(&app, "/refresh", refresh.as_str())
        .await
        .assert_ok("alice refresh");

    let token = access(&m, "alice");
    get_with(&app, "/refresh", &token).await.refused(
        InvalidToken::WrongKind {
            expected: TokenKind::Refresh,
        },
        &[&token],
    );
    get_with(&app, "/bare", refresh.as_str()).await.refused(
        InvalidToken::WrongKind {
            expected: TokenKind::Access,
        },
        &[refresh.as_str()],
    );
}

#[tokio::test]
async fn fresh_requires_a_fresh_access_token() {
    let m = manager();
    let app = app(&m);
    let fresh = m.access_token("alice").fresh(true).sign().unwrap();
    get_with(&app, "/fresh", fresh.as_str())
        .await
        .assert_ok("fresh true");

    let stale = access(&m, "alice");
    get_with(&app, "/fresh", &stale)
        .await
        .refused(AuthError::NotFresh, &[&stale]);
}

#[tokio::test]
async fn optional_runs_without_a_token_but_refuses_a_bad_one() {
    let m = manager();
    let app = app(&m);
    send(&app, req("/optional", None))
        .await
        .assert_ok("anonymous");
    get_with(&app, "/optional", &access(&m, "bob"))
        .await
        .assert_ok("bob");

    let mut bad = access(&m, "bob");
    bad.push('x');
    get_with(&app, "/optional", &bad)
        .await
        .refused(InvalidToken::Signature, &[&bad]);
}

#[tokio::test]
async fn sub_must_equal_the_path_parameter() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    get_with(&app, "/users/alice", &token)
        .await
        .assert_ok("profile of alice");
    // Percent-decoding happens before the comparison, and case matters.
    get_with(&app, "/users/%61lice", &token)
        .await
        .assert_ok("profile of alice");
    for uri in ["/users/bob", "/users/Alice"] {
        get_with(&app, uri, &token)
            .await
            .refused(path_mismatch("sub", "username"), &[&token]);
    }
}

#[tokio::test]
async fn sub_may_name_a_field_of_a_path_struct() {
    let m = manager();
    let app = app(&m);
    let token = access(&m, "alice");
    get_with(&app, "/users/alice/posts/7", &token)
        .await
        .assert_ok("post 7 of alice");
    get_with(&app, "/users/bob/posts/7", &token)
        .await
        .refused(path_mismatch("sub", "username"), &[&token]);
}

#[tokio::test]
async fn path_matches_any_claim() {
    let m = manager();
    let app = app(&m);
    let token = m.access_token("alice").claim("org", "acme").sign().unwrap();
    get_with(&app, "/orgs/acme/users/alice", token.as_str())
        .await
        .assert_ok("alice@acme");
    get_with(&app, "/orgs/other/users/alice", token.as_str())
        .await
        .refused(path_mismatch("org", "org_id"), &[token.as_str()]);
    // Every pair is checked: the right org does not cover another user.
    get_with(&app, "/orgs/acme/users/bob", token.as_str())
        .await
        .refused(path_mismatch("sub", "user"), &[token.as_str()]);
    // A numeric claim matches its canonical decimal form only.
    let numeric = m.access_token("alice").claim("org", 42).sign().unwrap();
    get_with(&app, "/orgs/42/users/alice", numeric.as_str())
        .await
        .assert_ok("alice@42");
    get_with(&app, "/orgs/042/users/alice", numeric.as_str())
        .await
        .refused(path_mismatch("org", "org_id"), &[numeric.as_str()]);
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
    get_with(&app, "/admin", admin.as_str())
        .await
        .assert_ok("admin");

    for scope in [
        Some(json!({"admin": false})),
        Some(json!({"admin": "true"})),
        Some(json!({"admin": 1})),
        Some(json!({})),
        None,
    ] {
        let mut token = m.access_token("a");
        if let Some(scope) = scope {
            token = token.scope(scope);
        }
        let token = token.sign().unwrap();
        get_with(&app, "/admin", token.as_str())
            .await
            .refused(scope_lacks(&["admin"]), &[token.as_str()]);
    }

    let with_level = |level: serde_json::Value| {
        m.access_token("a")
            .scope(json!({"level": level, "team": "core"}))
            .sign()
            .unwrap()
    };
    // 3.0 is the number 3 (RFC 8259 §6); 3.5 and "3" are not.
    for level in [json!(3), json!(3.0)] {
        get_with(&app, "/values", with_level(level).as_str())
            .await
            .assert_ok("level 3 core");
    }
    for level in [json!(3.5), json!("3")] {
        let token = with_level(level);
        get_with(&app, "/values", token.as_str())
            .await
            .refused(scope_lacks(&["level"]), &[token.as_str()]);
    }
    // Every missing entry is named, in the order the handler declares them.
    let none = access(&m, "a");
    get_with(&app, "/values", &none)
        .await
        .refused(scope_lacks(&["level", "team"]), &[&none]);
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
    get_with(&app, "/write", writer.as_str())
        .await
        .assert_ok("writer");

    let reader = m.access_token("a").scope("posts:read").sign().unwrap();
    get_with(&app, "/write", reader.as_str())
        .await
        .refused(scope_lacks(&["posts:write"]), &[reader.as_str()]);
}

#[tokio::test]
async fn claims_must_equal_the_literals() {
    let m = manager();
    let app = app(&m);
    let acme = m.access_token("a").claim("tenant", "acme").sign().unwrap();
    get_with(&app, "/tenant", acme.as_str())
        .await
        .assert_ok("acme");
    let tenant = Forbidden::ClaimMismatch { claim: "tenant" };
    for other in [json!("globex"), json!(["acme"]), json!(null)] {
        let token = m.access_token("a").claim("tenant", other).sign().unwrap();
        get_with(&app, "/tenant", token.as_str())
            .await
            .refused(tenant.clone(), &[token.as_str()]);
    }
    let missing = access(&m, "a");
    get_with(&app, "/tenant", &missing)
        .await
        .refused(tenant, &[&missing]);
}

#[tokio::test]
async fn integer_and_bool_claims_are_compared_by_json_type() {
    // `claims(level = 3, verified = true)`: the number 3 however written,
    // the boolean `true`; never a string or another type.
    let m = manager();
    let app = app(&m);
    let token = |level: serde_json::Value, verified: serde_json::Value| {
        m.access_token("a")
            .claim("level", level)
            .claim("verified", verified)
            .sign()
            .unwrap()
    };
    for level in [json!(3), json!(3.0)] {
        get_with(&app, "/typed", token(level, json!(true)).as_str())
            .await
            .assert_ok("level 3, verified");
    }
    for level in [json!("3"), json!(3.5), json!(-3), json!(true), json!([3])] {
        let bad = token(level, json!(true));
        get_with(&app, "/typed", bad.as_str())
            .await
            .refused(Forbidden::ClaimMismatch { claim: "level" }, &[bad.as_str()]);
    }
    for verified in [json!("true"), json!(1), json!(false), json!(null)] {
        let bad = token(json!(3), verified);
        get_with(&app, "/typed", bad.as_str()).await.refused(
            Forbidden::ClaimMismatch { claim: "verified" },
            &[bad.as_str()],
        );
    }
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
    get_with(&app, "/act/alice", admin.as_str())
        .await
        .assert_ok("root acts on alice");

    let alice = access(&m, "alice");
    get_with(&app, "/act/alice", &alice)
        .await
        .assert_ok("alice acts on alice");
    get_with(&app, "/act/bob", &alice)
        .await
        .refused(path_mismatch("sub", "username"), &[&alice]);

    // An override never rescues a token of the other kind…
    let refresh = m
        .refresh_token("root")
        .scope(json!({"admin": true}))
        .sign()
        .unwrap();
    get_with(&app, "/act/alice", refresh.as_str())
        .await
        .refused(
            InvalidToken::WrongKind {
                expected: TokenKind::Access,
            },
            &[refresh.as_str()],
        );
    // …nor a revoked one.
    revoke(&m, admin.as_str(), TokenKind::Access).await;
    get_with(&app, "/act/alice", admin.as_str())
        .await
        .refused(InvalidToken::Revoked, &[admin.as_str()]);
}

#[tokio::test]
async fn override_never_skips_freshness() {
    // `fresh, sub = "username", override(admin = true)`.
    let m = manager();
    let app = app(&m);
    let admin = |fresh: bool| {
        m.access_token("root")
            .fresh(fresh)
            .scope(json!({"admin": true}))
            .sign()
            .unwrap()
    };
    get_with(&app, "/fresh-act/alice", admin(true).as_str())
        .await
        .assert_ok("fresh act on alice");
    let stale = admin(false);
    get_with(&app, "/fresh-act/alice", stale.as_str())
        .await
        .refused(AuthError::NotFresh, &[stale.as_str()]);
}

#[tokio::test]
async fn override_needs_every_entry() {
    // `sub = "username", override(admin = true, team = "core")`.
    let m = manager();
    let app = app(&m);
    let with_scope = |scope: serde_json::Value| {
        m.access_token("root")
            .scope(scope)
            .sign()
            .unwrap()
            .into_string()
    };
    get_with(
        &app,
        "/team-act/alice",
        &with_scope(json!({"admin": true, "team": "core"})),
    )
    .await
    .assert_ok("team act on alice");
    for partial in [
        json!({"admin": true}),
        json!({"team": "core"}),
        json!({"admin": true, "team": "web"}),
    ] {
        let token = with_scope(partial);
        get_with(&app, "/team-act/alice", &token)
            .await
            .refused(path_mismatch("sub", "username"), &[&token]);
    }
}

#[tokio::test]
async fn override_looks_in_the_scope_map_before_the_claims() {
    // `scope("posts:write"), override(role = "root")`.
    let m = manager();
    let app = app(&m);
    // Found among the top-level claims when the scope map lacks it.
    let claim = m.access_token("x").claim("role", "root").sign().unwrap();
    get_with(&app, "/root-write", claim.as_str())
        .await
        .assert_ok("written");
    // The scope map's entry wins over a top-level claim of the same name,
    // whichever of the two holds.
    let map_wins = m
        .access_token("x")
        .scope(json!({"role": "root"}))
        .claim("role", "user")
        .sign()
        .unwrap();
    get_with(&app, "/root-write", map_wins.as_str())
        .await
        .assert_ok("written");
    let map_refuses = m
        .access_token("x")
        .scope(json!({"role": "user"}))
        .claim("role", "root")
        .sign()
        .unwrap();
    get_with(&app, "/root-write", map_refuses.as_str())
        .await
        .refused(scope_lacks(&["posts:write"]), &[map_refuses.as_str()]);
}

#[tokio::test]
async fn override_covers_path_and_claims() {
    // `path(org = "org"), claims(tenant = "acme"), override(admin = true)`.
    let m = manager();
    let app = app(&m);
    let token = |org: &str, tenant: &str, admin: bool| {
        m.access_token("x")
            .claim("org", org)
            .claim("tenant", tenant)
            .scope(json!({"admin": admin}))
            .sign()
            .unwrap()
            .into_string()
    };
    get_with(&app, "/orgs/acme/billing", &token("acme", "acme", false))
        .await
        .assert_ok("billing of acme");
    get_with(&app, "/orgs/acme/billing", &token("globex", "globex", true))
        .await
        .assert_ok("billing of acme");
    let wrong_org = token("globex", "acme", false);
    get_with(&app, "/orgs/acme/billing", &wrong_org)
        .await
        .refused(path_mismatch("org", "org"), &[&wrong_org]);
    let wrong_tenant = token("acme", "globex", false);
    get_with(&app, "/orgs/acme/billing", &wrong_tenant)
        .await
        .refused(
            Forbidden::ClaimMismatch { claim: "tenant" },
            &[&wrong_tenant],
        );
}
