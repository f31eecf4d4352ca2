use jwt_guard::require_token;

#[require_token(refersh)]
async fn handler() {}

fn main() {}
