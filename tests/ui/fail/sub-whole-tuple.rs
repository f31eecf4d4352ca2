use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(sub = "p")]
async fn handler(Path(p): Path<(String, String)>) -> String {
    p.0 + &p.1
}

fn main() {}
