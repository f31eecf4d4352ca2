use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(sub = "username", override(type = "access"))]
async fn handler(Path(username): Path<String>) -> String {
    username
}

fn main() {}
