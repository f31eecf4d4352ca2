use jwt_guard::require_token;

#[require_token(refresh, optional)]
async fn handler() {}

fn main() {}
