use jwt_guard::require_token;

#[require_token(path())]
async fn handler() {}

fn main() {}
