use jwt_guard::require_token;

#[require_token(admin)]
async fn handler() {}

fn main() {}
