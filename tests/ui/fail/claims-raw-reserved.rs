use jwt_guard::require_token;

#[require_token(claims(r#type = "access"))]
async fn handler() {}

fn main() {}
