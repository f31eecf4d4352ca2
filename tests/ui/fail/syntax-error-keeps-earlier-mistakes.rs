use axum::extract::Path;
use jwt_guard::require_token;

// `fresh = true` stops the parse: the reserved claim before it is still
// reported; the one after it is not read.
#[require_token(claims(exp = 1), fresh = true, path(iat = "when"))]
async fn handler(Path(when): Path<String>) -> String {
    when
}

fn main() {}
