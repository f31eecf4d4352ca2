use jwt_guard::require_token;

#[require_token(scope(admin = true), scope(editor = true))]
async fn handler() {}

fn main() {}
