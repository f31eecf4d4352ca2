use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

#[require_token(refresh, location(cookie),)]
pub(crate) async fn handler() {}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
