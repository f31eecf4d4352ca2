use jwt_guard::require_token;

#[require_token(scope(admin = true, admin = false))]
async fn handler() {}

fn main() {}
