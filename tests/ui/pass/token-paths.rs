//! `Token` and `Option<Token>` arguments, by any path, read what the
//! handler's own guard accepted.
use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

#[require_token(refresh)]
async fn refresh(token: jwt_guard::Token) -> String {
    token.sub().to_owned()
}

#[require_token(optional)]
async fn maybe(mut token: Option<jwt_guard::Token>, _again: Option<jwt_guard::Token>) -> String {
    token.take().map(|t| t.sub().to_owned()).unwrap_or_default()
}

#[require_token(location(query))]
async fn query(#[allow(unused_variables)] _unused: jwt_guard::Token) {}

fn main() {
    let _app: Router = Router::new()
        .route("/refresh", get(refresh))
        .route("/maybe", get(maybe))
        .route("/query", get(query));
}
