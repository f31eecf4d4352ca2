use jwt_guard::require_token;

#[require_token(scope(admin = yes))]
async fn handler() {}

fn main() {}
