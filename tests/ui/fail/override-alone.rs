use jwt_guard::require_token;

#[require_token(override(admin = true))]
async fn handler() {}

fn main() {}
