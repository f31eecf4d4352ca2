use jwt_guard::require_token;

// Found in another order (the duplicate while reading, the reserved claim
// when checking each argument, the contradiction last), reported in the
// order they are written.
#[require_token(claims(exp = 1), refresh, fresh, fresh)]
async fn handler() {}

fn main() {}
