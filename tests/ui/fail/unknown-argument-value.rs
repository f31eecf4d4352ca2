use jwt_guard::require_token;

#[require_token(tenant = "acme")]
async fn handler() {}

fn main() {}
