use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(sub = "username")]
async fn handler(Path(id): Path<u64>) -> String {
    id.to_string()
}

fn main() {}
