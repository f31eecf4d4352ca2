use jwt_guard::require_token;

#[require_token]
fn handler() -> &'static str {
    "hi"
}

fn main() {}
