use jwt_guard::require_token;

#[require_token(refresh, fresh, claims(iat = 1), scope("a b"))]
fn handler() {}

fn main() {}
