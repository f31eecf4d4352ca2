use jwt_guard::require_token;

#[require_token(location(body))]
async fn handler() {}

fn main() {}
