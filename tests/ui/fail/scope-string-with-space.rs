use jwt_guard::require_token;

#[require_token(scope("posts:read posts:write"))]
async fn handler() {}

fn main() {}
