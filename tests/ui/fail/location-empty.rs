use jwt_guard::require_token;

#[require_token(location())]
async fn handler() {}

fn main() {}
