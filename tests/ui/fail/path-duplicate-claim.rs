use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(sub = "username", path(sub = "name"))]
async fn handler(Path((username, name)): Path<(String, String)>) -> String {
    username + &name
}

fn main() {}
