use jwt_guard::require_token;

#[require_token(location(header, header))]
async fn handler() {}

fn main() {}
