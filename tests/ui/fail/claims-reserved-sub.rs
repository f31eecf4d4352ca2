use jwt_guard::require_token;

#[require_token(claims(sub = "alice"))]
async fn handler() {}

fn main() {}
