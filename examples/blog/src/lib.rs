//! The blog API: accounts, tokens and posts on SQLite. `main.rs` serves it
//! (`cargo run -p example-blog`); the end-to-end tests in `tests/` drive it.

mod accounts;
mod db;
mod error;
mod posts;

use axum::Router;
use axum::routing::{get, post, put};
use jwt_guard::{TokenManager, TokenManagerBuilder};
use sqlx::SqlitePool;

pub use db::open;

/// What every handler shares: the database.
#[derive(Clone)]
pub struct AppState {
    /// The SQLite pool of [`open`].
    pub db: SqlitePool,
}

/// The blog's token settings on top of `builder`: single-use refresh
/// tokens with reuse detection, unless `JWT_GUARD_REFRESH_ROTATION` says
/// otherwise.
pub fn token_settings(builder: TokenManagerBuilder) -> TokenManagerBuilder {
    if std::env::var_os("JWT_GUARD_REFRESH_ROTATION").is_some() {
        return builder;
    }
    builder.refresh_rotation(true)
}

/// Every route of the API, and the manager's public keys at
/// `/.well-known/jwks.json` (an empty set while it signs with an HMAC
/// secret, which is never published).
pub fn router(db: SqlitePool, manager: &TokenManager) -> Router {
    Router::new()
        .merge(manager.jwks_router())
        .route("/signup", post(accounts::signup))
        .route("/login", post(accounts::login))
        .route("/token", post(accounts::token))
        .route("/refresh", post(accounts::refresh))
        .route("/logout", post(accounts::logout))
        .route(
            "/users/{username}",
            get(accounts::profile).delete(accounts::delete_account),
        )
        .route("/users/{username}/password", put(accounts::change_password))
        .route("/users/{username}/posts", post(posts::create))
        .route(
            "/users/{username}/posts/{id}",
            put(posts::update).delete(posts::remove),
        )
        .route("/posts", get(posts::list))
        .route("/posts/{id}", get(posts::show))
        .route("/admin/users", get(accounts::all_users))
        .with_state(AppState { db })
        .layer(manager.layer())
}
