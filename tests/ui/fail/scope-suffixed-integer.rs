use jwt_guard::require_token;

#[require_token(scope(level = 3u8))]
async fn handler() {}

fn main() {}
