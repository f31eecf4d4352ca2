//! Every form at once, under the strictest lints: the expansion adds no
//! warning of its own.
#![deny(warnings, missing_docs, unused, unreachable_pub)]
#![deny(clippy::all, clippy::pedantic)]

use axum::Router;
use axum::extract::{Json, Path, Query, State};
use axum::routing::{get, post};
use jwt_guard::{Token, require_token};

/// Handlers, in a module of their own.
pub mod handlers {
    use super::{Json, Path, Query, State, Token, require_token};

    /// The app's state.
    #[derive(Clone)]
    pub struct AppState;

    /// A query.
    #[derive(serde::Deserialize)]
    pub struct Page {
        /// The page number.
        pub page: u32,
    }

    /// A user's post, for the user, or an admin.
    #[require_token(fresh, sub = "username", override(admin = true), location(header))]
    pub async fn post(
        State(_state): State<AppState>,
        Path((username, id)): Path<(String, u64)>,
        Query(page): Query<Page>,
        token: Token,
        Json(body): Json<serde_json::Value>,
    ) -> String {
        format!("{username} {id} {} {} {body}", page.page, token.sub())
    }

    /// Admins with a scope string.
    #[require_token(scope("admin:read"), claims(tenant = "acme"))]
    pub async fn admin(token: Option<Token>) -> String {
        token.map(|t| t.sub().to_owned()).unwrap_or_default()
    }

    /// A user's post, the parameters read into a struct.
    #[derive(serde::Deserialize)]
    pub struct PostPath {
        /// The user.
        pub username: String,
        /// The post.
        pub id: u64,
    }

    /// The same post, the parameters read by name.
    #[require_token(sub = "username")]
    pub async fn post_by_name(Path(path): Path<PostPath>) -> String {
        format!("{} {}", path.username, path.id)
    }

    /// Anyone.
    #[require_token(optional)]
    pub async fn home(token: Option<Token>) -> &'static str {
        if token.is_some() { "member" } else { "guest" }
    }
}

fn main() {
    let _app: Router = Router::new()
        .route("/users/{username}/posts/{id}", post(handlers::post))
        .route("/by-name/{username}/posts/{id}", get(handlers::post_by_name))
        .route("/admin", get(handlers::admin))
        .route("/", get(handlers::home))
        .with_state(handlers::AppState);
}
