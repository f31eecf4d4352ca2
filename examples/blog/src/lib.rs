//! The blog API: accounts, tokens and posts on SQLite, a page to use it
//! from a browser, and live notifications. `main.rs` serves it
//! (`cargo run -p example-blog`); the end-to-end tests in `tests/` drive it.

mod accounts;
mod db;
mod docs;
mod error;
mod live;
mod page;
mod posts;
mod session;

use axum::Router;
use axum::routing::{get, post, put};
use jwt_guard::{Location, TokenManager, TokenManagerBuilder};
use sqlx::SqlitePool;
use tokio::sync::broadcast;

pub use db::open;
pub use docs::ApiDoc;

/// What every handler shares: the database, and the live feed of new posts.
#[derive(Clone)]
pub struct AppState {
    /// The SQLite pool of [`open`].
    pub db: SqlitePool,
    /// Each new post as JSON, for `/live`'s listeners.
    posts: broadcast::Sender<String>,
}

/// The blog's token settings on top of `builder`, each unless its
/// `JWT_GUARD_*` variable says otherwise: single-use refresh tokens with
/// reuse detection (`JWT_GUARD_REFRESH_ROTATION`), and tokens read from the
/// `Authorization` header, then from the page's cookies
/// (`JWT_GUARD_LOCATIONS`).
pub fn token_settings(builder: TokenManagerBuilder) -> TokenManagerBuilder {
    let mut builder = builder;
    if std::env::var_os("JWT_GUARD_REFRESH_ROTATION").is_none() {
        builder = builder.refresh_rotation(true);
    }
    if std::env::var_os("JWT_GUARD_LOCATIONS").is_none() {
        builder = builder.locations([Location::Header, Location::Cookie]);
    }
    builder
}

/// Every route of the API; the page at `/` with its session under
/// `/session` and its live feed at `/live`; the API's docs at `/docs` and
/// `/openapi.json`; and the manager's public keys at
/// `/.well-known/jwks.json` (an empty set while it signs with an HMAC
/// secret, which is never published).
pub fn router(db: SqlitePool, manager: &TokenManager) -> Router {
    let (posts, _) = broadcast::channel(64);
    Router::new()
        .merge(manager.jwks_router())
        .merge(docs::router())
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route(
            "/session",
            get(session::show)
                .post(session::create)
                .delete(session::log_out),
        )
        .route("/session/refresh", post(session::refresh))
        .route("/live", get(live::live))
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
        .with_state(AppState { db, posts })
        .layer(manager.layer())
}
