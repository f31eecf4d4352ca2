use jwt_guard::require_token;

#[require_token]
async fn handler() {
    let _ = __jwt_guard;
}

fn main() {}
