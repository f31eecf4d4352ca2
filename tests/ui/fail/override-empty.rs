use jwt_guard::require_token;

#[require_token(scope(editor = true), override())]
async fn handler() {}

fn main() {}
