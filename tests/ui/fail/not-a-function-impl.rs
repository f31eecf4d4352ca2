use jwt_guard::require_token;

struct Api;

#[require_token]
impl Api {
    async fn handler(&self) {}
}

fn main() {}
