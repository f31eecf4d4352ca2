//! `install()` sets the process-wide manager; a router's `layer()` wins over
//! it. (Its own binary: the installed manager is global to the process.)

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};
use tower::ServiceExt as _;

#[require_token]
async fn me(token: Token) -> String {
    token.sub().to_owned()
}

async fn status(app: Router, token: &str) -> u16 {
    let request = Request::get("/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    app.oneshot(request).await.unwrap().status().as_u16()
}

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
    assert_eq!(status(plain.clone(), global_token.as_str()).await, 200);
    assert_eq!(status(plain, local_token.as_str()).await, 401);

    let layered = Router::new().route("/me", get(me)).layer(local.layer());
    assert_eq!(status(layered.clone(), local_token.as_str()).await, 200);
    assert_eq!(status(layered, global_token.as_str()).await, 401);
}
