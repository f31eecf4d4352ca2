use jwt_guard::require_token;

#[require_token]
struct Handler;

fn main() {}
