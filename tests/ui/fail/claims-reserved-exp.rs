use jwt_guard::require_token;

#[require_token(claims(exp = 0))]
async fn handler() {}

fn main() {}
