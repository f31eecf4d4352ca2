use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(path(exp = "when"))]
async fn handler(Path(when): Path<String>) -> String {
    when
}

fn main() {}
