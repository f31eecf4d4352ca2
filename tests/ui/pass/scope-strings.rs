use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

#[require_token(scope("posts:read", "posts:write"))]
async fn handler() {}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
