use jwt_guard::{Token, require_token};

#[require_token(optional, scope(admin = true))]
async fn handler(token: Option<Token>) -> String {
    token.map(|t| t.sub().to_owned()).unwrap_or_default()
}

fn main() {}
