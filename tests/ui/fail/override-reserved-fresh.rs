use jwt_guard::require_token;

#[require_token(scope(admin = true), override(fresh = true))]
async fn handler() {}

fn main() {}
