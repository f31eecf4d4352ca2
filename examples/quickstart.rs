//! The smallest jwt-guard app: login, refresh, logout, and protected routes.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! It listens on 127.0.0.1:3000 (set `PORT` to change it) and prints curl
//! commands to try. With no `JWT_GUARD_SECRET` set it generates a secret,
//! so tokens do not survive a restart.

use std::net::SocketAddr;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwt_guard::{Token, TokenManager, TokenManagerBuilder, require_token};
use serde::Deserialize;
use serde_json::{Value, json};

/// Demo users: (name, password, admin). A real app stores password hashes
/// (see the blog example).
const USERS: &[(&str, &str, bool)] = &[("alice", "wonderland", true), ("bob", "builder", false)];

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

type ApiError = (StatusCode, Json<Value>);

fn api_error(status: StatusCode, error: &str, message: &str) -> ApiError {
    (status, Json(json!({ "error": error, "message": message })))
}

fn server_error(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(%e, "request failed");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "something went wrong",
    )
}

/// Checks the password and issues a fresh access token and a refresh token.
async fn login(manager: TokenManager, Json(login): Json<Login>) -> Result<Json<Value>, ApiError> {
    let user = USERS.iter().find(|(name, password, _)| {
        *name == login.username && constant_time_eq(password.as_bytes(), login.password.as_bytes())
    });
    let Some(&(name, _, admin)) = user else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong username or password",
        ));
    };
    let access = manager
        .access_token(name)
        .fresh(true)
        .scope(json!({ "admin": admin }))
        .sign()
        .map_err(server_error)?;
    let refresh = manager
        .refresh_token(name)
        .scope(json!({ "admin": admin }))
        .sign()
        .map_err(server_error)?;
    Ok(Json(json!({
        "access_token": access.as_str(),
        "refresh_token": refresh.as_str(),
        "token_type": "Bearer",
        "expires_in": access.expires_in(),
    })))
}

/// Exchanges a refresh token for a new, non-fresh access token.
#[require_token(refresh)]
async fn refresh(manager: TokenManager, token: Token) -> Result<Json<Value>, ApiError> {
    let mut access = manager.access_token(token.sub());
    if let Some(scope) = token.claim::<Value>("scope") {
        access = access.scope(scope);
    }
    let access = access.sign().map_err(server_error)?;
    Ok(Json(json!({
        "access_token": access.as_str(),
        "token_type": "Bearer",
        "expires_in": access.expires_in(),
    })))
}

/// Revokes the access token it was called with.
#[require_token]
async fn logout(manager: TokenManager, token: Token) -> Result<StatusCode, ApiError> {
    manager.revoke(&token).await.map_err(server_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Any valid access token.
#[require_token]
async fn me(token: Token) -> Json<Value> {
    Json(json!({ "sub": token.sub(), "fresh": token.is_fresh() }))
}

/// Only a fresh token (straight from a login) may do this.
#[require_token(fresh)]
async fn change_password(token: Token) -> Json<Value> {
    Json(json!({ "message": format!("{} may change their password now", token.sub()) }))
}

/// Only the user named in the path, or an admin.
#[require_token(sub = "username", override(admin = true))]
async fn profile(Path(username): Path<String>, token: Token) -> Json<Value> {
    Json(json!({ "profile": username, "viewed_by": token.sub() }))
}

/// Only admins.
#[require_token(scope(admin = true))]
async fn admin(token: Token) -> Json<Value> {
    Json(json!({ "message": format!("welcome to the admin area, {}", token.sub()) }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/password", post(change_password))
        .route("/users/{username}", get(profile))
        .route("/admin", get(admin))
        .layer(manager.layer())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,jwt_guard=debug".into()),
        )
        .init();

    let mut builder = TokenManagerBuilder::from_env()?;
    if !builder.has_key() {
        builder = builder.hs256(jwt_guard::generate_secret());
        tracing::warn!(
            "JWT_GUARD_SECRET is not set: using a generated development secret; \
             tokens will not survive a restart"
        );
    }
    let manager = builder.build()?;

    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let base = format!("http://{addr}");
    println!(
        "jwt-guard quickstart on {base}\n\n\
         Log in (alice is an admin, bob is not):\n  \
         TOKENS=$(curl -s {base}/login -H 'content-type: application/json' -d '{{\"username\":\"alice\",\"password\":\"wonderland\"}}')\n  \
         ACCESS=$(echo \"$TOKENS\" | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n  \
         REFRESH=$(echo \"$TOKENS\" | sed -E 's/.*\"refresh_token\":\"([^\"]+)\".*/\\1/')\n\n\
         Use the access token:\n  \
         curl -i {base}/me -H \"Authorization: Bearer $ACCESS\"\n  \
         curl -i -X POST {base}/password -H \"Authorization: Bearer $ACCESS\"\n  \
         curl -i {base}/users/bob -H \"Authorization: Bearer $ACCESS\"\n  \
         curl -i {base}/admin -H \"Authorization: Bearer $ACCESS\"\n\n\
         Refresh (the new access token is not fresh: /password refuses it):\n  \
         curl -i -X POST {base}/refresh -H \"Authorization: Bearer $REFRESH\"\n\n\
         Log out, then try /me again (401, revoked):\n  \
         curl -i -X POST {base}/logout -H \"Authorization: Bearer $ACCESS\"\n\n\
         Without a token (401 with a WWW-Authenticate challenge):\n  \
         curl -i {base}/me\n"
    );
    axum::serve(listener, app(&manager))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
