//! The guarded handler most test apps need.

use axum::Router;
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};

/// `#[require_token]`: any valid access token; answers with its `sub`.
#[require_token]
pub async fn me(token: Token) -> String {
    token.sub().to_owned()
}

/// A Router serving [`me`] on `/me` with `manager`'s layer.
pub fn me_app(manager: &TokenManager) -> Router {
    Router::new().route("/me", get(me)).layer(manager.layer())
}
