use axum::Router;
use axum::routing::get;
use jwt_guard::require_token;

/// The app's own type, named like jwt-guard's.
struct Token;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Token {
    type Rejection = ();

    async fn from_request_parts(
        _parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Token)
    }
}

#[require_token]
async fn handler(_token: Token) {}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
