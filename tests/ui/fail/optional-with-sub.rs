use axum::extract::Path;
use jwt_guard::{Token, require_token};

#[require_token(optional, sub = "username")]
async fn handler(Path(username): Path<String>, token: Option<Token>) -> String {
    format!("{username}: {}", token.is_some())
}

fn main() {}
