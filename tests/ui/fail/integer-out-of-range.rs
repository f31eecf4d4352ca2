use jwt_guard::require_token;

#[require_token(claims(n = 99999999999999999999))]
async fn handler() {}

fn main() {}
