use jwt_guard::require_token;

#[require_token(fresh, fresh)]
async fn handler() {}

fn main() {}
