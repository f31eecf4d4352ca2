use jwt_guard::require_token;

#[require_token(claims())]
async fn handler() {}

fn main() {}
