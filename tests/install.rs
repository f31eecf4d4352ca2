//! `install()` sets the process-wide manager; a router's `layer()` wins over
//! it.
//!
//! This file must stay its own test binary, with this one test: the installed
//! manager is global to the process and can be set only once, so any other
//! test in the same binary would run against it.

use axum::Router;
use axum::routing::get;
use jwt_guard::{InvalidToken, TokenManager};
use jwt_guard_test_support::{get_with, me, me_app};

#[tokio::test]
async fn installed_manager_serves_routers_without_a_layer() {
    let global = TokenManager::builder()
        .hs256("the process-wide secret, 32 bytes or more")
        .build()
        .unwrap();
    let local = TokenManager::builder()
        .hs256("a per-router secret, also 32 bytes or more")
        .build()
        .unwrap();
    let global_token = global.access_token("g").sign().unwrap();
    let local_token = local.access_token("l").sign().unwrap();
    global.clone().install().unwrap();
    assert!(TokenManager::installed().is_some());
    let again = TokenManager::builder()
        .hs256("x".repeat(32))
        .build()
        .unwrap();
    assert_eq!(again.install().unwrap_err().setting(), "install");

    let plain = Router::new().route("/me", get(me));
    get_with(&plain, "/me", global_token.as_str())
        .await
        .assert_ok("g");
    get_with(&plain, "/me", local_token.as_str())
        .await
        .assert_refused("api", InvalidToken::Signature, &[local_token.as_str()]);

    let layered = me_app(&local);
    get_with(&layered, "/me", local_token.as_str())
        .await
        .assert_ok("l");
    get_with(&layered, "/me", global_token.as_str())
        .await
        .assert_refused("api", InvalidToken::Signature, &[global_token.as_str()]);
}
