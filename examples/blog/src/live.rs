//! Live notifications over a WebSocket: every new post, as JSON, to each
//! signed-in listener. The page connects with its cookie (the manager then
//! checks the page's `Origin`); other clients put the access token in the
//! query string (`/live?access_token=..`), as browsers' WebSocket cannot
//! send an `Authorization` header.

use std::time::SystemTime;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use jwt_guard::{Token, require_token};
use tokio::sync::broadcast;

use crate::AppState;

/// Upgrades to a WebSocket that carries each new post as JSON, until the
/// token that opened it expires (close code 1008, `token expired`).
#[require_token(location(cookie, query))]
#[utoipa::path(
    get,
    path = "/live",
    responses((status = 101, description = "Switching to the WebSocket protocol"))
)]
pub async fn live(
    State(state): State<AppState>,
    token: Token,
    upgrade: WebSocketUpgrade,
) -> Response {
    let posts = state.posts.subscribe();
    let expires_at = token.expires_at();
    upgrade.on_upgrade(move |socket| forward(socket, posts, expires_at))
}

/// Sends each new post; closes the socket when the token that opened it
/// expires, so a revoked login does not listen for longer than its token.
async fn forward(
    mut socket: WebSocket,
    mut posts: broadcast::Receiver<String>,
    expires_at: SystemTime,
) {
    let left = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let expiry = tokio::time::sleep(left);
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            post = posts.recv() => match post {
                Ok(post) => {
                    if socket.send(Message::Text(post.into())).await.is_err() {
                        return;
                    }
                }
                // A slow listener skips what it missed.
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            received = socket.recv() => match received {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = &mut expiry => {
                let frame = CloseFrame {
                    code: close_code::POLICY,
                    reason: "token expired".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
        }
    }
}
