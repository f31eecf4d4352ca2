use jwt_guard::require_token;

#[require_token(refresh, fresh)]
async fn handler() {}

fn main() {}
