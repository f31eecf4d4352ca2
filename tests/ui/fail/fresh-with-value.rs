use jwt_guard::require_token;

#[require_token(fresh = true)]
async fn handler() {}

fn main() {}
