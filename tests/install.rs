//! `install()` sets the process-wide manager; a router's `layer()` wins over
//! it.
//!
//! This file must stay its own test binary, with this one test: the installed
//! manager is global to the process and can be set only once, so any other
//! test in the same binary would run against it.

use axum::Router;
use axum::routing::get;
use jwt_guard::TokenManager;
use jwt_guard_test_support::{me, me_app, status};

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
    assert_eq!(
        status(&plain, "/me", Some(global_token.as_str())).await,
        200
    );
    assert_eq!(status(&plain, "/me", Some(local_token.as_str())).await, 401);

    let layered = me_app(&local);
    assert_eq!(
        status(&layered, "/me", Some(local_token.as_str())).await,
        200
    );
    assert_eq!(
        status(&layered, "/me", Some(global_token.as_str())).await,
        401
    );
}
