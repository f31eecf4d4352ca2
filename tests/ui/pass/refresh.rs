use axum::Router;
use axum::routing::get;
use jwt_guard::{Token, require_token};

#[require_token(refresh)]
async fn handler(token: Token) -> String {
    token.sub().to_owned()
}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
