//! What the blog's HTTP and browser tests share.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use jwt_guard_test_support::send;

/// Serves `app` on a free port of 127.0.0.1.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// What the server holds: the titles of `author`'s posts, newest first.
pub async fn post_titles(app: &Router, author: &str) -> Vec<String> {
    let request = Request::get(format!("/posts?author={author}"))
        .body(Body::empty())
        .unwrap();
    send(app, request)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap().to_owned())
        .collect()
}
