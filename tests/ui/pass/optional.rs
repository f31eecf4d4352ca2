use axum::Router;
use axum::routing::get;
use jwt_guard::{Token, require_token};

#[require_token(optional)]
async fn handler(token: Option<Token>) -> String {
    token.map(|t| t.sub().to_owned()).unwrap_or_default()
}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
