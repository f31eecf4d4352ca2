use jwt_guard::require_token;

#[require_token(scope(""))]
async fn handler() {}

fn main() {}
