use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

#[require_token(claims(tenant = "acme", tier = 2, beta = true))]
async fn handler() {}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
