use jwt_guard::require_token;

#[require_token(claims(sid = "a-session"))]
async fn handler() {}

fn main() {}
