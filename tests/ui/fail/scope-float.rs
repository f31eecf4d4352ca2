use jwt_guard::require_token;

#[require_token(scope(level = 1.5))]
async fn handler() {}

fn main() {}
