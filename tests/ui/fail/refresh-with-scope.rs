use jwt_guard::require_token;

#[require_token(refresh, scope(admin = true))]
async fn handler() {}

fn main() {}
