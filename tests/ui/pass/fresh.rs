use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

#[require_token(fresh)]
async fn handler() -> &'static str {
    "fresh"
}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
