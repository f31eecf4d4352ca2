use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(path(org = "org"))]
async fn handler(Path(user): Path<String>) -> String {
    user
}

fn main() {}
