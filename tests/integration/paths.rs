//! `sub = ".."` and `path(..)` compare a claim with the value the handler's
//! `Path` extractor will receive: by position for a tuple or a single value,
//! by name for a struct. A route that does not give the handler the
//! parameter under the name it binds is a 500, logged, and never a pass.

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::{AuthError, Forbidden, TokenManager, require_token};
use serde::Deserialize;

use crate::common::*;

#[require_token(sub = "user")]
async fn single(Path(user): Path<String>) -> Ran<String> {
    Ran(format!("single {user}"))
}

#[require_token(sub = "user")]
async fn tuple(Path((org, user)): Path<(String, String)>) -> Ran<String> {
    Ran(format!("tuple {user}@{org}"))
}

#[require_token(sub = "user")]
async fn tuple_rest(Path((.., user)): Path<(String, String)>) -> Ran<String> {
    Ran(format!("rest {user}"))
}

#[derive(Deserialize)]
struct Member {
    org: String,
    user: String,
}

#[require_token(sub = "user")]
async fn by_struct(Path(member): Path<Member>) -> Ran<String> {
    Ran(format!("struct {}@{}", member.user, member.org))
}

#[require_token(sub = "user")]
async fn by_struct_pattern(Path(Member { user, org }): Path<Member>) -> Ran<String> {
    Ran(format!("pattern {user}@{org}"))
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

#[require_token(sub = "id")]
async fn by_id(Path(Id { id }): Path<Id>) -> Ran<String> {
    Ran(format!("id {id}"))
}

#[require_token(sub = "id")]
async fn by_id_tuple(Path((_, id)): Path<(String, String)>) -> Ran<String> {
    Ran(format!("id {id}"))
}

fn app(manager: &TokenManager) -> Router {
    let members = Router::new()
        .route("/users/{user}", get(tuple))
        .route("/members/{user}", get(by_struct));
    Router::new()
        .route("/single/{user}", get(single))
        // One handler on two routes, with the parameters in both orders.
        .route("/orgs/{org}/users/{user}", get(tuple))
        .route("/users/{user}/orgs/{org}", get(tuple))
        .route("/rest/{org}/{user}", get(tuple_rest))
        .route("/rest-reversed/{user}/{org}", get(tuple_rest))
        .route("/struct/{org}/{user}", get(by_struct))
        .route("/struct-reversed/{user}/{org}", get(by_struct))
        .route("/pattern/{user}/{org}", get(by_struct_pattern))
        // A single value on a route whose parameter has another name.
        .route("/renamed/{name}", get(single))
        // A single value on a route with two parameters.
        .route("/two/{user}/{org}", get(single))
        .nest("/nested/{org}", members)
        // `{id}` twice: matchit accepts it.
        .nest(
            "/dup/{id}",
            Router::new()
                .route("/struct/{id}", get(by_id))
                .route("/tuple/{id}", get(by_id_tuple)),
        )
        .layer(manager.layer())
}

/// The route does not give the handler what it binds: a 500, whoever
/// asks, logged with what is wrong.
const NO_SUCH_NAME: AuthError =
    AuthError::Misconfigured("the route has no parameter of the name the handler binds");
const ANOTHER_COUNT: AuthError = AuthError::Misconfigured(
    "the route has another number of parameters than the handler's `Path`",
);
const ANOTHER_POSITION: AuthError = AuthError::Misconfigured(
    "the route's parameter at the position the handler binds has another name",
);
const NAME_TWICE: AuthError =
    AuthError::Misconfigured("the route has two parameters of the name the handler binds");

fn mismatch() -> Forbidden {
    Forbidden::PathMismatch {
        claim: "sub",
        param: "user",
    }
}

#[tokio::test]
async fn a_single_value_is_the_routes_one_parameter() {
    let m = manager();
    let app = app(&m);
    let alice = access(&m, "alice");
    get_with(&app, "/single/alice", &alice)
        .await
        .assert_ok("single alice");
    get_with(&app, "/single/bob", &alice)
        .await
        .refused(mismatch(), &[&alice]);
    // The handler would receive `{name}` as `user`: the guard will not guess.
    get_with(&app, "/renamed/alice", &alice)
        .await
        .refused(NO_SUCH_NAME, &[&alice]);
    get_with(&app, "/two/alice/acme", &alice)
        .await
        .refused(ANOTHER_COUNT, &[&alice]);
}

#[tokio::test]
async fn a_tuple_is_checked_at_the_position_the_handler_reads() {
    let m = manager();
    let app = app(&m);
    let alice = access(&m, "alice");
    let mallory = access(&m, "mallory");
    get_with(&app, "/orgs/acme/users/alice", &alice)
        .await
        .assert_ok("tuple alice@acme");
    get_with(&app, "/orgs/acme/users/alice", &mallory)
        .await
        .refused(mismatch(), &[&mallory]);
    // The same handler on a route with the parameters reversed would hand
    // the handler `alice` as `user` while `{user}` is `mallory`: refused
    // whoever asks, never passed.
    for token in [&mallory, &alice] {
        get_with(&app, "/users/mallory/orgs/alice", token)
            .await
            .refused(ANOTHER_POSITION, &[token]);
    }
    // `..` counts the remaining elements from the end.
    get_with(&app, "/rest/acme/alice", &alice)
        .await
        .assert_ok("rest alice");
    get_with(&app, "/rest-reversed/alice/acme", &alice)
        .await
        .refused(ANOTHER_POSITION, &[&alice]);
}

#[tokio::test]
async fn a_struct_is_checked_by_name_in_any_order() {
    let m = manager();
    let app = app(&m);
    let alice = access(&m, "alice");
    let mallory = access(&m, "mallory");
    for (uri, body) in [
        ("/struct/acme/alice", "struct alice@acme"),
        ("/struct-reversed/alice/acme", "struct alice@acme"),
        ("/pattern/alice/acme", "pattern alice@acme"),
    ] {
        get_with(&app, uri, &alice).await.assert_ok(body);
        get_with(&app, uri, &mallory)
            .await
            .refused(mismatch(), &[&mallory]);
    }
}

#[tokio::test]
async fn positions_count_across_nested_routers() {
    let m = manager();
    let app = app(&m);
    let alice = access(&m, "alice");
    get_with(&app, "/nested/acme/users/alice", &alice)
        .await
        .assert_ok("tuple alice@acme");
    get_with(&app, "/nested/acme/members/alice", &alice)
        .await
        .assert_ok("struct alice@acme");
    get_with(&app, "/nested/alice/users/bob", &alice)
        .await
        .refused(mismatch(), &[&alice]);
}

#[tokio::test]
async fn a_parameter_name_twice_in_a_route_is_a_server_error() {
    let m = manager();
    let app = app(&m);
    let alice = access(&m, "alice");
    // The guard would read one `{id}`, the handler perhaps the other.
    for uri in [
        "/dup/alice/struct/alice",
        "/dup/alice/struct/bob",
        "/dup/bob/struct/alice",
        "/dup/alice/tuple/alice",
        "/dup/bob/tuple/alice",
    ] {
        get_with(&app, uri, &alice)
            .await
            .refused(NAME_TWICE, &[&alice]);
    }
}
