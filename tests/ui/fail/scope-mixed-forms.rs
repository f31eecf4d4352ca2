use jwt_guard::require_token;

#[require_token(scope("posts:write", admin = true))]
async fn handler() {}

fn main() {}
