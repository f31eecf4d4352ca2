use jwt_guard::require_token;

struct Api;

impl Api {
    #[require_token]
    async fn handler(&self) {}
}

fn main() {}
