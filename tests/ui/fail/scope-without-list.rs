use jwt_guard::require_token;

#[require_token(scope = "admin")]
async fn handler() {}

fn main() {}
