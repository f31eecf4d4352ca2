use jwt_guard::require_token;

#[require_token(claims(tenant = "acme", tenant = "globex"))]
async fn handler() {}

fn main() {}
